/*
 * request.h — the one request interface every handler is written against.
 *
 * A front end (HTTP/1.1 today, HTTP/2 and gRPC later) builds an rk_request_t — method, path,
 * query, headers, body — and hands it to the router. The handler fills in the response
 * (status, headers, body) and calls rk_request_finish(), now or later from a callback: it never
 * knows which HTTP version carried the request. Each request owns an arena that lives until
 * rk_request_finish() returns, so handlers allocate from req->arena and free nothing.
 *
 * If the client goes away while a handler is still working, the front end detaches itself
 * (req->transport becomes NULL); the handler carries on and its rk_request_finish() only
 * records metrics and frees the request. Handlers therefore need no cancellation logic to be
 * safe, only to be quick.
 */
#ifndef RK_NET_REQUEST_H
#define RK_NET_REQUEST_H

#include "core/clock.h"
#include "core/mem.h"

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct rk_server;
struct rk_route;

typedef struct rk_header {
    const char *name; /* lower case */
    const char *value;
} rk_header_t;

#define RK_REQUEST_MAX_PARAMS 4
#define RK_REQUEST_ID_LEN 32

typedef struct rk_request rk_request_t;

/** What a front end provides to deliver a response; set by the front end only. */
typedef struct rk_transport {
    /**
     * The response in req is complete: write it (or, for a stream, what is left of its body
     * and its trailers, then end it). Called once, from rk_request_finish().
     */
    void (*send)(rk_request_t *req, void *transport_ctx);
    /** Streaming: write status and headers now; the body follows in pieces. */
    void (*stream_begin)(rk_request_t *req, void *transport_ctx);
    /** Streaming: write what was added to req->response_body since the last call. */
    void (*stream_flush)(rk_request_t *req, void *transport_ctx);
} rk_transport_t;

struct rk_request {
    rk_arena_t *arena;
    struct rk_server *server;
    const char *method;
    const char *path;  /* without the query; never NULL */
    const char *query; /* after '?', "" when absent */
    rk_header_t *headers;
    size_t n_headers;
    const unsigned char *body;
    size_t body_len;
    const char *peer;     /* remote address, for logs and rate limits */
    const char *protocol; /* "HTTP/1.1" or "HTTP/2", for logs only: handlers must not care */
    char request_id[RK_REQUEST_ID_LEN + 1];
    uint64_t started_ns;
    const struct rk_route *route;
    int routed;            /* the route was looked up (once per request) */
    int path_matched;      /* no route, but the path exists under another method: 405 */
    int counted_in_flight; /* set by rk_server_dispatch() */
    int streaming;         /* rk_response_stream_begin() was called */
    const char *params[RK_REQUEST_MAX_PARAMS]; /* values of {name} path segments, in order */

    int status;
    rk_header_t *response_headers;
    size_t n_response_headers, response_headers_cap;
    struct evbuffer *response_body;
    rk_header_t *response_trailers; /* HTTP/2 trailers (gRPC status); HTTP/1.1 drops them */
    size_t n_response_trailers, response_trailers_cap;

    const rk_transport_t *transport; /* NULL once the client is gone */
    void *transport_ctx;
};

/** A new request with its arena and an empty response body. The front end fills the rest. */
rk_request_t *rk_request_new(struct rk_server *server);
/** Value of a request header (name in lower case), or NULL. */
const char *rk_request_header(const rk_request_t *req, const char *name);
/** Adds a response header; both strings are copied into the arena. */
void rk_response_header(rk_request_t *req, const char *name, const char *value);
/** Adds a response trailer (sent after the body over HTTP/2); strings are copied. */
void rk_response_trailer(rk_request_t *req, const char *name, const char *value);
/** Sets status, Content-Type and body (copied) in one call. */
void rk_response_set(rk_request_t *req, int status, const char *content_type, const void *body,
                     size_t len);
/**
 * An error body the API's clients can rely on: {"error": code, "message": message} with the
 * given status. code is a stable machine name; message names the field and the rule.
 */
void rk_response_error(rk_request_t *req, int status, const char *code, const char *message);
/**
 * Starts a streamed response: status and headers (set before) go out now, without a length;
 * each rk_response_stream_flush() then sends what was added to req->response_body, and
 * rk_request_finish() sends the rest and the trailers and ends the response. HTTP/1.1 uses
 * chunked transfer encoding; HTTP/2 a deferred DATA stream. A no-op once the client is gone.
 */
void rk_response_stream_begin(rk_request_t *req);
void rk_response_stream_flush(rk_request_t *req);
/** 1 once the client has gone away: a streaming handler stops producing. */
int rk_request_client_gone(const rk_request_t *req);
/**
 * The answer to a body over its limit: the route's own (an RPC route answers
 * RESOURCE_EXHAUSTED in the caller's protocol: gRPC, gRPC-Web or Connect), else
 * RESOURCE_EXHAUSTED for a gRPC request (which a gRPC client understands; HTTP 413 it does
 * not), else 413 with a JSON error.
 */
void rk_response_too_large(rk_request_t *req);
/** Delivers the response (if the client is still there), records metrics, frees req. */
void rk_request_finish(rk_request_t *req);
/**
 * Sends the response as it stands now and detaches the client, for an answer that cannot
 * wait for the handler (a deadline passed). The handler still calls rk_request_finish().
 */
void rk_request_send_early(rk_request_t *req);
/** Detaches the front end: the client is gone. The request lives on until finished. */
void rk_request_detach(rk_request_t *req);

#endif
