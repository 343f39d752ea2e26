/*
 * hold_sweep.h — the holds' and loans' recovery sweep, on worker 0 at start and every
 * facility.booking_sweep_ms (the bookings' period): rows claimed with rk_library_sweep_claim
 * (migration 0014: a lease, FOR UPDATE SKIP LOCKED, so several hubs never take the same row);
 * PLACING and CANCELLING rows finished at the owner with the same key (hold_owner.h),
 * REQUESTED rows older than a minute failed (the owner was never asked). Loans likewise, with
 * rk_library_loan_sweep_claim (migration 0016): CHECKING_OUT, RETURNING and renewing rows
 * finished at the owner with the same key (loan_owner.h).
 */
#ifndef RK_LIBRARY_HOLD_SWEEP_H
#define RK_LIBRARY_HOLD_SWEEP_H

#include "library/library.h"

/** Prepares the claim and, on worker 0, schedules the passes (library->sweep). */
void rk_library_hold_sweep_start(rk_library_t *library);

/** No further passes (the module is closing); a pass in flight ends on its own. */
void rk_library_hold_sweep_stop(rk_library_t *library);

#endif
