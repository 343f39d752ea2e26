/*
 * metrics.h — Prometheus counters and histograms for the hub, rendered as text at /metrics.
 *
 * Routes register once at start and get a small integer id; the hot path is then two array
 * increments per request (count by route and status, latency bucket by route). Modules that
 * own gauges (the PostgreSQL pool, connection counts) register a source that writes its lines
 * when /metrics is rendered, so no gauge is copied on the hot path.
 */
#ifndef RK_CORE_METRICS_H
#define RK_CORE_METRICS_H

#include <stdint.h>

struct evbuffer;
typedef struct rk_metrics rk_metrics_t;

/** Writes Prometheus text lines (with their # HELP/# TYPE) into out. */
typedef void (*rk_metrics_source_cb)(struct evbuffer *out, void *ctx);

rk_metrics_t *rk_metrics_new(void);
void rk_metrics_free(rk_metrics_t *m);
/** Registers a route label and returns its id; the name is copied. Same name, same id. */
int rk_metrics_route(rk_metrics_t *m, const char *name);
/** Counts one request of route id (or -1 for no route) with its status and latency. */
void rk_metrics_observe(rk_metrics_t *m, int route_id, int status, uint64_t latency_ns);
/** Adds a source of further lines; called at every render. */
void rk_metrics_add_source(rk_metrics_t *m, rk_metrics_source_cb cb, void *ctx);
/** Renders everything in the Prometheus text format (version 0.0.4). */
void rk_metrics_render(rk_metrics_t *m, struct evbuffer *out);

#endif
