/*
 * owner_step.c — the broker steps' shared life: row read, outcome stored, the caller told once
 * (see owner_step.h).
 */
#include "library/owner_step.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void step_release(rk_library_step_t *s)
{
    if (--s->refs > 0)
        return;
    rk_library_t *lib = s->lib;
    free(s);
    rk_library_release(lib);
}

static void life_gone(void *data)
{
    rk_library_step_t *s = data;
    s->done = NULL;
    step_release(s);
}

void rk_library_step_end(rk_library_step_t *s, int rc)
{
    if (s->row)
        PQclear(s->row);
    s->row = NULL;
    rk_library_step_cb done = s->done;
    s->done = NULL;
    if (done)
        done(rc, s->refusal, s->arg); /* may free life: life_gone() drops its reference */
    step_release(s);
}

static void stored(const rk_store_result_t *res, void *arg)
{
    rk_library_step_t *s = arg;
    if (res->status != RK_OK) {
        rk_log_error("library: storing the owner's answer failed", "{s:s, s:s}", s->id_field, s->id,
                     "error", res->error ? res->error : "");
        rk_library_step_end(s, RK_EIO);
        return;
    }
    rk_library_step_end(s, RK_OK);
}

void rk_library_step_store(rk_library_step_t *s, const char *stmt, int n, const char *const *values)
{
    if (rk_store_exec(s->lib->app->store, stmt, n, values, stored, s) != RK_AGAIN)
        rk_library_step_end(s, RK_EIO);
}

const char *rk_library_step_refused(rk_library_step_t *s, const char *method,
                                    const rk_rpc_result_t *result, const char *not_found)
{
    rk_log_warn("library owner call failed", "{s:s, s:s, s:s, s:s}", s->id_field, s->id, "method",
                method, "code", rk_rpc_code_name(result->code), "message",
                result->message ? result->message : "");
    s->refusal = rk_library_owner_refusal(result);
    if (!s->refusal && not_found && result->code == RK_RPC_NOT_FOUND &&
        strcmp(rk_library_trailer_reason(result), "ERROR_REASON_NOT_FOUND") == 0)
        s->refusal = not_found;
    if (!s->refusal)
        rk_library_step_end(s, RK_EUNAVAILABLE);
    return s->refusal;
}

static void row_read(const rk_store_result_t *res, void *arg)
{
    rk_library_step_t *s = arg;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        rk_library_step_end(s, RK_EIO);
        return;
    }
    if (!s->wanted(s, res->results[0])) {
        rk_library_step_end(s, RK_OK);
        return;
    }
    s->row = PQcopyResult(res->results[0], PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    s->call_owner(s);
}

void rk_library_step_start(rk_library_step_t *s, rk_library_t *lib, const char *get, const char *id,
                           uint64_t timeout_ns, rk_arena_t *life, rk_library_step_cb done,
                           void *arg)
{
    s->lib = lib;
    snprintf(s->id, sizeof(s->id), "%s", id);
    s->timeout_ns = timeout_ns;
    s->done = done;
    s->arg = arg;
    s->refs = 1;
    lib->busy++;
    if (life) {
        s->refs++;
        rk_arena_on_free(life, life_gone, s);
    }
    const char *values[] = {s->id};
    if (rk_store_exec(lib->app->store, get, 1, values, row_read, s) != RK_AGAIN)
        rk_library_step_end(s, RK_EIO);
}
