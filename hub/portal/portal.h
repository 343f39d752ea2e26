/*
 * portal.h — the resident portal: the hub serves its files and the one endpoint it needs.
 *
 * Routes:
 *   GET /, GET /callback   index.html (the single page; /callback is its OIDC redirect URI),
 *                          no-cache with the build id as ETag, a strict Content-Security-Policy
 *   GET /portal/{build}/{name}   the files of hub/portal/web, immutable for a year (the build id
 *                          in the URL changes with any file); gzip when the browser accepts it
 *   GET /api/v1/portal     public: every realm (code, slug, names, issuer) with the client_id of
 *                          its portal client, the redirect URIs the portal uses
 *
 * A realm's portal client is the first public (token_endpoint_auth_method "none"), first-party
 * client of that realm whose redirect_uris hold {public_url}/callback; municipal IT creates it
 * with `renkeictl client create --public --first-party --redirect-uri {public_url}/callback`
 * (deploy/quickstart does for every demo city). A realm without one is listed without
 * client_id: the portal offers its facilities but no login there. main.c calls
 * rk_portal_register() once per worker; the module keeps no state.
 */
#ifndef RK_PORTAL_PORTAL_H
#define RK_PORTAL_PORTAL_H

#include "app.h"
#include "net/router.h"

/** Registers the routes and prepares the realm list's statement (before rk_store_start()). */
void rk_portal_register(rk_app_t *app, rk_router_t *router);

/**
 * 1 if an Accept-Encoding header value accepts gzip: a "gzip" (or "*") coding whose q is not
 * zero. NULL accepts nothing. Pure, for tests/unit/portal.
 */
int rk_portal_accepts_gzip(const char *accept_encoding);

#endif
