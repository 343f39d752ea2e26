/*
 * resident_token.h — a resident's access token as the credential of resident-facing RPCs
 * (booking): verified in memory against the keys of the realm its iss names.
 */
#ifndef RK_IDENTITY_RESIDENT_TOKEN_H
#define RK_IDENTITY_RESIDENT_TOKEN_H

#include "app.h"
#include "identity/realm.h"

#include <jansson.h>

/** What a verified resident token says; the strings are copies. */
typedef struct rk_identity_resident {
    char tenant_id[24];         /* the realm's tenant (decimal) */
    char realm[64];             /* the realm's slug */
    char subject[64];           /* sub: pairwise per sector */
    char grant_id[32];          /* gid: rk_identity_grant.id, checked live by the caller */
    char home_municipality[16]; /* the account's home municipality code */
} rk_identity_resident_t;

/**
 * The claims of a compact JWS as they read, NOT verified (a new reference, or NULL when token
 * is not a JWS with a JSON object payload): only to choose how to verify it.
 */
json_t *rk_identity_token_peek(const char *token);

/**
 * The claims (a new reference) of an access token issued by any realm of this hub for the hub
 * itself (aud = public_url), verified in memory, with *realm the realm that issued it; NULL
 * otherwise. What resident and staff credentials share.
 */
json_t *rk_identity_hub_access_token(const rk_app_t *app, const char *token,
                                     const rk_identity_realm_t **realm_out);

/**
 * Verifies token (the bearer value, not logged) as an access token of one of this hub's realms
 * (rk_identity_access_token_verify() with the realm's keys, now) whose aud is the hub itself
 * (app->public_url) and that carries sub and gid.
 * Returns 0 and fills out, or -1. The grant is not looked up: callers check gid live in the
 * statement that acts (a revoked grant then fails there).
 */
int rk_identity_resident_verify(const rk_app_t *app, const char *token,
                                rk_identity_resident_t *out);

#endif
