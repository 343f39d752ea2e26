/*
 * router_test.c — route matching: literal paths, {param} segments, trailing wildcards, HEAD
 * served by GET routes, and 405 against 404.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(matching)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
