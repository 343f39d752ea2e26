/*
 * jp_calendar_test.c — unit tests for hub/core/jp_calendar.c: the whole list of 2026's
 * national holidays as the Cabinet Office published it (including a 振替休日 and a 国民の休日),
 * the moved holidays of 2019–2021, the 2007 rule change, JST dates around midnight UTC and day
 * types.
 */
#include "core/jp_calendar.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* 内閣府「令和8年（2026年）の国民の祝日・休日」 */
static const int holidays_2026[][2] = {
    {1, 1},  {1, 12}, {2, 11}, {2, 23}, {3, 20}, {4, 29}, {5, 3},  {5, 4},  {5, 5},
    {5, 6},  {7, 20}, {8, 11}, {9, 21}, {9, 22}, {9, 23}, {10, 12}, {11, 3}, {11, 23},
};

static void every_day_of_2026_is_classified_as_published(void **state)
{
    (void)state;
    int64_t first = rk_jp_days_from_civil(2026, 1, 1);
    size_t found = 0;
    for (int64_t day = first; day < first + 365; day++) {
        rk_jp_date_t d = rk_jp_date_of_day(day);
        int expected = 0;
        for (size_t i = 0; i < sizeof(holidays_2026) / sizeof(holidays_2026[0]); i++)
            expected |= holidays_2026[i][0] == d.month && holidays_2026[i][1] == d.day;
        if (rk_jp_is_holiday(d.year, d.month, d.day) != expected)
            fail_msg("2026-%02d-%02d: expected %s", d.month, d.day,
                     expected ? "a holiday" : "no holiday");
        found += (size_t)expected;
    }
    assert_int_equal(found, 18);
}

static void moved_and_special_holidays(void **state)
{
    (void)state;
    assert_true(rk_jp_is_holiday(2019, 5, 1));   /* 即位の日 */
    assert_true(rk_jp_is_holiday(2019, 4, 30));  /* 国民の休日 of the accession */
    assert_true(rk_jp_is_holiday(2019, 10, 22)); /* 即位礼正殿の儀 */
    assert_false(rk_jp_is_holiday(2019, 12, 23));
    assert_false(rk_jp_is_holiday(2019, 2, 23));
    assert_true(rk_jp_is_holiday(2018, 12, 23));
    assert_true(rk_jp_is_holiday(2020, 7, 24)); /* スポーツの日 of the Olympics */
    assert_false(rk_jp_is_holiday(2020, 10, 12));
    assert_true(rk_jp_is_holiday(2021, 8, 9)); /* 山の日 2021-08-08 was a Sunday */
    assert_true(rk_jp_is_holiday(2006, 4, 29));
    assert_false(rk_jp_is_holiday(2006, 5, 4) && !rk_jp_is_holiday(2006, 5, 3));
    assert_true(rk_jp_is_holiday(2015, 9, 22)); /* the first Silver Week's 国民の休日 */
    assert_true(rk_jp_is_holiday(2024, 3, 20));
    assert_true(rk_jp_is_holiday(2025, 9, 23));
    assert_false(rk_jp_is_holiday(1999, 1, 1)); /* outside the kept years */
}

static void dates_are_japanese_local_dates(void **state)
{
    (void)state;
    /* 2026-11-27T15:00:00Z is 2026-11-28 00:00 JST, a Saturday. */
    int64_t t = rk_jp_days_from_civil(2026, 11, 27) * 86400 + 15 * 3600;
    rk_jp_date_t d = rk_jp_date_of(t);
    assert_int_equal(d.year, 2026);
    assert_int_equal(d.month, 11);
    assert_int_equal(d.day, 28);
    assert_int_equal(d.weekday, 6);
    assert_int_equal(rk_jp_day_type(&d), RK_JP_SATURDAY);
    d = rk_jp_date_of(t - 1);
    assert_int_equal(d.day, 27);
    assert_int_equal(rk_jp_day_type(&d), RK_JP_WEEKDAY);
    d = rk_jp_date_of(rk_jp_days_from_civil(2026, 11, 22) * 86400 + 3600);
    assert_int_equal(rk_jp_day_type(&d), RK_JP_SUNDAY);
    d = rk_jp_date_of(rk_jp_days_from_civil(2026, 11, 23) * 86400);
    assert_int_equal(rk_jp_day_type(&d), RK_JP_HOLIDAY); /* 勤労感謝の日, a Monday */
    d = rk_jp_date_of(rk_jp_days_from_civil(2026, 5, 3) * 86400);
    assert_int_equal(rk_jp_day_type(&d), RK_JP_SUNDAY); /* a holiday on a Sunday */
    d = rk_jp_date_of_day(rk_jp_days_from_civil(2000, 2, 29));
    assert_int_equal(d.month, 2);
    assert_int_equal(d.day, 29);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_day_of_2026_is_classified_as_published),
        cmocka_unit_test(moved_and_special_holidays),
        cmocka_unit_test(dates_are_japanese_local_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
