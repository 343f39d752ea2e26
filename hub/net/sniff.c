/*
 * sniff.c — protocol detection for a new connection (see sniff.h).
 */
#include "net/sniff.h"

#include "core/log.h"
#include "core/mem.h"
#include "net/http1.h"
#include "net/http2.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN 24

typedef struct sniff {
    rk_conn_link_t link; /* first: counted and closable like any connection */
    rk_server_t *server;
    evutil_socket_t fd;
    struct event *io;
    struct event *deadline;
    SSL *ssl; /* NULL for plain TCP */
    char peer[64];
} sniff_t;

static void sniff_free(sniff_t *sn, int close_fd)
{
    event_free(sn->io);
    event_free(sn->deadline);
    if (close_fd) {
        SSL_free(sn->ssl);
        close(sn->fd);
    }
    rk_server_unlink(sn->server, &sn->link);
    free(sn);
}

/* Drain or shutdown: nothing has been asked yet, so there is nothing to finish. */
static void link_close_cb(rk_conn_link_t *link)
{
    sniff_free((sniff_t *)link, 1);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sniff_free(arg, 1);
}

static void hand_over(sniff_t *sn, int h2)
{
    rk_server_t *server = sn->server;
    struct bufferevent *bev;
    char peer[64];
    memcpy(peer, sn->peer, sizeof(peer));
    if (sn->ssl) {
        bev = bufferevent_openssl_socket_new(server->base, sn->fd, sn->ssl, BUFFEREVENT_SSL_OPEN,
                                             BEV_OPT_CLOSE_ON_FREE);
        if (bev)
            bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    } else {
        bev = bufferevent_socket_new(server->base, sn->fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!bev) {
        sniff_free(sn, 1);
        return;
    }
    sniff_free(sn, 0);
    if (h2)
        rk_http2_accept(server, bev, peer);
    else
        rk_http1_accept(server, bev, peer);
}

static void peek_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    sniff_t *sn = arg;
    char buf[H2_PREFACE_LEN];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        sniff_free(sn, 1);
        return;
    }
    if (n < 0)
        return;
    if (memcmp(buf, h2_preface, (size_t)n) != 0) {
        hand_over(sn, 0);
        return;
    }
    if (n == H2_PREFACE_LEN)
        hand_over(sn, 1);
    /* A prefix of the preface: wait for more (edge-triggered, so no busy loop). */
}

static void handshake_cb(evutil_socket_t fd, short what, void *arg);

static void handshake_rearm(sniff_t *sn, int want_write)
{
    event_del(sn->io);
    event_assign(sn->io, sn->server->base, sn->fd, want_write ? EV_WRITE : EV_READ, handshake_cb,
                 sn);
    event_add(sn->io, NULL);
}

static void handshake_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sniff_t *sn = arg;
    ERR_clear_error();
    int rc = SSL_do_handshake(sn->ssl);
    if (rc == 1) {
        const unsigned char *alpn = NULL;
        unsigned int alpn_len = 0;
        SSL_get0_alpn_selected(sn->ssl, &alpn, &alpn_len);
        hand_over(sn, alpn_len == 2 && memcmp(alpn, "h2", 2) == 0);
        return;
    }
    int err = SSL_get_error(sn->ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        handshake_rearm(sn, err == SSL_ERROR_WANT_WRITE);
        return;
    }
    const char *reason = ERR_reason_error_string(ERR_peek_last_error());
    rk_log_debug("TLS handshake failed", "{s:s, s:s}", "peer", sn->peer, "error",
                 reason ? reason : "connection closed");
    sniff_free(sn, 1);
}

void rk_sniff_accept(rk_server_t *server, evutil_socket_t fd, const char *peer)
{
    evutil_make_socket_nonblocking(fd);
    sniff_t *sn = rk_xcalloc(1, sizeof(*sn));
    sn->server = server;
    sn->fd = fd;
    sn->link.drain = link_close_cb;
    sn->link.close = link_close_cb;
    rk_server_link(server, &sn->link);
    snprintf(sn->peer, sizeof(sn->peer), "%s", peer);
    sn->deadline = evtimer_new(server->base, deadline_cb, sn);
    /* Nothing sent yet is idleness; a partial preface or handshake is a slow request. */
    int ms = server->cfg->header_timeout_ms < server->cfg->idle_timeout_ms
                 ? server->cfg->header_timeout_ms
                 : server->cfg->idle_timeout_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(sn->deadline, &tv);
    if (server->ssl_ctx) {
        sn->ssl = SSL_new(server->ssl_ctx);
        SSL_set_fd(sn->ssl, fd);
        SSL_set_accept_state(sn->ssl);
        sn->io = event_new(server->base, fd, EV_READ, handshake_cb, sn);
        event_add(sn->io, NULL);
        return;
    }
    sn->io = event_new(server->base, fd, EV_READ | EV_PERSIST | EV_ET, peek_cb, sn);
    event_add(sn->io, NULL);
}

static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    static const unsigned char ours[] = "\x02h2\x08http/1.1";
    if (SSL_select_next_proto((unsigned char **)out, outlen, ours, sizeof(ours) - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK; /* no ALPN in common: HTTP/1.1 */
    return SSL_TLSEXT_ERR_OK;
}

void rk_sniff_setup_alpn(struct ssl_ctx_st *ctx)
{
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, NULL);
}
