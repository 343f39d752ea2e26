/*
 * breaker_test.c — unit tests for hub/facility/breaker.c: opening after consecutive failures
 * and after a failure rate, the cool-down, the single half-open probe, closing on its success,
 * reopening on its failure, neutral outcomes and stragglers. The clock is driven by hand.
 */
#include "facility/breaker.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define MS 1000000ull

static const rk_breaker_config_t config = {
    .failures = 3, .rate_percent = 50, .window = 10, .open_ns = 1000 * MS};

/* One call at now with outcome; asserts it was allowed and not a probe. */
static rk_breaker_state_t call(rk_breaker_t *b, uint64_t now, rk_breaker_outcome_t outcome)
{
    int probe = -1;
    assert_int_equal(rk_breaker_allow(b, &config, now, &probe), 1);
    assert_int_equal(probe, 0);
    return rk_breaker_record(b, &config, 0, outcome, now);
}

static void consecutive_failures_open_it(void **state)
{
    (void)state;
    rk_breaker_t b = {0};
    assert_int_equal(call(&b, 0, RK_BREAKER_FAILURE), RK_BREAKER_CLOSED);
    assert_int_equal(call(&b, 1, RK_BREAKER_FAILURE), RK_BREAKER_CLOSED);
    assert_int_equal(call(&b, 2, RK_BREAKER_SUCCESS), RK_BREAKER_CLOSED); /* resets the run */
    assert_int_equal(call(&b, 3, RK_BREAKER_FAILURE), RK_BREAKER_CLOSED);
    assert_int_equal(call(&b, 4, RK_BREAKER_FAILURE), RK_BREAKER_CLOSED);
    assert_int_equal(call(&b, 5 * MS, RK_BREAKER_FAILURE), RK_BREAKER_OPEN);
    assert_int_equal(b.opened, 1);
    int probe;
    assert_int_equal(rk_breaker_allow(&b, &config, 6 * MS, &probe), 0);
    assert_int_equal(rk_breaker_retry_in_ns(&b, &config, 6 * MS), 999 * MS);
    assert_string_equal(rk_breaker_state_name(b.state), "open");
}

static void failure_rate_opens_it_once_the_window_is_full(void **state)
{
    (void)state;
    rk_breaker_t b = {0};
    /* F S F S …: never 3 in a row, 50 % of 10 once 10 calls were seen. */
    for (int i = 0; i < 9; i++)
        assert_int_equal(call(&b, (uint64_t)i, i % 2 ? RK_BREAKER_SUCCESS : RK_BREAKER_FAILURE),
                         RK_BREAKER_CLOSED);
    assert_int_equal(call(&b, 9, RK_BREAKER_SUCCESS), RK_BREAKER_OPEN);

    rk_breaker_t c = {0}; /* 4 of 10: below the rate, and it slides */
    for (int i = 0; i < 30; i++)
        assert_int_equal(call(&c, (uint64_t)i,
                              i % 5 == 0 || i % 5 == 2 ? RK_BREAKER_FAILURE : RK_BREAKER_SUCCESS),
                         RK_BREAKER_CLOSED);
}

static void half_open_lets_one_probe_through(void **state)
{
    (void)state;
    rk_breaker_t b = {0};
    for (int i = 0; i < 3; i++)
        call(&b, 0, RK_BREAKER_FAILURE);
    assert_int_equal(b.state, RK_BREAKER_OPEN);
    int probe = 0;
    assert_int_equal(rk_breaker_allow(&b, &config, 999 * MS, &probe), 0);
    assert_int_equal(rk_breaker_allow(&b, &config, 1000 * MS, &probe), 1);
    assert_int_equal(probe, 1);
    assert_int_equal(b.state, RK_BREAKER_HALF_OPEN);
    int other = 0;
    assert_int_equal(rk_breaker_allow(&b, &config, 1001 * MS, &other), 0); /* one at a time */
    assert_int_equal(rk_breaker_retry_in_ns(&b, &config, 1001 * MS), 0);
    /* A straggler from before it opened changes nothing. */
    assert_int_equal(rk_breaker_record(&b, &config, 0, RK_BREAKER_SUCCESS, 1002 * MS),
                     RK_BREAKER_HALF_OPEN);
    assert_int_equal(rk_breaker_record(&b, &config, 1, RK_BREAKER_SUCCESS, 1003 * MS),
                     RK_BREAKER_CLOSED);
    assert_int_equal(b.consecutive, 0);
    assert_int_equal(b.seen, 0);
    /* Closed again: it takes three new failures to open. */
    assert_int_equal(call(&b, 1004 * MS, RK_BREAKER_FAILURE), RK_BREAKER_CLOSED);
    assert_int_equal(call(&b, 1005 * MS, RK_BREAKER_FAILURE), RK_BREAKER_CLOSED);
}

static void a_failed_probe_reopens_it_for_another_cool_down(void **state)
{
    (void)state;
    rk_breaker_t b = {0};
    for (int i = 0; i < 3; i++)
        call(&b, 0, RK_BREAKER_FAILURE);
    int probe;
    assert_int_equal(rk_breaker_allow(&b, &config, 2000 * MS, &probe), 1);
    assert_int_equal(rk_breaker_record(&b, &config, probe, RK_BREAKER_FAILURE, 2100 * MS),
                     RK_BREAKER_OPEN);
    assert_int_equal(b.opened, 2);
    assert_int_equal(rk_breaker_allow(&b, &config, 3000 * MS, &probe), 0);
    assert_int_equal(rk_breaker_retry_in_ns(&b, &config, 3000 * MS), 100 * MS);
    assert_int_equal(rk_breaker_allow(&b, &config, 3100 * MS, &probe), 1);
    assert_int_equal(probe, 1);
}

static void neutral_outcomes_count_for_nothing(void **state)
{
    (void)state;
    rk_breaker_t b = {0};
    for (int i = 0; i < 20; i++)
        assert_int_equal(call(&b, (uint64_t)i, RK_BREAKER_NEUTRAL), RK_BREAKER_CLOSED);
    assert_int_equal(b.seen, 0);
    for (int i = 0; i < 3; i++)
        call(&b, 0, RK_BREAKER_FAILURE);
    int probe;
    assert_int_equal(rk_breaker_allow(&b, &config, 1000 * MS, &probe), 1);
    /* A neutral probe: still half-open, and the next call probes. */
    assert_int_equal(rk_breaker_record(&b, &config, probe, RK_BREAKER_NEUTRAL, 1000 * MS),
                     RK_BREAKER_HALF_OPEN);
    assert_int_equal(rk_breaker_allow(&b, &config, 1001 * MS, &probe), 1);
    assert_int_equal(probe, 1);
}

static void a_window_of_one_and_of_sixty_four(void **state)
{
    (void)state;
    rk_breaker_config_t one = {.failures = 100, .rate_percent = 100, .window = 1, .open_ns = 1};
    rk_breaker_t b = {0};
    int probe;
    rk_breaker_allow(&b, &one, 0, &probe);
    assert_int_equal(rk_breaker_record(&b, &one, 0, RK_BREAKER_SUCCESS, 0), RK_BREAKER_CLOSED);
    rk_breaker_allow(&b, &one, 0, &probe);
    assert_int_equal(rk_breaker_record(&b, &one, 0, RK_BREAKER_FAILURE, 0), RK_BREAKER_OPEN);

    rk_breaker_config_t wide = {.failures = 1000, .rate_percent = 10, .window = 64, .open_ns = 1};
    rk_breaker_t w = {0};
    for (int i = 0; i < 63; i++) {
        rk_breaker_allow(&w, &wide, 0, &probe);
        assert_int_equal(
            rk_breaker_record(&w, &wide, 0, i < 7 ? RK_BREAKER_FAILURE : RK_BREAKER_SUCCESS, 0),
            RK_BREAKER_CLOSED);
    }
    rk_breaker_allow(&w, &wide, 0, &probe);
    assert_int_equal(rk_breaker_record(&w, &wide, 0, RK_BREAKER_SUCCESS, 0), RK_BREAKER_OPEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(consecutive_failures_open_it),
        cmocka_unit_test(failure_rate_opens_it_once_the_window_is_full),
        cmocka_unit_test(half_open_lets_one_probe_through),
        cmocka_unit_test(a_failed_probe_reopens_it_for_another_cool_down),
        cmocka_unit_test(neutral_outcomes_count_for_nothing),
        cmocka_unit_test(a_window_of_one_and_of_sixty_four),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
