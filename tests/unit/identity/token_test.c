/*
 * token_test.c — hub/identity/token.c: scope granting, the RFC 9068 claims, and verification
 * that refuses every token this realm did not sign as it signs: "none", HS256 keyed with the
 * public key, a foreign or unknown key, a wrong typ, crit, altered payload, expiry, nbf and
 * another issuer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "identity/secret_text.h"
#include "identity/token.h"

#include <cjose/cjose.h>
#include <stdlib.h>
#include <string.h>

#define ISSUER "https://hub.example/t/kodaira"
#define NOW 1700000000LL

/* --- scopes ----------------------------------------------------------------------------------- */

static void grants_scopes(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    const char *granted = NULL, *why = NULL;
    const char *allowed = "library.read library.write facility.read";
    assert_int_equal(rk_identity_scope_grant(arena, NULL, allowed, &granted, &why), RK_OK);
    assert_string_equal(granted, allowed);
    assert_int_equal(rk_identity_scope_grant(arena, "facility.read library.read facility.read",
                                             allowed, &granted, &why),
                     RK_OK);
    assert_string_equal(granted, "facility.read library.read");
    assert_int_equal(rk_identity_scope_grant(arena, "library", allowed, &granted, &why), RK_EINVAL);
    assert_string_equal(why, "scope: 'library' is not allowed for this client");
    assert_int_equal(rk_identity_scope_grant(arena, "admin", "", &granted, &why), RK_EINVAL);
    const char *malformed[] = {"library.read  facility.read",
                               " library.read",
                               "library.read ",
                               "a\"b",
                               "a\\b",
                               "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        assert_int_equal(rk_identity_scope_grant(arena, malformed[i], allowed, &granted, &why),
                         RK_EINVAL);
        assert_non_null(strstr(why, "scope: must be scope tokens"));
    }
    char big[RK_IDENTITY_SCOPE_MAX_BYTES + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(rk_identity_scope_grant(arena, big, allowed, &granted, &why), RK_EINVAL);
    assert_string_equal(why, "scope: must be at most 1024 bytes");
    assert_true(rk_identity_scope_token_valid("!#[]~", 5));
    assert_false(rk_identity_scope_token_valid("", 0));
    rk_arena_free(arena);
}

/* --- claims ----------------------------------------------------------------------------------- */

static void builds_claims(void **state)
{
    (void)state;
    rk_identity_access_token_t t = {
        .issuer = ISSUER,
        .client_id = "client-1",
        .audience = "https://hub.example",
        .scope = "library.read",
        .jti = "abcdefghijklmnopqrstuv",
        .issued_at = NOW,
        .lifetime_s = 300,
    };
    json_t *claims = rk_identity_access_token_claims(&t);
    char *text = json_dumps(claims, JSON_COMPACT);
    assert_string_equal(text, "{\"iss\":\"" ISSUER "\",\"sub\":\"client-1\","
                              "\"aud\":\"https://hub.example\",\"client_id\":\"client-1\","
                              "\"iat\":1700000000,\"exp\":1700000300,"
                              "\"jti\":\"abcdefghijklmnopqrstuv\",\"scope\":\"library.read\"}");
    free(text);
    json_decref(claims);
    t.scope = "";
    claims = rk_identity_access_token_claims(&t);
    assert_null(json_object_get(claims, "scope"));
    json_decref(claims);

    char a[RK_IDENTITY_TOKEN_ID_LEN + 1], b[RK_IDENTITY_TOKEN_ID_LEN + 1];
    assert_int_equal(rk_identity_random_text(a, 16), RK_OK);
    assert_int_equal(rk_identity_random_text(b, 16), RK_OK);
    assert_int_equal(strlen(a), RK_IDENTITY_TOKEN_ID_LEN);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     RK_IDENTITY_TOKEN_ID_LEN);
    assert_string_not_equal(a, b);
}

/* --- signing and verification ----------------------------------------------------------------- */

typedef struct keyring {
    const char *kid;
    const char *alg;
    cjose_jwk_t *key;
} keyring_t;

static const cjose_jwk_t *lookup(const void *ctx, const char *kid, const char **alg)
{
    const keyring_t *ring = ctx;
    if (strcmp(kid, ring->kid) != 0)
        return NULL;
    *alg = ring->alg;
    return ring->key;
}

static keyring_t ring;

static int setup(void **state)
{
    (void)state;
    ring.kid = "kid-1";
    ring.alg = "ES256";
    ring.key = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, NULL);
    return ring.key ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cjose_jwk_release(ring.key);
    return 0;
}

static char *sign_claims(const cjose_jwk_t *key, const char *alg, const char *kid, const char *typ,
                         const char *iss, long long iat, long long exp)
{
    json_t *claims = json_pack("{s:s, s:s, s:I, s:I}", "iss", iss, "sub", "client-1", "iat",
                               (json_int_t)iat, "exp", (json_int_t)exp);
    char *payload = json_dumps(claims, JSON_COMPACT);
    const char *why = NULL;
    char *jws = rk_identity_jws_sign(key, alg, kid, typ, payload, strlen(payload), &why);
    assert_non_null(jws);
    free(payload);
    json_decref(claims);
    return jws;
}

static void expect_inactive(const char *token, const char *reason)
{
    const char *why = NULL;
    json_t *claims = rk_identity_access_token_verify(token, ISSUER, NOW, lookup, &ring, &why);
    if (claims)
        fail_msg("accepted a token that should fail with '%s'", reason);
    if (!why || strcmp(why, reason) != 0)
        fail_msg("expected '%s', got '%s'", reason, why ? why : "(null)");
}

static char *b64url(const char *text)
{
    char *out = NULL;
    size_t len = 0;
    assert_true(cjose_base64url_encode((const uint8_t *)text, strlen(text), &out, &len, NULL));
    return out;
}

static void verifies_own_tokens(void **state)
{
    (void)state;
    char *jws = sign_claims(ring.key, "ES256", "kid-1", "at+jwt", ISSUER, NOW - 10, NOW + 290);
    const char *why = NULL;
    json_t *claims = rk_identity_access_token_verify(jws, ISSUER, NOW, lookup, &ring, &why);
    assert_non_null(claims);
    assert_string_equal(json_string_value(json_object_get(claims, "sub")), "client-1");
    json_decref(claims);

    /* The payload altered after signing. */
    char *dot = strchr(jws, '.');
    char *second_dot = strchr(dot + 1, '.');
    second_dot[-2] = second_dot[-2] == 'A' ? 'B' : 'A';
    expect_inactive(jws, "bad signature");
    free(jws);
}

static void refuses_foreign_tokens(void **state)
{
    (void)state;
    char *jws = sign_claims(ring.key, "ES256", "kid-1", "at+jwt", ISSUER, NOW - 400, NOW - 100);
    expect_inactive(jws, "expired");
    free(jws);
    jws = sign_claims(ring.key, "ES256", "kid-1", "at+jwt", "https://hub.example/t/chofu", NOW - 10,
                      NOW + 290);
    expect_inactive(jws, "iss is not this realm's issuer");
    free(jws);
    jws = sign_claims(ring.key, "ES256", "kid-1", "JWT", ISSUER, NOW - 10, NOW + 290);
    expect_inactive(jws, "typ is not at+jwt");
    free(jws);
    jws = sign_claims(ring.key, "ES256", "kid-9", "at+jwt", ISSUER, NOW - 10, NOW + 290);
    expect_inactive(jws, "no kid, or a kid this realm does not publish");
    free(jws);

    /* Signed by another key under our kid. */
    cjose_jwk_t *other = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, NULL);
    jws = sign_claims(other, "ES256", "kid-1", "at+jwt", ISSUER, NOW - 10, NOW + 290);
    expect_inactive(jws, "bad signature");
    free(jws);
    cjose_jwk_release(other);

    /* HS256 keyed with the realm's public key: refused before cjose would try it. */
    char *public_jwk = cjose_jwk_to_json(ring.key, false, NULL);
    cjose_jwk_t *hmac =
        cjose_jwk_create_oct_spec((const uint8_t *)public_jwk, strlen(public_jwk), NULL);
    jws = sign_claims(hmac, "HS256", "kid-1", "at+jwt", ISSUER, NOW - 10, NOW + 290);
    expect_inactive(jws, "alg differs from the key's algorithm");
    free(jws);
    cjose_jwk_release(hmac);
    free(public_jwk);

    /* alg "none", no signature. */
    char *header = b64url("{\"alg\":\"none\",\"kid\":\"kid-1\",\"typ\":\"at+jwt\"}");
    char *payload = b64url("{\"iss\":\"" ISSUER "\",\"iat\":1699999990,\"exp\":1700000290}");
    char none[512];
    snprintf(none, sizeof(none), "%s.%s.", header, payload);
    expect_inactive(none, "alg differs from the key's algorithm");
    free(header);

    /* A critical header extension we do not know. */
    header = b64url("{\"alg\":\"ES256\",\"kid\":\"kid-1\",\"typ\":\"at+jwt\",\"crit\":[\"x\"],"
                    "\"x\":1}");
    snprintf(none, sizeof(none), "%s.%s.AAAA", header, payload);
    expect_inactive(none, "the header is not an object or has crit");
    free(header);
    free(payload);

    expect_inactive("garbage", "not a compact JWS");
    char *huge = malloc(RK_IDENTITY_TOKEN_MAX_BYTES + 2);
    memset(huge, 'a', RK_IDENTITY_TOKEN_MAX_BYTES + 1);
    huge[RK_IDENTITY_TOKEN_MAX_BYTES + 1] = '\0';
    expect_inactive(huge, "longer than 8192 bytes");
    free(huge);
}

static void honours_nbf(void **state)
{
    (void)state;
    json_t *claims = json_pack("{s:s, s:I, s:I, s:I}", "iss", ISSUER, "iat", (json_int_t)NOW, "exp",
                               (json_int_t)(NOW + 300), "nbf", (json_int_t)(NOW + 60));
    char *payload = json_dumps(claims, JSON_COMPACT);
    const char *why = NULL;
    char *jws =
        rk_identity_jws_sign(ring.key, "ES256", "kid-1", "at+jwt", payload, strlen(payload), &why);
    expect_inactive(jws, "not valid yet (nbf)");
    free(jws);
    free(payload);
    json_decref(claims);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grants_scopes),       cmocka_unit_test(builds_claims),
        cmocka_unit_test(verifies_own_tokens), cmocka_unit_test(refuses_foreign_tokens),
        cmocka_unit_test(honours_nbf),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
