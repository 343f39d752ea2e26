/*
 * federation.h — the federation module: the adapters tenants register, and the channels the
 * hub reaches the active ones over.
 *
 * What runs so far (hub/federation/README.md has the design): AdminService's RegisterAdapter,
 * ListAdapters, DisableAdapter, EnableAdapter and RemoveAdapter (adapter_admin.c), the
 * activation probe that lets an adapter in only after Describe and grpc.health.v1 Check
 * succeed and its answers fit the tenant (activation.c, adapter_rules.c), and the registry
 * below: one pooled gRPC channel per active adapter, keyed by tenant and name, for the
 * federation engine (fan-out, breakers, caches) to call through.
 *
 * The registry is rebuilt from rk_adapter at start and re-read whenever PostgreSQL announces
 * a change (a trigger NOTIFYs rk_adapter; the module LISTENs on a connection of its own,
 * store/listen.h), so a change made through any hub on the database reaches every other hub
 * within milliseconds; a poll every federation.refresh_ms is the safety net. The hub that
 * handles an admin call updates its own registry at once. Channels to https adapters verify
 * the adapter with the CA registered for it, its pinned certificate, or federation.ca_file
 * (the system's CAs when unset), and present the hub's client certificate
 * (federation.client_cert_file) for mutual TLS; those files are read once, at start-up, and
 * every channel shares them in memory.
 *
 * main.c registers the module and frees it after the store (store callbacks still in flight
 * at shutdown reach a live module).
 */
#ifndef RK_FEDERATION_FEDERATION_H
#define RK_FEDERATION_FEDERATION_H

#include "app.h"
#include "net/router.h"
#include "net/rpc.h"
#include "net/rpc_client.h"

#include <stddef.h>
#include <stdint.h>

struct event;
struct rk_federation_probe;
struct rk_store_listener;
struct rk_federation_activation;

/** One registered adapter: what the registry keeps for an active one. Strings are owned. */
typedef struct rk_federation_adapter {
    int64_t id;
    int64_t revision; /* rk_adapter.revision: any change to the row raises it */
    int64_t tenant_id;
    char *tenant_code;
    char *tenant_slug;
    char *name;
    char *endpoint;
    char *ca_pem;              /* registered CA certificates, or NULL */
    char *pinned_sha256;       /* registered leaf pin (hex), or NULL */
    char *tls_server_name;     /* "" = the endpoint's host */
    uint32_t capabilities;     /* reported by Describe at activation: bit N = AdapterCapability N */
    char *adapter_version;     /* from Describe */
    rk_rpc_channel_t *channel; /* owned by the registry */
} rk_federation_adapter_t;

typedef struct rk_federation {
    rk_app_t *app;
    rk_federation_adapter_t **adapters; /* the registry: active adapters, unordered */
    size_t n_adapters, adapters_cap;
    rk_rpc_client_tls_t *tls;           /* CA store and client identity, loaded at start */
    struct rk_federation_probe *probes; /* activations in flight */
    struct rk_federation_activation *activations; /* probes and the storing of their outcomes */
    struct rk_store_listener *listener;           /* LISTEN rk_adapter: other hubs' changes */
    struct event *refresh_timer;
    int refreshing;
    int refresh_again;     /* a change was announced while a refresh was in flight */
    uint64_t generation;   /* raised by every admin change: a refresh sent before is stale */
    int loaded;            /* the registry has been read from PostgreSQL once */
    int closing;           /* rk_federation_free() has begun: no new work */
    uint64_t pruned_at_ns; /* last removal of expired idempotency keys */
} rk_federation_t;

/**
 * Sets up the module (app->federation), loads the CA store and the hub's client certificate
 * and key (start-up, blocks), prepares the statements, adds the AdminService adapter
 * methods, starts listening for adapter changes and schedules the first registry load. RK_OK, or
 * RK_EINVAL with why naming the configuration key. On error app->federation may be set: free it
 * with rk_federation_free().
 */
int rk_federation_register(rk_app_t *app, rk_router_t *router, char *why, size_t why_len);

/** Frees the module: activations in flight end, every channel closes. NULL is allowed. */
void rk_federation_free(rk_federation_t *federation);

/**
 * The active adapter name of tenant (slug or code), or NULL. Valid until control returns to
 * the loop (a refresh may replace it).
 */
const rk_federation_adapter_t *rk_federation_find(const rk_federation_t *federation,
                                                  const char *tenant, const char *name);
/** Active adapters now, for iteration with rk_federation_adapter_at(); same validity. */
size_t rk_federation_count(const rk_federation_t *federation);
const rk_federation_adapter_t *rk_federation_adapter_at(const rk_federation_t *federation,
                                                        size_t index);

/* --- for the module's own units ------------------------------------------------------------ */

/**
 * A channel to adapter's endpoint with its trust (registered CA, pin or federation.ca_file)
 * and the hub's client certificate; NULL with why. connect_timeout_ms 0 = the default.
 */
rk_rpc_channel_t *rk_federation_channel_new(rk_federation_t *federation,
                                            const rk_federation_adapter_t *adapter,
                                            int connect_timeout_ms, char *why, size_t why_len);
/**
 * Puts adapter (copied) with channel (taken) into the registry, replacing an entry with the
 * same id. The caller's adapter->channel is ignored.
 */
void rk_federation_registry_put(rk_federation_t *federation, const rk_federation_adapter_t *adapter,
                                rk_rpc_channel_t *channel);
/** Drops the adapter with this id from the registry (closing its channel), if there. */
void rk_federation_registry_drop(rk_federation_t *federation, int64_t id);

/**
 * The idempotency key of a mutating resident call (booking and library brokers): the request's
 * field (`field`, NULL or "" when absent) or its Idempotency-Key header, which must agree when
 * both are given, checked with rk_federation_idempotency_key_check(). NULL after answering
 * INVALID_ARGUMENT naming idempotency_key.
 */
const char *rk_federation_idempotency_key(rk_rpc_t *rpc, const char *field);

#endif
