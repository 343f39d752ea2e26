/*
 * http1.c — HTTP/1.1 connections on bufferevents, parsed by libhttp-parser (see http1.h).
 *
 * A connection is in one of three phases: idle (waiting for the first byte of a request, idle
 * timer armed), receiving (a request has begun, the absolute header timer armed), or active
 * (a complete request is with its handler; the parser is paused and further input waits in
 * the bufferevent, whose read high-water mark stops reading when too much piles up). The
 * response is written when the handler finishes, then parsing resumes on what is buffered.
 *
 * A connection is freed only from settle(), never in the middle of parsing, so callbacks can
 * mark it closing without pulling the rug from under the parse loop.
 */
#include "net/http1.h"

#include "core/log.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <http_parser.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_HEADERS 100

typedef struct strbuf {
    char *data;
    size_t len, cap;
} strbuf_t;

typedef struct http1_conn {
    rk_conn_link_t link; /* first: the server's list holds &conn->link */
    rk_server_t *server;
    struct bufferevent *bev;
    struct event *timer;
    http_parser parser;
    char peer[64];

    rk_request_t *building; /* between message begin and complete */
    rk_request_t *ready;    /* complete, about to be dispatched */
    int ready_keep_alive;
    strbuf_t url, field, value, body;
    size_t head_bytes;
    size_t body_limit; /* of the request being received: its route's */
    size_t headers_cap;
    int in_value;
    int error_status;
    const char *error_code;
    const char *error_message;

    rk_request_t *active; /* with its handler */
    int active_keep_alive;
    int processing;
    int closing;
    int peer_eof;
    int draining;
    int linger;    /* a refused request: the client may still be sending when we close */
    int lingering; /* our side shut for writing; reading and dropping until EOF or LINGER_MS */
} http1_conn_t;

/* After refusing a request whose bytes the client may still be sending (garbage, too large),
 * the connection is shut for writing and read and dropped for at most this long before it is
 * freed, as nginx's lingering close: closing with unread input makes the kernel reset the
 * connection, and a reset can reach the client before it has read the answer. */
#define LINGER_MS 2000

static void sb_append(strbuf_t *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = rk_xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void sb_free(strbuf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static void conn_free(http1_conn_t *c);
static void close_or_linger(http1_conn_t *c);
static void process_input(http1_conn_t *c);
static void settle(http1_conn_t *c);
static void send_response(rk_request_t *req, void *ctx);
static void stream_begin(rk_request_t *req, void *ctx);
static void stream_flush(rk_request_t *req, void *ctx);

static const rk_transport_t http1_transport = {send_response, stream_begin, stream_flush};

static void arm_timer(http1_conn_t *c, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

/* Marks the parse as failed with an HTTP status the client will get. */
static int parse_fail(http1_conn_t *c, int status, const char *code, const char *message)
{
    c->error_status = status;
    c->error_code = code;
    c->error_message = message;
    return -1;
}

static int on_message_begin(http_parser *p)
{
    http1_conn_t *c = p->data;
    c->building = rk_request_new(c->server);
    c->building->peer = rk_arena_strdup(c->building->arena, c->peer);
    c->url.len = c->field.len = c->value.len = c->body.len = 0;
    c->head_bytes = 0;
    c->headers_cap = 0;
    c->in_value = 0;
    arm_timer(c, c->server->cfg->header_timeout_ms);
    return 0;
}

static int count_head_bytes(http1_conn_t *c, size_t len)
{
    c->head_bytes += len;
    if (c->head_bytes > (size_t)c->server->cfg->header_bytes)
        return parse_fail(c, 431, "headers_too_large",
                          "the request line and headers exceed limits.header_bytes");
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    http1_conn_t *c = p->data;
    if (count_head_bytes(c, len))
        return -1;
    sb_append(&c->url, at, len);
    return 0;
}

static int commit_header(http1_conn_t *c)
{
    rk_request_t *req = c->building;
    if (req->n_headers == MAX_HEADERS)
        return parse_fail(c, 431, "too_many_headers", "more than 100 request headers");
    if (req->n_headers == c->headers_cap) {
        size_t cap = c->headers_cap ? c->headers_cap * 2 : 16;
        rk_header_t *grown = rk_arena_alloc(req->arena, cap * sizeof(*grown));
        if (req->n_headers)
            memcpy(grown, req->headers, req->n_headers * sizeof(*grown));
        req->headers = grown;
        c->headers_cap = cap;
    }
    char *name = rk_arena_strndup(req->arena, c->field.data ? c->field.data : "", c->field.len);
    for (char *s = name; *s; s++)
        *s = (char)tolower((unsigned char)*s);
    rk_header_t *h = &req->headers[req->n_headers++];
    h->name = name;
    h->value = rk_arena_strndup(req->arena, c->value.data ? c->value.data : "", c->value.len);
    c->field.len = c->value.len = 0;
    c->in_value = 0;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    http1_conn_t *c = p->data;
    if (c->in_value && commit_header(c))
        return -1;
    if (count_head_bytes(c, len))
        return -1;
    sb_append(&c->field, at, len);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    http1_conn_t *c = p->data;
    c->in_value = 1;
    if (count_head_bytes(c, len))
        return -1;
    sb_append(&c->value, at, len);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    http1_conn_t *c = p->data;
    rk_request_t *req = c->building;
    if (c->in_value && commit_header(c))
        return -1;
    req->method = http_method_str((enum http_method)p->method);
    const char *url = c->url.data ? c->url.data : "";
    if (url[0] != '/')
        return parse_fail(c, 400, "bad_request", "the request target must be an absolute path");
    const char *q = strchr(url, '?');
    if (q) {
        req->path = rk_arena_strndup(req->arena, url, (size_t)(q - url));
        req->query = rk_arena_strdup(req->arena, q + 1);
    } else {
        req->path = rk_arena_strndup(req->arena, url, c->url.len);
    }
    c->body_limit = rk_server_route(c->server, req);
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > c->body_limit)
        return parse_fail(c, 413, "body_too_large", "the request body is larger than allowed");
    const char *expect = rk_request_header(req, "expect");
    if (expect && strcasecmp(expect, "100-continue") == 0)
        bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    http1_conn_t *c = p->data;
    if (c->body.len + len > c->body_limit)
        return parse_fail(c, 413, "body_too_large", "the request body is larger than allowed");
    sb_append(&c->body, at, len);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    http1_conn_t *c = p->data;
    rk_request_t *req = c->building;
    if (c->body.len) {
        req->body = (const unsigned char *)rk_arena_strndup(req->arena, c->body.data, c->body.len);
        req->body_len = c->body.len;
    } else {
        req->body = (const unsigned char *)"";
    }
    c->ready = req;
    c->ready_keep_alive = http_should_keep_alive(p);
    c->building = NULL;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void start_request(http1_conn_t *c, rk_request_t *req, int keep_alive)
{
    evtimer_del(c->timer);
    c->active = req;
    c->active_keep_alive = keep_alive && !c->draining;
    req->transport = &http1_transport;
    req->transport_ctx = c;
    rk_server_dispatch(c->server, req);
}

/* Answers a request that could not be parsed, then closes the connection. */
static void reject_request(http1_conn_t *c)
{
    rk_request_t *req = c->building ? c->building : rk_request_new(c->server);
    c->building = NULL;
    if (!req->method)
        req->method = "-";
    req->peer = rk_arena_strdup(req->arena, c->peer);
    rk_server_assign_request_id(req);
    c->active = req;
    c->active_keep_alive = 0;
    c->linger = 1;
    req->transport = &http1_transport;
    req->transport_ctx = c;
    if (c->error_status == 413)
        rk_response_too_large(req);
    else if (c->error_status)
        rk_response_error(req, c->error_status, c->error_code, c->error_message);
    else
        rk_response_error(req, 400, "bad_request",
                          http_errno_description(HTTP_PARSER_ERRNO(&c->parser)));
    rk_request_finish(req);
}

static void process_input(http1_conn_t *c)
{
    if (c->processing)
        return;
    c->processing = 1;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (!c->active && !c->closing && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec chunk;
        if (evbuffer_peek(in, -1, NULL, &chunk, 1) < 1)
            break;
        size_t parsed =
            http_parser_execute(&c->parser, &parser_settings, chunk.iov_base, chunk.iov_len);
        evbuffer_drain(in, parsed);
        enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
        if (err == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            rk_request_t *req = c->ready;
            c->ready = NULL;
            start_request(c, req, c->ready_keep_alive);
            continue;
        }
        if (err != HPE_OK || c->parser.upgrade || parsed != chunk.iov_len) {
            if (err == HPE_OK && !c->error_status)
                parse_fail(c, 400, "bad_request", "protocol upgrade is not supported");
            reject_request(c);
            break;
        }
    }
    c->processing = 0;
    settle(c);
}

static int has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static const char *http_date(void)
{
    static char date[40];
    static time_t date_at;
    time_t now = time(NULL);
    if (now != date_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        date_at = now;
    }
    return date;
}

/* Status line and headers; the length, or chunked encoding for a streamed response. */
/* Status line and headers, in one piece of the request's arena; the length, or chunked
 * encoding for a streamed response. */
static char *format_head(rk_request_t *req, int keep_alive, int chunked, size_t *len)
{
    char first[512];
    int n = snprintf(first, sizeof(first), "HTTP/1.1 %d %s\r\nDate: %s\r\n", req->status,
                     http_status_str((enum http_status)req->status), http_date());
    char length[64];
    int m = chunked ? snprintf(length, sizeof(length), "Transfer-Encoding: chunked\r\n")
                    : snprintf(length, sizeof(length), "Content-Length: %zu\r\n",
                               evbuffer_get_length(req->response_body));
    size_t total =
        (size_t)n + (size_t)m + 16 + strlen(req->request_id) + 2 + 2 + (keep_alive ? 0 : 19);
    for (size_t i = 0; i < req->n_response_headers; i++)
        total += strlen(req->response_headers[i].name) + strlen(req->response_headers[i].value) + 4;
    char *head = rk_arena_alloc(req->arena, total + 1);
    char *p = head;
    memcpy(p, first, (size_t)n);
    p += n;
    memcpy(p, length, (size_t)m);
    p += m;
    p += sprintf(p, "X-Request-Id: %s\r\n%s", req->request_id,
                 keep_alive ? "" : "Connection: close\r\n");
    for (size_t i = 0; i < req->n_response_headers; i++) {
        const rk_header_t *h = &req->response_headers[i];
        if (has_crlf(h->name) || has_crlf(h->value))
            continue; /* a handler bug must not become response splitting */
        size_t name_len = strlen(h->name), value_len = strlen(h->value);
        memcpy(p, h->name, name_len);
        p += name_len;
        memcpy(p, ": ", 2);
        p += 2;
        memcpy(p, h->value, value_len);
        p += value_len;
        memcpy(p, "\r\n", 2);
        p += 2;
    }
    memcpy(p, "\r\n", 2);
    p += 2;
    *len = (size_t)(p - head);
    return head;
}

static void write_head(http1_conn_t *c, rk_request_t *req, int keep_alive, int chunked)
{
    size_t len;
    char *head = format_head(req, keep_alive, chunked, &len);
    evbuffer_add(bufferevent_get_output(c->bev), head, len);
}

/*
 * A whole response. On a plain socket with nothing queued it is written at once, in one
 * writev: going through the bufferevent would switch its write event on and off around every
 * response, two epoll_ctl calls each time (measured: 29 % of the system-call time at 64
 * keep-alive connections). What the socket does not take is queued as usual.
 */
static void write_response(http1_conn_t *c, rk_request_t *req, int keep_alive)
{
    size_t len;
    char *head = format_head(req, keep_alive, 0, &len);
    struct evbuffer *body = req->response_body;
    if (strcmp(req->method, "HEAD") == 0)
        evbuffer_drain(body, evbuffer_get_length(body));
    evbuffer_prepend(body, head, len);
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (!c->server->ssl_ctx && evbuffer_get_length(out) == 0)
        evbuffer_write(body, bufferevent_getfd(c->bev));
    if (evbuffer_get_length(body))
        evbuffer_add_buffer(out, body);
}

static void write_chunk(http1_conn_t *c, rk_request_t *req)
{
    size_t len = evbuffer_get_length(req->response_body);
    if (!len)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out, "%zx\r\n", len);
    evbuffer_add_buffer(out, req->response_body);
    evbuffer_add(out, "\r\n", 2);
}

static void stream_begin(rk_request_t *req, void *ctx)
{
    http1_conn_t *c = ctx;
    write_head(c, req, c->active_keep_alive, 1);
    write_chunk(c, req);
}

static void stream_flush(rk_request_t *req, void *ctx)
{
    write_chunk(ctx, req);
}

static void send_response(rk_request_t *req, void *ctx)
{
    http1_conn_t *c = ctx;
    if (req->streaming) {
        write_chunk(c, req);
        evbuffer_add(bufferevent_get_output(c->bev), "0\r\n\r\n", 5);
    } else {
        write_response(c, req, c->active_keep_alive);
    }
    c->active = NULL;
    if (!c->active_keep_alive) {
        c->closing = 1;
    } else if (!c->processing) {
        /* Finished later, from a callback: continue with what the client pipelined. */
        arm_timer(c, c->server->cfg->idle_timeout_ms);
        process_input(c);
        return;
    }
    if (!c->processing)
        settle(c);
}

/* Decides, outside any parse, whether the connection is done; frees it if so. */
static void settle(http1_conn_t *c)
{
    if (c->active)
        return;
    if (c->peer_eof || (c->draining && !c->building))
        c->closing = 1;
    if (c->closing) {
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
            close_or_linger(c);
        return;
    }
    if (!c->building)
        arm_timer(c, c->server->cfg->idle_timeout_ms);
}

/* The answer is out and the connection ends: freed at once, or after lingering (LINGER_MS) when
 * a refused client may still be sending over plain TCP. */
static void close_or_linger(http1_conn_t *c)
{
    if (c->lingering)
        return;
    if (!c->linger || c->peer_eof || bufferevent_openssl_get_ssl(c->bev)) {
        conn_free(c);
        return;
    }
    c->lingering = 1;
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    arm_timer(c, LINGER_MS);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    http1_conn_t *c = arg;
    if (c->lingering) {
        struct evbuffer *in = bufferevent_get_input(bev);
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    process_input(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    http1_conn_t *c = arg;
    if (c->closing && !c->active)
        close_or_linger(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    http1_conn_t *c = arg;
    if (what == BEV_EVENT_CONNECTED)
        return; /* the TLS handshake finished */
    if (what & BEV_EVENT_EOF) {
        c->peer_eof = 1;
        if (c->lingering) {
            conn_free(c);
            return;
        }
        if (!c->active) {
            process_input(c); /* answers anything complete still buffered, then settles */
            return;
        }
        return;
    }
    conn_free(c); /* error or write timeout */
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    http1_conn_t *c = arg;
    if (!c->active)
        conn_free(c);
}

static void drain_cb(rk_conn_link_t *link)
{
    http1_conn_t *c = (http1_conn_t *)link;
    c->draining = 1;
    c->active_keep_alive = 0;
    if (!c->active && !c->processing)
        settle(c);
}

static void close_cb(rk_conn_link_t *link)
{
    conn_free((http1_conn_t *)link);
}

static void conn_free(http1_conn_t *c)
{
    if (c->active)
        rk_request_detach(c->active);
    if (c->building)
        rk_arena_free(c->building->arena);
    event_free(c->timer);
    bufferevent_free(c->bev);
    sb_free(&c->url);
    sb_free(&c->field);
    sb_free(&c->value);
    sb_free(&c->body);
    rk_server_unlink(c->server, &c->link);
    free(c);
}

void rk_http1_accept(rk_server_t *server, struct bufferevent *bev, const char *peer)
{
    http1_conn_t *c = rk_xcalloc(1, sizeof(*c));
    c->server = server;
    c->bev = bev;
    c->link.drain = drain_cb;
    c->link.close = close_cb;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->timer = evtimer_new(server->base, timer_cb, c);
    rk_server_link(server, &c->link);
    const rk_config_t *cfg = server->cfg;
    struct timeval write_tv = {cfg->write_timeout_ms / 1000, (cfg->write_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(bev, NULL, &write_tv);
    bufferevent_setwatermark(
        bev, EV_READ, 0,
        (size_t)cfg->header_bytes +
            (size_t)(cfg->body_bytes > cfg->message_bytes ? cfg->body_bytes : cfg->message_bytes) +
            65536);
    bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    arm_timer(c, cfg->idle_timeout_ms);
}
