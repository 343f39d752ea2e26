/*
 * tenant_file_test.c — unit tests for hub/tenancy/tenant_file.c, the tenants/<slug>.json format.
 *
 * One test per rule: each breaks one field of a valid tenant and expects the exact
 * "FILE: JSON-PATH: REASON" line. The directory tests load the real tenants/ folder (found
 * through RENKEI_SOURCE_DIR) and fixtures written into a mkdtemp() folder that each test
 * removes again.
 */
#define _POSIX_C_SOURCE 200809L

#include "tenancy/tenant_file.h"

#include "core/error.h"

#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>

#ifndef RENKEI_SOURCE_DIR
#error "compile with -DRENKEI_SOURCE_DIR='\"/path/to/repo\"'"
#endif

#define FILE_NAME "tenants/kodaira.json"

/* A valid tenant that every parse test starts from and breaks in one place. */
static const char base_text[] =
    "{\"code\": \"132110\", \"slug\": \"kodaira\","
    " \"name\": {\"ja\": \"小平市\", \"en\": \"Kodaira City\", \"kana\": \"こだいらし\"},"
    " \"prefecture\": \"東京都\","
    " \"contact\": {\"department\": \"中央図書館\", \"email\": \"toshokan@city.kodaira.example\","
    "              \"phone\": \"042-000-0000\"},"
    " \"public_url\": \"https://www.city.kodaira.tokyo.jp/\","
    " \"agreements\": [{\"id\": \"tama-rokuto-library\","
    "   \"from\": [\"higashimurayama\", \"nishitokyo\"],"
    "   \"services\": [\"library.catalogue\", \"library.loan\"],"
    "   \"valid_from\": \"2024-04-01\", \"valid_until\": \"2027-03-31\","
    "   \"terms\": {\"partner_area\": {\"loan_limit\": 10,"
    "                                 \"pickup_branches\": [\"chuo\", \"hanakoganei\"]},"
    "             \"resident\": {\"fee\": \"resident_rate\", \"booking_window_days\": 60,"
    "                            \"lottery\": true}}}]}";

static json_t *base(void)
{
    json_error_t jerr;
    json_t *root = json_loads(base_text, JSON_REJECT_DUPLICATES, &jerr);

    if (!root)
        fail_msg("base tenant: %s", jerr.text);
    return root;
}

static json_t *agreement0(json_t *root)
{
    return json_array_get(json_object_get(root, "agreements"), 0);
}

static json_t *terms_of(json_t *root, const char *cls)
{
    return json_object_get(json_object_get(agreement0(root), "terms"), cls);
}

static void set_string(json_t *obj, const char *key, const char *value)
{
    assert_int_equal(json_object_set_new(obj, key, json_string(value)), 0);
}

static void set_value(json_t *obj, const char *key, const char *json_text)
{
    json_t *v = json_loads(json_text, JSON_DECODE_ANY, NULL);

    assert_non_null(v);
    assert_int_equal(json_object_set_new(obj, key, v), 0);
}

/* Parses root as FILE_NAME, expects "FILE_NAME: expected" and an untouched *out; frees root. */
static void assert_rejected(json_t *root, const char *expected)
{
    char err[1024], want[1024];
    rk_tenant_t t;

    memset(&t, 0xab, sizeof t);
    snprintf(want, sizeof want, "%s: %s", FILE_NAME, expected);
    assert_int_equal(rk_tenant_parse(FILE_NAME, root, &t, err, sizeof err), RK_EINVAL);
    assert_string_equal(err, want);
    assert_null(t.slug);
    assert_null(t.agreements);
    assert_null(t.source);
    json_decref(root);
}

static void assert_accepted(json_t *root)
{
    char err[1024] = "";
    rk_tenant_t t;
    int rc = rk_tenant_parse(FILE_NAME, root, &t, err, sizeof err);

    if (rc != RK_OK)
        fail_msg("rejected: %s", err);
    rk_tenant_free(&t);
    json_decref(root);
}

static void assert_code_invalid(const char *code, const char *why)
{
    char buf[128] = "";

    assert_int_equal(rk_tenant_code_valid(code, buf, sizeof buf), 0);
    assert_string_equal(buf, why);
}

/* ---- rk_tenant_code_valid ---- */

static void test_code_valid_known_codes(void **state)
{
    (void)state;
    /* 東京都, 千代田区, 北海道, 札幌市 */
    const char *codes[] = {"130001", "131016", "010006", "011002"};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        assert_int_equal(rk_tenant_code_valid(codes[i], NULL, 0), 1);
}

static void test_code_valid_demo_codes(void **state)
{
    (void)state;
    const char *codes[] = {"132110", "132136", "132292", "132217",
                           "132225", "132080", "132195", "131199"};
    char why[64] = "";
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        assert_int_equal(rk_tenant_code_valid(codes[i], why, sizeof why), 1);
    assert_string_equal(why, "");
}

static void test_code_valid_wrong_check_digit(void **state)
{
    (void)state;
    assert_code_invalid("132111", "check digit is 1, expected 0");
    assert_code_invalid("131190", "check digit is 0, expected 9");
}

static void test_code_valid_length(void **state)
{
    (void)state;
    assert_code_invalid("13211", "must be 6 digits, not 5");
    assert_code_invalid("1321100", "must be 6 digits, not 7");
    assert_code_invalid("", "must be 6 digits, not 0");
    assert_code_invalid(NULL, "must be 6 digits, not NULL");
}

static void test_code_valid_non_digit(void **state)
{
    (void)state;
    assert_code_invalid("13a110", "character 3 is not an ASCII digit");
    assert_code_invalid("１３２１１０", "character 1 is not an ASCII digit");
    assert_code_invalid("13211 ", "character 6 is not an ASCII digit");
}

static void test_code_valid_prefecture_range(void **state)
{
    (void)state;
    /* Both end in their correct check digit; only the prefecture number is wrong. */
    assert_code_invalid("480002", "prefecture number 48 is not between 01 and 47");
    assert_code_invalid("000001", "prefecture number 00 is not between 01 and 47");
}

static void test_code_valid_small_why_buffer(void **state)
{
    (void)state;
    char why[6];
    assert_int_equal(rk_tenant_code_valid("132111", why, sizeof why), 0);
    assert_string_equal(why, "check");
    assert_int_equal(rk_tenant_code_valid("132111", NULL, 0), 0);
}

/* ---- rk_tenant_parse: a valid tenant ---- */

static void test_parse_valid(void **state)
{
    (void)state;
    json_t *root = base();
    char err[256] = "";
    rk_tenant_t t;

    assert_int_equal(rk_tenant_parse(FILE_NAME, root, &t, err, sizeof err), RK_OK);
    assert_string_equal(err, "");
    assert_string_equal(t.code, "132110");
    assert_string_equal(t.slug, "kodaira");
    assert_string_equal(t.name_ja, "小平市");
    assert_string_equal(t.name_en, "Kodaira City");
    assert_string_equal(t.name_kana, "こだいらし");
    assert_string_equal(t.prefecture, "東京都");
    assert_string_equal(t.contact_department, "中央図書館");
    assert_string_equal(t.contact_email, "toshokan@city.kodaira.example");
    assert_string_equal(t.contact_phone, "042-000-0000");
    assert_string_equal(t.public_url, "https://www.city.kodaira.tokyo.jp/");
    assert_ptr_equal(t.source, root);
    assert_int_equal(root->refcount, 2);

    assert_int_equal(t.n_agreements, 1);
    rk_tenant_agreement_t *a = &t.agreements[0];
    assert_string_equal(a->id, "tama-rokuto-library");
    assert_int_equal(a->n_from, 2);
    assert_string_equal(a->from[0], "higashimurayama");
    assert_string_equal(a->from[1], "nishitokyo");
    assert_int_equal(a->n_services, 2);
    assert_string_equal(a->services[1], "library.loan");
    assert_string_equal(a->valid_from, "2024-04-01");
    assert_string_equal(a->valid_until, "2027-03-31");

    /* Terms come in class order (resident first) whatever the file's order. */
    assert_int_equal(a->n_terms, 2);
    assert_string_equal(a->terms[0].cls, "resident");
    assert_int_equal(a->terms[0].has_fee, 1);
    assert_int_equal(a->terms[0].fee_non_resident, 0);
    assert_int_equal(a->terms[0].booking_window_days, 60);
    assert_int_equal(a->terms[0].lottery, 1);
    assert_int_equal(a->terms[0].loan_limit, -1);
    assert_null(a->terms[0].pickup_branches);
    assert_string_equal(a->terms[1].cls, "partner_area");
    assert_int_equal(a->terms[1].has_fee, 0);
    assert_int_equal(a->terms[1].booking_window_days, -1);
    assert_int_equal(a->terms[1].lottery, -1);
    assert_int_equal(a->terms[1].loan_limit, 10);
    assert_int_equal(a->terms[1].n_pickup_branches, 2);
    assert_string_equal(a->terms[1].pickup_branches[1], "hanakoganei");

    rk_tenant_free(&t);
    assert_null(t.slug);
    assert_int_equal(root->refcount, 1);
    json_decref(root);
}

static void test_parse_optional_keys_absent(void **state)
{
    (void)state;
    json_t *root = base();
    json_t *contact = json_object_get(root, "contact");
    char err[256];
    rk_tenant_t t;

    json_object_del(contact, "email");
    json_object_del(contact, "phone");
    json_object_del(root, "agreements");
    json_object_del(agreement0(root), "valid_until");
    assert_int_equal(rk_tenant_parse(FILE_NAME, root, &t, err, sizeof err), RK_OK);
    assert_null(t.contact_email);
    assert_null(t.contact_phone);
    assert_int_equal(t.n_agreements, 0);
    rk_tenant_free(&t);
    json_decref(root);
}

static void test_parse_open_ended_and_empty_terms_class(void **state)
{
    (void)state;
    json_t *root = base();
    char err[256];
    rk_tenant_t t;

    json_object_del(agreement0(root), "valid_until");
    set_value(json_object_get(agreement0(root), "terms"), "outsider", "{}");
    assert_int_equal(rk_tenant_parse(FILE_NAME, root, &t, err, sizeof err), RK_OK);
    assert_string_equal(t.agreements[0].valid_until, "");
    assert_int_equal(t.agreements[0].n_terms, 3);
    assert_string_equal(t.agreements[0].terms[2].cls, "outsider");
    assert_int_equal(t.agreements[0].terms[2].loan_limit, -1);
    rk_tenant_free(&t);
    json_decref(root);
}

/* ---- top level ---- */

static void test_root_not_object(void **state)
{
    (void)state;
    assert_rejected(json_array(), "$: must be an object");
}

static void test_unknown_top_level_key(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(root, "publc_url", "https://www.city.kodaira.tokyo.jp/");
    assert_rejected(root, "$.publc_url: unknown key (allowed: code, slug, name, prefecture, "
                          "contact, public_url, agreements)");
}

static void test_unknown_key_not_an_identifier(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(root, "public \"url\"", "x");
    assert_rejected(root, "$[\"public \\\"url\\\"\"]: unknown key (allowed: code, slug, name, "
                          "prefecture, contact, public_url, agreements)");
}

/* ---- code ---- */

static void test_code_check_digit(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(root, "code", "132111");
    assert_rejected(root, "$.code: check digit is 1, expected 0");
}

static void test_code_five_digits(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(root, "code", "13211");
    assert_rejected(root, "$.code: must be 6 digits, not 5");
}

static void test_code_non_digit(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(root, "code", "1321l0");
    assert_rejected(root, "$.code: character 5 is not an ASCII digit");
}

static void test_code_is_a_number(void **state)
{
    (void)state;
    json_t *root = base();
    set_value(root, "code", "132110");
    assert_rejected(root,
                    "$.code: must be a string of 6 digits (a number would lose its leading zero)");
}

static void test_code_missing(void **state)
{
    (void)state;
    json_t *root = base();
    json_object_del(root, "code");
    assert_rejected(root, "$.code: required");
}

/* ---- slug ---- */

static void test_slug_mismatch_with_file_name(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(root, "slug", "kodaira-shi");
    assert_rejected(
        root, "$.slug: \"kodaira-shi\" does not match the file name, which expects \"kodaira\"");
}

static void test_slug_bad_characters(void **state)
{
    (void)state;
    const char *bad[] = {"Kodaira", "ko_daira",     "1kodaira",
                         "k",       "kodaira.json", "abcdefghijklmnopqrstuvwxyz012345"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *root = base();
        set_string(root, "slug", bad[i]);
        assert_rejected(root, "$.slug: must match ^[a-z][a-z0-9-]{1,30}$");
    }
}

static void test_slug_not_a_string(void **state)
{
    (void)state;
    json_t *root = base();
    set_value(root, "slug", "null");
    assert_rejected(root, "$.slug: must be a string");
}

/* ---- name ---- */

static void test_name_missing_en(void **state)
{
    (void)state;
    json_t *root = base();
    json_object_del(json_object_get(root, "name"), "en");
    assert_rejected(root, "$.name.en: required");
}

static void test_name_not_object(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(root, "name", "小平市");
    assert_rejected(root, "$.name: must be an object");
}

static void test_name_unknown_key(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(json_object_get(root, "name"), "romaji", "Kodaira-shi");
    assert_rejected(root, "$.name.romaji: unknown key (allowed: ja, en, kana)");
}

static void test_name_length_bound(void **state)
{
    (void)state;
    char text[RK_TENANT_TEXT_MAX + 2];
    json_t *root = base();

    memset(text, 'a', RK_TENANT_TEXT_MAX);
    text[RK_TENANT_TEXT_MAX] = '\0';
    set_string(json_object_get(root, "name"), "en", text);
    assert_accepted(root);

    root = base();
    strcat(text, "a");
    set_string(json_object_get(root, "name"), "en", text);
    assert_rejected(root, "$.name.en: is 201 bytes long, the limit is 200");
}

static void test_name_empty_or_control(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(json_object_get(root, "name"), "ja", "");
    assert_rejected(root, "$.name.ja: must not be empty");

    root = base();
    set_string(json_object_get(root, "name"), "en", "Kodaira\nCity");
    assert_rejected(root, "$.name.en: must not contain control characters");
}

static void test_kana_not_hiragana(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(json_object_get(root, "name"), "kana", "コダイラシ");
    assert_rejected(root, "$.name.kana: must be hiragana (with ー, ・ and spaces): character 1 "
                          "is U+30B3");

    root = base();
    set_string(json_object_get(root, "name"), "kana", "こだいら市");
    assert_rejected(root, "$.name.kana: must be hiragana (with ー, ・ and spaces): character 5 "
                          "is U+5E02");
}

static void test_kana_allows_marks_and_spaces(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(json_object_get(root, "name"), "kana", "こだいら し・ーゝ\u3000ゔ");
    assert_accepted(root);
}

/* ---- prefecture, contact, public_url ---- */

static void test_prefecture_mismatch(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(root, "prefecture", "大阪府");
    assert_rejected(root, "$.prefecture: \"大阪府\" does not match the code, whose prefecture "
                          "number 13 is 東京都");
}

static void test_prefecture_missing(void **state)
{
    (void)state;
    json_t *root = base();
    json_object_del(root, "prefecture");
    assert_rejected(root, "$.prefecture: required");
}

static void test_contact_department_missing(void **state)
{
    (void)state;
    json_t *root = base();
    json_object_del(json_object_get(root, "contact"), "department");
    assert_rejected(root, "$.contact.department: required");

    root = base();
    json_object_del(root, "contact");
    assert_rejected(root, "$.contact: required");
}

static void test_contact_unknown_key(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(json_object_get(root, "contact"), "fax", "042-000-0001");
    assert_rejected(root, "$.contact.fax: unknown key (allowed: department, email, phone)");
}

static void test_contact_email(void **state)
{
    (void)state;
    const char *bad[] = {"toshokan",         "toshokan@",      "@city.example.jp",
                         "a@b@city.example", "to shokan@x.jp", "toshokan@localhost",
                         "a..b@city.ex.jp",  "toshokan@-x.jp", ".a@city.example.jp",
                         "a@city..example"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *root = base();
        set_string(json_object_get(root, "contact"), "email", bad[i]);
        assert_rejected(root, "$.contact.email: must be an e-mail address such as "
                              "toshokan@city.example.lg.jp");
    }
    json_t *root = base();
    set_string(json_object_get(root, "contact"), "email", "chuo.toshokan+renkei@city.ex-ample.jp");
    assert_accepted(root);
}

static void test_contact_phone(void **state)
{
    (void)state;
    const char *bad[] = {"042 000 0000", "+81-42-000-0000", "-042", "042-", "042--000", "内線"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *root = base();
        set_string(json_object_get(root, "contact"), "phone", bad[i]);
        assert_rejected(root,
                        "$.contact.phone: must be digits and single hyphens, such as 03-0000-0000");
    }
    json_t *root = base();
    set_string(json_object_get(root, "contact"), "phone", "012345678901234567890");
    assert_rejected(root, "$.contact.phone: is 21 bytes long, the limit is 20");
}

static void test_public_url_scheme(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(root, "public_url", "http://www.city.kodaira.tokyo.jp/");
    assert_rejected(root, "$.public_url: must start with https://");
}

static void test_public_url_shape(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(root, "public_url", "https://user@www.city.kodaira.tokyo.jp/");
    assert_rejected(root,
                    "$.public_url: must name a host such as www.city.example.lg.jp after https://");

    root = base();
    set_string(root, "public_url", "https:///");
    assert_rejected(root,
                    "$.public_url: must name a host such as www.city.example.lg.jp after https://");

    root = base();
    set_string(root, "public_url", "https://www.city.kodaira.tokyo.jp:99999/");
    assert_rejected(root, "$.public_url: has a port that is not a number between 1 and 65535");

    root = base();
    set_string(root, "public_url", "https://www.city.kodaira.tokyo.jp/?lang=ja");
    assert_rejected(root, "$.public_url: must be a base URL: printable ASCII without spaces, "
                          "query or fragment");

    root = base();
    set_string(root, "public_url", "https://www.city.kodaira.tokyo.jp:8443/renkei/");
    assert_accepted(root);
}

/* ---- agreements ---- */

static void test_agreements_wrong_types(void **state)
{
    (void)state;
    json_t *root = base();
    set_value(root, "agreements", "{}");
    assert_rejected(root, "$.agreements: must be an array");

    root = base();
    set_value(root, "agreements", "[\"tama-rokuto-library\"]");
    assert_rejected(root, "$.agreements[0]: must be an object");
}

static void test_agreement_unknown_key(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(agreement0(root), "valid_to", "2027-03-31");
    assert_rejected(root, "$.agreements[0].valid_to: unknown key (allowed: id, from, services, "
                          "valid_from, valid_until, terms)");
}

static void test_agreement_bad_id(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(agreement0(root), "id", "Tama_Rokuto");
    assert_rejected(root, "$.agreements[0].id: must match ^[a-z0-9][a-z0-9-]{1,62}$");

    root = base();
    json_object_del(agreement0(root), "id");
    assert_rejected(root, "$.agreements[0].id: required");

    root = base();
    set_string(agreement0(root), "id", "admin-23");
    assert_rejected(root, "$.agreements[0].id: ids starting with \"admin-\" are the hub's "
                          "(agreements made through AdminService)");
}

static void test_agreement_duplicate_id(void **state)
{
    (void)state;
    json_t *root = base();
    json_t *copy = json_deep_copy(agreement0(root));

    json_array_append_new(json_object_get(root, "agreements"), copy);
    assert_rejected(
        root, "$.agreements[1].id: \"tama-rokuto-library\" is already the id of $.agreements[0]");
}

static void test_agreements_limit(void **state)
{
    (void)state;
    json_t *root = base();
    json_t *list = json_object_get(root, "agreements");

    for (int i = 1; i <= RK_TENANT_AGREEMENTS_MAX; i++) {
        char id[32];
        json_t *copy = json_deep_copy(agreement0(root));
        snprintf(id, sizeof id, "agreement-%d", i);
        set_string(copy, "id", id);
        json_array_append_new(list, copy);
    }
    assert_rejected(root, "$.agreements: has 65 agreements, the limit is 64");
}

static void test_from_self(void **state)
{
    (void)state;
    json_t *root = base();
    json_array_append_new(json_object_get(agreement0(root), "from"), json_string("kodaira"));
    assert_rejected(root, "$.agreements[0].from[2]: is this tenant itself; an agreement is for "
                          "residents of other tenants");
}

static void test_from_duplicate(void **state)
{
    (void)state;
    json_t *root = base();
    json_array_append_new(json_object_get(agreement0(root), "from"), json_string("nishitokyo"));
    assert_rejected(root, "$.agreements[0].from[2]: \"nishitokyo\" is already listed at [1]");
}

static void test_from_empty_missing_or_wrong_type(void **state)
{
    (void)state;
    json_t *root = base();
    set_value(agreement0(root), "from", "[]");
    assert_rejected(root, "$.agreements[0].from: must not be empty");

    root = base();
    json_object_del(agreement0(root), "from");
    assert_rejected(root, "$.agreements[0].from: required");

    root = base();
    set_string(agreement0(root), "from", "nishitokyo");
    assert_rejected(root, "$.agreements[0].from: must be an array");

    root = base();
    set_value(agreement0(root), "from", "[132136]");
    assert_rejected(root, "$.agreements[0].from[0]: must be a string");

    root = base();
    set_value(agreement0(root), "from", "[\"Nishi Tokyo\"]");
    assert_rejected(root, "$.agreements[0].from[0]: must match ^[a-z][a-z0-9-]{1,30}$");
}

static void test_services_unknown(void **state)
{
    (void)state;
    json_t *root = base();
    json_array_append_new(json_object_get(agreement0(root), "services"),
                          json_string("library.renew"));
    assert_rejected(root, "$.agreements[0].services[2]: \"library.renew\" is not a service "
                          "(one of: facility.search, facility.booking, library.catalogue, "
                          "library.hold, library.loan, elibrary, sso)");
}

static void test_services_duplicate_or_missing(void **state)
{
    (void)state;
    json_t *root = base();
    json_array_append_new(json_object_get(agreement0(root), "services"),
                          json_string("library.loan"));
    assert_rejected(root, "$.agreements[0].services[2]: \"library.loan\" is already listed at [1]");

    root = base();
    json_object_del(agreement0(root), "services");
    assert_rejected(root, "$.agreements[0].services: required");
}

static void test_date_not_real(void **state)
{
    (void)state;
    const char *bad[] = {"2024-02-30", "2023-02-29", "1900-02-29", "2024-13-01",
                         "2024-00-10", "2024-04-31", "0000-01-01"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char want[128];
        json_t *root = base();
        set_string(agreement0(root), "valid_from", bad[i]);
        json_object_del(agreement0(root), "valid_until");
        snprintf(want, sizeof want, "$.agreements[0].valid_from: %s is not a real date", bad[i]);
        assert_rejected(root, want);
    }
}

static void test_date_leap_days(void **state)
{
    (void)state;
    const char *good[] = {"2024-02-29", "2000-02-29", "2025-12-31"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        json_t *root = base();
        set_string(agreement0(root), "valid_from", good[i]);
        set_string(agreement0(root), "valid_until", "2030-01-01");
        assert_accepted(root);
    }
}

static void test_date_format(void **state)
{
    (void)state;
    const char *bad[] = {"2024/04/01", "2024-4-1", "2024-04-01T00:00", "R6-04-01", "20240401"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *root = base();
        set_string(agreement0(root), "valid_until", bad[i]);
        assert_rejected(root, "$.agreements[0].valid_until: must be a date YYYY-MM-DD");
    }
    json_t *root = base();
    json_object_del(agreement0(root), "valid_from");
    assert_rejected(root, "$.agreements[0].valid_from: required");
}

static void test_valid_until_before_valid_from(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(agreement0(root), "valid_until", "2024-03-31");
    assert_rejected(root,
                    "$.agreements[0].valid_until: 2024-03-31 is before valid_from 2024-04-01");

    root = base();
    set_string(agreement0(root), "valid_until", "2024-04-01");
    assert_accepted(root);
}

/* ---- terms ---- */

static void test_terms_missing_or_empty(void **state)
{
    (void)state;
    json_t *root = base();
    json_object_del(agreement0(root), "terms");
    assert_rejected(root, "$.agreements[0].terms: required");

    root = base();
    set_value(agreement0(root), "terms", "{}");
    assert_rejected(root, "$.agreements[0].terms: must give terms for at least one residency "
                          "class (resident, worker, student, partner_area, outsider)");

    root = base();
    set_value(agreement0(root), "terms", "[]");
    assert_rejected(root, "$.agreements[0].terms: must be an object");
}

static void test_terms_unknown_residency_class(void **state)
{
    (void)state;
    json_t *root = base();
    set_value(json_object_get(agreement0(root), "terms"), "neighbour", "{}");
    assert_rejected(root, "$.agreements[0].terms.neighbour: unknown residency class (allowed: "
                          "resident, worker, student, partner_area, outsider)");
}

static void test_terms_class_wrong_type_or_unknown_key(void **state)
{
    (void)state;
    json_t *root = base();
    set_value(json_object_get(agreement0(root), "terms"), "worker", "true");
    assert_rejected(root, "$.agreements[0].terms.worker: must be an object");

    root = base();
    set_value(terms_of(root, "partner_area"), "loan_limt", "10");
    assert_rejected(root, "$.agreements[0].terms.partner_area.loan_limt: unknown key (allowed: "
                          "fee, booking_window_days, lottery, loan_limit, pickup_branches)");
}

static void test_loan_limit_out_of_range(void **state)
{
    (void)state;
    const char *bad[] = {"101", "-1", "10.5", "\"10\"", "true", "null", "1e2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *root = base();
        set_value(terms_of(root, "partner_area"), "loan_limit", bad[i]);
        assert_rejected(root, "$.agreements[0].terms.partner_area.loan_limit: must be an "
                              "integer between 0 and 100");
    }
    json_t *root = base();
    set_value(terms_of(root, "partner_area"), "loan_limit", "100");
    assert_accepted(root);
}

/* One agreement object on its own, as AdminService.ProposeAgreement checks a proposal. */
static void test_agreement_parse_alone(void **state)
{
    (void)state;
    json_t *a = json_loads("{\"id\": \"proposed\", \"from\": [\"itabashi\"],"
                           " \"services\": [\"facility.search\", \"facility.booking\"],"
                           " \"valid_from\": \"2024-04-01\","
                           " \"terms\": {\"partner_area\": {\"fee\": \"resident_rate\"}}}",
                           0, NULL);
    rk_tenant_agreement_t out;
    char err[256] = "";
    assert_int_equal(rk_tenant_agreement_parse("chofu", a, &out, err, sizeof err), RK_OK);
    assert_string_equal(out.from[0], "itabashi");
    assert_int_equal(out.n_services, 2);
    assert_string_equal(out.terms[0].cls, "partner_area");
    assert_int_equal(out.terms[0].fee_non_resident, 0);
    rk_tenant_agreement_free(&out);

    assert_int_equal(rk_tenant_agreement_parse("itabashi", a, &out, err, sizeof err), RK_EINVAL);
    assert_string_equal(err, "agreement: $.from[0]: is this tenant itself; an agreement is for "
                             "residents of other tenants");
    assert_null(out.from);

    json_object_set_new(json_object_get(json_object_get(a, "terms"), "partner_area"), "fee",
                        json_string("cheap"));
    assert_int_equal(rk_tenant_agreement_parse("chofu", a, &out, err, sizeof err), RK_EINVAL);
    assert_string_equal(err, "agreement: $.terms.partner_area.fee: must be \"resident_rate\" or "
                             "\"non_resident_rate\"");
    json_decref(a);
}

static void test_booking_window_out_of_range(void **state)
{
    (void)state;
    json_t *root = base();
    set_value(terms_of(root, "resident"), "booking_window_days", "731");
    assert_rejected(root, "$.agreements[0].terms.resident.booking_window_days: must be an "
                          "integer between 0 and 730");

    root = base();
    set_value(terms_of(root, "resident"), "booking_window_days", "0");
    assert_accepted(root);
}

static void test_fee_value(void **state)
{
    (void)state;
    json_t *root = base();
    set_string(terms_of(root, "resident"), "fee", "free");
    assert_rejected(root, "$.agreements[0].terms.resident.fee: must be \"resident_rate\" or "
                          "\"non_resident_rate\"");

    root = base();
    set_value(terms_of(root, "resident"), "fee", "0");
    assert_rejected(root, "$.agreements[0].terms.resident.fee: must be \"resident_rate\" or "
                          "\"non_resident_rate\"");
}

static void test_lottery_not_boolean(void **state)
{
    (void)state;
    json_t *root = base();
    set_value(terms_of(root, "resident"), "lottery", "1");
    assert_rejected(root, "$.agreements[0].terms.resident.lottery: must be true or false");
}

static void test_pickup_branches(void **state)
{
    (void)state;
    json_t *root = base();
    set_value(terms_of(root, "partner_area"), "pickup_branches", "[\"chuo\", \"*\"]");
    assert_rejected(root, "$.agreements[0].terms.partner_area.pickup_branches[1]: \"*\" (any "
                          "branch) must be the only entry");

    root = base();
    set_value(terms_of(root, "partner_area"), "pickup_branches", "[\"chuo\", \"\"]");
    assert_rejected(root,
                    "$.agreements[0].terms.partner_area.pickup_branches[1]: must not be empty");

    root = base();
    set_value(terms_of(root, "partner_area"), "pickup_branches", "[]");
    assert_rejected(root, "$.agreements[0].terms.partner_area.pickup_branches: must not be empty");

    root = base();
    set_string(terms_of(root, "partner_area"), "pickup_branches", "*");
    assert_rejected(root, "$.agreements[0].terms.partner_area.pickup_branches: must be an array");

    root = base();
    set_value(terms_of(root, "partner_area"), "pickup_branches", "[\"*\"]");
    assert_accepted(root);
}

/* ---- error buffer ---- */

static void test_error_is_bounded(void **state)
{
    (void)state;
    json_t *root = base();
    char err[16];
    rk_tenant_t t;

    set_string(root, "code", "132111");
    assert_int_equal(rk_tenant_parse(FILE_NAME, root, &t, err, sizeof err), RK_EINVAL);
    assert_string_equal(err, "tenants/kodaira");
    assert_int_equal(rk_tenant_parse(FILE_NAME, root, &t, NULL, 0), RK_EINVAL);
    json_decref(root);
}

static void test_long_unknown_key_is_cut_short(void **state)
{
    (void)state;
    char key[300], err[1024];
    json_t *root = base();
    rk_tenant_t t;

    memset(key, 'x', sizeof key - 1);
    key[0] = ' ';
    key[sizeof key - 1] = '\0';
    set_string(root, key, "");
    assert_int_equal(rk_tenant_parse(FILE_NAME, root, &t, err, sizeof err), RK_EINVAL);
    assert_non_null(strstr(err, "xxx...\"]: unknown key"));
    assert_true(strlen(err) < 300);
    json_decref(root);
}

/* ---- rk_tenant_set_load_dir ---- */

static char *make_temp_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[PATH_MAX];

    snprintf(path, sizeof path, "%s/renkei-tenant-file-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(path));
    return strdup(path);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text;
    long len;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    rewind(f);
    text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return text;
}

/* Setup: *state is an empty temporary directory. */
static int setup_empty_dir(void **state)
{
    *state = make_temp_dir();
    return 0;
}

/* Setup: *state is a temporary directory holding a copy of the real tenants/ folder. */
static int setup_demo_copy(void **state)
{
    static const char *names[] = {"chofu",  "higashikurume", "higashimurayama", "itabashi",
                                  "kiyose", "kodaira",       "komae",           "nishitokyo"};
    char *dir = make_temp_dir();

    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char src[PATH_MAX], name[64];
        snprintf(src, sizeof src, "%s/tenants/%s.json", RENKEI_SOURCE_DIR, names[i]);
        snprintf(name, sizeof name, "%s.json", names[i]);
        char *text = read_file(src);
        write_file(dir, name, text);
        free(text);
    }
    *state = dir;
    return 0;
}

/* Teardown: removes the directory and what it holds (files and empty folders), even after a
 * failed test. */
static int teardown_dir(void **state)
{
    char *dir = *state;
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;

    if (!d)
        return -1;
    while ((e = readdir(d))) {
        char path[PATH_MAX];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        rc |= remove(path);
    }
    closedir(d);
    rc |= rmdir(dir);
    free(dir);
    return rc;
}

/* Loads dir, expects rc and "DIR/expected" as the error, and an empty set. */
static void assert_load_fails(const char *dir, int rc, const char *expected)
{
    char err[1024], want[1024];
    rk_tenant_set_t set = {.n = 99};

    snprintf(want, sizeof want, "%s/%s", dir, expected);
    assert_int_equal(rk_tenant_set_load_dir(dir, &set, err, sizeof err), rc);
    assert_string_equal(err, want);
    assert_int_equal(set.n, 0);
    assert_null(set.tenants);
}

static const rk_tenant_t *find_tenant(const rk_tenant_set_t *set, const char *slug)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->tenants[i].slug, slug) == 0)
            return &set->tenants[i];
    fail_msg("no tenant %s", slug);
    return NULL;
}

static void test_load_demo_tenants(void **state)
{
    (void)state;
    static const struct {
        const char *slug, *code, *name;
    } want[] = {{"chofu", "132080", "調布市"},
                {"higashikurume", "132225", "東久留米市"},
                {"higashimurayama", "132136", "東村山市"},
                {"itabashi", "131199", "板橋区"},
                {"kiyose", "132217", "清瀬市"},
                {"kodaira", "132110", "小平市"},
                {"komae", "132195", "狛江市"},
                {"nishitokyo", "132292", "西東京市"}};
    static const char *tama_rokuto[] = {"kodaira", "higashimurayama", "nishitokyo", "kiyose",
                                        "higashikurume"};
    char err[1024] = "";
    rk_tenant_set_t set;
    int rc = rk_tenant_set_load_dir(RENKEI_SOURCE_DIR "/tenants", &set, err, sizeof err);

    if (rc != RK_OK)
        fail_msg("%s", err);
    assert_int_equal(set.n, 8);
    for (size_t i = 0; i < set.n; i++) {
        assert_string_equal(set.tenants[i].slug, want[i].slug);
        assert_string_equal(set.tenants[i].code, want[i].code);
        assert_string_equal(set.tenants[i].name_ja, want[i].name);
        assert_string_equal(set.tenants[i].prefecture, "東京都");
        assert_int_equal(rk_tenant_code_valid(set.tenants[i].code, NULL, 0), 1);
    }

    /* Each of the five lets the other four use its libraries. */
    for (size_t i = 0; i < 5; i++) {
        const rk_tenant_t *t = find_tenant(&set, tama_rokuto[i]);
        assert_int_equal(t->n_agreements, 1);
        const rk_tenant_agreement_t *a = &t->agreements[0];
        assert_string_equal(a->id, "tama-rokuto-library");
        assert_int_equal(a->n_from, 4);
        for (size_t j = 0; j < 5; j++) {
            int listed = 0;
            for (size_t k = 0; k < a->n_from; k++)
                listed |= strcmp(a->from[k], tama_rokuto[j]) == 0;
            assert_int_equal(listed, i != j);
        }
        assert_string_equal(a->terms[a->n_terms - 1].cls, "partner_area");
        assert_int_equal(a->terms[a->n_terms - 1].loan_limit, 10);
    }

    const rk_tenant_t *chofu = find_tenant(&set, "chofu");
    assert_string_equal(chofu->agreements[0].from[0], "komae");
    assert_string_equal(chofu->agreements[0].terms[1].cls, "partner_area");
    assert_int_equal(chofu->agreements[0].terms[1].fee_non_resident, 1);
    assert_true(chofu->agreements[0].terms[1].booking_window_days <
                chofu->agreements[0].terms[0].booking_window_days);
    assert_int_equal(find_tenant(&set, "itabashi")->n_agreements, 0);

    rk_tenant_set_free(&set);
    assert_int_equal(set.n, 0);
    assert_null(set.tenants);
}

static void test_load_dir_one_bad_file_loads_nothing(void **state)
{
    const char *dir = *state;
    char *text = read_file(RENKEI_SOURCE_DIR "/tenants/komae.json");
    char *code = strstr(text, "132195");

    code[5] = '4';
    write_file(dir, "komae.json", text);
    free(text);
    assert_load_fails(dir, RK_EINVAL, "komae.json: $.code: check digit is 4, expected 5");
}

static void test_load_dir_from_unknown_tenant(void **state)
{
    const char *dir = *state;
    char path[PATH_MAX], want[PATH_MAX + 128];

    snprintf(path, sizeof path, "%s/kiyose.json", dir);
    assert_int_equal(remove(path), 0);
    /* chofu sorts first, but higashikurume is the first whose agreement names kiyose. */
    snprintf(want, sizeof want,
             "higashikurume.json: $.agreements[0].from[3]: \"kiyose\" is not a tenant in %s", dir);
    assert_load_fails(dir, RK_EINVAL, want);
}

static void test_load_dir_duplicate_code(void **state)
{
    const char *dir = *state;
    char want[PATH_MAX + 128];

    write_file(dir, "kodaira2.json",
               "{\"code\": \"132110\", \"slug\": \"kodaira2\","
               " \"name\": {\"ja\": \"小平市\", \"en\": \"Kodaira\", \"kana\": \"こだいらし\"},"
               " \"prefecture\": \"東京都\", \"contact\": {\"department\": \"中央図書館\"},"
               " \"public_url\": \"https://www.city.kodaira.tokyo.jp/\"}\n");
    snprintf(want, sizeof want, "kodaira2.json: $.code: 132110 is also the code of %s/kodaira.json",
             dir);
    assert_load_fails(dir, RK_EINVAL, want);
}

static void test_load_dir_invalid_json(void **state)
{
    const char *dir = *state;

    write_file(dir, "kodaira.json", "{\"code\": \"132110\",\n  \"slug\": }\n");
    assert_load_fails(
        dir, RK_EINVAL,
        "kodaira.json: $: invalid JSON at line 2 column 11: unexpected token near '}'");
}

static void test_load_dir_duplicate_key(void **state)
{
    const char *dir = *state;

    write_file(dir, "kodaira.json", "{\"code\": \"132110\",\n \"code\": \"132111\"}\n");
    assert_load_fails(dir, RK_EINVAL,
                      "kodaira.json: $: invalid JSON at line 2 column 7: duplicate object key "
                      "near '\"code\"'");
}

static void test_load_dir_too_big_or_not_a_file(void **state)
{
    const char *dir = *state;
    char path[PATH_MAX], want[128];
    char *big = malloc(RK_TENANT_FILE_MAX + 2);

    assert_non_null(big);
    memset(big, ' ', RK_TENANT_FILE_MAX + 1);
    big[RK_TENANT_FILE_MAX + 1] = '\0';
    write_file(dir, "big.json", big);
    free(big);
    snprintf(want, sizeof want, "big.json: $: is larger than the limit of %d bytes",
             RK_TENANT_FILE_MAX);
    assert_load_fails(dir, RK_EINVAL, want);

    snprintf(path, sizeof path, "%s/big.json", dir);
    assert_int_equal(remove(path), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_load_fails(dir, RK_EINVAL, "big.json: $: not a regular file");
}

static void test_load_dir_skips_other_files(void **state)
{
    const char *dir = *state;
    char err[256] = "";
    rk_tenant_set_t set;

    assert_int_equal(rk_tenant_set_load_dir(dir, &set, err, sizeof err), RK_OK);
    assert_int_equal(set.n, 0);
    rk_tenant_set_free(&set);

    write_file(dir, "README.md", "not a tenant\n");
    write_file(dir, ".kodaira.json", "{ an editor's swap file\n");
    write_file(dir, "kodaira.json~", "{\n");
    write_file(dir, ".json", "{\n");
    assert_int_equal(rk_tenant_set_load_dir(dir, &set, err, sizeof err), RK_OK);
    assert_int_equal(set.n, 0);
    rk_tenant_set_free(&set);
}

static void test_load_dir_missing(void **state)
{
    (void)state;
    char err[256];
    rk_tenant_set_t set = {.n = 1};

    assert_int_equal(rk_tenant_set_load_dir("/nonexistent/renkei-tenants", &set, err, sizeof err),
                     RK_EIO);
    assert_string_equal(err, "/nonexistent/renkei-tenants: $: cannot open directory: No such "
                             "file or directory");
    assert_int_equal(set.n, 0);
    assert_null(set.tenants);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_valid_known_codes),
        cmocka_unit_test(test_code_valid_demo_codes),
        cmocka_unit_test(test_code_valid_wrong_check_digit),
        cmocka_unit_test(test_code_valid_length),
        cmocka_unit_test(test_code_valid_non_digit),
        cmocka_unit_test(test_code_valid_prefecture_range),
        cmocka_unit_test(test_code_valid_small_why_buffer),
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_optional_keys_absent),
        cmocka_unit_test(test_parse_open_ended_and_empty_terms_class),
        cmocka_unit_test(test_root_not_object),
        cmocka_unit_test(test_unknown_top_level_key),
        cmocka_unit_test(test_unknown_key_not_an_identifier),
        cmocka_unit_test(test_code_check_digit),
        cmocka_unit_test(test_code_five_digits),
        cmocka_unit_test(test_code_non_digit),
        cmocka_unit_test(test_code_is_a_number),
        cmocka_unit_test(test_code_missing),
        cmocka_unit_test(test_slug_mismatch_with_file_name),
        cmocka_unit_test(test_slug_bad_characters),
        cmocka_unit_test(test_slug_not_a_string),
        cmocka_unit_test(test_name_missing_en),
        cmocka_unit_test(test_name_not_object),
        cmocka_unit_test(test_name_unknown_key),
        cmocka_unit_test(test_name_length_bound),
        cmocka_unit_test(test_name_empty_or_control),
        cmocka_unit_test(test_kana_not_hiragana),
        cmocka_unit_test(test_kana_allows_marks_and_spaces),
        cmocka_unit_test(test_prefecture_mismatch),
        cmocka_unit_test(test_prefecture_missing),
        cmocka_unit_test(test_contact_department_missing),
        cmocka_unit_test(test_contact_unknown_key),
        cmocka_unit_test(test_contact_email),
        cmocka_unit_test(test_contact_phone),
        cmocka_unit_test(test_public_url_scheme),
        cmocka_unit_test(test_public_url_shape),
        cmocka_unit_test(test_agreements_wrong_types),
        cmocka_unit_test(test_agreement_unknown_key),
        cmocka_unit_test(test_agreement_bad_id),
        cmocka_unit_test(test_agreement_duplicate_id),
        cmocka_unit_test(test_agreements_limit),
        cmocka_unit_test(test_from_self),
        cmocka_unit_test(test_from_duplicate),
        cmocka_unit_test(test_from_empty_missing_or_wrong_type),
        cmocka_unit_test(test_services_unknown),
        cmocka_unit_test(test_services_duplicate_or_missing),
        cmocka_unit_test(test_date_not_real),
        cmocka_unit_test(test_date_leap_days),
        cmocka_unit_test(test_date_format),
        cmocka_unit_test(test_valid_until_before_valid_from),
        cmocka_unit_test(test_terms_missing_or_empty),
        cmocka_unit_test(test_terms_unknown_residency_class),
        cmocka_unit_test(test_terms_class_wrong_type_or_unknown_key),
        cmocka_unit_test(test_loan_limit_out_of_range),
        cmocka_unit_test(test_booking_window_out_of_range),
        cmocka_unit_test(test_agreement_parse_alone),
        cmocka_unit_test(test_fee_value),
        cmocka_unit_test(test_lottery_not_boolean),
        cmocka_unit_test(test_pickup_branches),
        cmocka_unit_test(test_error_is_bounded),
        cmocka_unit_test(test_long_unknown_key_is_cut_short),
        cmocka_unit_test(test_load_demo_tenants),
        cmocka_unit_test_setup_teardown(test_load_dir_one_bad_file_loads_nothing, setup_demo_copy,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_load_dir_from_unknown_tenant, setup_demo_copy,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_load_dir_duplicate_code, setup_demo_copy,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_load_dir_invalid_json, setup_demo_copy, teardown_dir),
        cmocka_unit_test_setup_teardown(test_load_dir_duplicate_key, setup_demo_copy, teardown_dir),
        cmocka_unit_test_setup_teardown(test_load_dir_too_big_or_not_a_file, setup_empty_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_load_dir_skips_other_files, setup_empty_dir,
                                        teardown_dir),
        cmocka_unit_test(test_load_dir_missing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
