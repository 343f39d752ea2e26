/*
 * watch.h — FacilityService.WatchAvailability: a server stream of slot changes for 1-50
 * facilities in a window. The first message is the full snapshot (as GetAvailability answers
 * it, with every owner's status); then the owners are asked again every
 * facility.watch_poll_ms (at least the availability cache's TTL) through the same fan-out, and
 * a message goes out only when something changed: the facilities whose slots differ from what
 * the caller last saw, and the owners whose status changed. No owner pushes through the
 * adapter contract yet, so every owner is polled. The stream ends OK at the window's end or
 * after facility.watch_max_ms, and at once when the client leaves or the hub drains. No login.
 */
#ifndef RK_FACILITY_WATCH_H
#define RK_FACILITY_WATCH_H

#include "facility/catalogue_sync.h"

/** Registers the method (catalogue_sync.c calls it with the module's other units). */
void rk_facility_watch_register(rk_facility_t *facility, rk_router_t *router);

#endif
