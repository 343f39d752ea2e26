/*
 * hold.c — PlaceHold, CancelHold, ListMyHolds, ListPickupBranches (see hold.h).
 *
 * PlaceHold: token → rk_library_hold_begin (terms, pickup rule, card, row REQUESTED) → the
 * pickup city's Describe (the branch) → the owner's records of the work → row PLACING → owner
 * step (hold_owner.h) → the row read back and answered. Each transition is one statement; the
 * owner calls lie between them, so a crash leaves a row whose state says what to resume.
 */
#include "library/hold.h"

#include "core/error.h"
#include "core/mem.h"
#include "library/catalogue.h"
#include "library/fanout.h"
#include "library/hold_owner.h"
#include "library/merge.h"
#include "library/patron.h"
#include "net/json_transcode.h"
#include "renkei/v1/adapter.pb-c.h"
#include "renkei/v1/library.pb-c.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_BEGIN "library_hold_begin"
#define STMT_CANCEL "library_cancel_begin"
#define STMT_PLACING "library_hold_placing"
#define STMT_REFUSE "library_hold_refuse"
#define STMT_ACCOUNT "library_account"
#define STMT_LIST "library_hold_list"
#define STMT_PICKUP "library_pickup_terms"

#define OWNER_TIMEOUT_NS (10ull * 1000 * 1000 * 1000)
#define PAGE_DEFAULT 20
#define PAGE_MAX 100
#define CAP(x) RENKEI__V1__ADAPTER_CAPABILITY__ADAPTER_CAPABILITY_##x
#define STATUS(x) RENKEI__V1__ANSWER_STATUS__ANSWER_STATUS_##x
#define HOLD(x) RENKEI__V1__HOLD_STATE__HOLD_STATE_##x

static const char sql_begin[] =
    "SELECT rk_library_hold_begin($1, $2::bigint, $3, $4, $5, $6, $7, $8, $9)::text";
static const char sql_cancel[] = "SELECT rk_library_cancel_begin($1, $2::bigint, $3, $4, $5)::text";
/* $1 id, $2 the owner's record, $3 the Work (JSON), $4 $5 the pickup branch's names. */
static const char sql_placing[] =
    "UPDATE rk_library_hold SET state = 'placing', record_id = $2, work = $3::jsonb,"
    " pickup_branch_ja = $4, pickup_branch_en = $5, lease_until = now() + interval '60 seconds',"
    " updated_at = now() WHERE id = $1 AND state = 'requested'";
/* $1 id, $2 the LibraryError: refused before the owner was asked. */
static const char sql_refuse[] = "UPDATE rk_library_hold SET state = 'failed', error = $2,"
                                 " updated_at = now() WHERE id = $1 AND state = 'requested'";
static const char sql_account[] = "SELECT rk_booking_account($1, $2::bigint)";
/* $1 account, $2 states, $3 limit, $4 offset. */
static const char sql_list[] = RK_LIBRARY_HOLD_COLUMNS
    " WHERE h.account_id = $1::bigint AND h.state = ANY ($2::text[])"
    " ORDER BY h.state = 'ready' DESC, nullif(h.queue_position, 0) NULLS LAST, h.created_at DESC,"
    " h.id LIMIT $3::int OFFSET $4::int";
/* $1 owner (slug or code), $2 the caller's home code. */
static const char sql_pickup[] =
    "SELECT o.code, h.code, rt.eligible, rt.residency_class, coalesce(rt.agreement_id::text, ''),"
    " coalesce(rt.agreement_version::text, ''),"
    " coalesce((SELECT a.terms -> 'partner_area' -> 'pickup_branches' FROM rk_agreement a"
    "           WHERE a.id = rt.agreement_id)::text, ''),"
    " o.name_ja, o.name_en, h.name_ja, h.name_en"
    " FROM rk_tenant o JOIN rk_tenant h ON h.code = $2"
    " JOIN rk_resident_terms(h.id, 'library.hold') rt ON rt.tenant_id = o.id"
    " WHERE o.slug = $1 OR o.code = $1";

static const char *const live_states = "{requested,placing,waiting,in_transit,ready,cancelling}";

typedef enum { OP_PLACE, OP_CANCEL, OP_LIST, OP_PICKUP } op_kind_t;

typedef struct op {
    rk_library_t *lib;
    rk_rpc_t *rpc;
    rk_arena_t *arena;
    op_kind_t kind;
    rk_identity_resident_t resident;
    char id[40];
    const char *work_id;
    const char *owner_code, *pickup_code, *branch;
    const char *branch_ja, *branch_en;
    int64_t adapter_id;
    rk_library_call_t calls[2];
    /* ListMyHolds */
    PGresult *rows;
    const char *states;
    rk_library_page_t page;
    /* PlaceHold: the first statement's parameters, asked again after a certificate link */
    const char *begin_values[9];
    int certificate_linked;
    /* ListPickupBranches */
    int partner;
    const char *pickup_branches, *agreement_id, *agreement_version;
} op_t;

/* --- answers -------------------------------------------------------------------------------- */

static void op_end(op_t *op)
{
    if (op->rows)
        PQclear(op->rows);
    op->rows = NULL;
}

static void fail(op_t *op, const char *reason, const char *message, const char *ja, const char *en)
{
    op_end(op);
    rk_library_fail(op->rpc, reason, message, ja, en, op->id);
}

static void fail_store(op_t *op, const rk_store_result_t *res)
{
    op_end(op);
    rk_library_fail_store(op->rpc, "hold", res);
}

static void answer(op_t *op, const PGresult *r)
{
    const char *state = PQgetvalue(r, 0, RK_HOLD_STATE);
    if (strcmp(state, "failed") == 0) {
        const char *error = PQgetvalue(r, 0, RK_HOLD_ERROR);
        fail(op, *error ? error : "LIBRARY_ERROR_OWNER_UNAVAILABLE", NULL, NULL, NULL);
        return;
    }
    Renkei__V1__Hold *hold = rk_library_hold_of(op->lib, op->arena, r, 0);
    if (op->kind == OP_CANCEL) {
        Renkei__V1__CancelHoldResponse out = RENKEI__V1__CANCEL_HOLD_RESPONSE__INIT;
        out.hold = hold;
        rk_rpc_reply(op->rpc, &out.base);
        return;
    }
    Renkei__V1__PlaceHoldResponse out = RENKEI__V1__PLACE_HOLD_RESPONSE__INIT;
    out.hold = hold;
    rk_rpc_reply(op->rpc, &out.base);
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
    if (rk_store_exec(op->lib->app->store, RK_LIBRARY_STMT_HOLD, 1, values, row_read, op) !=
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
    if (op->kind == OP_CANCEL && refusal) {
        fail(op, refusal, "the owner refused the cancellation; the hold is as before", NULL, NULL);
        return;
    }
    read_row(op); /* PLACING / CANCELLING when the owner was not reached */
}

static uint64_t owner_timeout(const op_t *op)
{
    uint64_t left = rk_rpc_deadline_ns(op->rpc);
    return left < OWNER_TIMEOUT_NS ? left : OWNER_TIMEOUT_NS;
}

static void run_step(op_t *op)
{
    rk_library_hold_owner_step(op->lib, op->id, owner_timeout(op), op->arena, stepped, op);
}

/* --- PlaceHold: the branch, the record, PLACING ---------------------------------------------- */

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
    if (!found) {
        refuse(op, "LIBRARY_ERROR_NOT_HOLDABLE");
        return;
    }
    json_t *work = records[0]->work ? rk_json_from_message(&records[0]->work->base) : NULL;
    char *text = work ? json_dumps(work, JSON_COMPACT) : NULL;
    json_decref(work);
    const char *values[] = {op->id, records[0]->record_id,
                            text ? rk_arena_strdup(op->arena, text) : NULL, op->branch_ja,
                            op->branch_en};
    free(text);
    if (rk_store_exec(op->lib->app->store, STMT_PLACING, 5, values, row_stored, op) != RK_AGAIN)
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

/* The pickup point named branch_id in a Describe answer, or NULL. */
static const Renkei__V1__Branch *pickup_point(const ProtobufCMessage *answer, const char *branch_id)
{
    const Renkei__V1__AdapterDescribeResponse *d = (const void *)answer;
    for (size_t i = 0; d && i < d->n_branches; i++)
        if (strcmp(d->branches[i]->branch_id, branch_id) == 0 && d->branches[i]->pickup_point)
            return d->branches[i];
    return NULL;
}

static void branch_described(rk_library_call_t *calls, size_t n, void *arg)
{
    op_t *op = arg;
    (void)n;
    if (calls[0].status != STATUS(OK)) {
        refuse(op, "LIBRARY_ERROR_OWNER_UNAVAILABLE");
        return;
    }
    const Renkei__V1__Branch *b = pickup_point(calls[0].response, op->branch);
    if (!b) {
        refuse(op, "LIBRARY_ERROR_UNKNOWN_BRANCH");
        return;
    }
    op->branch_ja = b->name && b->name->ja ? b->name->ja : "";
    op->branch_en = b->name && b->name->en ? b->name->en : "";
    find_records(op);
}

/* Asks Describe of the library adapters of the municipalities codes[0..n) into op->calls. */
static int describe(op_t *op, const char *const *codes, size_t n, rk_library_fanout_cb done)
{
    static Renkei__V1__AdapterDescribeRequest request = RENKEI__V1__ADAPTER_DESCRIBE_REQUEST__INIT;
    for (size_t i = 0; i < n; i++) {
        const rk_federation_adapter_t *a =
            rk_library_adapter_of(op->lib, codes[i], CAP(LIBRARY_HOLDS));
        if (!a)
            a = rk_library_adapter_of(op->lib, codes[i], CAP(LIBRARY_CATALOGUE));
        op->calls[i].adapter_id = a ? a->id : 0;
        op->calls[i].request = &request.base;
    }
    return rk_library_fanout(op->lib, op->rpc, op->arena, "/renkei.v1.AdapterService/Describe",
                             &renkei__v1__adapter_describe_response__descriptor, op->calls, n, done,
                             op);
}

/* --- the first statement's outcome ---------------------------------------------------------- */

static const char *name_of(json_t *o, const char *key, const char *lang)
{
    const char *v = json_string_value(json_object_get(json_object_get(o, key), lang));
    return v ? v : "";
}

static void not_eligible(op_t *op, const char *owner_ja, const char *owner_en, const char *home_ja,
                         const char *home_en)
{
    rk_arena_t *a = op->arena;
    fail(op, "LIBRARY_ERROR_NOT_ELIGIBLE",
         rk_arena_printf(a,
                         "owner: no agreement of %s lets residents of %s hold its items "
                         "(library.hold)",
                         owner_en, home_en),
         rk_arena_printf(a,
                         "%sの図書館で予約できるのは%sの方と相互利用協定の相手市区町村の方です。"
                         "%sにお住まいの方は予約できません（%sとの協定がありません）。",
                         owner_ja, owner_ja, home_ja, home_ja),
         rk_arena_printf(a,
                         "%s's libraries take holds from its residents and from residents of "
                         "municipalities under a mutual-use agreement; %s has none with %s, so its "
                         "residents cannot place holds there.",
                         owner_en, owner_en, home_en));
}

static void pickup_refused(op_t *op, json_t *o)
{
    rk_arena_t *a = op->arena;
    const char *owner_ja = name_of(o, "owner", "ja"), *owner_en = name_of(o, "owner", "en");
    const char *pickup_ja = name_of(o, "pickup", "ja"), *pickup_en = name_of(o, "pickup", "en");
    if (strcmp(json_string_value(json_object_get(o, "rule")), "branch") == 0) {
        fail(op, "LIBRARY_ERROR_PICKUP_BRANCH_NOT_ALLOWED",
             rk_arena_printf(a,
                             "pickup_branch_id: %s's agreement does not list this branch for "
                             "pickup (pickup_branches)",
                             owner_en),
             rk_arena_printf(a, "%sとの協定では、この館（%s）では受け取れません。", owner_ja,
                             op->branch),
             rk_arena_printf(a, "Under %s's agreement, holds cannot be collected at branch %s.",
                             owner_en, op->branch));
        return;
    }
    fail(op, "LIBRARY_ERROR_PICKUP_BRANCH_NOT_ALLOWED",
         rk_arena_printf(a,
                         "pickup_municipality: %s's items are collected at its own branches or "
                         "in your home municipality, not in %s",
                         owner_en, pickup_en),
         rk_arena_printf(
             a, "%sの資料は%sの館か、お住まいの市区町村の館で受け取れます。%sでは受け取れません。",
             owner_ja, owner_ja, pickup_ja),
         rk_arena_printf(a,
                         "%s's items can be collected at its branches or in your home "
                         "municipality, not in %s.",
                         owner_en, pickup_en));
}

static void begun(const rk_store_result_t *res, void *arg);

/* The certificate link was made (or refused): PlaceHold's first statement again. */
static void certificate_linked(const char *refusal, void *arg)
{
    op_t *op = arg;
    if (refusal) {
        fail(op, "LIBRARY_ERROR_PATRON_NOT_LINKED",
             rk_arena_printf(op->arena,
                             "owner: linking your card by your certificate login failed (%s); "
                             "link it with its number (LinkPatron)",
                             refusal),
             NULL, NULL);
        return;
    }
    if (rk_store_exec(op->lib->app->store, STMT_BEGIN, 9, op->begin_values, begun, op) != RK_AGAIN)
        fail_store(op, NULL);
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
    int certificate = json_is_true(json_object_get(o, "certificate"));
    char what[24];
    snprintf(what, sizeof(what), "%s", outcome ? outcome : "");
    if (id)
        snprintf(op->id, sizeof(op->id), "%s", id);
    if (strcmp(what, "new") == 0) {
        op->adapter_id = (int64_t)json_integer_value(json_object_get(o, "adapter"));
        op->owner_code =
            rk_arena_strdup(op->arena, json_string_value(json_object_get(o, "owner_code")));
        op->pickup_code =
            rk_arena_strdup(op->arena, json_string_value(json_object_get(o, "pickup_code")));
    } else if (strcmp(what, "not_eligible") == 0) {
        not_eligible(op, name_of(o, "owner", "ja"), name_of(o, "owner", "en"),
                     name_of(o, "home", "ja"), name_of(o, "home", "en"));
    } else if (strcmp(what, "pickup_not_allowed") == 0) {
        pickup_refused(op, o);
    }
    json_decref(o);
    if (strcmp(what, "new") == 0) {
        if (describe(op, &op->pickup_code, 1, branch_described) != RK_OK)
            refuse(op, "LIBRARY_ERROR_OWNER_UNAVAILABLE");
    } else if (strcmp(what, "cancel") == 0) {
        run_step(op);
    } else if (strcmp(what, "replay") == 0) {
        read_row(op);
    } else if (strcmp(what, "login") == 0) {
        fail(op, "ERROR_REASON_LOGIN_REQUIRED",
             "authorization: the token's grant is no longer valid; log in again", NULL, NULL);
    } else if (strcmp(what, "reused") == 0) {
        fail(op, "ERROR_REASON_IDEMPOTENCY_KEY_REUSED",
             "idempotency_key: already used for a different request", NULL, NULL);
    } else if (strcmp(what, "no_owner") == 0) {
        rk_rpc_fail(op->rpc, RK_RPC_INVALID_ARGUMENT, "owner: no such municipality");
    } else if (strcmp(what, "no_pickup") == 0) {
        rk_rpc_fail(op->rpc, RK_RPC_INVALID_ARGUMENT, "pickup_municipality: no such municipality");
    } else if (strcmp(what, "no_adapter") == 0) {
        fail(op, "LIBRARY_ERROR_OWNER_UNAVAILABLE",
             "owner: its library takes no holds through the hub now", NULL, NULL);
    } else if (strcmp(what, "not_linked") == 0 && certificate && op->kind == OP_PLACE &&
               !op->certificate_linked) {
        op->certificate_linked = 1; /* once: the statement again finds the link */
        rk_library_patron_link_certificate(op->rpc, &op->resident, op->begin_values[5],
                                           certificate_linked, op);
    } else if (strcmp(what, "not_linked") == 0) {
        fail(op, "LIBRARY_ERROR_PATRON_NOT_LINKED",
             "owner: link your library card there first (LinkPatron)", NULL, NULL);
    } else if (strcmp(what, "already_held") == 0) {
        fail(op, "LIBRARY_ERROR_ALREADY_HELD", NULL, NULL, NULL);
    } else if (strcmp(what, "not_found") == 0) {
        fail(op, "ERROR_REASON_NOT_FOUND", "hold_id: no such hold of yours", NULL, NULL);
    } else if (strcmp(what, "state") == 0) {
        fail(op, "LIBRARY_ERROR_HOLD_NOT_CANCELLABLE", NULL, NULL, NULL);
    } else if (strcmp(what, "not_eligible") && strcmp(what, "pickup_not_allowed")) {
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

static int branch_ok(const char *id)
{
    size_t len = strlen(id);
    return len && len <= 64 &&
           strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == len;
}

static int hold_id_ok(const char *id)
{
    return strlen(id) == 35 && strncmp(id, "lh_", 3) == 0 &&
           strspn(id + 3, "0123456789abcdef") == 32;
}

static void place_hold(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__PlaceHoldRequest *in = (const void *)message;
    op_t *op = op_new(rpc, OP_PLACE);
    if (!op)
        return;
    const char *key =
        rk_federation_idempotency_key(rpc, in->idempotency_key ? in->idempotency_key->key : NULL);
    if (!key)
        return;
    rk_library_work_ref_t ref;
    const char *why = NULL;
    if (rk_library_work_ref_parse(op->arena, in->work_id, &ref) != RK_OK)
        why = "work_id: required, a Work.id of this hub (from SearchCatalogue)";
    else if (!rk_library_name_ok(in->owner))
        why = "owner: required, the owning library's slug (kodaira) or code (132110)";
    else if (*in->pickup_municipality && !rk_library_name_ok(in->pickup_municipality))
        why = "pickup_municipality: a slug or a code, or empty for the owner";
    else if (!branch_ok(in->pickup_branch_id))
        why = "pickup_branch_id: required, a branch id from ListPickupBranches";
    if (why) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, why);
        return;
    }
    op->work_id = in->work_id;
    op->branch = in->pickup_branch_id;
    if (rk_library_new_id("lh_", op->id) != RK_OK) {
        rk_rpc_fail(rpc, RK_RPC_INTERNAL, "no randomness for a hold id");
        return;
    }
    Renkei__V1__PlaceHoldRequest keyless = *in;
    keyless.idempotency_key = NULL;
    const char *values[] = {op->resident.grant_id,
                            op->resident.tenant_id,
                            key,
                            rk_library_request_hash(op->arena, &keyless.base),
                            op->id,
                            in->owner,
                            in->pickup_municipality,
                            in->pickup_branch_id,
                            in->work_id};
    memcpy(op->begin_values, values, sizeof(values));
    if (rk_store_exec(op->lib->app->store, STMT_BEGIN, 9, op->begin_values, begun, op) != RK_AGAIN)
        fail_store(op, NULL);
}

static void cancel_hold(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__CancelHoldRequest *in = (const void *)message;
    op_t *op = op_new(rpc, OP_CANCEL);
    if (!op)
        return;
    const char *key =
        rk_federation_idempotency_key(rpc, in->idempotency_key ? in->idempotency_key->key : NULL);
    if (!key)
        return;
    if (!hold_id_ok(in->hold_id)) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, "hold_id: required, a Hold.id from PlaceHold");
        return;
    }
    snprintf(op->id, sizeof(op->id), "%s", in->hold_id);
    Renkei__V1__CancelHoldRequest keyless = *in;
    keyless.idempotency_key = NULL;
    const char *values[] = {op->resident.grant_id, op->resident.tenant_id, key,
                            rk_library_request_hash(op->arena, &keyless.base), op->id};
    if (rk_store_exec(op->lib->app->store, STMT_CANCEL, 5, values, begun, op) != RK_AGAIN)
        fail_store(op, NULL);
}

/* --- ListMyHolds ---------------------------------------------------------------------------- */

static int owner_live(const char *state)
{
    return !strcmp(state, "waiting") || !strcmp(state, "in_transit") || !strcmp(state, "ready");
}

/* Whether a comes before b in ListMyHolds: READY first, then by queue position (unqueued last). */
static int hold_before(const Renkei__V1__Hold *a, const Renkei__V1__Hold *b)
{
    int a_ready = a->state == HOLD(READY), b_ready = b->state == HOLD(READY);
    if (a_ready != b_ready)
        return a_ready;
    return a->queue_position && (!b->queue_position || a->queue_position < b->queue_position);
}

static void refreshed(rk_library_call_t *calls, size_t n_calls, void *arg)
{
    op_t *op = arg;
    const PGresult *r = op->rows;
    int n = PQntuples(r), shown = n > (int)op->page.size ? (int)op->page.size : n;
    Renkei__V1__ListMyHoldsResponse out = RENKEI__V1__LIST_MY_HOLDS_RESPONSE__INIT;
    out.holds = rk_arena_calloc(op->arena, (size_t)shown + 1, sizeof(*out.holds));
    out.statuses = rk_arena_calloc(op->arena, n_calls + 1, sizeof(*out.statuses));
    for (int i = 0; i < shown; i++) {
        Renkei__V1__Hold *h = rk_library_hold_of(op->lib, op->arena, r, i);
        out.holds[out.n_holds++] = h;
        if (!owner_live(PQgetvalue(r, i, RK_HOLD_STATE)))
            continue;
        int64_t adapter = strtoll(PQgetvalue(r, i, RK_HOLD_ADAPTER), NULL, 10);
        for (size_t c = 0; c < n_calls; c++) {
            const Renkei__V1__AdapterListHoldsRequest *q = (const void *)calls[c].request;
            if (calls[c].adapter_id != adapter ||
                strcmp(q->patron_id, PQgetvalue(r, i, RK_HOLD_PATRON)) ||
                calls[c].status != STATUS(OK))
                continue;
            const Renkei__V1__AdapterListHoldsResponse *live = (const void *)calls[c].response;
            for (size_t k = 0; k < live->n_holds; k++) {
                const Renkei__V1__OwnerHold *oh = live->holds[k];
                if (strcmp(oh->owner_reference, h->owner_reference) != 0)
                    continue;
                h->state = oh->state != HOLD(UNSPECIFIED) ? oh->state : h->state;
                h->queue_position = oh->queue_position;
                h->expires_at = oh->expires_at;
            }
        }
    }
    for (size_t c = 0; c < n_calls; c++) {
        Renkei__V1__MunicipalityStatus *s = rk_arena_alloc(op->arena, sizeof(*s));
        renkei__v1__municipality_status__init(s);
        for (int i = 0; i < shown && !s->municipality; i++)
            if (strtoll(PQgetvalue(r, i, RK_HOLD_ADAPTER), NULL, 10) == calls[c].adapter_id)
                s->municipality = out.holds[i]->owner;
        s->status = calls[c].status;
        s->message = (char *)calls[c].message;
        s->latency_ms = calls[c].latency_ms;
        out.statuses[out.n_statuses++] = s;
    }
    /* READY first, then by queue position: the live answers may have moved some. Stable. */
    for (size_t i = 1; i < out.n_holds; i++)
        for (size_t j = i; j > 0 && hold_before(out.holds[j], out.holds[j - 1]); j--) {
            Renkei__V1__Hold *t = out.holds[j - 1];
            out.holds[j - 1] = out.holds[j];
            out.holds[j] = t;
        }
    Renkei__V1__PageResponse page = RENKEI__V1__PAGE_RESPONSE__INIT;
    page.total_size = -1;
    page.next_page_token =
        n > shown ? rk_library_page_token(op->arena, &op->page, op->page.offset + (size_t)shown)
                  : "";
    out.page = &page;
    op_end(op);
    rk_rpc_reply(op->rpc, &out.base);
}

static void listed(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(op, res);
        return;
    }
    const PGresult *r = res->results[0];
    op->rows = PQcopyResult(r, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    int n = PQntuples(r), shown = n > (int)op->page.size ? (int)op->page.size : n;
    rk_library_call_t *calls = rk_arena_calloc(op->arena, (size_t)shown + 1, sizeof(*calls));
    size_t n_calls = 0;
    for (int i = 0; i < shown; i++) {
        if (!owner_live(PQgetvalue(r, i, RK_HOLD_STATE)))
            continue;
        int64_t adapter = strtoll(PQgetvalue(r, i, RK_HOLD_ADAPTER), NULL, 10);
        const char *patron = PQgetvalue(r, i, RK_HOLD_PATRON);
        int seen = 0;
        for (size_t c = 0; c < n_calls && !seen; c++)
            seen =
                calls[c].adapter_id == adapter &&
                !strcmp(((const Renkei__V1__AdapterListHoldsRequest *)calls[c].request)->patron_id,
                        patron);
        if (seen)
            continue;
        Renkei__V1__AdapterListHoldsRequest *q = rk_arena_alloc(op->arena, sizeof(*q));
        renkei__v1__adapter_list_holds_request__init(q);
        q->patron_id = rk_arena_strdup(op->arena, patron);
        calls[n_calls].adapter_id = adapter;
        calls[n_calls++].request = &q->base;
    }
    if (rk_library_fanout(op->lib, op->rpc, op->arena, "/renkei.v1.AdapterService/ListHolds",
                          &renkei__v1__adapter_list_holds_response__descriptor, calls, n_calls,
                          refreshed, op) != RK_OK)
        refreshed(calls, 0, op);
}

static void account_read(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        fail_store(op, res);
        return;
    }
    if (PQgetisnull(res->results[0], 0, 0)) {
        fail(op, "ERROR_REASON_LOGIN_REQUIRED",
             "authorization: the token's grant is no longer valid; log in again", NULL, NULL);
        return;
    }
    char limit[16], offset[24];
    snprintf(limit, sizeof(limit), "%zu", op->page.size + 1);
    snprintf(offset, sizeof(offset), "%zu", op->page.offset);
    const char *values[] = {PQgetvalue(res->results[0], 0, 0), op->states, limit, offset};
    if (rk_store_exec(op->lib->app->store, STMT_LIST, 4, values, listed, op) != RK_AGAIN)
        fail_store(op, NULL);
}

static void list_my_holds(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__ListMyHoldsRequest *in = (const void *)message;
    op_t *op = op_new(rpc, OP_LIST);
    if (!op)
        return;
    op->states = live_states;
    if (in->n_states) {
        size_t cap = 3 + in->n_states * 16, len = 0;
        char *states = rk_arena_alloc(op->arena, cap);
        len += (size_t)snprintf(states, cap, "{");
        for (size_t i = 0; i < in->n_states; i++) {
            const char *name = NULL;
            for (const char *const *s =
                     (const char *const[]){"requested", "placing", "waiting", "in_transit", "ready",
                                           "fulfilled", "cancelling", "cancelled", "expired",
                                           "failed", NULL};
                 *s && !name; s++)
                if (rk_library_hold_state(*s) == in->states[i])
                    name = *s;
            if (!name) {
                rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                            "states: each must be a HoldState other than UNSPECIFIED");
                return;
            }
            len += (size_t)snprintf(states + len, cap - len, "%s%s", i ? "," : "", name);
        }
        snprintf(states + len, cap - len, "}");
        op->states = states;
    }
    Renkei__V1__ListMyHoldsRequest filters = *in;
    filters.page = NULL;
    if (rk_library_page_read(rpc, in->page, &filters.base, 'h', PAGE_DEFAULT, PAGE_MAX,
                             &op->page) != 0)
        return;
    const char *values[] = {op->resident.grant_id, op->resident.tenant_id};
    if (rk_store_exec(op->lib->app->store, STMT_ACCOUNT, 2, values, account_read, op) != RK_AGAIN)
        fail_store(op, NULL);
}

/* --- ListPickupBranches ---------------------------------------------------------------------- */

/* Whether the agreement's pickup_branches (JSON text) allow branch_id. */
static int listed_branch(const char *pickup_branches, const char *branch_id)
{
    json_t *list = json_loads(pickup_branches, 0, NULL);
    int ok = 0;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *s = json_string_value(v);
        ok |= s && (strcmp(s, "*") == 0 || strcmp(s, branch_id) == 0);
    }
    json_decref(list);
    return ok;
}

static void branches_described(rk_library_call_t *calls, size_t n, void *arg)
{
    op_t *op = arg;
    Renkei__V1__ListPickupBranchesResponse out = RENKEI__V1__LIST_PICKUP_BRANCHES_RESPONSE__INIT;
    size_t cap = 0;
    for (size_t c = 0; c < n; c++)
        if (calls[c].status == STATUS(OK))
            cap += ((const Renkei__V1__AdapterDescribeResponse *)calls[c].response)->n_branches;
    if (!cap && n && calls[0].status != STATUS(OK)) {
        fail(op, "LIBRARY_ERROR_OWNER_UNAVAILABLE", calls[0].message, NULL, NULL);
        return;
    }
    out.branches = rk_arena_calloc(op->arena, cap + 1, sizeof(*out.branches));
    /* calls[0]: the home city's library (a partner's) or the owner's (at home), calls[1]: the
     * owner's, whose branches a partner may use as its agreement lists. */
    for (size_t c = 0; c < n; c++) {
        if (calls[c].status != STATUS(OK))
            continue;
        const Renkei__V1__AdapterDescribeResponse *d = (const void *)calls[c].response;
        int owner = c == n - 1;
        for (size_t i = 0; i < d->n_branches; i++) {
            Renkei__V1__Branch *b = d->branches[i];
            if (!b->pickup_point ||
                (owner && op->partner && !listed_branch(op->pickup_branches, b->branch_id)))
                continue;
            out.branches[out.n_branches++] = b;
        }
    }
    Renkei__V1__AgreementRef agreement = RENKEI__V1__AGREEMENT_REF__INIT;
    if (op->partner) {
        agreement.agreement_id = (char *)op->agreement_id;
        agreement.version = (int32_t)strtol(op->agreement_version, NULL, 10);
        out.agreement = &agreement;
    }
    rk_rpc_reply(op->rpc, &out.base);
}

static void pickup_terms_read(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(op, res);
        return;
    }
    const PGresult *r = res->results[0];
    if (PQntuples(r) != 1) {
        rk_rpc_fail(op->rpc, RK_RPC_INVALID_ARGUMENT, "owner: no such municipality");
        return;
    }
    if (strcmp(PQgetvalue(r, 0, 2), "t") != 0) {
        not_eligible(op, PQgetvalue(r, 0, 7), PQgetvalue(r, 0, 8), PQgetvalue(r, 0, 9),
                     PQgetvalue(r, 0, 10));
        return;
    }
    op->partner = strcmp(PQgetvalue(r, 0, 3), "partner_area") == 0;
    op->agreement_id = rk_arena_strdup(op->arena, PQgetvalue(r, 0, 4));
    op->agreement_version = rk_arena_strdup(op->arena, PQgetvalue(r, 0, 5));
    op->pickup_branches = rk_arena_strdup(op->arena, PQgetvalue(r, 0, 6));
    const char *codes[] = {rk_arena_strdup(op->arena, PQgetvalue(r, 0, 1)),
                           rk_arena_strdup(op->arena, PQgetvalue(r, 0, 0))};
    /* a partner: the home city's branches, then the owner's; at home: the owner's */
    if (describe(op, op->partner ? codes : codes + 1, op->partner ? 2 : 1, branches_described) !=
        RK_OK)
        rk_rpc_fail(op->rpc, RK_RPC_UNAVAILABLE, "the hub is starting or stopping; retry");
}

static void list_pickup_branches(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__ListPickupBranchesRequest *in = (const void *)message;
    op_t *op = op_new(rpc, OP_PICKUP);
    if (!op)
        return;
    if (!rk_library_name_ok(in->owner)) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "owner: required, the owning library's slug (kodaira) or code (132110)");
        return;
    }
    const char *values[] = {in->owner, op->resident.home_municipality};
    if (rk_store_exec(op->lib->app->store, STMT_PICKUP, 2, values, pickup_terms_read, op) !=
        RK_AGAIN)
        fail_store(op, NULL);
}

static const rk_rpc_method_t methods[] = {
    {"/renkei.v1.LibraryService/PlaceHold", &renkei__v1__place_hold_request__descriptor,
     &renkei__v1__place_hold_response__descriptor, place_hold, 0},
    {"/renkei.v1.LibraryService/CancelHold", &renkei__v1__cancel_hold_request__descriptor,
     &renkei__v1__cancel_hold_response__descriptor, cancel_hold, 0},
    {"/renkei.v1.LibraryService/ListMyHolds", &renkei__v1__list_my_holds_request__descriptor,
     &renkei__v1__list_my_holds_response__descriptor, list_my_holds, 0},
    {"/renkei.v1.LibraryService/ListPickupBranches",
     &renkei__v1__list_pickup_branches_request__descriptor,
     &renkei__v1__list_pickup_branches_response__descriptor, list_pickup_branches, 0},
};

void rk_library_hold_register(rk_library_t *lib, rk_router_t *router)
{
    rk_store_t *store = lib->app->store;
    rk_library_hold_owner_prepare(lib);
    rk_store_prepare(store, STMT_BEGIN, sql_begin);
    rk_store_prepare(store, STMT_CANCEL, sql_cancel);
    rk_store_prepare(store, STMT_PLACING, sql_placing);
    rk_store_prepare(store, STMT_REFUSE, sql_refuse);
    rk_store_prepare(store, STMT_ACCOUNT, sql_account);
    rk_store_prepare(store, STMT_LIST, sql_list);
    rk_store_prepare(store, STMT_PICKUP, sql_pickup);
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        rk_rpc_register(router, &methods[i]);
}
