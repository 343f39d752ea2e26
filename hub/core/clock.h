/*
 * clock.h — monotonic time for deadlines and latency.
 */
#ifndef RK_CORE_CLOCK_H
#define RK_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

/** Monotonic nanoseconds; only differences mean anything. */
static inline uint64_t rk_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
