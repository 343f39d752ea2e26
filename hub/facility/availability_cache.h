/*
 * availability_cache.h — the owners' recent availability answers, bounded in bytes, least
 * recently used evicted first.
 *
 * One entry is one facility's slots for one window as its owner's adapter last answered them
 * (a packed renkei.v1.FacilityAvailability, owner ids), under a key the caller builds with
 * rk_availability_cache_key() from the adapter, the owner's facility id and the window.
 * availability.c serves an entry younger than facility.availability_cache_ttl_ms instead of
 * asking the owner again, and an older one, up to facility.availability_stale_ms, marked STALE
 * when the owner fails. Every entry counts its key, value and bookkeeping against max_bytes;
 * storing evicts from the least recently used end until the total fits.
 *
 * Pure memory: a hash table with chaining (grown as entries come) and a doubly linked LRU
 * list; the clock is an argument. One per worker process (each worker has its own loop).
 */
#ifndef RK_FACILITY_AVAILABILITY_CACHE_H
#define RK_FACILITY_AVAILABILITY_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct rk_availability_cache rk_availability_cache_t;

#define RK_AVAILABILITY_AS_OF_MAX 40 /* an RFC 3339 instant, NUL included */

/** What rk_availability_cache_get() finds; valid until the next call that changes the cache. */
typedef struct rk_availability_cache_entry {
    const uint8_t *value;
    size_t len;
    uint64_t fetched_ns;                   /* monotonic: when the owner's answer arrived */
    char as_of[RK_AVAILABILITY_AS_OF_MAX]; /* RFC 3339, UTC: when the owner reported it */
} rk_availability_cache_entry_t;

/** An empty cache holding at most max_bytes (0 = keep nothing). Free with ..._free(). */
rk_availability_cache_t *rk_availability_cache_new(size_t max_bytes);
/** Frees every entry and the cache. NULL is allowed. */
void rk_availability_cache_free(rk_availability_cache_t *cache);

/**
 * The key of one facility's window: adapter id, owner facility id and the window's bounds
 * (canonical RFC 3339), unambiguous whatever bytes the owner id holds. The caller frees it.
 */
char *rk_availability_cache_key(int64_t adapter_id, const char *owner_facility_id,
                                const char *window_start, const char *window_end);

/**
 * Stores a copy of value under key (replacing an entry with the same key), fetched at
 * fetched_ns with the owner's as_of (truncated to fit). An entry larger than the whole bound
 * is not kept (and any older one under the key is dropped).
 */
void rk_availability_cache_put(rk_availability_cache_t *cache, const char *key,
                               const uint8_t *value, size_t len, uint64_t fetched_ns,
                               const char *as_of);

/**
 * The entry under key if it is at most max_age_ns old at now_ns, marked most recently used;
 * NULL otherwise. An entry found older than max_age_ns is left in place (a caller with a
 * longer max_age may still want it); eviction bounds the memory.
 */
const rk_availability_cache_entry_t *rk_availability_cache_get(rk_availability_cache_t *cache,
                                                               const char *key, uint64_t now_ns,
                                                               uint64_t max_age_ns);

/** Entries held, and the bytes they count against the bound. */
size_t rk_availability_cache_entries(const rk_availability_cache_t *cache);
size_t rk_availability_cache_bytes(const rk_availability_cache_t *cache);
/** Entries evicted to make room since the cache was made. */
uint64_t rk_availability_cache_evictions(const rk_availability_cache_t *cache);

#endif
