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
#define RK_IDENTITY_GRANT_AUTHORIZATION_CODE 0x2u
#define RK_IDENTITY_GRANT_REFRESH_TOKEN 0x4u
#define RK_IDENTITY_REFRESH_TTL_DEFAULT 2592000 /* 30 days */
#define RK_IDENTITY_REDIRECT_URIS_MAX 10
#define RK_IDENTITY_URI_MAX 512

/* How a client authenticates at the token endpoint (RFC 7591 token_endpoint_auth_method). */
typedef enum {
    RK_IDENTITY_AUTH_SECRET_BASIC,
    RK_IDENTITY_AUTH_SECRET_POST,
    RK_IDENTITY_AUTH_PRIVATE_KEY_JWT,
    RK_IDENTITY_AUTH_NONE, /* a public client (a browser or mobile app): PKCE instead */
} rk_identity_auth_method_t;

/** The method's RFC 7591 name. */
const char *rk_identity_auth_method_name(rk_identity_auth_method_t method);
#define RK_IDENTITY_TOKEN_TTL_MIN 60
#define RK_IDENTITY_TOKEN_TTL_MAX 86400
#define RK_IDENTITY_TOKEN_TTL_DEFAULT 300
#define RK_IDENTITY_CLIENT_ID_LEN 22     /* 16 random bytes in base64url */
#define RK_IDENTITY_CLIENT_SECRET_LEN 43 /* 32 random bytes in base64url */
#define RK_IDENTITY_CLIENT_CACHE_MAX 10000

typedef struct rk_identity_client {
    char *tenant_id;
    char *client_id;
    char *name;
    rk_identity_auth_method_t auth_method;
    unsigned char secret_sha256[32]; /* zero for clients without a secret */
    unsigned grant_types;            /* RK_IDENTITY_GRANT_* bits */
    char *scopes;                    /* space-separated */
    char *audience;
    int access_token_ttl;
    int refresh_token_ttl;
    rk_identity_alg_t signing_alg;
    json_t *redirect_uris; /* array of strings, matched exactly */
    json_t *post_logout_redirect_uris;
    int pairwise;    /* subject_type pairwise (else public) */
    char *sector;    /* sector_identifier, or "tenant:{tenant_id}" */
    int first_party; /* the tenant's own service: its residents are not asked to consent */
    char *service;   /* what agreements name, or NULL: the tenant's own residents only */
    json_t *jwks;    /* private_key_jwt: the registered JWK set (client_assertion.h); or NULL */
    uint64_t loaded_ns;
    struct rk_identity_client *next; /* hash chain */
} rk_identity_client_t;

/** A new client's settings as the admin API takes them; strings point into the JSON body. */
typedef struct rk_identity_client_spec {
    const char *name;
    json_t *scopes;      /* array of distinct scope tokens: a reference the caller releases */
    json_t *grant_types; /* array of grant names, or NULL for the default */
    unsigned grants;     /* RK_IDENTITY_GRANT_* of grant_types */
    rk_identity_auth_method_t auth_method;
    const char *audience; /* NULL: the hub's public URL */
    int access_token_ttl;
    int refresh_token_ttl;
    rk_identity_alg_t signing_alg;
    json_t *redirect_uris;             /* array, possibly empty */
    json_t *post_logout_redirect_uris; /* array, possibly empty */
    const char *subject_type;          /* "pairwise" or "public" */
    const char *sector_identifier;     /* or NULL */
    int first_party;
    const char *service;                /* or NULL */
    const char *backchannel_logout_uri; /* or NULL */
} rk_identity_client_spec_t;

/**
 * Validates a create-client request. Fields: "name" (required), "grant_types" (a subset of
 * authorization_code, refresh_token, client_credentials; default ["client_credentials"]),
 * "scopes" (default: openid profile email offline_access for the code flow; required for
 * client_credentials alone), "token_endpoint_auth_method" (client_secret_basic (default),
 * client_secret_post, none), "redirect_uris" (required with authorization_code: absolute
 * https URIs, or http on a loopback host, no fragment), "post_logout_redirect_uris",
 * "subject_type" (pairwise (default) or public), "sector_identifier", "first_party", "service",
 * "access_token_ttl" (60..86400, default 300), "refresh_token_ttl" (3600..31536000),
 * "audience", "signing_alg" (one of algs, default algs[0]), "backchannel_logout_uri".
 * Unknown fields are refused. RK_OK, or RK_EINVAL with why naming the field and the rule.
 * Either way the caller releases spec->scopes with json_decref() (NULL is fine).
 */
int rk_identity_client_spec_parse(json_t *body, const rk_identity_alg_t *algs, size_t n_algs,
                                  rk_identity_client_spec_t *spec, char *why, size_t why_len);

/** Fresh client id and secret (base64url of random bytes). RK_OK or RK_EIO. */
int rk_identity_client_credentials_new(char id[RK_IDENTITY_CLIENT_ID_LEN + 1],
                                       char secret[RK_IDENTITY_CLIENT_SECRET_LEN + 1]);

/** 1 if uri is one of the client's redirect_uris, compared exactly (OAuth 2.0 Security BCP). */
int rk_identity_client_redirect_ok(const rk_identity_client_t *client, const char *uri);

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
