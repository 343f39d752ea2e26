/*
 * admin.h — the identity module's admin endpoints (admin token required):
 *
 *   POST /admin/v1/realms/{slug}/keys:rotate   body {} or {"alg": "RS256"}: rotates that chain
 *   POST /admin/v1/realms/{slug}/clients       creates a confidential client_credentials
 *                                              client; the answer holds its secret, once
 *   GET  /admin/v1/realms/{slug}/clients       lists the realm's clients, never secrets
 */
#ifndef RK_IDENTITY_ADMIN_H
#define RK_IDENTITY_ADMIN_H

#include "identity/identity.h"
#include "net/router.h"

/** Adds the routes above and prepares their statements. */
void rk_identity_admin_register(rk_identity_t *identity, rk_router_t *router);

#endif
