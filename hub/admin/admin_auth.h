/*
 * admin_auth.h — who may call the admin API.
 *
 * For now the one credential is the bootstrap admin token (admin.token / RENKEI_ADMIN_TOKEN),
 * sent as "Authorization: Bearer …" and compared in constant time. Staff accounts with
 * tenant-scoped roles come with the identity module and will be checked here too.
 */
#ifndef RK_ADMIN_AUTH_H
#define RK_ADMIN_AUTH_H

#include "net/request.h"

/**
 * 1 if req carries the admin token. Otherwise answers 401 (no or wrong credentials) or 503
 * (the hub has no admin token configured), finishes req, and returns 0: the caller must not
 * touch req again.
 */
int rk_admin_authorize(rk_request_t *req);

#endif
