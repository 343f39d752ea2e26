/*
 * watch.c — WatchAvailability (see watch.h).
 *
 * A watch lives in its request's arena. Each poll has an arena of its own for the fan-out's
 * answer (freed after the poll is handled, or when the stream ends first, which also tells a
 * fan-out still waiting on owners that no one listens any more). What the caller has seen is
 * kept as one FNV-1a hash per facility of its packed slots, and one status per owner.
 */
#include "facility/watch.h"

#include "app.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "facility/availability.h"
#include "net/request.h"
#include "net/rpc.h"
#include "net/server.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS 1000000ull

typedef struct watch {
    rk_app_t *app;
    rk_rpc_t *rpc;
    const rk_availability_target_t *targets;
    size_t n;
    rk_availability_window_t window;
    uint64_t *seen;             /* per target: hash of the slots last sent; 0 = nothing sent */
    Renkei__V1__AnswerStatus *owner_status; /* per target's owner (by target index) */
    struct event *timer;
    rk_arena_t *poll; /* the poll in flight's answer arena, or NULL */
    uint64_t ends_ns; /* monotonic: the stream ends then */
    int first;        /* the snapshot is still to be sent */
    int over;
} watch_t;

static void watch_schedule(watch_t *w);

static uint64_t fnv1a(const uint8_t *bytes, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= bytes[i];
        h *= 0x100000001b3ull;
    }
    return h ? h : 1;
}

/* The hash of a facility's slots and status as the caller would see them. */
static uint64_t slots_hash(rk_arena_t *arena, const Renkei__V1__FacilityAvailability *fa)
{
    Renkei__V1__FacilityAvailability shape = *fa;
    shape.as_of = ""; /* a new as_of with the same slots is no change */
    size_t len = protobuf_c_message_get_packed_size(&shape.base);
    uint8_t *bytes = rk_arena_alloc(arena, len ? len : 1);
    protobuf_c_message_pack(&shape.base, bytes);
    return fnv1a(bytes, len);
}

/* Ends the stream (OK) once; the request's end frees the rest. */
static void watch_end(watch_t *w)
{
    if (w->over)
        return;
    w->over = 1;
    evtimer_del(w->timer);
    rk_rpc_finish(w->rpc);
}

/* The request's arena is going: stop the timer and drop a poll still waiting. */
static void watch_gone(void *data)
{
    watch_t *w = data;
    w->over = 1;
    event_free(w->timer);
    if (w->poll) {
        rk_arena_t *poll = w->poll;
        w->poll = NULL;
        rk_arena_free(poll);
    }
}

static void polled(const Renkei__V1__GetAvailabilityResponse *answer, void *arg)
{
    watch_t *w = arg;
    rk_arena_t *arena = w->poll;
    Renkei__V1__WatchAvailabilityResponse out = RENKEI__V1__WATCH_AVAILABILITY_RESPONSE__INIT;
    out.facilities = rk_arena_calloc(arena, answer->n_facilities + 1, sizeof(*out.facilities));
    out.statuses = rk_arena_calloc(arena, answer->n_statuses + 1, sizeof(*out.statuses));
    for (size_t i = 0; i < answer->n_facilities; i++) {
        Renkei__V1__FacilityAvailability *fa = answer->facilities[i];
        for (size_t k = 0; k < w->n; k++) {
            if (strcmp(w->targets[k].hub_id, fa->facility_id) != 0)
                continue;
            uint64_t h = slots_hash(arena, fa);
            if (w->first || h != w->seen[k])
                out.facilities[out.n_facilities++] = fa;
            w->seen[k] = h;
            break;
        }
    }
    for (size_t i = 0; i < answer->n_statuses; i++) {
        Renkei__V1__MunicipalityStatus *st = answer->statuses[i];
        int changed = w->first;
        for (size_t k = 0; k < w->n; k++) {
            if (!st->municipality || strcmp(w->targets[k].code, st->municipality->code) != 0)
                continue;
            changed |= w->owner_status[k] != st->status;
            w->owner_status[k] = st->status;
        }
        if (changed)
            out.statuses[out.n_statuses++] = st;
    }
    int send = w->first || out.n_facilities || out.n_statuses;
    w->first = 0;
    int rc = send ? rk_rpc_send(w->rpc, &out.base) : RK_OK;
    w->poll = NULL;
    rk_arena_free(arena);
    if (rc != RK_OK) {
        watch_end(w);
        return;
    }
    watch_schedule(w);
}

static void poll_now(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    watch_t *w = arg;
    rk_request_t *req = rk_rpc_request(w->rpc);
    if (w->over || rk_request_client_gone(req) || w->app->server->draining ||
        rk_now_ns() >= w->ends_ns) {
        watch_end(w);
        return;
    }
    w->poll = rk_arena_new();
    if (rk_facility_availability_ask(w->app->facility->availability, w->rpc, w->poll, w->targets,
                                     w->n, &w->window, 0, polled, w) != RK_OK) {
        rk_arena_t *poll = w->poll;
        w->poll = NULL;
        rk_arena_free(poll);
        if (w->first) {
            w->over = 1;
            rk_rpc_fail(w->rpc, RK_RPC_UNAVAILABLE, "the hub is starting or stopping; retry");
            return;
        }
        watch_end(w);
    }
}

/* The next poll after facility.watch_poll_ms (not before the cache lets answers change). */
static void watch_schedule(watch_t *w)
{
    if (w->over)
        return;
    uint64_t wait_ms = (uint64_t)w->app->cfg->facility_watch_poll_ms;
    uint64_t ttl_ms = (uint64_t)w->app->cfg->facility_availability_cache_ttl_ms;
    if (ttl_ms > wait_ms)
        wait_ms = ttl_ms;
    uint64_t now = rk_now_ns();
    if (now + wait_ms * MS > w->ends_ns)
        wait_ms = w->ends_ns > now ? (w->ends_ns - now) / MS : 0;
    struct timeval tv = {(time_t)(wait_ms / 1000), (long)(wait_ms % 1000) * 1000};
    evtimer_add(w->timer, &tv);
}

static void resolved(rk_rpc_t *rpc, const rk_availability_target_t *targets, size_t n,
                     const rk_availability_window_t *window, void *arg)
{
    (void)arg;
    rk_request_t *req = rk_rpc_request(rpc);
    watch_t *w = rk_arena_calloc(req->arena, 1, sizeof(*w));
    w->app = rk_app(req);
    w->rpc = rpc;
    w->targets = targets;
    w->n = n;
    w->window = *window;
    w->seen = rk_arena_calloc(req->arena, n, sizeof(*w->seen));
    w->owner_status = rk_arena_calloc(req->arena, n, sizeof(*w->owner_status));
    w->first = 1;
    int64_t left_s = window->end - (int64_t)time(NULL);
    uint64_t max_ns = (uint64_t)w->app->cfg->facility_watch_max_ms * MS;
    uint64_t until_window_ns = left_s > 0 ? (uint64_t)left_s * 1000000000ull : 0;
    w->ends_ns = rk_now_ns() + (until_window_ns < max_ns ? until_window_ns : max_ns);
    w->timer = evtimer_new(w->app->base, poll_now, w);
    rk_arena_on_free(req->arena, watch_gone, w);
    poll_now(-1, 0, w);
}

static void watch_availability(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__WatchAvailabilityRequest *in =
        (const Renkei__V1__WatchAvailabilityRequest *)message;
    rk_facility_availability_t *av = rk_app(rk_rpc_request(rpc))->facility->availability;
    rk_facility_availability_resolve(av, rpc, in->facility_ids, in->n_facility_ids, in->window,
                                     resolved, NULL);
}

static const rk_rpc_method_t method = {
    .path = "/renkei.v1.FacilityService/WatchAvailability",
    .input = &renkei__v1__watch_availability_request__descriptor,
    .output = &renkei__v1__watch_availability_response__descriptor,
    .handler = watch_availability,
    .server_streaming = 1,
};

void rk_facility_watch_register(rk_facility_t *facility, rk_router_t *router)
{
    (void)facility;
    rk_rpc_register(router, &method);
}
