/*
 * client_assertion.c — registered JWK sets and private_key_jwt assertions (see
 * client_assertion.h).
 *
 * A JWK is judged twice: first as JSON (kty, crv, alg, use, private members), which gives the
 * client an error naming the member, then by cjose after import (the key type and curve it
 * really built, the RSA modulus size), so that what verifies is exactly what was checked.
 */
#include "identity/client_assertion.h"

#include "core/error.h"
#include "identity/secret_text.h"
#include "identity/token.h"

#include <cjose/header.h>
#include <cjose/jwk.h>
#include <cjose/jws.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RSA_BITS_MIN 2048
#define KID_MAX 255

/* What a key can sign with: the algorithms of its kind. */
typedef enum { KIND_NONE, KIND_EC_P256, KIND_RSA } key_kind_t;

/* Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4). */
static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

/* The kind of key alg needs; KIND_NONE for an algorithm this hub does not take. */
static key_kind_t kind_of_alg(const char *alg)
{
    if (!alg)
        return KIND_NONE;
    if (strcmp(alg, "ES256") == 0)
        return KIND_EC_P256;
    if (strcmp(alg, "RS256") == 0 || strcmp(alg, "PS256") == 0)
        return KIND_RSA;
    return KIND_NONE;
}

/* The kind a JWK's JSON claims to be; KIND_NONE for anything else. */
static key_kind_t kind_of_jwk(json_t *key)
{
    const char *kty = json_string_value(json_object_get(key, "kty"));
    const char *crv = json_string_value(json_object_get(key, "crv"));
    if (kty && strcmp(kty, "EC") == 0 && crv && strcmp(crv, "P-256") == 0)
        return KIND_EC_P256;
    if (kty && strcmp(kty, "RSA") == 0)
        return KIND_RSA;
    return KIND_NONE;
}

/* Imports key with cjose and confirms it is of kind; NULL if not (release what it returns). */
static cjose_jwk_t *import_key(json_t *key, key_kind_t kind)
{
    /* cjose asserts (aborts) on some malformed base64: it sees only well-formed members. */
    static const char *const encoded[] = {"x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi", "k"};
    for (size_t i = 0; i < sizeof(encoded) / sizeof(encoded[0]); i++) {
        json_t *member = json_object_get(key, encoded[i]);
        if (member &&
            (!json_is_string(member) ||
             !rk_identity_b64url_ok(json_string_value(member), json_string_length(member))))
            return NULL;
    }
    char *text = json_dumps(key, JSON_COMPACT);
    cjose_jwk_t *jwk = text ? cjose_jwk_import(text, strlen(text), NULL) : NULL;
    free(text);
    if (!jwk)
        return NULL;
    int ok = 0;
    cjose_jwk_kty_t kty = cjose_jwk_get_kty(jwk, NULL);
    if (kind == KIND_EC_P256)
        ok = kty == CJOSE_JWK_KTY_EC && cjose_jwk_EC_get_curve(jwk, NULL) == CJOSE_JWK_EC_P_256;
    else if (kind == KIND_RSA)
        ok = kty == CJOSE_JWK_KTY_RSA && cjose_jwk_get_keysize(jwk, NULL) >= RSA_BITS_MIN;
    if (!ok) {
        cjose_jwk_release(jwk);
        return NULL;
    }
    return jwk;
}

static int printable(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return 0;
    }
    return 1;
}

/* --- registration ----------------------------------------------------------------------------- */

static int refuse(char *why, size_t why_len, size_t i, const char *member, const char *rule)
{
    snprintf(why, why_len, "jwks.keys[%zu]%s%s: %s", i, member ? "." : "", member ? member : "",
             rule);
    return RK_EINVAL;
}

/* One key of a registered set. */
static int check_key(json_t *key, size_t i, char *why, size_t why_len)
{
    if (!json_is_object(key))
        return refuse(why, why_len, i, NULL, "must be a JWK (a JSON object)");
    for (size_t m = 0; m < sizeof(private_members) / sizeof(private_members[0]); m++) {
        if (json_object_get(key, private_members[m])) {
            char rule[96];
            snprintf(rule, sizeof(rule),
                     "must be a public key: the private member \"%s\" must not be sent",
                     private_members[m]);
            return refuse(why, why_len, i, NULL, rule);
        }
    }
    const char *kty = json_string_value(json_object_get(key, "kty"));
    if (!kty || (strcmp(kty, "EC") != 0 && strcmp(kty, "RSA") != 0))
        return refuse(why, why_len, i, "kty", "must be EC (P-256, for ES256) or RSA");
    key_kind_t kind = kind_of_jwk(key);
    if (kind == KIND_NONE)
        return refuse(why, why_len, i, "crv", "must be P-256 (ES256)");
    json_t *use = json_object_get(key, "use");
    if (use && (!json_is_string(use) || strcmp(json_string_value(use), "sig") != 0))
        return refuse(why, why_len, i, "use", "must be sig when present");
    json_t *alg = json_object_get(key, "alg");
    if (alg && kind_of_alg(json_string_value(alg)) != kind)
        return refuse(why, why_len, i, "alg",
                      kind == KIND_EC_P256 ? "must be ES256 for an EC P-256 key"
                                           : "must be RS256 or PS256 for an RSA key");
    json_t *kid = json_object_get(key, "kid");
    if (kid && (!json_is_string(kid) || json_string_length(kid) == 0 ||
                json_string_length(kid) > KID_MAX || !printable(json_string_value(kid))))
        return refuse(why, why_len, i, "kid", "must be 1 to 255 printable ASCII characters");
    cjose_jwk_t *jwk = import_key(key, kind);
    if (!jwk)
        return refuse(why, why_len, i, NULL,
                      kind == KIND_RSA ? "is not a valid RSA public key of at least 2048 bits"
                                       : "is not a valid EC P-256 public key");
    cjose_jwk_release(jwk);
    return RK_OK;
}

int rk_identity_client_jwks_check(json_t *jwks, char *why, size_t why_len)
{
    json_t *keys = json_object_get(jwks, "keys");
    size_t n = json_array_size(keys);
    if (!json_is_object(jwks) || !json_is_array(keys) || n == 0 || n > RK_IDENTITY_JWKS_MAX_KEYS) {
        snprintf(why, why_len, "jwks: must be a JWK set: {\"keys\": [...]} with 1 to %d keys",
                 RK_IDENTITY_JWKS_MAX_KEYS);
        return RK_EINVAL;
    }
    size_t i, j;
    json_t *key, *other;
    json_array_foreach(keys, i, key)
    {
        if (check_key(key, i, why, why_len) != RK_OK)
            return RK_EINVAL;
        json_t *kid = json_object_get(key, "kid");
        if (n > 1 && !kid)
            return refuse(why, why_len, i, "kid",
                          "is required when the set has several keys: assertions name theirs");
        json_array_foreach(keys, j, other)
        {
            if (j < i && kid && json_equal(kid, json_object_get(other, "kid")))
                return refuse(why, why_len, i, "kid", "is used by another key of the set");
        }
    }
    return RK_OK;
}

cjose_jwk_t *rk_identity_jwk_import(json_t *key)
{
    return import_key(key, kind_of_jwk(key));
}

int rk_identity_client_jwks_pin_alg(json_t *jwks, const char *alg, char *why, size_t why_len)
{
    key_kind_t kind = kind_of_alg(alg);
    if (kind == KIND_NONE) {
        snprintf(why, why_len, "token_endpoint_auth_signing_alg: must be ES256, RS256 or PS256");
        return RK_EINVAL;
    }
    size_t i;
    json_t *key;
    json_array_foreach(json_object_get(jwks, "keys"), i, key)
    {
        json_t *key_alg = json_object_get(key, "alg");
        if (kind_of_jwk(key) != kind ||
            (key_alg &&
             strcmp(json_string_value(key_alg) ? json_string_value(key_alg) : "", alg))) {
            snprintf(why, why_len,
                     "token_endpoint_auth_signing_alg: jwks.keys[%zu] cannot sign with %s", i, alg);
            return RK_EINVAL;
        }
    }
    json_array_foreach(json_object_get(jwks, "keys"), i, key)
    {
        if (!json_object_get(key, "alg"))
            json_object_set_new(key, "alg", json_string(alg));
    }
    return RK_OK;
}

/* --- assertions ------------------------------------------------------------------------------ */

/* The JWS of an assertion, or NULL with *why. Release it with cjose_jws_release(). */
static cjose_jws_t *import_jws(const char *assertion, const char **why)
{
    size_t len = strlen(assertion);
    /* cjose asserts (aborts) on some malformed base64: it sees only well-formed parts. */
    cjose_jws_t *jws =
        len <= RK_IDENTITY_TOKEN_MAX_BYTES && rk_identity_jws_shape_ok(assertion, len)
            ? cjose_jws_import(assertion, len, NULL)
            : NULL;
    if (!jws)
        *why = "client_assertion: must be a compact JWS of at most 8192 bytes";
    return jws;
}

/* The payload as a JSON object (a new reference), or NULL. */
static json_t *payload_of(cjose_jws_t *jws)
{
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    if (!cjose_jws_get_plaintext(jws, &plain, &plain_len, NULL))
        return NULL;
    json_t *claims = json_loadb((const char *)plain, plain_len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(claims)) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}

/* A string claim without NUL bytes of 1 to max bytes, or NULL. */
static const char *bounded_string(json_t *value, size_t max)
{
    const char *s = json_string_value(value);
    size_t len = json_string_length(value);
    return s && len >= 1 && len <= max && strlen(s) == len ? s : NULL;
}

int rk_identity_client_assertion_subject(rk_arena_t *arena, const char *assertion,
                                         const char **subject, const char **why)
{
    cjose_jws_t *jws = import_jws(assertion, why);
    if (!jws)
        return RK_EINVAL;
    json_t *claims = payload_of(jws);
    const char *sub = bounded_string(json_object_get(claims, "sub"), 255);
    int rc = RK_EINVAL;
    if (!claims)
        *why = "client_assertion: the payload is not a JSON object";
    else if (!sub)
        *why = "client_assertion: sub (the client_id) is required, at most 255 bytes";
    else {
        *subject = rk_arena_strdup(arena, sub);
        rc = RK_OK;
    }
    json_decref(claims);
    cjose_jws_release(jws);
    return rc;
}

/*
 * The registered key the header designates: by kid, or the only key when there is no kid.
 * NULL with *why when there is none.
 */
static json_t *designated_key(rk_arena_t *arena, json_t *jwks, json_t *header, const char **why)
{
    json_t *keys = json_object_get(jwks, "keys");
    json_t *kid = json_object_get(header, "kid");
    if (!kid) {
        if (json_array_size(keys) == 1)
            return json_array_get(keys, 0);
        *why = "client_assertion: the header must name a kid: the client registered several keys";
        return NULL;
    }
    const char *wanted = bounded_string(kid, KID_MAX);
    size_t i;
    json_t *key;
    json_array_foreach(keys, i, key)
    {
        const char *candidate = json_string_value(json_object_get(key, "kid"));
        if (wanted && candidate && strcmp(candidate, wanted) == 0)
            return key;
    }
    *why = wanted ? rk_arena_printf(arena,
                                    "client_assertion: kid \"%s\" is not a key the client "
                                    "registered",
                                    wanted)
                  : "client_assertion: kid must be a string of 1 to 255 bytes";
    return NULL;
}

/* A NumericDate (RFC 7519 §2) in seconds; 0 if value is not a number of a sane size. */
static int numeric_date(json_t *value, long long *out)
{
    if (!json_is_number(value))
        return 0;
    double seconds = json_number_value(value);
    if (!(seconds >= 0 && seconds < 1e15)) /* also refuses NaN */
        return 0;
    *out = (long long)seconds;
    return 1;
}

/* Checks a verified assertion's claims; NULL when they hold, else the reason. */
static const char *check_claims(json_t *claims, const char *client_id, const char *const *audiences,
                                size_t n_audiences, long long now)
{
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    if (!iss || !sub || strcmp(iss, client_id) != 0 || strcmp(sub, client_id) != 0)
        return "client_assertion: iss and sub must both be the client_id";
    json_t *aud = json_object_get(claims, "aud");
    int aud_ok = 0;
    for (size_t a = 0; a < n_audiences && !aud_ok; a++) {
        if (json_is_string(aud)) {
            aud_ok = strcmp(json_string_value(aud), audiences[a]) == 0;
        } else {
            size_t i;
            json_t *item;
            json_array_foreach(aud, i, item)
            {
                if (json_is_string(item) && strcmp(json_string_value(item), audiences[a]) == 0)
                    aud_ok = 1;
            }
        }
    }
    if (!aud_ok)
        return "client_assertion: aud must hold the token endpoint's URL or the issuer";
    long long exp, nbf, iat;
    int has_nbf = json_object_get(claims, "nbf") != NULL;
    int has_iat = json_object_get(claims, "iat") != NULL;
    if (!numeric_date(json_object_get(claims, "exp"), &exp))
        return "client_assertion: exp is required (a NumericDate)";
    if (exp + RK_IDENTITY_ASSERTION_LEEWAY <= now)
        return "client_assertion: expired (exp)";
    if (exp > now + RK_IDENTITY_ASSERTION_LIFETIME_MAX + RK_IDENTITY_ASSERTION_LEEWAY)
        return "client_assertion: exp must be at most 300 seconds ahead";
    if (has_nbf && (!numeric_date(json_object_get(claims, "nbf"), &nbf) ||
                    nbf > now + RK_IDENTITY_ASSERTION_LEEWAY))
        return "client_assertion: not valid yet (nbf)";
    if (has_iat && (!numeric_date(json_object_get(claims, "iat"), &iat) ||
                    iat > now + RK_IDENTITY_ASSERTION_LEEWAY))
        return "client_assertion: iat is in the future";
    if (!bounded_string(json_object_get(claims, "jti"), RK_IDENTITY_ASSERTION_JTI_MAX))
        return "client_assertion: jti is required: a string of 1 to 255 bytes";
    return NULL;
}

int rk_identity_client_assertion_verify(rk_arena_t *arena, const char *assertion, json_t *jwks,
                                        const char *client_id, const char *const *audiences,
                                        size_t n_audiences, long long now,
                                        rk_identity_client_assertion_t *out, const char **why)
{
    cjose_jws_t *jws = import_jws(assertion, why);
    if (!jws)
        return RK_EINVAL;
    int rc = RK_EINVAL;
    cjose_jwk_t *jwk = NULL;
    json_t *claims = NULL, *key = NULL;
    json_t *header = (json_t *)cjose_jws_get_protected(jws);
    const char *alg = json_string_value(json_object_get(header, "alg"));
    key_kind_t kind = kind_of_alg(alg);
    json_t *key_alg = NULL;
    if (!json_is_object(header) || json_object_get(header, "crit")) {
        *why = "client_assertion: the header must be a JSON object without crit";
    } else if (kind == KIND_NONE) {
        *why = "client_assertion: alg must be ES256, RS256 or PS256";
    } else if (!(key = designated_key(arena, jwks, header, why))) {
        /* *why is set */
    } else if (kind_of_jwk(key) != kind ||
               ((key_alg = json_object_get(key, "alg")) &&
                strcmp(json_string_value(key_alg) ? json_string_value(key_alg) : "", alg) != 0)) {
        *why =
            rk_arena_printf(arena, "client_assertion: alg %s does not fit the registered key", alg);
    } else if (!(jwk = import_key(key, kind))) {
        *why = "client_assertion: the registered key cannot be used";
    } else if (!rk_identity_jws_signature_fits(assertion, jwk, alg) ||
               !cjose_jws_verify(jws, jwk, NULL)) {
        *why = "client_assertion: the signature does not verify with the registered key";
    } else if (!(claims = payload_of(jws))) {
        *why = "client_assertion: the payload is not a JSON object";
    } else if ((*why = check_claims(claims, client_id, audiences, n_audiences, now)) == NULL) {
        out->jti = rk_arena_strdup(arena, json_string_value(json_object_get(claims, "jti")));
        numeric_date(json_object_get(claims, "exp"), &out->keep_until);
        out->keep_until += RK_IDENTITY_ASSERTION_LEEWAY;
        rc = RK_OK;
    }
    json_decref(claims);
    cjose_jwk_release(jwk);
    cjose_jws_release(jws);
    return rc;
}
