/*
 * fanout.h — one adapter method asked of many library adapters at once, within the caller's
 * deadline, each behind its own circuit breaker (facility/breaker.h): the engine under
 * SearchCatalogue, GetWork, GetHoldings, ListMyHolds and the owner lookups of PlaceHold.
 *
 * Every call gets the time left before the caller's deadline less facility.availability_margin_ms,
 * at most facility.availability_timeout_ms (the same budget as the facilities' fan-out), as its
 * grpc-timeout; a timer at the same instant ends the fan-out with what has arrived, so a hanging
 * owner costs the caller no more than its deadline. Each call ends as one MunicipalityStatus:
 * OK (the answer, copied into the caller's arena), TIMEOUT, ERROR (the adapter's code, its
 * renkei-error-reason and message) or UNAVAILABLE (no such active adapter, its breaker open,
 * or less than 5 ms left). Breakers count UNAVAILABLE, INTERNAL, UNKNOWN, DATA_LOSS,
 * RESOURCE_EXHAUSTED and timeouts (when the call had at least 250 ms) as failures, with
 * facility.breaker_failures, _failure_rate, _window and _open_ms; they live per worker process.
 *
 * A fan-out is malloc'd and counted (the caller's arena, each call in flight): adapter calls
 * cannot be cancelled, so one may end after the caller's arena is gone; it still feeds its
 * breaker, and the last reference frees the fan-out.
 */
#ifndef RK_LIBRARY_FANOUT_H
#define RK_LIBRARY_FANOUT_H

#include "library/library.h"
#include "renkei/v1/common.pb-c.h"

/** One adapter to ask and, once the fan-out is done, how it answered. */
typedef struct rk_library_call {
    int64_t adapter_id;
    const ProtobufCMessage *request; /* packed when the fan-out starts */
    /* set by the fan-out: */
    Renkei__V1__AnswerStatus status;
    rk_rpc_code_t code;  /* the adapter's code (ERROR) */
    const char *reason;  /* its renkei-error-reason, or NULL */
    const char *message; /* for the MunicipalityStatus: why it is not OK ("" when OK) */
    int latency_ms;
    ProtobufCMessage *response; /* OK: the answer, kept as long as the caller's arena; else NULL */
} rk_library_call_t;

/** The fan-out is done: every call has its status (in the caller's arena, as calls). */
typedef void (*rk_library_fanout_cb)(rk_library_call_t *calls, size_t n, void *arg);

/**
 * Asks method (an AdapterService path) of each call's adapter with its request, expecting
 * response_type; calls (n ≥ 1, in life) are filled in and done is called exactly once — at
 * once when no call goes out — unless life (the caller's arena) is freed first. RK_OK, or
 * RK_EUNAVAILABLE when the hub is shutting down or still loading its adapters (done is not
 * called).
 */
int rk_library_fanout(rk_library_t *library, rk_rpc_t *rpc, rk_arena_t *life, const char *method,
                      const ProtobufCMessageDescriptor *response_type, rk_library_call_t *calls,
                      size_t n, rk_library_fanout_cb done, void *arg);

/** Frees the breakers (the module's end). */
void rk_library_fanout_owners_free(rk_library_t *library);

#endif
