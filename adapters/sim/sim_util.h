/*
 * sim_util.h — small pure helpers of the sim adapter: a seeded random generator, string
 * hashing and RFC 3339 / Japan-local time arithmetic.
 *
 * Determinism is the point: every generated facility, slot occupancy and holding derives from
 * (seed, what, index) through sim_mix(), never from rand(), so two sims with one seed agree
 * and a restart shows the same catalogue. Times are UTC epoch seconds; Japan has no daylight
 * saving, so a Japan-local day is [midnight UTC+9, +24 h).
 */
#ifndef SIM_UTIL_H
#define SIM_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SIM_JST_OFFSET (9 * 3600)

/** splitmix64: a good 64-bit mix of x. */
static inline uint64_t sim_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/** A stream of numbers from a seed (state advanced in place). */
static inline uint64_t sim_next(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ull;
    uint64_t x = *state;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/** Uniform in [0, n) (n > 0). */
static inline uint64_t sim_below(uint64_t *state, uint64_t n)
{
    return sim_next(state) % n;
}

/** Uniform in [0, 1). */
static inline double sim_unit(uint64_t *state)
{
    return (double)(sim_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

/** FNV-1a of a string, for seeds and hash tables. */
static inline uint64_t sim_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/** FNV-1a of bytes. */
static inline uint64_t sim_hash_bytes(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/**
 * Parses RFC 3339 ("2026-11-28T09:00:00Z", fraction and ±hh:mm offset accepted) into epoch
 * seconds. 0 on success, -1 if malformed.
 */
int sim_time_parse(const char *text, time_t *out);
/** Formats epoch seconds as "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes). */
void sim_time_format(time_t t, char *out, size_t len);
/** Formats the Japan-local date of t as "YYYY-MM-DD" (out at least 11 bytes). */
void sim_date_format(time_t t, char *out, size_t len);
/** The start (UTC epoch) of the Japan-local day containing t. */
time_t sim_jst_day_start(time_t t);
/** Day of the week of the Japan-local day containing t: 0 = Sunday … 6 = Saturday. */
int sim_jst_weekday(time_t t);

#endif
