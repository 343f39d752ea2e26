/*
 * exchange.c — the exchange module: set-up, worker 0's listener and periodic job (see
 * exchange.h).
 *
 * Worker 0's tick (at start, then every exchange.anchor_interval_ms) publishes the anchoring
 * policy to the database (exchange.anchor_max_gap_ms, or none without a TSA), signs what is
 * pending (a crash between commit and signing leaves rows pending), and anchors the chain
 * heads. With several hubs on one database, they must share the exchange settings: the last
 * worker 0 to tick sets the policy.
 */
#include "exchange/exchange.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "exchange/anchor.h"
#include "exchange/feed.h"
#include "exchange/partner.h"
#include "exchange/partner_admin.h"
#include "exchange/service.h"
#include "exchange/signer.h"
#include "exchange/tsa.h"
#include "exchange/webhook.h"
#include "store/listen.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTIFY_CHANNEL "rk_exchange_receipt"
#define STMT_POLICY "exchange_anchor_policy"
#define LISTEN_CONNECT_TIMEOUT_MS 5000
#define FIRST_TICK_MS 1000 /* the pool has connected by then */

static const char sql_policy[] =
    "UPDATE rk_exchange_anchor_policy SET max_gap = $1::bigint * interval '1 millisecond'"
    " WHERE max_gap IS DISTINCT FROM $1::bigint * interval '1 millisecond'";

static void schedule(rk_exchange_t *exchange, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(exchange->timer, &tv);
}

static void policy_cb(const rk_store_result_t *res, void *arg)
{
    (void)arg;
    if (res->status != RK_OK)
        rk_log_warn("publishing the exchange anchoring policy failed", "{s:s}", "error",
                    res->error ? res->error : "");
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_exchange_t *exchange = arg;
    const rk_config_t *cfg = exchange->app->cfg;
    char gap[24];
    snprintf(gap, sizeof(gap), "%d", cfg->exchange_anchor_max_gap_ms);
    const char *values[] = {exchange->anchor ? gap : NULL};
    rk_store_exec(exchange->app->store, STMT_POLICY, 1, values, policy_cb, NULL);
    rk_exchange_sign_all(exchange->signer);
    if (exchange->anchor)
        rk_exchange_anchor_tick(exchange->anchor);
    schedule(exchange, cfg->exchange_anchor_interval_ms);
}

static void receipt_recorded_cb(const char *channel, const char *payload, void *arg)
{
    (void)channel;
    rk_exchange_t *exchange = arg;
    if (*payload && strspn(payload, "0123456789") == strlen(payload) && strlen(payload) < 20)
        rk_exchange_sign(exchange->signer, payload, NULL, NULL);
}

/* LISTEN is in effect (again): what was recorded while it was not is signed by a sweep. */
static void listening_cb(const char *channel, void *arg)
{
    (void)channel;
    rk_exchange_t *exchange = arg;
    rk_exchange_sign_all(exchange->signer);
}

int rk_exchange_register(rk_app_t *app, rk_router_t *router, char *why, size_t why_len)
{
    rk_exchange_t *exchange = rk_xcalloc(1, sizeof(*exchange));
    exchange->app = app;
    app->exchange = exchange;
    const rk_config_t *cfg = app->cfg;
    if (*cfg->exchange_tsa_ca_file && !(exchange->tsa_store = rk_exchange_tsa_store_load(
                                            cfg->exchange_tsa_ca_file, why, why_len)))
        return RK_EINVAL;
    exchange->signer = rk_exchange_signer_new(exchange);
    rk_exchange_service_register(exchange, router);
    rk_exchange_partner_admin_register(exchange, router);
    rk_store_options_t listen_options = {
        .conninfo = cfg->store_conninfo,
        .reconnect_max_ms = cfg->store_reconnect_max_ms,
        .connect_timeout_ms = LISTEN_CONNECT_TIMEOUT_MS,
    };
    exchange->changes = rk_store_listener_new(app->base, &listen_options);
    exchange->partners = rk_exchange_partners_new(exchange, exchange->changes);
    exchange->feed = rk_exchange_feed_new(exchange, router, exchange->changes);
    exchange->webhooks = rk_exchange_webhooks_new(exchange, exchange->changes);
    rk_store_listener_start(exchange->changes);
    if (app->worker_index != 0)
        return RK_OK;
    if (*cfg->exchange_tsa_url &&
        !(exchange->anchor = rk_exchange_anchor_new(exchange, why, why_len)))
        return RK_EINVAL;
    rk_store_prepare(app->store, STMT_POLICY, sql_policy);
    exchange->timer = evtimer_new(app->base, tick_cb, exchange);
    schedule(exchange, FIRST_TICK_MS);
    exchange->listener = rk_store_listener_new(app->base, &listen_options);
    rk_store_listen(exchange->listener, NOTIFY_CHANNEL, receipt_recorded_cb, listening_cb,
                    exchange);
    rk_store_listener_start(exchange->listener);
    return RK_OK;
}

void rk_exchange_free(rk_exchange_t *exchange)
{
    if (!exchange)
        return;
    rk_store_listener_free(exchange->listener);
    rk_store_listener_free(exchange->changes);
    rk_exchange_webhooks_free(exchange->webhooks);
    rk_exchange_feed_free(exchange->feed);
    rk_exchange_partners_free(exchange->partners);
    if (exchange->timer)
        event_free(exchange->timer);
    rk_exchange_anchor_free(exchange->anchor);
    rk_exchange_signer_free(exchange->signer);
    X509_STORE_free(exchange->tsa_store);
    free(exchange);
}

int rk_exchange_fail_if_refused(rk_rpc_t *rpc, const rk_store_result_t *res)
{
    if (res->status != RK_EINVAL || strcmp(res->sqlstate, RK_EXCHANGE_SQLSTATE_ANCHORING) != 0)
        return 0;
    rk_rpc_fail_detail(rpc, RK_RPC_UNAVAILABLE,
                       "cross-city changes are paused: the exchange log has not been "
                       "timestamped for too long (the time-stamping authority does not answer); "
                       "reads continue",
                       "EXCHANGE_ANCHORING_OVERDUE", NULL);
    return 1;
}
