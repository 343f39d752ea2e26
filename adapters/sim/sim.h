/*
 * sim.h — the state of renkei-adapter-sim and what its units share.
 *
 * main.c reads the "sim" config section, builds the catalogue and the library, and wraps every
 * handler in the fault gate; sim_facility.c answers the facility methods, sim_library.c the
 * library ones. Everything lives in memory and resets when the process restarts.
 */
#ifndef SIM_H
#define SIM_H

#include "renkei_adapter.h"
#include "sim_catalogue.h"
#include "sim_fault.h"
#include "sim_idem.h"

#include <time.h>

struct event;
typedef struct sim_library sim_library_t;

typedef struct sim {
    rk_adapter_server_t *server;
    sim_catalogue_t *catalogue;
    sim_library_t *library;
    sim_idem_t *idem;
    sim_fault_config_t faults;
    uint64_t rng; /* fault decisions */
    uint64_t started_ns;
    uint32_t boot_id; /* change and page tokens of an earlier process are unknown */
    struct event *churn_timer;
    int churn_interval_ms;
    int occupancy_percent; /* share of free slots shown as booked by others */
    int hold_ttl_seconds;
    struct sim_booking **bookings; /* every booking, by number - 1 */
    size_t n_bookings, cap_bookings;
} sim_t;

/* --- idempotent mutations (main.c) --- */

/** One mutating call's idempotency context, filled by sim_mutation_begin(). */
typedef struct sim_mutation {
    const char *method;
    const char *key;
    uint8_t *request;
    size_t request_len;
} sim_mutation_t;

/**
 * Checks the key and looks the call up. Returns 1 when the call was answered already (bad key,
 * a replay of the first answer, or ALREADY_EXISTS for a reused key); 0 to go on and answer
 * with sim_mutation_reply() / sim_mutation_fail(), which remember the answer.
 */
int sim_mutation_begin(rk_adapter_call_t *call, sim_mutation_t *m,
                       const Renkei__V1__IdempotencyKey *key, const ProtobufCMessage *request);
void sim_mutation_reply(rk_adapter_call_t *call, sim_mutation_t *m,
                        const ProtobufCMessage *response);
void sim_mutation_fail(rk_adapter_call_t *call, sim_mutation_t *m, rk_adapter_code_t code,
                       const char *reason, const char *message);
/** An INVALID_ARGUMENT naming the field (rk_adapter_fail_field). */
void sim_fail_field(rk_adapter_call_t *call, const char *field, const char *description);
/** 1 for the classes charged resident fees and given the residents' booking window. */
int sim_resident_class(const Renkei__V1__ResidentContext *resident);

/* --- facilities (sim_facility.c) --- */

void sim_list_facilities(rk_adapter_call_t *call,
                         const Renkei__V1__AdapterListFacilitiesRequest *request);
void sim_get_availability(rk_adapter_call_t *call,
                          const Renkei__V1__AdapterGetAvailabilityRequest *request);
void sim_hold_slot(rk_adapter_call_t *call, const Renkei__V1__AdapterHoldSlotRequest *request);
void sim_confirm_booking(rk_adapter_call_t *call,
                         const Renkei__V1__AdapterConfirmBookingRequest *request);
void sim_cancel_booking(rk_adapter_call_t *call,
                        const Renkei__V1__AdapterCancelBookingRequest *request);
void sim_get_booking(rk_adapter_call_t *call, const Renkei__V1__AdapterGetBookingRequest *request);
/** Frees the bookings. */
void sim_bookings_free(sim_t *sim);

/* --- library (sim_library.c) --- */

typedef struct sim_library_options {
    int branches; /* 1–9 */
    int loan_limit, hold_limit;
    const char *const *pickup_partners; /* municipality codes whose branches may be pickup points */
    size_t n_pickup_partners;
} sim_library_options_t;

sim_library_t *sim_library_new(const sim_catalogue_t *cat, const sim_library_options_t *options);
void sim_library_free(sim_library_t *lib);
/** Adds the branches to a Describe answer (in the call's memory). */
void sim_library_describe(const sim_library_t *lib, rk_adapter_call_t *call,
                          Renkei__V1__AdapterDescribeResponse *out);
void sim_search_catalogue(rk_adapter_call_t *call,
                          const Renkei__V1__AdapterSearchCatalogueRequest *request);
void sim_get_holdings(rk_adapter_call_t *call,
                      const Renkei__V1__AdapterGetHoldingsRequest *request);
void sim_verify_patron(rk_adapter_call_t *call,
                       const Renkei__V1__AdapterVerifyPatronRequest *request);
void sim_place_hold(rk_adapter_call_t *call, const Renkei__V1__AdapterPlaceHoldRequest *request);
void sim_cancel_hold(rk_adapter_call_t *call, const Renkei__V1__AdapterCancelHoldRequest *request);
void sim_list_holds(rk_adapter_call_t *call, const Renkei__V1__AdapterListHoldsRequest *request);
void sim_list_loans(rk_adapter_call_t *call, const Renkei__V1__AdapterListLoansRequest *request);
void sim_checkout(rk_adapter_call_t *call, const Renkei__V1__AdapterCheckoutRequest *request);
void sim_renew(rk_adapter_call_t *call, const Renkei__V1__AdapterRenewRequest *request);
void sim_return_loan(rk_adapter_call_t *call, const Renkei__V1__AdapterReturnLoanRequest *request);

#endif
