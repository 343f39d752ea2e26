/*
 * server.h — the listening side of renkeid: accept, TLS, front ends, dispatch, drain.
 *
 * The server owns the listener, the TLS context and the list of live connections; front ends
 * (http1.c now, HTTP/2 later) turn bytes into rk_request_t and call rk_server_dispatch().
 * It routes the request, counts it in flight, and after rk_request_finish() records its
 * metrics and access-log line in rk_server_request_done().
 *
 * rk_server_drain() stops accepting, closes idle connections, lets in-flight requests finish
 * (their connections close after the response) and calls back when none is left or the
 * drain timeout passes.
 */
#ifndef RK_NET_SERVER_H
#define RK_NET_SERVER_H

#include "core/config.h"
#include "core/metrics.h"
#include "net/request.h"
#include "net/router.h"

#include <stddef.h>

struct event_base;

/** A live connection as the server sees it, embedded in each front end's connection. */
typedef struct rk_conn_link {
    struct rk_conn_link *prev, *next;
    /** Asks the connection to close now if idle, or after its current response. */
    void (*drain)(struct rk_conn_link *link);
    /** Closes the connection at once (server shutdown); in-flight requests detach. */
    void (*close)(struct rk_conn_link *link);
} rk_conn_link_t;

typedef struct rk_server rk_server_t;

struct rk_server {
    struct event_base *base;
    const rk_config_t *cfg;
    rk_router_t *router;
    rk_metrics_t *metrics;
    void *app; /* the hub's shared state, for handlers */
    struct evconnlistener *listener;
    struct event *accept_retry;
    struct ssl_ctx_st *ssl_ctx;
    rk_conn_link_t connections; /* list head */
    size_t n_connections;
    size_t in_flight;
    uint64_t accepted, refused;
    int draining;
    struct event *drain_timer;
    void (*drained_cb)(rk_server_t *server, void *arg);
    void *drained_arg;
};

/**
 * A server that will listen on cfg's host and port. cfg, router and metrics must outlive it.
 * NULL with *why set when TLS files cannot be loaded.
 */
rk_server_t *rk_server_new(struct event_base *base, const rk_config_t *cfg, rk_router_t *router,
                           rk_metrics_t *metrics, void *app, char *why, size_t why_len);
/** Binds and starts accepting. RK_EIO with why on failure. */
int rk_server_listen(rk_server_t *server, char *why, size_t why_len);
/** Stops accepting, drains, then calls cb (once). */
void rk_server_drain(rk_server_t *server, void (*cb)(rk_server_t *, void *), void *arg);
/** Closes everything; in-flight requests are detached. */
void rk_server_free(rk_server_t *server);

/** Front ends: a connection opened or closed. */
void rk_server_link(rk_server_t *server, rk_conn_link_t *link);
void rk_server_unlink(rk_server_t *server, rk_conn_link_t *link);
/** Front ends: route and run a complete request. */
void rk_server_dispatch(rk_server_t *server, rk_request_t *req);
/** Called by rk_request_finish(): metrics, access log, in-flight count. */
void rk_server_request_done(rk_server_t *server, rk_request_t *req);
/**
 * Looks up req's route (its method and path are set; the lookup happens once per request and
 * rk_server_dispatch() reuses it) and returns the request body limit the route allows.
 */
size_t rk_server_route(rk_server_t *server, rk_request_t *req);
/** Fills req->request_id from a sane X-Request-Id header or a fresh random id. */
void rk_server_assign_request_id(rk_request_t *req);

#endif
