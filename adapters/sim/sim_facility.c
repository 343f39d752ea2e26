/*
 * sim_facility.c — the facility methods of the sim: catalogue sync, availability, bookings.
 *
 * Slots: each facility's day (Japan local) is cut into slots of its kind's length between its
 * opening and closing minute. A slot's status comes, in order, from the sim's own bookings
 * (HELD while a hold has not expired, BOOKED once confirmed), the calendar (CLOSED on the
 * weekly closing day, in the past, after booking closes or before it opens), the lottery rule
 * (LOTTERY more than 30 days ahead at lottery facilities), and finally a deterministic
 * "booked by someone else" draw of occupancy_percent from (seed, facility, start) — so two
 * calls agree and a restart shows the same week.
 *
 * Bookings: HoldSlot makes a HELD booking that expires after hold_ttl_seconds (checked when
 * the booking is next looked at: no timers), ConfirmBooking makes it CONFIRMED, CancelBooking
 * CANCELLED (a confirmed one only until its cancellation deadline). Every mutation goes
 * through sim_mutation_begin() for idempotency. Refusals carry the BookingError reasons of
 * facility.proto with the gRPC codes proto/README.md gives them.
 */
#include "facility/fee.h"
#include "sim.h"
#include "sim_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SS(x) RENKEI__V1__SLOT_STATUS__SLOT_STATUS_##x
#define OBS(x) RENKEI__V1__OWNER_BOOKING_STATE__OWNER_BOOKING_STATE_##x

typedef struct sim_booking {
    char *owner_reference;
    char *key;
    char *pairwise_id;
    sim_facility_t *facility;
    time_t start, end;
    Renkei__V1__OwnerBookingState state;
    int64_t fee;
    time_t hold_expires, cancellation_deadline;
} sim_booking_t;

/* The per-facility list behind sim_facility_t.bookings. */
typedef struct booking_list {
    sim_booking_t **items;
    size_t n, cap;
} booking_list_t;

static sim_t *sim_of(rk_adapter_call_t *call)
{
    return rk_adapter_call_data(call);
}

static void refresh(sim_booking_t *b, time_t now)
{
    if (b->state == OBS(HELD) && now >= b->hold_expires)
        b->state = OBS(EXPIRED);
}

void sim_bookings_free(sim_t *sim)
{
    for (size_t i = 0; i < sim->n_bookings; i++) {
        sim_booking_t *b = sim->bookings[i];
        free(b->owner_reference);
        free(b->key);
        free(b->pairwise_id);
        free(b);
    }
    free(sim->bookings);
    sim->bookings = NULL;
    sim->n_bookings = 0;
    if (!sim->catalogue)
        return;
    for (size_t i = 0; i < sim->catalogue->n; i++) {
        booking_list_t *list = sim->catalogue->facilities[i]->bookings;
        if (list) {
            free(list->items);
            free(list);
        }
    }
}

/* --- ListFacilities ------------------------------------------------------------------------ */

static int by_id(const void *a, const void *b)
{
    return strcmp((*(sim_facility_t *const *)a)->pb.id, (*(sim_facility_t *const *)b)->pb.id);
}

/* "c1.<boot>.<version>": changes since version, valid only in the process that issued it. */
static int parse_change_token(const sim_t *sim, const char *token, uint64_t *since)
{
    unsigned boot;
    unsigned long long version;
    char tail;
    if (sscanf(token, "c1.%8x.%llu%c", &boot, &version, &tail) != 2 || boot != sim->boot_id ||
        version > sim->catalogue->version)
        return -1;
    *since = version;
    return 0;
}

typedef struct page_token {
    uint64_t snapshot; /* catalogue version when paging began */
    uint64_t since;    /* 0 = full listing */
    char last_id[72];
} page_token_t;

static int parse_page_token(const sim_t *sim, const char *token, page_token_t *pt)
{
    unsigned boot;
    unsigned long long snapshot, since;
    int used = 0;
    if (sscanf(token, "p1.%8x.%llu.%llu.%n", &boot, &snapshot, &since, &used) != 3 || !used ||
        boot != sim->boot_id || strlen(token + used) == 0 ||
        strlen(token + used) >= sizeof(pt->last_id))
        return -1;
    pt->snapshot = snapshot;
    pt->since = since;
    snprintf(pt->last_id, sizeof(pt->last_id), "%s", token + used);
    return 0;
}

void sim_list_facilities(rk_adapter_call_t *call,
                         const Renkei__V1__AdapterListFacilitiesRequest *request)
{
    sim_t *sim = sim_of(call);
    sim_catalogue_t *cat = sim->catalogue;
    int page_size = request->page ? request->page->page_size : 0;
    if (page_size < 0) {
        sim_fail_field(call, "page.page_size", "must not be negative");
        return;
    }
    page_size = page_size == 0 ? 20 : page_size > 1000 ? 1000 : page_size;
    uint64_t since = 0;
    int full = 1;
    if (*request->change_token && parse_change_token(sim, request->change_token, &since) == 0)
        full = 0;
    page_token_t pt = {.snapshot = cat->version, .since = since};
    const char *page_token = request->page ? request->page->page_token : "";
    if (*page_token) {
        if (parse_page_token(sim, page_token, &pt) != 0) {
            sim_fail_field(call, "page.page_token",
                           "not a token this adapter issued (or it "
                           "was issued before a restart)");
            return;
        }
        if (pt.since != (full ? 0 : since)) {
            sim_fail_field(call, "change_token", "must not change while paging");
            return;
        }
    }
    /* Keyset paging on the owner id: changes while paging neither repeat nor skip a facility
     * that stays; anything changed after the snapshot comes again with the next sync. */
    sim_facility_t **list = rk_adapter_call_alloc(call, (cat->n + 1) * sizeof(*list));
    size_t n = 0, total = 0, n_removed = 0;
    char **removed = rk_adapter_call_alloc(call, (cat->n + 1) * sizeof(*removed));
    for (size_t i = 0; i < cat->n; i++) {
        sim_facility_t *f = cat->facilities[i];
        if (!full && f->version <= since)
            continue;
        if (f->removed) {
            if (!full && !*page_token)
                removed[n_removed++] = f->pb.id;
            continue;
        }
        total++;
        if (*pt.last_id && strcmp(f->pb.id, pt.last_id) <= 0)
            continue;
        list[n++] = f;
    }
    qsort(list, n, sizeof(*list), by_id);
    size_t take = n < (size_t)page_size ? n : (size_t)page_size;
    Renkei__V1__AdapterListFacilitiesResponse out =
        RENKEI__V1__ADAPTER_LIST_FACILITIES_RESPONSE__INIT;
    out.n_facilities = take;
    out.facilities = rk_adapter_call_alloc(call, (take + 1) * sizeof(*out.facilities));
    for (size_t i = 0; i < take; i++)
        out.facilities[i] = &list[i]->pb;
    out.n_removed_facility_ids = n_removed;
    out.removed_facility_ids = removed;
    Renkei__V1__PageResponse page = RENKEI__V1__PAGE_RESPONSE__INIT;
    page.total_size = (int32_t)total;
    if (take < n)
        page.next_page_token = rk_adapter_call_printf(
            call, "p1.%08x.%llu.%llu.%s", sim->boot_id, (unsigned long long)pt.snapshot,
            (unsigned long long)pt.since, list[take - 1]->pb.id);
    else
        out.change_token = rk_adapter_call_printf(call, "c1.%08x.%llu", sim->boot_id,
                                                  (unsigned long long)pt.snapshot);
    out.page = &page;
    out.full_listing = full;
    rk_adapter_reply(call, &out.base);
}

/* --- slots ---------------------------------------------------------------------------------- */

typedef enum {
    SLOT_FREE,
    SLOT_HELD,      /* a live hold of the sim */
    SLOT_BOOKED,    /* a confirmed booking of the sim */
    SLOT_TAKEN,     /* booked by someone outside the hub (the occupancy draw) */
    SLOT_CLOSED,    /* the weekly closing day */
    SLOT_TOO_LATE,  /* in the past, or after booking closes */
    SLOT_TOO_EARLY, /* before booking opens for this caller */
    SLOT_LOTTERY,
} slot_state_t;

static sim_booking_t *booking_over(sim_facility_t *f, time_t start, time_t end, time_t now)
{
    booking_list_t *list = f->bookings;
    for (size_t i = 0; list && i < list->n; i++) {
        sim_booking_t *b = list->items[i];
        refresh(b, now);
        if ((b->state == OBS(HELD) || b->state == OBS(CONFIRMED)) && b->start < end &&
            start < b->end)
            return b;
    }
    return NULL;
}

static slot_state_t slot_state(const sim_t *sim, sim_facility_t *f, time_t start, time_t end,
                               time_t now, int resident, sim_booking_t **by)
{
    sim_booking_t *b = booking_over(f, start, end, now);
    if (by)
        *by = b;
    if (b)
        return b->state == OBS(HELD) ? SLOT_HELD : SLOT_BOOKED;
    if (f->closed_weekday == sim_jst_weekday(start))
        return SLOT_CLOSED;
    const Renkei__V1__BookingWindow *w = f->pb.booking_window;
    if (start < now + (time_t)w->closes_hours_before * 3600)
        return SLOT_TOO_LATE;
    int days = resident || !w->non_resident_opens_days_before ? w->opens_days_before
                                                              : w->non_resident_opens_days_before;
    if (start > now + (time_t)days * 86400)
        return SLOT_TOO_EARLY;
    if (f->pb.lottery && start > now + 30 * 86400)
        return SLOT_LOTTERY;
    uint64_t draw = sim_mix(sim->catalogue->seed ^ sim_hash(f->pb.id) ^ (uint64_t)start);
    if ((int)(draw % 100) < sim->occupancy_percent)
        return SLOT_TAKEN;
    return SLOT_FREE;
}

static Renkei__V1__SlotStatus slot_status(slot_state_t s)
{
    switch (s) {
    case SLOT_FREE:
        return SS(AVAILABLE);
    case SLOT_HELD:
        return SS(HELD);
    case SLOT_BOOKED:
    case SLOT_TAKEN:
        return SS(BOOKED);
    case SLOT_LOTTERY:
        return SS(LOTTERY);
    default:
        return SS(CLOSED);
    }
}

/* The fee of [start, end) at f on the side of its schedule `basis` (the hub's own rules,
 * facility/fee.h, so that both sides agree); -1 when no band covers it. */
static int64_t fee_of(const sim_facility_t *f, time_t start, time_t end, rk_fee_basis_t basis)
{
    int64_t fee;
    return rk_fee_of_range(f->pb.fees, start, end, basis, &fee) == 0 ? fee : -1;
}

/* The side of the fee schedule the caller is charged: the agreement's (fee_basis) when the hub
 * gives one, else the resident rate for residents, workers and students. */
static rk_fee_basis_t fee_basis(const Renkei__V1__ResidentContext *r)
{
    if (r && r->fee_basis == RENKEI__V1__FEE_BASIS__FEE_BASIS_RESIDENT_RATE)
        return RK_FEE_RESIDENT_RATE;
    if (r && r->fee_basis == RENKEI__V1__FEE_BASIS__FEE_BASIS_NON_RESIDENT_RATE)
        return RK_FEE_NON_RESIDENT_RATE;
    return sim_resident_class(r) ? RK_FEE_RESIDENT_RATE : RK_FEE_NON_RESIDENT_RATE;
}

int sim_resident_class(const Renkei__V1__ResidentContext *r)
{
    if (!r)
        return 0;
    switch (r->residency_class) {
    case RENKEI__V1__RESIDENCY_CLASS__RESIDENCY_CLASS_RESIDENT:
    case RENKEI__V1__RESIDENCY_CLASS__RESIDENCY_CLASS_WORKER:
    case RENKEI__V1__RESIDENCY_CLASS__RESIDENCY_CLASS_STUDENT:
        return 1;
    case RENKEI__V1__RESIDENCY_CLASS__RESIDENCY_CLASS_PARTNER_AREA:
        return r->agreement != NULL; /* an agreement charges partner residents as our own */
    default:
        return 0;
    }
}

static Renkei__V1__Yen *yen(rk_adapter_call_t *call, int64_t amount)
{
    Renkei__V1__Yen *y = rk_adapter_call_alloc(call, sizeof(*y));
    renkei__v1__yen__init(y);
    y->amount = amount;
    return y;
}

static char *rfc3339(rk_adapter_call_t *call, time_t t)
{
    char buf[32];
    sim_time_format(t, buf, sizeof(buf));
    return rk_adapter_call_strdup(call, buf);
}

static Renkei__V1__TimeRange *time_range(rk_adapter_call_t *call, time_t start, time_t end)
{
    Renkei__V1__TimeRange *r = rk_adapter_call_alloc(call, sizeof(*r));
    renkei__v1__time_range__init(r);
    r->start = rfc3339(call, start);
    r->end = rfc3339(call, end);
    return r;
}

/* Parses a TimeRange; on failure answers INVALID_ARGUMENT naming field and returns -1. */
static int parse_range(rk_adapter_call_t *call, const Renkei__V1__TimeRange *r, const char *field,
                       time_t *start, time_t *end)
{
    if (!r) {
        sim_fail_field(call, field, "required");
        return -1;
    }
    if (sim_time_parse(r->start, start) != 0 || sim_time_parse(r->end, end) != 0) {
        sim_fail_field(call, field, "start and end must be RFC 3339 times");
        return -1;
    }
    if (*end <= *start) {
        sim_fail_field(call, field, "end must be after start");
        return -1;
    }
    return 0;
}

void sim_get_availability(rk_adapter_call_t *call,
                          const Renkei__V1__AdapterGetAvailabilityRequest *request)
{
    sim_t *sim = sim_of(call);
    if (request->n_facility_ids < 1 || request->n_facility_ids > 50) {
        sim_fail_field(call, "facility_ids", "must hold 1 to 50 ids");
        return;
    }
    time_t ws, we;
    if (parse_range(call, request->window, "window", &ws, &we) != 0)
        return;
    if (we - ws > 31 * 86400) {
        sim_fail_field(call, "window", "must span at most 31 days");
        return;
    }
    time_t now = time(NULL);
    int resident = request->resident ? sim_resident_class(request->resident) : 1;
    Renkei__V1__AdapterGetAvailabilityResponse out =
        RENKEI__V1__ADAPTER_GET_AVAILABILITY_RESPONSE__INIT;
    out.facilities = rk_adapter_call_alloc(call, request->n_facility_ids * sizeof(*out.facilities));
    char *as_of = rfc3339(call, now);
    for (size_t i = 0; i < request->n_facility_ids; i++) {
        sim_facility_t *f = sim_catalogue_find(sim->catalogue, request->facility_ids[i]);
        if (!f)
            continue; /* unknown or removed: the hub learns that from ListFacilities */
        Renkei__V1__FacilityAvailability *fa = rk_adapter_call_alloc(call, sizeof(*fa));
        renkei__v1__facility_availability__init(fa);
        fa->facility_id = f->pb.id;
        fa->status = RENKEI__V1__ANSWER_STATUS__ANSWER_STATUS_OK;
        fa->as_of = as_of;
        time_t step = (time_t)f->slot_minutes * 60;
        size_t cap = (size_t)((we - ws) / step + 2) * 1;
        fa->slots = rk_adapter_call_alloc(call, cap * sizeof(*fa->slots));
        for (time_t day = sim_jst_day_start(ws); day < we; day += 86400) {
            for (time_t s = day + (time_t)f->open_minute * 60;
                 s + step <= day + (time_t)f->close_minute * 60; s += step) {
                if (s < ws || s + step > we || fa->n_slots >= cap)
                    continue;
                Renkei__V1__Slot *slot = rk_adapter_call_alloc(call, sizeof(*slot));
                renkei__v1__slot__init(slot);
                slot->facility_id = f->pb.id;
                slot->time = time_range(call, s, s + step);
                slot_state_t st = slot_state(sim, f, s, s + step, now, resident, NULL);
                slot->status = slot_status(st);
                int64_t fee = request->resident && st == SLOT_FREE
                                  ? fee_of(f, s, s + step, fee_basis(request->resident))
                                  : -1;
                if (fee >= 0)
                    slot->fee = yen(call, fee);
                slot->slot_id = rk_adapter_call_printf(call, "%s@%lld", f->pb.id, (long long)s);
                fa->slots[fa->n_slots++] = slot;
            }
        }
        out.facilities[out.n_facilities++] = fa;
    }
    rk_adapter_reply(call, &out.base);
}

/* --- bookings --------------------------------------------------------------------------------- */

static Renkei__V1__OwnerBooking *owner_booking(rk_adapter_call_t *call, const sim_booking_t *b)
{
    Renkei__V1__OwnerBooking *ob = rk_adapter_call_alloc(call, sizeof(*ob));
    renkei__v1__owner_booking__init(ob);
    ob->owner_reference = b->owner_reference;
    ob->booking_key = b->key;
    ob->facility_id = b->facility->pb.id;
    ob->time = time_range(call, b->start, b->end);
    ob->state = b->state;
    ob->fee = yen(call, b->fee);
    if (b->state == OBS(HELD))
        ob->hold_expires_at = rfc3339(call, b->hold_expires);
    ob->cancellation_deadline = rfc3339(call, b->cancellation_deadline);
    ob->resident_pairwise_id = b->pairwise_id;
    return ob;
}

static sim_booking_t *find_by_reference(sim_t *sim, const char *ref)
{
    size_t prefix = strlen(sim->catalogue->slug);
    if (strncmp(ref, sim->catalogue->slug, prefix) != 0 || strncmp(ref + prefix, "-B", 2) != 0)
        return NULL;
    const char *digits = ref + prefix + 2;
    size_t len = strlen(digits);
    if (len < 6 || len > 12 || strspn(digits, "0123456789") != len)
        return NULL;
    size_t number = (size_t)strtoul(digits, NULL, 10);
    return number >= 1 && number <= sim->n_bookings ? sim->bookings[number - 1] : NULL;
}

static sim_booking_t *find_by_key(sim_t *sim, const char *key)
{
    for (size_t i = 0; i < sim->n_bookings; i++) {
        if (strcmp(sim->bookings[i]->key, key) == 0)
            return sim->bookings[i];
    }
    return NULL;
}

/* A booking of another resident is NOT_FOUND, as for the hub's own objects (no existence leak). */
static int visible_to(const sim_booking_t *b, const Renkei__V1__ResidentContext *resident)
{
    return !resident || !*resident->pairwise_id || !*b->pairwise_id ||
           strcmp(resident->pairwise_id, b->pairwise_id) == 0;
}

static sim_booking_t *add_booking(sim_t *sim, sim_facility_t *f)
{
    if (sim->n_bookings == sim->cap_bookings) {
        sim->cap_bookings = sim->cap_bookings ? sim->cap_bookings * 2 : 64;
        sim->bookings = rk_xrealloc(sim->bookings, sim->cap_bookings * sizeof(*sim->bookings));
    }
    sim_booking_t *b = rk_xcalloc(1, sizeof(*b));
    sim->bookings[sim->n_bookings++] = b;
    b->owner_reference = rk_xmalloc(strlen(sim->catalogue->slug) + 16);
    sprintf(b->owner_reference, "%s-B%06zu", sim->catalogue->slug, sim->n_bookings);
    b->facility = f;
    booking_list_t *list = f->bookings;
    if (!list)
        list = f->bookings = rk_xcalloc(1, sizeof(*list));
    if (list->n == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        list->items = rk_xrealloc(list->items, list->cap * sizeof(*list->items));
    }
    list->items[list->n++] = b;
    return b;
}

static void reply_booking(rk_adapter_call_t *call, sim_mutation_t *m, const sim_booking_t *b,
                          int which)
{
    /* The three answers differ only in type: HoldSlot, ConfirmBooking, CancelBooking. */
    Renkei__V1__AdapterHoldSlotResponse hold = RENKEI__V1__ADAPTER_HOLD_SLOT_RESPONSE__INIT;
    Renkei__V1__AdapterConfirmBookingResponse confirm =
        RENKEI__V1__ADAPTER_CONFIRM_BOOKING_RESPONSE__INIT;
    Renkei__V1__AdapterCancelBookingResponse cancel =
        RENKEI__V1__ADAPTER_CANCEL_BOOKING_RESPONSE__INIT;
    Renkei__V1__OwnerBooking *ob = owner_booking(call, b);
    hold.booking = confirm.booking = cancel.booking = ob;
    sim_mutation_reply(call, m,
                       which == 0   ? &hold.base
                       : which == 1 ? &confirm.base
                                    : &cancel.base);
}

void sim_hold_slot(rk_adapter_call_t *call, const Renkei__V1__AdapterHoldSlotRequest *request)
{
    sim_t *sim = sim_of(call);
    sim_mutation_t m;
    if (sim_mutation_begin(call, &m, request->idempotency_key, &request->base))
        return;
    if (!request->resident || !*request->resident->pairwise_id) {
        sim_fail_field(call, "resident.pairwise_id", "required: who the hold is for");
        return;
    }
    if (strlen(request->purpose) > 600) { /* 200 characters of up to 3 bytes */
        sim_fail_field(call, "purpose", "must be at most 200 characters");
        return;
    }
    sim_facility_t *f = sim_catalogue_find(sim->catalogue, request->facility_id);
    if (!f) {
        sim_mutation_fail(call, &m, RK_ADAPTER_NOT_FOUND, "ERROR_REASON_NOT_FOUND",
                          "no such facility");
        return;
    }
    time_t start, end;
    if (*request->slot_id) {
        const char *at = strrchr(request->slot_id, '@');
        char *rest;
        long long s = at ? strtoll(at + 1, &rest, 10) : 0;
        if (!at || (size_t)(at - request->slot_id) != strlen(f->pb.id) ||
            strncmp(request->slot_id, f->pb.id, strlen(f->pb.id)) != 0 || *rest) {
            sim_fail_field(call, "slot_id", "not a slot of this facility");
            return;
        }
        start = (time_t)s;
        end = start + (time_t)f->slot_minutes * 60;
        if (request->time) {
            time_t ts, te;
            if (parse_range(call, request->time, "time", &ts, &te) != 0)
                return;
            if (ts != start || te < end) {
                sim_fail_field(call, "time", "must begin with slot_id's slot");
                return;
            }
            end = te;
        }
    } else if (parse_range(call, request->time, "time", &start, &end) != 0) {
        return;
    }
    time_t step = (time_t)f->slot_minutes * 60, day = sim_jst_day_start(start);
    if ((start - day - (time_t)f->open_minute * 60) % step != 0 ||
        start < day + (time_t)f->open_minute * 60 || (end - start) % step != 0 ||
        end > day + (time_t)f->close_minute * 60) {
        sim_fail_field(call, "time", "must match this facility's slots exactly (one day)");
        return;
    }
    if (f->pb.capacity && request->attendees > f->pb.capacity) {
        sim_fail_field(call, "attendees", "more than the facility's capacity");
        return;
    }
    if (!f->pb.bookable_via_hub) {
        sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION,
                          "BOOKING_ERROR_NOT_BOOKABLE_VIA_HUB",
                          "this facility is booked at the owner's own site (booking_url)");
        return;
    }
    int resident = sim_resident_class(request->resident);
    if (f->residents_only && !resident) {
        sim_mutation_fail(call, &m, RK_ADAPTER_PERMISSION_DENIED, "BOOKING_ERROR_NOT_ELIGIBLE",
                          "only residents, workers and students of the city may use it");
        return;
    }
    time_t now = time(NULL);
    for (time_t s = start; s < end; s += step) {
        sim_booking_t *by;
        switch (slot_state(sim, f, s, s + step, now, resident, &by)) {
        case SLOT_FREE:
            continue;
        case SLOT_HELD: {
            Renkei__V1__ErrorDetail detail = RENKEI__V1__ERROR_DETAIL__INIT;
            detail.reason = "BOOKING_ERROR_SLOT_HELD";
            detail.retry_after_seconds = (int32_t)(by->hold_expires - now + 1);
            /* Not remembered: the same key may succeed once the other hold has gone. */
            rk_adapter_fail_detail(call, RK_ADAPTER_ABORTED, &detail,
                                   "the slot is held by someone else; try again later");
            return;
        }
        case SLOT_BOOKED:
        case SLOT_TAKEN:
            sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION, "BOOKING_ERROR_SLOT_FULL",
                              "the slot is already booked");
            return;
        case SLOT_CLOSED:
            sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION, "BOOKING_ERROR_SLOT_FULL",
                              "the facility is closed that day");
            return;
        case SLOT_TOO_LATE:
        case SLOT_TOO_EARLY:
            sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION,
                              "BOOKING_ERROR_OUTSIDE_WINDOW",
                              resident ? "residents may book from 60 days to 1 hour before"
                                       : "non-residents may book from 30 days to 1 hour before");
            return;
        case SLOT_LOTTERY:
            sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION,
                              "BOOKING_ERROR_LOTTERY_ONLY",
                              "slots more than 30 days ahead are allocated by lottery");
            return;
        }
    }
    int64_t fee = fee_of(f, start, end, fee_basis(request->resident));
    if (fee < 0) {
        sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION, "BOOKING_ERROR_OUTSIDE_WINDOW",
                          "no fee band of the facility covers this time");
        return;
    }
    if (request->expected_fee && request->expected_fee->amount != fee) {
        sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION, "BOOKING_ERROR_PRICE_CHANGED",
                          rk_adapter_call_printf(call, "the fee is %lld yen", (long long)fee));
        return;
    }
    sim_booking_t *b = add_booking(sim, f);
    b->key = rk_xstrdup(request->idempotency_key->key);
    b->pairwise_id = rk_xstrdup(request->resident->pairwise_id);
    b->start = start;
    b->end = end;
    b->state = OBS(HELD);
    b->fee = fee;
    b->hold_expires = now + sim->hold_ttl_seconds;
    b->cancellation_deadline =
        start - (time_t)f->pb.booking_window->cancellation_closes_hours_before * 3600;
    reply_booking(call, &m, b, 0);
}

void sim_confirm_booking(rk_adapter_call_t *call,
                         const Renkei__V1__AdapterConfirmBookingRequest *request)
{
    sim_t *sim = sim_of(call);
    sim_mutation_t m;
    if (sim_mutation_begin(call, &m, request->idempotency_key, &request->base))
        return;
    sim_booking_t *b = find_by_reference(sim, request->owner_reference);
    if (!b || !visible_to(b, request->resident)) {
        sim_mutation_fail(call, &m, RK_ADAPTER_NOT_FOUND, "ERROR_REASON_NOT_FOUND",
                          "no such booking");
        return;
    }
    refresh(b, time(NULL));
    if (b->state == OBS(EXPIRED)) {
        sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION, "BOOKING_ERROR_HOLD_EXPIRED",
                          "the hold expired before confirmation");
        return;
    }
    if (b->state == OBS(CANCELLED)) {
        sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION, "BOOKING_ERROR_INVALID_STATE",
                          "the booking was cancelled");
        return;
    }
    if (request->accepted_fee && request->accepted_fee->amount != b->fee) {
        sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION, "BOOKING_ERROR_PRICE_CHANGED",
                          rk_adapter_call_printf(call, "the fee is %lld yen", (long long)b->fee));
        return;
    }
    b->state = OBS(CONFIRMED);
    reply_booking(call, &m, b, 1);
}

void sim_cancel_booking(rk_adapter_call_t *call,
                        const Renkei__V1__AdapterCancelBookingRequest *request)
{
    sim_t *sim = sim_of(call);
    sim_mutation_t m;
    if (sim_mutation_begin(call, &m, request->idempotency_key, &request->base))
        return;
    sim_booking_t *b = find_by_reference(sim, request->owner_reference);
    if (!b || !visible_to(b, request->resident)) {
        sim_mutation_fail(call, &m, RK_ADAPTER_NOT_FOUND, "ERROR_REASON_NOT_FOUND",
                          "no such booking");
        return;
    }
    time_t now = time(NULL);
    refresh(b, now);
    if (b->state == OBS(EXPIRED)) {
        sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION, "BOOKING_ERROR_INVALID_STATE",
                          "the hold has expired already");
        return;
    }
    if (b->state == OBS(CONFIRMED) && now > b->cancellation_deadline) {
        sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION,
                          "BOOKING_ERROR_CANCELLATION_CLOSED",
                          "cancellation closes 24 hours before the start");
        return;
    }
    b->state = OBS(CANCELLED);
    reply_booking(call, &m, b, 2);
}

void sim_get_booking(rk_adapter_call_t *call, const Renkei__V1__AdapterGetBookingRequest *request)
{
    sim_t *sim = sim_of(call);
    if (!*request->owner_reference && !*request->booking_key) {
        sim_fail_field(call, "owner_reference", "owner_reference or booking_key is required");
        return;
    }
    sim_booking_t *b = *request->owner_reference ? find_by_reference(sim, request->owner_reference)
                                                 : find_by_key(sim, request->booking_key);
    if (!b) {
        rk_adapter_fail(call, RK_ADAPTER_NOT_FOUND, "ERROR_REASON_NOT_FOUND", "no such booking");
        return;
    }
    refresh(b, time(NULL));
    Renkei__V1__AdapterGetBookingResponse out = RENKEI__V1__ADAPTER_GET_BOOKING_RESPONSE__INIT;
    out.booking = owner_booking(call, b);
    rk_adapter_reply(call, &out.base);
}
