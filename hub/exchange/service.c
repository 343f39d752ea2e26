/*
 * service.c — ExchangeService.GetReceipt, ListExchangeLog and VerifyLogChain (see service.h).
 *
 * Everything a handler keeps lives in its request's arena; PostgreSQL results kept across a
 * callback are copies cleared by an arena cleanup. Entries and receipts are decoded from their
 * canonical JSON, the one source of their content.
 */
#include "exchange/service.h"

#include "admin/admin_auth.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "exchange/canonical.h"
#include "exchange/chain.h"
#include "exchange/signer.h"
#include "exchange/tsa.h"
#include "renkei/v1/exchange.pb-c.h"

#include <ctype.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_RECEIPT "exchange_receipt"
#define STMT_TENANT "exchange_tenant"
#define STMT_LOG "exchange_log_page"
#define STMT_CHECKPOINTS "exchange_checkpoints"
#define STMT_ENTRIES "exchange_entries"

#define STAFF_ROLES (RK_ADMIN_ROLE_TENANT_ADMIN | RK_ADMIN_ROLE_AUDITOR)
#define KIND_PREFIX "EXCHANGE_KIND_"
#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 1000
#define VERIFY_BATCH 2000
#define TENANT_MAX 64

static const char sql_receipt[] =
    "SELECT r.jws, r.kid, r.payload_json, r.provider_tenant_id::text"
    " FROM rk_exchange_receipt r JOIN rk_tenant p ON p.id = r.provider_tenant_id"
    " JOIN rk_tenant h ON h.id = r.home_tenant_id"
    " WHERE r.id = $1 AND $2::text IN (p.slug, p.code::text, h.slug, h.code::text)";
/* The tenant, its chain's head, and whether the database refuses cross-city changes now. */
static const char sql_tenant[] =
    "SELECT t.id::text, t.code, t.slug, COALESCE(c.head_sequence, 0)::text,"
    " COALESCE(c.head_hash, repeat('0', 64)),"
    " EXISTS (SELECT 1 FROM rk_exchange_chain x, rk_exchange_anchor_policy p"
    "         WHERE p.max_gap IS NOT NULL AND x.unanchored_since < now() - p.max_gap)"
    " FROM rk_tenant t LEFT JOIN rk_exchange_chain c ON c.tenant_id = t.id"
    " WHERE t.slug = $1::text OR t.code::text = $1::text";
static const char sql_log[] =
    "SELECT sequence::text, canonical_json, entry_hash FROM rk_exchange_log"
    " WHERE tenant_id = $1::bigint AND sequence > $2::bigint"
    " AND ($3::text[] IS NULL OR kind = ANY ($3::text[]))"
    " AND ($4::timestamptz IS NULL OR recorded_at >= $4::timestamptz)"
    " AND ($5::timestamptz IS NULL OR recorded_at < $5::timestamptz)"
    " ORDER BY rk_exchange_log.sequence LIMIT $6::int"; /* the column, not the text output */
static const char sql_checkpoints[] =
    "SELECT sequence::text, entry_hash, encode(tsa_token, 'hex'), tsa_name,"
    " rk_exchange_utc(anchored_at) FROM rk_exchange_checkpoint WHERE tenant_id = $1::bigint"
    " ORDER BY rk_exchange_checkpoint.sequence";
static const char sql_entries[] =
    "SELECT sequence::text, kind, entry_hash, canonical_json FROM rk_exchange_log"
    " WHERE tenant_id = $1::bigint AND sequence >= $2::bigint AND sequence <= $3::bigint"
    " ORDER BY rk_exchange_log.sequence LIMIT 2000"; /* VERIFY_BATCH */

/* --- shared -------------------------------------------------------------------------------- */

static rk_exchange_t *exchange_of(rk_rpc_t *rpc)
{
    return rk_app(rk_rpc_request(rpc))->exchange;
}

static void clear_result(void *result)
{
    PQclear(result);
}

static void decref_json(void *value)
{
    json_decref(value);
}

/* A copy of res that lives as long as rpc's request. */
static const PGresult *keep_result(rk_rpc_t *rpc, const PGresult *res)
{
    PGresult *copy = PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    rk_arena_on_free(rk_rpc_request(rpc)->arena, clear_result, copy);
    return copy;
}

static void fail_store(rk_rpc_t *rpc, const rk_store_result_t *res)
{
    rk_request_t *req = rk_rpc_request(rpc);
    if (res && res->status == RK_EINVAL) {
        rk_log_error("exchange query failed", "{s:s, s:s}", "request_id", req->request_id, "error",
                     res->error);
        rk_rpc_fail(rpc, RK_RPC_INTERNAL,
                    rk_arena_printf(req->arena, "request %s failed; the hub's log has why",
                                    req->request_id));
        return;
    }
    rk_rpc_fail(rpc, RK_RPC_UNAVAILABLE, "the database is not reachable now; retry later");
}

static int tenant_ok(rk_rpc_t *rpc, const char *method, const char *tenant)
{
    if (!tenant || !*tenant || strlen(tenant) > TENANT_MAX) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, "tenant: required (a tenant slug or code)");
        return 0;
    }
    return rk_admin_authorize_tenant_rpc(rpc, method, tenant, STAFF_ROLES);
}

/* "booking_confirmed" → EXCHANGE_KIND_BOOKING_CONFIRMED; UNSPECIFIED when unknown. */
static int kind_value(const char *text)
{
    char name[64];
    size_t n = strlen(KIND_PREFIX), i = 0;
    memcpy(name, KIND_PREFIX, n);
    for (; text && text[i] && n + 1 < sizeof(name); i++)
        name[n++] = (char)toupper((unsigned char)text[i]);
    name[n] = '\0';
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value_by_name(&renkei__v1__exchange_kind__descriptor, name);
    return v ? v->value : RENKEI__V1__EXCHANGE_KIND__EXCHANGE_KIND_UNSPECIFIED;
}

/* The stored text of a kind ("booking_confirmed") into out; 0, or -1 when not a kind. */
static int kind_text(int value, char *out, size_t len)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&renkei__v1__exchange_kind__descriptor, value);
    if (!v || value == RENKEI__V1__EXCHANGE_KIND__EXCHANGE_KIND_UNSPECIFIED)
        return -1;
    const char *s = v->name + strlen(KIND_PREFIX);
    size_t i = 0;
    for (; s[i] && i + 1 < len; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
    return 0;
}

static char *text_of(rk_arena_t *arena, const json_t *object, const char *key)
{
    const char *s = json_string_value(json_object_get(object, key));
    return rk_arena_strdup(arena, s ? s : "");
}

static Renkei__V1__MunicipalityRef *municipality(rk_arena_t *arena, const json_t *value)
{
    if (!value)
        return NULL;
    Renkei__V1__MunicipalityRef *ref = rk_arena_alloc(arena, sizeof(*ref));
    *ref = (Renkei__V1__MunicipalityRef)RENKEI__V1__MUNICIPALITY_REF__INIT;
    if (json_is_string(value)) {
        ref->code = rk_arena_strdup(arena, json_string_value(value));
    } else {
        ref->code = text_of(arena, value, "code");
        ref->slug = text_of(arena, value, "slug");
    }
    return ref;
}

static Renkei__V1__AgreementRef *agreement(rk_arena_t *arena, const json_t *value)
{
    if (!json_is_object(value))
        return NULL;
    Renkei__V1__AgreementRef *ref = rk_arena_alloc(arena, sizeof(*ref));
    *ref = (Renkei__V1__AgreementRef)RENKEI__V1__AGREEMENT_REF__INIT;
    ref->agreement_id = text_of(arena, value, "id");
    ref->version = (int32_t)json_integer_value(json_object_get(value, "version"));
    return ref;
}

static Renkei__V1__TimeRange *time_range(rk_arena_t *arena, const json_t *value)
{
    if (!json_is_object(value))
        return NULL;
    Renkei__V1__TimeRange *range = rk_arena_alloc(arena, sizeof(*range));
    *range = (Renkei__V1__TimeRange)RENKEI__V1__TIME_RANGE__INIT;
    range->start = text_of(arena, value, "start");
    range->end = text_of(arena, value, "end");
    return range;
}

/* Parses canonical JSON kept alive by the arena; NULL when it is not an object. */
static json_t *parse_kept(rk_arena_t *arena, const char *text)
{
    json_t *value = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(value)) {
        json_decref(value);
        return NULL;
    }
    rk_arena_on_free(arena, decref_json, value);
    return value;
}

/* --- GetReceipt ---------------------------------------------------------------------------- */

typedef struct receipt_call {
    rk_rpc_t *rpc;
    const char *receipt_id;
    const char *tenant;
    int signing_asked; /* the receipt was pending and a signing round was asked for */
} receipt_call_t;

static void read_receipt(receipt_call_t *call);

static void answer_receipt(receipt_call_t *call, const PGresult *r)
{
    rk_arena_t *arena = rk_rpc_request(call->rpc)->arena;
    json_t *payload = parse_kept(arena, PQgetvalue(r, 0, 2));
    if (!payload) {
        rk_rpc_fail(call->rpc, RK_RPC_DATA_LOSS, "receipt_id: the stored payload is not JSON");
        return;
    }
    Renkei__V1__Receipt *receipt = rk_arena_alloc(arena, sizeof(*receipt));
    *receipt = (Renkei__V1__Receipt)RENKEI__V1__RECEIPT__INIT;
    receipt->receipt_id = text_of(arena, payload, "receipt_id");
    receipt->kind = kind_value(json_string_value(json_object_get(payload, "kind")));
    receipt->jws = rk_arena_strdup(arena, PQgetvalue(r, 0, 0));
    receipt->kid = rk_arena_strdup(arena, PQgetvalue(r, 0, 1));
    receipt->issuer = text_of(arena, payload, "iss");
    receipt->home = municipality(arena, json_object_get(payload, "home"));
    receipt->provider = municipality(arena, json_object_get(payload, "provider"));
    receipt->resident_pairwise_id = text_of(arena, payload, "resident_pairwise_id");
    receipt->resource_type = text_of(arena, json_object_get(payload, "resource"), "type");
    receipt->resource_id = text_of(arena, json_object_get(payload, "resource"), "id");
    receipt->time = time_range(arena, json_object_get(payload, "time"));
    json_t *fee = json_object_get(json_object_get(payload, "amounts"), "fee");
    if (json_is_integer(fee)) {
        receipt->amount = rk_arena_alloc(arena, sizeof(*receipt->amount));
        *receipt->amount = (Renkei__V1__Yen)RENKEI__V1__YEN__INIT;
        receipt->amount->amount = json_integer_value(fee);
    }
    receipt->agreement = agreement(arena, json_object_get(payload, "agreement"));
    receipt->previous_receipt_hash = text_of(arena, payload, "previous_receipt_hash");
    receipt->issued_at = text_of(arena, payload, "issued_at");
    receipt->payload_json = rk_arena_strdup(arena, PQgetvalue(r, 0, 2));
    receipt->log_sequence = json_integer_value(json_object_get(payload, "log_sequence"));
    Renkei__V1__GetReceiptResponse out = RENKEI__V1__GET_RECEIPT_RESPONSE__INIT;
    out.receipt = receipt;
    out.jwks_uri = rk_arena_printf(arena, "%s/jwks", receipt->issuer);
    rk_rpc_reply(call->rpc, &out.base);
}

static void signed_cb(int status, void *arg)
{
    receipt_call_t *call = arg;
    if (status != RK_OK && status != RK_EUNAVAILABLE) {
        rk_rpc_fail(call->rpc, RK_RPC_FAILED_PRECONDITION,
                    "the providing city has no ES256 signing key (identity.signing_algs); the "
                    "receipt stays pending");
        return;
    }
    read_receipt(call);
}

static void receipt_read_cb(const rk_store_result_t *res, void *arg)
{
    receipt_call_t *call = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(call->rpc, res);
        return;
    }
    const PGresult *r = res->results[0];
    if (PQntuples(r) != 1) {
        rk_rpc_fail_detail(call->rpc, RK_RPC_NOT_FOUND,
                           rk_arena_printf(rk_rpc_request(call->rpc)->arena,
                                           "receipt_id: no such receipt of tenant %s",
                                           call->tenant),
                           "ERROR_REASON_NOT_FOUND", NULL);
        return;
    }
    if (!PQgetisnull(r, 0, 0)) {
        answer_receipt(call, r);
        return;
    }
    if (call->signing_asked) {
        rk_rpc_fail(call->rpc, RK_RPC_UNAVAILABLE,
                    "the receipt is recorded but not signed yet; retry in a moment");
        return;
    }
    call->signing_asked = 1;
    rk_exchange_sign(exchange_of(call->rpc)->signer, PQgetvalue(r, 0, 3), signed_cb, call);
}

static void read_receipt(receipt_call_t *call)
{
    const char *values[] = {call->receipt_id, call->tenant};
    if (rk_store_exec(rk_app(rk_rpc_request(call->rpc))->store, STMT_RECEIPT, 2, values,
                      receipt_read_cb, call) != RK_AGAIN)
        fail_store(call->rpc, NULL);
}

static int receipt_id_ok(const char *id)
{
    if (!id || strlen(id) != 35 || strncmp(id, "rc_", 3) != 0)
        return 0;
    for (const char *p = id + 3; *p; p++)
        if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
            return 0;
    return 1;
}

static void get_receipt(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__GetReceiptRequest *in = (const Renkei__V1__GetReceiptRequest *)message;
    if (!tenant_ok(rpc, "GetReceipt", in->tenant))
        return;
    if (!receipt_id_ok(in->receipt_id)) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "receipt_id: required, \"rc_\" and 32 lower-case hex digits");
        return;
    }
    receipt_call_t *call = rk_arena_calloc(rk_rpc_request(rpc)->arena, 1, sizeof(*call));
    call->rpc = rpc;
    call->receipt_id = in->receipt_id;
    call->tenant = in->tenant;
    read_receipt(call);
}

/* --- the tenant, for ListExchangeLog and VerifyLogChain -------------------------------------- */

typedef void (*tenant_found_fn)(rk_rpc_t *rpc, const PGresult *tenant, void *arg);

typedef struct tenant_call {
    rk_rpc_t *rpc;
    const char *tenant;
    tenant_found_fn found;
    void *arg;
} tenant_call_t;

static void tenant_cb(const rk_store_result_t *res, void *arg)
{
    tenant_call_t *call = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(call->rpc, res);
        return;
    }
    if (PQntuples(res->results[0]) != 1) {
        rk_rpc_fail_detail(
            call->rpc, RK_RPC_NOT_FOUND,
            rk_arena_printf(rk_rpc_request(call->rpc)->arena, "tenant: no tenant %s", call->tenant),
            "ERROR_REASON_NOT_FOUND", NULL);
        return;
    }
    call->found(call->rpc, keep_result(call->rpc, res->results[0]), call->arg);
}

/* Finds the tenant (columns of sql_tenant), then calls found. */
static void find_tenant(rk_rpc_t *rpc, const char *tenant, tenant_found_fn found, void *arg)
{
    tenant_call_t *call = rk_arena_calloc(rk_rpc_request(rpc)->arena, 1, sizeof(*call));
    *call = (tenant_call_t){rpc, tenant, found, arg};
    const char *values[] = {tenant};
    if (rk_store_exec(rk_app(rk_rpc_request(rpc))->store, STMT_TENANT, 1, values, tenant_cb,
                      call) != RK_AGAIN)
        fail_store(rpc, NULL);
}

/* --- ListExchangeLog ----------------------------------------------------------------------- */

typedef struct log_call {
    const char *after; /* sequence, decimal */
    const char *kinds; /* text[] literal, or NULL */
    const char *start; /* RFC 3339, or NULL */
    const char *end;
    int page_size;
} log_call_t;

static Renkei__V1__LogEntry *log_entry(rk_arena_t *arena, const PGresult *r, int row,
                                       const PGresult *tenant)
{
    Renkei__V1__LogEntry *e = rk_arena_alloc(arena, sizeof(*e));
    *e = (Renkei__V1__LogEntry)RENKEI__V1__LOG_ENTRY__INIT;
    e->sequence = strtoll(PQgetvalue(r, row, 0), NULL, 10);
    e->canonical_json = rk_arena_strdup(arena, PQgetvalue(r, row, 1));
    e->entry_hash = rk_arena_strdup(arena, PQgetvalue(r, row, 2));
    e->tenant = rk_arena_alloc(arena, sizeof(*e->tenant));
    *e->tenant = (Renkei__V1__MunicipalityRef)RENKEI__V1__MUNICIPALITY_REF__INIT;
    e->tenant->code = rk_arena_strdup(arena, PQgetvalue(tenant, 0, 1));
    e->tenant->slug = rk_arena_strdup(arena, PQgetvalue(tenant, 0, 2));
    json_t *entry = parse_kept(arena, e->canonical_json);
    if (!entry)
        return e; /* canonical_json says what is wrong; VerifyLogChain names it */
    e->previous_hash = text_of(arena, entry, "previous_hash");
    e->kind = kind_value(json_string_value(json_object_get(entry, "kind")));
    e->home = municipality(arena, json_object_get(entry, "home"));
    e->provider = municipality(arena, json_object_get(entry, "provider"));
    e->agreement = agreement(arena, json_object_get(entry, "agreement"));
    e->receipt_id = text_of(arena, entry, "receipt_id");
    e->resource_type = text_of(arena, json_object_get(entry, "resource"), "type");
    e->resource_id = text_of(arena, json_object_get(entry, "resource"), "id");
    e->actor = text_of(arena, entry, "actor");
    e->purpose = text_of(arena, entry, "purpose");
    e->recorded_at = text_of(arena, entry, "recorded_at");
    return e;
}

typedef struct log_page {
    rk_rpc_t *rpc;
    const PGresult *tenant;
    int page_size;
} log_page_t;

static void log_page_cb(const rk_store_result_t *res, void *arg)
{
    log_page_t *page = arg;
    if (res->status == RK_EINVAL && strncmp(res->sqlstate, "22", 2) == 0) {
        rk_rpc_fail(page->rpc, RK_RPC_INVALID_ARGUMENT, "time: not a valid instant");
        return;
    }
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(page->rpc, res);
        return;
    }
    rk_arena_t *arena = rk_rpc_request(page->rpc)->arena;
    const PGresult *r = res->results[0];
    int n = PQntuples(r);
    int shown = n > page->page_size ? page->page_size : n;
    Renkei__V1__ListExchangeLogResponse out = RENKEI__V1__LIST_EXCHANGE_LOG_RESPONSE__INIT;
    Renkei__V1__PageResponse paging = RENKEI__V1__PAGE_RESPONSE__INIT;
    out.entries = rk_arena_calloc(arena, (size_t)(shown ? shown : 1), sizeof(*out.entries));
    for (int i = 0; i < shown; i++)
        out.entries[out.n_entries++] = log_entry(arena, r, i, page->tenant);
    paging.total_size = -1;
    if (n > shown)
        paging.next_page_token = rk_arena_strdup(arena, PQgetvalue(r, shown - 1, 0));
    out.page = &paging;
    rk_rpc_reply(page->rpc, &out.base);
}

static void log_tenant_found(rk_rpc_t *rpc, const PGresult *tenant, void *arg)
{
    log_call_t *call = arg;
    log_page_t *page = rk_arena_calloc(rk_rpc_request(rpc)->arena, 1, sizeof(*page));
    *page = (log_page_t){rpc, tenant, call->page_size};
    char limit[16];
    snprintf(limit, sizeof(limit), "%d", call->page_size + 1);
    const char *values[] = {
        PQgetvalue(tenant, 0, 0), call->after, call->kinds, call->start, call->end, limit};
    if (rk_store_exec(rk_app(rk_rpc_request(rpc))->store, STMT_LOG, 6, values, log_page_cb, page) !=
        RK_AGAIN)
        fail_store(rpc, NULL);
}

/*
 * 1 if text has the shape of an RFC 3339 instant ("2026-11-28T09:00:00Z", "…+09:00", fractions
 * allowed); PostgreSQL judges the calendar (a 30 February is refused by log_page_cb).
 */
static int instant_ok(const char *text)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t i = 0;
    for (; shape[i]; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)text[i]) : text[i] != shape[i])
            return 0;
    const char *rest = text + i;
    if (*rest == '.') {
        const char *digits = ++rest;
        while (isdigit((unsigned char)*rest) && rest - digits < 9)
            rest++;
        if (rest == digits)
            return 0;
    }
    if (strcmp(rest, "Z") == 0)
        return 1;
    return (rest[0] == '+' || rest[0] == '-') && isdigit((unsigned char)rest[1]) &&
           isdigit((unsigned char)rest[2]) && rest[3] == ':' && isdigit((unsigned char)rest[4]) &&
           isdigit((unsigned char)rest[5]) && rest[6] == '\0';
}

/* Sequence text of a page token or after_sequence; NULL when the token is not ours. */
static const char *start_after(rk_arena_t *arena, const Renkei__V1__ListExchangeLogRequest *in)
{
    long long after = in->after_sequence > 0 ? in->after_sequence : 0;
    const char *token = in->page && in->page->page_token ? in->page->page_token : "";
    if (*token) {
        char *end = NULL;
        long long from_token = strtoll(token, &end, 10);
        if (!isdigit((unsigned char)*token) || *end || strlen(token) > 19 || from_token < 0)
            return NULL;
        if (from_token > after)
            after = from_token;
    }
    return rk_arena_printf(arena, "%lld", after);
}

static void list_exchange_log(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__ListExchangeLogRequest *in =
        (const Renkei__V1__ListExchangeLogRequest *)message;
    if (!tenant_ok(rpc, "ListExchangeLog", in->tenant))
        return;
    rk_arena_t *arena = rk_rpc_request(rpc)->arena;
    log_call_t *call = rk_arena_calloc(arena, 1, sizeof(*call));
    if (!(call->after = start_after(arena, in))) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, "page.page_token: not a token of this method");
        return;
    }
    if (in->n_kinds > 0) {
        char *list = rk_arena_alloc(arena, in->n_kinds * 40 + 3);
        strcpy(list, "{");
        for (size_t i = 0; i < in->n_kinds; i++) {
            char text[40];
            if (kind_text(in->kinds[i], text, sizeof(text)) != 0) {
                rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                            rk_arena_printf(arena, "kinds[%zu]: not an ExchangeKind", i));
                return;
            }
            strcat(strcat(list, i ? "," : ""), text);
        }
        call->kinds = strcat(list, "}");
    }
    if (in->time) {
        if ((*in->time->start && !instant_ok(in->time->start)) ||
            (*in->time->end && !instant_ok(in->time->end))) {
            rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                        "time: start and end must be RFC 3339 instants (2026-11-28T09:00:00Z)");
            return;
        }
        call->start = *in->time->start ? in->time->start : NULL;
        call->end = *in->time->end ? in->time->end : NULL;
    }
    int size = in->page ? in->page->page_size : 0;
    call->page_size = size <= 0 ? PAGE_SIZE_DEFAULT : size > PAGE_SIZE_MAX ? PAGE_SIZE_MAX : size;
    find_tenant(rpc, in->tenant, log_tenant_found, call);
}

/* --- VerifyLogChain ------------------------------------------------------------------------ */

typedef struct verify_call {
    rk_rpc_t *rpc;
    long long from, to; /* to: 0 = the head */
    const PGresult *tenant;
    long long head;
    const PGresult *checkpoints;
    int checkpoint; /* the next checkpoint row to meet */
    int checkpoints_checked;
    char last_hash[RK_EXCHANGE_HASH_HEX + 1];
    rk_exchange_chain_check_t check;
} verify_call_t;

static void verify_answer(verify_call_t *v)
{
    rk_arena_t *arena = rk_rpc_request(v->rpc)->arena;
    const PGresult *t = v->tenant;
    if (!v->check.first_broken && v->to == v->head && v->check.next_sequence <= v->head)
        rk_exchange_chain_check_fail(&v->check, v->check.next_sequence,
                                     "the entry is missing (the chain's head is further on)");
    if (!v->check.first_broken && v->to == v->head && v->head > 0 &&
        strcmp(v->last_hash, PQgetvalue(t, 0, 4)) != 0)
        rk_exchange_chain_check_fail(&v->check, v->head,
                                     "the chain's recorded head hash differs from this entry's");
    Renkei__V1__VerifyLogChainResponse out = RENKEI__V1__VERIFY_LOG_CHAIN_RESPONSE__INIT;
    out.intact = v->check.first_broken == 0;
    out.entries_checked = v->check.checked;
    out.first_broken_sequence = v->check.first_broken;
    out.problem = rk_arena_strdup(arena, v->check.problem);
    out.head_sequence = v->head;
    out.head_hash = rk_arena_strdup(arena, PQgetvalue(t, 0, 4));
    out.checkpoints_checked = v->checkpoints_checked;
    out.anchoring_overdue = strcmp(PQgetvalue(t, 0, 5), "t") == 0;
    int n = PQntuples(v->checkpoints);
    if (n > 0) {
        Renkei__V1__Checkpoint *c = rk_arena_alloc(arena, sizeof(*c));
        *c = (Renkei__V1__Checkpoint)RENKEI__V1__CHECKPOINT__INIT;
        c->sequence = strtoll(PQgetvalue(v->checkpoints, n - 1, 0), NULL, 10);
        c->entry_hash = PQgetvalue(v->checkpoints, n - 1, 1);
        long len = 0;
        unsigned char *token = OPENSSL_hexstr2buf(PQgetvalue(v->checkpoints, n - 1, 2), &len);
        if (token) {
            c->tsa_token.data = rk_arena_alloc(arena, (size_t)len);
            memcpy(c->tsa_token.data, token, (size_t)len);
            c->tsa_token.len = (size_t)len;
            OPENSSL_free(token);
        }
        c->tsa_name = PQgetvalue(v->checkpoints, n - 1, 3);
        c->anchored_at = PQgetvalue(v->checkpoints, n - 1, 4);
        out.last_checkpoint = c;
    }
    rk_rpc_reply(v->rpc, &out.base);
}

/* Checks the checkpoints of entry sequence, whose recomputed hash is hash. */
static void verify_checkpoints(verify_call_t *v, long long sequence, const char *hash)
{
    X509_STORE *store = exchange_of(v->rpc)->tsa_store;
    int n = PQntuples(v->checkpoints);
    while (v->checkpoint < n &&
           strtoll(PQgetvalue(v->checkpoints, v->checkpoint, 0), NULL, 10) < sequence)
        v->checkpoint++;
    for (; v->checkpoint < n; v->checkpoint++) {
        const PGresult *c = v->checkpoints;
        if (strtoll(PQgetvalue(c, v->checkpoint, 0), NULL, 10) != sequence)
            return;
        if (strcmp(PQgetvalue(c, v->checkpoint, 1), hash) != 0) {
            rk_exchange_chain_check_fail(&v->check, sequence,
                                         "checkpoint: the anchored hash differs from the entry's");
            return;
        }
        if (!store)
            continue; /* no exchange.tsa_ca_file: tokens cannot be checked here */
        long token_len = 0, hash_len = 0;
        unsigned char *token = OPENSSL_hexstr2buf(PQgetvalue(c, v->checkpoint, 2), &token_len);
        unsigned char *digest = OPENSSL_hexstr2buf(hash, &hash_len);
        rk_exchange_tsa_stamp_t stamp;
        const char *why = "the token is not hex";
        int rc =
            token && digest && hash_len == 32
                ? rk_exchange_tsa_check_token(store, token, (size_t)token_len, digest, &stamp, &why)
                : RK_EINVAL;
        OPENSSL_free(token);
        OPENSSL_free(digest);
        if (rc != RK_OK) {
            char problem[200];
            snprintf(problem, sizeof(problem), "checkpoint: %s", why);
            rk_exchange_chain_check_fail(&v->check, sequence, problem);
            return;
        }
        v->checkpoints_checked++;
    }
}

static void verify_batch(verify_call_t *v);

static void entries_cb(const rk_store_result_t *res, void *arg)
{
    verify_call_t *v = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(v->rpc, res);
        return;
    }
    const PGresult *r = res->results[0];
    int n = PQntuples(r);
    for (int i = 0; i < n && !v->check.first_broken; i++) {
        long long sequence = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        const char *text = PQgetvalue(r, i, 3);
        if (rk_exchange_chain_check_entry(&v->check, sequence, PQgetvalue(r, i, 1),
                                          PQgetvalue(r, i, 2), text, (size_t)PQgetlength(r, i, 3),
                                          v->last_hash) == 0)
            verify_checkpoints(v, sequence, v->last_hash);
    }
    if (n == VERIFY_BATCH && !v->check.first_broken && v->check.next_sequence <= v->to)
        verify_batch(v);
    else
        verify_answer(v);
}

static void verify_batch(verify_call_t *v)
{
    char from[24], to[24];
    snprintf(from, sizeof(from), "%" PRId64, v->check.next_sequence);
    snprintf(to, sizeof(to), "%lld", v->to);
    const char *values[] = {PQgetvalue(v->tenant, 0, 0), from, to};
    if (rk_store_exec(rk_app(rk_rpc_request(v->rpc))->store, STMT_ENTRIES, 3, values, entries_cb,
                      v) != RK_AGAIN)
        fail_store(v->rpc, NULL);
}

static void checkpoints_cb(const rk_store_result_t *res, void *arg)
{
    verify_call_t *v = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(v->rpc, res);
        return;
    }
    v->checkpoints = keep_result(v->rpc, res->results[0]);
    verify_batch(v);
}

static void verify_tenant_found(rk_rpc_t *rpc, const PGresult *tenant, void *arg)
{
    verify_call_t *v = arg;
    v->tenant = tenant;
    v->head = strtoll(PQgetvalue(tenant, 0, 3), NULL, 10);
    if (v->to == 0)
        v->to = v->head;
    if (v->to > v->head || v->from > v->to) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    rk_arena_printf(rk_rpc_request(rpc)->arena,
                                    "to_sequence: must lie between from_sequence and the head "
                                    "(%lld)",
                                    v->head));
        return;
    }
    rk_exchange_chain_check_start(&v->check, PQgetvalue(tenant, 0, 1), v->from);
    const char *values[] = {PQgetvalue(tenant, 0, 0)};
    if (rk_store_exec(rk_app(rk_rpc_request(rpc))->store, STMT_CHECKPOINTS, 1, values,
                      checkpoints_cb, v) != RK_AGAIN)
        fail_store(rpc, NULL);
}

static void verify_log_chain(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__VerifyLogChainRequest *in =
        (const Renkei__V1__VerifyLogChainRequest *)message;
    if (!tenant_ok(rpc, "VerifyLogChain", in->tenant))
        return;
    if (in->from_sequence < 0 || in->to_sequence < 0) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "from_sequence, to_sequence: 0 (the ends of the chain) or a sequence");
        return;
    }
    verify_call_t *v = rk_arena_calloc(rk_rpc_request(rpc)->arena, 1, sizeof(*v));
    v->rpc = rpc;
    v->from = in->from_sequence > 0 ? in->from_sequence : 1;
    v->to = in->to_sequence;
    memcpy(v->last_hash, RK_EXCHANGE_GENESIS_HASH, sizeof(v->last_hash));
    find_tenant(rpc, in->tenant, verify_tenant_found, v);
}

/* --- registration -------------------------------------------------------------------------- */

static const rk_rpc_method_t methods[] = {
    {"/renkei.v1.ExchangeService/GetReceipt", &renkei__v1__get_receipt_request__descriptor,
     &renkei__v1__get_receipt_response__descriptor, get_receipt, 0},
    {"/renkei.v1.ExchangeService/ListExchangeLog",
     &renkei__v1__list_exchange_log_request__descriptor,
     &renkei__v1__list_exchange_log_response__descriptor, list_exchange_log, 0},
    {"/renkei.v1.ExchangeService/VerifyLogChain", &renkei__v1__verify_log_chain_request__descriptor,
     &renkei__v1__verify_log_chain_response__descriptor, verify_log_chain, 0},
};

void rk_exchange_service_register(rk_exchange_t *exchange, rk_router_t *router)
{
    rk_store_t *store = exchange->app->store;
    rk_store_prepare(store, STMT_RECEIPT, sql_receipt);
    rk_store_prepare(store, STMT_TENANT, sql_tenant);
    rk_store_prepare(store, STMT_LOG, sql_log);
    rk_store_prepare(store, STMT_CHECKPOINTS, sql_checkpoints);
    rk_store_prepare(store, STMT_ENTRIES, sql_entries);
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        rk_rpc_register(router, &methods[i]);
}
