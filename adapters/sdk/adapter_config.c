/*
 * adapter_config.c — the SDK's key table (see adapter_config.h); the engine is the hub's own
 * core/settings.c, so adapters and the hub read configuration the same way.
 */
#include "adapter_config.h"

#include "core/error.h"
#include "core/mem.h"
#include "core/settings.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rk_adapter_municipality_code_ok(const char *code)
{
    if (strlen(code) != 6 || strspn(code, "0123456789") != 6)
        return 0;
    int sum = 0;
    for (int i = 0; i < 5; i++)
        sum += (code[i] - '0') * (6 - i);
    return (11 - sum % 11) % 10 == code[5] - '0';
}

static const char *rule_municipality_code(const char *value)
{
    return *value && !rk_adapter_municipality_code_ok(value)
               ? "must be 6 digits ending in the check digit (\"132080\" for Chofu)"
               : NULL;
}

static const char *rule_slug(const char *value)
{
    return strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(value)
               ? "must be lower-case letters, digits and '-'"
               : NULL;
}

#define OFF(field) offsetof(rk_adapter_settings_t, field)

static const rk_setting_t keys[] = {
    {"adapter.name", "RENKEI_ADAPTER_NAME", RK_SETTING_STRING, OFF(name), 1, 64, NULL, NULL,
     "name in logs; default: the adapter's own (\"sim\")"},
    {"municipality.code", "RENKEI_ADAPTER_MUNICIPALITY_CODE", RK_SETTING_STRING,
     OFF(municipality_code), 0, 6, "", rule_municipality_code,
     "全国地方公共団体コード, 6 digits with check digit (required)"},
    {"municipality.slug", "RENKEI_ADAPTER_MUNICIPALITY_SLUG", RK_SETTING_STRING,
     OFF(municipality_slug), 0, 32, "", rule_slug,
     "the hub's tenant slug, lower-case ASCII (required)"},
    {"municipality.name_ja", "RENKEI_ADAPTER_MUNICIPALITY_NAME_JA", RK_SETTING_STRING,
     OFF(municipality_name_ja), 0, 128, "", NULL, "name in Japanese (調布市)"},
    {"municipality.name_en", "RENKEI_ADAPTER_MUNICIPALITY_NAME_EN", RK_SETTING_STRING,
     OFF(municipality_name_en), 0, 128, "", NULL, "name in English (Chofu)"},
    {"municipality.name_kana", "RENKEI_ADAPTER_MUNICIPALITY_NAME_KANA", RK_SETTING_STRING,
     OFF(municipality_name_kana), 0, 128, "", NULL, "reading in katakana (チョウフシ)"},
    {"listen.host", "RENKEI_ADAPTER_HOST", RK_SETTING_STRING, OFF(listen_host), 1, 255, "127.0.0.1",
     NULL, "address to listen on (IPv4 or IPv6 literal)"},
    {"listen.port", "RENKEI_ADAPTER_PORT", RK_SETTING_INT, OFF(listen_port), 1, 65535, "9100", NULL,
     "TCP port: gRPC (h2c or TLS), gRPC-Web and Connect on one port"},
    {"tls.cert_file", "RENKEI_ADAPTER_TLS_CERT", RK_SETTING_STRING, OFF(tls_cert_file), 0, 4096, "",
     NULL, "PEM certificate chain; with tls.key_file the port speaks TLS"},
    {"tls.key_file", "RENKEI_ADAPTER_TLS_KEY", RK_SETTING_STRING, OFF(tls_key_file), 0, 4096, "",
     NULL, "PEM private key of tls.cert_file"},
    {"tls.client_ca_file", "RENKEI_ADAPTER_TLS_CLIENT_CA", RK_SETTING_STRING,
     OFF(tls_client_ca_file), 0, 4096, "", NULL,
     "PEM CA: when set, callers (the hub) must present a certificate it signs"},
    {"log.level", "RENKEI_ADAPTER_LOG_LEVEL", RK_SETTING_STRING, OFF(log_level), 1, 16, "info",
     rk_setting_rule_log_level, "lowest level logged: debug, info, warn or error"},
    {"limits.max_connections", "RENKEI_ADAPTER_MAX_CONNECTIONS", RK_SETTING_INT,
     OFF(max_connections), 1, 1000000, "1000", NULL,
     "connections open at once; more are closed on accept"},
    {"limits.message_bytes", "RENKEI_ADAPTER_MESSAGE_BYTES", RK_SETTING_INT, OFF(message_bytes),
     1024, 67108864, "4194304", NULL, "largest RPC message; larger is RESOURCE_EXHAUSTED"},
    {"limits.drain_timeout_ms", "RENKEI_ADAPTER_DRAIN_TIMEOUT_MS", RK_SETTING_INT,
     OFF(drain_timeout_ms), 0, 600000, "10000", NULL,
     "on SIGTERM, time calls in flight get before exit"},
};

static const rk_settings_t sdk_settings = {keys, sizeof(keys) / sizeof(keys[0])};

void rk_adapter_settings_init(rk_adapter_settings_t *s, const char *default_name)
{
    memset(s, 0, sizeof(*s));
    rk_settings_init(&sdk_settings, s);
    if (!*s->name) {
        free(s->name);
        s->name = rk_xstrdup(default_name);
    }
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
    if (section_name && json_is_object(root)) {
        json_t *own = json_object_get(root, section_name);
        if (own && !json_is_object(own)) {
            snprintf(err, err_len, "config: %s: must be an object (in %s)", section_name, path);
            json_decref(root);
            return RK_EINVAL;
        }
        *section = own ? json_incref(own) : NULL;
        json_object_del(root, section_name);
    }
    int rc = rk_settings_load_object(&sdk_settings, s, root, path, err, err_len);
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
    return rk_settings_apply_env(&sdk_settings, s, env, ctx, err, err_len);
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
    rk_settings_describe(&sdk_settings, out);
}

void rk_adapter_settings_free(rk_adapter_settings_t *s)
{
    rk_settings_free(&sdk_settings, s);
}
