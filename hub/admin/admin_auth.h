/*
 * admin_auth.h — who may call the admin API, over plain HTTP and over RPC.
 *
 * Two credentials, both sent as "Authorization: Bearer …" (RPC metadata "authorization"):
 *   - the bootstrap admin token (admin.token / RENKEI_ADMIN_TOKEN), compared in constant time,
 *     which may do everything, for every tenant;
 *   - a staff member's access token, issued by the hub's own OpenID provider to an account with
 *     staff roles in its home tenant (scope "admin"). It acts only in that tenant, and only with
 *     the roles it carries: a staff token of one tenant can do nothing in another.
 * Staff tokens are verified by the identity module (app->staff_verify), in memory: signature,
 * issuer, expiry (minutes), audience. Hub-wide operations take the bootstrap token only.
 *
 * Every admin endpoint calls one of these functions before anything else.
 */
#ifndef RK_ADMIN_AUTH_H
#define RK_ADMIN_AUTH_H

#include "net/request.h"
#include "net/rpc.h"

/* Staff roles, as bits. */
#define RK_ADMIN_ROLE_TENANT_ADMIN 0x1u
#define RK_ADMIN_ROLE_FACILITY_MANAGER 0x2u
#define RK_ADMIN_ROLE_LIBRARIAN 0x4u
#define RK_ADMIN_ROLE_AUDITOR 0x8u

/** Who a verified staff token speaks for. */
typedef struct rk_admin_staff {
    char tenant_slug[64];
    char tenant_code[8];
    unsigned roles; /* RK_ADMIN_ROLE_* */
    char subject[64];
} rk_admin_staff_t;

/** The role bit of a role name ("tenant-admin", …), or 0. */
unsigned rk_admin_role(const char *name);

/**
 * 1 if req carries the admin token. Otherwise answers 401 (no or wrong credentials) or 503
 * (the hub has no admin token configured), finishes req, and returns 0: the caller must not
 * touch req again.
 */
int rk_admin_authorize(rk_request_t *req);

/**
 * 1 if req may act in tenant (a slug or a 6-digit code) with one of roles: the admin token, or
 * a staff token of that tenant holding one of the roles. Otherwise answers 401 (no or wrong
 * credentials) or 403 (a staff token of another tenant, or without the role), finishes req and
 * returns 0.
 */
int rk_admin_authorize_tenant(rk_request_t *req, const char *tenant, unsigned roles);

/**
 * The same for an RPC: 1 if allowed; otherwise fails the call with UNAUTHENTICATED (or
 * UNAVAILABLE when no admin token is configured) and returns 0. method names the call in the
 * log line that records the refusal.
 */
int rk_admin_authorize_rpc(rk_rpc_t *rpc, const char *method);

/** rk_admin_authorize_tenant for an RPC: PERMISSION_DENIED for another tenant or role. */
int rk_admin_authorize_tenant_rpc(rk_rpc_t *rpc, const char *method, const char *tenant,
                                  unsigned roles);

#endif
