/*
 * partner.h — partner systems at the door: every RPC a partner's access token makes passes
 * its grants, its tenant and its rate limit before the method's handler runs.
 *
 * A partner is an OIDC confidential client of its tenant's realm (private_key_jwt) whose
 * client_credentials access tokens call the hub's RPC methods (migration 0019: rk_partner,
 * rk_partner_grant). Each hub process keeps every partner and its grants in memory, loaded at
 * start and again whenever the tables change: a trigger NOTIFYs rk_partner with the partner's
 * id, and the process forgets that partner at once (its calls are refused until the reload
 * has read it back) and reloads. A revocation thus reaches every process within the time a
 * NOTIFY takes, with no protocol of our own.
 *
 * The guard (rk_rpc_set_guard) recognises a partner token by its unverified claims (a
 * client_credentials token: sub = client_id, a client_id we know as a partner), then verifies
 * it and refuses, naming the method: PERMISSION_DENIED when the partner is revoked, lacks a
 * grant for the method (or the grant is read_only and the method changes something), or the
 * request's `tenant` field names another tenant; RESOURCE_EXHAUSTED with retry_after_seconds
 * past its rate (a token bucket per partner per process). An admitted call reaches its
 * handler without the token, as an anonymous caller would; rk_exchange_partner_caller() tells
 * handlers that serve partners (the feed) who it is. Other tokens pass untouched.
 */
#ifndef RK_EXCHANGE_PARTNER_H
#define RK_EXCHANGE_PARTNER_H

#include "exchange/exchange.h"

#define RK_PARTNER_RATE_DEFAULT 20 /* calls per second when a partner's own limit is 0 */

typedef struct rk_exchange_partners rk_exchange_partners_t;

/** Who a call comes from: a copy the handler keeps for the call's lifetime. */
typedef struct rk_exchange_partner_caller {
    char partner_id[40];
    char tenant_id[24]; /* decimal */
    char tenant_slug[64];
    char tenant_code[8];
} rk_exchange_partner_caller_t;

/**
 * The partner cache of exchange's process: prepares its statement, subscribes to rk_partner on
 * listener (not yet started), and installs the RPC guard. Call before rk_store_start(). Free
 * the listener first, then the cache with rk_exchange_partners_free().
 */
rk_exchange_partners_t *rk_exchange_partners_new(rk_exchange_t *exchange,
                                                 struct rk_store_listener *listener);

/** Frees the cache. NULL is allowed. */
void rk_exchange_partners_free(rk_exchange_partners_t *partners);

/**
 * For handlers of methods partners call: 1 with *caller filled when the guard admitted rpc as
 * a partner's call (and the partner is still live), 0 otherwise.
 */
int rk_exchange_partner_caller(rk_rpc_t *rpc, rk_exchange_partner_caller_t *caller);

#endif
