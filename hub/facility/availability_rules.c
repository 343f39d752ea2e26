/*
 * availability_rules.c — request checks, RFC 3339 instants and slot cleaning for GetAvailability
 * (see availability_rules.h).
 *
 * Instants are converted with the civil-calendar arithmetic of Howard Hinnant's
 * days_from_civil, not timegm(): no time zone state, the same result in every process.
 */
#include "facility/availability_rules.h"

#include "core/error.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FACILITY_ID_DIGITS_MAX 19 /* a bigint */

/* --- RFC 3339 ----------------------------------------------------------------------------- */

/* n decimal digits at s into *out; 0 when one is not a digit. */
static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

int rk_availability_time_parse(const char *s, int64_t *seconds)
{
    int y, mo, d, h, mi, sec;
    if (!s || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return RK_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return RK_EINVAL;
    const char *p = s + 19;
    if (*p == '.') {
        size_t n = strspn(p + 1, "0123456789");
        if (n < 1 || n > 9)
            return RK_EINVAL;
        p += 1 + n;
    }
    int offset = 0;
    if ((*p == 'Z' || *p == 'z') && !p[1]) {
        offset = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return RK_EINVAL;
        offset = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
    } else {
        return RK_EINVAL;
    }
    *seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    return RK_OK;
}

void rk_availability_time_format(int64_t seconds, char out[RK_AVAILABILITY_TIME_MAX])
{
    time_t t = (time_t)seconds;
    struct tm tm;
    if (!gmtime_r(&t, &tm) ||
        strftime(out, RK_AVAILABILITY_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, RK_AVAILABILITY_TIME_MAX, "1970-01-01T00:00:00Z");
}

/* --- the request -------------------------------------------------------------------------- */

static int violation(rk_availability_violation_t *v, const char *field, const char *description)
{
    snprintf(v->field, sizeof(v->field), "%s", field);
    snprintf(v->description, sizeof(v->description), "%s", description);
    return RK_EINVAL;
}

static int facility_id_valid(const char *id)
{
    size_t len = strlen(id);
    if (len < 1 || len > FACILITY_ID_DIGITS_MAX || id[0] == '0' || strspn(id, "0123456789") != len)
        return 0;
    return len < FACILITY_ID_DIGITS_MAX || strcmp(id, "9223372036854775807") <= 0;
}

int rk_availability_request_check(const Renkei__V1__GetAvailabilityRequest *in, int64_t now,
                                  rk_availability_window_t *w, rk_availability_violation_t *v)
{
    char field[48];
    if (in->n_facility_ids < 1)
        return violation(v, "facility_ids", "required: 1 to 50 Facility.id values");
    if (in->n_facility_ids > RK_AVAILABILITY_MAX_FACILITIES)
        return violation(v, "facility_ids", "at most 50 facilities in one request");
    for (size_t i = 0; i < in->n_facility_ids; i++) {
        snprintf(field, sizeof(field), "facility_ids[%zu]", i);
        if (!facility_id_valid(in->facility_ids[i]))
            return violation(v, field, "not a Facility.id of this hub (from SearchFacilities)");
        for (size_t j = 0; j < i; j++) {
            if (strcmp(in->facility_ids[i], in->facility_ids[j]) == 0) {
                char why[80];
                snprintf(why, sizeof(why), "the same facility as facility_ids[%zu]", j);
                return violation(v, field, why);
            }
        }
    }
    return rk_availability_window_check(in->window, "window", now, w, v);
}

/* violation() with the field "<name><suffix>". */
static int window_violation(rk_availability_violation_t *v, const char *name, const char *suffix,
                            const char *description)
{
    char field[48];
    snprintf(field, sizeof(field), "%s%s", name, suffix);
    return violation(v, field, description);
}

int rk_availability_window_check(const Renkei__V1__TimeRange *r, const char *name, int64_t now,
                                 rk_availability_window_t *w, rk_availability_violation_t *v)
{
    if (!r)
        return window_violation(v, name, "", "required: the period to show slots for");
    if (!*r->start)
        return window_violation(v, name, ".start", "required (RFC 3339, e.g. 2026-11-28T00:00:00Z)");
    if (rk_availability_time_parse(r->start, &w->start) != RK_OK)
        return window_violation(v, name, ".start",
                                "must be an RFC 3339 instant (2026-11-28T00:00:00Z)");
    if (!*r->end)
        return window_violation(v, name, ".end", "required (RFC 3339, e.g. 2026-11-29T00:00:00Z)");
    if (rk_availability_time_parse(r->end, &w->end) != RK_OK)
        return window_violation(v, name, ".end",
                                "must be an RFC 3339 instant (2026-11-29T00:00:00Z)");
    if (w->end <= w->start) {
        char rule[64];
        snprintf(rule, sizeof(rule), "must be after %s.start", name);
        return window_violation(v, name, ".end", rule);
    }
    if (w->end - w->start > RK_AVAILABILITY_MAX_WINDOW_S)
        return window_violation(v, name, "", "at most 31 days long");
    if (w->end > now + RK_AVAILABILITY_HORIZON_S)
        return window_violation(v, name, ".end", "at most 366 days from now");
    if (w->start < now - RK_AVAILABILITY_HORIZON_S)
        return window_violation(v, name, ".start", "at most 366 days ago");
    rk_availability_time_format(w->start, w->start_text);
    rk_availability_time_format(w->end, w->end_text);
    return RK_OK;
}

int rk_availability_first_free(const Renkei__V1__FacilityAvailability *fa, int min_minutes,
                                int64_t *start)
{
    int64_t run_start = 0, run_end = 0;
    int in_run = 0;
    for (size_t i = 0; fa && i < fa->n_slots; i++) {
        const Renkei__V1__Slot *slot = fa->slots[i];
        int64_t s, e;
        if (slot->status != RENKEI__V1__SLOT_STATUS__SLOT_STATUS_AVAILABLE || !slot->time ||
            rk_availability_time_parse(slot->time->start, &s) != RK_OK ||
            rk_availability_time_parse(slot->time->end, &e) != RK_OK || e <= s) {
            in_run = 0;
            continue;
        }
        if (!in_run || s != run_end) {
            run_start = s;
            in_run = 1;
        }
        run_end = e;
        if (run_end - run_start >= (int64_t)min_minutes * 60) {
            *start = run_start;
            return RK_OK;
        }
    }
    return RK_ENOTFOUND;
}

/* --- slots -------------------------------------------------------------------------------- */

/* 1 when s is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static int utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        int n = c < 0x80             ? 0
                : (c & 0xe0) == 0xc0 ? 1
                : (c & 0xf0) == 0xe0 ? 2
                : (c & 0xf8) == 0xf0 ? 3
                                     : -1;
        if (n < 0 || (n == 1 && c < 0xc2) || (c == 0xf4 && p[1] > 0x8f) || c > 0xf4)
            return 0;
        if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90))
            return 0;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
        }
        p += n + 1;
    }
    return 1;
}

typedef struct timed_slot {
    int64_t start, end;
    Renkei__V1__Slot *slot;
} timed_slot_t;

static int by_time(const void *a, const void *b)
{
    const timed_slot_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

size_t rk_availability_slots_clean(Renkei__V1__Slot **slots, size_t n,
                                   const rk_availability_window_t *w)
{
    if (!n)
        return 0;
    timed_slot_t *kept = rk_xmalloc(n * sizeof(*kept));
    size_t k = 0;
    for (size_t i = 0; i < n && k < RK_AVAILABILITY_MAX_SLOTS; i++) {
        const Renkei__V1__TimeRange *t = slots[i] ? slots[i]->time : NULL;
        int64_t start, end;
        if (!t ||
            !protobuf_c_enum_descriptor_get_value(&renkei__v1__slot_status__descriptor,
                                                  (int)slots[i]->status) ||
            rk_availability_time_parse(t->start, &start) != RK_OK ||
            rk_availability_time_parse(t->end, &end) != RK_OK || end <= start || end <= w->start ||
            start >= w->end)
            continue;
        if (strlen(slots[i]->slot_id) > RK_AVAILABILITY_SLOT_ID_MAX ||
            !utf8_valid(slots[i]->slot_id))
            slots[i]->slot_id = (char *)""; /* unusable for HoldSlot, and not valid JSON */
        kept[k++] = (timed_slot_t){start, end, slots[i]};
    }
    qsort(kept, k, sizeof(*kept), by_time);
    for (size_t i = 0; i < k; i++)
        slots[i] = kept[i].slot;
    free(kept);
    return k;
}
