/*
 * main.c — renkei-adapter-opendata: a municipality's facility catalogue served from CSV files
 * in the Digital Agency's 公共施設一覧 format, on the adapter SDK. Catalogue only: every
 * facility is bookable_via_hub = false with the owner's booking page as booking_url.
 *
 * Start-up (init, blocking allowed) validates the "opendata" section — errors name the key —
 * and reads the files; a file that cannot be read stops start-up with its path and line. After
 * that the files may be replaced at any time: the first page of every ListFacilities listing
 * waits for one worker-thread check of the files (sources.h) — stat, and a full reading only
 * when a signature changed — so that a sync right after an operator dropped a new file sees
 * it, and the event loop never touches a file. Concurrent listings share one check. A reading
 * that fails keeps the catalogue as it was and logs why (file:line); skipped rows are logged
 * with their file and line too.
 */
#include "opendata.h"

#include "core/log.h"
#include "core/worker.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- configuration ------------------------------------------------------------------------- */

static const char config_help[] =
    "opendata.files                     -                                        (required) "
    "公共施設一覧 CSV files, 1 to 16 paths (relative: to the working directory)\n"
    "opendata.encoding                  -                                        auto       "
    "auto (UTF-8 with or without BOM, else Shift_JIS/CP932), utf-8 or shift_jis\n"
    "opendata.booking_url               -                                        \"\"         "
    "the owner's booking page, http(s); {id} is replaced by the facility's id; "
    "\"\" = each row's URL\n"
    "opendata.exclude_kinds             -                                        []         "
    "FacilityKind names left out (e.g. BASEBALL_FIELD: served bookable by another adapter)\n";

static int bad(char *why, size_t why_len, const char *key, const char *rule)
{
    snprintf(why, why_len, "config: opendata.%s: %s", key, rule);
    return -1;
}

static int read_files(opendata_t *od, const json_t *files, char *why, size_t why_len)
{
    if (!files)
        return bad(why, why_len, "files", "required: a list of 公共施設一覧 CSV paths");
    if (!json_is_array(files) || json_array_size(files) < 1 ||
        json_array_size(files) > OPENDATA_MAX_FILES)
        return bad(why, why_len, "files", "must be a list of 1 to 16 paths");
    size_t i;
    const json_t *path;
    json_array_foreach(files, i, path)
    {
        if (!json_is_string(path) || !*json_string_value(path) ||
            strlen(json_string_value(path)) > 4096) {
            char key[32];
            snprintf(key, sizeof(key), "files[%zu]", i);
            return bad(why, why_len, key, "must be a path (1 to 4096 bytes)");
        }
        od->sources.paths[od->sources.n_paths++] = rk_xstrdup(json_string_value(path));
    }
    return 0;
}

static int read_kinds(opendata_t *od, const json_t *kinds, char *why, size_t why_len)
{
    if (!kinds)
        return 0;
    if (!json_is_array(kinds) || json_array_size(kinds) > 100)
        return bad(why, why_len, "exclude_kinds", "must be a list of FacilityKind names");
    od->exclude_kinds = rk_xcalloc(json_array_size(kinds) + 1, sizeof(*od->exclude_kinds));
    size_t i;
    const json_t *kind;
    json_array_foreach(kinds, i, kind)
    {
        const char *name = json_is_string(kind) ? json_string_value(kind) : "";
        char full[96];
        snprintf(full, sizeof(full), "%s%s",
                 strncmp(name, "FACILITY_KIND_", 14) == 0 ? "" : "FACILITY_KIND_", name);
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(
            &renkei__v1__facility_kind__descriptor, full);
        if (!v || v->value == RENKEI__V1__FACILITY_KIND__FACILITY_KIND_UNSPECIFIED) {
            char key[40];
            snprintf(key, sizeof(key), "exclude_kinds[%zu]", i);
            return bad(why, why_len, key,
                       "not a FacilityKind name (BASEBALL_FIELD, MEETING_ROOM, … "
                       "proto/renkei/v1/facility.proto)");
        }
        od->exclude_kinds[od->sources.terms.n_exclude_kinds++] = (Renkei__V1__FacilityKind)v->value;
    }
    od->sources.terms.exclude_kinds = od->exclude_kinds;
    return 0;
}

static int read_section(opendata_t *od, const json_t *section, char *why, size_t why_len)
{
    static const char *const keys[] = {"files", "encoding", "booking_url", "exclude_kinds"};
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)section, key, value)
    {
        size_t k = 0;
        while (k < sizeof(keys) / sizeof(keys[0]) && strcmp(key, keys[k]) != 0)
            k++;
        if (k == sizeof(keys) / sizeof(keys[0])) {
            snprintf(why, why_len,
                     "config: opendata.%.64s: unknown key (known: files, encoding, "
                     "booking_url, exclude_kinds)",
                     key);
            return -1;
        }
    }
    if (read_files(od, json_object_get(section, "files"), why, why_len) != 0)
        return -1;
    const json_t *encoding = json_object_get(section, "encoding");
    if (encoding && (!json_is_string(encoding) ||
                     rk_encoding_parse(json_string_value(encoding), &od->sources.encoding) != 0))
        return bad(why, why_len, "encoding", "must be auto, utf-8 or shift_jis");
    const json_t *url = json_object_get(section, "booking_url");
    const char *u = url && json_is_string(url) ? json_string_value(url) : "";
    if (url && (!json_is_string(url) || strlen(u) > 2000 ||
                (*u && strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) ||
                strpbrk(u, " \t\r\n")))
        return bad(why, why_len, "booking_url", "must be an http(s) URL without spaces");
    od->booking_url = rk_xstrdup(u);
    od->sources.terms.booking_url = od->booking_url;
    return read_kinds(od, json_object_get(section, "exclude_kinds"), why, why_len);
}

/* --- reloading ----------------------------------------------------------------------------- */

struct opendata_waiter {
    opendata_waiter_t *next;
    opendata_t *od; /* NULL once answered */
    rk_adapter_call_t *call;
    const Renkei__V1__AdapterListFacilitiesRequest *request;
};

static void log_snapshot(const opendata_t *od, const opendata_snapshot_t *s,
                         const opendata_changes_t *changes)
{
    for (size_t i = 0; i < s->n_problems; i++)
        rk_log_warn("row problem", "{s:s}", "problem", s->problems[i]);
    if (s->more_problems)
        rk_log_warn("more row problems", "{s:I}", "not_logged", (json_int_t)s->more_problems);
    rk_log_info("facilities read", "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "files",
                (json_int_t)od->sources.n_paths, "rows", (json_int_t)s->rows, "skipped",
                (json_int_t)s->skipped, "excluded", (json_int_t)s->excluded, "added",
                (json_int_t)changes->added, "changed", (json_int_t)changes->changed, "removed",
                (json_int_t)changes->removed, "unchanged", (json_int_t)changes->unchanged,
                "version", (json_int_t)od->catalogue->version);
}

/* Applies a finished check to the catalogue and keeps its signatures. */
static void take_check(opendata_t *od, opendata_check_job_t *job)
{
    od->known = *job;
    od->known.snapshot = NULL;
    if (job->result == OPENDATA_LOADED) {
        opendata_changes_t changes =
            opendata_catalogue_apply(od->catalogue, job->snapshot, time(NULL));
        log_snapshot(od, job->snapshot, &changes);
    } else if (job->result == OPENDATA_FAILED) {
        rk_log_error("files not read; the catalogue stays as it was", "{s:s}", "error", job->why);
    }
    opendata_snapshot_free(job->snapshot);
    job->snapshot = NULL;
}

/* A check on the worker thread; the sources are only read there, and fixed after init. */
typedef struct check {
    opendata_t *od;
    opendata_check_job_t job;
} check_t;

static void check_work(void *arg)
{
    check_t *c = arg;
    opendata_sources_check(&c->od->sources, &c->job);
}

static void waiter_gone(void *data)
{
    opendata_waiter_t *w = data;
    if (!w->od)
        return;
    for (opendata_waiter_t **p = &w->od->waiters; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    w->od = NULL;
}

/* Answers every listing waiting for the check, from the catalogue as it now is. */
static void answer_waiters(opendata_t *od)
{
    opendata_waiter_t *list = od->waiters;
    od->waiters = NULL;
    for (opendata_waiter_t *w = list; w; w = w->next)
        w->od = NULL;
    for (opendata_waiter_t *w = list, *next; w; w = next) {
        next = w->next; /* answering frees w with the call */
        opendata_list_answer(w->call, w->request);
    }
}

static void check_done(void *arg, int ran)
{
    check_t *c = arg;
    opendata_t *od = c->od;
    if (ran && !od->closing)
        take_check(od, &c->job);
    opendata_snapshot_free(c->job.snapshot);
    free(c);
    od->checking = 0;
    if (!od->closing)
        answer_waiters(od);
}

static void list_facilities(rk_adapter_call_t *call,
                            const Renkei__V1__AdapterListFacilitiesRequest *request)
{
    opendata_t *od = rk_adapter_call_data(call);
    if (request->page && *request->page->page_token) {
        opendata_list_answer(call, request); /* a listing goes on from the catalogue it began */
        return;
    }
    opendata_waiter_t *w = rk_adapter_call_alloc(call, sizeof(*w));
    w->od = od;
    w->call = call;
    w->request = request;
    w->next = od->waiters;
    od->waiters = w;
    rk_adapter_call_on_end(call, waiter_gone, w);
    if (od->checking)
        return;
    check_t *c = rk_xcalloc(1, sizeof(*c));
    c->od = od;
    c->job = od->known;
    if (rk_worker_submit(od->workers, check_work, check_done, c) != 0) {
        free(c); /* cannot happen with one check at a time; answer from what we have */
        answer_waiters(od);
        return;
    }
    od->checking = 1;
}

/* --- the adapter --------------------------------------------------------------------------- */

static void opendata_free(opendata_t *od)
{
    od->closing = 1;
    rk_worker_pool_free(od->workers);
    opendata_catalogue_free(od->catalogue);
    for (size_t i = 0; i < od->sources.n_paths; i++)
        free(od->sources.paths[i]);
    free(od->exclude_kinds);
    free(od->booking_url);
    free(od);
}

static int opendata_init(rk_adapter_server_t *server, const json_t *section,
                         rk_adapter_handlers_t *handlers, char *why, size_t why_len)
{
    (void)handlers;
    const rk_adapter_config_t *cfg = rk_adapter_config(server);
    opendata_t *od = rk_xcalloc(1, sizeof(*od));
    od->server = server;
    od->sources.municipality_code = cfg->municipality_code;
    RAND_bytes((unsigned char *)&od->boot_id, sizeof(od->boot_id));
    if (read_section(od, section, why, why_len) != 0)
        goto err;
    od->catalogue = opendata_catalogue_new();
    opendata_check_job_t first = {0};
    opendata_sources_check(&od->sources, &first);
    if (first.result != OPENDATA_LOADED) {
        snprintf(why, why_len, "config: opendata.files: %s", first.why);
        goto err;
    }
    take_check(od, &first);
    od->workers = rk_worker_pool_new(rk_adapter_base(server), 1, 1);
    if (!od->workers) {
        snprintf(why, why_len, "cannot start the worker thread that reads the files");
        goto err;
    }
    rk_adapter_set_data(server, od);
    rk_log_info("opendata ready", "{s:s, s:I, s:s}", "municipality", cfg->municipality_slug,
                "facilities", (json_int_t)od->catalogue->live, "encoding",
                rk_encoding_name(od->sources.encoding));
    return 0;
err:
    opendata_free(od);
    return -1;
}

static void opendata_fini(rk_adapter_server_t *server)
{
    opendata_t *od = rk_adapter_data(server);
    if (od)
        opendata_free(od);
    rk_adapter_set_data(server, NULL);
}

static const rk_adapter_t adapter = {
    .name = "opendata",
    .version = "0.1.0",
    .owner_system = "公共施設一覧 open data (CSV, Digital Agency standard dataset)",
    .config_section = "opendata",
    .config_help = config_help,
    .handlers = {.list_facilities = list_facilities},
    .init = opendata_init,
    .fini = opendata_fini,
};

int main(int argc, char **argv)
{
    return rk_adapter_serve(&adapter, argc, argv);
}
