/*
 * feed.h — ExchangeService.ListFeed and Subscribe: each partner's ordered feed of what
 * concerns its tenant (RPDE style: items by `modified`, tombstones for deletions).
 *
 * The feed is derived from rk_feed_item (migrations 0019, 0020, 0022), which triggers write
 * in the same transaction as the change: bookings, library holds and loans at the tenant's
 * facilities and libraries and by its residents elsewhere (once the owner has them), and the
 * tenant's facility catalogue. ListFeed answers one page
 * after a cursor (Connect/JSON pollers); Subscribe streams the backlog after the cursor and
 * then each change as its NOTIFY (rk_feed) arrives, with heartbeats. Only a partner's access
 * token reads a feed, and only its own tenant's. Registered by rk_exchange_register().
 */
#ifndef RK_EXCHANGE_FEED_H
#define RK_EXCHANGE_FEED_H

#include "core/mem.h"
#include "exchange/exchange.h"
#include "renkei/v1/exchange.pb-c.h"

#include <libpq-fe.h>

/*
 * The prepared page of a tenant's feed (every process has it): $1 tenant id, $2 the cursor
 * (items after it), $3 kinds as a text[] literal (NULL: all), $4 how many at most. Its rows
 * are what rk_exchange_feed_items() reads. Also used by webhook.c.
 */
#define RK_EXCHANGE_FEED_STMT_PAGE "exchange_feed_page"

typedef struct rk_exchange_feed rk_exchange_feed_t;

/**
 * Prepares the page statement, adds ListFeed and Subscribe, and subscribes to rk_feed on
 * listener (not yet started). Call before rk_store_start(); free with rk_exchange_feed_free()
 * after the server (whose requests end their subscriptions) and the listener.
 */
rk_exchange_feed_t *rk_exchange_feed_new(rk_exchange_t *exchange, rk_router_t *router,
                                         struct rk_store_listener *listener);

/**
 * The FeedItems of a page's rows r, in arena (the array ends with NULL): RK_OK, or RK_EINVAL
 * when a stored item cannot be read back (logged).
 */
int rk_exchange_feed_items(rk_arena_t *arena, const PGresult *r, Renkei__V1__FeedItem ***items,
                           size_t *n);

/** Frees the module. NULL is allowed. */
void rk_exchange_feed_free(rk_exchange_feed_t *feed);

#endif
