/*
 * store_pool_test.c — the asynchronous pool against the real PostgreSQL that tests/run
 * starts (RENKEI_PG names it): 200 queries in flight at once, prepared statements, error
 * isolation inside the pipeline, batches that are all-or-nothing, and "unavailable" at once
 * when PostgreSQL cannot be reached.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "store/pool.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct harness {
    struct event_base *base;
    rk_store_t *store;
    int expected, done, failures;
} harness_t;

static harness_t *harness_new(const char *conninfo, int pool_size)
{
    harness_t *h = calloc(1, sizeof(*h));
    h->base = event_base_new();
    rk_store_options_t opt = {.conninfo = conninfo,
                              .pool_size = pool_size,
                              .pipeline_depth = 1000,
                              .reconnect_max_ms = 500,
                              .connect_timeout_ms = 5000};
    h->store = rk_store_new(h->base, &opt);
    return h;
}

static void harness_free(harness_t *h)
{
    rk_store_free(h->store);
    event_base_free(h->base);
    free(h);
}

/* Runs the loop until every expected callback has come, or 20 s pass. */
static void run_until_done(harness_t *h)
{
    for (int i = 0; i < 2000 && h->done < h->expected; i++) {
        struct timeval tick = {0, 10000};
        event_base_loopexit(h->base, &tick);
        event_base_dispatch(h->base);
    }
}

static void wait_ready(harness_t *h, int n)
{
    for (int i = 0; i < 500 && rk_store_ready(h->store) < n; i++) {
        struct timeval tick = {0, 10000};
        event_base_loopexit(h->base, &tick);
        event_base_dispatch(h->base);
    }
    assert_int_equal(rk_store_ready(h->store), n);
}

static const char *conninfo(void)
{
    const char *c = getenv("RENKEI_PG");
    if (!c)
        fail_msg("RENKEI_PG is not set: run through tests/run");
    return c;
}

typedef struct echo {
    harness_t *h;
    int sent;
} echo_t;

static void echo_cb(const rk_store_result_t *res, void *arg)
{
    echo_t *e = arg;
    e->h->done++;
    if (res->status != RK_OK || res->n_results != 1 ||
        atoi(PQgetvalue(res->results[0], 0, 0)) != e->sent)
        e->h->failures++;
}

static void two_hundred_concurrent_queries(void **state)
{
    (void)state;
    harness_t *h = harness_new(conninfo(), 4);
    rk_store_prepare(h->store, "echo", "SELECT $1::int + 0 FROM pg_sleep(0.005)");
    rk_store_start(h->store);
    wait_ready(h, 4);
    echo_t echoes[200];
    for (int i = 0; i < 200; i++) {
        char v[16];
        snprintf(v, sizeof(v), "%d", i * 7);
        const char *values[] = {v};
        echoes[i].h = h;
        echoes[i].sent = i * 7;
        assert_int_equal(rk_store_exec(h->store, "echo", 1, values, echo_cb, &echoes[i]), RK_AGAIN);
        h->expected++;
    }
    run_until_done(h);
    assert_int_equal(h->done, 200);
    assert_int_equal(h->failures, 0);
    harness_free(h);
}

typedef struct expect {
    harness_t *h;
    int status;
    const char *sqlstate;
} expect_t;

static void expect_cb(const rk_store_result_t *res, void *arg)
{
    expect_t *e = arg;
    e->h->done++;
    if (res->status != e->status)
        e->h->failures++;
    if (e->sqlstate && strcmp(res->sqlstate, e->sqlstate) != 0)
        e->h->failures++;
}

static void an_error_spoils_only_its_own_query(void **state)
{
    (void)state;
    harness_t *h = harness_new(conninfo(), 1);
    rk_store_start(h->store);
    wait_ready(h, 1);
    expect_t ok = {h, RK_OK, NULL}, bad = {h, RK_EINVAL, "22012"};
    assert_int_equal(rk_store_query(h->store, "SELECT 1", 0, NULL, expect_cb, &ok), RK_AGAIN);
    assert_int_equal(rk_store_query(h->store, "SELECT 1/0", 0, NULL, expect_cb, &bad), RK_AGAIN);
    assert_int_equal(rk_store_query(h->store, "SELECT 2", 0, NULL, expect_cb, &ok), RK_AGAIN);
    h->expected = 3;
    run_until_done(h);
    assert_int_equal(h->done, 3);
    assert_int_equal(h->failures, 0);
    harness_free(h);
}

static void count_cb(const rk_store_result_t *res, void *arg)
{
    int *count = arg;
    *count = res->status == RK_OK ? atoi(PQgetvalue(res->results[0], 0, 0)) : -1;
}

static void a_batch_is_all_or_nothing(void **state)
{
    (void)state;
    harness_t *h = harness_new(conninfo(), 1);
    rk_store_start(h->store);
    wait_ready(h, 1);
    expect_t ok = {h, RK_OK, NULL}, bad = {h, RK_EINVAL, "23505"};
    rk_store_query(h->store, "CREATE TABLE IF NOT EXISTS store_pool_test_t (k int PRIMARY KEY)", 0,
                   NULL, expect_cb, &ok);
    rk_store_query(h->store, "TRUNCATE store_pool_test_t", 0, NULL, expect_cb, &ok);
    h->expected = 2;
    run_until_done(h);

    rk_store_batch_t *b = rk_store_batch_new(h->store);
    const char *one[] = {"1"};
    rk_store_batch_add(b, 0, "INSERT INTO store_pool_test_t VALUES ($1::int)", 1, one);
    rk_store_batch_add(b, 0, "INSERT INTO store_pool_test_t VALUES ($1::int)", 1, one);
    assert_int_equal(rk_store_batch_run(b, expect_cb, &bad), RK_AGAIN);
    h->expected++;
    run_until_done(h);

    b = rk_store_batch_new(h->store);
    const char *two[] = {"2"}, *three[] = {"3"};
    rk_store_batch_add(b, 0, "INSERT INTO store_pool_test_t VALUES ($1::int)", 1, two);
    rk_store_batch_add(b, 0, "INSERT INTO store_pool_test_t VALUES ($1::int)", 1, three);
    assert_int_equal(rk_store_batch_run(b, expect_cb, &ok), RK_AGAIN);
    h->expected++;
    run_until_done(h);
    assert_int_equal(h->failures, 0);

    int count = -2;
    rk_store_query(h->store, "SELECT count(*) FROM store_pool_test_t", 0, NULL, count_cb, &count);
    for (int i = 0; i < 500 && count == -2; i++) {
        struct timeval tick = {0, 10000};
        event_base_loopexit(h->base, &tick);
        event_base_dispatch(h->base);
    }
    assert_int_equal(count, 2); /* the failed batch left nothing behind */
    rk_store_query(h->store, "DROP TABLE store_pool_test_t", 0, NULL, NULL, NULL);
    harness_free(h);
}

static void unreachable_database_is_refused_at_once(void **state)
{
    (void)state;
    harness_t *h = harness_new("host=/nonexistent-renkei-socket dbname=x connect_timeout=1", 2);
    rk_store_start(h->store);
    struct timeval tick = {0, 100000};
    event_base_loopexit(h->base, &tick);
    event_base_dispatch(h->base);
    assert_int_equal(rk_store_ready(h->store), 0);
    assert_int_equal(rk_store_query(h->store, "SELECT 1", 0, NULL, NULL, NULL), RK_EUNAVAILABLE);
    harness_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_hundred_concurrent_queries),
        cmocka_unit_test(an_error_spoils_only_its_own_query),
        cmocka_unit_test(a_batch_is_all_or_nothing),
        cmocka_unit_test(unreachable_database_is_refused_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
