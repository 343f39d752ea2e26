/*
 * settings.c — the engine behind settings.h: defaults, JSON files and environment variables
 * over a declarative key table.
 */
#include "core/settings.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static int *int_at(void *target, const rk_setting_t *k)
{
    return (int *)((char *)target + k->offset);
}

static char **string_at(void *target, const rk_setting_t *k)
{
    return (char **)((char *)target + k->offset);
}

static int fail(char *err, size_t err_len, const rk_setting_t *k, const char *source,
                const char *reason)
{
    snprintf(err, err_len, "config: %s: %s%s%s%s", k->path, reason, source ? " (from " : "",
             source ? source : "", source ? ")" : "");
    return RK_EINVAL;
}

const char *rk_setting_rule_log_level(const char *value)
{
    rk_log_level_t level;
    return rk_log_level_parse(value, &level) == RK_OK ? NULL
                                                      : "must be one of debug, info, warn, error";
}

static int set_string(void *target, const rk_setting_t *k, const char *value, const char *source,
                      char *err, size_t err_len)
{
    size_t len = strlen(value);
    if ((long)len < k->min || (k->max && (long)len > k->max)) {
        if (k->min > 0 && len == 0)
            return fail(err, err_len, k, source, "must not be empty");
        char reason[64];
        snprintf(reason, sizeof(reason), "must be at most %ld characters", k->max);
        return fail(err, err_len, k, source, reason);
    }
    const char *why = k->rule ? k->rule(value) : NULL;
    if (why)
        return fail(err, err_len, k, source, why);
    char **slot = string_at(target, k);
    if (*slot) {
        OPENSSL_cleanse(*slot, strlen(*slot));
        free(*slot);
    }
    *slot = rk_xstrdup(value);
    return RK_OK;
}

static int set_int(void *target, const rk_setting_t *k, long long value, const char *source,
                   char *err, size_t err_len)
{
    if (value < k->min || value > k->max) {
        char reason[96];
        snprintf(reason, sizeof(reason), "must be an integer between %ld and %ld", k->min, k->max);
        return fail(err, err_len, k, source, reason);
    }
    *int_at(target, k) = (int)value;
    return RK_OK;
}

static int set_int_text(void *target, const rk_setting_t *k, const char *text, const char *source,
                        char *err, size_t err_len)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0')
        v = LLONG_MIN;
    return set_int(target, k, v, source, err, err_len);
}

void rk_settings_init(const rk_settings_t *settings, void *target)
{
    char err[256];
    for (size_t i = 0; i < settings->n_keys; i++) {
        const rk_setting_t *k = &settings->keys[i];
        if (k->type == RK_SETTING_INT)
            set_int_text(target, k, k->default_value, NULL, err, sizeof(err));
        else
            *string_at(target, k) = rk_xstrdup(k->default_value ? k->default_value : "");
    }
}

static const rk_setting_t *find_key(const rk_settings_t *settings, const char *path)
{
    for (size_t i = 0; i < settings->n_keys; i++) {
        if (strcmp(settings->keys[i].path, path) == 0)
            return &settings->keys[i];
    }
    return NULL;
}

static int is_section(const rk_settings_t *settings, const char *path)
{
    size_t len = strlen(path);
    for (size_t i = 0; i < settings->n_keys; i++) {
        if (strncmp(settings->keys[i].path, path, len) == 0 && settings->keys[i].path[len] == '.')
            return 1;
    }
    return 0;
}

/* Walks one JSON object; nested objects give dotted paths. */
static int load_object(const rk_settings_t *settings, void *target, json_t *obj, const char *prefix,
                       const char *file, char *err, size_t err_len)
{
    const char *name;
    json_t *value;
    json_object_foreach(obj, name, value)
    {
        char path[128];
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name);
        const rk_setting_t *k = find_key(settings, path);
        if (!k && json_is_object(value) && is_section(settings, path)) {
            int rc = load_object(settings, target, value, path, file, err, err_len);
            if (rc != RK_OK)
                return rc;
            continue;
        }
        if (!k) {
            snprintf(err, err_len, "config: %s: unknown key (in %s)", path, file);
            return RK_EINVAL;
        }
        int rc;
        if (k->type == RK_SETTING_INT) {
            if (!json_is_integer(value))
                return fail(err, err_len, k, file, "must be an integer");
            rc = set_int(target, k, json_integer_value(value), file, err, err_len);
        } else {
            if (!json_is_string(value))
                return fail(err, err_len, k, file, "must be a string");
            rc = set_string(target, k, json_string_value(value), file, err, err_len);
        }
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

int rk_settings_load_object(const rk_settings_t *settings, void *target, json_t *root,
                            const char *file, char *err, size_t err_len)
{
    if (!json_is_object(root)) {
        snprintf(err, err_len, "config: %s: the file must hold one JSON object", file);
        return RK_EINVAL;
    }
    return load_object(settings, target, root, "", file, err, err_len);
}

int rk_settings_load_file(const rk_settings_t *settings, void *target, const char *path, char *err,
                          size_t err_len)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, err_len, "config: %s: line %d column %d: %s", path, jerr.line, jerr.column,
                 jerr.text);
        return jerr.line <= 0 ? RK_EIO : RK_EINVAL;
    }
    int rc = rk_settings_load_object(settings, target, root, path, err, err_len);
    json_decref(root);
    return rc;
}

int rk_settings_apply_env(const rk_settings_t *settings, void *target, rk_settings_env_fn env,
                          void *ctx, char *err, size_t err_len)
{
    for (size_t i = 0; i < settings->n_keys; i++) {
        const rk_setting_t *k = &settings->keys[i];
        const char *value = env(k->env, ctx);
        if (!value)
            continue;
        int rc = k->type == RK_SETTING_INT ? set_int_text(target, k, value, k->env, err, err_len)
                                           : set_string(target, k, value, k->env, err, err_len);
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

void rk_settings_describe(const rk_settings_t *settings, FILE *out)
{
    fprintf(out, "%-34s %-40s %-10s %s\n", "key", "environment", "default", "meaning");
    for (size_t i = 0; i < settings->n_keys; i++) {
        const rk_setting_t *k = &settings->keys[i];
        const char *def = k->default_value ? k->default_value : "";
        fprintf(out, "%-34s %-40s %-10s %s\n", k->path, k->env, *def ? def : "\"\"", k->doc);
    }
}

void rk_settings_free(const rk_settings_t *settings, void *target)
{
    for (size_t i = 0; i < settings->n_keys; i++) {
        const rk_setting_t *k = &settings->keys[i];
        if (k->type != RK_SETTING_STRING)
            continue;
        char **slot = string_at(target, k);
        if (*slot) {
            OPENSSL_cleanse(*slot, strlen(*slot));
            free(*slot);
            *slot = NULL;
        }
    }
}
