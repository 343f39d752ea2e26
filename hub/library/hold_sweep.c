/*
 * hold_sweep.c — the holds' and loans' recovery sweep (see hold_sweep.h). One pass: the claim, then
 * one owner step per claimed row; the next pass is scheduled when the last step has ended.
 */
#include "library/hold_sweep.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "library/hold_owner.h"
#include "library/loan_owner.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_CLAIM "library_sweep_claim"
#define SWEEP_BATCH "50"
#define SWEEP_LEASE_MS "60000" /* longer than an owner call */
#define OWNER_TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

static const char sql_claim[] =
    "SELECT id, was, 'hold' FROM rk_library_sweep_claim($1::int, $2::int) UNION ALL"
    " SELECT id, was, 'loan' FROM rk_library_loan_sweep_claim($1::int, $2::int)";

struct rk_library_sweep {
    rk_library_t *lib;
    struct event *timer;
    int steps; /* owner steps of this pass still running */
};

static void schedule(rk_library_t *lib)
{
    struct rk_library_sweep *sw = lib->sweep;
    if (!sw || lib->closing)
        return;
    int ms = lib->app->cfg->facility_booking_sweep_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(sw->timer, &tv);
}

static void step_done(int rc, const char *refusal, void *arg)
{
    rk_library_t *lib = arg;
    (void)rc;
    (void)refusal;
    if (lib->sweep && --lib->sweep->steps == 0)
        schedule(lib);
}

static void claimed(const rk_store_result_t *res, void *arg)
{
    rk_library_t *lib = arg;
    struct rk_library_sweep *sw = lib->sweep;
    if (lib->closing || !sw) {
        rk_library_release(lib);
        return;
    }
    if (res->status != RK_OK || res->n_results != 1) {
        rk_log_warn("library hold sweep: claim failed", "{s:s}", "error",
                    res->error ? res->error : "");
        schedule(lib);
        rk_library_release(lib);
        return;
    }
    const PGresult *r = res->results[0];
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        const char *was = PQgetvalue(r, i, 1);
        if (strcmp(PQgetvalue(r, i, 2), "loan") == 0) {
            if (strcmp(was, "requested") == 0) {
                rk_log_info("library loan failed: never sent to the owner", "{s:s}", "loan_id",
                            PQgetvalue(r, i, 0));
                continue;
            }
            rk_log_info("library loan resumed at the owner", "{s:s, s:s}", "loan_id",
                        PQgetvalue(r, i, 0), "state", was);
            sw->steps++;
            rk_library_loan_owner_step(lib, PQgetvalue(r, i, 0), OWNER_TIMEOUT_NS, NULL, step_done,
                                       lib);
            continue;
        }
        if (strcmp(was, "placing") != 0 && strcmp(was, "cancelling") != 0) {
            rk_log_info("library hold failed: never sent to the owner", "{s:s}", "hold_id",
                        PQgetvalue(r, i, 0));
            continue;
        }
        rk_log_info("library hold resumed at the owner", "{s:s, s:s}", "hold_id",
                    PQgetvalue(r, i, 0), "state", was);
        sw->steps++;
        rk_library_hold_owner_step(lib, PQgetvalue(r, i, 0), OWNER_TIMEOUT_NS, NULL, step_done,
                                   lib);
    }
    if (!sw->steps)
        schedule(lib);
    rk_library_release(lib);
}

static void pass_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_library_t *lib = arg;
    if (lib->closing)
        return;
    const char *values[] = {SWEEP_BATCH, SWEEP_LEASE_MS};
    lib->busy++;
    if (rk_store_exec(lib->app->store, STMT_CLAIM, 2, values, claimed, lib) != RK_AGAIN) {
        schedule(lib);
        rk_library_release(lib);
    }
}

void rk_library_hold_sweep_start(rk_library_t *lib)
{
    rk_store_prepare(lib->app->store, STMT_CLAIM, sql_claim);
    if (lib->app->worker_index != 0)
        return;
    struct rk_library_sweep *sw = rk_xcalloc(1, sizeof(*sw));
    sw->lib = lib;
    sw->timer = evtimer_new(lib->app->base, pass_cb, lib);
    lib->sweep = sw;
    struct timeval now = {0, 0};
    evtimer_add(sw->timer, &now);
}

void rk_library_hold_sweep_stop(rk_library_t *lib)
{
    struct rk_library_sweep *sw = lib->sweep;
    if (!sw)
        return;
    event_free(sw->timer);
    free(sw);
    lib->sweep = NULL;
}
