/*
 * breaker.h — a circuit breaker for one adapter: stop calling an owner that keeps failing, and
 * probe it back after a cool-down.
 *
 *   CLOSED ──(failures consecutive failures, or rate_percent of the last window calls)──▶ OPEN
 *   OPEN ──(open_ns passed; the next call is the probe)──▶ HALF_OPEN
 *   HALF_OPEN ──probe succeeds──▶ CLOSED        HALF_OPEN ──probe fails──▶ OPEN (cool-down again)
 *
 * While OPEN every call is refused; while HALF_OPEN only the one probe goes through, the others
 * are refused until its outcome is known. Outcomes of calls that were let through before the
 * breaker opened (stragglers) change nothing while it is OPEN or HALF_OPEN. A NEUTRAL outcome
 * (the call says nothing about the owner: the hub closed the channel, the caller's deadline was
 * too short to judge) is not counted; a neutral probe lets the next call probe.
 *
 * Pure: the clock is an argument, nothing here does I/O, so tests drive it step by step.
 * availability.c keeps one per adapter and reports the states as renkei_adapter_breaker_state.
 */
#ifndef RK_FACILITY_BREAKER_H
#define RK_FACILITY_BREAKER_H

#include <stdint.h>

/* The numbers are the values of renkei_adapter_breaker_state. */
typedef enum {
    RK_BREAKER_CLOSED = 0,
    RK_BREAKER_OPEN = 1,
    RK_BREAKER_HALF_OPEN = 2,
} rk_breaker_state_t;

typedef enum {
    RK_BREAKER_SUCCESS,
    RK_BREAKER_FAILURE,
    RK_BREAKER_NEUTRAL,
} rk_breaker_outcome_t;

#define RK_BREAKER_WINDOW_MAX 64 /* calls remembered for the failure rate */

typedef struct rk_breaker_config {
    int failures;     /* consecutive failures that open it (≥ 1) */
    int rate_percent; /* failure share of the last window calls that opens it (1-100) */
    int window;       /* calls in the rate window (1-RK_BREAKER_WINDOW_MAX); the rate is
                         judged only once that many calls were seen since it last closed */
    uint64_t open_ns; /* cool-down before the half-open probe */
} rk_breaker_config_t;

/** One adapter's breaker. Zeroed memory is a closed breaker with no history. */
typedef struct rk_breaker {
    rk_breaker_state_t state;
    int consecutive;    /* failures in a row while closed */
    uint64_t history;   /* outcomes of the last `seen` calls, bit set = failure, newest bit 0 */
    int seen;           /* calls in history (≤ config window) */
    uint64_t opened_ns; /* when it last opened */
    int probing;        /* HALF_OPEN: the probe is in flight */
    uint64_t opened;    /* times it opened */
} rk_breaker_t;

/**
 * May a call go to the adapter now? 1 = yes (with *probe = 1 when this call is the half-open
 * probe: pass it back to rk_breaker_record()), 0 = no. An OPEN breaker whose cool-down has
 * passed turns HALF_OPEN here and lets this call through as the probe.
 */
int rk_breaker_allow(rk_breaker_t *breaker, const rk_breaker_config_t *config, uint64_t now_ns,
                     int *probe);

/**
 * Records the outcome of a call that rk_breaker_allow() let through (probe as it said). Returns
 * the state after it.
 */
rk_breaker_state_t rk_breaker_record(rk_breaker_t *breaker, const rk_breaker_config_t *config,
                                     int probe, rk_breaker_outcome_t outcome, uint64_t now_ns);

/** Nanoseconds until an OPEN breaker lets its probe through (0 when due or not OPEN). */
uint64_t rk_breaker_retry_in_ns(const rk_breaker_t *breaker, const rk_breaker_config_t *config,
                                uint64_t now_ns);

/** "closed", "open" or "half_open". */
const char *rk_breaker_state_name(rk_breaker_state_t state);

#endif
