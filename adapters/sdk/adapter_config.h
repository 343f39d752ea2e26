/*
 * adapter_config.h — the SDK's configuration: defaults, a JSON file, RENKEI_ADAPTER_* overrides.
 *
 * Like the hub's config (hub/core/config.h), every key is declared once in a table in
 * adapter_config.c — JSON path, environment variable, type, bounds, default, one line of
 * documentation — and loading, overriding, validating and `--help-config` read that table.
 * The file may hold one more top-level object, the adapter's own section (rk_adapter_t
 * .config_section), which is handed to the adapter as it is; any other unknown key is an
 * error naming it. Internal to the SDK; adapter.c is its caller.
 */
#ifndef RK_ADAPTER_CONFIG_H
#define RK_ADAPTER_CONFIG_H

#include "core/settings.h"

#include <stddef.h>
#include <stdio.h>

struct json_t;

typedef struct rk_adapter_settings {
    char *name;
    char *municipality_code;
    char *municipality_slug;
    char *municipality_name_ja;
    char *municipality_name_en;
    char *municipality_name_kana;
    char *listen_host;
    int listen_port;
    char *tls_cert_file;
    char *tls_key_file;
    char *tls_client_ca_file;
    char *log_level;
    int max_connections;
    int message_bytes;
    int drain_timeout_ms;
} rk_adapter_settings_t;

/** Looks up an environment variable (getenv in production, a table in tests). */
typedef rk_settings_env_fn rk_adapter_env_fn;

/** Every key at its default; adapter.name defaults to default_name. Free with _free(). */
void rk_adapter_settings_init(rk_adapter_settings_t *s, const char *default_name);
/**
 * Reads a JSON file over the current values. section_name (may be NULL) is the adapter's own
 * top-level key: its object is returned in *section (a new reference the caller releases with
 * json_decref; an empty object when absent). RK_EINVAL / RK_EIO with "config: …" in err.
 */
int rk_adapter_settings_load(rk_adapter_settings_t *s, const char *path, const char *section_name,
                             struct json_t **section, char *err, size_t err_len);
/** Applies the RENKEI_ADAPTER_* variables found through env(). */
int rk_adapter_settings_apply_env(rk_adapter_settings_t *s, rk_adapter_env_fn env, void *ctx,
                                  char *err, size_t err_len);
/** Rules over several keys (municipality required, TLS files together). */
int rk_adapter_settings_validate(const rk_adapter_settings_t *s, char *err, size_t err_len);
/** 1 when code is 6 digits whose last is the check digit of the first five (JIS X 0401). */
int rk_adapter_municipality_code_ok(const char *code);
/** The key table for --help-config. */
void rk_adapter_settings_describe(FILE *out);
void rk_adapter_settings_free(rk_adapter_settings_t *s);

#endif
