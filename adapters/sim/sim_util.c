/*
 * sim_util.c — RFC 3339 and Japan-local time helpers (see sim_util.h).
 */
#include "sim_util.h"

#include <stdio.h>
#include <string.h>

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int sim_time_parse(const char *text, time_t *out)
{
    int year, mon, day, hour, min, sec;
    if (strlen(text) < 20 || digits(text, 4, &year) || text[4] != '-' ||
        digits(text + 5, 2, &mon) || text[7] != '-' || digits(text + 8, 2, &day) ||
        (text[10] != 'T' && text[10] != 't') || digits(text + 11, 2, &hour) || text[13] != ':' ||
        digits(text + 14, 2, &min) || text[16] != ':' || digits(text + 17, 2, &sec))
        return -1;
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return -1;
    const char *p = text + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int offset = 0;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        offset = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
    } else {
        return -1;
    }
    struct tm tm = {0};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = t - offset;
    return 0;
}

void sim_time_format(time_t t, char *out, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void sim_date_format(time_t t, char *out, size_t len)
{
    time_t local = t + SIM_JST_OFFSET;
    struct tm tm;
    gmtime_r(&local, &tm);
    strftime(out, len, "%Y-%m-%d", &tm);
}

time_t sim_jst_day_start(time_t t)
{
    time_t local = t + SIM_JST_OFFSET;
    time_t day = local - ((local % 86400) + 86400) % 86400;
    return day - SIM_JST_OFFSET;
}

int sim_jst_weekday(time_t t)
{
    time_t local = t + SIM_JST_OFFSET;
    struct tm tm;
    gmtime_r(&local, &tm);
    return tm.tm_wday;
}
