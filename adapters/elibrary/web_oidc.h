/*
 * web_oidc.h — the e-library site's OpenID Connect relying party: a confidential client of the
 * hub's realm (elibrary.oidc_*) using the authorization code flow with PKCE (S256), state
 * (bound to the browser by a cookie) and nonce, the code redeemed at the token endpoint with
 * client_secret_basic, and the ID token verified with cjose against the realm's JWKS
 * (hub/identity's rk_identity_id_token_hint_verify and rk_identity_jwk_import), then its
 * audience, expiry and nonce. Logins in progress and sessions live in bounded tables in memory
 * (the oldest goes first when full); nothing of a token is logged.
 */
#ifndef ELIBRARY_WEB_OIDC_H
#define ELIBRARY_WEB_OIDC_H

#include "elibrary.h"

#include <time.h>

struct event_base;

#define WEB_OIDC_ID_LEN 43 /* random ids: 32 bytes, base64url */

/** A resident logged in at the site. */
typedef struct web_session {
    char id[WEB_OIDC_ID_LEN + 1];   /* the cookie's value */
    char csrf[WEB_OIDC_ID_LEN + 1]; /* forms carry it */
    char sub[64];                   /* pairwise towards this city: the hub's pairwise_id */
    char age_band[24];              /* "elementary", "lower_secondary" or "" */
    char home[16];                  /* home municipality code */
    char *id_token;                 /* for the hub's end_session (id_token_hint) */
    time_t expires;
} web_session_t;

typedef struct web_oidc web_oidc_t;

/** The relying party of config (borrowed; it must outlive it); NULL with why. */
web_oidc_t *web_oidc_new(struct event_base *base, const elibrary_config_t *config, char *why,
                         size_t why_len);
void web_oidc_free(web_oidc_t *rp);

/**
 * Starts a login: a new state (into state, for the browser's cookie), nonce and PKCE verifier
 * remembered for 10 minutes; returns the authorization URL (free() it), or NULL.
 */
char *web_oidc_login_url(web_oidc_t *rp, char state[WEB_OIDC_ID_LEN + 1]);

/** The end of a login: the new session, or NULL with why (for the resident's page). */
typedef void (*web_oidc_done_fn)(web_session_t *session, const char *why, void *arg);

/**
 * Completes a login from the callback's code, state and iss, and the state cookie the browser
 * sent (NULL when none): the state must be the browser's and still waiting (it is used once).
 * done is called once, maybe before this returns.
 */
void web_oidc_complete(web_oidc_t *rp, const char *code, const char *state, const char *iss,
                       const char *cookie_state, web_oidc_done_fn done, void *arg);

/** The live session of a cookie value, or NULL. */
web_session_t *web_oidc_session(web_oidc_t *rp, const char *id);

/**
 * Ends session; returns the hub's end_session URL with id_token_hint and the site as
 * post_logout_redirect_uri (free() it), or NULL.
 */
char *web_oidc_end(web_oidc_t *rp, web_session_t *session);

/** The site's public URL (no trailing slash). */
const char *web_oidc_public_url(const web_oidc_t *rp);

#endif
