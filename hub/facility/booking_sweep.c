/*
 * booking_sweep.c — the booking broker's recovery sweep (see booking_sweep.h).
 *
 * One pass: one statement claims the rows (and moves expired holds and stale REQUESTED rows
 * in the same transaction), then one owner call per row, then one statement per answer with
 * the broker's own statements (booking.h). The next pass is scheduled when the claim has
 * answered; the leases keep the rows of calls still in flight out of it.
 */
#include "facility/booking_sweep.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "facility/booking.h"
#include "facility/terms.h"
#include "federation/federation.h"
#include "identity/identity.h"
#include "identity/token.h"
#include "net/rpc_client.h"
#include "renkei/v1/adapter.pb-c.h"
#include "renkei/v1/common.pb-c.h"
#include "store/pool.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_CLAIM "booking_sweep_claim"
#define STMT_RELEASE "booking_sweep_release"

#define SWEEP_BATCH "50"       /* rows claimed per pass */
#define SWEEP_LEASE_MS "60000" /* a claimed row's lease: longer than an owner call */
#define OWNER_TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

/* $1 rows at most, $2 lease in ms; with the terms the booking was made on (migration 0011),
 * so that a resumed call repeats the first one's ResidentContext. */
static const char sql_claim[] =
    "SELECT c.id, c.was, c.adapter_id, c.owner_reference, c.home_municipality,"
    " c.uid, c.tenant_id, c.resident_subject, coalesce(c.accepted_fee_yen::text, ''),"
    " c.cancel_reason, b.residency_class, b.fee_basis, coalesce(b.agreement_id::text, ''),"
    " coalesce(b.agreement_version::text, '')"
    " FROM rk_booking_sweep_claim($1::int, $2::int) c JOIN rk_booking b ON b.id = c.id";
/* $1 id, $2 its state: the owner was not reached; the next pass may take the row again. */
static const char sql_release[] =
    "UPDATE rk_booking SET lease_until = now() WHERE id = $1 AND state = $2";

enum {
    C_ID,
    C_WAS,
    C_ADAPTER,
    C_OWNER_REF,
    C_HOME,
    C_UID,
    C_TENANT,
    C_SUBJECT,
    C_ACCEPTED_FEE,
    C_CANCEL_REASON,
    C_CLASS,
    C_FEE_BASIS,
    C_AGREEMENT,
    C_AGREEMENT_VERSION,
};

typedef struct rk_facility_booking_sweep {
    rk_app_t *app;
    struct event *timer;
    int pending; /* the claim and the items in flight */
    int closing; /* rk_facility_booking_sweep_free() was called */
} sweep_t;

typedef struct item {
    sweep_t *sweep;
    char id[40];
    char was[16]; /* the state the row was claimed in */
} item_t;

static void sweep_release(sweep_t *sw)
{
    if (sw->closing && sw->pending == 0)
        free(sw);
}

static void item_end(item_t *it)
{
    sweep_t *sw = it->sweep;
    free(it);
    sw->pending--;
    sweep_release(sw);
}

static void schedule(sweep_t *sw, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(sw->timer, &tv);
}

static void item_stored(const rk_store_result_t *res, void *arg)
{
    item_t *it = arg;
    if (res->status != RK_OK)
        rk_log_warn("booking sweep: storing failed", "{s:s, s:s}", "booking_id", it->id, "error",
                    res->error ? res->error : "database unavailable");
    item_end(it);
}

static void item_exec(item_t *it, const char *stmt, int n, const char *const *values)
{
    if (it->sweep->closing ||
        rk_store_exec(it->sweep->app->store, stmt, n, values, item_stored, it) != RK_AGAIN)
        item_end(it);
}

/* The owner was not reached: leave the row as it is for the next pass. */
static void item_retry(item_t *it)
{
    const char *values[] = {it->id, it->was};
    item_exec(it, STMT_RELEASE, 2, values);
}

static void owner_log(const item_t *it, const char *method, const rk_rpc_result_t *result)
{
    rk_log_warn("booking sweep: owner call failed", "{s:s, s:s, s:s, s:s, s:s}", "booking_id",
                it->id, "state", it->was, "method", method, "code", rk_rpc_code_name(result->code),
                "message", result->message ? result->message : "");
}

static void confirmed(const rk_rpc_result_t *result, void *arg)
{
    item_t *it = arg;
    if (result->code != RK_RPC_OK) {
        owner_log(it, "ConfirmBooking", result);
        const char *reason = rk_facility_booking_refusal(result);
        if (!reason) {
            item_retry(it);
            return;
        }
        const char *values[] = {it->id, "confirming", reason};
        item_exec(it, RK_BOOKING_STMT_FAIL, 3, values);
        return;
    }
    const Renkei__V1__OwnerBooking *ob =
        ((const Renkei__V1__AdapterConfirmBookingResponse *)result->response)->booking;
    char fee[24] = "";
    if (ob && ob->fee)
        snprintf(fee, sizeof(fee), "%" PRId64, ob->fee->amount);
    const char *values[] = {it->id, ob && ob->owner_reference ? ob->owner_reference : "",
                            *fee ? fee : NULL,
                            ob && ob->cancellation_deadline ? ob->cancellation_deadline : ""};
    rk_log_info("booking sweep: confirmed", "{s:s}", "booking_id", it->id);
    item_exec(it, RK_BOOKING_STMT_CONFIRMED, 4, values);
}

static void cancelled(const rk_rpc_result_t *result, void *arg)
{
    item_t *it = arg;
    const char *values[] = {it->id};
    if (result->code != RK_RPC_OK) {
        owner_log(it, "CancelBooking", result);
        if (!rk_facility_booking_refusal(result)) {
            item_retry(it);
            return;
        }
        item_exec(it, RK_BOOKING_STMT_UNCANCEL, 1, values);
        return;
    }
    rk_log_info("booking sweep: cancelled", "{s:s}", "booking_id", it->id);
    item_exec(it, RK_BOOKING_STMT_CANCELLED, 1, values);
}

/* The release of an expired hold or a failed request: the row is settled already. */
static void released(const rk_rpc_result_t *result, void *arg)
{
    item_t *it = arg;
    if (result->code != RK_RPC_OK && result->code != RK_RPC_NOT_FOUND)
        owner_log(it, "CancelBooking", result);
    else
        rk_log_info("booking sweep: released at the owner", "{s:s, s:s}", "booking_id", it->id,
                    "state", it->was);
    item_end(it);
}

static const rk_federation_adapter_t *owner_adapter(const rk_app_t *app, int64_t id)
{
    const rk_federation_t *fed = app->federation;
    for (size_t i = 0, n = fed ? rk_federation_count(fed) : 0; i < n; i++) {
        const rk_federation_adapter_t *a = rk_federation_adapter_at(fed, i);
        if (a->id == id)
            return a;
    }
    return NULL;
}

/* Starts the owner's call for row i of r. */
static void item_start(sweep_t *sw, const PGresult *r, int i)
{
    item_t *it = rk_xcalloc(1, sizeof(*it));
    it->sweep = sw;
    sw->pending++;
    snprintf(it->id, sizeof(it->id), "%s", PQgetvalue(r, i, C_ID));
    snprintf(it->was, sizeof(it->was), "%s", PQgetvalue(r, i, C_WAS));
    int confirm = strcmp(it->was, "confirming") == 0;
    int cancel = strcmp(it->was, "cancelling") == 0;
    const rk_federation_adapter_t *a =
        owner_adapter(sw->app, strtoll(PQgetvalue(r, i, C_ADAPTER), NULL, 10));
    if (!a) {
        rk_log_warn("booking sweep: owner adapter not active", "{s:s, s:s}", "booking_id", it->id,
                    "state", it->was);
        if (confirm || cancel)
            item_retry(it);
        else
            item_end(it);
        return;
    }
    char subject[44];
    const char *uid = PQgetvalue(r, i, C_UID);
    if (*uid && sw->app->identity) {
        char sector[40];
        snprintf(sector, sizeof(sector), "tenant:%s", PQgetvalue(r, i, C_TENANT));
        rk_identity_subject(sw->app->identity->pairwise_key, 1, sector, uid, subject);
    } else {
        snprintf(subject, sizeof(subject), "%s", PQgetvalue(r, i, C_SUBJECT));
    }
    Renkei__V1__IdempotencyKey key = RENKEI__V1__IDEMPOTENCY_KEY__INIT;
    key.key = it->id;
    Renkei__V1__ResidentContext resident;
    Renkei__V1__MunicipalityRef home;
    Renkei__V1__AgreementRef agreement;
    rk_facility_resident_context(&resident, &home, &agreement, subject, PQgetvalue(r, i, C_HOME),
                                 PQgetvalue(r, i, C_CLASS), PQgetvalue(r, i, C_FEE_BASIS),
                                 PQgetvalue(r, i, C_AGREEMENT),
                                 PQgetvalue(r, i, C_AGREEMENT_VERSION));
    if (confirm) {
        Renkei__V1__Yen accepted = RENKEI__V1__YEN__INIT;
        Renkei__V1__AdapterConfirmBookingRequest in =
            RENKEI__V1__ADAPTER_CONFIRM_BOOKING_REQUEST__INIT;
        in.idempotency_key = &key;
        in.resident = &resident;
        in.owner_reference = PQgetvalue(r, i, C_OWNER_REF);
        if (*PQgetvalue(r, i, C_ACCEPTED_FEE)) {
            accepted.amount = strtoll(PQgetvalue(r, i, C_ACCEPTED_FEE), NULL, 10);
            in.accepted_fee = &accepted;
        }
        rk_rpc_call(a->channel, "/renkei.v1.AdapterService/ConfirmBooking", &in.base,
                    &renkei__v1__adapter_confirm_booking_response__descriptor, OWNER_TIMEOUT_NS,
                    NULL, 0, confirmed, it);
        return;
    }
    Renkei__V1__AdapterCancelBookingRequest in = RENKEI__V1__ADAPTER_CANCEL_BOOKING_REQUEST__INIT;
    in.idempotency_key = &key;
    in.resident = &resident;
    in.owner_reference = PQgetvalue(r, i, C_OWNER_REF);
    in.reason =
        cancel ? PQgetvalue(r, i, C_CANCEL_REASON)
               : (char *)(strcmp(it->was, "held") == 0 ? "hold expired" : "booking not completed");
    rk_rpc_call(a->channel, "/renkei.v1.AdapterService/CancelBooking", &in.base,
                &renkei__v1__adapter_cancel_booking_response__descriptor, OWNER_TIMEOUT_NS, NULL, 0,
                cancel ? cancelled : released, it);
}

static void claimed(const rk_store_result_t *res, void *arg)
{
    sweep_t *sw = arg;
    sw->pending--;
    if (sw->closing) {
        sweep_release(sw);
        return;
    }
    if (res->status != RK_OK || res->n_results != 1) {
        rk_log_warn("booking sweep: claim failed", "{s:s}", "error",
                    res->error ? res->error : "database unavailable");
    } else {
        const PGresult *r = res->results[0];
        int n = PQntuples(r);
        if (n > 0)
            rk_log_info("booking sweep: claimed", "{s:i}", "rows", n);
        for (int i = 0; i < n; i++)
            item_start(sw, r, i);
    }
    schedule(sw, sw->app->cfg->facility_booking_sweep_ms);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sweep_t *sw = arg;
    if (sw->closing)
        return;
    const char *values[] = {SWEEP_BATCH, SWEEP_LEASE_MS};
    sw->pending++;
    if (rk_store_exec(sw->app->store, STMT_CLAIM, 2, values, claimed, sw) != RK_AGAIN) {
        sw->pending--;
        schedule(sw, sw->app->cfg->facility_booking_sweep_ms);
    }
}

struct rk_facility_booking_sweep *rk_facility_booking_sweep_start(rk_app_t *app)
{
    sweep_t *sw = rk_xcalloc(1, sizeof(*sw));
    sw->app = app;
    rk_store_prepare(app->store, STMT_CLAIM, sql_claim);
    rk_store_prepare(app->store, STMT_RELEASE, sql_release);
    sw->timer = evtimer_new(app->base, timer_cb, sw);
    schedule(sw, 0);
    return sw;
}

void rk_facility_booking_sweep_free(struct rk_facility_booking_sweep *sw)
{
    if (!sw)
        return;
    sw->closing = 1;
    if (sw->timer)
        event_free(sw->timer);
    sw->timer = NULL;
    sweep_release(sw);
}
