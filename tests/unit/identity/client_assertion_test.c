/*
 * client_assertion_test.c — hub/identity/client_assertion.c: the JWK sets a client may
 * register for private_key_jwt, and assertions verified against them. Keys are made here with
 * cjose; every refusal is checked by its reason, so a test cannot pass for the wrong one:
 * "none", HS256 keyed with the public key, an alg the key cannot have or the JWK does not
 * name, another client's or an unknown key, crit, and each claim rule (iss, sub, aud, exp
 * and its bound, nbf, iat, jti).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "identity/client_assertion.h"

#include <cjose/cjose.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT "client-0123456789abcd"
#define ISSUER "https://hub.example/t/kodaira"
#define TOKEN_ENDPOINT ISSUER "/token"
#define NOW 1700000000LL

static const char *const audiences[] = {TOKEN_ENDPOINT, ISSUER};

static cjose_jwk_t *ec_key, *other_ec_key, *rsa_key;
static json_t *jwks; /* ec-1 (EC P-256) and rsa-1 (RSA 2048), as the client registered them */

/* The public JWK of key as JSON, with kid (NULL: none) and alg (NULL: none) set. */
static json_t *public_jwk(const cjose_jwk_t *key, const char *kid, const char *alg)
{
    char *text = cjose_jwk_to_json(key, false, NULL);
    assert_non_null(text);
    json_t *jwk = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(jwk);
    if (kid)
        json_object_set_new(jwk, "kid", json_string(kid));
    if (alg)
        json_object_set_new(jwk, "alg", json_string(alg));
    return jwk;
}

static int setup(void **state)
{
    (void)state;
    static const uint8_t e[] = {0x01, 0x00, 0x01};
    ec_key = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, NULL);
    other_ec_key = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, NULL);
    rsa_key = cjose_jwk_create_RSA_random(2048, e, sizeof(e), NULL);
    if (!ec_key || !other_ec_key || !rsa_key)
        return -1;
    jwks = json_pack("{s:[o,o]}", "keys", public_jwk(ec_key, "ec-1", NULL),
                     public_jwk(rsa_key, "rsa-1", NULL));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cjose_jwk_release(ec_key);
    cjose_jwk_release(other_ec_key);
    cjose_jwk_release(rsa_key);
    json_decref(jwks);
    return 0;
}

/* Claims a well-behaved client sends: iss = sub = CLIENT, aud the token endpoint. */
static json_t *good_claims(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "iss", CLIENT, "sub", CLIENT, "aud",
                     TOKEN_ENDPOINT, "jti", "jti-1", "iat", (json_int_t)NOW, "nbf", (json_int_t)NOW,
                     "exp", (json_int_t)(NOW + 60));
}

/* Signs claims (taken) with key; kid NULL leaves it out of the header. free() the result. */
static char *sign(const cjose_jwk_t *key, const char *alg, const char *kid, json_t *claims)
{
    cjose_header_t *header = cjose_header_new(NULL);
    assert_true(cjose_header_set(header, CJOSE_HDR_ALG, alg, NULL));
    if (kid)
        assert_true(cjose_header_set(header, CJOSE_HDR_KID, kid, NULL));
    char *payload = json_dumps(claims, JSON_COMPACT);
    cjose_jws_t *jws = cjose_jws_sign(key, header, (const uint8_t *)payload, strlen(payload), NULL);
    assert_non_null(jws);
    const char *compact = NULL;
    assert_true(cjose_jws_export(jws, &compact, NULL));
    char *out = strdup(compact);
    cjose_jws_release(jws);
    cjose_header_release(header);
    free(payload);
    json_decref(claims);
    return out;
}

/* base64url(header) "." base64url(claims) "." signature, as an attacker writes them. */
static char *forge(const char *header, json_t *claims, const char *signature)
{
    char *payload = json_dumps(claims, JSON_COMPACT);
    char *h = NULL, *p = NULL;
    size_t h_len = 0, p_len = 0;
    assert_true(cjose_base64url_encode((const uint8_t *)header, strlen(header), &h, &h_len, NULL));
    assert_true(
        cjose_base64url_encode((const uint8_t *)payload, strlen(payload), &p, &p_len, NULL));
    size_t len = h_len + p_len + strlen(signature) + 3;
    char *out = malloc(len);
    snprintf(out, len, "%s.%s.%s", h, p, signature);
    free(h);
    free(p);
    free(payload);
    json_decref(claims);
    return out;
}

static void expect_accepted(const char *assertion, json_t *set, const char *jti)
{
    rk_arena_t *arena = rk_arena_new();
    rk_identity_client_assertion_t out = {0};
    const char *why = NULL;
    int rc = rk_identity_client_assertion_verify(arena, assertion, set, CLIENT, audiences, 2, NOW,
                                                 &out, &why);
    if (rc != RK_OK)
        fail_msg("refused a good assertion: %s", why ? why : "(no reason)");
    assert_string_equal(out.jti, jti);
    rk_arena_free(arena);
}

static void expect_refused(const char *assertion, json_t *set, const char *reason)
{
    rk_arena_t *arena = rk_arena_new();
    rk_identity_client_assertion_t out = {0};
    const char *why = NULL;
    int rc = rk_identity_client_assertion_verify(arena, assertion, set, CLIENT, audiences, 2, NOW,
                                                 &out, &why);
    if (rc == RK_OK)
        fail_msg("accepted an assertion that should fail with '%s'", reason);
    if (!why || strcmp(why, reason) != 0)
        fail_msg("expected '%s', got '%s'", reason, why ? why : "(null)");
    rk_arena_free(arena);
}

/* --- good assertions ------------------------------------------------------------------------- */

static void accepts_each_algorithm(void **state)
{
    (void)state;
    char *a = sign(ec_key, "ES256", "ec-1", good_claims());
    expect_accepted(a, jwks, "jti-1");
    free(a);
    a = sign(rsa_key, "RS256", "rsa-1", good_claims());
    expect_accepted(a, jwks, "jti-1");
    free(a);
    a = sign(rsa_key, "PS256", "rsa-1", good_claims());
    expect_accepted(a, jwks, "jti-1");
    free(a);

    /* aud as an array holding the issuer (what openid-client sends is the issuer). */
    json_t *claims = good_claims();
    json_object_set_new(claims, "aud", json_pack("[s,s]", "https://elsewhere.example", ISSUER));
    a = sign(ec_key, "ES256", "ec-1", claims);
    expect_accepted(a, jwks, "jti-1");
    free(a);

    /* keep_until: the jti is remembered as long as the assertion could be accepted. */
    rk_arena_t *arena = rk_arena_new();
    rk_identity_client_assertion_t out = {0};
    const char *why = NULL;
    a = sign(ec_key, "ES256", "ec-1", good_claims());
    assert_int_equal(
        rk_identity_client_assertion_verify(arena, a, jwks, CLIENT, audiences, 2, NOW, &out, &why),
        RK_OK);
    assert_int_equal(out.keep_until, NOW + 60 + RK_IDENTITY_ASSERTION_LEEWAY);
    free(a);
    rk_arena_free(arena);
}

static void the_only_key_needs_no_kid(void **state)
{
    (void)state;
    json_t *one = json_pack("{s:[o]}", "keys", public_jwk(ec_key, NULL, "ES256"));
    char *a = sign(ec_key, "ES256", NULL, good_claims());
    expect_accepted(a, one, "jti-1");
    expect_refused(a, jwks,
                   "client_assertion: the header must name a kid: the client registered several "
                   "keys");
    free(a);
    a = sign(ec_key, "ES256", "ec-1", good_claims());
    expect_refused(a, one, "client_assertion: kid \"ec-1\" is not a key the client registered");
    free(a);
    json_decref(one);
}

/* --- keys and algorithms --------------------------------------------------------------------- */

static void refuses_algorithm_confusion(void **state)
{
    (void)state;
    char *a = forge("{\"alg\":\"none\",\"kid\":\"ec-1\"}", good_claims(), "");
    expect_refused(a, jwks, "client_assertion: alg must be ES256, RS256 or PS256");
    free(a);

    /* HS256 keyed with the registered public key: the classic confusion, refused before cjose. */
    char *public_text = cjose_jwk_to_json(rsa_key, false, NULL);
    cjose_jwk_t *secret =
        cjose_jwk_create_oct_spec((const uint8_t *)public_text, strlen(public_text), NULL);
    free(public_text);
    a = sign(secret, "HS256", "rsa-1", good_claims());
    expect_refused(a, jwks, "client_assertion: alg must be ES256, RS256 or PS256");
    free(a);
    cjose_jwk_release(secret);

    a = sign(ec_key, "ES256", "rsa-1", good_claims());
    expect_refused(a, jwks, "client_assertion: alg ES256 does not fit the registered key");
    free(a);
    a = sign(rsa_key, "RS256", "ec-1", good_claims());
    expect_refused(a, jwks, "client_assertion: alg RS256 does not fit the registered key");
    free(a);

    /* The JWK names its algorithm: the other RSA algorithm is refused. */
    json_t *pss_only = json_pack("{s:[o]}", "keys", public_jwk(rsa_key, "rsa-1", "PS256"));
    a = sign(rsa_key, "RS256", "rsa-1", good_claims());
    expect_refused(a, pss_only, "client_assertion: alg RS256 does not fit the registered key");
    free(a);
    a = sign(rsa_key, "PS256", "rsa-1", good_claims());
    expect_accepted(a, pss_only, "jti-1");
    free(a);
    json_decref(pss_only);

    a = sign(other_ec_key, "ES256", "ec-1", good_claims());
    expect_refused(a, jwks,
                   "client_assertion: the signature does not verify with the registered key");
    free(a);
    a = sign(ec_key, "ES256", "ec-9", good_claims());
    expect_refused(a, jwks, "client_assertion: kid \"ec-9\" is not a key the client registered");
    free(a);

    /* A signature that was good, over a payload changed afterwards. */
    a = sign(ec_key, "ES256", "ec-1", good_claims());
    char *second_dot = strchr(strchr(a, '.') + 1, '.');
    second_dot[-2] = second_dot[-2] == 'A' ? 'B' : 'A';
    expect_refused(a, jwks,
                   "client_assertion: the signature does not verify with the registered key");
    free(a);

    cjose_header_t *header = cjose_header_new(NULL);
    cjose_header_set(header, CJOSE_HDR_ALG, "ES256", NULL);
    cjose_header_set(header, CJOSE_HDR_KID, "ec-1", NULL);
    json_object_set_new((json_t *)header, "crit", json_pack("[s]", "exp"));
    json_t *claims = good_claims();
    char *payload = json_dumps(claims, JSON_COMPACT);
    json_decref(claims);
    cjose_jws_t *jws =
        cjose_jws_sign(ec_key, header, (const uint8_t *)payload, strlen(payload), NULL);
    const char *compact = NULL;
    assert_true(cjose_jws_export(jws, &compact, NULL));
    expect_refused(compact, jwks,
                   "client_assertion: the header must be a JSON object without crit");
    cjose_jws_release(jws);
    cjose_header_release(header);
    free(payload);

    expect_refused("not-a-jws", jwks,
                   "client_assertion: must be a compact JWS of at most 8192 bytes");
}

/* --- claims ---------------------------------------------------------------------------------- */

/* Signs good claims with member set to value (NULL: removed) and expects reason. */
static void expect_claim_refused(const char *member, json_t *value, const char *reason)
{
    json_t *claims = good_claims();
    if (value)
        json_object_set_new(claims, member, value);
    else
        json_object_del(claims, member);
    char *a = sign(ec_key, "ES256", "ec-1", claims);
    expect_refused(a, jwks, reason);
    free(a);
}

static void refuses_bad_claims(void **state)
{
    (void)state;
    const char *iss_sub = "client_assertion: iss and sub must both be the client_id";
    expect_claim_refused("iss", json_string("another-client"), iss_sub);
    expect_claim_refused("sub", json_string("another-client"), iss_sub);
    expect_claim_refused("iss", NULL, iss_sub);
    expect_claim_refused("sub", json_integer(1), iss_sub);
    const char *aud = "client_assertion: aud must hold the token endpoint's URL or the issuer";
    expect_claim_refused("aud", json_string("https://hub.example/t/chofu/token"), aud);
    expect_claim_refused("aud", json_pack("[s]", "https://hub.example"), aud);
    expect_claim_refused("aud", NULL, aud);
    expect_claim_refused("exp", NULL, "client_assertion: exp is required (a NumericDate)");
    expect_claim_refused("exp", json_string("tomorrow"),
                         "client_assertion: exp is required (a NumericDate)");
    expect_claim_refused("exp", json_real(1e300),
                         "client_assertion: exp is required (a NumericDate)");
    expect_claim_refused("exp", json_integer(NOW - RK_IDENTITY_ASSERTION_LEEWAY),
                         "client_assertion: expired (exp)");
    expect_claim_refused(
        "exp",
        json_integer(NOW + RK_IDENTITY_ASSERTION_LIFETIME_MAX + RK_IDENTITY_ASSERTION_LEEWAY + 1),
        "client_assertion: exp must be at most 300 seconds ahead");
    expect_claim_refused("nbf", json_integer(NOW + 120), "client_assertion: not valid yet (nbf)");
    expect_claim_refused("iat", json_integer(NOW + 120), "client_assertion: iat is in the future");
    const char *jti = "client_assertion: jti is required: a string of 1 to 255 bytes";
    expect_claim_refused("jti", NULL, jti);
    expect_claim_refused("jti", json_string(""), jti);
    expect_claim_refused("jti", json_integer(7), jti);
    char long_jti[RK_IDENTITY_ASSERTION_JTI_MAX + 2];
    memset(long_jti, 'j', sizeof(long_jti) - 1);
    long_jti[sizeof(long_jti) - 1] = '\0';
    expect_claim_refused("jti", json_string(long_jti), jti);

    /* Within the leeway: a clock a little behind or ahead is not an error. */
    json_t *claims = good_claims();
    json_object_set_new(claims, "exp", json_integer(NOW - RK_IDENTITY_ASSERTION_LEEWAY + 1));
    json_object_set_new(claims, "iat", json_integer(NOW - 90));
    json_object_set_new(claims, "nbf", json_integer(NOW + RK_IDENTITY_ASSERTION_LEEWAY));
    char *a = sign(ec_key, "ES256", "ec-1", claims);
    expect_accepted(a, jwks, "jti-1");
    free(a);
}

static void reads_the_subject_unverified(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    const char *sub = NULL, *why = NULL;
    char *a = sign(other_ec_key, "ES256", "ec-1", good_claims());
    assert_int_equal(rk_identity_client_assertion_subject(arena, a, &sub, &why), RK_OK);
    assert_string_equal(sub, CLIENT);
    free(a);
    json_t *claims = good_claims();
    json_object_del(claims, "sub");
    a = sign(ec_key, "ES256", "ec-1", claims);
    assert_int_equal(rk_identity_client_assertion_subject(arena, a, &sub, &why), RK_EINVAL);
    assert_string_equal(why,
                        "client_assertion: sub (the client_id) is required, at most 255 bytes");
    free(a);
    assert_int_equal(rk_identity_client_assertion_subject(arena, "a.b", &sub, &why), RK_EINVAL);
    rk_arena_free(arena);
}

/* --- registered sets ------------------------------------------------------------------------- */

static void expect_set_refused(json_t *set, const char *reason)
{
    char why[256] = "";
    if (rk_identity_client_jwks_check(set, why, sizeof(why)) == RK_OK)
        fail_msg("accepted a JWK set that should fail with '%s'", reason);
    if (strcmp(why, reason) != 0)
        fail_msg("expected '%s', got '%s'", reason, why);
    json_decref(set);
}

static void checks_registered_sets(void **state)
{
    (void)state;
    char why[256] = "";
    assert_int_equal(rk_identity_client_jwks_check(jwks, why, sizeof(why)), RK_OK);
    json_t *one = json_pack("{s:[o]}", "keys", public_jwk(rsa_key, NULL, "PS256"));
    assert_int_equal(rk_identity_client_jwks_check(one, why, sizeof(why)), RK_OK);
    json_decref(one);

    const char *shape = "jwks: must be a JWK set: {\"keys\": [...]} with 1 to 10 keys";
    expect_set_refused(json_pack("[]"), shape);
    expect_set_refused(json_pack("{s:[]}", "keys"), shape);
    json_t *many = json_pack("{s:[]}", "keys");
    for (int i = 0; i < RK_IDENTITY_JWKS_MAX_KEYS + 1; i++) {
        char kid[8];
        snprintf(kid, sizeof(kid), "k%d", i);
        json_array_append_new(json_object_get(many, "keys"), public_jwk(ec_key, kid, NULL));
    }
    expect_set_refused(many, shape);

    char *private_text = cjose_jwk_to_json(ec_key, true, NULL);
    json_t *private_jwk = json_loads(private_text, 0, NULL);
    free(private_text);
    expect_set_refused(json_pack("{s:[o]}", "keys", private_jwk),
                       "jwks.keys[0]: must be a public key: the private member \"d\" must not be "
                       "sent");
    expect_set_refused(json_pack("{s:[{s:s,s:s}]}", "keys", "kty", "oct", "k", "c2VjcmV0"),
                       "jwks.keys[0]: must be a public key: the private member \"k\" must not be "
                       "sent");
    expect_set_refused(json_pack("{s:[{s:s}]}", "keys", "kty", "OKP"),
                       "jwks.keys[0].kty: must be EC (P-256, for ES256) or RSA");

    cjose_jwk_t *p384 = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_384, NULL);
    expect_set_refused(json_pack("{s:[o]}", "keys", public_jwk(p384, NULL, NULL)),
                       "jwks.keys[0].crv: must be P-256 (ES256)");
    cjose_jwk_release(p384);
    static const uint8_t e[] = {0x01, 0x00, 0x01};
    cjose_jwk_t *small = cjose_jwk_create_RSA_random(1024, e, sizeof(e), NULL);
    expect_set_refused(json_pack("{s:[o]}", "keys", public_jwk(small, NULL, NULL)),
                       "jwks.keys[0]: is not a valid RSA public key of at least 2048 bits");
    cjose_jwk_release(small);

    json_t *enc = public_jwk(ec_key, NULL, NULL);
    json_object_set_new(enc, "use", json_string("enc"));
    expect_set_refused(json_pack("{s:[o]}", "keys", enc),
                       "jwks.keys[0].use: must be sig when present");
    expect_set_refused(json_pack("{s:[o]}", "keys", public_jwk(ec_key, NULL, "RS256")),
                       "jwks.keys[0].alg: must be ES256 for an EC P-256 key");
    expect_set_refused(json_pack("{s:[o]}", "keys", public_jwk(rsa_key, NULL, "HS256")),
                       "jwks.keys[0].alg: must be RS256 or PS256 for an RSA key");
    expect_set_refused(json_pack("{s:[o,o]}", "keys", public_jwk(ec_key, "a", NULL),
                                 public_jwk(rsa_key, NULL, NULL)),
                       "jwks.keys[1].kid: is required when the set has several keys: assertions "
                       "name theirs");
    expect_set_refused(json_pack("{s:[o,o]}", "keys", public_jwk(ec_key, "a", NULL),
                                 public_jwk(rsa_key, "a", NULL)),
                       "jwks.keys[1].kid: is used by another key of the set");
    expect_set_refused(json_pack("{s:[o]}", "keys", public_jwk(ec_key, "a b", NULL)),
                       "jwks.keys[0].kid: must be 1 to 255 printable ASCII characters");

    /* A point that is not on the curve does not import. */
    json_t *off_curve = public_jwk(ec_key, NULL, NULL);
    json_object_set(off_curve, "y", json_object_get(off_curve, "x"));
    expect_set_refused(json_pack("{s:[o]}", "keys", off_curve),
                       "jwks.keys[0]: is not a valid EC P-256 public key");
}

/* token_endpoint_auth_signing_alg binds the keys: the other RSA algorithm stops verifying. */
static void pins_the_signing_alg(void **state)
{
    (void)state;
    char why[256] = "";
    json_t *set = json_pack("{s:[o]}", "keys", public_jwk(rsa_key, "rsa-1", NULL));
    assert_int_equal(rk_identity_client_jwks_pin_alg(set, "ES256", why, sizeof(why)), RK_EINVAL);
    assert_string_equal(why,
                        "token_endpoint_auth_signing_alg: jwks.keys[0] cannot sign with ES256");
    assert_int_equal(rk_identity_client_jwks_pin_alg(set, "HS256", why, sizeof(why)), RK_EINVAL);
    assert_string_equal(why, "token_endpoint_auth_signing_alg: must be ES256, RS256 or PS256");
    assert_int_equal(rk_identity_client_jwks_pin_alg(set, "PS256", why, sizeof(why)), RK_OK);
    char *a = sign(rsa_key, "RS256", "rsa-1", good_claims());
    expect_refused(a, set, "client_assertion: alg RS256 does not fit the registered key");
    free(a);
    a = sign(rsa_key, "PS256", "rsa-1", good_claims());
    expect_accepted(a, set, "jti-1");
    free(a);
    assert_int_equal(rk_identity_client_jwks_pin_alg(set, "RS256", why, sizeof(why)), RK_EINVAL);
    json_decref(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_each_algorithm),       cmocka_unit_test(the_only_key_needs_no_kid),
        cmocka_unit_test(refuses_algorithm_confusion),  cmocka_unit_test(refuses_bad_claims),
        cmocka_unit_test(reads_the_subject_unverified), cmocka_unit_test(checks_registered_sets),
        cmocka_unit_test(pins_the_signing_alg),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
