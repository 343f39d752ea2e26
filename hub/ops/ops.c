/*
 * ops.c — health, readiness and metrics handlers (see ops.h).
 */
#include "ops/ops.h"

#include "core/error.h"
#include "store/migrate.h"
#include "tenancy/tenant_store.h"

#include <event2/buffer.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define STMT_SCHEMA_VERSION "ops_schema_version"

static void healthz(rk_request_t *req)
{
    static const char body[] = "{\"status\":\"ok\"}";
    rk_response_set(req, 200, "application/json", body, sizeof(body) - 1);
    rk_request_finish(req);
}

static void not_ready(rk_request_t *req, const char *reason)
{
    json_t *obj = json_pack("{s:s, s:s}", "status", "unavailable", "reason", reason);
    char *text = json_dumps(obj, JSON_COMPACT);
    rk_response_set(req, 503, "application/json", text, strlen(text));
    rk_response_header(req, "retry-after", "1");
    free(text);
    json_decref(obj);
    rk_request_finish(req);
}

static void readyz_result(const rk_store_result_t *res, void *arg)
{
    rk_request_t *req = arg;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        not_ready(req, "the database did not answer");
        return;
    }
    int version = atoi(PQgetvalue(res->results[0], 0, 0));
    int expected = rk_migrations_latest();
    if (version != expected) {
        char reason[128];
        snprintf(reason, sizeof(reason), "database schema is version %d, this hub needs %d",
                 version, expected);
        not_ready(req, reason);
        return;
    }
    char body[96];
    int n = snprintf(body, sizeof(body), "{\"status\":\"ready\",\"schema_version\":%d}", version);
    rk_response_set(req, 200, "application/json", body, (size_t)n);
    rk_request_finish(req);
}

static void readyz(rk_request_t *req)
{
    rk_app_t *app = rk_app(req);
    if (app->server->draining) {
        not_ready(req, "the hub is shutting down");
        return;
    }
    if (!rk_tenant_cache_loaded(app)) {
        not_ready(req, "the tenant list is not loaded yet");
        return;
    }
    if (rk_store_exec(app->store, STMT_SCHEMA_VERSION, 0, NULL, readyz_result, req) != RK_AGAIN)
        not_ready(req, "no database connection");
}

static void metrics(rk_request_t *req)
{
    rk_metrics_render(rk_app(req)->metrics, req->response_body);
    rk_response_header(req, "content-type", "text/plain; version=0.0.4");
    rk_request_finish(req);
}

static void server_gauges(struct evbuffer *out, void *ctx)
{
    rk_server_t *s = ctx;
    evbuffer_add_printf(out,
                        "# HELP renkei_http_connections Client connections open now.\n"
                        "# TYPE renkei_http_connections gauge\n"
                        "renkei_http_connections %zu\n"
                        "# HELP renkei_http_requests_in_flight Requests with a handler now.\n"
                        "# TYPE renkei_http_requests_in_flight gauge\n"
                        "renkei_http_requests_in_flight %zu\n"
                        "# HELP renkei_http_connections_total Connections accepted or refused "
                        "(limits.max_connections, draining).\n"
                        "# TYPE renkei_http_connections_total counter\n"
                        "renkei_http_connections_total{outcome=\"accepted\"} %llu\n"
                        "renkei_http_connections_total{outcome=\"refused\"} %llu\n",
                        s->n_connections, s->in_flight, (unsigned long long)s->accepted,
                        (unsigned long long)s->refused);
}

void rk_ops_register(rk_app_t *app, rk_router_t *router)
{
    rk_router_add(router, "GET", "/healthz", healthz, "healthz");
    rk_router_add(router, "GET", "/readyz", readyz, "readyz");
    rk_router_add(router, "GET", "/metrics", metrics, "metrics");
    rk_store_prepare(app->store, STMT_SCHEMA_VERSION, RK_SQL_SCHEMA_VERSION);
    rk_metrics_add_source(app->metrics, server_gauges, app->server);
}
