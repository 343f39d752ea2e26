/*
 * pool.c — the pipelined libpq pool behind pool.h.
 *
 * Each connection is a small state machine: DOWN → CONNECTING (PQconnectPoll driven by
 * socket events; the socket may change between steps, so the event is rebuilt each step) →
 * READY (pipeline mode, non-blocking). Work items queue per connection in the order they
 * were sent; results are matched to the head item until its PGRES_PIPELINE_SYNC arrives.
 *
 * A broken connection is never torn down from inside a send or a result callback: it is
 * marked and reset from its own event, so callers may issue queries from callbacks freely.
 */
#include "store/pool.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESULTS 16
#define MAX_WAITING 100000

typedef enum { CONN_DOWN, CONN_CONNECTING, CONN_READY } conn_state_t;

/* What a statement spec sends. */
enum { STMT_SQL = 0, STMT_PREPARED = 1, STMT_PREPARE = 2 };

typedef struct stmt_spec {
    int kind;   /* STMT_*: SQL text with parameters, a prepared statement, or a PREPARE */
    char *text; /* statement name or SQL */
    int n_params;
    char **values;
} stmt_spec_t;

typedef struct work_item {
    struct work_item *next;
    rk_store_cb cb;
    void *arg;
    int internal; /* the PREPAREs sent on connect */
    stmt_spec_t *stmts;
    int n_stmts;
    PGresult *results[MAX_RESULTS];
    int n_results;
    PGresult *error; /* first failure */
} work_item_t;

typedef struct item_queue {
    work_item_t *head, *tail;
    int length;
} item_queue_t;

typedef struct store_conn {
    rk_store_t *store;
    int index;
    conn_state_t state;
    PGconn *pg;
    struct event *read_ev, *write_ev;
    struct event *retry_timer; /* reconnect backoff, connect timeout, deferred reset */
    int backoff_ms;
    int broken;
    item_queue_t inflight;
} store_conn_t;

typedef struct prepared_stmt {
    char *name, *sql;
} prepared_stmt_t;

struct rk_store {
    struct event_base *base;
    rk_store_options_t options;
    char *conninfo;
    store_conn_t *conns;
    prepared_stmt_t *prepared;
    int n_prepared;
    item_queue_t waiting; /* every ready connection at full depth */
    unsigned long long completed, failed, refused;
    int freeing;
};

struct rk_store_batch {
    rk_store_t *store;
    work_item_t *item;
};

static void conn_connect(store_conn_t *c);
static void conn_reset(store_conn_t *c, const char *why);
static void conn_dispatch_waiting(rk_store_t *s);

static void queue_push(item_queue_t *q, work_item_t *item)
{
    item->next = NULL;
    if (q->tail)
        q->tail->next = item;
    else
        q->head = item;
    q->tail = item;
    q->length++;
}

static work_item_t *queue_pop(item_queue_t *q)
{
    work_item_t *item = q->head;
    if (item) {
        q->head = item->next;
        if (!q->head)
            q->tail = NULL;
        q->length--;
    }
    return item;
}

static work_item_t *item_new(rk_store_cb cb, void *arg)
{
    work_item_t *item = rk_xcalloc(1, sizeof(*item));
    item->cb = cb;
    item->arg = arg;
    return item;
}

/* For STMT_PREPARE, text is the statement name and values[0] its SQL. */
static void item_add_stmt(work_item_t *item, int kind, const char *text, int n_params,
                          const char *const *values)
{
    item->stmts = rk_xrealloc(item->stmts, (size_t)(item->n_stmts + 1) * sizeof(stmt_spec_t));
    stmt_spec_t *st = &item->stmts[item->n_stmts++];
    st->kind = kind;
    st->text = rk_xstrdup(text);
    st->n_params = n_params;
    st->values = n_params ? rk_xcalloc((size_t)n_params, sizeof(char *)) : NULL;
    for (int i = 0; i < n_params; i++)
        st->values[i] = values[i] ? rk_xstrdup(values[i]) : NULL;
}

static void item_free(work_item_t *item)
{
    for (int i = 0; i < item->n_stmts; i++) {
        for (int j = 0; j < item->stmts[i].n_params; j++)
            free(item->stmts[i].values[j]);
        free(item->stmts[i].values);
        free(item->stmts[i].text);
    }
    free(item->stmts);
    for (int i = 0; i < item->n_results; i++)
        PQclear(item->results[i]);
    PQclear(item->error);
    free(item);
}

/* Calls the item's callback with its outcome and frees it. */
static void item_complete(rk_store_t *s, work_item_t *item, int status, const char *why)
{
    rk_store_result_t result = {0};
    result.status = status;
    result.sqlstate = "";
    if (status == RK_OK && item->error) {
        result.status = RK_EINVAL;
        result.error = PQresultErrorMessage(item->error);
        const char *state = PQresultErrorField(item->error, PG_DIAG_SQLSTATE);
        result.sqlstate = state ? state : "";
    } else if (status != RK_OK) {
        result.error = why;
    }
    result.results = item->results;
    result.n_results = item->n_results;
    if (result.status == RK_OK)
        s->completed++;
    else
        s->failed++;
    if (item->internal) {
        if (result.status != RK_OK && status == RK_OK)
            rk_log_error("preparing statements failed", "{s:s}", "error", result.error);
    } else if (item->cb) {
        item->cb(&result, item->arg);
    }
    item_free(item);
}

static void conn_want_write(store_conn_t *c)
{
    int rc = PQflush(c->pg);
    if (rc < 0) {
        c->broken = 1;
        event_active(c->retry_timer, EV_TIMEOUT, 0);
    } else if (rc == 1) {
        event_add(c->write_ev, NULL);
    }
}

static int conn_send(store_conn_t *c, work_item_t *item)
{
    for (int i = 0; i < item->n_stmts; i++) {
        const stmt_spec_t *st = &item->stmts[i];
        const char *const *values = (const char *const *)st->values;
        int ok;
        if (st->kind == STMT_PREPARE)
            ok = PQsendPrepare(c->pg, st->text, st->values[0], 0, NULL);
        else if (st->kind == STMT_PREPARED)
            ok = PQsendQueryPrepared(c->pg, st->text, st->n_params, values, NULL, NULL, 0);
        else
            ok = PQsendQueryParams(c->pg, st->text, st->n_params, NULL, values, NULL, NULL, 0);
        if (!ok)
            return RK_EUNAVAILABLE;
    }
    if (!PQpipelineSync(c->pg))
        return RK_EUNAVAILABLE;
    queue_push(&c->inflight, item);
    conn_want_write(c);
    return RK_OK;
}

/* The ready connection with the fewest items in flight, below the depth limit. */
static store_conn_t *pick_conn(rk_store_t *s, int *any_ready)
{
    store_conn_t *best = NULL;
    *any_ready = 0;
    for (int i = 0; i < s->options.pool_size; i++) {
        store_conn_t *c = &s->conns[i];
        if (c->state != CONN_READY || c->broken)
            continue;
        *any_ready = 1;
        if (c->inflight.length >= s->options.pipeline_depth)
            continue;
        if (!best || c->inflight.length < best->inflight.length)
            best = c;
    }
    return best;
}

static int submit(rk_store_t *s, work_item_t *item)
{
    int any_ready;
    store_conn_t *c = pick_conn(s, &any_ready);
    if (!c) {
        if (!any_ready || s->waiting.length >= MAX_WAITING) {
            s->refused++;
            item->cb = NULL;
            item_free(item);
            return RK_EUNAVAILABLE;
        }
        queue_push(&s->waiting, item);
        return RK_AGAIN;
    }
    if (conn_send(c, item) != RK_OK) {
        c->broken = 1;
        event_active(c->retry_timer, EV_TIMEOUT, 0);
        s->refused++;
        item_free(item);
        return RK_EUNAVAILABLE;
    }
    return RK_AGAIN;
}

/* Results arrive in order; each item ends with its PGRES_PIPELINE_SYNC. */
static void conn_read_results(store_conn_t *c)
{
    rk_store_t *s = c->store;
    int nulls = 0;
    while (c->inflight.head && !c->broken) {
        if (PQisBusy(c->pg))
            break;
        PGresult *r = PQgetResult(c->pg);
        if (!r) {
            /* One NULL ends a statement's results; two in a row mean libpq has nothing more
             * until more input arrives. */
            if (++nulls > 1)
                break;
            continue;
        }
        nulls = 0;
        work_item_t *item = c->inflight.head;
        switch (PQresultStatus(r)) {
        case PGRES_PIPELINE_SYNC:
            PQclear(r);
            queue_pop(&c->inflight);
            item_complete(s, item, RK_OK, NULL);
            break;
        case PGRES_FATAL_ERROR:
            if (!item->error)
                item->error = r;
            else
                PQclear(r);
            break;
        case PGRES_PIPELINE_ABORTED:
            PQclear(r);
            break;
        default:
            if (item->n_results < MAX_RESULTS)
                item->results[item->n_results++] = r;
            else
                PQclear(r);
        }
    }
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    store_conn_t *c = arg;
    if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD) {
        conn_reset(c, PQerrorMessage(c->pg));
        return;
    }
    conn_read_results(c);
    if (c->broken) {
        conn_reset(c, "connection failed while sending");
        return;
    }
    conn_dispatch_waiting(c->store);
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    store_conn_t *c = arg;
    if (c->state == CONN_READY)
        conn_want_write(c);
}

static void conn_clear_events(store_conn_t *c)
{
    if (c->read_ev) {
        event_free(c->read_ev);
        c->read_ev = NULL;
    }
    if (c->write_ev) {
        event_free(c->write_ev);
        c->write_ev = NULL;
    }
}

/* Fails everything that was sent on the connection and schedules a reconnect. */
static void conn_reset(store_conn_t *c, const char *why)
{
    rk_store_t *s = c->store;
    int was_ready = c->state == CONN_READY;
    char reason[256];
    /* why may be PQerrorMessage(c->pg), which PQfinish() frees: keep a copy. */
    snprintf(reason, sizeof(reason), "%s", why ? why : "");
    size_t len = strlen(reason);
    while (len && (reason[len - 1] == '\n' || reason[len - 1] == ' '))
        reason[--len] = '\0';
    conn_clear_events(c);
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    c->state = CONN_DOWN;
    c->broken = 0;
    if (was_ready && !s->freeing)
        rk_log_warn("database connection lost", "{s:i, s:s}", "connection", c->index, "error",
                    reason);
    work_item_t *item;
    while ((item = queue_pop(&c->inflight)))
        item_complete(s, item, RK_EUNAVAILABLE, "the database connection was lost");
    int any_ready;
    pick_conn(s, &any_ready);
    if (!any_ready) {
        while ((item = queue_pop(&s->waiting)))
            item_complete(s, item, RK_EUNAVAILABLE, "the database is unavailable");
    }
    if (s->freeing)
        return;
    struct timeval tv = {c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000};
    event_add(c->retry_timer, &tv);
    c->backoff_ms = c->backoff_ms * 2 > s->options.reconnect_max_ms ? s->options.reconnect_max_ms
                                                                    : c->backoff_ms * 2;
}

/* PostgreSQL's notices (NOTICE, WARNING) go to our log, not raw to stderr. */
static void notice_cb(void *arg, const char *message)
{
    (void)arg;
    rk_log_debug("database notice", "{s:s}", "notice", message);
}

static void conn_became_ready(store_conn_t *c)
{
    rk_store_t *s = c->store;
    event_del(c->retry_timer);
    PQsetnonblocking(c->pg, 1);
    if (!PQenterPipelineMode(c->pg)) {
        conn_reset(c, PQerrorMessage(c->pg));
        return;
    }
    conn_clear_events(c);
    int fd = PQsocket(c->pg);
    c->read_ev = event_new(s->base, fd, EV_READ | EV_PERSIST, read_cb, c);
    c->write_ev = event_new(s->base, fd, EV_WRITE, write_cb, c);
    event_add(c->read_ev, NULL);
    c->state = CONN_READY;
    c->backoff_ms = 50;
    /* The session first: no JIT compilation (the hub's statements are short and many; JIT
     * added ~40 ms to every free-slot search over 2,480 facilities), then the statements. */
    work_item_t *item = item_new(NULL, NULL);
    item->internal = 1;
    item_add_stmt(item, STMT_SQL, "SET jit = off", 0, NULL);
    for (int i = 0; i < s->n_prepared; i++) {
        const char *sql = s->prepared[i].sql;
        item_add_stmt(item, STMT_PREPARE, s->prepared[i].name, 1, &sql);
    }
    if (conn_send(c, item) != RK_OK) {
        item_free(item);
        conn_reset(c, PQerrorMessage(c->pg));
        return;
    }
    rk_log_info("database connection ready", "{s:i}", "connection", c->index);
    conn_dispatch_waiting(s);
}

static void connect_poll_cb(evutil_socket_t fd, short what, void *arg);

static void connect_step(store_conn_t *c)
{
    PostgresPollingStatusType st = PQconnectPoll(c->pg);
    conn_clear_events(c);
    switch (st) {
    case PGRES_POLLING_OK:
        conn_became_ready(c);
        return;
    case PGRES_POLLING_FAILED:
        conn_reset(c, PQerrorMessage(c->pg));
        return;
    case PGRES_POLLING_READING:
    case PGRES_POLLING_WRITING:
    default: {
        int fd = PQsocket(c->pg); /* may differ from the last step */
        c->read_ev = event_new(c->store->base, fd, st == PGRES_POLLING_READING ? EV_READ : EV_WRITE,
                               connect_poll_cb, c);
        event_add(c->read_ev, NULL);
    }
    }
}

static void connect_poll_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    connect_step(arg);
}

static void conn_connect(store_conn_t *c)
{
    rk_store_t *s = c->store;
    c->pg = PQconnectStart(s->conninfo);
    if (!c->pg || PQstatus(c->pg) == CONNECTION_BAD) {
        conn_reset(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
        return;
    }
    PQsetNoticeProcessor(c->pg, notice_cb, NULL);
    c->state = CONN_CONNECTING;
    struct timeval tv = {s->options.connect_timeout_ms / 1000,
                         (s->options.connect_timeout_ms % 1000) * 1000};
    event_add(c->retry_timer, &tv);
    connect_step(c);
}

/* Reconnect backoff elapsed, a connect attempt timed out, or a deferred reset. */
static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    store_conn_t *c = arg;
    if (c->state == CONN_DOWN)
        conn_connect(c);
    else if (c->state == CONN_CONNECTING)
        conn_reset(c, "connection attempt timed out");
    else if (c->broken)
        conn_reset(c, "connection failed while sending");
}

static void conn_dispatch_waiting(rk_store_t *s)
{
    while (s->waiting.head) {
        int any_ready;
        store_conn_t *c = pick_conn(s, &any_ready);
        if (!c)
            return;
        work_item_t *item = queue_pop(&s->waiting);
        if (conn_send(c, item) != RK_OK) {
            c->broken = 1;
            event_active(c->retry_timer, EV_TIMEOUT, 0);
            item_complete(s, item, RK_EUNAVAILABLE, "the database connection was lost");
        }
    }
}

rk_store_t *rk_store_new(struct event_base *base, const rk_store_options_t *options)
{
    rk_store_t *s = rk_xcalloc(1, sizeof(*s));
    s->base = base;
    s->options = *options;
    s->conninfo = rk_xstrdup(options->conninfo ? options->conninfo : "");
    s->options.conninfo = s->conninfo;
    s->conns = rk_xcalloc((size_t)options->pool_size, sizeof(store_conn_t));
    for (int i = 0; i < options->pool_size; i++) {
        store_conn_t *c = &s->conns[i];
        c->store = s;
        c->index = i;
        c->backoff_ms = 50;
        c->retry_timer = evtimer_new(base, retry_cb, c);
    }
    return s;
}

void rk_store_prepare(rk_store_t *s, const char *name, const char *sql)
{
    s->prepared = rk_xrealloc(s->prepared, (size_t)(s->n_prepared + 1) * sizeof(*s->prepared));
    s->prepared[s->n_prepared].name = rk_xstrdup(name);
    s->prepared[s->n_prepared].sql = rk_xstrdup(sql);
    s->n_prepared++;
}

void rk_store_start(rk_store_t *s)
{
    for (int i = 0; i < s->options.pool_size; i++)
        conn_connect(&s->conns[i]);
}

int rk_store_ready(const rk_store_t *s)
{
    int n = 0;
    for (int i = 0; i < s->options.pool_size; i++)
        n += s->conns[i].state == CONN_READY && !s->conns[i].broken;
    return n;
}

int rk_store_exec(rk_store_t *s, const char *stmt_name, int n_params, const char *const *values,
                  rk_store_cb cb, void *arg)
{
    work_item_t *item = item_new(cb, arg);
    item_add_stmt(item, STMT_PREPARED, stmt_name, n_params, values);
    return submit(s, item);
}

int rk_store_query(rk_store_t *s, const char *sql, int n_params, const char *const *values,
                   rk_store_cb cb, void *arg)
{
    work_item_t *item = item_new(cb, arg);
    item_add_stmt(item, STMT_SQL, sql, n_params, values);
    return submit(s, item);
}

rk_store_batch_t *rk_store_batch_new(rk_store_t *s)
{
    rk_store_batch_t *b = rk_xcalloc(1, sizeof(*b));
    b->store = s;
    b->item = item_new(NULL, NULL);
    return b;
}

void rk_store_batch_add(rk_store_batch_t *b, int prepared, const char *stmt_or_sql, int n_params,
                        const char *const *values)
{
    item_add_stmt(b->item, prepared ? STMT_PREPARED : STMT_SQL, stmt_or_sql, n_params, values);
}

int rk_store_batch_run(rk_store_batch_t *b, rk_store_cb cb, void *arg)
{
    work_item_t *item = b->item;
    rk_store_t *s = b->store;
    free(b);
    item->cb = cb;
    item->arg = arg;
    return submit(s, item);
}

static void metrics_cb(struct evbuffer *out, void *arg)
{
    rk_store_t *s = arg;
    int busy = 0, idle = 0, down = 0;
    long inflight = 0;
    for (int i = 0; i < s->options.pool_size; i++) {
        const store_conn_t *c = &s->conns[i];
        if (c->state != CONN_READY)
            down++;
        else if (c->inflight.length)
            busy++;
        else
            idle++;
        inflight += c->inflight.length;
    }
    evbuffer_add_printf(out,
                        "# HELP renkei_store_connections PostgreSQL pool connections by state.\n"
                        "# TYPE renkei_store_connections gauge\n"
                        "renkei_store_connections{state=\"busy\"} %d\n"
                        "renkei_store_connections{state=\"idle\"} %d\n"
                        "renkei_store_connections{state=\"down\"} %d\n"
                        "# HELP renkei_store_queries_waiting Queries waiting for a connection.\n"
                        "# TYPE renkei_store_queries_waiting gauge\n"
                        "renkei_store_queries_waiting %d\n"
                        "# HELP renkei_store_queries_inflight Queries sent, not yet answered.\n"
                        "# TYPE renkei_store_queries_inflight gauge\n"
                        "renkei_store_queries_inflight %ld\n"
                        "# HELP renkei_store_queries_total Queries finished, by outcome.\n"
                        "# TYPE renkei_store_queries_total counter\n"
                        "renkei_store_queries_total{outcome=\"ok\"} %llu\n"
                        "renkei_store_queries_total{outcome=\"failed\"} %llu\n"
                        "renkei_store_queries_total{outcome=\"refused\"} %llu\n",
                        busy, idle, down, s->waiting.length, inflight, s->completed, s->failed,
                        s->refused);
}

void rk_store_register_metrics(rk_store_t *s, rk_metrics_t *metrics)
{
    rk_metrics_add_source(metrics, metrics_cb, s);
}

void rk_store_free(rk_store_t *s)
{
    if (!s)
        return;
    s->freeing = 1;
    for (int i = 0; i < s->options.pool_size; i++) {
        store_conn_t *c = &s->conns[i];
        conn_reset(c, "shutting down");
        event_free(c->retry_timer);
    }
    work_item_t *item;
    while ((item = queue_pop(&s->waiting)))
        item_complete(s, item, RK_ESHUTDOWN, "the hub is shutting down");
    for (int i = 0; i < s->n_prepared; i++) {
        free(s->prepared[i].name);
        free(s->prepared[i].sql);
    }
    free(s->prepared);
    free(s->conns);
    free(s->conninfo);
    free(s);
}
