/*
 * listen.h — PostgreSQL LISTEN/NOTIFY on the event loop, over one dedicated connection.
 *
 * What a hub keeps in memory (the adapter registry, a partner's grants) must follow changes
 * that other hub processes make, at once rather than at the next poll. A trigger NOTIFYs a
 * channel when a row changes (migration 0007, rk_notify_row_change()); a listener holds one
 * non-blocking libpq connection of its own — a pool connection cannot wait for notifications:
 * it is shared and runs in pipeline mode — LISTENs on every subscribed channel and calls the
 * subscriber for each notification, from the loop. It never blocks.
 *
 * When the connection is lost (PostgreSQL restarts, the backend is terminated) the listener
 * reconnects with exponential backoff, as the pool does, and LISTENs again. Notifications sent
 * while it was away are lost, so each subscriber's `listening` callback runs every time its
 * LISTEN takes effect — at the first connect and after every reconnect: re-read what you
 * cache there. Keep a slow poll beside it for what no callback can reveal (a silently dead
 * network path keeps a connection "up" until TCP gives up).
 *
 * Used by the federation module (channel rk_adapter); the connection shows in
 * pg_stat_activity as application_name "renkeid-listen" unless conninfo names one.
 */
#ifndef RK_STORE_LISTEN_H
#define RK_STORE_LISTEN_H

#include "store/pool.h"

struct event_base;

typedef struct rk_store_listener rk_store_listener_t;

/** A notification on channel; payload is "" when none. Both strings live during the call. */
typedef void (*rk_store_notify_cb)(const char *channel, const char *payload, void *arg);
/** LISTEN on channel is in effect (again): every notification from now on will arrive. */
typedef void (*rk_store_listening_cb)(const char *channel, void *arg);

/**
 * A listener for options->conninfo (copied) with its reconnect_max_ms and connect_timeout_ms
 * (pool_size and pipeline_depth do not apply). Nothing connects before
 * rk_store_listener_start().
 */
rk_store_listener_t *rk_store_listener_new(struct event_base *base,
                                           const rk_store_options_t *options);

/**
 * Subscribes to channel: a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63 bytes),
 * copied. notify and listening may be NULL; arg is passed to both. Allowed at any time: when
 * connected, the LISTEN is sent at once. RK_OK, or RK_EINVAL for a bad channel name.
 */
int rk_store_listen(rk_store_listener_t *listener, const char *channel, rk_store_notify_cb notify,
                    rk_store_listening_cb listening, void *arg);

/** Starts connecting; returns at once. */
void rk_store_listener_start(rk_store_listener_t *listener);

/** 1 while connected with every subscription's LISTEN in effect. */
int rk_store_listener_ready(const rk_store_listener_t *listener);

/**
 * Closes the connection and frees the listener; no callback runs after. Not from inside one
 * of its own callbacks. NULL is allowed.
 */
void rk_store_listener_free(rk_store_listener_t *listener);

#endif
