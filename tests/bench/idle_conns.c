/*
 * idle_conns.c — opens N keep-alive connections to an HTTP/1.1 server, sends one request on
 * each, reads each whole response (status line, headers, Content-Length body), then keeps
 * every connection open and idle until the process gets SIGTERM or SIGINT.
 *
 * Used by tests/bench/http to measure a server's memory at many idle connections. Compiled
 * on the fly by that script: cc -O2 -o idle_conns idle_conns.c
 *
 * Usage: idle_conns HOST PORT N PATH
 * Prints "ready OK FAILED" on stdout once every connection has its response (or failed), then
 * waits. Connections are opened at most 500 at a time (so the listen backlog never overflows).
 * Exit status: 0 if all N got a 200 response, 1 otherwise, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_OPENING 500
#define TIMEOUT_S 60

enum { ST_CONNECTING, ST_READING, ST_DONE, ST_FAILED };

typedef struct conn {
    int fd;
    int state;
    size_t got;
    char buf[1024]; /* the head; the body is only counted */
    long body_left; /* -1 until the head is complete */
} conn_t;

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 when the response is complete, 0 when more is needed, -1 on error. */
static int consume(conn_t *c, const char *data, size_t n)
{
    if (c->body_left < 0) {
        size_t room = sizeof(c->buf) - 1 - c->got;
        size_t take = n < room ? n : room;
        memcpy(c->buf + c->got, data, take);
        c->got += take;
        c->buf[c->got] = '\0';
        char *end = strstr(c->buf, "\r\n\r\n");
        if (!end)
            return c->got >= sizeof(c->buf) - 1 ? -1 : 0;
        if (strncmp(c->buf, "HTTP/1.1 200", 12) != 0)
            return -1;
        char *cl = strcasestr(c->buf, "\r\ncontent-length:");
        if (!cl || cl > end)
            return -1;
        long len = strtol(cl + 17, NULL, 10);
        size_t head = (size_t)(end + 4 - c->buf);
        /* Body bytes already here: those in this chunk after the head. */
        size_t before = c->got - take; /* head bytes from earlier chunks */
        size_t body_here = before + n - head;
        c->body_left = len - (long)body_here;
    } else {
        c->body_left -= (long)n;
    }
    if (c->body_left < 0)
        return -1; /* more than one response: not expected */
    return c->body_left == 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: idle_conns HOST PORT N PATH\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]);
    int n = atoi(argv[3]);
    const char *path = argv[4];
    if (n <= 0 || port <= 0) {
        fprintf(stderr, "idle_conns: bad N or PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "idle_conns: HOST must be an IPv4 address\n");
        return 2;
    }
    char req[512];
    int req_len =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, host, port);

    conn_t *conns = calloc((size_t)n, sizeof(conn_t));
    int ep = epoll_create1(0);
    if (!conns || ep < 0) {
        perror("idle_conns");
        return 1;
    }
    int next = 0, opening = 0, ok = 0, failed = 0;
    double deadline = now_s() + TIMEOUT_S;
    struct epoll_event evs[256];
    while (ok + failed < n && !stop) {
        while (next < n && opening < MAX_OPENING) {
            conn_t *c = &conns[next];
            c->body_left = -1;
            c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            if (c->fd < 0) {
                fprintf(stderr, "idle_conns: socket (connection %d): %s\n", next, strerror(errno));
                c->state = ST_FAILED;
                failed++;
                next++;
                continue;
            }
            int one = 1;
            setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
                fprintf(stderr, "idle_conns: connect (connection %d): %s\n", next, strerror(errno));
                close(c->fd);
                c->fd = -1;
                c->state = ST_FAILED;
                failed++;
                next++;
                continue;
            }
            c->state = ST_CONNECTING;
            struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)next};
            epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
            opening++;
            next++;
        }
        if (now_s() > deadline) {
            fprintf(stderr, "idle_conns: timed out with %d of %d connections answered\n", ok, n);
            break;
        }
        int k = epoll_wait(ep, evs, 256, 1000);
        for (int i = 0; i < k; i++) {
            conn_t *c = &conns[evs[i].data.u32];
            if (c->state == ST_CONNECTING) {
                int err = 0;
                socklen_t len = sizeof(err);
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err || send(c->fd, req, (size_t)req_len, 0) != req_len) {
                    fprintf(stderr, "idle_conns: connect/send: %s\n", strerror(err ? err : errno));
                    goto fail;
                }
                c->state = ST_READING;
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[i].data.u32};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                continue;
            }
            if (c->state != ST_READING)
                continue;
            char data[8192];
            ssize_t r = recv(c->fd, data, sizeof(data), 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r <= 0) {
                fprintf(stderr, "idle_conns: closed before the response ended\n");
                goto fail;
            }
            int done = consume(c, data, (size_t)r);
            if (done < 0) {
                fprintf(stderr, "idle_conns: unexpected response: %.60s\n", c->buf);
                goto fail;
            }
            if (done) {
                c->state = ST_DONE;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); /* idle from now on */
                ok++;
                opening--;
            }
            continue;
        fail:
            epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
            close(c->fd);
            c->fd = -1;
            c->state = ST_FAILED;
            failed++;
            opening--;
        }
    }
    printf("ready %d %d\n", ok, n - ok);
    fflush(stdout);

    /* Hold every connection until a signal; then count those the server closed meanwhile. */
    while (!stop)
        sleep(1);
    int still_open = 0;
    for (int i = 0; i < n; i++) {
        if (conns[i].state != ST_DONE)
            continue;
        char b[1];
        ssize_t r = recv(conns[i].fd, b, 1, MSG_DONTWAIT | MSG_PEEK);
        if (r < 0 && errno == EAGAIN)
            still_open++;
        close(conns[i].fd);
    }
    printf("closed %d (still open at the end: %d)\n", ok, still_open);
    free(conns);
    close(ep);
    return ok == n ? 0 : 1;
}
