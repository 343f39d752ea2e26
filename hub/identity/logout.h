/*
 * logout.h — ending the SSO session: OpenID Connect RP-Initiated Logout 1.0 at
 * GET|POST /t/{slug}/logout, and Back-Channel Logout 1.0 to every client that took part.
 *
 * The request: id_token_hint (an ID token this realm signed: its signature is checked against
 * the realm's published keys, with the alg the key has, and its iss; an expired one is still a
 * hint), client_id, post_logout_redirect_uri (exactly one of that client's registered
 * post_logout_redirect_uris; the client is the hint's audience or client_id, and they must
 * agree), state (echoed) and ui_locales. Until the client and the redirect URI check out,
 * every error is a page of ours, never a redirect: the endpoint must not become an open
 * redirector.
 *
 * The decision, with the browser's rk_sso session read by one query (its secret compared in
 * constant time): no live session — nothing to end; a hint whose sid is that session — end it
 * at once; otherwise — ask on a confirmation page, which posts back a signed tx (the request,
 * sealed with a key of its own and an expiry) and a CSRF token bound to the rk_csrf cookie by
 * the login pages' own mechanism (rk_identity_flow_csrf()). A cross-site POST from a relying
 * party arrives without the SameSite=Lax session cookie, so it is answered with a 303 to the
 * same request as a GET, which carries it.
 *
 * Ending is one statement: the session gets ended_at (one session spans every realm, so that
 * ends it everywhere); grants of the session whose scope lacks offline_access are revoked
 * (their tokens belonged to the session; offline refresh tokens outlive it, as the spec
 * allows); and it returns every client of any realm with a grant in the session and a
 * backchannel_logout_uri. Each gets a logout token (typ logout+jwt, signed by its realm's
 * active key of its signing_alg; sub as that client sees the resident, sid, events, no nonce)
 * queued on backchannel.h, so delivery never delays the answer. Then rk_sso is cleared
 * (Max-Age=0, same attributes) and the browser goes to post_logout_redirect_uri (with state)
 * or sees the "logged out" page.
 *
 * The pure parts (the hint's verification, the logout token's claims, the tx) are declared
 * here for tests/unit/identity/logout_test.c. identity.c registers the endpoint and frees the
 * state at shutdown.
 */
#ifndef RK_IDENTITY_LOGOUT_H
#define RK_IDENTITY_LOGOUT_H

#include "core/mem.h"
#include "identity/secret_text.h"
#include "identity/token.h"
#include "net/router.h"

#include <jansson.h>

struct rk_identity;
typedef struct rk_identity_logout rk_identity_logout_t;

#define RK_IDENTITY_LOGOUT_TOKEN_TTL 120 /* seconds: a logout token is used at once */
#define RK_IDENTITY_LOGOUT_TX_TTL 600    /* seconds a confirmation page stays valid */
#define RK_IDENTITY_BACKCHANNEL_LOGOUT_EVENT "http://schemas.openid.net/event/backchannel-logout"

/** A logout token's claims (Back-Channel Logout 1.0 §2.4). */
typedef struct rk_identity_logout_token {
    const char *issuer;
    const char *client_id; /* aud */
    const char *subject;   /* as this client sees the resident */
    const char *sid;
    const char *jti;
    long long issued_at;
    int lifetime_s;
} rk_identity_logout_token_t;

/** iss, aud, iat, exp, jti, sub, sid and events {RK_IDENTITY_BACKCHANNEL_LOGOUT_EVENT: {}}. */
json_t *rk_identity_logout_token_claims(const rk_identity_logout_token_t *token);

/** What an RP-initiated logout asked, carried through the confirmation page. */
typedef struct rk_identity_logout_request {
    const char *client_id;                /* or NULL */
    const char *post_logout_redirect_uri; /* checked against the client before sealing; or NULL */
    const char *state;                    /* or NULL */
    const char *ui_locales;               /* or NULL */
} rk_identity_logout_request_t;

/**
 * The request as a tx for realm: base64url(JSON with the realm and an expiry of
 * RK_IDENTITY_LOGOUT_TX_TTL) "." base64url(HMAC-SHA256(key, that)). In the arena.
 */
char *rk_identity_logout_tx_seal(rk_arena_t *arena, const rk_identity_logout_request_t *request,
                                 const char *realm, long long now,
                                 const unsigned char key[RK_IDENTITY_DERIVED_KEY_LEN]);

/**
 * Opens a tx of rk_identity_logout_tx_seal(): RK_OK with *request filled (strings in the
 * arena), or RK_EINVAL when tx is not one of realm's under key, or has expired at now.
 */
int rk_identity_logout_tx_open(rk_arena_t *arena, const char *tx, const char *realm, long long now,
                               const unsigned char key[RK_IDENTITY_DERIVED_KEY_LEN],
                               rk_identity_logout_request_t *request);

/**
 * Sets up identity->logout (its tx key, the back-channel delivery service), prepares the
 * statements and adds GET and POST /t/{slug}/logout. Before the loop runs.
 */
void rk_identity_logout_register(struct rk_identity *identity, rk_router_t *router);

/** Frees identity->logout, stopping deliveries in flight. Before the event base. NULL is fine. */
void rk_identity_logout_free(rk_identity_logout_t *logout);

#endif
