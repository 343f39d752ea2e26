/*
 * adapter.c — rk_adapter_serve() and the call interface of librenkei-adapter (see
 * renkei_adapter.h).
 *
 * Design: the SDK is a thin shell around the hub's own net layer (hub/net: one HTTP/1.1 +
 * HTTP/2 implementation, rpc.c's gRPC / gRPC-Web / Connect envelopes). Each AdapterService
 * method is an rk_rpc_method_t whose handler is a small typed trampoline: it wraps the rk_rpc_t
 * in an rk_adapter_call_t (allocated in the request's arena) and calls the author's handler
 * with the generated request type. The SDK keeps every unanswered call on a list so that, when
 * the process stops with calls still pending (drain timeout, second signal), it can answer
 * them UNAVAILABLE and free everything: a clean exit under LeakSanitizer.
 *
 * Interface routines: rk_adapter_serve, rk_adapter_reply, rk_adapter_fail,
 * rk_adapter_fail_detail, rk_adapter_describe_defaults and the accessors in the header.
 */
#include "renkei_adapter.h"

#include "adapter_config.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "grpc/health/v1/health.pb-c.h"
#include "net/rpc.h"
#include "net/server.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rk_adapter_call {
    rk_adapter_call_t *prev, *next; /* the server's list of unanswered calls */
    rk_adapter_server_t *server;
    rk_rpc_t *rpc;
    const rk_rpc_method_t *method;
    struct event *timer; /* rk_adapter_call_after */
    void (*after_fn)(rk_adapter_call_t *call, void *arg);
    void *after_arg;
};

struct rk_adapter_server {
    const rk_adapter_t *adapter;
    rk_adapter_handlers_t handlers;
    rk_adapter_settings_t settings;
    rk_adapter_config_t config; /* the public view of settings */
    rk_config_t net_config;     /* what hub/net's server reads */
    struct event_base *base;
    rk_metrics_t *metrics;
    rk_router_t *router;
    rk_server_t *server;
    void *data;
    rk_adapter_call_t calls; /* list head */
    Renkei__V1__AdapterCapability capabilities[8];
    size_t n_capabilities;
};

/* --- the method table -------------------------------------------------------------------- */

/* X(field, Method, RequestType, request_descriptor_stem, response_descriptor_stem) */
#define ADAPTER_METHODS(X)                                                                         \
    X(describe, Describe, AdapterDescribeRequest, adapter_describe_request,                        \
      adapter_describe_response)                                                                   \
    X(list_facilities, ListFacilities, AdapterListFacilitiesRequest,                               \
      adapter_list_facilities_request, adapter_list_facilities_response)                           \
    X(get_availability, GetAvailability, AdapterGetAvailabilityRequest,                            \
      adapter_get_availability_request, adapter_get_availability_response)                         \
    X(hold_slot, HoldSlot, AdapterHoldSlotRequest, adapter_hold_slot_request,                      \
      adapter_hold_slot_response)                                                                  \
    X(confirm_booking, ConfirmBooking, AdapterConfirmBookingRequest,                               \
      adapter_confirm_booking_request, adapter_confirm_booking_response)                           \
    X(cancel_booking, CancelBooking, AdapterCancelBookingRequest, adapter_cancel_booking_request,  \
      adapter_cancel_booking_response)                                                             \
    X(get_booking, GetBooking, AdapterGetBookingRequest, adapter_get_booking_request,              \
      adapter_get_booking_response)                                                                \
    X(search_catalogue, SearchCatalogue, AdapterSearchCatalogueRequest,                            \
      adapter_search_catalogue_request, adapter_search_catalogue_response)                         \
    X(get_holdings, GetHoldings, AdapterGetHoldingsRequest, adapter_get_holdings_request,          \
      adapter_get_holdings_response)                                                               \
    X(verify_patron, VerifyPatron, AdapterVerifyPatronRequest, adapter_verify_patron_request,      \
      adapter_verify_patron_response)                                                              \
    X(place_hold, PlaceHold, AdapterPlaceHoldRequest, adapter_place_hold_request,                  \
      adapter_place_hold_response)                                                                 \
    X(cancel_hold, CancelHold, AdapterCancelHoldRequest, adapter_cancel_hold_request,              \
      adapter_cancel_hold_response)                                                                \
    X(list_holds, ListHolds, AdapterListHoldsRequest, adapter_list_holds_request,                  \
      adapter_list_holds_response)                                                                 \
    X(list_loans, ListLoans, AdapterListLoansRequest, adapter_list_loans_request,                  \
      adapter_list_loans_response)                                                                 \
    X(checkout, Checkout, AdapterCheckoutRequest, adapter_checkout_request,                        \
      adapter_checkout_response)                                                                   \
    X(renew, Renew, AdapterRenewRequest, adapter_renew_request, adapter_renew_response)            \
    X(return_loan, ReturnLoan, AdapterReturnLoanRequest, adapter_return_loan_request,              \
      adapter_return_loan_response)

static void default_describe(rk_adapter_call_t *call);
static rk_adapter_call_t *call_new(rk_rpc_t *rpc);
static void unimplemented(rk_adapter_call_t *call);

/* One typed trampoline per method: no handler is ever called through a cast pointer. */
#define TRAMPOLINE(field, Method, Request, in, out)                                                \
    static void field##_rpc(rk_rpc_t *rpc, const ProtobufCMessage *message)                        \
    {                                                                                              \
        rk_adapter_call_t *call = call_new(rpc);                                                   \
        if (call->server->handlers.field)                                                          \
            call->server->handlers.field(call, (const Renkei__V1__##Request *)message);            \
        else if (strcmp(#field, "describe") == 0)                                                  \
            default_describe(call);                                                                \
        else                                                                                       \
            unimplemented(call);                                                                   \
    }
ADAPTER_METHODS(TRAMPOLINE)
#undef TRAMPOLINE

#define METHOD_ENTRY(field, Method, Request, in, out)                                              \
    {.path = "/renkei.v1.AdapterService/" #Method,                                                 \
     .input = &renkei__v1__##in##__descriptor,                                                     \
     .output = &renkei__v1__##out##__descriptor,                                                   \
     .handler = field##_rpc},
static const rk_rpc_method_t adapter_methods[] = {ADAPTER_METHODS(METHOD_ENTRY)};
#undef METHOD_ENTRY

#define N_METHODS (sizeof(adapter_methods) / sizeof(adapter_methods[0]))

/* Capability groups (adapter.proto, AdapterCapability): declared when every method is set. */
typedef struct capability_group {
    Renkei__V1__AdapterCapability capability;
    const char *name;
    size_t n;
    size_t offsets[4]; /* of the handlers in rk_adapter_handlers_t */
} capability_group_t;

#define H(field) offsetof(rk_adapter_handlers_t, field)
static const capability_group_t capability_groups[] = {
    {RENKEI__V1__ADAPTER_CAPABILITY__ADAPTER_CAPABILITY_FACILITY_CATALOGUE,
     "FACILITY_CATALOGUE",
     1,
     {H(list_facilities)}},
    {RENKEI__V1__ADAPTER_CAPABILITY__ADAPTER_CAPABILITY_FACILITY_AVAILABILITY,
     "FACILITY_AVAILABILITY",
     1,
     {H(get_availability)}},
    {RENKEI__V1__ADAPTER_CAPABILITY__ADAPTER_CAPABILITY_FACILITY_BOOKING,
     "FACILITY_BOOKING",
     4,
     {H(hold_slot), H(confirm_booking), H(cancel_booking), H(get_booking)}},
    {RENKEI__V1__ADAPTER_CAPABILITY__ADAPTER_CAPABILITY_LIBRARY_CATALOGUE,
     "LIBRARY_CATALOGUE",
     2,
     {H(search_catalogue), H(get_holdings)}},
    {RENKEI__V1__ADAPTER_CAPABILITY__ADAPTER_CAPABILITY_LIBRARY_PATRONS,
     "LIBRARY_PATRONS",
     1,
     {H(verify_patron)}},
    {RENKEI__V1__ADAPTER_CAPABILITY__ADAPTER_CAPABILITY_LIBRARY_HOLDS,
     "LIBRARY_HOLDS",
     3,
     {H(place_hold), H(cancel_hold), H(list_holds)}},
    {RENKEI__V1__ADAPTER_CAPABILITY__ADAPTER_CAPABILITY_LIBRARY_LOANS,
     "LIBRARY_LOANS",
     4,
     {H(list_loans), H(checkout), H(renew), H(return_loan)}},
};
#undef H

static int handler_set(const rk_adapter_handlers_t *handlers, size_t offset)
{
    /* Every member is a function pointer; compare through one of them, not through void *. */
    rk_adapter_describe_fn fn;
    memcpy(&fn, (const char *)handlers + offset, sizeof(fn));
    return fn != NULL;
}

static void compute_capabilities(rk_adapter_server_t *s)
{
    s->n_capabilities = 0;
    for (size_t g = 0; g < sizeof(capability_groups) / sizeof(capability_groups[0]); g++) {
        const capability_group_t *group = &capability_groups[g];
        size_t set = 0;
        for (size_t i = 0; i < group->n; i++)
            set += (size_t)handler_set(&s->handlers, group->offsets[i]);
        if (set == group->n)
            s->capabilities[s->n_capabilities++] = group->capability;
        else if (set)
            rk_log_warn("capability not declared: some of its methods have no handler",
                        "{s:s, s:I, s:I}", "capability", group->name, "handlers", (json_int_t)set,
                        "methods", (json_int_t)group->n);
        if (group->capability == RENKEI__V1__ADAPTER_CAPABILITY__ADAPTER_CAPABILITY_LIBRARY_LOANS &&
            set == group->n && s->adapter->elibrary)
            s->capabilities[s->n_capabilities++] =
                RENKEI__V1__ADAPTER_CAPABILITY__ADAPTER_CAPABILITY_ELIBRARY;
    }
}

/* --- calls ------------------------------------------------------------------------------- */

static rk_adapter_call_t *call_new(rk_rpc_t *rpc)
{
    rk_request_t *req = rk_rpc_request(rpc);
    rk_adapter_server_t *s = req->server->app;
    rk_adapter_call_t *call = rk_arena_calloc(req->arena, 1, sizeof(*call));
    call->server = s;
    call->rpc = rpc;
    call->method = req->route->data;
    call->next = s->calls.next;
    call->prev = &s->calls;
    s->calls.next->prev = call;
    s->calls.next = call;
    return call;
}

/* Takes the call off the list before its answer frees it (the arena goes with the request). */
static void call_end(rk_adapter_call_t *call)
{
    call->prev->next = call->next;
    call->next->prev = call->prev;
    call->next = call->prev = call;
    if (call->timer) {
        event_free(call->timer);
        call->timer = NULL;
    }
}

rk_adapter_server_t *rk_adapter_call_server(const rk_adapter_call_t *call)
{
    return call->server;
}

void *rk_adapter_call_data(const rk_adapter_call_t *call)
{
    return call->server->data;
}

const char *rk_adapter_call_method(const rk_adapter_call_t *call)
{
    return call->method->path;
}

uint64_t rk_adapter_call_deadline_ns(const rk_adapter_call_t *call)
{
    return rk_rpc_deadline_ns(call->rpc);
}

const char *rk_adapter_call_metadata(const rk_adapter_call_t *call, const char *name)
{
    return rk_request_header(rk_rpc_request(call->rpc), name);
}

const char *rk_adapter_call_request_id(const rk_adapter_call_t *call)
{
    const char *id = rk_adapter_call_metadata(call, "renkei-request-id");
    if (id) {
        size_t len = strlen(id);
        if (len && len <= 64 &&
            strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") == len)
            return id;
    }
    return rk_rpc_request(call->rpc)->request_id;
}

void *rk_adapter_call_alloc(rk_adapter_call_t *call, size_t size)
{
    return rk_arena_calloc(rk_rpc_request(call->rpc)->arena, 1, size ? size : 1);
}

char *rk_adapter_call_strdup(rk_adapter_call_t *call, const char *s)
{
    return rk_arena_strdup(rk_rpc_request(call->rpc)->arena, s ? s : "");
}

char *rk_adapter_call_printf(rk_adapter_call_t *call, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *out = rk_adapter_call_alloc(call, (size_t)(len < 0 ? 0 : len) + 1);
    if (len >= 0)
        vsnprintf(out, (size_t)len + 1, fmt, ap2);
    va_end(ap2);
    return out;
}

void rk_adapter_call_on_end(rk_adapter_call_t *call, void (*cb)(void *data), void *data)
{
    rk_arena_on_free(rk_rpc_request(call->rpc)->arena, cb, data);
}

static void after_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_adapter_call_t *call = arg;
    event_free(call->timer);
    call->timer = NULL;
    call->after_fn(call, call->after_arg);
}

void rk_adapter_call_after(rk_adapter_call_t *call, uint64_t delay_ms,
                           void (*fn)(rk_adapter_call_t *call, void *arg), void *arg)
{
    if (call->timer)
        event_free(call->timer);
    call->after_fn = fn;
    call->after_arg = arg;
    call->timer = evtimer_new(call->server->base, after_cb, call);
    struct timeval tv = {(time_t)(delay_ms / 1000), (suseconds_t)((delay_ms % 1000) * 1000)};
    evtimer_add(call->timer, &tv);
}

void rk_adapter_reply(rk_adapter_call_t *call, const ProtobufCMessage *response)
{
    if (!response || response->descriptor != call->method->output) {
        rk_log_error("adapter bug: reply of the wrong message type", "{s:s, s:s, s:s}", "method",
                     call->method->path, "expected", call->method->output->name, "got",
                     response ? response->descriptor->name : "(null)");
        rk_adapter_fail(call, RK_ADAPTER_INTERNAL, NULL, "the adapter answered a wrong type");
        return;
    }
    rk_rpc_t *rpc = call->rpc;
    call_end(call);
    rk_rpc_reply(rpc, response);
}

void rk_adapter_fail_detail(rk_adapter_call_t *call, rk_adapter_code_t code,
                            const Renkei__V1__ErrorDetail *detail, const char *message)
{
    if (code == RK_ADAPTER_OK)
        code = RK_ADAPTER_UNKNOWN; /* an error without a code is a bug: never send it as OK */
    if (rk_log_enabled(RK_LOG_DEBUG))
        rk_log_debug("call failed", "{s:s, s:s, s:i, s:s, s:s}", "request_id",
                     rk_adapter_call_request_id(call), "method", call->method->path, "code",
                     (int)code, "reason", detail && detail->reason ? detail->reason : "", "message",
                     message ? message : "");
    rk_rpc_t *rpc = call->rpc;
    call_end(call);
    rk_rpc_fail_detail(rpc, (rk_rpc_code_t)code, message, detail ? detail->reason : NULL,
                       detail ? &detail->base : NULL);
}

void rk_adapter_fail(rk_adapter_call_t *call, rk_adapter_code_t code, const char *reason,
                     const char *message)
{
    if (!reason) {
        rk_adapter_fail_detail(call, code, NULL, message);
        return;
    }
    Renkei__V1__ErrorDetail detail = RENKEI__V1__ERROR_DETAIL__INIT;
    detail.reason = (char *)reason;
    rk_adapter_fail_detail(call, code, &detail, message);
}

static void unimplemented(rk_adapter_call_t *call)
{
    rk_adapter_fail(
        call, RK_ADAPTER_UNIMPLEMENTED, "ERROR_REASON_CAPABILITY_MISSING",
        rk_adapter_call_printf(call, "%s is not implemented by this adapter", call->method->path));
}

/* --- Describe and health ----------------------------------------------------------------- */

void rk_adapter_describe_defaults(rk_adapter_call_t *call, Renkei__V1__AdapterDescribeResponse *out)
{
    rk_adapter_server_t *s = call->server;
    const rk_adapter_config_t *c = &s->config;
    Renkei__V1__AdapterDescribeResponse init = RENKEI__V1__ADAPTER_DESCRIBE_RESPONSE__INIT;
    *out = init;
    Renkei__V1__MunicipalityRef *m = rk_adapter_call_alloc(call, sizeof(*m));
    renkei__v1__municipality_ref__init(m);
    m->code = (char *)c->municipality_code;
    m->slug = (char *)c->municipality_slug;
    Renkei__V1__LocalizedText *name = rk_adapter_call_alloc(call, sizeof(*name));
    renkei__v1__localized_text__init(name);
    name->ja = (char *)c->municipality_name_ja;
    name->en = (char *)c->municipality_name_en;
    name->kana = (char *)c->municipality_name_kana;
    m->name = name;
    out->municipality = m;
    out->n_capabilities = s->n_capabilities;
    out->capabilities = rk_adapter_call_alloc(call, sizeof(*out->capabilities) * s->n_capabilities);
    memcpy(out->capabilities, s->capabilities, sizeof(*out->capabilities) * s->n_capabilities);
    out->adapter_version = (char *)(s->adapter->version ? s->adapter->version : "");
    out->contract_version = "renkei.v1";
    out->owner_system = (char *)(s->adapter->owner_system ? s->adapter->owner_system : "");
    out->hold_ttl_seconds = s->adapter->hold_ttl_seconds;
}

static void default_describe(rk_adapter_call_t *call)
{
    Renkei__V1__AdapterDescribeResponse out;
    rk_adapter_describe_defaults(call, &out);
    rk_adapter_reply(call, &out.base);
}

static void health_check(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Grpc__Health__V1__HealthCheckRequest *in =
        (const Grpc__Health__V1__HealthCheckRequest *)message;
    rk_adapter_server_t *s = rk_rpc_request(rpc)->server->app;
    if (in->service[0] && strcmp(in->service, "grpc.health.v1.Health") != 0 &&
        strcmp(in->service, "renkei.v1.AdapterService") != 0) {
        rk_rpc_fail(rpc, RK_RPC_NOT_FOUND, "unknown service");
        return;
    }
    int serving = !s->server->draining && (!s->adapter->serving || s->adapter->serving(s));
    Grpc__Health__V1__HealthCheckResponse out = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    out.status = serving ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
                         : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
    rk_rpc_reply(rpc, &out.base);
}

static const rk_rpc_method_t health_method = {
    .path = "/grpc.health.v1.Health/Check",
    .input = &grpc__health__v1__health_check_request__descriptor,
    .output = &grpc__health__v1__health_check_response__descriptor,
    .handler = health_check,
};

static void healthz(rk_request_t *req)
{
    static const char body[] = "{\"status\":\"ok\"}";
    rk_response_set(req, 200, "application/json", body, sizeof(body) - 1);
    rk_request_finish(req);
}

static void metrics(rk_request_t *req)
{
    rk_adapter_server_t *s = req->server->app;
    rk_metrics_render(s->metrics, req->response_body);
    rk_response_header(req, "content-type", "text/plain; version=0.0.4");
    rk_request_finish(req);
}

void rk_adapter_fail_field(rk_adapter_call_t *call, const char *field, const char *description)
{
    Renkei__V1__FieldViolation violation = RENKEI__V1__FIELD_VIOLATION__INIT;
    violation.field = (char *)field;
    violation.description = (char *)description;
    Renkei__V1__FieldViolation *violations[1] = {&violation};
    Renkei__V1__ErrorDetail detail = RENKEI__V1__ERROR_DETAIL__INIT;
    detail.reason = "ERROR_REASON_FIELD_INVALID";
    detail.n_field_violations = 1;
    detail.field_violations = violations;
    rk_adapter_fail_detail(call, RK_ADAPTER_INVALID_ARGUMENT, &detail,
                           rk_adapter_call_printf(call, "%s: %s", field, description));
}

/* --- the server -------------------------------------------------------------------------- */

const rk_adapter_config_t *rk_adapter_config(const rk_adapter_server_t *server)
{
    return &server->config;
}

struct event_base *rk_adapter_base(rk_adapter_server_t *server)
{
    return server->base;
}

void *rk_adapter_data(const rk_adapter_server_t *server)
{
    return server->data;
}

void rk_adapter_set_data(rk_adapter_server_t *server, void *data)
{
    server->data = data;
}

int rk_adapter_draining(const rk_adapter_server_t *server)
{
    return server->server && server->server->draining;
}

static const char *getenv_cb(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

static void usage(FILE *out, const char *name)
{
    fprintf(out,
            "usage: renkei-adapter-%s [--config FILE] [--help-config]\n"
            "  --config FILE   JSON configuration; RENKEI_ADAPTER_* variables override it\n"
            "  --help-config   list every configuration key and its variable\n",
            name);
}

static void publish_config(rk_adapter_server_t *s)
{
    rk_adapter_settings_t *st = &s->settings;
    rk_adapter_config_t *c = &s->config;
    c->name = st->name;
    c->municipality_code = st->municipality_code;
    c->municipality_slug = st->municipality_slug;
    c->municipality_name_ja = st->municipality_name_ja;
    c->municipality_name_en = st->municipality_name_en;
    c->municipality_name_kana = st->municipality_name_kana;
    c->listen_host = st->listen_host;
    c->listen_port = st->listen_port;
    c->tls_cert_file = st->tls_cert_file;
    c->tls_key_file = st->tls_key_file;
    c->tls_client_ca_file = st->tls_client_ca_file;
    c->log_level = st->log_level;
}

static void replace(char **slot, const char *value)
{
    free(*slot);
    *slot = rk_xstrdup(value);
}

/* The hub's server reads an rk_config_t: start from its defaults, then set what we own. */
static void make_net_config(rk_adapter_server_t *s)
{
    rk_config_t *n = &s->net_config;
    const rk_adapter_settings_t *st = &s->settings;
    rk_config_init(n);
    replace(&n->listen_host, st->listen_host);
    n->listen_port = st->listen_port;
    replace(&n->tls_cert_file, st->tls_cert_file);
    replace(&n->tls_key_file, st->tls_key_file);
    replace(&n->tls_client_ca_file, st->tls_client_ca_file);
    replace(&n->log_level, st->log_level);
    replace(&n->tenants_dir, "");
    n->max_connections = st->max_connections;
    n->message_bytes = st->message_bytes;
    if (n->body_bytes < st->message_bytes + 5)
        n->body_bytes = st->message_bytes + 5; /* one gRPC frame */
    n->drain_timeout_ms = st->drain_timeout_ms;
}

static int load_settings(rk_adapter_server_t *s, const char *config_file, json_t **section)
{
    char err[512] = "";
    const rk_adapter_t *a = s->adapter;
    rk_adapter_settings_init(&s->settings, a->name ? a->name : "adapter");
    *section = NULL;
    if ((config_file && rk_adapter_settings_load(&s->settings, config_file, a->config_section,
                                                 section, err, sizeof(err)) != RK_OK) ||
        rk_adapter_settings_apply_env(&s->settings, getenv_cb, NULL, err, sizeof(err)) != RK_OK ||
        rk_adapter_settings_validate(&s->settings, err, sizeof(err)) != RK_OK) {
        rk_log_error("invalid configuration", "{s:s}", "error", err);
        return RK_EINVAL;
    }
    if (!*section)
        *section = json_object();
    rk_log_level_t level = RK_LOG_INFO;
    rk_log_level_parse(s->settings.log_level, &level);
    rk_log_setup(level, 2);
    publish_config(s);
    return RK_OK;
}

static void drained_cb(rk_server_t *server, void *arg)
{
    (void)server;
    event_base_loopexit(arg, NULL);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    rk_adapter_server_t *s = arg;
    if (s->server->draining) {
        rk_log_warn("second signal: exiting now", "{s:i}", "signal", (int)sig);
        event_base_loopbreak(s->base);
        return;
    }
    rk_log_info("signal: draining", "{s:i}", "signal", (int)sig);
    rk_server_drain(s->server, drained_cb, s->base);
}

/* Calls still unanswered when the loop stopped get UNAVAILABLE, which frees them. */
static void abandon_calls(rk_adapter_server_t *s)
{
    size_t n = 0;
    while (s->calls.next != &s->calls) {
        rk_adapter_fail(s->calls.next, RK_ADAPTER_UNAVAILABLE, NULL,
                        "the adapter stopped before answering");
        n++;
    }
    if (n)
        rk_log_warn("stopped with calls unanswered", "{s:I}", "calls", (json_int_t)n);
}

static json_t *capability_names(const rk_adapter_server_t *s)
{
    json_t *names = json_array();
    for (size_t i = 0; i < s->n_capabilities; i++) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            &renkei__v1__adapter_capability__descriptor, (int)s->capabilities[i]);
        json_array_append_new(names, json_string(v ? v->name : "?"));
    }
    return names;
}

static int run(rk_adapter_server_t *s, json_t *section)
{
    char why[512] = "";
    const rk_adapter_t *a = s->adapter;
    s->handlers = a->handlers;
    s->calls.next = s->calls.prev = &s->calls;
    s->base = event_base_new();
    int rc = 1;
    struct event *sigterm = NULL, *sigint = NULL;
    int initialised = 0;
    if (a->init && a->init(s, section, &s->handlers, why, sizeof(why)) != 0) {
        rk_log_error("adapter start-up failed", "{s:s}", "error", why);
        goto out;
    }
    initialised = 1;
    compute_capabilities(s);
    make_net_config(s);
    s->metrics = rk_metrics_new();
    s->router = rk_router_new(s->metrics);
    for (size_t i = 0; i < N_METHODS; i++)
        rk_rpc_register(s->router, &adapter_methods[i]);
    rk_rpc_register(s->router, &health_method);
    rk_router_add(s->router, "GET", "/healthz", healthz, "healthz");
    rk_router_add(s->router, "GET", "/metrics", metrics, "metrics");
    rk_rpc_register_fallback(s->router);
    s->server = rk_server_new(s->base, &s->net_config, s->router, s->metrics, s, why, sizeof(why));
    if (!s->server) {
        rk_log_error("cannot start", "{s:s}", "error", why);
        goto out;
    }
    if (rk_server_listen(s->server, why, sizeof(why)) != RK_OK) {
        rk_log_error("cannot listen", "{s:s}", "error", why);
        goto out;
    }
    sigterm = evsignal_new(s->base, SIGTERM, signal_cb, s);
    sigint = evsignal_new(s->base, SIGINT, signal_cb, s);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    rk_log_info("listening", "{s:s, s:s, s:s, s:s, s:i, s:b, s:b, s:o}", "adapter", s->config.name,
                "municipality", s->config.municipality_code, "slug", s->config.municipality_slug,
                "host", s->config.listen_host, "port", s->config.listen_port, "tls",
                *s->config.tls_cert_file != '\0', "mtls", *s->config.tls_client_ca_file != '\0',
                "capabilities", capability_names(s));
    event_base_dispatch(s->base);
    abandon_calls(s);
    rk_log_info("stopped", NULL);
    rc = 0;
out:
    if (initialised && a->fini)
        a->fini(s);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    rk_server_free(s->server);
    rk_router_free(s->router);
    rk_metrics_free(s->metrics);
    event_base_free(s->base);
    return rc;
}

int rk_adapter_serve(const rk_adapter_t *adapter, int argc, char **argv)
{
    const char *config_file = NULL;
    const char *name = adapter->name ? adapter->name : "adapter";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_file = argv[++i];
        } else if (strcmp(argv[i], "--help-config") == 0) {
            rk_adapter_settings_describe(stdout);
            if (adapter->config_help)
                fputs(adapter->config_help, stdout);
            return 0;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout, name);
            return 0;
        } else {
            fprintf(stderr, "renkei-adapter-%s: unknown argument: %s\n", name, argv[i]);
            usage(stderr, name);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    rk_log_setup(RK_LOG_INFO, 2);
    rk_adapter_server_t *s = rk_xcalloc(1, sizeof(*s));
    s->adapter = adapter;
    json_t *section = NULL;
    int rc = 1;
    if (load_settings(s, config_file, &section) == RK_OK)
        rc = run(s, section);
    json_decref(section);
    rk_config_free(&s->net_config);
    rk_adapter_settings_free(&s->settings);
    free(s);
    return rc;
}
