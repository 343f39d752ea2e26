/*
 * http_client.c — blocking HTTP(S) requests on a private libevent base (see http_client.h).
 */
#include "ctl/http_client.h"

#include "core/mem.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct exchange {
    rk_http_response_t *out;
    struct event_base *base;
} exchange_t;

static void done_cb(struct evhttp_request *req, void *arg)
{
    exchange_t *x = arg;
    rk_http_response_t *out = x->out;
    if (!req || !evhttp_request_get_response_code(req)) {
        int err = req ? 0 : EVUTIL_SOCKET_ERROR();
        snprintf(out->error, sizeof(out->error), "no response from the hub%s%s", err ? ": " : "",
                 err ? evutil_socket_error_to_string(err) : "");
        return;
    }
    out->status = evhttp_request_get_response_code(req);
    struct evbuffer *buf = evhttp_request_get_input_buffer(req);
    out->body_len = evbuffer_get_length(buf);
    out->body = rk_xmalloc(out->body_len + 1);
    evbuffer_remove(buf, out->body, out->body_len);
    out->body[out->body_len] = '\0';
    /* The connection stays open (keep-alive): leave the loop now rather than at its timeout. */
    event_base_loopexit(x->base, NULL);
}

int rk_http_request(const char *method, const char *url, const char *bearer, const char *body,
                    int timeout_ms, rk_http_response_t *out)
{
    memset(out, 0, sizeof(*out));
    struct evhttp_uri *uri = evhttp_uri_parse(url);
    const char *scheme = uri ? evhttp_uri_get_scheme(uri) : NULL;
    const char *host = uri ? evhttp_uri_get_host(uri) : NULL;
    if (!scheme || !host || (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))) {
        snprintf(out->error, sizeof(out->error), "--hub: not an http:// or https:// URL: %s", url);
        evhttp_uri_free(uri);
        return -1;
    }
    int tls = strcasecmp(scheme, "https") == 0;
    int port = evhttp_uri_get_port(uri);
    if (port < 0)
        port = tls ? 443 : 80;
    struct event_base *base = event_base_new();
    SSL_CTX *ssl_ctx = NULL;
    SSL *ssl = NULL;
    struct bufferevent *bev = NULL;
    if (tls) {
        ssl_ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_default_verify_paths(ssl_ctx);
        SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
        ssl = SSL_new(ssl_ctx);
        /* Check the name the user typed: an IP literal against the certificate's IP SAN. */
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1) {
            SSL_set_tlsext_host_name(ssl, host);
            SSL_set1_host(ssl, host);
        }
        bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                             BEV_OPT_CLOSE_ON_FREE);
    }
    struct evhttp_connection *conn =
        evhttp_connection_base_bufferevent_new(base, NULL, bev, host, (unsigned short)port);
    evhttp_connection_set_timeout(conn, (timeout_ms + 999) / 1000);
    exchange_t exchange = {out, base};
    struct evhttp_request *req = evhttp_request_new(done_cb, &exchange);
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Host", host);
    evhttp_add_header(headers, "Accept", "application/json");
    if (bearer) {
        size_t len = strlen(bearer) + 8;
        char *auth = rk_xmalloc(len);
        snprintf(auth, len, "Bearer %s", bearer);
        evhttp_add_header(headers, "Authorization", auth);
        free(auth);
    }
    if (body) {
        evhttp_add_header(headers, "Content-Type", "application/json");
        evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    }
    const char *path = evhttp_uri_get_path(uri);
    const char *query = evhttp_uri_get_query(uri);
    char target[2048];
    snprintf(target, sizeof(target), "%s%s%s", path && *path ? path : "/", query ? "?" : "",
             query ? query : "");
    enum evhttp_cmd_type cmd = strcmp(method, "POST") == 0     ? EVHTTP_REQ_POST
                               : strcmp(method, "DELETE") == 0 ? EVHTTP_REQ_DELETE
                               : strcmp(method, "PUT") == 0    ? EVHTTP_REQ_PUT
                                                               : EVHTTP_REQ_GET;
    if (evhttp_make_request(conn, req, cmd, target) != 0)
        snprintf(out->error, sizeof(out->error), "cannot send the request to %s", url);
    else
        event_base_dispatch(base);
    evhttp_connection_free(conn);
    event_base_free(base);
    SSL_CTX_free(ssl_ctx);
    evhttp_uri_free(uri);
    return out->status ? 0 : -1;
}
