/*
 * availability.h — FacilityService.GetAvailability: live slots of facilities of any cities,
 * asked from their owners' adapters at once, cached briefly, behind a breaker per adapter.
 * Public: no login (anonymous answers only, so one cached answer serves every caller).
 *
 * A request names 1-50 facilities by hub id and a window (availability_rules.h has the rules;
 * a violation is INVALID_ARGUMENT with an ErrorDetail naming the field, an unknown id is
 * NOT_FOUND naming it). The facilities are looked up in the synced catalogue and grouped by the
 * adapter that listed them; each group is answered by one of:
 *   - the cache, when every facility of it has an answer younger than
 *     facility.availability_cache_ttl_ms: OK, with the owner's as_of, latency 0, no call;
 *   - one AdapterService.GetAvailability call for the facilities not fresh in the cache, every
 *     group's call at once over the federation's pooled channels, given the time left before
 *     the caller's deadline less facility.availability_margin_ms (at most
 *     facility.availability_timeout_ms): OK, TIMEOUT (no answer in time) or ERROR (the adapter
 *     answered an error);
 *   - nothing: UNAVAILABLE when the facilities' adapter is not active or lacks
 *     ADAPTER_CAPABILITY_FACILITY_AVAILABILITY, or when its breaker (breaker.h) is open.
 * When a group ends TIMEOUT, ERROR or UNAVAILABLE by its breaker while the cache still holds
 * answers younger than facility.availability_stale_ms for some of its facilities, those are
 * served and the group is STALE (each such facility too, with its cached as_of); the message
 * says why live failed. Every group has a MunicipalityStatus; one owner failing never fails the
 * call. The answer leaves when the last group is settled or when the fan-out's own deadline
 * passes, whichever comes first, so a hanging owner costs the caller no more than its deadline.
 *
 * Breakers: one per adapter, fed by every call's outcome (UNAVAILABLE, INTERNAL, UNKNOWN,
 * DATA_LOSS, RESOURCE_EXHAUSTED and timeouts are failures; a timeout only when the adapter had
 * at least 250 ms, since a caller's very short deadline says nothing about the owner; any other
 * answer is a success), with facility.breaker_failures, facility.breaker_failure_rate,
 * facility.breaker_window and facility.breaker_open_ms. Breakers and cache are per worker
 * process and start empty.
 *
 * Metrics (/metrics): renkei_adapter_breaker_state{tenant,adapter} (0 closed, 1 open,
 * 2 half-open), renkei_adapter_breaker_opened_total{tenant,adapter},
 * renkei_availability_calls_total{outcome} (one per group answered: ok, cached, timeout, error,
 * unavailable, stale) and the cache's entries, bytes and evictions.
 *
 * catalogue_sync.c registers the unit with the module and frees it with the module.
 */
#ifndef RK_FACILITY_AVAILABILITY_H
#define RK_FACILITY_AVAILABILITY_H

#include "facility/availability_rules.h"
#include "facility/catalogue_sync.h"
#include "facility/fee.h"
#include "net/rpc.h"

typedef struct rk_facility_availability rk_facility_availability_t;

/**
 * Sets up the unit (facility->availability): its cache and breakers from the configuration,
 * its statement, the method and its metrics.
 */
void rk_facility_availability_register(rk_facility_t *facility, rk_router_t *router);

/** One facility to ask about: hub and owner ids, the adapter that listed it, its owner, and
 * the fee schedule with the caller's side of it (fees NULL: slots carry no fee). */
typedef struct rk_availability_target {
    const char *hub_id, *owner_id;
    int64_t adapter_id;
    const char *code, *slug, *name_ja, *name_en, *name_kana;
    const Renkei__V1__FeeSchedule *fees;
    rk_fee_basis_t fee_basis;
} rk_availability_target_t;

/** The answer of rk_facility_availability_ask(), in the request's arena. */
typedef void (*rk_availability_done_cb)(const Renkei__V1__GetAvailabilityResponse *answer,
                                        void *arg);

/**
 * The same fan-out for another unit (SearchFacilities' free-slot filter, WatchAvailability):
 * the slots of n targets (at most 50 of one adapter) in window (AVAILABLE ones only with
 * available_only), within rpc's deadline, with the
 * cache, breakers and statuses described above, the answer allocated in `life`. RK_OK: done is
 * called exactly once — at once when nothing is asked live — unless `life` is freed first
 * (which also ends the fan-out's interest); done may answer rpc. RK_EUNAVAILABLE: the hub is
 * shutting down or still loading its adapters (done is not called).
 */
int rk_facility_availability_ask(rk_facility_availability_t *av, rk_rpc_t *rpc, rk_arena_t *life,
                                 const rk_availability_target_t *targets, size_t n,
                                 const rk_availability_window_t *window, int available_only,
                                 rk_availability_done_cb done, void *arg);

/** The facilities of a request, found: targets (in the request's arena) in request order. */
typedef void (*rk_availability_targets_cb)(rk_rpc_t *rpc, const rk_availability_target_t *targets,
                                           size_t n, const rk_availability_window_t *window,
                                           void *arg);

/**
 * Checks ids (1-50 Facility.id) and window by GetAvailability's rules and looks the facilities
 * up; then next. Anything wrong is answered on rpc (INVALID_ARGUMENT naming "facility_ids[i]" or
 * "window…", NOT_FOUND for an unknown id, UNAVAILABLE) and next is not called.
 */
void rk_facility_availability_resolve(rk_facility_availability_t *av, rk_rpc_t *rpc,
                                      char *const *ids, size_t n_ids,
                                      const Renkei__V1__TimeRange *window,
                                      rk_availability_targets_cb next, void *arg);

/**
 * Stops the unit: new calls are refused. Fan-outs still waiting for adapters end quietly as
 * their calls end (rk_federation_free() cancels them), and the last one frees the unit. NULL is
 * allowed.
 */
void rk_facility_availability_free(rk_facility_availability_t *availability);

#endif
