/*
 * fee_test.c — unit tests for hub/facility/fee.c: units rounded up, weekday / weekend /
 * holiday bands in Japan time, bands within a day (午前・午後・夜間), both sides of the schedule,
 * ranges no band covers, malformed bands, and the lowest hourly fee.
 */
#include "facility/fee.h"

#include "core/jp_calendar.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define DT(x) RENKEI__V1__DAY_TYPE__DAY_TYPE_##x

typedef struct {
    Renkei__V1__FeeRate rate;
    Renkei__V1__Yen resident, non_resident;
    Renkei__V1__DayType days[3];
} rate_t;

static void rate_init(rate_t *r, int unit, int64_t resident, int64_t non_resident,
                      const char *from, const char *to, int n_days, Renkei__V1__DayType d0,
                      Renkei__V1__DayType d1, Renkei__V1__DayType d2)
{
    renkei__v1__fee_rate__init(&r->rate);
    renkei__v1__yen__init(&r->resident);
    renkei__v1__yen__init(&r->non_resident);
    r->resident.amount = resident;
    r->non_resident.amount = non_resident;
    r->rate.unit_minutes = unit;
    r->rate.resident_fee = &r->resident;
    r->rate.non_resident_fee = non_resident >= 0 ? &r->non_resident : NULL;
    r->rate.start_time = (char *)from;
    r->rate.end_time = (char *)to;
    r->days[0] = d0;
    r->days[1] = d1;
    r->days[2] = d2;
    r->rate.n_day_types = (size_t)n_days;
    r->rate.day_types = r->days;
}

/* Unix seconds of a JST wall-clock time. */
static int64_t jst(int y, int mo, int d, int h, int mi)
{
    return rk_jp_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 - RK_JST_OFFSET_S;
}

/* Weekdays 1,000 / 1,500 per 60 minutes; weekends and holidays 1,250 / 1,900, all day. */
static rate_t weekday, weekend;
static Renkei__V1__FeeRate *two[2];
static Renkei__V1__FeeSchedule schedule;

static int setup(void **state)
{
    (void)state;
    rate_init(&weekday, 60, 1000, 1500, "", "", 1, DT(WEEKDAY), 0, 0);
    rate_init(&weekend, 60, 1250, 1900, "", "", 3, DT(SATURDAY), DT(SUNDAY), DT(HOLIDAY));
    two[0] = &weekday.rate;
    two[1] = &weekend.rate;
    renkei__v1__fee_schedule__init(&schedule);
    schedule.n_rates = 2;
    schedule.rates = two;
    return 0;
}

static int64_t fee(int64_t start, int64_t end, rk_fee_basis_t basis)
{
    int64_t yen = -12345;
    assert_int_equal(rk_fee_of_range(&schedule, start, end, basis, &yen), 0);
    return yen;
}

static void units_by_day_type_and_side(void **state)
{
    (void)state;
    /* Friday 2026-11-27 09:00–11:00 JST: two weekday units. */
    assert_int_equal(fee(jst(2026, 11, 27, 9, 0), jst(2026, 11, 27, 11, 0), RK_FEE_RESIDENT_RATE),
                     2000);
    assert_int_equal(
        fee(jst(2026, 11, 27, 9, 0), jst(2026, 11, 27, 11, 0), RK_FEE_NON_RESIDENT_RATE), 3000);
    /* Saturday: the weekend band. */
    assert_int_equal(fee(jst(2026, 11, 28, 9, 0), jst(2026, 11, 28, 10, 0), RK_FEE_RESIDENT_RATE),
                     1250);
    /* Monday 2026-11-23 is 勤労感謝の日: the holiday band. */
    assert_int_equal(fee(jst(2026, 11, 23, 9, 0), jst(2026, 11, 23, 10, 0), RK_FEE_RESIDENT_RATE),
                     1250);
    /* 90 minutes of a 60-minute rate are two units. */
    assert_int_equal(fee(jst(2026, 11, 27, 9, 0), jst(2026, 11, 27, 10, 30), RK_FEE_RESIDENT_RATE),
                     2000);
    /* Friday 23:00 to Saturday 01:00 crosses into the weekend band. */
    assert_int_equal(fee(jst(2026, 11, 27, 23, 0), jst(2026, 11, 28, 1, 0), RK_FEE_RESIDENT_RATE),
                     2250);
}

static void bands_within_a_day(void **state)
{
    (void)state;
    rate_t morning, afternoon;
    rate_init(&morning, 240, 2400, 3600, "09:00", "13:00", 0, 0, 0, 0);
    rate_init(&afternoon, 240, 3000, 4500, "13:00", "17:00", 0, 0, 0, 0);
    Renkei__V1__FeeRate *rates[] = {&morning.rate, &afternoon.rate};
    Renkei__V1__FeeSchedule s = RENKEI__V1__FEE_SCHEDULE__INIT;
    s.n_rates = 2;
    s.rates = rates;
    int64_t yen = 0;
    assert_int_equal(rk_fee_of_range(&s, jst(2026, 12, 1, 9, 0), jst(2026, 12, 1, 17, 0),
                                     RK_FEE_RESIDENT_RATE, &yen),
                     0);
    assert_int_equal(yen, 5400);
    assert_int_equal(rk_fee_of_range(&s, jst(2026, 12, 1, 11, 0), jst(2026, 12, 1, 15, 0),
                                     RK_FEE_NON_RESIDENT_RATE, &yen),
                     0);
    assert_int_equal(yen, 8100); /* a part of each band is one unit of each */
    /* 17:00–18:00 lies in no band: not computable. */
    assert_int_equal(rk_fee_of_range(&s, jst(2026, 12, 1, 16, 0), jst(2026, 12, 1, 18, 0),
                                     RK_FEE_RESIDENT_RATE, &yen),
                     -1);
}

static void not_computable(void **state)
{
    (void)state;
    int64_t yen = 7;
    int64_t a = jst(2026, 12, 1, 9, 0), b = jst(2026, 12, 1, 10, 0);
    assert_int_equal(rk_fee_of_range(NULL, a, b, RK_FEE_RESIDENT_RATE, &yen), -1);
    assert_int_equal(rk_fee_of_range(&schedule, b, a, RK_FEE_RESIDENT_RATE, &yen), -1);
    rate_t only_residents;
    rate_init(&only_residents, 60, 500, -1, "", "", 0, 0, 0, 0);
    Renkei__V1__FeeRate *rates[] = {&only_residents.rate};
    Renkei__V1__FeeSchedule s = RENKEI__V1__FEE_SCHEDULE__INIT;
    s.n_rates = 1;
    s.rates = rates;
    assert_int_equal(rk_fee_of_range(&s, a, b, RK_FEE_NON_RESIDENT_RATE, &yen), -1);
    assert_int_equal(rk_fee_of_range(&s, a, b, RK_FEE_RESIDENT_RATE, &yen), 0);
    assert_int_equal(yen, 500);
    only_residents.rate.start_time = "9:00"; /* not HH:MM */
    assert_int_equal(rk_fee_of_range(&s, a, b, RK_FEE_RESIDENT_RATE, &yen), -1);
    only_residents.rate.start_time = "";
    only_residents.rate.unit_minutes = 0;
    assert_int_equal(rk_fee_of_range(&s, a, b, RK_FEE_RESIDENT_RATE, &yen), -1);
    /* Two bands covering the same minutes: refused rather than charged twice. */
    rate_t all_day;
    rate_init(&all_day, 60, 100, 100, "", "", 0, 0, 0, 0);
    Renkei__V1__FeeRate *overlapping[] = {&weekday.rate, &all_day.rate};
    s.n_rates = 2;
    s.rates = overlapping;
    assert_int_equal(rk_fee_of_range(&s, a, b, RK_FEE_RESIDENT_RATE, &yen), -1);
}

static void lowest_hourly_fee(void **state)
{
    (void)state;
    int64_t yen = 0;
    assert_int_equal(rk_fee_hourly_from(&schedule, RK_FEE_RESIDENT_RATE, &yen), 0);
    assert_int_equal(yen, 1000);
    rate_t block;
    rate_init(&block, 240, 2500, 3700, "", "", 0, 0, 0, 0);
    Renkei__V1__FeeRate *rates[] = {&block.rate};
    Renkei__V1__FeeSchedule s = RENKEI__V1__FEE_SCHEDULE__INIT;
    s.n_rates = 1;
    s.rates = rates;
    assert_int_equal(rk_fee_hourly_from(&s, RK_FEE_NON_RESIDENT_RATE, &yen), 0);
    assert_int_equal(yen, 925);
    assert_int_equal(rk_fee_hourly_from(&s, RK_FEE_RESIDENT_RATE, &yen), 0);
    assert_int_equal(yen, 625);
    s.n_rates = 0;
    assert_int_equal(rk_fee_hourly_from(&s, RK_FEE_RESIDENT_RATE, &yen), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(units_by_day_type_and_side),
        cmocka_unit_test(bands_within_a_day),
        cmocka_unit_test(not_computable),
        cmocka_unit_test(lowest_hourly_fee),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
