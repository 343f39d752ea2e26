/*
 * loan.c — ListMyLoans, Renew, ElibraryCheckout, ElibraryReturn (see loan.h).
 *
 * ElibraryCheckout: token → rk_library_checkout_begin (terms, card, row REQUESTED) → the
 * owner's records of the work → row CHECKING_OUT → owner step (loan_owner.h) → the row read
 * back and answered. Renew and ElibraryReturn: rk_library_loan_change_begin (the row renewing or
 * RETURNING) → owner step → the row. Each transition is one statement; the owner calls lie
 * between them, so a crash leaves a row whose state says what to resume.
 */
#include "library/loan.h"

#include "core/error.h"
#include "core/mem.h"
#include "library/catalogue.h"
#include "library/fanout.h"
#include "library/hold_owner.h"
#include "library/loan_owner.h"
#include "library/merge.h"
#include "library/patron.h"
#include "net/json_transcode.h"
#include "renkei/v1/adapter.pb-c.h"
#include "renkei/v1/library.pb-c.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_CHECKOUT "library_checkout_begin"
#define STMT_CHANGE "library_loan_change_begin"
#define STMT_CHECKING_OUT "library_loan_checking_out"
#define STMT_REFUSE "library_loan_refuse"
#define STMT_LINKS "library_loan_links"
#define STMT_SYNC "library_loan_sync"
#define STMT_LIST "library_loan_list"
#define STMT_CERTIFIED "library_loan_certified"

#define OWNER_TIMEOUT_NS (10ull * 1000 * 1000 * 1000)
#define PAGE_DEFAULT 20
#define PAGE_MAX 100
#define STATUS(x) RENKEI__V1__ANSWER_STATUS__ANSWER_STATUS_##x
#define WF(x) RENKEI__V1__WORK_FORMAT__WORK_FORMAT_##x

static const char sql_checkout[] =
    "SELECT rk_library_checkout_begin($1, $2::bigint, $3, $4, $5, $6, $7)::text";
static const char sql_change[] =
    "SELECT rk_library_loan_change_begin($1, $2::bigint, $3, $4, $5, $6)::text";
/* $1 id, $2 the owner's record, $3 the Work (JSON). */
static const char sql_checking_out[] =
    "UPDATE rk_library_loan SET state = 'checking_out', record_id = $2, work = $3::jsonb,"
    " lease_until = now() + interval '60 seconds', updated_at = now()"
    " WHERE id = $1 AND state = 'requested'";
/* $1 id, $2 the LibraryError: refused before the owner was asked. */
static const char sql_refuse[] = "UPDATE rk_library_loan SET state = 'failed', error = $2,"
                                 " updated_at = now() WHERE id = $1 AND state = 'requested'";
/* The account ($1 grant, $2 realm) and, per linked card, the owner's loan adapters; the
 * account's uid (the pairwise ids' input). */
static const char sql_links[] =
    "SELECT acc.id, p.tenant_id, p.patron_ref, ad.id, t.code,"
    " (SELECT uid FROM rk_identity_account WHERE id = acc.id)"
    " FROM (SELECT rk_booking_account($1, $2::bigint) AS id) acc"
    " LEFT JOIN rk_library_patron p ON p.account_id = acc.id"
    " LEFT JOIN rk_tenant t ON t.id = p.tenant_id"
    " LEFT JOIN rk_adapter ad ON ad.tenant_id = p.tenant_id AND ad.state = 'active'"
    "  AND ad.capabilities && ARRAY['ADAPTER_CAPABILITY_LIBRARY_LOANS',"
    "                               'ADAPTER_CAPABILITY_ELIBRARY']::text[]"
    " ORDER BY t.code, ad.id";
/* Whether the account ($1 grant, $2 realm) was verified by certificate login, or is a pupil's
 * (a pupil ID needs no card: the pupils migration). */
static const char sql_certified[] =
    "SELECT residency_verified = 'certificate' OR rk_identity_age_band(id) IS NOT NULL"
    " FROM rk_identity_account"
    " WHERE id = rk_booking_account($1, $2::bigint)";
static const char sql_sync[] =
    "SELECT rk_library_loan_sync($1::bigint, $2::bigint, $3::bigint, $4, $5::jsonb)";
/* $1 account, $2 with returned ones, $3 limit, $4 offset. */
static const char sql_list[] = RK_LIBRARY_LOAN_COLUMNS
    " WHERE l.account_id = $1::bigint AND (l.state IN ('active', 'overdue', 'returning')"
    "  OR ($2::boolean AND l.state = 'returned' AND l.returned_at > now() - interval '90 days'))"
    " ORDER BY l.state = 'returned', l.due_date = '', l.due_date, l.created_at, l.id"
    " LIMIT $3::int OFFSET $4::int";

typedef enum { OP_CHECKOUT, OP_RENEW, OP_RETURN, OP_LIST } op_kind_t;

typedef struct op {
    rk_library_t *lib;
    rk_rpc_t *rpc;
    rk_arena_t *arena;
    op_kind_t kind;
    rk_identity_resident_t resident;
    char id[40];
    const char *work_id, *owner_code;
    /* ElibraryCheckout: the first statement's parameters, asked again after a certificate link */
    const char *begin_values[7];
    int certificate_linked;
    int64_t adapter_id;
    rk_library_call_t calls[1];
    /* ListMyLoans */
    const char *account;
    rk_library_call_t *listing;
    size_t n_listing, synced;
    int include_returned;
    rk_library_page_t page;
} op_t;

/* --- answers -------------------------------------------------------------------------------- */

static void fail(op_t *op, const char *reason, const char *message)
{
    rk_library_fail(op->rpc, reason, message, NULL, NULL, NULL);
}

static void fail_store(op_t *op, const rk_store_result_t *res)
{
    rk_library_fail_store(op->rpc, "loan", res);
}

static void pending(op_t *op, const char *what)
{
    fail(op, "LIBRARY_ERROR_OWNER_UNAVAILABLE",
         rk_arena_printf(op->arena,
                         "the library did not answer; the %s is pending and the hub finishes it "
                         "(retry with the same idempotency key to see the outcome)",
                         what));
}

static void answer(op_t *op, const PGresult *r)
{
    const char *state = PQgetvalue(r, 0, RK_LOAN_STATE);
    if (strcmp(state, "failed") == 0) {
        const char *error = PQgetvalue(r, 0, RK_LOAN_ERROR);
        fail(op, *error ? error : "LIBRARY_ERROR_OWNER_UNAVAILABLE", NULL);
        return;
    }
    if (strcmp(state, "checking_out") == 0 || strcmp(state, "requested") == 0) {
        pending(op, "checkout");
        return;
    }
    if (strcmp(state, "returning") == 0) {
        pending(op, "return");
        return;
    }
    if (op->kind == OP_RENEW && strcmp(PQgetvalue(r, 0, RK_LOAN_RENEWING), "0") != 0) {
        pending(op, "renewal");
        return;
    }
    Renkei__V1__Loan *loan = rk_library_loan_of(op->arena, r, 0);
    if (op->kind == OP_RENEW) {
        Renkei__V1__RenewResponse out = RENKEI__V1__RENEW_RESPONSE__INIT;
        out.loan = loan;
        rk_rpc_reply(op->rpc, &out.base);
    } else if (op->kind == OP_RETURN) {
        Renkei__V1__ElibraryReturnResponse out = RENKEI__V1__ELIBRARY_RETURN_RESPONSE__INIT;
        out.loan = loan;
        rk_rpc_reply(op->rpc, &out.base);
    } else {
        Renkei__V1__ElibraryCheckoutResponse out = RENKEI__V1__ELIBRARY_CHECKOUT_RESPONSE__INIT;
        out.loan = loan;
        rk_rpc_reply(op->rpc, &out.base);
    }
}

static void row_read(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        fail_store(op, res);
        return;
    }
    answer(op, res->results[0]);
}

static void read_row(op_t *op)
{
    const char *values[] = {op->id};
    if (rk_store_exec(op->lib->app->store, RK_LIBRARY_STMT_LOAN, 1, values, row_read, op) !=
        RK_AGAIN)
        fail_store(op, NULL);
}

static void stepped(int rc, const char *refusal, void *arg)
{
    op_t *op = arg;
    if (rc == RK_EIO) {
        fail_store(op, NULL);
        return;
    }
    if (op->kind != OP_CHECKOUT && refusal) {
        fail(op, refusal,
             op->kind == OP_RENEW
                 ? "loan_id: the library refused the renewal"
                 : "loan_id: the library refused the return; the loan is as before");
        return;
    }
    read_row(op); /* pending when the owner was not reached */
}

static void run_step(op_t *op)
{
    uint64_t left = rk_rpc_deadline_ns(op->rpc);
    rk_library_loan_owner_step(op->lib, op->id, left < OWNER_TIMEOUT_NS ? left : OWNER_TIMEOUT_NS,
                               op->arena, stepped, op);
}

/* --- ElibraryCheckout: the record, CHECKING_OUT ------------------------------------------------
 */

static void row_stored(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK) {
        fail_store(op, res);
        return;
    }
    run_step(op);
}

/* Refused before the owner was asked: a FAILED row the key answers again. */
static void refuse(op_t *op, const char *reason)
{
    const char *values[] = {op->id, reason};
    if (rk_store_exec(op->lib->app->store, STMT_REFUSE, 2, values, row_stored, op) != RK_AGAIN)
        fail_store(op, NULL);
}

static void records_found(rk_library_call_t *calls, size_t n, void *arg)
{
    op_t *op = arg;
    (void)n;
    if (calls[0].status != STATUS(OK)) {
        refuse(op, "LIBRARY_ERROR_OWNER_UNAVAILABLE");
        return;
    }
    Renkei__V1__CatalogueRecord **records;
    size_t found = rk_library_work_records(op->arena, calls[0].response, op->owner_code,
                                           op->work_id, &records);
    const Renkei__V1__CatalogueRecord *ebook = NULL;
    for (size_t i = 0; i < found && !ebook; i++)
        if (records[i]->work &&
            (records[i]->work->format == WF(EBOOK) || records[i]->work->format == WF(AUDIOBOOK)))
            ebook = records[i];
    if (!ebook) {
        refuse(op, "LIBRARY_ERROR_NOT_HOLDABLE");
        return;
    }
    json_t *work = rk_json_from_message(&ebook->work->base);
    char *text = work ? json_dumps(work, JSON_COMPACT) : NULL;
    json_decref(work);
    const char *values[] = {op->id, ebook->record_id,
                            text ? rk_arena_strdup(op->arena, text) : NULL};
    free(text);
    if (rk_store_exec(op->lib->app->store, STMT_CHECKING_OUT, 3, values, row_stored, op) !=
        RK_AGAIN)
        fail_store(op, NULL);
}

static void find_records(op_t *op)
{
    rk_library_work_ref_t ref;
    rk_library_work_ref_parse(op->arena, op->work_id, &ref); /* checked by the request */
    rk_library_work_query_t q = rk_library_work_query(op->arena, &ref);
    op->calls[0].adapter_id = op->adapter_id;
    op->calls[0].request = q.request;
    if (rk_library_fanout(op->lib, op->rpc, op->arena, q.method, q.response_type, op->calls, 1,
                          records_found, op) != RK_OK)
        refuse(op, "LIBRARY_ERROR_OWNER_UNAVAILABLE");
}

/* --- the first statement's outcome ---------------------------------------------------------- */

static const char *name_of(json_t *o, const char *key, const char *lang)
{
    const char *v = json_string_value(json_object_get(json_object_get(o, key), lang));
    return v ? v : "";
}

static void not_eligible(op_t *op, json_t *o)
{
    rk_arena_t *a = op->arena;
    const char *owner_ja = name_of(o, "owner", "ja"), *owner_en = name_of(o, "owner", "en");
    const char *home_ja = name_of(o, "home", "ja"), *home_en = name_of(o, "home", "en");
    rk_library_fail(
        op->rpc, "LIBRARY_ERROR_NOT_ELIGIBLE",
        rk_arena_printf(a,
                        "library: no agreement of %s lets residents of %s borrow its e-books "
                        "(elibrary)",
                        owner_en, home_en),
        rk_arena_printf(a,
                        "%sの電子図書館を利用できるのは%sの方と協定の相手市区町村の方です。"
                        "%sにお住まいの方は利用できません（%sとの協定がありません）。",
                        owner_ja, owner_ja, home_ja, home_ja),
        rk_arena_printf(a,
                        "%s's e-library lends to its residents and to residents of municipalities "
                        "under an agreement; %s has none with %s.",
                        owner_en, owner_en, home_en),
        NULL);
}

static void begun(const rk_store_result_t *res, void *arg);

/* The certificate link was made (or refused): ElibraryCheckout's first statement again. */
static void certificate_linked(const char *refusal, void *arg)
{
    op_t *op = arg;
    if (refusal) {
        fail(op, "LIBRARY_ERROR_PATRON_NOT_LINKED",
             "library: linking your card by your certificate login failed; link it with its "
             "number (LinkPatron)");
        return;
    }
    if (rk_store_exec(op->lib->app->store, STMT_CHECKOUT, 7, op->begin_values, begun, op) !=
        RK_AGAIN)
        fail_store(op, NULL);
}

/* Not linked there: a resident verified by certificate login is linked now (patron.h). */
static void certified(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(op, res);
        return;
    }
    const PGresult *r = res->results[0];
    if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
        fail(op, "LIBRARY_ERROR_PATRON_NOT_LINKED",
             "library: link your library card there first (LinkPatron)");
        return;
    }
    op->certificate_linked = 1; /* once: the statement again finds the link */
    rk_library_patron_link_certificate(op->rpc, &op->resident, op->begin_values[5],
                                       certificate_linked, op);
}

static void begun(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        fail_store(op, res);
        return;
    }
    json_t *o = json_loads(PQgetvalue(res->results[0], 0, 0), 0, NULL);
    const char *outcome = json_string_value(json_object_get(o, "outcome"));
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *error = json_string_value(json_object_get(o, "error"));
    char what[24];
    snprintf(what, sizeof(what), "%s", outcome ? outcome : "");
    if (id)
        snprintf(op->id, sizeof(op->id), "%s", id);
    const char *refusal = error ? rk_arena_strdup(op->arena, error) : NULL;
    if (strcmp(what, "new") == 0) {
        op->adapter_id = (int64_t)json_integer_value(json_object_get(o, "adapter"));
        op->owner_code =
            rk_arena_strdup(op->arena, json_string_value(json_object_get(o, "owner_code")));
    } else if (strcmp(what, "not_eligible") == 0) {
        not_eligible(op, o);
    }
    json_decref(o);
    if (strcmp(what, "new") == 0) {
        find_records(op);
    } else if (strcmp(what, "call") == 0) {
        run_step(op);
    } else if (strcmp(what, "replay") == 0) {
        read_row(op);
    } else if (strcmp(what, "refused") == 0 && refusal) {
        fail(op, refusal, "loan_id: the library refused this renewal");
    } else if (strcmp(what, "login") == 0) {
        fail(op, "ERROR_REASON_LOGIN_REQUIRED",
             "authorization: the token's grant is no longer valid; log in again");
    } else if (strcmp(what, "reused") == 0) {
        fail(op, "ERROR_REASON_IDEMPOTENCY_KEY_REUSED",
             "idempotency_key: already used for a different request");
    } else if (strcmp(what, "no_owner") == 0) {
        rk_rpc_fail(op->rpc, RK_RPC_INVALID_ARGUMENT, "library: no such municipality");
    } else if (strcmp(what, "no_adapter") == 0) {
        fail(op, "LIBRARY_ERROR_OWNER_UNAVAILABLE",
             "library: it lends no e-books through the hub now");
    } else if (strcmp(what, "not_linked") == 0 && !op->certificate_linked) {
        const char *values[] = {op->resident.grant_id, op->resident.tenant_id};
        if (rk_store_exec(op->lib->app->store, STMT_CERTIFIED, 2, values, certified, op) !=
            RK_AGAIN)
            fail_store(op, NULL);
    } else if (strcmp(what, "not_linked") == 0) {
        fail(op, "LIBRARY_ERROR_PATRON_NOT_LINKED",
             "library: link your library card there first (LinkPatron)");
    } else if (strcmp(what, "already_on_loan") == 0) {
        fail(op, "LIBRARY_ERROR_ALREADY_ON_LOAN", NULL);
    } else if (strcmp(what, "not_found") == 0) {
        fail(op, "ERROR_REASON_NOT_FOUND", "loan_id: no such loan of yours");
    } else if (strcmp(what, "print") == 0) {
        rk_rpc_fail(op->rpc, RK_RPC_FAILED_PRECONDITION,
                    "loan_id: a print loan goes back at a library counter, not through the hub");
    } else if (strcmp(what, "state") == 0 && op->kind == OP_RENEW) {
        fail(op, "LIBRARY_ERROR_RENEWAL_REFUSED",
             "loan_id: the loan is not on loan (returned, failed or not yet lent)");
    } else if (strcmp(what, "state") == 0) {
        rk_rpc_fail(op->rpc, RK_RPC_FAILED_PRECONDITION,
                    "loan_id: the loan is not on loan (failed or not yet lent)");
    } else if (strcmp(what, "not_eligible") != 0) {
        rk_rpc_fail(op->rpc, RK_RPC_INTERNAL, "unexpected answer from the database");
    }
}

/* --- requests ------------------------------------------------------------------------------- */

static op_t *op_new(rk_rpc_t *rpc, op_kind_t kind)
{
    rk_request_t *req = rk_rpc_request(rpc);
    op_t *op = rk_arena_calloc(req->arena, 1, sizeof(*op));
    op->lib = rk_app(req)->library;
    op->rpc = rpc;
    op->arena = req->arena;
    op->kind = kind;
    if (rk_library_resident(rpc, &op->resident) != 0)
        return NULL;
    return op;
}

static int loan_id_ok(const char *id)
{
    return strlen(id) == 35 && strncmp(id, "ll_", 3) == 0 &&
           strspn(id + 3, "0123456789abcdef") == 32;
}

static void elibrary_checkout(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__ElibraryCheckoutRequest *in = (const void *)message;
    op_t *op = op_new(rpc, OP_CHECKOUT);
    if (!op)
        return;
    const char *key =
        rk_federation_idempotency_key(rpc, in->idempotency_key ? in->idempotency_key->key : NULL);
    if (!key)
        return;
    rk_library_work_ref_t ref;
    if (rk_library_work_ref_parse(op->arena, in->work_id, &ref) != RK_OK) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "work_id: required, an e-book's Work.id of this hub (from SearchCatalogue)");
        return;
    }
    if (!rk_library_name_ok(in->library)) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "library: required, the e-library's municipality slug or code");
        return;
    }
    op->work_id = in->work_id;
    if (rk_library_new_id("ll_", op->id) != RK_OK) {
        rk_rpc_fail(rpc, RK_RPC_INTERNAL, "no randomness for a loan id");
        return;
    }
    Renkei__V1__ElibraryCheckoutRequest keyless = *in;
    keyless.idempotency_key = NULL;
    const char *values[] = {op->resident.grant_id,
                            op->resident.tenant_id,
                            key,
                            rk_library_request_hash(op->arena, &keyless.base),
                            op->id,
                            in->library,
                            in->work_id};
    memcpy(op->begin_values, values, sizeof(values));
    if (rk_store_exec(op->lib->app->store, STMT_CHECKOUT, 7, op->begin_values, begun, op) !=
        RK_AGAIN)
        fail_store(op, NULL);
}

/* Renew and ElibraryReturn: the key, the loan id, then rk_library_loan_change_begin. */
static void change(rk_rpc_t *rpc, const ProtobufCMessage *message, op_kind_t kind,
                   const Renkei__V1__IdempotencyKey *idem, const char *loan_id)
{
    op_t *op = op_new(rpc, kind);
    if (!op)
        return;
    const char *key = rk_federation_idempotency_key(rpc, idem ? idem->key : NULL);
    if (!key)
        return;
    if (!loan_id_ok(loan_id)) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, "loan_id: required, a Loan.id from ListMyLoans");
        return;
    }
    snprintf(op->id, sizeof(op->id), "%s", loan_id);
    const char *values[] = {op->resident.grant_id,
                            op->resident.tenant_id,
                            kind == OP_RENEW ? "renew" : "return",
                            key,
                            rk_library_request_hash(op->arena, message),
                            op->id};
    if (rk_store_exec(op->lib->app->store, STMT_CHANGE, 6, values, begun, op) != RK_AGAIN)
        fail_store(op, NULL);
}

static void renew(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__RenewRequest *in = (const void *)message;
    Renkei__V1__RenewRequest keyless = *in;
    keyless.idempotency_key = NULL;
    change(rpc, &keyless.base, OP_RENEW, in->idempotency_key, in->loan_id);
}

static void elibrary_return(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__ElibraryReturnRequest *in = (const void *)message;
    Renkei__V1__ElibraryReturnRequest keyless = *in;
    keyless.idempotency_key = NULL;
    change(rpc, &keyless.base, OP_RETURN, in->idempotency_key, in->loan_id);
}

/* --- ListMyLoans ---------------------------------------------------------------------------- */

static void listed(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(op, res);
        return;
    }
    const PGresult *r = res->results[0];
    int n = PQntuples(r), shown = n > (int)op->page.size ? (int)op->page.size : n;
    Renkei__V1__ListMyLoansResponse out = RENKEI__V1__LIST_MY_LOANS_RESPONSE__INIT;
    out.loans = rk_arena_calloc(op->arena, (size_t)shown + 1, sizeof(*out.loans));
    for (int i = 0; i < shown; i++)
        out.loans[out.n_loans++] = rk_library_loan_of(op->arena, r, i);
    out.statuses = rk_arena_calloc(op->arena, op->n_listing + 1, sizeof(*out.statuses));
    for (size_t c = 0; c < op->n_listing; c++) {
        const rk_library_call_t *call = &op->listing[c];
        const rk_federation_adapter_t *a = rk_library_adapter(op->lib, call->adapter_id);
        Renkei__V1__MunicipalityStatus *s = rk_arena_alloc(op->arena, sizeof(*s));
        renkei__v1__municipality_status__init(s);
        Renkei__V1__MunicipalityRef *m = rk_arena_alloc(op->arena, sizeof(*m));
        renkei__v1__municipality_ref__init(m);
        m->code = rk_arena_strdup(op->arena, a ? a->tenant_code : "");
        for (int i = 0; i < shown; i++)
            if (strcmp(out.loans[i]->owner->code, m->code) == 0)
                m = out.loans[i]->owner;
        s->municipality = m;
        s->status = call->status;
        s->message = (char *)call->message;
        s->latency_ms = call->latency_ms;
        out.statuses[out.n_statuses++] = s;
    }
    Renkei__V1__PageResponse page = RENKEI__V1__PAGE_RESPONSE__INIT;
    page.total_size = -1;
    page.next_page_token =
        n > shown ? rk_library_page_token(op->arena, &op->page, op->page.offset + (size_t)shown)
                  : "";
    out.page = &page;
    rk_rpc_reply(op->rpc, &out.base);
}

static void list_rows(op_t *op)
{
    char limit[16], offset[24];
    snprintf(limit, sizeof(limit), "%zu", op->page.size + 1);
    snprintf(offset, sizeof(offset), "%zu", op->page.offset);
    const char *values[] = {op->account, op->include_returned ? "true" : "false", limit, offset};
    if (rk_store_exec(op->lib->app->store, STMT_LIST, 4, values, listed, op) != RK_AGAIN)
        fail_store(op, NULL);
}

/* The owner's loans of call c as the JSON array rk_library_loan_sync takes (each with its
 * "workId"), in the arena. */
static const char *loans_json(op_t *op, const rk_library_call_t *call, const char *code)
{
    const Renkei__V1__AdapterListLoansResponse *live = (const void *)call->response;
    json_t *list = json_array();
    for (size_t k = 0; k < live->n_loans; k++) {
        const Renkei__V1__OwnerLoan *ol = live->loans[k];
        json_t *o = rk_json_from_message(&ol->base);
        if (!o)
            continue;
        char work_id[RK_LIBRARY_WORK_ID_MAX] = "";
        if (ol->work) {
            Renkei__V1__CatalogueRecord record = RENKEI__V1__CATALOGUE_RECORD__INIT;
            record.record_id = ol->record_id;
            record.work = ol->work;
            rk_library_work_id(code, &record, work_id);
        }
        json_object_set_new(o, "workId", json_string(work_id));
        json_array_append_new(list, o);
    }
    char *text = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    const char *copy = rk_arena_strdup(op->arena, text ? text : "[]");
    free(text);
    return copy;
}

static void sync_next(op_t *op);

static void synced(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK) {
        fail_store(op, res);
        return;
    }
    sync_next(op);
}

/* Stores the next answering owner's loans, then lists the rows. */
static void sync_next(op_t *op)
{
    while (op->synced < op->n_listing && op->listing[op->synced].status != STATUS(OK))
        op->synced++;
    if (op->synced == op->n_listing) {
        list_rows(op);
        return;
    }
    const rk_library_call_t *call = &op->listing[op->synced++];
    const Renkei__V1__AdapterListLoansRequest *q = (const void *)call->request;
    const rk_federation_adapter_t *a = rk_library_adapter(op->lib, call->adapter_id);
    if (!a) {
        sync_next(op);
        return;
    }
    char adapter[24], tenant[24];
    snprintf(adapter, sizeof(adapter), "%lld", (long long)call->adapter_id);
    snprintf(tenant, sizeof(tenant), "%lld", (long long)a->tenant_id);
    const char *values[] = {op->account, tenant, adapter, q->patron_id,
                            loans_json(op, call, a->tenant_code)};
    if (rk_store_exec(op->lib->app->store, STMT_SYNC, 5, values, synced, op) != RK_AGAIN)
        fail_store(op, NULL);
}

static void refreshed(rk_library_call_t *calls, size_t n, void *arg)
{
    op_t *op = arg;
    op->listing = calls;
    op->n_listing = n;
    sync_next(op);
}

static void links_read(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) < 1) {
        fail_store(op, res);
        return;
    }
    const PGresult *r = res->results[0];
    if (PQgetisnull(r, 0, 0)) {
        fail(op, "ERROR_REASON_LOGIN_REQUIRED",
             "authorization: the token's grant is no longer valid; log in again");
        return;
    }
    op->account = rk_arena_strdup(op->arena, PQgetvalue(r, 0, 0));
    int n = PQntuples(r);
    rk_library_call_t *calls = rk_arena_calloc(op->arena, (size_t)n + 1, sizeof(*calls));
    size_t n_calls = 0;
    for (int i = 0; i < n; i++) {
        if (PQgetisnull(r, i, 3))
            continue;
        Renkei__V1__AdapterListLoansRequest *q = rk_arena_alloc(op->arena, sizeof(*q));
        renkei__v1__adapter_list_loans_request__init(q);
        q->patron_id = rk_arena_strdup(op->arena, PQgetvalue(r, i, 2));
        q->include_returned = op->include_returned;
        /* who the call is for: an e-library may know the resident by it alone */
        Renkei__V1__ResidentContext *who = rk_arena_alloc(op->arena, sizeof(*who));
        renkei__v1__resident_context__init(who);
        char subject[44];
        rk_library_subject(op->lib, PQgetvalue(r, i, 5), PQgetvalue(r, i, 1), subject);
        who->pairwise_id = rk_arena_strdup(op->arena, subject);
        q->resident = who;
        calls[n_calls].adapter_id = strtoll(PQgetvalue(r, i, 3), NULL, 10);
        calls[n_calls++].request = &q->base;
    }
    if (!n_calls ||
        rk_library_fanout(op->lib, op->rpc, op->arena, "/renkei.v1.AdapterService/ListLoans",
                          &renkei__v1__adapter_list_loans_response__descriptor, calls, n_calls,
                          refreshed, op) != RK_OK)
        refreshed(calls, 0, op);
}

static void list_my_loans(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__ListMyLoansRequest *in = (const void *)message;
    op_t *op = op_new(rpc, OP_LIST);
    if (!op)
        return;
    op->include_returned = in->include_returned;
    Renkei__V1__ListMyLoansRequest filters = *in;
    filters.page = NULL;
    if (rk_library_page_read(rpc, in->page, &filters.base, 'l', PAGE_DEFAULT, PAGE_MAX,
                             &op->page) != 0)
        return;
    const char *values[] = {op->resident.grant_id, op->resident.tenant_id};
    if (rk_store_exec(op->lib->app->store, STMT_LINKS, 2, values, links_read, op) != RK_AGAIN)
        fail_store(op, NULL);
}

static const rk_rpc_method_t methods[] = {
    {"/renkei.v1.LibraryService/ListMyLoans", &renkei__v1__list_my_loans_request__descriptor,
     &renkei__v1__list_my_loans_response__descriptor, list_my_loans, 0},
    {"/renkei.v1.LibraryService/Renew", &renkei__v1__renew_request__descriptor,
     &renkei__v1__renew_response__descriptor, renew, 0},
    {"/renkei.v1.LibraryService/ElibraryCheckout",
     &renkei__v1__elibrary_checkout_request__descriptor,
     &renkei__v1__elibrary_checkout_response__descriptor, elibrary_checkout, 0},
    {"/renkei.v1.LibraryService/ElibraryReturn", &renkei__v1__elibrary_return_request__descriptor,
     &renkei__v1__elibrary_return_response__descriptor, elibrary_return, 0},
};

void rk_library_loan_register(rk_library_t *lib, rk_router_t *router)
{
    rk_store_t *store = lib->app->store;
    rk_library_loan_owner_prepare(lib);
    rk_store_prepare(store, STMT_CHECKOUT, sql_checkout);
    rk_store_prepare(store, STMT_CHANGE, sql_change);
    rk_store_prepare(store, STMT_CHECKING_OUT, sql_checking_out);
    rk_store_prepare(store, STMT_REFUSE, sql_refuse);
    rk_store_prepare(store, STMT_LINKS, sql_links);
    rk_store_prepare(store, STMT_SYNC, sql_sync);
    rk_store_prepare(store, STMT_LIST, sql_list);
    rk_store_prepare(store, STMT_CERTIFIED, sql_certified);
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        rk_rpc_register(router, &methods[i]);
}
