/*
 * log.h — structured logs: one JSON object a line on stderr.
 *
 * Every line has "ts" (RFC 3339 UTC, milliseconds), "level" and "msg"; callers add fields with
 * a jansson json_pack() format. A field whose key names a secret (password, token, secret,
 * authorization, cookie, key material…) is written as "[redacted]" whatever its value, so a
 * careless call cannot leak one; callers log token ids, never tokens (a key ending in "_id",
 * such as "token_id", names an identifier and is written as given).
 */
#ifndef RK_CORE_LOG_H
#define RK_CORE_LOG_H

typedef enum { RK_LOG_DEBUG = 0, RK_LOG_INFO, RK_LOG_WARN, RK_LOG_ERROR } rk_log_level_t;

/** Sets the lowest level written and the descriptor written to (2 by default). */
void rk_log_setup(rk_log_level_t level, int fd);
/** "debug", "info", "warn" or "error" into *out; RK_EINVAL for anything else. */
int rk_log_level_parse(const char *name, rk_log_level_t *out);
/** 1 if a line at this level would be written. */
int rk_log_enabled(rk_log_level_t level);
/** 1 if a field with this key is redacted. */
int rk_log_key_is_secret(const char *key);
/**
 * Writes one line. fields_fmt is a json_pack() object format such as "{s:s, s:i}" followed by
 * its arguments, or NULL for no fields. A format error is logged as such, never dropped.
 */
void rk_log(rk_log_level_t level, const char *msg, const char *fields_fmt, ...);

#define rk_log_debug(...) rk_log(RK_LOG_DEBUG, __VA_ARGS__)
#define rk_log_info(...) rk_log(RK_LOG_INFO, __VA_ARGS__)
#define rk_log_warn(...) rk_log(RK_LOG_WARN, __VA_ARGS__)
#define rk_log_error(...) rk_log(RK_LOG_ERROR, __VA_ARGS__)

#endif
