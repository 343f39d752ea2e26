/*
 * rpc_test.c — the pure parts of the RPC layer: grpc-timeout parsing, grpc-message
 * percent-encoding, and the Connect names and HTTP statuses of every code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "net/rpc.h"

static void timeouts(void **state)
{
    (void)state;
    uint64_t ns;
    assert_int_equal(rk_rpc_parse_timeout("100m", &ns), RK_OK);
    assert_int_equal(ns, 100000000ull);
    assert_int_equal(rk_rpc_parse_timeout("5S", &ns), RK_OK);
    assert_int_equal(ns, 5000000000ull);
    assert_int_equal(rk_rpc_parse_timeout("2H", &ns), RK_OK);
    assert_int_equal(ns, 7200000000000ull);
    assert_int_equal(rk_rpc_parse_timeout("99999999n", &ns), RK_OK);
    assert_int_equal(ns, 99999999ull);
    assert_int_equal(rk_rpc_parse_timeout("99999999H", &ns), RK_OK); /* clamped, no overflow */
    assert_true(ns > 3600000000000ull);
    const char *bad[] = {"", "m", "100", "100x", "123456789m", "-1m", "1.5S", "10 m"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(rk_rpc_parse_timeout(bad[i], &ns), RK_EINVAL);
}

static void messages(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    assert_string_equal(rk_rpc_encode_message(arena, "plain text"), "plain text");
    assert_string_equal(rk_rpc_encode_message(arena, "100%"), "100%25");
    assert_string_equal(rk_rpc_encode_message(arena, "a\r\nb"), "a%0D%0Ab");
    assert_string_equal(rk_rpc_encode_message(arena, "予約"), "%E4%BA%88%E7%B4%84");
    rk_arena_free(arena);
}

static void codes(void **state)
{
    (void)state;
    assert_string_equal(rk_rpc_code_name(RK_RPC_NOT_FOUND), "not_found");
    assert_int_equal(rk_rpc_code_http_status(RK_RPC_NOT_FOUND), 404);
    assert_string_equal(rk_rpc_code_name(RK_RPC_UNAUTHENTICATED), "unauthenticated");
    assert_int_equal(rk_rpc_code_http_status(RK_RPC_UNAUTHENTICATED), 401);
    assert_int_equal(rk_rpc_code_http_status(RK_RPC_RESOURCE_EXHAUSTED), 429);
    assert_int_equal(rk_rpc_code_http_status(RK_RPC_UNIMPLEMENTED), 501);
    assert_int_equal(rk_rpc_code_http_status(RK_RPC_DEADLINE_EXCEEDED), 504);
    assert_string_equal(rk_rpc_code_name((rk_rpc_code_t)99), "unknown");
    assert_int_equal(rk_rpc_code_http_status((rk_rpc_code_t)99), 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timeouts),
        cmocka_unit_test(messages),
        cmocka_unit_test(codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
