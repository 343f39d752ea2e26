/*
 * main.c — renkei-adapter-sim: a simulated owner system (facilities and a library) on the
 * adapter SDK, for tests and benchmarks to stand in for many cities.
 *
 * Start-up (init, blocking allowed) reads the "sim" section of the config file, generates or
 * imports the facility catalogue, builds the library and starts the churn timer. Every
 * AdapterService handler is wrapped in the fault gate (sim_fault.h): an outage answers
 * UNAVAILABLE at once; otherwise the call waits its drawn latency on the event loop, then
 * either fails UNAVAILABLE (error_rate) or runs. Idempotent mutations are shared here
 * (sim_mutation_*). State is in memory and resets on restart (adapters/sim/README.md).
 */
#include "sim.h"
#include "sim_util.h"

#include "core/clock.h"
#include "core/log.h"

#include <event2/event.h>
#include <jansson.h>
#include <math.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --- idempotent mutations ------------------------------------------------------------------- */

static void *call_alloc(void *call, size_t size)
{
    return rk_adapter_call_alloc(call, size);
}

static void call_free(void *call, void *pointer)
{
    (void)call;
    (void)pointer; /* freed with the call */
}

int sim_mutation_begin(rk_adapter_call_t *call, sim_mutation_t *m,
                       const Renkei__V1__IdempotencyKey *key, const ProtobufCMessage *request)
{
    sim_t *sim = rk_adapter_call_data(call);
    if (!key || !sim_idem_key_ok(key->key)) {
        sim_fail_field(call, "idempotency_key.key",
                       "required: 1 to 128 characters of A-Z a-z 0-9 . _ : -");
        return 1;
    }
    m->method = rk_adapter_call_method(call);
    m->key = key->key;
    m->request_len = protobuf_c_message_get_packed_size(request);
    m->request = rk_adapter_call_alloc(call, m->request_len);
    protobuf_c_message_pack(request, m->request);
    const sim_idem_entry_t *entry;
    switch (sim_idem_lookup(sim->idem, m->method, m->key, m->request, m->request_len, &entry)) {
    case SIM_IDEM_NEW:
        return 0;
    case SIM_IDEM_CONFLICT:
        rk_adapter_fail(call, RK_ADAPTER_ALREADY_EXISTS, "ERROR_REASON_IDEMPOTENCY_KEY_REUSED",
                        "idempotency_key: used before with a different request");
        return 1;
    case SIM_IDEM_REPLAY:
        break;
    }
    if (entry->code) {
        rk_adapter_fail(call, (rk_adapter_code_t)entry->code, entry->reason, entry->message);
        return 1;
    }
    /* The first answer again, decoded from the bytes that were sent then. */
    ProtobufCAllocator allocator = {call_alloc, call_free, call};
    const ProtobufCMessageDescriptor *output = NULL;
    const ProtobufCServiceDescriptor *service = &renkei__v1__adapter_service__descriptor;
    const char *name = strrchr(m->method, '/') + 1;
    for (unsigned i = 0; i < service->n_methods; i++) {
        if (strcmp(service->methods[i].name, name) == 0)
            output = service->methods[i].output;
    }
    ProtobufCMessage *response =
        protobuf_c_message_unpack(output, &allocator, entry->response_len, entry->response);
    if (!response) {
        rk_adapter_fail(call, RK_ADAPTER_INTERNAL, NULL, "stored answer unreadable");
        return 1;
    }
    rk_adapter_reply(call, response);
    return 1;
}

void sim_mutation_reply(rk_adapter_call_t *call, sim_mutation_t *m,
                        const ProtobufCMessage *response)
{
    sim_t *sim = rk_adapter_call_data(call);
    size_t len = protobuf_c_message_get_packed_size(response);
    uint8_t *bytes = rk_adapter_call_alloc(call, len);
    protobuf_c_message_pack(response, bytes);
    sim_idem_store(sim->idem, m->method, m->key, m->request, m->request_len, 0, NULL, NULL, bytes,
                   len);
    rk_adapter_reply(call, response);
}

void sim_mutation_fail(rk_adapter_call_t *call, sim_mutation_t *m, rk_adapter_code_t code,
                       const char *reason, const char *message)
{
    sim_t *sim = rk_adapter_call_data(call);
    sim_idem_store(sim->idem, m->method, m->key, m->request, m->request_len, (int)code, reason,
                   message, NULL, 0);
    rk_adapter_fail(call, code, reason, message);
}

void sim_fail_field(rk_adapter_call_t *call, const char *field, const char *description)
{
    rk_adapter_fail_field(call, field, description);
}

/* --- the fault gate ------------------------------------------------------------------------- */

static int in_outage(sim_t *sim)
{
    struct stat st;
    int file = sim->faults.outage_file && stat(sim->faults.outage_file, &st) == 0;
    double since = (double)(rk_now_ns() - sim->started_ns) / 1e9;
    return sim_fault_in_outage(&sim->faults, since, file);
}

typedef void (*run_fn)(rk_adapter_call_t *call, const void *request);

typedef struct pending {
    run_fn run;
    const void *request;
    int fail;
} pending_t;

static void owner_unavailable(rk_adapter_call_t *call)
{
    rk_adapter_fail(call, RK_ADAPTER_UNAVAILABLE, "ERROR_REASON_OWNER_UNAVAILABLE",
                    "the owner system is not answering (simulated)");
}

static void after_latency(rk_adapter_call_t *call, void *arg)
{
    pending_t *p = arg;
    if (p->fail)
        owner_unavailable(call);
    else
        p->run(call, p->request);
}

static void gate(rk_adapter_call_t *call, run_fn run, const void *request)
{
    sim_t *sim = rk_adapter_call_data(call);
    if (in_outage(sim)) {
        owner_unavailable(call);
        return;
    }
    uint64_t delay = sim_fault_latency_ms(&sim->faults, &sim->rng);
    int fail = sim_fault_error(&sim->faults, &sim->rng);
    if (!delay && !fail) {
        run(call, request);
        return;
    }
    pending_t *p = rk_adapter_call_alloc(call, sizeof(*p));
    p->run = run;
    p->request = request;
    p->fail = fail;
    rk_adapter_call_after(call, delay, after_latency, p);
}

static void describe(rk_adapter_call_t *call, const Renkei__V1__AdapterDescribeRequest *request)
{
    (void)request;
    sim_t *sim = rk_adapter_call_data(call);
    Renkei__V1__AdapterDescribeResponse out;
    rk_adapter_describe_defaults(call, &out);
    out.hold_ttl_seconds = sim->hold_ttl_seconds;
    if (sim->library)
        sim_library_describe(sim->library, call, &out);
    rk_adapter_reply(call, &out.base);
}

/* A typed runner (casts the request, never the function) and a gate per method. */
#define GATED(name, Request, impl)                                                                 \
    static void name##_run(rk_adapter_call_t *call, const void *request)                           \
    {                                                                                              \
        impl(call, (const Renkei__V1__##Request *)request);                                        \
    }                                                                                              \
    static void name##_gated(rk_adapter_call_t *call, const Renkei__V1__##Request *request)        \
    {                                                                                              \
        gate(call, name##_run, request);                                                           \
    }
GATED(describe, AdapterDescribeRequest, describe)
GATED(list_facilities, AdapterListFacilitiesRequest, sim_list_facilities)
GATED(get_availability, AdapterGetAvailabilityRequest, sim_get_availability)
GATED(hold_slot, AdapterHoldSlotRequest, sim_hold_slot)
GATED(confirm_booking, AdapterConfirmBookingRequest, sim_confirm_booking)
GATED(cancel_booking, AdapterCancelBookingRequest, sim_cancel_booking)
GATED(get_booking, AdapterGetBookingRequest, sim_get_booking)
GATED(search_catalogue, AdapterSearchCatalogueRequest, sim_search_catalogue)
GATED(get_holdings, AdapterGetHoldingsRequest, sim_get_holdings)
GATED(verify_patron, AdapterVerifyPatronRequest, sim_verify_patron)
GATED(place_hold, AdapterPlaceHoldRequest, sim_place_hold)
GATED(cancel_hold, AdapterCancelHoldRequest, sim_cancel_hold)
GATED(list_holds, AdapterListHoldsRequest, sim_list_holds)
GATED(list_loans, AdapterListLoansRequest, sim_list_loans)
GATED(checkout, AdapterCheckoutRequest, sim_checkout)
GATED(renew, AdapterRenewRequest, sim_renew)
GATED(return_loan, AdapterReturnLoanRequest, sim_return_loan)
#undef GATED

/* --- configuration and life cycle ----------------------------------------------------------- */

static void churn_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sim_t *sim = arg;
    sim_catalogue_churn(sim->catalogue);
}

static int bad(char *why, size_t why_len, const char *key, const char *rule)
{
    snprintf(why, why_len, "config: sim.%s: %s", key, rule);
    return -1;
}

/* An optional integer member within [min, max]. */
static int get_int(const json_t *obj, const char *prefix, const char *key, long min, long max,
                   int *out, char *why, size_t why_len)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    char path[96], rule[96];
    snprintf(path, sizeof(path), "%s%s", prefix, key);
    snprintf(rule, sizeof(rule), "must be an integer from %ld to %ld", min, max);
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return bad(why, why_len, path, rule);
    *out = (int)json_integer_value(v);
    return 0;
}

static int get_bool(const json_t *obj, const char *prefix, const char *key, int *out, char *why,
                    size_t why_len)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        char path[96];
        snprintf(path, sizeof(path), "%s%s", prefix, key);
        return bad(why, why_len, path, "must be true or false");
    }
    *out = json_is_true(v);
    return 0;
}

static int known_keys(const json_t *obj, const char *prefix, const char *const *keys, char *why,
                      size_t why_len)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int ok = 0;
        for (const char *const *k = keys; *k; k++)
            ok |= strcmp(*k, key) == 0;
        if (!ok) {
            char path[96];
            snprintf(path, sizeof(path), "%s%s", prefix, key);
            return bad(why, why_len, path, "unknown key");
        }
    }
    return 0;
}

static void sim_free(sim_t *sim)
{
    if (sim->churn_timer)
        event_free(sim->churn_timer);
    sim_bookings_free(sim);
    sim_library_free(sim->library);
    sim_catalogue_free(sim->catalogue);
    sim_idem_free(sim->idem);
    sim_fault_free(&sim->faults);
    free(sim);
}

static int sim_init(rk_adapter_server_t *server, const json_t *section,
                    rk_adapter_handlers_t *handlers, char *why, size_t why_len)
{
    static const char *const top_keys[] = {"seed", "facilities", "library", "faults", NULL};
    static const char *const facility_keys[] = {
        "enabled",           "count", "csv_file", "centre", "occupancy_percent", "hold_ttl_seconds",
        "churn_interval_ms", NULL};
    static const char *const library_keys[] = {"enabled",    "branches",        "loan_limit",
                                               "hold_limit", "pickup_partners", NULL};
    const rk_adapter_config_t *cfg = rk_adapter_config(server);
    sim_t *sim = rk_xcalloc(1, sizeof(*sim));
    sim->server = server;
    sim->started_ns = rk_now_ns();
    RAND_bytes((unsigned char *)&sim->boot_id, sizeof(sim->boot_id));
    sim->rng = sim->started_ns;
    sim->occupancy_percent = 30;
    sim->hold_ttl_seconds = 600;
    int seed = 0, facilities_on = 1, count = 40, library_on = 1, branches = 3;
    int loan_limit = 10, hold_limit = 10;
    json_t *facilities = json_object_get(section, "facilities");
    json_t *library = json_object_get(section, "library");
    if (known_keys(section, "", top_keys, why, why_len) ||
        get_int(section, "", "seed", 0, 2147483647, &seed, why, why_len))
        goto err;
    if (facilities && !json_is_object(facilities)) {
        bad(why, why_len, "facilities", "must be an object");
        goto err;
    }
    if (library && !json_is_object(library)) {
        bad(why, why_len, "library", "must be an object");
        goto err;
    }
    if (facilities &&
        (known_keys(facilities, "facilities.", facility_keys, why, why_len) ||
         get_bool(facilities, "facilities.", "enabled", &facilities_on, why, why_len) ||
         get_int(facilities, "facilities.", "count", 0, 100000, &count, why, why_len) ||
         get_int(facilities, "facilities.", "occupancy_percent", 0, 100, &sim->occupancy_percent,
                 why, why_len) ||
         get_int(facilities, "facilities.", "hold_ttl_seconds", 1, 86400, &sim->hold_ttl_seconds,
                 why, why_len) ||
         get_int(facilities, "facilities.", "churn_interval_ms", 0, 86400000,
                 &sim->churn_interval_ms, why, why_len)))
        goto err;
    if (library &&
        (known_keys(library, "library.", library_keys, why, why_len) ||
         get_bool(library, "library.", "enabled", &library_on, why, why_len) ||
         get_int(library, "library.", "branches", 1, 9, &branches, why, why_len) ||
         get_int(library, "library.", "loan_limit", 1, 1000, &loan_limit, why, why_len) ||
         get_int(library, "library.", "hold_limit", 1, 1000, &hold_limit, why, why_len)))
        goto err;
    if (sim_fault_parse(&sim->faults, json_object_get(section, "faults"), why, why_len) != 0)
        goto err;

    sim_catalogue_options_t options = {
        .code = cfg->municipality_code,
        .slug = cfg->municipality_slug,
        .name_ja = *cfg->municipality_name_ja ? cfg->municipality_name_ja : cfg->municipality_slug,
        .name_en = *cfg->municipality_name_en ? cfg->municipality_name_en : cfg->municipality_slug,
        .name_kana = cfg->municipality_name_kana,
        .seed = seed ? (uint64_t)seed : sim_hash(cfg->municipality_code),
    };
    const json_t *centre = facilities ? json_object_get(facilities, "centre") : NULL;
    if (centre) {
        const json_t *lat = json_object_get(centre, "latitude");
        const json_t *lon = json_object_get(centre, "longitude");
        if (!json_is_number(lat) || !json_is_number(lon) || fabs(json_number_value(lat)) > 90 ||
            fabs(json_number_value(lon)) > 180) {
            bad(why, why_len, "facilities.centre",
                "must be {\"latitude\": -90..90, \"longitude\": -180..180}");
            goto err;
        }
        options.latitude = json_number_value(lat);
        options.longitude = json_number_value(lon);
    }
    sim->catalogue = sim_catalogue_new(&options);
    sim->idem = sim_idem_new();
    const json_t *csv = facilities ? json_object_get(facilities, "csv_file") : NULL;
    if (csv && (!json_is_string(csv))) {
        bad(why, why_len, "facilities.csv_file", "must be a string (a path)");
        goto err;
    }
    if (facilities_on) {
        if (csv && *json_string_value(csv)) {
            const char *path = json_string_value(csv);
            char inner[512];
            rk_facility_csv_options_t read = {.municipality_code = cfg->municipality_code};
            rk_facility_csv_t *rows = rk_facility_csv_load(path, &read, inner, sizeof(inner));
            int added =
                rows ? sim_catalogue_import(sim->catalogue, rows, inner, sizeof(inner)) : -1;
            for (size_t i = 0; rows && i < rows->n_problems; i++)
                rk_log_warn("row problem", "{s:s}", "problem", rows->problems[i]);
            rk_facility_csv_free(rows);
            if (added < 0) {
                snprintf(why, why_len, "config: sim.facilities.csv_file: %s%s%s", rows ? path : "",
                         rows ? ": " : "", inner);
                goto err;
            }
            rk_log_info("facilities imported", "{s:s, s:i}", "file", path, "facilities", added);
        } else {
            sim_catalogue_generate(sim->catalogue, count);
        }
    } else {
        handlers->list_facilities = NULL;
        handlers->get_availability = NULL;
        handlers->hold_slot = NULL;
        handlers->confirm_booking = NULL;
        handlers->cancel_booking = NULL;
        handlers->get_booking = NULL;
    }
    if (library_on) {
        const json_t *partners = library ? json_object_get(library, "pickup_partners") : NULL;
        const char *codes[64];
        size_t n_codes = 0;
        if (partners) {
            size_t i;
            const json_t *p;
            if (!json_is_array(partners) || json_array_size(partners) > 64) {
                bad(why, why_len, "library.pickup_partners",
                    "must be an array of at most 64 municipality codes");
                goto err;
            }
            json_array_foreach(partners, i, p)
            {
                if (!json_is_string(p) || strlen(json_string_value(p)) != 6) {
                    bad(why, why_len, "library.pickup_partners",
                        "each must be a 6-digit municipality code");
                    goto err;
                }
                codes[n_codes++] = json_string_value(p);
            }
        }
        sim_library_options_t lo = {branches, loan_limit, hold_limit, codes, n_codes};
        sim->library = sim_library_new(sim->catalogue, &lo);
    } else {
        handlers->search_catalogue = NULL;
        handlers->get_holdings = NULL;
        handlers->verify_patron = NULL;
        handlers->place_hold = NULL;
        handlers->cancel_hold = NULL;
        handlers->list_holds = NULL;
        handlers->list_loans = NULL;
        handlers->checkout = NULL;
        handlers->renew = NULL;
        handlers->return_loan = NULL;
    }
    if (sim->churn_interval_ms && facilities_on) {
        sim->churn_timer = event_new(rk_adapter_base(server), -1, EV_PERSIST, churn_cb, sim);
        struct timeval tv = {sim->churn_interval_ms / 1000, (sim->churn_interval_ms % 1000) * 1000};
        event_add(sim->churn_timer, &tv);
    }
    rk_adapter_set_data(server, sim);
    rk_log_info("sim ready", "{s:s, s:I, s:b, s:i, s:i, s:b}", "municipality",
                cfg->municipality_slug, "facilities",
                (json_int_t)(facilities_on ? sim->catalogue->n : 0), "library", library_on,
                "hold_ttl_seconds", sim->hold_ttl_seconds, "churn_interval_ms",
                sim->churn_interval_ms, "faults",
                sim->faults.distribution != SIM_LATENCY_NONE || sim->faults.error_rate > 0 ||
                    sim->faults.n_outages || sim->faults.outage_file);
    return 0;
err:
    sim_free(sim);
    return -1;
}

static void sim_fini(rk_adapter_server_t *server)
{
    sim_t *sim = rk_adapter_data(server);
    if (sim)
        sim_free(sim);
    rk_adapter_set_data(server, NULL);
}

static int sim_serving(rk_adapter_server_t *server)
{
    return !in_outage(rk_adapter_data(server));
}

static const rk_adapter_t adapter = {
    .name = "sim",
    .version = "0.1.0",
    .owner_system = "renkei-adapter-sim (simulated facilities and library)",
    .config_section = "sim",
    .elibrary = 1,
    .handlers =
        {
            .describe = describe_gated,
            .list_facilities = list_facilities_gated,
            .get_availability = get_availability_gated,
            .hold_slot = hold_slot_gated,
            .confirm_booking = confirm_booking_gated,
            .cancel_booking = cancel_booking_gated,
            .get_booking = get_booking_gated,
            .search_catalogue = search_catalogue_gated,
            .get_holdings = get_holdings_gated,
            .verify_patron = verify_patron_gated,
            .place_hold = place_hold_gated,
            .cancel_hold = cancel_hold_gated,
            .list_holds = list_holds_gated,
            .list_loans = list_loans_gated,
            .checkout = checkout_gated,
            .renew = renew_gated,
            .return_loan = return_loan_gated,
        },
    .init = sim_init,
    .fini = sim_fini,
    .serving = sim_serving,
};

int main(int argc, char **argv)
{
    return rk_adapter_serve(&adapter, argc, argv);
}
