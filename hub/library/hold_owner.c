/*
 * hold_owner.c — a hold row as a Hold, and one broker step at the owner (see hold_owner.h).
 *
 * A step (owner_step.h) is malloc'd: the owner's answer may come after the request that started
 * it is gone, and its outcome is stored all the same.
 */
#include "library/hold_owner.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "facility/terms.h"
#include "identity/identity.h"
#include "identity/token.h"
#include "library/owner_step.h"
#include "net/json_transcode.h"
#include "net/pb_arena.h"
#include "renkei/v1/adapter.pb-c.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_PLACED "library_hold_placed"
#define STMT_FAIL "library_hold_fail"
#define STMT_CANCELLED "library_hold_cancelled"
#define STMT_UNCANCEL "library_hold_uncancel"

#define HOLD(x) RENKEI__V1__HOLD_STATE__HOLD_STATE_##x

static const char sql_get[] = RK_LIBRARY_HOLD_COLUMNS " WHERE h.id = $1";
/* $1 id, $2 state, $3 owner reference, $4 queue position, $5 pickup deadline, $6 placed at,
 * $7 the resident's pairwise id towards the owner (the exchange log's, migration 0017). */
static const char sql_placed[] =
    "UPDATE rk_library_hold SET state = $2, owner_reference = $3, queue_position = $4::int,"
    " resident_subject = $7,"
    " expires_at = nullif($5, '')::timestamptz,"
    " placed_at = coalesce(nullif($6, '')::timestamptz, now()), updated_at = now()"
    " WHERE id = $1 AND state = 'placing'";
/* $1 id, $2 the state it must be in, $3 the LibraryError name. */
static const char sql_fail[] = "UPDATE rk_library_hold SET state = 'failed', error = $3,"
                               " updated_at = now() WHERE id = $1 AND state = $2";
/* $1 id, $2 the resident's pairwise id towards the owner. */
static const char sql_cancelled[] =
    "UPDATE rk_library_hold SET state = 'cancelled', resident_subject = $2, updated_at = now()"
    " WHERE id = $1 AND state = 'cancelling'";
static const char sql_uncancel[] =
    "UPDATE rk_library_hold SET state = cancel_from, updated_at = now()"
    " WHERE id = $1 AND state = 'cancelling' AND cancel_from <> ''";

static const struct {
    const char *name;
    Renkei__V1__HoldState state;
} states[] = {
    {"requested", HOLD(REQUESTED)},   {"placing", HOLD(PLACING)},
    {"waiting", HOLD(WAITING)},       {"in_transit", HOLD(IN_TRANSIT)},
    {"ready", HOLD(READY)},           {"fulfilled", HOLD(FULFILLED)},
    {"cancelling", HOLD(CANCELLING)}, {"cancelled", HOLD(CANCELLED)},
    {"expired", HOLD(EXPIRED)},       {"failed", HOLD(FAILED)},
};

Renkei__V1__HoldState rk_library_hold_state(const char *name)
{
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (strcmp(states[i].name, name) == 0)
            return states[i].state;
    return HOLD(UNSPECIFIED);
}

static const char *state_name(Renkei__V1__HoldState state)
{
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        if (states[i].state == state)
            return states[i].name;
    return NULL;
}

/* --- the Hold message --------------------------------------------------------------------- */

static char *col(rk_arena_t *arena, const PGresult *r, int i, int c)
{
    return rk_arena_strdup(arena, PQgetvalue(r, i, c));
}

Renkei__V1__MunicipalityRef *rk_library_municipality_of(rk_arena_t *arena, const PGresult *r, int i,
                                                        int first)
{
    Renkei__V1__LocalizedText *name = rk_arena_alloc(arena, sizeof(*name));
    renkei__v1__localized_text__init(name);
    name->ja = col(arena, r, i, first + 2);
    name->en = col(arena, r, i, first + 3);
    name->kana = col(arena, r, i, first + 4);
    Renkei__V1__MunicipalityRef *ref = rk_arena_alloc(arena, sizeof(*ref));
    renkei__v1__municipality_ref__init(ref);
    ref->code = col(arena, r, i, first);
    ref->slug = col(arena, r, i, first + 1);
    ref->name = name;
    return ref;
}

void rk_library_subject(const rk_library_t *lib, const char *uid, const char *tenant_id,
                        char out[44])
{
    out[0] = '\0';
    if (!*uid || !lib->app->identity)
        return;
    char sector[40];
    snprintf(sector, sizeof(sector), "tenant:%s", tenant_id);
    rk_identity_subject(lib->app->identity->pairwise_key, 1, sector, uid, out);
}

static void subject_of(const rk_library_t *lib, const PGresult *r, int i, char out[44])
{
    rk_library_subject(lib, PQgetvalue(r, i, RK_HOLD_UID), PQgetvalue(r, i, RK_HOLD_TENANT), out);
}

Renkei__V1__Work *rk_library_work_of(rk_arena_t *arena, const char *json, const char *work_id)
{
    json_t *work = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
    ProtobufCAllocator allocator = rk_pb_arena_allocator(arena);
    Renkei__V1__Work *w = work ? (Renkei__V1__Work *)rk_json_to_message(
                                     &renkei__v1__work__descriptor, work, &allocator, NULL, 0)
                               : NULL;
    json_decref(work);
    if (!w) {
        w = rk_arena_alloc(arena, sizeof(*w));
        renkei__v1__work__init(w);
    }
    w->id = rk_arena_strdup(arena, work_id);
    return w;
}

Renkei__V1__Hold *rk_library_hold_of(const rk_library_t *lib, rk_arena_t *arena, const PGresult *r,
                                     int i)
{
    Renkei__V1__Hold *h = rk_arena_alloc(arena, sizeof(*h));
    renkei__v1__hold__init(h);
    h->id = col(arena, r, i, RK_HOLD_ID);
    h->work = rk_library_work_of(arena, PQgetvalue(r, i, RK_HOLD_WORK),
                                 PQgetvalue(r, i, RK_HOLD_WORK_ID));
    h->owner = rk_library_municipality_of(arena, r, i, RK_HOLD_OWNER_CODE);
    h->record_id = col(arena, r, i, RK_HOLD_RECORD);
    Renkei__V1__Branch *b = rk_arena_alloc(arena, sizeof(*b));
    renkei__v1__branch__init(b);
    b->municipality = rk_library_municipality_of(arena, r, i, RK_HOLD_PICKUP_CODE);
    b->branch_id = col(arena, r, i, RK_HOLD_BRANCH);
    Renkei__V1__LocalizedText *branch_name = rk_arena_alloc(arena, sizeof(*branch_name));
    renkei__v1__localized_text__init(branch_name);
    branch_name->ja = col(arena, r, i, RK_HOLD_BRANCH_JA);
    branch_name->en = col(arena, r, i, RK_HOLD_BRANCH_EN);
    b->name = branch_name;
    b->pickup_point = 1;
    h->pickup_branch = b;
    h->state = rk_library_hold_state(PQgetvalue(r, i, RK_HOLD_STATE));
    h->queue_position = (int32_t)strtol(PQgetvalue(r, i, RK_HOLD_QUEUE), NULL, 10);
    h->expires_at = col(arena, r, i, RK_HOLD_EXPIRES);
    h->placed_at = col(arena, r, i, RK_HOLD_PLACED);
    h->owner_reference = col(arena, r, i, RK_HOLD_OWNER_REF);
    h->receipt_id = col(arena, r, i, RK_HOLD_RECEIPT);
    if (*PQgetvalue(r, i, RK_HOLD_AGREEMENT)) {
        Renkei__V1__AgreementRef *a = rk_arena_alloc(arena, sizeof(*a));
        renkei__v1__agreement_ref__init(a);
        a->agreement_id = col(arena, r, i, RK_HOLD_AGREEMENT);
        a->version = (int32_t)strtol(PQgetvalue(r, i, RK_HOLD_AGREEMENT_VERSION), NULL, 10);
        h->agreement = a;
    }
    char subject[44];
    subject_of(lib, r, i, subject);
    h->resident_pairwise_id = rk_arena_strdup(arena, subject);
    const char *error = PQgetvalue(r, i, RK_HOLD_ERROR);
    const ProtobufCEnumValue *v = *error ? protobuf_c_enum_descriptor_get_value_by_name(
                                               &renkei__v1__library_error__descriptor, error)
                                         : NULL;
    const char *ja, *en;
    if (v && rk_library_reason_text(error, &ja, &en) == RK_OK) {
        h->error = (Renkei__V1__LibraryError)v->value;
        Renkei__V1__LocalizedText *t = rk_arena_alloc(arena, sizeof(*t));
        renkei__v1__localized_text__init(t);
        t->ja = (char *)ja;
        t->en = (char *)en;
        h->error_message = t;
    }
    return h;
}

/* --- the owner step ----------------------------------------------------------------------- */

static void placed(const rk_rpc_result_t *result, void *arg)
{
    rk_library_step_t *s = arg;
    if (result->code != RK_RPC_OK) {
        /* an unknown record: gone there */
        if (rk_library_step_refused(s, "PlaceHold", result, "LIBRARY_ERROR_NOT_HOLDABLE")) {
            const char *values[] = {s->id, "placing", s->refusal};
            rk_library_step_store(s, STMT_FAIL, 3, values);
        }
        return;
    }
    const Renkei__V1__OwnerHold *oh =
        ((const Renkei__V1__AdapterPlaceHoldResponse *)result->response)->hold;
    const char *state = oh ? state_name(oh->state) : NULL;
    if (!state ||
        (strcmp(state, "waiting") && strcmp(state, "in_transit") && strcmp(state, "ready")))
        state = "waiting"; /* an owner's odd answer: the hold is placed; ListMyHolds refreshes it */
    char queue[16];
    snprintf(queue, sizeof(queue), "%d", oh ? oh->queue_position : 0);
    const char *values[] = {s->id,
                            state,
                            oh && oh->owner_reference ? oh->owner_reference : "",
                            queue,
                            oh && oh->expires_at ? oh->expires_at : "",
                            oh && oh->placed_at ? oh->placed_at : "",
                            s->subject};
    rk_library_step_store(s, STMT_PLACED, 7, values);
}

static void cancelled(const rk_rpc_result_t *result, void *arg)
{
    rk_library_step_t *s = arg;
    const char *values[] = {s->id, s->subject};
    if (result->code != RK_RPC_OK) {
        if (rk_library_step_refused(s, "CancelHold", result, NULL))
            rk_library_step_store(s, STMT_UNCANCEL, 1, values);
        return;
    }
    rk_library_step_store(s, STMT_CANCELLED, 2, values);
}

static void call_owner(rk_library_step_t *s)
{
    const PGresult *r = s->row;
    const char *state = PQgetvalue(r, 0, RK_HOLD_STATE);
    const rk_federation_adapter_t *a =
        rk_library_adapter(s->lib, strtoll(PQgetvalue(r, 0, RK_HOLD_ADAPTER), NULL, 10));
    if (!a) {
        rk_log_warn("library owner adapter not active", "{s:s}", "hold_id", s->id);
        rk_library_step_end(s, RK_EUNAVAILABLE);
        return;
    }
    subject_of(s->lib, r, 0, s->subject);
    Renkei__V1__ResidentContext resident;
    Renkei__V1__MunicipalityRef home;
    Renkei__V1__AgreementRef agreement;
    const char *class = PQgetvalue(r, 0, RK_HOLD_CLASS);
    rk_facility_resident_context(
        &resident, &home, &agreement, s->subject, PQgetvalue(r, 0, RK_HOLD_HOME), class,
        strcmp(class, "resident") == 0 ? "resident_rate" : "non_resident_rate",
        PQgetvalue(r, 0, RK_HOLD_AGREEMENT), PQgetvalue(r, 0, RK_HOLD_AGREEMENT_VERSION));
    resident.age_band = rk_library_age_band(PQgetvalue(r, 0, RK_HOLD_AGE_BAND));
    Renkei__V1__IdempotencyKey key = RENKEI__V1__IDEMPOTENCY_KEY__INIT;
    key.key = s->id;
    if (strcmp(state, "placing") == 0) {
        Renkei__V1__AdapterPlaceHoldRequest in = RENKEI__V1__ADAPTER_PLACE_HOLD_REQUEST__INIT;
        in.idempotency_key = &key;
        in.resident = &resident;
        in.patron_id = PQgetvalue(r, 0, RK_HOLD_PATRON);
        in.record_id = PQgetvalue(r, 0, RK_HOLD_RECORD);
        in.pickup_municipality = PQgetvalue(r, 0, RK_HOLD_PICKUP_CODE);
        in.pickup_branch_id = PQgetvalue(r, 0, RK_HOLD_BRANCH);
        rk_rpc_call(a->channel, "/renkei.v1.AdapterService/PlaceHold", &in.base,
                    &renkei__v1__adapter_place_hold_response__descriptor, s->timeout_ns, NULL, 0,
                    placed, s);
        return;
    }
    Renkei__V1__AdapterCancelHoldRequest in = RENKEI__V1__ADAPTER_CANCEL_HOLD_REQUEST__INIT;
    in.idempotency_key = &key;
    in.resident = &resident;
    in.patron_id = PQgetvalue(r, 0, RK_HOLD_PATRON);
    in.owner_reference = PQgetvalue(r, 0, RK_HOLD_OWNER_REF);
    rk_rpc_call(a->channel, "/renkei.v1.AdapterService/CancelHold", &in.base,
                &renkei__v1__adapter_cancel_hold_response__descriptor, s->timeout_ns, NULL, 0,
                cancelled, s);
}

static int wanted(rk_library_step_t *s, const PGresult *r)
{
    (void)s;
    const char *state = PQgetvalue(r, 0, RK_HOLD_STATE);
    return strcmp(state, "placing") == 0 || strcmp(state, "cancelling") == 0;
}

void rk_library_hold_owner_step(rk_library_t *lib, const char *id, uint64_t timeout_ns,
                                rk_arena_t *life, rk_library_step_cb done, void *arg)
{
    rk_library_step_t *s = rk_xcalloc(1, sizeof(*s));
    s->id_field = "hold_id";
    s->wanted = wanted;
    s->call_owner = call_owner;
    rk_library_step_start(s, lib, RK_LIBRARY_STMT_HOLD, id, timeout_ns, life, done, arg);
}

void rk_library_hold_owner_prepare(rk_library_t *lib)
{
    rk_store_t *store = lib->app->store;
    rk_store_prepare(store, RK_LIBRARY_STMT_HOLD, sql_get);
    rk_store_prepare(store, STMT_PLACED, sql_placed);
    rk_store_prepare(store, STMT_FAIL, sql_fail);
    rk_store_prepare(store, STMT_CANCELLED, sql_cancelled);
    rk_store_prepare(store, STMT_UNCANCEL, sql_uncancel);
}
