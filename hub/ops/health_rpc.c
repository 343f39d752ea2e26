/*
 * health_rpc.c — the gRPC health service (see health_rpc.h).
 */
#include "ops/health_rpc.h"

#include "grpc/health/v1/health.pb-c.h"
#include "net/rpc.h"
#include "tenancy/tenant_store.h"

#include <string.h>

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

static const rk_rpc_method_t health_check = {
    "/grpc.health.v1.Health/Check",
    &grpc__health__v1__health_check_request__descriptor,
    &grpc__health__v1__health_check_response__descriptor,
    check,
};

void rk_health_rpc_register(rk_app_t *app, rk_router_t *router)
{
    (void)app;
    rk_rpc_register(router, &health_check);
}
