/*
 * router_test.c — route matching: literal paths, {param} segments, trailing wildcards, HEAD
 * served by GET routes, and 405 against 404.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>

#include "net/router.h"

static void h1(rk_request_t *req)
{
    (void)req;
}
static void h2(rk_request_t *req)
{
    (void)req;
}
static void h3(rk_request_t *req)
{
    (void)req;
}

static void matching(void **state)
{
    (void)state;
    rk_metrics_t *m = rk_metrics_new();
    rk_router_t *r = rk_router_new(m);
    rk_router_add(r, "GET", "/healthz", h1, "healthz");
    rk_router_add(r, "POST", "/t/{slug}/token", h2, "token");
    rk_router_add(r, "GET", "/static/*", h3, "static");
    rk_arena_t *arena = rk_arena_new();
    const char *params[RK_REQUEST_MAX_PARAMS] = {0};
    int path_matched;

    const rk_route_t *route = rk_router_match(r, arena, "GET", "/healthz", params, &path_matched);
    assert_non_null(route);
    assert_ptr_equal(route->handler, h1);
    route = rk_router_match(r, arena, "HEAD", "/healthz", params, &path_matched);
    assert_non_null(route);

    route = rk_router_match(r, arena, "POST", "/t/chofu/token", params, &path_matched);
    assert_non_null(route);
    assert_ptr_equal(route->handler, h2);
    assert_string_equal(params[0], "chofu");

    assert_null(rk_router_match(r, arena, "GET", "/t/chofu/token", params, &path_matched));
    assert_int_equal(path_matched, 1);
    assert_null(rk_router_match(r, arena, "POST", "/t//token", params, &path_matched));
    assert_int_equal(path_matched, 0);
    assert_null(rk_router_match(r, arena, "GET", "/healthz/", params, &path_matched));
    assert_null(rk_router_match(r, arena, "GET", "/health", params, &path_matched));
    assert_int_equal(path_matched, 0);

    route = rk_router_match(r, arena, "GET", "/static/css/site.css", params, &path_matched);
    assert_non_null(route);
    assert_string_equal(params[0], "css/site.css");

    rk_arena_free(arena);
    rk_router_free(r);
    rk_metrics_free(m);
}

/* Plain paths are found by hash, but registration order still decides, as in a scan. */
static void order_and_many_routes(void **state)
{
    (void)state;
    rk_metrics_t *m = rk_metrics_new();
    rk_router_t *r = rk_router_new(m);
    rk_router_add(r, "POST", "/a/{x}", h1, "first");
    rk_router_add(r, "POST", "/a/b", h2, "shadowed");
    rk_router_add(r, "POST", "/c/d", h2, "plain");
    rk_router_add(r, "POST", "/c/d", h3, "duplicate");
    rk_router_add(r, "GET", "/c/d", h3, "get");
    static char paths[300][16];
    for (int i = 0; i < 300; i++) { /* more than any fixed table held */
        snprintf(paths[i], sizeof(paths[i]), "/svc/m%d", i);
        rk_router_add(r, "POST", paths[i], h3, "many");
    }
    rk_router_add(r, "POST", "/{service}/{method}", h1, "fallback");
    rk_arena_t *arena = rk_arena_new();
    const char *params[RK_REQUEST_MAX_PARAMS] = {0};
    int path_matched;
    assert_ptr_equal(rk_router_match(r, arena, "POST", "/a/b", params, &path_matched)->handler,
                     h1); /* the patterned route came first */
    assert_ptr_equal(rk_router_match(r, arena, "POST", "/c/d", params, &path_matched)->handler,
                     h2); /* the first of two equal routes */
    assert_ptr_equal(rk_router_match(r, arena, "GET", "/c/d", params, &path_matched)->handler, h3);
    for (int i = 0; i < 300; i++)
        assert_ptr_equal(
            rk_router_match(r, arena, "POST", paths[i], params, &path_matched)->handler, h3);
    const rk_route_t *route = rk_router_match(r, arena, "POST", "/svc/m300", params, &path_matched);
    assert_ptr_equal(route->handler, h1); /* not registered: the fallback */
    assert_null(rk_router_match(r, arena, "DELETE", "/c/d", params, &path_matched));
    assert_int_equal(path_matched, 1);
    rk_arena_free(arena);
    rk_router_free(r);
    rk_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(matching),
                                       cmocka_unit_test(order_and_many_routes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
