/*
 * store_listen_test.c — the LISTEN/NOTIFY listener (hub/store/listen.c) against the real
 * PostgreSQL that tests/run starts (RENKEI_PG names it): notifications arrive with their
 * payload within milliseconds, only once committed; a channel subscribed while connected
 * starts listening at once; after its backend is terminated the listener reconnects, says
 * it listens again, and receives what is sent after; bad channel names are refused; an
 * unreachable database leaves it retrying, never blocking. Channels are named after this
 * process, so concurrent runs on one database do not hear each other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "store/listen.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct event_base *base;
static char conninfo[1024];
static char app_name[64];
static char chan_a[64], chan_b[64];

typedef struct heard {
    int listening; /* times the listening callback ran */
    int count;
    char payload[64];
    uint64_t at_ns;
} heard_t;

static void notify_cb(const char *channel, const char *payload, void *arg)
{
    (void)channel;
    heard_t *h = arg;
    h->count++;
    snprintf(h->payload, sizeof(h->payload), "%s", payload);
    h->at_ns = rk_now_ns();
}

static void listening_cb(const char *channel, void *arg)
{
    (void)channel;
    ((heard_t *)arg)->listening++;
}

/* Runs the loop until *value reaches at_least or timeout_ms pass. */
static void run_until(const int *value, int at_least, int timeout_ms)
{
    uint64_t end = rk_now_ns() + (uint64_t)timeout_ms * 1000000u;
    while (*value < at_least && rk_now_ns() < end) {
        struct timeval tick = {0, 5000};
        event_base_loopexit(base, &tick);
        event_base_dispatch(base);
    }
}

/* Runs sql on a blocking connection of its own (the other hub, in effect). */
static void sql(const char *text)
{
    PGconn *pg = PQconnectdb(conninfo);
    if (PQstatus(pg) != CONNECTION_OK)
        fail_msg("connect: %s", PQerrorMessage(pg));
    PGresult *r = PQexec(pg, text);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", text, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(pg);
}

static rk_store_listener_t *listener_new(const char *info)
{
    rk_store_options_t options = {
        .conninfo = info, .reconnect_max_ms = 400, .connect_timeout_ms = 2000};
    return rk_store_listener_new(base, &options);
}

static void notifications_arrive_once_committed(void **state)
{
    (void)state;
    heard_t h = {0};
    rk_store_listener_t *l = listener_new(conninfo);
    assert_int_equal(rk_store_listen(l, chan_a, notify_cb, listening_cb, &h), RK_OK);
    rk_store_listener_start(l);
    run_until(&h.listening, 1, 5000);
    assert_int_equal(h.listening, 1);
    assert_true(rk_store_listener_ready(l));

    char text[256];
    snprintf(text, sizeof(text), "BEGIN; SELECT pg_notify('%s', 'rolled back'); ROLLBACK", chan_a);
    sql(text);
    snprintf(text, sizeof(text), "SELECT pg_notify('%s', '42')", chan_a);
    sql(text);
    uint64_t sent = rk_now_ns(); /* committed: the loop runs only from here */
    run_until(&h.count, 1, 2000);
    assert_int_equal(h.count, 1);
    assert_string_equal(h.payload, "42"); /* the rolled-back one never came */
    print_message("a NOTIFY reached the listener %llu us after the sender's commit returned\n",
                  (unsigned long long)((h.at_ns > sent ? h.at_ns - sent : 0) / 1000u));
    rk_store_listener_free(l);
}

static void a_channel_added_later_listens_at_once(void **state)
{
    (void)state;
    heard_t a = {0}, b = {0};
    rk_store_listener_t *l = listener_new(conninfo);
    assert_int_equal(rk_store_listen(l, chan_a, notify_cb, listening_cb, &a), RK_OK);
    rk_store_listener_start(l);
    run_until(&a.listening, 1, 5000);
    assert_int_equal(rk_store_listen(l, chan_b, notify_cb, listening_cb, &b), RK_OK);
    assert_false(rk_store_listener_ready(l)); /* b's LISTEN is on its way */
    run_until(&b.listening, 1, 2000);
    assert_int_equal(b.listening, 1);
    assert_true(rk_store_listener_ready(l));
    char text[256];
    snprintf(text, sizeof(text), "NOTIFY %s, 'to b'", chan_b);
    sql(text);
    run_until(&b.count, 1, 2000);
    assert_int_equal(b.count, 1);
    assert_string_equal(b.payload, "to b");
    assert_int_equal(a.count, 0);
    rk_store_listener_free(l);
}

static void it_reconnects_after_its_backend_is_terminated(void **state)
{
    (void)state;
    heard_t h = {0};
    rk_store_listener_t *l = listener_new(conninfo);
    assert_int_equal(rk_store_listen(l, chan_a, notify_cb, listening_cb, &h), RK_OK);
    rk_store_listener_start(l);
    run_until(&h.listening, 1, 5000);
    char text[512];
    snprintf(text, sizeof(text),
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
             " WHERE application_name = '%s' AND pid <> pg_backend_pid()",
             app_name);
    uint64_t killed = rk_now_ns();
    sql(text);
    run_until(&h.listening, 2, 5000);
    assert_int_equal(h.listening, 2); /* told to re-read: what was sent meanwhile is lost */
    print_message("listening again %llu ms after its backend was terminated\n",
                  (unsigned long long)((rk_now_ns() - killed) / 1000000u));
    snprintf(text, sizeof(text), "NOTIFY %s, 'after'", chan_a);
    sql(text);
    run_until(&h.count, 1, 2000);
    assert_int_equal(h.count, 1);
    assert_string_equal(h.payload, "after");
    rk_store_listener_free(l);
}

static void bad_channels_and_unreachable_databases(void **state)
{
    (void)state;
    heard_t h = {0};
    rk_store_listener_t *l = listener_new("host=/nonexistent-socket-dir dbname=x user=x");
    const char *bad[] = {
        "",        "Upper",
        "1abc",    "semi;colon",
        "quo\"te", "a_name_that_is_much_longer_than_the_sixty_three_bytes_identifiers_allow"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(rk_store_listen(l, bad[i], notify_cb, listening_cb, &h), RK_EINVAL);
    assert_int_equal(rk_store_listen(l, chan_a, notify_cb, listening_cb, &h), RK_OK);
    uint64_t started = rk_now_ns();
    rk_store_listener_start(l);
    assert_true(rk_now_ns() - started < 100000000u); /* starting never waits */
    int never = 0;
    run_until(&never, 1, 600); /* a few attempts with backoff */
    assert_int_equal(h.listening, 0);
    assert_false(rk_store_listener_ready(l));
    rk_store_listener_free(l);
}

static int setup(void **state)
{
    (void)state;
    const char *pg = getenv("RENKEI_PG");
    if (!pg) {
        fprintf(stderr, "RENKEI_PG is not set: run through tests/run\n");
        return -1;
    }
    rk_log_setup(RK_LOG_ERROR, 2);
    snprintf(app_name, sizeof(app_name), "rk_listen_test_%d", (int)getpid());
    snprintf(conninfo, sizeof(conninfo), "%s application_name=%s", pg, app_name);
    snprintf(chan_a, sizeof(chan_a), "rk_listen_test_a_%d", (int)getpid());
    snprintf(chan_b, sizeof(chan_b), "rk_listen_test_b_%d", (int)getpid());
    base = event_base_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    event_base_free(base);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(notifications_arrive_once_committed),
        cmocka_unit_test(a_channel_added_later_listens_at_once),
        cmocka_unit_test(it_reconnects_after_its_backend_is_terminated),
        cmocka_unit_test(bad_channels_and_unreachable_databases),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
