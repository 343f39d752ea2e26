/*
 * rpc_client.c — gRPC client calls over pooled HTTP/2 connections (see rpc_client.h).
 *
 * Three objects: the channel (endpoint, TLS context, pool, calls waiting for a connection),
 * the connection (a bufferevent and an nghttp2 client session), and the call (framed request,
 * deadline timer, response being collected). A call is waiting until a ready connection has
 * room for one more stream, then submitted; it completes exactly once — on stream close, on
 * its deadline, or when its connection dies — through complete(), which is only ever reached
 * from a loop callback.
 */
#include "net/rpc_client.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "net/pb_arena.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define DEFAULT_MAX_MESSAGE (4u << 20)

typedef struct client_conn client_conn_t;

typedef struct client_call {
    struct client_call *next; /* in the channel's waiting queue */
    rk_rpc_channel_t *channel;
    client_conn_t *conn; /* once submitted */
    int32_t stream_id;
    rk_arena_t *arena;
    const char *path;
    uint8_t *frame;
    size_t frame_len, frame_sent;
    const ProtobufCMessageDescriptor *response_type;
    uint64_t deadline_ns;
    struct event *timer; /* the deadline, and deferred completion */
    rk_header_t *metadata;
    size_t n_metadata;
    rk_rpc_client_cb cb;
    void *arg;
    struct evbuffer *data;
    rk_header_t *headers; /* response headers and trailers */
    size_t n_headers, headers_cap;
    int too_large;
    int pending; /* a completion is scheduled: pending_code/message */
    rk_rpc_code_t pending_code;
    const char *pending_message;
} client_call_t;

typedef enum { CONN_CONNECTING, CONN_READY, CONN_DRAINING } conn_state_t;

struct client_conn {
    client_conn_t *next;
    rk_rpc_channel_t *channel;
    conn_state_t state;
    struct bufferevent *bev;
    nghttp2_session *session;
    struct event *connect_timer;
    struct event *keepalive_timer;
    struct event *flush; /* plain TCP: conn_flush()'s write, once per loop iteration */
    int ping_outstanding;
    int active_streams;
    uint32_t max_streams;
    int in_recv;
};

struct rk_rpc_channel {
    struct event_base *base;
    struct evdns_base *dns;
    rk_rpc_channel_options_t options;
    char *host;
    char *authority;
    int port;
    int tls;
    SSL_CTX *ssl_ctx;
    char *server_name; /* SNI and the name verified: options->server_name or host */
    int pinned;
    unsigned char pin[32];
    int pin_mismatch; /* the last handshake failed on the pin: say so rather than "verify" */
    client_conn_t *conns;
    int n_conns;
    client_call_t *waiting_head, *waiting_tail;
};

static void schedule(rk_rpc_channel_t *ch);
static void conn_flush(client_conn_t *conn);
static void conn_close(client_conn_t *conn, const char *why);

/* --- calls ------------------------------------------------------------------------------- */

/* What rk_rpc_result_keep() hands over, on complete()'s stack. */
typedef struct keep {
    rk_arena_t *arena;
    int kept;
} keep_t;

/* Calls back once and frees the call. The call lives in its own arena, which the callback may
 * keep (and free before returning, with what it was kept for): nothing of it is read after. */
static void complete(client_call_t *call, rk_rpc_code_t code, const char *message,
                     const ProtobufCMessage *response)
{
    struct event *timer = call->timer;
    struct evbuffer *data = call->data;
    keep_t keep = {call->arena, 0};
    rk_rpc_result_t result = {code,          message ? message : "", response,
                              call->headers, call->n_headers,        &keep};
    call->cb(&result, call->arg);
    event_free(timer);
    if (data)
        evbuffer_free(data);
    if (!keep.kept)
        rk_arena_free(keep.arena);
}

rk_arena_t *rk_rpc_result_keep(const rk_rpc_result_t *result)
{
    keep_t *keep = result->keep;
    keep->kept = 1;
    return keep->arena;
}

/* Completes from the loop: the callback must never run inside rk_rpc_call(). */
static void complete_later(client_call_t *call, rk_rpc_code_t code, const char *message)
{
    call->pending = 1;
    call->pending_code = code;
    call->pending_message = message;
    event_del(call->timer);
    event_active(call->timer, EV_TIMEOUT, 0);
}

static void waiting_remove(rk_rpc_channel_t *ch, client_call_t *call)
{
    client_call_t **p = &ch->waiting_head;
    client_call_t *prev = NULL;
    while (*p && *p != call) {
        prev = *p;
        p = &(*p)->next;
    }
    if (!*p)
        return;
    *p = call->next;
    if (ch->waiting_tail == call)
        ch->waiting_tail = prev;
    call->next = NULL;
}

static void waiting_push(rk_rpc_channel_t *ch, client_call_t *call)
{
    call->next = NULL;
    if (ch->waiting_tail)
        ch->waiting_tail->next = call;
    else
        ch->waiting_head = call;
    ch->waiting_tail = call;
}

static void call_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    client_call_t *call = arg;
    if (call->pending) {
        complete(call, call->pending_code, call->pending_message, NULL);
        return;
    }
    /* The deadline passed. */
    if (call->conn) {
        nghttp2_session_set_stream_user_data(call->conn->session, call->stream_id, NULL);
        nghttp2_submit_rst_stream(call->conn->session, NGHTTP2_FLAG_NONE, call->stream_id,
                                  NGHTTP2_CANCEL);
        client_conn_t *conn = call->conn;
        if (!conn->in_recv)
            conn_flush(conn);
    } else {
        waiting_remove(call->channel, call);
    }
    complete(call, RK_RPC_DEADLINE_EXCEEDED, "the deadline passed before the answer", NULL);
}

/* Decides the outcome of a finished stream from its headers, trailers and data. */
static void finish_stream(client_call_t *call, uint32_t error_code)
{
    const char *status = NULL, *message = NULL, *http_status = NULL;
    for (size_t i = 0; i < call->n_headers; i++) {
        if (strcmp(call->headers[i].name, "grpc-status") == 0)
            status = call->headers[i].value;
        else if (strcmp(call->headers[i].name, "grpc-message") == 0)
            message = call->headers[i].value;
        else if (strcmp(call->headers[i].name, ":status") == 0)
            http_status = call->headers[i].value;
    }
    if (call->too_large) {
        complete(call, RK_RPC_RESOURCE_EXHAUSTED, "the response exceeds the message size limit",
                 NULL);
        return;
    }
    if (!status) {
        int http = http_status ? atoi(http_status) : 0;
        rk_rpc_code_t code = error_code    ? RK_RPC_UNAVAILABLE
                             : http == 401 ? RK_RPC_UNAUTHENTICATED
                             : http == 403 ? RK_RPC_PERMISSION_DENIED
                             : http == 404 ? RK_RPC_UNIMPLEMENTED
                             : (http == 429 || http == 502 || http == 503 || http == 504)
                                 ? RK_RPC_UNAVAILABLE
                             : http && http != 200 ? RK_RPC_UNKNOWN
                                                   : RK_RPC_INTERNAL;
        complete(call, code,
                 error_code ? "the stream was reset" : "the response has no grpc-status", NULL);
        return;
    }
    int code = atoi(status);
    if (code != RK_RPC_OK) {
        char *decoded = message ? evhttp_uridecode(message, 0, NULL) : NULL;
        const char *text = decoded ? rk_arena_strdup(call->arena, decoded) : "";
        free(decoded);
        complete(call, code >= 1 && code <= 16 ? (rk_rpc_code_t)code : RK_RPC_UNKNOWN, text, NULL);
        return;
    }
    size_t len = call->data ? evbuffer_get_length(call->data) : 0;
    uint8_t *body = len ? evbuffer_pullup(call->data, (ssize_t)len) : NULL;
    size_t msg_len = len >= 5 ? ((size_t)body[1] << 24) | ((size_t)body[2] << 16) |
                                    ((size_t)body[3] << 8) | body[4]
                              : 0;
    if (len < 5 || body[0] != 0 || msg_len != len - 5) {
        complete(call, RK_RPC_INTERNAL, "the response is not one uncompressed gRPC message", NULL);
        return;
    }
    ProtobufCAllocator allocator = rk_pb_arena_allocator(call->arena);
    ProtobufCMessage *response =
        protobuf_c_message_unpack(call->response_type, &allocator, msg_len, body + 5);
    if (!response) {
        complete(call, RK_RPC_INTERNAL,
                 rk_arena_printf(call->arena, "the response is not a valid %s",
                                 call->response_type->name),
                 NULL);
        return;
    }
    complete(call, RK_RPC_OK, NULL, response);
}

/* --- nghttp2 callbacks ------------------------------------------------------------------- */

static ssize_t send_cb(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
                       void *user_data)
{
    (void)session;
    (void)flags;
    client_conn_t *conn = user_data;
    evbuffer_add(bufferevent_get_output(conn->bev), data, length);
    return (ssize_t)length;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t name_len, const uint8_t *value, size_t value_len, uint8_t flags,
                     void *user_data)
{
    (void)flags;
    (void)user_data;
    client_call_t *call = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!call || call->n_headers >= 64)
        return 0;
    if (call->n_headers == call->headers_cap) {
        size_t cap = call->headers_cap ? call->headers_cap * 2 : 8;
        rk_header_t *grown = rk_arena_alloc(call->arena, cap * sizeof(*grown));
        if (call->n_headers)
            memcpy(grown, call->headers, call->n_headers * sizeof(*grown));
        call->headers = grown;
        call->headers_cap = cap;
    }
    rk_header_t *h = &call->headers[call->n_headers++];
    h->name = rk_arena_strndup(call->arena, (const char *)name, name_len);
    h->value = rk_arena_strndup(call->arena, (const char *)value, value_len);
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *user_data)
{
    (void)flags;
    (void)user_data;
    client_call_t *call = nghttp2_session_get_stream_user_data(session, stream_id);
    if (!call || call->too_large)
        return 0;
    if (!call->data)
        call->data = evbuffer_new();
    if (evbuffer_get_length(call->data) + len > call->channel->options.max_message_bytes + 5) {
        call->too_large = 1;
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
        return 0;
    }
    evbuffer_add(call->data, data, len);
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *user_data)
{
    client_conn_t *conn = user_data;
    conn->active_streams--;
    client_call_t *call = nghttp2_session_get_stream_user_data(session, stream_id);
    if (!call)
        return 0; /* completed already (deadline) */
    call->conn = NULL;
    if (error_code == NGHTTP2_REFUSED_STREAM && !call->too_large) {
        /* The server did not process it (GOAWAY, stream limit): safe to send again. */
        call->n_headers = 0;
        call->frame_sent = 0;
        if (call->data)
            evbuffer_drain(call->data, evbuffer_get_length(call->data));
        waiting_push(conn->channel, call);
        return 0;
    }
    event_del(call->timer);
    finish_stream(call, error_code);
    return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    client_conn_t *conn = user_data;
    if (frame->hd.type == NGHTTP2_SETTINGS && !(frame->hd.flags & NGHTTP2_FLAG_ACK)) {
        conn->max_streams =
            nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    } else if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK)) {
        conn->ping_outstanding = 0;
    } else if (frame->hd.type == NGHTTP2_GOAWAY) {
        conn->state = CONN_DRAINING; /* no new calls here; a fresh connection takes them */
    }
    return 0;
}

static ssize_t request_read_cb(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
                               size_t length, uint32_t *data_flags, nghttp2_data_source *source,
                               void *user_data)
{
    (void)session;
    (void)stream_id;
    (void)user_data;
    client_call_t *call = source->ptr;
    size_t left = call->frame_len - call->frame_sent;
    size_t n = left < length ? left : length;
    memcpy(buf, call->frame + call->frame_sent, n);
    call->frame_sent += n;
    if (call->frame_sent == call->frame_len)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static nghttp2_nv make_nv(const char *name, const char *value)
{
    nghttp2_nv nv = {(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
                     NGHTTP2_NV_FLAG_NONE};
    return nv;
}

/* grpc-timeout with at most 8 digits: milliseconds, or seconds for long deadlines. */
static void format_timeout(uint64_t ns, char *out, size_t len)
{
    uint64_t ms = (ns + 999999) / 1000000;
    if (ms < 100000000)
        snprintf(out, len, "%llum", (unsigned long long)(ms ? ms : 1));
    else
        snprintf(out, len, "%lluS",
                 (unsigned long long)(ms / 1000 < 99999999 ? ms / 1000 : 99999999));
}

static int submit(client_conn_t *conn, client_call_t *call)
{
    rk_rpc_channel_t *ch = conn->channel;
    uint64_t now = rk_now_ns();
    char timeout[24];
    format_timeout(call->deadline_ns > now ? call->deadline_ns - now : 1, timeout, sizeof(timeout));
    size_t cap = 8 + call->n_metadata;
    nghttp2_nv *nva = rk_arena_alloc(call->arena, cap * sizeof(*nva));
    size_t n = 0;
    nva[n++] = make_nv(":method", "POST");
    nva[n++] = make_nv(":scheme", ch->tls ? "https" : "http");
    nva[n++] = make_nv(":path", call->path);
    nva[n++] = make_nv(":authority", ch->authority);
    nva[n++] = make_nv("content-type", "application/grpc");
    nva[n++] = make_nv("te", "trailers");
    /* A different value on almost every call: never worth a slot in the peer's HPACK table
     * (indexing each one cost the hub a tenth of its CPU in the facility benchmark). */
    nva[n] = make_nv("grpc-timeout", timeout);
    nva[n++].flags = NGHTTP2_NV_FLAG_NO_INDEX;
    nva[n++] = make_nv("user-agent", "renkei-rpc/0.1");
    for (size_t i = 0; i < call->n_metadata; i++) {
        nva[n] = make_nv(call->metadata[i].name, call->metadata[i].value);
        /* Another value on every call, as grpc-timeout: indexed, each one took a slot, and
         * the encoder walked every earlier one of that name on each call (8 % of the hub's
         * CPU in a 62-adapter library search). */
        if (strcmp(call->metadata[i].name, "renkei-request-id") == 0)
            nva[n].flags = NGHTTP2_NV_FLAG_NO_INDEX;
        n++;
    }
    nghttp2_data_provider provider = {.source.ptr = call, .read_callback = request_read_cb};
    int32_t id = nghttp2_submit_request(conn->session, NULL, nva, n, &provider, call);
    if (id < 0)
        return -1;
    call->conn = conn;
    call->stream_id = id;
    conn->active_streams++;
    return 0;
}

/* --- connections ------------------------------------------------------------------------- */

/* What nghttp2 has to send, handed to the connection. Over plain TCP it is written to the
 * socket directly, once per loop iteration (every call submitted meanwhile in one write), with
 * the bufferevent's write event left off: enabling it for each write and removing it once
 * written cost two epoll_ctl per call (a library search makes 62 calls). Only what the socket
 * does not take waits for the write event (drained() turns it off again). TLS connections
 * write through their bufferevent as before. */
static void conn_write(client_conn_t *conn)
{
    if (nghttp2_session_send(conn->session) != 0) {
        conn_close(conn, "HTTP/2 session error");
        return;
    }
    struct evbuffer *out = bufferevent_get_output(conn->bev);
    if (!evbuffer_get_length(out) || (bufferevent_get_enabled(conn->bev) & EV_WRITE))
        return; /* nothing, or older bytes still waiting: the bufferevent writes these after */
    struct evbuffer_iovec chunks[16];
    struct iovec iov[16];
    int n = evbuffer_peek(out, -1, NULL, chunks, 16);
    for (int i = 0; i < n && i < 16; i++) {
        iov[i].iov_base = chunks[i].iov_base;
        iov[i].iov_len = chunks[i].iov_len;
    }
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)(n < 16 ? n : 16)};
    ssize_t sent = sendmsg(bufferevent_getfd(conn->bev), &msg, MSG_NOSIGNAL);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        conn_close(conn, evutil_socket_error_to_string(errno));
        return;
    }
    if (sent > 0)
        evbuffer_drain(out, (size_t)sent);
    if (evbuffer_get_length(out)) /* the rest through the write event */
        bufferevent_enable(conn->bev, EV_WRITE);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_write(arg);
}

static void conn_flush(client_conn_t *conn)
{
    if (conn->flush)
        event_active(conn->flush, EV_TIMEOUT, 0); /* a no-op when already due */
    else if (nghttp2_session_send(conn->session) != 0)
        conn_close(conn, "HTTP/2 session error");
}

/* The bufferevent wrote what direct writing left: its write event goes off again. */
static void drained(struct bufferevent *bev, void *arg)
{
    client_conn_t *conn = arg;
    if (conn->flush)
        bufferevent_disable(bev, EV_WRITE);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    client_conn_t *conn = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    conn->in_recv = 1;
    ssize_t used = nghttp2_session_mem_recv(conn->session, evbuffer_pullup(in, (ssize_t)len), len);
    conn->in_recv = 0;
    if (used < 0) {
        conn_close(conn, nghttp2_strerror((int)used));
        return;
    }
    evbuffer_drain(in, (size_t)used);
    conn_flush(conn);
    schedule(conn->channel);
}

static void arm_keepalive(client_conn_t *conn)
{
    int ms = conn->channel->options.keepalive_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(conn->keepalive_timer, &tv);
}

static void keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    client_conn_t *conn = arg;
    if (conn->ping_outstanding) {
        conn_close(conn, "no answer to a keepalive PING");
        return;
    }
    nghttp2_submit_ping(conn->session, NGHTTP2_FLAG_NONE, NULL);
    conn->ping_outstanding = 1;
    arm_keepalive(conn);
    conn_flush(conn);
}

static int start_session(client_conn_t *conn)
{
    if (conn->channel->tls) {
        SSL *ssl = bufferevent_openssl_get_ssl(conn->bev);
        const unsigned char *alpn = NULL;
        unsigned int alpn_len = 0;
        SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
        if (alpn_len != 2 || memcmp(alpn, "h2", 2) != 0)
            return -1;
    }
    int one = 1;
    setsockopt(bufferevent_getfd(conn->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    nghttp2_session_callbacks *cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_client_new(&conn->session, cbs, conn);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20},
    };
    nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, settings, 2);
    conn->state = CONN_READY;
    event_del(conn->connect_timer);
    conn->keepalive_timer = evtimer_new(conn->channel->base, keepalive_cb, conn);
    arm_keepalive(conn);
    return 0;
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    client_conn_t *conn = arg;
    if (what & BEV_EVENT_CONNECTED) {
        if (start_session(conn) != 0) {
            conn_close(conn, "the server does not speak HTTP/2 (no ALPN h2)");
            return;
        }
        if (!conn->channel->tls) { /* connected: conn_flush() writes itself (see there) */
            bufferevent_disable(conn->bev, EV_WRITE);
            conn->flush = event_new(conn->channel->base, -1, 0, flush_cb, conn);
        }
        conn_flush(conn);
        schedule(conn->channel);
        return;
    }
    char why[256], reason[160] = "";
    unsigned long ssl_err = bufferevent_get_openssl_error(conn->bev);
    if (ssl_err && ERR_reason_error_string(ssl_err))
        snprintf(reason, sizeof(reason), "%s", ERR_reason_error_string(ssl_err));
    else if (ssl_err == SSL_ERROR_SYSCALL) /* libevent's code for an EOF amid TLS */
        snprintf(reason, sizeof(reason),
                 "the server ended the session abruptly (as servers do when they refuse the "
                 "client certificate)");
    else if (ssl_err) /* a reason OpenSSL has no string for: its packed form still helps */
        ERR_error_string_n(ssl_err, reason, sizeof(reason));
    long verify = conn->channel->tls ? SSL_get_verify_result(bufferevent_openssl_get_ssl(conn->bev))
                                     : X509_V_OK;
    if (ssl_err && conn->channel->pin_mismatch)
        snprintf(why, sizeof(why),
                 "TLS: the server's certificate does not match the pinned SHA-256");
    else if (ssl_err && verify != X509_V_OK)
        snprintf(why, sizeof(why), "TLS: %s: %s", reason, X509_verify_cert_error_string(verify));
    else if (ssl_err)
        snprintf(why, sizeof(why), "TLS: %s", reason);
    else if (what & BEV_EVENT_EOF)
        snprintf(why, sizeof(why), "the server closed the connection");
    else
        snprintf(why, sizeof(why), "%s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    conn_close(conn, why);
}

static void connect_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_close(arg, "connecting timed out");
}

/* Fails the streams of a dead connection and, if no connection is left or coming, the calls
 * that were waiting for one. */
static void conn_close(client_conn_t *conn, const char *why)
{
    rk_rpc_channel_t *ch = conn->channel;
    for (client_conn_t **p = &ch->conns; *p; p = &(*p)->next) {
        if (*p == conn) {
            *p = conn->next;
            break;
        }
    }
    ch->n_conns--;
    char *reason = rk_xstrdup(why);
    /* nghttp2_session_del() does not close streams: fail their calls ourselves, found
     * through the session's stream data. */
    if (conn->session) {
        int32_t last = nghttp2_session_get_next_stream_id(conn->session);
        for (int32_t id = 1; id < last; id += 2) {
            client_call_t *call = nghttp2_session_get_stream_user_data(conn->session, id);
            if (!call)
                continue;
            nghttp2_session_set_stream_user_data(conn->session, id, NULL);
            call->conn = NULL;
            complete_later(call, RK_RPC_UNAVAILABLE,
                           rk_arena_printf(call->arena, "connection lost: %s", reason));
        }
        nghttp2_session_del(conn->session);
    }
    rk_log_debug("rpc connection closed", "{s:s, s:s}", "target", ch->options.target, "reason",
                 reason);
    event_free(conn->connect_timer);
    if (conn->flush)
        event_free(conn->flush);
    if (conn->keepalive_timer)
        event_free(conn->keepalive_timer);
    bufferevent_free(conn->bev);
    free(conn);
    int any_alive = ch->conns != NULL;
    if (!any_alive) {
        client_call_t *call;
        while ((call = ch->waiting_head)) {
            waiting_remove(ch, call);
            complete_later(
                call, RK_RPC_UNAVAILABLE,
                rk_arena_printf(call->arena, "cannot reach %s: %s", ch->options.target, reason));
        }
    }
    free(reason);
}

static void conn_open(rk_rpc_channel_t *ch)
{
    client_conn_t *conn = rk_xcalloc(1, sizeof(*conn));
    conn->channel = ch;
    conn->state = CONN_CONNECTING;
    conn->max_streams = 100;
    if (ch->tls) {
        SSL *ssl = SSL_new(ch->ssl_ctx);
        SSL_set_tlsext_host_name(ssl, ch->server_name);
        if (!ch->pinned && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ch->server_name) != 1)
            SSL_set1_host(ssl, ch->server_name);
        conn->bev = bufferevent_openssl_socket_new(ch->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                   BEV_OPT_CLOSE_ON_FREE);
    } else {
        conn->bev = bufferevent_socket_new(ch->base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    conn->next = ch->conns;
    ch->conns = conn;
    ch->n_conns++;
    conn->connect_timer = evtimer_new(ch->base, connect_timeout_cb, conn);
    int ms = ch->options.connect_timeout_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(conn->connect_timer, &tv);
    bufferevent_setcb(conn->bev, read_cb, drained, event_cb, conn);
    bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
    struct sockaddr_storage ss;
    int sslen = sizeof(ss);
    char addr[300];
    snprintf(addr, sizeof(addr), strchr(ch->host, ':') ? "[%s]:%d" : "%s:%d", ch->host, ch->port);
    int rc;
    if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sslen) == 0) {
        rc = bufferevent_socket_connect(conn->bev, (struct sockaddr *)&ss, sslen);
    } else {
        if (!ch->dns)
            ch->dns = evdns_base_new(ch->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
        rc = bufferevent_socket_connect_hostname(conn->bev, ch->dns, AF_UNSPEC, ch->host, ch->port);
    }
    if (rc != 0)
        conn_close(conn, "cannot start connecting");
}

/* Gives waiting calls to connections with room, opening one when none has. */
static void schedule(rk_rpc_channel_t *ch)
{
    while (ch->waiting_head) {
        client_conn_t *best = NULL;
        int connecting = 0;
        for (client_conn_t *c = ch->conns; c; c = c->next) {
            if (c->state == CONN_CONNECTING)
                connecting = 1;
            if (c->state != CONN_READY || (uint32_t)c->active_streams >= c->max_streams)
                continue;
            if (!best || c->active_streams < best->active_streams)
                best = c;
        }
        if (!best) {
            if (!connecting && ch->n_conns < ch->options.max_connections)
                conn_open(ch);
            return;
        }
        client_call_t *call = ch->waiting_head;
        waiting_remove(ch, call);
        if (submit(best, call) != 0) {
            complete_later(call, RK_RPC_INTERNAL, "cannot submit the request");
            continue;
        }
        if (!best->in_recv)
            conn_flush(best);
    }
}

/* --- channel ----------------------------------------------------------------------------- */

/* Replaces chain verification when a certificate is pinned: the leaf's SHA-256 decides. */
static int pin_verify_cb(X509_STORE_CTX *store, void *arg)
{
    rk_rpc_channel_t *ch = arg;
    X509 *leaf = X509_STORE_CTX_get0_cert(store);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (leaf && X509_digest(leaf, EVP_sha256(), md, &md_len) == 1 && md_len == sizeof(ch->pin) &&
        CRYPTO_memcmp(md, ch->pin, sizeof(ch->pin)) == 0) {
        ch->pin_mismatch = 0;
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 1;
    }
    ch->pin_mismatch = 1;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
}

/* Adds every certificate of pem to the context's trust store; 1 if at least one was added. */
static int load_ca_pem(SSL_CTX *ctx, const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    STACK_OF(X509_INFO) *infos = bio ? PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL) : NULL;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int added = 0;
    for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
        X509_INFO *info = sk_X509_INFO_value(infos, i);
        if (info->x509 && X509_STORE_add_cert(store, info->x509) == 1)
            added++;
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    BIO_free(bio);
    return added > 0;
}

/* The channel's TLS context: ALPN h2, and the server verified by the pin, the CA
 * certificates in ca_pem, or the shared store; the shared identity presented. No file is
 * read here (rpc_client_tls.h). */
static int tls_setup(rk_rpc_channel_t *ch, const rk_rpc_channel_options_t *options, char *why,
                     size_t why_len)
{
    ch->ssl_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ch->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ch->ssl_ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_alpn_protos(ch->ssl_ctx, (const unsigned char *)"\x02h2", 3);
    int shared_trust = 0;
    if (ch->pinned) {
        SSL_CTX_set_cert_verify_callback(ch->ssl_ctx, pin_verify_cb, ch);
    } else if (options->ca_pem) {
        if (!load_ca_pem(ch->ssl_ctx, options->ca_pem)) {
            snprintf(why, why_len, "tls: ca_pem holds no PEM certificate");
            return RK_EINVAL;
        }
    } else if (rk_rpc_client_tls_has_ca(options->tls)) {
        shared_trust = 1;
    } else {
        snprintf(why, why_len,
                 "tls: nothing to verify the server with (no pinned certificate, CA "
                 "certificates or CA store)");
        return RK_EINVAL;
    }
    if (options->tls && rk_rpc_client_tls_apply(options->tls, ch->ssl_ctx, shared_trust) != RK_OK) {
        snprintf(why, why_len, "tls: the client certificate and key cannot be used");
        return RK_EINVAL;
    }
    return RK_OK;
}

rk_rpc_channel_t *rk_rpc_channel_new(struct event_base *base,
                                     const rk_rpc_channel_options_t *options, char *why,
                                     size_t why_len)
{
    struct evhttp_uri *uri = evhttp_uri_parse(options->target);
    const char *scheme = uri ? evhttp_uri_get_scheme(uri) : NULL;
    const char *host = uri ? evhttp_uri_get_host(uri) : NULL;
    if (!scheme || !host || !*host || (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
        snprintf(why, why_len, "target: not an http:// or https:// URL: %s", options->target);
        evhttp_uri_free(uri);
        return NULL;
    }
    rk_rpc_channel_t *ch = rk_xcalloc(1, sizeof(*ch));
    ch->base = base;
    ch->options = *options;
    ch->options.target = rk_xstrdup(options->target);
    if (!ch->options.max_connections)
        ch->options.max_connections = 4;
    if (!ch->options.connect_timeout_ms)
        ch->options.connect_timeout_ms = 3000;
    if (!ch->options.max_message_bytes)
        ch->options.max_message_bytes = DEFAULT_MAX_MESSAGE;
    if (ch->options.keepalive_ms <= 0)
        ch->options.keepalive_ms = 30000;
    ch->tls = strcmp(scheme, "https") == 0;
    ch->host = rk_xstrdup(host);
    ch->server_name =
        rk_xstrdup(options->server_name && *options->server_name ? options->server_name : host);
    ch->options.server_name = NULL; /* the copies above and below are what the channel uses */
    ch->options.ca_pem = NULL;
    ch->options.pinned_sha256 = NULL;
    ch->options.tls = NULL; /* the SSL_CTX holds what it needs */
    if (options->pinned_sha256) {
        ch->pinned = 1;
        memcpy(ch->pin, options->pinned_sha256, sizeof(ch->pin));
    }
    ch->port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : (ch->tls ? 443 : 80);
    char authority[300];
    snprintf(authority, sizeof(authority), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, ch->port);
    ch->authority = rk_xstrdup(authority);
    evhttp_uri_free(uri);
    if (ch->tls && tls_setup(ch, options, why, why_len) != RK_OK) {
        rk_rpc_channel_free(ch);
        return NULL;
    }
    return ch;
}

int rk_rpc_channel_connections(const rk_rpc_channel_t *ch)
{
    return ch->n_conns;
}

void rk_rpc_channel_free(rk_rpc_channel_t *ch)
{
    if (!ch)
        return;
    /* Fail everything now: the loop may not run again for these calls. */
    while (ch->conns) {
        client_conn_t *conn = ch->conns;
        if (conn->session) {
            int32_t last = nghttp2_session_get_next_stream_id(conn->session);
            for (int32_t id = 1; id < last; id += 2) {
                client_call_t *call = nghttp2_session_get_stream_user_data(conn->session, id);
                if (call) {
                    nghttp2_session_set_stream_user_data(conn->session, id, NULL);
                    complete(call, RK_RPC_CANCELLED, "the channel was closed", NULL);
                }
            }
        }
        conn_close(conn, "the channel was closed");
    }
    client_call_t *call;
    while ((call = ch->waiting_head)) {
        waiting_remove(ch, call);
        complete(call, RK_RPC_CANCELLED, "the channel was closed", NULL);
    }
    if (ch->dns)
        evdns_base_free(ch->dns, 1);
    SSL_CTX_free(ch->ssl_ctx);
    free((char *)ch->options.target);
    free(ch->host);
    free(ch->server_name);
    free(ch->authority);
    free(ch);
}

void rk_rpc_call(rk_rpc_channel_t *ch, const char *path, const ProtobufCMessage *request,
                 const ProtobufCMessageDescriptor *response_type, uint64_t timeout_ns,
                 const rk_header_t *metadata, size_t n_metadata, rk_rpc_client_cb cb, void *arg)
{
    rk_arena_t *arena = rk_arena_new();
    client_call_t *call = rk_arena_calloc(arena, 1, sizeof(*call));
    call->arena = arena;
    call->channel = ch;
    call->path = rk_arena_strdup(arena, path);
    call->response_type = response_type;
    call->cb = cb;
    call->arg = arg;
    size_t len = protobuf_c_message_get_packed_size(request);
    call->frame = rk_arena_alloc(arena, len + 5);
    call->frame[0] = 0;
    call->frame[1] = (uint8_t)(len >> 24);
    call->frame[2] = (uint8_t)(len >> 16);
    call->frame[3] = (uint8_t)(len >> 8);
    call->frame[4] = (uint8_t)len;
    protobuf_c_message_pack(request, call->frame + 5);
    call->frame_len = len + 5;
    call->metadata = rk_arena_calloc(arena, n_metadata ? n_metadata : 1, sizeof(rk_header_t));
    for (size_t i = 0; i < n_metadata; i++) {
        call->metadata[i].name = rk_arena_strdup(arena, metadata[i].name);
        call->metadata[i].value = rk_arena_strdup(arena, metadata[i].value);
    }
    call->n_metadata = n_metadata;
    call->timer = evtimer_new(ch->base, call_timer_cb, call);
    if (timeout_ns > 3600ull * 1000000000ull)
        timeout_ns = 3600ull * 1000000000ull;
    call->deadline_ns = rk_now_ns() + timeout_ns;
    struct timeval tv = {(time_t)(timeout_ns / 1000000000ull),
                         (long)((timeout_ns % 1000000000ull) / 1000)};
    evtimer_add(call->timer, &tv);
    waiting_push(ch, call);
    schedule(ch);
}
