/*
 * http_out.c — outgoing HTTP/1.1 connections with libevent's client (see http_out.h).
 */
#include "net/http_out.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/x509v3.h>

SSL_CTX *rk_http_out_tls_context(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_default_verify_paths(ctx) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

static struct bufferevent *new_bufferevent(struct event_base *base, SSL_CTX *tls, const char *host,
                                           int host_is_ip)
{
    int options = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
    if (!tls)
        return bufferevent_socket_new(base, -1, options);
    SSL *ssl = SSL_new(tls);
    if (!ssl)
        return NULL;
    /* The peer must prove the name or address the URI gives; SNI carries names only. */
    int named = host_is_ip
                    ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)
                    : SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
    struct bufferevent *bev =
        named ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, options)
              : NULL;
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

struct evhttp_connection *rk_http_out_connect(struct event_base *base, struct evdns_base *dns,
                                              SSL_CTX *tls, const char *host, int host_is_ip,
                                              int port)
{
    struct bufferevent *bev = new_bufferevent(base, tls, host, host_is_ip);
    if (!bev)
        return NULL;
    struct evhttp_connection *conn =
        evhttp_connection_base_bufferevent_new(base, dns, bev, host, (ev_uint16_t)port);
    if (!conn)
        bufferevent_free(bev);
    return conn;
}

const char *rk_http_out_tls_failure(struct evhttp_connection *conn)
{
    struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
    long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    return verify == X509_V_OK ? NULL : X509_verify_cert_error_string(verify);
}

const char *rk_http_out_error_name(enum evhttp_request_error error)
{
    switch (error) {
    case EVREQ_HTTP_TIMEOUT:
        return "timeout";
    case EVREQ_HTTP_EOF:
        return "connection closed";
    case EVREQ_HTTP_INVALID_HEADER:
        return "invalid answer";
    case EVREQ_HTTP_BUFFER_ERROR:
        return "connection failed";
    case EVREQ_HTTP_REQUEST_CANCEL:
        return "cancelled";
    case EVREQ_HTTP_DATA_TOO_LONG:
        return "answer too long";
    }
    return "no answer";
}
