/*
 * kinds_service.h — FacilityService.ListFacilityKinds: the kind taxonomy of kinds.h for
 * clients (names in ja/en/kana and synonyms, in enum order, OTHER last). Public: no login.
 *
 * The answer never changes while the hub runs, so it is built once per process and served with
 * "cache-control: public, max-age=86400". catalogue_sync.c registers it with the module.
 */
#ifndef RK_FACILITY_KINDS_SERVICE_H
#define RK_FACILITY_KINDS_SERVICE_H

#include "facility/catalogue_sync.h"

/** Adds FacilityService.ListFacilityKinds to router. */
void rk_facility_kinds_register(rk_facility_t *facility, rk_router_t *router);

#endif
