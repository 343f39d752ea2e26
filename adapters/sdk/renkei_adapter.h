/*
 * renkei_adapter.h — librenkei-adapter: serve renkei.v1.AdapterService from C.
 *
 * An adapter stands in front of one owner system of one municipality (proto/renkei/v1/
 * adapter.proto). Its author fills an rk_adapter_t — a name, a version and a table of
 * handlers, one per AdapterService method, typed with the generated protobuf-c messages — and
 * calls rk_adapter_serve() from main(). The SDK then:
 *   - reads the configuration: `--config FILE` (one JSON object) and RENKEI_ADAPTER_*
 *     environment variables, which win over the file (`--help-config` lists every key);
 *   - serves AdapterService and grpc.health.v1.Health on one port, in gRPC (h2c, or h2 over
 *     TLS with ALPN), gRPC-Web and Connect (application/proto), over the hub's own net layer;
 *     with tls.client_ca_file set, only clients whose certificate chains to that CA get in;
 *   - answers a method whose handler is NULL with UNIMPLEMENTED (ERROR_REASON_CAPABILITY_MISSING),
 *     and answers Describe itself from the table unless the author sets a describe handler;
 *   - honours grpc-timeout: when the caller's deadline passes the caller gets
 *     DEADLINE_EXCEEDED at once and the handler's later answer is dropped;
 *   - logs JSON lines on stderr (one per call), and on SIGTERM or SIGINT stops accepting,
 *     lets calls in flight finish (limits.drain_timeout_ms) and returns 0.
 *
 * Handlers run on the SDK's single event loop and must not block. Each handler answers its
 * call exactly once, now or later (from a timer or an I/O callback), with rk_adapter_reply()
 * or rk_adapter_fail*(). The decoded request and anything taken from rk_adapter_call_alloc()
 * live until that answer; after it the call must not be touched.
 *
 * Minimal adapter:
 *
 *     static void describe_cb(rk_adapter_call_t *call, const Renkei__V1__AdapterDescribeRequest *r)
 *     ...
 *     static const rk_adapter_t adapter = {
 *         .name = "example", .version = "1.0.0", .owner_system = "Example ILS 3",
 *         .handlers = {.list_facilities = list_facilities_cb, .hold_slot = hold_slot_cb},
 *     };
 *     int main(int argc, char **argv) { return rk_adapter_serve(&adapter, argc, argv); }
 *
 * adapters/sdk/README.md has a complete example.
 */
#ifndef RENKEI_ADAPTER_H
#define RENKEI_ADAPTER_H

#include "renkei/v1/adapter.pb-c.h"

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct json_t; /* jansson's json_t: include <jansson.h> to read an adapter's own section */

/** gRPC status codes (wire values); the same numbers as the hub's rk_rpc_code_t. */
typedef enum {
    RK_ADAPTER_OK = 0,
    RK_ADAPTER_CANCELLED = 1,
    RK_ADAPTER_UNKNOWN = 2,
    RK_ADAPTER_INVALID_ARGUMENT = 3,
    RK_ADAPTER_DEADLINE_EXCEEDED = 4,
    RK_ADAPTER_NOT_FOUND = 5,
    RK_ADAPTER_ALREADY_EXISTS = 6,
    RK_ADAPTER_PERMISSION_DENIED = 7,
    RK_ADAPTER_RESOURCE_EXHAUSTED = 8,
    RK_ADAPTER_FAILED_PRECONDITION = 9,
    RK_ADAPTER_ABORTED = 10,
    RK_ADAPTER_OUT_OF_RANGE = 11,
    RK_ADAPTER_UNIMPLEMENTED = 12,
    RK_ADAPTER_INTERNAL = 13,
    RK_ADAPTER_UNAVAILABLE = 14,
    RK_ADAPTER_DATA_LOSS = 15,
    RK_ADAPTER_UNAUTHENTICATED = 16,
} rk_adapter_code_t;

/** One call in progress; owned by the SDK, valid until the handler answers it. */
typedef struct rk_adapter_call rk_adapter_call_t;
/** The running adapter: configuration, event loop, the author's state. */
typedef struct rk_adapter_server rk_adapter_server_t;

/* Handler types: one per AdapterService method, with its generated request type. */
#define RK_ADAPTER_HANDLER(name, Request)                                                          \
    typedef void (*rk_adapter_##name##_fn)(rk_adapter_call_t * call,                               \
                                           const Renkei__V1__##Request *request)
RK_ADAPTER_HANDLER(describe, AdapterDescribeRequest);
RK_ADAPTER_HANDLER(list_facilities, AdapterListFacilitiesRequest);
RK_ADAPTER_HANDLER(get_availability, AdapterGetAvailabilityRequest);
RK_ADAPTER_HANDLER(hold_slot, AdapterHoldSlotRequest);
RK_ADAPTER_HANDLER(confirm_booking, AdapterConfirmBookingRequest);
RK_ADAPTER_HANDLER(cancel_booking, AdapterCancelBookingRequest);
RK_ADAPTER_HANDLER(get_booking, AdapterGetBookingRequest);
RK_ADAPTER_HANDLER(search_catalogue, AdapterSearchCatalogueRequest);
RK_ADAPTER_HANDLER(get_holdings, AdapterGetHoldingsRequest);
RK_ADAPTER_HANDLER(verify_patron, AdapterVerifyPatronRequest);
RK_ADAPTER_HANDLER(place_hold, AdapterPlaceHoldRequest);
RK_ADAPTER_HANDLER(cancel_hold, AdapterCancelHoldRequest);
RK_ADAPTER_HANDLER(list_holds, AdapterListHoldsRequest);
RK_ADAPTER_HANDLER(list_loans, AdapterListLoansRequest);
RK_ADAPTER_HANDLER(checkout, AdapterCheckoutRequest);
RK_ADAPTER_HANDLER(renew, AdapterRenewRequest);
RK_ADAPTER_HANDLER(return_loan, AdapterReturnLoanRequest);
#undef RK_ADAPTER_HANDLER

/**
 * The handler table. NULL means "not implemented": the method answers UNIMPLEMENTED and the
 * capability it belongs to is left out of Describe. A capability is declared only when every
 * method of its group (adapter.proto, AdapterCapability) has a handler.
 */
typedef struct rk_adapter_handlers {
    rk_adapter_describe_fn describe; /* NULL: the SDK answers (rk_adapter_describe_defaults) */
    rk_adapter_list_facilities_fn list_facilities;
    rk_adapter_get_availability_fn get_availability;
    rk_adapter_hold_slot_fn hold_slot;
    rk_adapter_confirm_booking_fn confirm_booking;
    rk_adapter_cancel_booking_fn cancel_booking;
    rk_adapter_get_booking_fn get_booking;
    rk_adapter_search_catalogue_fn search_catalogue;
    rk_adapter_get_holdings_fn get_holdings;
    rk_adapter_verify_patron_fn verify_patron;
    rk_adapter_place_hold_fn place_hold;
    rk_adapter_cancel_hold_fn cancel_hold;
    rk_adapter_list_holds_fn list_holds;
    rk_adapter_list_loans_fn list_loans;
    rk_adapter_checkout_fn checkout;
    rk_adapter_renew_fn renew;
    rk_adapter_return_loan_fn return_loan;
} rk_adapter_handlers_t;

/** What an adapter is. Usually a static const; it must outlive rk_adapter_serve(). */
typedef struct rk_adapter {
    const char *name;         /* short ASCII name for logs and the default of adapter.name */
    const char *version;      /* the adapter's own version, Describe.adapter_version */
    const char *owner_system; /* product/vendor of the owner system, Describe.owner_system */
    /* Top-level key of the adapter's own section in the config file ("sim"); NULL = none. */
    const char *config_section;
    int elibrary; /* 1: declare ADAPTER_CAPABILITY_ELIBRARY (the loan methods lend e-books) */
    int hold_ttl_seconds; /* Describe.hold_ttl_seconds; 0 = owner default */
    rk_adapter_handlers_t handlers;

    /**
     * Optional. Called once after the configuration is read and before the port opens
     * (blocking is allowed here: read files, connect to the owner). section is the adapter's
     * own config object (borrowed; an empty object when absent). handlers is the SDK's copy of
     * the table, which init may change (clear what the configuration turns off). Returns 0, or
     * non-zero with why filled ("config: sim.seed: must be …"), which stops start-up.
     */
    int (*init)(rk_adapter_server_t *server, const struct json_t *section,
                rk_adapter_handlers_t *handlers, char *why, size_t why_len);
    /** Optional. Called once after the loop stopped and every call was answered: free state. */
    void (*fini)(rk_adapter_server_t *server);
    /** Optional. Health: 1 = SERVING, 0 = NOT_SERVING (owner down). NULL = always serving. */
    int (*serving)(rk_adapter_server_t *server);
    /**
     * Optional. The keys of the adapter's own section, printed by --help-config after the
     * SDK's: one key a line, in the same columns (key, environment, default, meaning).
     */
    const char *config_help;
} rk_adapter_t;

/** The configuration the SDK read. Strings are never NULL (empty when unset). */
typedef struct rk_adapter_config {
    const char *name;              /* adapter.name (RENKEI_ADAPTER_NAME) */
    const char *municipality_code; /* municipality.code: 6 digits with check digit */
    const char *municipality_slug; /* municipality.slug: lower-case ASCII */
    const char *municipality_name_ja, *municipality_name_en, *municipality_name_kana;
    const char *listen_host;
    int listen_port;
    const char *tls_cert_file, *tls_key_file, *tls_client_ca_file;
    const char *log_level;
} rk_adapter_config_t;

/**
 * Runs the adapter until SIGTERM or SIGINT. Returns the process exit status: 0 after a clean
 * drain, 1 when start-up failed (the reason is logged), 2 for bad arguments.
 */
int rk_adapter_serve(const rk_adapter_t *adapter, int argc, char **argv);

/* --- the server ------------------------------------------------------------------------- */

const rk_adapter_config_t *rk_adapter_config(const rk_adapter_server_t *server);
/** The event loop, for the adapter's own timers and sockets (never blocks). */
struct event_base *rk_adapter_base(rk_adapter_server_t *server);
/** The adapter's own state, set in init; NULL until then. The SDK never frees it. */
void *rk_adapter_data(const rk_adapter_server_t *server);
void rk_adapter_set_data(rk_adapter_server_t *server, void *data);
/** 1 once SIGTERM/SIGINT started the drain. */
int rk_adapter_draining(const rk_adapter_server_t *server);

/* --- calls ------------------------------------------------------------------------------ */

rk_adapter_server_t *rk_adapter_call_server(const rk_adapter_call_t *call);
/** Shorthand for rk_adapter_data(rk_adapter_call_server(call)). */
void *rk_adapter_call_data(const rk_adapter_call_t *call);
/** "/renkei.v1.AdapterService/HoldSlot". */
const char *rk_adapter_call_method(const rk_adapter_call_t *call);
/** Nanoseconds left before the caller's deadline; UINT64_MAX when it set none. */
uint64_t rk_adapter_call_deadline_ns(const rk_adapter_call_t *call);
/** A request metadata value (name in lower case, e.g. "renkei-request-id"), or NULL. */
const char *rk_adapter_call_metadata(const rk_adapter_call_t *call, const char *name);
/** The call's request id (renkei-request-id or x-request-id when sane, else generated). */
const char *rk_adapter_call_request_id(const rk_adapter_call_t *call);
/** Zeroed memory that lives until the call is answered: build responses in it. */
void *rk_adapter_call_alloc(rk_adapter_call_t *call, size_t size);
/** A copy of s (or a printf) in the call's memory. */
char *rk_adapter_call_strdup(rk_adapter_call_t *call, const char *s);
char *rk_adapter_call_printf(rk_adapter_call_t *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Runs cb(data) when the call ends (answered, or abandoned at shutdown): free your state. */
void rk_adapter_call_on_end(rk_adapter_call_t *call, void (*cb)(void *data), void *data);
/**
 * Calls fn(call, arg) after delay_ms on the loop: the simplest asynchronous answer. If the
 * process stops first, fn is not called and the call is answered UNAVAILABLE. One at a time
 * per call.
 */
void rk_adapter_call_after(rk_adapter_call_t *call, uint64_t delay_ms,
                           void (*fn)(rk_adapter_call_t *call, void *arg), void *arg);

/**
 * Answers with response, which must be the method's response type (anything else becomes
 * INTERNAL). The message is packed at once: it may live on the stack.
 */
void rk_adapter_reply(rk_adapter_call_t *call, const ProtobufCMessage *response);
/**
 * Answers with an error. reason is the full value name of an ErrorReason, BookingError or
 * LibraryError ("BOOKING_ERROR_SLOT_FULL") or NULL; message is for the hub's operators. The
 * reason travels as the renkei-error-reason trailer (a header in Connect and gRPC-Web) and,
 * in gRPC, as a renkei.v1.ErrorDetail in grpc-status-details-bin (proto/README.md, Errors).
 */
void rk_adapter_fail(rk_adapter_call_t *call, rk_adapter_code_t code, const char *reason,
                     const char *message);
/** As rk_adapter_fail() with a whole ErrorDetail (localized message, retry_after_seconds…). */
void rk_adapter_fail_detail(rk_adapter_call_t *call, rk_adapter_code_t code,
                            const Renkei__V1__ErrorDetail *detail, const char *message);
/**
 * INVALID_ARGUMENT for one bad request field: reason ERROR_REASON_FIELD_INVALID with a
 * FieldViolation, and "field: description" as the message.
 */
void rk_adapter_fail_field(rk_adapter_call_t *call, const char *field, const char *description);

/**
 * Fills out with what the SDK's Describe answers: municipality (code, slug, names), the
 * capabilities of the handler table, adapter_version, contract_version "renkei.v1",
 * owner_system and hold_ttl_seconds. Arrays are allocated in the call. A describe handler
 * calls this, adds (branches, max_concurrent_calls) and replies.
 */
void rk_adapter_describe_defaults(rk_adapter_call_t *call,
                                  Renkei__V1__AdapterDescribeResponse *out);

#endif
