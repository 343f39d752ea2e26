/*
 * admin_auth.c — the admin token and staff tokens for the admin API (see admin_auth.h).
 */
#include "admin/admin_auth.h"

#include "app.h"
#include "core/log.h"
#include "core/secret.h"

#include <string.h>
#include <strings.h>

typedef enum {
    ADMIN_ALLOWED,
    ADMIN_DISABLED,
    ADMIN_MISSING,
    ADMIN_WRONG,
    ADMIN_WRONG_TENANT,
    ADMIN_ROLE_MISSING
} admin_check_t;

static const char disabled_message[] =
    "no admin token is configured on this hub (admin.token / RENKEI_ADMIN_TOKEN)";
static const char wrong_tenant_message[] =
    "this staff token belongs to another tenant: it acts only in its own";
static const char role_missing_message[] = "this staff token lacks the role this needs";

static const struct {
    const char *name;
    unsigned bit;
} role_names[] = {
    {"tenant-admin", RK_ADMIN_ROLE_TENANT_ADMIN},
    {"facility-manager", RK_ADMIN_ROLE_FACILITY_MANAGER},
    {"librarian", RK_ADMIN_ROLE_LIBRARIAN},
    {"auditor", RK_ADMIN_ROLE_AUDITOR},
};

unsigned rk_admin_role(const char *name)
{
    for (size_t i = 0; name && i < sizeof(role_names) / sizeof(role_names[0]); i++) {
        if (strcmp(role_names[i].name, name) == 0)
            return role_names[i].bit;
    }
    return 0;
}

/*
 * tenant NULL: only the admin token will do. Otherwise a staff token of tenant (slug or code)
 * with one of roles is allowed too.
 */
static admin_check_t check(const rk_request_t *req, const char *method, const char *tenant,
                           unsigned wanted)
{
    const rk_app_t *app = rk_app(req);
    const char *configured = app->cfg->admin_token;
    const char *auth = rk_request_header(req, "authorization");
    const char *token = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
    if (token && configured && *configured && rk_secret_equal(token, configured))
        return ADMIN_ALLOWED;
    rk_admin_staff_t staff;
    if (token && tenant && app->staff_verify && app->staff_verify(app, token, &staff) == 0) {
        int same = strcmp(staff.tenant_slug, tenant) == 0 || strcmp(staff.tenant_code, tenant) == 0;
        if (same && (staff.roles & wanted))
            return ADMIN_ALLOWED;
        rk_log_warn("admin request refused: staff token out of scope", "{s:s, s:s, s:s, s:s}",
                    "request_id", req->request_id, "method", method, "staff_tenant",
                    staff.tenant_slug, "tenant", tenant);
        return same ? ADMIN_ROLE_MISSING : ADMIN_WRONG_TENANT;
    }
    if (!token && (!configured || !*configured) && !tenant)
        return ADMIN_DISABLED;
    rk_log_warn("admin request refused", "{s:s, s:s, s:s}", "request_id", req->request_id, "peer",
                req->peer, "method", method);
    return auth ? ADMIN_WRONG : ADMIN_MISSING;
}

static int answer(rk_request_t *req, admin_check_t result)
{
    switch (result) {
    case ADMIN_ALLOWED:
        return 1;
    case ADMIN_DISABLED:
        rk_response_error(req, 503, "admin_disabled", disabled_message);
        break;
    case ADMIN_WRONG_TENANT:
        rk_response_error(req, 403, "wrong_tenant", wrong_tenant_message);
        break;
    case ADMIN_ROLE_MISSING:
        rk_response_error(req, 403, "role_required", role_missing_message);
        break;
    case ADMIN_MISSING:
    case ADMIN_WRONG:
        rk_response_header(req, "www-authenticate", "Bearer realm=\"renkei-admin\"");
        rk_response_error(req, 401, "unauthorized",
                          rk_request_header(req, "authorization")
                              ? "the admin or staff token is wrong or expired"
                              : "Authorization: Bearer <admin or staff token> is required");
        break;
    }
    rk_request_finish(req);
    return 0;
}

int rk_admin_authorize(rk_request_t *req)
{
    return answer(req, check(req, req->path, NULL, 0));
}

int rk_admin_authorize_tenant(rk_request_t *req, const char *tenant, unsigned roles)
{
    return answer(req, check(req, req->path, tenant, roles));
}

static int answer_rpc(rk_rpc_t *rpc, admin_check_t result)
{
    switch (result) {
    case ADMIN_ALLOWED:
        return 1;
    case ADMIN_DISABLED:
        rk_rpc_fail(rpc, RK_RPC_UNAVAILABLE, disabled_message);
        break;
    case ADMIN_WRONG_TENANT:
        rk_rpc_fail_detail(rpc, RK_RPC_PERMISSION_DENIED, wrong_tenant_message,
                           "ERROR_REASON_WRONG_TENANT", NULL);
        break;
    case ADMIN_ROLE_MISSING:
        rk_rpc_fail_detail(rpc, RK_RPC_PERMISSION_DENIED, role_missing_message,
                           "ERROR_REASON_ROLE_REQUIRED", NULL);
        break;
    case ADMIN_MISSING:
        rk_rpc_fail(rpc, RK_RPC_UNAUTHENTICATED,
                    "authorization: \"Bearer <admin or staff token>\" metadata is required");
        break;
    case ADMIN_WRONG:
        rk_rpc_fail(rpc, RK_RPC_UNAUTHENTICATED,
                    "authorization: the admin or staff token is wrong or expired");
        break;
    }
    return 0;
}

int rk_admin_authorize_rpc(rk_rpc_t *rpc, const char *method)
{
    return answer_rpc(rpc, check(rk_rpc_request(rpc), method, NULL, 0));
}

int rk_admin_authorize_tenant_rpc(rk_rpc_t *rpc, const char *method, const char *tenant,
                                  unsigned roles)
{
    return answer_rpc(rpc, check(rk_rpc_request(rpc), method, tenant, roles));
}
