/*
 * h2c.h — the plumbing the benchmarks' nghttp2 clients share (grpc_client.c, facility_client.c):
 * a non-blocking TCP connection to an IPv4 address, a client session on it, one read and
 * write turn of a session, a monotonic clock and an order for latency samples. Compiled
 * with each client by its script: cc ... CLIENT.c h2c.c -lnghttp2
 */
#ifndef RENKEI_BENCH_H2C_H
#define RENKEI_BENCH_H2C_H

#include <nghttp2/nghttp2.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A connected, non-blocking TCP socket with TCP_NODELAY to HOST (dotted IPv4) : PORT, or -1. */
int h2c_connect(const char *host, int port);

/* nghttp2's send callback: user_data must point to a struct whose first member is the socket
 * (int fd). */
ssize_t h2c_send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags,
                    void *user_data);

/* A client session whose user_data is a struct starting with the socket, with these callbacks
 * (on_frame_recv may be NULL); its SETTINGS are queued, with INITIAL_WINDOW_SIZE and the
 * connection's window raised to window bytes when window > 0 (nghttp2's 64 KiB otherwise). */
nghttp2_session *h2c_session_new(void *user_data, nghttp2_on_header_callback on_header,
                                 nghttp2_on_data_chunk_recv_callback on_data,
                                 nghttp2_on_stream_close_callback on_close,
                                 nghttp2_on_frame_recv_callback on_frame_recv, int32_t window);

/* Reads what arrived on fd when revents says so (until EAGAIN), then sends what the session
 * has; -1 when the connection is gone or the session failed. */
int h2c_pump(nghttp2_session *s, int fd, short revents);

/* CLOCK_MONOTONIC in seconds. */
double h2c_now(void);

/* qsort order of doubles. */
int h2c_cmp_double(const void *a, const void *b);

#endif
