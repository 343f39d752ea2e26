/*
 * oauth.h — the public endpoints of every realm, under /t/{slug}:
 *
 *   GET  /.well-known/openid-configuration   discovery: only what works (see README.md)
 *   GET  /jwks                               published keys: next, active, retired-unexpired
 *   GET|POST /authorize                      the authorization code flow (authorize.c)
 *   POST /login, /consent                    its forms (login.c)
 *   POST /token                              authorization_code, refresh_token (token_grant.c),
 *                                            client_credentials → RFC 9068 JWT access tokens
 *   GET|POST /userinfo, POST /revoke         userinfo.c
 *   POST /introspect                         RFC 7662, for any confidential client of the realm
 *
 * Discovery and JWKS are bytes rendered when the realm table was built. The token endpoint
 * authenticates the client (client_secret_basic or client_secret_post, exactly one) against
 * the client cache — at most one query, none while the client is cached — and signs with
 * the realm's active key already in memory. Errors follow RFC 6749 §5.2 and every response
 * carries Cache-Control: no-store.
 */
#ifndef RK_IDENTITY_OAUTH_H
#define RK_IDENTITY_OAUTH_H

#include "identity/identity.h"
#include "net/router.h"

/** Adds the routes above. */
void rk_identity_oauth_register(rk_router_t *router);

/** /authorize, /login and /consent (authorize.c, login.c); prepares their statements. */
void rk_identity_authorize_register(rk_identity_t *identity, rk_router_t *router);

/** /userinfo and /revoke (userinfo.c); prepares their statements. */
void rk_identity_userinfo_register(rk_identity_t *identity, rk_router_t *router);

#endif
