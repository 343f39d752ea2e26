/*
 * anchor.h — anchoring chain heads with an RFC 3161 time-stamping authority (worker 0).
 *
 * Each tick (exchange.anchor_interval_ms) takes the chains whose head no checkpoint covers
 * (rk_exchange_anchor_due()) and, one at a time, POSTs a TimeStampReq for the head's hash to
 * exchange.tsa_url (HTTP, as RFC 3161 §3.4 describes; the reply is signed, so TLS adds
 * nothing to its trust), checks the reply (tsa.h: granted, signature chaining to
 * exchange.tsa_ca_file, imprint, nonce) and stores it with rk_exchange_anchor_store(), which
 * moves the chain's anchored mark. The first failure ends the tick; the next tick tries again.
 * While entries wait, the database's fail-closed check (migration 0013) counts their age.
 *
 * libevent's HTTP client may call back from inside evhttp_make_request() and must not see its
 * connection freed from inside its own callbacks: the callbacks only record the answer and
 * activate a timer, from which the answer is judged and the connection freed.
 */
#ifndef RK_EXCHANGE_ANCHOR_H
#define RK_EXCHANGE_ANCHOR_H

#include "exchange/exchange.h"

typedef struct rk_exchange_anchor rk_exchange_anchor_t;

/** An anchor for exchange->app->cfg's TSA URL, or NULL with why naming exchange.tsa_url. */
rk_exchange_anchor_t *rk_exchange_anchor_new(rk_exchange_t *exchange, char *why, size_t why_len);

/** Starts anchoring the chains that need it, unless a tick is still running. */
void rk_exchange_anchor_tick(rk_exchange_anchor_t *anchor);

/** Frees the anchor, dropping a request in flight. NULL is allowed. */
void rk_exchange_anchor_free(rk_exchange_anchor_t *anchor);

#endif
