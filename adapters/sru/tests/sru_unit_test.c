/*
 * sru_unit_test.c — cmocka tests of the sru adapter's pure parts: ISBN normalisation
 * (sru_isbn.c), the CQL builder and its escaping of hostile text (sru_cql.c) — the queries it
 * builds are read back with YAZ's own CQL parser, an independent reader — and the reading of
 * SRU answers with MARCXML records (sru_marc.c): Japanese text byte for byte, 880 readings,
 * 952 items, diagnostics, malformed and oversized answers.
 */
#include "sru_cql.h"
#include "sru_isbn.h"
#include "sru_marc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <yaz/cql.h>

/* --- ISBN --------------------------------------------------------------------------------- */

static void isbn_forms(void **state)
{
    (void)state;
    char out[14];
    assert_int_equal(sru_isbn_to13("9784101010137", 13, out), 0);
    assert_string_equal(out, "9784101010137");
    assert_int_equal(sru_isbn_to13("978-4-10-101013-7", 17, out), 0);
    assert_string_equal(out, "9784101010137");
    assert_int_equal(sru_isbn_to13("4-10-101013-7", 13, out), 0); /* the same book's ISBN-10 */
    assert_string_equal(out, "9784101010137");
    assert_int_equal(sru_isbn_to13("0839108826", 10, out), 0);
    assert_string_equal(out, "9780839108825");
    assert_int_equal(sru_isbn_to13("0-8044-2957-x", 13, out), 0); /* check digit X */
    assert_string_equal(out, "9780804429573");
    char ten[11];
    assert_int_equal(sru_isbn13_to10("9784101010137", ten), 0);
    assert_string_equal(ten, "4101010137");
    assert_int_equal(sru_isbn13_to10("9780804429573", ten), 0);
    assert_string_equal(ten, "080442957X");
    assert_int_equal(sru_isbn13_to10("9791034304574", ten), -1); /* 979 has no ISBN-10 */
}

static void isbn_refused(void **state)
{
    (void)state;
    char out[14];
    const char *bad[] = {"9784101010136", /* wrong check digit */
                         "4101010136",    "978410101013",  "97841010101377",
                         "X101010137",    "9774101010130", /* not 978/979 */
                         "41010101X7",    "4101O10137",    ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sru_isbn_to13(bad[i], strlen(bad[i]), out), -1);
        assert_string_equal(out, "");
    }
}

/* --- CQL ---------------------------------------------------------------------------------- */

static char cql[SRU_CQL_MAX];

static void collect(const struct cql_node *n, char *out, size_t len, int *ors)
{
    if (n->which == CQL_NODE_ST) {
        snprintf(out + strlen(out), len - strlen(out), "%s%s%s%s", *out ? ";" : "", n->u.st.index,
                 n->u.st.relation, n->u.st.term);
    } else if (n->which == CQL_NODE_BOOL) {
        *ors += strcmp(n->u.boolean.value, "and") != 0;
        collect(n->u.boolean.left, out, len, ors);
        collect(n->u.boolean.right, out, len, ors);
    }
}

/* The search clauses of q as YAZ's CQL parser reads them ("index=term;…", terms as written,
 * escapes kept), and how many of its booleans are not "and". Fails the test if q is not CQL. */
static const char *clauses(const char *q, int *ors)
{
    static char out[SRU_CQL_MAX];
    out[0] = '\0';
    *ors = 0;
    CQL_parser parser = cql_parser_create();
    assert_int_equal(cql_parser_string(parser, q), 0);
    collect(cql_parser_result(parser), out, sizeof(out), ors);
    cql_parser_destroy(parser);
    return out;
}

static void cql_fields(void **state)
{
    (void)state;
    const char *field, *why;
    sru_search_terms_t isbn = {.isbn = "4-10-101013-7"};
    assert_int_equal(sru_cql_search(&isbn, cql, &field, &why), 0);
    assert_string_equal(cql, "(bath.isbn = \"9784101010137\" or bath.isbn = \"4101010137\")");
    sru_search_terms_t words = {.title = "銀河鉄道　夜", .author = "宮沢", .subject = "913"};
    assert_int_equal(sru_cql_search(&words, cql, &field, &why), 0);
    assert_string_equal(cql, "dc.title = \"銀河鉄道\" and dc.title = \"夜\" and dc.creator = "
                             "\"宮沢\" and (renkei.ndc = \"913*\" or dc.subject = \"913\")");
    int ors;
    assert_string_equal(clauses(cql, &ors), "dc.title=銀河鉄道;dc.title=夜;dc.creator=宮沢;"
                                            "renkei.ndc=913*;dc.subject=913");
    assert_int_equal(ors, 1); /* the NDC prefix or the subject word */
    sru_search_terms_t keyword = {.keyword = "  computer  ", .subject = "童話"};
    assert_int_equal(sru_cql_search(&keyword, cql, &field, &why), 0);
    assert_string_equal(cql, "cql.serverChoice = \"computer\" and dc.subject = \"童話\"");
}

/* Hostile text stays inside one quoted term: quotes, backslashes and masking characters are
 * escaped, so it can neither close the term nor become a wildcard. */
static void cql_escaping(void **state)
{
    (void)state;
    const char *field, *why;
    sru_search_terms_t attack = {.title = "x\" or cql.allRecords = 1 or dc.title = \"y"};
    assert_int_equal(sru_cql_search(&attack, cql, &field, &why), 0);
    assert_string_equal(cql, "dc.title = \"x\\\"\" and dc.title = \"or\" and dc.title = "
                             "\"cql.allRecords\" and dc.title = \"1\" and dc.title = \"or\" and "
                             "dc.title = \"dc.title\" and dc.title = \"\\\"y\"");
    /* YAZ reads seven title clauses joined by "and": the text never became an index, a
     * relation or a boolean. */
    int ors;
    assert_string_equal(clauses(cql, &ors), "dc.title=x\\\";dc.title=or;dc.title=cql.allRecords;"
                                            "dc.title=1;dc.title=or;dc.title=dc.title;"
                                            "dc.title=\\\"y");
    assert_int_equal(ors, 0);
    sru_search_terms_t mask = {.keyword = "a* b? c^ d\\"};
    assert_int_equal(sru_cql_search(&mask, cql, &field, &why), 0);
    assert_string_equal(cql, "cql.serverChoice = \"a\\*\" and cql.serverChoice = \"b\\?\" and "
                             "cql.serverChoice = \"c\\^\" and cql.serverChoice = \"d\\\\\"");
    assert_string_equal(clauses(cql, &ors), "cql.serverChoice=a\\*;cql.serverChoice=b\\?;"
                                            "cql.serverChoice=c\\^;cql.serverChoice=d\\\\");
    /* Words of punctuation alone are skipped; nothing searchable at all is refused. */
    sru_search_terms_t stars = {.title = "* \" \\"};
    assert_int_equal(sru_cql_search(&stars, cql, &field, &why), -1);
    assert_string_equal(field, "title");
    assert_string_equal(why, "has no searchable word");
}

static void cql_refused(void **state)
{
    (void)state;
    const char *field, *why;
    sru_search_terms_t none = {0};
    assert_int_equal(sru_cql_search(&none, cql, &field, &why), -1);
    assert_string_equal(field, "keyword");
    sru_search_terms_t isbn = {.isbn = "9784101010136"};
    assert_int_equal(sru_cql_search(&isbn, cql, &field, &why), -1);
    assert_string_equal(field, "isbn");
    sru_search_terms_t control = {.title = "ab\ncd"};
    assert_int_equal(sru_cql_search(&control, cql, &field, &why), -1);
    assert_string_equal(why, "must not contain control characters");
    sru_search_terms_t latin1 = {.author = "caf\xe9"};
    assert_int_equal(sru_cql_search(&latin1, cql, &field, &why), -1);
    assert_string_equal(field, "author");
    assert_string_equal(why, "must be UTF-8");
    sru_search_terms_t overlong = {.author = "\xc0\xaf"};
    assert_int_equal(sru_cql_search(&overlong, cql, &field, &why), -1);
    char big[SRU_CQL_FIELD_MAX + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    sru_search_terms_t long_text = {.keyword = big};
    assert_int_equal(sru_cql_search(&long_text, cql, &field, &why), -1);
    assert_string_equal(why, "at most 256 bytes");
    sru_search_terms_t many = {.keyword = "a b c d e f g h i j k l m n o p q"};
    assert_int_equal(sru_cql_search(&many, cql, &field, &why), -1);
    assert_string_equal(why, "at most 16 words");
}

static void cql_ids(void **state)
{
    (void)state;
    const char *why;
    const char *ids[] = {"1001", "2002"};
    assert_int_equal(sru_cql_record_ids(ids, 2, cql, &why), 0);
    assert_string_equal(cql, "rec.id = \"1001\" or rec.id = \"2002\"");
    const char *bad[] = {"10\" or rec.id = \"1"};
    assert_int_equal(sru_cql_record_ids(bad, 1, cql, &why), -1);
    assert_int_equal(sru_cql_record_ids(ids, 0, cql, &why), -1);
    assert_int_equal(sru_cql_item("13221700100711", cql, &why), 0);
    assert_string_equal(cql, "renkei.barcode = \"13221700100711\"");
    assert_int_equal(sru_cql_item("a b", cql, &why), -1);
}

/* --- MARCXML ------------------------------------------------------------------------------ */

#define ANSWER_HEAD                                                                                \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                                                   \
    "<zs:searchRetrieveResponse xmlns:zs=\"http://www.loc.gov/zing/srw/\">"                        \
    "<zs:version>1.1</zs:version><zs:numberOfRecords>%d</zs:numberOfRecords><zs:records>"
#define ANSWER_TAIL "</zs:records></zs:searchRetrieveResponse>"
#define RECORD_HEAD                                                                                \
    "<zs:record><zs:recordSchema>marcxml</zs:recordSchema><zs:recordData>"                         \
    "<record xmlns=\"http://www.loc.gov/MARC21/slim\">"
#define RECORD_TAIL "</record></zs:recordData></zs:record>"
#define SF(c, v) "<subfield code=\"" c "\">" v "</subfield>"
#define DF(tag, body) "<datafield tag=\"" tag "\" ind1=\" \" ind2=\" \">" body "</datafield>"

static const char ginga[] = RECORD_HEAD
    "<leader>00000nam a2200000 i 4500</leader>"
    "<controlfield tag=\"001\">1007</controlfield>" DF("020", SF("a", "4-10-109205-1 (文庫)"))
        DF("020", SF("a", "9784101092058")) DF("084", SF("a", "913.6") SF("2", "njb/10"))
            DF("100", SF("6", "880-02") SF("a", "宮沢, 賢治,")
                          SF("e", "著")) DF("700", SF("a", "Sato, Hana.") SF("e", "illustrator"))
                DF("245", SF("6", "880-01") SF("a", "銀河鉄道の夜 /") SF("c", "宮沢賢治著"))
                    DF("260", SF("b", "Old press,") SF("c", "c1970."))
                        DF("264", SF("a", "東京 :") SF("b", "新潮社,")
                                      SF("c", "[1989]")) DF("650", SF("a", "童話") SF("x", "日本"))
                            DF("880", SF("6", "245-01/$1") SF("a", "ギンガ テツドウ ノ ヨル"))
                                DF("880", SF("6", "100-02/$1") SF("a", "ミヤザワ, ケンジ"))
                                    DF("952", SF("a", "chuo") SF("b", "ekimae") SF("c", "GEN")
                                                  SF("o", "913.6/ミ") SF("p", "B001") SF("7", "0")
                                                      SF("q", "2030-01-05"))
                                        DF("952", SF("a", "chuo") SF("p", "B002") SF("7", "1"))
                                            DF("952", SF("a", "chuo") SF("p", "B003") SF("0", "1"))
                                                RECORD_TAIL;

static void marc_record(void **state)
{
    (void)state;
    char body[8192], why[200];
    snprintf(body, sizeof(body), ANSWER_HEAD "%s" ANSWER_TAIL, 1, ginga);
    rk_arena_t *arena = rk_arena_new();
    sru_answer_t a;
    assert_int_equal(sru_marc_parse(body, strlen(body), arena, &a, why, sizeof(why)), 0);
    assert_int_equal(a.total, 1);
    assert_int_equal(a.n_records, 1);
    assert_null(a.diagnostic_uri);
    const sru_record_t *r = &a.records[0];
    assert_string_equal(r->id, "1007");
    /* The first 020 is an ISBN-10 with a qualifier: normalized to the ISBN-13. */
    assert_string_equal(r->isbn13, "9784101092058");
    assert_string_equal(r->title, "銀河鉄道の夜");
    assert_string_equal(r->title_kana, "ギンガ テツドウ ノ ヨル");
    assert_int_equal(r->n_authors, 2);
    assert_string_equal(r->authors[0].name, "宮沢, 賢治");
    assert_string_equal(r->authors[0].kana, "ミヤザワ, ケンジ");
    assert_string_equal(r->authors[0].role, "著");
    assert_string_equal(r->authors[1].name, "Sato, Hana.");
    assert_string_equal(r->authors[1].kana, "");
    assert_string_equal(r->publisher, "新潮社"); /* 264 wins over 260 */
    assert_int_equal(r->year, 1989);
    assert_string_equal(r->ndc, "913.6");
    assert_int_equal(r->n_subjects, 1);
    assert_string_equal(r->subjects[0], "童話 -- 日本");
    assert_int_equal(r->type, 'a');
    assert_int_equal(r->n_items, 3);
    assert_string_equal(r->items[0].home_branch, "chuo");
    assert_string_equal(r->items[0].holding_branch, "ekimae");
    assert_string_equal(r->items[0].call_number, "913.6/ミ");
    assert_string_equal(r->items[0].barcode, "B001");
    assert_string_equal(r->items[0].date_due, "2030-01-05");
    assert_string_equal(r->items[1].holding_branch, "chuo"); /* $b absent: $a */
    assert_int_equal(r->items[1].not_for_loan, 1);
    assert_int_equal(r->items[2].withdrawn, 1);
    rk_arena_free(arena);
}

static void marc_diagnostic(void **state)
{
    (void)state;
    const char body[] =
        "<?xml version=\"1.0\"?><zs:searchRetrieveResponse "
        "xmlns:zs=\"http://www.loc.gov/zing/srw/\">"
        "<zs:version>1.1</zs:version><zs:diagnostics "
        "xmlns:diag=\"http://www.loc.gov/zing/srw/diagnostic/\"><diag:diagnostic>"
        "<diag:uri>info:srw/diagnostic/1/16</diag:uri><diag:message>Unsupported "
        "index</diag:message></diag:diagnostic></zs:diagnostics></zs:searchRetrieveResponse>";
    rk_arena_t *arena = rk_arena_new();
    sru_answer_t a;
    char why[200];
    assert_int_equal(sru_marc_parse(body, strlen(body), arena, &a, why, sizeof(why)), 0);
    assert_string_equal(a.diagnostic_uri, "info:srw/diagnostic/1/16");
    assert_string_equal(a.diagnostic_message, "Unsupported index");
    assert_int_equal(a.n_records, 0);
    rk_arena_free(arena);
}

static void marc_malformed(void **state)
{
    (void)state;
    char why[200];
    sru_answer_t a;
    rk_arena_t *arena = rk_arena_new();
    const char *bad[] = {
        "<zs:searchRetrieveResponse xmlns:zs=\"http://www.loc.gov/zing/srw/\"><zs:records>",
        "<html><body>Error 404</body></html>",
        "",
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
        "<searchRetrieveResponse><numberOfRecords>1</numberOfRecords><records><record>"
        "<recordData>&e;</recordData></record></records></searchRetrieveResponse>",
        /* A record without 001 */
        "<searchRetrieveResponse><numberOfRecords>1</numberOfRecords><records><record><recordData>"
        "<record xmlns=\"http://www.loc.gov/MARC21/slim\"><leader>x</leader></record>"
        "</recordData></record></records></searchRetrieveResponse>",
        /* Not UTF-8 though it says so */
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><searchRetrieveResponse><numberOfRecords>"
        "\xff\xfe</numberOfRecords></searchRetrieveResponse>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        assert_int_equal(sru_marc_parse(bad[i], strlen(bad[i]), arena, &a, why, sizeof(why)), -1);
        assert_true(why[0] != '\0');
    }
    /* Larger than the bound: refused before parsing. */
    assert_int_equal(sru_marc_parse(bad[0], SRU_MARC_ANSWER_MAX + 1, arena, &a, why, sizeof(why)),
                     -1);
    rk_arena_free(arena);
}

/* A long title is cut at a character boundary, never inside a UTF-8 sequence. */
static void marc_long_text(void **state)
{
    (void)state;
    size_t n = SRU_MARC_TEXT_MAX / 3 + 10;
    char *title = calloc(n * 3 + 1, 1);
    for (size_t i = 0; i < n; i++)
        memcpy(title + 3 * i, "夜", 3);
    size_t cap = strlen(title) + 2048;
    char *record = malloc(cap), *body = malloc(cap + 1024);
    snprintf(record, cap,
             RECORD_HEAD "<controlfield tag=\"001\">1</controlfield>" DF("245", SF("a", "%s"))
                 RECORD_TAIL,
             title);
    snprintf(body, cap + 1024, ANSWER_HEAD "%s" ANSWER_TAIL, 1, record);
    rk_arena_t *arena = rk_arena_new();
    sru_answer_t a;
    char why[200];
    assert_int_equal(sru_marc_parse(body, strlen(body), arena, &a, why, sizeof(why)), 0);
    size_t len = strlen(a.records[0].title);
    assert_true(len <= SRU_MARC_TEXT_MAX);
    assert_int_equal(len % 3, 0);
    assert_memory_equal(a.records[0].title, title, len);
    rk_arena_free(arena);
    free(title);
    free(record);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(isbn_forms),     cmocka_unit_test(isbn_refused),
        cmocka_unit_test(cql_fields),     cmocka_unit_test(cql_escaping),
        cmocka_unit_test(cql_refused),    cmocka_unit_test(cql_ids),
        cmocka_unit_test(marc_record),    cmocka_unit_test(marc_diagnostic),
        cmocka_unit_test(marc_malformed), cmocka_unit_test(marc_long_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
