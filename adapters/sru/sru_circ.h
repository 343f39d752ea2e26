/*
 * sru_circ.h — circulation kept by the sru adapter in the owner's PostgreSQL: patrons, holds,
 * loans and the idempotency of every change (sql/sru_circulation.sql).
 *
 * An SRU catalogue describes copies but cannot lend them, so this adapter keeps circulation
 * itself, as an ILS would, through the hub's asynchronous libpq pool (hub/store/pool.h) on the
 * SDK's event loop. Each mutation is one call of a PL/pgSQL function that checks the rules,
 * makes the change and records its answer under (library, method, key) in one transaction:
 * a repeat with the same key and request gives the first answer again; a different request
 * with the same key is refused. What the catalogue says about a copy is overlaid with this
 * state (a copy lent or set aside here), both in holdings and when a hold picks a copy.
 */
#ifndef RK_SRU_CIRC_H
#define RK_SRU_CIRC_H

#include "sru.h"

/** A copy whose state this adapter's circulation changed. */
typedef struct sru_circ_item {
    const char *record_id, *item_id;
    Renkei__V1__HoldingStatus status; /* ON_LOAN or RESERVED */
    const char *due_date;             /* "YYYY-MM-DD" when ON_LOAN */
} sru_circ_item_t;

/** Circulation state of the records of one answer. */
typedef struct sru_circ_overlay {
    sru_circ_item_t *items;
    size_t n_items;
    struct {
        const char *record_id;
        int waiting;
    } * queues;
    size_t n_queues;
} sru_circ_overlay_t;

typedef void (*sru_circ_overlay_cb)(rk_adapter_call_t *call, const sru_circ_overlay_t *overlay,
                                    void *arg);

/**
 * Loads the circulation state of answer's records and calls done with it (NULL when the
 * adapter keeps no circulation). When PostgreSQL cannot be reached the call is answered
 * UNAVAILABLE and done is not called.
 */
void sru_circ_overlay_load(rk_adapter_call_t *call, const sru_answer_t *answer,
                           sru_circ_overlay_cb done, void *arg);
/** The overlay entry of one copy, or NULL (overlay may be NULL). */
const sru_circ_item_t *sru_circ_overlay_item(const sru_circ_overlay_t *overlay,
                                             const char *record_id, const char *item_id);
/** Holds waiting on a record (0 when overlay is NULL). */
int sru_circ_overlay_queue(const sru_circ_overlay_t *overlay, const char *record_id);

/** The circulation schema (sql/sru_circulation.sql, embedded by the build). */
extern const char sru_circ_schema_sql[];

/**
 * Start-up (blocking): applies the schema under an advisory lock, adds the demo patrons of
 * patrons (the "sru.patrons" list; may be NULL), and opens the pool on the adapter's loop.
 * Returns 0, or -1 with why filled.
 */
int sru_circ_start(sru_t *sru, const char *conninfo, int pool_size, const struct json_t *patrons,
                   char *why, size_t why_len);

/** Stops the expiry timer and closes the pool (shutdown). */
void sru_circ_stop(sru_t *sru);

/* Handlers (sru_circ.c). */
void sru_verify_patron(rk_adapter_call_t *call,
                       const Renkei__V1__AdapterVerifyPatronRequest *request);
void sru_place_hold(rk_adapter_call_t *call, const Renkei__V1__AdapterPlaceHoldRequest *request);
void sru_cancel_hold(rk_adapter_call_t *call, const Renkei__V1__AdapterCancelHoldRequest *request);
void sru_list_holds(rk_adapter_call_t *call, const Renkei__V1__AdapterListHoldsRequest *request);
void sru_list_loans(rk_adapter_call_t *call, const Renkei__V1__AdapterListLoansRequest *request);
void sru_checkout(rk_adapter_call_t *call, const Renkei__V1__AdapterCheckoutRequest *request);
void sru_renew(rk_adapter_call_t *call, const Renkei__V1__AdapterRenewRequest *request);
void sru_return_loan(rk_adapter_call_t *call, const Renkei__V1__AdapterReturnLoanRequest *request);

/* Messages shared with sru_catalogue.c. */
Renkei__V1__Work *sru_work_message(rk_adapter_call_t *call, const sru_record_t *r);
Renkei__V1__CatalogueRecord *sru_record_message(rk_adapter_call_t *call, const sru_record_t *r,
                                                int with_holdings,
                                                const sru_circ_overlay_t *overlay);
/** A copy's state: the catalogue's, unless this adapter lent it or set it aside. */
Renkei__V1__HoldingStatus sru_item_state(const sru_item_t *it, const sru_circ_overlay_t *overlay,
                                         const char *record_id, const char **due);

#endif
