/*
 * realm.h — the realm table: every tenant as an OIDC realm, with its published keys.
 *
 * Built from one query (RK_IDENTITY_SQL_REALM_ROWS) at start-up and again whenever the
 * fingerprint of its rows changes (a rotation here or on another hub, a retired key expiring,
 * a new tenant). Building does the work requests must not: it opens each realm's active
 * private keys under the master key, imports every published public key for verification,
 * and renders the discovery document and the JWKS once, so those endpoints only copy bytes
 * and the token endpoint signs with a key already in memory.
 *
 * A table is immutable once built; identity.c swaps in a new one and frees the old. Handlers
 * therefore look a realm up again by slug after any asynchronous step instead of keeping a
 * pointer across it.
 */
#ifndef RK_IDENTITY_REALM_H
#define RK_IDENTITY_REALM_H

#include "identity/keys.h"

#include <cjose/jwk.h>
#include <libpq-fe.h>
#include <stddef.h>

/*
 * One row per published key (next, active, retired but not expired), and one row with NULL
 * key columns for a tenant without keys. Columns: tenant id, slug, kid, alg, state, public
 * JWK, sealed private key (bytea; only for active keys), municipality code, names in Japanese
 * and English. Ordered bytewise by slug, which
 * rk_identity_realm_find() relies on.
 */
#define RK_IDENTITY_SQL_REALM_ROWS                                                                 \
    "SELECT t.id, t.slug, k.kid, k.alg, k.state, k.public_jwk::text,"                              \
    " CASE WHEN k.state = 'active' THEN k.private_sealed END, t.code, t.name_ja, t.name_en"        \
    " FROM rk_tenant t LEFT JOIN rk_identity_key k ON k.tenant_id = t.id"                          \
    "  AND (k.state <> 'retired' OR k.expires_at > now())"                                         \
    " ORDER BY t.slug COLLATE \"C\", k.alg, k.state, k.kid"

typedef enum {
    RK_IDENTITY_KEY_NEXT,
    RK_IDENTITY_KEY_ACTIVE,
    RK_IDENTITY_KEY_RETIRED,
} rk_identity_key_state_t;

typedef struct rk_identity_key {
    char *kid;
    rk_identity_alg_t alg;
    rk_identity_key_state_t state;
    cjose_jwk_t *public_key; /* for verification */
} rk_identity_key_t;

typedef struct rk_identity_realm {
    char *tenant_id; /* decimal text, as queries take it */
    char *slug;
    char *code; /* the municipality code: home_municipality in tokens */
    char *name_ja;
    char *name_en;
    char *issuer; /* {public_url}/t/{slug} */
    char *discovery;
    size_t discovery_len;
    char *jwks;
    size_t jwks_len;
    rk_identity_key_t *keys;
    size_t n_keys;
    cjose_jwk_t *signing[RK_IDENTITY_ALG_COUNT]; /* the active private key per alg, or NULL */
    const char *signing_kid[RK_IDENTITY_ALG_COUNT];
} rk_identity_realm_t;

typedef struct rk_identity_realms {
    rk_identity_realm_t *realms; /* sorted bytewise by slug */
    size_t n;
    char *fingerprint;
} rk_identity_realms_t;

/** What identifies the rows' content (tenants, kids, states): a string the caller free()s. */
char *rk_identity_realms_fingerprint(const PGresult *rows);

/**
 * Builds the table from rows of RK_IDENTITY_SQL_REALM_ROWS; cert_login says whether discovery
 * lists the certificate acr (the hub has trust anchors). Returns it (free with
 * rk_identity_realms_free()), or NULL with err naming the realm and key that could not be
 * opened or read.
 */
rk_identity_realms_t *rk_identity_realms_build(const PGresult *rows, const char *public_url,
                                               int cert_login,
                                               const rk_identity_master_key_t *master, char *err,
                                               size_t err_len);

/** The realm with this slug, or NULL. Valid until the table is freed. */
const rk_identity_realm_t *rk_identity_realm_find(const rk_identity_realms_t *realms,
                                                  const char *slug);

/**
 * A verification key of realm (an rk_identity_realm_t *) by kid, with *alg its algorithm: the
 * rk_identity_key_lookup_fn that token.h's verification takes.
 */
const cjose_jwk_t *rk_identity_realm_key_lookup(const void *realm, const char *kid,
                                                const char **alg);

void rk_identity_realms_free(rk_identity_realms_t *realms);

#endif
