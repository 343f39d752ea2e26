/*
 * http2.c — HTTP/2 connections with nghttp2 (see http2.h).
 *
 * nghttp2 does the framing, HPACK, flow control and stream state; this file maps streams to
 * requests. Bytes read are fed to nghttp2_session_mem_recv(); frames nghttp2 wants to send
 * are appended to the bufferevent's output by the send callback. nghttp2 must not be asked to
 * send from inside its own callbacks, so a response finished during a receive is flushed when
 * the receive returns, and one finished later (from a database callback) is flushed at once.
 */
#include "net/http2.h"

#include "core/log.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_CONCURRENT_STREAMS 128
#define MAX_REQUEST_HEADERS 100
#define OUTPUT_HIGH_WATER (4u << 20) /* stop producing frames above this much unsent */

typedef struct h2_conn h2_conn_t;

typedef struct h2_stream {
    struct h2_stream *prev, *next;
    h2_conn_t *conn;
    int32_t id;
    rk_request_t *req; /* from HEADERS until the response is submitted */
    size_t header_bytes, headers_cap;
    struct evbuffer *body;
    int too_large;
    size_t body_limit; /* of this request: its route's, found at the first DATA */
    int dispatched;
    struct evbuffer *out; /* response body not yet framed */
    int open_ended;       /* a streamed response: the body is not complete yet */
    rk_arena_t *trailers_arena;
    nghttp2_nv *trailers;
    size_t n_trailers;
} h2_stream_t;

struct h2_conn {
    rk_conn_link_t link; /* first: the server's list holds &conn->link */
    rk_server_t *server;
    struct bufferevent *bev;
    nghttp2_session *session;
    struct event *idle_timer; /* idle close, or a keepalive PING while streams are open */
    int ping_outstanding;
    char peer[64];
    h2_stream_t *streams;
    int in_recv;
    int closing;
    char *mem_slot;     /* see "nghttp2's buffers" below; NULL: all on the heap */
    size_t mem_used;    /* bytes of mem_slot handed out */
    int mem_carving;    /* inside nghttp2_session_server_new3() */
    int mem_seen_first; /* the session struct itself (the first allocation) went to malloc */
};

/*
 * nghttp2's buffers. With plain malloc an idle server session cost 13.0 KiB of RSS
 * (measured: 10,000 nghttp2 1.52 sessions after preface and SETTINGS), though nghttp2 writes
 * little of what it allocates at creation: a 16 KiB outbound frame buffer (an idle connection
 * only ever used its first few dozen bytes), two 1 KiB HPACK ring buffers and a 4 KiB stream
 * hash table, ~22 KiB in all. malloc packs them between written objects of this and the next
 * connection, so most of their pages end up resident, and calloc's memset writes the hash
 * table whole. Here each connection instead gets a 24 KiB slot of anonymous pages of its own
 * (mmap'ed 64 slots at a time), and the buffers of 1 KiB and more that
 * nghttp2_session_server_new3() allocates — all but the session struct, which is written
 * through — are carved from it in order. Pages nobody writes stay non-resident, and slot
 * memory is zero (fresh from mmap, or returned with MADV_DONTNEED), so calloc costs no memset.
 * Measured: 7.0 KiB per idle session instead of 13.0; renkeid at 10,000 idle h2c connections,
 * 8.2 KiB each instead of 14.3. Once streams have come and gone, the ring buffers and the hash
 * table are written too and 2 of the slot's 6 pages are resident. Everything else nghttp2
 * allocates (streams, HPACK entries, queued frames) goes to malloc as before; a carved buffer
 * nghttp2 frees stays in the slot, unused, until the connection ends.
 * The event loop is single-threaded, so the slot pool needs no lock.
 */
#define MEM_SLOT_BYTES (24u << 10)
#define MEM_SLOTS_PER_MAP 64
#define MEM_MIN_CARVED 1024

static char **free_slots;
static size_t n_free_slots, free_slots_cap;

static char *slot_get(void)
{
    if (!n_free_slots) {
        char *map = mmap(NULL, (size_t)MEM_SLOT_BYTES * MEM_SLOTS_PER_MAP, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED)
            return NULL; /* this connection's buffers go to malloc */
        if (free_slots_cap < MEM_SLOTS_PER_MAP) {
            free_slots_cap = MEM_SLOTS_PER_MAP;
            free_slots = rk_xrealloc(free_slots, free_slots_cap * sizeof(*free_slots));
        }
        for (size_t i = MEM_SLOTS_PER_MAP; i > 0; i--)
            free_slots[n_free_slots++] = map + (i - 1) * (size_t)MEM_SLOT_BYTES;
    }
    return free_slots[--n_free_slots];
}

static void slot_put(char *slot)
{
    if (!slot)
        return;
    /* Back to zero pages: what the next connection calloc's from it needs no memset. */
    madvise(slot, MEM_SLOT_BYTES, MADV_DONTNEED);
    if (n_free_slots == free_slots_cap) {
        free_slots_cap *= 2;
        free_slots = rk_xrealloc(free_slots, free_slots_cap * sizeof(*free_slots));
    }
    free_slots[n_free_slots++] = slot;
}

static int in_slot(const h2_conn_t *c, const void *p)
{
    return c->mem_slot && (const char *)p >= c->mem_slot &&
           (const char *)p < c->mem_slot + MEM_SLOT_BYTES;
}

/* A piece of the slot for an allocation at session creation, or NULL for malloc. */
static void *carve(h2_conn_t *c, size_t size)
{
    if (!c->mem_carving || !c->mem_slot || size < MEM_MIN_CARVED)
        return NULL;
    if (!c->mem_seen_first) {
        c->mem_seen_first = 1;
        return NULL;
    }
    size_t aligned = (size + 15) & ~(size_t)15;
    if (aligned > MEM_SLOT_BYTES - c->mem_used)
        return NULL;
    void *p = c->mem_slot + c->mem_used;
    c->mem_used += aligned;
    return p;
}

static void *mem_malloc(size_t size, void *user_data)
{
    void *p = carve(user_data, size);
    return p ? p : malloc(size);
}

static void mem_free(void *ptr, void *user_data)
{
    if (!in_slot(user_data, ptr))
        free(ptr);
}

static void *mem_calloc(size_t count, size_t size, void *user_data)
{
    void *p = count && size <= SIZE_MAX / count ? carve(user_data, count * size) : NULL;
    return p ? p : calloc(count, size);
}

static void *mem_realloc(void *ptr, size_t size, void *user_data)
{
    h2_conn_t *c = user_data;
    if (!ptr) {
        void *p = carve(c, size);
        return p ? p : malloc(size);
    }
    if (!in_slot(c, ptr))
        return realloc(ptr, size);
    /* A carved buffer grows (nghttp2 1.52 does not do this): move it to the heap. */
    void *moved = malloc(size);
    if (moved) {
        size_t room = (size_t)(c->mem_slot + MEM_SLOT_BYTES - (char *)ptr);
        memcpy(moved, ptr, size < room ? size : room);
    }
    return moved;
}

static void conn_free(h2_conn_t *c);
static void conn_flush(h2_conn_t *c);
static void send_response(rk_request_t *req, void *ctx);
static void stream_begin(rk_request_t *req, void *ctx);
static void stream_flush(rk_request_t *req, void *ctx);

static const rk_transport_t h2_transport = {send_response, stream_begin, stream_flush};

static void stream_free(h2_stream_t *st)
{
    h2_conn_t *c = st->conn;
    if (st->prev)
        st->prev->next = st->next;
    else
        c->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    if (st->req) {
        if (st->dispatched)
            rk_request_detach(st->req); /* the handler finishes into nothing */
        else
            rk_arena_free(st->req->arena);
    }
    if (st->body)
        evbuffer_free(st->body);
    if (st->out)
        evbuffer_free(st->out);
    rk_arena_free(st->trailers_arena);
    free(st);
}

static void arm_idle(h2_conn_t *c)
{
    int ms = c->server->cfg->idle_timeout_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->idle_timer, &tv);
}

static ssize_t send_cb(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
                       void *user_data)
{
    (void)session;
    (void)flags;
    h2_conn_t *c = user_data;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(out) > OUTPUT_HIGH_WATER)
        return NGHTTP2_ERR_WOULDBLOCK; /* resumed from the write callback */
    evbuffer_add(out, data, length);
    return (ssize_t)length;
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    h2_conn_t *c = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    h2_stream_t *st = rk_xcalloc(1, sizeof(*st));
    st->conn = c;
    st->id = frame->hd.stream_id;
    st->req = rk_request_new(c->server);
    st->req->protocol = "HTTP/2";
    st->req->method = NULL;
    st->req->path = NULL;
    st->req->peer = rk_arena_strdup(st->req->arena, c->peer);
    st->next = c->streams;
    if (c->streams)
        c->streams->prev = st;
    c->streams = st;
    nghttp2_session_set_stream_user_data(session, st->id, st);
    arm_idle(c); /* from now on it times keepalive PINGs */
    return 0;
}

static void add_request_header(h2_stream_t *st, const char *name, size_t name_len,
                               const char *value, size_t value_len)
{
    rk_request_t *req = st->req;
    if (req->n_headers == st->headers_cap) {
        size_t cap = st->headers_cap ? st->headers_cap * 2 : 16;
        rk_header_t *grown = rk_arena_alloc(req->arena, cap * sizeof(*grown));
        if (req->n_headers)
            memcpy(grown, req->headers, req->n_headers * sizeof(*grown));
        req->headers = grown;
        st->headers_cap = cap;
    }
    rk_header_t *h = &req->headers[req->n_headers++];
    h->name = rk_arena_strndup(req->arena, name, name_len);
    h->value = rk_arena_strndup(req->arena, value, value_len);
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t name_len, const uint8_t *value, size_t value_len, uint8_t flags,
                     void *user_data)
{
    (void)flags;
    h2_conn_t *c = user_data;
    h2_stream_t *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!st || !st->req || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0; /* request trailers carry nothing we use */
    rk_request_t *req = st->req;
    st->header_bytes += name_len + value_len;
    if (st->header_bytes > (size_t)c->server->cfg->header_bytes ||
        req->n_headers >= MAX_REQUEST_HEADERS)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* RST_STREAM */
    const char *n = (const char *)name, *v = (const char *)value;
    if (name_len && n[0] == ':') {
        if (name_len == 7 && memcmp(n, ":method", 7) == 0) {
            req->method = rk_arena_strndup(req->arena, v, value_len);
        } else if (name_len == 5 && memcmp(n, ":path", 5) == 0) {
            const char *q = memchr(v, '?', value_len);
            size_t path_len = q ? (size_t)(q - v) : value_len;
            req->path = rk_arena_strndup(req->arena, v, path_len);
            if (q)
                req->query = rk_arena_strndup(req->arena, q + 1, value_len - path_len - 1);
        } else if (name_len == 10 && memcmp(n, ":authority", 10) == 0) {
            add_request_header(st, "host", 4, v, value_len);
        }
        return 0;
    }
    add_request_header(st, n, name_len, v, value_len);
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *user_data)
{
    (void)flags;
    h2_conn_t *c = user_data;
    h2_stream_t *st = nghttp2_session_get_stream_user_data(session, stream_id);
    if (!st || st->dispatched)
        return 0;
    if (!st->body)
        st->body = evbuffer_new();
    if (!st->body_limit)
        st->body_limit = rk_server_route(c->server, st->req);
    if (evbuffer_get_length(st->body) + len > st->body_limit) {
        st->too_large = 1; /* answered with 413 at the end of the stream */
        return 0;
    }
    evbuffer_add(st->body, data, len);
    return 0;
}

static void dispatch(h2_conn_t *c, h2_stream_t *st)
{
    rk_request_t *req = st->req;
    st->dispatched = 1;
    req->transport = &h2_transport;
    req->transport_ctx = st;
    size_t body_len = st->body ? evbuffer_get_length(st->body) : 0;
    if (body_len) {
        unsigned char *body = rk_arena_alloc(req->arena, body_len + 1);
        evbuffer_remove(st->body, body, body_len);
        body[body_len] = '\0';
        req->body = body;
        req->body_len = body_len;
    } else {
        req->body = (const unsigned char *)"";
    }
    if (!req->method || !req->path || req->path[0] != '/') {
        if (!req->method)
            req->method = "-";
        if (!req->path)
            req->path = "/";
        rk_server_assign_request_id(req);
        rk_response_error(req, 400, "bad_request", "a request needs :method and an absolute :path");
        rk_request_finish(req);
        return;
    }
    if (st->too_large) {
        rk_server_assign_request_id(req);
        rk_response_too_large(req);
        rk_request_finish(req);
        return;
    }
    rk_server_dispatch(c->server, req);
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    h2_conn_t *c = user_data;
    if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK)) {
        c->ping_outstanding = 0;
        return 0;
    }
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    h2_stream_t *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (st && st->req && !st->dispatched)
        dispatch(c, st);
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *user_data)
{
    (void)error_code;
    h2_conn_t *c = user_data;
    h2_stream_t *st = nghttp2_session_get_stream_user_data(session, stream_id);
    if (st)
        stream_free(st);
    if (!c->streams)
        arm_idle(c);
    return 0;
}

static ssize_t body_read_cb(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
                            size_t length, uint32_t *data_flags, nghttp2_data_source *source,
                            void *user_data)
{
    (void)user_data;
    h2_stream_t *st = source->ptr;
    if (evbuffer_get_length(st->out) == 0 && st->open_ended)
        return NGHTTP2_ERR_DEFERRED; /* resumed by stream_flush() or the end of the stream */
    int n = evbuffer_remove(st->out, buf, length);
    if (n < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (evbuffer_get_length(st->out) == 0 && !st->open_ended) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        if (st->n_trailers) {
            *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
            if (nghttp2_submit_trailer(session, stream_id, st->trailers, st->n_trailers) != 0)
                return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
    }
    return n;
}

static nghttp2_nv make_nv(const char *name, const char *value)
{
    nghttp2_nv nv = {(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
                     NGHTTP2_NV_FLAG_NONE};
    return nv;
}

/* HTTP/2 forbids connection-specific fields and upper-case names. */
static int header_allowed(const char *name)
{
    static const char *const banned[] = {"connection", "keep-alive", "proxy-connection",
                                         "transfer-encoding", "upgrade"};
    for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++) {
        if (strcasecmp(name, banned[i]) == 0)
            return 0;
    }
    for (const char *p = name; *p; p++) {
        if (isupper((unsigned char)*p) || *p == '\r' || *p == '\n')
            return 0;
    }
    return 1;
}

/* Keeps copies of the trailers for body_read_cb(), which sends them after the last DATA. */
static void keep_trailers(h2_stream_t *st, const rk_request_t *req)
{
    if (!req->n_response_trailers)
        return;
    st->trailers_arena = rk_arena_new();
    st->trailers =
        rk_arena_alloc(st->trailers_arena, req->n_response_trailers * sizeof(nghttp2_nv));
    for (size_t i = 0; i < req->n_response_trailers; i++)
        st->trailers[i] =
            make_nv(rk_arena_strdup(st->trailers_arena, req->response_trailers[i].name),
                    rk_arena_strdup(st->trailers_arena, req->response_trailers[i].value));
    st->n_trailers = req->n_response_trailers;
}

/* Builds the HEADERS of a response: status, request id, length when known, the handler's
 * headers, and — for a trailers-only response — the trailers too. */
static size_t build_headers(rk_request_t *req, size_t body_len, int with_length, int with_trailers,
                            nghttp2_nv **out)
{
    size_t cap = 3 + req->n_response_headers + req->n_response_trailers;
    nghttp2_nv *nva = rk_arena_alloc(req->arena, cap * sizeof(*nva));
    size_t n = 0;
    nva[n++] = make_nv(":status", rk_arena_printf(req->arena, "%d", req->status));
    nva[n] = make_nv("x-request-id", req->request_id);
    /* Unique per response: indexing it would only evict reusable entries (content-type,
     * grpc-status) from the HPACK table, so every response would carry them in full. */
    nva[n++].flags = NGHTTP2_NV_FLAG_NO_INDEX;
    if (with_length)
        nva[n++] = make_nv("content-length", rk_arena_printf(req->arena, "%zu", body_len));
    for (size_t i = 0; i < req->n_response_headers; i++) {
        if (header_allowed(req->response_headers[i].name))
            nva[n++] = make_nv(req->response_headers[i].name, req->response_headers[i].value);
    }
    for (size_t i = 0; with_trailers && i < req->n_response_trailers; i++)
        nva[n++] = make_nv(req->response_trailers[i].name, req->response_trailers[i].value);
    *out = nva;
    return n;
}

static void after_submit(h2_conn_t *c)
{
    if (!c->in_recv)
        conn_flush(c);
}

static void send_response(rk_request_t *req, void *ctx)
{
    h2_stream_t *st = ctx;
    h2_conn_t *c = st->conn;
    st->req = NULL; /* freed by rk_request_finish() once this returns */
    if (req->streaming) {
        /* The end of a stream: the rest of the body, then the trailers (or END_STREAM). */
        evbuffer_add_buffer(st->out, req->response_body);
        keep_trailers(st, req);
        st->open_ended = 0;
        nghttp2_session_resume_data(c->session, st->id);
        after_submit(c);
        return;
    }
    int is_head = strcmp(req->method, "HEAD") == 0;
    size_t full_len = evbuffer_get_length(req->response_body);
    st->out = evbuffer_new();
    if (!is_head)
        evbuffer_add_buffer(st->out, req->response_body);
    size_t body_len = evbuffer_get_length(st->out);
    int trailers_only = body_len == 0 && req->n_response_trailers > 0;
    nghttp2_nv *nva;
    size_t n = build_headers(req, full_len, !req->n_response_trailers, trailers_only, &nva);
    if (!trailers_only)
        keep_trailers(st, req);
    nghttp2_data_provider provider = {.source.ptr = st, .read_callback = body_read_cb};
    int has_data = body_len > 0 || st->n_trailers;
    if (nghttp2_submit_response(c->session, st->id, nva, n, has_data ? &provider : NULL) != 0)
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    after_submit(c);
}

static void stream_begin(rk_request_t *req, void *ctx)
{
    h2_stream_t *st = ctx;
    h2_conn_t *c = st->conn;
    st->out = evbuffer_new();
    st->open_ended = 1;
    evbuffer_add_buffer(st->out, req->response_body);
    nghttp2_nv *nva;
    size_t n = build_headers(req, 0, 0, 0, &nva);
    nghttp2_data_provider provider = {.source.ptr = st, .read_callback = body_read_cb};
    if (nghttp2_submit_response(c->session, st->id, nva, n, &provider) != 0)
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    after_submit(c);
}

static void stream_flush(rk_request_t *req, void *ctx)
{
    h2_stream_t *st = ctx;
    if (!evbuffer_get_length(req->response_body))
        return;
    evbuffer_add_buffer(st->out, req->response_body);
    nghttp2_session_resume_data(st->conn->session, st->id);
    after_submit(st->conn);
}

/* Lets nghttp2 write what it has; closes the connection when it has nothing left to do. */
static void conn_flush(h2_conn_t *c)
{
    if (nghttp2_session_send(c->session) != 0) {
        conn_free(c);
        return;
    }
    if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session)) {
        c->closing = 1;
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
            conn_free(c);
    }
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    h2_conn_t *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    unsigned char *data = evbuffer_pullup(in, (ssize_t)len);
    c->in_recv = 1;
    ssize_t used = nghttp2_session_mem_recv(c->session, data, len);
    c->in_recv = 0;
    if (used < 0) {
        rk_log_debug("HTTP/2 protocol error", "{s:s, s:s}", "peer", c->peer, "error",
                     nghttp2_strerror((int)used));
        conn_free(c);
        return;
    }
    evbuffer_drain(in, (size_t)used);
    conn_flush(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    h2_conn_t *c = arg;
    if (c->closing) {
        conn_free(c);
        return;
    }
    if (nghttp2_session_want_write(c->session))
        conn_flush(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what == BEV_EVENT_CONNECTED)
        return;
    conn_free(arg); /* EOF, error or write timeout: streams detach */
}

/*
 * Every limits.idle_timeout_ms: a connection without streams is closed (GOAWAY); one with
 * streams open (a long Watch, a slow handler) is sent a PING, and if the previous PING is
 * still unanswered the peer is taken for dead and the connection closed, detaching its
 * requests — so a client that vanished without a FIN does not hold a stream forever.
 */
static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    h2_conn_t *c = arg;
    if (!c->streams) {
        nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
        conn_flush(c);
        return;
    }
    if (c->ping_outstanding) {
        rk_log_debug("HTTP/2 peer did not answer a keepalive PING", "{s:s}", "peer", c->peer);
        conn_free(c);
        return;
    }
    nghttp2_submit_ping(c->session, NGHTTP2_FLAG_NONE, NULL);
    c->ping_outstanding = 1;
    arm_idle(c);
    conn_flush(c);
}

static void drain_cb(rk_conn_link_t *link)
{
    h2_conn_t *c = (h2_conn_t *)link;
    nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(c->session), NGHTTP2_NO_ERROR,
                          NULL, 0);
    if (!c->streams)
        nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
    conn_flush(c);
}

static void close_cb(rk_conn_link_t *link)
{
    conn_free((h2_conn_t *)link);
}

static void conn_free(h2_conn_t *c)
{
    while (c->streams)
        stream_free(c->streams);
    nghttp2_session_del(c->session); /* does not call on_stream_close: streams are gone */
    slot_put(c->mem_slot);
    event_free(c->idle_timer);
    bufferevent_free(c->bev);
    rk_server_unlink(c->server, &c->link);
    free(c);
}

/*
 * Without no_closed_streams a server session keeps the state of up to MAX_CONCURRENT_STREAMS
 * closed streams for RFC 7540 priorities, which gRPC clients do not use (RFC 9113 deprecates
 * them): measured, an idle connection after 100 sequential calls held 39.8 KiB instead of
 * 14 KiB. Made once, shared by every session (nghttp2 copies what it needs).
 */
static const nghttp2_option *session_options(void)
{
    static nghttp2_option *options;
    if (!options) {
        if (nghttp2_option_new(&options) != 0)
            return NULL; /* out of memory: nghttp2's defaults */
        nghttp2_option_set_no_closed_streams(options, 1);
    }
    return options;
}

void rk_http2_accept(rk_server_t *server, struct bufferevent *bev, const char *peer)
{
    h2_conn_t *c = rk_xcalloc(1, sizeof(*c));
    c->server = server;
    c->bev = bev;
    c->link.drain = drain_cb;
    c->link.close = close_cb;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    nghttp2_session_callbacks *cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_mem mem = {c, mem_malloc, mem_free, mem_calloc, mem_realloc};
    c->mem_slot = slot_get();
    c->mem_carving = 1;
    int rc = nghttp2_session_server_new3(&c->session, cbs, c, session_options(), &mem);
    c->mem_carving = 0;
    nghttp2_session_callbacks_del(cbs);
    if (rc != 0) { /* out of memory */
        slot_put(c->mem_slot);
        bufferevent_free(bev);
        free(c);
        return;
    }
    const rk_config_t *cfg = server->cfg;
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_CONCURRENT_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)cfg->header_bytes},
    };
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings,
                            sizeof(settings) / sizeof(settings[0]));
    c->idle_timer = evtimer_new(server->base, idle_cb, c);
    rk_server_link(server, &c->link);
    struct timeval write_tv = {cfg->write_timeout_ms / 1000, (cfg->write_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(bev, NULL, &write_tv);
    bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    arm_idle(c);
    conn_flush(c);
}
