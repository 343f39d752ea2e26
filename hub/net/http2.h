/*
 * http2.h — the HTTP/2 front end: nghttp2 server sessions on bufferevents.
 *
 * Each stream becomes one rk_request_t for the same handlers the HTTP/1.1 front end drives.
 * Responses may carry trailers (gRPC's grpc-status): sent after the body, or in the HEADERS
 * frame itself when there is no body (a trailers-only response). The connection preface is
 * read by nghttp2 itself, so the sniffer only peeks at it.
 *
 * Streams whose client resets them, or whose connection closes, detach their request: the
 * handler finishes into nothing. While streams are open the server PINGs the client every
 * limits.idle_timeout_ms and closes a connection whose PING went unanswered. A drain sends GOAWAY
 * with the last stream accepted; streams already accepted are answered, then the connection closes.
 */
#ifndef RK_NET_HTTP2_H
#define RK_NET_HTTP2_H

#include "net/server.h"

struct bufferevent;

/** Takes ownership of bev (plain or TLS) whose peer speaks HTTP/2. */
void rk_http2_accept(rk_server_t *server, struct bufferevent *bev, const char *peer);

#endif
