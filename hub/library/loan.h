/*
 * loan.h — the loan broker: LibraryService.ListMyLoans, Renew, ElibraryCheckout and
 * ElibraryReturn (rows of migration 0016; the owner's side in loan_owner.h).
 *
 * Every call needs a resident's access token; a loan belongs to the account behind the token's
 * grant (checked live in the statement that acts); another account's loan is NOT_FOUND.
 *
 * ListMyLoans: every library where the account has a linked card and an active adapter with
 * LIBRARY_LOANS or ELIBRARY is asked for the patron's loans (ListLoans) through the fan-out, a
 * MunicipalityStatus per owner; each answer makes or refreshes the account's loan rows (one per
 * owner reference: print loans made at a counter get a hub Loan.id here, which Renew takes),
 * and rows whose loan an answering owner no longer lists are RETURNED. The rows are answered,
 * earliest due date first, in pages of page_size (default 20, at most 100); an owner not
 * answering leaves its rows as last seen.
 *
 * Renew (loan_id; Idempotency-Key): an ACTIVE or OVERDUE loan gets renewing = renewals + 1 and
 * the owner's Renew with key "<loan id>:r<n>" decides: the new due date, or the owner's
 * LibraryError (LIBRARY_ERROR_RENEWAL_REFUSED: others waiting, renewed the most times) which
 * the same key answers again. Not reached: UNAVAILABLE, the renewal pending for the sweep.
 *
 * ElibraryCheckout (work_id, library; Idempotency-Key): rk_library_checkout_begin checks the
 * grant, the key, the caller's terms by rk_resident_terms(home, 'elibrary') (no agreement:
 * LIBRARY_ERROR_NOT_ELIGIBLE naming the rule), an active ELIBRARY adapter, a linked card
 * (LIBRARY_ERROR_PATRON_NOT_LINKED; a resident verified by certificate login is linked
 * at once, patron.h) and no live e-library loan of the work there
 * (LIBRARY_ERROR_ALREADY_ON_LOAN); a REQUESTED row. The owner's e-book or audiobook record of
 * the work (none: LIBRARY_ERROR_NOT_HOLDABLE), the row CHECKING_OUT, the owner's Checkout with
 * the loan id as key: ACTIVE with the reader URL, or FAILED with the owner's reason
 * (LIBRARY_ERROR_NO_LICENCE_AVAILABLE, _LOAN_LIMIT_REACHED). Not reached: UNAVAILABLE, the
 * checkout pending for the sweep (the same key answers it once done).
 *
 * ElibraryReturn (loan_id; Idempotency-Key): an e-library loan ACTIVE or OVERDUE → RETURNING →
 * the owner's ReturnLoan → RETURNED (a refusal restores it). A print loan is
 * FAILED_PRECONDITION: it goes back at a library counter.
 */
#ifndef RK_LIBRARY_LOAN_H
#define RK_LIBRARY_LOAN_H

#include "library/library.h"

/** Prepares the statements and adds the four methods. */
void rk_library_loan_register(rk_library_t *library, rk_router_t *router);

#endif
