/*
 * federation.c — the module's wiring: start-up checks, the registry of active adapters and
 * its refresh from PostgreSQL, and the channels to adapters (see federation.h).
 *
 * The registry is a small unordered array (a hub serves tens of municipalities, each with a
 * few adapters): lookups scan it. A refresh reconciles it with the active rows: an entry
 * whose id and revision are unchanged keeps its channel (and its open connections); a changed
 * row gets a new channel; an entry no longer active is dropped.
 *
 * A refresh runs at start, on every NOTIFY on rk_adapter, each time LISTEN takes effect again
 * after the listener's connection was lost (what changed meanwhile was not announced), and
 * every federation.refresh_ms. An announcement during a refresh runs another right after it
 * (the query in flight may predate the change). An admin call that changes the registry
 * while a refresh is in flight makes that refresh's answer stale: it is ignored and another
 * runs at once.
 */
#include "federation/federation.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "federation/activation.h"
#include "federation/adapter_admin.h"
#include "federation/adapter_rules.h"
#include "net/request.h"
#include "store/listen.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define STMT_ACTIVE "federation_active_adapters"
#define STMT_PRUNE "federation_prune_requests"
#define PRUNE_EVERY_NS (3600ull * 1000000000ull)
#define NOTIFY_CHANNEL "rk_adapter"    /* migration 0007: a row was added, changed, removed */
#define LISTEN_CONNECT_TIMEOUT_MS 5000 /* one connection attempt, as the pool's */

static const char sql_active[] =
    "SELECT a.id, a.revision, a.tenant_id, t.code, t.slug, a.name, a.endpoint,"
    " coalesce(a.ca_pem, ''), coalesce(a.pinned_cert_sha256, ''), a.tls_server_name,"
    " array_to_string(a.capabilities, ','), a.adapter_version"
    " FROM rk_adapter a JOIN rk_tenant t ON t.id = a.tenant_id WHERE a.state = 'active'";

/* Idempotency keys are kept at least 24 hours (proto/README.md); a week is generous. */
static const char sql_prune[] =
    "DELETE FROM rk_adapter_request WHERE created_at < now() - interval '7 days'";

typedef struct refresh {
    rk_federation_t *federation;
    uint64_t generation; /* the registry's generation when the query was sent */
} refresh_t;

/* --- the registry ------------------------------------------------------------------------- */

static void adapter_free(rk_federation_adapter_t *a)
{
    if (!a)
        return;
    rk_rpc_channel_free(a->channel);
    free(a->tenant_code);
    free(a->tenant_slug);
    free(a->name);
    free(a->endpoint);
    free(a->ca_pem);
    free(a->pinned_sha256);
    free(a->tls_server_name);
    free(a->adapter_version);
    free(a);
}

static char *copy_or_null(const char *s)
{
    return s && *s ? rk_xstrdup(s) : NULL;
}

static rk_federation_adapter_t *adapter_copy(const rk_federation_adapter_t *from)
{
    rk_federation_adapter_t *a = rk_xcalloc(1, sizeof(*a));
    a->id = from->id;
    a->revision = from->revision;
    a->tenant_id = from->tenant_id;
    a->tenant_code = rk_xstrdup(from->tenant_code);
    a->tenant_slug = rk_xstrdup(from->tenant_slug);
    a->name = rk_xstrdup(from->name);
    a->endpoint = rk_xstrdup(from->endpoint);
    a->ca_pem = copy_or_null(from->ca_pem);
    a->pinned_sha256 = copy_or_null(from->pinned_sha256);
    a->tls_server_name = rk_xstrdup(from->tls_server_name ? from->tls_server_name : "");
    a->capabilities = from->capabilities;
    a->adapter_version = rk_xstrdup(from->adapter_version ? from->adapter_version : "");
    return a;
}

/* The index of the entry with this id, or -1. Entries may be NULL while apply_rows() runs. */
static ssize_t registry_index(const rk_federation_t *fed, int64_t id)
{
    for (size_t i = 0; i < fed->n_adapters; i++) {
        if (fed->adapters[i] && fed->adapters[i]->id == id)
            return (ssize_t)i;
    }
    return -1;
}

/* Puts a (owned) in place of the entry with its id, or appends it. */
static void registry_set(rk_federation_t *fed, rk_federation_adapter_t *a)
{
    ssize_t i = registry_index(fed, a->id);
    if (i >= 0) {
        adapter_free(fed->adapters[i]);
        fed->adapters[i] = a;
        return;
    }
    if (fed->n_adapters == fed->adapters_cap) {
        fed->adapters_cap = fed->adapters_cap ? fed->adapters_cap * 2 : 16;
        fed->adapters = rk_xrealloc(fed->adapters, fed->adapters_cap * sizeof(*fed->adapters));
    }
    fed->adapters[fed->n_adapters++] = a;
}

static void registry_remove_at(rk_federation_t *fed, size_t i)
{
    adapter_free(fed->adapters[i]);
    fed->adapters[i] = fed->adapters[--fed->n_adapters];
}

void rk_federation_registry_put(rk_federation_t *fed, const rk_federation_adapter_t *adapter,
                                rk_rpc_channel_t *channel)
{
    rk_federation_adapter_t *a = adapter_copy(adapter);
    a->channel = channel;
    registry_set(fed, a);
    fed->generation++;
}

void rk_federation_registry_drop(rk_federation_t *fed, int64_t id)
{
    ssize_t i = registry_index(fed, id);
    if (i >= 0)
        registry_remove_at(fed, (size_t)i);
    fed->generation++;
}

const rk_federation_adapter_t *rk_federation_find(const rk_federation_t *fed, const char *tenant,
                                                  const char *name)
{
    for (size_t i = 0; fed && i < fed->n_adapters; i++) {
        const rk_federation_adapter_t *a = fed->adapters[i];
        if (strcmp(a->name, name) == 0 &&
            (strcmp(a->tenant_slug, tenant) == 0 || strcmp(a->tenant_code, tenant) == 0))
            return a;
    }
    return NULL;
}

size_t rk_federation_count(const rk_federation_t *fed)
{
    return fed ? fed->n_adapters : 0;
}

const rk_federation_adapter_t *rk_federation_adapter_at(const rk_federation_t *fed, size_t index)
{
    return fed && index < fed->n_adapters ? fed->adapters[index] : NULL;
}

/* --- channels ----------------------------------------------------------------------------- */

rk_rpc_channel_t *rk_federation_channel_new(rk_federation_t *fed,
                                            const rk_federation_adapter_t *adapter,
                                            int connect_timeout_ms, char *why, size_t why_len)
{
    unsigned char pin[32];
    char pin_hex[65];
    rk_rpc_channel_options_t options = {
        .target = adapter->endpoint,
        .tls = fed->tls,
        .connect_timeout_ms = connect_timeout_ms,
        .max_message_bytes = (size_t)fed->app->cfg->message_bytes,
    };
    if (strncmp(adapter->endpoint, "https://", 8) == 0) {
        if (adapter->pinned_sha256 && *adapter->pinned_sha256) {
            if (rk_federation_pin_parse(adapter->pinned_sha256, pin, pin_hex) != RK_OK) {
                snprintf(why, why_len, "pinned_cert_sha256: not a SHA-256 in hex");
                return NULL;
            }
            options.pinned_sha256 = pin;
        } else if (adapter->ca_pem && *adapter->ca_pem) {
            options.ca_pem = adapter->ca_pem;
        }
        if (adapter->tls_server_name && *adapter->tls_server_name)
            options.server_name = adapter->tls_server_name;
    }
    return rk_rpc_channel_new(fed->app->base, &options, why, why_len);
}

/* --- refresh from PostgreSQL -------------------------------------------------------------- */

static int64_t int_at(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Reconciles the registry with the active rows (see the file comment). */
static void apply_rows(rk_federation_t *fed, const PGresult *r)
{
    size_t n = (size_t)PQntuples(r), m = 0, changed = 0, dropped = 0;
    rk_federation_adapter_t **next = rk_xcalloc(n + 1, sizeof(*next));
    for (size_t row = 0; row < n; row++) {
        int i = (int)row;
        rk_federation_adapter_t fresh = {
            .id = int_at(r, i, 0),
            .revision = int_at(r, i, 1),
            .tenant_id = int_at(r, i, 2),
            .tenant_code = PQgetvalue(r, i, 3),
            .tenant_slug = PQgetvalue(r, i, 4),
            .name = PQgetvalue(r, i, 5),
            .endpoint = PQgetvalue(r, i, 6),
            .ca_pem = PQgetvalue(r, i, 7),
            .pinned_sha256 = PQgetvalue(r, i, 8),
            .tls_server_name = PQgetvalue(r, i, 9),
            .capabilities = rk_federation_capability_list_parse(PQgetvalue(r, i, 10)),
            .adapter_version = PQgetvalue(r, i, 11),
        };
        ssize_t old = registry_index(fed, fresh.id);
        if (old >= 0 && fed->adapters[old]->revision == fresh.revision) {
            next[m++] = fed->adapters[old]; /* unchanged: keeps its channel */
            fed->adapters[old] = NULL;
            continue;
        }
        char why[512] = "";
        rk_rpc_channel_t *channel = rk_federation_channel_new(fed, &fresh, 0, why, sizeof(why));
        if (!channel) {
            rk_log_error("adapter channel cannot be made", "{s:s, s:s, s:s}", "tenant",
                         fresh.tenant_slug, "adapter", fresh.name, "error", why);
            continue;
        }
        rk_federation_adapter_t *a = adapter_copy(&fresh);
        a->channel = channel;
        next[m++] = a;
        changed++;
    }
    for (size_t i = 0; i < fed->n_adapters; i++) {
        if (fed->adapters[i]) {
            adapter_free(fed->adapters[i]);
            dropped++;
        }
    }
    free(fed->adapters);
    fed->adapters = next;
    fed->n_adapters = m;
    fed->adapters_cap = n + 1;
    if (changed || dropped)
        rk_log_info("adapter registry changed", "{s:I, s:I, s:I}", "active", (json_int_t)m,
                    "new_or_changed", (json_int_t)changed, "dropped", (json_int_t)dropped);
}

static void arm_refresh(rk_federation_t *fed)
{
    /* Until the first load is in, retry quickly: the pool may still be connecting. */
    int ms = fed->loaded ? fed->app->cfg->federation_refresh_ms : 100;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(fed->refresh_timer, &tv);
}

/* Refreshes as soon as possible: now, or right after the refresh in flight. */
static void refresh_soon(rk_federation_t *fed)
{
    if (fed->closing)
        return;
    if (fed->refreshing) {
        fed->refresh_again = 1;
        return;
    }
    event_del(fed->refresh_timer);
    event_active(fed->refresh_timer, EV_TIMEOUT, 0);
}

static void refresh_result(const rk_store_result_t *res, void *arg)
{
    refresh_t *r = arg;
    rk_federation_t *fed = r->federation;
    int stale = r->generation != fed->generation;
    fed->refreshing = 0;
    if (res->status == RK_OK && res->n_results == 1) {
        if (!stale) {
            apply_rows(fed, res->results[0]);
            if (!fed->loaded)
                rk_log_info("adapter registry loaded", "{s:I}", "active",
                            (json_int_t)fed->n_adapters);
            fed->loaded = 1;
        }
    } else if (res->status == RK_EINVAL) {
        rk_log_error("reading the adapter registry failed", "{s:s}", "error", res->error);
    }
    free(r);
    if (fed->closing)
        return;
    if (fed->refresh_again || (stale && res->status == RK_OK)) {
        fed->refresh_again = 0;
        refresh_soon(fed);
    } else {
        arm_refresh(fed);
    }
}

static void adapter_changed_cb(const char *channel, const char *payload, void *arg)
{
    (void)channel;
    (void)payload; /* the id: a whole refresh costs one small query and keeps one code path */
    refresh_soon(arg);
}

/* LISTEN is in effect (again): what changed while it was not went unannounced. */
static void listening_cb(const char *channel, void *arg)
{
    (void)channel;
    refresh_soon(arg);
}

static void prune_result(const rk_store_result_t *res, void *arg)
{
    (void)arg;
    if (res->status == RK_EINVAL)
        rk_log_error("removing expired idempotency keys failed", "{s:s}", "error", res->error);
}

static void refresh_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_federation_t *fed = arg;
    if (fed->refreshing || fed->closing)
        return;
    refresh_t *r = rk_xcalloc(1, sizeof(*r));
    r->federation = fed;
    r->generation = fed->generation;
    if (rk_store_exec(fed->app->store, STMT_ACTIVE, 0, NULL, refresh_result, r) != RK_AGAIN) {
        free(r);
        arm_refresh(fed);
        return;
    }
    fed->refreshing = 1;
    uint64_t now = rk_now_ns();
    if (fed->loaded && now - fed->pruned_at_ns > PRUNE_EVERY_NS &&
        rk_store_exec(fed->app->store, STMT_PRUNE, 0, NULL, prune_result, NULL) == RK_AGAIN)
        fed->pruned_at_ns = now;
}

/* --- start-up and shutdown ---------------------------------------------------------------- */

/* Reads federation.ca_file (or the system's CAs) and the hub's client certificate once, into
 * the store and identity every channel shares: a wrong path stops start-up with the key
 * named, and no channel reads a file on the loop. Without federation.ca_file a missing
 * system store only warns: adapters with a registered CA or pin do not need it. */
static int load_tls(rk_federation_t *fed, const rk_config_t *cfg, char *why, size_t why_len)
{
    char reason[512];
    fed->tls = rk_rpc_client_tls_new();
    uint64_t started = rk_now_ns();
    if (rk_rpc_client_tls_load_ca(fed->tls, cfg->federation_ca_file, reason, sizeof(reason)) !=
        RK_OK) {
        if (*cfg->federation_ca_file) {
            snprintf(why, why_len, "config: federation.ca_file: %s", reason);
            return RK_EINVAL;
        }
        rk_log_warn("no system CA store for https adapters", "{s:s}", "error", reason);
    }
    if (*cfg->federation_client_cert_file &&
        rk_rpc_client_tls_load_identity(fed->tls, cfg->federation_client_cert_file,
                                        cfg->federation_client_key_file, reason,
                                        sizeof(reason)) != RK_OK) {
        snprintf(why, why_len,
                 "config: federation.client_cert_file, federation.client_key_file: %s", reason);
        return RK_EINVAL;
    }
    rk_log_info("adapter TLS material loaded", "{s:s, s:b, s:I}", "ca",
                *cfg->federation_ca_file ? cfg->federation_ca_file : "system", "client_cert",
                *cfg->federation_client_cert_file != '\0', "ms",
                (json_int_t)((rk_now_ns() - started) / 1000000u));
    return RK_OK;
}

int rk_federation_register(rk_app_t *app, rk_router_t *router, char *why, size_t why_len)
{
    rk_federation_t *fed = rk_xcalloc(1, sizeof(*fed));
    fed->app = app;
    app->federation = fed;
    if (load_tls(fed, app->cfg, why, why_len) != RK_OK)
        return RK_EINVAL;
    rk_store_prepare(app->store, STMT_ACTIVE, sql_active);
    rk_store_prepare(app->store, STMT_PRUNE, sql_prune);
    rk_federation_admin_register(fed, router);
    fed->refresh_timer = evtimer_new(app->base, refresh_cb, fed);
    struct timeval soon = {0, 1000};
    evtimer_add(fed->refresh_timer, &soon);
    rk_store_options_t listen_options = {
        .conninfo = app->cfg->store_conninfo,
        .reconnect_max_ms = app->cfg->store_reconnect_max_ms,
        .connect_timeout_ms = LISTEN_CONNECT_TIMEOUT_MS,
    };
    fed->listener = rk_store_listener_new(app->base, &listen_options);
    rk_store_listen(fed->listener, NOTIFY_CHANNEL, adapter_changed_cb, listening_cb, fed);
    rk_store_listener_start(fed->listener);
    return RK_OK;
}

void rk_federation_free(rk_federation_t *fed)
{
    if (!fed)
        return;
    fed->closing = 1;
    rk_store_listener_free(fed->listener);
    rk_federation_probe_free_all(fed);
    rk_federation_admin_free(fed);
    for (size_t i = 0; i < fed->n_adapters; i++)
        adapter_free(fed->adapters[i]);
    free(fed->adapters);
    if (fed->refresh_timer)
        event_free(fed->refresh_timer);
    rk_rpc_client_tls_free(fed->tls);
    free(fed);
}

const char *rk_federation_idempotency_key(rk_rpc_t *rpc, const char *field)
{
    const char *header = rk_request_header(rk_rpc_request(rpc), "idempotency-key");
    const char *key = field && *field ? field : header;
    const char *why = NULL;
    if (!key)
        why = "idempotency_key: required (the field or the Idempotency-Key header)";
    else if (rk_federation_idempotency_key_check(key) != RK_OK)
        why = "idempotency_key: 1-128 characters of [A-Za-z0-9._:-]";
    else if (header && strcmp(header, key) != 0)
        why = "idempotency_key: differs from the Idempotency-Key header";
    if (why) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, why);
        return NULL;
    }
    return key;
}
