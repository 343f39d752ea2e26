/*
 * catalogue.h — LibraryService.SearchCatalogue, GetWork and GetHoldings: one catalogue search
 * over every city's library adapters, merged into works (merge.h). No login; with a resident's
 * token, libraries the resident may not hold or borrow from are marked (may_borrow false, a
 * restriction naming the rule) by rk_resident_terms(home, 'library.hold') (migration 0011).
 *
 * SearchCatalogue: at least one of isbn (ISBN-10 or -13, hyphens allowed: isbn.h; an invalid
 * one is INVALID_ARGUMENT with LIBRARY_ERROR_INVALID_ISBN), title, author, keyword, subject (at
 * most 200 bytes each, passed to the owners as data). The libraries asked: every active adapter
 * with ADAPTER_CAPABILITY_LIBRARY_CATALOGUE of the municipalities named (slugs or codes; an
 * unknown one is INVALID_ARGUMENT naming municipalities[i]; a named one without a library
 * adapter answers UNAVAILABLE in its status), or of every municipality. They are asked at once
 * (fanout.h) for their first min(100, offset + page_size + 1) records with holdings; the
 * records are merged into works, the caller's home city first, then the cities they may borrow
 * from, then the others (each by code); available_only keeps works with an AVAILABLE item.
 * Pages of page_size works (default 20, at most 50) by offset in the merged list; the token is
 * bound to the request, and a city contributes at most its first 100 records to any page.
 * Every adapter asked has a MunicipalityStatus (OK, TIMEOUT, ERROR, UNAVAILABLE) with its
 * latency and result count: one city failing never fails the call.
 *
 * GetWork (work_id or isbn) and GetHoldings (work_id, optionally municipalities) ask the same
 * libraries for the work's records: by ISBN (AdapterService.GetHoldings), by record id at the
 * one owner of a "rec:" work, or by the longest words of a "tay:" work's title and author
 * (AdapterService.SearchCatalogue) keeping the records whose key matches. No record anywhere
 * is NOT_FOUND (or UNAVAILABLE when no library answered).
 */
#ifndef RK_LIBRARY_CATALOGUE_H
#define RK_LIBRARY_CATALOGUE_H

#include "library/library.h"
#include "library/merge.h"

/** Prepares the statements and adds the three methods. */
void rk_library_catalogue_register(rk_library_t *library, rk_router_t *router);

/** What finds the records of a work at one owner: the method, its answer's type and the
 * request (in arena). */
typedef struct rk_library_work_query {
    const char *method;
    const ProtobufCMessageDescriptor *response_type;
    ProtobufCMessage *request;
} rk_library_work_query_t;

rk_library_work_query_t rk_library_work_query(rk_arena_t *arena, const rk_library_work_ref_t *ref);

/**
 * The records in response (an answer of rk_library_work_query()'s method) of the city with
 * code that belong to work_id: *out, an array in arena. Returns how many.
 */
size_t rk_library_work_records(rk_arena_t *arena, const ProtobufCMessage *response,
                               const char *code, const char *work_id,
                               Renkei__V1__CatalogueRecord ***out);

#endif
