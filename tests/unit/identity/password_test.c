/*
 * password_test.c — hub/identity/password.c: the policy and its messages; argon2id hashes
 * with the OWASP parameters and fresh salts; verification of right, wrong and tampered
 * input; refusal of argon2i/argon2d strings and of costs out of bounds; the dummy
 * verification takes the time of a real one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "identity/password.h"

#include <argon2.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define GOOD "correct horse battery staple"

static void expect_policy(const char *password, size_t len, const char *message)
{
    const char *why = NULL;
    int rc = rk_identity_password_policy(password, len, &why);
    if (!message) {
        assert_int_equal(rc, RK_OK);
        return;
    }
    assert_int_equal(rc, RK_EINVAL);
    assert_non_null(why);
    assert_string_equal(why, message);
}

static void policy_names_each_rule(void **state)
{
    (void)state;
    char long_text[RK_IDENTITY_PASSWORD_MAX + 1];
    memset(long_text, 'a', sizeof(long_text));
    expect_policy(NULL, 0, "password: must be at least 8 bytes");
    expect_policy("1234567", 7, "password: must be at least 8 bytes");
    expect_policy("12345678", 8, NULL);
    expect_policy(long_text, RK_IDENTITY_PASSWORD_MAX, NULL);
    expect_policy(long_text, RK_IDENTITY_PASSWORD_MAX + 1, "password: must be at most 256 bytes");
    /* Multi-byte UTF-8 counts bytes: 4 × 2 bytes is long enough. */
    expect_policy("p\xc3\xa4ss w\xc3\xb6rd \xf0\x9f\x94\x91", 16, NULL);
    expect_policy("\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4", 8, NULL);
    const char *bad_utf8[] = {
        "password\xff",           /* not a lead byte */
        "password\xc3",           /* truncated */
        "pass\xc0\xafword",       /* overlong '/' */
        "pass\xe0\x80\xafword",   /* overlong, three bytes */
        "pass\xed\xa0\x80word",   /* a surrogate */
        "pass\xf4\x90\x80\x80wd", /* above U+10FFFF */
        "pass\xc3word",           /* lead byte without its continuation */
    };
    for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++)
        expect_policy(bad_utf8[i], strlen(bad_utf8[i]), "password: must be valid UTF-8");
    expect_policy("pass\tword", 9, "password: must not contain control characters");
    expect_policy("password\n", 9, "password: must not contain control characters");
    expect_policy("pass\x7fword", 9, "password: must not contain control characters");
    expect_policy("pass\xc2\x85word", 10, "password: must not contain control characters");
    expect_policy("pass\0word", 9, "password: must not contain control characters");
}

static void hashes_with_owasp_parameters_and_fresh_salts(void **state)
{
    (void)state;
    char a[RK_IDENTITY_PASSWORD_HASH_MAX], b[RK_IDENTITY_PASSWORD_HASH_MAX];
    assert_int_equal(rk_identity_password_hash(GOOD, strlen(GOOD), a), RK_OK);
    assert_int_equal(rk_identity_password_hash(GOOD, strlen(GOOD), b), RK_OK);
    const char *prefix = "$argon2id$v=19$m=19456,t=2,p=1$";
    assert_int_equal(strncmp(a, prefix, strlen(prefix)), 0);
    /* 16-byte salt and 32-byte tag in unpadded base64: 22 and 43 characters. */
    const char *salt = a + strlen(prefix);
    const char *tag = strchr(salt, '$');
    assert_non_null(tag);
    assert_int_equal(tag - salt, 22);
    assert_int_equal(strlen(tag + 1), 43);
    assert_int_equal(strlen(a), strlen(b));
    assert_string_not_equal(a, b);
    assert_int_equal(rk_identity_password_verify(a, GOOD, strlen(GOOD)), 1);
    assert_int_equal(rk_identity_password_verify(b, GOOD, strlen(GOOD)), 1);
}

static void hash_refuses_what_the_policy_refuses(void **state)
{
    (void)state;
    char out[RK_IDENTITY_PASSWORD_HASH_MAX];
    char long_text[RK_IDENTITY_PASSWORD_MAX + 1];
    memset(long_text, 'a', sizeof(long_text));
    assert_int_equal(rk_identity_password_hash("short", 5, out), RK_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(rk_identity_password_hash(long_text, sizeof(long_text), out), RK_EINVAL);
    assert_int_equal(rk_identity_password_hash("pass\nword", 9, out), RK_EINVAL);
}

static void verifies_right_and_wrong(void **state)
{
    (void)state;
    char hash[RK_IDENTITY_PASSWORD_HASH_MAX];
    assert_int_equal(rk_identity_password_hash(GOOD, strlen(GOOD), hash), RK_OK);
    assert_int_equal(rk_identity_password_verify(hash, GOOD, strlen(GOOD)), 1);
    assert_int_equal(rk_identity_password_verify(hash, "correct horse battery stapleX", 29), 0);
    assert_int_equal(rk_identity_password_verify(hash, "Correct horse battery staple", 28), 0);
    /* A prefix is not the password: the length is part of what is hashed. */
    assert_int_equal(rk_identity_password_verify(hash, GOOD, strlen(GOOD) - 1), 0);
    assert_int_equal(rk_identity_password_verify(hash, "", 0), 0);
    assert_int_equal(rk_identity_password_verify(hash, NULL, 0), 0);
    char long_text[RK_IDENTITY_PASSWORD_MAX + 1];
    memset(long_text, 'a', sizeof(long_text));
    assert_int_equal(rk_identity_password_verify(hash, long_text, sizeof(long_text)), 0);
}

static void tampered_hashes_do_not_verify(void **state)
{
    (void)state;
    char hash[RK_IDENTITY_PASSWORD_HASH_MAX], copy[RK_IDENTITY_PASSWORD_HASH_MAX];
    assert_int_equal(rk_identity_password_hash(GOOD, strlen(GOOD), hash), RK_OK);
    size_t len = strlen(hash);
    char *salt = strchr(hash + strlen("$argon2id$v=19$m=19456,t=2,p=1"), '$') + 1;

    memcpy(copy, hash, sizeof(copy));
    copy[len - 2] = copy[len - 2] == 'A' ? 'B' : 'A'; /* the tag */
    assert_int_equal(rk_identity_password_verify(copy, GOOD, strlen(GOOD)), 0);

    memcpy(copy, hash, sizeof(copy));
    copy[salt - hash] = copy[salt - hash] == 'A' ? 'B' : 'A'; /* the salt */
    assert_int_equal(rk_identity_password_verify(copy, GOOD, strlen(GOOD)), 0);

    memcpy(copy, hash, sizeof(copy));
    memcpy(copy + strlen("$argon2id$v=19$m=19456,t="), "3", 1); /* the cost */
    assert_int_equal(rk_identity_password_verify(copy, GOOD, strlen(GOOD)), 0);

    memcpy(copy, hash, sizeof(copy));
    copy[len - 10] = '\0'; /* a shorter tag */
    assert_int_not_equal(rk_identity_password_verify(copy, GOOD, strlen(GOOD)), 1);

    memcpy(copy, hash, sizeof(copy));
    copy[len - 5] = '!'; /* not base64 */
    assert_int_equal(rk_identity_password_verify(copy, GOOD, strlen(GOOD)), RK_EINVAL);
}

static void refuses_other_variants_and_costs(void **state)
{
    (void)state;
    const unsigned char salt[16] = "0123456789abcdef";
    char encoded[RK_IDENTITY_PASSWORD_HASH_MAX];

    assert_int_equal(argon2i_hash_encoded(2, 19456, 1, GOOD, strlen(GOOD), salt, 16, 32, encoded,
                                          sizeof(encoded)),
                     ARGON2_OK);
    assert_int_equal(rk_identity_password_verify(encoded, GOOD, strlen(GOOD)), RK_EINVAL);
    assert_int_equal(argon2d_hash_encoded(2, 19456, 1, GOOD, strlen(GOOD), salt, 16, 32, encoded,
                                          sizeof(encoded)),
                     ARGON2_OK);
    assert_int_equal(rk_identity_password_verify(encoded, GOOD, strlen(GOOD)), RK_EINVAL);

    /* Cheaper argon2id parameters are within bounds: such a string verifies. */
    assert_int_equal(
        argon2id_hash_encoded(1, 64, 1, GOOD, strlen(GOOD), salt, 16, 32, encoded, sizeof(encoded)),
        ARGON2_OK);
    assert_int_equal(rk_identity_password_verify(encoded, GOOD, strlen(GOOD)), 1);
    const char *tail = strchr(encoded + strlen("$argon2id$v=19$"), '$');

    const char *refused[] = {
        "$argon2id$v=19$m=1048577,t=1,p=1", /* more than 1 GiB */
        "$argon2id$v=19$m=99999999999,t=1,p=1",
        "$argon2id$v=19$m=64,t=11,p=1",
        "$argon2id$v=19$m=64,t=0,p=1",
        "$argon2id$v=19$m=64,t=1,p=5",
        "$argon2id$v=19$m=64,t=1,p=0",
        "$argon2id$v=16$m=64,t=1,p=1",
        "$argon2id$m=64,t=1,p=1",
        "$argon2id$v=19$t=1,m=64,p=1",
        "$argon2id$v=19$m=64,t=1,p=1,k=1",
        "$argon2id$v=19$m=-64,t=1,p=1",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char text[RK_IDENTITY_PASSWORD_HASH_MAX * 2];
        snprintf(text, sizeof(text), "%s%s", refused[i], tail);
        if (rk_identity_password_verify(text, GOOD, strlen(GOOD)) != RK_EINVAL)
            fail_msg("'%s' was not refused", text);
    }
    assert_int_equal(rk_identity_password_verify(NULL, GOOD, strlen(GOOD)), RK_EINVAL);
    assert_int_equal(rk_identity_password_verify("", GOOD, strlen(GOOD)), RK_EINVAL);
    assert_int_equal(rk_identity_password_verify("not a hash", GOOD, strlen(GOOD)), RK_EINVAL);
    char too_long[RK_IDENTITY_PASSWORD_HASH_MAX + 8];
    snprintf(too_long, sizeof(too_long), "%s%s", "$argon2id$v=19$m=64,t=1,p=1", tail);
    size_t n = strlen(too_long);
    memset(too_long + n, 'A', sizeof(too_long) - n - 1);
    too_long[sizeof(too_long) - 1] = '\0';
    assert_int_equal(rk_identity_password_verify(too_long, GOOD, strlen(GOOD)), RK_EINVAL);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void dummy_takes_the_time_of_a_verification(void **state)
{
    (void)state;
    char hash[RK_IDENTITY_PASSWORD_HASH_MAX];
    assert_int_equal(rk_identity_password_hash(GOOD, strlen(GOOD), hash), RK_OK);
    rk_identity_password_verify_dummy(GOOD, strlen(GOOD)); /* makes the dummy hash */
    /* The fastest of three runs each, so that a busy machine does not decide. */
    double real = 1e9, dummy = 1e9;
    for (int i = 0; i < 3; i++) {
        double start = seconds_now();
        assert_int_equal(rk_identity_password_verify(hash, "wrong password", 14), 0);
        double t = seconds_now() - start;
        real = t < real ? t : real;
        start = seconds_now();
        rk_identity_password_verify_dummy("wrong password", 14);
        t = seconds_now() - start;
        dummy = t < dummy ? t : dummy;
    }
    if (dummy < real / 4 || dummy > real * 4)
        fail_msg("dummy verification took %.1f ms, a real one %.1f ms", dummy * 1e3, real * 1e3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(policy_names_each_rule),
        cmocka_unit_test(hashes_with_owasp_parameters_and_fresh_salts),
        cmocka_unit_test(hash_refuses_what_the_policy_refuses),
        cmocka_unit_test(verifies_right_and_wrong),
        cmocka_unit_test(tampered_hashes_do_not_verify),
        cmocka_unit_test(refuses_other_variants_and_costs),
        cmocka_unit_test(dummy_takes_the_time_of_a_verification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
