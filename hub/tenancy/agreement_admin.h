/*
 * agreement_admin.h — AdminService's agreement methods: ProposeAgreement, ApproveAgreement,
 * RejectAgreement, EndAgreement, GetAgreement and ListAgreements.
 *
 * An agreement "residents of home may use provider's services on these terms" is proposed by a
 * tenant-admin of either party and takes effect only when a tenant-admin of the other party
 * approves it; either party may end it. Changing the terms proposes a new version, which again
 * needs the other party's approval; the version in force keeps applying until then. What is
 * proposed is checked by the tenants/<slug>.json validator (tenant_file.h), so an agreement made here
 * has exactly the shape of one declared in a file. The state lives in PostgreSQL (rk_agreement
 * and rk_agreement_version, migration 0018) and is read on every decision through
 * rk_resident_terms(): an approval or an end reaches every hub process at once, with no cache.
 *
 * Who may call: the bootstrap admin token, or a staff token of the named tenant with the
 * tenant-admin role (Get and List: tenant-admin or auditor); see admin/admin_auth.h.
 */
#ifndef RK_TENANCY_AGREEMENT_ADMIN_H
#define RK_TENANCY_AGREEMENT_ADMIN_H

#include "app.h"
#include "net/router.h"

/** Prepares the statements and serves the six methods on router. */
void rk_agreement_admin_register(rk_app_t *app, rk_router_t *router);

#endif
