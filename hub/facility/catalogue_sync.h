/*
 * catalogue_sync.h — the facility module: the catalogue of every city synced into PostgreSQL
 * from the owners' adapters, and the public FacilityService methods that search it
 * (search.c).
 *
 * A sync of one adapter pages through its AdapterService.ListFacilities from the change token
 * stored by its last complete sync (rk_facility_sync), upserts each page's facilities and
 * deletes its removed ids in one transaction per page, and stores the new token with the last
 * page. A full listing (no token, or the adapter no longer knows ours) also deletes what it
 * did not list. One sync per adapter runs at a time; a second request joins the running one.
 *
 * Syncs run for every active adapter with ADAPTER_CAPABILITY_FACILITY_CATALOGUE every
 * facility.sync_interval_ms (the first one interval after start), and for one adapter on demand
 * through AdminService.SyncAdapter (the admin token, like the other adapter methods; `renkeictl
 * adapter sync`). A failure (the adapter down or slow, the database away) is logged and stored as
 * the adapter's last_error
 * ("sync: …"), cleared by the next successful sync; the token is kept, so the next sync
 * resumes from it. Nothing here blocks the loop.
 *
 * main.c registers the module after the federation module and frees it first at exit, before
 * the store: the callbacks still in flight then (store, adapter calls) find it closing, do no
 * further work, and the last of them releases it.
 */
#ifndef RK_FACILITY_CATALOGUE_SYNC_H
#define RK_FACILITY_CATALOGUE_SYNC_H

#include "app.h"
#include "net/router.h"

struct event;
struct rk_facility_job;
struct rk_facility_availability;
struct rk_facility_booking_sweep;

typedef struct rk_facility {
    rk_app_t *app;
    struct event *timer;          /* the scheduled sync of every catalogue adapter */
    struct rk_facility_job *jobs; /* syncs in flight, one per adapter at most */
    struct rk_facility_availability *availability; /* GetAvailability's cache and breakers */
    struct rk_facility_booking_sweep *sweep;       /* the booking recovery sweep (worker 0) */
    int closing;                                   /* rk_facility_free() was called: no new work */
} rk_facility_t;

/**
 * Sets up the module (app->facility): prepares its statements, adds AdminService.SyncAdapter
 * and the FacilityService methods, and schedules the periodic sync. Call after
 * rk_federation_register().
 */
void rk_facility_register(rk_app_t *app, rk_router_t *router);

/**
 * Stops the module: no new syncs, the timer ends. Syncs in flight end quietly when their
 * callbacks arrive (rk_store_free() and rk_federation_free() deliver them); the last one frees
 * the module. NULL is allowed.
 */
void rk_facility_free(rk_facility_t *facility);

#endif
