/*
 * receipt_verify_test.c — a receipt verifies offline against its issuer's JWKS, and does not once
 * one byte of it changes, when its kid is not published, when its typ or alg is another, or when
 * bytes are appended to its signature (cjose alone would accept those).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exchange/receipt_verify.h"
#include "identity/token.h"

#include <cjose/jwk.h>
#include <stdlib.h>
#include <string.h>

static const char payload[] = "{\"kind\":\"booking_confirmed\",\"receipt_id\":\"rc_1\"}";

typedef struct fixture {
    cjose_jwk_t *key;
    json_t *jwks;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->key = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, NULL);
    cjose_jwk_set_kid(f->key, "kid-1", 5, NULL);
    char *public_json = cjose_jwk_to_json(f->key, false, NULL);
    json_t *jwk = json_loads(public_json, 0, NULL);
    free(public_json);
    json_object_set_new(jwk, "alg", json_string("ES256"));
    f->jwks = json_pack("{s:[o]}", "keys", jwk);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    cjose_jwk_release(f->key);
    json_decref(f->jwks);
    free(f);
    return 0;
}

static char *sign(const fixture_t *f, const char *typ, const char *text)
{
    const char *why = NULL;
    char *jws = rk_identity_jws_sign(f->key, "ES256", "kid-1", typ, text, strlen(text), &why);
    assert_non_null(jws);
    return jws;
}

static int verifies(const fixture_t *f, const char *receipt)
{
    char kid[64];
    const char *why = NULL;
    json_t *out = rk_exchange_receipt_verify(receipt, f->jwks, kid, &why);
    int ok = out != NULL;
    if (ok) {
        assert_string_equal(kid, "kid-1");
        assert_string_equal(json_string_value(json_object_get(out, "receipt_id")), "rc_1");
    } else {
        assert_non_null(why);
    }
    json_decref(out);
    return ok;
}

static void verifies_and_one_changed_byte_does_not(void **state)
{
    fixture_t *f = *state;
    char *jws = sign(f, RK_EXCHANGE_RECEIPT_TYP, payload);
    assert_true(verifies(f, jws));
    char *dot = strchr(jws, '.');
    for (char *p = dot + 5; p < dot + 9; p++) { /* inside the payload */
        char saved = *p;
        *p = *p == 'A' ? 'B' : 'A';
        assert_false(verifies(f, jws));
        *p = saved;
    }
    size_t len = strlen(jws);
    char *longer = malloc(len + 5);
    memcpy(longer, jws, len);
    memcpy(longer + len, "AAAA", 5);
    assert_false(verifies(f, longer));
    free(longer);
    free(jws);
}

static void other_typ_kid_or_payload(void **state)
{
    fixture_t *f = *state;
    char *token = sign(f, "at+jwt", payload);
    assert_false(verifies(f, token));
    free(token);
    char *spaced = sign(f, RK_EXCHANGE_RECEIPT_TYP, "{\"receipt_id\": \"rc_1\"}");
    assert_false(verifies(f, spaced));
    free(spaced);
    json_object_set_new(json_array_get(json_object_get(f->jwks, "keys"), 0), "kid",
                        json_string("kid-2"));
    char *jws = sign(f, RK_EXCHANGE_RECEIPT_TYP, payload);
    assert_false(verifies(f, jws));
    free(jws);
    assert_false(verifies(f, "not.a.jws!"));
    assert_false(verifies(f, "eyJhbGciOiJub25lIn0.e30."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(verifies_and_one_changed_byte_does_not, setup, teardown),
        cmocka_unit_test_setup_teardown(other_typ_kid_or_payload, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
