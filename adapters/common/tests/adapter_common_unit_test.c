/*
 * adapter_common_unit_test.c — the shared open-data parts of the adapters: CSV rows and their
 * lines (libcsv with bounds), decoding (UTF-8 with and without BOM, a Shift_JIS copy of 板橋区's
 * real file made with iconv here, garbage), normalisation of full-width digits, dashes, spaces
 * and readings, the kind words, and the 公共施設一覧 reader over both layouts: the real 板橋区
 * file (adapters/sim/data), an older-layout file, bad rows reported with file:line while the
 * rest load, and files that cannot be read at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csv_reader.h"
#include "facility_csv.h"
#include "facility_kind_words.h"
#include "text_encoding.h"
#include "text_normalize.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FK(x) RENKEI__V1__FACILITY_KIND__FACILITY_KIND_##x
#define AF(x) RENKEI__V1__ACCESSIBILITY_FEATURE__ACCESSIBILITY_FEATURE_##x

static const char itabashi_path[] = RENKEI_ADAPTER_DATA "/itabashi_public_facilities.csv";

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return data;
}

/* --- CSV rows ------------------------------------------------------------------------------- */

typedef struct rows {
    size_t n;
    char cells[8][4][32];
    size_t widths[8], lines[8];
} rows_t;

static int collect(void *ctx, const rk_csv_row_t *row, char *why, size_t why_len)
{
    (void)why;
    (void)why_len;
    rows_t *r = ctx;
    assert_int_equal(row->index, r->n);
    r->widths[r->n] = row->n_fields;
    r->lines[r->n] = row->line;
    for (size_t i = 0; i < row->n_fields && i < 4; i++)
        snprintf(r->cells[r->n][i], sizeof(r->cells[r->n][i]), "%s", row->fields[i]);
    r->n++;
    return 0;
}

static void csv_quoted_crlf_without_final_newline(void **state)
{
    (void)state;
    static const char data[] =
        "\xEF\xBB\xBF\"名称\",\"ID\",\"説明\"\r\n"
        "\"赤塚体育館\",\"131199000090\",\"a, \"\"quoted\"\"\r\nline\r\n3\"\r\n"
        "plain,,\"\"";
    rows_t r = {0};
    char why[128] = "";
    assert_int_equal(rk_csv_parse(data, sizeof(data) - 1, collect, &r, why, sizeof(why)), 0);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.cells[0][0], "名称"); /* the BOM is not part of the first name */
    assert_string_equal(r.cells[1][0], "赤塚体育館");
    assert_string_equal(r.cells[1][2], "a, \"quoted\"\r\nline\r\n3");
    assert_int_equal(r.widths[2], 3);
    assert_string_equal(r.cells[2][0], "plain");
    assert_string_equal(r.cells[2][1], "");
    assert_string_equal(r.cells[2][2], "");
    /* Each row names the line it starts on, quoted newlines notwithstanding. */
    assert_int_equal(r.lines[0], 1);
    assert_int_equal(r.lines[1], 2);
    assert_int_equal(r.lines[2], 5);
}

static void csv_errors_name_the_line(void **state)
{
    (void)state;
    rows_t r = {0};
    char why[160] = "";
    static const char bad_quote[] = "a,b\r\n1,2\r\n\"x\"y,2\r\n";
    assert_int_equal(rk_csv_parse(bad_quote, sizeof(bad_quote) - 1, collect, &r, why, sizeof(why)),
                     -1);
    assert_non_null(strstr(why, "line 3: "));
    memset(&r, 0, sizeof(r));
    static const char open_quote[] = "a,b\r\n1,2\r\n3,\"never closed\r\n";
    assert_int_equal(
        rk_csv_parse(open_quote, sizeof(open_quote) - 1, collect, &r, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "ends inside a quoted field"));
    memset(&r, 0, sizeof(r));
    assert_int_equal(rk_csv_parse("", 0, collect, &r, why, sizeof(why)), -1);
    assert_string_equal(why, "the file has no header row");
}

/* --- decoding ------------------------------------------------------------------------------- */

/* The bytes of text in CP932, made with iconv as an office PC's Excel would save them. */
static char *to_shift_jis(const char *text, size_t len, size_t *out_len)
{
    iconv_t cd = iconv_open("CP932", "UTF-8");
    assert_true(cd != (iconv_t)-1);
    char *out = malloc(len + 1), *o = out, *in = (char *)text;
    size_t in_left = len, out_left = len;
    assert_int_not_equal(iconv(cd, &in, &in_left, &o, &out_left), (size_t)-1);
    iconv_close(cd);
    *out_len = (size_t)(o - out);
    return out;
}

static void decode_utf8_bom_and_shift_jis(void **state)
{
    (void)state;
    char *out = NULL, why[160] = "";
    size_t len = 0;
    rk_encoding_t used;
    assert_int_equal(rk_text_decode("\xEF\xBB\xBF名称\r\n", 11, RK_ENCODING_AUTO, &out, &len, &used,
                                    why, sizeof(why)),
                     0);
    assert_string_equal(out, "名称\r\n"); /* the BOM is gone */
    assert_int_equal(used, RK_ENCODING_UTF8);
    free(out);
    size_t sjis_len;
    static const char text[] = "名称,住所\n赤塚体育館,赤塚５－６－１\n";
    char *sjis = to_shift_jis(text, sizeof(text) - 1, &sjis_len);
    assert_int_equal(
        rk_text_decode(sjis, sjis_len, RK_ENCODING_AUTO, &out, &len, &used, why, sizeof(why)), 0);
    assert_int_equal(used, RK_ENCODING_SHIFT_JIS);
    assert_string_equal(out, text);
    free(out);
    /* Forced UTF-8 on Shift_JIS bytes: refused with the line. */
    assert_int_equal(
        rk_text_decode(sjis, sjis_len, RK_ENCODING_UTF8, &out, &len, &used, why, sizeof(why)), -1);
    assert_null(out);
    assert_non_null(strstr(why, "line 1: not valid UTF-8"));
    free(sjis);
    /* Neither: 0x81 0x20 is no CP932 character and no UTF-8; the line is named. */
    static const char garbage[] = "名称\nok\n\x81\x20\xFF\xFE\n";
    assert_int_equal(rk_text_decode(garbage, sizeof(garbage) - 1, RK_ENCODING_AUTO, &out, &len,
                                    &used, why, sizeof(why)),
                     -1);
    assert_non_null(strstr(why, "line 3: neither UTF-8 nor Shift_JIS (CP932)"));
    assert_int_equal(
        rk_text_decode("a\n\0b", 4, RK_ENCODING_AUTO, &out, &len, &used, why, sizeof(why)), -1);
    assert_string_equal(why, "line 2: a NUL byte: not a text file");
    rk_encoding_t e;
    assert_int_equal(rk_encoding_parse("Shift_JIS", &e), 0);
    assert_int_equal(e, RK_ENCODING_SHIFT_JIS);
    assert_int_equal(rk_encoding_parse("latin1", &e), -1);
}

/* --- normalisation -------------------------------------------------------------------------- */

static void expect_text(char *got, const char *want)
{
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void normalise_digits_dashes_spaces(void **state)
{
    (void)state;
    expect_text(rk_text_normalize("東京都板橋区赤塚５－６－１", RK_TEXT_ADDRESS),
                "東京都板橋区赤塚5-6-1");
    expect_text(rk_text_normalize("板橋区大原町4ー14", RK_TEXT_ADDRESS), "板橋区大原町4-14");
    expect_text(rk_text_normalize("高島平3‐15−1　センタービル　2階", RK_TEXT_ADDRESS),
                "高島平3-15-1 センタービル 2階");
    expect_text(rk_text_normalize("０３－３９６４－１１１１", RK_TEXT_PHONE), "03-3964-1111");
    expect_text(rk_text_normalize(" (03) 3964ー1111 ", RK_TEXT_PHONE), "(03)3964-1111");
    expect_text(rk_text_normalize("〒１７３ー８５０１", RK_TEXT_POSTAL_CODE), "173-8501");
    expect_text(rk_text_normalize("1738501", RK_TEXT_POSTAL_CODE), "173-8501");
    expect_text(rk_text_normalize("173-850", RK_TEXT_POSTAL_CODE), "");
    expect_text(rk_text_normalize("ｱｶﾂｶﾀｲｲｸｶﾝ", RK_TEXT_KATAKANA), "アカツカタイイクカン");
    expect_text(rk_text_normalize("あかつか たいいくかん", RK_TEXT_KATAKANA),
                "アカツカ タイイクカン");
    expect_text(rk_text_normalize("\t　板橋　 区 \r\n", RK_TEXT_TIDY), "板橋 区");
    assert_null(rk_text_normalize("\xC3\x28", RK_TEXT_TIDY)); /* invalid UTF-8 */
}

static void kinds_from_names(void **state)
{
    (void)state;
    assert_int_equal(rk_facility_kind_of_name("荒川戸田橋陸上競技場"), FK(ATHLETIC_FIELD));
    assert_int_equal(rk_facility_kind_of_name("徳丸ヶ原庭球場"), FK(TENNIS_COURT));
    assert_int_equal(rk_facility_kind_of_name("城北野球場Ｂ面"), FK(BASEBALL_FIELD));
    assert_int_equal(rk_facility_kind_of_name("植村記念加賀スポーツセンター（旧東板橋体育館）"),
                     FK(GYMNASIUM));
    assert_int_equal(rk_facility_kind_of_name("浮間舟渡フットサルパーク"), FK(FUTSAL));
    assert_int_equal(rk_facility_kind_of_name("高島平多目的運動場"), FK(SPORTS_GROUND));
    assert_int_equal(rk_facility_kind_of_name("和弓場"), FK(ARCHERY_RANGE));
    assert_int_equal(rk_facility_kind_of_name("仲宿地域センター"), FK(MEETING_ROOM));
    assert_int_equal(rk_facility_kind_of_name("成増地域センター（アクトホール）"), FK(HALL));
    assert_int_equal(rk_facility_kind_of_name("板橋区役所"), FK(OTHER));
}

/* --- 公共施設一覧 ------------------------------------------------------------------------- */

static const rk_facility_record_t *find(const rk_facility_csv_t *csv, const char *id)
{
    for (size_t i = 0; i < csv->n_records; i++) {
        if (strcmp(csv->records[i].id, id) == 0)
            return &csv->records[i];
    }
    return NULL;
}

static void itabashi_real_file(void **state)
{
    (void)state;
    char why[256] = "";
    rk_facility_csv_options_t options = {.municipality_code = "131199"};
    rk_facility_csv_t *csv = rk_facility_csv_load(itabashi_path, &options, why, sizeof(why));
    if (!csv)
        fail_msg("%s", why);
    assert_int_equal(csv->rows, 316); /* shared/data/SOURCES.md */
    assert_int_equal(csv->n_records, 316);
    assert_int_equal(csv->n_problems, 0);
    assert_int_equal(csv->encoding, RK_ENCODING_UTF8);
    assert_string_equal(csv->layout, "GIF 56-column");
    const rk_facility_record_t *office = find(csv, "131199000001");
    assert_string_equal(office->name, "板橋区役所");
    assert_string_equal(office->postal_code, "173-8501");
    assert_string_equal(office->phone, "(03)3964-1111");
    assert_string_equal(office->address, "東京都板橋区板橋2-66-1");
    assert_true(office->located && office->latitude > 35.75 && office->latitude < 35.76);
    const rk_facility_record_t *field = find(csv, "131199000099");
    assert_string_equal(field->name, "城北野球場Ｂ面"); /* names as written */
    assert_int_equal(field->kind, FK(BASEBALL_FIELD));
    assert_int_equal(find(csv, "131199000021")->kind, FK(MEETING_ROOM)); /* 仲宿地域センター */
    /* Run by 板橋区 in 長野県: kept (the owner code is 板橋区's). */
    const rk_facility_record_t *far = find(csv, "131199000045");
    assert_non_null(far);
    assert_string_equal(far->owner_code, "131199");
    for (size_t i = 0; i < csv->n_records; i++) { /* no full-width digit survives in addresses */
        assert_null(strstr(csv->records[i].address, "０"));
        assert_null(strstr(csv->records[i].address, "－"));
        assert_true(csv->records[i].located);
    }
    rk_facility_csv_free(csv);
}

static void itabashi_in_shift_jis(void **state)
{
    (void)state;
    size_t len, sjis_len;
    char *utf8 = slurp(itabashi_path, &len);
    char *sjis = to_shift_jis(utf8, len, &sjis_len);
    char why[256] = "";
    rk_facility_csv_options_t options = {.file = "itabashi-sjis.csv"};
    rk_facility_csv_t *a = rk_facility_csv_parse(utf8, len, &options, why, sizeof(why));
    rk_facility_csv_t *b = rk_facility_csv_parse(sjis, sjis_len, &options, why, sizeof(why));
    if (!a || !b)
        fail_msg("%s", why);
    assert_int_equal(b->encoding, RK_ENCODING_SHIFT_JIS);
    assert_int_equal(b->n_records, a->n_records);
    for (size_t i = 0; i < a->n_records; i++) {
        assert_string_equal(b->records[i].name, a->records[i].name);
        assert_string_equal(b->records[i].address, a->records[i].address);
        assert_string_equal(b->records[i].phone, a->records[i].phone);
    }
    rk_facility_csv_free(a);
    rk_facility_csv_free(b);
    /* Cut inside a quoted field (a half-copied file): the whole file is refused with its line. */
    const char *cut = strstr(utf8, "\"131199000200\"");
    assert_non_null(cut);
    size_t cut_len = (size_t)(cut - utf8) + 20;
    assert_null(rk_facility_csv_parse(utf8, cut_len, &options, why, sizeof(why)));
    assert_non_null(strstr(why, "itabashi-sjis.csv: line 201: "));
    /* Cut between two fields: the last row is short, and that is no shorter list either. */
    cut_len = (size_t)(cut - utf8) + 15;
    assert_null(rk_facility_csv_parse(utf8, cut_len, &options, why, sizeof(why)));
    assert_string_equal(why, "itabashi-sjis.csv: line 201: the last row has 3 fields where the "
                             "header has 56: the file looks cut off (copy it next to the old "
                             "one, then rename it over)");
    free(utf8);
    free(sjis);
}

static void older_layout(void **state)
{
    (void)state;
    /* The 推奨データセット columns (as 清瀬市 publishes them): NO, 住所, 名称_英語, no coordinates,
     * counts and 有/無 for the toilets, hours in three columns. */
    static const char data[] =
        "市区町村コード,NO,都道府県名,市区町村名,名称,名称_カナ,名称_英語,住所,方書,緯度,経度,"
        "多機能トイレ数,車椅子使用者用トイレ有無,オストメイト設置トイレ有無,利用開始時間,"
        "利用終了時間,利用可能時間特記事項\n"
        "132217,,東京都,清瀬市,野塩地域市民センター,ﾉｼｵﾁｲｷｼﾐﾝｾﾝﾀｰ,,野塩１－３２２－２,,,,"
        "1,有,無,8:30,22:00,月曜日・年末年始は休館\n"
        "132217,7,東京都,清瀬市,中央図書館,ちゅうおうとしょかん,Central Library,元町１ー１ー１,"
        "２階,35.7857,139.5265,0,無,有,,,\n";
    char why[256] = "";
    rk_facility_csv_options_t options = {.file = "kiyose.csv", .municipality_code = "132217"};
    rk_facility_csv_t *csv =
        rk_facility_csv_parse(data, sizeof(data) - 1, &options, why, sizeof(why));
    if (!csv)
        fail_msg("%s", why);
    assert_string_equal(csv->layout, "推奨データセット");
    assert_int_equal(csv->n_records, 2);
    const rk_facility_record_t *centre = &csv->records[0];
    assert_string_equal(centre->id, "");
    assert_string_equal(centre->name_kana, "ノシオチイキシミンセンター");
    assert_string_equal(centre->address, "野塩1-322-2");
    assert_false(centre->located); /* no coordinates: none invented */
    assert_int_equal(centre->kind, FK(MEETING_ROOM));
    assert_string_equal(centre->opening_hours, "8:30〜22:00（月曜日・年末年始は休館）");
    assert_int_equal(centre->n_accessibility, 1);
    assert_int_equal(centre->accessibility[0], AF(ACCESSIBLE_TOILET));
    const rk_facility_record_t *library = &csv->records[1];
    assert_string_equal(library->id, "7");
    assert_string_equal(library->name_kana, "チュウオウトショカン");
    assert_string_equal(library->name_en, "Central Library");
    assert_string_equal(library->address, "元町1-1-1 2階");
    assert_true(library->located);
    assert_int_equal(library->n_accessibility, 1);
    assert_int_equal(library->accessibility[0], AF(OSTOMATE_TOILET));
    rk_facility_csv_free(csv);
}

static void bad_rows_are_reported_and_skipped(void **state)
{
    (void)state;
    static const char data[] =
        "\"全国地方公共団体コード\",\"ID\",\"名称\",\"緯度\",\"経度\",\"説明\",\"郵便番号\"\r\n"
        "\"131199\",\"1\",\"赤塚体育館\",\"35.77\",\"139.64\",\"\",\"\"\r\n"
        "\"131199\",\"2\",\"遠い体育館\",\"135.2\",\"139.64\",\"\",\"\"\r\n"
        "\"131199\",\"3\",\"説明の長い館\",\"\",\"\",\"一行目\r\n二行目\",\"1750\"\r\n"
        "\"131199\",\"4\",\"短い行\"\r\n"
        "\"132080\",\"5\",\"調布の施設\",\"\",\"\",\"\",\"\"\r\n"
        "\"131199\",\"6\",\"\",\"\",\"\",\"\",\"\"\r\n"
        "\"131199\",\"7\",\"半分\",\"35.7\",\"\",\"\",\"\"\r\n"
        "\"131199\",\"8\",\"零\",\"0\",\"0\",\"\",\"\"\r\n"
        "\"131199\",\"9 9\",\"空白ID\",\"\",\"\",\"\",\"\"";
    char why[256] = "";
    rk_facility_csv_options_t options = {.file = "f.csv", .municipality_code = "131199"};
    rk_facility_csv_t *csv =
        rk_facility_csv_parse(data, sizeof(data) - 1, &options, why, sizeof(why));
    if (!csv)
        fail_msg("%s", why);
    assert_int_equal(csv->rows, 9);
    assert_int_equal(csv->n_records, 3); /* 1, 3 and 8 */
    assert_int_equal(csv->rows_skipped, 6);
    assert_string_equal(csv->records[0].id, "1");
    assert_string_equal(csv->records[1].id, "3");
    assert_string_equal(csv->records[1].postal_code, "");
    assert_string_equal(csv->records[2].id, "8");
    assert_false(csv->records[2].located); /* 0,0 is a placeholder, not a place */
    static const char *const expected[] = {
        "f.csv:3: 緯度: \"135.2\" is not a latitude (-90 to 90); row skipped",
        "f.csv:4: 郵便番号: \"1750\" is not 7 digits; left out",
        "f.csv:6: 3 fields where the header has 7; row skipped",
        "f.csv:7: 全国地方公共団体コード: 132080 is not this municipality (131199); row skipped",
        "f.csv:8: 名称: empty; row skipped",
        "f.csv:9: 緯度: given without 経度; row skipped",
        "f.csv:11: ID: must be 1 to 64 characters of A-Z a-z 0-9 . _ : -; row skipped",
    };
    assert_int_equal(csv->n_problems, sizeof(expected) / sizeof(expected[0]));
    for (size_t i = 0; i < csv->n_problems; i++)
        assert_string_equal(csv->problems[i], expected[i]);
    rk_facility_csv_free(csv);
    /* A file that is not a facility list at all. */
    assert_null(rk_facility_csv_parse("a,b\n1,2\n", 8, &options, why, sizeof(why)));
    assert_string_equal(why, "f.csv: line 1: no column 名称: not a 公共施設一覧 file (its header "
                             "names the columns)");
    assert_null(rk_facility_csv_load("/nonexistent/x.csv", &options, why, sizeof(why)));
    assert_string_equal(why, "/nonexistent/x.csv: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_quoted_crlf_without_final_newline),
        cmocka_unit_test(csv_errors_name_the_line),
        cmocka_unit_test(decode_utf8_bom_and_shift_jis),
        cmocka_unit_test(normalise_digits_dashes_spaces),
        cmocka_unit_test(kinds_from_names),
        cmocka_unit_test(itabashi_real_file),
        cmocka_unit_test(itabashi_in_shift_jis),
        cmocka_unit_test(older_layout),
        cmocka_unit_test(bad_rows_are_reported_and_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
