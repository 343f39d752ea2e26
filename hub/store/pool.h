/*
 * pool.h — asynchronous PostgreSQL on the event loop: a pool of pipelined libpq connections.
 *
 * No call here blocks. Each connection runs in libpq's pipeline mode, so one connection
 * carries many queries in flight; a query (or a batch of statements) is one sync segment,
 * which PostgreSQL runs as one implicit transaction: a batch is all-or-nothing, and a failed
 * query never disturbs the next one. Statements registered with rk_store_prepare() are
 * prepared on every connection as soon as it connects.
 *
 * When PostgreSQL goes away, queries in flight fail with RK_EUNAVAILABLE, new queries are
 * refused at once with RK_EUNAVAILABLE (callers answer 503 without waiting), and each
 * connection reconnects with exponential backoff until PostgreSQL is back.
 *
 * Results (PGresult) belong to the pool and are valid only during the callback.
 */
#ifndef RK_STORE_POOL_H
#define RK_STORE_POOL_H

#include "core/metrics.h"

#include <libpq-fe.h>

struct event_base;

typedef struct rk_store rk_store_t;

typedef struct rk_store_result {
    int status;               /* RK_OK, RK_EUNAVAILABLE (connection lost), RK_EINVAL (SQL error) */
    const char *error;        /* PostgreSQL's message when status != RK_OK */
    const char *sqlstate;     /* five characters, or "" */
    PGresult *const *results; /* one per statement that returned rows or a command status */
    int n_results;
} rk_store_result_t;

typedef void (*rk_store_cb)(const rk_store_result_t *result, void *arg);

typedef struct rk_store_options {
    const char *conninfo; /* copied */
    int pool_size;
    int pipeline_depth;
    int reconnect_max_ms;
    int connect_timeout_ms; /* one connection attempt */
} rk_store_options_t;

rk_store_t *rk_store_new(struct event_base *base, const rk_store_options_t *options);
/** Registers a statement prepared on every connection. Call before rk_store_start(). */
void rk_store_prepare(rk_store_t *store, const char *name, const char *sql);
/** Starts connecting every connection; returns at once. */
void rk_store_start(rk_store_t *store);
/** Connections ready for queries now. */
int rk_store_ready(const rk_store_t *store);
/** Adds the pool's gauges to /metrics. */
void rk_store_register_metrics(rk_store_t *store, rk_metrics_t *metrics);
/** Fails what is in flight and closes every connection. */
void rk_store_free(rk_store_t *store);

/**
 * Runs a prepared statement with text parameters (NULL for SQL NULL; copied). Returns
 * RK_AGAIN and later calls cb exactly once; or returns RK_EUNAVAILABLE at once, without
 * calling cb, when no connection is up.
 */
int rk_store_exec(rk_store_t *store, const char *stmt_name, int n_params, const char *const *values,
                  rk_store_cb cb, void *arg);
/** As rk_store_exec() for SQL text that is not prepared. */
int rk_store_query(rk_store_t *store, const char *sql, int n_params, const char *const *values,
                   rk_store_cb cb, void *arg);

/** A batch: statements run in order in one transaction; any error rolls back all. */
typedef struct rk_store_batch rk_store_batch_t;

rk_store_batch_t *rk_store_batch_new(rk_store_t *store);
/** Adds a prepared statement (prepared = 1) or SQL text; parameters are copied. */
void rk_store_batch_add(rk_store_batch_t *batch, int prepared, const char *stmt_or_sql,
                        int n_params, const char *const *values);
/** Runs and frees the batch. Returns as rk_store_exec(); the batch is freed either way. */
int rk_store_batch_run(rk_store_batch_t *batch, rk_store_cb cb, void *arg);

#endif
