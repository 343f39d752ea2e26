/*
 * settings.h — declarative settings: one table of keys read from defaults, a JSON file and
 * environment variables, for any program of the project (renkeid's config.h, the adapter
 * SDK's adapter_config.h).
 *
 * Each key is declared once: its dotted JSON path ("listen.port" is {"listen":{"port":…}}),
 * the environment variable that overrides it, its type (int or string) and bounds (value
 * range, or string length), its default, an optional extra rule, and one line of
 * documentation. The values live in the caller's struct at the key's offset. Every error names
 * the key and the rule, and where the value came from:
 *   "config: listen.port: must be an integer between 1 and 65535 (from RENKEI_PORT)".
 * Unknown keys in a file are errors, so a typo is never silently ignored.
 */
#ifndef RK_CORE_SETTINGS_H
#define RK_CORE_SETTINGS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

typedef enum { RK_SETTING_INT, RK_SETTING_STRING } rk_setting_type_t;

/** A rule beyond the length bounds: NULL when value holds, else the reason ("must be …"). */
typedef const char *(*rk_setting_rule_fn)(const char *value);

typedef struct rk_setting {
    const char *path; /* "section.key" as written in the JSON file */
    const char *env;  /* the overriding environment variable */
    rk_setting_type_t type;
    size_t offset;             /* of the int or char * in the caller's struct */
    long min, max;             /* ints: value bounds; strings: length bounds (max 0: none) */
    const char *default_value; /* text, also for ints */
    rk_setting_rule_fn rule;   /* strings only; NULL for none */
    const char *doc;
} rk_setting_t;

typedef struct rk_settings {
    const rk_setting_t *keys;
    size_t n_keys;
} rk_settings_t;

/** Looks up an environment variable: getenv in production, a table in tests. */
typedef const char *(*rk_settings_env_fn)(const char *name, void *ctx);

/** Sets every key of target to its default. Free the strings with rk_settings_free(). */
void rk_settings_init(const rk_settings_t *settings, void *target);
/**
 * Reads the keys of a JSON object (file names the source in messages). RK_OK, or RK_EINVAL
 * with "config: …" in err; target may be partly changed.
 */
int rk_settings_load_object(const rk_settings_t *settings, void *target, json_t *root,
                            const char *file, char *err, size_t err_len);
/** Reads a JSON file holding one object. RK_EIO if unreadable, else as above. */
int rk_settings_load_file(const rk_settings_t *settings, void *target, const char *path, char *err,
                          size_t err_len);
/** Applies the variables env() finds. Errors as rk_settings_load_object(). */
int rk_settings_apply_env(const rk_settings_t *settings, void *target, rk_settings_env_fn env,
                          void *ctx, char *err, size_t err_len);
/** Writes the key table (path, variable, default, meaning), for --help-config. */
void rk_settings_describe(const rk_settings_t *settings, FILE *out);
/** Wipes and frees the strings of target. */
void rk_settings_free(const rk_settings_t *settings, void *target);

/** Rule: one of debug, info, warn, error. */
const char *rk_setting_rule_log_level(const char *value);

#endif
