/*
 * isbn_test.c — unit tests for hub/library/isbn.c: ISBN-13 and ISBN-10 check digits, ISBN-10
 * converted to ISBN-13, hyphens, spaces and an "ISBN" prefix accepted, everything else refused.
 */
#include "core/error.h"
#include "library/isbn.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void expect_isbn(const char *text, const char *want)
{
    char out[14];
    assert_int_equal(rk_isbn_normalize(text, out), RK_OK);
    assert_string_equal(out, want);
}

static void expect_refused(const char *text)
{
    char out[14] = "x";
    assert_int_equal(rk_isbn_normalize(text, out), RK_EINVAL);
    assert_string_equal(out, "");
}

static void check_digits(void **state)
{
    (void)state;
    assert_int_equal(rk_isbn13_check_digit("978410101001"), '4'); /* 新潮文庫 こころ */
    assert_int_equal(rk_isbn13_check_digit("978030640615"), '7');
    assert_int_equal(rk_isbn10_check_digit("410101001"), '3');
    assert_int_equal(rk_isbn10_check_digit("080442957"), 'X');
    assert_int_equal(rk_isbn10_check_digit("030640615"), '2');
}

static void thirteen_digits(void **state)
{
    (void)state;
    expect_isbn("9784101010014", "9784101010014");
    expect_isbn("978-4-10-101001-4", "9784101010014");
    expect_isbn("978 4 10 101001 4", "9784101010014");
    expect_isbn("978\xe3\x80\x80"
                "4101010014",
                "9784101010014"); /* U+3000 */
    expect_isbn("ISBN 978-4-10-101001-4", "9784101010014");
    expect_isbn("isbn:9784101010014", "9784101010014");
    expect_isbn("9791234567896", "9791234567896");                      /* the 979 prefix */
    expect_isbn("９７８ー４ー１０ー１０１００１ー４", "9784101010014"); /* full-width, ー */
    expect_isbn("978－4－10－101001－4", "9784101010014");              /* full-width hyphens */
}

static void ten_digits_become_thirteen(void **state)
{
    (void)state;
    expect_isbn("4101010013", "9784101010014");
    expect_isbn("4-10-101001-3", "9784101010014");
    expect_isbn("0-306-40615-2", "9780306406157");
    expect_isbn("080442957X", "9780804429573");
    expect_isbn("0-8044-2957-x", "9780804429573");
    expect_isbn("080442957Ｘ", "9780804429573");
}

static void invalid_ones_refused(void **state)
{
    (void)state;
    expect_refused("");
    expect_refused("9784101010015");      /* wrong check digit */
    expect_refused("4101010014");         /* wrong ISBN-10 check digit */
    expect_refused("9774101010014");      /* neither 978 nor 979 */
    expect_refused("978410101001");       /* twelve digits */
    expect_refused("97841010100144");     /* fourteen */
    expect_refused("978410101001X");      /* X in an ISBN-13 */
    expect_refused("X101010013");         /* X not last */
    expect_refused("978-4-10-101001-4a"); /* another character */
    expect_refused("9784101010014 OR 1=1");
    expect_refused("９７８４１０１０１００１５"); /* full-width, wrong check digit */
    expect_refused("978\xe3\x80");                /* a truncated character */
    expect_refused("ISBN");
    char longer[200];
    memset(longer, '-', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    expect_refused(longer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_digits),
        cmocka_unit_test(thirteen_digits),
        cmocka_unit_test(ten_digits_become_thirteen),
        cmocka_unit_test(invalid_ones_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
