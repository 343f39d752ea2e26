/*
 * webhook.c — the webhook deliverer of worker 0 (see webhook.h).
 *
 * A delivery is one partner's batch in flight, from its claim to its end:
 *   claimed (leased in rk_partner_webhook) → page read (the feed's page statement) → signed →
 *   POSTed (one evhttp connection, deadline exchange.webhook_timeout_ms) → judged →
 *   delivered() or failed() stored → freed; after a success the partner is claimed again at
 *   once, in case more items wait.
 * Deliveries are independent of each other; the worker only claims (at most one claim query at
 * a time, woken by NOTIFY rk_feed and a poll) and keeps the list to free at shutdown.
 *
 * libevent's HTTP client may call back from inside evhttp_make_request() and must not see its
 * connection freed inside its own callbacks: the callbacks only record, and wake the
 * delivery's timer, from which the attempt is judged and the connection freed. The same timer
 * is the deadline. The answer's status is taken when its headers arrive; its body is read up
 * to RESPONSE_BODY_MAX and ignored (a longer one ends the connection, which still counts the
 * 2xx already seen). Redirects are never followed: a 3xx is a failure.
 *
 * Nothing here logs the URL (it may hold the receiver's own secret) or the body: the partner
 * id identifies a delivery in logs.
 */
#include "exchange/webhook.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "exchange/feed.h"
#include "exchange/webhook_sign.h"
#include "exchange/webhook_url.h"
#include "identity/identity.h"
#include "net/http_out.h"
#include "net/json_transcode.h"
#include "store/listen.h"

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOTIFY_CHANNEL "rk_feed"
#define STMT_CLAIM "exchange_webhook_claim"
#define STMT_DELIVERED "exchange_webhook_delivered"
#define STMT_FAILED "exchange_webhook_failed"
#define STMT_RELEASE "exchange_webhook_release"
#define POLL_MS_MAX 1000
#define IN_FLIGHT_MAX 64          /* partners delivered at once by one process */
#define LEASE_MARGIN_MS 5000      /* beyond two timeouts: the page read and the stores */
#define RESPONSE_HEADERS_MAX 8192 /* the answer is read only for its status */
#define RESPONSE_BODY_MAX 4096
#define RETRY_TIMER_MARGIN_MS 50 /* the retry's row is stored after the timer is set */

static const char sql_claim[] =
    "SELECT partner_id, tenant_id::text, url, cursor::text, failed_attempts"
    " FROM rk_partner_webhook_claim($1, $2::int, $3::int, $4)";
static const char sql_delivered[] =
    "SELECT rk_partner_webhook_delivered($1, $2, $3::bigint, $4::bigint)";
static const char sql_failed[] = "SELECT rk_partner_webhook_failed($1, $2, $3, $4::int)";
static const char sql_release[] = "SELECT rk_partner_webhook_release($1, $2)";

enum { CLAIM_PARTNER, CLAIM_TENANT, CLAIM_URL, CLAIM_CURSOR, CLAIM_FAILED };

typedef struct delivery {
    rk_exchange_webhooks_t *webhooks;
    struct delivery *next;
    char partner_id[40];
    char tenant_id[24];
    rk_exchange_webhook_url_t url;
    long long from;      /* the stored cursor: the batch holds the items after it */
    long long to;        /* the batch's last item */
    int failed_attempts; /* before this attempt */
    char delivery_id[40];
    char *body;
    size_t body_len;
    char *signature;
    struct evhttp_connection *conn;
    struct event *timer; /* the attempt's deadline, and where it is judged */
    int answered;        /* the request's callback ran */
    int status;          /* the answer's HTTP status; 0: none */
    const char *reason;  /* why there was no answer (static), or NULL */
} delivery_t;

struct rk_exchange_webhooks {
    rk_exchange_t *exchange;
    char holder[96]; /* this process in leases: host, pid, random */
    struct evdns_base *dns;
    SSL_CTX *ssl_ctx;
    struct event *poll;
    int poll_ms;
    struct event *retry; /* the earliest retry this process scheduled: claimed right then */
    int claiming;        /* a claim query is in flight */
    int claim_again;     /* something woke the worker meanwhile */
    delivery_t *deliveries;
    int n_deliveries;
};

static void claim(rk_exchange_webhooks_t *webhooks, const char *partner_id);

static const rk_config_t *config_of(const rk_exchange_webhooks_t *webhooks)
{
    return webhooks->exchange->app->cfg;
}

/* --- a delivery's life ------------------------------------------------------------------------ */

static void delivery_free(delivery_t *d)
{
    rk_exchange_webhooks_t *webhooks = d->webhooks;
    for (delivery_t **p = &webhooks->deliveries; *p; p = &(*p)->next)
        if (*p == d) {
            *p = d->next;
            break;
        }
    webhooks->n_deliveries--;
    if (d->conn)
        evhttp_connection_free(d->conn); /* drops its request without calling back */
    event_free(d->timer);
    free(d->body);
    free(d->signature);
    free(d);
}

static void stored_cb(const rk_store_result_t *res, void *arg)
{
    delivery_t *d = arg;
    if (res->status != RK_OK)
        rk_log_warn("storing a webhook delivery's outcome failed; its lease will expire",
                    "{s:s, s:s}", "partner", d->partner_id, "error", res->error ? res->error : "");
    delivery_free(d);
}

/* Stores a statement's outcome for d, then frees d. */
static void store(delivery_t *d, const char *stmt, int n, const char *const *values)
{
    if (rk_store_exec(d->webhooks->exchange->app->store, stmt, n, values, stored_cb, d) != RK_AGAIN)
        delivery_free(d); /* the lease expires; the batch is sent again later */
}

/*
 * The wait before the next attempt after failed failures in a row: retry_min doubled each
 * time, at most retry_max, then a random part of its second half taken off ("equal jitter"):
 * receivers that failed together do not come back together, and each wait still grows.
 */
static int backoff_ms(const rk_config_t *cfg, int failed)
{
    long long ms = cfg->exchange_webhook_retry_min_ms;
    for (int i = 1; i < failed && ms < cfg->exchange_webhook_retry_max_ms; i++)
        ms *= 2;
    if (ms > cfg->exchange_webhook_retry_max_ms)
        ms = cfg->exchange_webhook_retry_max_ms;
    unsigned int random = 0;
    if (RAND_bytes((unsigned char *)&random, sizeof(random)) != 1)
        random = 0;
    long long half = ms / 2;
    return (int)(ms - (half ? (long long)(random % (unsigned long long)(half + 1)) : 0));
}

static void delivery_failed(delivery_t *d, const char *error)
{
    int failed = d->failed_attempts + 1;
    int wait_ms = backoff_ms(config_of(d->webhooks), failed);
    rk_log_warn("webhook delivery failed; retrying later", "{s:s, s:s, s:s, s:i, s:i}", "partner",
                d->partner_id, "delivery_id", d->delivery_id, "error", error, "failed_attempts",
                failed, "retry_in_ms", wait_ms);
    char retry[16];
    snprintf(retry, sizeof(retry), "%d", wait_ms);
    rk_exchange_webhooks_t *webhooks = d->webhooks;
    int timer_ms = wait_ms + RETRY_TIMER_MARGIN_MS;
    struct timeval wait = {timer_ms / 1000, (timer_ms % 1000) * 1000}, now, due, pending;
    event_base_gettimeofday_cached(webhooks->exchange->app->base, &now);
    evutil_timeradd(&now, &wait, &due);
    if (!evtimer_pending(webhooks->retry, &pending) || evutil_timercmp(&due, &pending, <))
        evtimer_add(webhooks->retry, &wait); /* the poll finds the later ones */
    const char *values[] = {d->partner_id, webhooks->holder, error, retry};
    store(d, STMT_FAILED, 4, values);
}

static void delivered_cb(const rk_store_result_t *res, void *arg)
{
    delivery_t *d = arg;
    rk_exchange_webhooks_t *webhooks = d->webhooks;
    char partner_id[sizeof(d->partner_id)];
    snprintf(partner_id, sizeof(partner_id), "%s", d->partner_id);
    int moved = res->status == RK_OK && res->n_results == 1 && PQntuples(res->results[0]) == 1 &&
                strcmp(PQgetvalue(res->results[0], 0, 0), "t") == 0;
    if (!moved)
        rk_log_warn("a webhook batch was acknowledged but its cursor did not move (lease lost or "
                    "database away); it may be sent again",
                    "{s:s, s:s}", "partner", d->partner_id, "delivery_id", d->delivery_id);
    delivery_free(d);
    if (moved)
        claim(webhooks, partner_id); /* more may be waiting */
}

/* The attempt ended: answered, or its deadline passed. Runs outside every evhttp callback. */
static void attempt_ended(delivery_t *d)
{
    int status = d->status;
    const char *reason = d->answered ? d->reason : "no answer in time";
    const char *tls = status == 0 && d->url.https ? rk_http_out_tls_failure(d->conn) : NULL;
    if (d->conn)
        evhttp_connection_free(d->conn);
    d->conn = NULL;
    if (status >= 200 && status < 300) {
        rk_log_info("webhook delivered", "{s:s, s:s, s:i, s:I, s:I}", "partner", d->partner_id,
                    "delivery_id", d->delivery_id, "status", status, "from", (json_int_t)d->from,
                    "to", (json_int_t)d->to);
        char from[24], to[24];
        snprintf(from, sizeof(from), "%lld", d->from);
        snprintf(to, sizeof(to), "%lld", d->to);
        const char *values[] = {d->partner_id, d->webhooks->holder, from, to};
        if (rk_store_exec(d->webhooks->exchange->app->store, STMT_DELIVERED, 4, values,
                          delivered_cb, d) != RK_AGAIN)
            delivery_free(d);
        return;
    }
    char error[128];
    if (status >= 300 && status < 400)
        snprintf(error, sizeof(error), "HTTP %d: redirects are not followed", status);
    else if (status)
        snprintf(error, sizeof(error), "HTTP %d", status);
    else if (tls)
        snprintf(error, sizeof(error), "TLS: %s", tls);
    else
        snprintf(error, sizeof(error), "%s", reason ? reason : "no answer");
    delivery_failed(d, error);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    attempt_ended(arg);
}

static void error_cb(enum evhttp_request_error error, void *arg)
{
    delivery_t *d = arg;
    d->reason = rk_http_out_error_name(error);
}

/* The answer's headers are in: its status is all that counts. */
static int header_cb(struct evhttp_request *req, void *arg)
{
    delivery_t *d = arg;
    d->status = evhttp_request_get_response_code(req);
    return 0;
}

/* The request's callback: record, and judge from the timer (see the file comment). */
static void answered_cb(struct evhttp_request *req, void *arg)
{
    delivery_t *d = arg;
    d->answered = 1;
    if (req && evhttp_request_get_response_code(req) > 0)
        d->status = evhttp_request_get_response_code(req);
    evtimer_del(d->timer);
    event_active(d->timer, EV_TIMEOUT, 1);
}

/* Ends the attempt at once from the timer, as if it had been answered with reason. */
static void attempt_abort(delivery_t *d, const char *reason)
{
    d->answered = 1;
    d->reason = reason;
    evtimer_del(d->timer);
    event_active(d->timer, EV_TIMEOUT, 1);
}

static void post(delivery_t *d)
{
    rk_exchange_webhooks_t *webhooks = d->webhooks;
    int timeout_ms = config_of(webhooks)->exchange_webhook_timeout_ms;
    struct timeval deadline = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(d->timer, &deadline);
    if (d->url.https && !webhooks->ssl_ctx) {
        attempt_abort(d, "no TLS client context (see the hub's log at start)");
        return;
    }
    d->conn = rk_http_out_connect(webhooks->exchange->app->base, webhooks->dns,
                                  d->url.https ? webhooks->ssl_ctx : NULL, d->url.host,
                                  d->url.host_is_ip, d->url.port);
    if (!d->conn) {
        attempt_abort(d, "cannot set up the connection");
        return;
    }
    /* The timer is the deadline; libevent's own timeout only backs it up. */
    struct timeval backup = {deadline.tv_sec + 1, deadline.tv_usec};
    evhttp_connection_set_timeout_tv(d->conn, &backup);
    evhttp_connection_set_retries(d->conn, 0);
    evhttp_connection_set_max_headers_size(d->conn, RESPONSE_HEADERS_MAX);
    evhttp_connection_set_max_body_size(d->conn, RESPONSE_BODY_MAX);
    struct evhttp_request *req = evhttp_request_new(answered_cb, d);
    evhttp_request_set_error_cb(req, error_cb);
    evhttp_request_set_header_cb(req, header_cb);
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Host", d->url.host_header);
    evhttp_add_header(headers, "Content-Type", "application/json");
    evhttp_add_header(headers, "Connection", "close");
    evhttp_add_header(headers, "User-Agent", "renkei-webhook/1");
    evhttp_add_header(headers, "Renkei-Signature", d->signature);
    evhttp_add_header(headers, "Renkei-Delivery-Id", d->delivery_id);
    evhttp_add_header(headers, "Renkei-Partner-Id", d->partner_id);
    evbuffer_add(evhttp_request_get_output_buffer(req), d->body, d->body_len);
    if (evhttp_make_request(d->conn, req, EVHTTP_REQ_POST, d->url.target) != 0 && !d->answered)
        attempt_abort(d, "cannot send the request"); /* the request is freed */
}

/* The realm of tenant_id's active ES256 key and its kid, or NULL. */
static const rk_identity_realm_t *tenant_realm(const rk_exchange_webhooks_t *webhooks,
                                               const char *tenant_id)
{
    const rk_identity_realms_t *realms = webhooks->exchange->app->identity->realms;
    for (size_t i = 0; realms && i < realms->n; i++)
        if (strcmp(realms->realms[i].tenant_id, tenant_id) == 0)
            return &realms->realms[i];
    return NULL;
}

/* The batch's body (a ListFeedResponse) and signature; NULL when made, else why not. */
static const char *make_batch(delivery_t *d, const PGresult *r)
{
    rk_arena_t *arena = rk_arena_new();
    Renkei__V1__ListFeedResponse page = RENKEI__V1__LIST_FEED_RESPONSE__INIT;
    if (rk_exchange_feed_items(arena, r, &page.items, &page.n_items) != RK_OK) {
        rk_arena_free(arena);
        return "a feed item could not be read (see the hub's log)";
    }
    d->to = page.items[page.n_items - 1]->modified;
    page.next_cursor = page.items[page.n_items - 1]->cursor;
    json_t *json = rk_json_from_message(&page.base);
    char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    rk_arena_free(arena);
    if (!text)
        return "the batch could not be written as JSON";
    d->body = rk_xstrdup(text);
    d->body_len = strlen(text);
    free(text);
    const rk_identity_realm_t *realm = tenant_realm(d->webhooks, d->tenant_id);
    const cjose_jwk_t *key = realm ? realm->signing[RK_IDENTITY_ES256] : NULL;
    if (!key)
        return "the tenant's realm has no active ES256 key to sign with "
               "(identity.signing_algs must list ES256)";
    const char *why = NULL;
    d->signature =
        rk_exchange_webhook_sign(key, realm->signing_kid[RK_IDENTITY_ES256], d->delivery_id,
                                 (long long)time(NULL), d->body, d->body_len, &why);
    return d->signature ? NULL : why;
}

static void page_cb(const rk_store_result_t *res, void *arg)
{
    delivery_t *d = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        delivery_free(d); /* the database is away: the lease expires, the poll claims again */
        return;
    }
    if (PQntuples(res->results[0]) == 0) { /* claimed with items, and they are gone */
        const char *values[] = {d->partner_id, d->webhooks->holder};
        store(d, STMT_RELEASE, 2, values);
        return;
    }
    const char *why = make_batch(d, res->results[0]);
    if (why) {
        delivery_failed(d, why);
        return;
    }
    post(d);
}

/* Starts delivering the claimed row i of r. */
static void delivery_start(rk_exchange_webhooks_t *webhooks, const PGresult *r, int i)
{
    delivery_t *d = rk_xcalloc(1, sizeof(*d));
    d->webhooks = webhooks;
    d->next = webhooks->deliveries;
    webhooks->deliveries = d;
    webhooks->n_deliveries++;
    d->timer = evtimer_new(webhooks->exchange->app->base, timer_cb, d);
    snprintf(d->partner_id, sizeof(d->partner_id), "%s", PQgetvalue(r, i, CLAIM_PARTNER));
    snprintf(d->tenant_id, sizeof(d->tenant_id), "%s", PQgetvalue(r, i, CLAIM_TENANT));
    d->from = strtoll(PQgetvalue(r, i, CLAIM_CURSOR), NULL, 10);
    d->failed_attempts = atoi(PQgetvalue(r, i, CLAIM_FAILED));
    unsigned char random[16];
    if (RAND_bytes(random, sizeof(random)) != 1) {
        delivery_failed(d, "no random bytes for the delivery id");
        return;
    }
    int n = snprintf(d->delivery_id, sizeof(d->delivery_id), "wd_");
    for (size_t k = 0; k < sizeof(random); k++)
        n += snprintf(d->delivery_id + n, sizeof(d->delivery_id) - (size_t)n, "%02x", random[k]);
    const char *why = NULL;
    if (rk_exchange_webhook_url_parse(PQgetvalue(r, i, CLAIM_URL), &d->url, &why) != RK_OK) {
        delivery_failed(d, why); /* stored before the rules: set it again */
        return;
    }
    char cursor[24], limit[16];
    snprintf(cursor, sizeof(cursor), "%lld", d->from);
    snprintf(limit, sizeof(limit), "%d", config_of(webhooks)->exchange_webhook_batch);
    const char *values[] = {d->tenant_id, cursor, NULL, limit};
    if (rk_store_exec(webhooks->exchange->app->store, RK_EXCHANGE_FEED_STMT_PAGE, 4, values,
                      page_cb, d) != RK_AGAIN)
        delivery_free(d);
}

/* --- claiming --------------------------------------------------------------------------------- */

static int delivering(const rk_exchange_webhooks_t *webhooks, const char *partner_id)
{
    for (const delivery_t *d = webhooks->deliveries; d; d = d->next)
        if (strcmp(d->partner_id, partner_id) == 0)
            return 1;
    return 0;
}

static void claimed_cb(const rk_store_result_t *res, void *arg)
{
    rk_exchange_webhooks_t *webhooks = arg;
    webhooks->claiming = 0;
    if (res->status == RK_OK && res->n_results == 1) {
        const PGresult *r = res->results[0];
        for (int i = 0; i < PQntuples(r); i++)
            if (!delivering(webhooks, PQgetvalue(r, i, CLAIM_PARTNER)))
                delivery_start(webhooks, r, i);
    } else if (res->status == RK_EINVAL) {
        rk_log_error("claiming webhooks failed", "{s:s}", "error", res->error);
    }
    if (webhooks->claim_again) {
        webhooks->claim_again = 0;
        claim(webhooks, NULL);
    }
}

/* Claims what is due: every partner (partner_id NULL) or one. One claim runs at a time. */
static void claim(rk_exchange_webhooks_t *webhooks, const char *partner_id)
{
    if (webhooks->claiming || webhooks->n_deliveries >= IN_FLIGHT_MAX) {
        webhooks->claim_again = 1;
        return;
    }
    const rk_config_t *cfg = config_of(webhooks);
    char lease[16], limit[16];
    snprintf(lease, sizeof(lease), "%d", 2 * cfg->exchange_webhook_timeout_ms + LEASE_MARGIN_MS);
    snprintf(limit, sizeof(limit), "%d", IN_FLIGHT_MAX - webhooks->n_deliveries);
    const char *values[] = {webhooks->holder, lease, limit, partner_id};
    webhooks->claiming = 1;
    if (rk_store_exec(webhooks->exchange->app->store, STMT_CLAIM, 4, values, claimed_cb,
                      webhooks) != RK_AGAIN)
        webhooks->claiming = 0;
}

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_exchange_webhooks_t *webhooks = arg;
    if (!webhooks->exchange->app->server || !webhooks->exchange->app->server->draining)
        claim(webhooks, NULL);
    struct timeval tv = {webhooks->poll_ms / 1000, (webhooks->poll_ms % 1000) * 1000};
    evtimer_add(webhooks->poll, &tv);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    claim(arg, NULL);
}

static void changed_cb(const char *channel, const char *payload, void *arg)
{
    (void)channel;
    (void)payload;
    claim(arg, NULL);
}

static void listening_cb(const char *channel, void *arg)
{
    (void)channel;
    claim(arg, NULL);
}

/* --- the worker ------------------------------------------------------------------------------- */

rk_exchange_webhooks_t *rk_exchange_webhooks_new(rk_exchange_t *exchange,
                                                 struct rk_store_listener *listener)
{
    rk_exchange_webhooks_t *webhooks = rk_xcalloc(1, sizeof(*webhooks));
    webhooks->exchange = exchange;
    rk_app_t *app = exchange->app;
    rk_store_prepare(app->store, STMT_CLAIM, sql_claim);
    rk_store_prepare(app->store, STMT_DELIVERED, sql_delivered);
    rk_store_prepare(app->store, STMT_FAILED, sql_failed);
    rk_store_prepare(app->store, STMT_RELEASE, sql_release);
    if (app->worker_index != 0)
        return webhooks;
    char host[64] = "";
    unsigned char random[4] = {0};
    gethostname(host, sizeof(host) - 1);
    RAND_bytes(random, sizeof(random));
    snprintf(webhooks->holder, sizeof(webhooks->holder), "%s:%ld:%02x%02x%02x%02x", host,
             (long)getpid(), random[0], random[1], random[2], random[3]);
    webhooks->dns = evdns_base_new(app->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    if (!(webhooks->ssl_ctx = rk_http_out_tls_context()))
        rk_log_warn("webhooks: no TLS client context; https webhooks will fail", NULL);
    int retry_min = app->cfg->exchange_webhook_retry_min_ms;
    webhooks->poll_ms = retry_min < POLL_MS_MAX ? retry_min : POLL_MS_MAX;
    webhooks->poll = evtimer_new(app->base, poll_cb, webhooks);
    webhooks->retry = evtimer_new(app->base, retry_cb, webhooks);
    struct timeval first = {1, 0}; /* the pool has connected by then */
    evtimer_add(webhooks->poll, &first);
    rk_store_listen(listener, NOTIFY_CHANNEL, changed_cb, listening_cb, webhooks);
    return webhooks;
}

void rk_exchange_webhooks_free(rk_exchange_webhooks_t *webhooks)
{
    if (!webhooks)
        return;
    while (webhooks->deliveries)
        delivery_free(webhooks->deliveries);
    if (webhooks->poll)
        event_free(webhooks->poll);
    if (webhooks->retry)
        event_free(webhooks->retry);
    if (webhooks->dns)
        evdns_base_free(webhooks->dns, 0);
    SSL_CTX_free(webhooks->ssl_ctx);
    free(webhooks);
}
