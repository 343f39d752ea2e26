/*
 * backchannel.c — delivering logout tokens (see backchannel.h).
 *
 * A delivery moves between three states: waiting (in the queue, in order), running (one
 * evhttp connection and request, and a deadline timer) and backing off (the same timer, set
 * to the backoff). At most opt.in_flight run at once; when one ends, the queue is pumped.
 *
 * libevent's HTTP client may call the request's callback from inside evhttp_make_request()
 * (a connection refused at once) and must not see its connection freed from inside its own
 * callbacks. So the callback only records the answer and wakes the delivery's timer; the
 * attempt is judged, and its connection freed, from that timer's callback, where no evhttp
 * frame is on the stack. The same path handles the deadline: the connection is freed, which
 * drops its request without calling back.
 *
 * Nothing here logs the token or the body: a delivery carries the client id for logs.
 */
#include "identity/backchannel.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "identity/form.h"
#include "net/http_out.h"

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URI_MAX 1024
#define ANSWER_HEADERS_MAX 8192
#define ANSWER_BODY_MAX 65536
#define BACKOFF_MAX_MS 60000

typedef enum { WAITING, RUNNING, BACKING_OFF } delivery_state_t;

typedef struct delivery {
    rk_identity_backchannel_t *bc;
    struct delivery *prev, *next; /* every delivery: bc->all */
    struct delivery *queue_next;  /* waiting: bc->queue_head */
    delivery_state_t state;
    char *client_id;
    int https;
    char *host; /* a name, or an IP address without brackets */
    int host_is_ip;
    int port;
    char *host_header;
    char *target; /* path and query */
    char *body;
    size_t body_len;
    int attempts; /* made so far */
    struct evhttp_connection *conn;
    struct event *timer; /* deadline while running, backoff while backing off */
    int answered;        /* the request's callback ran for this attempt */
    int status;          /* its HTTP status; 0: no answer */
    const char *reason;  /* why there was no answer (static), or NULL */
} delivery_t;

struct rk_identity_backchannel {
    struct event_base *base;
    struct evdns_base *dns; /* NULL: no resolver, IP addresses only */
    SSL_CTX *ssl_ctx;
    rk_identity_backchannel_options_t opt;
    delivery_t *all;
    size_t n_all;
    delivery_t *queue_head, *queue_tail;
    int running;
};

static void pump(rk_identity_backchannel_t *bc);

static struct timeval tv_of(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

/* --- a delivery's life ------------------------------------------------------------------------ */

static void delivery_free(delivery_t *d)
{
    rk_identity_backchannel_t *bc = d->bc;
    if (d->prev)
        d->prev->next = d->next;
    else
        bc->all = d->next;
    if (d->next)
        d->next->prev = d->prev;
    bc->n_all--;
    if (d->conn)
        evhttp_connection_free(d->conn); /* drops its request without calling back */
    event_free(d->timer);
    OPENSSL_cleanse(d->body, d->body_len);
    free(d->body);
    free(d->client_id);
    free(d->host);
    free(d->host_header);
    free(d->target);
    free(d);
}

static void enqueue(delivery_t *d)
{
    rk_identity_backchannel_t *bc = d->bc;
    d->state = WAITING;
    d->queue_next = NULL;
    if (bc->queue_tail)
        bc->queue_tail->queue_next = d;
    else
        bc->queue_head = d;
    bc->queue_tail = d;
}

/* The attempt that just ended failed with status (0: no answer): back off, or give up. */
static void attempt_failed(delivery_t *d, int status, const char *reason)
{
    rk_identity_backchannel_t *bc = d->bc;
    if (d->attempts >= bc->opt.attempts) {
        rk_log_warn("back-channel logout failed", "{s:s, s:i, s:s, s:i}", "client_id", d->client_id,
                    "status", status, "reason", reason ? reason : "unexpected status", "attempts",
                    d->attempts);
        delivery_free(d);
        return;
    }
    long long ms = (long long)bc->opt.backoff_ms << (d->attempts - 1);
    if (ms > BACKOFF_MAX_MS)
        ms = BACKOFF_MAX_MS;
    rk_log_info("back-channel logout attempt failed; retrying", "{s:s, s:i, s:s, s:i, s:I}",
                "client_id", d->client_id, "status", status, "reason",
                reason ? reason : "unexpected status", "attempt", d->attempts, "retry_in_ms",
                (json_int_t)ms);
    d->state = BACKING_OFF;
    struct timeval tv = tv_of((int)ms);
    evtimer_add(d->timer, &tv);
}

/* The attempt ended: answered, or its deadline passed. Runs outside every evhttp callback. */
static void attempt_ended(delivery_t *d)
{
    rk_identity_backchannel_t *bc = d->bc;
    int status = d->answered ? d->status : 0;
    const char *reason = d->answered ? d->reason : "timeout";
    const char *tls = status == 0 && d->https ? rk_http_out_tls_failure(d->conn) : NULL;
    evhttp_connection_free(d->conn);
    d->conn = NULL;
    bc->running--;
    if (status == 200 || status == 204) {
        rk_log_info("back-channel logout delivered", "{s:s, s:i, s:i}", "client_id", d->client_id,
                    "status", status, "attempt", d->attempts);
        delivery_free(d);
    } else {
        attempt_failed(d, status, tls ? tls : status ? NULL : reason ? reason : "no answer");
    }
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    delivery_t *d = arg;
    rk_identity_backchannel_t *bc = d->bc;
    if (d->state == RUNNING)
        attempt_ended(d);
    else if (d->state == BACKING_OFF)
        enqueue(d);
    pump(bc);
}

static void error_cb(enum evhttp_request_error error, void *arg)
{
    delivery_t *d = arg;
    d->reason = rk_http_out_error_name(error);
}

/* The request's callback: record, and judge from the timer (see the file comment). */
static void answered_cb(struct evhttp_request *req, void *arg)
{
    delivery_t *d = arg;
    d->answered = 1;
    d->status = req ? evhttp_request_get_response_code(req) : 0;
    evtimer_del(d->timer);
    event_active(d->timer, EV_TIMEOUT, 1);
}

static void attempt_start(delivery_t *d)
{
    rk_identity_backchannel_t *bc = d->bc;
    d->state = RUNNING;
    d->attempts++;
    d->answered = 0;
    d->status = 0;
    d->reason = NULL;
    bc->running++;
    struct timeval deadline = tv_of(bc->opt.timeout_ms);
    evtimer_add(d->timer, &deadline);
    d->conn = rk_http_out_connect(bc->base, bc->dns, d->https ? bc->ssl_ctx : NULL, d->host,
                                  d->host_is_ip, d->port);
    if (!d->conn) {
        d->answered = 1;
        d->reason = "cannot set up the connection";
        evtimer_del(d->timer);
        event_active(d->timer, EV_TIMEOUT, 1);
        return;
    }
    evhttp_connection_set_timeout_tv(d->conn, &deadline);
    evhttp_connection_set_retries(d->conn, 0);
    evhttp_connection_set_max_headers_size(d->conn, ANSWER_HEADERS_MAX);
    evhttp_connection_set_max_body_size(d->conn, ANSWER_BODY_MAX);
    struct evhttp_request *req = evhttp_request_new(answered_cb, d);
    evhttp_request_set_error_cb(req, error_cb);
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Host", d->host_header);
    evhttp_add_header(headers, "Content-Type", "application/x-www-form-urlencoded");
    evhttp_add_header(headers, "Connection", "close");
    evhttp_add_header(headers, "User-Agent", "renkei-backchannel-logout/1");
    evbuffer_add(evhttp_request_get_output_buffer(req), d->body, d->body_len);
    if (evhttp_make_request(d->conn, req, EVHTTP_REQ_POST, d->target) != 0 && !d->answered) {
        /* The request is freed; the connection is judged and freed from the timer. */
        d->answered = 1;
        d->reason = "cannot send the request";
        evtimer_del(d->timer);
        event_active(d->timer, EV_TIMEOUT, 1);
    }
}

static void pump(rk_identity_backchannel_t *bc)
{
    while (bc->queue_head && bc->running < bc->opt.in_flight) {
        delivery_t *d = bc->queue_head;
        bc->queue_head = d->queue_next;
        if (!bc->queue_head)
            bc->queue_tail = NULL;
        d->queue_next = NULL;
        attempt_start(d);
    }
}

/* --- the service ---------------------------------------------------------------------------- */

/* Fills d's target from uri: RK_OK, or RK_EINVAL when it is not an absolute http(s) URI. */
static int parse_target(delivery_t *d, const char *uri)
{
    if (strlen(uri) > URI_MAX)
        return RK_EINVAL;
    struct evhttp_uri *parsed = evhttp_uri_parse_with_flags(uri, 0);
    if (!parsed)
        return RK_EINVAL;
    int rc = RK_EINVAL;
    const char *scheme = evhttp_uri_get_scheme(parsed);
    const char *host = evhttp_uri_get_host(parsed);
    const char *path = evhttp_uri_get_path(parsed);
    const char *query = evhttp_uri_get_query(parsed);
    int port = evhttp_uri_get_port(parsed);
    if (!scheme || !host || !*host || evhttp_uri_get_userinfo(parsed) ||
        evhttp_uri_get_fragment(parsed))
        goto out;
    if (strcasecmp(scheme, "https") == 0)
        d->https = 1;
    else if (strcasecmp(scheme, "http") != 0)
        goto out;
    size_t host_len = strlen(host);
    int bracketed = host[0] == '[' && host_len > 2 && host[host_len - 1] == ']';
    d->host = bracketed ? rk_xstrndup(host + 1, host_len - 2) : rk_xstrdup(host);
    unsigned char addr[sizeof(struct in6_addr)];
    d->host_is_ip = evutil_inet_pton(AF_INET, d->host, addr) == 1 ||
                    evutil_inet_pton(AF_INET6, d->host, addr) == 1;
    if (bracketed && !d->host_is_ip)
        goto out;
    int default_port = d->https ? 443 : 80;
    d->port = port > 0 ? port : default_port;
    if (d->port > 65535)
        goto out;
    char authority[300];
    if (d->port == default_port)
        snprintf(authority, sizeof(authority), "%s", host);
    else
        snprintf(authority, sizeof(authority), "%s:%d", host, d->port);
    d->host_header = rk_xstrdup(authority);
    size_t target_len = (path && *path ? strlen(path) : 1) + (query ? strlen(query) + 1 : 0) + 1;
    d->target = rk_xmalloc(target_len);
    snprintf(d->target, target_len, "%s%s%s", path && *path ? path : "/", query ? "?" : "",
             query ? query : "");
    rc = RK_OK;
out:
    evhttp_uri_free(parsed);
    return rc;
}

int rk_identity_backchannel_send(rk_identity_backchannel_t *bc, const char *client_id,
                                 const char *uri, const char *logout_token)
{
    if (bc->n_all >= bc->opt.max_deliveries) {
        rk_log_error("back-channel logout dropped: too many deliveries pending", "{s:s, s:I}",
                     "client_id", client_id, "pending", (json_int_t)bc->n_all);
        return RK_ETOOBIG;
    }
    delivery_t *d = rk_xcalloc(1, sizeof(*d));
    d->bc = bc;
    if (parse_target(d, uri) != RK_OK || (!d->host_is_ip && !bc->dns)) {
        rk_log_error("back-channel logout not sent: the URI cannot be used", "{s:s, s:s}",
                     "client_id", client_id, "reason",
                     d->host ? "no resolver for a host name" : "not an absolute http(s) URI");
        free(d->host);
        free(d->host_header);
        free(d->target);
        free(d);
        return RK_EINVAL;
    }
    d->client_id = rk_xstrdup(client_id);
    /* A JWS is base64url and dots, which need no encoding; encode anyway, it is cheap. */
    rk_arena_t *arena = rk_arena_new();
    const char *encoded = rk_identity_url_encode(arena, logout_token);
    size_t len = strlen(encoded);
    d->body_len = strlen("logout_token=") + len;
    d->body = rk_xmalloc(d->body_len + 1);
    memcpy(d->body, "logout_token=", 13);
    memcpy(d->body + 13, encoded, len + 1);
    OPENSSL_cleanse((void *)encoded, len);
    rk_arena_free(arena);
    d->timer = evtimer_new(bc->base, timer_cb, d);
    d->next = bc->all;
    if (bc->all)
        bc->all->prev = d;
    bc->all = d;
    bc->n_all++;
    enqueue(d);
    pump(bc);
    return RK_OK;
}

size_t rk_identity_backchannel_pending(const rk_identity_backchannel_t *bc)
{
    return bc->n_all;
}

rk_identity_backchannel_t *rk_identity_backchannel_new(struct event_base *base,
                                                       const rk_identity_backchannel_options_t *opt,
                                                       char *why, size_t why_len)
{
    rk_identity_backchannel_t *bc = rk_xcalloc(1, sizeof(*bc));
    bc->base = base;
    rk_identity_backchannel_options_t defaults = {
        .in_flight = RK_IDENTITY_BACKCHANNEL_IN_FLIGHT,
        .max_deliveries = RK_IDENTITY_BACKCHANNEL_MAX,
        .timeout_ms = RK_IDENTITY_BACKCHANNEL_TIMEOUT_MS,
        .attempts = RK_IDENTITY_BACKCHANNEL_ATTEMPTS,
        .backoff_ms = RK_IDENTITY_BACKCHANNEL_BACKOFF_MS,
    };
    bc->opt = opt ? *opt : defaults;
    bc->ssl_ctx = rk_http_out_tls_context();
    if (!bc->ssl_ctx) {
        snprintf(why, why_len, "identity: back-channel logout: cannot set up TLS: %s",
                 ERR_reason_error_string(ERR_get_error()));
        ERR_clear_error();
        rk_identity_backchannel_free(bc);
        return NULL;
    }
    /* Without a resolver, deliveries to IP addresses still work; names are refused. */
    bc->dns =
        evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (!bc->dns)
        rk_log_warn("back-channel logout: no DNS resolver (/etc/resolv.conf); only URIs with IP "
                    "addresses can be reached",
                    NULL);
    return bc;
}

void rk_identity_backchannel_free(rk_identity_backchannel_t *bc)
{
    if (!bc)
        return;
    while (bc->all)
        delivery_free(bc->all);
    if (bc->dns)
        evdns_base_free(bc->dns, 0);
    SSL_CTX_free(bc->ssl_ctx);
    free(bc);
}
