/*
 * catalogue.c — snapshots of the files and the versioned catalogue (see catalogue.h).
 */
#include "catalogue.h"

#include "core/mem.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PROBLEMS 200

/* --- one row → one Facility ------------------------------------------------------------------ */

static Renkei__V1__LocalizedText *text(rk_arena_t *arena, const char *ja, const char *en,
                                       const char *kana)
{
    Renkei__V1__LocalizedText *t = rk_arena_calloc(arena, 1, sizeof(*t));
    renkei__v1__localized_text__init(t);
    t->ja = (char *)ja;
    t->en = (char *)en;
    t->kana = (char *)kana;
    return t;
}

/* terms->booking_url with each "{id}" replaced by id; the row's URL when none is configured. */
static char *booking_url(rk_arena_t *arena, const opendata_terms_t *terms,
                         const rk_facility_record_t *r, const char *id)
{
    const char *url = terms->booking_url && *terms->booking_url ? terms->booking_url : r->url;
    size_t cap = strlen(url) + 1, len = 0;
    for (const char *p = url; (p = strstr(p, "{id}")) != NULL; p += 4)
        cap += strlen(id);
    char *out = rk_arena_alloc(arena, cap);
    for (const char *p = url; *p;) {
        if (strncmp(p, "{id}", 4) == 0) {
            memcpy(out + len, id, strlen(id));
            len += strlen(id);
            p += 4;
        } else {
            out[len++] = *p++;
        }
    }
    out[len] = '\0';
    return out;
}

/* Packs the catalogue-only Facility of record r under owner id into item. */
static void pack_facility(const rk_facility_record_t *r, const char *id,
                          const opendata_terms_t *terms, opendata_item_t *item)
{
    rk_arena_t *arena = rk_arena_new();
    Renkei__V1__Facility f = RENKEI__V1__FACILITY__INIT;
    f.owner_facility_id = (char *)id;
    f.name = text(arena, r->name, r->name_en, r->name_kana);
    f.kind = r->kind;
    if (*r->description)
        f.description = text(arena, r->description, "", "");
    Renkei__V1__PostalAddress address = RENKEI__V1__POSTAL_ADDRESS__INIT;
    address.postal_code = (char *)r->postal_code;
    address.text = text(arena, r->address, "", "");
    f.address = &address;
    Renkei__V1__GeoPoint location = RENKEI__V1__GEO_POINT__INIT;
    if (r->located) {
        location.latitude = r->latitude;
        location.longitude = r->longitude;
        f.location = &location;
    }
    f.n_accessibility = r->n_accessibility;
    f.accessibility = (Renkei__V1__AccessibilityFeature *)r->accessibility;
    if (*r->accessibility_notes)
        f.accessibility_notes = text(arena, r->accessibility_notes, "", "");
    f.bookable_via_hub = 0;
    f.booking_url = booking_url(arena, terms, r, id);
    char *photo = (char *)r->photo_url;
    if (*photo) {
        f.n_photo_urls = 1;
        f.photo_urls = &photo;
    }
    if (*r->opening_hours)
        f.opening_hours = text(arena, r->opening_hours, "", "");
    f.phone = (char *)r->phone;
    f.website_url = (char *)r->url;
    item->id = rk_xstrdup(id);
    item->packed_len = protobuf_c_message_get_packed_size(&f.base);
    item->packed = rk_xmalloc(item->packed_len ? item->packed_len : 1);
    protobuf_c_message_pack(&f.base, item->packed);
    EVP_Digest(item->packed, item->packed_len, item->hash, NULL, EVP_sha256(), NULL);
    rk_arena_free(arena);
}

/* --- snapshots ------------------------------------------------------------------------------- */

static void add_problem(opendata_snapshot_t *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_problem(opendata_snapshot_t *s, const char *fmt, ...)
{
    if (s->n_problems >= MAX_PROBLEMS) {
        s->more_problems++;
        return;
    }
    if (!s->problems)
        s->problems = rk_xcalloc(MAX_PROBLEMS, sizeof(*s->problems));
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    s->problems[s->n_problems++] = rk_xstrdup(line);
}

/* Where an item came from, to name the first row when a second one claims its id. */
typedef struct origin {
    const char *path;
    size_t line;
} origin_t;

typedef struct pending {
    opendata_item_t item;
    origin_t from;
    size_t order; /* reading order: of two rows with one id, the first wins */
} pending_t;

static int by_id_then_order(const void *a, const void *b)
{
    const pending_t *x = a, *y = b;
    int c = strcmp(x->item.id, y->item.id);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int excluded(const opendata_terms_t *terms, Renkei__V1__FacilityKind kind)
{
    for (size_t i = 0; i < terms->n_exclude_kinds; i++) {
        if (terms->exclude_kinds[i] == kind)
            return 1;
    }
    return 0;
}

/* "h-" and 16 hex digits of SHA-256(name "\n" address): an id for files without one. */
static void derived_id(const rk_facility_record_t *r, char out[19])
{
    size_t name_len = strlen(r->name), address_len = strlen(r->address);
    char *key = rk_xmalloc(name_len + 1 + address_len);
    memcpy(key, r->name, name_len);
    key[name_len] = '\n';
    memcpy(key + name_len + 1, r->address, address_len);
    unsigned char digest[EVP_MAX_MD_SIZE];
    EVP_Digest(key, name_len + 1 + address_len, digest, NULL, EVP_sha256(), NULL);
    free(key);
    out[0] = 'h';
    out[1] = '-';
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 + 2 * i, 3, "%02x", digest[i]);
}

opendata_snapshot_t *opendata_snapshot_build(rk_facility_csv_t *const *files,
                                             const char *const *paths, size_t n_files,
                                             const opendata_terms_t *terms)
{
    opendata_snapshot_t *s = rk_xcalloc(1, sizeof(*s));
    size_t total = 0;
    for (size_t f = 0; f < n_files; f++) {
        total += files[f]->n_records;
        s->rows += files[f]->rows;
        s->skipped += files[f]->rows_skipped;
        for (size_t i = 0; i < files[f]->n_problems; i++)
            add_problem(s, "%s", files[f]->problems[i]);
        s->more_problems += files[f]->more_problems;
    }
    pending_t *pending = rk_xcalloc(total ? total : 1, sizeof(*pending));
    size_t n = 0;
    for (size_t f = 0; f < n_files; f++) {
        for (size_t i = 0; i < files[f]->n_records; i++) {
            const rk_facility_record_t *r = &files[f]->records[i];
            if (excluded(terms, r->kind)) {
                s->excluded++;
                continue;
            }
            char hashed[19];
            if (!*r->id)
                derived_id(r, hashed);
            pack_facility(r, *r->id ? r->id : hashed, terms, &pending[n].item);
            pending[n].from = (origin_t){paths[f], r->line};
            pending[n].order = n;
            n++;
        }
    }
    qsort(pending, n, sizeof(*pending), by_id_then_order);
    s->items = rk_xcalloc(n ? n : 1, sizeof(*s->items));
    for (size_t i = 0; i < n; i++) {
        if (s->n_items && strcmp(s->items[s->n_items - 1].id, pending[i].item.id) == 0) {
            const pending_t *first = &pending[i - 1];
            while (first > pending && strcmp(first[-1].item.id, pending[i].item.id) == 0)
                first--;
            add_problem(s, "%s:%zu: ID %s: already used on %s:%zu; row skipped",
                        pending[i].from.path, pending[i].from.line, pending[i].item.id,
                        first->from.path, first->from.line);
            s->skipped++;
            free(pending[i].item.id);
            free(pending[i].item.packed);
            continue;
        }
        s->items[s->n_items++] = pending[i].item;
    }
    free(pending);
    return s;
}

void opendata_snapshot_free(opendata_snapshot_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_items; i++) {
        free(s->items[i].id);
        free(s->items[i].packed);
    }
    free(s->items);
    for (size_t i = 0; i < s->n_problems; i++)
        free(s->problems[i]);
    free(s->problems);
    free(s);
}

/* --- the catalogue --------------------------------------------------------------------------- */

opendata_catalogue_t *opendata_catalogue_new(void)
{
    return rk_xcalloc(1, sizeof(opendata_catalogue_t));
}

void opendata_catalogue_free(opendata_catalogue_t *cat)
{
    if (!cat)
        return;
    for (size_t i = 0; i < cat->n; i++) {
        free(cat->entries[i].id);
        free(cat->entries[i].packed);
    }
    free(cat->entries);
    free(cat);
}

opendata_changes_t opendata_catalogue_apply(opendata_catalogue_t *cat,
                                            opendata_snapshot_t *snapshot, time_t now)
{
    opendata_changes_t changes = {0};
    uint64_t next = cat->version + 1;
    char stamp[24];
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* A merge of two id-sorted lists into a new one. */
    size_t cap = cat->n + snapshot->n_items;
    opendata_entry_t *merged = rk_xcalloc(cap ? cap : 1, sizeof(*merged));
    size_t n = 0, i = 0, j = 0;
    while (i < cat->n || j < snapshot->n_items) {
        opendata_entry_t *old = i < cat->n ? &cat->entries[i] : NULL;
        opendata_item_t *item = j < snapshot->n_items ? &snapshot->items[j] : NULL;
        int c = !old ? 1 : !item ? -1 : strcmp(old->id, item->id);
        opendata_entry_t *e = &merged[n++];
        if (c < 0) { /* gone from the files */
            *e = *old;
            if (!e->removed) {
                free(e->packed);
                e->packed = NULL;
                e->packed_len = 0;
                e->removed = 1;
                e->version = next;
                snprintf(e->updated_at, sizeof(e->updated_at), "%s", stamp);
                changes.removed++;
            }
            i++;
            continue;
        }
        if (c == 0 && !old->removed && memcmp(old->hash, item->hash, OPENDATA_HASH_BYTES) == 0) {
            *e = *old;
            free(item->id);
            free(item->packed);
            changes.unchanged++;
            i++;
            j++;
            continue;
        }
        if (c == 0) { /* changed, or back after a removal */
            free(old->id);
            free(old->packed);
            changes.changed++;
            i++;
        } else {
            changes.added++;
        }
        e->id = item->id;
        e->packed = item->packed;
        e->packed_len = item->packed_len;
        memcpy(e->hash, item->hash, OPENDATA_HASH_BYTES);
        e->version = next;
        e->removed = 0;
        snprintf(e->updated_at, sizeof(e->updated_at), "%s", stamp);
        j++;
    }
    free(cat->entries);
    cat->entries = merged;
    cat->n = n;
    cat->live = snapshot->n_items;
    snapshot->n_items = 0; /* the items now belong to the catalogue */
    if (changes.added || changes.changed || changes.removed || cat->version == 0)
        cat->version = next;
    return changes;
}

size_t opendata_catalogue_after(const opendata_catalogue_t *cat, const char *id)
{
    size_t lo = 0, hi = cat->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(cat->entries[mid].id, id) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
