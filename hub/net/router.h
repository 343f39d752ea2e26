/*
 * router.h — maps (method, path) to a handler.
 *
 * Patterns are literal paths whose segments may be "{name}" (one segment, captured into
 * req->params in order) or end with a "*" segment (any rest, captured as the last param). Routes
 * are matched in the order added; the first match wins. Each route has a metrics label.
 */
#ifndef RK_NET_ROUTER_H
#define RK_NET_ROUTER_H

#include "core/metrics.h"
#include "net/request.h"

typedef void (*rk_handler_fn)(rk_request_t *req);

typedef struct rk_route {
    const char *method; /* "GET", "POST", …; "*" for any */
    const char *pattern;
    rk_handler_fn handler;
    const void *data; /* what the handler needs to know about its route (an RPC method) */
    size_t max_body;  /* request body limit; 0 = limits.body_bytes, or RK_ROUTE_BODY_MESSAGE */
    /* Answers a body over max_body in the route's own protocol: sets the response, and the
     * front end finishes the request. NULL = rk_response_too_large()'s own answer. */
    rk_handler_fn too_large;
    int metrics_id;
} rk_route_t;

typedef struct rk_router rk_router_t;

rk_router_t *rk_router_new(rk_metrics_t *metrics);
void rk_router_free(rk_router_t *router);
/** Adds a route; method and pattern must be string literals or outlive the router. */
void rk_router_add(rk_router_t *router, const char *method, const char *pattern,
                   rk_handler_fn handler, const char *metrics_name);
/** As rk_router_add(), with data the handler reads as req->route->data. */
void rk_router_add_data(rk_router_t *router, const char *method, const char *pattern,
                        rk_handler_fn handler, const void *data, const char *metrics_name);
/** A route whose body is one RPC message: limits.message_bytes plus its 5-byte prefix. */
#define RK_ROUTE_BODY_MESSAGE ((size_t)-1)

/**
 * Gives the route added last its own request body limit (RPC messages are larger) and, unless
 * NULL, its own answer to a body over it (RPC protocols each say RESOURCE_EXHAUSTED their way).
 */
void rk_router_limit_body(rk_router_t *router, size_t max_body, rk_handler_fn too_large);
/**
 * The route for method and path, with captured params stored into params (pointers into
 * arena copies). NULL when nothing matches; *path_matched is then 1 if the path matched
 * under another method (405, not 404).
 */
const rk_route_t *rk_router_match(const rk_router_t *router, rk_arena_t *arena, const char *method,
                                  const char *path, const char *params[RK_REQUEST_MAX_PARAMS],
                                  int *path_matched);

#endif
