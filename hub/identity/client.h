/*
 * client.h — OAuth clients of a realm: their settings, the brief cache in front of
 * PostgreSQL, and secret checks.
 *
 * The token endpoint must not wait for the database on every request, so a client found in
 * PostgreSQL is kept in memory for identity.refresh_ms (a hash table bounded to
 * RK_IDENTITY_CLIENT_CACHE_MAX entries). A change made on another hub is seen within that
 * time. Unknown client ids are not cached: a new client works at once.
 *
 * Client secrets are generated here (32 random bytes), so SHA-256 is an adequate verifier
 * (no password hashing needed); the presented secret is hashed and compared in constant time.
 *
 * Used by oauth.c (authentication) and admin.c (creation, via the spec parser).
 */
#ifndef RK_IDENTITY_CLIENT_H
#define RK_IDENTITY_CLIENT_H

#include "identity/keys.h"
#include "store/pool.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define RK_IDENTITY_GRANT_CLIENT_CREDENTIALS 0x1u
#define RK_IDENTITY_TOKEN_TTL_MIN 60
#define RK_IDENTITY_TOKEN_TTL_MAX 86400 /* also how long a retired key stays published */
#define RK_IDENTITY_TOKEN_TTL_DEFAULT 300
#define RK_IDENTITY_CLIENT_ID_LEN 22     /* 16 random bytes in base64url */
#define RK_IDENTITY_CLIENT_SECRET_LEN 43 /* 32 random bytes in base64url */
#define RK_IDENTITY_CLIENT_CACHE_MAX 10000

typedef struct rk_identity_client {
    char *tenant_id;
    char *client_id;
    unsigned char secret_sha256[32];
    unsigned grant_types; /* RK_IDENTITY_GRANT_* bits */
    char *scopes;         /* space-separated */
    char *audience;
    int access_token_ttl;
    rk_identity_alg_t signing_alg;
    uint64_t loaded_ns;
    struct rk_identity_client *next; /* hash chain */
} rk_identity_client_t;

/** A new client's settings as the admin API takes them; strings point into the JSON body. */
typedef struct rk_identity_client_spec {
    const char *name;
    json_t *scopes;       /* array of distinct scope tokens */
    const char *audience; /* NULL: the hub's public URL */
    int access_token_ttl;
    rk_identity_alg_t signing_alg;
} rk_identity_client_spec_t;

/**
 * Validates a create-client request: {"name", "scopes": [...], optional "grant_types"
 * (["client_credentials"]), "access_token_ttl" (60..86400, default 300), "audience",
 * "signing_alg" (one of algs, default algs[0])}. Unknown fields are refused. RK_OK, or
 * RK_EINVAL with why naming the field and the rule.
 */
int rk_identity_client_spec_parse(json_t *body, const rk_identity_alg_t *algs, size_t n_algs,
                                  rk_identity_client_spec_t *spec, char *why, size_t why_len);

/** Fresh client id and secret (base64url of random bytes). RK_OK or RK_EIO. */
int rk_identity_client_credentials_new(char id[RK_IDENTITY_CLIENT_ID_LEN + 1],
                                       char secret[RK_IDENTITY_CLIENT_SECRET_LEN + 1]);

/** 1 if secret hashes to the client's stored SHA-256 (constant-time comparison). */
int rk_identity_client_secret_ok(const rk_identity_client_t *client, const char *secret);

typedef struct rk_identity_clients rk_identity_clients_t;

/** The cache; prepares its statement on store (call before rk_store_start()). */
rk_identity_clients_t *rk_identity_clients_new(rk_store_t *store, int ttl_ms);
/** Frees the cache. Lookups still in flight must have completed (free the store first). */
void rk_identity_clients_free(rk_identity_clients_t *clients);

/**
 * Called with RK_OK and the client, RK_ENOTFOUND, or RK_EUNAVAILABLE. client is valid only
 * during the call.
 */
typedef void (*rk_identity_client_cb)(int status, const rk_identity_client_t *client, void *arg);

/**
 * Finds client_id in the realm whose tenant id is tenant_id. RK_OK with *found when cached
 * (valid until control returns to the loop; cb is not called); RK_AGAIN when PostgreSQL is
 * asked (cb is called once, later); RK_EUNAVAILABLE at once when no connection is up.
 */
int rk_identity_client_lookup(rk_identity_clients_t *clients, const char *tenant_id,
                              const char *client_id, const rk_identity_client_t **found,
                              rk_identity_client_cb cb, void *arg);

#endif
