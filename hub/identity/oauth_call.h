/*
 * oauth_call.h — what the token, introspection and revocation endpoints share: one call from
 * the form body to an authenticated client, and the answers of RFC 6749 §5.2.
 *
 * oauth.c owns the path (rk_identity_oauth_begin()); the grants of the authorization code
 * flow (token_grant.c) and revocation (userinfo.c) plug their steps into it.
 */
#ifndef RK_IDENTITY_OAUTH_CALL_H
#define RK_IDENTITY_OAUTH_CALL_H

#include "identity/form.h"
#include "identity/identity.h"

#include <jansson.h>

typedef struct rk_identity_oauth_call rk_identity_oauth_call_t;

/** Runs with an authenticated client; client is valid until control returns to the loop. */
typedef void (*rk_identity_oauth_step_fn)(rk_identity_oauth_call_t *call,
                                          const rk_identity_realm_t *realm,
                                          const rk_identity_client_t *client);

struct rk_identity_oauth_call {
    rk_request_t *req;
    rk_identity_t *identity;
    const char *slug;
    rk_identity_form_t form;
    const char *client_id;
    const char *client_secret; /* NULL: a public client's request */
    int public_allowed;        /* the endpoint serves public clients (token, revoke) */
    rk_identity_oauth_step_fn next;
};

/**
 * The shared first part: realm, Content-Type, form and bounds, check() for the endpoint's own
 * required parameters (it answers and returns 0 when they are wrong), exactly one client
 * authentication, the client (cache or one query) and its secret; then next() runs.
 */
void rk_identity_oauth_begin(rk_request_t *req, int public_allowed,
                             int (*check)(rk_identity_oauth_call_t *),
                             rk_identity_oauth_step_fn next);

/** Sends body (taken) as JSON with Cache-Control: no-store, and finishes the request. */
void rk_identity_oauth_json(rk_request_t *req, int status, json_t *body);

/** An RFC 6749 §5.2 error; 401 (invalid_client) carries the Basic challenge. Finishes. */
void rk_identity_oauth_error(rk_identity_oauth_call_t *call, int status, const char *error,
                             const char *description);

/** 503 temporarily_unavailable with Retry-After: PostgreSQL did not answer. Finishes. */
void rk_identity_oauth_unavailable(rk_identity_oauth_call_t *call);

/** The authorization_code and refresh_token grants (token_grant.c). */
void rk_identity_token_grant_code(rk_identity_oauth_call_t *call, const rk_identity_realm_t *realm,
                                  const rk_identity_client_t *client);
void rk_identity_token_grant_refresh(rk_identity_oauth_call_t *call,
                                     const rk_identity_realm_t *realm,
                                     const rk_identity_client_t *client);
/**
 * The claims about a resident that scope allows (home_municipality and residency_verified
 * always; profile: preferred_username, name; email: email), from a grant's JSON (migration
 * 0005's rk_identity_grant_json). A new reference. Used by the ID token and userinfo.
 */
json_t *rk_identity_resident_claims(json_t *grant, const char *scope);

/**
 * Introspection of a resident's token (userinfo.c): body is the answer for a verified access
 * token with a gid claim (taken; sent only if the grant is still live), or NULL for an opaque
 * token, looked up as a refresh token. Answers the call.
 */
void rk_identity_introspect_resident(rk_identity_oauth_call_t *call,
                                     const rk_identity_realm_t *realm, json_t *body);

/** 1 if token is not shaped like a JWS (a refresh token, or garbage). */
int rk_identity_token_is_opaque(const char *token);

/** Prepares the grants' statements (before the store starts). */
void rk_identity_token_grant_prepare(rk_store_t *store);

#endif
