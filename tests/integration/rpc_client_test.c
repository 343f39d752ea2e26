/*
 * rpc_client_test.c — the gRPC client against our own HTTP/2 server, both on one event loop
 * over real loopback sockets (h2c and TLS with certificates made by openssl): replies, error
 * statuses with UTF-8 messages, deadlines, UNIMPLEMENTED, hundreds of multiplexed calls, an
 * unreachable server, a server that restarts, and a server whose certificate we do not trust.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/log.h"
#include "grpc/health/v1/health.pb-c.h"
#include "net/rpc.h"
#include "net/rpc_client.h"
#include "net/server.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef Grpc__Health__V1__HealthCheckRequest check_request_t;
typedef Grpc__Health__V1__HealthCheckResponse check_response_t;

static struct event_base *base;
static char tls_dir[64];

/* --- the server under test: one method whose behaviour the request's service field picks --- */

static void reply_serving(rk_rpc_t *rpc)
{
    check_response_t out = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    out.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    rk_rpc_reply(rpc, &out.base);
}

static void slow_reply_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    reply_serving(arg);
}

static void check(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const check_request_t *in = (const check_request_t *)message;
    if (strcmp(in->service, "fail") == 0) {
        rk_rpc_fail(rpc, RK_RPC_NOT_FOUND, "施設 not found: 100%");
        return;
    }
    if (strcmp(in->service, "slow") == 0) {
        struct timeval tv = {0, 500000};
        event_base_once(base, -1, EV_TIMEOUT, slow_reply_cb, rpc, &tv);
        return;
    }
    reply_serving(rpc);
}

static const rk_rpc_method_t method = {
    .path = "/test.Echo/Check",
    .input = &grpc__health__v1__health_check_request__descriptor,
    .output = &grpc__health__v1__health_check_response__descriptor,
    .handler = check,
};

typedef struct test_server {
    rk_config_t cfg;
    rk_metrics_t *metrics;
    rk_router_t *router;
    rk_server_t *server;
} test_server_t;

static test_server_t *server_start(int port, int tls)
{
    test_server_t *ts = calloc(1, sizeof(*ts));
    rk_config_init(&ts->cfg);
    ts->cfg.listen_port = port;
    if (tls) {
        free(ts->cfg.tls_cert_file);
        free(ts->cfg.tls_key_file);
        char path[128];
        snprintf(path, sizeof(path), "%s/server.pem", tls_dir);
        ts->cfg.tls_cert_file = strdup(path);
        snprintf(path, sizeof(path), "%s/server.key", tls_dir);
        ts->cfg.tls_key_file = strdup(path);
    }
    ts->metrics = rk_metrics_new();
    ts->router = rk_router_new(ts->metrics);
    rk_rpc_register(ts->router, &method);
    rk_rpc_register_fallback(ts->router);
    char why[256];
    ts->server = rk_server_new(base, &ts->cfg, ts->router, ts->metrics, NULL, why, sizeof(why));
    if (!ts->server)
        fail_msg("server: %s", why);
    if (rk_server_listen(ts->server, why, sizeof(why)) != 0)
        fail_msg("listen: %s", why);
    return ts;
}

static void server_stop(test_server_t *ts)
{
    rk_server_free(ts->server);
    rk_router_free(ts->router);
    rk_metrics_free(ts->metrics);
    rk_config_free(&ts->cfg);
    free(ts);
}

/* --- client side ------------------------------------------------------------------------- */

typedef struct outcome {
    int done;
    rk_rpc_code_t code;
    char message[256];
    int serving;
    uint64_t finished_ns;
} outcome_t;

static void outcome_cb(const rk_rpc_result_t *result, void *arg)
{
    outcome_t *o = arg;
    o->done = 1;
    o->code = result->code;
    snprintf(o->message, sizeof(o->message), "%s", result->message);
    if (result->response)
        o->serving = ((const check_response_t *)result->response)->status ==
                     GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    o->finished_ns = rk_now_ns();
}

static void run_until(int *done, int n, int timeout_ms)
{
    uint64_t end = rk_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        int finished = 0;
        for (int i = 0; i < n; i++)
            finished += done[i * (int)(sizeof(outcome_t) / sizeof(int))];
        if (finished == n || rk_now_ns() > end)
            return;
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        usleep(200);
    }
}

static void call(rk_rpc_channel_t *ch, const char *path, const char *service, uint64_t timeout_ms,
                 outcome_t *o)
{
    check_request_t req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service;
    memset(o, 0, sizeof(*o));
    rk_rpc_call(ch, path, &req.base, &grpc__health__v1__health_check_response__descriptor,
                timeout_ms * 1000000ull, NULL, 0, outcome_cb, o);
    assert_int_equal(o->done, 0); /* never called back from inside rk_rpc_call() */
}

/* A port nothing listens on now: the kernel's choice for a socket bound to port 0. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
        fail_msg("cannot find a free port");
    close(fd);
    return ntohs(sin.sin_port);
}

static rk_rpc_channel_t *channel(int port, int tls, const char *ca)
{
    char target[64], why[256];
    snprintf(target, sizeof(target), "%s://127.0.0.1:%d", tls ? "https" : "http", port);
    rk_rpc_channel_options_t opt = {.target = target, .ca_file = ca};
    rk_rpc_channel_t *ch = rk_rpc_channel_new(base, &opt, why, sizeof(why));
    if (!ch)
        fail_msg("channel: %s", why);
    return ch;
}

static void replies_errors_and_deadlines(void **state)
{
    (void)state;
    int port = free_port();
    test_server_t *ts = server_start(port, 0);
    rk_rpc_channel_t *ch = channel(port, 0, NULL);
    outcome_t o;

    call(ch, "/test.Echo/Check", "", 2000, &o);
    run_until(&o.done, 1, 3000);
    assert_int_equal(o.code, RK_RPC_OK);
    assert_true(o.serving);

    call(ch, "/test.Echo/Check", "fail", 2000, &o);
    run_until(&o.done, 1, 3000);
    assert_int_equal(o.code, RK_RPC_NOT_FOUND);
    assert_string_equal(o.message, "施設 not found: 100%");

    call(ch, "/test.Nope/Check", "", 2000, &o);
    run_until(&o.done, 1, 3000);
    assert_int_equal(o.code, RK_RPC_UNIMPLEMENTED);

    uint64_t started = rk_now_ns();
    call(ch, "/test.Echo/Check", "slow", 100, &o);
    run_until(&o.done, 1, 3000);
    assert_int_equal(o.code, RK_RPC_DEADLINE_EXCEEDED);
    uint64_t took_ms = (o.finished_ns - started) / 1000000ull;
    if (took_ms < 90 || took_ms > 400)
        fail_msg("deadline of 100 ms answered after %llu ms", (unsigned long long)took_ms);

    /* Let the slow reply arrive server-side, then the connection still works. */
    run_until(&(int){0}, 1, 600);
    call(ch, "/test.Echo/Check", "", 2000, &o);
    run_until(&o.done, 1, 3000);
    assert_int_equal(o.code, RK_RPC_OK);

    rk_rpc_channel_free(ch);
    server_stop(ts);
}

static void many_calls_are_multiplexed(void **state)
{
    (void)state;
    int port = free_port();
    test_server_t *ts = server_start(port, 0);
    rk_rpc_channel_t *ch = channel(port, 0, NULL);
    enum { N = 300 };
    outcome_t *o = calloc(N, sizeof(*o));
    for (int i = 0; i < N; i++)
        call(ch, "/test.Echo/Check", "", 5000, &o[i]);
    run_until(&o[0].done, N, 10000);
    int ok = 0;
    for (int i = 0; i < N; i++)
        ok += o[i].done && o[i].code == RK_RPC_OK && o[i].serving;
    assert_int_equal(ok, N);
    int conns = rk_rpc_channel_connections(ch);
    if (conns < 1 || conns > 4)
        fail_msg("%d connections for %d calls", conns, N);
    free(o);
    rk_rpc_channel_free(ch);
    server_stop(ts);
}

static void unreachable_and_restarted_servers(void **state)
{
    (void)state;
    int port = free_port();
    rk_rpc_channel_t *ch = channel(port, 0, NULL);
    outcome_t o;
    uint64_t started = rk_now_ns();
    call(ch, "/test.Echo/Check", "", 2000, &o);
    run_until(&o.done, 1, 3000);
    assert_int_equal(o.code, RK_RPC_UNAVAILABLE);
    assert_true((rk_now_ns() - started) / 1000000ull < 500); /* refused at once, no hang */

    test_server_t *ts = server_start(port, 0);
    call(ch, "/test.Echo/Check", "", 2000, &o);
    run_until(&o.done, 1, 3000);
    assert_int_equal(o.code, RK_RPC_OK);

    server_stop(ts); /* the connection dies under the channel */
    call(ch, "/test.Echo/Check", "", 2000, &o);
    run_until(&o.done, 1, 3000);
    assert_int_equal(o.code, RK_RPC_UNAVAILABLE);

    ts = server_start(port, 0); /* back: the channel reconnects by itself */
    call(ch, "/test.Echo/Check", "", 2000, &o);
    run_until(&o.done, 1, 3000);
    assert_int_equal(o.code, RK_RPC_OK);
    rk_rpc_channel_free(ch);
    server_stop(ts);
}

/* A peer that accepted the connection and then went silent (a dead host behind a live path):
 * the keepalive PING goes unanswered and the call fails long before its deadline. */
static void a_silent_peer_is_noticed_by_keepalive(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(listen(fd, 8), 0); /* the kernel completes the handshake; nobody answers */
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    char target[64], why[256];
    snprintf(target, sizeof(target), "http://127.0.0.1:%d", ntohs(sin.sin_port));
    rk_rpc_channel_options_t opt = {.target = target, .keepalive_ms = 200};
    rk_rpc_channel_t *ch = rk_rpc_channel_new(base, &opt, why, sizeof(why));
    assert_non_null(ch);
    outcome_t o;
    uint64_t started = rk_now_ns();
    call(ch, "/test.Echo/Check", "", 5000, &o);
    run_until(&o.done, 1, 6000);
    assert_int_equal(o.code, RK_RPC_UNAVAILABLE);
    if (!strstr(o.message, "keepalive"))
        fail_msg("expected a keepalive failure, got: %s", o.message);
    uint64_t took_ms = (rk_now_ns() - started) / 1000000ull;
    if (took_ms > 1500)
        fail_msg("the silent peer was noticed after %llu ms", (unsigned long long)took_ms);
    rk_rpc_channel_free(ch);
    close(fd);
}

static void tls_with_a_trusted_and_an_untrusted_ca(void **state)
{
    (void)state;
    int port = free_port();
    test_server_t *ts = server_start(port, 1);
    char ca[128], other[128];
    snprintf(ca, sizeof(ca), "%s/ca.pem", tls_dir);
    snprintf(other, sizeof(other), "%s/other-ca.pem", tls_dir);
    rk_rpc_channel_t *ch = channel(port, 1, ca);
    outcome_t o;
    call(ch, "/test.Echo/Check", "", 3000, &o);
    run_until(&o.done, 1, 4000);
    assert_int_equal(o.code, RK_RPC_OK);
    rk_rpc_channel_free(ch);

    ch = channel(port, 1, other);
    call(ch, "/test.Echo/Check", "", 3000, &o);
    run_until(&o.done, 1, 4000);
    assert_int_equal(o.code, RK_RPC_UNAVAILABLE);
    if (!strstr(o.message, "certificate"))
        fail_msg("expected a certificate error, got: %s", o.message);
    rk_rpc_channel_free(ch);
    server_stop(ts);
}

static int setup(void **state)
{
    (void)state;
    rk_log_setup(RK_LOG_WARN, 2);
    base = event_base_new();
    snprintf(tls_dir, sizeof(tls_dir), "/tmp/rpc_client_test.XXXXXX");
    if (!mkdtemp(tls_dir))
        return -1;
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "cd %s && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
             "-subj /CN=test-ca -keyout ca.key -out ca.pem && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
             "-subj /CN=other-ca -keyout other-ca.key -out other-ca.pem && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 "
             "-keyout server.key -out server.csr && "
             "printf 'subjectAltName=IP:127.0.0.1\\n' > ext && "
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
             "-extfile ext -out server.pem",
             tls_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tls_dir);
    if (system(cmd) != 0)
        return -1;
    event_base_free(base);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(replies_errors_and_deadlines),
        cmocka_unit_test(many_calls_are_multiplexed),
        cmocka_unit_test(unreachable_and_restarted_servers),
        cmocka_unit_test(a_silent_peer_is_noticed_by_keepalive),
        cmocka_unit_test(tls_with_a_trusted_and_an_untrusted_ca),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
