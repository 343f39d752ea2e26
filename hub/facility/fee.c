/*
 * fee.c — fees of time ranges under a facility's FeeSchedule (see fee.h).
 */
#include "facility/fee.h"

#include "core/jp_calendar.h"

#include <string.h>

#define MINUTES_PER_DAY 1440
#define RANGE_MAX_S (31 * 86400)      /* a longer range is not a booking: not priced */
#define INSTANT_MAX_S (1ll << 40)      /* ±35,000 years: no overflow in the day arithmetic */

/* Minutes after local midnight of "HH:MM" (empty: `fallback`); -1 when malformed. */
static int band_minute(const char *text, int fallback)
{
    if (!text || !*text)
        return fallback;
    if (strlen(text) != 5 || text[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (text[i] < '0' || text[i] > '9'))
            return -1;
    int h = (text[0] - '0') * 10 + (text[1] - '0'), m = (text[3] - '0') * 10 + (text[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return -1;
    return h * 60 + m;
}

static const Renkei__V1__Yen *side(const Renkei__V1__FeeRate *rate, rk_fee_basis_t basis)
{
    return basis == RK_FEE_RESIDENT_RATE ? rate->resident_fee : rate->non_resident_fee;
}

static int applies_on(const Renkei__V1__FeeRate *rate, rk_jp_day_type_t type)
{
    if (rate->n_day_types == 0)
        return 1;
    for (size_t i = 0; i < rate->n_day_types; i++)
        if ((int)rate->day_types[i] == (int)type)
            return 1;
    return 0;
}

int rk_fee_of_range(const Renkei__V1__FeeSchedule *schedule, int64_t start, int64_t end,
                    rk_fee_basis_t basis, int64_t *yen)
{
    if (!schedule || schedule->n_rates == 0 || start < -INSTANT_MAX_S || end > INSTANT_MAX_S ||
        end <= start || end - start > RANGE_MAX_S || (end - start) % 60 != 0)
        return -1;
    int64_t local_start = start + RK_JST_OFFSET_S, local_end = end + RK_JST_OFFSET_S;
    int64_t first_day = local_start / 86400 - (local_start % 86400 < 0);
    int64_t total = 0, covered = 0;
    for (int64_t day = first_day; day * 86400 < local_end; day++) {
        rk_jp_date_t date = rk_jp_date_of_day(day);
        rk_jp_day_type_t type = rk_jp_day_type(&date);
        int64_t midnight = day * 86400;
        for (size_t i = 0; i < schedule->n_rates; i++) {
            const Renkei__V1__FeeRate *rate = schedule->rates[i];
            int from = band_minute(rate->start_time, 0);
            int to = band_minute(rate->end_time, MINUTES_PER_DAY);
            if (from < 0 || to < 0 || to <= from || rate->unit_minutes <= 0)
                return -1;
            if (!applies_on(rate, type))
                continue;
            int64_t lo = midnight + from * 60, hi = midnight + to * 60;
            if (lo < local_start)
                lo = local_start;
            if (hi > local_end)
                hi = local_end;
            if (hi <= lo)
                continue;
            const Renkei__V1__Yen *fee = side(rate, basis);
            if (!fee || fee->amount < 0)
                return -1;
            int64_t minutes = (hi - lo) / 60, band_fee;
            covered += minutes;
            /* an owner's absurd amounts are not computable, never an overflow */
            if (__builtin_mul_overflow((minutes + rate->unit_minutes - 1) / rate->unit_minutes,
                                       fee->amount, &band_fee) ||
                __builtin_add_overflow(total, band_fee, &total))
                return -1;
        }
    }
    if (covered != (end - start) / 60)
        return -1;
    *yen = total;
    return 0;
}

int rk_fee_hourly_from(const Renkei__V1__FeeSchedule *schedule, rk_fee_basis_t basis,
                       int64_t *yen)
{
    int found = 0;
    int64_t best = 0;
    for (size_t i = 0; schedule && i < schedule->n_rates; i++) {
        const Renkei__V1__FeeRate *rate = schedule->rates[i];
        const Renkei__V1__Yen *fee = side(rate, basis);
        int64_t per_hour;
        if (!fee || rate->unit_minutes <= 0 || fee->amount < 0 ||
            __builtin_mul_overflow(fee->amount, 60, &per_hour) ||
            per_hour > INT64_MAX - rate->unit_minutes)
            continue;
        int64_t hourly = (per_hour + rate->unit_minutes - 1) / rate->unit_minutes;
        if (!found || hourly < best)
            best = hourly;
        found = 1;
    }
    if (!found)
        return -1;
    *yen = best;
    return 0;
}
