/*
 * breaker.c — the circuit breaker's state machine (see breaker.h).
 *
 * The failure rate is kept as a bit history of the last calls, so judging it is a popcount:
 * no timestamps, no allocation, the same answer for the same sequence of outcomes.
 */
#include "facility/breaker.h"

static int window_size(const rk_breaker_config_t *c)
{
    return c->window < 1                       ? 1
           : c->window > RK_BREAKER_WINDOW_MAX ? RK_BREAKER_WINDOW_MAX
                                               : c->window;
}

static void trip(rk_breaker_t *b, uint64_t now_ns)
{
    b->state = RK_BREAKER_OPEN;
    b->opened_ns = now_ns;
    b->probing = 0;
    b->opened++;
}

static void close_breaker(rk_breaker_t *b)
{
    b->state = RK_BREAKER_CLOSED;
    b->consecutive = 0;
    b->history = 0;
    b->seen = 0;
    b->probing = 0;
}

int rk_breaker_allow(rk_breaker_t *b, const rk_breaker_config_t *c, uint64_t now_ns, int *probe)
{
    *probe = 0;
    switch (b->state) {
    case RK_BREAKER_CLOSED:
        return 1;
    case RK_BREAKER_OPEN:
        if (now_ns - b->opened_ns < c->open_ns)
            return 0;
        b->state = RK_BREAKER_HALF_OPEN;
        b->probing = 0;
        break;
    case RK_BREAKER_HALF_OPEN:
        break;
    }
    if (b->probing)
        return 0;
    b->probing = 1;
    *probe = 1;
    return 1;
}

rk_breaker_state_t rk_breaker_record(rk_breaker_t *b, const rk_breaker_config_t *c, int probe,
                                     rk_breaker_outcome_t outcome, uint64_t now_ns)
{
    if (b->state != RK_BREAKER_CLOSED) {
        if (!probe || b->state != RK_BREAKER_HALF_OPEN)
            return b->state; /* a straggler from before it opened */
        b->probing = 0;
        if (outcome == RK_BREAKER_SUCCESS)
            close_breaker(b);
        else if (outcome == RK_BREAKER_FAILURE)
            trip(b, now_ns);
        return b->state;
    }
    if (outcome == RK_BREAKER_NEUTRAL)
        return b->state;
    int window = window_size(c);
    uint64_t mask = window == 64 ? ~0ull : (1ull << window) - 1;
    int failed = outcome == RK_BREAKER_FAILURE;
    b->history = ((b->history << 1) | (uint64_t)failed) & mask;
    if (b->seen < window)
        b->seen++;
    b->consecutive = failed ? b->consecutive + 1 : 0;
    int failures = __builtin_popcountll(b->history);
    if (b->consecutive >= c->failures ||
        (b->seen == window && failures * 100 >= c->rate_percent * window))
        trip(b, now_ns);
    return b->state;
}

uint64_t rk_breaker_retry_in_ns(const rk_breaker_t *b, const rk_breaker_config_t *c,
                                uint64_t now_ns)
{
    if (b->state != RK_BREAKER_OPEN || now_ns - b->opened_ns >= c->open_ns)
        return 0;
    return c->open_ns - (now_ns - b->opened_ns);
}

const char *rk_breaker_state_name(rk_breaker_state_t state)
{
    switch (state) {
    case RK_BREAKER_CLOSED:
        return "closed";
    case RK_BREAKER_OPEN:
        return "open";
    case RK_BREAKER_HALF_OPEN:
        return "half_open";
    }
    return "closed";
}
