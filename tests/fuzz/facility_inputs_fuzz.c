/*
 * facility_inputs_fuzz.c — libFuzzer target for what owners' adapters and residents send the
 * facility module that is parsed or computed on: fee schedules (as an adapter's catalogue JSON
 * carries them, rk_fee_of_range over any range and both sides, rk_fee_hourly_from), RFC 3339
 * instants and windows (availability_rules.c), and an owner's slots (cleaned, then searched for
 * a free run).
 *
 * The first byte picks the routine, the next eight (when used) a range or a length, the rest
 * is the text, passed with its exact length. Every input must end in a value or an error: no
 * crash, no leak, no read past the bounds, no integer overflow (UBSan).
 */
#include "core/error.h"
#include "core/mem.h"
#include "facility/availability_rules.h"
#include "facility/fee.h"
#include "net/json_transcode.h"
#include "net/pb_arena.h"

#include <jansson.h>
#include <stdint.h>
#include <string.h>

/* The message of desc parsed from JSON text, in arena; NULL when it is not one. */
static ProtobufCMessage *parse(rk_arena_t *arena, const ProtobufCMessageDescriptor *desc,
                               const uint8_t *data, size_t size)
{
    json_t *json = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!json)
        return NULL;
    ProtobufCAllocator allocator = rk_pb_arena_allocator(arena);
    ProtobufCMessage *m = rk_json_to_message(desc, json, &allocator, NULL, 0);
    json_decref(json);
    return m;
}

static int64_t int64_of(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return (int64_t)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9)
        return 0;
    uint8_t pick = data[0];
    int64_t number = int64_of(data + 1);
    const uint8_t *text = data + 9;
    size_t len = size - 9;
    rk_arena_t *arena = rk_arena_new();
    switch (pick % 3) {
    case 0: { /* a fee schedule, priced over [start, start + span) */
        Renkei__V1__FeeSchedule *s = (Renkei__V1__FeeSchedule *)parse(
            arena, &renkei__v1__fee_schedule__descriptor, text, len);
        if (s) {
            int64_t start = number >> 16, span = (number & 0xffff) * 60, yen;
            rk_fee_of_range(s, start, start + span, RK_FEE_RESIDENT_RATE, &yen);
            rk_fee_of_range(s, start, start + span, RK_FEE_NON_RESIDENT_RATE, &yen);
            rk_fee_hourly_from(s, RK_FEE_NON_RESIDENT_RATE, &yen);
        }
        break;
    }
    case 1: { /* an instant, then a window ending `number` seconds later */
        char *instant = rk_arena_alloc(arena, len + 1);
        memcpy(instant, text, len);
        instant[len] = '\0';
        int64_t seconds;
        if (rk_availability_time_parse(instant, &seconds) == RK_OK) {
            char back[RK_AVAILABILITY_TIME_MAX];
            rk_availability_time_format(seconds, back);
        }
        Renkei__V1__TimeRange range = RENKEI__V1__TIME_RANGE__INIT;
        range.start = instant;
        range.end = instant;
        rk_availability_window_t w;
        rk_availability_violation_t v;
        rk_availability_window_check(&range, "free_within", number, &w, &v);
        break;
    }
    default: { /* an owner's slots: cleaned for a window, then a free run of some length */
        Renkei__V1__FacilityAvailability *fa = (Renkei__V1__FacilityAvailability *)parse(
            arena, &renkei__v1__facility_availability__descriptor, text, len);
        if (fa) {
            rk_availability_window_t w = {.start = 1795000000, .end = 1795000000 + 31 * 86400};
            rk_availability_time_format(w.start, w.start_text);
            rk_availability_time_format(w.end, w.end_text);
            fa->n_slots = rk_availability_slots_clean(fa->slots, fa->n_slots, &w);
            int64_t start;
            rk_availability_first_free(fa, (int)(number & 0x7ff), &start);
        }
        break;
    }
    }
    rk_arena_free(arena);
    return 0;
}
