/*
 * registration.h — dynamic client registration (RFC 7591, OpenID Connect Dynamic Client
 * Registration 1.0) and the initial access tokens that admit it:
 *
 *   POST /admin/v1/realms/{slug}/registration-tokens   admin or tenant-admin staff token;
 *        {"ttl": seconds (86400; at most 30 days), "uses": n (1; at most 1000)}
 *        → 201 {"token", "expires_at", "uses"}: the token is shown once, stored as SHA-256
 *   POST /t/{slug}/register   "Authorization: Bearer <initial access token>", JSON metadata
 *        → 201 the registered metadata with client_id (and client_secret); one use spent
 *
 * Registered clients are third-party clients of the realm (first_party false, no service:
 * only the realm's own residents, who are asked to consent). Their metadata is judged by
 * client.c's rules, the ones the admin API applies; private_key_jwt keys by
 * client_assertion.c.
 *
 * identity.c calls rk_identity_registration_register() once at start-up.
 */
#ifndef RK_IDENTITY_REGISTRATION_H
#define RK_IDENTITY_REGISTRATION_H

#include "identity/identity.h"
#include "net/router.h"

#define RK_IDENTITY_REGISTRATION_TTL_DEFAULT 86400
#define RK_IDENTITY_REGISTRATION_TTL_MAX 2592000 /* 30 days */
#define RK_IDENTITY_REGISTRATION_USES_MAX 1000

/**
 * Adds the two routes above and prepares their statements, and the replay statement of
 * private_key_jwt authentication (client_assertion.h) that oauth.c runs. Call before the
 * store starts.
 */
void rk_identity_registration_register(rk_identity_t *identity, rk_router_t *router);

#endif
