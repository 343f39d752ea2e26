/*
 * secret_text_test.c — the strict base64 decoders and the JWS shape check that stand between
 * untrusted text and cjose (whose decoder aborts the process on some malformed input), and the
 * text forms of random values and digests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "identity/secret_text.h"

#include <string.h>

static int decodes(const char *text, int url, const char *expected)
{
    rk_arena_t *arena = rk_arena_new();
    unsigned char *out = NULL;
    size_t len = 0;
    int rc = rk_identity_b64_decode(arena, text, strlen(text), url, &out, &len);
    int ok = rc == RK_OK && expected && len == strlen(expected) && memcmp(out, expected, len) == 0;
    rk_arena_free(arena);
    return expected ? ok : rc == RK_EINVAL;
}

static void standard_base64(void **state)
{
    (void)state;
    assert_true(decodes("YWJjOmRlZg==", 0, "abc:def"));
    assert_true(decodes("YWJjOmRlZmc=", 0, "abc:defg"));
    assert_true(decodes("YWJj", 0, "abc"));
    assert_true(decodes("", 0, ""));
    assert_true(decodes("AAAAA===", 0, NULL));     /* aborts cjose: refused here */
    assert_true(decodes("YWJj=mRl", 0, NULL));     /* padding inside */
    assert_true(decodes("YWJjOmRlZg", 0, NULL));   /* unpadded */
    assert_true(decodes("YWJjOmRlZh==", 0, NULL)); /* stray bits: not canonical */
    assert_true(decodes("YW Jj", 0, NULL));
    assert_true(decodes("YW_j", 0, NULL)); /* url alphabet */
}

static void base64url(void **state)
{
    (void)state;
    assert_true(decodes("YWJjOmRlZg", 1, "abc:def"));
    assert_true(decodes("-_-_", 1, "\xfb\xff\xbf"));
    assert_true(decodes("YWJjOmRlZg==", 1, NULL)); /* no padding in base64url */
    assert_true(decodes("AAAAA", 1, NULL));        /* length 1 mod 4 */
    assert_true(decodes("YW+j", 1, NULL));
    assert_true(rk_identity_b64url_ok("abcd-A", 6));
    assert_false(rk_identity_b64url_ok("abcde", 5));
    assert_false(rk_identity_b64url_ok("ab=", 3));
    assert_true(rk_identity_b64url_ok("AA", 2));
    assert_false(rk_identity_b64url_ok("AB", 2)); /* stray bits: one byte has one spelling */
}

static void jws_shape(void **state)
{
    (void)state;
    const char *good = "eyJhbGciOiJFUzI1NiJ9.e30.AAAA";
    assert_true(rk_identity_jws_shape_ok(good, strlen(good)));
    assert_true(rk_identity_jws_shape_ok("eyJ9.e30.", 9)); /* empty signature */
    static const char *const bad[] = {
        "AAAAA===.e30.AAAA", "eyJ9.AAAAA.AAAA", "eyJ9.e30",       "eyJ9.e30.AA.AA",
        ".e30.AAAA",         "eyJ9..AAAA",      "eyJ9.e3 0.AAAA", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(rk_identity_jws_shape_ok(bad[i], strlen(bad[i])));
}

static void text_forms(void **state)
{
    (void)state;
    char out[RK_IDENTITY_SHA256_TEXT_LEN + 1], hex[65];
    rk_identity_sha256_text("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", 43, out);
    assert_string_equal(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"); /* RFC 7636 B */
    rk_identity_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char a[RK_IDENTITY_B64_LEN(32) + 1], b[RK_IDENTITY_B64_LEN(32) + 1];
    assert_int_equal(rk_identity_random_text(a, 32), RK_OK);
    assert_int_equal(rk_identity_random_text(b, 32), RK_OK);
    assert_int_equal(strlen(a), 43);
    assert_true(rk_identity_b64url_ok(a, strlen(a)));
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(standard_base64),
        cmocka_unit_test(base64url),
        cmocka_unit_test(jws_shape),
        cmocka_unit_test(text_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
