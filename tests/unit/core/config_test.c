/*
 * config_test.c — configuration: defaults, file, environment overrides, and that every bad
 * value is refused with a message naming the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct env_pair {
    const char *name, *value;
} env_pair_t;

static const char *table_env(const char *name, void *ctx)
{
    for (const env_pair_t *p = ctx; p->name; p++) {
        if (strcmp(p->name, name) == 0)
            return p->value;
    }
    return NULL;
}

static char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/rk_config_test_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void defaults_are_valid(void **state)
{
    (void)state;
    rk_config_t cfg;
    char err[256] = "";
    rk_config_init(&cfg);
    assert_int_equal(rk_config_validate(&cfg, err, sizeof(err)), RK_OK);
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.listen_port, 8080);
    assert_int_equal(cfg.header_bytes, 16384);
    assert_int_equal(cfg.body_bytes, 1048576);
    assert_string_equal(cfg.log_level, "info");
    rk_config_free(&cfg);
}

static void file_then_environment(void **state)
{
    (void)state;
    rk_config_t cfg;
    char err[256] = "";
    rk_config_init(&cfg);
    char *path = write_temp("{\"listen\": {\"port\": 9000, \"host\": \"0.0.0.0\"},"
                            " \"store\": {\"pool_size\": 3}, \"log\": {\"level\": \"warn\"}}");
    assert_int_equal(rk_config_load_file(&cfg, path, err, sizeof(err)), RK_OK);
    unlink(path);
    assert_int_equal(cfg.listen_port, 9000);
    assert_string_equal(cfg.listen_host, "0.0.0.0");
    assert_int_equal(cfg.store_pool_size, 3);
    env_pair_t env[] = {{"RENKEI_PORT", "9100"}, {"RENKEI_PG", "host=/tmp dbname=x"}, {NULL, NULL}};
    assert_int_equal(rk_config_apply_env(&cfg, table_env, env, err, sizeof(err)), RK_OK);
    assert_int_equal(cfg.listen_port, 9100);
    assert_string_equal(cfg.store_conninfo, "host=/tmp dbname=x");
    rk_config_free(&cfg);
}

static void expect_file_error(const char *json, const char *message)
{
    rk_config_t cfg;
    char err[256] = "";
    rk_config_init(&cfg);
    char *path = write_temp(json);
    int rc = rk_config_load_file(&cfg, path, err, sizeof(err));
    unlink(path);
    assert_int_equal(rc, RK_EINVAL);
    if (!strstr(err, message))
        fail_msg("expected \"%s\" in \"%s\"", message, err);
    rk_config_free(&cfg);
}

static void bad_file_values_name_the_key(void **state)
{
    (void)state;
    expect_file_error("{\"listen\": {\"port\": 0}}",
                      "config: listen.port: must be an integer between 1 and 65535");
    expect_file_error("{\"listen\": {\"port\": \"80\"}}",
                      "config: listen.port: must be an integer");
    expect_file_error("{\"listen\": {\"prot\": 80}}", "config: listen.prot: unknown key");
    expect_file_error("{\"colour\": 1}", "config: colour: unknown key");
    expect_file_error("{\"log\": {\"level\": \"loud\"}}",
                      "config: log.level: must be one of debug, info, warn, error");
    expect_file_error("{\"public_url\": \"ftp://x\"}",
                      "config: public_url: must start with http:// or https://");
    expect_file_error("{\"admin\": {\"token\": \"short\"}}",
                      "config: admin.token: must be at least 32 characters");
    expect_file_error("{\"limits\": {\"body_bytes\": 99999999999}}",
                      "config: limits.body_bytes: must be an integer between 0 and 67108864");
    expect_file_error("[1, 2]", "must hold one JSON object");
    expect_file_error("{\"listen\": ", "line 1");
}

static void bad_environment_names_the_variable(void **state)
{
    (void)state;
    rk_config_t cfg;
    char err[256] = "";
    rk_config_init(&cfg);
    env_pair_t env[] = {{"RENKEI_PORT", "80x"}, {NULL, NULL}};
    assert_int_equal(rk_config_apply_env(&cfg, table_env, env, err, sizeof(err)), RK_EINVAL);
    assert_string_equal(err, "config: listen.port: must be an integer between 1 and 65535 (from "
                             "RENKEI_PORT)");
    assert_int_equal(cfg.listen_port, 8080);
    rk_config_free(&cfg);
}

static void tls_needs_both_files(void **state)
{
    (void)state;
    rk_config_t cfg;
    char err[256] = "";
    rk_config_init(&cfg);
    env_pair_t env[] = {{"RENKEI_TLS_CERT", "/etc/cert.pem"}, {NULL, NULL}};
    assert_int_equal(rk_config_apply_env(&cfg, table_env, env, err, sizeof(err)), RK_OK);
    assert_int_equal(rk_config_validate(&cfg, err, sizeof(err)), RK_EINVAL);
    assert_string_equal(err, "config: tls.key_file: must be set together with tls.cert_file");
    rk_config_free(&cfg);
}

static void example_config_is_valid(void **state)
{
    (void)state;
    rk_config_t cfg;
    char err[256] = "";
    rk_config_init(&cfg);
    assert_int_equal(rk_config_load_file(&cfg, RENKEI_SOURCE_DIR "/deploy/renkei.example.json", err,
                                         sizeof(err)),
                     RK_OK);
    assert_int_equal(rk_config_validate(&cfg, err, sizeof(err)), RK_OK);
    rk_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_valid),
        cmocka_unit_test(file_then_environment),
        cmocka_unit_test(bad_file_values_name_the_key),
        cmocka_unit_test(bad_environment_names_the_variable),
        cmocka_unit_test(tls_needs_both_files),
        cmocka_unit_test(example_config_is_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
