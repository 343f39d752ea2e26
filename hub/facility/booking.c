/*
 * booking.c — the booking broker (see booking.h).
 *
 * A call runs as: verify the token in memory → one transaction of two statements (a PL/pgSQL
 * function of 0008 that checks the grant live, the idempotency key and the state, and moves
 * the row; then the row read) → the owner's adapter with the booking id as idempotency key →
 * one transaction storing the outcome and reading the row, which is answered. Each transition
 * is one transaction, one round trip to PostgreSQL; the adapter call is between them, so a
 * crash leaves a row whose state says what to resume. CancelBooking runs the same way
 * (rk_booking_cancel of 0009, the owner's CancelBooking, one statement storing CANCELLED or
 * putting a refused row back); ListMyBookings checks the grant, then reads one page by keyset
 * on (slot start, id), newest first.
 */
#include "facility/booking.h"

#include "core/error.h"
#include "core/jp_calendar.h"
#include "core/log.h"
#include "core/mem.h"
#include "exchange/exchange.h"
#include "facility/fee.h"
#include "facility/terms.h"
#include "federation/adapter_rules.h"
#include "federation/federation.h"
#include "identity/identity.h"
#include "identity/resident_token.h"
#include "identity/token.h"
#include "net/json_transcode.h"
#include "net/pb_arena.h"
#include "net/rpc.h"
#include "net/rpc_client.h"
#include "renkei/v1/adapter.pb-c.h"
#include "renkei/v1/common.pb-c.h"
#include "renkei/v1/facility.pb-c.h"

#include <inttypes.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_HOLD "booking_hold"
#define STMT_CONFIRM "booking_confirm"
#define STMT_GET "booking_get"
#define STMT_HELD "booking_held"
#define STMT_CONFIRMED RK_BOOKING_STMT_CONFIRMED
#define STMT_FAIL RK_BOOKING_STMT_FAIL
#define STMT_CANCEL "booking_cancel"
#define STMT_CANCELLED RK_BOOKING_STMT_CANCELLED
#define STMT_UNCANCEL RK_BOOKING_STMT_UNCANCEL
#define STMT_ACCOUNT "booking_account"
#define STMT_LIST "booking_list"

#define OWNER_TIMEOUT_NS (10ull * 1000 * 1000 * 1000) /* longest wait for an owner */
#define PURPOSE_MAX_CHARS 200
#define PERIOD_MAX_S (24 * 3600) /* one booking spans at most a day */
#define RETRY_AFTER_S 5
#define REASON_MAX_CHARS 200
#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 100

static const char sql_hold[] = "SELECT rk_booking_hold($1, $2::bigint, $3, $4, $5, $6::bigint,"
                               " $7::timestamptz, $8::timestamptz, $9, $10::int, $11, $12)::text";
static const char sql_confirm[] =
    "SELECT rk_booking_confirm($1, $2::bigint, $3, $4, $5, $6::bigint)::text";

static const char sql_cancel[] = "SELECT rk_booking_cancel($1, $2::bigint, $3, $4, $5, $6)::text";

/* The columns of a booking (the COL_ enum) and their tables. */
#define BOOKING_COLUMNS                                                                            \
    "SELECT b.id, b.facility_id, coalesce(f.name_ja, ''), coalesce(f.name_en, ''),"                \
    "  coalesce(f.name_kana, ''), t.code, t.slug, t.name_ja, t.name_en,"                           \
    "  rk_booking_utc(lower(b.period)), rk_booking_utc(upper(b.period)),"                          \
    "  b.state, b.resident_subject, coalesce(b.fee_yen::text, ''),"                                \
    "  coalesce(rk_booking_utc(b.hold_expires_at), ''), b.owner_reference, b.attendees,"           \
    "  b.purpose, coalesce(rk_booking_utc(b.cancellation_deadline), ''), b.error,"                 \
    "  rk_booking_utc(b.created_at), rk_booking_utc(b.updated_at),"                                \
    "  b.adapter_id, b.owner_facility_id, coalesce(b.accepted_fee_yen::text, ''), b.slot_id,"      \
    "  b.home_municipality, coalesce(a.uid, ''), b.tenant_id, b.cancel_reason,"                    \
    "  b.residency_class, b.fee_basis, coalesce(b.agreement_id::text, ''),"                        \
    "  coalesce(b.agreement_version::text, ''), coalesce(f.fees::text, '{}'),"                     \
    "  coalesce(b.receipt_id, '')"                                                                 \
    " FROM rk_booking b JOIN rk_tenant t ON t.id = b.tenant_id"                                    \
    " LEFT JOIN rk_facility f ON f.id = b.facility_id"                                             \
    " LEFT JOIN rk_identity_account a ON a.id = b.account_id"

/* $1 id, $2 grant (NULL: the caller checked it already), $3 tenant of the grant. */
static const char sql_get[] =
    BOOKING_COLUMNS " WHERE b.id = $1"
                    "  AND ($2::text IS NULL OR b.account_id = rk_booking_account($2, $3::bigint))";

enum {
    COL_ID,
    COL_FACILITY,
    COL_NAME_JA,
    COL_NAME_EN,
    COL_NAME_KANA,
    COL_CODE,
    COL_SLUG,
    COL_OWNER_JA,
    COL_OWNER_EN,
    COL_START,
    COL_END,
    COL_STATE,
    COL_SUBJECT,
    COL_FEE,
    COL_HOLD_EXPIRES,
    COL_OWNER_REF,
    COL_ATTENDEES,
    COL_PURPOSE,
    COL_CANCEL_DEADLINE,
    COL_ERROR,
    COL_CREATED,
    COL_UPDATED,
    COL_ADAPTER,
    COL_OWNER_FACILITY,
    COL_ACCEPTED_FEE,
    COL_SLOT,
    COL_HOME,
    COL_UID,
    COL_TENANT,
    COL_CANCEL_REASON,
    COL_CLASS,
    COL_FEE_BASIS,
    COL_AGREEMENT,
    COL_AGREEMENT_VERSION,
    COL_FEES,
    COL_RECEIPT,
};

/* $1 grant, $2 its tenant: the account (NULL when the grant is not live). */
static const char sql_account[] = "SELECT rk_booking_account($1, $2::bigint)";
/* $1 account, $2 states (text[], empty: all), $3 $4 window (NULL: all), $5 $6 the last row of
 * the previous page (NULL: the first page), $7 limit. Newest slot first. */
static const char sql_list[] = BOOKING_COLUMNS
    " WHERE b.account_id = $1::bigint"
    "  AND (cardinality($2::text[]) = 0 OR b.state = ANY ($2::text[]))"
    "  AND ($3::timestamptz IS NULL OR b.period && tstzrange($3::timestamptz, $4::timestamptz))"
    "  AND ($5::timestamptz IS NULL OR (lower(b.period), b.id) < ($5::timestamptz, $6::text))"
    " ORDER BY lower(b.period) DESC, b.id DESC LIMIT $7::int";

/* $1 id, $2 owner reference, $3 fee (NULL: none), $4 hold expiry, $5 cancellation deadline
 * ('' = none), $6 the subject sent to the owner; STMT_CONFIRMED: $4 is the cancellation
 * deadline. */
static const char sql_held[] =
    "UPDATE rk_booking SET state = 'held', owner_reference = $2, fee_yen = $3::bigint,"
    " hold_expires_at = coalesce(nullif($4, '')::timestamptz, now() + interval '10 minutes'),"
    " cancellation_deadline = coalesce(nullif($5, '')::timestamptz, cancellation_deadline),"
    " resident_subject = $6,"
    " updated_at = now()"
    " WHERE id = $1 AND state = 'requested'";
static const char sql_confirmed[] =
    "UPDATE rk_booking SET state = 'confirmed', owner_reference = coalesce(nullif($2, ''),"
    " owner_reference), fee_yen = coalesce($3::bigint, fee_yen), hold_expires_at = NULL,"
    " cancellation_deadline = coalesce(nullif($4, '')::timestamptz, cancellation_deadline),"
    " updated_at = now() WHERE id = $1 AND state = 'confirming'";
/* $1 id: the owner cancelled it (the slot is free: CANCELLED is outside the constraint). */
static const char sql_cancelled[] =
    "UPDATE rk_booking SET state = 'cancelled', hold_expires_at = NULL, updated_at = now()"
    " WHERE id = $1 AND state = 'cancelling'";
/* $1 id: the owner refused the cancellation; the row goes back to the state it came from. */
static const char sql_uncancel[] = "UPDATE rk_booking SET state = cancel_from, updated_at = now()"
                                   " WHERE id = $1 AND state = 'cancelling' AND cancel_from <> ''";
/* $1 id, $2 the state it must be in, $3 the BookingError name. */
static const char sql_fail[] = "UPDATE rk_booking SET state = 'failed', error = $3,"
                               " hold_expires_at = NULL, updated_at = now()"
                               " WHERE id = $1 AND state = $2";

typedef enum { OP_HOLD, OP_CONFIRM, OP_GET, OP_CANCEL, OP_LIST } op_kind_t;

typedef struct op {
    rk_rpc_t *rpc;
    rk_request_t *req;
    rk_app_t *app;
    op_kind_t kind;
    rk_identity_resident_t resident;
    char id[40];
    int call_owner;            /* after the read: call the owner (HoldSlot or ConfirmBooking) */
    rk_rpc_code_t owner_code;  /* the owner refused the request itself: its code, */
    const char *owner_message; /* and its message */
    PGresult *row;             /* the booking read back before the owner call (owned) */
    char subject[44];          /* the resident's pairwise id towards the owner city */
    const char *refusal;       /* the owner's BookingError refusing a cancellation */
    int has_hub_fee;           /* HoldSlot: the hub priced the slot (hub_fee) */
    int64_t hub_fee;
    /* ListMyBookings: */
    int page_size;
    const char *states, *window_start, *window_end, *after_start, *after_id;
    char filters[17]; /* hash of the request but its page, bound into the page token */
} op_t;

/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ" (UTC); -1 when it is not that. */
static long long utc_seconds(const char *text)
{
    int y, mo, d, h, mi, s, n = 0;
    if (strlen(text) != 20 ||
        sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 20 ||
        mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || y < 2000)
        return -1;
    /* days from civil (Howard Hinnant) */
    int yy = y - (mo <= 2);
    int era = yy / 400, yoe = yy - era * 400;
    int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long days = (long long)era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return days * 86400 + h * 3600 + mi * 60 + s;
}

/* --- typed errors --------------------------------------------------------------------------- */

typedef struct reason_info {
    const char *reason;
    rk_rpc_code_t code;
    const char *ja, *en;
} reason_info_t;

static const reason_info_t reasons[] = {
    {"BOOKING_ERROR_SLOT_FULL", RK_RPC_FAILED_PRECONDITION, "この枠はすでに予約されています。",
     "This slot is already booked."},
    {"BOOKING_ERROR_SLOT_HELD", RK_RPC_ABORTED,
     "この枠は他の方が仮予約中です。しばらくしてからお試しください。",
     "Someone else is holding this slot; please try again later."},
    {"BOOKING_ERROR_OUTSIDE_WINDOW", RK_RPC_FAILED_PRECONDITION,
     "この日時は現在予約を受け付けていません。", "This time is outside your booking window."},
    {"BOOKING_ERROR_NOT_ELIGIBLE", RK_RPC_PERMISSION_DENIED, "この施設はご利用いただけません。",
     "You are not eligible to use this facility."},
    {"BOOKING_ERROR_PRICE_CHANGED", RK_RPC_FAILED_PRECONDITION,
     "仮予約後に料金が変わりました。金額をご確認ください。",
     "The fee changed since the hold; please check the new amount."},
    {"BOOKING_ERROR_CANCELLATION_CLOSED", RK_RPC_FAILED_PRECONDITION,
     "取消期限を過ぎているため取り消せません。", "The cancellation deadline has passed."},
    {"BOOKING_ERROR_OWNER_UNAVAILABLE", RK_RPC_UNAVAILABLE,
     "施設の予約システムに接続できません。しばらくしてからお試しください。",
     "The facility's booking system is unavailable; please try again later."},
    {"BOOKING_ERROR_HOLD_EXPIRED", RK_RPC_FAILED_PRECONDITION,
     "仮予約の期限が切れました。もう一度予約してください。",
     "The hold expired; please book again."},
    {"BOOKING_ERROR_NOT_BOOKABLE_VIA_HUB", RK_RPC_FAILED_PRECONDITION,
     "この施設はこのサービスから予約できません。施設の予約ページをご利用ください。",
     "This facility cannot be booked here; use its own booking page."},
    {"BOOKING_ERROR_LOTTERY_ONLY", RK_RPC_FAILED_PRECONDITION, "この枠は抽選で割り当てられます。",
     "This slot is allocated by lottery."},
    {"BOOKING_ERROR_LIMIT_REACHED", RK_RPC_RESOURCE_EXHAUSTED,
     "予約できる件数の上限に達しています。", "You have reached your booking limit."},
    {"BOOKING_ERROR_INVALID_STATE", RK_RPC_FAILED_PRECONDITION,
     "この予約は現在の状態ではその操作ができません。", "This booking's state does not allow that."},
    {"ERROR_REASON_LOGIN_REQUIRED", RK_RPC_UNAUTHENTICATED, "ログインが必要です。",
     "Please log in to book."},
    {"ERROR_REASON_IDEMPOTENCY_KEY_REUSED", RK_RPC_ALREADY_EXISTS,
     "この冪等キーは別の依頼に使われています。",
     "This idempotency key was used for another request."},
    {"ERROR_REASON_NOT_FOUND", RK_RPC_NOT_FOUND, "見つかりません。", "Not found."},
};

static const reason_info_t *reason_find(const char *reason)
{
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reason && strcmp(reasons[i].reason, reason) == 0)
            return &reasons[i];
    return NULL;
}

/* Releases what the op holds outside the request's arena: call before answering (the answer
 * frees the arena, and op with it). */
static void op_end(op_t *op)
{
    if (op->row)
        PQclear(op->row);
    op->row = NULL;
}

/* Fails the call with a typed reason of the table, the resident-readable text ja / en (NULL: the
 * table's) and message (for the developer, in English; NULL: the English text). */
static void fail_typed_text(op_t *op, const char *reason, const char *message, const char *ja,
                            const char *en)
{
    op_end(op);
    const reason_info_t *info = reason_find(reason);
    Renkei__V1__LocalizedText text = RENKEI__V1__LOCALIZED_TEXT__INIT;
    text.ja = (char *)(ja ? ja : info->ja);
    text.en = (char *)(en ? en : info->en);
    Renkei__V1__ErrorDetail detail = RENKEI__V1__ERROR_DETAIL__INIT;
    detail.reason = (char *)info->reason;
    detail.localized_message = &text;
    Renkei__V1__ErrorMetadata meta = RENKEI__V1__ERROR_METADATA__INIT;
    Renkei__V1__ErrorMetadata *metas[] = {&meta};
    if (*op->id) {
        meta.key = "booking_id";
        meta.value = op->id;
        detail.metadata = metas;
        detail.n_metadata = 1;
    }
    if (info->code == RK_RPC_UNAVAILABLE || info->code == RK_RPC_ABORTED)
        detail.retry_after_seconds = RETRY_AFTER_S;
    rk_rpc_fail_detail(op->rpc, info->code, message ? message : text.en, info->reason,
                       &detail.base);
}

/* Fails the call with a typed reason of the table (message: for the developer, in English). */
static void fail_typed(op_t *op, const char *reason, const char *message)
{
    fail_typed_text(op, reason, message, NULL, NULL);
}

static void fail_store(op_t *op, const rk_store_result_t *res)
{
    op_end(op);
    if (res && rk_exchange_fail_if_refused(op->rpc, res))
        return; /* a cross-city change the exchange log cannot record now: UNAVAILABLE */
    if (res && res->status == RK_EINVAL) {
        rk_log_error("booking query failed", "{s:s, s:s}", "request_id", op->req->request_id,
                     "error", res->error);
        rk_rpc_fail(op->rpc, RK_RPC_INTERNAL,
                    rk_arena_printf(op->req->arena, "request %s failed; the hub's log has why",
                                    op->req->request_id));
    } else {
        rk_rpc_fail(op->rpc, RK_RPC_UNAVAILABLE, "the database is not reachable now; retry later");
    }
}

/* --- the Booking message -------------------------------------------------------------------- */

static const struct {
    const char *name;
    Renkei__V1__BookingState state;
} states_of[] = {
    {"requested", RENKEI__V1__BOOKING_STATE__BOOKING_STATE_REQUESTED},
    {"held", RENKEI__V1__BOOKING_STATE__BOOKING_STATE_HELD},
    {"confirming", RENKEI__V1__BOOKING_STATE__BOOKING_STATE_CONFIRMING},
    {"confirmed", RENKEI__V1__BOOKING_STATE__BOOKING_STATE_CONFIRMED},
    {"failed", RENKEI__V1__BOOKING_STATE__BOOKING_STATE_FAILED},
    {"cancelling", RENKEI__V1__BOOKING_STATE__BOOKING_STATE_CANCELLING},
    {"cancelled", RENKEI__V1__BOOKING_STATE__BOOKING_STATE_CANCELLED},
    {"expired", RENKEI__V1__BOOKING_STATE__BOOKING_STATE_EXPIRED},
};

static Renkei__V1__BookingState state_of(const char *name)
{
    for (size_t i = 0; i < sizeof(states_of) / sizeof(states_of[0]); i++)
        if (strcmp(states_of[i].name, name) == 0)
            return states_of[i].state;
    return RENKEI__V1__BOOKING_STATE__BOOKING_STATE_UNSPECIFIED;
}

static char *col(rk_arena_t *arena, const PGresult *r, int i, int c)
{
    return rk_arena_strdup(arena, PQgetvalue(r, i, c));
}

static Renkei__V1__LocalizedText *text_new(rk_arena_t *arena, const char *ja, const char *en,
                                           const char *kana)
{
    Renkei__V1__LocalizedText *t = rk_arena_alloc(arena, sizeof(*t));
    *t = (Renkei__V1__LocalizedText)RENKEI__V1__LOCALIZED_TEXT__INIT;
    t->ja = rk_arena_strdup(arena, ja);
    t->en = rk_arena_strdup(arena, en);
    t->kana = rk_arena_strdup(arena, kana);
    return t;
}

static Renkei__V1__Yen *yen_new(rk_arena_t *arena, const char *amount)
{
    if (!*amount)
        return NULL;
    Renkei__V1__Yen *y = rk_arena_alloc(arena, sizeof(*y));
    *y = (Renkei__V1__Yen)RENKEI__V1__YEN__INIT;
    y->amount = strtoll(amount, NULL, 10);
    return y;
}

/* The resident's pairwise id towards the owner city of row i of r (its tenant as sector), or the
 * stored one when the account is gone. */
static void subject_of(const rk_app_t *app, const PGresult *r, int i, char out[44])
{
    const char *uid = PQgetvalue(r, i, COL_UID);
    if (!*uid || !app->identity) {
        snprintf(out, 44, "%s", PQgetvalue(r, i, COL_SUBJECT));
        return;
    }
    char sector[40];
    snprintf(sector, sizeof(sector), "tenant:%s", PQgetvalue(r, i, COL_TENANT));
    rk_identity_subject(app->identity->pairwise_key, 1, sector, uid, out);
}

/* The Booking of row i of r (read by STMT_GET or STMT_LIST), in the arena. */
static Renkei__V1__Booking *booking_of(const rk_app_t *app, rk_arena_t *arena, const PGresult *r,
                                       int i)
{
    Renkei__V1__Booking *b = rk_arena_alloc(arena, sizeof(*b));
    *b = (Renkei__V1__Booking)RENKEI__V1__BOOKING__INIT;
    b->id = col(arena, r, i, COL_ID);
    b->facility_id = col(arena, r, i, COL_FACILITY);
    b->facility_name = text_new(arena, PQgetvalue(r, i, COL_NAME_JA), PQgetvalue(r, i, COL_NAME_EN),
                                PQgetvalue(r, i, COL_NAME_KANA));
    Renkei__V1__MunicipalityRef *owner = rk_arena_alloc(arena, sizeof(*owner));
    *owner = (Renkei__V1__MunicipalityRef)RENKEI__V1__MUNICIPALITY_REF__INIT;
    owner->code = col(arena, r, i, COL_CODE);
    owner->slug = col(arena, r, i, COL_SLUG);
    owner->name =
        text_new(arena, PQgetvalue(r, i, COL_OWNER_JA), PQgetvalue(r, i, COL_OWNER_EN), "");
    b->owner = owner;
    Renkei__V1__TimeRange *time = rk_arena_alloc(arena, sizeof(*time));
    *time = (Renkei__V1__TimeRange)RENKEI__V1__TIME_RANGE__INIT;
    time->start = col(arena, r, i, COL_START);
    time->end = col(arena, r, i, COL_END);
    b->time = time;
    b->state = state_of(PQgetvalue(r, i, COL_STATE));
    char subject[44];
    subject_of(app, r, i, subject);
    b->resident_pairwise_id = rk_arena_strdup(arena, subject);
    b->fee = yen_new(arena, PQgetvalue(r, i, COL_FEE));
    b->residency_class = rk_facility_residency_class(PQgetvalue(r, i, COL_CLASS));
    if (*PQgetvalue(r, i, COL_AGREEMENT)) {
        Renkei__V1__AgreementRef *agreement = rk_arena_alloc(arena, sizeof(*agreement));
        *agreement = (Renkei__V1__AgreementRef)RENKEI__V1__AGREEMENT_REF__INIT;
        agreement->agreement_id = col(arena, r, i, COL_AGREEMENT);
        agreement->version = (int32_t)strtol(PQgetvalue(r, i, COL_AGREEMENT_VERSION), NULL, 10);
        b->agreement = agreement;
    }
    if (b->fee)
        b->payment_instructions = text_new(
            arena,
            rk_arena_printf(arena,
                            "利用料金 %" PRId64
                            " 円は%sにお支払いください。支払方法は%sの案内に従ってください。",
                            b->fee->amount, PQgetvalue(r, i, COL_OWNER_JA),
                            PQgetvalue(r, i, COL_OWNER_JA)),
            rk_arena_printf(arena, "Pay the fee of %" PRId64 " yen to %s, as %s instructs.",
                            b->fee->amount, PQgetvalue(r, i, COL_OWNER_EN),
                            PQgetvalue(r, i, COL_OWNER_EN)),
            "");
    b->hold_expires_at = col(arena, r, i, COL_HOLD_EXPIRES);
    b->owner_reference = col(arena, r, i, COL_OWNER_REF);
    b->attendees = (int32_t)strtol(PQgetvalue(r, i, COL_ATTENDEES), NULL, 10);
    b->purpose = col(arena, r, i, COL_PURPOSE);
    b->cancellation_deadline = col(arena, r, i, COL_CANCEL_DEADLINE);
    const char *error = PQgetvalue(r, i, COL_ERROR);
    const ProtobufCEnumValue *v = *error ? protobuf_c_enum_descriptor_get_value_by_name(
                                               &renkei__v1__booking_error__descriptor, error)
                                         : NULL;
    if (v) {
        const reason_info_t *info = reason_find(error);
        b->error = (Renkei__V1__BookingError)v->value;
        if (info)
            b->error_message = text_new(arena, info->ja, info->en, "");
    }
    b->receipt_id = col(arena, r, i, COL_RECEIPT);
    b->created_at = col(arena, r, i, COL_CREATED);
    b->updated_at = col(arena, r, i, COL_UPDATED);
    return b;
}

/* Answers the row: the booking, or its error when it FAILED (or EXPIRED, for a confirm). */
static void answer(op_t *op, const PGresult *r)
{
    op_end(op);
    rk_arena_t *arena = op->req->arena;
    const char *state = PQgetvalue(r, 0, COL_STATE);
    if (op->kind != OP_GET && strcmp(state, "failed") == 0) {
        const char *error = PQgetvalue(r, 0, COL_ERROR);
        if (reason_find(error))
            fail_typed(op, error, NULL);
        else
            rk_rpc_fail(op->rpc, op->owner_code ? op->owner_code : RK_RPC_FAILED_PRECONDITION,
                        op->owner_message ? op->owner_message
                                          : "the owner refused this request (time, slot_id or "
                                            "attendees)");
        return;
    }
    if (op->kind == OP_CONFIRM && strcmp(state, "expired") == 0) {
        fail_typed(op, "BOOKING_ERROR_HOLD_EXPIRED", NULL);
        return;
    }
    Renkei__V1__Booking *b = booking_of(op->app, arena, r, 0);
    if (op->kind == OP_HOLD) {
        Renkei__V1__HoldSlotResponse out = RENKEI__V1__HOLD_SLOT_RESPONSE__INIT;
        out.booking = b;
        rk_rpc_reply(op->rpc, &out.base);
    } else if (op->kind == OP_CONFIRM) {
        Renkei__V1__ConfirmBookingResponse out = RENKEI__V1__CONFIRM_BOOKING_RESPONSE__INIT;
        out.booking = b;
        rk_rpc_reply(op->rpc, &out.base);
    } else if (op->kind == OP_CANCEL) {
        Renkei__V1__CancelBookingResponse out = RENKEI__V1__CANCEL_BOOKING_RESPONSE__INIT;
        out.booking = b;
        rk_rpc_reply(op->rpc, &out.base);
    } else {
        Renkei__V1__GetBookingResponse out = RENKEI__V1__GET_BOOKING_RESPONSE__INIT;
        out.booking = b;
        rk_rpc_reply(op->rpc, &out.base);
    }
}

/* --- reading the row back ------------------------------------------------------------------- */

static void call_owner(op_t *op);

static void read_done(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(op, res);
        return;
    }
    const PGresult *r = res->results[0];
    if (PQntuples(r) != 1) {
        fail_typed(op, "ERROR_REASON_NOT_FOUND", "booking_id: no such booking of yours");
        return;
    }
    if (op->call_owner) {
        op->call_owner = 0;
        op->row = PQcopyResult(r, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
        call_owner(op);
        return;
    }
    answer(op, r);
}

/* Reads the booking op->id; with_grant: only the caller's own (GetBooking). */
static void read_row(op_t *op, int with_grant)
{
    const char *values[] = {op->id, with_grant ? op->resident.grant_id : NULL,
                            op->resident.tenant_id};
    if (rk_store_exec(op->app->store, STMT_GET, 3, values, read_done, op) != RK_AGAIN)
        fail_store(op, NULL);
}

/* Runs the prepared statement stmt and then reads the booking op->id, in one transaction (one
 * round trip); cb gets the statement's result and the row's (results[1]). */
static void exec_then_read(op_t *op, const char *stmt, int n_params, const char *const *values,
                           rk_store_cb cb)
{
    const char *read[] = {op->id, NULL, op->resident.tenant_id};
    rk_store_batch_t *batch = rk_store_batch_new(op->app->store);
    rk_store_batch_add(batch, 1, stmt, n_params, values);
    rk_store_batch_add(batch, 1, STMT_GET, 3, read);
    if (rk_store_batch_run(batch, cb, op) != RK_AGAIN)
        fail_store(op, NULL);
}

/* The row read by exec_then_read (NULL when the batch did not give one booking). */
static const PGresult *row_read(const rk_store_result_t *res)
{
    return res->n_results == 2 && PQntuples(res->results[1]) == 1 ? res->results[1] : NULL;
}

static void stored(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 2) {
        fail_store(op, res);
        return;
    }
    op_end(op);
    if (op->refusal) {
        fail_typed(op, op->refusal, "the owner refused the cancellation; the booking is as before");
        return;
    }
    const PGresult *row = row_read(res);
    if (!row) {
        fail_typed(op, "ERROR_REASON_NOT_FOUND", "booking_id: no such booking of yours");
        return;
    }
    answer(op, row);
}

/* --- the owner ------------------------------------------------------------------------------ */

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

static const char *trailer(const rk_rpc_result_t *result, const char *name)
{
    for (size_t i = 0; i < result->n_trailers; i++)
        if (strcmp(result->trailers[i].name, name) == 0)
            return result->trailers[i].value;
    return NULL;
}

/* Stores the owner's refusal (a BookingError) or its absence (OWNER_UNAVAILABLE) as FAILED. */
static void store_failed(op_t *op, const char *from_state, const char *reason)
{
    const char *values[] = {op->id, from_state, reason};
    exec_then_read(op, STMT_FAIL, 3, values, stored);
}

/* The owner's BookingError of a refusal, or NULL when the owner was not reached or answered
 * something else (then the outcome is not known). */
static const char *owner_refusal(const rk_rpc_result_t *result)
{
    const char *reason = trailer(result, "renkei-error-reason");
    if (!reason || strncmp(reason, "BOOKING_ERROR_", 14) != 0 ||
        strcmp(reason, "BOOKING_ERROR_OWNER_UNAVAILABLE") == 0 || !reason_find(reason))
        return NULL;
    return reason;
}

static void owner_log(op_t *op, const char *method, const rk_rpc_result_t *result)
{
    rk_log_warn("owner call failed", "{s:s, s:s, s:s, s:s, s:s}", "request_id", op->req->request_id,
                "booking_id", op->id, "method", method, "code", rk_rpc_code_name(result->code),
                "message", result->message ? result->message : "");
}

static void held(const rk_rpc_result_t *result, void *arg)
{
    op_t *op = arg;
    if (result->code != RK_RPC_OK) {
        owner_log(op, "HoldSlot", result);
        const char *reason = owner_refusal(result);
        if (!reason &&
            (result->code == RK_RPC_INVALID_ARGUMENT || result->code == RK_RPC_NOT_FOUND)) {
            /* The owner refused the request itself (time not on its slots, …). */
            op->owner_code = result->code;
            op->owner_message = rk_arena_printf(op->req->arena, "the owner refused: %s",
                                                result->message ? result->message : "");
            reason = "BOOKING_ERROR_UNSPECIFIED";
        }
        /* Not reached: FAILED too; a hold the owner may have placed runs out there. */
        store_failed(op, "requested", reason ? reason : "BOOKING_ERROR_OWNER_UNAVAILABLE");
        return;
    }
    const Renkei__V1__OwnerBooking *ob =
        ((const Renkei__V1__AdapterHoldSlotResponse *)result->response)->booking;
    char fee[24] = "";
    if (ob && ob->fee)
        snprintf(fee, sizeof(fee), "%" PRId64, ob->fee->amount);
    else if (op->has_hub_fee)
        snprintf(fee, sizeof(fee), "%" PRId64, op->hub_fee);
    const char *values[] = {op->id,
                            ob && ob->owner_reference ? ob->owner_reference : "",
                            *fee ? fee : NULL,
                            ob && ob->hold_expires_at ? ob->hold_expires_at : "",
                            ob && ob->cancellation_deadline ? ob->cancellation_deadline : "",
                            op->subject};
    exec_then_read(op, STMT_HELD, 6, values, stored);
}

static void confirmed(const rk_rpc_result_t *result, void *arg)
{
    op_t *op = arg;
    if (result->code != RK_RPC_OK) {
        owner_log(op, "ConfirmBooking", result);
        const char *reason = owner_refusal(result);
        if (reason) {
            store_failed(op, "confirming", reason);
            return;
        }
        /* The outcome is not known: the row stays CONFIRMING; the same call resumes it. */
        fail_typed(op, "BOOKING_ERROR_OWNER_UNAVAILABLE", NULL);
        return;
    }
    const Renkei__V1__OwnerBooking *ob =
        ((const Renkei__V1__AdapterConfirmBookingResponse *)result->response)->booking;
    char fee[24] = "";
    if (ob && ob->fee)
        snprintf(fee, sizeof(fee), "%" PRId64, ob->fee->amount);
    const char *values[] = {op->id, ob && ob->owner_reference ? ob->owner_reference : "",
                            *fee ? fee : NULL,
                            ob && ob->cancellation_deadline ? ob->cancellation_deadline : ""};
    exec_then_read(op, STMT_CONFIRMED, 4, values, stored);
}

static void cancelled(const rk_rpc_result_t *result, void *arg)
{
    op_t *op = arg;
    const char *values[] = {op->id};
    if (result->code != RK_RPC_OK) {
        owner_log(op, "CancelBooking", result);
        const char *reason = owner_refusal(result);
        if (!reason) {
            /* The outcome is not known: the row stays CANCELLING; the same call resumes it. */
            fail_typed(op, "BOOKING_ERROR_OWNER_UNAVAILABLE", NULL);
            return;
        }
        op->refusal = reason;
        exec_then_read(op, STMT_UNCANCEL, 1, values, stored);
        return;
    }
    exec_then_read(op, STMT_CANCELLED, 1, values, stored);
}

static uint64_t timeout_ns(const op_t *op)
{
    uint64_t left = rk_rpc_deadline_ns(op->rpc);
    return left < OWNER_TIMEOUT_NS ? left : OWNER_TIMEOUT_NS;
}

/* The fee of row 0's period by the facility's schedule on `basis`: 0 and *yen, or -1 when the
 * schedule does not price it. */
static int hub_fee(op_t *op, const PGresult *r, rk_fee_basis_t basis, int64_t *yen)
{
    json_t *fees = json_loads(PQgetvalue(r, 0, COL_FEES), JSON_REJECT_DUPLICATES, NULL);
    if (!fees)
        return -1;
    ProtobufCAllocator allocator = rk_pb_arena_allocator(op->req->arena);
    char err[128];
    Renkei__V1__FeeSchedule *schedule = (Renkei__V1__FeeSchedule *)rk_json_to_message(
        &renkei__v1__fee_schedule__descriptor, fees, &allocator, err, sizeof(err));
    json_decref(fees);
    long long start = utc_seconds(PQgetvalue(r, 0, COL_START));
    long long end = utc_seconds(PQgetvalue(r, 0, COL_END));
    if (!schedule || start < 0 || end < 0)
        return -1;
    return rk_fee_of_range(schedule, start, end, basis, yen);
}

/* The owner's call for op->row (REQUESTED: HoldSlot; CONFIRMING: ConfirmBooking; CANCELLING:
 * CancelBooking). */
static void call_owner(op_t *op)
{
    const PGresult *r = op->row;
    const char *state = PQgetvalue(r, 0, COL_STATE);
    int hold = strcmp(state, "requested") == 0;
    const rk_federation_adapter_t *a =
        owner_adapter(op->app, strtoll(PQgetvalue(r, 0, COL_ADAPTER), NULL, 10));
    if (!a) {
        rk_log_warn("owner adapter not active", "{s:s, s:s}", "request_id", op->req->request_id,
                    "booking_id", op->id);
        if (hold) {
            store_failed(op, "requested", "BOOKING_ERROR_OWNER_UNAVAILABLE");
        } else {
            fail_typed(op, "BOOKING_ERROR_OWNER_UNAVAILABLE", NULL);
        }
        return;
    }
    Renkei__V1__IdempotencyKey key = RENKEI__V1__IDEMPOTENCY_KEY__INIT;
    key.key = op->id;
    subject_of(op->app, r, 0, op->subject);
    Renkei__V1__ResidentContext resident;
    Renkei__V1__MunicipalityRef home;
    Renkei__V1__AgreementRef agreement;
    rk_facility_resident_context(&resident, &home, &agreement, op->subject,
                                 PQgetvalue(r, 0, COL_HOME), PQgetvalue(r, 0, COL_CLASS),
                                 PQgetvalue(r, 0, COL_FEE_BASIS), PQgetvalue(r, 0, COL_AGREEMENT),
                                 PQgetvalue(r, 0, COL_AGREEMENT_VERSION));
    rk_fee_basis_t basis = resident.fee_basis == RENKEI__V1__FEE_BASIS__FEE_BASIS_RESIDENT_RATE
                               ? RK_FEE_RESIDENT_RATE
                               : RK_FEE_NON_RESIDENT_RATE;
    if (strcmp(state, "cancelling") == 0) {
        Renkei__V1__AdapterCancelBookingRequest in =
            RENKEI__V1__ADAPTER_CANCEL_BOOKING_REQUEST__INIT;
        in.idempotency_key = &key;
        in.resident = &resident;
        in.owner_reference = PQgetvalue(r, 0, COL_OWNER_REF);
        in.reason = PQgetvalue(r, 0, COL_CANCEL_REASON);
        rk_rpc_call(a->channel, "/renkei.v1.AdapterService/CancelBooking", &in.base,
                    &renkei__v1__adapter_cancel_booking_response__descriptor, timeout_ns(op), NULL,
                    0, cancelled, op);
        return;
    }
    if (hold) {
        Renkei__V1__TimeRange time = RENKEI__V1__TIME_RANGE__INIT;
        time.start = PQgetvalue(r, 0, COL_START);
        time.end = PQgetvalue(r, 0, COL_END);
        Renkei__V1__AdapterHoldSlotRequest in = RENKEI__V1__ADAPTER_HOLD_SLOT_REQUEST__INIT;
        in.idempotency_key = &key;
        in.resident = &resident;
        in.facility_id = PQgetvalue(r, 0, COL_OWNER_FACILITY);
        in.time = &time;
        in.slot_id = PQgetvalue(r, 0, COL_SLOT);
        in.attendees = (int32_t)strtol(PQgetvalue(r, 0, COL_ATTENDEES), NULL, 10);
        in.purpose = PQgetvalue(r, 0, COL_PURPOSE);
        Renkei__V1__Yen expected = RENKEI__V1__YEN__INIT;
        if (hub_fee(op, r, basis, &expected.amount) == 0) {
            in.expected_fee = &expected;
            op->hub_fee = expected.amount;
            op->has_hub_fee = 1;
        }
        rk_rpc_call(a->channel, "/renkei.v1.AdapterService/HoldSlot", &in.base,
                    &renkei__v1__adapter_hold_slot_response__descriptor, timeout_ns(op), NULL, 0,
                    held, op);
        return;
    }
    Renkei__V1__Yen accepted = RENKEI__V1__YEN__INIT;
    Renkei__V1__AdapterConfirmBookingRequest in = RENKEI__V1__ADAPTER_CONFIRM_BOOKING_REQUEST__INIT;
    in.idempotency_key = &key;
    in.resident = &resident;
    in.owner_reference = PQgetvalue(r, 0, COL_OWNER_REF);
    if (*PQgetvalue(r, 0, COL_ACCEPTED_FEE)) {
        accepted.amount = strtoll(PQgetvalue(r, 0, COL_ACCEPTED_FEE), NULL, 10);
        in.accepted_fee = &accepted;
    }
    rk_rpc_call(a->channel, "/renkei.v1.AdapterService/ConfirmBooking", &in.base,
                &renkei__v1__adapter_confirm_booking_response__descriptor, timeout_ns(op), NULL, 0,
                confirmed, op);
}

/* --- the first transaction's outcome -------------------------------------------------------- */

/* Answers HoldSlot's refusals on the caller's terms (rk_booking_hold of 0011): not eligible
 * (naming the owner city) or outside the booking window (naming when it opens or closed). */
static void refuse_terms(op_t *op, json_t *outcome)
{
    rk_arena_t *arena = op->req->arena;
    json_t *owner = json_object_get(outcome, "owner");
    const char *owner_ja = json_string_value(json_object_get(owner, "ja"));
    const char *owner_en = json_string_value(json_object_get(owner, "en"));
    const char *opens = json_string_value(json_object_get(outcome, "opens_at"));
    const char *closes = json_string_value(json_object_get(outcome, "closes_at"));
    if (owner_ja && owner_en) {
        char *ja, *en;
        rk_facility_ineligible_text(arena, owner_ja, owner_en, &ja, &en);
        fail_typed_text(op, "BOOKING_ERROR_NOT_ELIGIBLE",
                        "facility_id: no agreement of your home city lets its residents book this "
                        "city's facilities",
                        ja, en);
    } else {
        const char *when = opens ? opens : closes ? closes : "";
        long long at = utc_seconds(when);
        rk_jp_date_t d = rk_jp_date_of(at);
        long long minute = ((at + RK_JST_OFFSET_S) % 86400 + 86400) % 86400 / 60;
        char *ja = rk_arena_printf(arena, "%d年%d月%d日 %02lld:%02lld", d.year, d.month, d.day,
                                   minute / 60, minute % 60);
        char *en = rk_arena_printf(arena, "%d-%02d-%02d %02lld:%02lld JST", d.year, d.month, d.day,
                                   minute / 60, minute % 60);
        fail_typed_text(op, "BOOKING_ERROR_OUTSIDE_WINDOW",
                        rk_arena_printf(arena, "time.start: bookings for it %s at %s",
                                        opens ? "open" : "closed", when),
                        rk_arena_printf(arena,
                                        opens ? "この枠の予約受付は%sに始まります。"
                                              : "この枠の予約受付は%sに締め切られました。",
                                        ja),
                        rk_arena_printf(arena,
                                        opens ? "Booking this slot opens on %s."
                                              : "Booking this slot closed on %s.",
                                        en));
    }
}

/* The first transaction's outcome (results[0]) and the row read after it (results[1]: the
 * booking the call named or made; another one when the outcome names another, see below). */
static void begun(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 2 || PQntuples(res->results[0]) != 1) {
        fail_store(op, res);
        return;
    }
    json_t *o = json_loads(PQgetvalue(res->results[0], 0, 0), 0, NULL);
    const char *outcome = json_string_value(json_object_get(o, "outcome"));
    const char *id = json_string_value(json_object_get(o, "id"));
    if (id)
        snprintf(op->id, sizeof(op->id), "%s", id);
    /* The row read is the outcome's booking unless the outcome named another (a HoldSlot
     * replayed from its key): then it is read again. */
    const PGresult *row = row_read(res);
    if (row && strcmp(PQgetvalue(row, 0, COL_ID), op->id) != 0)
        row = NULL;
    char what[16];
    snprintf(what, sizeof(what), "%s", outcome ? outcome : "");
    if (strcmp(what, "not_eligible") == 0 || strcmp(what, "outside_window") == 0) {
        refuse_terms(op, o);
        json_decref(o);
        return;
    }
    json_decref(o);
    if (strcmp(what, "login") == 0) {
        fail_typed(op, "ERROR_REASON_LOGIN_REQUIRED",
                   "authorization: the token's grant is no longer valid; log in again");
    } else if (strcmp(what, "reused") == 0) {
        fail_typed(op, "ERROR_REASON_IDEMPOTENCY_KEY_REUSED",
                   "idempotency_key: already used for a different request");
    } else if (strcmp(what, "no_facility") == 0) {
        fail_typed(op, "ERROR_REASON_NOT_FOUND", "facility_id: no such facility");
    } else if (strcmp(what, "not_found") == 0) {
        fail_typed(op, "ERROR_REASON_NOT_FOUND", "booking_id: no such booking of yours");
    } else if (strcmp(what, "not_bookable") == 0) {
        fail_typed(op, "BOOKING_ERROR_NOT_BOOKABLE_VIA_HUB", NULL);
    } else if (strcmp(what, "taken") == 0) {
        fail_typed(op, "BOOKING_ERROR_SLOT_FULL",
                   "time: another booking of this facility overlaps it");
    } else if (strcmp(what, "expired") == 0) {
        fail_typed(op, "BOOKING_ERROR_HOLD_EXPIRED", NULL);
    } else if (strcmp(what, "closed") == 0) {
        fail_typed(op, "BOOKING_ERROR_CANCELLATION_CLOSED", NULL);
    } else if (strcmp(what, "state") == 0) {
        fail_typed(op, "BOOKING_ERROR_INVALID_STATE", NULL);
    } else if (strcmp(what, "new") == 0 || strcmp(what, "confirm") == 0 ||
               strcmp(what, "cancel") == 0) {
        if (row) {
            op->row = PQcopyResult(row, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
            call_owner(op);
        } else {
            op->call_owner = 1;
            read_row(op, 0);
        }
    } else if (strcmp(what, "replay") == 0) {
        if (row)
            answer(op, row);
        else
            read_row(op, 0);
    } else {
        rk_rpc_fail(op->rpc, RK_RPC_INTERNAL, "unexpected answer from the database");
    }
}

/* --- requests ------------------------------------------------------------------------------- */

/* The op of a call, or NULL when it was answered (no or bad token). */
static op_t *op_new(rk_rpc_t *rpc, op_kind_t kind)
{
    rk_request_t *req = rk_rpc_request(rpc);
    op_t *op = rk_arena_calloc(req->arena, 1, sizeof(*op));
    op->rpc = rpc;
    op->req = req;
    op->app = rk_app(req);
    op->kind = kind;
    const char *auth = rk_request_header(req, "authorization");
    const char *token = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
    if (!token || rk_identity_resident_verify(op->app, token, &op->resident) != 0) {
        fail_typed(op, "ERROR_REASON_LOGIN_REQUIRED",
                   token ? "authorization: the access token is not valid (expired or not "
                           "issued by this hub); log in again"
                         : "authorization: \"Bearer <a resident's access token>\" is required");
        return NULL;
    }
    return op;
}

static void invalid(rk_rpc_t *rpc, const char *message)
{
    rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, message);
}

/* FNV-1a of message packed with its idempotency key cleared (the caller clears it), as hex. */
static char *request_hash(rk_arena_t *arena, const ProtobufCMessage *message)
{
    size_t len = protobuf_c_message_get_packed_size(message);
    uint8_t *bytes = rk_arena_alloc(arena, len ? len : 1);
    protobuf_c_message_pack(message, bytes);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= bytes[i];
        h *= 0x100000001b3ull;
    }
    return rk_arena_printf(arena, "%016" PRIx64, h);
}

static int booking_id_ok(const char *id)
{
    if (strlen(id) != 35 || strncmp(id, "bk_", 3) != 0)
        return 0;
    for (const char *p = id + 3; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void hold_slot(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__HoldSlotRequest *in = (const Renkei__V1__HoldSlotRequest *)message;
    op_t *op = op_new(rpc, OP_HOLD);
    if (!op)
        return;
    rk_arena_t *arena = op->req->arena;
    const char *key =
        rk_federation_idempotency_key(rpc, in->idempotency_key ? in->idempotency_key->key : NULL);
    if (!key)
        return;
    const char *fid = in->facility_id;
    size_t flen = strlen(fid);
    int digits = flen > 0 && flen <= 18 && fid[0] != '0';
    for (size_t i = 0; digits && i < flen; i++)
        digits = fid[i] >= '0' && fid[i] <= '9';
    if (!digits) {
        invalid(rpc, "facility_id: required (a Facility.id from SearchFacilities)");
        return;
    }
    if (!in->time) {
        invalid(rpc, "time: required (start and end, RFC 3339 UTC)");
        return;
    }
    long long start = utc_seconds(in->time->start), end = utc_seconds(in->time->end);
    if (start < 0 || end < 0) {
        invalid(rpc, start < 0 ? "time.start: must be RFC 3339 UTC like 2026-11-28T09:00:00Z"
                               : "time.end: must be RFC 3339 UTC like 2026-11-28T11:00:00Z");
        return;
    }
    if (end <= start || end - start > PERIOD_MAX_S) {
        invalid(rpc,
                end <= start ? "time.end: must be after time.start" : "time: at most 24 hours");
        return;
    }
    if (in->attendees < 0 || in->attendees > 100000) {
        invalid(rpc, "attendees: must be between 0 and 100000");
        return;
    }
    if (utf8_chars(in->purpose) > PURPOSE_MAX_CHARS || strlen(in->slot_id) > 256) {
        invalid(rpc, utf8_chars(in->purpose) > PURPOSE_MAX_CHARS ? "purpose: at most 200 characters"
                                                                 : "slot_id: at most 256 bytes");
        return;
    }
    Renkei__V1__HoldSlotRequest keyless = *in;
    keyless.idempotency_key = NULL;
    unsigned char random[16];
    if (RAND_bytes(random, sizeof(random)) != 1) {
        rk_rpc_fail(rpc, RK_RPC_INTERNAL, "no randomness for a booking id");
        return;
    }
    char *p = op->id + snprintf(op->id, sizeof(op->id), "bk_");
    for (size_t i = 0; i < sizeof(random); i++)
        p += snprintf(p, 3, "%02x", random[i]);
    char attendees[16];
    snprintf(attendees, sizeof(attendees), "%d", in->attendees);
    const char *values[] = {op->resident.grant_id,
                            op->resident.tenant_id,
                            key,
                            request_hash(arena, &keyless.base),
                            op->id,
                            fid,
                            in->time->start,
                            in->time->end,
                            op->resident.home_municipality,
                            attendees,
                            in->purpose,
                            in->slot_id};
    exec_then_read(op, STMT_HOLD, 12, values, begun);
}

static void confirm_booking(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__ConfirmBookingRequest *in =
        (const Renkei__V1__ConfirmBookingRequest *)message;
    op_t *op = op_new(rpc, OP_CONFIRM);
    if (!op)
        return;
    const char *key =
        rk_federation_idempotency_key(rpc, in->idempotency_key ? in->idempotency_key->key : NULL);
    if (!key)
        return;
    if (!booking_id_ok(in->booking_id)) {
        invalid(rpc, "booking_id: required (a Booking.id from HoldSlot)");
        return;
    }
    snprintf(op->id, sizeof(op->id), "%s", in->booking_id);
    Renkei__V1__ConfirmBookingRequest keyless = *in;
    keyless.idempotency_key = NULL;
    char fee[24];
    if (in->accepted_fee)
        snprintf(fee, sizeof(fee), "%" PRId64, in->accepted_fee->amount);
    const char *values[] = {op->resident.grant_id,
                            op->resident.tenant_id,
                            key,
                            request_hash(op->req->arena, &keyless.base),
                            op->id,
                            in->accepted_fee ? fee : NULL};
    exec_then_read(op, STMT_CONFIRM, 6, values, begun);
}

static void get_booking(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__GetBookingRequest *in = (const Renkei__V1__GetBookingRequest *)message;
    op_t *op = op_new(rpc, OP_GET);
    if (!op)
        return;
    if (!booking_id_ok(in->booking_id)) {
        invalid(rpc, "booking_id: required (a Booking.id from HoldSlot)");
        return;
    }
    snprintf(op->id, sizeof(op->id), "%s", in->booking_id);
    read_row(op, 1);
}

static void cancel_booking(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__CancelBookingRequest *in = (const Renkei__V1__CancelBookingRequest *)message;
    op_t *op = op_new(rpc, OP_CANCEL);
    if (!op)
        return;
    const char *key =
        rk_federation_idempotency_key(rpc, in->idempotency_key ? in->idempotency_key->key : NULL);
    if (!key)
        return;
    if (!booking_id_ok(in->booking_id)) {
        invalid(rpc, "booking_id: required (a Booking.id from HoldSlot)");
        return;
    }
    if (utf8_chars(in->reason) > REASON_MAX_CHARS) {
        invalid(rpc, "reason: at most 200 characters");
        return;
    }
    snprintf(op->id, sizeof(op->id), "%s", in->booking_id);
    Renkei__V1__CancelBookingRequest keyless = *in;
    keyless.idempotency_key = NULL;
    const char *values[] = {op->resident.grant_id,
                            op->resident.tenant_id,
                            key,
                            request_hash(op->req->arena, &keyless.base),
                            op->id,
                            in->reason};
    exec_then_read(op, STMT_CANCEL, 6, values, begun);
}

/* --- ListMyBookings ------------------------------------------------------------------------- */

/* The page token after the last row shown: "1.<filters>.<slot start>.<booking id>". */
static char *page_token(op_t *op, const PGresult *r, int i)
{
    return rk_arena_printf(op->req->arena, "1.%s.%s.%s", op->filters, PQgetvalue(r, i, COL_START),
                           PQgetvalue(r, i, COL_ID));
}

/* Parses a page token of this request's filters into op->after_start and after_id. */
static int page_token_parse(op_t *op, const char *token)
{
    /* "1." 16 hex "." 20 (RFC 3339) "." 35 (bk_…) */
    if (strlen(token) != 2 + 16 + 1 + 20 + 1 + 35 || strncmp(token, "1.", 2) != 0 ||
        strncmp(token + 2, op->filters, 16) != 0 || token[18] != '.' || token[39] != '.')
        return RK_EINVAL;
    char *start = rk_arena_strdup(op->req->arena, token + 19);
    start[20] = '\0';
    if (utc_seconds(start) < 0 || !booking_id_ok(token + 40))
        return RK_EINVAL;
    op->after_start = start;
    op->after_id = rk_arena_strdup(op->req->arena, token + 40);
    return RK_OK;
}

static void listed(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(op, res);
        return;
    }
    const PGresult *r = res->results[0];
    rk_arena_t *arena = op->req->arena;
    int n = PQntuples(r), shown = n > op->page_size ? op->page_size : n;
    Renkei__V1__ListMyBookingsResponse out = RENKEI__V1__LIST_MY_BOOKINGS_RESPONSE__INIT;
    out.bookings = rk_arena_alloc(arena, (size_t)(shown ? shown : 1) * sizeof(*out.bookings));
    for (int i = 0; i < shown; i++)
        out.bookings[i] = booking_of(op->app, arena, r, i);
    out.n_bookings = (size_t)shown;
    Renkei__V1__PageResponse page = RENKEI__V1__PAGE_RESPONSE__INIT;
    page.total_size = -1;
    page.next_page_token = n > shown ? page_token(op, r, shown - 1) : "";
    out.page = &page;
    rk_rpc_reply(op->rpc, &out.base);
}

static void account_read(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        fail_store(op, res);
        return;
    }
    if (PQgetisnull(res->results[0], 0, 0)) {
        fail_typed(op, "ERROR_REASON_LOGIN_REQUIRED",
                   "authorization: the token's grant is no longer valid; log in again");
        return;
    }
    char limit[16];
    snprintf(limit, sizeof(limit), "%d", op->page_size + 1);
    const char *values[] = {PQgetvalue(res->results[0], 0, 0),
                            op->states,
                            op->window_start,
                            op->window_end,
                            op->after_start,
                            op->after_id,
                            limit};
    if (rk_store_exec(op->app->store, STMT_LIST, 7, values, listed, op) != RK_AGAIN)
        fail_store(op, NULL);
}

static void list_my_bookings(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__ListMyBookingsRequest *in =
        (const Renkei__V1__ListMyBookingsRequest *)message;
    op_t *op = op_new(rpc, OP_LIST);
    if (!op)
        return;
    rk_arena_t *arena = op->req->arena;
    /* states: a text[] literal of the row states */
    size_t cap = 3 + in->n_states * 16, len = 0;
    char *states = rk_arena_alloc(arena, cap);
    len += (size_t)snprintf(states, cap, "{");
    for (size_t i = 0; i < in->n_states; i++) {
        const char *name = NULL;
        for (size_t k = 0; k < sizeof(states_of) / sizeof(states_of[0]) && !name; k++)
            if (states_of[k].state == in->states[i])
                name = states_of[k].name;
        if (!name) {
            invalid(rpc, "states: each must be a BookingState other than UNSPECIFIED");
            return;
        }
        len += (size_t)snprintf(states + len, cap - len, "%s%s", i ? "," : "", name);
    }
    snprintf(states + len, cap - len, "}");
    op->states = states;
    if (in->window) {
        long long start = utc_seconds(in->window->start), end = utc_seconds(in->window->end);
        if (start < 0 || end < 0) {
            invalid(rpc, start < 0 ? "window.start: must be RFC 3339 UTC like 2026-11-28T00:00:00Z"
                                   : "window.end: must be RFC 3339 UTC like 2026-12-28T00:00:00Z");
            return;
        }
        if (end <= start) {
            invalid(rpc, "window.end: must be after window.start");
            return;
        }
        op->window_start = in->window->start;
        op->window_end = in->window->end;
    }
    int page_size = in->page ? in->page->page_size : 0;
    if (page_size < 0) {
        invalid(rpc, "page.page_size: must be 0 (the default, 20) or more");
        return;
    }
    op->page_size = page_size == 0              ? PAGE_SIZE_DEFAULT
                    : page_size > PAGE_SIZE_MAX ? PAGE_SIZE_MAX
                                                : page_size;
    Renkei__V1__ListMyBookingsRequest filters = *in;
    filters.page = NULL;
    snprintf(op->filters, sizeof(op->filters), "%s", request_hash(arena, &filters.base));
    if (in->page && *in->page->page_token && page_token_parse(op, in->page->page_token) != RK_OK) {
        invalid(rpc, "page.page_token: not a next_page_token of this listing (same states and "
                     "window)");
        return;
    }
    const char *values[] = {op->resident.grant_id, op->resident.tenant_id};
    if (rk_store_exec(op->app->store, STMT_ACCOUNT, 2, values, account_read, op) != RK_AGAIN)
        fail_store(op, NULL);
}

const char *rk_facility_booking_refusal(const rk_rpc_result_t *result)
{
    return owner_refusal(result);
}

/* --- registration --------------------------------------------------------------------------- */

static const rk_rpc_method_t methods[] = {
    {"/renkei.v1.FacilityService/HoldSlot", &renkei__v1__hold_slot_request__descriptor,
     &renkei__v1__hold_slot_response__descriptor, hold_slot, 0},
    {"/renkei.v1.FacilityService/ConfirmBooking", &renkei__v1__confirm_booking_request__descriptor,
     &renkei__v1__confirm_booking_response__descriptor, confirm_booking, 0},
    {"/renkei.v1.FacilityService/GetBooking", &renkei__v1__get_booking_request__descriptor,
     &renkei__v1__get_booking_response__descriptor, get_booking, 0},
    {"/renkei.v1.FacilityService/CancelBooking", &renkei__v1__cancel_booking_request__descriptor,
     &renkei__v1__cancel_booking_response__descriptor, cancel_booking, 0},
    {"/renkei.v1.FacilityService/ListMyBookings", &renkei__v1__list_my_bookings_request__descriptor,
     &renkei__v1__list_my_bookings_response__descriptor, list_my_bookings, 0},
};

void rk_facility_booking_register(rk_facility_t *facility, rk_router_t *router)
{
    rk_store_t *store = facility->app->store;
    rk_store_prepare(store, STMT_HOLD, sql_hold);
    rk_store_prepare(store, STMT_CONFIRM, sql_confirm);
    rk_store_prepare(store, STMT_GET, sql_get);
    rk_store_prepare(store, STMT_HELD, sql_held);
    rk_store_prepare(store, STMT_CONFIRMED, sql_confirmed);
    rk_store_prepare(store, STMT_FAIL, sql_fail);
    rk_store_prepare(store, STMT_CANCEL, sql_cancel);
    rk_store_prepare(store, STMT_CANCELLED, sql_cancelled);
    rk_store_prepare(store, STMT_UNCANCEL, sql_uncancel);
    rk_store_prepare(store, STMT_ACCOUNT, sql_account);
    rk_store_prepare(store, STMT_LIST, sql_list);
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        rk_rpc_register(router, &methods[i]);
}
