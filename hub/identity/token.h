/*
 * token.h — access tokens: scopes, claims (RFC 9068), JWS signing and verification.
 *
 * The pure part of the token and introspection endpoints, kept apart from requests and the
 * database so that unit tests reach every rule. Signing and verification go through cjose.
 * Verification never lets a token choose its own algorithm: the key is found by kid, and the
 * header's alg must equal that key's algorithm before cjose checks the signature (cjose would
 * otherwise take the algorithm from the token). Tokens signed "none", HS256 with a public
 * key as secret, or by a key of another realm are refused there.
 *
 * Called by oauth.c; tested by tests/unit/identity/token_test.c.
 */
#ifndef RK_IDENTITY_TOKEN_H
#define RK_IDENTITY_TOKEN_H

#include "core/mem.h"

#include <cjose/jwk.h>
#include <jansson.h>
#include <stddef.h>

#define RK_IDENTITY_SCOPE_MAX_BYTES 1024 /* a scope parameter, or all of a client's scopes */
#define RK_IDENTITY_SCOPE_MAX_TOKENS 32
#define RK_IDENTITY_SCOPE_TOKEN_MAX 128
#define RK_IDENTITY_TOKEN_ID_LEN 22 /* 16 random bytes in base64url */
#define RK_IDENTITY_TOKEN_MAX_BYTES 8192

/** 1 if s[0..len) is one scope-token (RFC 6749 §3.3) of at most RK_IDENTITY_SCOPE_TOKEN_MAX. */
int rk_identity_scope_token_valid(const char *s, size_t len);

/** 1 if the space-separated list holds the scope word. */
int rk_identity_scope_has(const char *list, const char *word);

/**
 * The scope to grant. requested is the request's space-separated scope parameter, or NULL
 * when absent (then every allowed scope is granted); allowed is the client's, space-separated.
 * RK_OK with *granted (in the arena: requested order, duplicates dropped; "" for none), or
 * RK_EINVAL with *why naming the malformed or not allowed scope.
 */
int rk_identity_scope_grant(rk_arena_t *arena, const char *requested, const char *allowed,
                            const char **granted, const char **why);

typedef struct rk_identity_access_token {
    const char *issuer;
    const char *client_id;
    const char *subject; /* the resident's sub; NULL: client_id (no resource owner, §2.2) */
    const char *audience;
    const char *scope; /* granted scopes, space-separated; "" leaves the claim out */
    const char *jti;
    long long issued_at; /* seconds since the epoch */
    int lifetime_s;
    json_t *extra; /* further claims (a resident's: gid, auth_time, acr, ...), or NULL */
} rk_identity_access_token_t;

/** The claims set: iss, sub, aud, client_id, iat, exp, jti, scope and extra. A new reference. */
json_t *rk_identity_access_token_claims(const rk_identity_access_token_t *token);

/** The ID token's claims (OpenID Connect Core §2, §3.1.3.6). */
typedef struct rk_identity_id_token {
    const char *issuer;
    const char *subject;
    const char *client_id; /* aud and azp */
    const char *nonce;     /* NULL: left out */
    const char *acr;
    json_t *amr;         /* array of method names */
    const char *sid;     /* NULL: left out */
    const char *at_hash; /* NULL: left out */
    long long issued_at;
    long long auth_time;
    int lifetime_s;
    json_t *extra; /* home_municipality, residency_verified, profile claims; or NULL */
} rk_identity_id_token_t;

/** The ID token's claims set. A new reference. */
json_t *rk_identity_id_token_claims(const rk_identity_id_token_t *token);

/**
 * at_hash of an access token (Core §3.1.3.6): base64url of the left half of its SHA-256 (both
 * ES256 and RS256 hash with SHA-256), into out.
 */
void rk_identity_at_hash(const char *access_token, char out[23]);

/**
 * The subject a client sees for a resident (Core §8): public, the account's uid; pairwise,
 * base64url(HMAC-SHA256(key, sector "\0" uid)), so two sectors cannot join their records.
 */
void rk_identity_subject(const unsigned char key[32], int pairwise, const char *sector,
                         const char *uid, char out[44]);

/**
 * Signs payload as a compact JWS whose protected header is {alg, kid, typ}. Returns a string
 * the caller free()s, or NULL with *why.
 */
char *rk_identity_jws_sign(const cjose_jwk_t *key, const char *alg, const char *kid,
                           const char *typ, const char *payload, size_t len, const char **why);

/**
 * 1 if the signature part of token (a compact JWS of well-formed shape) is exactly as long as
 * one made by key with alg: 64 bytes for ES256, the modulus length for RS256/PS256. cjose
 * verifies a signature with bytes appended, which would let one token have many spellings.
 */
int rk_identity_jws_signature_fits(const char *token, const cjose_jwk_t *key, const char *alg);

/**
 * Finds the verification key for kid: the key, with *alg set to its algorithm's name, or NULL
 * when this realm publishes no such key.
 */
typedef const cjose_jwk_t *(*rk_identity_key_lookup_fn)(const void *ctx, const char *kid,
                                                        const char **alg);

/**
 * Verifies an access token of the realm whose issuer is given, at time now (seconds): a
 * compact JWS of at most RK_IDENTITY_TOKEN_MAX_BYTES, no "crit" header, typ at+jwt, a kid
 * that lookup knows, alg equal to that key's, a good signature, iss equal to issuer, integer
 * iat and exp with now < exp, and nbf (if any) <= now. Returns the claims (a new reference),
 * or NULL with *why (a static sentence for logs, never for the client).
 */
json_t *rk_identity_access_token_verify(const char *token, const char *issuer, long long now,
                                        rk_identity_key_lookup_fn lookup, const void *ctx,
                                        const char **why);

/**
 * Verifies an ID token (an id_token_hint at logout, a relying party's ID token) of the realm whose
 * issuer is given: a compact JWS of at most RK_IDENTITY_TOKEN_MAX_BYTES, no "crit", typ JWT (what
 * this provider's ID tokens carry, so access and logout tokens are refused), a kid that lookup
 * knows, alg equal to that key's (checked before cjose verifies), a good signature, iss equal to
 * issuer, a string sub and an audience: a string, or an array whose azp (required when it has more
 * than one member) names one of them. Expiry is not checked: an expired ID token is still a hint.
 * Returns the claims (a new reference) with *client_id the audience (pointing into them), or NULL
 * with *why (a static sentence for logs).
 */
json_t *rk_identity_id_token_hint_verify(const char *token, const char *issuer,
                                         rk_identity_key_lookup_fn lookup, const void *ctx,
                                         const char **client_id, const char **why);

#endif
