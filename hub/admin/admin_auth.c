/*
 * admin_auth.c — bearer-token check for the admin API (see admin_auth.h).
 */
#include "admin/admin_auth.h"

#include "app.h"
#include "core/log.h"
#include "core/secret.h"

#include <strings.h>

int rk_admin_authorize(rk_request_t *req)
{
    const char *configured = rk_app(req)->cfg->admin_token;
    if (!configured || !*configured) {
        rk_response_error(req, 503, "admin_disabled",
                          "no admin token is configured on this hub (admin.token / "
                          "RENKEI_ADMIN_TOKEN)");
        rk_request_finish(req);
        return 0;
    }
    const char *auth = rk_request_header(req, "authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0 && rk_secret_equal(auth + 7, configured))
        return 1;
    rk_log_warn("admin request refused", "{s:s, s:s}", "request_id", req->request_id, "peer",
                req->peer);
    rk_response_header(req, "www-authenticate", "Bearer realm=\"renkei-admin\"");
    rk_response_error(req, 401, "unauthorized",
                      auth ? "the admin token is wrong"
                           : "Authorization: Bearer <admin token> "
                             "is required");
    rk_request_finish(req);
    return 0;
}
