/*
 * metrics.c — fixed arrays behind metrics.h: a route table, a status-code table per route and
 * a latency histogram per route with fixed bucket bounds.
 */
#include "core/metrics.h"

#include "core/mem.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUTES 64
#define MAX_STATUSES 24
#define MAX_SOURCES 16

static const double bucket_bounds_s[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define N_BUCKETS (sizeof(bucket_bounds_s) / sizeof(bucket_bounds_s[0]))

typedef struct route_stats {
    char *name;
    int statuses[MAX_STATUSES];
    uint64_t status_counts[MAX_STATUSES];
    int n_statuses;
    uint64_t buckets[N_BUCKETS];
    uint64_t count;
    uint64_t sum_ns;
} route_stats_t;

struct rk_metrics {
    route_stats_t routes[MAX_ROUTES + 1]; /* the last one is "unmatched" */
    int n_routes;
    struct {
        rk_metrics_source_cb cb;
        void *ctx;
    } sources[MAX_SOURCES];
    int n_sources;
};

rk_metrics_t *rk_metrics_new(void)
{
    rk_metrics_t *m = rk_xcalloc(1, sizeof(*m));
    m->routes[MAX_ROUTES].name = rk_xstrdup("unmatched");
    return m;
}

void rk_metrics_free(rk_metrics_t *m)
{
    if (!m)
        return;
    for (int i = 0; i <= MAX_ROUTES; i++)
        free(m->routes[i].name);
    free(m);
}

int rk_metrics_route(rk_metrics_t *m, const char *name)
{
    for (int i = 0; i < m->n_routes; i++) {
        if (strcmp(m->routes[i].name, name) == 0)
            return i;
    }
    if (m->n_routes == MAX_ROUTES)
        return -1;
    m->routes[m->n_routes].name = rk_xstrdup(name);
    return m->n_routes++;
}

void rk_metrics_observe(rk_metrics_t *m, int route_id, int status, uint64_t latency_ns)
{
    route_stats_t *r = &m->routes[route_id >= 0 && route_id < m->n_routes ? route_id : MAX_ROUTES];
    int slot = -1;
    for (int i = 0; i < r->n_statuses; i++) {
        if (r->statuses[i] == status) {
            slot = i;
            break;
        }
    }
    if (slot < 0) {
        /* The table holds every status a route really returns; past that, the last slot
         * counts the rest as status 0 ("other") rather than dropping them. */
        if (r->n_statuses < MAX_STATUSES - 1) {
            slot = r->n_statuses++;
            r->statuses[slot] = status;
        } else {
            slot = MAX_STATUSES - 1;
            r->statuses[slot] = 0;
            r->n_statuses = MAX_STATUSES;
        }
    }
    r->status_counts[slot]++;
    double seconds = (double)latency_ns / 1e9;
    for (size_t b = 0; b < N_BUCKETS; b++) {
        if (seconds <= bucket_bounds_s[b])
            r->buckets[b]++;
    }
    r->count++;
    r->sum_ns += latency_ns;
}

void rk_metrics_add_source(rk_metrics_t *m, rk_metrics_source_cb cb, void *ctx)
{
    if (m->n_sources == MAX_SOURCES)
        return;
    m->sources[m->n_sources].cb = cb;
    m->sources[m->n_sources].ctx = ctx;
    m->n_sources++;
}

static void render_route(const route_stats_t *r, struct evbuffer *out, int histogram)
{
    if (!histogram) {
        for (int i = 0; i < r->n_statuses; i++)
            evbuffer_add_printf(out,
                                "renkei_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                                r->name, r->statuses[i], (unsigned long long)r->status_counts[i]);
        return;
    }
    if (!r->count)
        return;
    for (size_t b = 0; b < N_BUCKETS; b++)
        evbuffer_add_printf(out,
                            "renkei_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                            "%llu\n",
                            r->name, bucket_bounds_s[b], (unsigned long long)r->buckets[b]);
    evbuffer_add_printf(out,
                        "renkei_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                        "%llu\n",
                        r->name, (unsigned long long)r->count);
    evbuffer_add_printf(out, "renkei_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
                        r->name, (double)r->sum_ns / 1e9);
    evbuffer_add_printf(out, "renkei_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                        r->name, (unsigned long long)r->count);
}

void rk_metrics_render(rk_metrics_t *m, struct evbuffer *out)
{
    evbuffer_add_printf(out, "# HELP renkei_http_requests_total Requests answered, by route "
                             "and status.\n# TYPE renkei_http_requests_total counter\n");
    for (int i = 0; i < m->n_routes; i++)
        render_route(&m->routes[i], out, 0);
    render_route(&m->routes[MAX_ROUTES], out, 0);
    evbuffer_add_printf(out, "# HELP renkei_http_request_duration_seconds Time from the first "
                             "byte of a request to its response.\n"
                             "# TYPE renkei_http_request_duration_seconds histogram\n");
    for (int i = 0; i < m->n_routes; i++)
        render_route(&m->routes[i], out, 1);
    render_route(&m->routes[MAX_ROUTES], out, 1);
    for (int i = 0; i < m->n_sources; i++)
        m->sources[i].cb(out, m->sources[i].ctx);
}
