/*
 * catalogue.c — SearchCatalogue, GetWork and GetHoldings (see catalogue.h).
 *
 *   check the request → the caller's home (optional token) → at the same time: the catalogue
 *   adapters of the municipalities named (or all) asked at once (fanout.h, from the hub's
 *   registry), and one query for the municipalities with the caller's terms → both done: the
 *   records merged into works (merge.h) in the query's order of cities → one answer with a
 *   status per adapter. The query's time is hidden behind the adapters' (it once came first,
 *   ~1 ms of every search's own time).
 */
#include "library/catalogue.h"

#include "core/error.h"
#include "core/mem.h"
#include "facility/terms.h"
#include "library/fanout.h"
#include "library/isbn.h"
#include "renkei/v1/adapter.pb-c.h"
#include "renkei/v1/library.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_TENANTS "library_tenants"
#define TEXT_MAX 200
#define NAMES_MAX 64
#define PAGE_DEFAULT 20
#define PAGE_MAX 50
#define OWNER_PAGE_MAX 100
#define CATALOGUE_CAPABILITY RENKEI__V1__ADAPTER_CAPABILITY__ADAPTER_CAPABILITY_LIBRARY_CATALOGUE
#define STATUS(name) RENKEI__V1__ANSWER_STATUS__ANSWER_STATUS_##name
#define HS(x) RENKEI__V1__HOLDING_STATUS__HOLDING_STATUS_##x

/* $1 the caller's home code (NULL: anonymous), $2 slugs or codes (empty: all). The caller's
 * home first, then the municipalities they may hold at, then the others. */
static const char sql_tenants[] =
    "SELECT t.code, t.slug, t.name_ja, t.name_en, t.name_kana, rt.eligible,"
    " coalesce(rt.agreement_id::text, ''), coalesce(rt.agreement_version::text, ''),"
    " coalesce(h.name_ja, ''), coalesce(h.name_en, '')"
    " FROM rk_tenant t"
    " JOIN rk_resident_terms((SELECT id FROM rk_tenant WHERE code = $1), 'library.hold') rt"
    "  ON rt.tenant_id = t.id"
    " LEFT JOIN rk_tenant h ON h.code = $1"
    " WHERE cardinality($2::text[]) = 0 OR t.slug = ANY ($2::text[]) OR t.code = ANY ($2::text[])"
    " ORDER BY t.code = $1 DESC NULLS LAST, rt.eligible DESC, t.code";

enum {
    T_CODE,
    T_SLUG,
    T_NAME_JA,
    T_NAME_EN,
    T_KANA,
    T_ELIGIBLE,
    T_AGREEMENT,
    T_VERSION,
    T_HOME_JA,
    T_HOME_EN
};

typedef enum { OP_SEARCH, OP_GET_WORK, OP_GET_HOLDINGS } op_kind_t;

typedef struct city_info {
    rk_library_city_t city;
    int named;                  /* one of the municipalities the request named */
    size_t first_call, n_calls; /* its calls in op->calls, once both are done */
} city_info_t;

typedef struct op {
    rk_library_t *lib;
    rk_rpc_t *rpc;
    rk_arena_t *arena;
    op_kind_t kind;
    const Renkei__V1__SearchCatalogueRequest *search;
    char isbn[14];
    rk_library_work_ref_t ref;
    const char *work_id;
    char *const *names;
    size_t n_names;
    const char *home;
    rk_library_page_t page;
    city_info_t *cities; /* the query's rows */
    size_t n_cities;
    rk_library_call_t *calls;
    const char **call_codes; /* each call's municipality code */
    size_t *order;           /* the calls' indexes city by city (the cities' first_call) */
    size_t n_calls;
    Renkei__V1__MunicipalityStatus **missing; /* named municipalities without an adapter */
    size_t n_missing;
    int rows_read, fanned_out, fanout_refused;
} op_t;

/* --- the work's records at an owner -------------------------------------------------------- */

rk_library_work_query_t rk_library_work_query(rk_arena_t *arena, const rk_library_work_ref_t *ref)
{
    rk_library_work_query_t q;
    if (ref->kind == 't') {
        Renkei__V1__AdapterSearchCatalogueRequest *in = rk_arena_alloc(arena, sizeof(*in));
        renkei__v1__adapter_search_catalogue_request__init(in);
        in->title = ref->title_word;
        in->author = ref->author_word;
        in->format = ref->format;
        in->include_holdings = 1;
        Renkei__V1__PageRequest *page = rk_arena_alloc(arena, sizeof(*page));
        renkei__v1__page_request__init(page);
        page->page_size = OWNER_PAGE_MAX;
        in->page = page;
        q.method = "/renkei.v1.AdapterService/SearchCatalogue";
        q.response_type = &renkei__v1__adapter_search_catalogue_response__descriptor;
        q.request = &in->base;
        return q;
    }
    Renkei__V1__AdapterGetHoldingsRequest *in = rk_arena_alloc(arena, sizeof(*in));
    renkei__v1__adapter_get_holdings_request__init(in);
    if (ref->kind == 'i') {
        in->isbn = rk_arena_strdup(arena, ref->isbn13);
    } else {
        in->record_ids = rk_arena_alloc(arena, sizeof(*in->record_ids));
        in->record_ids[0] = ref->record_id;
        in->n_record_ids = 1;
    }
    q.method = "/renkei.v1.AdapterService/GetHoldings";
    q.response_type = &renkei__v1__adapter_get_holdings_response__descriptor;
    q.request = &in->base;
    return q;
}

size_t rk_library_work_records(rk_arena_t *arena, const ProtobufCMessage *response,
                               const char *code, const char *work_id,
                               Renkei__V1__CatalogueRecord ***out)
{
    Renkei__V1__CatalogueRecord **records;
    size_t n;
    if (response->descriptor == &renkei__v1__adapter_search_catalogue_response__descriptor) {
        const Renkei__V1__AdapterSearchCatalogueResponse *r = (const void *)response;
        records = r->records;
        n = r->n_records;
    } else {
        const Renkei__V1__AdapterGetHoldingsResponse *r = (const void *)response;
        records = r->records;
        n = r->n_records;
    }
    *out = rk_arena_calloc(arena, n ? n : 1, sizeof(**out));
    size_t k = 0;
    char id[RK_LIBRARY_WORK_ID_MAX];
    for (size_t i = 0; i < n; i++) {
        rk_library_work_id(code, records[i], id);
        if (strcmp(id, work_id) == 0)
            (*out)[k++] = records[i];
    }
    return k;
}

/* --- answering ---------------------------------------------------------------------------- */

static Renkei__V1__LocalizedText *text_new(rk_arena_t *arena, const char *ja, const char *en,
                                           const char *kana)
{
    Renkei__V1__LocalizedText *t = rk_arena_alloc(arena, sizeof(*t));
    renkei__v1__localized_text__init(t);
    t->ja = (char *)ja;
    t->en = (char *)en;
    t->kana = (char *)kana;
    return t;
}

static Renkei__V1__MunicipalityStatus *status_new(rk_arena_t *arena,
                                                  Renkei__V1__MunicipalityRef *ref,
                                                  const rk_library_call_t *c, int count)
{
    Renkei__V1__MunicipalityStatus *s = rk_arena_alloc(arena, sizeof(*s));
    renkei__v1__municipality_status__init(s);
    s->municipality = ref;
    s->status = c ? c->status : STATUS(UNAVAILABLE);
    s->message = (char *)(c ? c->message : "no library adapter is active for this municipality");
    s->latency_ms = c ? c->latency_ms : 0;
    s->result_count = count;
    return s;
}

/* The statuses: one per adapter asked, then the named municipalities without one. */
static Renkei__V1__MunicipalityStatus **statuses_of(op_t *op, size_t *n_out)
{
    Renkei__V1__MunicipalityStatus **out =
        rk_arena_calloc(op->arena, op->n_calls + op->n_missing + 1, sizeof(*out));
    size_t n = 0;
    for (size_t c = 0; c < op->n_cities; c++) {
        const city_info_t *ci = &op->cities[c];
        for (size_t k = 0; k < ci->n_calls; k++) {
            const rk_library_call_t *call = &op->calls[op->order[ci->first_call + k]];
            out[n++] = status_new(op->arena, ci->city.library, call,
                                  call->status == STATUS(OK) ? (int)ci->city.n_records : 0);
        }
    }
    for (size_t i = 0; i < op->n_missing; i++)
        out[n++] = op->missing[i];
    *n_out = n;
    return out;
}

/* The records each city's OK answers gave (only the work's records for a work lookup). */
static void collect(op_t *op)
{
    for (size_t c = 0; c < op->n_cities; c++) {
        city_info_t *ci = &op->cities[c];
        size_t total = 0;
        Renkei__V1__CatalogueRecord ***parts =
            rk_arena_calloc(op->arena, ci->n_calls ? ci->n_calls : 1, sizeof(*parts));
        size_t *counts = rk_arena_calloc(op->arena, ci->n_calls ? ci->n_calls : 1, sizeof(*counts));
        for (size_t k = 0; k < ci->n_calls; k++) {
            const rk_library_call_t *call = &op->calls[op->order[ci->first_call + k]];
            if (call->status != STATUS(OK))
                continue;
            if (op->kind == OP_SEARCH) {
                const Renkei__V1__AdapterSearchCatalogueResponse *r = (const void *)call->response;
                parts[k] = r->records;
                counts[k] = r->n_records;
            } else {
                counts[k] = rk_library_work_records(op->arena, call->response,
                                                    ci->city.library->code, op->work_id, &parts[k]);
            }
            total += counts[k];
        }
        ci->city.records = rk_arena_calloc(op->arena, total ? total : 1, sizeof(*ci->city.records));
        for (size_t k = 0; k < ci->n_calls; k++)
            for (size_t i = 0; i < counts[k]; i++)
                ci->city.records[ci->city.n_records++] = parts[k][i];
    }
}

static int has_available(const Renkei__V1__WorkResult *w)
{
    for (size_t i = 0; i < w->n_availability; i++)
        if (w->availability[i]->available_count > 0)
            return 1;
    return 0;
}

static int any_answered(const op_t *op)
{
    for (size_t i = 0; i < op->n_calls; i++)
        if (op->calls[i].status == STATUS(OK))
            return 1;
    return 0;
}

/* Each city's calls, in the query's order of cities; a named municipality without any is
 * UNAVAILABLE, an unnamed one left out. */
static void pair_calls(op_t *op)
{
    op->order = rk_arena_calloc(op->arena, op->n_calls + 1, sizeof(*op->order));
    size_t n_order = 0, kept = 0;
    for (size_t c = 0; c < op->n_cities; c++) {
        city_info_t *ci = &op->cities[c];
        ci->first_call = n_order;
        for (size_t i = 0; i < op->n_calls; i++)
            if (strcmp(op->call_codes[i], ci->city.library->code) == 0)
                op->order[n_order++] = i;
        ci->n_calls = n_order - ci->first_call;
        if (ci->n_calls)
            op->cities[kept++] = *ci;
        else if (ci->named)
            op->missing[op->n_missing++] = status_new(op->arena, ci->city.library, NULL, 0);
    }
    op->n_cities = kept;
}

/* Both the adapters and the query are done: the answer. */
static void answer(op_t *op)
{
    if (op->fanout_refused) {
        rk_rpc_fail(op->rpc, RK_RPC_UNAVAILABLE, "the hub is starting or stopping; retry");
        return;
    }
    pair_calls(op);
    collect(op);
    rk_library_city_t *cities = rk_arena_calloc(op->arena, op->n_cities + 1, sizeof(*cities));
    for (size_t c = 0; c < op->n_cities; c++)
        cities[c] = op->cities[c].city;
    Renkei__V1__WorkResult **works;
    size_t n_works;
    /* GetHoldings answers every holding; a search (or GetWork, which shows none) the first
     * ones, each library and branch named once */
    rk_library_merge(op->arena, cities, op->n_cities,
                     op->kind == OP_GET_HOLDINGS ? RK_LIBRARY_FULL_SHAPE : RK_LIBRARY_SEARCH_SHAPE,
                     &works, &n_works);
    size_t n_statuses;
    Renkei__V1__MunicipalityStatus **statuses = statuses_of(op, &n_statuses);
    if (op->kind != OP_SEARCH) {
        if (!n_works) {
            if (any_answered(op) || !op->n_calls)
                rk_library_fail(op->rpc, "ERROR_REASON_NOT_FOUND",
                                "work_id: no library asked holds this work", NULL, NULL, NULL);
            else
                rk_library_fail(op->rpc, "LIBRARY_ERROR_OWNER_UNAVAILABLE",
                                "no library answered in time; retry", NULL, NULL, NULL);
            return;
        }
        if (op->kind == OP_GET_WORK) {
            Renkei__V1__GetWorkResponse out = RENKEI__V1__GET_WORK_RESPONSE__INIT;
            out.work = works[0]->work;
            rk_rpc_reply(op->rpc, &out.base);
            return;
        }
        Renkei__V1__GetHoldingsResponse out = RENKEI__V1__GET_HOLDINGS_RESPONSE__INIT;
        out.work = works[0]->work;
        out.availability = works[0]->availability;
        out.n_availability = works[0]->n_availability;
        out.statuses = statuses;
        out.n_statuses = n_statuses;
        rk_rpc_reply(op->rpc, &out.base);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_works; i++)
        if (!op->search->available_only || has_available(works[i]))
            works[k++] = works[i];
    n_works = k;
    Renkei__V1__SearchCatalogueResponse out = RENKEI__V1__SEARCH_CATALOGUE_RESPONSE__INIT;
    size_t from = op->page.offset < n_works ? op->page.offset : n_works;
    size_t to = from + op->page.size < n_works ? from + op->page.size : n_works;
    out.results = works + from;
    out.n_results = to - from;
    rk_library_names_t names;
    rk_library_names_once(op->arena, out.results, out.n_results, &names);
    out.branches = names.branches;
    out.n_branches = names.n_branches;
    out.shelf_locations = names.shelf_locations;
    out.n_shelf_locations = names.n_shelf_locations;
    Renkei__V1__PageResponse page = RENKEI__V1__PAGE_RESPONSE__INIT;
    page.total_size = -1;
    page.next_page_token = to < n_works ? rk_library_page_token(op->arena, &op->page, to) : "";
    out.page = &page;
    out.statuses = statuses;
    out.n_statuses = n_statuses;
    rk_rpc_reply(op->rpc, &out.base);
}

/* --- asking the libraries ----------------------------------------------------------------- */

static ProtobufCMessage *search_request(op_t *op)
{
    const Renkei__V1__SearchCatalogueRequest *in = op->search;
    Renkei__V1__AdapterSearchCatalogueRequest *r = rk_arena_alloc(op->arena, sizeof(*r));
    renkei__v1__adapter_search_catalogue_request__init(r);
    r->isbn = op->isbn;
    r->title = in->title;
    r->author = in->author;
    r->keyword = in->keyword;
    r->subject = in->subject;
    r->format = in->format;
    r->include_holdings = 1;
    Renkei__V1__PageRequest *page = rk_arena_alloc(op->arena, sizeof(*page));
    renkei__v1__page_request__init(page);
    size_t want = op->page.offset + op->page.size + 1;
    page->page_size = (int32_t)(want < OWNER_PAGE_MAX ? want : OWNER_PAGE_MAX);
    r->page = page;
    return &r->base;
}

static Renkei__V1__MunicipalityRef *ref_of(rk_arena_t *arena, const PGresult *r, int row)
{
    Renkei__V1__MunicipalityRef *ref = rk_arena_alloc(arena, sizeof(*ref));
    renkei__v1__municipality_ref__init(ref);
    ref->code = rk_arena_strdup(arena, PQgetvalue(r, row, T_CODE));
    ref->slug = rk_arena_strdup(arena, PQgetvalue(r, row, T_SLUG));
    ref->name = text_new(arena, rk_arena_strdup(arena, PQgetvalue(r, row, T_NAME_JA)),
                         rk_arena_strdup(arena, PQgetvalue(r, row, T_NAME_EN)),
                         rk_arena_strdup(arena, PQgetvalue(r, row, T_KANA)));
    return ref;
}

/* Why a resident of home may not hold at the owner of row: the rule, in ja and en. */
static Renkei__V1__LocalizedText *restriction_of(rk_arena_t *arena, const PGresult *r, int row)
{
    const char *owner_ja = PQgetvalue(r, row, T_NAME_JA), *owner_en = PQgetvalue(r, row, T_NAME_EN);
    const char *home_ja = PQgetvalue(r, row, T_HOME_JA), *home_en = PQgetvalue(r, row, T_HOME_EN);
    return text_new(
        arena,
        rk_arena_printf(
            arena,
            "%sの図書館で予約・貸出ができるのは%sの方と相互利用協定の相手市区町村の方です。"
            "%sとの協定はありません。",
            owner_ja, owner_ja, home_ja),
        rk_arena_printf(arena,
                        "%s's libraries lend to its residents and to residents of municipalities "
                        "under a mutual-use agreement (library.hold); %s has none with %s.",
                        owner_en, owner_en, home_en),
        "");
}

static int named(const op_t *op, const char *slug, const char *code)
{
    for (size_t i = 0; i < op->n_names; i++)
        if (strcmp(op->names[i], slug) == 0 || strcmp(op->names[i], code) == 0)
            return 1;
    return 0;
}

static void fanned_out(rk_library_call_t *calls, size_t n_calls, void *arg)
{
    op_t *op = arg;
    (void)calls;
    (void)n_calls;
    op->fanned_out = 1;
    if (op->rows_read)
        answer(op);
}

/* The municipalities with the caller's terms, kept in the arena (the cities of the answer). */
static void tenants_read(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (op->lib->closing) {
        rk_rpc_fail(op->rpc, RK_RPC_UNAVAILABLE, "the hub is shutting down; retry");
        return;
    }
    if (res->status != RK_OK || res->n_results != 1) {
        rk_library_fail_store(op->rpc, "tenants", res);
        return;
    }
    const PGresult *r = res->results[0];
    int rows = PQntuples(r);
    for (size_t i = 0; i < op->n_names; i++) {
        int found = 0;
        for (int row = 0; row < rows && !found; row++)
            found = strcmp(op->names[i], PQgetvalue(r, row, T_SLUG)) == 0 ||
                    strcmp(op->names[i], PQgetvalue(r, row, T_CODE)) == 0;
        if (!found) {
            rk_rpc_fail(op->rpc, RK_RPC_INVALID_ARGUMENT,
                        rk_arena_printf(op->arena, "municipalities[%zu]: no municipality %s", i,
                                        op->names[i]));
            return;
        }
    }
    op->cities = rk_arena_calloc(op->arena, (size_t)rows + 1, sizeof(*op->cities));
    op->missing = rk_arena_calloc(op->arena, (size_t)rows + 1, sizeof(*op->missing));
    for (int row = 0; row < rows; row++) {
        const char *code = PQgetvalue(r, row, T_CODE);
        if (op->ref.kind == 'r' && strcmp(code, op->ref.code) != 0)
            continue;
        city_info_t *ci = &op->cities[op->n_cities++];
        ci->named = named(op, PQgetvalue(r, row, T_SLUG), code);
        ci->city.library = ref_of(op->arena, r, row);
        ci->city.status = STATUS(OK);
        ci->city.may_borrow = strcmp(PQgetvalue(r, row, T_ELIGIBLE), "t") == 0;
        if (!ci->city.may_borrow)
            ci->city.restriction = restriction_of(op->arena, r, row);
        if (*PQgetvalue(r, row, T_AGREEMENT)) {
            Renkei__V1__AgreementRef *a = rk_arena_alloc(op->arena, sizeof(*a));
            renkei__v1__agreement_ref__init(a);
            a->agreement_id = rk_arena_strdup(op->arena, PQgetvalue(r, row, T_AGREEMENT));
            a->version = (int32_t)strtol(PQgetvalue(r, row, T_VERSION), NULL, 10);
            ci->city.agreement = a;
        }
    }
    op->rows_read = 1;
    if (op->fanned_out)
        answer(op);
}

/* The catalogue adapters of the municipalities asked (every one, the named ones, or a record's
 * owner), from the hub's registry, asked at once. */
static void ask_libraries(op_t *op)
{
    const rk_federation_t *fed = op->lib->app->federation;
    size_t n_adapters = rk_federation_count(fed);
    op->calls = rk_arena_calloc(op->arena, n_adapters + 1, sizeof(*op->calls));
    op->call_codes = rk_arena_calloc(op->arena, n_adapters + 1, sizeof(*op->call_codes));
    rk_library_work_query_t query = {0};
    if (op->kind != OP_SEARCH)
        query = rk_library_work_query(op->arena, &op->ref);
    ProtobufCMessage *request = op->kind == OP_SEARCH ? search_request(op) : query.request;
    for (size_t i = 0; i < n_adapters; i++) {
        const rk_federation_adapter_t *a = rk_federation_adapter_at(fed, i);
        if (!(a->capabilities & (1u << CATALOGUE_CAPABILITY)) ||
            (op->n_names && !named(op, a->tenant_slug, a->tenant_code)) ||
            (op->ref.kind == 'r' && strcmp(a->tenant_code, op->ref.code) != 0))
            continue;
        op->calls[op->n_calls].adapter_id = a->id;
        op->calls[op->n_calls].request = request;
        op->call_codes[op->n_calls] = rk_arena_strdup(op->arena, a->tenant_code);
        op->n_calls++;
    }
    const char *method =
        op->kind == OP_SEARCH ? "/renkei.v1.AdapterService/SearchCatalogue" : query.method;
    const ProtobufCMessageDescriptor *type =
        op->kind == OP_SEARCH ? &renkei__v1__adapter_search_catalogue_response__descriptor
                              : query.response_type;
    if (rk_library_fanout(op->lib, op->rpc, op->arena, method, type, op->calls, op->n_calls,
                          fanned_out, op) != RK_OK) {
        op->fanout_refused = 1; /* answered once the query is back */
        op->fanned_out = 1;
    }
}

/* Looks the municipalities up (after the request's own checks); the rest follows. */
static void begin(op_t *op)
{
    const rk_federation_t *fed = op->lib->app->federation;
    if (op->lib->closing || !fed || !fed->loaded) {
        rk_rpc_fail(op->rpc, RK_RPC_UNAVAILABLE,
                    "the hub is still loading its adapters (or stopping); retry in a few seconds");
        return;
    }
    if (rk_facility_caller_home(op->rpc, &op->home) != 0)
        return;
    size_t cap = 3;
    for (size_t i = 0; i < op->n_names; i++)
        cap += strlen(op->names[i]) + 3;
    char *list = rk_arena_alloc(op->arena, cap), *p = list;
    *p++ = '{';
    for (size_t i = 0; i < op->n_names; i++)
        p += snprintf(p, cap - (size_t)(p - list), "%s\"%s\"", i ? "," : "", op->names[i]);
    snprintf(p, cap - (size_t)(p - list), "}");
    const char *values[] = {op->home, list};
    if (rk_store_exec(op->lib->app->store, STMT_TENANTS, 2, values, tenants_read, op) != RK_AGAIN) {
        rk_library_fail_store(op->rpc, "tenants", NULL);
        return;
    }
    ask_libraries(op); /* while the query runs */
}

/* --- requests ----------------------------------------------------------------------------- */

static op_t *op_new(rk_rpc_t *rpc, op_kind_t kind)
{
    rk_request_t *req = rk_rpc_request(rpc);
    op_t *op = rk_arena_calloc(req->arena, 1, sizeof(*op));
    op->lib = rk_app(req)->library;
    op->rpc = rpc;
    op->arena = req->arena;
    op->kind = kind;
    return op;
}

/* Slugs or codes: at most NAMES_MAX, each [a-z0-9-]{1,31}; 0, or -1 after answering. */
static int names_check(op_t *op, char *const *names, size_t n)
{
    if (n > NAMES_MAX) {
        rk_rpc_fail(op->rpc, RK_RPC_INVALID_ARGUMENT, "municipalities: at most 64");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (!len || len > 31 || strspn(names[i], "abcdefghijklmnopqrstuvwxyz0123456789-") != len) {
            rk_rpc_fail(op->rpc, RK_RPC_INVALID_ARGUMENT,
                        rk_arena_printf(op->arena,
                                        "municipalities[%zu]: a slug (kodaira) or a code (132110)",
                                        i));
            return -1;
        }
    }
    op->names = names;
    op->n_names = n;
    return 0;
}

static int text_too_long(rk_rpc_t *rpc, const char *field, const char *value)
{
    if (strlen(value) <= TEXT_MAX)
        return 0;
    rk_rpc_fail(
        rpc, RK_RPC_INVALID_ARGUMENT,
        rk_arena_printf(rk_rpc_request(rpc)->arena, "%s: at most %d bytes", field, TEXT_MAX));
    return 1;
}

static void invalid_isbn(rk_rpc_t *rpc, const char *field)
{
    rk_library_fail(rpc, "LIBRARY_ERROR_INVALID_ISBN",
                    rk_arena_printf(rk_rpc_request(rpc)->arena,
                                    "%s: not a valid ISBN-10 or ISBN-13 (digits, hyphens, a "
                                    "correct check digit)",
                                    field),
                    NULL, NULL, NULL);
}

static void search_catalogue(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__SearchCatalogueRequest *in = (const void *)message;
    op_t *op = op_new(rpc, OP_SEARCH);
    op->search = in;
    if (!*in->isbn && !*in->title && !*in->author && !*in->keyword && !*in->subject) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "isbn: give at least one of isbn, title, author, keyword, subject");
        return;
    }
    if (*in->isbn && rk_isbn_normalize(in->isbn, op->isbn) != RK_OK) {
        invalid_isbn(rpc, "isbn");
        return;
    }
    if (text_too_long(rpc, "title", in->title) || text_too_long(rpc, "author", in->author) ||
        text_too_long(rpc, "keyword", in->keyword) || text_too_long(rpc, "subject", in->subject) ||
        names_check(op, in->municipalities, in->n_municipalities) != 0)
        return;
    Renkei__V1__SearchCatalogueRequest filters = *in;
    filters.page = NULL;
    if (rk_library_page_read(rpc, in->page, &filters.base, 'c', PAGE_DEFAULT, PAGE_MAX,
                             &op->page) != 0)
        return;
    begin(op);
}

static void get_work(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__GetWorkRequest *in = (const void *)message;
    op_t *op = op_new(rpc, OP_GET_WORK);
    if (!*in->work_id == !*in->isbn) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, "work_id: give a work_id or an isbn (one)");
        return;
    }
    if (*in->isbn) {
        char isbn[14];
        if (rk_isbn_normalize(in->isbn, isbn) != RK_OK) {
            invalid_isbn(rpc, "isbn");
            return;
        }
        op->work_id = rk_arena_printf(op->arena, "isbn:%s", isbn);
    } else {
        op->work_id = in->work_id;
    }
    if (rk_library_work_ref_parse(op->arena, op->work_id, &op->ref) != RK_OK) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, "work_id: not a Work.id of this hub");
        return;
    }
    begin(op);
}

static void get_holdings(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__GetHoldingsRequest *in = (const void *)message;
    op_t *op = op_new(rpc, OP_GET_HOLDINGS);
    op->work_id = in->work_id;
    if (rk_library_work_ref_parse(op->arena, op->work_id, &op->ref) != RK_OK) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "work_id: required, a Work.id of this hub (from SearchCatalogue)");
        return;
    }
    if (names_check(op, in->municipalities, in->n_municipalities) != 0)
        return;
    begin(op);
}

static const rk_rpc_method_t methods[] = {
    {"/renkei.v1.LibraryService/SearchCatalogue", &renkei__v1__search_catalogue_request__descriptor,
     &renkei__v1__search_catalogue_response__descriptor, search_catalogue, 0},
    {"/renkei.v1.LibraryService/GetWork", &renkei__v1__get_work_request__descriptor,
     &renkei__v1__get_work_response__descriptor, get_work, 0},
    {"/renkei.v1.LibraryService/GetHoldings", &renkei__v1__get_holdings_request__descriptor,
     &renkei__v1__get_holdings_response__descriptor, get_holdings, 0},
};

void rk_library_catalogue_register(rk_library_t *lib, rk_router_t *router)
{
    rk_store_prepare(lib->app->store, STMT_TENANTS, sql_tenants);
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        rk_rpc_register(router, &methods[i]);
}
