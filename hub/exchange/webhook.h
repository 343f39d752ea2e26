/*
 * webhook.h — delivering partners' change feeds to their webhooks, signed, with retries.
 *
 * A partner with a webhook URL (AdminService.SetPartnerWebhook, webhook_admin.c) receives
 * its feed as ListFeed pages it does not have to ask for: each delivery is one HTTP POST of
 * the proto3 JSON of renkei.v1.ListFeedResponse (the items after the partner's delivery
 * cursor, in order, at most exchange.webhook_batch, and next_cursor), signed with a detached
 * JWS by the tenant realm's ES256 key (webhook_sign.h) in the Renkei-Signature header.
 *
 * The delivery cursor lives in PostgreSQL (rk_partner_webhook, migration 0027) and advances
 * only after the receiver answered 2xx: the hub hands each batch over exactly once, the wire
 * at least once (a 2xx lost on its way back sends the batch again). A failed attempt (no
 * answer within exchange.webhook_timeout_ms, an HTTP status other than 2xx, a redirect, which
 * is never followed) is retried after exchange.webhook_retry_min_ms, doubled at each failure up
 * to exchange.webhook_retry_max_ms, jittered; its error is kept for `renkeictl partner list`.
 *
 * Only partners that may read their feed (a grant covering ExchangeService/ListFeed) and are
 * not revoked are delivered (migration 0028): a webhook pushes nothing the partner could not
 * pull. Worker 0 of every hub process delivers. Partners are claimed under a lease (FOR UPDATE SKIP
 * LOCKED), so with several hubs one process at a time delivers a partner, and each partner's
 * delivery runs on its own: a slow or failing receiver delays no other. A NOTIFY on rk_feed
 * (a change committed) or SetPartnerWebhook wakes the worker, and a timer the earliest retry
 * it scheduled; a poll every second (or every exchange.webhook_retry_min_ms, when shorter)
 * finds the other retries that are due (another hub's, later ones) and what a lost NOTIFY left. After a restart delivery resumes from the stored cursor.
 *
 * Started by rk_exchange_register(), which also registers SetPartnerWebhook.
 */
#ifndef RK_EXCHANGE_WEBHOOK_H
#define RK_EXCHANGE_WEBHOOK_H

#include "exchange/exchange.h"

typedef struct rk_exchange_webhooks rk_exchange_webhooks_t;

/**
 * Prepares the statements and, on worker 0, starts delivering: subscribes to rk_feed on
 * listener (not started yet) and starts the poll. Free with rk_exchange_webhooks_free().
 */
rk_exchange_webhooks_t *rk_exchange_webhooks_new(rk_exchange_t *exchange,
                                                 struct rk_store_listener *listener);

/**
 * Frees the worker; deliveries in flight are dropped, their leases expire in the database
 * (their batches are sent again later). NULL is allowed.
 */
void rk_exchange_webhooks_free(rk_exchange_webhooks_t *webhooks);

#endif
