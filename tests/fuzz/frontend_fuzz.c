/*
 * frontend_fuzz.c — libFuzzer target for everything a client's bytes reach first: the
 * HTTP/1.1 front end (http-parser), the HTTP/2 front end (nghttp2), the router, and the RPC
 * envelopes (gRPC, gRPC-Web, Connect) with protobuf decoding.
 *
 * Each input is one connection: its first byte picks HTTP/1.1 or HTTP/2 (the preface is
 * prepended), the rest is what the client sends. The connection runs over a bufferevent pair
 * on a real server object with real routes — synchronous, asynchronous and RPC handlers — and
 * the input must end in a response or a close, never a crash, leak or hang. A Unix socket
 * pair stands in for TCP: the client's close is seen as EOF, and writes to a client that left
 * fail as they would on a network.
 */
#include "core/config.h"
#include "core/log.h"
#include "grpc/health/v1/health.pb-c.h"
#include "net/http1.h"
#include "net/http2.h"
#include "net/rpc.h"
#include "net/server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct event_base *base;
static rk_config_t cfg;
static rk_server_t *server;

static void sync_handler(rk_request_t *req)
{
    rk_response_set(req, 200, "text/plain", req->body, req->body_len);
    rk_request_finish(req);
}

static void finish_later_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_request_t *req = arg;
    rk_response_stream_begin(req);
    evbuffer_add(req->response_body, "part", 4);
    rk_response_stream_flush(req);
    rk_response_trailer(req, "x-done", "1");
    rk_request_finish(req);
}

static void async_handler(rk_request_t *req)
{
    event_base_once(base, -1, EV_TIMEOUT, finish_later_cb, req, NULL);
}

static void check(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Grpc__Health__V1__HealthCheckRequest *in =
        (const Grpc__Health__V1__HealthCheckRequest *)message;
    if (in->service[0] == 'x') {
        rk_rpc_fail(rpc, RK_RPC_NOT_FOUND, in->service);
        return;
    }
    Grpc__Health__V1__HealthCheckResponse out = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    out.status = 1;
    rk_rpc_reply(rpc, &out.base);
}

static void watch(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    check(rpc, message); /* a stream of one */
}

static const rk_rpc_method_t check_method = {
    .path = "/grpc.health.v1.Health/Check",
    .input = &grpc__health__v1__health_check_request__descriptor,
    .output = &grpc__health__v1__health_check_response__descriptor,
    .handler = check,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rk_log_setup(RK_LOG_ERROR, 2);
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    rk_config_init(&cfg);
    cfg.header_bytes = 4096;
    cfg.body_bytes = 65536;
    rk_metrics_t *metrics = rk_metrics_new();
    rk_router_t *router = rk_router_new(metrics);
    rk_router_add(router, "*", "/sync", sync_handler, "sync");
    rk_router_add(router, "*", "/async/{x}", async_handler, "async");
    rk_rpc_register(router, &check_method);
    (void)watch;
    rk_rpc_register_fallback(router);
    char why[256];
    server = rk_server_new(base, &cfg, router, metrics, NULL, why, sizeof(why));
    return server ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        return 0;
    evutil_make_socket_nonblocking(fds[0]);
    evutil_make_socket_nonblocking(fds[1]);
    struct bufferevent *bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
    int h2 = data[0] & 1;
    if (h2) {
        static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
        if (write(fds[1], preface, 24) != 24)
            __builtin_trap();
        rk_http2_accept(server, bev, "fuzz");
    } else {
        rk_http1_accept(server, bev, "fuzz");
    }
    const uint8_t *p = data + 1;
    size_t left = size - 1;
    for (int i = 0; i < 16; i++) {
        if (left) {
            ssize_t n = write(fds[1], p, left);
            if (n > 0) {
                p += n;
                left -= (size_t)n;
            }
        }
        event_base_loop(base, EVLOOP_NONBLOCK);
        char sink[16384];
        while (read(fds[1], sink, sizeof(sink)) > 0)
            ; /* the client reads what it is sent */
    }
    /* The client leaves: every connection must close and free what it held. */
    close(fds[1]);
    for (int i = 0; i < 200 && server->n_connections; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    if (server->n_connections)
        __builtin_trap(); /* a connection that outlives its client is a leak */
    return 0;
}
