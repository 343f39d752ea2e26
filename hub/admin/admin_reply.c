/*
 * admin_reply.c — JSON rows as admin answers (see admin_reply.h).
 */
#include "admin/admin_reply.h"

#include "core/error.h"

void rk_admin_reply_json_row(const rk_store_result_t *res, void *arg)
{
    rk_request_t *req = arg;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        rk_response_error(req, 503, "unavailable", "the database did not answer");
    } else {
        rk_response_set(req, 200, "application/json", PQgetvalue(res->results[0], 0, 0),
                        (size_t)PQgetlength(res->results[0], 0, 0));
        rk_response_header(req, "cache-control", "no-store");
    }
    rk_request_finish(req);
}
