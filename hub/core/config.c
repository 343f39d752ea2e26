/*
 * config.c — renkeid's key table (see config.h); the engine is core/settings.c.
 */
#include "core/config.h"

#include "core/error.h"
#include "core/settings.h"

#include <stdio.h>
#include <string.h>

static const char *rule_http_url(const char *value)
{
    size_t len = strlen(value);
    if (len && strncmp(value, "http://", 7) && strncmp(value, "https://", 8))
        return "must start with http:// or https://";
    if (len && value[len - 1] == '/')
        return "must not end with '/'";
    return NULL;
}

static const char *rule_secret(const char *value)
{
    return *value && strlen(value) < 32 ? "must be at least 32 characters" : NULL;
}

#define OFF(field) offsetof(rk_config_t, field)

static const rk_setting_t config_keys[] = {
    {"listen.host", "RENKEI_HOST", RK_SETTING_STRING, OFF(listen_host), 1, 255, "127.0.0.1", NULL,
     "address to listen on (IPv4 or IPv6 literal)"},
    {"listen.port", "RENKEI_PORT", RK_SETTING_INT, OFF(listen_port), 1, 65535, "8080", NULL,
     "TCP port for HTTP/1.1 (and, later, HTTP/2) on one port"},
    {"server.workers", "RENKEI_WORKERS", RK_SETTING_INT, OFF(server_workers), 0, 64, "1", NULL,
     "event-loop processes sharing the port (SO_REUSEPORT), one core each; 0 = one per CPU"},
    {"public_url", "RENKEI_PUBLIC_URL", RK_SETTING_STRING, OFF(public_url), 0, 512, "",
     rule_http_url, "base URL residents and clients reach the hub at; empty = http://HOST:PORT"},
    {"tls.cert_file", "RENKEI_TLS_CERT", RK_SETTING_STRING, OFF(tls_cert_file), 0, 4096, "", NULL,
     "PEM certificate chain; with tls.key_file, the port speaks TLS"},
    {"tls.key_file", "RENKEI_TLS_KEY", RK_SETTING_STRING, OFF(tls_key_file), 0, 4096, "", NULL,
     "PEM private key for tls.cert_file"},
    {"tls.client_ca_file", "RENKEI_TLS_CLIENT_CA", RK_SETTING_STRING, OFF(tls_client_ca_file), 0,
     4096, "", NULL, "PEM CA certificates; when set, clients must present a certificate they sign"},
    {"limits.max_connections", "RENKEI_MAX_CONNECTIONS", RK_SETTING_INT, OFF(max_connections), 1,
     1000000, "20000", NULL, "connections open at once; more are closed on accept"},
    {"limits.header_bytes", "RENKEI_HEADER_BYTES", RK_SETTING_INT, OFF(header_bytes), 1024, 1048576,
     "16384", NULL, "request line plus headers; larger gets 431"},
    {"limits.body_bytes", "RENKEI_BODY_BYTES", RK_SETTING_INT, OFF(body_bytes), 0, 67108864,
     "1048576", NULL, "request body; larger gets 413"},
    {"limits.message_bytes", "RENKEI_MESSAGE_BYTES", RK_SETTING_INT, OFF(message_bytes), 1024,
     67108864, "4194304", NULL,
     "one RPC message (gRPC, gRPC-Web, Connect); larger is RESOURCE_EXHAUSTED"},
    {"limits.header_timeout_ms", "RENKEI_HEADER_TIMEOUT_MS", RK_SETTING_INT, OFF(header_timeout_ms),
     100, 600000, "10000", NULL, "time to receive a whole request once it has begun"},
    {"limits.idle_timeout_ms", "RENKEI_IDLE_TIMEOUT_MS", RK_SETTING_INT, OFF(idle_timeout_ms), 100,
     3600000, "60000", NULL, "keep-alive connection idle between requests before closing"},
    {"limits.write_timeout_ms", "RENKEI_WRITE_TIMEOUT_MS", RK_SETTING_INT, OFF(write_timeout_ms),
     100, 600000, "30000", NULL, "time a client may take to read a response"},
    {"limits.drain_timeout_ms", "RENKEI_DRAIN_TIMEOUT_MS", RK_SETTING_INT, OFF(drain_timeout_ms), 0,
     600000, "10000", NULL, "on SIGTERM, time in-flight requests get before exit"},
    {"store.conninfo", "RENKEI_PG", RK_SETTING_STRING, OFF(store_conninfo), 0, 4096, "", NULL,
     "libpq connection string; empty = libpq's PG* environment"},
    {"store.pool_size", "RENKEI_PG_POOL_SIZE", RK_SETTING_INT, OFF(store_pool_size), 1, 64, "2",
     NULL, "PostgreSQL connections, each pipelined"},
    {"store.pipeline_depth", "RENKEI_PG_PIPELINE_DEPTH", RK_SETTING_INT, OFF(store_pipeline_depth),
     1, 100000, "1000", NULL, "queries in flight on one connection before queueing"},
    {"store.connect_timeout_ms", "RENKEI_PG_CONNECT_TIMEOUT_MS", RK_SETTING_INT,
     OFF(store_connect_timeout_ms), 100, 600000, "30000", NULL,
     "how long start-up waits for PostgreSQL before giving up"},
    {"store.reconnect_max_ms", "RENKEI_PG_RECONNECT_MAX_MS", RK_SETTING_INT,
     OFF(store_reconnect_max_ms), 50, 60000, "2000", NULL,
     "longest backoff between reconnection attempts"},
    {"tenants.dir", "RENKEI_TENANTS_DIR", RK_SETTING_STRING, OFF(tenants_dir), 0, 4096, "tenants",
     NULL, "folder of tenant JSON files loaded at start; empty = load none"},
    {"tenants.refresh_ms", "RENKEI_TENANTS_REFRESH_MS", RK_SETTING_INT, OFF(tenants_refresh_ms),
     100, 3600000, "5000", NULL, "how often the served tenant list is re-read from PostgreSQL"},
    {"admin.token", "RENKEI_ADMIN_TOKEN", RK_SETTING_STRING, OFF(admin_token), 0, 1024, "",
     rule_secret, "bootstrap admin bearer token (32+ characters); prefer the variable to the file"},
    {"identity.master_key", "RENKEI_MASTER_KEY", RK_SETTING_STRING, OFF(identity_master_key), 0,
     128, "", NULL,
     "required: 32 random bytes (64 hex or base64) sealing realm signing keys; prefer the "
     "variable"},
    {"identity.signing_algs", "RENKEI_SIGNING_ALGS", RK_SETTING_STRING, OFF(identity_signing_algs),
     1, 32, "ES256", NULL,
     "JWS algorithms each realm keeps keys for: ES256, RS256; first is default"},
    {"identity.refresh_ms", "RENKEI_IDENTITY_REFRESH_MS", RK_SETTING_INT, OFF(identity_refresh_ms),
     100, 3600000, "5000", NULL,
     "how often realm keys are re-read; how long a client stays cached"},
    {"identity.retired_key_days", "RENKEI_IDENTITY_RETIRED_KEY_DAYS", RK_SETTING_INT,
     OFF(identity_retired_key_days), 1, 3650, "400", NULL,
     "how long a rotated-out signing key stays in the JWKS (verification only), so receipts "
     "and tokens it signed still verify"},
    {"identity.worker_threads", "RENKEI_IDENTITY_WORKER_THREADS", RK_SETTING_INT,
     OFF(identity_worker_threads), 1, 64, "2", NULL,
     "threads hashing passwords (argon2id) and generating keys, off the event loop"},
    {"identity.cert_anchors", "RENKEI_CERT_ANCHORS", RK_SETTING_STRING, OFF(identity_cert_anchors),
     0, 4096, "", NULL,
     "PEM trust anchors for certificate login (the JPKI roots); empty = no certificate login"},
    {"identity.cert_crl", "RENKEI_CERT_CRL", RK_SETTING_STRING, OFF(identity_cert_crl), 0, 4096, "",
     NULL, "PEM CRLs checked at certificate login; empty = none"},
    {"federation.client_cert_file", "RENKEI_FEDERATION_CLIENT_CERT", RK_SETTING_STRING,
     OFF(federation_client_cert_file), 0, 4096, "", NULL,
     "PEM certificate chain the hub presents to https adapters (mutual TLS)"},
    {"federation.client_key_file", "RENKEI_FEDERATION_CLIENT_KEY", RK_SETTING_STRING,
     OFF(federation_client_key_file), 0, 4096, "", NULL,
     "PEM private key of federation.client_cert_file"},
    {"federation.ca_file", "RENKEI_FEDERATION_CA", RK_SETTING_STRING, OFF(federation_ca_file), 0,
     4096, "", NULL,
     "PEM CAs for https adapters registered without a CA or pin; empty = the system store"},
    {"federation.activation_timeout_ms", "RENKEI_FEDERATION_ACTIVATION_TIMEOUT_MS", RK_SETTING_INT,
     OFF(federation_activation_timeout_ms), 100, 60000, "5000", NULL,
     "time an adapter gets to answer Describe and health when registered or enabled"},
    {"federation.refresh_ms", "RENKEI_FEDERATION_REFRESH_MS", RK_SETTING_INT,
     OFF(federation_refresh_ms), 100, 3600000, "60000", NULL,
     "safety net: how often the adapter registry is re-read even without a NOTIFY "
     "from PostgreSQL (changes through another hub arrive at once by LISTEN/NOTIFY)"},
    {"facility.sync_interval_ms", "RENKEI_FACILITY_SYNC_INTERVAL_MS", RK_SETTING_INT,
     OFF(facility_sync_interval_ms), 1000, 86400000, "60000", NULL,
     "how often every catalogue adapter's facilities are synced (incrementally)"},
    {"facility.booking_sweep_ms", "RENKEI_FACILITY_BOOKING_SWEEP_MS", RK_SETTING_INT,
     OFF(facility_booking_sweep_ms), 100, 3600000, "30000", NULL,
     "how often worker 0 sweeps the bookings: resumes CONFIRMING and CANCELLING rows, expires "
     "holds, fails REQUESTED rows a crash left (also once at start)"},
    {"facility.availability_timeout_ms", "RENKEI_FACILITY_AVAILABILITY_TIMEOUT_MS", RK_SETTING_INT,
     OFF(facility_availability_timeout_ms), 50, 60000, "2000", NULL,
     "longest GetAvailability waits for an owner's adapter (less when the caller's deadline is)"},
    {"facility.availability_margin_ms", "RENKEI_FACILITY_AVAILABILITY_MARGIN_MS", RK_SETTING_INT,
     OFF(facility_availability_margin_ms), 0, 5000, "50", NULL,
     "time kept back from the caller's deadline to merge the owners' answers and reply"},
    {"facility.watch_poll_ms", "RENKEI_FACILITY_WATCH_POLL_MS", RK_SETTING_INT,
     OFF(facility_watch_poll_ms), 100, 3600000, "5000", NULL,
     "how often a WatchAvailability stream asks the owners again (never more often than the "
     "availability cache lets answers change)"},
    {"facility.watch_max_ms", "RENKEI_FACILITY_WATCH_MAX_MS", RK_SETTING_INT,
     OFF(facility_watch_max_ms), 1000, 86400000, "600000", NULL,
     "the longest a WatchAvailability stream stays open (it also ends at its window's end)"},
    {"facility.availability_cache_ttl_ms", "RENKEI_FACILITY_AVAILABILITY_CACHE_TTL_MS",
     RK_SETTING_INT, OFF(facility_availability_cache_ttl_ms), 0, 600000, "5000", NULL,
     "an owner's availability answer younger than this is served without asking again; 0 = never"},
    {"facility.availability_stale_ms", "RENKEI_FACILITY_AVAILABILITY_STALE_MS", RK_SETTING_INT,
     OFF(facility_availability_stale_ms), 0, 86400000, "300000", NULL,
     "when an owner fails, its cached answers up to this old are served marked STALE; 0 = never"},
    {"facility.availability_cache_bytes", "RENKEI_FACILITY_AVAILABILITY_CACHE_BYTES",
     RK_SETTING_INT, OFF(facility_availability_cache_bytes), 0, 1073741824, "33554432", NULL,
     "memory for cached availability answers per worker, least recently used evicted first"},
    {"facility.breaker_failures", "RENKEI_FACILITY_BREAKER_FAILURES", RK_SETTING_INT,
     OFF(facility_breaker_failures), 1, 1000, "5", NULL,
     "consecutive failed calls that open an adapter's circuit breaker"},
    {"facility.breaker_failure_rate", "RENKEI_FACILITY_BREAKER_FAILURE_RATE", RK_SETTING_INT,
     OFF(facility_breaker_failure_rate), 1, 100, "50", NULL,
     "percentage of failed calls among the last facility.breaker_window that opens it"},
    {"facility.breaker_window", "RENKEI_FACILITY_BREAKER_WINDOW", RK_SETTING_INT,
     OFF(facility_breaker_window), 1, 64, "20", NULL,
     "calls the failure rate is judged over (only once that many were made)"},
    {"facility.breaker_open_ms", "RENKEI_FACILITY_BREAKER_OPEN_MS", RK_SETTING_INT,
     OFF(facility_breaker_open_ms), 100, 3600000, "10000", NULL,
     "how long an open breaker refuses calls before one probe may try the adapter again"},
    {"exchange.anchor_interval_ms", "RENKEI_EXCHANGE_ANCHOR_INTERVAL_MS", RK_SETTING_INT,
     OFF(exchange_anchor_interval_ms), 100, 86400000, "60000", NULL,
     "how often worker 0 has the head of every exchange-log chain with new entries timestamped "
     "by the TSA (exchange.tsa_url)"},
    {"exchange.anchor_max_gap_ms", "RENKEI_EXCHANGE_ANCHOR_MAX_GAP_MS", RK_SETTING_INT,
     OFF(exchange_anchor_max_gap_ms), 1000, 604800000, "600000", NULL,
     "fail closed: once a log entry has waited this long for a timestamp, cross-city changes "
     "are refused (UNAVAILABLE) until the TSA answers again"},
    {"exchange.tsa_url", "RENKEI_EXCHANGE_TSA_URL", RK_SETTING_STRING, OFF(exchange_tsa_url), 0,
     1024, "", NULL,
     "RFC 3161 time-stamping authority (http://host:port/path); empty = no anchoring and no "
     "fail-closed check"},
    {"exchange.tsa_ca_file", "RENKEI_EXCHANGE_TSA_CA", RK_SETTING_STRING,
     OFF(exchange_tsa_ca_file), 0, 4096, "", NULL,
     "PEM CA certificates that the TSA's signing certificate must chain to (needed with "
     "exchange.tsa_url)"},
    {"exchange.webhook_timeout_ms", "RENKEI_EXCHANGE_WEBHOOK_TIMEOUT_MS", RK_SETTING_INT,
     OFF(exchange_webhook_timeout_ms), 100, 60000, "10000", NULL,
     "longest one webhook delivery (connect, send, answer) may take before it counts as failed"},
    {"exchange.webhook_retry_min_ms", "RENKEI_EXCHANGE_WEBHOOK_RETRY_MIN_MS", RK_SETTING_INT,
     OFF(exchange_webhook_retry_min_ms), 10, 3600000, "1000", NULL,
     "wait after a webhook's first failed attempt; doubled at each further failure, with "
     "jitter"},
    {"exchange.webhook_retry_max_ms", "RENKEI_EXCHANGE_WEBHOOK_RETRY_MAX_MS", RK_SETTING_INT,
     OFF(exchange_webhook_retry_max_ms), 10, 86400000, "600000", NULL,
     "the longest wait between two attempts of a failing webhook"},
    {"exchange.webhook_batch", "RENKEI_EXCHANGE_WEBHOOK_BATCH", RK_SETTING_INT,
     OFF(exchange_webhook_batch), 1, 1000, "100", NULL,
     "feed items per webhook delivery at most"},
    {"log.level", "RENKEI_LOG_LEVEL", RK_SETTING_STRING, OFF(log_level), 1, 16, "info",
     rk_setting_rule_log_level, "lowest level logged: debug, info, warn or error"},
};

static const rk_settings_t hub_settings = {config_keys,
                                           sizeof(config_keys) / sizeof(config_keys[0])};

void rk_config_init(rk_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    rk_settings_init(&hub_settings, cfg);
}

int rk_config_load_file(rk_config_t *cfg, const char *path, char *err, size_t err_len)
{
    return rk_settings_load_file(&hub_settings, cfg, path, err, err_len);
}

int rk_config_apply_env(rk_config_t *cfg, rk_config_env_fn env, void *ctx, char *err,
                        size_t err_len)
{
    return rk_settings_apply_env(&hub_settings, cfg, env, ctx, err, err_len);
}

int rk_config_validate(const rk_config_t *cfg, char *err, size_t err_len)
{
    if (!*cfg->tls_cert_file != !*cfg->tls_key_file) {
        snprintf(err, err_len, "config: %s: must be set together with %s",
                 *cfg->tls_cert_file ? "tls.key_file" : "tls.cert_file",
                 *cfg->tls_cert_file ? "tls.cert_file" : "tls.key_file");
        return RK_EINVAL;
    }
    if (!*cfg->federation_client_cert_file != !*cfg->federation_client_key_file) {
        snprintf(err, err_len, "config: %s: must be set together with %s",
                 *cfg->federation_client_cert_file ? "federation.client_key_file"
                                                   : "federation.client_cert_file",
                 *cfg->federation_client_cert_file ? "federation.client_cert_file"
                                                   : "federation.client_key_file");
        return RK_EINVAL;
    }
    if (*cfg->tls_client_ca_file && !*cfg->tls_cert_file) {
        snprintf(err, err_len, "config: tls.client_ca_file: needs tls.cert_file and tls.key_file");
        return RK_EINVAL;
    }
    if (*cfg->exchange_tsa_url && !*cfg->exchange_tsa_ca_file) {
        snprintf(err, err_len, "config: exchange.tsa_ca_file: needed with exchange.tsa_url");
        return RK_EINVAL;
    }
    return RK_OK;
}

void rk_config_describe(FILE *out)
{
    rk_settings_describe(&hub_settings, out);
}

void rk_config_free(rk_config_t *cfg)
{
    rk_settings_free(&hub_settings, cfg);
}
