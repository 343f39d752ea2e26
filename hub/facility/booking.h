/*
 * booking.h — the booking broker: FacilityService.HoldSlot, ConfirmBooking, CancelBooking,
 * GetBooking and ListMyBookings on the state machine of DESIGN.md "Booking and loan broker"
 * (rows in rk_booking, migrations 0008 and 0009).
 *
 * Every call needs a resident's access token (Authorization: Bearer, any realm of this hub;
 * UNAUTHENTICATED with ERROR_REASON_LOGIN_REQUIRED otherwise). A booking belongs to the
 * account behind the token's grant (gid → rk_identity_grant.account_id, checked live in the
 * statement that acts), so every client of the realm sees it; another account's booking is
 * NOT_FOUND.
 *
 * HoldSlot records a REQUESTED row first (the exclusion constraint on facility and time over
 * active bookings: a lost race is a FAILED row and BOOKING_ERROR_SLOT_FULL), then calls the
 * owner's AdapterService.HoldSlot with the booking id as idempotency key, then stores HELD or
 * FAILED (a refusal's BookingError, or OWNER_UNAVAILABLE when the owner could not be asked:
 * any hold it placed runs out there). ConfirmBooking moves HELD to CONFIRMING, calls the
 * owner's ConfirmBooking (same key) and stores CONFIRMED or FAILED; when the owner cannot be
 * reached the row stays CONFIRMING and the answer is UNAVAILABLE: the same call again resumes
 * it (the owner answers a repeated key once). Mutations take an idempotency key (the
 * Idempotency-Key header or the proto field): the same key and request answer from the same
 * booking; another request with the key is ALREADY_EXISTS, ERROR_REASON_IDEMPOTENCY_KEY_REUSED.
 * Refusals are typed (ErrorDetail with the BookingError name and ja/en messages). The owner
 * knows the resident by a pairwise id for its city (sector "tenant:<owner tenant id>"), never
 * by the token's sub.
 *
 * CancelBooking (the caller's own booking, HELD or CONFIRMED) moves the row to CANCELLING
 * first, remembering the state it came from and the reason, then calls the owner's
 * CancelBooking (the booking id as key, the stored reason, so a resumed call is the same
 * request) and stores CANCELLED: the exclusion constraint no longer covers the slot. A
 * CONFIRMED booking past its cancellation_deadline is BOOKING_ERROR_CANCELLATION_CLOSED; an
 * owner's typed refusal puts the row back and answers that reason; an owner not reached is
 * UNAVAILABLE with the row left CANCELLING (the same call again finishes it, once at the
 * owner). Cancelling a CANCELLED booking answers it again; another state is
 * BOOKING_ERROR_INVALID_STATE.
 *
 * ListMyBookings answers the caller's account's bookings (optionally of some states and
 * overlapping a window), newest slot first, in pages of page.page_size (default 20, at most
 * 100); next_page_token is opaque, bound to the request's filters and keyed on the last
 * row's (slot start, id), so inserts between pages neither repeat nor skip rows; total_size
 * is -1.
 *
 * The recovery sweep (booking_sweep.c) resumes CONFIRMING and CANCELLING rows without a
 * client, expires holds and fails REQUESTED rows a crash left behind, with the statements below.
 *
 * Not yet: fees and windows computed by the hub.
 */
#ifndef RK_FACILITY_BOOKING_H
#define RK_FACILITY_BOOKING_H

#include "facility/catalogue_sync.h"
#include "net/rpc_client.h"

/* Statements prepared by rk_facility_booking_register() that the sweep runs too. */
/** $1 id, $2 owner reference, $3 fee (NULL: none), $4 cancellation deadline: CONFIRMING →
 * CONFIRMED. */
#define RK_BOOKING_STMT_CONFIRMED "booking_confirmed"
/** $1 id, $2 the state it must be in, $3 the BookingError name: → FAILED. */
#define RK_BOOKING_STMT_FAIL "booking_fail"
/** $1 id: CANCELLING → CANCELLED. */
#define RK_BOOKING_STMT_CANCELLED "booking_cancelled"
/** $1 id: CANCELLING → the state it came from (the owner refused the cancellation). */
#define RK_BOOKING_STMT_UNCANCEL "booking_uncancel"

/** Prepares the statements and adds the booking methods of FacilityService. */
void rk_facility_booking_register(rk_facility_t *facility, rk_router_t *router);

/**
 * The owner's BookingError name (a "renkei-error-reason" trailer of the table) when result is
 * a typed refusal; NULL when the owner was not reached or answered otherwise (outcome unknown).
 */
const char *rk_facility_booking_refusal(const rk_rpc_result_t *result);

#endif
