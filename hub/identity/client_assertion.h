/*
 * client_assertion.h — private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9): a client
 * authenticates with a short-lived JWT it signed with a key whose public half it registered,
 * instead of sending a secret.
 *
 * The pure part, kept apart from requests and the database so that unit tests reach every
 * rule: rk_identity_client_jwks_check() vets a JWK set before registration stores it, and
 * rk_identity_client_assertion_verify() checks one assertion against the stored set. As for
 * access tokens (token.h), the token never chooses its algorithm: the key is found by kid (or
 * is the only key), and the header's alg must be one the key can have — ES256 for EC P-256,
 * RS256 or PS256 for RSA of 2048 bits or more, and the JWK's own alg when it names one —
 * before cjose verifies. "none" and HS* never verify.
 *
 * Replay: an accepted assertion's jti is stored with RK_IDENTITY_SQL_ASSERTION_JTI, whose
 * primary key refuses a second use on every hub; the bound on exp keeps those rows few and
 * brief. oauth.c runs that statement after verification; registration.c prepares it.
 *
 * Tested by tests/unit/identity/client_assertion_test.c.
 */
#ifndef RK_IDENTITY_CLIENT_ASSERTION_H
#define RK_IDENTITY_CLIENT_ASSERTION_H

#include "core/mem.h"

#include <cjose/jwk.h>
#include <jansson.h>
#include <stddef.h>

#define RK_IDENTITY_CLIENT_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define RK_IDENTITY_ASSERTION_LIFETIME_MAX 300 /* exp at most 5 minutes after now */
#define RK_IDENTITY_ASSERTION_LEEWAY 30        /* seconds of clock skew, both ways */
#define RK_IDENTITY_ASSERTION_JTI_MAX 255
#define RK_IDENTITY_JWKS_MAX_KEYS 10

/*
 * Records the jti of an accepted assertion: $1 tenant id, $2 client id, $3 jti, $4 the time
 * (seconds since the epoch) until which it must be remembered. One row back when the jti is
 * new (or its previous use has expired), none for a replay. The same statement deletes a few
 * expired rows of any client, so the table holds about the live assertions only; SKIP LOCKED
 * keeps hubs from waiting on each other's clean-up.
 */
#define RK_IDENTITY_STMT_ASSERTION_JTI "identity_client_assertion_jti"
#define RK_IDENTITY_SQL_ASSERTION_JTI                                                              \
    "WITH expired AS (DELETE FROM rk_identity_client_assertion WHERE (tenant_id, client_id, jti)"  \
    " IN (SELECT tenant_id, client_id, jti FROM rk_identity_client_assertion"                      \
    "  WHERE expires_at < now() AND (tenant_id, client_id, jti) <> ($1::bigint, $2, $3)"           \
    "  ORDER BY expires_at LIMIT 16 FOR UPDATE SKIP LOCKED))"                                      \
    " INSERT INTO rk_identity_client_assertion AS a (tenant_id, client_id, jti, expires_at)"       \
    " VALUES ($1::bigint, $2, $3, to_timestamp($4::bigint))"                                       \
    " ON CONFLICT (tenant_id, client_id, jti) DO UPDATE SET expires_at = excluded.expires_at"      \
    "  WHERE a.expires_at < now()"                                                                 \
    " RETURNING 1"

/**
 * Checks a JWK set a client registers for private_key_jwt: an object whose "keys" holds 1 to
 * RK_IDENTITY_JWKS_MAX_KEYS public signing keys, each EC on P-256 or RSA of at least 2048
 * bits, without private members, "use" absent or "sig", "alg" absent or one the key can have
 * (ES256; RS256 or PS256), and a "kid" of 1 to 255 printable ASCII characters, required and
 * distinct when there are several keys. RK_OK, or RK_EINVAL with why naming the member, e.g.
 * "jwks.keys[1].crv: must be P-256 (ES256)".
 */
int rk_identity_client_jwks_check(json_t *jwks, char *why, size_t why_len);

/**
 * The cjose key of one member of a checked JWK set (rk_identity_client_jwks_check): a P-256
 * or RSA (2048 bits at least) public key; NULL if it does not import as one. The caller
 * releases it (cjose_jwk_release). Relying parties use it for a provider's JWKS too.
 */
cjose_jwk_t *rk_identity_jwk_import(json_t *key);

/**
 * Binds every key of a checked JWK set to alg (the client's token_endpoint_auth_signing_alg,
 * RFC 7591 §2): keys without "alg" get it, so that assertions signed otherwise are refused.
 * RK_OK, or RK_EINVAL with why when alg is not ES256, RS256 or PS256, or a key of the set
 * cannot sign with it.
 */
int rk_identity_client_jwks_pin_alg(json_t *jwks, const char *alg, char *why, size_t why_len);

/**
 * The sub claim of an assertion, read without verifying it: the token endpoint needs it to
 * find the client when client_id is not sent (RFC 7523 §3). RK_OK with *subject (in the
 * arena, at most 255 bytes), or RK_EINVAL with *why. Nothing is trusted until
 * rk_identity_client_assertion_verify() has run.
 */
int rk_identity_client_assertion_subject(rk_arena_t *arena, const char *assertion,
                                         const char **subject, const char **why);

/** What a verified assertion leaves to check against the replay table. */
typedef struct rk_identity_client_assertion {
    const char *jti;      /* in the arena */
    long long keep_until; /* exp plus the leeway: until then a second use is a replay */
} rk_identity_client_assertion_t;

/**
 * Verifies a client assertion of client_id at time now (seconds) against the client's
 * registered JWK set: a compact JWS without "crit", signed by the key whose kid the header
 * names (or the set's only key when it names none) with an alg that key can have, iss and
 * sub equal to client_id, an aud (string or array) holding one of audiences, an exp after
 * now - RK_IDENTITY_ASSERTION_LEEWAY and at most RK_IDENTITY_ASSERTION_LIFETIME_MAX seconds
 * (plus the leeway) ahead, nbf and iat (when present) not in the future, and a jti of 1 to
 * RK_IDENTITY_ASSERTION_JTI_MAX bytes. RK_OK with *out, or RK_EINVAL with *why: a sentence
 * naming the claim or header member, meant for the client that made the assertion.
 */
int rk_identity_client_assertion_verify(rk_arena_t *arena, const char *assertion, json_t *jwks,
                                        const char *client_id, const char *const *audiences,
                                        size_t n_audiences, long long now,
                                        rk_identity_client_assertion_t *out, const char **why);

#endif
