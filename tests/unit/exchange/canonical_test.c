/*
 * canonical_test.c — the canonical JSON that the exchange log hashes: the exact text PostgreSQL's
 * rk_canonical_json() writes (keys in byte order, no whitespace, lower-case \u00xx escapes,
 * UTF-8 kept), what is refused (reals, integers beyond 2^53 - 1), and that a text is accepted as
 * canonical only when it is byte for byte the serialisation of its parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exchange/canonical.h"

#include <stdlib.h>
#include <string.h>

static char *canonical_of(const char *json)
{
    json_t *value = json_loads(json, JSON_DECODE_ANY, NULL);
    assert_non_null(value);
    const char *why = NULL;
    char *text = rk_exchange_canonical_json(value, &why);
    json_decref(value);
    return text;
}

static void same_text_as_postgresql(void **state)
{
    (void)state;
    /* What rk_canonical_json() answered for the same input on PostgreSQL 15. */
    char *text =
        canonical_of("{\"b\":\"x\\u001f/\\u00e9\\ud83d\\ude00\\\"\\\\\\n\", \"a\": [1, -2, "
                     "true, null, {\"z\": 1, \"Z\": 2}], \"aa\": 9007199254740991, "
                     "\"e\": {}, \"f\": []}");
    assert_string_equal(text, "{\"a\":[1,-2,true,null,{\"Z\":2,\"z\":1}],\"aa\":9007199254740991,"
                              "\"b\":\"x\\u001f/\xc3\xa9\xf0\x9f\x98\x80\\\"\\\\\\n\",\"e\":{},"
                              "\"f\":[]}");
    free(text);
}

static void escapes(void **state)
{
    (void)state;
    char *text = canonical_of("\"\\b\\f\\n\\r\\t\\u0001\\u007f\\u2028\"");
    assert_string_equal(text, "\"\\b\\f\\n\\r\\t\\u0001\x7f\xe2\x80\xa8\"");
    free(text);
}

static void every_escape_as_postgresql_writes_it(void **state)
{
    (void)state;
    /* PostgreSQL 15: to_json(string_agg(chr(i), '')) for i in 1..31, and a string of what JCS
     * leaves alone ('/', DEL, U+2028, U+2029, U+FEFF, non-ASCII) around " and \; the log's
     * entries write their strings that way (migration 0024). */
    char *text = canonical_of("\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\u0008\\u0009"
                              "\\u000a\\u000b\\u000c\\u000d\\u000e\\u000f\\u0010\\u0011\\u0012"
                              "\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b"
                              "\\u001c\\u001d\\u001e\\u001f\"");
    assert_string_equal(text, "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n"
                              "\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014"
                              "\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d"
                              "\\u001e\\u001f\"");
    free(text);
    text =
        canonical_of("\"a\\\"b\\\\c\\/\\u007f\\u2028\\u2029\\ufeff\\u00e9\\u65e5\\ud83d\\ude00\"");
    assert_string_equal(text,
                        "\"a\\\"b\\\\c/\x7f\xe2\x80\xa8\xe2\x80\xa9\xef\xbb\xbf\xc3\xa9\xe6\x97\xa5"
                        "\xf0\x9f\x98\x80\"");
    free(text);
}

static void refusals(void **state)
{
    (void)state;
    const char *bad[] = {"{\"fee\": 1.5}", "[9007199254740992]", "-9007199254740992", "1e3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *value = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        assert_non_null(value);
        const char *why = NULL;
        assert_null(rk_exchange_canonical_json(value, &why));
        assert_non_null(why);
        json_decref(value);
    }
}

static void parse_accepts_only_canonical_text(void **state)
{
    (void)state;
    const char *why = NULL;
    const char *good = "{\"a\":1,\"b\":[true,\"x\"]}";
    json_t *value = rk_exchange_canonical_parse(good, strlen(good), &why);
    assert_non_null(value);
    json_decref(value);
    const char *bad[] = {
        "{\"b\":1,\"a\":1}",   /* keys out of order */
        "{\"a\": 1}",          /* whitespace */
        "{\"a\":1,\"a\":1}",   /* a key twice */
        "{\"a\":\"\\u001F\"}", /* upper-case escape (jansson's own dump) */
        "{\"a\":\"\\/\"}",     /* an escape JSON does not need */
        "{\"a\":1.0}",         /* not an integer */
        "{\"a\":1}x",          /* trailing bytes */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        assert_null(rk_exchange_canonical_parse(bad[i], strlen(bad[i]), &why));
        assert_non_null(why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_text_as_postgresql),
        cmocka_unit_test(escapes),
        cmocka_unit_test(every_escape_as_postgresql_writes_it),
        cmocka_unit_test(refusals),
        cmocka_unit_test(parse_accepts_only_canonical_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
