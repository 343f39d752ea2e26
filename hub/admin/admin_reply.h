/*
 * admin_reply.h — answers of the admin HTTP API that PostgreSQL builds: the handler's query
 * yields one row, one column of JSON text (json_build_object …), and this sends it.
 */
#ifndef RK_ADMIN_REPLY_H
#define RK_ADMIN_REPLY_H

#include "net/request.h"
#include "store/pool.h"

/**
 * A store callback (arg is the rk_request_t): answers 200 with the JSON text of the single
 * row, not cached, or 503 when the database did not answer; finishes the request.
 */
void rk_admin_reply_json_row(const rk_store_result_t *result, void *arg);

#endif
