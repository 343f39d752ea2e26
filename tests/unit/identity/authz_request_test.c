/*
 * authz_request_test.c — the rules of an authorization request, and the signed tx that
 * carries it through the login and consent pages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "identity/authz_request.h"

#include <stdio.h>
#include <string.h>

static const unsigned char key[RK_IDENTITY_DERIVED_KEY_LEN] = {1, 2, 3};
static const char challenge[] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/* Parses query into authz; returns parse's status, *why on failure. */
static int parse(rk_arena_t *arena, const char *query, rk_identity_authz_t *authz, const char **why)
{
    rk_identity_form_t form;
    int rc = rk_identity_form_parse(arena, query, strlen(query), RK_IDENTITY_AUTHZ_MAX_VALUE, &form,
                                    why);
    return rc == RK_OK ? rk_identity_authz_parse(&form, authz, why) : rc;
}

static const char *validate(const char *query, int public_client)
{
    rk_arena_t *arena = rk_arena_new();
    rk_identity_authz_t authz;
    const char *why = NULL, *error = NULL;
    assert_int_equal(parse(arena, query, &authz, &why), RK_OK);
    int rc = rk_identity_authz_validate(&authz, public_client, &error, &why);
    static char out[128];
    snprintf(out, sizeof(out), "%s", rc == RK_OK ? "ok" : error);
    rk_arena_free(arena);
    return out;
}

#define BASE "client_id=c&redirect_uri=https%3A%2F%2Fa.example%2Fcb&response_type=code"

static void first_stage_needs_client_and_redirect(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    rk_identity_authz_t authz;
    const char *why = NULL;
    assert_int_equal(parse(arena, "redirect_uri=x", &authz, &why), RK_EINVAL);
    assert_string_equal(why, "client_id: is required");
    assert_int_equal(parse(arena, "client_id=c", &authz, &why), RK_EINVAL);
    assert_string_equal(why, "redirect_uri: is required");
    assert_int_equal(parse(arena, "client_id=c&client_id=d&redirect_uri=x", &authz, &why),
                     RK_EINVAL);
    assert_non_null(strstr(why, "client_id"));
    assert_int_equal(parse(arena, BASE "&scope=openid", &authz, &why), RK_OK);
    assert_string_equal(authz.redirect_uri, "https://a.example/cb");
    rk_arena_free(arena);
}

static void second_stage_rules(void **state)
{
    (void)state;
    assert_string_equal(validate(BASE "&scope=openid", 0), "ok");
    assert_string_equal(validate(BASE "&scope=profile", 0), "invalid_scope");
    assert_string_equal(validate("client_id=c&redirect_uri=x&scope=openid", 0), "invalid_request");
    assert_string_equal(validate("client_id=c&redirect_uri=x&response_type=token&scope=openid", 0),
                        "unsupported_response_type");
    assert_string_equal(validate(BASE "&scope=openid&response_mode=fragment", 0),
                        "invalid_request");
    assert_string_equal(validate(BASE "&scope=openid", 1), "invalid_request"); /* PKCE */
    char query[512];
    snprintf(query, sizeof(query), "%s&scope=openid&code_challenge=%s&code_challenge_method=S256",
             BASE, challenge);
    assert_string_equal(validate(query, 1), "ok");
    snprintf(query, sizeof(query), "%s&scope=openid&code_challenge=%s&code_challenge_method=plain",
             BASE, challenge);
    assert_string_equal(validate(query, 0), "invalid_request");
    snprintf(query, sizeof(query), "%s&scope=openid&code_challenge=%s", BASE, challenge);
    assert_string_equal(validate(query, 0), "invalid_request"); /* plain by default: refused */
    assert_string_equal(
        validate(BASE "&scope=openid&code_challenge=short&code_challenge_method=S256", 0),
        "invalid_request");
    assert_string_equal(validate(BASE "&scope=openid&prompt=none%20login", 0), "invalid_request");
    assert_string_equal(validate(BASE "&scope=openid&prompt=sometimes", 0), "invalid_request");
    assert_string_equal(validate(BASE "&scope=openid&max_age=-1", 0), "invalid_request");
    assert_string_equal(validate(BASE "&scope=openid&max_age=1e3", 0), "invalid_request");
    assert_string_equal(validate(BASE "&scope=openid&request=e30", 0), "request_not_supported");
    assert_string_equal(validate(BASE "&scope=openid&request_uri=https%3A%2F%2Fx", 0),
                        "request_uri_not_supported");
    assert_string_equal(validate(BASE "&scope=openid&claims=%5B%5D", 0), "invalid_request");
}

static void acr_from_values_and_claims(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    rk_identity_authz_t authz;
    const char *why = NULL, *error = NULL;
    assert_int_equal(parse(arena, BASE "&scope=openid&acr_values=urn%3Arenkei%3Aacr%3Acertificate",
                           &authz, &why),
                     RK_OK);
    assert_int_equal(rk_identity_authz_validate(&authz, 0, &error, &why), RK_OK);
    assert_int_equal(authz.min_loa, RK_IDENTITY_LOA_CERTIFICATE);
    assert_int_equal(parse(arena,
                           BASE "&scope=openid&acr_values=urn%3Arenkei%3Aacr%3Acertificate%20"
                                "urn%3Arenkei%3Aacr%3Apassword",
                           &authz, &why),
                     RK_OK);
    assert_int_equal(rk_identity_authz_validate(&authz, 0, &error, &why), RK_OK);
    assert_int_equal(authz.min_loa, RK_IDENTITY_LOA_PASSWORD); /* the lowest acceptable */
    /* {"id_token":{"acr":{"essential":true,"value":"urn:renkei:acr:certificate"}}} */
    assert_int_equal(parse(arena,
                           BASE "&scope=openid&claims=%7B%22id_token%22%3A%7B%22acr%22%3A%7B%22"
                                "essential%22%3Atrue%2C%22value%22%3A%22urn%3Arenkei%3Aacr%3A"
                                "certificate%22%7D%7D%7D",
                           &authz, &why),
                     RK_OK);
    assert_int_equal(rk_identity_authz_validate(&authz, 0, &error, &why), RK_OK);
    assert_int_equal(authz.min_loa, RK_IDENTITY_LOA_CERTIFICATE);
    assert_true(authz.acr_essential);
    rk_arena_free(arena);
}

static void tx_round_trip_and_tamper(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    rk_identity_authz_t authz, back;
    const char *why = NULL, *error = NULL;
    assert_int_equal(parse(arena, BASE "&scope=openid%20profile&state=%E7%8A%B6&nonce=n&max_age=60",
                           &authz, &why),
                     RK_OK);
    assert_int_equal(rk_identity_authz_validate(&authz, 0, &error, &why), RK_OK);
    char *tx = rk_identity_authz_seal(arena, &authz, "kodaira", 1000, key);
    assert_int_equal(rk_identity_authz_open(arena, tx, "kodaira", 1001, key, &back, &why), RK_OK);
    assert_string_equal(back.state, "状");
    assert_string_equal(back.scope, "openid profile");
    assert_int_equal(back.max_age_s, 60);
    assert_null(back.code_challenge);
    assert_int_equal(rk_identity_authz_open(arena, tx, "chofu", 1001, key, &back, &why),
                     RK_EINVAL); /* another realm */
    assert_int_equal(
        rk_identity_authz_open(arena, tx, "kodaira", 1000 + RK_IDENTITY_TX_TTL, key, &back, &why),
        RK_EINVAL);
    assert_string_equal(why, "tx: the login page has expired");
    unsigned char other[RK_IDENTITY_DERIVED_KEY_LEN] = {9};
    assert_int_equal(rk_identity_authz_open(arena, tx, "kodaira", 1001, other, &back, &why),
                     RK_EINVAL);
    tx[3] = tx[3] == 'A' ? 'B' : 'A';
    assert_int_equal(rk_identity_authz_open(arena, tx, "kodaira", 1001, key, &back, &why),
                     RK_EINVAL);
    assert_int_equal(rk_identity_authz_open(arena, "garbage", "kodaira", 1001, key, &back, &why),
                     RK_EINVAL);
    assert_int_equal(rk_identity_authz_open(arena, NULL, "kodaira", 1001, key, &back, &why),
                     RK_EINVAL);
    rk_arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_stage_needs_client_and_redirect),
        cmocka_unit_test(second_stage_rules),
        cmocka_unit_test(acr_from_values_and_claims),
        cmocka_unit_test(tx_round_trip_and_tamper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
