/*
 * health_rpc.c — the gRPC health service (see health_rpc.h).
 */
#include "ops/health_rpc.h"

#include "core/error.h"
#include "grpc/health/v1/health.pb-c.h"
#include "net/rpc.h"
#include "tenancy/tenant_store.h"

#include <event2/event.h>
#include <string.h>

static int serving_status(const rk_app_t *app);

static void check(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Grpc__Health__V1__HealthCheckRequest *in =
        (const Grpc__Health__V1__HealthCheckRequest *)message;
    rk_app_t *app = rk_app(rk_rpc_request(rpc));
    if (in->service[0] && strcmp(in->service, "grpc.health.v1.Health") != 0) {
        rk_rpc_fail(rpc, RK_RPC_NOT_FOUND, "unknown service");
        return;
    }
    int serving =
        !app->server->draining && rk_store_ready(app->store) > 0 && rk_tenant_cache_loaded(app);
    Grpc__Health__V1__HealthCheckResponse out = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    out.status = serving ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
                         : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
    rk_rpc_reply(rpc, &out.base);
}

typedef struct watcher {
    rk_rpc_t *rpc;
    rk_app_t *app;
    struct event *tick;
    int last_status;
} watcher_t;

static int serving_status(const rk_app_t *app)
{
    int serving =
        !app->server->draining && rk_store_ready(app->store) > 0 && rk_tenant_cache_loaded(app);
    return serving ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
                   : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
}

static int send_status(watcher_t *w, int status)
{
    Grpc__Health__V1__HealthCheckResponse out = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    out.status = status;
    w->last_status = status;
    return rk_rpc_send(w->rpc, &out.base);
}

static void watch_end(watcher_t *w)
{
    event_free(w->tick);
    rk_rpc_finish(w->rpc); /* frees w with the request's arena */
}

/* Sends the status again when it changes; ends the stream when the client leaves or the hub
 * drains (a drain must not wait for watchers). */
static void watch_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    watcher_t *w = arg;
    int status = serving_status(w->app);
    if (status != w->last_status && send_status(w, status) != RK_OK) {
        watch_end(w);
        return;
    }
    if (rk_request_client_gone(rk_rpc_request(w->rpc)) || w->app->server->draining) {
        watch_end(w);
        return;
    }
    struct timeval tv = {0, 250000};
    evtimer_add(w->tick, &tv);
}

static void watch(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Grpc__Health__V1__HealthCheckRequest *in =
        (const Grpc__Health__V1__HealthCheckRequest *)message;
    rk_request_t *req = rk_rpc_request(rpc);
    watcher_t *w = rk_arena_calloc(req->arena, 1, sizeof(*w));
    w->rpc = rpc;
    w->app = rk_app(req);
    if (in->service[0] && strcmp(in->service, "grpc.health.v1.Health") != 0) {
        /* The protocol asks for SERVICE_UNKNOWN on the stream, not an error. */
        send_status(w, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN);
        rk_rpc_finish(rpc);
        return;
    }
    w->tick = evtimer_new(w->app->base, watch_tick, w);
    send_status(w, serving_status(w->app));
    struct timeval tv = {0, 250000};
    evtimer_add(w->tick, &tv);
}

static const rk_rpc_method_t health_check = {
    .path = "/grpc.health.v1.Health/Check",
    .input = &grpc__health__v1__health_check_request__descriptor,
    .output = &grpc__health__v1__health_check_response__descriptor,
    .handler = check,
};

static const rk_rpc_method_t health_watch = {
    .path = "/grpc.health.v1.Health/Watch",
    .input = &grpc__health__v1__health_check_request__descriptor,
    .output = &grpc__health__v1__health_check_response__descriptor,
    .handler = watch,
    .server_streaming = 1,
};

void rk_health_rpc_register(rk_app_t *app, rk_router_t *router)
{
    (void)app;
    rk_rpc_register(router, &health_check);
    rk_rpc_register(router, &health_watch);
}
