/*
 * form_test.c — hub/identity/form.c: form-encoded bodies (percent-decoding, '+', empty values,
 * every bound, repeated parameters) and client_secret_basic credentials.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "identity/form.h"

#include <stdio.h>
#include <string.h>

static int parse(rk_arena_t *arena, const char *body, size_t max_value, rk_identity_form_t *form,
                 const char **why)
{
    return rk_identity_form_parse(arena, body, strlen(body), max_value, form, why);
}

static void decodes_parameters(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    rk_identity_form_t form;
    const char *why = NULL;
    assert_int_equal(parse(arena,
                           "grant_type=client_credentials&scope=library.read+facility%2Eread"
                           "&client_id=a%3Ab%25c&&empty=&bare&%73ecret=%E5%B0%8F",
                           256, &form, &why),
                     RK_OK);
    assert_int_equal(form.n, 6);
    assert_string_equal(rk_identity_form_get(&form, "grant_type"), "client_credentials");
    assert_string_equal(rk_identity_form_get(&form, "scope"), "library.read facility.read");
    assert_string_equal(rk_identity_form_get(&form, "client_id"), "a:b%c");
    assert_string_equal(rk_identity_form_get(&form, "secret"), "小");
    /* Sent empty or without '=' means absent (RFC 6749 §3.1). */
    assert_null(rk_identity_form_get(&form, "empty"));
    assert_null(rk_identity_form_get(&form, "bare"));
    assert_null(rk_identity_form_get(&form, "missing"));
    assert_int_equal(parse(arena, "", 256, &form, &why), RK_OK);
    assert_int_equal(form.n, 0);
    /* The body need not be NUL-terminated: only len bytes count. */
    assert_int_equal(rk_identity_form_parse(arena, "a=1&b=2", 3, 16, &form, &why), RK_OK);
    assert_int_equal(form.n, 1);
    assert_string_equal(rk_identity_form_get(&form, "a"), "1");
    rk_arena_free(arena);
}

static void expect_refused(const char *body, size_t max_value, const char *message)
{
    rk_arena_t *arena = rk_arena_new();
    rk_identity_form_t form;
    const char *why = NULL;
    assert_int_equal(parse(arena, body, max_value, &form, &why), RK_EINVAL);
    assert_non_null(why);
    if (strcmp(why, message) != 0)
        fail_msg("for '%s': expected '%s', got '%s'", body, message, why);
    rk_arena_free(arena);
}

static void refuses_bad_input(void **state)
{
    (void)state;
    expect_refused("scope=a&scope=b", 64, "scope: must not be repeated");
    expect_refused("scope=&scope=b", 64, "scope: must not be repeated");
    expect_refused("sc%6Fpe=a&scope=b", 64, "scope: must not be repeated");
    expect_refused("token=abc%", 64, "token: is not valid percent-encoding");
    expect_refused("token=abc%4", 64, "token: is not valid percent-encoding");
    expect_refused("token=abc%zz", 64, "token: is not valid percent-encoding");
    expect_refused("token=a%00b", 64, "token: must not contain a NUL byte");
    expect_refused("na%ZZme=1", 64, "a parameter name is not valid percent-encoding");
    expect_refused("=1", 64, "a parameter has an empty name");
    expect_refused("a%20b=1", 64, "a parameter name must be printable ASCII");
    expect_refused("%FF=1", 64, "a parameter name must be printable ASCII");
    expect_refused("token=12345", 4, "token: must be at most 4 bytes");
    /* The bound is on the decoded value: %41 is one byte. */
    rk_arena_t *arena = rk_arena_new();
    rk_identity_form_t form;
    const char *why = NULL;
    assert_int_equal(parse(arena, "token=%41%42%43%44", 4, &form, &why), RK_OK);
    assert_string_equal(rk_identity_form_get(&form, "token"), "ABCD");

    char name[RK_IDENTITY_FORM_MAX_NAME + 8];
    memset(name, 'n', RK_IDENTITY_FORM_MAX_NAME);
    strcpy(name + RK_IDENTITY_FORM_MAX_NAME, "=1");
    assert_int_equal(parse(arena, name, 4, &form, &why), RK_OK);
    memset(name, 'n', RK_IDENTITY_FORM_MAX_NAME + 1);
    strcpy(name + RK_IDENTITY_FORM_MAX_NAME + 1, "=1");
    expect_refused(name, 4, "a parameter name is longer than 64 bytes");

    char many[RK_IDENTITY_FORM_MAX_PARAMS * 8 + 16] = "";
    for (int i = 0; i < RK_IDENTITY_FORM_MAX_PARAMS; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sp%d=1", i ? "&" : "", i);
    assert_int_equal(parse(arena, many, 4, &form, &why), RK_OK);
    assert_int_equal(form.n, RK_IDENTITY_FORM_MAX_PARAMS);
    strcat(many, "&last=1");
    expect_refused(many, 4, "more than 32 parameters");
    rk_arena_free(arena);
}

static void basic_credentials(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    const char *id = NULL, *secret = NULL, *why = NULL;
    /* base64("client-1:s3cret") */
    assert_int_equal(
        rk_identity_basic_credentials(arena, "Basic Y2xpZW50LTE6czNjcmV0", &id, &secret, &why),
        RK_OK);
    assert_string_equal(id, "client-1");
    assert_string_equal(secret, "s3cret");
    /* base64("a%3Ab:p+q%25") — each half is form-encoded first (RFC 6749 §2.3.1). */
    assert_int_equal(
        rk_identity_basic_credentials(arena, "basic YSUzQWI6cCtxJTI1", &id, &secret, &why), RK_OK);
    assert_string_equal(id, "a:b");
    assert_string_equal(secret, "p q%");
    assert_int_equal(rk_identity_basic_credentials(arena, NULL, &id, &secret, &why), RK_ENOTFOUND);
    assert_int_equal(rk_identity_basic_credentials(arena, "Bearer abc", &id, &secret, &why),
                     RK_ENOTFOUND);
    assert_int_equal(rk_identity_basic_credentials(arena, "Basic !!!!", &id, &secret, &why),
                     RK_EINVAL);
    assert_string_equal(why, "Authorization: Basic credentials are not valid base64");
    assert_int_equal(rk_identity_basic_credentials(arena, "Basic ", &id, &secret, &why), RK_EINVAL);
    /* base64("nocolon"), base64(":secret"), base64("id:") */
    const char *malformed[] = {"Basic bm9jb2xvbg==", "Basic OnNlY3JldA==", "Basic aWQ6"};
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        assert_int_equal(rk_identity_basic_credentials(arena, malformed[i], &id, &secret, &why),
                         RK_EINVAL);
        assert_non_null(strstr(why, "client_id:client_secret"));
    }
    rk_arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_parameters),
        cmocka_unit_test(refuses_bad_input),
        cmocka_unit_test(basic_credentials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
