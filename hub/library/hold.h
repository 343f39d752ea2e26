/*
 * hold.h — the hold broker: LibraryService.PlaceHold, CancelHold, ListMyHolds and
 * ListPickupBranches (rows of migration 0014; the owner's side in hold_owner.h).
 *
 * Every call needs a resident's access token; a hold belongs to the account behind the token's
 * grant (checked live in the statement that acts); another account's hold is NOT_FOUND.
 *
 * PlaceHold (work_id, owner, pickup municipality and branch; Idempotency-Key): one statement
 * (rk_library_hold_begin) checks the grant, the key (the same key and request answer the same
 * hold; another request is ALREADY_EXISTS, ERROR_REASON_IDEMPOTENCY_KEY_REUSED), the caller's
 * terms at the owner by rk_resident_terms(home, 'library.hold') — a city without an agreement
 * covering the caller's home is PERMISSION_DENIED, LIBRARY_ERROR_NOT_ELIGIBLE, naming the
 * rule — and the pickup: at the owner's branches (a partner only at those the agreement's
 * pickup_branches list, or "*") or at the caller's home city's branches; anywhere else is
 * LIBRARY_ERROR_PICKUP_BRANCH_NOT_ALLOWED naming the rule. It needs a linked card there
 * (LIBRARY_ERROR_PATRON_NOT_LINKED; a resident verified by certificate login is linked at once
 * by the owner's VerifyPatron with CERTIFICATE, patron.h, and the statement runs again) and no
 * live hold of the work there
 * (LIBRARY_ERROR_ALREADY_HELD); then it records a REQUESTED row. The pickup branch must be one
 * the pickup city's library adapter reports as a pickup point (Describe;
 * LIBRARY_ERROR_UNKNOWN_BRANCH), and the owner must hold a record of the work (its
 * GetHoldings / SearchCatalogue; LIBRARY_ERROR_NOT_HOLDABLE): a refusal there is a FAILED row
 * remembered under the key. The row becomes PLACING with the owner's record id, and the owner's
 * PlaceHold (hold_owner.h) decides: WAITING / READY, or FAILED with the owner's reason; an owner
 * not reached leaves it PLACING (answered as such: the sweep places it with the same key).
 *
 * CancelHold: WAITING, IN_TRANSIT or READY → CANCELLING → the owner's CancelHold → CANCELLED (a
 * refusal restores the row and is answered; an owner not reached leaves CANCELLING for the
 * sweep). Another state is LIBRARY_ERROR_HOLD_NOT_CANCELLABLE.
 *
 * ListMyHolds: the account's holds of every city in one list (by default those not ended),
 * READY first, then by queue position, in pages of page_size (default 20, at most 100); the
 * holds placed at owners are refreshed live from each owner's ListHolds (state, queue
 * position, pickup deadline) through the fan-out, with a MunicipalityStatus per owner asked.
 *
 * ListPickupBranches (owner): the branches where the caller may collect that owner's items —
 * the home city's pickup points, then the owner's (for a partner, those the agreement lists) —
 * from the adapters' Describe, with the agreement.
 */
#ifndef RK_LIBRARY_HOLD_H
#define RK_LIBRARY_HOLD_H

#include "library/library.h"

/** Prepares the statements and adds the four methods. */
void rk_library_hold_register(rk_library_t *library, rk_router_t *router);

#endif
