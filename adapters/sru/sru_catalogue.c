/*
 * sru_catalogue.c — SearchCatalogue, GetHoldings and Describe over the SRU catalogue.
 *
 * A search becomes one CQL query (sru_cql.c), sent as an SRU 1.1 searchRetrieve GET with
 * recordSchema=marcxml over the kept-alive pool (sru_http.c), within the caller's deadline.
 * The MARCXML answer (sru_marc.c) becomes CatalogueRecords: the Work from the bibliographic
 * fields, the Holdings from the 952 items, with branch names from the configuration and the
 * shelf state from the item's Koha fields, overlaid with this adapter's own circulation (a copy
 * lent or set aside for a hold through the hub: sru_circ.c).
 *
 * Paging: SRU's startRecord; the page token is "p1.<offset>".
 */
#include "sru.h"

#include "sru_circ.h"
#include "sru_cql.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HS(x) RENKEI__V1__HOLDING_STATUS__HOLDING_STATUS_##x
#define WF(x) RENKEI__V1__WORK_FORMAT__WORK_FORMAT_##x

const sru_branch_t *sru_branch_find(const sru_t *sru, const char *id)
{
    for (size_t i = 0; i < sru->n_branches; i++) {
        if (strcmp(sru->branches[i].id, id) == 0)
            return &sru->branches[i];
    }
    return NULL;
}

/* --- one SRU request ------------------------------------------------------------------------ */

typedef struct fetch {
    rk_adapter_call_t *call;
    sru_http_request_t *request; /* while waiting */
    rk_arena_t *arena;           /* the parsed answer */
    void (*done)(rk_adapter_call_t *call, const sru_answer_t *answer, void *arg);
    void *arg;
} fetch_t;

static void fetch_end_cb(void *data)
{
    fetch_t *f = data;
    if (f->request)
        sru_http_cancel(f->request); /* the call ended first (shutdown, caller gone) */
    rk_arena_free(f->arena);
}

static void owner_unavailable(rk_adapter_call_t *call, const char *message)
{
    rk_adapter_fail(call, RK_ADAPTER_UNAVAILABLE, "LIBRARY_ERROR_OWNER_UNAVAILABLE", message);
}

static void answered_cb(int status, int http_status, const char *body, size_t len, const char *why,
                        void *arg)
{
    fetch_t *f = arg;
    rk_adapter_call_t *call = f->call;
    sru_t *sru = rk_adapter_call_data(call);
    f->request = NULL;
    if (status != 0) {
        owner_unavailable(call,
                          rk_adapter_call_printf(call, "the catalogue server (SRU) at %s", why));
        return;
    }
    if (http_status != 200) {
        owner_unavailable(call, rk_adapter_call_printf(
                                    call, "the catalogue server answered HTTP %d for database %s",
                                    http_status, sru->database));
        return;
    }
    /* In the fetch's arena: the answer outlives this callback (the overlay query is async). */
    sru_answer_t *answer = rk_arena_calloc(f->arena, 1, sizeof(*answer));
    char problem[200];
    if (sru_marc_parse(body, len, f->arena, answer, problem, sizeof(problem)) != 0) {
        rk_adapter_fail(call, RK_ADAPTER_INTERNAL, NULL,
                        rk_adapter_call_printf(call, "unreadable SRU answer: %s", problem));
        return;
    }
    if (answer->diagnostic_uri) {
        rk_adapter_fail(call, RK_ADAPTER_INTERNAL, NULL,
                        rk_adapter_call_printf(call, "the catalogue refused the query: %s (%s)",
                                               answer->diagnostic_message, answer->diagnostic_uri));
        return;
    }
    f->done(call, answer, f->arg);
}

void sru_fetch(rk_adapter_call_t *call, const char *cql, int start, int max,
               void (*done)(rk_adapter_call_t *call, const sru_answer_t *answer, void *arg),
               void *arg)
{
    sru_t *sru = rk_adapter_call_data(call);
    fetch_t *f = rk_adapter_call_alloc(call, sizeof(*f));
    f->call = call;
    f->done = done;
    f->arg = arg;
    f->arena = rk_arena_new();
    rk_adapter_call_on_end(call, fetch_end_cb, f);
    char *query = evhttp_uriencode(cql, -1, 0);
    char *target = rk_adapter_call_printf(
        call,
        "/%s?version=1.1&operation=searchRetrieve&recordSchema=marcxml&recordPacking=xml"
        "&startRecord=%d&maximumRecords=%d&query=%s",
        sru->database, start, max, query ? query : "");
    free(query);
    uint64_t left_ms = rk_adapter_call_deadline_ns(call) / 1000000;
    uint64_t timeout = left_ms < (uint64_t)sru->timeout_ms ? left_ms : (uint64_t)sru->timeout_ms;
    f->request = sru_http_get(sru->http, target, timeout ? timeout : 1, answered_cb, f);
}

/* --- records as messages -------------------------------------------------------------------- */

static int ascii(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s >= 0x80)
            return 0;
    }
    return 1;
}

/* Catalogued text: ja is the authoritative form; en only when the text is ASCII. */
static Renkei__V1__LocalizedText *text(rk_adapter_call_t *call, const char *s, const char *kana)
{
    Renkei__V1__LocalizedText *t = rk_adapter_call_alloc(call, sizeof(*t));
    renkei__v1__localized_text__init(t);
    t->ja = (char *)s;
    t->en = ascii(s) ? (char *)s : "";
    t->kana = (char *)kana;
    return t;
}

static Renkei__V1__LocalizedText *names(rk_adapter_call_t *call, const char *ja, const char *en,
                                        const char *kana)
{
    Renkei__V1__LocalizedText *t = rk_adapter_call_alloc(call, sizeof(*t));
    renkei__v1__localized_text__init(t);
    t->ja = (char *)ja;
    t->en = (char *)en;
    t->kana = (char *)kana;
    return t;
}

static Renkei__V1__MunicipalityRef *library_ref(rk_adapter_call_t *call)
{
    const rk_adapter_config_t *c = rk_adapter_config(rk_adapter_call_server(call));
    Renkei__V1__MunicipalityRef *m = rk_adapter_call_alloc(call, sizeof(*m));
    renkei__v1__municipality_ref__init(m);
    m->code = (char *)c->municipality_code;
    m->slug = (char *)c->municipality_slug;
    m->name =
        names(call, c->municipality_name_ja, c->municipality_name_en, c->municipality_name_kana);
    return m;
}

Renkei__V1__Work *sru_work_message(rk_adapter_call_t *call, const sru_record_t *r)
{
    Renkei__V1__Work *w = rk_adapter_call_alloc(call, sizeof(*w));
    renkei__v1__work__init(w);
    w->isbn13 = (char *)r->isbn13;
    w->title = text(call, r->title, r->title_kana);
    w->n_authors = r->n_authors;
    w->authors = rk_adapter_call_alloc(call, (r->n_authors + 1) * sizeof(*w->authors));
    for (size_t i = 0; i < r->n_authors; i++) {
        Renkei__V1__Contributor *c = rk_adapter_call_alloc(call, sizeof(*c));
        renkei__v1__contributor__init(c);
        c->name = text(call, r->authors[i].name, r->authors[i].kana);
        c->role = (char *)r->authors[i].role;
        w->authors[i] = c;
    }
    w->publisher = (char *)r->publisher;
    w->year = r->year;
    w->ndc = (char *)r->ndc;
    /* leader/06: i = nonmusical sound recording, m = computer file; the rest is print. */
    w->format = r->type == 'i' ? WF(AUDIOBOOK) : r->type == 'm' ? WF(EBOOK) : WF(PRINT);
    w->n_subjects = r->n_subjects;
    w->subjects = (char **)r->subjects;
    return w;
}

static Renkei__V1__LocalizedText *location(rk_adapter_call_t *call, const char *code)
{
    static const char *const known[][4] = {
        {"GEN", "開架", "Open shelves", "カイカ"},
        {"REF", "参考図書", "Reference", "サンコウ トショ"},
        {"STACK", "書庫", "Stacks", "ショコ"},
        {"CHILD", "児童書", "Children's books", "ジドウショ"},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(known[i][0], code) == 0)
            return names(call, known[i][1], known[i][2], known[i][3]);
    }
    return names(call, code, "", "");
}

/* The shelf state the catalogue's 952 gives, before this adapter's own circulation. */
static Renkei__V1__HoldingStatus item_status(const sru_item_t *it)
{
    if (it->damaged)
        return HS(CLOSED);
    if (*it->date_due)
        return HS(ON_LOAN);
    if (it->not_for_loan > 0)
        return HS(IN_LIBRARY_ONLY);
    if (it->not_for_loan < 0)
        return HS(PREPARING);
    return HS(AVAILABLE);
}

Renkei__V1__HoldingStatus sru_item_state(const sru_item_t *it, const sru_circ_overlay_t *overlay,
                                         const char *record_id, const char **due)
{
    *due = it->date_due;
    Renkei__V1__HoldingStatus status = item_status(it);
    const sru_circ_item_t *c = sru_circ_overlay_item(overlay, record_id, it->barcode);
    if (c && status == HS(AVAILABLE)) {
        *due = c->due_date;
        return c->status;
    }
    return status;
}

Renkei__V1__CatalogueRecord *sru_record_message(rk_adapter_call_t *call, const sru_record_t *r,
                                                int with_holdings,
                                                const sru_circ_overlay_t *overlay)
{
    sru_t *sru = rk_adapter_call_data(call);
    Renkei__V1__CatalogueRecord *m = rk_adapter_call_alloc(call, sizeof(*m));
    renkei__v1__catalogue_record__init(m);
    m->record_id = (char *)r->id;
    m->work = sru_work_message(call, r);
    if (!with_holdings)
        return m;
    m->holdings = rk_adapter_call_alloc(call, (r->n_items + 1) * sizeof(*m->holdings));
    int queue = sru_circ_overlay_queue(overlay, r->id);
    for (size_t i = 0; i < r->n_items; i++) {
        const sru_item_t *it = &r->items[i];
        if (it->withdrawn || it->lost || !*it->barcode)
            continue; /* gone from the collection */
        Renkei__V1__Holding *h = rk_adapter_call_alloc(call, sizeof(*h));
        renkei__v1__holding__init(h);
        h->library = library_ref(call);
        h->branch_id = (char *)it->holding_branch;
        const sru_branch_t *b = sru_branch_find(sru, it->holding_branch);
        h->branch_name = b ? names(call, b->name_ja, b->name_en, b->name_kana)
                           : names(call, it->holding_branch, "", "");
        h->record_id = (char *)r->id;
        h->item_id = (char *)it->barcode;
        h->call_number = (char *)it->call_number;
        h->shelf_location = location(call, it->location);
        const char *due;
        h->status = sru_item_state(it, overlay, r->id, &due);
        if (h->status == HS(ON_LOAN))
            h->due_date = (char *)due;
        h->hold_queue_length = queue;
        m->holdings[m->n_holdings++] = h;
    }
    return m;
}

/* --- SearchCatalogue ------------------------------------------------------------------------ */

typedef struct search {
    const Renkei__V1__AdapterSearchCatalogueRequest *request;
    const sru_answer_t *answer;
    int offset;
} search_t;

static void search_reply(rk_adapter_call_t *call, const sru_circ_overlay_t *overlay, void *arg)
{
    search_t *s = arg;
    Renkei__V1__AdapterSearchCatalogueResponse out =
        RENKEI__V1__ADAPTER_SEARCH_CATALOGUE_RESPONSE__INIT;
    out.records = rk_adapter_call_alloc(call, (s->answer->n_records + 1) * sizeof(*out.records));
    for (size_t i = 0; i < s->answer->n_records; i++)
        out.records[out.n_records++] =
            sru_record_message(call, &s->answer->records[i], s->request->include_holdings, overlay);
    Renkei__V1__PageResponse page = RENKEI__V1__PAGE_RESPONSE__INIT;
    long total = s->answer->total;
    page.total_size = total > INT32_MAX ? INT32_MAX : (int32_t)total;
    if (s->offset + (long)out.n_records < total && out.n_records)
        page.next_page_token =
            rk_adapter_call_printf(call, "p1.%ld", s->offset + (long)out.n_records);
    out.page = &page;
    rk_adapter_reply(call, &out.base);
}

static void search_answered(rk_adapter_call_t *call, const sru_answer_t *answer, void *arg)
{
    search_t *s = arg;
    s->answer = answer;
    if (s->request->include_holdings)
        sru_circ_overlay_load(call, answer, search_reply, s);
    else
        search_reply(call, NULL, s);
}

void sru_search_catalogue(rk_adapter_call_t *call,
                          const Renkei__V1__AdapterSearchCatalogueRequest *request)
{
    sru_search_terms_t terms = {request->isbn, request->title, request->author, request->keyword,
                                request->subject};
    char *cql = rk_adapter_call_alloc(call, SRU_CQL_MAX);
    const char *field, *why;
    if (sru_cql_search(&terms, cql, &field, &why) != 0) {
        if (strcmp(field, "isbn") == 0)
            rk_adapter_fail(call, RK_ADAPTER_INVALID_ARGUMENT, "LIBRARY_ERROR_INVALID_ISBN",
                            rk_adapter_call_printf(call, "isbn: %s", why));
        else
            rk_adapter_fail_field(call, field, why);
        return;
    }
    int size = request->page ? request->page->page_size : 0;
    size = size <= 0 ? 20 : size > 100 ? 100 : size;
    long offset = 0;
    const char *token = request->page ? request->page->page_token : "";
    if (*token) {
        char *end;
        if (strncmp(token, "p1.", 3) != 0 || strspn(token + 3, "0123456789") != strlen(token + 3) ||
            strlen(token) > 12 || (offset = strtol(token + 3, &end, 10)) < 0 || *end) {
            rk_adapter_fail_field(call, "page.page_token", "not a token this adapter issued");
            return;
        }
    }
    search_t *s = rk_adapter_call_alloc(call, sizeof(*s));
    s->request = request;
    s->offset = (int)offset;
    if (request->format != WF(UNSPECIFIED) && request->format != WF(PRINT)) {
        /* This catalogue describes its print collection only (MARC leader/06 = a). */
        static const sru_answer_t none = {0, NULL, 0, NULL, NULL};
        s->answer = &none;
        search_reply(call, NULL, s);
        return;
    }
    sru_fetch(call, cql, s->offset + 1, size, search_answered, s);
}

/* --- GetHoldings ---------------------------------------------------------------------------- */

static void holdings_reply(rk_adapter_call_t *call, const sru_circ_overlay_t *overlay, void *arg)
{
    const sru_answer_t *answer = arg;
    Renkei__V1__AdapterGetHoldingsResponse out = RENKEI__V1__ADAPTER_GET_HOLDINGS_RESPONSE__INIT;
    out.records = rk_adapter_call_alloc(call, (answer->n_records + 1) * sizeof(*out.records));
    for (size_t i = 0; i < answer->n_records; i++)
        out.records[out.n_records++] = sru_record_message(call, &answer->records[i], 1, overlay);
    rk_adapter_reply(call, &out.base);
}

static void holdings_answered(rk_adapter_call_t *call, const sru_answer_t *answer, void *arg)
{
    (void)arg;
    sru_circ_overlay_load(call, answer, holdings_reply, (void *)answer);
}

void sru_get_holdings(rk_adapter_call_t *call, const Renkei__V1__AdapterGetHoldingsRequest *request)
{
    char *cql = rk_adapter_call_alloc(call, SRU_CQL_MAX);
    const char *field, *why;
    if ((request->n_record_ids == 0) == (*request->isbn == '\0')) {
        rk_adapter_fail_field(call, "record_ids", "give 1 to 50 record ids, or an isbn");
        return;
    }
    if (*request->isbn) {
        sru_search_terms_t terms = {.isbn = request->isbn};
        if (sru_cql_search(&terms, cql, &field, &why) != 0) {
            rk_adapter_fail(call, RK_ADAPTER_INVALID_ARGUMENT, "LIBRARY_ERROR_INVALID_ISBN",
                            rk_adapter_call_printf(call, "isbn: %s", why));
            return;
        }
    } else if (sru_cql_record_ids((const char *const *)request->record_ids, request->n_record_ids,
                                  cql, &why) != 0) {
        rk_adapter_fail_field(call, "record_ids", why);
        return;
    }
    sru_fetch(call, cql, 1, 50, holdings_answered, NULL);
}

/* --- Describe ------------------------------------------------------------------------------- */

void sru_describe(rk_adapter_call_t *call, const Renkei__V1__AdapterDescribeRequest *request)
{
    (void)request;
    sru_t *sru = rk_adapter_call_data(call);
    Renkei__V1__AdapterDescribeResponse out = RENKEI__V1__ADAPTER_DESCRIBE_RESPONSE__INIT;
    rk_adapter_describe_defaults(call, &out);
    out.n_branches = sru->n_branches;
    out.branches = rk_adapter_call_alloc(call, (sru->n_branches + 1) * sizeof(*out.branches));
    for (size_t i = 0; i < sru->n_branches; i++) {
        const sru_branch_t *b = &sru->branches[i];
        Renkei__V1__Branch *m = rk_adapter_call_alloc(call, sizeof(*m));
        renkei__v1__branch__init(m);
        m->municipality = library_ref(call);
        m->branch_id = b->id;
        m->name = names(call, b->name_ja, b->name_en, b->name_kana);
        Renkei__V1__GeoPoint *g = rk_adapter_call_alloc(call, sizeof(*g));
        renkei__v1__geo_point__init(g);
        g->latitude = b->latitude;
        g->longitude = b->longitude;
        m->location = g;
        m->pickup_point = b->pickup;
        out.branches[i] = m;
    }
    rk_adapter_reply(call, &out.base);
}
