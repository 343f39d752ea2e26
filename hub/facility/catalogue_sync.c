/*
 * catalogue_sync.c — facility catalogue sync from the adapters (see catalogue_sync.h).
 *
 * A job is one adapter's sync, malloc'd and moved along by callbacks:
 *
 *   [read the stored change token] → ListFacilities(token, page) → one batch per page
 *     (upserts, deletes; on the last page the full listing's leftovers, the new token and the
 *     cleared sync error) → next page … → answer the SyncAdapter callers waiting on it
 *   any failure → store last_error "sync: …" on the adapter → answer the callers with it
 *
 * The job looks the adapter up in the federation registry by id before each page: a channel
 * is never kept across callbacks, so an adapter disabled meanwhile ends the sync cleanly.
 * Callers waiting on a job are kept in their request's arena; when the arena goes first (the
 * client left, the server stopped) its cleanup unlinks the caller.
 */
#include "facility/catalogue_sync.h"

#include "admin/admin_auth.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "facility/availability.h"
#include "facility/booking.h"
#include "facility/booking_sweep.h"
#include "facility/kinds.h"
#include "facility/kinds_service.h"
#include "facility/search.h"
#include "facility/watch.h"
#include "federation/adapter_rules.h"
#include "federation/federation.h"
#include "identity/key_store.h"
#include "net/json_transcode.h"
#include "net/rpc.h"
#include "net/rpc_client.h"
#include "renkei/v1/adapter.pb-c.h"
#include "renkei/v1/admin.pb-c.h"

#include <event2/event.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define STMT_TOKEN "facility_sync_token"
#define STMT_UPSERT "facility_sync_upsert"
#define STMT_DELETE "facility_sync_delete"
#define STMT_DELETE_UNLISTED "facility_sync_delete_unlisted"
#define STMT_SAVE_TOKEN "facility_sync_save_token"
#define STMT_CLEAR_ERROR "facility_sync_clear_error"
#define STMT_SET_ERROR "facility_sync_set_error"
#define STMT_ADAPTER "facility_sync_adapter"
#define STMT_STATE "facility_sync_state"

#define PAGE_SIZE 500                  /* facilities asked per ListFacilities page */
#define MAX_PAGES 10000                /* a listing longer than this is refused */
#define PAGE_TIMEOUT_NS 15000000000ull /* one ListFacilities call */
#define OWNER_ID_MAX 256               /* rk_facility.owner_facility_id */
#define TOKEN_MAX 4096                 /* rk_facility_sync.change_token */
#define NAME_KEY_MAX 4096              /* rk_facility.name_key: the names' matching keys */
#define ERROR_MAX 1000                 /* stored last_error */
#define CATALOGUE_BIT (1u << RENKEI__V1__ADAPTER_CAPABILITY__ADAPTER_CAPABILITY_FACILITY_CATALOGUE)

static const char sql_token[] = "SELECT change_token FROM rk_facility_sync WHERE adapter_id = $1";

/* $1 tenant id, $2 adapter id, $3 the page's facilities as a JSON array of rows (lat and lon
 * null without a location; owner ids unique). Unchanged rows are left alone; answers how many
 * rows were inserted and how many changed. */
static const char sql_upsert[] =
    "WITH r AS (SELECT * FROM jsonb_to_recordset($3::jsonb) AS x(owner_facility_id text,"
    "  kind int, name_ja text, name_en text, name_kana text, address text, lat float8,"
    "  lon float8, capacity int, bookable boolean, fees jsonb, body jsonb, name_key text,"
    "  packed text)),"
    " up AS (INSERT INTO rk_facility AS f (tenant_id, adapter_id, owner_facility_id, kind,"
    "  name_ja, name_en, name_kana, address, location, capacity, bookable_via_hub, fees, body,"
    "  name_key, packed)"
    "  SELECT $1::bigint, $2::bigint, r.owner_facility_id, r.kind, r.name_ja, r.name_en,"
    "   r.name_kana, r.address, CASE WHEN r.lat IS NULL OR r.lon IS NULL THEN NULL"
    "   ELSE ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326)::geography END,"
    "   r.capacity, r.bookable, r.fees, r.body, r.name_key, decode(r.packed, 'hex') FROM r"
    "  ON CONFLICT (adapter_id, owner_facility_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id,"
    "   kind = EXCLUDED.kind, name_ja = EXCLUDED.name_ja, name_en = EXCLUDED.name_en,"
    "   name_kana = EXCLUDED.name_kana, address = EXCLUDED.address,"
    "   location = EXCLUDED.location, capacity = EXCLUDED.capacity,"
    "   bookable_via_hub = EXCLUDED.bookable_via_hub, fees = EXCLUDED.fees,"
    "   body = EXCLUDED.body, name_key = EXCLUDED.name_key, packed = EXCLUDED.packed,"
    "   updated_at = now()"
    "  WHERE f.body IS DISTINCT FROM EXCLUDED.body OR f.tenant_id <> EXCLUDED.tenant_id"
    "   OR f.name_key <> EXCLUDED.name_key OR f.packed IS DISTINCT FROM EXCLUDED.packed"
    "  RETURNING (xmax = 0) AS inserted)"
    " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up";

/* $2: a JSON array of the owner ids removed. */
static const char sql_delete[] =
    "DELETE FROM rk_facility WHERE adapter_id = $1 AND owner_facility_id IN"
    " (SELECT jsonb_array_elements_text($2::jsonb))";

/* $2: a JSON array of every owner id the full listing held. */
static const char sql_delete_unlisted[] =
    "DELETE FROM rk_facility WHERE adapter_id = $1 AND owner_facility_id NOT IN"
    " (SELECT jsonb_array_elements_text($2::jsonb))";

static const char sql_save_token[] =
    "INSERT INTO rk_facility_sync (adapter_id, change_token, last_sync_at)"
    " SELECT id, $2, now() FROM rk_adapter WHERE id = $1"
    " ON CONFLICT (adapter_id) DO UPDATE SET change_token = EXCLUDED.change_token,"
    "  last_sync_at = EXCLUDED.last_sync_at";

static const char sql_clear_error[] =
    "UPDATE rk_adapter SET last_error = '' WHERE id = $1 AND last_error LIKE 'sync: %'";

/* Only on an adapter that is still active: an activation failure's reason is not replaced. */
static const char sql_set_error[] =
    "UPDATE rk_adapter SET last_error = $2, updated_at = now() WHERE id = $1 AND state = 'active'";

#define UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const char sql_adapter[] =
    "SELECT a.id, t.code, t.slug, t.name_ja, t.name_en, t.name_kana, a.name, a.endpoint,"
    " a.state, a.adapter_version, a.last_error, coalesce(s.change_token, ''),"
    " coalesce(" UTC("s.last_sync_at") ", ''), " UTC(
        "a.created_at") " FROM rk_adapter a JOIN rk_tenant t ON t.id = a.tenant_id"
                        " LEFT JOIN rk_facility_sync s ON s.adapter_id = a.id WHERE a.id = $1";

static const char sql_state[] = "SELECT a.state FROM rk_tenant t LEFT JOIN rk_adapter a"
                                " ON a.tenant_id = t.id AND a.name = $2"
                                " WHERE t.slug = $1 OR t.code = $1";

typedef struct rk_facility_job job_t;

/* A SyncAdapter call waiting for a job; lives in the call's request arena. */
typedef struct waiter {
    struct waiter *next;
    job_t *job; /* NULL once answered or detached */
    rk_rpc_t *rpc;
    rk_request_t *req;
} waiter_t;

struct rk_facility_job {
    job_t *next;
    rk_facility_t *fac;
    int64_t adapter_id, tenant_id;
    char *tenant, *name; /* tenant slug and adapter name, for logs and messages */
    char *token;         /* the change token sent */
    char *page_token;    /* the page asked next; "" = the first */
    int pages;
    int full;       /* this listing is a full one: delete what it does not hold */
    json_t *listed; /* with full: every owner id listed so far */
    int added, updated, removed, skipped;
    int last_page; /* the batch in flight holds the last page */
    char started_at[32];
    waiter_t *waiters;
};

/* --- helpers ------------------------------------------------------------------------------- */

static void utc_now(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const rk_federation_adapter_t *registry_adapter(const rk_facility_t *fac, int64_t id)
{
    const rk_federation_t *fed = fac->app->federation;
    if (!fed)
        return NULL;
    for (size_t i = 0, n = rk_federation_count(fed); i < n; i++) {
        const rk_federation_adapter_t *a = rk_federation_adapter_at(fed, i);
        if (a->id == id)
            return a;
    }
    return NULL;
}

static void fac_release(rk_facility_t *fac)
{
    if (fac->closing && !fac->jobs)
        free(fac);
}

static void waiter_arena_gone(void *data)
{
    waiter_t *w = data;
    job_t *job = w->job;
    if (!job)
        return;
    for (waiter_t **p = &job->waiters; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    w->job = NULL;
}

/* Takes the job's waiters off it: the caller answers them (or not, when closing). */
static waiter_t *waiters_take(job_t *job)
{
    waiter_t *list = job->waiters;
    job->waiters = NULL;
    for (waiter_t *w = list; w; w = w->next)
        w->job = NULL;
    return list;
}

static void job_free(job_t *job)
{
    rk_facility_t *fac = job->fac;
    for (job_t **p = &fac->jobs; *p; p = &(*p)->next) {
        if (*p == job) {
            *p = job->next;
            break;
        }
    }
    waiters_take(job);
    json_decref(job->listed);
    free(job->tenant);
    free(job->name);
    free(job->token);
    free(job->page_token);
    free(job);
    fac_release(fac);
}

/* --- answers to SyncAdapter ------------------------------------------------------------------ */

static void answer_done(job_t *job, const PGresult *r)
{
    char finished_at[32];
    utc_now(finished_at);
    waiter_t *list = waiters_take(job);
    for (waiter_t *w = list, *next; w; w = next) {
        next = w->next;
        Renkei__V1__LocalizedText name = RENKEI__V1__LOCALIZED_TEXT__INIT;
        Renkei__V1__MunicipalityRef tenant = RENKEI__V1__MUNICIPALITY_REF__INIT;
        Renkei__V1__Adapter adapter = RENKEI__V1__ADAPTER__INIT;
        Renkei__V1__SyncAdapterResponse out = RENKEI__V1__SYNC_ADAPTER_RESPONSE__INIT;
        if (r && PQntuples(r) == 1) {
            name.ja = PQgetvalue(r, 0, 3);
            name.en = PQgetvalue(r, 0, 4);
            name.kana = PQgetvalue(r, 0, 5);
            tenant.code = PQgetvalue(r, 0, 1);
            tenant.slug = PQgetvalue(r, 0, 2);
            tenant.name = &name;
            adapter.id = PQgetvalue(r, 0, 0);
            adapter.tenant = &tenant;
            adapter.name = PQgetvalue(r, 0, 6);
            adapter.endpoint = PQgetvalue(r, 0, 7);
            adapter.state = rk_federation_state_value(PQgetvalue(r, 0, 8));
            adapter.adapter_version = PQgetvalue(r, 0, 9);
            adapter.last_error = PQgetvalue(r, 0, 10);
            adapter.change_token = PQgetvalue(r, 0, 11);
            adapter.last_sync_at = PQgetvalue(r, 0, 12);
            adapter.created_at = PQgetvalue(r, 0, 13);
            if (registry_adapter(job->fac, job->adapter_id))
                adapter.breaker = RENKEI__V1__BREAKER_STATE__BREAKER_STATE_CLOSED;
            out.adapter = &adapter;
        }
        out.added = job->added;
        out.updated = job->updated;
        out.removed = job->removed;
        out.started_at = job->started_at;
        out.finished_at = finished_at;
        rk_rpc_reply(w->rpc, &out.base);
    }
}

static void adapter_read(const rk_store_result_t *res, void *arg)
{
    job_t *job = arg;
    if (!job->fac->closing)
        answer_done(job, res->status == RK_OK && res->n_results == 1 ? res->results[0] : NULL);
    job_free(job);
}

static void job_done(job_t *job)
{
    rk_log_info("facility catalogue synced", "{s:s, s:s, s:i, s:i, s:i, s:i, s:i}", "tenant",
                job->tenant, "adapter", job->name, "pages", job->pages, "added", job->added,
                "updated", job->updated, "removed", job->removed, "skipped", job->skipped);
    if (!job->waiters) {
        job_free(job);
        return;
    }
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)job->adapter_id);
    const char *values[] = {id};
    if (rk_store_exec(job->fac->app->store, STMT_ADAPTER, 1, values, adapter_read, job) !=
        RK_AGAIN) {
        answer_done(job, NULL);
        job_free(job);
    }
}

static void error_stored(const rk_store_result_t *res, void *arg)
{
    (void)res;
    (void)arg;
}

/* Ends job with an error: logged, stored on the adapter (unless the store is what failed),
 * and answered to the callers waiting. */
static void job_fail(job_t *job, rk_rpc_code_t code, const char *why, int store_it)
{
    rk_facility_t *fac = job->fac;
    if (fac->closing) {
        job_free(job);
        return;
    }
    char message[ERROR_MAX + 1];
    snprintf(message, sizeof(message), "sync: %s", why);
    rk_log_warn("facility catalogue sync failed", "{s:s, s:s, s:s}", "tenant", job->tenant,
                "adapter", job->name, "error", message);
    if (store_it) {
        char id[24];
        snprintf(id, sizeof(id), "%lld", (long long)job->adapter_id);
        const char *values[] = {id, message};
        rk_store_exec(fac->app->store, STMT_SET_ERROR, 2, values, error_stored, NULL);
    }
    waiter_t *list = waiters_take(job);
    for (waiter_t *w = list, *next; w; w = next) {
        next = w->next;
        rk_rpc_fail(w->rpc, code,
                    rk_arena_printf(w->req->arena, "adapter %s of %s: %s", job->name, job->tenant,
                                    message));
    }
    job_free(job);
}

static void job_fail_store(job_t *job, const rk_store_result_t *res)
{
    if (res && res->status == RK_EINVAL) {
        rk_log_error("facility sync query failed", "{s:s, s:s, s:s}", "tenant", job->tenant,
                     "adapter", job->name, "error", res->error);
        job_fail(job, RK_RPC_INTERNAL, "storing the facilities failed; the hub's log has why", 1);
        return;
    }
    job_fail(job, RK_RPC_UNAVAILABLE, "the database is not reachable now; retry later", 0);
}

/* --- one page ------------------------------------------------------------------------------- */

static void call_page(job_t *job);

static void page_stored(const rk_store_result_t *res, void *arg)
{
    job_t *job = arg;
    if (job->fac->closing) {
        job_free(job);
        return;
    }
    if (res->status != RK_OK) {
        job_fail_store(job, res);
        return;
    }
    /* The batch: the upsert, the removed ids' delete, on the last page of a full listing the
     * unlisted ones' delete, then the token and the error (command results). */
    if (res->n_results >= 2 && PQntuples(res->results[0]) == 1) {
        job->added += atoi(PQgetvalue(res->results[0], 0, 0));
        job->updated += atoi(PQgetvalue(res->results[0], 0, 1));
        job->removed += atoi(PQcmdTuples(res->results[1]));
        if (job->last_page && job->full && res->n_results >= 3)
            job->removed += atoi(PQcmdTuples(res->results[2]));
    }
    job->pages++;
    if (job->last_page)
        job_done(job);
    else
        call_page(job);
}

/* f packed without the hub's own fields (id, owner, updated_at: set when read), as a JSON string
 * of hex digits: what search reads back (one unpack instead of parsing the JSON body). */
static json_t *packed_hex(const Renkei__V1__Facility *f)
{
    Renkei__V1__Facility listed = *f;
    listed.id = (char *)"";
    listed.owner = NULL;
    listed.updated_at = (char *)"";
    size_t len = renkei__v1__facility__get_packed_size(&listed);
    uint8_t *bytes = rk_xmalloc(len ? len : 1);
    renkei__v1__facility__pack(&listed, bytes);
    char *hex = rk_identity_hex(bytes, len);
    json_t *text = json_string(hex);
    free(bytes);
    free(hex);
    return text;
}

/* Appends facility f's row to rows; 0 when f is skipped (no owner id, one already in this
 * page, not representable as JSON). */
static int add_row(job_t *job, json_t *rows, json_t *page_ids, const Renkei__V1__Facility *f)
{
    const char *owner_id = f->owner_facility_id;
    if (!owner_id || !*owner_id || strlen(owner_id) > OWNER_ID_MAX)
        return 0;
    json_t *body = rk_json_from_message(&f->base); /* NULL on invalid UTF-8 */
    if (!body)
        return 0;
    if (json_object_get(page_ids, owner_id)) {
        json_decref(body);
        return 0;
    }
    json_object_set_new(page_ids, owner_id, json_true());
    /* The hub's own fields are set when read. */
    json_object_del(body, "id");
    json_object_del(body, "owner");
    json_object_del(body, "updatedAt");
    json_t *fees = json_object_get(body, "fees");
    const Renkei__V1__GeoPoint *at = f->location;
    int located = at && isfinite(at->latitude) && isfinite(at->longitude) &&
                  fabs(at->latitude) <= 90 && fabs(at->longitude) <= 180;
    const Renkei__V1__LocalizedText *name = f->name;
    const char *address =
        f->address && f->address->text && f->address->text->ja ? f->address->text->ja : "";
    char name_key[NAME_KEY_MAX];
    rk_facility_name_key(name && name->ja ? name->ja : "", name && name->en ? name->en : "",
                         name && name->kana ? name->kana : "", name_key, sizeof(name_key));
    json_t *row =
        json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:o, s:o, s:i, s:b, s:o, s:o, s:s, s:o}",
                  "owner_facility_id", owner_id, "kind", (int)f->kind, "name_ja",
                  name && name->ja ? name->ja : "", "name_en", name && name->en ? name->en : "",
                  "name_kana", name && name->kana ? name->kana : "", "address", address, "lat",
                  located ? json_real(at->latitude) : json_null(), "lon",
                  located ? json_real(at->longitude) : json_null(), "capacity",
                  f->capacity > 0 ? f->capacity : 0, "bookable", f->bookable_via_hub ? 1 : 0,
                  "fees", fees ? json_incref(fees) : json_object(), "body", body, "name_key",
                  name_key, "packed", packed_hex(f));
    if (!row)
        return 0;
    json_array_append_new(rows, row);
    if (job->listed)
        json_array_append_new(job->listed, json_string(owner_id));
    return 1;
}

/* The JSON text of value (released); the caller frees it. */
static char *dump(json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT);
    json_decref(value);
    return text ? text : rk_xstrdup("[]");
}

static void listed(const rk_rpc_result_t *result, void *arg)
{
    job_t *job = arg;
    if (job->fac->closing) {
        job_free(job);
        return;
    }
    if (result->code != RK_RPC_OK) {
        char why[ERROR_MAX];
        snprintf(why, sizeof(why), "ListFacilities: %s: %s", rk_rpc_code_name(result->code),
                 result->message ? result->message : "");
        job_fail(job, RK_RPC_UNAVAILABLE, why, 1);
        return;
    }
    const Renkei__V1__AdapterListFacilitiesResponse *out =
        (const Renkei__V1__AdapterListFacilitiesResponse *)result->response;
    if (job->pages == 0 && (out->full_listing || !*job->token)) {
        job->full = 1;
        job->listed = json_array();
    }
    const char *next = out->page && out->page->next_page_token ? out->page->next_page_token : "";
    if (*next && strcmp(next, job->page_token) == 0) {
        job_fail(job, RK_RPC_UNAVAILABLE,
                 "ListFacilities: the adapter answered the same next_page_token again", 1);
        return;
    }
    if (*next && job->pages + 1 >= MAX_PAGES) {
        job_fail(job, RK_RPC_UNAVAILABLE, "ListFacilities: more than 10000 pages", 1);
        return;
    }
    const char *token = out->change_token ? out->change_token : "";
    if (!*next && strlen(token) > TOKEN_MAX) {
        job_fail(job, RK_RPC_UNAVAILABLE, "ListFacilities: change_token longer than 4096 bytes", 1);
        return;
    }
    char adapter_id[24], tenant_id[24];
    snprintf(adapter_id, sizeof(adapter_id), "%lld", (long long)job->adapter_id);
    snprintf(tenant_id, sizeof(tenant_id), "%lld", (long long)job->tenant_id);
    json_t *rows = json_array(), *page_ids = json_object(), *removed = json_array();
    for (size_t i = 0; i < out->n_facilities; i++) {
        if (!add_row(job, rows, page_ids, out->facilities[i]))
            job->skipped++;
    }
    json_decref(page_ids);
    for (size_t i = 0; i < out->n_removed_facility_ids; i++) {
        const char *id = out->removed_facility_ids[i];
        json_t *value = json_string(id); /* refuses invalid UTF-8 */
        if (!value || !*id || strlen(id) > OWNER_ID_MAX) {
            json_decref(value);
            job->skipped++;
            continue;
        }
        json_array_append_new(removed, value);
    }
    rk_store_batch_t *batch = rk_store_batch_new(job->fac->app->store);
    char *rows_text = dump(rows), *removed_text = dump(removed);
    const char *upsert[] = {tenant_id, adapter_id, rows_text};
    rk_store_batch_add(batch, 1, STMT_UPSERT, 3, upsert);
    const char *remove[] = {adapter_id, removed_text};
    rk_store_batch_add(batch, 1, STMT_DELETE, 2, remove);
    free(rows_text);
    free(removed_text);
    job->last_page = !*next;
    if (job->last_page) {
        if (job->full) {
            char *ids = json_dumps(job->listed, JSON_COMPACT);
            const char *values[] = {adapter_id, ids ? ids : "[]"};
            rk_store_batch_add(batch, 1, STMT_DELETE_UNLISTED, 2, values);
            free(ids);
        }
        json_t *valid = json_string(token);
        const char *values[] = {adapter_id, valid ? token : ""};
        json_decref(valid);
        rk_store_batch_add(batch, 1, STMT_SAVE_TOKEN, 2, values);
        const char *clear[] = {adapter_id};
        rk_store_batch_add(batch, 1, STMT_CLEAR_ERROR, 1, clear);
    } else {
        free(job->page_token);
        job->page_token = rk_xstrdup(next);
    }
    if (rk_store_batch_run(batch, page_stored, job) != RK_AGAIN)
        job_fail_store(job, NULL);
}

static void call_page(job_t *job)
{
    const rk_federation_adapter_t *a = registry_adapter(job->fac, job->adapter_id);
    if (!a) {
        job_fail(job, RK_RPC_FAILED_PRECONDITION,
                 "the adapter is no longer active on this hub (disabled or removed)", 0);
        return;
    }
    Renkei__V1__PageRequest page = RENKEI__V1__PAGE_REQUEST__INIT;
    page.page_size = PAGE_SIZE;
    page.page_token = job->page_token;
    Renkei__V1__AdapterListFacilitiesRequest request =
        RENKEI__V1__ADAPTER_LIST_FACILITIES_REQUEST__INIT;
    request.change_token = job->token;
    request.page = &page;
    rk_rpc_call(a->channel, "/renkei.v1.AdapterService/ListFacilities", &request.base,
                &renkei__v1__adapter_list_facilities_response__descriptor, PAGE_TIMEOUT_NS, NULL, 0,
                listed, job);
}

static void token_read(const rk_store_result_t *res, void *arg)
{
    job_t *job = arg;
    if (job->fac->closing) {
        job_free(job);
        return;
    }
    if (res->status != RK_OK || res->n_results != 1) {
        job_fail_store(job, res);
        return;
    }
    const PGresult *r = res->results[0];
    if (PQntuples(r) == 1) {
        free(job->token);
        job->token = rk_xstrdup(PQgetvalue(r, 0, 0));
    }
    call_page(job);
}

/* Starts a sync of adapter (incremental unless full), or joins the one running; w (may be
 * NULL) waits for its end. */
static void job_start(rk_facility_t *fac, const rk_federation_adapter_t *adapter, int full,
                      waiter_t *w)
{
    job_t *job = fac->jobs;
    while (job && job->adapter_id != adapter->id)
        job = job->next;
    if (!job) {
        job = rk_xcalloc(1, sizeof(*job));
        job->fac = fac;
        job->adapter_id = adapter->id;
        job->tenant_id = adapter->tenant_id;
        job->tenant = rk_xstrdup(adapter->tenant_slug);
        job->name = rk_xstrdup(adapter->name);
        job->token = rk_xstrdup("");
        job->page_token = rk_xstrdup("");
        utc_now(job->started_at);
        job->next = fac->jobs;
        fac->jobs = job;
        rk_log_debug("facility catalogue sync started", "{s:s, s:s, s:b}", "tenant", job->tenant,
                     "adapter", job->name, "full", full);
        if (w) {
            w->job = job;
            job->waiters = w;
        }
        if (full) {
            call_page(job);
            return;
        }
        char id[24];
        snprintf(id, sizeof(id), "%lld", (long long)adapter->id);
        const char *values[] = {id};
        if (rk_store_exec(fac->app->store, STMT_TOKEN, 1, values, token_read, job) != RK_AGAIN)
            job_fail_store(job, NULL);
        return;
    }
    if (w) {
        w->job = job;
        w->next = job->waiters;
        job->waiters = w;
    }
}

/* --- the schedule --------------------------------------------------------------------------- */

static void schedule(rk_facility_t *fac, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(fac->timer, &tv);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_facility_t *fac = arg;
    const rk_federation_t *fed = fac->app->federation;
    size_t n = fed ? rk_federation_count(fed) : 0;
    /* Copy the ids first: a job failing at once changes nothing in the registry, but the
     * registry is not ours to iterate across calls. */
    int64_t *ids = rk_xcalloc(n ? n : 1, sizeof(*ids));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const rk_federation_adapter_t *a = rk_federation_adapter_at(fed, i);
        if (a->capabilities & CATALOGUE_BIT)
            ids[k++] = a->id;
    }
    for (size_t i = 0; i < k; i++) {
        const rk_federation_adapter_t *a = registry_adapter(fac, ids[i]);
        if (a)
            job_start(fac, a, 0, NULL);
    }
    free(ids);
    schedule(fac, fac->app->cfg->facility_sync_interval_ms);
}

/* --- AdminService.SyncAdapter ---------------------------------------------------------------- */

typedef struct sync_call {
    rk_rpc_t *rpc;
    rk_request_t *req;
    const char *tenant, *name;
} sync_call_t;

/* The adapter is not in this hub's registry: say why, from its row. */
static void state_read(const rk_store_result_t *res, void *arg)
{
    sync_call_t *c = arg;
    rk_arena_t *arena = c->req->arena;
    if (res->status != RK_OK || res->n_results != 1) {
        rk_rpc_fail(c->rpc, RK_RPC_UNAVAILABLE, "the database is not reachable now; retry later");
        return;
    }
    const PGresult *r = res->results[0];
    if (PQntuples(r) < 1) {
        rk_rpc_fail(
            c->rpc, RK_RPC_NOT_FOUND,
            rk_arena_printf(arena, "tenant: no tenant with slug or code \"%s\"", c->tenant));
        return;
    }
    if (PQgetisnull(r, 0, 0)) {
        rk_rpc_fail(c->rpc, RK_RPC_NOT_FOUND,
                    rk_arena_printf(arena, "name: tenant %s has no adapter named \"%s\"", c->tenant,
                                    c->name));
        return;
    }
    const char *state = PQgetvalue(r, 0, 0);
    rk_rpc_fail(c->rpc, RK_RPC_FAILED_PRECONDITION,
                strcmp(state, "active") == 0
                    ? rk_arena_printf(arena,
                                      "name: adapter \"%s\" of %s is active but not yet in this "
                                      "hub's registry; retry in a few seconds",
                                      c->name, c->tenant)
                    : rk_arena_printf(arena,
                                      "name: adapter \"%s\" of %s is %s, not active; enable it "
                                      "first",
                                      c->name, c->tenant, state));
}

static void sync_adapter(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__SyncAdapterRequest *in = (const Renkei__V1__SyncAdapterRequest *)message;
    if (!rk_admin_authorize_tenant_rpc(rpc, "SyncAdapter", in->tenant,
                                       RK_ADMIN_ROLE_TENANT_ADMIN | RK_ADMIN_ROLE_FACILITY_MANAGER |
                                           RK_ADMIN_ROLE_LIBRARIAN))
        return;
    rk_request_t *req = rk_rpc_request(rpc);
    rk_facility_t *fac = rk_app(req)->facility;
    /* A sync is idempotent by nature: the key is checked, not recorded. */
    if (in->idempotency_key && *in->idempotency_key->key &&
        rk_federation_idempotency_key_check(in->idempotency_key->key) != RK_OK) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "idempotency_key.key: must be 1-128 characters of [A-Za-z0-9._:-]");
        return;
    }
    if (!*in->tenant) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "tenant: required (the tenant's slug or 6-digit code)");
        return;
    }
    if (rk_federation_name_check(in->name) != RK_OK) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "name: must be 1-63 characters of a-z, 0-9 and '-', starting with a letter "
                    "or digit");
        return;
    }
    const rk_federation_t *fed = fac->app->federation;
    if (!fed || !fed->loaded) {
        rk_rpc_fail(rpc, RK_RPC_UNAVAILABLE,
                    "the hub is still loading its adapters; retry in a few seconds");
        return;
    }
    const rk_federation_adapter_t *a = rk_federation_find(fed, in->tenant, in->name);
    if (!a) {
        sync_call_t *c = rk_arena_calloc(req->arena, 1, sizeof(*c));
        c->rpc = rpc;
        c->req = req;
        c->tenant = in->tenant;
        c->name = in->name;
        const char *values[] = {in->tenant, in->name};
        if (rk_store_exec(fac->app->store, STMT_STATE, 2, values, state_read, c) != RK_AGAIN)
            rk_rpc_fail(rpc, RK_RPC_UNAVAILABLE, "the database is not reachable now; retry later");
        return;
    }
    if (!(a->capabilities & CATALOGUE_BIT)) {
        rk_rpc_fail(rpc, RK_RPC_FAILED_PRECONDITION,
                    rk_arena_printf(req->arena,
                                    "name: adapter \"%s\" of %s does not report "
                                    "ADAPTER_CAPABILITY_FACILITY_CATALOGUE",
                                    in->name, in->tenant));
        return;
    }
    waiter_t *w = rk_arena_calloc(req->arena, 1, sizeof(*w));
    w->rpc = rpc;
    w->req = req;
    rk_arena_on_free(req->arena, waiter_arena_gone, w);
    rk_log_info("facility catalogue sync asked", "{s:s, s:s, s:s, s:b}", "request_id",
                req->request_id, "tenant", a->tenant_slug, "adapter", a->name, "full", in->full);
    job_start(fac, a, in->full, w);
}

static const rk_rpc_method_t sync_method = {
    "/renkei.v1.AdminService/SyncAdapter", &renkei__v1__sync_adapter_request__descriptor,
    &renkei__v1__sync_adapter_response__descriptor, sync_adapter, 0};

/* --- the module ----------------------------------------------------------------------------- */

void rk_facility_register(rk_app_t *app, rk_router_t *router)
{
    rk_facility_t *fac = rk_xcalloc(1, sizeof(*fac));
    fac->app = app;
    app->facility = fac;
    rk_store_t *store = app->store;
    rk_store_prepare(store, STMT_TOKEN, sql_token);
    rk_store_prepare(store, STMT_UPSERT, sql_upsert);
    rk_store_prepare(store, STMT_DELETE, sql_delete);
    rk_store_prepare(store, STMT_DELETE_UNLISTED, sql_delete_unlisted);
    rk_store_prepare(store, STMT_SAVE_TOKEN, sql_save_token);
    rk_store_prepare(store, STMT_CLEAR_ERROR, sql_clear_error);
    rk_store_prepare(store, STMT_SET_ERROR, sql_set_error);
    rk_store_prepare(store, STMT_ADAPTER, sql_adapter);
    rk_store_prepare(store, STMT_STATE, sql_state);
    rk_rpc_register(router, &sync_method);
    rk_facility_kinds_register(fac, router);
    rk_facility_search_register(fac, router);
    rk_facility_availability_register(fac, router);
    rk_facility_watch_register(fac, router);
    rk_facility_booking_register(fac, router);
    fac->timer = evtimer_new(app->base, timer_cb, fac);
    if (app->worker_index == 0) /* one worker syncs on schedule; any answers SyncAdapter */
        schedule(fac, app->cfg->facility_sync_interval_ms);
    if (app->worker_index == 0) /* one worker sweeps the bookings; rows are claimed in SQL */
        fac->sweep = rk_facility_booking_sweep_start(app);
}

void rk_facility_free(rk_facility_t *fac)
{
    if (!fac)
        return;
    fac->closing = 1;
    rk_facility_availability_free(fac->availability);
    fac->availability = NULL;
    rk_facility_booking_sweep_free(fac->sweep);
    fac->sweep = NULL;
    if (fac->timer)
        event_free(fac->timer);
    fac->timer = NULL;
    for (job_t *job = fac->jobs; job; job = job->next)
        waiters_take(job);
    fac_release(fac);
}
