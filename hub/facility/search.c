/*
 * search.c — FacilityService.SearchFacilities and GetFacility (see search.h).
 *
 * One prepared statement serves every search: each filter is a parameter that is NULL (or
 * neutral) when not asked for, lists travel as JSON arrays. A hit's Facility is the stored
 * body (the adapter's message in proto3 JSON) with the hub's id, owner and updated_at set.
 */
#include "facility/search.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "facility/availability.h"
#include "facility/kinds.h"
#include "facility/terms.h"
#include "net/json_transcode.h"
#include "net/pb_arena.h"
#include "net/rpc.h"
#include "renkei/v1/facility.pb-c.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define STMT_SEARCH "facility_search"
#define STMT_SEARCH_NEAREST "facility_search_nearest"
#define STMT_GET "facility_get"

#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 100
#define OFFSET_MAX 10000       /* deeper pages are refused: narrow the search */
#define QUERY_MAX_CHARS 200    /* SearchFacilitiesRequest.query */
#define MUNICIPALITIES_MAX 100 /* entries of SearchFacilitiesRequest.municipalities */
#define RADIUS_MAX 1000000     /* metres */
#define FACILITY_ID_MAX 19     /* digits of a bigint */
#define MIN_FREE_MINUTES_MAX 1440

#define UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
/* A hit with the caller's terms at its owner (rt: rk_caller_terms of migrations 0011 and 0021)
 * and the lowest hourly fee on the caller's side of the schedule (h.hourly). */
#define HIT_COLUMNS                                                                                \
    "f.id, t.code, t.slug, t.name_ja, t.name_en, t.name_kana, " UTC(                               \
        "f.updated_at") ", rt.residency_class, rt.eligible, coalesce(h.hourly::text, ''),"         \
                        " rk_facility_opens_days(f.booking_window, rt.residency_class,"            \
                        "  rt.booking_window_days), rt.lottery, coalesce(rt.agreement_id::text, "  \
                        "''),"                                                                     \
                        " coalesce(rt.agreement_version::text, '')"
/* The caller's terms for a home municipality code `home` and a grant (NULL: anonymous), once
 * per statement: one row per tenant. */
#define TERMS_CTE(home, grant)                                                                     \
    "WITH rt AS MATERIALIZED (SELECT * FROM rk_caller_terms("                                      \
    " (SELECT id FROM rk_tenant WHERE code = " home "),"                                           \
    " (SELECT account_id FROM rk_identity_grant WHERE id = " grant "), 'facility.booking')) "
#define TERMS_JOIN                                                                                 \
    " JOIN rt ON rt.tenant_id = f.tenant_id"                                                       \
    " CROSS JOIN LATERAL (SELECT CASE rt.fee_basis WHEN 'resident_rate'"                           \
    "  THEN f.resident_hourly_yen ELSE f.non_resident_hourly_yen END AS hourly) h"
/* A facility as stored: packed (migration 0031), else the JSON of a row not synced since. */
#define STORED_FACILITY "coalesce('\\x' || encode(f.packed, 'hex'), f.body::text)"
/* Distances on the sphere (within 0.5 % of the spheroid's, at a fraction of its cost). */
#define NEAR "ST_SetSRID(ST_MakePoint($5::float8, $4::float8), 4326)::geography"

/* $1 kinds (JSON array of numbers), $2 ILIKE pattern, $3 municipalities (JSON array of slugs
 * or codes), $4 latitude, $5 longitude, $6 radius (0 = none), $7 minimum capacity, $8
 * accessibility (JSON array of value names), $9 bookable only, $10 limit, $11 offset, $12 the
 * caller's home municipality code (NULL: anonymous), $13 the highest hourly fee (NULL: any),
 * $14 'price' to sort by the hourly fee first, $15 the query's words (kinds.h: every word names
 * the facility's kind or lies in its names' key; the whole query may also match the address),
 * $16 the caller's grant (NULL: anonymous).
 * The inner query ranks every match with narrow rows (id, sort keys, the count); the columns
 * of a hit and the body (the one wide column) are read for the page's rows only. */
#define SEARCH_FROM                                                                                \
    "  FROM rk_facility f JOIN rk_tenant t ON t.id = f.tenant_id"                                  \
    "  JOIN rk_adapter a ON a.id = f.adapter_id AND a.state = 'active'" TERMS_JOIN
/* The request's filters on a facility f, each a no-op when its parameter is NULL (or 0, false),
 * with `hourly` the caller's hourly fee of f. */
#define SEARCH_FILTERS(hourly)                                                                     \
    "   AND ($1::jsonb IS NULL OR f.kind IN (SELECT jsonb_array_elements_text($1::jsonb)::int))"   \
    "   AND ($2::text IS NULL OR f.address ILIKE $2 OR " RK_FACILITY_QUERY_SQL(                    \
        "$15::jsonb", "f.kind",                                                                    \
        "f.name_key") ")"                                                                          \
                      "   AND ($3::jsonb IS NULL OR f.tenant_id IN (SELECT id FROM rk_tenant"      \
                      "    WHERE slug IN (SELECT jsonb_array_elements_text($3::jsonb))"            \
                      "     OR code IN (SELECT jsonb_array_elements_text($3::jsonb))))"            \
                      "   AND ($4::float8 IS NULL OR $6::float8 = 0"                               \
                      "    OR ST_DWithin(f.location, " NEAR ", $6::float8, false))"                \
                      "   AND f.capacity >= $7::int"                                               \
                      "   AND ($8::jsonb IS NULL OR coalesce(f.body -> 'accessibility', '[]') @> " \
                      "$8::jsonb)"                                                                 \
                      "   AND (NOT $9::bool OR f.bookable_via_hub)"                                \
                      "   AND ($13::bigint IS NULL OR " hourly " <= $13::bigint)"
/* The page's hits (q: id, total, sort keys), each with its columns and body. */
#define SEARCH_PAGE(ranked)                                                                        \
    TERMS_CTE("$12", "$16")                                                                        \
    "SELECT " HIT_COLUMNS ", coalesce(q.sort_distance, 0), q.total,"                               \
    " f.adapter_id, f.owner_facility_id, q.sort_price, q.sort_distance, q.sort_code, q.sort_name," \
    " " STORED_FACILITY " FROM (" ranked " LIMIT $10::int OFFSET $11::int) q"                      \
    " CROSS JOIN LATERAL (SELECT * FROM rk_facility WHERE id = q.id OFFSET 0) f"                   \
    " JOIN rk_tenant t ON t.id = f.tenant_id" TERMS_JOIN                                           \
    " ORDER BY q.sort_price NULLS LAST, q.sort_distance NULLS LAST, t.code, f.name_ja, q.id"

static const char sql_search[] = SEARCH_PAGE(
    "SELECT f.id, count(*) OVER () AS total,"
    "  CASE WHEN $14::text = 'price' THEN h.hourly END AS sort_price,"
    "  CASE WHEN $4::float8 IS NOT NULL THEN ST_Distance(f.location, " NEAR ", false) END"
    "   AS sort_distance, t.code AS sort_code, f.name_ja AS sort_name" SEARCH_FROM
    "  WHERE true" SEARCH_FILTERS("h.hourly") "  ORDER BY sort_price NULLS LAST, sort_distance "
                                              "NULLS LAST, sort_code, sort_name, f.id");

/* The same nearest first, for a search with near whose total is not wanted (free_within: the
 * owners decide) and not sorted by price. The ranking reads rk_facility alone, the filters on
 * other tables as subqueries (the active adapters as an array: a semi-join would make the plan
 * sort every facility), ordered by distance alone: so the GiST index gives the facilities
 * nearest first and PostgreSQL reads about a page of them (0.4 against 5.5 ms over 2,480).
 * Facilities at one distance (one site's courts) are ordered by the index across pages and as
 * the other statement within a page. $14 (price or not) is only typed here; total is -1. */
static const char sql_search_nearest[] = SEARCH_PAGE(
    "SELECT f.id, -1 AS total, NULL::bigint AS sort_price, f.location <-> " NEAR
    " AS sort_distance, NULL::text AS sort_code, NULL::text AS sort_name FROM rk_facility f"
    "  WHERE f.adapter_id = ANY (ARRAY(SELECT id FROM rk_adapter WHERE state = "
    "'active'))" SEARCH_FILTERS("(SELECT CASE rt.fee_basis WHEN 'resident_rate' THEN "
                                "f.resident_hourly_yen"
                                " ELSE f.non_resident_hourly_yen END FROM rt WHERE rt.tenant_id = "
                                "f.tenant_id)") "   AND $14::text IS NOT NULL"
                                                "  ORDER BY f.location <-> " NEAR);

/* $1 id, $2 the caller's home municipality code and $3 grant (NULL: anonymous). */
static const char sql_get[] = TERMS_CTE(
    "$2", "$3") "SELECT " HIT_COLUMNS ", " STORED_FACILITY " FROM rk_facility f"
                " JOIN rk_tenant t ON t.id = f.tenant_id"
                " JOIN rk_adapter a ON a.id = f.adapter_id AND a.state = 'active'" TERMS_JOIN
                " WHERE f.id = $1::bigint";

enum {
    COL_ID,
    COL_CODE,
    COL_SLUG,
    COL_NAME_JA,
    COL_NAME_EN,
    COL_NAME_KANA,
    COL_UPDATED,
    COL_CLASS,
    COL_ELIGIBLE,
    COL_HOURLY,
    COL_OPENS_DAYS,
    COL_LOTTERY,
    COL_AGREEMENT,
    COL_AGREEMENT_VERSION,
    COL_GET_BODY, /* GetFacility: the body; SearchFacilities: */
    COL_DISTANCE = COL_GET_BODY,
    COL_TOTAL,
    COL_ADAPTER,
    COL_OWNER_FACILITY,
    COL_SORT_PRICE,
    COL_SORT_DISTANCE,
    COL_SORT_CODE,
    COL_SORT_NAME,
    COL_SEARCH_BODY,
};

typedef struct search {
    rk_facility_t *fac;
    rk_rpc_t *rpc;
    rk_request_t *req;
    int page_size, offset;
    uint64_t filters; /* hash of the request without its page: binds page tokens */
    /* free_within: the window, the run asked for, the order; the candidates of this page */
    int free, soonest, min_free_minutes;
    rk_availability_window_t window;
    Renkei__V1__FacilityMatch **matches;
    size_t n_matches;
    Renkei__V1__PageResponse page;
} search_t;

/* --- helpers ------------------------------------------------------------------------------- */

static void fail_store(rk_rpc_t *rpc, rk_request_t *req, const rk_store_result_t *res)
{
    if (res && res->status == RK_EINVAL) {
        rk_log_error("facility query failed", "{s:s, s:s}", "request_id", req->request_id, "error",
                     res->error);
        rk_rpc_fail(rpc, RK_RPC_INTERNAL,
                    rk_arena_printf(req->arena, "request %s failed; the hub's log has why",
                                    req->request_id));
        return;
    }
    rk_rpc_fail(rpc, RK_RPC_UNAVAILABLE, "the database is not reachable now; retry later");
}

/* A stored Facility, in the arena, or NULL: the packed protobuf as bytea's text ("\\x" and
 * hex: rows synced since migration 0031) or else the JSON body. */
static Renkei__V1__Facility *stored_facility(rk_arena_t *arena, const char *stored)
{
    ProtobufCAllocator allocator = rk_pb_arena_allocator(arena);
    if (stored[0] == '\\') {
        size_t len = 0;
        unsigned char *bytes = PQunescapeBytea((const unsigned char *)stored, &len);
        if (!bytes)
            return NULL;
        Renkei__V1__Facility *f = renkei__v1__facility__unpack(&allocator, len, bytes);
        PQfreemem(bytes);
        return f;
    }
    json_t *body = json_loads(stored, JSON_REJECT_DUPLICATES, NULL);
    if (!body)
        return NULL;
    char err[256];
    Renkei__V1__Facility *f = (Renkei__V1__Facility *)rk_json_to_message(
        &renkei__v1__facility__descriptor, body, &allocator, err, sizeof(err));
    json_decref(body);
    return f;
}

/* The Facility of row i (stored in column body_col: STORED_FACILITY), with the hub's own fields,
 * in the arena; NULL when it cannot be read back. */
static Renkei__V1__Facility *facility_of(rk_arena_t *arena, const PGresult *r, int i, int body_col)
{
    Renkei__V1__Facility *f = stored_facility(arena, PQgetvalue(r, i, body_col));
    if (!f)
        return NULL;
    Renkei__V1__LocalizedText *name = rk_arena_alloc(arena, sizeof(*name));
    *name = (Renkei__V1__LocalizedText)RENKEI__V1__LOCALIZED_TEXT__INIT;
    name->ja = rk_arena_strdup(arena, PQgetvalue(r, i, COL_NAME_JA));
    name->en = rk_arena_strdup(arena, PQgetvalue(r, i, COL_NAME_EN));
    name->kana = rk_arena_strdup(arena, PQgetvalue(r, i, COL_NAME_KANA));
    Renkei__V1__MunicipalityRef *owner = rk_arena_alloc(arena, sizeof(*owner));
    *owner = (Renkei__V1__MunicipalityRef)RENKEI__V1__MUNICIPALITY_REF__INIT;
    owner->code = rk_arena_strdup(arena, PQgetvalue(r, i, COL_CODE));
    owner->slug = rk_arena_strdup(arena, PQgetvalue(r, i, COL_SLUG));
    owner->name = name;
    f->id = rk_arena_strdup(arena, PQgetvalue(r, i, COL_ID));
    f->owner = owner;
    f->updated_at = rk_arena_strdup(arena, PQgetvalue(r, i, COL_UPDATED));
    return f;
}

/* The caller's terms at the facility of row i. */
static Renkei__V1__ResidentTerms *terms_of(rk_arena_t *arena, const PGresult *r, int i)
{
    rk_facility_terms_row_t row = {
        .residency_class = PQgetvalue(r, i, COL_CLASS),
        .eligible = PQgetvalue(r, i, COL_ELIGIBLE),
        .hourly_fee = PQgetvalue(r, i, COL_HOURLY),
        .opens_days = PQgetvalue(r, i, COL_OPENS_DAYS),
        .lottery = PQgetvalue(r, i, COL_LOTTERY),
        .agreement_id = PQgetvalue(r, i, COL_AGREEMENT),
        .agreement_version = PQgetvalue(r, i, COL_AGREEMENT_VERSION),
        .owner_ja = PQgetvalue(r, i, COL_NAME_JA),
        .owner_en = PQgetvalue(r, i, COL_NAME_EN),
    };
    return rk_facility_terms_new(arena, &row);
}

/* FNV-1a of the request packed without its page. */
static uint64_t filters_hash(const Renkei__V1__SearchFacilitiesRequest *in, rk_arena_t *arena)
{
    Renkei__V1__SearchFacilitiesRequest pageless = *in;
    pageless.page = NULL;
    size_t len = protobuf_c_message_get_packed_size(&pageless.base);
    uint8_t *bytes = rk_arena_alloc(arena, len ? len : 1);
    protobuf_c_message_pack(&pageless.base, bytes);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= bytes[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Reads a page token "1.<offset>.<filters hash>"; RK_OK or RK_EINVAL. */
static int token_parse(const char *token, uint64_t filters, int *offset)
{
    char hash[17];
    int n = 0, consumed = 0;
    if (sscanf(token, "1.%d.%16[0-9a-f]%n", &n, hash, &consumed) != 2 ||
        (size_t)consumed != strlen(token) || n < 1 || n > OFFSET_MAX)
        return RK_EINVAL;
    char want[17];
    snprintf(want, sizeof(want), "%016" PRIx64, filters);
    if (strcmp(hash, want) != 0)
        return RK_EINVAL;
    *offset = n;
    return RK_OK;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* '%text%' with LIKE's wildcards and escape character escaped, in the arena. */
static char *like_pattern(rk_arena_t *arena, const char *text)
{
    size_t len = strlen(text);
    char *out = rk_arena_alloc(arena, 2 * len + 3), *p = out;
    *p++ = '%';
    for (const char *s = text; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            *p++ = '\\';
        *p++ = *s;
    }
    *p++ = '%';
    *p = '\0';
    return out;
}

/* The JSON text of list, in the arena (list is released). */
static char *json_text(rk_arena_t *arena, json_t *list)
{
    char *text = json_dumps(list, JSON_COMPACT);
    char *copy = rk_arena_strdup(arena, text ? text : "[]");
    free(text);
    json_decref(list);
    return copy;
}

/* --- SearchFacilities ----------------------------------------------------------------------- */

static void reply(search_t *s, const Renkei__V1__MunicipalityStatus *const *statuses,
                  size_t n_statuses)
{
    Renkei__V1__SearchFacilitiesResponse out = RENKEI__V1__SEARCH_FACILITIES_RESPONSE__INIT;
    out.results = s->matches;
    out.n_results = s->n_matches;
    out.statuses = (Renkei__V1__MunicipalityStatus **)statuses;
    out.n_statuses = n_statuses;
    out.page = &s->page;
    rk_rpc_reply(s->rpc, &out.base);
}

static int sooner(const void *a, const void *b)
{
    const Renkei__V1__FacilityMatch *x = *(Renkei__V1__FacilityMatch *const *)a;
    const Renkei__V1__FacilityMatch *y = *(Renkei__V1__FacilityMatch *const *)b;
    return strcmp(x->next_free_slot_start, y->next_free_slot_start);
}

/* The owners' answer for this page's candidates: those with a free run of min_free_minutes in
 * the window stay, with their first free start; the owners' statuses go with the answer. */
static void free_checked(const Renkei__V1__GetAvailabilityResponse *answer, void *arg)
{
    search_t *s = arg;
    rk_arena_t *arena = s->req->arena;
    size_t kept = 0;
    for (size_t i = 0; i < s->n_matches; i++) {
        Renkei__V1__FacilityMatch *m = s->matches[i];
        const Renkei__V1__FacilityAvailability *fa = NULL;
        for (size_t k = 0; k < answer->n_facilities && !fa; k++) {
            if (strcmp(answer->facilities[k]->facility_id, m->facility->id) == 0)
                fa = answer->facilities[k];
        }
        int64_t start;
        if (rk_availability_first_free(fa, s->min_free_minutes, &start) != RK_OK)
            continue;
        char text[RK_AVAILABILITY_TIME_MAX];
        rk_availability_time_format(start, text);
        m->next_free_slot_start = rk_arena_strdup(arena, text);
        s->matches[kept++] = m;
    }
    s->n_matches = kept;
    if (s->soonest)
        qsort(s->matches, s->n_matches, sizeof(*s->matches), sooner);
    reply(s, (const Renkei__V1__MunicipalityStatus *const *)answer->statuses, answer->n_statuses);
}

static void searched(const rk_store_result_t *res, void *arg)
{
    search_t *s = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(s->rpc, s->req, res);
        return;
    }
    const PGresult *r = res->results[0];
    rk_arena_t *arena = s->req->arena;
    int n = PQntuples(r);
    int shown = n > s->page_size ? s->page_size : n;
    s->matches = rk_arena_calloc(arena, (size_t)(shown ? shown : 1), sizeof(*s->matches));
    rk_availability_target_t *targets =
        rk_arena_calloc(arena, (size_t)(shown ? shown : 1), sizeof(*targets));
    for (int i = 0; i < shown; i++) {
        Renkei__V1__Facility *f = facility_of(arena, r, i, COL_SEARCH_BODY);
        if (!f) {
            rk_log_warn("stored facility unreadable", "{s:s, s:s}", "request_id",
                        s->req->request_id, "facility_id", PQgetvalue(r, i, COL_ID));
            continue;
        }
        Renkei__V1__FacilityMatch *m = rk_arena_alloc(arena, sizeof(*m));
        *m = (Renkei__V1__FacilityMatch)RENKEI__V1__FACILITY_MATCH__INIT;
        m->facility = f;
        m->terms = terms_of(arena, r, i);
        m->distance_meters = strtod(PQgetvalue(r, i, COL_DISTANCE), NULL);
        targets[s->n_matches] = (rk_availability_target_t){
            .hub_id = f->id,
            .owner_id = rk_arena_strdup(arena, PQgetvalue(r, i, COL_OWNER_FACILITY)),
            .adapter_id = strtoll(PQgetvalue(r, i, COL_ADAPTER), NULL, 10),
            .code = f->owner->code,
            .slug = f->owner->slug,
            .name_ja = f->owner->name->ja,
            .name_en = f->owner->name->en,
            .name_kana = f->owner->name->kana,
        };
        s->matches[s->n_matches++] = m;
    }
    Renkei__V1__PageResponse *page = &s->page;
    *page = (Renkei__V1__PageResponse)RENKEI__V1__PAGE_RESPONSE__INIT;
    page->total_size = n > 0 ? (int32_t)strtol(PQgetvalue(r, 0, COL_TOTAL), NULL, 10) : 0;
    if ((n == 0 && s->offset > 0) || s->free)
        page->total_size = -1; /* past the end, or free slots: not known from here */
    if (n > s->page_size && s->offset + s->page_size <= OFFSET_MAX)
        page->next_page_token =
            rk_arena_printf(arena, "1.%d.%016" PRIx64, s->offset + s->page_size, s->filters);
    if (!s->free || s->n_matches == 0) {
        reply(s, NULL, 0);
        return;
    }
    if (rk_facility_availability_ask(s->fac->availability, s->rpc, arena, targets, s->n_matches,
                                     &s->window, 1, free_checked, s) != RK_OK)
        rk_rpc_fail(s->rpc, RK_RPC_UNAVAILABLE,
                    "free_within: the hub cannot ask the owners now (starting or stopping); "
                    "retry in a few seconds");
}

static int invalid(rk_rpc_t *rpc, const char *message)
{
    rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, message);
    return 0;
}

static void search_facilities(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__SearchFacilitiesRequest *in =
        (const Renkei__V1__SearchFacilitiesRequest *)message;
    rk_request_t *req = rk_rpc_request(rpc);
    rk_arena_t *arena = req->arena;
    search_t *s = rk_arena_calloc(arena, 1, sizeof(*s));
    s->fac = rk_app(req)->facility;
    s->rpc = rpc;
    s->req = req;

    char *kinds = NULL, *pattern = NULL, *words = NULL, *municipalities = NULL,
         *accessibility = NULL;
    char lat[40], lon[40], radius[16], capacity[16], limit[16], offset[16];
    if (in->n_kinds) {
        json_t *list = json_array();
        for (size_t i = 0; i < in->n_kinds; i++) {
            int k = (int)in->kinds[i];
            if (k == 0 ||
                !protobuf_c_enum_descriptor_get_value(&renkei__v1__facility_kind__descriptor, k)) {
                json_decref(list);
                invalid(rpc, rk_arena_printf(arena, "kinds[%zu]: unknown FacilityKind %d", i, k));
                return;
            }
            json_array_append_new(list, json_integer(k));
        }
        kinds = json_text(arena, list);
    }
    if (*in->query) {
        if (utf8_chars(in->query) > QUERY_MAX_CHARS) {
            invalid(rpc, "query: at most 200 characters");
            return;
        }
        rk_facility_query_t *query = rk_arena_alloc(arena, sizeof(*query));
        const char *why = NULL;
        if (rk_facility_kinds_for_query(in->query, query, &why) != RK_OK) {
            invalid(rpc, why ? why : "query: not valid UTF-8 text");
            return;
        }
        if (query->n_words) {
            pattern = like_pattern(arena, in->query);
            words = json_text(arena, rk_facility_query_json(query));
        }
    }
    if (in->n_municipalities) {
        if (in->n_municipalities > MUNICIPALITIES_MAX) {
            invalid(rpc, "municipalities: at most 100 entries");
            return;
        }
        json_t *list = json_array();
        for (size_t i = 0; i < in->n_municipalities; i++) {
            const char *m = in->municipalities[i];
            if (!*m || strlen(m) > 64) {
                json_decref(list);
                invalid(rpc, rk_arena_printf(arena,
                                             "municipalities[%zu]: a tenant slug or 6-digit code "
                                             "(1-64 characters)",
                                             i));
                return;
            }
            json_array_append_new(list, json_string(m));
        }
        municipalities = json_text(arena, list);
    }
    const Renkei__V1__GeoPoint *near = in->near;
    if (near) {
        if (!isfinite(near->latitude) || fabs(near->latitude) > 90) {
            invalid(rpc, "near.latitude: must be between -90 and 90");
            return;
        }
        if (!isfinite(near->longitude) || fabs(near->longitude) > 180) {
            invalid(rpc, "near.longitude: must be between -180 and 180");
            return;
        }
        snprintf(lat, sizeof(lat), "%.9f", near->latitude);
        snprintf(lon, sizeof(lon), "%.9f", near->longitude);
    }
    if (in->radius_meters < 0 || in->radius_meters > RADIUS_MAX) {
        invalid(rpc, "radius_meters: must be between 0 (no limit) and 1000000");
        return;
    }
    if (in->radius_meters && !near) {
        invalid(rpc, "radius_meters: needs near (the point to measure from)");
        return;
    }
    if (in->min_capacity < 0) {
        invalid(rpc, "min_capacity: must be 0 or more");
        return;
    }
    if (in->n_accessibility) {
        json_t *list = json_array();
        for (size_t i = 0; i < in->n_accessibility; i++) {
            int k = (int)in->accessibility[i];
            const ProtobufCEnumValue *v = k ? protobuf_c_enum_descriptor_get_value(
                                                  &renkei__v1__accessibility_feature__descriptor, k)
                                            : NULL;
            if (!v) {
                json_decref(list);
                invalid(rpc, rk_arena_printf(arena,
                                             "accessibility[%zu]: unknown AccessibilityFeature %d",
                                             i, k));
                return;
            }
            json_array_append_new(list, json_string(v->name));
        }
        accessibility = json_text(arena, list);
    }
    char max_fee[24];
    if (in->max_hourly_fee) {
        if (in->max_hourly_fee->amount < 0) {
            invalid(rpc, "max_hourly_fee.amount: must be 0 or more (yen)");
            return;
        }
        snprintf(max_fee, sizeof(max_fee), "%" PRId64, in->max_hourly_fee->amount);
    }
    if (in->free_within) {
        rk_availability_violation_t v;
        if (rk_availability_window_check(in->free_within, "free_within", (int64_t)time(NULL),
                                         &s->window, &v) != RK_OK) {
            invalid(rpc, rk_arena_printf(arena, "%s: %s", v.field, v.description));
            return;
        }
        s->free = 1;
    }
    if (in->min_free_minutes < 0 || in->min_free_minutes > MIN_FREE_MINUTES_MAX) {
        invalid(rpc, "min_free_minutes: must be between 0 (any slot) and 1440");
        return;
    }
    if (in->min_free_minutes && !in->free_within) {
        invalid(rpc, "min_free_minutes: needs free_within (the window to look in)");
        return;
    }
    s->min_free_minutes = in->min_free_minutes;
    switch (in->sort) {
    case RENKEI__V1__FACILITY_SORT__FACILITY_SORT_UNSPECIFIED:
        break;
    case RENKEI__V1__FACILITY_SORT__FACILITY_SORT_DISTANCE:
        if (!near) {
            invalid(rpc, "sort: FACILITY_SORT_DISTANCE needs near");
            return;
        }
        break;
    case RENKEI__V1__FACILITY_SORT__FACILITY_SORT_PRICE:
        break;
    case RENKEI__V1__FACILITY_SORT__FACILITY_SORT_SOONEST:
        if (!in->free_within) {
            invalid(rpc, "sort: FACILITY_SORT_SOONEST needs free_within");
            return;
        }
        s->soonest = 1;
        break;
    default:
        invalid(rpc, rk_arena_printf(arena, "sort: unknown FacilitySort %d", (int)in->sort));
        return;
    }
    int page_size = in->page ? in->page->page_size : 0;
    if (page_size < 0) {
        invalid(rpc, "page.page_size: must be 0 (the default, 20) or more");
        return;
    }
    int page_max = s->free ? RK_AVAILABILITY_MAX_FACILITIES : PAGE_SIZE_MAX;
    s->page_size = page_size == 0 ? PAGE_SIZE_DEFAULT : page_size > page_max ? page_max : page_size;
    s->filters = filters_hash(in, arena);
    if (in->page && *in->page->page_token &&
        token_parse(in->page->page_token, s->filters, &s->offset) != RK_OK) {
        invalid(rpc, "page.page_token: not a next_page_token of this search (same filters)");
        return;
    }
    const char *home, *grant;
    if (rk_facility_caller(rpc, &home, &grant) != 0)
        return;
    snprintf(radius, sizeof(radius), "%d", in->radius_meters);
    snprintf(capacity, sizeof(capacity), "%d", in->min_capacity);
    snprintf(limit, sizeof(limit), "%d", s->page_size + 1);
    snprintf(offset, sizeof(offset), "%d", s->offset);
    const char *values[] = {
        kinds,
        pattern,
        municipalities,
        near ? lat : NULL,
        near ? lon : NULL,
        radius,
        capacity,
        accessibility,
        in->bookable_only ? "true" : "false",
        limit,
        offset,
        home,
        in->max_hourly_fee ? max_fee : NULL,
        in->sort == RENKEI__V1__FACILITY_SORT__FACILITY_SORT_PRICE ? "price" : "",
        words,
        grant,
    };
    int nearest = s->free && near && in->sort != RENKEI__V1__FACILITY_SORT__FACILITY_SORT_PRICE;
    if (rk_store_exec(rk_app(req)->store, nearest ? STMT_SEARCH_NEAREST : STMT_SEARCH, 16, values,
                      searched, s) != RK_AGAIN)
        fail_store(rpc, req, NULL);
}

/* --- GetFacility ---------------------------------------------------------------------------- */

static void got(const rk_store_result_t *res, void *arg)
{
    search_t *s = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(s->rpc, s->req, res);
        return;
    }
    const PGresult *r = res->results[0];
    Renkei__V1__Facility *f =
        PQntuples(r) == 1 ? facility_of(s->req->arena, r, 0, COL_GET_BODY) : NULL;
    if (!f) {
        rk_rpc_fail(s->rpc, RK_RPC_NOT_FOUND, "facility_id: no such facility");
        return;
    }
    Renkei__V1__GetFacilityResponse out = RENKEI__V1__GET_FACILITY_RESPONSE__INIT;
    out.facility = f;
    out.terms = terms_of(s->req->arena, r, 0);
    rk_rpc_reply(s->rpc, &out.base);
}

static void get_facility(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__GetFacilityRequest *in = (const Renkei__V1__GetFacilityRequest *)message;
    rk_request_t *req = rk_rpc_request(rpc);
    const char *id = in->facility_id;
    size_t len = strlen(id);
    int digits = len > 0 && len <= FACILITY_ID_MAX && id[0] != '0';
    for (size_t i = 0; digits && i < len; i++)
        digits = id[i] >= '0' && id[i] <= '9';
    if (!digits || (len == FACILITY_ID_MAX && strcmp(id, "9223372036854775807") > 0)) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    *id ? "facility_id: not a Facility.id of this hub"
                        : "facility_id: required (a Facility.id from SearchFacilities)");
        return;
    }
    const char *home, *grant;
    if (rk_facility_caller(rpc, &home, &grant) != 0)
        return;
    search_t *s = rk_arena_calloc(req->arena, 1, sizeof(*s));
    s->rpc = rpc;
    s->req = req;
    const char *values[] = {id, home, grant};
    if (rk_store_exec(rk_app(req)->store, STMT_GET, 3, values, got, s) != RK_AGAIN)
        fail_store(rpc, req, NULL);
}

/* --- registration --------------------------------------------------------------------------- */

static const rk_rpc_method_t methods[] = {
    {"/renkei.v1.FacilityService/SearchFacilities",
     &renkei__v1__search_facilities_request__descriptor,
     &renkei__v1__search_facilities_response__descriptor, search_facilities, 0},
    {"/renkei.v1.FacilityService/GetFacility", &renkei__v1__get_facility_request__descriptor,
     &renkei__v1__get_facility_response__descriptor, get_facility, 0},
};

void rk_facility_search_register(rk_facility_t *facility, rk_router_t *router)
{
    rk_store_prepare(facility->app->store, STMT_SEARCH, sql_search);
    rk_store_prepare(facility->app->store, STMT_SEARCH_NEAREST, sql_search_nearest);
    rk_store_prepare(facility->app->store, STMT_GET, sql_get);
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        rk_rpc_register(router, &methods[i]);
}
