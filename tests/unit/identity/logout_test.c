/*
 * logout_test.c — the pure parts of logout: the id_token_hint check (token.c's
 * rk_identity_id_token_hint_verify, which relying parties such as adapters/elibrary's site use
 * too: an ID token this realm signed, even expired; never an access or logout token, another
 * realm's, a forged or "none" one), the logout token's claims, and the confirmation page's
 * signed tx (logout.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "identity/logout.h"

#include <cjose/cjose.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ISSUER "https://hub.example/t/kodaira"
#define NOW 1700000000LL

typedef struct keyring {
    const char *kid;
    const char *alg;
    cjose_jwk_t *key;
} keyring_t;

static keyring_t ring;

static const cjose_jwk_t *lookup(const void *ctx, const char *kid, const char **alg)
{
    const keyring_t *r = ctx;
    if (strcmp(kid, r->kid) != 0)
        return NULL;
    *alg = r->alg;
    return r->key;
}

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

/* An ID token as token_grant.c makes one, with claims (taken) over the defaults. */
static char *sign(const cjose_jwk_t *key, const char *alg, const char *kid, const char *typ,
                  json_t *claims)
{
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "iss", ISSUER, "sub", "sub-1",
                            "aud", "client-1", "azp", "client-1", "iat", (json_int_t)(NOW - 10),
                            "exp", (json_int_t)(NOW + 290), "sid", "sid-1");
    if (claims) {
        json_object_update(doc, claims);
        json_decref(claims);
    }
    char *payload = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    const char *why = NULL;
    char *jws = rk_identity_jws_sign(key, alg, kid, typ, payload, strlen(payload), &why);
    assert_non_null(jws);
    free(payload);
    return jws;
}

static void expect_refused(const char *token, const char *reason)
{
    const char *client = NULL, *why = NULL;
    json_t *claims = rk_identity_id_token_hint_verify(token, ISSUER, lookup, &ring, &client, &why);
    if (claims)
        fail_msg("accepted a hint that should fail with '%s'", reason);
    if (!why || strcmp(why, reason) != 0)
        fail_msg("expected '%s', got '%s'", reason, why ? why : "(null)");
}

static void accepts_own_id_tokens(void **state)
{
    (void)state;
    const char *client = NULL, *why = NULL;
    char *jws = sign(ring.key, "ES256", "kid-1", "JWT", NULL);
    json_t *claims = rk_identity_id_token_hint_verify(jws, ISSUER, lookup, &ring, &client, &why);
    assert_non_null(claims);
    assert_string_equal(client, "client-1");
    assert_string_equal(json_string_value(json_object_get(claims, "sid")), "sid-1");
    json_decref(claims);
    free(jws);

    /* Expired long ago: still a hint. */
    jws = sign(ring.key, "ES256", "kid-1", "JWT",
               json_pack("{s:I, s:I}", "iat", (json_int_t)(NOW - 90000), "exp",
                         (json_int_t)(NOW - 89700)));
    claims = rk_identity_id_token_hint_verify(jws, ISSUER, lookup, &ring, &client, &why);
    assert_non_null(claims);
    json_decref(claims);
    free(jws);

    /* An audience array: one member, or azp naming one of several. */
    jws = sign(ring.key, "ES256", "kid-1", "JWT",
               json_pack("{s:[s], s:n}", "aud", "client-2", "azp"));
    claims = rk_identity_id_token_hint_verify(jws, ISSUER, lookup, &ring, &client, &why);
    assert_non_null(claims);
    assert_string_equal(client, "client-2");
    json_decref(claims);
    free(jws);
    jws = sign(ring.key, "ES256", "kid-1", "JWT",
               json_pack("{s:[s,s], s:s}", "aud", "api", "client-3", "azp", "client-3"));
    claims = rk_identity_id_token_hint_verify(jws, ISSUER, lookup, &ring, &client, &why);
    assert_non_null(claims);
    assert_string_equal(client, "client-3");
    json_decref(claims);
    free(jws);
}

static void refuses_what_is_not_our_id_token(void **state)
{
    (void)state;
    char *jws = sign(ring.key, "ES256", "kid-1", "at+jwt", NULL);
    expect_refused(jws, "typ is not JWT: not an ID token");
    free(jws);
    jws = sign(ring.key, "ES256", "kid-1", "logout+jwt", NULL);
    expect_refused(jws, "typ is not JWT: not an ID token");
    free(jws);
    jws = sign(ring.key, "ES256", "kid-9", "JWT", NULL);
    expect_refused(jws, "no kid, or a kid this realm does not publish");
    free(jws);
    jws = sign(ring.key, "ES256", "kid-1", "JWT",
               json_pack("{s:s}", "iss", "https://hub.example/t/chofu"));
    expect_refused(jws, "iss is not this realm's issuer");
    free(jws);
    jws = sign(ring.key, "ES256", "kid-1", "JWT", json_pack("{s:[s,s]}", "aud", "a", "b"));
    expect_refused(jws, "no audience that names one client");
    free(jws);
    jws = sign(ring.key, "ES256", "kid-1", "JWT", json_pack("{s:i}", "sid", 7));
    expect_refused(jws, "sid is not a string");
    free(jws);

    /* The payload altered after signing. */
    jws = sign(ring.key, "ES256", "kid-1", "JWT", NULL);
    char *second_dot = strchr(strchr(jws, '.') + 1, '.');
    second_dot[-2] = second_dot[-2] == 'A' ? 'B' : 'A';
    expect_refused(jws, "bad signature");
    free(jws);

    /* Another key under our kid; HS256 keyed with our public key; "none". */
    cjose_jwk_t *other = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, NULL);
    jws = sign(other, "ES256", "kid-1", "JWT", NULL);
    expect_refused(jws, "bad signature");
    free(jws);
    cjose_jwk_release(other);
    char *public_jwk = cjose_jwk_to_json(ring.key, false, NULL);
    cjose_jwk_t *hmac =
        cjose_jwk_create_oct_spec((const uint8_t *)public_jwk, strlen(public_jwk), NULL);
    jws = sign(hmac, "HS256", "kid-1", "JWT", NULL);
    expect_refused(jws, "alg differs from the key's algorithm");
    free(jws);
    cjose_jwk_release(hmac);
    free(public_jwk);
    char *header = NULL, *payload = NULL;
    size_t len = 0;
    const char *h = "{\"alg\":\"none\",\"kid\":\"kid-1\",\"typ\":\"JWT\"}";
    const char *p = "{\"iss\":\"" ISSUER "\",\"sub\":\"s\",\"aud\":\"client-1\"}";
    assert_true(cjose_base64url_encode((const uint8_t *)h, strlen(h), &header, &len, NULL));
    assert_true(cjose_base64url_encode((const uint8_t *)p, strlen(p), &payload, &len, NULL));
    char none[512];
    snprintf(none, sizeof(none), "%s.%s.", header, payload);
    expect_refused(none, "alg differs from the key's algorithm");
    free(header);
    free(payload);

    expect_refused("garbage", "not a compact JWS");
    char *huge = malloc(RK_IDENTITY_TOKEN_MAX_BYTES + 2);
    memset(huge, 'a', RK_IDENTITY_TOKEN_MAX_BYTES + 1);
    huge[RK_IDENTITY_TOKEN_MAX_BYTES + 1] = '\0';
    expect_refused(huge, "longer than 8192 bytes");
    free(huge);
}

static void builds_logout_token_claims(void **state)
{
    (void)state;
    rk_identity_logout_token_t token = {
        .issuer = ISSUER,
        .client_id = "client-1",
        .subject = "sub-1",
        .sid = "sid-1",
        .jti = "jti-1",
        .issued_at = NOW,
        .lifetime_s = RK_IDENTITY_LOGOUT_TOKEN_TTL,
    };
    json_t *claims = rk_identity_logout_token_claims(&token);
    char *text = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"aud\":\"client-1\",\"events\":{\"http://schemas.openid.net/event/"
                              "backchannel-logout\":{}},\"exp\":1700000120,\"iat\":1700000000,"
                              "\"iss\":\"" ISSUER "\",\"jti\":\"jti-1\",\"sid\":\"sid-1\","
                              "\"sub\":\"sub-1\"}");
    assert_null(json_object_get(claims, "nonce"));
    free(text);
    json_decref(claims);
}

static void seals_and_opens_the_tx(void **state)
{
    (void)state;
    unsigned char key[RK_IDENTITY_DERIVED_KEY_LEN], other[RK_IDENTITY_DERIVED_KEY_LEN];
    memset(key, 7, sizeof(key));
    memset(other, 8, sizeof(other));
    rk_arena_t *arena = rk_arena_new();
    rk_identity_logout_request_t in = {.client_id = "client-1",
                                       .post_logout_redirect_uri = "https://rp.example/bye?a=1",
                                       .state = "s \"<&>",
                                       .ui_locales = NULL};
    char *tx = rk_identity_logout_tx_seal(arena, &in, "kodaira", NOW, key);
    rk_identity_logout_request_t out;
    assert_int_equal(rk_identity_logout_tx_open(arena, tx, "kodaira", NOW + 10, key, &out), RK_OK);
    assert_string_equal(out.client_id, "client-1");
    assert_string_equal(out.post_logout_redirect_uri, "https://rp.example/bye?a=1");
    assert_string_equal(out.state, "s \"<&>");
    assert_null(out.ui_locales);

    assert_int_equal(rk_identity_logout_tx_open(arena, tx, "chofu", NOW + 10, key, &out),
                     RK_EINVAL);
    assert_int_equal(rk_identity_logout_tx_open(arena, tx, "kodaira", NOW + 10, other, &out),
                     RK_EINVAL);
    assert_int_equal(rk_identity_logout_tx_open(arena, tx, "kodaira",
                                                NOW + RK_IDENTITY_LOGOUT_TX_TTL, key, &out),
                     RK_EINVAL);
    char *altered = rk_arena_strdup(arena, tx);
    altered[3] = altered[3] == 'A' ? 'B' : 'A';
    assert_int_equal(rk_identity_logout_tx_open(arena, altered, "kodaira", NOW, key, &out),
                     RK_EINVAL);
    assert_int_equal(rk_identity_logout_tx_open(arena, NULL, "kodaira", NOW, key, &out), RK_EINVAL);
    assert_int_equal(rk_identity_logout_tx_open(arena, "no-dot", "kodaira", NOW, key, &out),
                     RK_EINVAL);
    rk_arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_own_id_tokens),
        cmocka_unit_test(refuses_what_is_not_our_id_token),
        cmocka_unit_test(builds_logout_token_claims),
        cmocka_unit_test(seals_and_opens_the_tx),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
