/*
 * listen.c — one libpq connection that LISTENs and delivers NOTIFYs (see listen.h).
 *
 * The connection is a small state machine like a pool connection's: DOWN → CONNECTING
 * (PQconnectPoll driven by socket events, rebuilt each step because the socket may change) →
 * READY (non-blocking, one persistent read event). On READY the LISTENs of every subscription
 * go out as one simple query ("LISTEN a; LISTEN b"); libpq allows one query in flight, so
 * subscriptions added meanwhile wait for the next. When the query's results are all in, the
 * subscriptions it carried are listening and their callbacks run. Notifications are read
 * after every PQconsumeInput(). Any error resets the connection and schedules a reconnect.
 */
#include "store/listen.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_FIRST_MS 50
#define CHANNEL_MAX 63

typedef enum { LISTENER_DOWN, LISTENER_CONNECTING, LISTENER_READY } listener_state_t;

typedef struct subscription {
    struct subscription *next;
    char *channel;
    rk_store_notify_cb notify;
    rk_store_listening_cb listening;
    void *arg;
    int sent;          /* in the LISTEN query in flight */
    int listening_now; /* LISTEN confirmed on this connection */
} subscription_t;

struct rk_store_listener {
    struct event_base *base;
    char *conninfo;
    int reconnect_max_ms, connect_timeout_ms;
    int backoff_ms;
    listener_state_t state;
    PGconn *pg;
    struct event *io;       /* connecting: the step's read or write; ready: reads, persistent */
    struct event *write_ev; /* ready: output libpq could not flush yet */
    struct event *timer;    /* reconnect backoff, or the connect timeout */
    int query_in_flight;
    subscription_t *subs, **subs_tail;
    int freeing;
};

static void clear_events(rk_store_listener_t *l)
{
    if (l->io) {
        event_free(l->io);
        l->io = NULL;
    }
    if (l->write_ev) {
        event_free(l->write_ev);
        l->write_ev = NULL;
    }
}

/* Drops the connection and schedules the next attempt; why may be PQerrorMessage(l->pg). */
static void reset(rk_store_listener_t *l, const char *why)
{
    char reason[256];
    snprintf(reason, sizeof(reason), "%s", why ? why : "");
    size_t len = strlen(reason);
    while (len && (reason[len - 1] == '\n' || reason[len - 1] == ' '))
        reason[--len] = '\0';
    if (l->state == LISTENER_READY && !l->freeing)
        rk_log_warn("database listener lost", "{s:s}", "error", reason);
    else if (!l->freeing)
        rk_log_debug("database listener cannot connect", "{s:s}", "error", reason);
    clear_events(l);
    if (l->pg) {
        PQfinish(l->pg);
        l->pg = NULL;
    }
    l->state = LISTENER_DOWN;
    l->query_in_flight = 0;
    for (subscription_t *s = l->subs; s; s = s->next)
        s->sent = s->listening_now = 0;
    if (l->freeing)
        return;
    struct timeval tv = {l->backoff_ms / 1000, (l->backoff_ms % 1000) * 1000};
    event_del(l->timer);
    evtimer_add(l->timer, &tv);
    l->backoff_ms =
        l->backoff_ms * 2 > l->reconnect_max_ms ? l->reconnect_max_ms : l->backoff_ms * 2;
}

static void flush(rk_store_listener_t *l)
{
    int rc = PQflush(l->pg);
    if (rc < 0)
        reset(l, PQerrorMessage(l->pg));
    else if (rc == 1)
        event_add(l->write_ev, NULL);
}

/* Sends LISTEN for every subscription not yet listening, unless a query is in flight. */
static void send_listens(rk_store_listener_t *l)
{
    if (l->state != LISTENER_READY || l->query_in_flight)
        return;
    struct evbuffer *sql = evbuffer_new();
    for (subscription_t *s = l->subs; s; s = s->next) {
        if (s->listening_now)
            continue;
        evbuffer_add_printf(sql, "LISTEN \"%s\";", s->channel);
        s->sent = 1;
    }
    size_t len = evbuffer_get_length(sql);
    if (len) {
        evbuffer_add(sql, "", 1);
        if (!PQsendQuery(l->pg, (const char *)evbuffer_pullup(sql, -1))) {
            evbuffer_free(sql);
            reset(l, PQerrorMessage(l->pg));
            return;
        }
        l->query_in_flight = 1;
        flush(l);
    }
    evbuffer_free(sql);
}

/* The LISTEN query's results are all in: its subscriptions listen now. */
static void listens_confirmed(rk_store_listener_t *l)
{
    l->query_in_flight = 0;
    int n = 0;
    for (subscription_t *s = l->subs; s; s = s->next)
        n += s->sent;
    subscription_t **confirmed = rk_xcalloc((size_t)n + 1, sizeof(*confirmed));
    n = 0;
    for (subscription_t *s = l->subs; s; s = s->next) {
        if (!s->sent)
            continue;
        s->sent = 0;
        s->listening_now = 1;
        confirmed[n++] = s;
    }
    /* Callbacks may subscribe (which sends at once): the flags above are final first. */
    for (int i = 0; i < n; i++) {
        if (confirmed[i]->listening)
            confirmed[i]->listening(confirmed[i]->channel, confirmed[i]->arg);
    }
    free(confirmed);
    send_listens(l);
}

static void deliver(rk_store_listener_t *l, const PGnotify *n)
{
    for (subscription_t *s = l->subs; s; s = s->next) {
        if (s->notify && strcmp(s->channel, n->relname) == 0)
            s->notify(s->channel, n->extra ? n->extra : "", s->arg);
    }
}

/* Reads what arrived: the LISTEN query's results, then notifications. */
static void read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_store_listener_t *l = arg;
    if (!PQconsumeInput(l->pg) || PQstatus(l->pg) == CONNECTION_BAD) {
        reset(l, PQerrorMessage(l->pg));
        return;
    }
    while (l->query_in_flight && !PQisBusy(l->pg)) {
        PGresult *r = PQgetResult(l->pg);
        if (!r) {
            listens_confirmed(l);
            if (l->state != LISTENER_READY)
                return;
            break;
        }
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            char why[256];
            snprintf(why, sizeof(why), "LISTEN failed: %s", PQresultErrorMessage(r));
            PQclear(r);
            reset(l, why);
            return;
        }
        PQclear(r);
    }
    PGnotify *n;
    while ((n = PQnotifies(l->pg))) {
        deliver(l, n);
        PQfreemem(n);
    }
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_store_listener_t *l = arg;
    if (l->state == LISTENER_READY)
        flush(l);
}

static void notice_cb(void *arg, const char *message)
{
    (void)arg;
    rk_log_debug("database notice", "{s:s}", "notice", message);
}

static void became_ready(rk_store_listener_t *l)
{
    event_del(l->timer);
    if (PQsetnonblocking(l->pg, 1) != 0) {
        reset(l, PQerrorMessage(l->pg));
        return;
    }
    int fd = PQsocket(l->pg);
    l->io = event_new(l->base, fd, EV_READ | EV_PERSIST, read_cb, l);
    l->write_ev = event_new(l->base, fd, EV_WRITE, write_cb, l);
    event_add(l->io, NULL);
    l->state = LISTENER_READY;
    l->backoff_ms = BACKOFF_FIRST_MS;
    rk_log_info("database listener ready", NULL);
    send_listens(l);
}

static void connect_poll_cb(evutil_socket_t fd, short what, void *arg);

static void connect_step(rk_store_listener_t *l)
{
    PostgresPollingStatusType st = PQconnectPoll(l->pg);
    clear_events(l);
    switch (st) {
    case PGRES_POLLING_OK:
        became_ready(l);
        return;
    case PGRES_POLLING_FAILED:
        reset(l, PQerrorMessage(l->pg));
        return;
    case PGRES_POLLING_READING:
    case PGRES_POLLING_WRITING:
    default:
        l->io = event_new(l->base, PQsocket(l->pg), /* may differ from the last step */
                          st == PGRES_POLLING_READING ? EV_READ : EV_WRITE, connect_poll_cb, l);
        event_add(l->io, NULL);
    }
}

static void connect_poll_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    connect_step(arg);
}

static void connect_start(rk_store_listener_t *l)
{
    const char *const keys[] = {"dbname", "fallback_application_name", NULL};
    const char *const values[] = {l->conninfo, "renkeid-listen", NULL};
    l->pg = PQconnectStartParams(keys, values, 1);
    if (!l->pg || PQstatus(l->pg) == CONNECTION_BAD) {
        reset(l, l->pg ? PQerrorMessage(l->pg) : "out of memory");
        return;
    }
    PQsetNoticeProcessor(l->pg, notice_cb, NULL);
    l->state = LISTENER_CONNECTING;
    struct timeval tv = {l->connect_timeout_ms / 1000, (l->connect_timeout_ms % 1000) * 1000};
    evtimer_add(l->timer, &tv);
    connect_step(l);
}

/* The backoff passed (connect again) or a connection attempt took too long. */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_store_listener_t *l = arg;
    if (l->state == LISTENER_DOWN)
        connect_start(l);
    else if (l->state == LISTENER_CONNECTING)
        reset(l, "connection attempt timed out");
}

rk_store_listener_t *rk_store_listener_new(struct event_base *base,
                                           const rk_store_options_t *options)
{
    rk_store_listener_t *l = rk_xcalloc(1, sizeof(*l));
    l->base = base;
    l->conninfo = rk_xstrdup(options->conninfo ? options->conninfo : "");
    l->reconnect_max_ms = options->reconnect_max_ms > 0 ? options->reconnect_max_ms : 5000;
    l->connect_timeout_ms = options->connect_timeout_ms > 0 ? options->connect_timeout_ms : 5000;
    l->backoff_ms = BACKOFF_FIRST_MS;
    l->timer = evtimer_new(base, timer_cb, l);
    l->subs_tail = &l->subs;
    return l;
}

static int channel_valid(const char *channel)
{
    size_t len = strlen(channel);
    if (len == 0 || len > CHANNEL_MAX || (channel[0] >= '0' && channel[0] <= '9'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = channel[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

int rk_store_listen(rk_store_listener_t *l, const char *channel, rk_store_notify_cb notify,
                    rk_store_listening_cb listening, void *arg)
{
    if (!channel_valid(channel))
        return RK_EINVAL;
    subscription_t *s = rk_xcalloc(1, sizeof(*s));
    s->channel = rk_xstrdup(channel);
    s->notify = notify;
    s->listening = listening;
    s->arg = arg;
    *l->subs_tail = s;
    l->subs_tail = &s->next;
    send_listens(l);
    return RK_OK;
}

void rk_store_listener_start(rk_store_listener_t *l)
{
    if (l->state == LISTENER_DOWN)
        connect_start(l);
}

int rk_store_listener_ready(const rk_store_listener_t *l)
{
    if (l->state != LISTENER_READY)
        return 0;
    for (const subscription_t *s = l->subs; s; s = s->next) {
        if (!s->listening_now)
            return 0;
    }
    return 1;
}

void rk_store_listener_free(rk_store_listener_t *l)
{
    if (!l)
        return;
    l->freeing = 1;
    reset(l, "shutting down");
    event_free(l->timer);
    subscription_t *s = l->subs;
    while (s) {
        subscription_t *next = s->next;
        free(s->channel);
        free(s);
        s = next;
    }
    free(l->conninfo);
    free(l);
}
