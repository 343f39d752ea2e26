/*
 * library.c — the library module (see library.h): registration, shutdown, and what its units
 * share — typed LibraryError answers in ja and en, the resident's token, idempotency keys.
 */
#include "library/library.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "exchange/exchange.h"
#include "federation/adapter_rules.h"
#include "identity/secret_text.h"
#include "library/catalogue.h"
#include "library/fanout.h"
#include "library/hold.h"
#include "library/hold_sweep.h"
#include "library/loan.h"
#include "library/patron.h"
#include "renkei/v1/common.pb-c.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MS 1000000ull
#define RETRY_AFTER_S 5

typedef struct reason_info {
    const char *reason;
    rk_rpc_code_t code;
    const char *ja, *en;
} reason_info_t;

static const reason_info_t reasons[] = {
    {"LIBRARY_ERROR_NOT_ELIGIBLE", RK_RPC_PERMISSION_DENIED,
     "この図書館では予約・貸出を利用できません。", "You may not hold or borrow at this library."},
    {"LIBRARY_ERROR_PICKUP_BRANCH_NOT_ALLOWED", RK_RPC_FAILED_PRECONDITION,
     "この館では受け取れません。", "You cannot collect this hold at that branch."},
    {"LIBRARY_ERROR_PATRON_NOT_LINKED", RK_RPC_FAILED_PRECONDITION,
     "この図書館の利用カードを登録してください。",
     "Link your library card for this library first."},
    {"LIBRARY_ERROR_PATRON_REJECTED", RK_RPC_PERMISSION_DENIED,
     "利用者番号またはパスワードが正しくないか、カードの有効期限が切れています。",
     "The card number or password is wrong, or the card has expired or is suspended."},
    {"LIBRARY_ERROR_LOAN_LIMIT_REACHED", RK_RPC_RESOURCE_EXHAUSTED,
     "貸出できる点数の上限に達しています。", "You have reached your loan limit."},
    {"LIBRARY_ERROR_HOLD_LIMIT_REACHED", RK_RPC_RESOURCE_EXHAUSTED,
     "予約できる件数の上限に達しています。", "You have reached your hold limit."},
    {"LIBRARY_ERROR_ALREADY_HELD", RK_RPC_ALREADY_EXISTS, "この資料はすでに予約しています。",
     "You already hold this work at this library."},
    {"LIBRARY_ERROR_ALREADY_ON_LOAN", RK_RPC_ALREADY_EXISTS, "この資料はすでに借りています。",
     "You already borrow this work."},
    {"LIBRARY_ERROR_NOT_HOLDABLE", RK_RPC_FAILED_PRECONDITION, "この資料は予約できません。",
     "This item cannot be held (reference only, not held there, or closed)."},
    {"LIBRARY_ERROR_RENEWAL_REFUSED", RK_RPC_FAILED_PRECONDITION, "貸出を延長できません。",
     "This loan cannot be renewed."},
    {"LIBRARY_ERROR_NO_LICENCE_AVAILABLE", RK_RPC_RESOURCE_EXHAUSTED,
     "貸出できるライセンスがありません。予約してください。",
     "Every licence of this e-book is lent; place a hold instead."},
    {"LIBRARY_ERROR_HOLD_NOT_CANCELLABLE", RK_RPC_FAILED_PRECONDITION, "この予約は取り消せません。",
     "This hold can no longer be cancelled."},
    {"LIBRARY_ERROR_INVALID_ISBN", RK_RPC_INVALID_ARGUMENT, "ISBNが正しくありません。",
     "This is not a valid ISBN-10 or ISBN-13."},
    {"LIBRARY_ERROR_UNKNOWN_BRANCH", RK_RPC_INVALID_ARGUMENT, "その館はありません。",
     "There is no such branch."},
    {"LIBRARY_ERROR_OWNER_UNAVAILABLE", RK_RPC_UNAVAILABLE,
     "図書館のシステムに接続できません。しばらくしてからお試しください。",
     "The library's system cannot be reached; please try again later."},
    {"LIBRARY_ERROR_AGE_RESTRICTED", RK_RPC_PERMISSION_DENIED,
     "この資料は年齢制限により利用できません。", "This item is not lent to your age group."},
    {"ERROR_REASON_LOGIN_REQUIRED", RK_RPC_UNAUTHENTICATED, "ログインが必要です。",
     "Please log in."},
    {"ERROR_REASON_IDEMPOTENCY_KEY_REUSED", RK_RPC_ALREADY_EXISTS,
     "この冪等キーは別の依頼に使われています。",
     "This idempotency key was used for another request."},
    {"ERROR_REASON_NOT_FOUND", RK_RPC_NOT_FOUND, "見つかりません。", "Not found."},
};

static const reason_info_t *reason_find(const char *reason)
{
    for (size_t i = 0; reason && i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (strcmp(reasons[i].reason, reason) == 0)
            return &reasons[i];
    return NULL;
}

int rk_library_reason_text(const char *reason, const char **ja, const char **en)
{
    const reason_info_t *info = reason_find(reason);
    if (!info || strncmp(reason, "LIBRARY_ERROR_", 14) != 0)
        return RK_EINVAL;
    *ja = info->ja;
    *en = info->en;
    return RK_OK;
}

void rk_library_fail(rk_rpc_t *rpc, const char *reason, const char *message, const char *ja,
                     const char *en, const char *hold_id)
{
    const reason_info_t *info = reason_find(reason);
    if (!info) {
        rk_rpc_fail(rpc, RK_RPC_INTERNAL, message ? message : "unexpected refusal");
        return;
    }
    Renkei__V1__LocalizedText text = RENKEI__V1__LOCALIZED_TEXT__INIT;
    text.ja = (char *)(ja ? ja : info->ja);
    text.en = (char *)(en ? en : info->en);
    Renkei__V1__ErrorDetail detail = RENKEI__V1__ERROR_DETAIL__INIT;
    detail.reason = (char *)info->reason;
    detail.localized_message = &text;
    Renkei__V1__ErrorMetadata meta = RENKEI__V1__ERROR_METADATA__INIT;
    Renkei__V1__ErrorMetadata *metas[] = {&meta};
    if (hold_id && *hold_id) {
        meta.key = "hold_id";
        meta.value = (char *)hold_id;
        detail.metadata = metas;
        detail.n_metadata = 1;
    }
    if (info->code == RK_RPC_UNAVAILABLE)
        detail.retry_after_seconds = RETRY_AFTER_S;
    rk_rpc_fail_detail(rpc, info->code, message ? message : text.en, info->reason, &detail.base);
}

const char *rk_library_trailer_reason(const rk_rpc_result_t *result)
{
    for (size_t i = 0; i < result->n_trailers; i++)
        if (strcmp(result->trailers[i].name, "renkei-error-reason") == 0)
            return result->trailers[i].value;
    return "";
}

const char *rk_library_owner_refusal(const rk_rpc_result_t *result)
{
    const char *reason = rk_library_trailer_reason(result);
    if (!*reason || strncmp(reason, "LIBRARY_ERROR_", 14) != 0 ||
        strcmp(reason, "LIBRARY_ERROR_OWNER_UNAVAILABLE") == 0 || !reason_find(reason))
        return NULL;
    return reason_find(reason)->reason;
}

int rk_library_resident(rk_rpc_t *rpc, rk_identity_resident_t *resident)
{
    rk_request_t *req = rk_rpc_request(rpc);
    const char *auth = rk_request_header(req, "authorization");
    const char *token = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
    if (token && rk_identity_resident_verify(rk_app(req), token, resident) == 0)
        return 0;
    rk_library_fail(rpc, "ERROR_REASON_LOGIN_REQUIRED",
                    token ? "authorization: the access token is not valid (expired or not issued "
                            "by this hub); log in again"
                          : "authorization: \"Bearer <a resident's access token>\" is required",
                    NULL, NULL, NULL);
    return -1;
}

Renkei__V1__AgeBand rk_library_age_band(const char *name)
{
    return strcmp(name, "elementary") == 0        ? RENKEI__V1__AGE_BAND__AGE_BAND_ELEMENTARY
           : strcmp(name, "lower_secondary") == 0 ? RENKEI__V1__AGE_BAND__AGE_BAND_LOWER_SECONDARY
                                                  : RENKEI__V1__AGE_BAND__AGE_BAND_UNSPECIFIED;
}

char *rk_library_request_hash(rk_arena_t *arena, const ProtobufCMessage *message)
{
    size_t len = protobuf_c_message_get_packed_size(message);
    char *bytes = rk_arena_alloc(arena, len ? len : 1);
    protobuf_c_message_pack(message, (uint8_t *)bytes);
    char *hex = rk_arena_alloc(arena, 65);
    rk_identity_sha256_hex(bytes, len, hex);
    return hex;
}

int rk_library_page_read(rk_rpc_t *rpc, const Renkei__V1__PageRequest *page,
                         const ProtobufCMessage *filters, char prefix, size_t default_size,
                         size_t max_size, rk_library_page_t *out)
{
    rk_arena_t *arena = rk_rpc_request(rpc)->arena;
    int size = page ? page->page_size : 0;
    if (size < 0) {
        rk_rpc_fail(
            rpc, RK_RPC_INVALID_ARGUMENT,
            rk_arena_printf(arena, "page.page_size: must be 0 (%zu) or more", default_size));
        return -1;
    }
    out->size = size == 0 ? default_size : (size_t)size > max_size ? max_size : (size_t)size;
    out->offset = 0;
    out->prefix = prefix;
    out->filters = rk_arena_strndup(arena, rk_library_request_hash(arena, filters), 16);
    const char *token = page ? page->page_token : "";
    if (!*token)
        return 0;
    /* "<prefix>1." 16 hex "." offset */
    char *end;
    size_t len = strlen(token);
    if (len <= 20 || len > 28 || token[0] != prefix || strncmp(token + 1, "1.", 2) != 0 ||
        strncmp(token + 3, out->filters, 16) != 0 || token[19] != '.' ||
        strspn(token + 20, "0123456789") != len - 20) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "page.page_token: not a next_page_token of this listing (same request)");
        return -1;
    }
    out->offset = strtoul(token + 20, &end, 10);
    return 0;
}

char *rk_library_page_token(rk_arena_t *arena, const rk_library_page_t *page, size_t offset)
{
    return rk_arena_printf(arena, "%c1.%s.%zu", page->prefix, page->filters, offset);
}

void rk_library_fail_store(rk_rpc_t *rpc, const char *what, const rk_store_result_t *res)
{
    rk_request_t *req = rk_rpc_request(rpc);
    if (res && rk_exchange_fail_if_refused(rpc, res))
        return;
    const char *error = res ? res->error : NULL;
    if (!res || res->status != RK_EINVAL) {
        rk_rpc_fail(rpc, RK_RPC_UNAVAILABLE, "the database is not reachable now; retry later");
        return;
    }
    rk_log_error("library query failed", "{s:s, s:s, s:s}", "request_id", req->request_id, "what",
                 what, "error", error ? error : "");
    rk_rpc_fail(
        rpc, RK_RPC_INTERNAL,
        rk_arena_printf(req->arena, "request %s failed; the hub's log has why", req->request_id));
}

int rk_library_new_id(const char *prefix, char out[40])
{
    unsigned char random[16];
    if (RAND_bytes(random, sizeof(random)) != 1)
        return RK_EIO;
    char *p = out + snprintf(out, 8, "%s", prefix);
    for (size_t i = 0; i < sizeof(random); i++)
        p += snprintf(p, 3, "%02x", random[i]);
    return RK_OK;
}

int rk_library_name_ok(const char *name)
{
    size_t len = strlen(name);
    return len && len <= 31 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

const rk_federation_adapter_t *rk_library_adapter(const rk_library_t *library, int64_t id)
{
    const rk_federation_t *fed = library->app->federation;
    for (size_t i = 0, n = fed ? rk_federation_count(fed) : 0; i < n; i++) {
        const rk_federation_adapter_t *a = rk_federation_adapter_at(fed, i);
        if (a->id == id)
            return a;
    }
    return NULL;
}

const rk_federation_adapter_t *rk_library_adapter_of(const rk_library_t *library, const char *code,
                                                     int capability)
{
    const rk_federation_t *fed = library->app->federation;
    for (size_t i = 0, n = fed ? rk_federation_count(fed) : 0; i < n; i++) {
        const rk_federation_adapter_t *a = rk_federation_adapter_at(fed, i);
        if (strcmp(a->tenant_code, code) == 0 && (a->capabilities & (1u << capability)))
            return a;
    }
    return NULL;
}

void rk_library_register(rk_app_t *app, rk_router_t *router)
{
    rk_library_t *lib = rk_xcalloc(1, sizeof(*lib));
    lib->app = app;
    lib->timeout_ns = (uint64_t)app->cfg->facility_availability_timeout_ms * MS;
    lib->margin_ns = (uint64_t)app->cfg->facility_availability_margin_ms * MS;
    app->library = lib;
    rk_library_catalogue_register(lib, router);
    rk_library_patron_register(lib, router);
    rk_library_hold_register(lib, router);
    rk_library_loan_register(lib, router);
    rk_library_hold_sweep_start(lib);
}

void rk_library_release(rk_library_t *lib)
{
    if (--lib->busy == 0 && lib->closing)
        rk_library_free(lib);
}

void rk_library_free(rk_library_t *lib)
{
    if (!lib)
        return;
    lib->closing = 1;
    rk_library_hold_sweep_stop(lib);
    if (lib->busy)
        return; /* the last fan-out or sweep frees it */
    rk_library_fanout_owners_free(lib);
    free(lib);
}
