/*
 * rpc_client_test.c — the gRPC client against our own HTTP/2 server, both on one event loop
 * over real loopback sockets (h2c and TLS with certificates made by openssl): replies, error
 * statuses with UTF-8 messages, deadlines, UNIMPLEMENTED, hundreds of multiplexed calls, an
 * unreachable server, a server that restarts, a server whose certificate we do not trust,
 * and responses at and one byte over the message size limit; answers kept past the callback
 * (rk_rpc_result_keep), also freed inside it. TLS material is loaded once
 * (rpc_client_tls.h) and shared: making a channel reads no file and costs well under a millisecond
 * where loading the system's CAs costs tens; per-channel CA certificates and pins still work beside
 * the shared store without changing it; mutual TLS presents a certificate chain loaded once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "grpc/health/v1/health.pb-c.h"
#include "net/rpc.h"
#include "net/rpc_client.h"
#include "net/server.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
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

/* Answers a message of exactly as many bytes as the request's service says ("4096"): a
 * HealthCheckRequest whose service (one tag, a two-byte length) pads it. */
static void big(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    size_t n = strtoul(((const check_request_t *)message)->service, NULL, 10);
    check_request_t out = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    char *pad = rk_arena_calloc(rk_rpc_request(rpc)->arena, 1, n);
    memset(pad, 'x', n - 3);
    out.service = pad;
    assert_int_equal(protobuf_c_message_get_packed_size(&out.base), n);
    rk_rpc_reply(rpc, &out.base);
}

static const rk_rpc_method_t big_method = {
    .path = "/test.Echo/Big",
    .input = &grpc__health__v1__health_check_request__descriptor,
    .output = &grpc__health__v1__health_check_request__descriptor,
    .handler = big,
};

typedef struct test_server {
    rk_config_t cfg;
    rk_metrics_t *metrics;
    rk_router_t *router;
    rk_server_t *server;
} test_server_t;

/* A file of the test's PKI, made in setup(). */
static const char *pki(const char *name)
{
    static char paths[4][128];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof(paths[0]), "%s/%s", tls_dir, name);
    return path;
}

/* tls 0: h2c; 1: TLS; 2: TLS admitting only clients with a certificate from ca.pem. */
static test_server_t *server_start(int port, int tls)
{
    test_server_t *ts = calloc(1, sizeof(*ts));
    rk_config_init(&ts->cfg);
    ts->cfg.listen_port = port;
    if (tls) {
        free(ts->cfg.tls_cert_file);
        free(ts->cfg.tls_key_file);
        ts->cfg.tls_cert_file = strdup(pki("server.pem"));
        ts->cfg.tls_key_file = strdup(pki("server.key"));
    }
    if (tls == 2) {
        free(ts->cfg.tls_client_ca_file);
        ts->cfg.tls_client_ca_file = strdup(pki("ca.pem"));
    }
    ts->metrics = rk_metrics_new();
    ts->router = rk_router_new(ts->metrics);
    rk_rpc_register(ts->router, &method);
    rk_rpc_register(ts->router, &big_method);
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

/* Shared TLS material: the CAs of ca_file ("" = the system's), and a client identity. */
static rk_rpc_client_tls_t *tls_material(const char *ca_file, const char *cert, const char *key)
{
    char why[512];
    rk_rpc_client_tls_t *tls = rk_rpc_client_tls_new();
    if (rk_rpc_client_tls_load_ca(tls, ca_file, why, sizeof(why)) != RK_OK)
        fail_msg("load_ca: %s", why);
    if (cert && rk_rpc_client_tls_load_identity(tls, cert, key, why, sizeof(why)) != RK_OK)
        fail_msg("load_identity: %s", why);
    return tls;
}

static rk_rpc_channel_t *channel_with(const rk_rpc_channel_options_t *opt)
{
    char why[256];
    rk_rpc_channel_t *ch = rk_rpc_channel_new(base, opt, why, sizeof(why));
    if (!ch)
        fail_msg("channel: %s", why);
    return ch;
}

/* A channel to 127.0.0.1:port; for TLS, trusting the CAs of ca_file. The material is freed
 * at once: the channel keeps its own references. */
static rk_rpc_channel_t *channel(int port, int tls, const char *ca_file)
{
    char target[64];
    snprintf(target, sizeof(target), "%s://127.0.0.1:%d", tls ? "https" : "http", port);
    rk_rpc_client_tls_t *material = tls ? tls_material(ca_file, NULL, NULL) : NULL;
    rk_rpc_channel_options_t opt = {.target = target, .tls = material};
    rk_rpc_channel_t *ch = channel_with(&opt);
    rk_rpc_client_tls_free(material);
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

/* Keeps the answer (rk_rpc_result_keep); frees it at once when asked, as a caller whose reply
 * frees everything from inside the callback does. */
typedef struct kept {
    int done;
    int free_inside;
    rk_arena_t *arena;
    const check_response_t *response;
} kept_t;

static void keep_cb(const rk_rpc_result_t *result, void *arg)
{
    kept_t *k = arg;
    k->done = 1;
    if (result->code != RK_RPC_OK)
        return;
    k->arena = rk_rpc_result_keep(result);
    k->response = (const check_response_t *)result->response;
    if (k->free_inside) {
        rk_arena_free(k->arena);
        k->arena = NULL;
    }
}

static void kept_answers_outlive_the_callback(void **state)
{
    (void)state;
    int port = free_port();
    test_server_t *ts = server_start(port, 0);
    rk_rpc_channel_t *ch = channel(port, 0, NULL);
    kept_t k[2] = {{0}, {.free_inside = 1}};
    check_request_t req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = "";
    for (int i = 0; i < 2; i++)
        rk_rpc_call(ch, "/test.Echo/Check", &req.base,
                    &grpc__health__v1__health_check_response__descriptor, 2000000000ull, NULL, 0,
                    keep_cb, &k[i]);
    for (uint64_t end = rk_now_ns() + 3000000000ull;
         (!k[0].done || !k[1].done) && rk_now_ns() < end;)
        event_base_loop(base, EVLOOP_ONCE);
    assert_true(k[0].done && k[1].done);
    assert_non_null(k[0].arena); /* still readable after the callback: */
    assert_int_equal(k[0].response->status,
                     GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    rk_arena_free(k[0].arena);
    assert_null(k[1].arena); /* freed inside its callback: the client read nothing of it after */
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
    rk_rpc_channel_t *ch = channel(port, 1, pki("ca.pem"));
    outcome_t o;
    call(ch, "/test.Echo/Check", "", 3000, &o);
    run_until(&o.done, 1, 4000);
    assert_int_equal(o.code, RK_RPC_OK);
    rk_rpc_channel_free(ch);

    ch = channel(port, 1, pki("other-ca.pem"));
    call(ch, "/test.Echo/Check", "", 3000, &o);
    run_until(&o.done, 1, 4000);
    assert_int_equal(o.code, RK_RPC_UNAVAILABLE);
    if (!strstr(o.message, "certificate"))
        fail_msg("expected a certificate error, got: %s", o.message);
    rk_rpc_channel_free(ch);
    server_stop(ts);
}

/* A response of max_message_bytes is taken; one byte more is RESOURCE_EXHAUSTED, and the
 * connection serves the next call. */
static void responses_up_to_the_message_limit(void **state)
{
    (void)state;
    int port = free_port();
    test_server_t *ts = server_start(port, 0);
    char target[64];
    snprintf(target, sizeof(target), "http://127.0.0.1:%d", port);
    rk_rpc_channel_options_t opt = {.target = target, .max_message_bytes = 4096};
    rk_rpc_channel_t *ch = channel_with(&opt);
    const char *sizes[] = {"4096", "4097", "4096"};
    rk_rpc_code_t expected[] = {RK_RPC_OK, RK_RPC_RESOURCE_EXHAUSTED, RK_RPC_OK};
    for (int i = 0; i < 3; i++) {
        outcome_t o;
        check_request_t req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        req.service = (char *)sizes[i];
        memset(&o, 0, sizeof(o));
        rk_rpc_call(ch, "/test.Echo/Big", &req.base,
                    &grpc__health__v1__health_check_request__descriptor, 3000000000ull, NULL, 0,
                    outcome_cb, &o);
        run_until(&o.done, 1, 4000);
        if (o.code != expected[i])
            fail_msg("a response of %s bytes: code %d (%s)", sizes[i], o.code, o.message);
    }
    assert_int_equal(rk_rpc_channel_connections(ch), 1);
    rk_rpc_channel_free(ch);
    server_stop(ts);
}

static uint64_t elapsed_us(uint64_t since_ns)
{
    return (rk_now_ns() - since_ns) / 1000u;
}

/* One call on ch: its code, and the message in o. */
static rk_rpc_code_t call_once(rk_rpc_channel_t *ch, outcome_t *o)
{
    call(ch, "/test.Echo/Check", "", 3000, o);
    run_until(&o->done, 1, 4000);
    return o->code;
}

/*
 * The system's CAs are read once (tens of milliseconds); every channel then shares them, so
 * making one costs a fraction of a millisecond and reads no file. Before the store was
 * shared each channel loaded the bundle itself: 50–100 ms in a release build, ~115 ms here
 * under the sanitizers.
 */
static void tls_material_is_loaded_once_and_shared(void **state)
{
    (void)state;
    enum { N = 100 };
    uint64_t started = rk_now_ns();
    rk_rpc_client_tls_t *system = tls_material("", NULL, NULL);
    uint64_t load_us = elapsed_us(started);
    rk_rpc_channel_t *channels[N];
    char target[64];
    int port = free_port();
    snprintf(target, sizeof(target), "https://127.0.0.1:%d", port);
    rk_rpc_channel_options_t opt = {.target = target, .tls = system};
    started = rk_now_ns();
    for (int i = 0; i < N; i++)
        channels[i] = channel_with(&opt);
    uint64_t per_channel_us = elapsed_us(started) / N;
    print_message("system CA store loaded once in %llu us; then %llu us per https channel\n",
                  (unsigned long long)load_us, (unsigned long long)per_channel_us);
    if (per_channel_us > 5000 || per_channel_us * 10 > load_us)
        fail_msg("a channel took %llu us (the store load %llu us): is it reading files?",
                 (unsigned long long)per_channel_us, (unsigned long long)load_us);

    /* The shared store is the one used: the system does not trust the test CA. */
    test_server_t *ts = server_start(port, 1);
    outcome_t o;
    assert_int_equal(call_once(channels[0], &o), RK_RPC_UNAVAILABLE);
    if (!strstr(o.message, "certificate verify failed"))
        fail_msg("expected a verification failure, got: %s", o.message);
    for (int i = 0; i < N; i++)
        rk_rpc_channel_free(channels[i]);
    rk_rpc_client_tls_free(system);
    server_stop(ts);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    char *text = calloc(1, 65536);
    size_t n = fread(text, 1, 65535, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

static void leaf_sha256(const char *pem_file, unsigned char out[32])
{
    FILE *f = fopen(pem_file, "r");
    X509 *leaf = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    unsigned int len = 0;
    if (!leaf || X509_digest(leaf, EVP_sha256(), out, &len) != 1 || len != 32)
        fail_msg("cannot hash %s", pem_file);
    X509_free(leaf);
    fclose(f);
}

/* An adapter's own CA certificates (in memory) or pin still decide for its channel, beside
 * a shared store that does not trust the server, and never leak into that store. */
static void ca_pem_and_pins_beside_the_shared_store(void **state)
{
    (void)state;
    int port = free_port();
    test_server_t *ts = server_start(port, 1);
    char target[64];
    snprintf(target, sizeof(target), "https://127.0.0.1:%d", port);
    rk_rpc_client_tls_t *other = tls_material(pki("other-ca.pem"), NULL, NULL);
    char *ca_pem = read_file(pki("ca.pem"));
    outcome_t o;

    rk_rpc_channel_options_t opt = {.target = target, .tls = other, .ca_pem = ca_pem};
    rk_rpc_channel_t *ch = channel_with(&opt);
    assert_int_equal(call_once(ch, &o), RK_RPC_OK);
    rk_rpc_channel_free(ch);

    opt.ca_pem = NULL; /* the shared store alone: it must not have learnt the CA above */
    ch = channel_with(&opt);
    assert_int_equal(call_once(ch, &o), RK_RPC_UNAVAILABLE);
    rk_rpc_channel_free(ch);

    unsigned char pin[32];
    leaf_sha256(pki("server.pem"), pin);
    opt.pinned_sha256 = pin;
    ch = channel_with(&opt);
    assert_int_equal(call_once(ch, &o), RK_RPC_OK);
    rk_rpc_channel_free(ch);
    pin[0] ^= 1;
    ch = channel_with(&opt);
    assert_int_equal(call_once(ch, &o), RK_RPC_UNAVAILABLE);
    if (!strstr(o.message, "pinned"))
        fail_msg("expected a pin mismatch, got: %s", o.message);
    rk_rpc_channel_free(ch);

    /* Nothing to verify with is refused when the channel is made, not at the first call. */
    char why[256] = "";
    rk_rpc_channel_options_t bare = {.target = target};
    assert_null(rk_rpc_channel_new(base, &bare, why, sizeof(why)));
    assert_non_null(strstr(why, "nothing to verify the server with"));
    bare.ca_pem = "not a certificate";
    assert_null(rk_rpc_channel_new(base, &bare, why, sizeof(why)));
    assert_non_null(strstr(why, "ca_pem"));

    free(ca_pem);
    rk_rpc_client_tls_free(other);
    server_stop(ts);
}

/* Mutual TLS with a client chain (leaf and intermediate) loaded once: the server, which
 * trusts only the root, admits it; without the identity the handshake is refused. */
static void mutual_tls_with_a_shared_identity(void **state)
{
    (void)state;
    int port = free_port();
    test_server_t *ts = server_start(port, 2);
    rk_rpc_client_tls_t *with_id =
        tls_material(pki("ca.pem"), pki("client-chain.pem"), pki("client.key"));
    rk_rpc_client_tls_t *without = tls_material(pki("ca.pem"), NULL, NULL);
    char target[64];
    snprintf(target, sizeof(target), "https://127.0.0.1:%d", port);
    outcome_t o;
    rk_rpc_channel_options_t opt = {.target = target, .tls = with_id};
    rk_rpc_channel_t *ch = channel_with(&opt);
    rk_rpc_client_tls_free(with_id); /* the channel holds its own references */
    assert_int_equal(call_once(ch, &o), RK_RPC_OK);
    rk_rpc_channel_free(ch);
    opt.tls = without;
    ch = channel_with(&opt);
    assert_int_equal(call_once(ch, &o), RK_RPC_UNAVAILABLE);
    rk_rpc_channel_free(ch);
    rk_rpc_client_tls_free(without);
    server_stop(ts);

    /* Loading errors name the file and the reason. */
    char why[512] = "";
    rk_rpc_client_tls_t *tls = rk_rpc_client_tls_new();
    assert_int_equal(rk_rpc_client_tls_load_identity(tls, pki("client-chain.pem"),
                                                     pki("server.key"), why, sizeof(why)),
                     RK_EINVAL);
    assert_non_null(strstr(why, "does not belong to the certificate"));
    assert_int_equal(rk_rpc_client_tls_load_identity(tls, pki("missing.pem"), pki("client.key"),
                                                     why, sizeof(why)),
                     RK_EINVAL);
    assert_non_null(strstr(why, "missing.pem"));
    assert_int_equal(rk_rpc_client_tls_load_ca(tls, pki("client.key"), why, sizeof(why)),
                     RK_EINVAL);
    assert_non_null(strstr(why, "client.key"));
    assert_int_equal(rk_rpc_client_tls_has_ca(tls), 0);
    rk_rpc_client_tls_free(tls);
}

static int setup(void **state)
{
    (void)state;
    rk_log_setup(RK_LOG_WARN, 2);
    base = event_base_new();
    snprintf(tls_dir, sizeof(tls_dir), "/tmp/rpc_client_test.XXXXXX");
    if (!mkdtemp(tls_dir))
        return -1;
    char cmd[4096];
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
             "-extfile ext -out server.pem && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=inter "
             "-keyout inter.key -out inter.csr && "
             "printf 'basicConstraints=critical,CA:true\n' > inter.ext && "
             "openssl x509 -req -in inter.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
             "-extfile inter.ext -out inter.pem && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=hub "
             "-keyout client.key -out client.csr && "
             "openssl x509 -req -in client.csr -CA inter.pem -CAkey inter.key -CAcreateserial "
             "-days 1 -out client.pem && cat client.pem inter.pem > client-chain.pem",
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
        cmocka_unit_test(kept_answers_outlive_the_callback),
        cmocka_unit_test(unreachable_and_restarted_servers),
        cmocka_unit_test(a_silent_peer_is_noticed_by_keepalive),
        cmocka_unit_test(responses_up_to_the_message_limit),
        cmocka_unit_test(tls_with_a_trusted_and_an_untrusted_ca),
        cmocka_unit_test(tls_material_is_loaded_once_and_shared),
        cmocka_unit_test(ca_pem_and_pins_beside_the_shared_store),
        cmocka_unit_test(mutual_tls_with_a_shared_identity),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
