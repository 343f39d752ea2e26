/*
 * fee.h — what using a facility costs, from its FeeSchedule (facility.proto): the fee of a
 * time range for one side of the schedule, and the lowest hourly fee (for sorting and the
 * "max price" filter).
 *
 * Pure and shared by the hub and the reference adapters (library rk_fee), so that the fee a
 * resident is quoted and the fee the owner's adapter charges are computed the same way: days
 * are Japan's (core/jp_calendar.h), bands are local times of day.
 */
#ifndef RK_FACILITY_FEE_H
#define RK_FACILITY_FEE_H

#include "renkei/v1/facility.pb-c.h"

#include <stdint.h>

/* Which side of a fee schedule applies, numbered like renkei.v1.FeeBasis. */
typedef enum {
    RK_FEE_RESIDENT_RATE = 1,     /* 市民料金 */
    RK_FEE_NON_RESIDENT_RATE = 2, /* 市外料金 */
} rk_fee_basis_t;

/*
 * The fee of [start, end) (Unix seconds) at `basis`: for every local day the range touches and
 * every rate of that day's type, the minutes of the range inside the rate's band are charged
 * as whole units, rounded up (a 90-minute use of a 60-minute rate is two units). 0 and *yen
 * set when every minute of the range lies in exactly one band whose fee for `basis` is given
 * (not negative, the sum within int64);
 * -1 otherwise (no schedule, a gap, overlapping bands, a malformed band, a range longer than
 * 31 days or not in whole minutes: not computable).
 */
int rk_fee_of_range(const Renkei__V1__FeeSchedule *schedule, int64_t start, int64_t end,
                    rk_fee_basis_t basis, int64_t *yen);

/* The lowest fee per 60 minutes of any rate at `basis`, rounded up to a whole yen: 0 and *yen
 * set, or -1 when no rate has a fee for `basis`. */
int rk_fee_hourly_from(const Renkei__V1__FeeSchedule *schedule, rk_fee_basis_t basis,
                       int64_t *yen);

#endif
