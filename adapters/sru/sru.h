/*
 * sru.h — the sru adapter's shared state and the handlers its units provide.
 *
 * renkei-adapter-sru fronts one city's library: the catalogue is an SRU server (Index Data's
 * Zebra serving MARC 21), reached through sru_http.h; circulation the catalogue cannot hold
 * (patrons, holds, loans) is kept in the owner's own PostgreSQL tables, as an ILS would
 * (sru_circ.c, sql/sru_circulation.sql). main.c reads the configuration and owns this state.
 */
#ifndef RK_SRU_H
#define RK_SRU_H

#include "renkei_adapter.h"
#include "sru_http.h"
#include "sru_marc.h"
#include "store/pool.h"

#include <stddef.h>

struct event;

/** A branch of the library, from the configuration (Describe, holdings, pickup rules). */
typedef struct sru_branch {
    char *id; /* the code the catalogue's 952$a/$b use */
    char *name_ja, *name_en, *name_kana;
    double latitude, longitude;
    int pickup;         /* holds can be collected here */
    int partner_pickup; /* …also by residents of partner cities (the mutual-use agreement's
                           pickup branches); default: as pickup */
} sru_branch_t;

typedef struct sru {
    rk_adapter_server_t *server;
    /* The catalogue: http://host:port/database */
    sru_http_t *http;
    char *host, *database;
    int port;
    int timeout_ms; /* one SRU request at most, within the caller's deadline */
    sru_branch_t *branches;
    size_t n_branches;
    /* Circulation: NULL store = catalogue only (the circulation methods are turned off). */
    rk_store_t *store;
    char **pickup_partners; /* municipality codes whose branches may be pickup points */
    size_t n_pickup_partners;
    int loan_limit, hold_limit, loan_days, max_renewals, pickup_days;
    struct event *probe;  /* asks the SRU server again while it is unreachable */
    int probing;          /* a probe is in flight */
    struct event *expiry; /* expires READY holds past their pickup deadline */
    int expiry_interval_ms;
} sru_t;

/* --- sru_catalogue.c: SearchCatalogue, GetHoldings, Describe ---------------------------- */
void sru_describe(rk_adapter_call_t *call, const Renkei__V1__AdapterDescribeRequest *request);
void sru_search_catalogue(rk_adapter_call_t *call,
                          const Renkei__V1__AdapterSearchCatalogueRequest *request);
void sru_get_holdings(rk_adapter_call_t *call,
                      const Renkei__V1__AdapterGetHoldingsRequest *request);
/** The configured branch with this code, or NULL. */
const sru_branch_t *sru_branch_find(const sru_t *sru, const char *id);
/**
 * Runs one searchRetrieve of cql (records start … start+max-1, 1-based) on the call's behalf,
 * within the caller's deadline and the configured timeout. On an answer, calls done with the
 * parsed records (valid until the call ends). When the catalogue cannot be asked or refuses,
 * answers the call itself (UNAVAILABLE with LIBRARY_ERROR_OWNER_UNAVAILABLE, or INTERNAL) and
 * done is not called.
 */
void sru_fetch(rk_adapter_call_t *call, const char *cql, int start, int max,
               void (*done)(rk_adapter_call_t *call, const sru_answer_t *answer, void *arg),
               void *arg);
/** Answers INVALID_ARGUMENT with ERROR_REASON_FIELD_INVALID naming field. */
void sru_fail_field(rk_adapter_call_t *call, const char *field, const char *description);

#endif
