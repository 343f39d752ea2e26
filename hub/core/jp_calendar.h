/*
 * jp_calendar.h — Japan's civil calendar as fees and booking windows need it: local dates in
 * Japan Standard Time (UTC+9, no daylight saving) and the national holidays of the 国民の祝日に
 * 関する法律 (with 振替休日 and 国民の休日), for the years 2000–2099.
 *
 * Pure: no state, no allocation. Shared by the hub and the reference adapters, so that a fee
 * computed on either side falls on the same kind of day.
 */
#ifndef RK_CORE_JP_CALENDAR_H
#define RK_CORE_JP_CALENDAR_H

#include <stdint.h>

#define RK_JST_OFFSET_S (9 * 3600)

/* The kind of a day, numbered like renkei.v1.DayType. */
typedef enum {
    RK_JP_WEEKDAY = 1,  /* 平日: Monday–Friday and not a holiday */
    RK_JP_SATURDAY = 2, /* 土曜, not a holiday */
    RK_JP_SUNDAY = 3,   /* 日曜 */
    RK_JP_HOLIDAY = 4,  /* 祝日・休日 that is not a Sunday */
} rk_jp_day_type_t;

/* A local date in Japan. */
typedef struct rk_jp_date {
    int year, month, day; /* 1-based month and day */
    int weekday;          /* 0 = Sunday … 6 = Saturday */
} rk_jp_date_t;

/* Days since 1970-01-01 of a proleptic Gregorian date (negative before). */
int64_t rk_jp_days_from_civil(int year, int month, int day);

/* The local date in Japan of the instant `unix_seconds`. */
rk_jp_date_t rk_jp_date_of(int64_t unix_seconds);

/* The local date in Japan `days` days after 1970-01-01. */
rk_jp_date_t rk_jp_date_of_day(int64_t days);

/* 1 when the date is a national holiday or a substitute / in-between holiday; 0 otherwise
 * (also for years outside 2000–2099, whose rules are not kept). */
int rk_jp_is_holiday(int year, int month, int day);

/* The day type of a local date. A holiday on a Sunday is RK_JP_SUNDAY. */
rk_jp_day_type_t rk_jp_day_type(const rk_jp_date_t *date);

#endif
