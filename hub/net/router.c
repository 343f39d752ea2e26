/*
 * router.c — a linear route table. The hub has tens of routes, so a scan with early exit on
 * the first differing byte beats anything cleverer and keeps matching order obvious. The table
 * grows while modules register (before the loop runs); route pointers are handed out only
 * after that, when the table no longer moves.
 */
#include "net/router.h"

#include <stdlib.h>
#include <string.h>

struct rk_router {
    rk_route_t *routes;
    int n;
    int cap;
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
    if (router)
        free(router->routes);
    free(router);
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
