/*
 * loan_owner.h — a loan's row and its owner: the row as a Loan message, and one step of the
 * broker at the owner — the row read, then the owner's Checkout (a CHECKING_OUT row, key = the
 * loan id), ReturnLoan (a RETURNING row, key = the loan id) or Renew (a row with renewing = n,
 * key "<loan id>:r<n>"), with the resident as the owner knows them (pairwise id, home, class,
 * agreement: the same on every call under the key), and the outcome stored. Used by the
 * requests (loan.c) and by the recovery sweep (hold_sweep.c).
 *
 * Outcomes stored: Checkout answered → ACTIVE with the owner's reference, dates, renewals and
 * reader URL; refused with a LibraryError → FAILED with it. ReturnLoan answered → RETURNED;
 * refused → the state it came from. Renew answered → the new due date and renewal count;
 * refused → renew_refused names the LibraryError for that renewal's key. An owner not reached
 * (or not active) leaves the row as it was, for the same step again (the sweep, once its lease
 * has passed).
 */
#ifndef RK_LIBRARY_LOAN_OWNER_H
#define RK_LIBRARY_LOAN_OWNER_H

#include "library/library.h"
#include "library/owner_step.h"
#include "renkei/v1/library.pb-c.h"
#include "store/pool.h"

/* The statement that reads a loan by id ($1) in the columns below. */
#define RK_LIBRARY_STMT_LOAN "library_loan_get"

/** The columns of a loan row (RK_LIBRARY_LOAN_COLUMNS). */
enum {
    RK_LOAN_ID,
    RK_LOAN_STATE,
    RK_LOAN_WORK_ID,
    RK_LOAN_RECORD,
    RK_LOAN_WORK,
    RK_LOAN_OWNER_CODE,
    RK_LOAN_OWNER_SLUG,
    RK_LOAN_OWNER_JA,
    RK_LOAN_OWNER_EN,
    RK_LOAN_OWNER_KANA,
    RK_LOAN_ITEM,
    RK_LOAN_BRANCH,
    RK_LOAN_ELIBRARY,
    RK_LOAN_BORROWED,
    RK_LOAN_DUE,
    RK_LOAN_RENEWALS,
    RK_LOAN_MAX_RENEWALS,
    RK_LOAN_RENEWING,
    RK_LOAN_READER_URL,
    RK_LOAN_RETURNED,
    RK_LOAN_OWNER_REF,
    RK_LOAN_ERROR,
    RK_LOAN_AGREEMENT,
    RK_LOAN_AGREEMENT_VERSION,
    RK_LOAN_ADAPTER,
    RK_LOAN_PATRON,
    RK_LOAN_HOME,
    RK_LOAN_CLASS,
    RK_LOAN_UID,
    RK_LOAN_TENANT,
    RK_LOAN_RECEIPT,
    RK_LOAN_AGE_BAND,
};

#define RK_LIBRARY_LOAN_COLUMNS                                                                    \
    "SELECT l.id, l.state, l.work_id, l.record_id, coalesce(l.work::text, ''), t.code, t.slug,"    \
    " t.name_ja, t.name_en, t.name_kana, l.item_id, l.branch_id, l.elibrary, l.borrowed_on,"       \
    " l.due_date, l.renewals, l.max_renewals, l.renewing, l.reader_url,"                           \
    " coalesce(rk_booking_utc(l.returned_at), ''), l.owner_reference, l.error,"                    \
    " coalesce(l.agreement_id::text, ''), coalesce(l.agreement_version::text, ''), l.adapter_id,"  \
    " l.patron_ref, l.home_municipality, l.residency_class, coalesce(a.uid, ''), l.tenant_id,"     \
    " coalesce(l.receipt_id, ''), coalesce(rk_identity_age_band(l.account_id), '')"                \
    " FROM rk_library_loan l JOIN rk_tenant t ON t.id = l.tenant_id"                               \
    " LEFT JOIN rk_identity_account a ON a.id = l.account_id"

/** Prepares the statements of this unit. */
void rk_library_loan_owner_prepare(rk_library_t *library);

/** The Loan of row i of r (RK_LIBRARY_LOAN_COLUMNS), in arena. */
Renkei__V1__Loan *rk_library_loan_of(rk_arena_t *arena, const PGresult *r, int i);

/**
 * Runs the owner step for loan id (a CHECKING_OUT or RETURNING row, or one renewing; others end
 * at once with RK_OK) within timeout_ns. done is called once, unless life (NULL: none) is freed
 * first; the step itself always finishes.
 */
void rk_library_loan_owner_step(rk_library_t *library, const char *id, uint64_t timeout_ns,
                                rk_arena_t *life, rk_library_step_cb done, void *arg);

#endif
