/*
 * directory.c — the facilities and callers' fee sides a worker remembers (see directory.h).
 *
 * Facilities live in a chained hash table by hub id. Each entry owns an arena (its strings and
 * parsed schedule) and a reference count: one for the table, one for each request that holds
 * its target; a forgotten entry leaves the table at once and is freed with its last request.
 * A caller's fee sides are a small sorted array of (tenant id, resident rate?) per key.
 */
#include "facility/directory.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "net/json_transcode.h"
#include "net/pb_arena.h"
#include "renkei/v1/common.pb-c.h"
#include "store/listen.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_FACILITIES "facility_directory_facilities"
#define STMT_TERMS "facility_directory_terms"
#define CHANNEL_FACILITY "rk_facility"
#define CHANNEL_TERMS "rk_terms"
#define LISTEN_CONNECT_TIMEOUT_MS 5000
#define FIRST_BUCKETS 1024
#define MS 1000000ull

/* $1 hub ids (a bigint array literal). */
static const char sql_facilities[] =
    "SELECT f.id, f.owner_facility_id, f.adapter_id, f.tenant_id, t.code, t.slug, t.name_ja,"
    " t.name_en, t.name_kana, f.fees::text FROM rk_facility f"
    " JOIN rk_tenant t ON t.id = f.tenant_id WHERE f.id = ANY($1::bigint[])";

/* $1 the caller's home municipality code, $2 its grant (both NULL: anonymous). */
static const char sql_terms[] =
    "SELECT rt.tenant_id, (rt.fee_basis = 'resident_rate')::int"
    " FROM rk_caller_terms((SELECT id FROM rk_tenant WHERE code = $1),"
    "  (SELECT account_id FROM rk_identity_grant WHERE id = $2), 'facility.booking') rt"
    " ORDER BY rt.tenant_id";

enum {
    COL_ID,
    COL_OWNER_ID,
    COL_ADAPTER,
    COL_TENANT,
    COL_CODE,
    COL_SLUG,
    COL_JA,
    COL_EN,
    COL_KANA,
    COL_FEES
};

typedef struct entry {
    struct entry *next; /* in its bucket */
    int64_t id;
    int64_t tenant_id;
    int refs;
    rk_arena_t *arena;
    rk_availability_target_t target; /* fee_basis is the caller's: set per request */
} entry_t;

typedef struct side {
    int64_t tenant_id;
    int resident_rate;
} side_t;

typedef struct terms {
    struct terms *next;
    char *key;
    uint64_t loaded_ns;
    side_t *sides; /* by tenant id */
    size_t n_sides;
} terms_t;

struct rk_facility_directory {
    rk_app_t *app;
    rk_store_listener_t *listener;
    entry_t **buckets;
    size_t n_buckets, n_entries;
    terms_t **terms_buckets;
    size_t n_terms;
    uint64_t generation; /* raised by every forgetting: a load it overtakes is not kept */
    int pending;         /* finds waiting for the database */
    int closing;         /* freed: the last pending find releases it */
};

/* One find waiting for the database; in the request's arena. */
typedef struct find {
    rk_facility_directory_t *dir;
    rk_arena_t *arena;
    char *const *ids;
    size_t n;
    char *terms_key;
    const char *home, *grant;
    int64_t *hub_ids;
    entry_t **entries;
    const terms_t *terms;
    int need_facilities, need_terms;
    uint64_t generation;
    rk_facility_directory_cb done;
    void *arg;
} find_t;

/* --- entries -------------------------------------------------------------------------------- */

static size_t bucket_of(const rk_facility_directory_t *dir, int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 32) & (dir->n_buckets - 1);
}

static void entry_unref(void *data)
{
    entry_t *e = data;
    if (--e->refs > 0)
        return;
    rk_arena_free(e->arena);
    free(e);
}

static entry_t *entry_get(const rk_facility_directory_t *dir, int64_t id)
{
    for (entry_t *e = dir->buckets[bucket_of(dir, id)]; e; e = e->next) {
        if (e->id == id)
            return e;
    }
    return NULL;
}

static void entries_clear(rk_facility_directory_t *dir)
{
    for (size_t b = 0; b < dir->n_buckets; b++) {
        entry_t *e = dir->buckets[b];
        while (e) {
            entry_t *next = e->next;
            entry_unref(e);
            e = next;
        }
        dir->buckets[b] = NULL;
    }
    dir->n_entries = 0;
}

static void entry_forget(rk_facility_directory_t *dir, int64_t id)
{
    for (entry_t **p = &dir->buckets[bucket_of(dir, id)]; *p; p = &(*p)->next) {
        if ((*p)->id == id) {
            entry_t *e = *p;
            *p = e->next;
            dir->n_entries--;
            entry_unref(e);
            return;
        }
    }
}

static void buckets_grow(rk_facility_directory_t *dir)
{
    size_t n = dir->n_buckets * 2;
    entry_t **buckets = rk_xcalloc(n, sizeof(*buckets));
    entry_t **old = dir->buckets;
    size_t old_n = dir->n_buckets;
    dir->buckets = buckets;
    dir->n_buckets = n;
    for (size_t b = 0; b < old_n; b++) {
        entry_t *e = old[b];
        while (e) {
            entry_t *next = e->next;
            size_t to = bucket_of(dir, e->id);
            e->next = buckets[to];
            buckets[to] = e;
            e = next;
        }
    }
    free(old);
}

static void entry_keep(rk_facility_directory_t *dir, entry_t *e)
{
    if (dir->n_entries >= RK_FACILITY_DIRECTORY_MAX)
        entries_clear(dir);
    if (dir->n_entries >= dir->n_buckets)
        buckets_grow(dir);
    size_t b = bucket_of(dir, e->id);
    e->next = dir->buckets[b];
    dir->buckets[b] = e;
    dir->n_entries++;
    e->refs++;
}

/* An entry from row `row` of the facilities query (one reference: the caller's). */
static entry_t *entry_of(const PGresult *r, int row)
{
    entry_t *e = rk_xcalloc(1, sizeof(*e));
    e->refs = 1;
    e->arena = rk_arena_new();
    e->id = strtoll(PQgetvalue(r, row, COL_ID), NULL, 10);
    e->tenant_id = strtoll(PQgetvalue(r, row, COL_TENANT), NULL, 10);
    json_t *fees = json_loads(PQgetvalue(r, row, COL_FEES), JSON_REJECT_DUPLICATES, NULL);
    ProtobufCAllocator allocator = rk_pb_arena_allocator(e->arena);
    const Renkei__V1__FeeSchedule *schedule =
        fees ? (const Renkei__V1__FeeSchedule *)rk_json_to_message(
                   &renkei__v1__fee_schedule__descriptor, fees, &allocator, NULL, 0)
             : NULL;
    json_decref(fees);
    e->target = (rk_availability_target_t){
        .hub_id = rk_arena_strdup(e->arena, PQgetvalue(r, row, COL_ID)),
        .owner_id = rk_arena_strdup(e->arena, PQgetvalue(r, row, COL_OWNER_ID)),
        .adapter_id = strtoll(PQgetvalue(r, row, COL_ADAPTER), NULL, 10),
        .code = rk_arena_strdup(e->arena, PQgetvalue(r, row, COL_CODE)),
        .slug = rk_arena_strdup(e->arena, PQgetvalue(r, row, COL_SLUG)),
        .name_ja = rk_arena_strdup(e->arena, PQgetvalue(r, row, COL_JA)),
        .name_en = rk_arena_strdup(e->arena, PQgetvalue(r, row, COL_EN)),
        .name_kana = rk_arena_strdup(e->arena, PQgetvalue(r, row, COL_KANA)),
        .fees = schedule,
    };
    return e;
}

/* --- callers' fee sides ---------------------------------------------------------------------- */

static size_t terms_bucket(const char *key)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: keys are ours (a code and a grant id) */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h % RK_FACILITY_TERMS_MAX);
}

static void terms_free(terms_t *t)
{
    free(t->key);
    free(t->sides);
    free(t);
}

static void terms_clear(rk_facility_directory_t *dir)
{
    for (size_t b = 0; b < RK_FACILITY_TERMS_MAX; b++) {
        terms_t *t = dir->terms_buckets[b];
        while (t) {
            terms_t *next = t->next;
            terms_free(t);
            t = next;
        }
        dir->terms_buckets[b] = NULL;
    }
    dir->n_terms = 0;
}

/* The remembered fee sides under key, young enough; an old one is dropped. */
static const terms_t *terms_get(rk_facility_directory_t *dir, const char *key, uint64_t now)
{
    for (terms_t **p = &dir->terms_buckets[terms_bucket(key)]; *p; p = &(*p)->next) {
        if (strcmp((*p)->key, key) != 0)
            continue;
        if (now - (*p)->loaded_ns <= RK_FACILITY_TERMS_TTL_MS * MS)
            return *p;
        terms_t *old = *p;
        *p = old->next;
        dir->n_terms--;
        terms_free(old);
        return NULL;
    }
    return NULL;
}

/* Fee sides from the terms query, kept under key when keep (else the caller frees them). */
static terms_t *terms_of(rk_facility_directory_t *dir, const PGresult *r, const char *key, int keep)
{
    int n = PQntuples(r);
    terms_t *t = rk_xcalloc(1, sizeof(*t));
    t->key = rk_xstrdup(key);
    t->loaded_ns = rk_now_ns();
    t->sides = rk_xcalloc((size_t)(n ? n : 1), sizeof(*t->sides));
    for (int i = 0; i < n; i++) {
        t->sides[t->n_sides++] = (side_t){
            .tenant_id = strtoll(PQgetvalue(r, i, 0), NULL, 10),
            .resident_rate = strcmp(PQgetvalue(r, i, 1), "1") == 0,
        };
    }
    if (!keep)
        return t;
    if (dir->n_terms >= RK_FACILITY_TERMS_MAX)
        terms_clear(dir);
    size_t b = terms_bucket(key);
    t->next = dir->terms_buckets[b];
    dir->terms_buckets[b] = t;
    dir->n_terms++;
    return t;
}

/* The caller's side at tenant_id; a tenant the terms do not name charges the other rate. */
static rk_fee_basis_t side_at(const terms_t *t, int64_t tenant_id)
{
    size_t lo = 0, hi = t->n_sides;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->sides[mid].tenant_id == tenant_id)
            return t->sides[mid].resident_rate ? RK_FEE_RESIDENT_RATE : RK_FEE_NON_RESIDENT_RATE;
        if (t->sides[mid].tenant_id < tenant_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return RK_FEE_NON_RESIDENT_RATE;
}

/* --- finding ---------------------------------------------------------------------------------- */

/* A hub id as a positive bigint, or 0. */
static int64_t hub_id_of(const char *text)
{
    if (!*text || strspn(text, "0123456789") != strlen(text))
        return 0;
    errno = 0;
    long long v = strtoll(text, NULL, 10);
    return errno ? 0 : (int64_t)v;
}

/* Answers f from its entries and terms; every entry is held until f's arena ends. */
static void answer(find_t *f)
{
    rk_availability_target_t *targets =
        rk_arena_calloc(f->arena, f->n ? f->n : 1, sizeof(*targets));
    for (size_t i = 0; i < f->n; i++) {
        entry_t *e = f->entries[i];
        e->refs++;
        rk_arena_on_free(f->arena, entry_unref, e);
        targets[i] = e->target;
        targets[i].fee_basis = side_at(f->terms, e->tenant_id);
    }
    rk_facility_directory_answer_t a = {.status = RK_OK, .targets = targets};
    f->done(&a, f->arg);
}

static void fail(find_t *f, int status, size_t unknown, const rk_store_result_t *failure)
{
    rk_facility_directory_answer_t a = {.status = status, .unknown = unknown, .failure = failure};
    f->done(&a, f->arg);
}

static void free_unkept_terms(void *data)
{
    terms_free(data);
}

static void directory_release(rk_facility_directory_t *dir);

static void loaded(const rk_store_result_t *res, void *arg)
{
    find_t *f = arg;
    rk_facility_directory_t *dir = f->dir;
    dir->pending--;
    if (dir->closing) {
        fail(f, RK_ESHUTDOWN, 0, NULL);
        directory_release(dir);
        return;
    }
    size_t expected = (size_t)(f->need_facilities + f->need_terms);
    if (res->status != RK_OK || (size_t)res->n_results != expected) {
        fail(f, res->status != RK_OK ? res->status : RK_EINVAL, 0, res);
        return;
    }
    int keep = f->generation == dir->generation;
    size_t at = 0;
    if (f->need_facilities) {
        const PGresult *r = res->results[at++];
        for (int row = 0; row < PQntuples(r); row++) {
            entry_t *e = entry_of(r, row);
            rk_arena_on_free(f->arena, entry_unref, e); /* the query's reference */
            for (size_t i = 0; i < f->n; i++) {
                if (f->hub_ids[i] == e->id)
                    f->entries[i] = e;
            }
            if (keep && !entry_get(dir, e->id))
                entry_keep(dir, e);
        }
        for (size_t i = 0; i < f->n; i++) {
            if (!f->entries[i]) {
                fail(f, RK_ENOTFOUND, i, NULL);
                return;
            }
        }
    }
    if (f->need_terms) {
        terms_t *t = terms_of(dir, res->results[at], f->terms_key, keep);
        if (!keep)
            rk_arena_on_free(f->arena, free_unkept_terms, t);
        f->terms = t;
    }
    answer(f);
}

void rk_facility_directory_find(rk_facility_directory_t *dir, rk_arena_t *arena, char *const *ids,
                                size_t n, const char *home, const char *grant,
                                rk_facility_directory_cb done, void *arg)
{
    find_t *f = rk_arena_calloc(arena, 1, sizeof(*f));
    f->dir = dir;
    f->arena = arena;
    f->ids = ids;
    f->n = n;
    f->home = home;
    f->grant = grant;
    f->done = done;
    f->arg = arg;
    f->generation = dir->generation;
    f->terms_key = home ? rk_arena_printf(arena, "%s\n%s", home, grant ? grant : "") : "";
    f->hub_ids = rk_arena_calloc(arena, n ? n : 1, sizeof(*f->hub_ids));
    f->entries = rk_arena_calloc(arena, n ? n : 1, sizeof(*f->entries));
    for (size_t i = 0; i < n; i++) {
        f->hub_ids[i] = hub_id_of(ids[i]);
        if (!f->hub_ids[i]) {
            fail(f, RK_ENOTFOUND, i, NULL);
            return;
        }
        f->entries[i] = entry_get(dir, f->hub_ids[i]);
        if (!f->entries[i])
            f->need_facilities = 1;
    }
    f->terms = terms_get(dir, f->terms_key, rk_now_ns());
    f->need_terms = f->terms == NULL;
    if (!f->need_facilities && !f->need_terms) {
        answer(f);
        return;
    }
    /* What is remembered now may be forgotten before the database answers: with facilities to
     * load, all are asked again; else the remembered ones are held until the request ends. */
    for (size_t i = 0; i < n; i++) {
        if (f->need_facilities) {
            f->entries[i] = NULL;
        } else {
            f->entries[i]->refs++;
            rk_arena_on_free(arena, entry_unref, f->entries[i]);
        }
    }
    rk_store_batch_t *batch = rk_store_batch_new(dir->app->store);
    if (f->need_facilities) {
        size_t cap = 3 + n * 21;
        char *list = rk_arena_alloc(arena, cap), *p = list;
        *p++ = '{';
        for (size_t i = 0; i < n; i++)
            p += snprintf(p, cap - (size_t)(p - list), "%s%" PRId64, i ? "," : "", f->hub_ids[i]);
        snprintf(p, cap - (size_t)(p - list), "}");
        const char *values[] = {list};
        rk_store_batch_add(batch, 1, STMT_FACILITIES, 1, values);
    }
    if (f->need_terms) {
        const char *values[] = {home, grant};
        rk_store_batch_add(batch, 1, STMT_TERMS, 2, values);
    }
    if (rk_store_batch_run(batch, loaded, f) != RK_AGAIN) {
        fail(f, RK_EUNAVAILABLE, 0, NULL);
        return;
    }
    dir->pending++;
}

/* --- notifications ------------------------------------------------------------------------ */

static void facility_changed(const char *channel, const char *payload, void *arg)
{
    (void)channel;
    rk_facility_directory_t *dir = arg;
    dir->generation++;
    int64_t id = hub_id_of(payload ? payload : "");
    if (id)
        entry_forget(dir, id);
    else
        entries_clear(dir);
}

static void terms_changed(const char *channel, const char *payload, void *arg)
{
    (void)channel;
    (void)payload;
    rk_facility_directory_t *dir = arg;
    dir->generation++;
    terms_clear(dir);
    entries_clear(dir); /* a tenant's names are in every entry */
}

static void listening(const char *channel, void *arg)
{
    terms_changed(channel, NULL, arg);
}

rk_facility_directory_t *rk_facility_directory_new(rk_app_t *app)
{
    rk_facility_directory_t *dir = rk_xcalloc(1, sizeof(*dir));
    dir->app = app;
    dir->n_buckets = FIRST_BUCKETS;
    dir->buckets = rk_xcalloc(dir->n_buckets, sizeof(*dir->buckets));
    dir->terms_buckets = rk_xcalloc(RK_FACILITY_TERMS_MAX, sizeof(*dir->terms_buckets));
    rk_store_prepare(app->store, STMT_FACILITIES, sql_facilities);
    rk_store_prepare(app->store, STMT_TERMS, sql_terms);
    rk_store_options_t options = {
        .conninfo = app->cfg->store_conninfo,
        .reconnect_max_ms = app->cfg->store_reconnect_max_ms,
        .connect_timeout_ms = LISTEN_CONNECT_TIMEOUT_MS,
    };
    dir->listener = rk_store_listener_new(app->base, &options);
    rk_store_listen(dir->listener, CHANNEL_FACILITY, facility_changed, listening, dir);
    rk_store_listen(dir->listener, CHANNEL_TERMS, terms_changed, listening, dir);
    rk_store_listener_start(dir->listener);
    return dir;
}

static void directory_release(rk_facility_directory_t *dir)
{
    if (dir->pending > 0)
        return;
    entries_clear(dir);
    terms_clear(dir);
    free(dir->buckets);
    free(dir->terms_buckets);
    free(dir);
}

void rk_facility_directory_free(rk_facility_directory_t *dir)
{
    if (!dir)
        return;
    dir->closing = 1;
    rk_store_listener_free(dir->listener);
    dir->listener = NULL;
    directory_release(dir);
}
