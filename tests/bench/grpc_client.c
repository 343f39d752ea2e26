/*
 * grpc_client.c — the small gRPC-over-h2c client of tests/bench/grpc (nghttp2 + plain sockets,
 * poll()). Compiled on the fly by that script: cc -O2 grpc_client.c h2c.c -lnghttp2
 *
 * grpc_client calls HOST PORT PATH REQUEST EXPECTED STREAMS SECONDS WARMUP
 *   One connection, STREAMS unary calls always in flight (a new one starts when one ends), for
 *   WARMUP + SECONDS seconds. REQUEST is the gRPC-framed request body (5-byte prefix + message),
 *   EXPECTED the exact framed response body a success carries. A call succeeds when the reply
 *   has :status 200, grpc-status 0 (trailers) and exactly the EXPECTED body; anything else is a
 *   failure. Calls that end in the warm-up are not counted. Prints one line:
 *     calls OK FAILED CALLS_PER_S P50_MS P99_MS ALL
 *   (latency of successful calls, from submitting the request to the end of the stream; ALL =
 *   every call that ended, warm-up included) and the first failure on stderr. Exit 0 when it ran
 * (even with failed calls), 1 on a connection error.
 *
 * grpc_client idle HOST PORT N
 *   Opens N h2c connections: client preface + SETTINGS, waits for the server's SETTINGS and its
 *   ACK of ours (nghttp2 ACKs the server's), then leaves them idle (PINGs are answered) until
 *   SIGTERM or SIGINT. Prints "ready OK FAILED" once every connection is up or failed.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h2c.h"

typedef struct conn {
    int fd;
    nghttp2_session *s;
    int got_settings, got_ack, failed;
} conn_t;

typedef struct call {
    double t0;
    int http_status, grpc_status;
    size_t sent, body_len;
    unsigned char body[64];
} call_t;

static unsigned char *req_buf, *exp_buf;
static size_t req_len, exp_len;
static double t_warm, t_end;
static long n_ok, n_failed, n_all, outstanding, to_start;
static double *lat;
static size_t lat_n, lat_cap;
static char first_failure[256];
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = malloc(1 << 16);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    conn_t *c = ud;
    if (f->hd.type == NGHTTP2_SETTINGS) {
        if (f->hd.flags & NGHTTP2_FLAG_ACK)
            c->got_ack = 1;
        else
            c->got_settings = 1;
    }
    return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    (void)flags, (void)ud, (void)valuelen;
    call_t *call = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (!call)
        return 0;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0)
        call->http_status = atoi((const char *)value);
    else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
        call->grpc_status = atoi((const char *)value);
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                   void *ud)
{
    (void)flags, (void)ud;
    call_t *call = nghttp2_session_get_stream_user_data(s, id);
    if (call) {
        if (call->body_len + len <= sizeof call->body)
            memcpy(call->body + call->body_len, data, len);
        call->body_len += len;
    }
    return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t err, void *ud)
{
    (void)ud;
    call_t *call = nghttp2_session_get_stream_user_data(s, id);
    if (!call)
        return 0;
    double t = h2c_now();
    outstanding--;
    n_all++;
    if (call->t0 >= t_warm) {
        int ok = err == 0 && call->http_status == 200 && call->grpc_status == 0 &&
                 call->body_len == exp_len && memcmp(call->body, exp_buf, exp_len) == 0;
        if (ok) {
            n_ok++;
            if (lat_n == lat_cap) {
                lat_cap = lat_cap ? 2 * lat_cap : 65536;
                lat = realloc(lat, lat_cap * sizeof *lat);
            }
            lat[lat_n++] = t - call->t0;
        } else {
            if (!n_failed)
                snprintf(first_failure, sizeof first_failure,
                         "first failure: :status %d, grpc-status %d, %zu body bytes, stream "
                         "error %u",
                         call->http_status, call->grpc_status, call->body_len, err);
            n_failed++;
        }
    }
    free(call);
    if (t < t_end && !stop)
        to_start++;
    return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
    (void)s, (void)id, (void)ud;
    call_t *call = src->ptr;
    size_t n = req_len - call->sent;
    if (n > len)
        n = len;
    memcpy(buf, req_buf + call->sent, n);
    call->sent += n;
    if (call->sent == req_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static short want(conn_t *c)
{
    return POLLIN | (nghttp2_session_want_write(c->s) ? POLLOUT : 0);
}

/* --- modes ------------------------------------------------------------------------------ */

static int run_calls(char **a)
{
    const char *host = a[0], *path = a[2];
    int port = atoi(a[1]), streams = atoi(a[5]);
    double seconds = atof(a[6]), warmup = atof(a[7]);
    req_buf = read_file(a[3], &req_len);
    exp_buf = read_file(a[4], &exp_len);
    if (!req_buf || !exp_buf || exp_len > sizeof((call_t *)0)->body || streams < 1) {
        fprintf(stderr, "grpc_client: cannot read %s or %s\n", a[3], a[4]);
        return 2;
    }
    char authority[128];
    snprintf(authority, sizeof authority, "%s:%d", host, port);
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
    nghttp2_nv hdrs[] = {NV(":method", "POST"),
                         NV(":scheme", "http"),
                         NV(":authority", authority),
                         NV(":path", path),
                         NV("content-type", "application/grpc"),
                         NV("te", "trailers")};
    conn_t c = {.fd = h2c_connect(host, port)};
    if (c.fd < 0) {
        perror("grpc_client: connect");
        return 1;
    }
    c.s = h2c_session_new(&c, on_header, on_data, on_close, on_frame_recv, 0);
    double t0 = h2c_now();
    t_warm = t0 + warmup;
    t_end = t_warm + seconds;
    to_start = streams;
    for (;;) {
        for (; to_start > 0; to_start--) {
            call_t *call = calloc(1, sizeof *call);
            call->http_status = call->grpc_status = -1;
            call->t0 = h2c_now();
            nghttp2_data_provider prov = {.source.ptr = call, .read_callback = read_body};
            if (nghttp2_submit_request(c.s, NULL, hdrs, sizeof hdrs / sizeof hdrs[0], &prov, call) <
                0) {
                fprintf(stderr, "grpc_client: cannot submit a request\n");
                return 1;
            }
            outstanding++;
        }
        if (h2c_pump(c.s, c.fd, 0) < 0)
            break;
        if (outstanding == 0 && (h2c_now() >= t_end || stop))
            break;
        struct pollfd p = {.fd = c.fd, .events = want(&c)};
        if (poll(&p, 1, 100) > 0 && h2c_pump(c.s, c.fd, p.revents) < 0)
            break;
    }
    if (outstanding) {
        fprintf(stderr, "grpc_client: the connection closed with %ld calls in flight\n",
                outstanding);
        return 1;
    }
    nghttp2_session_terminate_session(c.s, NGHTTP2_NO_ERROR);
    nghttp2_session_send(c.s);
    nghttp2_session_del(c.s);
    close(c.fd);
    qsort(lat, lat_n, sizeof *lat, h2c_cmp_double);
    double p50 = lat_n ? lat[(size_t)(0.50 * (double)(lat_n - 1))] * 1e3 : 0;
    double p99 = lat_n ? lat[(size_t)(0.99 * (double)(lat_n - 1))] * 1e3 : 0;
    printf("calls %ld %ld %.0f %.3f %.3f %ld\n", n_ok, n_failed, (double)n_ok / seconds, p50, p99,
           n_all);
    if (n_failed)
        fprintf(stderr, "grpc_client: %s\n", first_failure);
    return 0;
}

static int run_idle(char **a)
{
    const char *host = a[0];
    int port = atoi(a[1]), n = atoi(a[2]);
    if (n < 1)
        return 2;
    conn_t *c = calloc((size_t)n, sizeof *c);
    struct pollfd *p = calloc((size_t)n, sizeof *p);
    int opened = 0, ready = 0, failed = 0, announced = 0;
    double deadline = h2c_now() + 60;
    while (!stop) {
        /* At most 200 handshakes under way at once, so no listen backlog overflows. */
        while (opened < n && opened - ready - failed < 200) {
            conn_t *k = &c[opened++];
            k->fd = h2c_connect(host, port);
            if (k->fd < 0) {
                k->failed = 1;
                failed++;
                continue;
            }
            k->s = h2c_session_new(k, on_header, on_data, on_close, on_frame_recv, 0);
        }
        for (int i = 0; i < opened; i++) {
            p[i].fd = c[i].failed ? -1 : c[i].fd;
            p[i].events = c[i].failed ? 0 : want(&c[i]);
            p[i].revents = 0;
        }
        poll(p, (nfds_t)opened, 100);
        for (int i = 0; i < opened; i++) {
            conn_t *k = &c[i];
            if (k->failed)
                continue;
            int was_ready = k->got_settings && k->got_ack;
            if (h2c_pump(k->s, k->fd, p[i].revents) < 0) {
                k->failed = 1;
                failed++;
                ready -= was_ready;
                close(k->fd);
                continue;
            }
            if (!was_ready && k->got_settings && k->got_ack)
                ready++;
        }
        if (!announced && opened == n && ready + failed == n) {
            printf("ready %d %d\n", ready, failed);
            fflush(stdout);
            announced = 1;
        }
        if (!announced && h2c_now() > deadline) {
            fprintf(stderr, "grpc_client: only %d of %d connections ready after 60 s\n", ready, n);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (argc == 10 && strcmp(argv[1], "calls") == 0)
        return run_calls(argv + 2);
    if (argc == 5 && strcmp(argv[1], "idle") == 0)
        return run_idle(argv + 2);
    fprintf(stderr, "usage: grpc_client calls HOST PORT PATH REQUEST EXPECTED STREAMS SECONDS "
                    "WARMUP\n       grpc_client idle HOST PORT N\n");
    return 2;
}
