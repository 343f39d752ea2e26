/*
 * exchange.h — the exchange module: what lets two cities trust what happened between them
 * without trusting each other's databases (hub/exchange/README.md has the design).
 *
 * The log itself is written by PostgreSQL: brokers call rk_exchange_record() (migration 0013)
 * inside the transaction of the change they record. This module does what SQL cannot:
 *   - signs receipts (signer.c) with the providing realm's ES256 key, right after commit
 *     (worker 0 LISTENs on rk_exchange_receipt), in a sweep at start and every
 *     exchange.anchor_interval_ms (what a crash left pending), and on demand in GetReceipt;
 *   - anchors every chain head with an RFC 3161 TSA (anchor.c, worker 0, when
 *     exchange.tsa_url is set) and publishes exchange.anchor_max_gap_ms to the database, which
 *     refuses new cross-city changes once an entry has waited longer (fail closed);
 *   - serves ExchangeService.GetReceipt, ListExchangeLog and VerifyLogChain (service.c);
 *   - admits partner systems' calls by their grants (partner.c, AdminService's partner methods
 *     in partner_admin.c) and serves their change feeds, ListFeed and Subscribe (feed.c), and
 *     on worker 0 delivers them to partners' webhooks (webhook.c).
 *
 * main.c registers it after the identity module and frees it after the store, so store
 * callbacks still in flight at shutdown reach a live module.
 */
#ifndef RK_EXCHANGE_EXCHANGE_H
#define RK_EXCHANGE_EXCHANGE_H

#include "app.h"
#include "net/router.h"
#include "net/rpc.h"
#include "store/pool.h"

#include <openssl/x509.h>

/* SQLSTATE of rk_exchange_record() when anchoring is overdue (fail closed). */
#define RK_EXCHANGE_SQLSTATE_ANCHORING "RKA01"

struct event;
struct rk_store_listener;
struct rk_exchange_signer;
struct rk_exchange_anchor;
struct rk_exchange_partners;
struct rk_exchange_feed;
struct rk_exchange_webhooks;

typedef struct rk_exchange {
    rk_app_t *app;
    X509_STORE *tsa_store; /* exchange.tsa_ca_file, or NULL: tokens are not verified */
    struct rk_exchange_signer *signer;
    struct rk_exchange_anchor *anchor;     /* worker 0 with exchange.tsa_url; else NULL */
    struct rk_store_listener *listener;    /* worker 0: receipts to sign */
    struct event *timer;                   /* worker 0: the periodic sweep and anchoring */
    struct rk_store_listener *changes;     /* every process: rk_partner and rk_feed */
    struct rk_exchange_partners *partners; /* partner grants and the RPC guard (partner.h) */
    struct rk_exchange_feed *feed;         /* ListFeed and Subscribe (feed.h) */
    struct rk_exchange_webhooks *webhooks; /* partners' webhooks, delivered by worker 0 */
} rk_exchange_t;

/**
 * Sets up the module (app->exchange): loads the TSA's CA certificates, prepares statements,
 * adds ExchangeService's methods, and on worker 0 starts the listener and the periodic job.
 * RK_OK, or an error with why naming the setting; on error app->exchange may be set: free it.
 */
int rk_exchange_register(rk_app_t *app, rk_router_t *router, char *why, size_t why_len);

/** Frees the module: timers, listener, TSA connection. NULL is allowed. */
void rk_exchange_free(rk_exchange_t *exchange);

/**
 * For brokers whose transaction called rk_exchange_record(): 1 when res is its fail-closed
 * refusal, which this answers on rpc as UNAVAILABLE with reason EXCHANGE_ANCHORING_OVERDUE
 * (the call is finished); 0 otherwise (rpc untouched).
 */
int rk_exchange_fail_if_refused(rk_rpc_t *rpc, const rk_store_result_t *res);

#endif
