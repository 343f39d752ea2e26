/*
 * loan_owner.c — a loan row as a Loan, and one broker step at the owner (see loan_owner.h).
 *
 * A step (owner_step.h) is malloc'd: the owner's answer may come after the request that started
 * it is gone, and its outcome is stored all the same.
 */
#include "library/loan_owner.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "facility/terms.h"
#include "library/hold_owner.h"
#include "library/owner_step.h"
#include "renkei/v1/adapter.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_ACTIVE "library_loan_active"
#define STMT_FAIL "library_loan_fail"
#define STMT_RETURNED "library_loan_returned"
#define STMT_UNRETURN "library_loan_unreturn"
#define STMT_RENEWED "library_loan_renewed"
#define STMT_RENEW_REFUSED "library_loan_renew_refused"

#define LOAN(x) RENKEI__V1__LOAN_STATE__LOAN_STATE_##x

static const char sql_get[] = RK_LIBRARY_LOAN_COLUMNS " WHERE l.id = $1";
/* $1 id, $2 state, $3 reference, $4 item, $5 branch, $6 borrowed, $7 due, $8 renewals, $9 max
 * renewals, $10 reader URL, $11 the resident's pairwise id towards the owner (the exchange
 * log's, migration 0017). */
static const char sql_active[] =
    "UPDATE rk_library_loan SET state = $2, owner_reference = $3, item_id = $4, branch_id = $5,"
    " resident_subject = $11,"
    " borrowed_on = $6, due_date = $7, renewals = $8::int, max_renewals = $9::int,"
    " reader_url = $10, updated_at = now() WHERE id = $1 AND state = 'checking_out'";
/* $1 id, $2 the LibraryError name. */
static const char sql_fail[] = "UPDATE rk_library_loan SET state = 'failed', error = $2,"
                               " updated_at = now() WHERE id = $1 AND state = 'checking_out'";
/* $1 id, $2 the owner's return time (RFC 3339, or ""), $3 the pairwise id. */
static const char sql_returned[] =
    "UPDATE rk_library_loan SET state = 'returned', return_from = '', reader_url = '',"
    " resident_subject = $3,"
    " returned_at = coalesce(nullif($2, '')::timestamptz, now()), updated_at = now()"
    " WHERE id = $1 AND state = 'returning'";
static const char sql_unreturn[] =
    "UPDATE rk_library_loan SET state = return_from, return_from = '', updated_at = now()"
    " WHERE id = $1 AND state = 'returning' AND return_from <> ''";
/* $1 id, $2 the renewal asked, $3 state, $4 due, $5 renewals, $6 max renewals, $7 the pairwise
 * id. */
static const char sql_renewed[] =
    "UPDATE rk_library_loan SET renewing = 0, state = $3, due_date = $4, renewals = $5::int,"
    " resident_subject = $7,"
    " max_renewals = $6::int, updated_at = now() WHERE id = $1 AND renewing = $2::int";
/* $1 id, $2 the renewal asked, $3 the LibraryError name. */
static const char sql_renew_refused[] =
    "UPDATE rk_library_loan SET renewing = 0, renew_refused = $3, renew_refused_at = $2::int,"
    " updated_at = now() WHERE id = $1 AND renewing = $2::int";

static const struct {
    const char *name;
    Renkei__V1__LoanState state;
} states[] = {
    {"active", LOAN(ACTIVE)},    {"overdue", LOAN(OVERDUE)},     {"returned", LOAN(RETURNED)},
    {"returning", LOAN(ACTIVE)}, {"checking_out", LOAN(ACTIVE)}, {"requested", LOAN(ACTIVE)},
};

/* --- the Loan message --------------------------------------------------------------------- */

static char *col(rk_arena_t *arena, const PGresult *r, int i, int c)
{
    return rk_arena_strdup(arena, PQgetvalue(r, i, c));
}

static int num(const PGresult *r, int i, int c)
{
    return (int)strtol(PQgetvalue(r, i, c), NULL, 10);
}

Renkei__V1__Loan *rk_library_loan_of(rk_arena_t *arena, const PGresult *r, int i)
{
    Renkei__V1__Loan *l = rk_arena_alloc(arena, sizeof(*l));
    renkei__v1__loan__init(l);
    l->id = col(arena, r, i, RK_LOAN_ID);
    l->work = rk_library_work_of(arena, PQgetvalue(r, i, RK_LOAN_WORK),
                                 PQgetvalue(r, i, RK_LOAN_WORK_ID));
    l->owner = rk_library_municipality_of(arena, r, i, RK_LOAN_OWNER_CODE);
    l->branch_id = col(arena, r, i, RK_LOAN_BRANCH);
    l->item_id = col(arena, r, i, RK_LOAN_ITEM);
    const char *state = PQgetvalue(r, i, RK_LOAN_STATE);
    for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++)
        if (strcmp(states[k].name, state) == 0)
            l->state = states[k].state;
    l->borrowed_on = col(arena, r, i, RK_LOAN_BORROWED);
    l->due_date = col(arena, r, i, RK_LOAN_DUE);
    l->renewals = num(r, i, RK_LOAN_RENEWALS);
    l->max_renewals = num(r, i, RK_LOAN_MAX_RENEWALS);
    l->elibrary = strcmp(PQgetvalue(r, i, RK_LOAN_ELIBRARY), "t") == 0;
    l->reader_url = col(arena, r, i, RK_LOAN_READER_URL);
    l->returned_at = col(arena, r, i, RK_LOAN_RETURNED);
    l->owner_reference = col(arena, r, i, RK_LOAN_OWNER_REF);
    l->receipt_id = col(arena, r, i, RK_LOAN_RECEIPT);
    if (*PQgetvalue(r, i, RK_LOAN_AGREEMENT)) {
        Renkei__V1__AgreementRef *a = rk_arena_alloc(arena, sizeof(*a));
        renkei__v1__agreement_ref__init(a);
        a->agreement_id = col(arena, r, i, RK_LOAN_AGREEMENT);
        a->version = num(r, i, RK_LOAN_AGREEMENT_VERSION);
        l->agreement = a;
    }
    return l;
}

/* --- the owner step ----------------------------------------------------------------------- */

/* A loan's step: the key towards the owner is the id, or "<id>:r<n>" for renewal n. */
typedef struct loan_step {
    rk_library_step_t base; /* first: the step is freed through it */
    char key[56];
    char renewal[16];
} loan_step_t;

static const char *live_state(const Renkei__V1__OwnerLoan *ol)
{
    return ol && ol->state == LOAN(OVERDUE) ? "overdue" : "active";
}

static const char *text(const char *s)
{
    return s ? s : "";
}

static void checked_out(const rk_rpc_result_t *result, void *arg)
{
    rk_library_step_t *s = arg;
    if (result->code != RK_RPC_OK) {
        if (rk_library_step_refused(s, "Checkout", result, NULL)) {
            const char *values[] = {s->id, s->refusal};
            rk_library_step_store(s, STMT_FAIL, 2, values);
        }
        return;
    }
    const Renkei__V1__OwnerLoan *ol =
        ((const Renkei__V1__AdapterCheckoutResponse *)result->response)->loan;
    char renewals[16], max_renewals[16];
    snprintf(renewals, sizeof(renewals), "%d", ol ? ol->renewals : 0);
    snprintf(max_renewals, sizeof(max_renewals), "%d", ol ? ol->max_renewals : 0);
    const char *values[] = {s->id,
                            live_state(ol),
                            ol ? text(ol->owner_reference) : "",
                            ol ? text(ol->item_id) : "",
                            ol ? text(ol->branch_id) : "",
                            ol ? text(ol->borrowed_on) : "",
                            ol ? text(ol->due_date) : "",
                            renewals,
                            max_renewals,
                            ol ? text(ol->reader_url) : "",
                            s->subject};
    rk_library_step_store(s, STMT_ACTIVE, 11, values);
}

static void returned(const rk_rpc_result_t *result, void *arg)
{
    rk_library_step_t *s = arg;
    if (result->code != RK_RPC_OK) {
        if (rk_library_step_refused(s, "ReturnLoan", result, NULL)) {
            const char *values[] = {s->id};
            rk_library_step_store(s, STMT_UNRETURN, 1, values);
        }
        return;
    }
    const Renkei__V1__OwnerLoan *ol =
        ((const Renkei__V1__AdapterReturnLoanResponse *)result->response)->loan;
    const char *values[] = {s->id, ol ? text(ol->returned_at) : "", s->subject};
    rk_library_step_store(s, STMT_RETURNED, 3, values);
}

static void renewed(const rk_rpc_result_t *result, void *arg)
{
    loan_step_t *ls = arg;
    rk_library_step_t *s = &ls->base;
    if (result->code != RK_RPC_OK) {
        if (rk_library_step_refused(s, "Renew", result, NULL)) {
            const char *values[] = {s->id, ls->renewal, s->refusal};
            rk_library_step_store(s, STMT_RENEW_REFUSED, 3, values);
        }
        return;
    }
    const Renkei__V1__OwnerLoan *ol =
        ((const Renkei__V1__AdapterRenewResponse *)result->response)->loan;
    char renewals[16], max_renewals[16];
    snprintf(renewals, sizeof(renewals), "%d",
             ol ? ol->renewals : (int)strtol(ls->renewal, NULL, 10));
    snprintf(max_renewals, sizeof(max_renewals), "%d", ol ? ol->max_renewals : 0);
    const char *values[] = {
        s->id,          ls->renewal,
        live_state(ol), ol ? text(ol->due_date) : PQgetvalue(s->row, 0, RK_LOAN_DUE),
        renewals,       max_renewals,
        s->subject};
    rk_library_step_store(s, STMT_RENEWED, 7, values);
}

static void call_owner(rk_library_step_t *s)
{
    loan_step_t *ls = (loan_step_t *)s;
    const PGresult *r = s->row;
    const char *state = PQgetvalue(r, 0, RK_LOAN_STATE);
    const rk_federation_adapter_t *a =
        rk_library_adapter(s->lib, strtoll(PQgetvalue(r, 0, RK_LOAN_ADAPTER), NULL, 10));
    if (!a) {
        rk_log_warn("library owner adapter not active", "{s:s}", "loan_id", s->id);
        rk_library_step_end(s, RK_EUNAVAILABLE);
        return;
    }
    rk_library_subject(s->lib, PQgetvalue(r, 0, RK_LOAN_UID), PQgetvalue(r, 0, RK_LOAN_TENANT),
                       s->subject);
    Renkei__V1__ResidentContext resident;
    Renkei__V1__MunicipalityRef home;
    Renkei__V1__AgreementRef agreement;
    const char *class = PQgetvalue(r, 0, RK_LOAN_CLASS);
    rk_facility_resident_context(
        &resident, &home, &agreement, s->subject, PQgetvalue(r, 0, RK_LOAN_HOME), class,
        strcmp(class, "resident") == 0 ? "resident_rate" : "non_resident_rate",
        PQgetvalue(r, 0, RK_LOAN_AGREEMENT), PQgetvalue(r, 0, RK_LOAN_AGREEMENT_VERSION));
    resident.age_band = rk_library_age_band(PQgetvalue(r, 0, RK_LOAN_AGE_BAND));
    Renkei__V1__IdempotencyKey key = RENKEI__V1__IDEMPOTENCY_KEY__INIT;
    key.key = ls->key;
    char *patron = PQgetvalue(r, 0, RK_LOAN_PATRON);
    if (strcmp(state, "checking_out") == 0) {
        Renkei__V1__AdapterCheckoutRequest in = RENKEI__V1__ADAPTER_CHECKOUT_REQUEST__INIT;
        in.idempotency_key = &key;
        in.resident = &resident;
        in.patron_id = patron;
        in.record_id = PQgetvalue(r, 0, RK_LOAN_RECORD);
        rk_rpc_call(a->channel, "/renkei.v1.AdapterService/Checkout", &in.base,
                    &renkei__v1__adapter_checkout_response__descriptor, s->timeout_ns, NULL, 0,
                    checked_out, s);
        return;
    }
    if (strcmp(state, "returning") == 0) {
        Renkei__V1__AdapterReturnLoanRequest in = RENKEI__V1__ADAPTER_RETURN_LOAN_REQUEST__INIT;
        in.idempotency_key = &key;
        in.resident = &resident;
        in.patron_id = patron;
        in.owner_reference = PQgetvalue(r, 0, RK_LOAN_OWNER_REF);
        rk_rpc_call(a->channel, "/renkei.v1.AdapterService/ReturnLoan", &in.base,
                    &renkei__v1__adapter_return_loan_response__descriptor, s->timeout_ns, NULL, 0,
                    returned, s);
        return;
    }
    Renkei__V1__AdapterRenewRequest in = RENKEI__V1__ADAPTER_RENEW_REQUEST__INIT;
    in.idempotency_key = &key;
    in.resident = &resident;
    in.patron_id = patron;
    in.owner_reference = PQgetvalue(r, 0, RK_LOAN_OWNER_REF);
    rk_rpc_call(a->channel, "/renkei.v1.AdapterService/Renew", &in.base,
                &renkei__v1__adapter_renew_response__descriptor, s->timeout_ns, NULL, 0, renewed,
                s);
}

/* The step wanted: CHECKING_OUT, RETURNING, or a live loan renewing (its key then made). */
static int wanted(rk_library_step_t *s, const PGresult *r)
{
    loan_step_t *ls = (loan_step_t *)s;
    const char *state = PQgetvalue(r, 0, RK_LOAN_STATE);
    const char *renewing = PQgetvalue(r, 0, RK_LOAN_RENEWING);
    int renew = strcmp(renewing, "0") != 0 &&
                (strcmp(state, "active") == 0 || strcmp(state, "overdue") == 0);
    if (renew) {
        snprintf(ls->renewal, sizeof(ls->renewal), "%s", renewing);
        snprintf(ls->key, sizeof(ls->key), "%s:r%s", s->id, renewing);
    }
    return renew || strcmp(state, "checking_out") == 0 || strcmp(state, "returning") == 0;
}

void rk_library_loan_owner_step(rk_library_t *lib, const char *id, uint64_t timeout_ns,
                                rk_arena_t *life, rk_library_step_cb done, void *arg)
{
    loan_step_t *ls = rk_xcalloc(1, sizeof(*ls));
    snprintf(ls->key, sizeof(ls->key), "%s", id);
    ls->base.id_field = "loan_id";
    ls->base.wanted = wanted;
    ls->base.call_owner = call_owner;
    rk_library_step_start(&ls->base, lib, RK_LIBRARY_STMT_LOAN, id, timeout_ns, life, done, arg);
}

void rk_library_loan_owner_prepare(rk_library_t *lib)
{
    rk_store_t *store = lib->app->store;
    rk_store_prepare(store, RK_LIBRARY_STMT_LOAN, sql_get);
    rk_store_prepare(store, STMT_ACTIVE, sql_active);
    rk_store_prepare(store, STMT_FAIL, sql_fail);
    rk_store_prepare(store, STMT_RETURNED, sql_returned);
    rk_store_prepare(store, STMT_UNRETURN, sql_unreturn);
    rk_store_prepare(store, STMT_RENEWED, sql_renewed);
    rk_store_prepare(store, STMT_RENEW_REFUSED, sql_renew_refused);
}
