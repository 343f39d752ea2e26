/*
 * http1.h — the HTTP/1.1 front end: bytes on a bufferevent in, rk_request_t out.
 *
 * Parsing is Debian's libhttp-parser. Requests on one connection are answered in order
 * (pipelining): the parser pauses at the end of each message and resumes when its response
 * has been written. Keep-alive, bounded headers and body, header and idle timeouts, and a
 * write timeout for clients that do not read.
 */
#ifndef RK_NET_HTTP1_H
#define RK_NET_HTTP1_H

#include "net/server.h"

struct bufferevent;

/** Takes ownership of bev (plain or TLS) for a newly accepted connection. */
void rk_http1_accept(rk_server_t *server, struct bufferevent *bev, const char *peer);

#endif
