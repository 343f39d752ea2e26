/*
 * idle_conns.c — opens N keep-alive connections to an HTTP server, makes requests on each,
 * checks each whole response, then keeps every connection open and idle until the process
 * gets SIGTERM or SIGINT.
 *
 * Used by tests/bench/http (HTTP/1.1) and tests/bench/grpc (h2c) to measure a server's memory
 * at many idle connections. Compiled on the fly by those scripts: cc -O2 -o idle_conns
 * idle_conns.c (no library: the h2c mode frames and HPACK-encodes its few requests itself).
 *
 * Usage: idle_conns HOST PORT N PATH
 *   HTTP/1.1: one GET PATH per connection; a success is a 200 with its whole Content-Length
 *   body.
 * Usage: idle_conns --h2c CALLS HOST PORT N PATH [REQUEST EXPECTED]
 *   HTTP/2 with prior knowledge: preface and SETTINGS (the server's ACKed), then CALLS
 *   requests one after the other on each connection (CALLS may be 0: SETTINGS only). Without
 *   files, GET PATH; with them, a gRPC unary call: POST PATH with the file REQUEST as body
 *   (content-type: application/grpc, te: trailers), and the response's DATA must be exactly
 *   the file EXPECTED. Request headers are sent with incremental indexing on the first call
 *   and as dynamic-table references after, as real clients do. A success is a response whose
 *   first field is the static ":status: 200" (how nghttp2 and grpc++ encode it) that ends its
 *   stream; RST_STREAM or GOAWAY is a failure. (grpc-status is in the Huffman-coded trailers
 *   and is not checked here: tests/bench/grpc checks it with grpc_client.)
 *
 * Prints "ready OK FAILED" on stdout once every connection has its responses (or failed), then
 * waits. Connections are opened at most 500 at a time (so the listen backlog never overflows).
 * Exit status: 0 if all N succeeded, 1 otherwise, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_OPENING 500
#define TIMEOUT_S 60

enum { ST_CONNECTING, ST_READING, ST_DONE, ST_FAILED };

typedef struct conn {
    int fd;
    int state;
    size_t got;
    char buf[1024]; /* HTTP/1.1: the head (the body is only counted); h2c: a partial frame */
    long body_left; /* -1 until the head is complete */
    /* h2c */
    int calls_done;
    uint32_t stream_id;        /* of the call in flight */
    int status_ok;             /* its response began with :status 200 */
    size_t data_got;           /* DATA bytes of its response */
    int data_ok;               /* and all of them matched EXPECTED so far */
    int got_settings, got_ack; /* the server's SETTINGS, and its ACK of ours */
} conn_t;

/* What the h2c mode sends and expects; see usage. */
static struct {
    int calls;
    const char *path, *authority;
    unsigned char *body, *expected;
    size_t body_len, expected_len;
} h2;

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 when the response is complete, 0 when more is needed, -1 on error. */
static int consume(conn_t *c, const char *data, size_t n)
{
    if (c->body_left < 0) {
        size_t room = sizeof(c->buf) - 1 - c->got;
        size_t take = n < room ? n : room;
        memcpy(c->buf + c->got, data, take);
        c->got += take;
        c->buf[c->got] = '\0';
        char *end = strstr(c->buf, "\r\n\r\n");
        if (!end)
            return c->got >= sizeof(c->buf) - 1 ? -1 : 0;
        if (strncmp(c->buf, "HTTP/1.1 200", 12) != 0)
            return -1;
        char *cl = strcasestr(c->buf, "\r\ncontent-length:");
        if (!cl || cl > end)
            return -1;
        long len = strtol(cl + 17, NULL, 10);
        size_t head = (size_t)(end + 4 - c->buf);
        /* Body bytes already here: those in this chunk after the head. */
        size_t before = c->got - take; /* head bytes from earlier chunks */
        size_t body_here = before + n - head;
        c->body_left = len - (long)body_here;
    } else {
        c->body_left -= (long)n;
    }
    if (c->body_left < 0)
        return -1; /* more than one response: not expected */
    return c->body_left == 0;
}

/* ---- h2c ------------------------------------------------------------------------------- */

static size_t frame_head(unsigned char *p, size_t len, int type, int flags, uint32_t stream)
{
    p[0] = (unsigned char)(len >> 16);
    p[1] = (unsigned char)(len >> 8);
    p[2] = (unsigned char)len;
    p[3] = (unsigned char)type;
    p[4] = (unsigned char)flags;
    p[5] = (unsigned char)(stream >> 24 & 0x7f);
    p[6] = (unsigned char)(stream >> 16);
    p[7] = (unsigned char)(stream >> 8);
    p[8] = (unsigned char)stream;
    return 9;
}

/* An HPACK string literal, not Huffman-coded (lengths below 127 only). */
static size_t hpack_string(unsigned char *p, const char *s)
{
    size_t n = strlen(s);
    p[0] = (unsigned char)n;
    memcpy(p + 1, s, n);
    return 1 + n;
}

/*
 * The HEADERS block of a call. The first call adds :path, :authority (and for gRPC
 * content-type and te) to the server's dynamic table; later calls refer to those entries,
 * newest first at index 62.
 */
static size_t request_headers(unsigned char *p, int first)
{
    int grpc = h2.body != NULL;
    size_t n = 0;
    p[n++] = grpc ? 0x83 : 0x82; /* :method POST / GET (static table) */
    p[n++] = 0x86;               /* :scheme http */
    if (first) {
        p[n++] = 0x44; /* :path, incremental indexing, name from static index 4 */
        n += hpack_string(p + n, h2.path);
        p[n++] = 0x41; /* :authority, name index 1 */
        n += hpack_string(p + n, h2.authority);
        if (grpc) {
            p[n++] = 0x5f; /* content-type (index 31) */
            n += hpack_string(p + n, "application/grpc");
            p[n++] = 0x40; /* te: a new name */
            n += hpack_string(p + n, "te");
            n += hpack_string(p + n, "trailers");
        }
    } else {
        int entries = grpc ? 4 : 2; /* inserted in the order path, authority[, ctype, te] */
        for (int k = 0; k < entries; k++)
            p[n++] = (unsigned char)(0x80 | (62 + entries - 1 - k));
    }
    return n;
}

static int send_all(int fd, const unsigned char *p, size_t n)
{
    /* A few hundred bytes on a fresh connection: the socket buffer takes them at once. */
    return send(fd, p, n, 0) == (ssize_t)n ? 0 : -1;
}

static int h2_start_call(conn_t *c)
{
    unsigned char out[1024];
    size_t n = 0;
    c->stream_id = c->stream_id ? c->stream_id + 2 : 1;
    c->status_ok = 0;
    c->data_got = 0;
    c->data_ok = 1;
    unsigned char block[512];
    size_t block_len = request_headers(block, c->calls_done == 0);
    n += frame_head(out + n, block_len, 1, 0x4 | (h2.body ? 0 : 0x1), c->stream_id);
    memcpy(out + n, block, block_len);
    n += block_len;
    if (h2.body) {
        n += frame_head(out + n, h2.body_len, 0, 0x1, c->stream_id); /* DATA, END_STREAM */
        memcpy(out + n, h2.body, h2.body_len);
        n += h2.body_len;
    }
    return send_all(c->fd, out, n);
}

static int h2_open(conn_t *c)
{
    unsigned char out[64];
    memcpy(out, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    size_t n = 24 + frame_head(out + 24, 0, 4, 0, 0); /* empty SETTINGS */
    return send_all(c->fd, out, n);
}

/* One frame from the server: 1 when every call is done, 0 to go on, -1 on failure. */
static int h2_frame(conn_t *c, const unsigned char *f, size_t len)
{
    int type = f[3], flags = f[4];
    uint32_t stream =
        ((uint32_t)(f[5] & 0x7f) << 24) | ((uint32_t)f[6] << 16) | ((uint32_t)f[7] << 8) | f[8];
    const unsigned char *payload = f + 9;
    switch (type) {
    case 4: /* SETTINGS: ACK the server's */
        if (!(flags & 0x1)) {
            unsigned char ack[9];
            frame_head(ack, 0, 4, 0x1, 0);
            if (send_all(c->fd, ack, 9) < 0)
                return -1;
            c->got_settings = 1;
        } else {
            c->got_ack = 1;
        }
        return h2.calls == 0 && c->got_settings && c->got_ack;
    case 6: /* PING: answer it */
        if (!(flags & 0x1) && len == 8) {
            unsigned char pong[17];
            frame_head(pong, 8, 6, 0x1, 0);
            memcpy(pong + 9, payload, 8);
            if (send_all(c->fd, pong, 17) < 0)
                return -1;
        }
        return 0;
    case 3: /* RST_STREAM */
    case 7: /* GOAWAY */
        fprintf(stderr, "idle_conns: the server sent %s\n", type == 3 ? "RST_STREAM" : "GOAWAY");
        return -1;
    case 1: /* HEADERS: the response head or the trailers */
        if (stream != c->stream_id)
            return 0;
        if (!c->status_ok) {
            size_t i = 0;
            if (flags & 0x8)
                i += 1 + (len ? payload[0] : 0); /* padding length */
            if (flags & 0x20)
                i += 5; /* priority */
            while (i < len && (payload[i] & 0xe0) == 0x20)
                i++; /* a dynamic table size update (one byte for sizes below 31) */
            if (i >= len || payload[i] != 0x88) {
                fprintf(stderr, "idle_conns: a response without :status 200\n");
                return -1;
            }
            c->status_ok = 1;
        }
        break;
    case 0: /* DATA */
        if (stream != c->stream_id)
            return 0;
        if (h2.expected) {
            size_t pad = (flags & 0x8) && len ? 1 + payload[0] : 0;
            size_t dlen = len > pad ? len - pad : 0;
            const unsigned char *d = payload + ((flags & 0x8) ? 1 : 0);
            if (c->data_got + dlen > h2.expected_len ||
                memcmp(d, h2.expected + c->data_got, dlen) != 0)
                c->data_ok = 0;
            c->data_got += dlen;
        }
        break;
    default:
        return 0; /* WINDOW_UPDATE, PRIORITY, ... */
    }
    if (!(flags & 0x1))
        return 0; /* END_STREAM yet to come */
    if (!c->status_ok || (h2.expected && (!c->data_ok || c->data_got != h2.expected_len))) {
        fprintf(stderr, "idle_conns: call %d: unexpected response\n", c->calls_done + 1);
        return -1;
    }
    if (++c->calls_done == h2.calls)
        return 1;
    return h2_start_call(c) < 0 ? -1 : 0;
}

/* Bytes read on an h2c connection: 1 when every call is done, 0 for more, -1 on failure. */
static int h2_consume(conn_t *c, const char *data, size_t n)
{
    int done = 0;
    while (n > 0) {
        size_t take = sizeof(c->buf) - c->got < n ? sizeof(c->buf) - c->got : n;
        memcpy(c->buf + c->got, data, take);
        c->got += take;
        data += take;
        n -= take;
        size_t at = 0;
        while (c->got - at >= 9) {
            const unsigned char *f = (const unsigned char *)c->buf + at;
            size_t len = ((size_t)f[0] << 16) | ((size_t)f[1] << 8) | f[2];
            if (len + 9 > sizeof(c->buf)) {
                fprintf(stderr, "idle_conns: a frame of %zu bytes: larger than expected\n", len);
                return -1;
            }
            if (c->got - at < 9 + len)
                break;
            int r = h2_frame(c, f, len);
            if (r < 0)
                return -1;
            done |= r;
            at += 9 + len;
        }
        memmove(c->buf, c->buf + at, c->got - at);
        c->got -= at;
    }
    return done;
}

/* Reads a whole small file; NULL when it cannot. */
static unsigned char *read_file(const char *name, size_t *len)
{
    FILE *f = fopen(name, "rb");
    if (!f)
        return NULL;
    unsigned char *p = malloc(65536);
    *len = p ? fread(p, 1, 65536, f) : 0;
    fclose(f);
    return p;
}

int main(int argc, char **argv)
{
    int use_h2 = argc > 2 && strcmp(argv[1], "--h2c") == 0;
    if (use_h2) {
        h2.calls = atoi(argv[2]);
        argc -= 2;
        argv += 2;
    }
    if (!(argc == 5 || (use_h2 && argc == 7)) || h2.calls < 0) {
        fprintf(stderr, "usage: idle_conns HOST PORT N PATH\n"
                        "       idle_conns --h2c CALLS HOST PORT N PATH [REQUEST EXPECTED]\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    int n = atoi(argv[3]);
    const char *path = argv[4];
    if (n <= 0 || port <= 0) {
        fprintf(stderr, "idle_conns: bad N or PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "idle_conns: HOST must be an IPv4 address\n");
        return 2;
    }
    char req[512];
    int req_len =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, host, port);
    char authority[300];
    snprintf(authority, sizeof(authority), "%s:%d", host, port);
    h2.path = path;
    h2.authority = authority;
    if (use_h2 && (strlen(path) > 120 || strlen(authority) > 120)) {
        fprintf(stderr, "idle_conns: PATH too long\n");
        return 2;
    }
    if (use_h2 && argc == 7) {
        h2.body = read_file(argv[5], &h2.body_len);
        h2.expected = read_file(argv[6], &h2.expected_len);
        if (!h2.body || !h2.expected || h2.body_len > 400) {
            fprintf(stderr, "idle_conns: cannot read %s and %s (REQUEST at most 400 bytes)\n",
                    argv[5], argv[6]);
            return 2;
        }
    }

    conn_t *conns = calloc((size_t)n, sizeof(conn_t));
    int ep = epoll_create1(0);
    if (!conns || ep < 0) {
        perror("idle_conns");
        return 1;
    }
    int next = 0, opening = 0, ok = 0, failed = 0;
    double deadline = now_s() + TIMEOUT_S;
    struct epoll_event evs[256];
    while (ok + failed < n && !stop) {
        while (next < n && opening < MAX_OPENING) {
            conn_t *c = &conns[next];
            c->body_left = -1;
            c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (c->fd < 0) {
                fprintf(stderr, "idle_conns: socket (connection %d): %s\n", next, strerror(errno));
                c->state = ST_FAILED;
                failed++;
                next++;
                continue;
            }
            int one = 1;
            setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
                fprintf(stderr, "idle_conns: connect (connection %d): %s\n", next, strerror(errno));
                close(c->fd);
                c->fd = -1;
                c->state = ST_FAILED;
                failed++;
                next++;
                continue;
            }
            c->state = ST_CONNECTING;
            struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)next};
            epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
            opening++;
            next++;
        }
        if (now_s() > deadline) {
            fprintf(stderr, "idle_conns: timed out with %d of %d connections answered\n", ok, n);
            break;
        }
        int k = epoll_wait(ep, evs, 256, 1000);
        for (int i = 0; i < k; i++) {
            conn_t *c = &conns[evs[i].data.u32];
            if (c->state == ST_CONNECTING) {
                int err = 0;
                socklen_t len = sizeof(err);
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                int sent = use_h2 ? h2_open(c) == 0 && (h2.calls == 0 || h2_start_call(c) == 0)
                                  : send(c->fd, req, (size_t)req_len, 0) == req_len;
                if (err || !sent) {
                    fprintf(stderr, "idle_conns: connect/send: %s\n", strerror(err ? err : errno));
                    goto fail;
                }
                c->state = ST_READING;
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[i].data.u32};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                continue;
            }
            if (c->state != ST_READING)
                continue;
            char data[8192];
            ssize_t r = recv(c->fd, data, sizeof(data), 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r <= 0) {
                fprintf(stderr, "idle_conns: closed before the response ended\n");
                goto fail;
            }
            int done = use_h2 ? h2_consume(c, data, (size_t)r) : consume(c, data, (size_t)r);
            if (done < 0) {
                if (!use_h2)
                    fprintf(stderr, "idle_conns: unexpected response: %.60s\n", c->buf);
                goto fail;
            }
            if (done) {
                c->state = ST_DONE;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); /* idle from now on */
                ok++;
                opening--;
            }
            continue;
        fail:
            epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
            close(c->fd);
            c->fd = -1;
            c->state = ST_FAILED;
            failed++;
            opening--;
        }
    }
    printf("ready %d %d\n", ok, n - ok);
    fflush(stdout);

    /* Hold every connection until a signal; then count those the server closed meanwhile. */
    while (!stop)
        sleep(1);
    int still_open = 0;
    for (int i = 0; i < n; i++) {
        if (conns[i].state != ST_DONE)
            continue;
        char b[1];
        ssize_t r = recv(conns[i].fd, b, 1, MSG_DONTWAIT | MSG_PEEK);
        if (r < 0 && errno == EAGAIN)
            still_open++;
        close(conns[i].fd);
    }
    printf("closed %d (still open at the end: %d)\n", ok, still_open);
    free(conns);
    close(ep);
    return ok == n ? 0 : 1;
}
