/*
 * secret_test.c — constant-time secret comparison gives the right answers, NULL included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/secret.h"

static void equal_and_unequal(void **state)
{
    (void)state;
    assert_true(
        rk_secret_equal("0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"));
    assert_false(
        rk_secret_equal("0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdeF"));
    assert_false(rk_secret_equal("abc", "abcd"));
    assert_false(rk_secret_equal("", "x"));
    assert_true(rk_secret_equal("", ""));
    assert_false(rk_secret_equal(NULL, "x"));
    assert_false(rk_secret_equal("x", NULL));
    assert_false(rk_secret_equal(NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(equal_and_unequal)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
