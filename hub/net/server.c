/*
 * server.c — listener, TLS context, connection list, dispatch and drain (see server.h).
 */
#include "net/server.h"

#include "core/error.h"
#include "core/log.h"
#include "net/sniff.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static uint64_t request_id_prefix;
static uint64_t request_id_counter;

static SSL_CTX *make_ssl_ctx(const rk_config_t *cfg, char *why, size_t why_len)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        goto err;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert_file) != 1) {
        snprintf(why, why_len, "config: tls.cert_file: cannot load %s: %s", cfg->tls_cert_file,
                 ERR_reason_error_string(ERR_get_error()));
        goto err_quiet;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(why, why_len,
                 "config: tls.key_file: cannot load %s or it does not match the "
                 "certificate: %s",
                 cfg->tls_key_file, ERR_reason_error_string(ERR_get_error()));
        goto err_quiet;
    }
    if (*cfg->tls_client_ca_file) {
        /* mTLS: only clients with a certificate chaining to these CAs get through the handshake. */
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->tls_client_ca_file);
        if (!names || SSL_CTX_load_verify_locations(ctx, cfg->tls_client_ca_file, NULL) != 1) {
            snprintf(why, why_len,
                     "config: tls.client_ca_file: cannot load CA certificates from %s",
                     cfg->tls_client_ca_file);
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            goto err_quiet;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        /* Resumed sessions must stay tied to this context, or verified resumption fails. */
        static const unsigned char session_context[] = "renkei";
        SSL_CTX_set_session_id_context(ctx, session_context, sizeof(session_context) - 1);
    }
    return ctx;
err:
    snprintf(why, why_len, "tls: %s", ERR_reason_error_string(ERR_get_error()));
err_quiet:
    SSL_CTX_free(ctx);
    return NULL;
}

rk_server_t *rk_server_new(struct event_base *base, const rk_config_t *cfg, rk_router_t *router,
                           rk_metrics_t *metrics, void *app, char *why, size_t why_len)
{
    rk_server_t *s = rk_xcalloc(1, sizeof(*s));
    s->base = base;
    s->cfg = cfg;
    s->router = router;
    s->metrics = metrics;
    s->app = app;
    s->connections.next = s->connections.prev = &s->connections;
    if (*cfg->tls_cert_file) {
        s->ssl_ctx = make_ssl_ctx(cfg, why, why_len);
        if (!s->ssl_ctx) {
            free(s);
            return NULL;
        }
        rk_sniff_setup_alpn(s->ssl_ctx);
    }
    if (!request_id_prefix)
        RAND_bytes((unsigned char *)&request_id_prefix, sizeof(request_id_prefix));
    return s;
}

static void set_nodelay(evutil_socket_t fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void format_peer(const struct sockaddr *sa, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
    }
    snprintf(out, len, "%s:%d", host, port);
}

static void accept_cb(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
    (void)listener;
    (void)socklen;
    rk_server_t *s = arg;
    if (s->draining || s->n_connections >= (size_t)s->cfg->max_connections) {
        s->refused++;
        close(fd);
        return;
    }
    s->accepted++;
    set_nodelay(fd);
    char peer[64];
    format_peer(sa, peer, sizeof(peer));
    rk_sniff_accept(s, fd, peer);
}

static void accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_server_t *s = arg;
    if (!s->draining)
        evconnlistener_enable(s->listener);
}

static void accept_error_cb(struct evconnlistener *listener, void *arg)
{
    rk_server_t *s = arg;
    int err = EVUTIL_SOCKET_ERROR();
    rk_log_warn("accept failed", "{s:s}", "error", evutil_socket_error_to_string(err));
    /* Out of descriptors: pause accepting briefly instead of spinning on the error. */
    evconnlistener_disable(listener);
    struct timeval tv = {0, 100000};
    event_add(s->accept_retry, &tv);
}

int rk_server_listen(rk_server_t *s, char *why, size_t why_len)
{
    struct sockaddr_storage ss;
    int sslen = sizeof(ss);
    char addr[300];
    const char *host = s->cfg->listen_host;
    snprintf(addr, sizeof(addr), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host,
             s->cfg->listen_port);
    if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sslen) != 0) {
        snprintf(why, why_len, "config: listen.host: not an IP address: %s", host);
        return RK_EINVAL;
    }
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;
    if (s->cfg->server_workers != 1)
        flags |= LEV_OPT_REUSEABLE_PORT; /* the workers share the port (hub/supervise.h) */
    s->listener =
        evconnlistener_new_bind(s->base, accept_cb, s, flags, 4096, (struct sockaddr *)&ss, sslen);
    if (!s->listener) {
        snprintf(why, why_len, "cannot listen on %s: %s", addr, strerror(errno));
        return RK_EIO;
    }
    evconnlistener_set_error_cb(s->listener, accept_error_cb);
    s->accept_retry = evtimer_new(s->base, accept_retry_cb, s);
    return RK_OK;
}

void rk_server_link(rk_server_t *s, rk_conn_link_t *link)
{
    link->next = s->connections.next;
    link->prev = &s->connections;
    s->connections.next->prev = link;
    s->connections.next = link;
    s->n_connections++;
}

static void check_drained(rk_server_t *s)
{
    if (!s->draining || s->in_flight || s->n_connections || !s->drained_cb)
        return;
    void (*cb)(rk_server_t *, void *) = s->drained_cb;
    s->drained_cb = NULL;
    cb(s, s->drained_arg);
}

void rk_server_unlink(rk_server_t *s, rk_conn_link_t *link)
{
    link->prev->next = link->next;
    link->next->prev = link->prev;
    link->next = link->prev = link;
    s->n_connections--;
    check_drained(s);
}

static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_server_t *s = arg;
    rk_log_warn("drain timeout: closing with requests in flight", "{s:I, s:I}", "in_flight",
                (json_int_t)s->in_flight, "connections", (json_int_t)s->n_connections);
    void (*cb)(rk_server_t *, void *) = s->drained_cb;
    s->drained_cb = NULL;
    if (cb)
        cb(s, s->drained_arg);
}

void rk_server_drain(rk_server_t *s, void (*cb)(rk_server_t *, void *), void *arg)
{
    if (s->draining)
        return;
    s->draining = 1;
    s->drained_cb = cb;
    s->drained_arg = arg;
    if (s->listener)
        evconnlistener_disable(s->listener);
    rk_log_info("draining", "{s:I, s:I}", "in_flight", (json_int_t)s->in_flight, "connections",
                (json_int_t)s->n_connections);
    /* drain() may unlink the connection it is called on, so step before calling. */
    rk_conn_link_t *link = s->connections.next;
    while (link != &s->connections) {
        rk_conn_link_t *next = link->next;
        link->drain(link);
        link = next;
    }
    s->drain_timer = evtimer_new(s->base, drain_timeout_cb, s);
    struct timeval tv = {s->cfg->drain_timeout_ms / 1000, (s->cfg->drain_timeout_ms % 1000) * 1000};
    evtimer_add(s->drain_timer, &tv);
    check_drained(s);
}

void rk_server_free(rk_server_t *s)
{
    if (!s)
        return;
    rk_conn_link_t *link = s->connections.next;
    while (link != &s->connections) {
        rk_conn_link_t *next = link->next;
        link->close(link);
        link = next;
    }
    if (s->listener)
        evconnlistener_free(s->listener);
    if (s->accept_retry)
        event_free(s->accept_retry);
    if (s->drain_timer)
        event_free(s->drain_timer);
    SSL_CTX_free(s->ssl_ctx);
    free(s);
}

static int request_id_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

void rk_server_assign_request_id(rk_request_t *req)
{
    const char *given = rk_request_header(req, "x-request-id");
    if (given) {
        size_t len = strlen(given);
        int ok = len > 0 && len <= RK_REQUEST_ID_LEN;
        for (size_t i = 0; ok && i < len; i++)
            ok = request_id_char_ok(given[i]);
        if (ok) {
            memcpy(req->request_id, given, len + 1);
            return;
        }
    }
    snprintf(req->request_id, sizeof(req->request_id), "%08x%016llx",
             (unsigned)(request_id_prefix >> 32), (unsigned long long)++request_id_counter);
}

static void find_route(rk_server_t *s, rk_request_t *req)
{
    if (req->routed)
        return;
    req->routed = 1;
    req->route = rk_router_match(s->router, req->arena, req->method, req->path, req->params,
                                 &req->path_matched);
}

size_t rk_server_route(rk_server_t *s, rk_request_t *req)
{
    if (!req->method || !req->path)
        return (size_t)s->cfg->body_bytes;
    find_route(s, req);
    const rk_route_t *route = req->route;
    if (route && route->max_body == RK_ROUTE_BODY_MESSAGE)
        return (size_t)s->cfg->message_bytes + 5;
    return route && route->max_body ? route->max_body : (size_t)s->cfg->body_bytes;
}

void rk_server_dispatch(rk_server_t *s, rk_request_t *req)
{
    s->in_flight++;
    req->counted_in_flight = 1;
    rk_server_assign_request_id(req);
    find_route(s, req);
    if (!req->route) {
        if (req->path_matched)
            rk_response_error(req, 405, "method_not_allowed",
                              "this path does not accept this method");
        else
            rk_response_error(req, 404, "not_found", "no such endpoint");
        rk_request_finish(req);
        return;
    }
    req->route->handler(req);
}

void rk_server_request_done(rk_server_t *s, rk_request_t *req)
{
    uint64_t elapsed = rk_now_ns() - req->started_ns;
    rk_metrics_observe(s->metrics, req->route ? req->route->metrics_id : -1, req->status, elapsed);
    if (rk_log_enabled(RK_LOG_INFO))
        rk_log_info("request", "{s:s, s:s, s:s, s:s, s:i, s:f, s:s, s:b}", "request_id",
                    req->request_id, "protocol", req->protocol, "method",
                    req->method ? req->method : "", "path", req->path, "status", req->status, "ms",
                    (double)elapsed / 1e6, "peer", req->peer, "client_gone",
                    req->transport == NULL);
    if (req->counted_in_flight)
        s->in_flight--;
    check_drained(s);
}
