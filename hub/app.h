/*
 * app.h — the hub's shared state, reachable from every handler as req->server->app.
 *
 * One rk_app_t per renkeid process, built in main.c and freed there. Modules keep their own
 * state behind their own pointers here; handlers reach them through rk_app(req).
 */
#ifndef RK_APP_H
#define RK_APP_H

#include "core/config.h"
#include "core/metrics.h"
#include "net/server.h"
#include "store/pool.h"

struct event_base;
struct rk_exchange;
struct rk_facility;
struct rk_federation;
struct rk_identity;
struct rk_library;
struct rk_admin_staff;
struct rk_tenant_cache;

typedef struct rk_app {
    const rk_config_t *cfg;
    struct event_base *base;
    rk_metrics_t *metrics;
    rk_store_t *store;
    rk_server_t *server;
    struct rk_tenant_cache *tenants;
    struct rk_identity *identity;
    struct rk_federation *federation;
    struct rk_facility *facility;
    struct rk_exchange *exchange;
    struct rk_library *library;
    const char *public_url; /* cfg->public_url or http://host:port */
    unsigned worker_index;  /* 0 … server.workers-1; worker 0 runs the periodic jobs */
    /*
     * Verifies a staff member's bearer token for the admin API (set by the identity module;
     * NULL: staff tokens are not accepted): 0 with *staff filled, or -1.
     */
    int (*staff_verify)(const struct rk_app *app, const char *token, struct rk_admin_staff *staff);
} rk_app_t;

static inline rk_app_t *rk_app(const rk_request_t *req)
{
    return (rk_app_t *)req->server->app;
}

#endif
