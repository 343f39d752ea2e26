/*
 * directory.h — what a worker remembers of the facilities GetAvailability asks about, so that
 * a call whose facilities and caller it has seen before asks PostgreSQL nothing.
 *
 * Two memories, each filled on first use from the database and forgotten on the notifications
 * of migration 0025 (hub/store/listen.h; the listener's own connection):
 *   - facilities by hub id: the owner's id, the adapter that listed it, the owner municipality
 *     and its fee schedule, already parsed — forgotten one by one on NOTIFY rk_facility (a
 *     row's owner id, adapter, owner or fees changed, or the row went), wholly on NOTIFY
 *     rk_terms (a tenant changed);
 *   - a caller's fee side per owner tenant (rk_caller_terms of migrations 0011 and 0021, for a
 *     home municipality and grant, or anonymous): kept for RK_FACILITY_TERMS_TTL_MS at most
 *     ("in force" follows Japan's date), forgotten on NOTIFY rk_terms (an agreement, its
 *     versions, a tenant or an account's 在勤/在学 changed).
 * Each time LISTEN takes effect (the first connect, every reconnect) both are emptied: what
 * changed meanwhile was not announced. A load that a notification overtakes answers its
 * request but is not kept. So a change reaches GetAvailability's prices as fast as its NOTIFY;
 * HoldSlot does not read these (it computes terms in its own transaction).
 *
 * Bounded: at most RK_FACILITY_DIRECTORY_MAX facilities and RK_FACILITY_TERMS_MAX callers;
 * beyond that the memory is emptied and refills (no eviction order to keep on the hot path).
 * One per worker process, used from its loop only.
 */
#ifndef RK_FACILITY_DIRECTORY_H
#define RK_FACILITY_DIRECTORY_H

#include "app.h"
#include "core/mem.h"
#include "facility/availability.h"
#include "store/pool.h"

#include <stddef.h>

#define RK_FACILITY_DIRECTORY_MAX 200000
#define RK_FACILITY_TERMS_MAX 20000
#define RK_FACILITY_TERMS_TTL_MS 30000

typedef struct rk_facility_directory rk_facility_directory_t;

/** A directory for app's worker: prepares its statements, starts its LISTEN. */
rk_facility_directory_t *rk_facility_directory_new(rk_app_t *app);

/** Stops listening and frees what no request still holds (the rest goes with its request). */
void rk_facility_directory_free(rk_facility_directory_t *directory);

/** How rk_facility_directory_find() ended. */
typedef struct rk_facility_directory_answer {
    int status;     /* RK_OK, RK_ENOTFOUND (ids[unknown] is no facility) or a store failure */
    size_t unknown; /* with RK_ENOTFOUND */
    const rk_store_result_t *failure;        /* with a store failure: the result (NULL: not sent) */
    const rk_availability_target_t *targets; /* with RK_OK: one per id, in order, fee_basis set */
} rk_facility_directory_answer_t;

typedef void (*rk_facility_directory_cb)(const rk_facility_directory_answer_t *answer, void *arg);

/**
 * The targets of n facility ids for a caller (home municipality code and grant id, both NULL:
 * anonymous), valid while `arena` lives (the request's: what they point to is held until it is
 * freed). done is called exactly once: at once when everything is remembered, else after one
 * database round trip.
 */
void rk_facility_directory_find(rk_facility_directory_t *directory, rk_arena_t *arena,
                                char *const *ids, size_t n, const char *home, const char *grant,
                                rk_facility_directory_cb done, void *arg);

#endif
