/*
 * tenant_store.c — loading tenants into PostgreSQL and serving them (see tenant_store.h).
 *
 * PostgreSQL builds the JSON bodies itself (json_agg), so the shape of the API is written in
 * one place, the SQL below, and the hub only stores and serves the text.
 */
#include "tenancy/tenant_store.h"

#include "admin/admin_auth.h"
#include "admin/admin_reply.h"
#include "core/error.h"
#include "core/log.h"
#include "tenancy/agreement_admin.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_PUBLIC_LIST "tenant_public_list"
#define STMT_ADMIN_LIST "tenant_admin_list"

static const char sql_public_list[] =
    "SELECT json_build_object('tenants', coalesce(json_agg(json_build_object("
    " 'code', code, 'slug', slug,"
    " 'name', json_build_object('ja', name_ja, 'en', name_en, 'kana', name_kana),"
    " 'prefecture', prefecture, 'public_url', public_url,"
    " 'issuer', $1::text || '/t/' || slug) ORDER BY code), '[]'::json))::text"
    " FROM rk_tenant";

static const char sql_admin_list[] =
    "SELECT json_build_object('tenants', coalesce(json_agg(json_build_object("
    " 'code', t.code, 'slug', t.slug,"
    " 'name', json_build_object('ja', t.name_ja, 'en', t.name_en, 'kana', t.name_kana),"
    " 'prefecture', t.prefecture, 'public_url', t.public_url, 'contact', t.contact,"
    " 'issuer', $1::text || '/t/' || t.slug, 'updated_at', t.updated_at,"
    " 'agreements', (SELECT coalesce(json_agg(json_build_object("
    "    'id', a.agreement_key, 'from', f.slug, 'services', a.services,"
    "    'valid_from', a.valid_from, 'valid_until', a.valid_until, 'terms', a.terms,"
    "    'version', a.version, 'origin', a.origin, 'state', a.state) ORDER BY a.agreement_key, f.slug), '[]'::json)"
    "   FROM rk_agreement a JOIN rk_tenant f ON f.id = a.from_tenant_id"
    "   WHERE a.tenant_id = t.id)) ORDER BY t.code), '[]'::json))::text"
    " FROM rk_tenant t";

static const char sql_upsert_tenant[] =
    "INSERT INTO rk_tenant (code, slug, name_ja, name_en, name_kana, prefecture, contact,"
    " public_url, source) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb)"
    " ON CONFLICT (code) DO UPDATE SET slug = EXCLUDED.slug, name_ja = EXCLUDED.name_ja,"
    " name_en = EXCLUDED.name_en, name_kana = EXCLUDED.name_kana,"
    " prefecture = EXCLUDED.prefecture, contact = EXCLUDED.contact,"
    " public_url = EXCLUDED.public_url, source = EXCLUDED.source, updated_at = now()"
    " WHERE rk_tenant.source IS DISTINCT FROM EXCLUDED.source";

static const char sql_upsert_agreement[] =
    "INSERT INTO rk_agreement (tenant_id, agreement_key, from_tenant_id, services, valid_from,"
    " valid_until, terms, origin)"
    " SELECT t.id, $2, f.id, ARRAY(SELECT json_array_elements_text($4::json)), $5::date,"
    "  nullif($6, '')::date, $7::jsonb, 'file'"
    " FROM rk_tenant t, rk_tenant f WHERE t.slug = $1 AND f.slug = $3"
    " ON CONFLICT (tenant_id, agreement_key, from_tenant_id) DO UPDATE SET"
    " services = EXCLUDED.services, valid_from = EXCLUDED.valid_from,"
    " valid_until = EXCLUDED.valid_until, terms = EXCLUDED.terms,"
    " version = rk_agreement.version + 1, updated_at = now()"
    " WHERE (rk_agreement.services, rk_agreement.valid_from, rk_agreement.valid_until,"
    "        rk_agreement.terms)"
    "   IS DISTINCT FROM (EXCLUDED.services, EXCLUDED.valid_from, EXCLUDED.valid_until,"
    "        EXCLUDED.terms)";

/* Removes file-declared agreements that the files no longer declare. $1: JSON array of
 * [provider slug, agreement key, from slug] triples that stay. */
static const char sql_prune_agreements[] =
    "DELETE FROM rk_agreement a USING rk_tenant t, rk_tenant f"
    " WHERE a.origin = 'file' AND t.id = a.tenant_id AND f.id = a.from_tenant_id"
    " AND NOT EXISTS (SELECT 1 FROM json_array_elements($1::json) k"
    "   WHERE k->>0 = t.slug AND k->>1 = a.agreement_key AND k->>2 = f.slug)";

typedef struct rk_tenant_cache {
    rk_app_t *app;
    char *public_json; /* NULL until the first refresh succeeds */
    size_t public_len;
    struct event *timer;
    int refreshing;
} rk_tenant_cache_t;

static int run(PGconn *pg, const char *sql, int n, const char *const *values, char *err,
               size_t err_len, const char *what)
{
    PGresult *r = PQexecParams(pg, sql, n, NULL, values, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(err, err_len, "tenants: %s: %s", what, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? RK_OK : RK_EUNAVAILABLE;
}

static char *dump(json_t *value)
{
    return json_dumps(value ? value : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
}

static int load_tenant(PGconn *pg, const rk_tenant_t *t, char *err, size_t err_len)
{
    char *contact = dump(json_object_get(t->source, "contact"));
    char *source = dump(t->source);
    const char *values[] = {t->code,       t->slug, t->name_ja,    t->name_en, t->name_kana,
                            t->prefecture, contact, t->public_url, source};
    int rc = run(pg, sql_upsert_tenant, 9, values, err, err_len, t->slug);
    free(contact);
    free(source);
    return rc;
}

static int load_agreements(PGconn *pg, const rk_tenant_t *t, json_t *keep, char *err,
                           size_t err_len)
{
    json_t *declared = json_object_get(t->source, "agreements");
    for (size_t i = 0; i < t->n_agreements; i++) {
        const rk_tenant_agreement_t *a = &t->agreements[i];
        json_t *services = json_array();
        for (size_t s = 0; s < a->n_services; s++)
            json_array_append_new(services, json_string(a->services[s]));
        char *services_text = dump(services);
        char *terms_text = dump(json_object_get(json_array_get(declared, i), "terms"));
        int rc = RK_OK;
        for (size_t f = 0; f < a->n_from && rc == RK_OK; f++) {
            const char *values[] = {t->slug,       a->id,          a->from[f], services_text,
                                    a->valid_from, a->valid_until, terms_text};
            rc = run(pg, sql_upsert_agreement, 7, values, err, err_len, a->id);
            json_array_append_new(keep, json_pack("[s,s,s]", t->slug, a->id, a->from[f]));
        }
        free(services_text);
        free(terms_text);
        json_decref(services);
        if (rc != RK_OK)
            return rc;
    }
    return RK_OK;
}

int rk_tenant_store_load(PGconn *pg, const rk_tenant_set_t *set, char *err, size_t err_len)
{
    int rc = run(pg, "BEGIN", 0, NULL, err, err_len, "begin");
    if (rc != RK_OK)
        return rc;
    for (size_t i = 0; i < set->n && rc == RK_OK; i++)
        rc = load_tenant(pg, &set->tenants[i], err, err_len);
    json_t *keep = json_array();
    for (size_t i = 0; i < set->n && rc == RK_OK; i++)
        rc = load_agreements(pg, &set->tenants[i], keep, err, err_len);
    if (rc == RK_OK) {
        char *keep_text = dump(keep);
        const char *values[] = {keep_text};
        rc = run(pg, sql_prune_agreements, 1, values, err, err_len, "pruning agreements");
        free(keep_text);
    }
    json_decref(keep);
    if (rc == RK_OK)
        rc = run(pg, "COMMIT", 0, NULL, err, err_len, "commit");
    if (rc != RK_OK) {
        PQclear(PQexec(pg, "ROLLBACK"));
        return rc;
    }
    rk_log_info("tenants loaded", "{s:I}", "tenants", (json_int_t)set->n);
    return RK_OK;
}

static void arm_refresh(rk_tenant_cache_t *cache)
{
    /* Until the first list is in, retry quickly: the pool may still be connecting. */
    int ms = cache->public_json ? cache->app->cfg->tenants_refresh_ms : 100;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(cache->timer, &tv);
}

static void refresh_result(const rk_store_result_t *res, void *arg)
{
    rk_tenant_cache_t *cache = arg;
    cache->refreshing = 0;
    if (res->status == RK_OK && res->n_results == 1 && PQntuples(res->results[0]) == 1) {
        const char *text = PQgetvalue(res->results[0], 0, 0);
        size_t len = (size_t)PQgetlength(res->results[0], 0, 0);
        if (!cache->public_json || len != cache->public_len ||
            memcmp(cache->public_json, text, len) != 0) {
            free(cache->public_json);
            cache->public_json = rk_xstrndup(text, len);
            cache->public_len = len;
        }
    } else if (res->status != RK_EUNAVAILABLE) {
        rk_log_error("tenant list refresh failed", "{s:s}", "error",
                     res->error ? res->error : "unexpected result");
    }
    arm_refresh(cache);
}

static void refresh_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_tenant_cache_t *cache = arg;
    if (cache->refreshing)
        return;
    const char *values[] = {cache->app->public_url};
    if (rk_store_exec(cache->app->store, STMT_PUBLIC_LIST, 1, values, refresh_result, cache) ==
        RK_AGAIN)
        cache->refreshing = 1;
    else
        arm_refresh(cache);
}

static void public_list(rk_request_t *req)
{
    rk_tenant_cache_t *cache = rk_app(req)->tenants;
    if (!cache->public_json) {
        rk_response_error(req, 503, "unavailable", "the tenant list is not loaded yet");
    } else {
        rk_response_set(req, 200, "application/json", cache->public_json, cache->public_len);
        rk_response_header(req, "cache-control", "public, max-age=60");
    }
    rk_request_finish(req);
}

static void admin_list(rk_request_t *req)
{
    if (!rk_admin_authorize(req))
        return;
    const char *values[] = {rk_app(req)->public_url};
    if (rk_store_exec(rk_app(req)->store, STMT_ADMIN_LIST, 1, values, rk_admin_reply_json_row,
                      req) != RK_AGAIN) {
        rk_response_error(req, 503, "unavailable", "no database connection");
        rk_request_finish(req);
    }
}

void rk_tenant_register(rk_app_t *app, rk_router_t *router)
{
    rk_tenant_cache_t *cache = rk_xcalloc(1, sizeof(*cache));
    cache->app = app;
    cache->timer = evtimer_new(app->base, refresh_cb, cache);
    app->tenants = cache;
    rk_store_prepare(app->store, STMT_PUBLIC_LIST, sql_public_list);
    rk_store_prepare(app->store, STMT_ADMIN_LIST, sql_admin_list);
    rk_router_add(router, "GET", "/api/v1/tenants", public_list, "tenants_public");
    rk_router_add(router, "GET", "/admin/v1/tenants", admin_list, "tenants_admin");
    rk_agreement_admin_register(app, router);
}

int rk_tenant_cache_loaded(const rk_app_t *app)
{
    return app->tenants && app->tenants->public_json != NULL;
}

void rk_tenant_cache_start(rk_app_t *app)
{
    /* The first refresh runs as soon as a connection is up; the timer retries until then. */
    struct timeval soon = {0, 1000};
    evtimer_add(app->tenants->timer, &soon);
}

void rk_tenant_cache_free(struct rk_tenant_cache *cache)
{
    if (!cache)
        return;
    event_free(cache->timer);
    free(cache->public_json);
    free(cache);
}
