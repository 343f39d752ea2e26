/*
 * adapter_config.c — the SDK's key table and the code that reads it (see adapter_config.h).
 */
#include "adapter_config.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KEY_INT, KEY_STRING } key_type_t;
typedef enum { CHECK_NONE, CHECK_LOG_LEVEL, CHECK_CODE, CHECK_SLUG } key_check_t;

typedef struct key {
    const char *path;
    const char *env;
    key_type_t type;
    size_t offset;
    long min, max; /* integers: bounds; strings: length bounds */
    const char *default_value;
    key_check_t check;
    const char *doc;
} setting_t;

#define OFF(field) offsetof(rk_adapter_settings_t, field)

static const setting_t keys[] = {
    {"adapter.name", "RENKEI_ADAPTER_NAME", KEY_STRING, OFF(name), 1, 64, NULL, CHECK_NONE,
     "name in logs; default: the adapter's own (\"sim\")"},
    {"municipality.code", "RENKEI_ADAPTER_MUNICIPALITY_CODE", KEY_STRING, OFF(municipality_code), 0,
     6, "", CHECK_CODE, "全国地方公共団体コード, 6 digits with check digit (required)"},
    {"municipality.slug", "RENKEI_ADAPTER_MUNICIPALITY_SLUG", KEY_STRING, OFF(municipality_slug), 0,
     32, "", CHECK_SLUG, "the hub's tenant slug, lower-case ASCII (required)"},
    {"municipality.name_ja", "RENKEI_ADAPTER_MUNICIPALITY_NAME_JA", KEY_STRING,
     OFF(municipality_name_ja), 0, 128, "", CHECK_NONE, "name in Japanese (調布市)"},
    {"municipality.name_en", "RENKEI_ADAPTER_MUNICIPALITY_NAME_EN", KEY_STRING,
     OFF(municipality_name_en), 0, 128, "", CHECK_NONE, "name in English (Chofu)"},
    {"municipality.name_kana", "RENKEI_ADAPTER_MUNICIPALITY_NAME_KANA", KEY_STRING,
     OFF(municipality_name_kana), 0, 128, "", CHECK_NONE, "reading in katakana (チョウフシ)"},
    {"listen.host", "RENKEI_ADAPTER_HOST", KEY_STRING, OFF(listen_host), 1, 255, "127.0.0.1",
     CHECK_NONE, "address to listen on (IPv4 or IPv6 literal)"},
    {"listen.port", "RENKEI_ADAPTER_PORT", KEY_INT, OFF(listen_port), 1, 65535, "9100", CHECK_NONE,
     "TCP port: gRPC (h2c or TLS), gRPC-Web and Connect on one port"},
    {"tls.cert_file", "RENKEI_ADAPTER_TLS_CERT", KEY_STRING, OFF(tls_cert_file), 0, 4096, "",
     CHECK_NONE, "PEM certificate chain; with tls.key_file the port speaks TLS"},
    {"tls.key_file", "RENKEI_ADAPTER_TLS_KEY", KEY_STRING, OFF(tls_key_file), 0, 4096, "",
     CHECK_NONE, "PEM private key of tls.cert_file"},
    {"tls.client_ca_file", "RENKEI_ADAPTER_TLS_CLIENT_CA", KEY_STRING, OFF(tls_client_ca_file), 0,
     4096, "", CHECK_NONE,
     "PEM CA: when set, callers (the hub) must present a certificate it signs"},
    {"log.level", "RENKEI_ADAPTER_LOG_LEVEL", KEY_STRING, OFF(log_level), 1, 16, "info",
     CHECK_LOG_LEVEL, "lowest level logged: debug, info, warn or error"},
    {"limits.max_connections", "RENKEI_ADAPTER_MAX_CONNECTIONS", KEY_INT, OFF(max_connections), 1,
     1000000, "1000", CHECK_NONE, "connections open at once; more are closed on accept"},
    {"limits.message_bytes", "RENKEI_ADAPTER_MESSAGE_BYTES", KEY_INT, OFF(message_bytes), 1024,
     67108864, "4194304", CHECK_NONE, "largest RPC message; larger is RESOURCE_EXHAUSTED"},
    {"limits.drain_timeout_ms", "RENKEI_ADAPTER_DRAIN_TIMEOUT_MS", KEY_INT, OFF(drain_timeout_ms),
     0, 600000, "10000", CHECK_NONE, "on SIGTERM, time calls in flight get before exit"},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static int *int_at(rk_adapter_settings_t *s, const setting_t *k)
{
    return (int *)((char *)s + k->offset);
}

static char **string_at(rk_adapter_settings_t *s, const setting_t *k)
{
    return (char **)((char *)s + k->offset);
}

static int fail(char *err, size_t err_len, const setting_t *k, const char *source,
                const char *reason)
{
    snprintf(err, err_len, "config: %s: %s%s%s%s", k->path, reason, source ? " (from " : "",
             source ? source : "", source ? ")" : "");
    return RK_EINVAL;
}

int rk_adapter_municipality_code_ok(const char *code)
{
    if (strlen(code) != 6 || strspn(code, "0123456789") != 6)
        return 0;
    int sum = 0;
    for (int i = 0; i < 5; i++)
        sum += (code[i] - '0') * (6 - i);
    return (11 - sum % 11) % 10 == code[5] - '0';
}

static int check_string(const setting_t *k, const char *value, const char *source, char *err,
                        size_t err_len)
{
    size_t len = strlen(value);
    if ((long)len < k->min || (long)len > k->max) {
        char reason[96];
        if (len == 0)
            return fail(err, err_len, k, source, "must not be empty");
        snprintf(reason, sizeof(reason), "must be at most %ld characters", k->max);
        return fail(err, err_len, k, source, reason);
    }
    rk_log_level_t level;
    switch (k->check) {
    case CHECK_LOG_LEVEL:
        if (rk_log_level_parse(value, &level) != RK_OK)
            return fail(err, err_len, k, source, "must be one of debug, info, warn, error");
        break;
    case CHECK_CODE:
        if (len && !rk_adapter_municipality_code_ok(value))
            return fail(err, err_len, k, source,
                        "must be 6 digits ending in the check digit (\"132080\" for Chofu)");
        break;
    case CHECK_SLUG:
        if (strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789-") != len)
            return fail(err, err_len, k, source, "must be lower-case letters, digits and '-'");
        break;
    case CHECK_NONE:
        break;
    }
    return RK_OK;
}

static int set_string(rk_adapter_settings_t *s, const setting_t *k, const char *value,
                      const char *source, char *err, size_t err_len)
{
    int rc = check_string(k, value, source, err, err_len);
    if (rc != RK_OK)
        return rc;
    char **slot = string_at(s, k);
    free(*slot);
    *slot = rk_xstrdup(value);
    return RK_OK;
}

static int set_int(rk_adapter_settings_t *s, const setting_t *k, long long value,
                   const char *source, char *err, size_t err_len)
{
    if (value < k->min || value > k->max) {
        char reason[96];
        snprintf(reason, sizeof(reason), "must be an integer between %ld and %ld", k->min, k->max);
        return fail(err, err_len, k, source, reason);
    }
    *int_at(s, k) = (int)value;
    return RK_OK;
}

static int set_int_text(rk_adapter_settings_t *s, const setting_t *k, const char *text,
                        const char *source, char *err, size_t err_len)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0')
        v = LLONG_MIN;
    return set_int(s, k, v, source, err, err_len);
}

void rk_adapter_settings_init(rk_adapter_settings_t *s, const char *default_name)
{
    memset(s, 0, sizeof(*s));
    char err[128];
    for (size_t i = 0; i < N_KEYS; i++) {
        const setting_t *k = &keys[i];
        if (k->type == KEY_INT)
            set_int_text(s, k, k->default_value, NULL, err, sizeof(err));
        else
            *string_at(s, k) = rk_xstrdup(k->default_value ? k->default_value : default_name);
    }
}

static const setting_t *find_key(const char *path)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(keys[i].path, path) == 0)
            return &keys[i];
    }
    return NULL;
}

static int is_section(const char *path)
{
    size_t len = strlen(path);
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strncmp(keys[i].path, path, len) == 0 && keys[i].path[len] == '.')
            return 1;
    }
    return 0;
}

static int load_object(rk_adapter_settings_t *s, json_t *obj, const char *prefix, const char *file,
                       char *err, size_t err_len)
{
    const char *name;
    json_t *value;
    json_object_foreach(obj, name, value)
    {
        char path[128];
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name);
        const setting_t *k = find_key(path);
        if (!k && json_is_object(value) && is_section(path)) {
            int rc = load_object(s, value, path, file, err, err_len);
            if (rc != RK_OK)
                return rc;
            continue;
        }
        if (!k) {
            snprintf(err, err_len, "config: %s: unknown key (in %s)", path, file);
            return RK_EINVAL;
        }
        int rc;
        if (k->type == KEY_INT) {
            if (!json_is_integer(value))
                return fail(err, err_len, k, file, "must be an integer");
            rc = set_int(s, k, json_integer_value(value), file, err, err_len);
        } else {
            if (!json_is_string(value))
                return fail(err, err_len, k, file, "must be a string");
            rc = set_string(s, k, json_string_value(value), file, err, err_len);
        }
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

int rk_adapter_settings_load(rk_adapter_settings_t *s, const char *path, const char *section_name,
                             json_t **section, char *err, size_t err_len)
{
    *section = NULL;
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, err_len, "config: %s: line %d column %d: %s", path, jerr.line, jerr.column,
                 jerr.text);
        return jerr.line <= 0 ? RK_EIO : RK_EINVAL;
    }
    if (!json_is_object(root)) {
        snprintf(err, err_len, "config: %s: the file must hold one JSON object", path);
        json_decref(root);
        return RK_EINVAL;
    }
    if (section_name) {
        json_t *own = json_object_get(root, section_name);
        if (own && !json_is_object(own)) {
            snprintf(err, err_len, "config: %s: must be an object (in %s)", section_name, path);
            json_decref(root);
            return RK_EINVAL;
        }
        *section = own ? json_incref(own) : NULL;
        json_object_del(root, section_name);
    }
    int rc = load_object(s, root, "", path, err, err_len);
    json_decref(root);
    if (rc != RK_OK) {
        json_decref(*section);
        *section = NULL;
    }
    return rc;
}

int rk_adapter_settings_apply_env(rk_adapter_settings_t *s, rk_adapter_env_fn env, void *ctx,
                                  char *err, size_t err_len)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const setting_t *k = &keys[i];
        const char *value = env(k->env, ctx);
        if (!value)
            continue;
        int rc = k->type == KEY_INT ? set_int_text(s, k, value, k->env, err, err_len)
                                    : set_string(s, k, value, k->env, err, err_len);
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

int rk_adapter_settings_validate(const rk_adapter_settings_t *s, char *err, size_t err_len)
{
    if (!*s->municipality_code || !*s->municipality_slug) {
        snprintf(err, err_len, "config: %s: required: the municipality this adapter serves",
                 !*s->municipality_code ? "municipality.code" : "municipality.slug");
        return RK_EINVAL;
    }
    if (!*s->tls_cert_file != !*s->tls_key_file) {
        snprintf(err, err_len, "config: %s: must be set together with %s",
                 *s->tls_cert_file ? "tls.key_file" : "tls.cert_file",
                 *s->tls_cert_file ? "tls.cert_file" : "tls.key_file");
        return RK_EINVAL;
    }
    if (*s->tls_client_ca_file && !*s->tls_cert_file) {
        snprintf(err, err_len, "config: tls.client_ca_file: needs tls.cert_file and tls.key_file");
        return RK_EINVAL;
    }
    return RK_OK;
}

void rk_adapter_settings_describe(FILE *out)
{
    fprintf(out, "%-26s %-38s %-10s %s\n", "key", "environment", "default", "meaning");
    for (size_t i = 0; i < N_KEYS; i++) {
        const setting_t *k = &keys[i];
        const char *def = k->default_value ? k->default_value : "(name)";
        fprintf(out, "%-26s %-38s %-10s %s\n", k->path, k->env, *def ? def : "\"\"", k->doc);
    }
}

void rk_adapter_settings_free(rk_adapter_settings_t *s)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (keys[i].type == KEY_STRING) {
            char **slot = string_at(s, &keys[i]);
            free(*slot);
            *slot = NULL;
        }
    }
}
