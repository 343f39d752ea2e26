/*
 * sru_http.h — HTTP GETs to one SRU server over a small pool of kept-alive connections, on the
 * adapter's event loop (libevent's evhttp client; never blocks).
 *
 * zebrasrv reloads its stylesheets for every new connection (22–42 ms measured, FIELD-NOTES),
 * so connections are opened once and reused: each of the pool's evhttp connections carries one
 * request at a time (HTTP/1.1 keep-alive; evhttp reconnects by itself after the server closed
 * one), and a request goes to the connection with the fewest requests queued. Every request
 * has its own deadline; when it passes the request is cancelled (its connection is reset) and
 * the callback says RK_ETIMEOUT.
 *
 * Used by sru_catalogue.c.
 */
#ifndef RK_SRU_HTTP_H
#define RK_SRU_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

typedef struct sru_http sru_http_t;
typedef struct sru_http_request sru_http_request_t;

/**
 * The outcome of one request, called exactly once unless the request was cancelled first.
 * status: RK_OK (an HTTP answer: see http_status and body), RK_ETIMEOUT (the deadline passed),
 * RK_EUNAVAILABLE (no answer: connection refused, reset, or closed early; why says which).
 * body (len bytes, not NUL-terminated) and why are valid only during the callback.
 */
typedef void (*sru_http_cb)(int status, int http_status, const char *body, size_t len,
                            const char *why, void *arg);

/**
 * A pool of `connections` (1–64) connections to host:port (a numeric address or a name the
 * system resolves at connect time; the demo uses 127.0.0.1). Nothing connects until the first
 * request. max_body is the largest answer accepted.
 */
sru_http_t *sru_http_new(struct event_base *base, const char *host, int port, int connections,
                         size_t max_body);
/** Frees the pool; requests still running are cancelled without their callbacks. */
void sru_http_free(sru_http_t *http);

/**
 * Sends GET target ("/kiyose?version=1.1&…", copied) and calls cb later, never from inside this
 * call. timeout_ms bounds the whole request. Returns a handle for sru_http_cancel(), valid until
 * cb runs.
 */
sru_http_request_t *sru_http_get(sru_http_t *http, const char *target, uint64_t timeout_ms,
                                 sru_http_cb cb, void *arg);
/** Drops a request whose answer is no longer wanted: cb is not called. */
void sru_http_cancel(sru_http_request_t *request);

/**
 * 0 when the last request that ended got no answer at all (refused, reset, closed early), else
 * 1 (also before the first request). A request past its deadline does not change it: a slow
 * server is not a down one.
 */
int sru_http_reachable(const sru_http_t *http);

#endif
