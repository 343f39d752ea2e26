/*
 * http_out.h — what the hub's outgoing HTTP/1.1 deliveries share: a libevent client
 * connection to http or https (the peer's certificate checked against the default CA paths
 * and the URI's name or address), a TLS client context for it, and names for libevent's
 * request errors.
 *
 * Used by identity/backchannel.c (back-channel logout tokens) and exchange/webhook.c (partners'
 * webhooks), which keep their own queues, deadlines and retries.
 */
#ifndef RK_NET_HTTP_OUT_H
#define RK_NET_HTTP_OUT_H

#include <event2/http.h>
#include <openssl/ssl.h>

struct event_base;
struct evdns_base;

/**
 * A TLS client context that verifies peers against the system's CA paths, TLS 1.2 at least;
 * NULL when OpenSSL cannot make one (ERR_get_error() says why). SSL_CTX_free() it.
 */
SSL_CTX *rk_http_out_tls_context(void);

/**
 * An evhttp connection to host:port: plain when tls is NULL, else TLS with tls where the peer
 * must prove host (a DNS name, sent as SNI too, or with host_is_ip an IP address without
 * brackets). dns may be NULL (IP addresses only). NULL when it cannot be set up. The caller
 * frees it with evhttp_connection_free(), which closes the socket.
 */
struct evhttp_connection *rk_http_out_connect(struct event_base *base, struct evdns_base *dns,
                                              SSL_CTX *tls, const char *host, int host_is_ip,
                                              int port);

/**
 * Why a TLS connection made by rk_http_out_connect() failed when the peer's certificate is the
 * reason (OpenSSL's text, static: "certificate has expired", …); NULL otherwise, for a plain
 * connection too. Ask before freeing conn.
 */
const char *rk_http_out_tls_failure(struct evhttp_connection *conn);

/** A short English name for a failed request's error ("timeout", "connection closed", …). */
const char *rk_http_out_error_name(enum evhttp_request_error error);

#endif
