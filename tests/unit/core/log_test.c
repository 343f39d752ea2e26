/*
 * log_test.c — JSON log lines: one object a line, the fixed fields, and no secret ever
 * written whatever a caller passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/log.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int pipe_fds[2];

static int setup(void **state)
{
    (void)state;
    if (pipe(pipe_fds) != 0)
        return -1;
    rk_log_setup(RK_LOG_INFO, pipe_fds[1]);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rk_log_setup(RK_LOG_INFO, 2);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return 0;
}

/* Reads what the logger wrote since the last call; exactly one line is expected. */
static json_t *read_line(char *raw, size_t raw_len)
{
    ssize_t n = read(pipe_fds[0], raw, raw_len - 1);
    assert_true(n > 0);
    raw[n] = '\0';
    char *newline = strchr(raw, '\n');
    assert_non_null(newline);
    assert_true(newline[1] == '\0');
    json_error_t jerr;
    json_t *line = json_loads(raw, 0, &jerr);
    assert_non_null(line);
    return line;
}

static void line_has_fixed_fields(void **state)
{
    (void)state;
    char raw[4096];
    rk_log_info("request", "{s:s, s:i}", "request_id", "abc123", "status", 200);
    json_t *line = read_line(raw, sizeof(raw));
    assert_string_equal(json_string_value(json_object_get(line, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(line, "msg")), "request");
    assert_string_equal(json_string_value(json_object_get(line, "request_id")), "abc123");
    assert_int_equal(json_integer_value(json_object_get(line, "status")), 200);
    const char *ts = json_string_value(json_object_get(line, "ts"));
    assert_non_null(ts);
    assert_int_equal(strlen(ts), 24); /* 2026-11-25T07:19:56.123Z */
    assert_int_equal(ts[23], 'Z');
    json_decref(line);
}

static void secrets_are_redacted(void **state)
{
    (void)state;
    char raw[4096];
    rk_log_warn("login", "{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "password", "hunter2-pw",
                "access_token", "eyJhbGciOiJFUzI1NiJ9.tok", "Authorization", "Bearer sekrit-bearer",
                "client_secret", "cs-123456", "refresh_token", "rt-abcdef", "cookie",
                "sid=cookie-value", "account", "taro");
    json_t *line = read_line(raw, sizeof(raw));
    const char *leaks[] = {"hunter2-pw", "eyJhbGciOiJFUzI1NiJ9", "sekrit-bearer", "cs-123456",
                           "rt-abcdef",  "cookie-value"};
    for (size_t i = 0; i < sizeof(leaks) / sizeof(leaks[0]); i++) {
        if (strstr(raw, leaks[i]))
            fail_msg("secret %s written: %s", leaks[i], raw);
    }
    assert_string_equal(json_string_value(json_object_get(line, "password")), "[redacted]");
    assert_string_equal(json_string_value(json_object_get(line, "Authorization")), "[redacted]");
    assert_string_equal(json_string_value(json_object_get(line, "account")), "taro");
    json_decref(line);
}

static void fields_cannot_forge_fixed_ones(void **state)
{
    (void)state;
    char raw[4096];
    rk_log_info("real message", "{s:s, s:s}", "msg", "forged", "level", "error");
    json_t *line = read_line(raw, sizeof(raw));
    assert_string_equal(json_string_value(json_object_get(line, "msg")), "real message");
    assert_string_equal(json_string_value(json_object_get(line, "level")), "info");
    json_decref(line);
}

static void control_characters_stay_inside_the_line(void **state)
{
    (void)state;
    char raw[4096];
    rk_log_info("path", "{s:s}", "path", "/x\n{\"level\":\"error\"}\r\n");
    json_t *line = read_line(raw, sizeof(raw));
    assert_string_equal(json_string_value(json_object_get(line, "path")),
                        "/x\n{\"level\":\"error\"}\r\n");
    json_decref(line);
}

static void levels_below_the_minimum_are_dropped(void **state)
{
    (void)state;
    char raw[4096];
    rk_log_debug("hidden", NULL);
    rk_log_error("shown", NULL);
    json_t *line = read_line(raw, sizeof(raw));
    assert_string_equal(json_string_value(json_object_get(line, "msg")), "shown");
    json_decref(line);
    rk_log_level_t level;
    assert_int_equal(rk_log_level_parse("warn", &level), RK_OK);
    assert_int_equal(level, RK_LOG_WARN);
    assert_int_equal(rk_log_level_parse("verbose", &level), RK_EINVAL);
}

static void secret_key_detection(void **state)
{
    (void)state;
    assert_true(rk_log_key_is_secret("id_token"));
    assert_true(rk_log_key_is_secret("X-Api-Key"));
    assert_true(rk_log_key_is_secret("PASSWORD"));
    assert_true(rk_log_key_is_secret("private_key_pem"));
    assert_false(rk_log_key_is_secret("token_id"));
    assert_false(rk_log_key_is_secret("request_id"));
    assert_false(rk_log_key_is_secret("status"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_has_fixed_fields),
        cmocka_unit_test(secrets_are_redacted),
        cmocka_unit_test(fields_cannot_forge_fixed_ones),
        cmocka_unit_test(control_characters_stay_inside_the_line),
        cmocka_unit_test(levels_below_the_minimum_are_dropped),
        cmocka_unit_test(secret_key_detection),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
