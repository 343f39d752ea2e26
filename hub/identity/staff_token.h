/*
 * staff_token.h — verifying a staff member's access token for the admin API.
 */
#ifndef RK_IDENTITY_STAFF_TOKEN_H
#define RK_IDENTITY_STAFF_TOKEN_H

#include "identity/identity.h"

struct rk_admin_staff;

/**
 * app->staff_verify: 0 with *staff filled (tenant, roles, subject) when token is a live access
 * token of a staff member of the realm that issued it, with the "admin" scope and the hub as
 * audience; -1 otherwise.
 */
int rk_identity_staff_verify(const rk_app_t *app, const char *token, struct rk_admin_staff *staff);

#endif
