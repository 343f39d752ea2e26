/*
 * web.h — the e-library's own site for residents ("my e-library"), a relying party of the
 * hub's OpenID provider (web_oidc.h): one login for the public library, the e-library and
 * school libraries. On elibrary.web_port, beside the adapter's gRPC port, on the same loop:
 *
 *   GET  /           my loans and the titles my age band may borrow (a login link when logged out)
 *   GET  /login      to the hub's /authorize (PKCE, state, nonce)
 *   GET  /callback   the code redeemed, the ID token verified, the session begun
 *   POST /checkout   borrow a title here (csrf, record_id): elibrary.call('Checkout')
 *   POST /logout     the session ended, then the hub's end_session
 *
 * The session cookie is HttpOnly, SameSite=Lax, and Secure when the site's URL is https.
 */
#ifndef ELIBRARY_WEB_H
#define ELIBRARY_WEB_H

#include "elibrary.h"

struct event_base;
typedef struct elibrary_web elibrary_web_t;

/** Registers the site's prepared statements; before rk_store_start(). */
void elibrary_web_prepare(struct rk_store *store);

/** Opens the site of e (its config's web_port) on base. NULL with why. */
elibrary_web_t *elibrary_web_start(elibrary_t *e, struct event_base *base, char *why,
                                   size_t why_len);

void elibrary_web_free(elibrary_web_t *web);

#endif
