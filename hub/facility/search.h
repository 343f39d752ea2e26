/*
 * search.h — FacilityService.SearchFacilities and GetFacility over the synced catalogue
 * (rk_facility, filled by catalogue_sync.c). Public: no login.
 *
 * This slice filters by kind, municipality (slug or code), free text, distance from a point
 * (PostGIS ST_DWithin on the GiST-indexed geography, sorted by distance), minimum capacity,
 * accessibility features and bookable_only. Free text is a case-insensitive substring match
 * (ILIKE) on the names in Japanese, English and kana and on the address: no reading
 * conversion (やきゅう does not find 野球場 yet) and no synonyms. Price and free-slot filters and
 * sorts, and the caller's ResidentTerms, are not served yet: asking for them is UNIMPLEMENTED
 * naming the field. Pages are at most 100 hits; the page token is opaque (an offset bound to
 * the filters it was made for). Facilities of adapters that are not active are not shown.
 */
#ifndef RK_FACILITY_SEARCH_H
#define RK_FACILITY_SEARCH_H

#include "facility/catalogue_sync.h"

/** Prepares the statements and adds the FacilityService methods. */
void rk_facility_search_register(rk_facility_t *facility, rk_router_t *router);

#endif
