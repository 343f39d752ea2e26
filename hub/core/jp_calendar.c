/*
 * jp_calendar.c — JST dates and Japan's national holidays (see jp_calendar.h).
 *
 * Holidays as the law stands for each year since 2000: fixed dates, the Happy Monday days
 * (成人の日, 海の日, 敬老の日, スポーツの日), the equinoxes by the usual formula for 1980–2099,
 * the 2019 accession days, the Olympic moves of 2020 and 2021, then 振替休日 (a holiday on a
 * Sunday moves to the next day that is not one) and 国民の休日 (a day between two holidays).
 */
#include "core/jp_calendar.h"

int64_t rk_jp_days_from_civil(int year, int month, int day)
{
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

rk_jp_date_t rk_jp_date_of_day(int64_t days)
{
    rk_jp_date_t d;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    d.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    d.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    d.year = (int)(yoe + era * 400 + (d.month <= 2));
    int64_t wd = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    d.weekday = (int)(wd < 0 ? wd + 7 : wd);
    return d;
}

rk_jp_date_t rk_jp_date_of(int64_t unix_seconds)
{
    int64_t local = unix_seconds + RK_JST_OFFSET_S;
    int64_t days = local / 86400 - (local % 86400 < 0);
    return rk_jp_date_of_day(days);
}

static int weekday_of(int year, int month, int day)
{
    return rk_jp_date_of_day(rk_jp_days_from_civil(year, month, day)).weekday;
}

/* The day of the month of the n-th Monday. */
static int nth_monday(int year, int month, int n)
{
    int first = weekday_of(year, month, 1);
    return 1 + (8 - first) % 7 + 7 * (n - 1);
}

static int equinox_day(int year, double base)
{
    return (int)(base + 0.242194 * (year - 1980)) - (year - 1980) / 4;
}

/* A holiday by name (before 振替休日 and 国民の休日). */
static int named_holiday(int y, int m, int d)
{
    switch (m) {
    case 1:
        return d == 1 || d == nth_monday(y, 1, 2);
    case 2:
        return d == 11 || (y >= 2020 && d == 23);
    case 3:
        return d == equinox_day(y, 20.8431);
    case 4:
        return d == 29 || (y == 2019 && d == 30);
    case 5:
        return d == 3 || d == 5 || (y >= 2007 && d == 4) || (y == 2019 && (d == 1 || d == 2));
    case 7:
        if (y == 2020)
            return d == 23 || d == 24;
        if (y == 2021)
            return d == 22 || d == 23;
        return y >= 2003 ? d == nth_monday(y, 7, 3) : d == 20;
    case 8:
        if (y == 2020)
            return d == 10;
        if (y == 2021)
            return d == 8;
        return y >= 2016 && d == 11;
    case 9:
        return d == equinox_day(y, 23.2488) || (y >= 2003 ? d == nth_monday(y, 9, 3) : d == 15);
    case 10:
        if (y == 2019 && d == 22)
            return 1;
        return y != 2020 && y != 2021 && d == nth_monday(y, 10, 2);
    case 11:
        return d == 3 || d == 23;
    case 12:
        return y <= 2018 && d == 23;
    default:
        return 0;
    }
}

static int named_holiday_on_day(int64_t days)
{
    rk_jp_date_t t = rk_jp_date_of_day(days);
    return named_holiday(t.year, t.month, t.day);
}

int rk_jp_is_holiday(int year, int month, int day)
{
    if (year < 2000 || year > 2099)
        return 0;
    if (named_holiday(year, month, day))
        return 1;
    int64_t today = rk_jp_days_from_civil(year, month, day);
    int weekday = rk_jp_date_of_day(today).weekday;
    /* 振替休日: the run of named holidays just before today starts on a Sunday. */
    for (int64_t back = today - 1; named_holiday_on_day(back); back--)
        if (rk_jp_date_of_day(back).weekday == 0)
            return 1;
    /* 国民の休日: between two named holidays, itself not a Sunday. */
    return weekday != 0 && named_holiday_on_day(today - 1) && named_holiday_on_day(today + 1);
}

rk_jp_day_type_t rk_jp_day_type(const rk_jp_date_t *date)
{
    if (date->weekday == 0)
        return RK_JP_SUNDAY;
    if (rk_jp_is_holiday(date->year, date->month, date->day))
        return RK_JP_HOLIDAY;
    return date->weekday == 6 ? RK_JP_SATURDAY : RK_JP_WEEKDAY;
}
