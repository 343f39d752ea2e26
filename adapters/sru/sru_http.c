/*
 * sru_http.c — the kept-alive evhttp pool (see sru_http.h).
 *
 * evhttp may call a request's callback from inside evhttp_make_request() (a connection refused
 * at once) and frees the request after its callback returns. So the callback only records the
 * answer and wakes the request's timer; the caller's callback runs from that timer, where no
 * evhttp frame is on the stack (the same pattern as hub/identity/backchannel.c). The timer also
 * carries the deadline: when it fires first, the request is cancelled, which resets its
 * connection; evhttp opens a new one for the next request.
 */
#include "sru_http.h"

#include "core/error.h"
#include "core/mem.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADERS_MAX 16384

typedef struct connection {
    struct evhttp_connection *conn;
    int queued; /* requests sent on it and not finished */
} connection_t;

struct sru_http {
    struct event_base *base;
    char *host, *host_header;
    int port;
    size_t max_body;
    connection_t *connections;
    int n_connections;
    int reachable;
    sru_http_request_t *all; /* running requests, for sru_http_free() */
};

struct sru_http_request {
    sru_http_t *http;
    sru_http_request_t *prev, *next;
    connection_t *connection;
    struct evhttp_request *req; /* NULL once evhttp finished with it */
    struct event *timer;        /* the deadline, then the hand-over of the answer */
    int answered;               /* the evhttp callback ran */
    int http_status;            /* 0: no answer */
    const char *reason;         /* why there was no answer (static) */
    struct evbuffer *body;
    sru_http_cb cb;
    void *arg;
};

static struct evhttp_connection *connect_new(sru_http_t *http)
{
    struct evhttp_connection *conn =
        evhttp_connection_base_new(http->base, NULL, http->host, (ev_uint16_t)http->port);
    if (!conn)
        return NULL;
    evhttp_connection_set_retries(conn, 0);
    evhttp_connection_set_max_headers_size(conn, HEADERS_MAX);
    evhttp_connection_set_max_body_size(conn, (ev_ssize_t)http->max_body);
    return conn;
}

sru_http_t *sru_http_new(struct event_base *base, const char *host, int port, int connections,
                         size_t max_body)
{
    sru_http_t *http = rk_xcalloc(1, sizeof(*http));
    http->base = base;
    http->host = rk_xstrdup(host);
    http->port = port;
    http->max_body = max_body;
    http->reachable = 1;
    char header[300];
    snprintf(header, sizeof(header), "%s:%d", host, port);
    http->host_header = rk_xstrdup(header);
    http->n_connections = connections < 1 ? 1 : connections > 64 ? 64 : connections;
    http->connections = rk_xcalloc((size_t)http->n_connections, sizeof(*http->connections));
    return http;
}

static void request_free(sru_http_request_t *r)
{
    sru_http_t *http = r->http;
    if (r->prev)
        r->prev->next = r->next;
    else
        http->all = r->next;
    if (r->next)
        r->next->prev = r->prev;
    if (r->req)
        evhttp_cancel_request(r->req); /* resets its connection; no callback */
    if (r->connection)
        r->connection->queued--;
    event_free(r->timer);
    evbuffer_free(r->body);
    free(r);
}

void sru_http_free(sru_http_t *http)
{
    if (!http)
        return;
    while (http->all)
        request_free(http->all);
    for (int i = 0; i < http->n_connections; i++) {
        if (http->connections[i].conn)
            evhttp_connection_free(http->connections[i].conn);
    }
    free(http->connections);
    free(http->host);
    free(http->host_header);
    free(http);
}

/* Runs outside every evhttp callback: hands the answer (or the timeout) to the caller. */
static void finish_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sru_http_request_t *r = arg;
    sru_http_cb cb = r->cb;
    void *cb_arg = r->arg;
    int answered = r->answered, status = r->http_status;
    char why[160];
    snprintf(why, sizeof(why), "%s:%d %s", r->http->host, r->http->port,
             !answered ? "did not answer within the deadline"
             : status  ? "answered"
                       : r->reason);
    size_t len = evbuffer_get_length(r->body);
    char *body = len ? (char *)evbuffer_pullup(r->body, -1) : "";
    int rc = !answered ? RK_ETIMEOUT : status ? RK_OK : RK_EUNAVAILABLE;
    if (rc != RK_ETIMEOUT)
        r->http->reachable = rc == RK_OK;
    /* The request is freed after the callback (body stays valid during it); a request still
     * inside evhttp after a timeout is cancelled by request_free. */
    r->cb = NULL;
    cb(rc, status, body, len, why, cb_arg);
    request_free(r);
}

static const char *error_name(enum evhttp_request_error error)
{
    switch (error) {
    case EVREQ_HTTP_TIMEOUT:
        return "timed out";
    case EVREQ_HTTP_EOF:
        return "closed the connection (is zebrasrv running?)";
    case EVREQ_HTTP_INVALID_HEADER:
        return "sent an invalid answer";
    case EVREQ_HTTP_BUFFER_ERROR:
        return "refused the connection (is zebrasrv running?)";
    case EVREQ_HTTP_REQUEST_CANCEL:
        return "request cancelled";
    case EVREQ_HTTP_DATA_TOO_LONG:
        return "sent an answer that is too long";
    }
    return "did not answer";
}

static void error_cb(enum evhttp_request_error error, void *arg)
{
    sru_http_request_t *r = arg;
    r->reason = error_name(error);
}

static void answered_cb(struct evhttp_request *req, void *arg)
{
    sru_http_request_t *r = arg;
    r->answered = 1;
    r->req = NULL; /* evhttp frees it after this callback */
    r->http_status = req ? evhttp_request_get_response_code(req) : 0;
    if (r->http_status)
        evbuffer_add_buffer(r->body, evhttp_request_get_input_buffer(req));
    if (!r->reason)
        r->reason = "did not answer";
    evtimer_del(r->timer);
    event_active(r->timer, EV_TIMEOUT, 1);
}

sru_http_request_t *sru_http_get(sru_http_t *http, const char *target, uint64_t timeout_ms,
                                 sru_http_cb cb, void *arg)
{
    sru_http_request_t *r = rk_xcalloc(1, sizeof(*r));
    r->http = http;
    r->cb = cb;
    r->arg = arg;
    r->body = evbuffer_new();
    r->timer = evtimer_new(http->base, finish_cb, r);
    if (!r->body || !r->timer)
        abort(); /* allocation failure, as rk_xmalloc */
    r->next = http->all;
    if (http->all)
        http->all->prev = r;
    http->all = r;
    struct timeval deadline = {(time_t)(timeout_ms / 1000),
                               (suseconds_t)(timeout_ms % 1000) * 1000};
    evtimer_add(r->timer, &deadline);

    connection_t *best = &http->connections[0];
    for (int i = 1; i < http->n_connections; i++) {
        if (http->connections[i].queued < best->queued)
            best = &http->connections[i];
    }
    if (!best->conn)
        best->conn = connect_new(http);
    if (!best->conn) {
        r->answered = 1;
        r->reason = "cannot set up a connection";
        evtimer_del(r->timer);
        event_active(r->timer, EV_TIMEOUT, 1);
        return r;
    }
    r->connection = best;
    best->queued++;
    r->req = evhttp_request_new(answered_cb, r);
    evhttp_request_set_error_cb(r->req, error_cb);
    struct evkeyvalq *headers = evhttp_request_get_output_headers(r->req);
    evhttp_add_header(headers, "Host", http->host_header);
    evhttp_add_header(headers, "User-Agent", "renkei-adapter-sru/1");
    if (evhttp_make_request(best->conn, r->req, EVHTTP_REQ_GET, target) != 0 && !r->answered) {
        r->req = NULL; /* freed by evhttp */
        r->answered = 1;
        r->reason = "cannot send the request";
        evtimer_del(r->timer);
        event_active(r->timer, EV_TIMEOUT, 1);
    }
    return r;
}

void sru_http_cancel(sru_http_request_t *request)
{
    request_free(request);
}

int sru_http_reachable(const sru_http_t *http)
{
    return http->reachable;
}
