/*
 * portal_test.c — unit tests for hub/portal: reading Accept-Encoding (q-values, wildcards,
 * malformed and oversized values), and the embedded files (every one present, with a content
 * type and a gzip copy, index.html naming this build). That each gzip copy inflates to its file
 * is checked by tests/e2e/portal_test.sh with curl.
 */
#include "portal/portal.h"
#include "portal/portal_assets.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void gzip_is_read_from_accept_encoding(void **state)
{
    (void)state;
    assert_true(rk_portal_accepts_gzip("gzip"));
    assert_true(rk_portal_accepts_gzip("gzip, deflate, br"));
    assert_true(rk_portal_accepts_gzip("br;q=1.0, GZIP;q=0.5"));
    assert_true(rk_portal_accepts_gzip(" deflate , x-gzip"));
    assert_true(rk_portal_accepts_gzip("*"));
    assert_true(rk_portal_accepts_gzip("br, *;q=0.1"));
    assert_false(rk_portal_accepts_gzip(NULL));
    assert_false(rk_portal_accepts_gzip(""));
    assert_false(rk_portal_accepts_gzip("identity"));
    assert_false(rk_portal_accepts_gzip("gzip;q=0"));
    assert_false(rk_portal_accepts_gzip("gzip;q=0.000"));
    assert_false(rk_portal_accepts_gzip("gzip;q=0, *"));   /* named beats the wildcard */
    assert_false(rk_portal_accepts_gzip("*;q=0"));
    assert_false(rk_portal_accepts_gzip("gzipped"));       /* a token, not a prefix */
    assert_false(rk_portal_accepts_gzip("gzip;q=zero"));   /* a malformed q refuses */
    assert_false(rk_portal_accepts_gzip("gzip;q=0.00000000001")); /* too long to be a q */
    assert_true(rk_portal_accepts_gzip("gzip;level=1"));  /* other parameters: q is 1 */
}

static void every_file_is_embedded_with_its_gzip_copy(void **state)
{
    (void)state;
    const char *expected[] = {"index.html", "app.js", "auth.js", "api.js", "styles.css"};
    for (size_t e = 0; e < sizeof(expected) / sizeof(expected[0]); e++) {
        int found = 0;
        for (size_t i = 0; i < rk_portal_assets_count; i++)
            found |= strcmp(rk_portal_assets[i].name, expected[e]) == 0;
        assert_true(found);
    }
    for (size_t i = 0; i < rk_portal_assets_count; i++) {
        const rk_portal_asset_t *a = &rk_portal_assets[i];
        assert_non_null(a->content_type);
        assert_true(a->len > 0);
        assert_true(a->gzip_len > 18); /* header and trailer */
        assert_int_equal(a->gzip[0], 0x1f);
        assert_int_equal(a->gzip[1], 0x8b);
    }
    assert_int_equal(strlen(rk_portal_build), 16);
}

static void index_names_this_build(void **state)
{
    (void)state;
    for (size_t i = 0; i < rk_portal_assets_count; i++) {
        if (strcmp(rk_portal_assets[i].name, "index.html") != 0)
            continue;
        char *html = strndup((const char *)rk_portal_assets[i].data, rk_portal_assets[i].len);
        char want[64];
        snprintf(want, sizeof(want), "/portal/%s/app.js", rk_portal_build);
        assert_non_null(strstr(html, want));
        assert_null(strstr(html, "@BUILD@"));
        free(html);
        return;
    }
    fail_msg("no index.html");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gzip_is_read_from_accept_encoding),
        cmocka_unit_test(every_file_is_embedded_with_its_gzip_copy),
        cmocka_unit_test(index_names_this_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
