/*
 * account_admin.h — the admin endpoints for accounts (residents and staff) of a realm.
 */
#ifndef RK_IDENTITY_ACCOUNT_ADMIN_H
#define RK_IDENTITY_ACCOUNT_ADMIN_H

#include "identity/identity.h"
#include "net/router.h"

/** Prepares the statements and adds POST and GET /admin/v1/realms/{slug}/users. */
void rk_identity_account_admin_register(rk_identity_t *identity, rk_router_t *router);

#endif
