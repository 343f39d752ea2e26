/*
 * hold_owner.h — a hold's row and its owner: the row as a Hold message, and one step of the
 * broker at the owner — the row read, the owner's PlaceHold (a PLACING row) or CancelHold (a
 * CANCELLING row) with the hold id as idempotency key and the resident as the owner knows them
 * (pairwise id, home, class, agreement: the same on every call under the key), and the outcome
 * stored. Used by the requests (hold.c) and by the recovery sweep (hold_sweep.c).
 *
 * Outcomes stored: PlaceHold answered → the owner's state (WAITING, IN_TRANSIT, READY), its
 * reference, queue position, pickup deadline; refused with a LibraryError → FAILED with it
 * (an unknown record → LIBRARY_ERROR_NOT_HOLDABLE); CancelHold answered → CANCELLED; refused →
 * the state it came from. An owner not reached (or not active) leaves the row as it was, for
 * the same step again (the sweep, once its lease has passed).
 */
#ifndef RK_LIBRARY_HOLD_OWNER_H
#define RK_LIBRARY_HOLD_OWNER_H

#include "library/library.h"
#include "library/owner_step.h"
#include "renkei/v1/library.pb-c.h"
#include "store/pool.h"

/* The statement that reads a hold by id ($1) in the columns below. */
#define RK_LIBRARY_STMT_HOLD "library_hold_get"

/** The columns of a hold row (RK_LIBRARY_HOLD_COLUMNS). */
enum {
    RK_HOLD_ID,
    RK_HOLD_STATE,
    RK_HOLD_WORK_ID,
    RK_HOLD_RECORD,
    RK_HOLD_WORK,
    RK_HOLD_OWNER_CODE,
    RK_HOLD_OWNER_SLUG,
    RK_HOLD_OWNER_JA,
    RK_HOLD_OWNER_EN,
    RK_HOLD_OWNER_KANA,
    RK_HOLD_PICKUP_CODE,
    RK_HOLD_PICKUP_SLUG,
    RK_HOLD_PICKUP_JA,
    RK_HOLD_PICKUP_EN,
    RK_HOLD_PICKUP_KANA,
    RK_HOLD_BRANCH,
    RK_HOLD_BRANCH_JA,
    RK_HOLD_BRANCH_EN,
    RK_HOLD_QUEUE,
    RK_HOLD_EXPIRES,
    RK_HOLD_PLACED,
    RK_HOLD_OWNER_REF,
    RK_HOLD_ERROR,
    RK_HOLD_AGREEMENT,
    RK_HOLD_AGREEMENT_VERSION,
    RK_HOLD_ADAPTER,
    RK_HOLD_PATRON,
    RK_HOLD_HOME,
    RK_HOLD_CLASS,
    RK_HOLD_UID,
    RK_HOLD_TENANT,
    RK_HOLD_CREATED,
    RK_HOLD_RECEIPT,
    RK_HOLD_AGE_BAND,
};

#define RK_LIBRARY_HOLD_COLUMNS                                                                    \
    "SELECT h.id, h.state, h.work_id, h.record_id, coalesce(h.work::text, ''), t.code, t.slug,"    \
    " t.name_ja, t.name_en, t.name_kana, p.code, p.slug, p.name_ja, p.name_en, p.name_kana,"       \
    " h.pickup_branch_id, h.pickup_branch_ja, h.pickup_branch_en, h.queue_position,"               \
    " coalesce(rk_booking_utc(h.expires_at), ''), coalesce(rk_booking_utc(h.placed_at), ''),"      \
    " h.owner_reference, h.error, coalesce(h.agreement_id::text, ''),"                             \
    " coalesce(h.agreement_version::text, ''), h.adapter_id, h.patron_ref, h.home_municipality,"   \
    " h.residency_class, coalesce(a.uid, ''), h.tenant_id, h.created_at,"                          \
    " coalesce(h.receipt_id, ''), coalesce(rk_identity_age_band(h.account_id), '')"                \
    " FROM rk_library_hold h JOIN rk_tenant t ON t.id = h.tenant_id"                               \
    " JOIN rk_tenant p ON p.id = h.pickup_tenant_id"                                               \
    " LEFT JOIN rk_identity_account a ON a.id = h.account_id"

/** The MunicipalityRef of row i of r from its columns first.. first + 4 (code, slug, name_ja,
 * name_en, name_kana), in arena. */
Renkei__V1__MunicipalityRef *rk_library_municipality_of(rk_arena_t *arena, const PGresult *r, int i,
                                                        int first);

/** The pairwise id towards tenant tenant_id (sector "tenant:<id>") of the account with uid,
 * into out; "" when uid is empty (the account is gone). */
void rk_library_subject(const rk_library_t *library, const char *uid, const char *tenant_id,
                        char out[44]);

/** The Work of a row's work column (proto3 JSON; "" or bad: an empty Work) with id work_id, in
 * arena. */
Renkei__V1__Work *rk_library_work_of(rk_arena_t *arena, const char *json, const char *work_id);

/** Prepares the statements of this unit. */
void rk_library_hold_owner_prepare(rk_library_t *library);

/** The Hold of row i of r (RK_LIBRARY_HOLD_COLUMNS), in arena. */
Renkei__V1__Hold *rk_library_hold_of(const rk_library_t *library, rk_arena_t *arena,
                                     const PGresult *r, int i);

/** A hold state's SQL name as the enum; UNSPECIFIED for anything else. */
Renkei__V1__HoldState rk_library_hold_state(const char *name);

/**
 * Runs the owner step for hold id (a PLACING or CANCELLING row; other states end at once with
 * RK_OK) within timeout_ns. done is called once, unless life (NULL: none) is freed first; the
 * step itself always finishes.
 */
void rk_library_hold_owner_step(rk_library_t *library, const char *id, uint64_t timeout_ns,
                                rk_arena_t *life, rk_library_step_cb done, void *arg);

#endif
