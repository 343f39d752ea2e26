/*
 * h2c.c — the plumbing the benchmarks' nghttp2 clients share; see h2c.h.
 */
#define _GNU_SOURCE
#include "h2c.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int h2c_connect(const char *host, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

ssize_t h2c_send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags,
                    void *user_data)
{
    (void)s, (void)flags;
    ssize_t n = send(*(const int *)user_data, data, len, MSG_NOSIGNAL);
    if (n < 0)
        return errno == EAGAIN ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
    return n;
}

nghttp2_session *h2c_session_new(void *user_data, nghttp2_on_header_callback on_header,
                                 nghttp2_on_data_chunk_recv_callback on_data,
                                 nghttp2_on_stream_close_callback on_close,
                                 nghttp2_on_frame_recv_callback on_frame_recv, int32_t window)
{
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_send_callback(cb, h2c_send_cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    if (on_frame_recv)
        nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session *s;
    nghttp2_session_client_new(&s, cb, user_data);
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry win = {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (uint32_t)window};
    nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, &win, window > 0 ? 1 : 0);
    if (window > 0)
        nghttp2_session_set_local_window_size(s, NGHTTP2_FLAG_NONE, 0, window);
    return s;
}

int h2c_pump(nghttp2_session *s, int fd, short revents)
{
    static uint8_t buf[65536];
    if (revents & (POLLIN | POLLERR | POLLHUP)) {
        for (;;) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n == 0)
                return -1;
            if (n < 0) {
                if (errno == EAGAIN)
                    break;
                return -1;
            }
            if (nghttp2_session_mem_recv(s, buf, (size_t)n) < 0)
                return -1;
        }
    }
    return nghttp2_session_send(s) == 0 ? 0 : -1;
}

double h2c_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int h2c_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
