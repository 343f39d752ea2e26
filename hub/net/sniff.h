/*
 * sniff.h — decides which front end a new connection gets.
 *
 * Plain TCP: peeks (MSG_PEEK, edge-triggered, under one absolute deadline) at the first bytes;
 * the HTTP/2 connection preface means h2c with prior knowledge, anything else HTTP/1.1.
 * TLS: drives the handshake itself (so that no bufferevent restarts it) and follows the
 * protocol ALPN selected: "h2" or HTTP/1.1. See ../shared/FIELD-NOTES.md for why.
 */
#ifndef RK_NET_SNIFF_H
#define RK_NET_SNIFF_H

#include "net/server.h"

#include <event2/util.h>

/** Takes ownership of an accepted socket and hands it to HTTP/1.1 or HTTP/2. */
void rk_sniff_accept(rk_server_t *server, evutil_socket_t fd, const char *peer);
/** Configures ALPN ("h2", "http/1.1") on the server's TLS context. */
void rk_sniff_setup_alpn(struct ssl_ctx_st *ctx);

#endif
