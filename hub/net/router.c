/*
 * router.c — a route table in registration order: the first route that matches a request wins.
 * Routes with a plain path (every RPC method, about a hundred of them) are also found by hash,
 * so a gRPC call does not scan them all; patterned routes ({name}, a trailing *) are scanned. The
 * table grows while modules register (before the loop runs); route pointers are handed out only
 * after that, when the table no longer moves.
 */
#include "net/router.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct rk_router {
    rk_route_t *routes;
    int n;
    int cap;
    /*
     * Routes whose pattern is a plain path (every RPC method is one), by method and path: an
     * open-addressing table of route index + 1 (0 = empty), twice as large as the routes, rebuilt
     * as routes are added. A hit still yields to an earlier patterned route that matches, so the
     * order of registration decides exactly as the scan does.
     */
    int *literal;
    size_t literal_size;
    rk_metrics_t *metrics;
};

rk_router_t *rk_router_new(rk_metrics_t *metrics)
{
    rk_router_t *r = rk_xcalloc(1, sizeof(*r));
    r->metrics = metrics;
    return r;
}

void rk_router_free(rk_router_t *router)
{
    if (router) {
        free(router->routes);
        free(router->literal);
    }
    free(router);
}

static int is_literal(const char *pattern)
{
    return !strpbrk(pattern, "{*");
}

static size_t literal_hash(const char *method, const char *path)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (const char *p = method; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    h = (h ^ ' ') * 1099511628211u;
    for (const char *p = path; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    return (size_t)h;
}

/* The index of the first literal route for exactly (method, path), or -1. */
static int literal_find(const rk_router_t *router, const char *method, const char *path)
{
    if (!router->literal_size)
        return -1;
    size_t mask = router->literal_size - 1;
    for (size_t slot = literal_hash(method, path) & mask; router->literal[slot];
         slot = (slot + 1) & mask) {
        const rk_route_t *route = &router->routes[router->literal[slot] - 1];
        if (strcmp(route->method, method) == 0 && strcmp(route->pattern, path) == 0)
            return router->literal[slot] - 1;
    }
    return -1;
}

static void literal_rebuild(rk_router_t *router)
{
    size_t size = 16;
    while (size < 2 * (size_t)router->n)
        size *= 2;
    free(router->literal);
    router->literal = rk_xcalloc(size, sizeof(int));
    router->literal_size = size;
    for (int i = 0; i < router->n; i++) {
        const rk_route_t *route = &router->routes[i];
        if (route->method[0] == '*' || !is_literal(route->pattern) ||
            literal_find(router, route->method, route->pattern) >= 0)
            continue; /* the first of equal routes wins, as in the scan */
        size_t slot = literal_hash(route->method, route->pattern) & (size - 1);
        while (router->literal[slot])
            slot = (slot + 1) & (size - 1);
        router->literal[slot] = i + 1;
    }
}

void rk_router_add(rk_router_t *router, const char *method, const char *pattern,
                   rk_handler_fn handler, const char *metrics_name)
{
    rk_router_add_data(router, method, pattern, handler, NULL, metrics_name);
}

void rk_router_add_data(rk_router_t *router, const char *method, const char *pattern,
                        rk_handler_fn handler, const void *data, const char *metrics_name)
{
    if (router->n == router->cap) {
        router->cap = router->cap ? 2 * router->cap : 64;
        router->routes = rk_xrealloc(router->routes, (size_t)router->cap * sizeof(rk_route_t));
    }
    rk_route_t *route = &router->routes[router->n++];
    memset(route, 0, sizeof(*route));
    route->method = method;
    route->pattern = pattern;
    route->handler = handler;
    route->data = data;
    route->metrics_id = rk_metrics_route(router->metrics, metrics_name);
    literal_rebuild(router);
}

void rk_router_limit_body(rk_router_t *router, size_t max_body, rk_handler_fn too_large)
{
    if (router->n) {
        router->routes[router->n - 1].max_body = max_body;
        router->routes[router->n - 1].too_large = too_large;
    }
}

/* Matches path against pattern, capturing {name} segments and a trailing "*". */
static int match_pattern(const char *pattern, const char *path, rk_arena_t *arena,
                         const char *params[RK_REQUEST_MAX_PARAMS])
{
    int n_params = 0;
    const char *p = pattern, *s = path;
    while (*p) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t len = strcspn(s, "/");
            if (!close || len == 0 || n_params == RK_REQUEST_MAX_PARAMS)
                return 0;
            if (arena)
                params[n_params] = rk_arena_strndup(arena, s, len);
            n_params++;
            p = close + 1;
            s += len;
            continue;
        }
        if (*p == '*' && p[1] == '\0') {
            if (n_params == RK_REQUEST_MAX_PARAMS)
                return 0;
            if (arena)
                params[n_params] = rk_arena_strdup(arena, s);
            return 1;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    return *s == '\0';
}

const rk_route_t *rk_router_match(const rk_router_t *router, rk_arena_t *arena, const char *method,
                                  const char *path, const char *params[RK_REQUEST_MAX_PARAMS],
                                  int *path_matched)
{
    *path_matched = 0;
    int hit = literal_find(router, method, path);
    if (hit >= 0) {
        /* Only a patterned route registered before it can take the request from it. */
        for (int i = 0; i < hit; i++) {
            const rk_route_t *route = &router->routes[i];
            if (!is_literal(route->pattern) &&
                (route->method[0] == '*' || strcmp(route->method, method) == 0) &&
                match_pattern(route->pattern, path, arena, params))
                return route;
        }
        return &router->routes[hit];
    }
    for (int i = 0; i < router->n; i++) {
        const rk_route_t *route = &router->routes[i];
        int method_ok = route->method[0] == '*' || strcmp(route->method, method) == 0 ||
                        (strcmp(method, "HEAD") == 0 && strcmp(route->method, "GET") == 0);
        if (!method_ok) {
            if (!*path_matched && match_pattern(route->pattern, path, NULL, params))
                *path_matched = 1;
            continue;
        }
        if (match_pattern(route->pattern, path, arena, params))
            return route;
    }
    return NULL;
}
