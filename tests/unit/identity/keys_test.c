/*
 * keys_test.c — hub/identity/keys.c: generated keys publish only public members (with kid,
 * use and alg), keep the private key only sealed, and open again only with the same master
 * key, realm and kid; ES256 and RS256 keys sign tokens that verify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "identity/keys.h"
#include "identity/token.h"

#include <cjose/cjose.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static rk_identity_master_key_t master;

static int setup(void **state)
{
    (void)state;
    const char *why;
    return rk_identity_master_key_parse(
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", &master, &why);
}

typedef struct made {
    rk_identity_new_key_t key;
    cjose_jwk_t *public_key;
} made_t;

static const cjose_jwk_t *only_key(const void *ctx, const char *kid, const char **alg)
{
    const made_t *made = ctx;
    if (strcmp(kid, made->key.kid) != 0)
        return NULL;
    *alg = rk_identity_alg_name(made->key.alg);
    return made->public_key;
}

static void generate_and_open(rk_identity_alg_t alg, const char *kty)
{
    made_t made;
    const char *why = NULL;
    assert_int_equal(rk_identity_key_generate(alg, "kodaira", &master, &made.key, &why), RK_OK);
    assert_int_equal(strlen(made.key.kid), RK_IDENTITY_KID_LEN);

    json_t *published = json_loads(made.key.public_jwk, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(published, "kty")), kty);
    assert_string_equal(json_string_value(json_object_get(published, "kid")), made.key.kid);
    assert_string_equal(json_string_value(json_object_get(published, "use")), "sig");
    assert_string_equal(json_string_value(json_object_get(published, "alg")),
                        rk_identity_alg_name(alg));
    const char *private_members[] = {"d", "p", "q", "dp", "dq", "qi"};
    for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
        assert_null(json_object_get(published, private_members[i]));

    cjose_jwk_t *private_key = rk_identity_key_open(&master, "kodaira", made.key.kid,
                                                    made.key.sealed, made.key.sealed_len, &why);
    assert_non_null(private_key);
    char *private_json = cjose_jwk_to_json(private_key, true, NULL);
    json_t *private_obj = json_loads(private_json, 0, NULL);
    const char *d = json_string_value(json_object_get(private_obj, "d"));
    assert_non_null(d);
    /* The sealed bytes never hold the private member in clear. */
    for (size_t i = 0; i + strlen(d) <= made.key.sealed_len; i++)
        assert_memory_not_equal(made.key.sealed + i, d, strlen(d));

    /* It signs, and the published key verifies. */
    made.public_key = cjose_jwk_import(made.key.public_jwk, strlen(made.key.public_jwk), NULL);
    assert_non_null(made.public_key);
    const char *payload =
        "{\"iss\":\"https://hub.example/t/kodaira\",\"iat\":1,\"exp\":4102444800}";
    char *jws = rk_identity_jws_sign(private_key, rk_identity_alg_name(alg), made.key.kid, "at+jwt",
                                     payload, strlen(payload), &why);
    assert_non_null(jws);
    json_t *claims = rk_identity_access_token_verify(jws, "https://hub.example/t/kodaira", 2,
                                                     only_key, &made, &why);
    assert_non_null(claims);
    json_decref(claims);
    free(jws);

    /* Another realm, another kid, another master key: it does not open. */
    assert_null(rk_identity_key_open(&master, "chofu", made.key.kid, made.key.sealed,
                                     made.key.sealed_len, &why));
    assert_non_null(strstr(why, "RENKEI_MASTER_KEY"));
    assert_null(rk_identity_key_open(&master, "kodaira", "otherkid00000000", made.key.sealed,
                                     made.key.sealed_len, &why));
    rk_identity_master_key_t other = master;
    other.bytes[0] ^= 1;
    assert_null(rk_identity_key_open(&other, "kodaira", made.key.kid, made.key.sealed,
                                     made.key.sealed_len, &why));

    cjose_jwk_release(made.public_key);
    cjose_jwk_release(private_key);
    json_decref(private_obj);
    free(private_json);
    json_decref(published);
    rk_identity_new_key_clear(&made.key);
    assert_null(made.key.sealed);
}

static void es256(void **state)
{
    (void)state;
    generate_and_open(RK_IDENTITY_ES256, "EC");
}

static void rs256(void **state)
{
    (void)state;
    generate_and_open(RK_IDENTITY_RS256, "RSA");
}

static void algorithm_names(void **state)
{
    (void)state;
    rk_identity_alg_t alg;
    assert_int_equal(rk_identity_alg_parse("RS256", &alg), RK_OK);
    assert_int_equal(alg, RK_IDENTITY_RS256);
    assert_int_equal(rk_identity_alg_parse("es256", &alg), RK_EINVAL);
    assert_int_equal(rk_identity_alg_parse("none", &alg), RK_EINVAL);
    assert_int_equal(rk_identity_alg_parse(NULL, &alg), RK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(es256),
        cmocka_unit_test(rs256),
        cmocka_unit_test(algorithm_names),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
