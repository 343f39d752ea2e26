/*
 * availability.c — FacilityService.GetAvailability: the fan-out to the owners' adapters, its
 * cache and breakers (see availability.h).
 *
 *   check the request → look the facilities up (one query) → group them by adapter →
 *   per group: fresh cache | breaker refuses | no adapter | one GetAvailability call →
 *   the last call settled, or the fan-out's deadline → one answer
 *
 * A fan-out is malloc'd with its own arena and counted references: one for the request, one
 * per adapter call in flight. Adapter calls cannot be cancelled, so a call may end after the
 * answer left (or after the request was freed): it still feeds its breaker and the cache, and
 * the last reference frees the fan-out. The request's reference goes when its arena is freed
 * (after the answer, or when the server stops before it), so nothing is answered twice and
 * nothing reaches a freed request.
 */
#include "facility/availability.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "facility/availability_cache.h"
#include "facility/availability_rules.h"
#include "facility/breaker.h"
#include "facility/directory.h"
#include "facility/fee.h"
#include "facility/terms.h"
#include "federation/federation.h"
#include "net/json_transcode.h"
#include "net/pb_arena.h"
#include "net/rpc.h"
#include "net/rpc_client.h"
#include "renkei/v1/adapter.pb-c.h"
#include "renkei/v1/common.pb-c.h"
#include "renkei/v1/facility.pb-c.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ADAPTER_METHOD "/renkei.v1.AdapterService/GetAvailability"
#define MS 1000000ull
#define MIN_CALL_BUDGET_NS (5 * MS)  /* less than this left: the owner is not asked */
#define JUDGED_TIMEOUT_NS (250 * MS) /* a timeout counts against an owner given this long */
#define MESSAGE_MAX 300              /* bytes of an adapter's error message passed on */
#define AVAILABILITY_BIT                                                                           \
    (1u << RENKEI__V1__ADAPTER_CAPABILITY__ADAPTER_CAPABILITY_FACILITY_AVAILABILITY)

#define STATUS(name) RENKEI__V1__ANSWER_STATUS__ANSWER_STATUS_##name

/* How one group was answered: the label of renkei_availability_calls_total. */
typedef enum {
    OUTCOME_OK,
    OUTCOME_CACHED,
    OUTCOME_TIMEOUT,
    OUTCOME_ERROR,
    OUTCOME_UNAVAILABLE,
    OUTCOME_STALE,
    N_OUTCOMES
} outcome_t;

static const char *const outcome_names[N_OUTCOMES] = {"ok",    "cached",      "timeout",
                                                      "error", "unavailable", "stale"};

/* One adapter's breaker, kept while the process runs (pruned when the adapter leaves). */
typedef struct owner {
    int64_t adapter_id;
    char *tenant, *name; /* for logs */
    rk_breaker_t breaker;
} owner_t;

struct rk_facility_availability {
    rk_app_t *app;
    rk_availability_cache_t *cache;
    rk_facility_directory_t *directory; /* the facilities and callers' fee sides remembered */
    rk_breaker_config_t breaker;
    uint64_t ttl_ns, stale_ns, timeout_ns, margin_ns;
    owner_t **owners;
    size_t n_owners, owners_cap;
    uint64_t outcomes[N_OUTCOMES];
    int fanouts; /* fan-outs not yet freed and lookups not yet found */
    int closing;
};

typedef struct fanout fanout_t;
typedef struct group group_t;

/* One facility asked for, in request order. */
typedef struct item {
    const char *hub_id, *owner_id;
    const Renkei__V1__FeeSchedule *fees; /* the caller's fee per slot from these, or NULL */
    rk_fee_basis_t fee_basis;
    group_t *group;
    char *key;             /* its cache key */
    const uint8_t *packed; /* the owner's FacilityAvailability (owner ids), or NULL: none */
    size_t len;
    Renkei__V1__AnswerStatus status; /* of its slots: OK (live or fresh cache) or STALE */
    char as_of[RK_AVAILABILITY_AS_OF_MAX];
    int asked; /* in the group's live call */
} item_t;

/* The facilities of one adapter. */
struct group {
    fanout_t *fo;
    int64_t adapter_id;
    const char *code, *slug, *name_ja, *name_en, *name_kana;
    item_t **items;
    size_t n_items;
    Renkei__V1__AnswerStatus status; /* UNSPECIFIED while its call is undecided */
    int cached;                      /* OK from the cache alone */
    const char *message;
    uint64_t started_ns, budget_ns;
    int latency_ms;
    int probe; /* the call is its breaker's half-open probe */
};

struct fanout {
    rk_facility_availability_t *av;
    rk_arena_t *arena;
    rk_rpc_t *rpc; /* NULL once the request is gone */
    char request_id[RK_REQUEST_ID_LEN + 1];
    rk_availability_window_t window;
    int available_only;
    item_t *items;
    size_t n_items;
    group_t *groups;
    size_t n_groups;
    int undecided; /* groups whose call is in flight and not settled */
    int refs;
    int answered;
    struct event *timer;
    rk_availability_done_cb done; /* NULL: answer rpc as GetAvailability */
    void *done_arg;
    rk_arena_t *life; /* the answer's arena; its end ends the fan-out's interest */
};

/* What a resolve needs once the directory has found its facilities; in the request's arena. */
typedef struct lookup {
    rk_facility_availability_t *av;
    rk_rpc_t *rpc;
    char *const *ids;
    size_t n_ids;
    rk_availability_window_t window;
    rk_availability_targets_cb next;
    void *next_arg;
} lookup_t;

/* --- helpers ---------------------------------------------------------------------------------- */

static void utc_now(char out[RK_AVAILABILITY_AS_OF_MAX])
{
    rk_availability_time_format((int64_t)time(NULL), out);
}

/* text cut to MESSAGE_MAX bytes at a character boundary, or a placeholder when not UTF-8. */
static const char *safe_message(rk_arena_t *arena, const char *text)
{
    size_t len = strlen(text);
    if (len > MESSAGE_MAX) {
        len = MESSAGE_MAX;
        while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
            len--;
    }
    char *copy = rk_arena_strndup(arena, text, len);
    json_t *valid = json_string(copy);
    json_decref(valid);
    return valid ? copy : "(the adapter's message is not UTF-8)";
}

static void fail_field(rk_rpc_t *rpc, rk_rpc_code_t code, const char *reason, const char *field,
                       const char *description)
{
    rk_arena_t *arena = rk_rpc_request(rpc)->arena;
    Renkei__V1__FieldViolation violation = RENKEI__V1__FIELD_VIOLATION__INIT;
    violation.field = (char *)field;
    violation.description = (char *)description;
    Renkei__V1__FieldViolation *violations[] = {&violation};
    Renkei__V1__ErrorDetail detail = RENKEI__V1__ERROR_DETAIL__INIT;
    detail.reason = (char *)reason;
    detail.n_field_violations = 1;
    detail.field_violations = violations;
    rk_rpc_fail_detail(rpc, code, rk_arena_printf(arena, "%s: %s", field, description), reason,
                       &detail.base);
}

static const rk_federation_adapter_t *registry_adapter(const rk_facility_availability_t *av,
                                                       int64_t id)
{
    const rk_federation_t *fed = av->app->federation;
    for (size_t i = 0, n = fed ? rk_federation_count(fed) : 0; i < n; i++) {
        const rk_federation_adapter_t *a = rk_federation_adapter_at(fed, i);
        if (a->id == id)
            return a;
    }
    return NULL;
}

/* --- breakers ----------------------------------------------------------------------------- */

/* Drops the breakers of adapters no longer in the registry. */
static void owners_prune(rk_facility_availability_t *av)
{
    size_t k = 0;
    for (size_t i = 0; i < av->n_owners; i++) {
        owner_t *o = av->owners[i];
        if (registry_adapter(av, o->adapter_id)) {
            av->owners[k++] = o;
            continue;
        }
        free(o->tenant);
        free(o->name);
        free(o);
    }
    av->n_owners = k;
}

static owner_t *owner_find(rk_facility_availability_t *av, int64_t adapter_id)
{
    for (size_t i = 0; i < av->n_owners; i++) {
        if (av->owners[i]->adapter_id == adapter_id)
            return av->owners[i];
    }
    return NULL;
}

static owner_t *owner_get(rk_facility_availability_t *av, const rk_federation_adapter_t *a)
{
    owner_t *o = owner_find(av, a->id);
    if (o)
        return o;
    if (av->n_owners == av->owners_cap) {
        owners_prune(av);
        if (av->n_owners == av->owners_cap) {
            av->owners_cap = av->owners_cap ? 2 * av->owners_cap : 16;
            av->owners = rk_xrealloc(av->owners, av->owners_cap * sizeof(*av->owners));
        }
    }
    o = rk_xcalloc(1, sizeof(*o));
    o->adapter_id = a->id;
    o->tenant = rk_xstrdup(a->tenant_slug);
    o->name = rk_xstrdup(a->name);
    av->owners[av->n_owners++] = o;
    return o;
}

static rk_breaker_outcome_t breaker_outcome(rk_rpc_code_t code, uint64_t budget_ns)
{
    switch (code) {
    case RK_RPC_DEADLINE_EXCEEDED:
        return budget_ns >= JUDGED_TIMEOUT_NS ? RK_BREAKER_FAILURE : RK_BREAKER_NEUTRAL;
    case RK_RPC_UNAVAILABLE:
    case RK_RPC_INTERNAL:
    case RK_RPC_UNKNOWN:
    case RK_RPC_DATA_LOSS:
    case RK_RPC_RESOURCE_EXHAUSTED:
        return RK_BREAKER_FAILURE;
    case RK_RPC_CANCELLED: /* the hub closed the channel (the adapter changed, or shutdown) */
        return RK_BREAKER_NEUTRAL;
    default: /* it answered: alive, whatever it thought of the request */
        return RK_BREAKER_SUCCESS;
    }
}

static void breaker_record(rk_facility_availability_t *av, int64_t adapter_id, int probe,
                           rk_rpc_code_t code, uint64_t budget_ns)
{
    owner_t *o = owner_find(av, adapter_id);
    if (!o)
        return; /* pruned: the adapter left the registry meanwhile */
    rk_breaker_state_t before = o->breaker.state;
    rk_breaker_state_t after = rk_breaker_record(&o->breaker, &av->breaker, probe,
                                                 breaker_outcome(code, budget_ns), rk_now_ns());
    if (after == before && !(probe && after == RK_BREAKER_OPEN))
        return;
    if (after == RK_BREAKER_OPEN)
        rk_log_warn("adapter circuit breaker opened", "{s:s, s:s, s:s, s:s, s:i}", "tenant",
                    o->tenant, "adapter", o->name, "after", probe ? "probe" : "failures", "code",
                    rk_rpc_code_name(code), "open_ms", (int)(av->breaker.open_ns / MS));
    else if (after == RK_BREAKER_CLOSED)
        rk_log_info("adapter circuit breaker closed", "{s:s, s:s}", "tenant", o->tenant, "adapter",
                    o->name);
}

/* --- the fan-out's lifetime ----------------------------------------------------------------- */

static void fanout_release(fanout_t *fo)
{
    if (--fo->refs > 0)
        return;
    rk_facility_availability_t *av = fo->av;
    event_free(fo->timer);
    rk_arena_free(fo->arena);
    free(fo);
    if (--av->fanouts == 0 && av->closing)
        rk_facility_availability_free(av);
}

/* The request's arena is being freed: after the answer, or with the server before it. */
static void request_gone(void *data)
{
    fanout_t *fo = data;
    fo->rpc = NULL;
    fo->answered = 1;
    evtimer_del(fo->timer);
    fanout_release(fo);
}

/* --- settling a group ------------------------------------------------------------------------ */

static void item_fill(fanout_t *fo, item_t *it, const rk_availability_cache_entry_t *e,
                      Renkei__V1__AnswerStatus status)
{
    uint8_t *copy = rk_arena_alloc(fo->arena, e->len ? e->len : 1);
    memcpy(copy, e->value, e->len);
    it->packed = copy;
    it->len = e->len;
    it->status = status;
    snprintf(it->as_of, sizeof(it->as_of), "%s", e->as_of);
}

/*
 * Decides group g: status and message. With stale_ok (the owner failed or its breaker is open),
 * facilities still without an answer fall back to cached answers up to
 * facility.availability_stale_ms old, and the group is STALE when any was found.
 */
static void group_settle(group_t *g, Renkei__V1__AnswerStatus status, const char *message,
                         int stale_ok)
{
    fanout_t *fo = g->fo;
    rk_facility_availability_t *av = fo->av;
    g->status = status;
    g->message = message;
    if (!stale_ok)
        return;
    size_t stale = 0, missing = 0;
    uint64_t now = rk_now_ns();
    for (size_t i = 0; i < g->n_items; i++) {
        item_t *it = g->items[i];
        if (it->packed)
            continue;
        const rk_availability_cache_entry_t *e =
            av->stale_ns ? rk_availability_cache_get(av->cache, it->key, now, av->stale_ns) : NULL;
        if (!e) {
            missing++;
            continue;
        }
        item_fill(fo, it, e, STATUS(STALE));
        stale++;
    }
    if (!stale)
        return;
    g->status = STATUS(STALE);
    g->message = rk_arena_printf(fo->arena, "%s; %zu of %zu facilities from the hub's cache",
                                 message, g->n_items - missing, g->n_items);
}

/* --- the answer ------------------------------------------------------------------------------ */

static Renkei__V1__MunicipalityRef *owner_ref(rk_arena_t *arena, const group_t *g)
{
    Renkei__V1__LocalizedText *name = rk_arena_alloc(arena, sizeof(*name));
    renkei__v1__localized_text__init(name);
    name->ja = (char *)g->name_ja;
    name->en = (char *)g->name_en;
    name->kana = (char *)g->name_kana;
    Renkei__V1__MunicipalityRef *ref = rk_arena_alloc(arena, sizeof(*ref));
    renkei__v1__municipality_ref__init(ref);
    ref->code = (char *)g->code;
    ref->slug = (char *)g->slug;
    ref->name = name;
    return ref;
}

/* The caller's fee for slot from the facility's schedule, in arena; NULL when not computable. */
static Renkei__V1__Yen *slot_fee(rk_arena_t *arena, const item_t *it, const Renkei__V1__Slot *slot)
{
    int64_t start, end, amount;
    if (!slot->time || rk_availability_time_parse(slot->time->start, &start) != RK_OK ||
        rk_availability_time_parse(slot->time->end, &end) != RK_OK ||
        rk_fee_of_range(it->fees, start, end, it->fee_basis, &amount) != 0)
        return NULL;
    Renkei__V1__Yen *fee = rk_arena_alloc(arena, sizeof(*fee));
    *fee = (Renkei__V1__Yen)RENKEI__V1__YEN__INIT;
    fee->amount = amount;
    return fee;
}

/* The FacilityAvailability of it for the caller (hub ids, owner, filter), or NULL. */
static Renkei__V1__FacilityAvailability *item_answer(rk_arena_t *arena, const fanout_t *fo,
                                                     const item_t *it,
                                                     Renkei__V1__MunicipalityRef *owner)
{
    ProtobufCAllocator allocator = rk_pb_arena_allocator(arena);
    Renkei__V1__FacilityAvailability *fa =
        renkei__v1__facility_availability__unpack(&allocator, it->len, it->packed);
    if (!fa)
        return NULL;
    fa->facility_id = (char *)it->hub_id;
    fa->owner = owner;
    fa->status = it->status;
    fa->as_of = rk_arena_strdup(arena, it->as_of);
    size_t k = 0;
    for (size_t i = 0; i < fa->n_slots; i++) {
        Renkei__V1__Slot *slot = fa->slots[i];
        if (fo->available_only && slot->status != RENKEI__V1__SLOT_STATUS__SLOT_STATUS_AVAILABLE)
            continue;
        slot->facility_id = (char *)it->hub_id;
        slot->fee = it->fees ? slot_fee(arena, it, slot) : NULL;
        fa->slots[k++] = slot;
    }
    fa->n_slots = k;
    return fa;
}

static outcome_t outcome_of(const group_t *g)
{
    switch (g->status) {
    case STATUS(OK):
        return g->cached ? OUTCOME_CACHED : OUTCOME_OK;
    case STATUS(TIMEOUT):
        return OUTCOME_TIMEOUT;
    case STATUS(ERROR):
        return OUTCOME_ERROR;
    case STATUS(STALE):
        return OUTCOME_STALE;
    default:
        return OUTCOME_UNAVAILABLE;
    }
}

/* Answers the caller with what is settled now. fo may be freed when this returns. */
static void answer(fanout_t *fo)
{
    if (fo->answered || !fo->rpc)
        return;
    rk_rpc_t *rpc = fo->rpc;
    rk_arena_t *arena = fo->life;
    Renkei__V1__GetAvailabilityResponse out = RENKEI__V1__GET_AVAILABILITY_RESPONSE__INIT;
    out.facilities = rk_arena_calloc(arena, fo->n_items, sizeof(*out.facilities));
    out.statuses = rk_arena_calloc(arena, fo->n_groups, sizeof(*out.statuses));
    Renkei__V1__MunicipalityRef **refs = rk_arena_calloc(arena, fo->n_groups, sizeof(*refs));
    int *counts = rk_arena_calloc(arena, fo->n_groups, sizeof(*counts));
    const char **oldest = rk_arena_calloc(arena, fo->n_groups, sizeof(*oldest));
    for (size_t i = 0; i < fo->n_groups; i++)
        refs[i] = owner_ref(arena, &fo->groups[i]);
    for (size_t i = 0; i < fo->n_items; i++) {
        const item_t *it = &fo->items[i];
        size_t gi = (size_t)(it->group - fo->groups);
        if (!it->packed)
            continue;
        Renkei__V1__FacilityAvailability *fa = item_answer(arena, fo, it, refs[gi]);
        if (!fa)
            continue;
        out.facilities[out.n_facilities++] = fa;
        counts[gi]++;
        if (!oldest[gi] || strcmp(it->as_of, oldest[gi]) < 0)
            oldest[gi] = it->as_of;
    }
    for (size_t i = 0; i < fo->n_groups; i++) {
        const group_t *g = &fo->groups[i];
        Renkei__V1__MunicipalityStatus *s = rk_arena_alloc(arena, sizeof(*s));
        renkei__v1__municipality_status__init(s);
        s->municipality = refs[i];
        s->status = g->status;
        s->message = (char *)(g->message ? g->message : "");
        s->as_of = rk_arena_strdup(arena, oldest[i] ? oldest[i] : "");
        s->result_count = counts[i];
        s->latency_ms = g->latency_ms;
        out.statuses[out.n_statuses++] = s;
        fo->av->outcomes[outcome_of(g)]++;
    }
    fo->answered = 1;
    evtimer_del(fo->timer);
    if (fo->done) {
        fo->done(&out, fo->done_arg); /* may answer and free the request, and fo with it */
        return;
    }
    rk_rpc_reply(rpc, &out.base); /* frees the request: request_gone() drops its reference */
}

/* --- the adapter calls ---------------------------------------------------------------------- */

/* Takes the owner's answer: each asked facility it covers is cleaned, cached and kept. */
static void ingest(group_t *g, const Renkei__V1__AdapterGetAvailabilityResponse *out)
{
    fanout_t *fo = g->fo;
    uint64_t now = rk_now_ns();
    char received[RK_AVAILABILITY_AS_OF_MAX];
    utc_now(received);
    for (size_t i = 0; i < out->n_facilities; i++) {
        Renkei__V1__FacilityAvailability *fa = out->facilities[i];
        item_t *it = NULL;
        for (size_t j = 0; j < g->n_items && !it; j++) {
            item_t *candidate = g->items[j];
            if (candidate->asked && candidate->status != STATUS(OK) &&
                strcmp(candidate->owner_id, fa->facility_id) == 0)
                it = candidate;
        }
        if (!it)
            continue; /* not asked, or already given: ignored */
        Renkei__V1__Slot **slots = rk_xmalloc((fa->n_slots ? fa->n_slots : 1) * sizeof(*slots));
        if (fa->n_slots)
            memcpy(slots, fa->slots, fa->n_slots * sizeof(*slots));
        Renkei__V1__FacilityAvailability clean = RENKEI__V1__FACILITY_AVAILABILITY__INIT;
        clean.facility_id = (char *)it->owner_id;
        clean.n_slots = rk_availability_slots_clean(slots, fa->n_slots, &fo->window);
        clean.slots = slots;
        clean.status = STATUS(OK);
        int64_t as_of;
        rk_availability_cache_entry_t e = {.fetched_ns = now};
        if (rk_availability_time_parse(fa->as_of, &as_of) == RK_OK)
            rk_availability_time_format(as_of, e.as_of);
        else
            snprintf(e.as_of, sizeof(e.as_of), "%s", received);
        e.len = protobuf_c_message_get_packed_size(&clean.base);
        uint8_t *packed = rk_xmalloc(e.len ? e.len : 1);
        protobuf_c_message_pack(&clean.base, packed);
        free(slots);
        e.value = packed;
        rk_availability_cache_put(fo->av->cache, it->key, e.value, e.len, now, e.as_of);
        item_fill(fo, it, &e, STATUS(OK));
        free(packed);
    }
}

/* "" when the owner answered for every facility asked, else how many it left out. */
static const char *unanswered_note(const group_t *g)
{
    size_t missing = 0;
    for (size_t i = 0; i < g->n_items; i++)
        missing += !g->items[i]->packed;
    if (!missing)
        return "";
    return rk_arena_printf(g->fo->arena,
                           "the owner did not answer for %zu of the %zu facilities (removed there "
                           "since the last catalogue sync?)",
                           missing, g->n_items);
}

static void called(const rk_rpc_result_t *result, void *arg)
{
    group_t *g = arg;
    fanout_t *fo = g->fo;
    rk_facility_availability_t *av = fo->av;
    uint64_t now = rk_now_ns();
    breaker_record(av, g->adapter_id, g->probe, result->code, g->budget_ns);
    if (result->code == RK_RPC_OK)
        ingest(g, (const Renkei__V1__AdapterGetAvailabilityResponse *)result->response);
    if (g->status == RENKEI__V1__ANSWER_STATUS__ANSWER_STATUS_UNSPECIFIED) {
        g->latency_ms = (int)((now - g->started_ns) / MS);
        if (result->code == RK_RPC_OK)
            group_settle(g, STATUS(OK), unanswered_note(g), 0);
        else if (result->code == RK_RPC_DEADLINE_EXCEEDED)
            group_settle(
                g, STATUS(TIMEOUT),
                rk_arena_printf(fo->arena, "no answer within %d ms", (int)(g->budget_ns / MS)), 1);
        else
            group_settle(g, STATUS(ERROR),
                         rk_arena_printf(fo->arena, "GetAvailability: %s: %s",
                                         rk_rpc_code_name(result->code),
                                         safe_message(fo->arena, result->message)),
                         1);
        if (--fo->undecided == 0)
            answer(fo);
    }
    fanout_release(fo);
}

/* The fan-out's own deadline: whatever has not answered is a timeout. */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fanout_t *fo = arg;
    uint64_t now = rk_now_ns();
    for (size_t i = 0; i < fo->n_groups; i++) {
        group_t *g = &fo->groups[i];
        if (g->status != RENKEI__V1__ANSWER_STATUS__ANSWER_STATUS_UNSPECIFIED)
            continue;
        g->latency_ms = (int)((now - g->started_ns) / MS);
        group_settle(g, STATUS(TIMEOUT),
                     rk_arena_printf(fo->arena, "no answer within %d ms", (int)(g->budget_ns / MS)),
                     1);
        fo->undecided--;
    }
    answer(fo);
}

/* Starts group g: from the cache, refused, or one call. Returns 1 when a call was made. */
static int group_start(group_t *g, uint64_t budget_ns)
{
    fanout_t *fo = g->fo;
    rk_facility_availability_t *av = fo->av;
    const rk_federation_adapter_t *a = registry_adapter(av, g->adapter_id);
    if (!a) {
        group_settle(g, STATUS(UNAVAILABLE),
                     "no active adapter for these facilities (disabled, removed or not yet active)",
                     0);
        return 0;
    }
    if (!(a->capabilities & AVAILABILITY_BIT)) {
        group_settle(g, STATUS(UNAVAILABLE),
                     "the adapter does not report ADAPTER_CAPABILITY_FACILITY_AVAILABILITY", 0);
        return 0;
    }
    uint64_t now = rk_now_ns();
    size_t fresh = 0;
    for (size_t i = 0; i < g->n_items; i++) {
        item_t *it = g->items[i];
        const rk_availability_cache_entry_t *e =
            av->ttl_ns ? rk_availability_cache_get(av->cache, it->key, now, av->ttl_ns) : NULL;
        if (e) {
            item_fill(fo, it, e, STATUS(OK));
            fresh++;
        } else {
            it->asked = 1;
        }
    }
    if (fresh == g->n_items) {
        g->cached = 1;
        group_settle(g, STATUS(OK), "from the hub's cache", 0);
        return 0;
    }
    if (budget_ns < MIN_CALL_BUDGET_NS) {
        group_settle(g, STATUS(TIMEOUT), "no time left before the caller's deadline to ask", 1);
        return 0;
    }
    owner_t *o = owner_get(av, a);
    if (!rk_breaker_allow(&o->breaker, &av->breaker, now, &g->probe)) {
        uint64_t retry = rk_breaker_retry_in_ns(&o->breaker, &av->breaker, now);
        group_settle(g, STATUS(UNAVAILABLE),
                     retry ? rk_arena_printf(fo->arena,
                                             "circuit breaker open after repeated failures; the "
                                             "next try in %.1f s",
                                             (double)retry / 1e9)
                           : "circuit breaker half-open: a probe call is in flight",
                     1);
        return 0;
    }
    char **ids = rk_arena_calloc(fo->arena, g->n_items, sizeof(*ids));
    size_t n = 0;
    for (size_t i = 0; i < g->n_items; i++) {
        if (g->items[i]->asked)
            ids[n++] = (char *)g->items[i]->owner_id;
    }
    Renkei__V1__TimeRange window = RENKEI__V1__TIME_RANGE__INIT;
    window.start = fo->window.start_text;
    window.end = fo->window.end_text;
    Renkei__V1__AdapterGetAvailabilityRequest request =
        RENKEI__V1__ADAPTER_GET_AVAILABILITY_REQUEST__INIT;
    request.n_facility_ids = n;
    request.facility_ids = ids;
    request.window = &window;
    rk_header_t metadata[] = {{"renkei-request-id", fo->request_id}};
    g->started_ns = now;
    g->budget_ns = budget_ns;
    fo->refs++;
    rk_rpc_call(a->channel, ADAPTER_METHOD, &request.base,
                &renkei__v1__adapter_get_availability_response__descriptor, budget_ns, metadata, 1,
                called, g);
    return 1;
}

/* --- the request ----------------------------------------------------------------------------- */

/* Builds the fan-out of targets for rpc and starts it; the answer goes into life (rpc's request
 * arena for GetAvailability), whose end also ends the fan-out's interest in its calls. */
static void fanout_start(rk_facility_availability_t *av, rk_rpc_t *rpc, rk_arena_t *life,
                         const rk_availability_target_t *targets, size_t n,
                         const rk_availability_window_t *window, int available_only,
                         rk_availability_done_cb done, void *done_arg)
{
    rk_request_t *req = rk_rpc_request(rpc);
    fanout_t *fo = rk_xcalloc(1, sizeof(*fo));
    fo->av = av;
    fo->arena = rk_arena_new();
    fo->rpc = rpc;
    fo->done = done;
    fo->done_arg = done_arg;
    fo->life = life;
    snprintf(fo->request_id, sizeof(fo->request_id), "%s", req->request_id);
    fo->window = *window;
    fo->available_only = available_only;
    fo->n_items = n;
    fo->items = rk_arena_calloc(fo->arena, n ? n : 1, sizeof(*fo->items));
    fo->groups = rk_arena_calloc(fo->arena, n ? n : 1, sizeof(*fo->groups));
    fo->timer = evtimer_new(av->app->base, deadline_cb, fo);
    fo->refs = 1;
    av->fanouts++;
    rk_arena_on_free(life, request_gone, fo);

    for (size_t i = 0; i < fo->n_items; i++) {
        const rk_availability_target_t *t = &targets[i];
        item_t *it = &fo->items[i];
        it->hub_id = rk_arena_strdup(fo->arena, t->hub_id);
        it->owner_id = rk_arena_strdup(fo->arena, t->owner_id);
        it->fees = t->fees; /* in life, which outlives every answer */
        it->fee_basis = t->fee_basis;
        char *key = rk_availability_cache_key(t->adapter_id, it->owner_id, fo->window.start_text,
                                              fo->window.end_text);
        it->key = rk_arena_strdup(fo->arena, key);
        free(key);
        group_t *g = NULL;
        for (size_t k = 0; k < fo->n_groups && !g; k++) {
            if (fo->groups[k].adapter_id == t->adapter_id)
                g = &fo->groups[k];
        }
        if (!g) {
            g = &fo->groups[fo->n_groups++];
            g->fo = fo;
            g->adapter_id = t->adapter_id;
            g->code = rk_arena_strdup(fo->arena, t->code);
            g->slug = rk_arena_strdup(fo->arena, t->slug);
            g->name_ja = rk_arena_strdup(fo->arena, t->name_ja);
            g->name_en = rk_arena_strdup(fo->arena, t->name_en);
            g->name_kana = rk_arena_strdup(fo->arena, t->name_kana);
            g->items = rk_arena_calloc(fo->arena, fo->n_items, sizeof(*g->items));
        }
        it->group = g;
        g->items[g->n_items++] = it;
    }

    /* The time left before the caller's deadline, less the margin to merge and answer. */
    uint64_t left = rk_rpc_deadline_ns(rpc);
    uint64_t budget = av->timeout_ns;
    if (left != UINT64_MAX) {
        uint64_t usable = left > av->margin_ns ? left - av->margin_ns : 0;
        if (usable < budget)
            budget = usable;
    }
    for (size_t i = 0; i < fo->n_groups; i++) {
        if (group_start(&fo->groups[i], budget))
            fo->undecided++;
    }
    if (!fo->undecided) {
        answer(fo); /* fo may be freed */
        return;
    }
    struct timeval tv = {(time_t)(budget / 1000000000ull), (long)((budget % 1000000000ull) / 1000)};
    evtimer_add(fo->timer, &tv);
}

static void fail_store(rk_rpc_t *rpc, const rk_store_result_t *res)
{
    rk_request_t *req = rk_rpc_request(rpc);
    if (res && res->status == RK_EINVAL) {
        rk_log_error("facility availability query failed", "{s:s, s:s}", "request_id",
                     req->request_id, "error", res->error);
        rk_rpc_fail(rpc, RK_RPC_INTERNAL,
                    rk_arena_printf(req->arena, "request %s failed; the hub's log has why",
                                    req->request_id));
        return;
    }
    rk_rpc_fail(rpc, RK_RPC_UNAVAILABLE, "the database is not reachable now; retry later");
}

static void found(const rk_facility_directory_answer_t *answer, void *arg)
{
    lookup_t *lk = arg;
    rk_facility_availability_t *av = lk->av;
    av->fanouts--;
    if (av->closing) {
        rk_rpc_fail(lk->rpc, RK_RPC_UNAVAILABLE, "the hub is shutting down; retry");
        if (av->fanouts == 0)
            rk_facility_availability_free(av);
        return;
    }
    rk_arena_t *arena = rk_rpc_request(lk->rpc)->arena;
    if (answer->status == RK_ENOTFOUND) {
        fail_field(lk->rpc, RK_RPC_NOT_FOUND, "ERROR_REASON_NOT_FOUND",
                   rk_arena_printf(arena, "facility_ids[%zu]", answer->unknown),
                   rk_arena_printf(arena, "no facility with id %s", lk->ids[answer->unknown]));
        return;
    }
    if (answer->status != RK_OK) {
        fail_store(lk->rpc, answer->failure);
        return;
    }
    lk->next(lk->rpc, answer->targets, lk->n_ids, &lk->window, lk->next_arg);
}

int rk_facility_availability_ask(rk_facility_availability_t *av, rk_rpc_t *rpc, rk_arena_t *life,
                                 const rk_availability_target_t *targets, size_t n,
                                 const rk_availability_window_t *window, int available_only,
                                 rk_availability_done_cb done, void *arg)
{
    if (av->closing || !av->app->federation || !av->app->federation->loaded)
        return RK_EUNAVAILABLE;
    fanout_start(av, rpc, life, targets, n, window, available_only, done, arg);
    return RK_OK;
}

void rk_facility_availability_resolve(rk_facility_availability_t *av, rk_rpc_t *rpc,
                                      char *const *ids, size_t n_ids,
                                      const Renkei__V1__TimeRange *window,
                                      rk_availability_targets_cb next, void *arg)
{
    rk_request_t *req = rk_rpc_request(rpc);
    Renkei__V1__GetAvailabilityRequest check = RENKEI__V1__GET_AVAILABILITY_REQUEST__INIT;
    check.facility_ids = (char **)ids;
    check.n_facility_ids = n_ids;
    check.window = (Renkei__V1__TimeRange *)window;
    lookup_t *lk = rk_arena_calloc(req->arena, 1, sizeof(*lk));
    rk_availability_violation_t v;
    if (rk_availability_request_check(&check, (int64_t)time(NULL), &lk->window, &v) != RK_OK) {
        fail_field(rpc, RK_RPC_INVALID_ARGUMENT, "ERROR_REASON_FIELD_INVALID",
                   rk_arena_strdup(req->arena, v.field),
                   rk_arena_strdup(req->arena, v.description));
        return;
    }
    const rk_federation_t *fed = av->app->federation;
    if (av->closing || !fed || !fed->loaded) {
        rk_rpc_fail(rpc, RK_RPC_UNAVAILABLE,
                    av->closing ? "the hub is shutting down; retry"
                                : "the hub is still loading its adapters; retry in a few seconds");
        return;
    }
    const char *home, *grant;
    if (rk_facility_caller(rpc, &home, &grant) != 0)
        return;
    lk->av = av;
    lk->rpc = rpc;
    lk->ids = ids;
    lk->n_ids = n_ids;
    lk->next = next;
    lk->next_arg = arg;
    av->fanouts++; /* until found: the unit outlives the lookup */
    rk_facility_directory_find(av->directory, req->arena, ids, n_ids, home, grant, found, lk);
}

/* GetAvailability's fan-out once its facilities are known. */
static void resolved(rk_rpc_t *rpc, const rk_availability_target_t *targets, size_t n,
                     const rk_availability_window_t *window, void *arg)
{
    const Renkei__V1__GetAvailabilityRequest *in = arg;
    rk_facility_availability_t *av = rk_app(rk_rpc_request(rpc))->facility->availability;
    fanout_start(av, rpc, rk_rpc_request(rpc)->arena, targets, n, window, in->available_only, NULL,
                 NULL);
}

static void get_availability(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__GetAvailabilityRequest *in =
        (const Renkei__V1__GetAvailabilityRequest *)message;
    rk_facility_availability_t *av = rk_app(rk_rpc_request(rpc))->facility->availability;
    rk_facility_availability_resolve(av, rpc, in->facility_ids, in->n_facility_ids, in->window,
                                     resolved, (void *)in);
}

/* --- metrics and the unit ----------------------------------------------------------------------
 */

static void metrics_cb(struct evbuffer *out, void *ctx)
{
    rk_facility_availability_t *av = ctx;
    const rk_federation_t *fed = av->app->federation;
    evbuffer_add_printf(out, "# HELP renkei_adapter_breaker_state Circuit breaker of each active "
                             "adapter: 0 closed, 1 open, 2 half-open.\n"
                             "# TYPE renkei_adapter_breaker_state gauge\n");
    for (size_t i = 0, n = fed ? rk_federation_count(fed) : 0; i < n; i++) {
        const rk_federation_adapter_t *a = rk_federation_adapter_at(fed, i);
        const owner_t *o = owner_find(av, a->id);
        evbuffer_add_printf(out, "renkei_adapter_breaker_state{tenant=\"%s\",adapter=\"%s\"} %d\n",
                            a->tenant_slug, a->name, o ? (int)o->breaker.state : 0);
    }
    evbuffer_add_printf(out, "# HELP renkei_adapter_breaker_opened_total Times each active "
                             "adapter's circuit breaker opened.\n"
                             "# TYPE renkei_adapter_breaker_opened_total counter\n");
    for (size_t i = 0, n = fed ? rk_federation_count(fed) : 0; i < n; i++) {
        const rk_federation_adapter_t *a = rk_federation_adapter_at(fed, i);
        const owner_t *o = owner_find(av, a->id);
        evbuffer_add_printf(out,
                            "renkei_adapter_breaker_opened_total{tenant=\"%s\",adapter=\"%s\"} "
                            "%llu\n",
                            a->tenant_slug, a->name,
                            o ? (unsigned long long)o->breaker.opened : 0ull);
    }
    evbuffer_add_printf(out, "# HELP renkei_availability_calls_total Owners' parts of "
                             "GetAvailability answers, by outcome (cached: fresh from the hub's "
                             "cache, not asked).\n"
                             "# TYPE renkei_availability_calls_total counter\n");
    for (int i = 0; i < N_OUTCOMES; i++)
        evbuffer_add_printf(out, "renkei_availability_calls_total{outcome=\"%s\"} %llu\n",
                            outcome_names[i], (unsigned long long)av->outcomes[i]);
    evbuffer_add_printf(out,
                        "# HELP renkei_availability_cache_entries Owners' answers cached.\n"
                        "# TYPE renkei_availability_cache_entries gauge\n"
                        "renkei_availability_cache_entries %zu\n"
                        "# HELP renkei_availability_cache_bytes Memory they count against "
                        "facility.availability_cache_bytes.\n"
                        "# TYPE renkei_availability_cache_bytes gauge\n"
                        "renkei_availability_cache_bytes %zu\n"
                        "# HELP renkei_availability_cache_evictions_total Answers evicted to make "
                        "room.\n"
                        "# TYPE renkei_availability_cache_evictions_total counter\n"
                        "renkei_availability_cache_evictions_total %llu\n",
                        rk_availability_cache_entries(av->cache),
                        rk_availability_cache_bytes(av->cache),
                        (unsigned long long)rk_availability_cache_evictions(av->cache));
}

static const rk_rpc_method_t method = {
    "/renkei.v1.FacilityService/GetAvailability", &renkei__v1__get_availability_request__descriptor,
    &renkei__v1__get_availability_response__descriptor, get_availability, 0};

void rk_facility_availability_register(rk_facility_t *facility, rk_router_t *router)
{
    rk_app_t *app = facility->app;
    const rk_config_t *cfg = app->cfg;
    rk_facility_availability_t *av = rk_xcalloc(1, sizeof(*av));
    av->app = app;
    av->cache = rk_availability_cache_new((size_t)cfg->facility_availability_cache_bytes);
    av->ttl_ns = (uint64_t)cfg->facility_availability_cache_ttl_ms * MS;
    av->stale_ns = (uint64_t)cfg->facility_availability_stale_ms * MS;
    av->timeout_ns = (uint64_t)cfg->facility_availability_timeout_ms * MS;
    av->margin_ns = (uint64_t)cfg->facility_availability_margin_ms * MS;
    av->breaker.failures = cfg->facility_breaker_failures;
    av->breaker.rate_percent = cfg->facility_breaker_failure_rate;
    av->breaker.window = cfg->facility_breaker_window;
    av->breaker.open_ns = (uint64_t)cfg->facility_breaker_open_ms * MS;
    facility->availability = av;
    av->directory = rk_facility_directory_new(app);
    rk_rpc_register(router, &method);
    rk_metrics_add_source(app->metrics, metrics_cb, av);
}

void rk_facility_availability_free(rk_facility_availability_t *av)
{
    if (!av)
        return;
    av->closing = 1;
    rk_facility_directory_free(av->directory); /* its pending lookups end in found() */
    av->directory = NULL;
    if (av->fanouts)
        return; /* the last fan-out frees it */
    for (size_t i = 0; i < av->n_owners; i++) {
        free(av->owners[i]->tenant);
        free(av->owners[i]->name);
        free(av->owners[i]);
    }
    free(av->owners);
    rk_availability_cache_free(av->cache);
    free(av);
}
