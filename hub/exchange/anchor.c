/*
 * anchor.c — timestamping chain heads at the TSA (see anchor.h).
 */
#include "exchange/anchor.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "exchange/tsa.h"
#include "identity/key_store.h"

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_DUE "exchange_anchor_due"
#define STMT_STORE "exchange_anchor_store"
#define TSA_TIMEOUT_MS_MAX 10000

static const char sql_due[] =
    "SELECT tenant_id::text, head_sequence::text, head_hash FROM rk_exchange_anchor_due()";
static const char sql_store[] =
    "SELECT rk_exchange_anchor_store($1::bigint, $2::bigint, $3, decode($4, 'hex'), $5,"
    " $6::timestamptz)";

struct rk_exchange_anchor {
    rk_exchange_t *exchange;
    struct evdns_base *dns;
    char *host;
    int port;
    char *target;  /* path and query */
    int running;   /* a tick is in progress */
    PGresult *due; /* the tick's chains */
    int index;     /* the chain being anchored */
    unsigned char hash[32];
    uint64_t nonce;
    struct evhttp_connection *conn;
    struct event *judge; /* judges the answer outside evhttp's callbacks */
    int answered;
    int http_status;
    const char *http_error;
    unsigned char *reply;
    size_t reply_len;
};

static void anchor_next(rk_exchange_anchor_t *anchor);

static void tick_end(rk_exchange_anchor_t *anchor, const char *failure)
{
    if (failure)
        rk_log_warn("exchange anchoring failed; retrying next interval", "{s:s, s:s}", "tsa_url",
                    anchor->exchange->app->cfg->exchange_tsa_url, "error", failure);
    PQclear(anchor->due);
    anchor->due = NULL;
    anchor->running = 0;
}

static void stored_cb(const rk_store_result_t *res, void *arg)
{
    rk_exchange_anchor_t *anchor = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        tick_end(anchor, "storing the checkpoint failed (database)");
        return;
    }
    if (strcmp(PQgetvalue(res->results[0], 0, 0), "t") != 0) {
        tick_end(anchor, "the anchored entry's hash differs from the log's");
        return;
    }
    anchor->index++;
    anchor_next(anchor);
}

/* The TSA answered (or failed): judge it, outside evhttp's callbacks. */
static void judge_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_exchange_anchor_t *anchor = arg;
    evhttp_connection_free(anchor->conn); /* drops a request still in flight */
    anchor->conn = NULL;
    unsigned char *reply = anchor->reply;
    anchor->reply = NULL;
    if (!anchor->answered || anchor->http_status != 200) {
        char failure[128];
        snprintf(failure, sizeof(failure), "the TSA %s%s",
                 anchor->answered ? "answered HTTP " : "did not answer: ",
                 anchor->answered ? "" : anchor->http_error);
        if (anchor->answered)
            snprintf(failure + strlen(failure), sizeof(failure) - strlen(failure), "%d",
                     anchor->http_status);
        free(reply);
        tick_end(anchor, failure);
        return;
    }
    rk_exchange_tsa_stamp_t stamp;
    const char *why = NULL;
    int rc = rk_exchange_tsa_check_reply(anchor->exchange->tsa_store, reply, anchor->reply_len,
                                         anchor->hash, anchor->nonce, &stamp, &why);
    free(reply);
    if (rc != RK_OK) {
        tick_end(anchor, why);
        return;
    }
    char *token_hex = rk_identity_hex(stamp.token, stamp.token_len);
    free(stamp.token);
    const char *values[] = {PQgetvalue(anchor->due, anchor->index, 0),
                            PQgetvalue(anchor->due, anchor->index, 1),
                            PQgetvalue(anchor->due, anchor->index, 2),
                            token_hex,
                            stamp.tsa_name,
                            stamp.gen_time};
    rc = rk_store_exec(anchor->exchange->app->store, STMT_STORE, 6, values, stored_cb, anchor);
    free(token_hex);
    if (rc != RK_AGAIN)
        tick_end(anchor, "the database is not reachable");
}

static void answered_cb(struct evhttp_request *req, void *arg)
{
    rk_exchange_anchor_t *anchor = arg;
    if (req && evhttp_request_get_response_code(req) > 0) {
        anchor->answered = 1;
        anchor->http_status = evhttp_request_get_response_code(req);
        struct evbuffer *body = evhttp_request_get_input_buffer(req);
        anchor->reply_len = evbuffer_get_length(body);
        anchor->reply = rk_xmalloc(anchor->reply_len ? anchor->reply_len : 1);
        evbuffer_remove(body, anchor->reply, anchor->reply_len);
    } else if (!anchor->http_error) {
        anchor->http_error = "no response";
    }
    event_active(anchor->judge, EV_TIMEOUT, 0);
}

static void error_cb(enum evhttp_request_error error, void *arg)
{
    rk_exchange_anchor_t *anchor = arg;
    anchor->http_error = error == EVREQ_HTTP_TIMEOUT          ? "timeout"
                         : error == EVREQ_HTTP_EOF            ? "connection closed"
                         : error == EVREQ_HTTP_INVALID_HEADER ? "invalid reply"
                         : error == EVREQ_HTTP_DATA_TOO_LONG  ? "reply too long"
                                                              : "connection failed";
}

/* POSTs the TimeStampReq for the chain at anchor->index, or ends the tick when none is left. */
static void anchor_next(rk_exchange_anchor_t *anchor)
{
    if (anchor->index >= PQntuples(anchor->due)) {
        tick_end(anchor, NULL);
        return;
    }
    const char *hex = PQgetvalue(anchor->due, anchor->index, 2);
    long n = 0;
    unsigned char *hash = OPENSSL_hexstr2buf(hex, &n);
    if (!hash || n != 32) {
        OPENSSL_free(hash);
        tick_end(anchor, "a chain head's hash is not 64 hex digits");
        return;
    }
    memcpy(anchor->hash, hash, 32);
    OPENSSL_free(hash);
    unsigned char *der = NULL;
    size_t der_len = 0;
    if (RAND_bytes((unsigned char *)&anchor->nonce, sizeof(anchor->nonce)) != 1 ||
        rk_exchange_tsa_request(anchor->hash, anchor->nonce, &der, &der_len) != RK_OK) {
        tick_end(anchor, "cannot build the TimeStampReq");
        return;
    }
    anchor->answered = 0;
    anchor->http_status = 0;
    anchor->http_error = NULL;
    int timeout_ms = anchor->exchange->app->cfg->exchange_anchor_interval_ms;
    if (timeout_ms > TSA_TIMEOUT_MS_MAX)
        timeout_ms = TSA_TIMEOUT_MS_MAX;
    struct timeval timeout = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    anchor->conn = evhttp_connection_base_new(anchor->exchange->app->base, anchor->dns,
                                              anchor->host, (unsigned short)anchor->port);
    evhttp_connection_set_timeout_tv(anchor->conn, &timeout);
    evhttp_connection_set_retries(anchor->conn, 0);
    evhttp_connection_set_max_body_size(anchor->conn, RK_EXCHANGE_TSA_REPLY_MAX);
    struct evhttp_request *req = evhttp_request_new(answered_cb, anchor);
    evhttp_request_set_error_cb(req, error_cb);
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Host", anchor->host);
    evhttp_add_header(headers, "Content-Type", "application/timestamp-query");
    evhttp_add_header(headers, "Accept", "application/timestamp-reply");
    evhttp_add_header(headers, "Connection", "close");
    evbuffer_add(evhttp_request_get_output_buffer(req), der, der_len);
    OPENSSL_free(der);
    if (evhttp_make_request(anchor->conn, req, EVHTTP_REQ_POST, anchor->target) != 0 &&
        !anchor->answered) {
        anchor->http_error = "cannot send the request";
        event_active(anchor->judge, EV_TIMEOUT, 0);
    }
}

static void due_cb(const rk_store_result_t *res, void *arg)
{
    rk_exchange_anchor_t *anchor = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        tick_end(anchor, "reading the chain heads failed (database)");
        return;
    }
    anchor->due = PQcopyResult(res->results[0], PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    anchor->index = 0;
    anchor_next(anchor);
}

void rk_exchange_anchor_tick(rk_exchange_anchor_t *anchor)
{
    if (anchor->running)
        return;
    anchor->running = 1;
    if (rk_store_exec(anchor->exchange->app->store, STMT_DUE, 0, NULL, due_cb, anchor) != RK_AGAIN)
        tick_end(anchor, "the database is not reachable");
}

rk_exchange_anchor_t *rk_exchange_anchor_new(rk_exchange_t *exchange, char *why, size_t why_len)
{
    const char *url = exchange->app->cfg->exchange_tsa_url;
    struct evhttp_uri *uri = evhttp_uri_parse_with_flags(url, 0);
    const char *scheme = uri ? evhttp_uri_get_scheme(uri) : NULL;
    const char *host = uri ? evhttp_uri_get_host(uri) : NULL;
    if (!scheme || strcmp(scheme, "http") != 0 || !host || !*host || evhttp_uri_get_userinfo(uri) ||
        evhttp_uri_get_fragment(uri)) {
        snprintf(why, why_len, "exchange.tsa_url: must be http://host[:port][/path]");
        if (uri)
            evhttp_uri_free(uri);
        return NULL;
    }
    rk_exchange_anchor_t *anchor = rk_xcalloc(1, sizeof(*anchor));
    anchor->exchange = exchange;
    anchor->host = rk_xstrdup(host);
    anchor->port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 80;
    const char *path = evhttp_uri_get_path(uri);
    const char *query = evhttp_uri_get_query(uri);
    size_t len = strlen(path && *path ? path : "/") + (query ? strlen(query) + 1 : 0) + 1;
    anchor->target = rk_xmalloc(len);
    snprintf(anchor->target, len, "%s%s%s", path && *path ? path : "/", query ? "?" : "",
             query ? query : "");
    evhttp_uri_free(uri);
    anchor->dns = evdns_base_new(exchange->app->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    anchor->judge = event_new(exchange->app->base, -1, 0, judge_cb, anchor);
    rk_store_prepare(exchange->app->store, STMT_DUE, sql_due);
    rk_store_prepare(exchange->app->store, STMT_STORE, sql_store);
    return anchor;
}

void rk_exchange_anchor_free(rk_exchange_anchor_t *anchor)
{
    if (!anchor)
        return;
    if (anchor->conn)
        evhttp_connection_free(anchor->conn);
    event_free(anchor->judge);
    if (anchor->dns)
        evdns_base_free(anchor->dns, 0);
    PQclear(anchor->due);
    free(anchor->reply);
    free(anchor->host);
    free(anchor->target);
    free(anchor);
}
