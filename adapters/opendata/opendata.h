/*
 * opendata.h — the state of renkei-adapter-opendata and what its units share.
 *
 * main.c reads the "opendata" section, loads the files once at start-up and, before each
 * ListFacilities listing starts, has a worker thread check whether the files changed (and read
 * them if so); list.c answers ListFacilities from the catalogue. Everything lives in memory: the
 * files are the source of truth, the catalogue's versions are this process's (adapters/opendata/
 * README.md).
 */
#ifndef OPENDATA_H
#define OPENDATA_H

#include "catalogue.h"
#include "renkei_adapter.h"
#include "sources.h"

#include <stdint.h>

typedef struct rk_worker_pool rk_worker_pool_t;
typedef struct opendata_waiter opendata_waiter_t;

typedef struct opendata {
    rk_adapter_server_t *server;
    opendata_sources_t sources;
    Renkei__V1__FacilityKind *exclude_kinds;
    char *booking_url;
    opendata_catalogue_t *catalogue;
    opendata_check_job_t known; /* signatures of the last read and the last failed read */
    rk_worker_pool_t *workers;  /* one thread: file checks off the loop */
    int checking;               /* a check is on the worker */
    int closing;                /* fini: a finished check changes nothing */
    opendata_waiter_t *waiters; /* listings waiting for that check */
    uint32_t boot_id;           /* tokens of another process are unknown */
} opendata_t;

/** Answers ListFacilities from the catalogue as it is now (list.c). */
void opendata_list_answer(rk_adapter_call_t *call,
                          const Renkei__V1__AdapterListFacilitiesRequest *request);

#endif
