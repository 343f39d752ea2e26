/*
 * config.c — the declarative key table behind config.h and the code that reads it.
 */
#include "core/config.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KEY_INT, KEY_STRING } key_type_t;

typedef enum {
    CHECK_NONE,
    CHECK_LOG_LEVEL,
    CHECK_HTTP_URL,
    CHECK_SECRET,
} key_check_t;

typedef struct config_key {
    const char *path; /* "section.key" as written in the JSON file */
    const char *env;  /* overriding variable */
    key_type_t type;
    size_t offset;
    long min, max; /* integers: bounds; strings: length bounds (max 0 = no bound) */
    const char *default_value;
    key_check_t check;
    const char *doc;
} config_key_t;

#define OFF(field) offsetof(rk_config_t, field)

static const config_key_t config_keys[] = {
    {"listen.host", "RENKEI_HOST", KEY_STRING, OFF(listen_host), 1, 255, "127.0.0.1", CHECK_NONE,
     "address to listen on (IPv4 or IPv6 literal)"},
    {"listen.port", "RENKEI_PORT", KEY_INT, OFF(listen_port), 1, 65535, "8080", CHECK_NONE,
     "TCP port for HTTP/1.1 (and, later, HTTP/2) on one port"},
    {"public_url", "RENKEI_PUBLIC_URL", KEY_STRING, OFF(public_url), 0, 512, "", CHECK_HTTP_URL,
     "base URL residents and clients reach the hub at; empty = http://HOST:PORT"},
    {"tls.cert_file", "RENKEI_TLS_CERT", KEY_STRING, OFF(tls_cert_file), 0, 4096, "", CHECK_NONE,
     "PEM certificate chain; with tls.key_file, the port speaks TLS"},
    {"tls.key_file", "RENKEI_TLS_KEY", KEY_STRING, OFF(tls_key_file), 0, 4096, "", CHECK_NONE,
     "PEM private key for tls.cert_file"},
    {"tls.client_ca_file", "RENKEI_TLS_CLIENT_CA", KEY_STRING, OFF(tls_client_ca_file), 0, 4096, "",
     CHECK_NONE, "PEM CA certificates; when set, clients must present a certificate they sign"},
    {"limits.max_connections", "RENKEI_MAX_CONNECTIONS", KEY_INT, OFF(max_connections), 1, 1000000,
     "20000", CHECK_NONE, "connections open at once; more are closed on accept"},
    {"limits.header_bytes", "RENKEI_HEADER_BYTES", KEY_INT, OFF(header_bytes), 1024, 1048576,
     "16384", CHECK_NONE, "request line plus headers; larger gets 431"},
    {"limits.body_bytes", "RENKEI_BODY_BYTES", KEY_INT, OFF(body_bytes), 0, 67108864, "1048576",
     CHECK_NONE, "request body; larger gets 413"},
    {"limits.message_bytes", "RENKEI_MESSAGE_BYTES", KEY_INT, OFF(message_bytes), 1024, 67108864,
     "4194304", CHECK_NONE,
     "one RPC message (gRPC, gRPC-Web, Connect); larger is RESOURCE_EXHAUSTED"},
    {"limits.header_timeout_ms", "RENKEI_HEADER_TIMEOUT_MS", KEY_INT, OFF(header_timeout_ms), 100,
     600000, "10000", CHECK_NONE, "time to receive a whole request once it has begun"},
    {"limits.idle_timeout_ms", "RENKEI_IDLE_TIMEOUT_MS", KEY_INT, OFF(idle_timeout_ms), 100,
     3600000, "60000", CHECK_NONE, "keep-alive connection idle between requests before closing"},
    {"limits.write_timeout_ms", "RENKEI_WRITE_TIMEOUT_MS", KEY_INT, OFF(write_timeout_ms), 100,
     600000, "30000", CHECK_NONE, "time a client may take to read a response"},
    {"limits.drain_timeout_ms", "RENKEI_DRAIN_TIMEOUT_MS", KEY_INT, OFF(drain_timeout_ms), 0,
     600000, "10000", CHECK_NONE, "on SIGTERM, time in-flight requests get before exit"},
    {"store.conninfo", "RENKEI_PG", KEY_STRING, OFF(store_conninfo), 0, 4096, "", CHECK_NONE,
     "libpq connection string; empty = libpq's PG* environment"},
    {"store.pool_size", "RENKEI_PG_POOL_SIZE", KEY_INT, OFF(store_pool_size), 1, 64, "2",
     CHECK_NONE, "PostgreSQL connections, each pipelined"},
    {"store.pipeline_depth", "RENKEI_PG_PIPELINE_DEPTH", KEY_INT, OFF(store_pipeline_depth), 1,
     100000, "1000", CHECK_NONE, "queries in flight on one connection before queueing"},
    {"store.connect_timeout_ms", "RENKEI_PG_CONNECT_TIMEOUT_MS", KEY_INT,
     OFF(store_connect_timeout_ms), 100, 600000, "30000", CHECK_NONE,
     "how long start-up waits for PostgreSQL before giving up"},
    {"store.reconnect_max_ms", "RENKEI_PG_RECONNECT_MAX_MS", KEY_INT, OFF(store_reconnect_max_ms),
     50, 60000, "2000", CHECK_NONE, "longest backoff between reconnection attempts"},
    {"tenants.dir", "RENKEI_TENANTS_DIR", KEY_STRING, OFF(tenants_dir), 0, 4096, "tenants",
     CHECK_NONE, "folder of tenant JSON files loaded at start; empty = load none"},
    {"tenants.refresh_ms", "RENKEI_TENANTS_REFRESH_MS", KEY_INT, OFF(tenants_refresh_ms), 100,
     3600000, "5000", CHECK_NONE, "how often the served tenant list is re-read from PostgreSQL"},
    {"admin.token", "RENKEI_ADMIN_TOKEN", KEY_STRING, OFF(admin_token), 0, 1024, "", CHECK_SECRET,
     "bootstrap admin bearer token (32+ characters); prefer the variable to the file"},
    {"identity.master_key", "RENKEI_MASTER_KEY", KEY_STRING, OFF(identity_master_key), 0, 128, "",
     CHECK_NONE,
     "required: 32 random bytes (64 hex or base64) sealing realm signing keys; prefer the "
     "variable"},
    {"identity.signing_algs", "RENKEI_SIGNING_ALGS", KEY_STRING, OFF(identity_signing_algs), 1, 32,
     "ES256", CHECK_NONE,
     "JWS algorithms each realm keeps keys for: ES256, RS256; first is default"},
    {"identity.refresh_ms", "RENKEI_IDENTITY_REFRESH_MS", KEY_INT, OFF(identity_refresh_ms), 100,
     3600000, "5000", CHECK_NONE,
     "how often realm keys are re-read; how long a client stays cached"},
    {"log.level", "RENKEI_LOG_LEVEL", KEY_STRING, OFF(log_level), 1, 16, "info", CHECK_LOG_LEVEL,
     "lowest level logged: debug, info, warn or error"},
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static int *int_at(rk_config_t *cfg, const config_key_t *k)
{
    return (int *)((char *)cfg + k->offset);
}

static char **string_at(rk_config_t *cfg, const config_key_t *k)
{
    return (char **)((char *)cfg + k->offset);
}

static int fail(char *err, size_t err_len, const config_key_t *k, const char *source,
                const char *reason)
{
    snprintf(err, err_len, "config: %s: %s%s%s%s", k->path, reason, source ? " (from " : "",
             source ? source : "", source ? ")" : "");
    return RK_EINVAL;
}

static int check_string(const config_key_t *k, const char *value, const char *source, char *err,
                        size_t err_len)
{
    char reason[128];
    size_t len = strlen(value);
    if ((long)len < k->min || (k->max && (long)len > k->max)) {
        if (k->min > 0 && len == 0)
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
    case CHECK_HTTP_URL:
        if (len && strncmp(value, "http://", 7) && strncmp(value, "https://", 8))
            return fail(err, err_len, k, source, "must start with http:// or https://");
        if (len && value[len - 1] == '/')
            return fail(err, err_len, k, source, "must not end with '/'");
        break;
    case CHECK_SECRET:
        if (len && len < 32)
            return fail(err, err_len, k, source, "must be at least 32 characters");
        break;
    case CHECK_NONE:
        break;
    }
    return RK_OK;
}

static int set_string(rk_config_t *cfg, const config_key_t *k, const char *value,
                      const char *source, char *err, size_t err_len)
{
    int rc = check_string(k, value, source, err, err_len);
    if (rc != RK_OK)
        return rc;
    char **slot = string_at(cfg, k);
    if (*slot) {
        OPENSSL_cleanse(*slot, strlen(*slot));
        free(*slot);
    }
    *slot = rk_xstrdup(value);
    return RK_OK;
}

static int set_int(rk_config_t *cfg, const config_key_t *k, long long value, const char *source,
                   char *err, size_t err_len)
{
    if (value < k->min || value > k->max) {
        char reason[128];
        snprintf(reason, sizeof(reason), "must be an integer between %ld and %ld", k->min, k->max);
        return fail(err, err_len, k, source, reason);
    }
    *int_at(cfg, k) = (int)value;
    return RK_OK;
}

static int set_int_text(rk_config_t *cfg, const config_key_t *k, const char *text,
                        const char *source, char *err, size_t err_len)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0')
        v = LLONG_MIN;
    return set_int(cfg, k, v, source, err, err_len);
}

void rk_config_init(rk_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    char err[256];
    for (size_t i = 0; i < N_KEYS; i++) {
        const config_key_t *k = &config_keys[i];
        if (k->type == KEY_INT)
            set_int_text(cfg, k, k->default_value, NULL, err, sizeof(err));
        else
            *string_at(cfg, k) = rk_xstrdup(k->default_value);
    }
}

static const config_key_t *find_key(const char *path)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(config_keys[i].path, path) == 0)
            return &config_keys[i];
    }
    return NULL;
}

/* Walks the JSON object; nested objects give dotted paths. */
static int load_object(rk_config_t *cfg, json_t *obj, const char *prefix, const char *file,
                       char *err, size_t err_len)
{
    const char *name;
    json_t *value;
    json_object_foreach(obj, name, value)
    {
        char path[128];
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name);
        const config_key_t *k = find_key(path);
        if (!k && json_is_object(value)) {
            size_t plen = strlen(path);
            int is_section = 0;
            for (size_t i = 0; i < N_KEYS; i++)
                is_section |= strncmp(config_keys[i].path, path, plen) == 0 &&
                              config_keys[i].path[plen] == '.';
            if (is_section) {
                int rc = load_object(cfg, value, path, file, err, err_len);
                if (rc != RK_OK)
                    return rc;
                continue;
            }
        }
        if (!k) {
            snprintf(err, err_len, "config: %s: unknown key (in %s)", path, file);
            return RK_EINVAL;
        }
        int rc;
        if (k->type == KEY_INT) {
            if (!json_is_integer(value))
                return fail(err, err_len, k, file, "must be an integer");
            rc = set_int(cfg, k, json_integer_value(value), file, err, err_len);
        } else {
            if (!json_is_string(value))
                return fail(err, err_len, k, file, "must be a string");
            rc = set_string(cfg, k, json_string_value(value), file, err, err_len);
        }
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

int rk_config_load_file(rk_config_t *cfg, const char *path, char *err, size_t err_len)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, err_len, "config: %s: line %d column %d: %s", path, jerr.line, jerr.column,
                 jerr.text);
        return jerr.line <= 0 ? RK_EIO : RK_EINVAL;
    }
    int rc;
    if (!json_is_object(root)) {
        snprintf(err, err_len, "config: %s: the file must hold one JSON object", path);
        rc = RK_EINVAL;
    } else {
        rc = load_object(cfg, root, "", path, err, err_len);
    }
    json_decref(root);
    return rc;
}

int rk_config_apply_env(rk_config_t *cfg, rk_config_env_fn env, void *ctx, char *err,
                        size_t err_len)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const config_key_t *k = &config_keys[i];
        const char *value = env(k->env, ctx);
        if (!value)
            continue;
        int rc = k->type == KEY_INT ? set_int_text(cfg, k, value, k->env, err, err_len)
                                    : set_string(cfg, k, value, k->env, err, err_len);
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

int rk_config_validate(const rk_config_t *cfg, char *err, size_t err_len)
{
    if (!*cfg->tls_cert_file != !*cfg->tls_key_file) {
        snprintf(err, err_len, "config: %s: must be set together with %s",
                 *cfg->tls_cert_file ? "tls.key_file" : "tls.cert_file",
                 *cfg->tls_cert_file ? "tls.cert_file" : "tls.key_file");
        return RK_EINVAL;
    }
    if (*cfg->tls_client_ca_file && !*cfg->tls_cert_file) {
        snprintf(err, err_len, "config: tls.client_ca_file: needs tls.cert_file and tls.key_file");
        return RK_EINVAL;
    }
    return RK_OK;
}

void rk_config_describe(FILE *out)
{
    fprintf(out, "%-28s %-30s %-10s %s\n", "key", "environment", "default", "meaning");
    for (size_t i = 0; i < N_KEYS; i++) {
        const config_key_t *k = &config_keys[i];
        fprintf(out, "%-28s %-30s %-10s %s\n", k->path, k->env,
                *k->default_value ? k->default_value : "\"\"", k->doc);
    }
}

void rk_config_free(rk_config_t *cfg)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        const config_key_t *k = &config_keys[i];
        if (k->type != KEY_STRING)
            continue;
        char **slot = string_at(cfg, k);
        if (*slot) {
            OPENSSL_cleanse(*slot, strlen(*slot));
            free(*slot);
            *slot = NULL;
        }
    }
}
