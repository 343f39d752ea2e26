/*
 * token.c — scopes, access token claims, JWS signing and verification (see token.h).
 */
#include "identity/token.h"

#include "core/error.h"
#include "core/mem.h"
#include "identity/secret_text.h"

#include <cjose/base64.h>
#include <cjose/header.h>
#include <cjose/jws.h>
#include <cjose/util.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int rk_identity_scope_token_valid(const char *s, size_t len)
{
    if (len == 0 || len > RK_IDENTITY_SCOPE_TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e)
            return 0;
    }
    return 1;
}

/* 1 if the space-separated list holds the token s[0..len). */
static int list_has(const char *list, const char *s, size_t len)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " ");
        if (n == len && memcmp(p, s, len) == 0)
            return 1;
        p += n;
        while (*p == ' ')
            p++;
    }
    return 0;
}

int rk_identity_scope_has(const char *list, const char *word)
{
    return list_has(list, word, strlen(word));
}

int rk_identity_scope_grant(rk_arena_t *arena, const char *requested, const char *allowed,
                            const char **granted, const char **why)
{
    if (!requested) {
        *granted = allowed;
        return RK_OK;
    }
    size_t len = strlen(requested);
    if (len > RK_IDENTITY_SCOPE_MAX_BYTES) {
        *why = "scope: must be at most 1024 bytes";
        return RK_EINVAL;
    }
    char *out = rk_arena_alloc(arena, len + 1);
    size_t out_len = 0;
    int n_tokens = 0;
    out[0] = '\0';
    for (const char *p = requested;;) {
        size_t n = strcspn(p, " ");
        if (!rk_identity_scope_token_valid(p, n)) {
            *why = "scope: must be scope tokens (printable ASCII without '\"' and '\\', at most "
                   "128 bytes each) separated by single spaces";
            return RK_EINVAL;
        }
        if (!list_has(allowed, p, n)) {
            *why =
                rk_arena_printf(arena, "scope: '%.*s' is not allowed for this client", (int)n, p);
            return RK_EINVAL;
        }
        if (!list_has(out, p, n)) {
            if (++n_tokens > RK_IDENTITY_SCOPE_MAX_TOKENS) {
                *why = "scope: at most 32 scopes";
                return RK_EINVAL;
            }
            if (out_len)
                out[out_len++] = ' ';
            memcpy(out + out_len, p, n);
            out_len += n;
            out[out_len] = '\0';
        }
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    *granted = out;
    return RK_OK;
}

json_t *rk_identity_access_token_claims(const rk_identity_access_token_t *t)
{
    json_t *claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "iss", t->issuer, "sub",
                               t->subject ? t->subject : t->client_id, "aud", t->audience,
                               "client_id", t->client_id, "iat", (json_int_t)t->issued_at, "exp",
                               (json_int_t)(t->issued_at + t->lifetime_s), "jti", t->jti);
    if (*t->scope)
        json_object_set_new(claims, "scope", json_string(t->scope));
    if (t->extra)
        json_object_update_missing(claims, t->extra);
    return claims;
}

json_t *rk_identity_id_token_claims(const rk_identity_id_token_t *t)
{
    json_t *claims =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:O}", "iss", t->issuer, "sub",
                  t->subject, "aud", t->client_id, "azp", t->client_id, "iat",
                  (json_int_t)t->issued_at, "exp", (json_int_t)(t->issued_at + t->lifetime_s),
                  "auth_time", (json_int_t)t->auth_time, "acr", t->acr, "amr", t->amr);
    if (t->nonce)
        json_object_set_new(claims, "nonce", json_string(t->nonce));
    if (t->sid)
        json_object_set_new(claims, "sid", json_string(t->sid));
    if (t->at_hash)
        json_object_set_new(claims, "at_hash", json_string(t->at_hash));
    if (t->extra)
        json_object_update_missing(claims, t->extra);
    return claims;
}

void rk_identity_at_hash(const char *access_token, char out[23])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)access_token, strlen(access_token), digest);
    rk_identity_b64url(digest, 16, out);
}

void rk_identity_subject(const unsigned char key[32], int pairwise, const char *sector,
                         const char *uid, char out[44])
{
    if (!pairwise) {
        snprintf(out, 44, "%s", uid);
        return;
    }
    size_t sector_len = strlen(sector), uid_len = strlen(uid);
    char *data = rk_xmalloc(sector_len + uid_len + 1);
    memcpy(data, sector, sector_len);
    data[sector_len] = '\0';
    memcpy(data + sector_len + 1, uid, uid_len);
    rk_identity_hmac_text(key, data, sector_len + uid_len + 1, out);
    free(data);
}

char *rk_identity_jws_sign(const cjose_jwk_t *key, const char *alg, const char *kid,
                           const char *typ, const char *payload, size_t len, const char **why)
{
    char *out = NULL;
    const char *compact = NULL;
    cjose_jws_t *jws = NULL;
    cjose_header_t *header = cjose_header_new(NULL);
    if (!header || !cjose_header_set(header, CJOSE_HDR_ALG, alg, NULL) ||
        !cjose_header_set(header, CJOSE_HDR_KID, kid, NULL) ||
        !cjose_header_set(header, "typ", typ, NULL)) {
        *why = "cannot build the JWS header";
        goto out;
    }
    jws = cjose_jws_sign(key, header, (const uint8_t *)payload, len, NULL);
    if (!jws || !cjose_jws_export(jws, &compact, NULL)) {
        *why = "signing failed";
        goto out;
    }
    out = rk_xstrdup(compact);
out:
    cjose_jws_release(jws);
    cjose_header_release(header);
    return out;
}

static int typ_is_at_jwt(const char *typ)
{
    return typ && (strcasecmp(typ, "at+jwt") == 0 || strcasecmp(typ, "application/at+jwt") == 0);
}

/* Checks the claims of a verified token; NULL when they hold, else the reason. */
static const char *check_claims(json_t *claims, const char *issuer, long long now)
{
    if (!json_is_object(claims))
        return "the payload is not a JSON object";
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    if (!iss || strcmp(iss, issuer) != 0)
        return "iss is not this realm's issuer";
    json_t *exp = json_object_get(claims, "exp");
    json_t *iat = json_object_get(claims, "iat");
    json_t *nbf = json_object_get(claims, "nbf");
    if (!json_is_integer(exp) || !json_is_integer(iat))
        return "exp or iat is missing or not an integer";
    if (json_integer_value(exp) <= now)
        return "expired";
    if (nbf && (!json_is_integer(nbf) || json_integer_value(nbf) > now))
        return "not valid yet (nbf)";
    return NULL;
}

int rk_identity_jws_signature_fits(const char *token, const cjose_jwk_t *key, const char *alg)
{
    const char *last = strrchr(token, '.');
    size_t bytes = strcmp(alg, "ES256") == 0 ? 64 : cjose_jwk_get_keysize(key, NULL) / 8;
    return last && bytes && strlen(last + 1) == RK_IDENTITY_B64_LEN(bytes);
}

json_t *rk_identity_access_token_verify(const char *token, const char *issuer, long long now,
                                        rk_identity_key_lookup_fn lookup, const void *ctx,
                                        const char **why)
{
    size_t len = strlen(token);
    if (len > RK_IDENTITY_TOKEN_MAX_BYTES) {
        *why = "longer than 8192 bytes";
        return NULL;
    }
    json_t *claims = NULL;
    /* cjose asserts (aborts) on some malformed base64: it sees only well-formed parts. */
    cjose_jws_t *jws =
        rk_identity_jws_shape_ok(token, len) ? cjose_jws_import(token, len, NULL) : NULL;
    if (!jws) {
        *why = "not a compact JWS";
        return NULL;
    }
    json_t *header = (json_t *)cjose_jws_get_protected(jws);
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const char *kid = json_string_value(json_object_get(header, "kid"));
    const char *key_alg = NULL;
    const cjose_jwk_t *key = NULL;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    if (!json_is_object(header) || json_object_get(header, "crit")) {
        *why = "the header is not an object or has crit";
    } else if (!typ_is_at_jwt(json_string_value(json_object_get(header, "typ")))) {
        *why = "typ is not at+jwt";
    } else if (!kid || !(key = lookup(ctx, kid, &key_alg))) {
        *why = "no kid, or a kid this realm does not publish";
    } else if (!alg || strcmp(alg, key_alg) != 0) {
        *why = "alg differs from the key's algorithm";
    } else if (!rk_identity_jws_signature_fits(token, key, alg) ||
               !cjose_jws_verify(jws, key, NULL) ||
               !cjose_jws_get_plaintext(jws, &plain, &plain_len, NULL)) {
        *why = "bad signature";
    } else {
        claims = json_loadb((const char *)plain, plain_len, JSON_REJECT_DUPLICATES, NULL);
        const char *problem =
            claims ? check_claims(claims, issuer, now) : "the payload is not JSON";
        if (problem) {
            *why = problem;
            json_decref(claims);
            claims = NULL;
        }
    }
    cjose_jws_release(jws);
    return claims;
}

json_t *rk_identity_id_token_hint_verify(const char *token, const char *issuer,
                                         rk_identity_key_lookup_fn lookup, const void *ctx,
                                         const char **client_id, const char **why)
{
    size_t len = strlen(token);
    if (len > RK_IDENTITY_TOKEN_MAX_BYTES) {
        *why = "longer than 8192 bytes";
        return NULL;
    }
    /* cjose asserts (aborts) on some malformed base64: it sees only well-formed parts. */
    cjose_jws_t *jws =
        rk_identity_jws_shape_ok(token, len) ? cjose_jws_import(token, len, NULL) : NULL;
    if (!jws) {
        *why = "not a compact JWS";
        return NULL;
    }
    json_t *claims = NULL;
    json_t *header = (json_t *)cjose_jws_get_protected(jws);
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const char *kid = json_string_value(json_object_get(header, "kid"));
    const char *typ = json_string_value(json_object_get(header, "typ"));
    const char *key_alg = NULL;
    const cjose_jwk_t *key = NULL;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    if (!json_is_object(header) || json_object_get(header, "crit")) {
        *why = "the header is not an object or has crit";
    } else if (!typ || strcasecmp(typ, "JWT") != 0) {
        *why = "typ is not JWT: not an ID token";
    } else if (!kid || !(key = lookup(ctx, kid, &key_alg))) {
        *why = "no kid, or a kid this realm does not publish";
    } else if (!alg || strcmp(alg, key_alg) != 0) {
        *why = "alg differs from the key's algorithm";
    } else if (!rk_identity_jws_signature_fits(token, key, alg) ||
               !cjose_jws_verify(jws, key, NULL) ||
               !cjose_jws_get_plaintext(jws, &plain, &plain_len, NULL)) {
        *why = "bad signature";
    } else if (!(claims =
                     json_loadb((const char *)plain, plain_len, JSON_REJECT_DUPLICATES, NULL))) {
        *why = "the payload is not JSON";
    }
    cjose_jws_release(jws);
    if (!claims)
        return NULL;
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    json_t *aud = json_object_get(claims, "aud");
    const char *azp = json_string_value(json_object_get(claims, "azp"));
    const char *audience = NULL;
    if (json_is_string(aud)) {
        audience = json_string_value(aud);
    } else if (json_is_array(aud) && json_array_size(aud) == 1 && !azp) {
        audience = json_string_value(json_array_get(aud, 0));
    } else if (json_is_array(aud) && azp) {
        for (size_t i = 0; i < json_array_size(aud) && !audience; i++) {
            const char *member = json_string_value(json_array_get(aud, i));
            if (member && strcmp(member, azp) == 0)
                audience = member;
        }
    }
    json_t *sid = json_object_get(claims, "sid");
    if (!json_is_object(claims) || !iss || strcmp(iss, issuer) != 0)
        *why = "iss is not this realm's issuer";
    else if (!json_is_string(json_object_get(claims, "sub")))
        *why = "no sub";
    else if (!audience || !*audience)
        *why = "no audience that names one client";
    else if (sid && !json_is_string(sid))
        *why = "sid is not a string";
    else {
        *client_id = audience;
        return claims;
    }
    json_decref(claims);
    return NULL;
}
