/*
 * availability_rules_test.c — unit tests for hub/facility/availability_rules.c: RFC 3339
 * instants (offsets, fractions, calendar limits), every rule of a GetAvailabilityRequest with
 * the field it names, and the cleaning of an owner's slots (window, order, bad times, unknown
 * status, slot ids that are not UTF-8). No sockets, no database.
 */
#include "facility/availability_rules.h"

#include "core/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#define NOW 1795824000 /* 2026-11-28T00:00:00Z */

static void instants(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(rk_availability_time_parse("2026-11-28T00:00:00Z", &t), RK_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(rk_availability_time_parse("2026-11-28T09:00:00+09:00", &t), RK_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(rk_availability_time_parse("2026-11-27T23:30:00.123456-00:30", &t), RK_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(rk_availability_time_parse("2028-02-29T00:00:00z", &t), RK_OK);
    assert_int_equal(rk_availability_time_parse("1970-01-01T00:00:00Z", &t), RK_OK);
    assert_int_equal(t, 0);
    char out[RK_AVAILABILITY_TIME_MAX];
    rk_availability_time_format(NOW + 3661, out);
    assert_string_equal(out, "2026-11-28T01:01:01Z");
    static const char *const bad[] = {
        "",
        "2026-11-28",
        "2026-11-28 00:00:00Z",
        "2026-11-28T00:00:00",
        "2026-13-01T00:00:00Z",
        "2027-02-29T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2026-11-28T24:00:00Z",
        "2026-11-28T00:60:00Z",
        "2026-11-28T00:00:00.Z",
        "2026-11-28T00:00:00+0900",
        "2026-11-28T00:00:00Z ",
        "２０２６-11-28T00:00:00Z",
        "2026-11-28T00:00:00+24:00",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(rk_availability_time_parse(bad[i], &t), RK_EINVAL);
}

/* Checks a request of ids and window; returns the violated field or "" when valid. */
static const char *check(char **ids, size_t n, const char *start, const char *end,
                         rk_availability_window_t *w)
{
    static rk_availability_violation_t v;
    Renkei__V1__TimeRange window = RENKEI__V1__TIME_RANGE__INIT;
    window.start = (char *)start;
    window.end = (char *)end;
    Renkei__V1__GetAvailabilityRequest in = RENKEI__V1__GET_AVAILABILITY_REQUEST__INIT;
    in.facility_ids = ids;
    in.n_facility_ids = n;
    in.window = start ? &window : NULL;
    memset(&v, 0, sizeof(v));
    if (rk_availability_request_check(&in, NOW, w, &v) == RK_OK)
        return "";
    assert_true(*v.description);
    return v.field;
}

static void requests(void **state)
{
    (void)state;
    rk_availability_window_t w;
    char *one[] = {"17"};
    assert_string_equal(check(one, 1, "2026-11-28T09:00:00+09:00", "2026-11-29T00:00:00Z", &w), "");
    assert_int_equal(w.start, NOW);
    assert_string_equal(w.start_text, "2026-11-28T00:00:00Z");
    assert_string_equal(w.end_text, "2026-11-29T00:00:00Z");

    assert_string_equal(check(one, 0, "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z", &w),
                        "facility_ids");
    char *many[51];
    char digits[51][4];
    for (int i = 0; i < 51; i++) {
        snprintf(digits[i], sizeof(digits[i]), "%d", i + 1);
        many[i] = digits[i];
    }
    assert_string_equal(check(many, 50, "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z", &w), "");
    assert_string_equal(check(many, 51, "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z", &w),
                        "facility_ids");
    char *bad_ids[][2] = {
        {"1", "abc"}, {"1", "0"}, {"1", "012"}, {"1", ""}, {"1", "9223372036854775808"},
        {"1", "-5"}};
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++)
        assert_string_equal(
            check(bad_ids[i], 2, "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z", &w),
            "facility_ids[1]");
    char *biggest[] = {"9223372036854775807"};
    assert_string_equal(check(biggest, 1, "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z", &w), "");
    char *twice[] = {"4", "5", "4"};
    assert_string_equal(check(twice, 3, "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z", &w),
                        "facility_ids[2]");

    assert_string_equal(check(one, 1, NULL, NULL, &w), "window");
    assert_string_equal(check(one, 1, "", "2026-11-29T00:00:00Z", &w), "window.start");
    assert_string_equal(check(one, 1, "tomorrow", "2026-11-29T00:00:00Z", &w), "window.start");
    assert_string_equal(check(one, 1, "2026-11-28T00:00:00Z", "", &w), "window.end");
    assert_string_equal(check(one, 1, "2026-11-28T00:00:00Z", "2026-11-29", &w), "window.end");
    /* Reversed, empty, longer than 31 days, too far ahead, too long ago. */
    assert_string_equal(check(one, 1, "2026-11-29T00:00:00Z", "2026-11-28T00:00:00Z", &w),
                        "window.end");
    assert_string_equal(check(one, 1, "2026-11-28T00:00:00Z", "2026-11-28T00:00:00Z", &w),
                        "window.end");
    assert_string_equal(check(one, 1, "2026-11-28T00:00:00Z", "2026-12-29T00:00:00Z", &w), "");
    assert_string_equal(check(one, 1, "2026-11-28T00:00:00Z", "2026-12-29T00:00:01Z", &w),
                        "window");
    assert_string_equal(check(one, 1, "2027-11-29T00:00:00Z", "2027-11-30T00:00:00Z", &w),
                        "window.end");
    assert_string_equal(check(one, 1, "2025-11-26T00:00:00Z", "2025-11-27T00:00:00Z", &w),
                        "window.start");
}

static Renkei__V1__Slot *slot(Renkei__V1__Slot *s, Renkei__V1__TimeRange *t, const char *start,
                              const char *end, Renkei__V1__SlotStatus status, const char *id)
{
    renkei__v1__time_range__init(t);
    t->start = (char *)start;
    t->end = (char *)end;
    renkei__v1__slot__init(s);
    s->time = t;
    s->status = status;
    s->slot_id = (char *)id;
    return s;
}

static void slots(void **state)
{
    (void)state;
    rk_availability_window_t w;
    char *one[] = {"1"};
    assert_string_equal(check(one, 1, "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z", &w), "");
    Renkei__V1__Slot s[8];
    Renkei__V1__TimeRange t[8];
    const Renkei__V1__SlotStatus ok = RENKEI__V1__SLOT_STATUS__SLOT_STATUS_AVAILABLE;
    Renkei__V1__Slot *list[] = {
        slot(&s[0], &t[0], "2026-11-28T12:00:00Z", "2026-11-28T14:00:00Z", ok, "late"),
        slot(&s[1], &t[1], "2026-11-28T09:00:00+09:00", "2026-11-28T02:00:00Z", ok, "early"),
        slot(&s[2], &t[2], "2026-11-27T22:00:00Z", "2026-11-28T00:00:00Z", ok, "before"),
        slot(&s[3], &t[3], "2026-11-29T00:00:00Z", "2026-11-29T02:00:00Z", ok, "after"),
        slot(&s[4], &t[4], "2026-11-28T03:00:00Z", "2026-11-28T03:00:00Z", ok, "empty"),
        slot(&s[5], &t[5], "noon", "2026-11-28T05:00:00Z", ok, "garbled"),
        slot(&s[6], &t[6], "2026-11-28T04:00:00Z", "2026-11-28T05:00:00Z",
             (Renkei__V1__SlotStatus)77, "unknown-status"),
        slot(&s[7], &t[7], "2026-11-27T23:00:00Z", "2026-11-28T01:00:00Z",
             RENKEI__V1__SLOT_STATUS__SLOT_STATUS_BOOKED, "over\xff\xfe"),
    };
    size_t n = rk_availability_slots_clean(list, 8, &w);
    assert_int_equal(n, 3);
    assert_string_equal(list[0]->slot_id, ""); /* the overlapping one, its id emptied */
    assert_string_equal(list[1]->slot_id, "early");
    assert_string_equal(list[2]->slot_id, "late");
    assert_int_equal(rk_availability_slots_clean(list, 0, &w), 0);
}

static void first_free_run(void **state)
{
    (void)state;
    Renkei__V1__Slot s[5];
    Renkei__V1__TimeRange t[5];
    const Renkei__V1__SlotStatus ok = RENKEI__V1__SLOT_STATUS__SLOT_STATUS_AVAILABLE;
    const Renkei__V1__SlotStatus booked = RENKEI__V1__SLOT_STATUS__SLOT_STATUS_BOOKED;
    Renkei__V1__Slot *list[] = {
        slot(&s[0], &t[0], "2026-11-28T00:00:00Z", "2026-11-28T01:00:00Z", ok, ""),
        slot(&s[1], &t[1], "2026-11-28T01:00:00Z", "2026-11-28T02:00:00Z", booked, ""),
        slot(&s[2], &t[2], "2026-11-28T02:00:00Z", "2026-11-28T03:00:00Z", ok, ""),
        slot(&s[3], &t[3], "2026-11-28T04:00:00Z", "2026-11-28T05:00:00Z", ok, ""), /* a gap */
        slot(&s[4], &t[4], "2026-11-28T05:00:00Z", "2026-11-28T06:00:00Z", ok, ""),
    };
    Renkei__V1__FacilityAvailability fa = RENKEI__V1__FACILITY_AVAILABILITY__INIT;
    fa.slots = list;
    fa.n_slots = 5;
    int64_t start = 0, expected;
    assert_int_equal(rk_availability_first_free(&fa, 0, &start), RK_OK);
    rk_availability_time_parse("2026-11-28T00:00:00Z", &expected);
    assert_int_equal(start, expected);
    /* Two hours in a row: not across the booked slot, not across the gap. */
    assert_int_equal(rk_availability_first_free(&fa, 120, &start), RK_OK);
    rk_availability_time_parse("2026-11-28T04:00:00Z", &expected);
    assert_int_equal(start, expected);
    assert_int_equal(rk_availability_first_free(&fa, 180, &start), RK_ENOTFOUND);
    assert_int_equal(rk_availability_first_free(NULL, 0, &start), RK_ENOTFOUND);
}

static void other_windows_are_named(void **state)
{
    (void)state;
    Renkei__V1__TimeRange r = RENKEI__V1__TIME_RANGE__INIT;
    rk_availability_window_t w;
    rk_availability_violation_t v;
    r.start = "2026-11-29T00:00:00Z";
    r.end = "2026-11-28T00:00:00Z";
    assert_int_equal(rk_availability_window_check(&r, "free_within", 1795000000, &w, &v), RK_EINVAL);
    assert_string_equal(v.field, "free_within.end");
    assert_string_equal(v.description, "must be after free_within.start");
    assert_int_equal(rk_availability_window_check(NULL, "free_within", 1795000000, &w, &v),
                     RK_EINVAL);
    assert_string_equal(v.field, "free_within");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(instants),
        cmocka_unit_test(requests),
        cmocka_unit_test(slots),
        cmocka_unit_test(first_free_run),
        cmocka_unit_test(other_windows_are_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
