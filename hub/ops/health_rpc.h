/*
 * health_rpc.h — grpc.health.v1.Health on the hub, for gRPC clients and load balancers.
 *
 * Check("") and Check("grpc.health.v1.Health") answer SERVING when the hub is ready (the same
 * rule as /readyz without the schema query: a database connection up and the tenant list
 * loaded) and NOT_SERVING otherwise or while draining; any other service name is NOT_FOUND,
 * as the health-checking protocol asks. Watch streams the status at once and again whenever
 * it changes (checked every 250 ms), and ends when the client leaves or the hub drains.
 */
#ifndef RK_OPS_HEALTH_RPC_H
#define RK_OPS_HEALTH_RPC_H

#include "app.h"
#include "net/router.h"

void rk_health_rpc_register(rk_app_t *app, rk_router_t *router);

#endif
