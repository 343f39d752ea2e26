/*
 * config.h — renkeid's configuration: defaults, a JSON file, RENKEI_* environment overrides.
 *
 * Every key is declared once in a table in config.c (its JSON path, environment variable,
 * type, bounds, default and one line of documentation); loading, overriding, validating and
 * `renkeid --help-config` all read that table through core/settings.h. Errors name the key and
 * the rule:
 * "config: listen.port: must be an integer between 1 and 65535 (from RENKEI_PORT)".
 */
#ifndef RK_CORE_CONFIG_H
#define RK_CORE_CONFIG_H

#include "core/settings.h"

#include <stddef.h>
#include <stdio.h>

typedef struct rk_config {
    char *listen_host;
    int listen_port;
    char *public_url;
    char *tls_cert_file;
    char *tls_key_file;
    char *tls_client_ca_file;
    int max_connections;
    int header_bytes;
    int body_bytes;
    int message_bytes;
    int header_timeout_ms;
    int idle_timeout_ms;
    int write_timeout_ms;
    int drain_timeout_ms;
    char *store_conninfo;
    int store_pool_size;
    int store_pipeline_depth;
    int store_connect_timeout_ms;
    int store_reconnect_max_ms;
    char *tenants_dir;
    int tenants_refresh_ms;
    char *admin_token;
    int server_workers;
    char *identity_master_key;
    char *identity_signing_algs;
    int identity_refresh_ms;
    int identity_worker_threads;
    int identity_retired_key_days;
    char *identity_cert_anchors;
    char *identity_cert_crl;
    char *federation_client_cert_file;
    char *federation_client_key_file;
    char *federation_ca_file;
    int federation_activation_timeout_ms;
    int federation_refresh_ms;
    int facility_sync_interval_ms;
    int facility_booking_sweep_ms;
    int facility_availability_timeout_ms;
    int facility_availability_margin_ms;
    int facility_watch_poll_ms;
    int facility_watch_max_ms;
    int facility_availability_cache_ttl_ms;
    int facility_availability_stale_ms;
    int facility_availability_cache_bytes;
    int facility_breaker_failures;
    int facility_breaker_failure_rate;
    int facility_breaker_window;
    int facility_breaker_open_ms;
    int exchange_anchor_interval_ms;
    int exchange_anchor_max_gap_ms;
    char *exchange_tsa_url;
    char *exchange_tsa_ca_file;
    int exchange_webhook_timeout_ms;
    int exchange_webhook_retry_min_ms;
    int exchange_webhook_retry_max_ms;
    int exchange_webhook_batch;
    char *log_level;
} rk_config_t;

/** Looks up an environment variable; getenv in production, a table in tests. */
typedef rk_settings_env_fn rk_config_env_fn;

/** Fills every key with its default. Free with rk_config_free(). */
void rk_config_init(rk_config_t *cfg);
/**
 * Reads a JSON config file over the current values. Unknown keys and wrong types are errors.
 * On error returns RK_EINVAL (RK_EIO if unreadable) with "config: …" in err; cfg may be
 * partly changed and should be freed.
 */
int rk_config_load_file(rk_config_t *cfg, const char *path, char *err, size_t err_len);
/** Applies RENKEI_* variables found through env(). Errors as rk_config_load_file(). */
int rk_config_apply_env(rk_config_t *cfg, rk_config_env_fn env, void *ctx, char *err,
                        size_t err_len);
/** Checks the rules that involve several keys; RK_EINVAL with the key named in err. */
int rk_config_validate(const rk_config_t *cfg, char *err, size_t err_len);
/** Writes the key table (path, variable, default, meaning) for --help-config. */
void rk_config_describe(FILE *out);
/** Frees the strings; the admin token is wiped first. */
void rk_config_free(rk_config_t *cfg);

#endif
