/*
 * availability_rules.h — the pure rules of FacilityService.GetAvailability: what a valid request
 * is, RFC 3339 instants, and how an owner's slots are cleaned before anyone sees them.
 *
 * A request names 1-50 facilities by hub id (digits of a bigint, each once) and a window of
 * RFC 3339 instants (UTC "Z" or an offset; fractions of a second are dropped) with start before
 * end, at most 31 days long, ending at most 366 days from now and starting at most 366 days
 * ago. Violations name the field as the contract writes it ("window.end",
 * "facility_ids[3]") and the rule, for ErrorDetail.field_violations.
 *
 * An owner's slots are kept only when their times parse, they overlap the window and their
 * status is a SlotStatus; at most RK_AVAILABILITY_MAX_SLOTS per facility; put in time order. A
 * slot_id that is not UTF-8 or longer than RK_AVAILABILITY_SLOT_ID_MAX is emptied (it could
 * not be written as JSON nor passed back to HoldSlot). No I/O here: availability.c calls
 * these, tests/unit/facility/availability_rules_test.c checks them.
 */
#ifndef RK_FACILITY_AVAILABILITY_RULES_H
#define RK_FACILITY_AVAILABILITY_RULES_H

#include "renkei/v1/facility.pb-c.h"

#include <stddef.h>
#include <stdint.h>

#define RK_AVAILABILITY_MAX_FACILITIES 50
#define RK_AVAILABILITY_MAX_WINDOW_S (31 * 86400)
#define RK_AVAILABILITY_HORIZON_S (366 * 86400)
#define RK_AVAILABILITY_MAX_SLOTS 5000 /* a month of 10-minute slots, 16 hours a day */
#define RK_AVAILABILITY_SLOT_ID_MAX 256
#define RK_AVAILABILITY_TIME_MAX 32 /* "YYYY-MM-DDTHH:MM:SSZ" and its NUL, with room */

typedef struct rk_availability_window {
    int64_t start, end; /* seconds since the epoch */
    char start_text[RK_AVAILABILITY_TIME_MAX], end_text[RK_AVAILABILITY_TIME_MAX]; /* canonical */
} rk_availability_window_t;

typedef struct rk_availability_violation {
    char field[48];        /* "window.start", "facility_ids[3]" */
    char description[200]; /* the rule, in English */
} rk_availability_violation_t;

/** Parses an RFC 3339 instant into seconds since the epoch. RK_OK or RK_EINVAL. */
int rk_availability_time_parse(const char *text, int64_t *seconds);
/** Writes seconds as "YYYY-MM-DDTHH:MM:SSZ". */
void rk_availability_time_format(int64_t seconds, char out[RK_AVAILABILITY_TIME_MAX]);

/**
 * Checks request against the rules above at now (seconds since the epoch). RK_OK with *window
 * set, or RK_EINVAL with the first violation in *violation.
 */
int rk_availability_request_check(const Renkei__V1__GetAvailabilityRequest *request, int64_t now,
                                  rk_availability_window_t *window,
                                  rk_availability_violation_t *violation);

/**
 * Checks a window r named `name` in violations ("window", "free_within": "free_within.end")
 * against the window rules above at now. RK_OK with *window set, or RK_EINVAL.
 */
int rk_availability_window_check(const Renkei__V1__TimeRange *r, const char *name, int64_t now,
                                 rk_availability_window_t *window,
                                 rk_availability_violation_t *violation);

/**
 * The start of the first run of back-to-back AVAILABLE slots of fa (cleaned: in time order)
 * lasting at least min_minutes (0: any one slot): RK_OK and *start, or RK_ENOTFOUND.
 */
int rk_availability_first_free(const Renkei__V1__FacilityAvailability *fa, int min_minutes,
                               int64_t *start);

/**
 * Cleans an owner's slots in place: drops those whose time is missing or unparsable or does not
 * overlap window or whose status is unknown, empties bad slot ids, keeps at most
 * RK_AVAILABILITY_MAX_SLOTS, and sorts the rest by start (then end). Returns how many remain at the
 * front of slots.
 */
size_t rk_availability_slots_clean(Renkei__V1__Slot **slots, size_t n_slots,
                                   const rk_availability_window_t *window);

#endif
