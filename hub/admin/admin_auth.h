/*
 * admin_auth.h — who may call the admin API, over plain HTTP and over RPC.
 *
 * For now the one credential is the bootstrap admin token (admin.token / RENKEI_ADMIN_TOKEN),
 * sent as "Authorization: Bearer …" (RPC metadata "authorization") and compared in constant
 * time. Staff accounts with tenant-scoped roles come with the identity module and will be
 * checked here too, so every admin endpoint keeps calling one of these two.
 */
#ifndef RK_ADMIN_AUTH_H
#define RK_ADMIN_AUTH_H

#include "net/request.h"
#include "net/rpc.h"

/**
 * 1 if req carries the admin token. Otherwise answers 401 (no or wrong credentials) or 503
 * (the hub has no admin token configured), finishes req, and returns 0: the caller must not
 * touch req again.
 */
int rk_admin_authorize(rk_request_t *req);
/**
 * The same for an RPC: 1 if allowed; otherwise fails the call with UNAUTHENTICATED (or
 * UNAVAILABLE when no admin token is configured) and returns 0. method names the call in the
 * log line that records the refusal.
 */
int rk_admin_authorize_rpc(rk_rpc_t *rpc, const char *method);

#endif
