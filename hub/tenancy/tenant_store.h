/*
 * tenant_store.h — tenants in PostgreSQL and the tenant endpoints.
 *
 * At start, rk_tenant_store_load() writes the validated tenant files into PostgreSQL in one
 * transaction (all or nothing). While running, the public tenant list is served from a JSON
 * body rebuilt from PostgreSQL every tenants.refresh_ms, so GET /api/v1/tenants costs no query
 * and every hub on the same database converges on the same list.
 *
 * Routes: GET /api/v1/tenants (public: codes, slugs, names, issuers) and GET /admin/v1/tenants
 * (admin token: contacts and agreements too).
 */
#ifndef RK_TENANCY_TENANT_STORE_H
#define RK_TENANCY_TENANT_STORE_H

#include "app.h"
#include "net/router.h"
#include "tenancy/tenant_file.h"

#include <libpq-fe.h>

/**
 * Upserts every tenant of set and its file-declared agreements over a blocking connection
 * (start-up only). An agreement whose terms changed gets its version raised; file-declared
 * agreements no longer in the files are removed. RK_OK or an error with err set.
 */
int rk_tenant_store_load(PGconn *pg, const rk_tenant_set_t *set, char *err, size_t err_len);

/** Builds the cache, registers the routes and prepares their statements. */
void rk_tenant_register(rk_app_t *app, rk_router_t *router);
/** 1 once the tenant list has been read from PostgreSQL (readiness depends on it). */
int rk_tenant_cache_loaded(const rk_app_t *app);
/** Starts the periodic refresh (after the store has started). */
void rk_tenant_cache_start(rk_app_t *app);
void rk_tenant_cache_free(struct rk_tenant_cache *cache);

#endif
