/*
 * availability_cache.c — the bounded LRU cache of owners' availability answers (see
 * availability_cache.h).
 *
 * Each entry is one allocation: the bookkeeping, then the key, then the value. The table's
 * bucket count is a power of two and doubles when entries outnumber buckets, so chains stay
 * short; the LRU list runs from most (head) to least (tail) recently used.
 */
#include "facility/availability_cache.h"

#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS_MIN 64

typedef struct entry {
    struct entry *chain; /* next in the bucket */
    struct entry *newer; /* toward the head of the LRU list */
    struct entry *older; /* toward the tail */
    uint64_t hash;
    size_t cost; /* bytes counted against the bound */
    rk_availability_cache_entry_t pub;
    char key[]; /* then the value */
} entry_t;

struct rk_availability_cache {
    entry_t **buckets;
    size_t n_buckets; /* a power of two */
    size_t n_entries;
    size_t bytes, max_bytes;
    entry_t *head, *tail;
    uint64_t evictions;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

rk_availability_cache_t *rk_availability_cache_new(size_t max_bytes)
{
    rk_availability_cache_t *c = rk_xcalloc(1, sizeof(*c));
    c->n_buckets = BUCKETS_MIN;
    c->buckets = rk_xcalloc(c->n_buckets, sizeof(*c->buckets));
    c->max_bytes = max_bytes;
    return c;
}

void rk_availability_cache_free(rk_availability_cache_t *c)
{
    if (!c)
        return;
    for (entry_t *e = c->head, *next; e; e = next) {
        next = e->older;
        free(e);
    }
    free(c->buckets);
    free(c);
}

char *rk_availability_cache_key(int64_t adapter_id, const char *owner_facility_id,
                                const char *window_start, const char *window_end)
{
    /* The owner id is length-prefixed: no separator it may hold can make two keys equal. */
    size_t len = strlen(owner_facility_id) + strlen(window_start) + strlen(window_end) + 64;
    char *key = rk_xmalloc(len);
    snprintf(key, len, "%lld/%zu:%s/%s/%s", (long long)adapter_id, strlen(owner_facility_id),
             owner_facility_id, window_start, window_end);
    return key;
}

/* --- the LRU list ----------------------------------------------------------------------------- */

static void lru_unlink(rk_availability_cache_t *c, entry_t *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->head = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->tail = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push_head(rk_availability_cache_t *c, entry_t *e)
{
    e->newer = NULL;
    e->older = c->head;
    if (c->head)
        c->head->newer = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

/* --- the table -------------------------------------------------------------------------------- */

static entry_t **slot_of(rk_availability_cache_t *c, const char *key, uint64_t hash)
{
    entry_t **p = &c->buckets[hash & (c->n_buckets - 1)];
    while (*p && ((*p)->hash != hash || strcmp((*p)->key, key) != 0))
        p = &(*p)->chain;
    return p;
}

static void grow(rk_availability_cache_t *c)
{
    size_t n = c->n_buckets * 2;
    entry_t **buckets = rk_xcalloc(n, sizeof(*buckets));
    for (size_t i = 0; i < c->n_buckets; i++) {
        for (entry_t *e = c->buckets[i], *next; e; e = next) {
            next = e->chain;
            entry_t **head = &buckets[e->hash & (n - 1)];
            e->chain = *head;
            *head = e;
        }
    }
    free(c->buckets);
    c->buckets = buckets;
    c->n_buckets = n;
}

static void remove_entry(rk_availability_cache_t *c, entry_t *e)
{
    entry_t **p = slot_of(c, e->key, e->hash);
    *p = e->chain;
    lru_unlink(c, e);
    c->n_entries--;
    c->bytes -= e->cost;
    free(e);
}

void rk_availability_cache_put(rk_availability_cache_t *c, const char *key, const uint8_t *value,
                               size_t len, uint64_t fetched_ns, const char *as_of)
{
    uint64_t hash = fnv1a(key);
    entry_t *old = *slot_of(c, key, hash);
    if (old)
        remove_entry(c, old);
    size_t key_len = strlen(key);
    size_t cost = sizeof(entry_t) + key_len + 1 + len;
    if (cost > c->max_bytes)
        return;
    while (c->bytes + cost > c->max_bytes && c->tail) {
        remove_entry(c, c->tail);
        c->evictions++;
    }
    entry_t *e = rk_xmalloc(cost);
    memset(e, 0, sizeof(*e));
    memcpy(e->key, key, key_len + 1);
    uint8_t *stored = (uint8_t *)e->key + key_len + 1;
    if (len)
        memcpy(stored, value, len);
    e->hash = hash;
    e->cost = cost;
    e->pub.value = stored;
    e->pub.len = len;
    e->pub.fetched_ns = fetched_ns;
    snprintf(e->pub.as_of, sizeof(e->pub.as_of), "%s", as_of ? as_of : "");
    if (c->n_entries >= c->n_buckets)
        grow(c);
    entry_t **head = &c->buckets[hash & (c->n_buckets - 1)];
    e->chain = *head;
    *head = e;
    lru_push_head(c, e);
    c->n_entries++;
    c->bytes += cost;
}

const rk_availability_cache_entry_t *rk_availability_cache_get(rk_availability_cache_t *c,
                                                               const char *key, uint64_t now_ns,
                                                               uint64_t max_age_ns)
{
    entry_t *e = *slot_of(c, key, fnv1a(key));
    if (!e || now_ns - e->pub.fetched_ns > max_age_ns)
        return NULL;
    lru_unlink(c, e);
    lru_push_head(c, e);
    return &e->pub;
}

size_t rk_availability_cache_entries(const rk_availability_cache_t *c)
{
    return c->n_entries;
}

size_t rk_availability_cache_bytes(const rk_availability_cache_t *c)
{
    return c->bytes;
}

uint64_t rk_availability_cache_evictions(const rk_availability_cache_t *c)
{
    return c->evictions;
}
