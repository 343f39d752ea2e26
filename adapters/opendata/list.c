/*
 * list.c — ListFacilities of the opendata adapter: full and incremental listings, paged.
 *
 * Tokens are opaque to the hub and bound to this process (boot_id), like the sim's:
 *   change token  "od1.<boot>.<version>"                — everything changed after version;
 *   page token    "odp1.<boot>.<version>.<since>.<id>"  — the listing that began at version,
 *                                                         for changes after since (0 = all),
 *                                                         continuing after owner id <id>.
 * Paging is a keyset on the owner id, so a reload between two pages neither repeats nor skips
 * a facility that stays; what changed after the listing began comes again with the next sync
 * (the final change token is the version the listing began at). Removed ids travel on the
 * first page of an incremental listing. A change token this process did not issue — from
 * before a restart, or garbage — gets a full listing (full_listing = true), so the hub
 * replaces what it holds.
 */
#include "opendata.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE_DEFAULT 100
#define PAGE_SIZE_MAX 1000

/* Reads "<number>." (or the number at the end when last) from *p: 0, or -1. */
static int take_number(const char **p, int hex, int last, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(*p, &end, hex ? 16 : 10);
    if (errno || end == *p || **p == '-' || **p == '+' || (last ? *end != '\0' : *end != '.'))
        return -1;
    *out = v;
    *p = last ? end : end + 1;
    return 0;
}

static int parse_change_token(const opendata_t *od, const char *token, uint64_t *since)
{
    const char *p = token;
    uint64_t boot, version;
    if (strncmp(p, "od1.", 4) != 0)
        return -1;
    p += 4;
    if (take_number(&p, 1, 0, &boot) || take_number(&p, 0, 1, &version) || boot != od->boot_id ||
        version > od->catalogue->version)
        return -1;
    *since = version;
    return 0;
}

typedef struct page_token {
    uint64_t version, since;
    const char *last_id;
} page_token_t;

static int parse_page_token(const opendata_t *od, const char *token, page_token_t *out)
{
    const char *p = token;
    uint64_t boot;
    if (strncmp(p, "odp1.", 5) != 0)
        return -1;
    p += 5;
    if (take_number(&p, 1, 0, &boot) || take_number(&p, 0, 0, &out->version) ||
        take_number(&p, 0, 0, &out->since) || boot != od->boot_id || !*p ||
        strlen(p) > RK_FACILITY_ID_MAX || out->version > od->catalogue->version)
        return -1;
    out->last_id = p;
    return 0;
}

static void *call_alloc(void *call, size_t size)
{
    return rk_adapter_call_alloc(call, size);
}

static void call_free(void *call, void *pointer)
{
    (void)call;
    (void)pointer; /* freed with the call */
}

/* The entry's Facility in the call's memory; NULL if its bytes cannot be read back. */
static Renkei__V1__Facility *facility_of(rk_adapter_call_t *call, const opendata_entry_t *e)
{
    ProtobufCAllocator allocator = {call_alloc, call_free, call};
    Renkei__V1__Facility *f = (Renkei__V1__Facility *)protobuf_c_message_unpack(
        &renkei__v1__facility__descriptor, &allocator, e->packed_len, e->packed);
    if (f) {
        f->id = f->owner_facility_id;
        f->updated_at = rk_adapter_call_strdup(call, e->updated_at);
    }
    return f;
}

void opendata_list_answer(rk_adapter_call_t *call,
                          const Renkei__V1__AdapterListFacilitiesRequest *request)
{
    opendata_t *od = rk_adapter_call_data(call);
    const opendata_catalogue_t *cat = od->catalogue;
    int page_size = request->page ? request->page->page_size : 0;
    if (page_size < 0) {
        rk_adapter_fail_field(call, "page.page_size", "must not be negative");
        return;
    }
    page_size = page_size == 0              ? PAGE_SIZE_DEFAULT
                : page_size > PAGE_SIZE_MAX ? PAGE_SIZE_MAX
                                            : page_size;
    uint64_t since = 0;
    int full = !*request->change_token || parse_change_token(od, request->change_token, &since);
    const char *page_token = request->page ? request->page->page_token : "";
    page_token_t pt = {.version = cat->version, .since = since, .last_id = ""};
    if (*page_token) {
        if (parse_page_token(od, page_token, &pt) != 0) {
            rk_adapter_fail_field(
                call, "page.page_token",
                "not a token this adapter issued (or it was issued before a restart)");
            return;
        }
        if (pt.since != since) {
            rk_adapter_fail_field(call, "change_token", "must not change while paging");
            return;
        }
    }
    Renkei__V1__AdapterListFacilitiesResponse out =
        RENKEI__V1__ADAPTER_LIST_FACILITIES_RESPONSE__INIT;
    out.facilities = rk_adapter_call_alloc(call, (size_t)page_size * sizeof(*out.facilities));
    size_t total = 0, n_removed = 0;
    for (size_t i = 0; i < cat->n; i++) {
        const opendata_entry_t *e = &cat->entries[i];
        if (!full && e->version <= since)
            continue;
        if (!e->removed)
            total++;
        else if (!full && !*page_token)
            n_removed++;
    }
    if (n_removed) {
        out.removed_facility_ids = rk_adapter_call_alloc(call, n_removed * sizeof(char *));
        for (size_t i = 0; i < cat->n; i++) {
            const opendata_entry_t *e = &cat->entries[i];
            if (e->removed && e->version > since)
                out.removed_facility_ids[out.n_removed_facility_ids++] = e->id;
        }
    }
    size_t i = opendata_catalogue_after(cat, pt.last_id);
    int more = 0;
    for (; i < cat->n; i++) {
        const opendata_entry_t *e = &cat->entries[i];
        if (e->removed || (!full && e->version <= since))
            continue;
        if (out.n_facilities == (size_t)page_size) {
            more = 1;
            break;
        }
        Renkei__V1__Facility *f = facility_of(call, e);
        if (!f) {
            rk_adapter_fail(call, RK_ADAPTER_INTERNAL, NULL, "a stored facility is unreadable");
            return;
        }
        out.facilities[out.n_facilities++] = f;
    }
    Renkei__V1__PageResponse page = RENKEI__V1__PAGE_RESPONSE__INIT;
    page.total_size = (int32_t)total;
    if (more)
        page.next_page_token = rk_adapter_call_printf(
            call, "odp1.%08x.%llu.%llu.%s", od->boot_id, (unsigned long long)pt.version,
            (unsigned long long)since, out.facilities[out.n_facilities - 1]->owner_facility_id);
    else
        out.change_token = rk_adapter_call_printf(call, "od1.%08x.%llu", od->boot_id,
                                                  (unsigned long long)pt.version);
    out.page = &page;
    out.full_listing = full;
    rk_adapter_reply(call, &out.base);
}
