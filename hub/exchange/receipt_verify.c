/*
 * receipt_verify.c — a receipt's JWS checked against a JWKS (see receipt_verify.h).
 */
#include "exchange/receipt_verify.h"

#include "exchange/canonical.h"
#include "identity/secret_text.h"
#include "identity/token.h"

#include <cjose/header.h>
#include <cjose/jwk.h>
#include <cjose/jws.h>
#include <stdio.h>
#include <string.h>

/* The EC P-256 key of jwks with this kid (alg ES256 when it says), or NULL. Release it. */
static cjose_jwk_t *find_key(const json_t *jwks, const char *kid)
{
    size_t i;
    json_t *jwk;
    json_array_foreach(json_object_get(jwks, "keys"), i, jwk)
    {
        const char *alg = json_string_value(json_object_get(jwk, "alg"));
        if (!json_is_string(json_object_get(jwk, "kid")) ||
            strcmp(json_string_value(json_object_get(jwk, "kid")), kid) != 0 ||
            (alg && strcmp(alg, "ES256") != 0))
            continue;
        cjose_jwk_t *key = cjose_jwk_import_json((cjose_header_t *)jwk, NULL);
        if (key && cjose_jwk_get_kty(key, NULL) == CJOSE_JWK_KTY_EC &&
            cjose_jwk_get_keysize(key, NULL) == 256)
            return key;
        cjose_jwk_release(key);
    }
    return NULL;
}

json_t *rk_exchange_receipt_verify(const char *receipt, const json_t *jwks, char *kid_out,
                                   const char **why)
{
    size_t len = strlen(receipt);
    if (len > RK_EXCHANGE_RECEIPT_MAX_BYTES || !rk_identity_jws_shape_ok(receipt, len)) {
        *why = "not a compact JWS (three base64url parts, at most 16 KiB)";
        return NULL;
    }
    cjose_jws_t *jws = cjose_jws_import(receipt, len, NULL);
    if (!jws) {
        *why = "not a compact JWS";
        return NULL;
    }
    json_t *header = (json_t *)cjose_jws_get_protected(jws);
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const char *kid = json_string_value(json_object_get(header, "kid"));
    const char *typ = json_string_value(json_object_get(header, "typ"));
    cjose_jwk_t *key = NULL;
    json_t *payload = NULL;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    if (!json_is_object(header) || json_object_get(header, "crit")) {
        *why = "the header is not an object or has crit";
    } else if (!alg || strcmp(alg, "ES256") != 0) {
        *why = "alg is not ES256";
    } else if (!typ || strcmp(typ, RK_EXCHANGE_RECEIPT_TYP) != 0) {
        *why = "typ is not " RK_EXCHANGE_RECEIPT_TYP;
    } else if (!kid || strlen(kid) >= 64 || !(key = find_key(jwks, kid))) {
        *why = "the JWKS has no ES256 key with the receipt's kid";
    } else if (!rk_identity_jws_signature_fits(receipt, key, alg) ||
               !cjose_jws_verify(jws, key, NULL) ||
               !cjose_jws_get_plaintext(jws, &plain, &plain_len, NULL)) {
        *why = "the signature does not verify";
    } else if ((payload = rk_exchange_canonical_parse((const char *)plain, plain_len, why)) &&
               !json_is_object(payload)) {
        *why = "the payload is not a JSON object";
        json_decref(payload);
        payload = NULL;
    }
    if (payload)
        snprintf(kid_out, 64, "%s", kid);
    cjose_jwk_release(key);
    cjose_jws_release(jws);
    return payload;
}
