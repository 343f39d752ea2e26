/*
 * admin_auth.c — bearer-token check for the admin API (see admin_auth.h).
 */
#include "admin/admin_auth.h"

#include "app.h"
#include "core/log.h"
#include "core/secret.h"

#include <strings.h>

typedef enum { ADMIN_ALLOWED, ADMIN_DISABLED, ADMIN_MISSING, ADMIN_WRONG } admin_check_t;

static const char disabled_message[] =
    "no admin token is configured on this hub (admin.token / RENKEI_ADMIN_TOKEN)";

static admin_check_t check(const rk_request_t *req, const char *method)
{
    const char *configured = rk_app(req)->cfg->admin_token;
    if (!configured || !*configured)
        return ADMIN_DISABLED;
    const char *auth = rk_request_header(req, "authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0 && rk_secret_equal(auth + 7, configured))
        return ADMIN_ALLOWED;
    rk_log_warn("admin request refused", "{s:s, s:s, s:s}", "request_id", req->request_id, "peer",
                req->peer, "method", method);
    return auth ? ADMIN_WRONG : ADMIN_MISSING;
}

int rk_admin_authorize(rk_request_t *req)
{
    switch (check(req, req->path)) {
    case ADMIN_ALLOWED:
        return 1;
    case ADMIN_DISABLED:
        rk_response_error(req, 503, "admin_disabled", disabled_message);
        break;
    case ADMIN_MISSING:
    case ADMIN_WRONG:
        rk_response_header(req, "www-authenticate", "Bearer realm=\"renkei-admin\"");
        rk_response_error(req, 401, "unauthorized",
                          rk_request_header(req, "authorization")
                              ? "the admin token is wrong"
                              : "Authorization: Bearer <admin token> is required");
        break;
    }
    rk_request_finish(req);
    return 0;
}

int rk_admin_authorize_rpc(rk_rpc_t *rpc, const char *method)
{
    switch (check(rk_rpc_request(rpc), method)) {
    case ADMIN_ALLOWED:
        return 1;
    case ADMIN_DISABLED:
        rk_rpc_fail(rpc, RK_RPC_UNAVAILABLE, disabled_message);
        break;
    case ADMIN_MISSING:
        rk_rpc_fail(rpc, RK_RPC_UNAUTHENTICATED,
                    "authorization: \"Bearer <admin token>\" metadata is required");
        break;
    case ADMIN_WRONG:
        rk_rpc_fail(rpc, RK_RPC_UNAUTHENTICATED, "authorization: the admin token is wrong");
        break;
    }
    return 0;
}
