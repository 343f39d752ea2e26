/*
 * booking_sweep.h — the booking broker's recovery sweep: the rows a call left behind (a hub
 * killed mid-call, a client that never retried) finished without a client.
 *
 * At start and every facility.booking_sweep_ms, worker 0 claims at most 50 rows with no live
 * lease (rk_booking_sweep_claim of migration 0010: FOR UPDATE SKIP LOCKED and a new lease, so
 * two hubs never work one row at once) and, for each:
 *   CONFIRMING → the owner's ConfirmBooking again (the booking id as key) → CONFIRMED, or FAILED
 *                on a typed refusal;
 *   CANCELLING → the owner's CancelBooking again (same key and stored reason) → CANCELLED, or
 *                back to the state it came from on a typed refusal;
 *   HELD past its hold expiry → EXPIRED (in the claim), then released at the owner
 *                (CancelBooking);
 *   REQUESTED older than a minute → FAILED, BOOKING_ERROR_OWNER_UNAVAILABLE (in the claim),
 *                then released at the owner in case its hold was placed.
 * An owner not reached (or no longer active) leaves a CONFIRMING or CANCELLING row as it was
 * and gives its lease back, so the next pass tries again; a release not delivered is logged
 * (the owner's hold runs out there). Nothing here blocks the loop.
 */
#ifndef RK_FACILITY_BOOKING_SWEEP_H
#define RK_FACILITY_BOOKING_SWEEP_H

#include "app.h"

struct rk_facility_booking_sweep;

/** Prepares the sweep's statements and runs the first pass at once; the caller is worker 0. */
struct rk_facility_booking_sweep *rk_facility_booking_sweep_start(rk_app_t *app);

/**
 * Stops the sweep: no new passes or calls; calls in flight end quietly and the last one frees
 * it. NULL is allowed.
 */
void rk_facility_booking_sweep_free(struct rk_facility_booking_sweep *sweep);

#endif
