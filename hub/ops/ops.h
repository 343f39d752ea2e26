/*
 * ops.h — endpoints for operators and load balancers: /healthz, /readyz, /metrics.
 *
 * /healthz answers 200 while the process runs its loop. /readyz answers 200 only when
 * PostgreSQL answers, its schema is the version this binary expects and the tenant list is
 * loaded, and 503 (with the reason) otherwise or while draining. /metrics is Prometheus text.
 */
#ifndef RK_OPS_H
#define RK_OPS_H

#include "app.h"
#include "net/router.h"

/** Adds the routes and the server's gauges; prepares the statements they use. */
void rk_ops_register(rk_app_t *app, rk_router_t *router);

#endif
