/*
 * log.c — the JSON line writer behind log.h.
 *
 * Lines are built with jansson and written with one write(2) so that lines from several
 * processes sharing stderr do not interleave. Redaction happens here, on the key, after the
 * caller's fields are packed.
 */
#include "core/log.h"

#include "core/error.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static rk_log_level_t min_level = RK_LOG_INFO;
static int log_fd = 2;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* Substrings that mark a key as secret, matched case-insensitively. */
static const char *const secret_markers[] = {
    "password",   "passwd",    "token",         "secret",  "authorization", "cookie",     "private",
    "credential", "assertion", "code_verifier", "api_key", "apikey",        "master_key",
};

void rk_log_setup(rk_log_level_t level, int fd)
{
    min_level = level;
    log_fd = fd;
}

int rk_log_level_parse(const char *name, rk_log_level_t *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (rk_log_level_t)i;
            return RK_OK;
        }
    }
    return RK_EINVAL;
}

int rk_log_enabled(rk_log_level_t level)
{
    return level >= min_level;
}

int rk_log_key_is_secret(const char *key)
{
    /* Compare in one spelling: lower case, '-' as '_' ("X-Api-Key" is "x_api_key"). */
    char norm[128];
    size_t key_len = 0;
    for (; key[key_len] && key_len < sizeof(norm) - 1; key_len++)
        norm[key_len] = key[key_len] == '-' ? '_' : (char)tolower((unsigned char)key[key_len]);
    norm[key_len] = '\0';
    /* "token_id", "key_id": identifiers of secrets are what logs are meant to carry. */
    if (key_len > 3 && strcmp(norm + key_len - 3, "_id") == 0)
        return 0;
    for (size_t i = 0; i < sizeof(secret_markers) / sizeof(secret_markers[0]); i++) {
        if (strstr(norm, secret_markers[i]))
            return 1;
    }
    return 0;
}

static void format_timestamp(char *out, size_t len)
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, len - n, ".%03dZ", (int)(now.tv_nsec / 1000000L) % 1000);
}

static void write_line(json_t *line)
{
    char stack[2048];
    size_t need = json_dumpb(line, stack, sizeof(stack) - 1, JSON_COMPACT);
    char *buf = stack;
    if (need == 0)
        return;
    if (need > sizeof(stack) - 1) {
        buf = malloc(need + 1);
        if (!buf)
            return;
        json_dumpb(line, buf, need, JSON_COMPACT);
    }
    buf[need] = '\n';
    ssize_t off = 0;
    while (off < (ssize_t)need + 1) {
        ssize_t n = write(log_fd, buf + off, need + 1 - (size_t)off);
        if (n <= 0)
            break;
        off += n;
    }
    if (buf != stack)
        free(buf);
}

void rk_log(rk_log_level_t level, const char *msg, const char *fields_fmt, ...)
{
    if (level < min_level)
        return;
    char ts[32];
    format_timestamp(ts, sizeof(ts));
    json_t *line = json_object();
    json_object_set_new(line, "ts", json_string(ts));
    json_object_set_new(line, "level", json_string(level_names[level]));
    json_object_set_new(line, "msg", json_string(msg ? msg : ""));
    if (fields_fmt) {
        json_error_t jerr;
        va_list ap;
        va_start(ap, fields_fmt);
        json_t *fields = json_vpack_ex(&jerr, 0, fields_fmt, ap);
        va_end(ap);
        if (!fields || !json_is_object(fields)) {
            json_object_set_new(line, "log_format_error", json_string(jerr.text));
        } else {
            const char *key;
            json_t *value;
            json_object_foreach(fields, key, value)
            {
                if (rk_log_key_is_secret(key))
                    json_object_set_new(line, key, json_string("[redacted]"));
                else if (strcmp(key, "ts") && strcmp(key, "level") && strcmp(key, "msg"))
                    json_object_set(line, key, value);
            }
        }
        json_decref(fields);
    }
    write_line(line);
    json_decref(line);
}
