/*
 * merge.c — catalogue records of many cities merged into works (see merge.h).
 *
 * One pass over every record computes its work id and finds its group in an open-addressing
 * table keyed by that id; a second pass orders the groups and builds each WorkResult from its
 * members, city by city.
 */
#include "library/merge.h"

#include "core/error.h"
#include "library/isbn.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOLD_MAX 201 /* bytes of a folded title or author, with its NUL */
#define RECORD_ID_MAX 400

#define HS(x) RENKEI__V1__HOLDING_STATUS__HOLDING_STATUS_##x

/* --- folding text ------------------------------------------------------------------------ */

/* The code point at s (its length in *len), or -1 with *len 1 for a byte that starts none. */
static long utf8_next(const unsigned char *s, size_t *len)
{
    long cp;
    size_t n;
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    if ((s[0] & 0xe0) == 0xc0) {
        cp = s[0] & 0x1f;
        n = 2;
    } else if ((s[0] & 0xf0) == 0xe0) {
        cp = s[0] & 0x0f;
        n = 3;
    } else if ((s[0] & 0xf8) == 0xf0) {
        cp = s[0] & 0x07;
        n = 4;
    } else {
        *len = 1;
        return -1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *len = 1;
            return -1;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    *len = n;
    return cp;
}

/* Japanese punctuation and blanks that separate words in titles and names. */
static int is_cjk_separator(long cp)
{
    static const long separators[] = {0x3000, 0x3001, 0x3002, 0x30fb, 0xff65, 0x300c, 0x300d,
                                      0x300e, 0x300f, 0x3010, 0x3011, 0x3008, 0x3009, 0x300a,
                                      0x300b, 0x3014, 0x3015, 0x301c, 0x2010, 0x2013, 0x2014,
                                      0x2015, 0x2025, 0x2026, 0x201c, 0x201d, 0x2018, 0x2019};
    for (size_t i = 0; i < sizeof(separators) / sizeof(separators[0]); i++)
        if (separators[i] == cp)
            return 1;
    return 0;
}

void rk_library_text_fold(const char *text, char *out, size_t size)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = 0;
    int pending_space = 0;
    out[0] = '\0';
    while (*s) {
        size_t len;
        long cp = utf8_next(s, &len);
        const unsigned char *bytes = s;
        s += len;
        char ascii;
        if (cp >= 0xff01 && cp <= 0xff5e)
            cp -= 0xfee0; /* full-width ASCII */
        if (cp < 0 || is_cjk_separator(cp) ||
            (cp < 0x80 &&
             !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')))) {
            pending_space = n > 0;
            continue;
        }
        size_t need = (cp < 0x80 ? 1 : len) + (size_t)pending_space;
        if (n + need + 1 > size)
            break;
        if (pending_space)
            out[n++] = ' ';
        pending_space = 0;
        if (cp < 0x80) {
            ascii = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
            out[n++] = ascii;
        } else {
            memcpy(out + n, bytes, len);
            n += len;
        }
    }
    out[n] = '\0';
}

int rk_library_same_key(const char *a, const char *b)
{
    for (;;) {
        while (*a == ' ')
            a++;
        while (*b == ' ')
            b++;
        if (*a != *b)
            return 0;
        if (!*a)
            return 1;
        a++;
        b++;
    }
}

void rk_library_longest_word(const char *folded, char *out, size_t size)
{
    const char *best = folded, *p = folded;
    size_t best_len = 0;
    while (*p) {
        const char *start = p;
        while (*p && *p != ' ')
            p++;
        if ((size_t)(p - start) > best_len) {
            best = start;
            best_len = (size_t)(p - start);
        }
        while (*p == ' ')
            p++;
    }
    if (best_len >= size)
        best_len = size - 1; /* a fold is cut at a character boundary already; words fit */
    memcpy(out, best, best_len);
    out[best_len] = '\0';
}

/* --- work ids ------------------------------------------------------------------------------ */

static void hex_append(char *out, size_t *n, size_t size, const char *bytes, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len && *n + 2 < size; i++) {
        out[(*n)++] = digits[(unsigned char)bytes[i] >> 4];
        out[(*n)++] = digits[(unsigned char)bytes[i] & 15];
    }
    out[*n] = '\0';
}

static const char *title_text(const Renkei__V1__Work *w)
{
    if (!w || !w->title)
        return "";
    return *w->title->ja ? w->title->ja : w->title->en;
}

static const char *author_text(const Renkei__V1__Work *w)
{
    if (!w || !w->n_authors || !w->authors[0]->name)
        return "";
    const Renkei__V1__LocalizedText *name = w->authors[0]->name;
    return *name->ja ? name->ja : name->en;
}

char rk_library_work_id(const char *code, const Renkei__V1__CatalogueRecord *r,
                        char out[RK_LIBRARY_WORK_ID_MAX])
{
    const Renkei__V1__Work *w = r->work;
    const char *isbn = w ? w->isbn13 : "";
    char isbn13[14];
    if (*isbn && rk_isbn_normalize(isbn, isbn13) == RK_OK) {
        snprintf(out, RK_LIBRARY_WORK_ID_MAX, "isbn:%s", isbn13);
        return 'i';
    }
    char title[FOLD_MAX], author[FOLD_MAX];
    rk_library_text_fold(title_text(w), title, sizeof(title));
    size_t n;
    if (*isbn || !*title) {
        n = (size_t)snprintf(out, RK_LIBRARY_WORK_ID_MAX, "rec:%.15s:", code);
        hex_append(out, &n, RK_LIBRARY_WORK_ID_MAX, r->record_id,
                   strnlen(r->record_id, RECORD_ID_MAX));
        return 'r';
    }
    rk_library_text_fold(author_text(w), author, sizeof(author));
    char rest[32];
    int rest_len = snprintf(rest, sizeof(rest), "\x1f%d\x1f%d", w->year, (int)w->format);
    n = (size_t)snprintf(out, RK_LIBRARY_WORK_ID_MAX, "tay:");
    hex_append(out, &n, RK_LIBRARY_WORK_ID_MAX, title, strlen(title));
    hex_append(out, &n, RK_LIBRARY_WORK_ID_MAX, "\x1f", 1);
    hex_append(out, &n, RK_LIBRARY_WORK_ID_MAX, author, strlen(author));
    hex_append(out, &n, RK_LIBRARY_WORK_ID_MAX, rest, (size_t)rest_len);
    return 't';
}

/* The bytes of hex text (even length, lower-case digits) in the arena, NUL-terminated; NULL
 * when it is not that. */
static char *hex_decode(rk_arena_t *arena, const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2)
        return NULL;
    char *out = rk_arena_alloc(arena, n / 2 + 1);
    for (size_t i = 0; i < n; i += 2) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[i + (size_t)k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                return NULL;
            v = v * 16 + d;
        }
        out[i / 2] = (char)v;
    }
    out[n / 2] = '\0';
    *len = n / 2;
    return out;
}

int rk_library_work_ref_parse(rk_arena_t *arena, const char *id, rk_library_work_ref_t *ref)
{
    memset(ref, 0, sizeof(*ref));
    if (strnlen(id, RK_LIBRARY_WORK_ID_MAX) >= RK_LIBRARY_WORK_ID_MAX)
        return RK_EINVAL;
    if (strncmp(id, "isbn:", 5) == 0) {
        ref->kind = 'i';
        if (strlen(id + 5) != 13 || rk_isbn_normalize(id + 5, ref->isbn13) != RK_OK)
            return RK_EINVAL;
        return RK_OK;
    }
    size_t len;
    if (strncmp(id, "rec:", 4) == 0) {
        const char *colon = strchr(id + 4, ':');
        size_t code_len = colon ? (size_t)(colon - id - 4) : 0;
        if (!code_len || code_len >= sizeof(ref->code) || strspn(id + 4, "0123456789") != code_len)
            return RK_EINVAL;
        memcpy(ref->code, id + 4, code_len);
        ref->record_id = hex_decode(arena, colon + 1, &len);
        if (!ref->record_id || !len || strlen(ref->record_id) != len)
            return RK_EINVAL;
        ref->kind = 'r';
        return RK_OK;
    }
    if (strncmp(id, "tay:", 4) != 0)
        return RK_EINVAL;
    char *bytes = hex_decode(arena, id + 4, &len);
    if (!bytes || strlen(bytes) != len)
        return RK_EINVAL;
    char *parts[4];
    size_t n_parts = 0;
    for (char *p = bytes; n_parts < 4; p++) {
        parts[n_parts++] = p;
        p = strchr(p, '\x1f');
        if (!p)
            break;
        *p = '\0';
    }
    char *end;
    if (n_parts != 4 || !*parts[0])
        return RK_EINVAL;
    long year = strtol(parts[2], &end, 10);
    if (*end || end == parts[2] || year < 0 || year > 9999)
        return RK_EINVAL;
    long format = strtol(parts[3], &end, 10);
    if (*end || end == parts[3] ||
        !protobuf_c_enum_descriptor_get_value(&renkei__v1__work_format__descriptor, (int)format))
        return RK_EINVAL;
    ref->kind = 't';
    ref->title = parts[0];
    ref->author = parts[1];
    ref->year = (int)year;
    ref->format = (Renkei__V1__WorkFormat)format;
    ref->title_word = rk_arena_alloc(arena, strlen(parts[0]) + 1);
    rk_library_longest_word(parts[0], ref->title_word, strlen(parts[0]) + 1);
    ref->author_word = rk_arena_alloc(arena, strlen(parts[1]) + 1);
    rk_library_longest_word(parts[1], ref->author_word, strlen(parts[1]) + 1);
    return RK_OK;
}

/* --- merging ------------------------------------------------------------------------------- */

typedef struct member {
    size_t city;
    const Renkei__V1__CatalogueRecord *record;
    struct member *next;
} member_t;

typedef struct group {
    char *id;
    char kind;
    size_t rank;     /* best position of a member in its city's answer */
    size_t order;    /* first appearance */
    size_t n_cities; /* cities holding it */
    size_t last_city;
    char *key; /* the table's key: the id, or for 't' the id's texts without spaces */
    member_t *first, *last;
} group_t;

static uint64_t hash_of(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The key of a 't' record: its folded texts without spaces, year and format. */
static char *tay_key(rk_arena_t *arena, const Renkei__V1__Work *w)
{
    char title[FOLD_MAX], author[FOLD_MAX];
    rk_library_text_fold(title_text(w), title, sizeof(title));
    rk_library_text_fold(author_text(w), author, sizeof(author));
    char *key =
        rk_arena_printf(arena, "tay:%s\x1f%s\x1f%d\x1f%d", title, author, w->year, (int)w->format);
    size_t k = 0;
    for (char *p = key; *p; p++)
        if (*p != ' ')
            key[k++] = *p;
    key[k] = '\0';
    return key;
}

static int group_cmp(const void *a, const void *b)
{
    const group_t *x = *(const group_t *const *)a, *y = *(const group_t *const *)b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    if (x->n_cities != y->n_cities)
        return x->n_cities > y->n_cities ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Fills the empty fields of w (the merged work, the arena's own copy) from other. */
static void work_fill(rk_arena_t *arena, Renkei__V1__Work *w, const Renkei__V1__Work *other)
{
    if (!other)
        return;
    if (!w->title && other->title)
        w->title = other->title;
    else if (w->title && other->title && (!*w->title->kana || !*w->title->en || !*w->title->ja)) {
        Renkei__V1__LocalizedText *t = rk_arena_alloc(arena, sizeof(*t));
        *t = *w->title;
        t->ja = *t->ja ? t->ja : other->title->ja;
        t->en = *t->en ? t->en : other->title->en;
        t->kana = *t->kana ? t->kana : other->title->kana;
        w->title = t;
    }
    if (!w->n_authors && other->n_authors) {
        w->n_authors = other->n_authors;
        w->authors = other->authors;
    }
    if (!*w->publisher)
        w->publisher = other->publisher;
    if (!w->year)
        w->year = other->year;
    if (!*w->ndc)
        w->ndc = other->ndc;
    if (w->format == RENKEI__V1__WORK_FORMAT__WORK_FORMAT_UNSPECIFIED)
        w->format = other->format;
    if (!*w->series)
        w->series = other->series;
    if (!*w->cover_url)
        w->cover_url = other->cover_url;
    if (!w->n_subjects && other->n_subjects) {
        w->n_subjects = other->n_subjects;
        w->subjects = other->subjects;
    }
}

static Renkei__V1__Work *work_merged(rk_arena_t *arena, const group_t *g)
{
    Renkei__V1__Work *w = rk_arena_alloc(arena, sizeof(*w));
    renkei__v1__work__init(w);
    if (g->first->record->work)
        *w = *g->first->record->work;
    for (const member_t *m = g->first->next; m; m = m->next)
        work_fill(arena, w, m->record->work);
    w->id = g->id;
    w->isbn13 = g->kind == 'i' ? g->id + 5 : "";
    return w;
}

/* The city's library as an availability names it: in full, or (names_once) by code and slug
 * only, its names being in the answer's statuses. */
static Renkei__V1__MunicipalityRef *library_ref(rk_arena_t *arena, const rk_library_city_t *city,
                                                rk_library_merge_shape_t shape)
{
    if (!shape.names_once || !city->library)
        return city->library;
    Renkei__V1__MunicipalityRef *ref = rk_arena_alloc(arena, sizeof(*ref));
    renkei__v1__municipality_ref__init(ref);
    ref->code = city->library->code;
    ref->slug = city->library->slug;
    return ref;
}

/* The availability at one city of the members from *run on that hold the same city (a group's
 * members are in the cities' order); *run moves past them. */
static Renkei__V1__LibraryAvailability *availability_of(rk_arena_t *arena, const member_t **run,
                                                        const rk_library_city_t *cities,
                                                        Renkei__V1__MunicipalityRef **libraries,
                                                        rk_library_merge_shape_t shape)
{
    const member_t *first = *run, *end = first;
    size_t c = first->city, n_holdings = 0;
    for (; end && end->city == c; end = end->next)
        n_holdings += end->record->n_holdings;
    *run = end;
    const rk_library_city_t *city = &cities[c];
    size_t listed =
        shape.holdings_max && n_holdings > shape.holdings_max ? shape.holdings_max : n_holdings;
    Renkei__V1__LibraryAvailability *a = rk_arena_alloc(arena, sizeof(*a));
    renkei__v1__library_availability__init(a);
    a->library = libraries[c];
    a->record_id = first->record->record_id;
    a->holdings = rk_arena_calloc(arena, listed ? listed : 1, sizeof(*a->holdings));
    a->holdings_total = (int32_t)n_holdings;
    for (const member_t *m = first; m != end; m = m->next) {
        for (size_t i = 0; i < m->record->n_holdings; i++) {
            const Renkei__V1__Holding *owned = m->record->holdings[i];
            a->available_count += owned->status == HS(AVAILABLE);
            a->total_count += owned->status != HS(NOT_HELD);
            if (a->n_holdings == listed)
                continue;
            Renkei__V1__Holding *h = rk_arena_alloc(arena, sizeof(*h));
            *h = *owned;
            if (!*h->record_id)
                h->record_id = m->record->record_id;
            if (shape.names_once) {
                h->library = NULL;
                if (strcmp(h->record_id, a->record_id) == 0)
                    h->record_id = "";
            } else {
                h->library = city->library;
            }
            a->holdings[a->n_holdings++] = h;
        }
    }
    a->may_borrow = city->may_borrow;
    a->restriction = city->restriction;
    a->agreement = city->agreement;
    a->status = city->status;
    return a;
}

void rk_library_merge(rk_arena_t *arena, const rk_library_city_t *cities, size_t n_cities,
                      rk_library_merge_shape_t shape, Renkei__V1__WorkResult ***out, size_t *n_out)
{
    size_t total = 0;
    for (size_t c = 0; c < n_cities; c++)
        total += cities[c].n_records;
    size_t cap = 16;
    while (cap < 2 * total)
        cap *= 2;
    group_t **table = rk_arena_calloc(arena, cap, sizeof(*table));
    group_t **groups = rk_arena_calloc(arena, total ? total : 1, sizeof(*groups));
    size_t n_groups = 0;
    char id[RK_LIBRARY_WORK_ID_MAX];
    for (size_t c = 0; c < n_cities; c++) {
        const char *code =
            cities[c].library && cities[c].library->code ? cities[c].library->code : "";
        for (size_t k = 0; k < cities[c].n_records; k++) {
            const Renkei__V1__CatalogueRecord *r = cities[c].records[k];
            char kind = rk_library_work_id(code, r, id);
            char *key = kind == 't' ? tay_key(arena, r->work) : rk_arena_strdup(arena, id);
            size_t slot = (size_t)(hash_of(key) & (cap - 1));
            group_t *g = NULL;
            while (table[slot] && !g) {
                if (strcmp(table[slot]->key, key) == 0)
                    g = table[slot];
                slot = (slot + 1) & (cap - 1);
            }
            if (!g) {
                g = rk_arena_calloc(arena, 1, sizeof(*g));
                g->id = rk_arena_strdup(arena, id);
                g->key = key;
                g->kind = kind;
                g->rank = k;
                g->order = n_groups;
                g->last_city = SIZE_MAX;
                table[slot] = g;
                groups[n_groups++] = g;
            }
            member_t *m = rk_arena_calloc(arena, 1, sizeof(*m));
            m->city = c;
            m->record = r;
            if (g->last)
                g->last->next = m;
            else
                g->first = m;
            g->last = m;
            if (k < g->rank)
                g->rank = k;
            if (g->last_city != c) {
                g->n_cities++;
                g->last_city = c;
            }
        }
    }
    qsort(groups, n_groups, sizeof(*groups), group_cmp);
    Renkei__V1__MunicipalityRef **libraries =
        rk_arena_calloc(arena, n_cities ? n_cities : 1, sizeof(*libraries));
    for (size_t c = 0; c < n_cities; c++)
        libraries[c] = library_ref(arena, &cities[c], shape);
    Renkei__V1__WorkResult **results =
        rk_arena_calloc(arena, n_groups ? n_groups : 1, sizeof(*results));
    for (size_t i = 0; i < n_groups; i++) {
        Renkei__V1__WorkResult *wr = rk_arena_alloc(arena, sizeof(*wr));
        renkei__v1__work_result__init(wr);
        wr->work = work_merged(arena, groups[i]);
        wr->availability = rk_arena_calloc(arena, groups[i]->n_cities, sizeof(*wr->availability));
        for (const member_t *run = groups[i]->first; run;)
            wr->availability[wr->n_availability++] =
                availability_of(arena, &run, cities, libraries, shape);
        results[i] = wr;
    }
    *out = results;
    *n_out = n_groups;
}

/* The slot of key in a table of cap (a power of two) entries: the entry with that key, or the
 * empty slot where it goes. */
static size_t slot_of(const char *const *keys, size_t cap, const char *key)
{
    size_t slot = (size_t)(hash_of(key) & (cap - 1));
    while (keys[slot] && strcmp(keys[slot], key) != 0)
        slot = (slot + 1) & (cap - 1);
    return slot;
}

static const char *text_or_empty(const char *s)
{
    return s ? s : "";
}

/* kind, then the texts (c may be NULL) with a unit separator between them, in the arena. */
static char *key_of(rk_arena_t *arena, char kind, const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;
    char *key = rk_arena_alloc(arena, la + lb + lc + 5), *p = key;
    *p++ = kind;
    memcpy(p, a, la);
    p += la;
    *p++ = '\x1f';
    memcpy(p, b, lb);
    p += lb;
    if (c) {
        *p++ = '\x1f';
        memcpy(p, c, lc);
        p += lc;
    }
    *p = '\0';
    return key;
}

void rk_library_names_once(rk_arena_t *arena, Renkei__V1__WorkResult *const *works, size_t n_works,
                           rk_library_names_t *out)
{
    size_t total = 0;
    for (size_t w = 0; w < n_works; w++)
        for (size_t i = 0; i < works[w]->n_availability; i++)
            total += works[w]->availability[i]->n_holdings;
    size_t cap = 16;
    while (cap < 2 * total)
        cap *= 2;
    /* one table for both: a branch's key starts with "b", a shelf location's with "s" */
    const char **keys = rk_arena_calloc(arena, cap, sizeof(*keys));
    size_t *index = rk_arena_calloc(arena, cap, sizeof(*index));
    memset(out, 0, sizeof(*out));
    out->branches = rk_arena_calloc(arena, total ? total : 1, sizeof(*out->branches));
    out->shelf_locations = rk_arena_calloc(arena, total ? total : 1, sizeof(*out->shelf_locations));
    for (size_t w = 0; w < n_works; w++) {
        for (size_t i = 0; i < works[w]->n_availability; i++) {
            Renkei__V1__LibraryAvailability *a = works[w]->availability[i];
            const char *code = a->library ? text_or_empty(a->library->code) : "";
            for (size_t k = 0; k < a->n_holdings; k++) {
                Renkei__V1__Holding *h = a->holdings[k];
                char *key = key_of(arena, 'b', code, h->branch_id, NULL);
                size_t slot = slot_of(keys, cap, key);
                if (!keys[slot]) {
                    Renkei__V1__Branch *b = rk_arena_alloc(arena, sizeof(*b));
                    renkei__v1__branch__init(b);
                    b->municipality = a->library;
                    b->branch_id = h->branch_id;
                    b->name = h->branch_name;
                    keys[slot] = key;
                    out->branches[out->n_branches++] = b;
                }
                h->branch_name = NULL;
                const Renkei__V1__LocalizedText *shelf = h->shelf_location;
                if (!shelf)
                    continue;
                key = key_of(arena, 's', text_or_empty(shelf->ja), text_or_empty(shelf->en),
                             text_or_empty(shelf->kana));
                slot = slot_of(keys, cap, key);
                if (!keys[slot]) {
                    keys[slot] = key;
                    index[slot] = out->n_shelf_locations;
                    out->shelf_locations[out->n_shelf_locations++] = h->shelf_location;
                }
                h->shelf_location_ref = (int32_t)index[slot] + 1;
                h->shelf_location = NULL;
            }
        }
    }
}
