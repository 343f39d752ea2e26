/*
 * availability_cache_test.c — unit tests for hub/facility/availability_cache.c: keys, put and
 * get with ages, replacement, the byte bound with least-recently-used eviction, entries larger
 * than the bound, and a table grown past its first buckets. No sockets, no database.
 */
#include "facility/availability_cache.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull

static void put_text(rk_availability_cache_t *c, const char *key, const char *value, uint64_t at)
{
    rk_availability_cache_put(c, key, (const uint8_t *)value, strlen(value), at,
                              "2026-11-28T09:00:00Z");
}

static void keys_are_unambiguous(void **state)
{
    (void)state;
    char *a = rk_availability_cache_key(1, "x/2", "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z");
    char *b = rk_availability_cache_key(1, "x", "2/2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z");
    char *c = rk_availability_cache_key(12, "x/2", "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z");
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, c);
    free(a);
    free(b);
    free(c);
}

static void get_honours_the_age_asked(void **state)
{
    (void)state;
    rk_availability_cache_t *c = rk_availability_cache_new(1 << 20);
    assert_null(rk_availability_cache_get(c, "k", 0, 1000 * MS));
    put_text(c, "k", "slots", 100 * MS);
    const rk_availability_cache_entry_t *e = rk_availability_cache_get(c, "k", 600 * MS, 500 * MS);
    assert_non_null(e);
    assert_int_equal(e->len, 5);
    assert_memory_equal(e->value, "slots", 5);
    assert_int_equal(e->fetched_ns, 100 * MS);
    assert_string_equal(e->as_of, "2026-11-28T09:00:00Z");
    assert_null(rk_availability_cache_get(c, "k", 601 * MS, 500 * MS)); /* too old for a TTL */
    assert_non_null(rk_availability_cache_get(c, "k", 601 * MS, 60000 * MS)); /* fine if stale */
    put_text(c, "k", "newer", 700 * MS);                                      /* replaces */
    e = rk_availability_cache_get(c, "k", 700 * MS, 0);
    assert_memory_equal(e->value, "newer", 5);
    assert_int_equal(rk_availability_cache_entries(c), 1);
    rk_availability_cache_free(c);
}

static void the_bound_evicts_the_least_recently_used(void **state)
{
    (void)state;
    char value[1000];
    memset(value, 'v', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    rk_availability_cache_t *c = rk_availability_cache_new(3 * 1200); /* room for three */
    put_text(c, "a", value, 0);
    put_text(c, "b", value, 0);
    put_text(c, "c", value, 0);
    assert_int_equal(rk_availability_cache_entries(c), 3);
    assert_non_null(rk_availability_cache_get(c, "a", 0, 1)); /* a is now the most recent */
    put_text(c, "d", value, 0);                               /* evicts b, the least recent */
    assert_int_equal(rk_availability_cache_entries(c), 3);
    assert_int_equal(rk_availability_cache_evictions(c), 1);
    assert_null(rk_availability_cache_get(c, "b", 0, 1));
    assert_non_null(rk_availability_cache_get(c, "a", 0, 1));
    assert_non_null(rk_availability_cache_get(c, "c", 0, 1));
    assert_non_null(rk_availability_cache_get(c, "d", 0, 1));
    assert_true(rk_availability_cache_bytes(c) <= 3 * 1200);

    char big[5000];
    memset(big, 'B', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    put_text(c, "a", big, 0); /* larger than the bound: not kept, and the old a is gone */
    assert_null(rk_availability_cache_get(c, "a", 0, 1));
    assert_int_equal(rk_availability_cache_entries(c), 2);
    rk_availability_cache_free(c);

    rk_availability_cache_t *none = rk_availability_cache_new(0); /* keeps nothing */
    put_text(none, "a", "x", 0);
    assert_null(rk_availability_cache_get(none, "a", 0, 1));
    rk_availability_cache_free(none);
}

static void many_entries_grow_the_table(void **state)
{
    (void)state;
    rk_availability_cache_t *c = rk_availability_cache_new(64u << 20);
    char key[32], value[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        snprintf(value, sizeof(value), "value-%d", i);
        put_text(c, key, value, (uint64_t)i);
    }
    assert_int_equal(rk_availability_cache_entries(c), 5000);
    for (int i = 0; i < 5000; i += 37) {
        snprintf(key, sizeof(key), "key-%d", i);
        snprintf(value, sizeof(value), "value-%d", i);
        const rk_availability_cache_entry_t *e = rk_availability_cache_get(c, key, 5000, 100000);
        assert_non_null(e);
        assert_int_equal(e->len, strlen(value));
        assert_memory_equal(e->value, value, e->len);
    }
    rk_availability_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_are_unambiguous),
        cmocka_unit_test(get_honours_the_age_asked),
        cmocka_unit_test(the_bound_evicts_the_least_recently_used),
        cmocka_unit_test(many_entries_grow_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
