/*
 * fanout.c — one adapter method asked of many library adapters at once (see fanout.h).
 *
 *   per call: no adapter | breaker refuses | no time left → settled at once
 *             otherwise rk_rpc_call(budget) → settled by its answer or by the fan-out's timer
 *   the last call settled, or the timer → done(calls)
 */
#include "library/fanout.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "facility/breaker.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull
#define MIN_CALL_BUDGET_NS (5 * MS)  /* less than this left: the owner is not asked */
#define JUDGED_TIMEOUT_NS (250 * MS) /* a timeout counts against an owner given this long */
#define MESSAGE_MAX 300              /* bytes of an adapter's message passed on */

#define STATUS(name) RENKEI__V1__ANSWER_STATUS__ANSWER_STATUS_##name

/* One adapter's breaker, kept while the process runs (dropped when the adapter leaves). */
typedef struct rk_library_owner {
    int64_t adapter_id;
    char *tenant, *name; /* for logs */
    rk_breaker_t breaker;
} owner_t;

typedef struct fanout fanout_t;

typedef struct slot {
    fanout_t *fo;
    size_t index;
    int64_t adapter_id;
    uint64_t started_ns, budget_ns;
    int probe;
    int settled;
} slot_t;

struct fanout {
    rk_library_t *lib;
    rk_arena_t *life; /* the caller's arena; NULL once it is gone */
    rk_library_call_t *calls;
    slot_t *slots;
    size_t n;
    const ProtobufCMessageDescriptor *response_type;
    char request_id[RK_REQUEST_ID_LEN + 1];
    int undecided;
    int refs;
    int done_called;
    struct event *timer;
    rk_library_fanout_cb done;
    void *done_arg;
};

static rk_breaker_config_t breaker_config(const rk_library_t *lib)
{
    const rk_config_t *cfg = lib->app->cfg;
    rk_breaker_config_t c = {.failures = cfg->facility_breaker_failures,
                             .rate_percent = cfg->facility_breaker_failure_rate,
                             .window = cfg->facility_breaker_window,
                             .open_ns = (uint64_t)cfg->facility_breaker_open_ms * MS};
    return c;
}

/* --- breakers ----------------------------------------------------------------------------- */

static owner_t *owner_find(rk_library_t *lib, int64_t adapter_id)
{
    for (size_t i = 0; i < lib->n_owners; i++)
        if (lib->owners[i]->adapter_id == adapter_id)
            return lib->owners[i];
    return NULL;
}

static void owner_free(owner_t *o)
{
    free(o->tenant);
    free(o->name);
    free(o);
}

static owner_t *owner_get(rk_library_t *lib, const rk_federation_adapter_t *a)
{
    owner_t *o = owner_find(lib, a->id);
    if (o)
        return o;
    if (lib->n_owners == lib->owners_cap) {
        size_t k = 0; /* first drop the breakers of adapters that left the registry */
        for (size_t i = 0; i < lib->n_owners; i++) {
            if (rk_library_adapter(lib, lib->owners[i]->adapter_id))
                lib->owners[k++] = lib->owners[i];
            else
                owner_free(lib->owners[i]);
        }
        lib->n_owners = k;
    }
    if (lib->n_owners == lib->owners_cap) {
        lib->owners_cap = lib->owners_cap ? 2 * lib->owners_cap : 16;
        lib->owners = rk_xrealloc(lib->owners, lib->owners_cap * sizeof(*lib->owners));
    }
    o = rk_xcalloc(1, sizeof(*o));
    o->adapter_id = a->id;
    o->tenant = rk_xstrdup(a->tenant_slug);
    o->name = rk_xstrdup(a->name);
    lib->owners[lib->n_owners++] = o;
    return o;
}

void rk_library_fanout_owners_free(rk_library_t *lib)
{
    for (size_t i = 0; i < lib->n_owners; i++)
        owner_free(lib->owners[i]);
    free(lib->owners);
    lib->owners = NULL;
    lib->n_owners = lib->owners_cap = 0;
}

static void breaker_record(rk_library_t *lib, const slot_t *s, rk_rpc_code_t code)
{
    owner_t *o = owner_find(lib, s->adapter_id);
    if (!o)
        return;
    rk_breaker_outcome_t outcome = RK_BREAKER_SUCCESS;
    if (code == RK_RPC_DEADLINE_EXCEEDED)
        outcome = s->budget_ns >= JUDGED_TIMEOUT_NS ? RK_BREAKER_FAILURE : RK_BREAKER_NEUTRAL;
    else if (code == RK_RPC_UNAVAILABLE || code == RK_RPC_INTERNAL || code == RK_RPC_UNKNOWN ||
             code == RK_RPC_DATA_LOSS || code == RK_RPC_RESOURCE_EXHAUSTED)
        outcome = RK_BREAKER_FAILURE;
    else if (code == RK_RPC_CANCELLED)
        outcome = RK_BREAKER_NEUTRAL;
    rk_breaker_config_t config = breaker_config(lib);
    rk_breaker_state_t before = o->breaker.state;
    rk_breaker_state_t after =
        rk_breaker_record(&o->breaker, &config, s->probe, outcome, rk_now_ns());
    if (after != before && after == RK_BREAKER_OPEN)
        rk_log_warn("library adapter circuit breaker opened", "{s:s, s:s, s:s}", "tenant",
                    o->tenant, "adapter", o->name, "code", rk_rpc_code_name(code));
    else if (after != before && after == RK_BREAKER_CLOSED)
        rk_log_info("library adapter circuit breaker closed", "{s:s, s:s}", "tenant", o->tenant,
                    "adapter", o->name);
}

/* --- lifetime ------------------------------------------------------------------------------ */

static void fanout_release(fanout_t *fo)
{
    if (--fo->refs > 0)
        return;
    rk_library_t *lib = fo->lib;
    event_free(fo->timer);
    free(fo->slots);
    free(fo);
    rk_library_release(lib);
}

/* The caller's arena is being freed: nothing more is written into it or reported. */
static void life_gone(void *data)
{
    fanout_t *fo = data;
    fo->life = NULL;
    fo->calls = NULL;
    fo->done_called = 1;
    evtimer_del(fo->timer);
    fanout_release(fo);
}

static void finish(fanout_t *fo)
{
    if (fo->done_called || !fo->calls)
        return;
    fo->done_called = 1;
    evtimer_del(fo->timer);
    fo->done(fo->calls, fo->n, fo->done_arg); /* may free life, and with it our reference */
}

/* --- settling ------------------------------------------------------------------------------ */

static void settle(slot_t *s, Renkei__V1__AnswerStatus status, const char *message)
{
    fanout_t *fo = s->fo;
    s->settled = 1;
    if (!fo->calls)
        return;
    rk_library_call_t *c = &fo->calls[s->index];
    c->status = status;
    c->message = message;
    if (s->started_ns) /* to the nearest millisecond, not truncated (half a ms low on average) */
        c->latency_ms = (int)((rk_now_ns() - s->started_ns + MS / 2) / MS);
}

/* text cut to MESSAGE_MAX bytes at a character boundary, in arena. */
static char *cut(rk_arena_t *arena, const char *text)
{
    size_t len = strlen(text);
    if (len > MESSAGE_MAX) {
        len = MESSAGE_MAX;
        while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
            len--;
    }
    return rk_arena_strndup(arena, text, len);
}

static void arena_free_cb(void *arena)
{
    rk_arena_free(arena);
}

static void called(const rk_rpc_result_t *result, void *arg)
{
    slot_t *s = arg;
    fanout_t *fo = s->fo;
    breaker_record(fo->lib, s, result->code);
    if (!s->settled && fo->calls) {
        rk_library_call_t *c = &fo->calls[s->index];
        c->code = result->code;
        for (size_t i = 0; i < result->n_trailers; i++)
            if (strcmp(result->trailers[i].name, "renkei-error-reason") == 0)
                c->reason = cut(fo->life, result->trailers[i].value);
        if (result->code == RK_RPC_OK) {
            /* the answer is used where the client unpacked it, for as long as the caller's
             * arena lives */
            rk_arena_on_free(fo->life, arena_free_cb, rk_rpc_result_keep(result));
            c->response = (ProtobufCMessage *)result->response;
            settle(s, STATUS(OK), "");
        } else if (result->code == RK_RPC_DEADLINE_EXCEEDED) {
            settle(s, STATUS(TIMEOUT),
                   rk_arena_printf(fo->life, "no answer within %d ms", (int)(s->budget_ns / MS)));
        } else {
            settle(s, STATUS(ERROR),
                   rk_arena_printf(fo->life, "%s: %s", rk_rpc_code_name(result->code),
                                   cut(fo->life, result->message ? result->message : "")));
        }
        if (--fo->undecided == 0)
            finish(fo);
    }
    fanout_release(fo);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fanout_t *fo = arg;
    for (size_t i = 0; i < fo->n; i++) {
        slot_t *s = &fo->slots[i];
        if (!s->settled)
            settle(s, STATUS(TIMEOUT),
                   fo->life ? rk_arena_printf(fo->life, "no answer within %d ms",
                                              (int)(s->budget_ns / MS))
                            : "");
    }
    fo->undecided = 0;
    finish(fo);
}

/* Starts call i; 1 when it went out. */
static int start(fanout_t *fo, size_t i, const char *method, uint64_t budget_ns)
{
    rk_library_t *lib = fo->lib;
    slot_t *s = &fo->slots[i];
    s->fo = fo;
    s->index = i;
    s->budget_ns = budget_ns;
    s->adapter_id = fo->calls[i].adapter_id;
    const rk_federation_adapter_t *a = rk_library_adapter(lib, fo->calls[i].adapter_id);
    if (!a) {
        settle(s, STATUS(UNAVAILABLE),
               "no active library adapter (disabled, removed or not yet "
               "active)");
        return 0;
    }
    if (budget_ns < MIN_CALL_BUDGET_NS) {
        settle(s, STATUS(TIMEOUT), "no time left before the caller's deadline to ask");
        return 0;
    }
    owner_t *o = owner_get(lib, a);
    rk_breaker_config_t config = breaker_config(lib);
    uint64_t now = rk_now_ns();
    if (!rk_breaker_allow(&o->breaker, &config, now, &s->probe)) {
        uint64_t retry = rk_breaker_retry_in_ns(&o->breaker, &config, now);
        settle(s, STATUS(UNAVAILABLE),
               retry ? rk_arena_printf(fo->life,
                                       "circuit breaker open after repeated failures; the next "
                                       "try in %.1f s",
                                       (double)retry / 1e9)
                     : "circuit breaker half-open: a probe call is in flight");
        return 0;
    }
    s->started_ns = now;
    rk_header_t metadata[] = {{"renkei-request-id", fo->request_id}};
    fo->refs++;
    rk_rpc_call(a->channel, method, fo->calls[i].request, fo->response_type, budget_ns, metadata, 1,
                called, s);
    return 1;
}

int rk_library_fanout(rk_library_t *lib, rk_rpc_t *rpc, rk_arena_t *life, const char *method,
                      const ProtobufCMessageDescriptor *response_type, rk_library_call_t *calls,
                      size_t n, rk_library_fanout_cb done, void *arg)
{
    const rk_federation_t *fed = lib->app->federation;
    if (lib->closing || !fed || !fed->loaded)
        return RK_EUNAVAILABLE;
    fanout_t *fo = rk_xcalloc(1, sizeof(*fo));
    fo->lib = lib;
    fo->life = life;
    fo->calls = calls;
    fo->n = n;
    fo->slots = rk_xcalloc(n ? n : 1, sizeof(*fo->slots));
    fo->response_type = response_type;
    fo->done = done;
    fo->done_arg = arg;
    fo->refs = 1;
    fo->timer = evtimer_new(lib->app->base, deadline_cb, fo);
    snprintf(fo->request_id, sizeof(fo->request_id), "%s", rk_rpc_request(rpc)->request_id);
    lib->busy++;
    rk_arena_on_free(life, life_gone, fo);
    for (size_t i = 0; i < n; i++) {
        calls[i].status = RENKEI__V1__ANSWER_STATUS__ANSWER_STATUS_UNSPECIFIED;
        calls[i].message = "";
        calls[i].response = NULL;
        calls[i].reason = NULL;
    }
    uint64_t left = rk_rpc_deadline_ns(rpc), budget = lib->timeout_ns;
    if (left != UINT64_MAX) {
        uint64_t usable = left > lib->margin_ns ? left - lib->margin_ns : 0;
        budget = usable < budget ? usable : budget;
    }
    for (size_t i = 0; i < n; i++)
        fo->undecided += start(fo, i, method, budget);
    if (!fo->undecided) {
        finish(fo);
        return RK_OK;
    }
    struct timeval tv = {(time_t)(budget / 1000000000ull), (long)((budget % 1000000000ull) / 1000)};
    evtimer_add(fo->timer, &tv);
    return RK_OK;
}
