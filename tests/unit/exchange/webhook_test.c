/*
 * webhook_test.c — the pure parts of partners' webhooks: which URLs a webhook may have (https;
 * http only to this machine; no credentials, no fragment; bounded) and where they point; and a
 * delivery's detached JWS, which verifies over the exact body once base64url(body) is put
 * between its dots, names its key, delivery and time, and fails for a body with one byte
 * changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "exchange/webhook_sign.h"
#include "exchange/webhook_url.h"

#include <cjose/base64.h>
#include <cjose/jwk.h>
#include <cjose/jws.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void accepted_urls(void **state)
{
    (void)state;
    rk_exchange_webhook_url_t url;
    const char *why = NULL;
    assert_int_equal(
        rk_exchange_webhook_url_parse("https://hooks.example.jp/renkei?k=1", &url, &why), RK_OK);
    assert_true(url.https);
    assert_string_equal(url.host, "hooks.example.jp");
    assert_false(url.host_is_ip);
    assert_int_equal(url.port, 443);
    assert_string_equal(url.host_header, "hooks.example.jp");
    assert_string_equal(url.target, "/renkei?k=1");

    assert_int_equal(rk_exchange_webhook_url_parse("http://127.0.0.1:8090", &url, &why), RK_OK);
    assert_false(url.https);
    assert_true(url.host_is_ip);
    assert_int_equal(url.port, 8090);
    assert_string_equal(url.host_header, "127.0.0.1:8090");
    assert_string_equal(url.target, "/");

    assert_int_equal(rk_exchange_webhook_url_parse("http://localhost/h", &url, &why), RK_OK);
    assert_int_equal(url.port, 80);
    assert_int_equal(rk_exchange_webhook_url_parse("http://[::1]:9000/h", &url, &why), RK_OK);
    assert_string_equal(url.host, "::1");
    assert_int_equal(rk_exchange_webhook_url_parse("https://[2001:db8::1]:8443/h", &url, &why),
                     RK_OK);
    assert_true(url.host_is_ip);
    assert_string_equal(url.host, "2001:db8::1");
    assert_string_equal(url.host_header, "[2001:db8::1]:8443");
}

static void refuse(const char *text, const char *rule)
{
    rk_exchange_webhook_url_t url;
    const char *why = NULL;
    assert_int_equal(rk_exchange_webhook_url_parse(text, &url, &why), RK_EINVAL);
    assert_non_null(why);
    assert_int_equal(strncmp(why, "webhook_url: ", 13), 0);
    if (!strstr(why, rule))
        fail_msg("%s: '%s' does not say '%s'", text, why, rule);
}

static void refused_urls(void **state)
{
    (void)state;
    refuse("", "required");
    refuse("http://hooks.example.jp/h", "must be https");
    refuse("http://10.0.0.5/h", "must be https");
    refuse("http://[::2]/h", "must be https");
    refuse("ftp://127.0.0.1/h", "must be https");
    refuse("https://user:pw@hooks.example.jp/h", "user name or password");
    refuse("https://hooks.example.jp/h#part", "fragment");
    refuse("/relative/path", "absolute");
    refuse("https://hooks.example.jp:0/h", "port 0");
    refuse("not a url", "");
    char long_url[RK_EXCHANGE_WEBHOOK_URL_MAX + 16];
    int n = snprintf(long_url, sizeof(long_url), "https://hooks.example.jp/");
    memset(long_url + n, 'a', sizeof(long_url) - (size_t)n - 1);
    long_url[sizeof(long_url) - 1] = '\0';
    refuse(long_url, "2048");
}

/* The detached signature with base64url(body) put back between its dots, verified by key. */
static int verifies(const cjose_jwk_t *key, const char *detached, const char *body, json_t **header)
{
    char *payload = NULL;
    size_t payload_len = 0;
    assert_true(
        cjose_base64url_encode((const uint8_t *)body, strlen(body), &payload, &payload_len, NULL));
    const char *dots = strstr(detached, "..");
    assert_non_null(dots);
    size_t head = (size_t)(dots - detached);
    size_t len = strlen(detached) + payload_len + 1;
    char *compact = malloc(len);
    snprintf(compact, len, "%.*s.%s%s", (int)head, detached, payload, dots + 1);
    free(payload);
    cjose_jws_t *jws = cjose_jws_import(compact, strlen(compact), NULL);
    free(compact);
    assert_non_null(jws);
    int ok = cjose_jws_verify(jws, key, NULL);
    if (header)
        *header = json_deep_copy((json_t *)cjose_jws_get_protected(jws));
    cjose_jws_release(jws);
    return ok;
}

static void detached_signature(void **state)
{
    (void)state;
    cjose_jwk_t *key = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, NULL);
    const char *body = "{\"items\":[{\"id\":\"12\",\"modified\":\"41\"}],\"nextCursor\":\"41\"}";
    const char *why = NULL;
    char *detached =
        rk_exchange_webhook_sign(key, "kid-1", "wd_0123", 1764000000LL, body, strlen(body), &why);
    assert_non_null(detached);
    assert_non_null(strstr(detached, ".."));
    assert_int_equal(strchr(strstr(detached, "..") + 2, '.') == NULL, 1);
    json_t *header = NULL;
    assert_true(verifies(key, detached, body, &header));
    assert_string_equal(json_string_value(json_object_get(header, "alg")), "ES256");
    assert_string_equal(json_string_value(json_object_get(header, "kid")), "kid-1");
    assert_string_equal(json_string_value(json_object_get(header, "typ")), RK_EXCHANGE_WEBHOOK_TYP);
    assert_string_equal(json_string_value(json_object_get(header, "renkei_delivery_id")),
                        "wd_0123");
    assert_true(json_is_integer(json_object_get(header, "iat")));
    assert_int_equal(json_integer_value(json_object_get(header, "iat")), 1764000000LL);
    json_decref(header);

    char *changed = strdup(body);
    changed[strlen(changed) / 2] ^= 1;
    assert_false(verifies(key, detached, changed, NULL));
    free(changed);
    free(detached);
    cjose_jwk_release(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepted_urls),
        cmocka_unit_test(refused_urls),
        cmocka_unit_test(detached_signature),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
