/*
 * facility_csv.c — 公共施設一覧 rows into records (see facility_csv.h).
 */
#include "facility_csv.h"

#include "csv_reader.h"
#include "facility_kind_words.h"
#include "text_normalize.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AF(x) RENKEI__V1__ACCESSIBILITY_FEATURE__ACCESSIBILITY_FEATURE_##x

/* The columns read, with every header name the two layouts give them (in NFKC form). */
enum {
    COL_OWNER_CODE,
    COL_ID,
    COL_NAME,
    COL_KANA,
    COL_EN,
    COL_ADDRESS,
    COL_PREFECTURE,
    COL_CITY,
    COL_TOWN,
    COL_BLOCK,
    COL_BUILDING,
    COL_LAT,
    COL_LON,
    COL_PHONE,
    COL_POSTAL,
    COL_URL,
    COL_IMAGE,
    COL_DESCRIPTION,
    COL_DAYS,
    COL_OPENS,
    COL_CLOSES,
    COL_HOURS_NOTES,
    COL_ACCESSIBILITY_NOTES,
    N_COLS
};

static const char *const column_names[N_COLS][4] = {
    [COL_OWNER_CODE] = {"全国地方公共団体コード", "都道府県コード又は市区町村コード",
                        "市区町村コード"},
    [COL_ID] = {"ID", "NO"},
    [COL_NAME] = {"名称"},
    [COL_KANA] = {"名称_カナ"},
    [COL_EN] = {"名称_英字", "名称_英語"},
    [COL_ADDRESS] = {"所在地_連結表記", "住所", "所在地"},
    [COL_PREFECTURE] = {"所在地_都道府県"},
    [COL_CITY] = {"所在地_市区町村"},
    [COL_TOWN] = {"所在地_町字"},
    [COL_BLOCK] = {"所在地_番地以下"},
    [COL_BUILDING] = {"建物名等(方書)", "方書"},
    [COL_LAT] = {"緯度"},
    [COL_LON] = {"経度"},
    [COL_PHONE] = {"電話番号"},
    [COL_POSTAL] = {"郵便番号"},
    [COL_URL] = {"URL"},
    [COL_IMAGE] = {"画像"},
    [COL_DESCRIPTION] = {"説明"},
    [COL_DAYS] = {"利用可能曜日"},
    [COL_OPENS] = {"開始時間", "利用開始時間"},
    [COL_CLOSES] = {"終了時間", "利用終了時間"},
    [COL_HOURS_NOTES] = {"利用可能時間特記事項", "利用可能日時特記事項"},
    [COL_ACCESSIBILITY_NOTES] = {"バリアフリー情報"},
};

/* One column per barrier-free feature (newer layout; the toilet columns of 公衆トイレ一覧 too). */
static const struct {
    const char *names[3];
    Renkei__V1__AccessibilityFeature feature;
} feature_columns[] = {
    {{"車椅子可"}, AF(WHEELCHAIR_ACCESSIBLE)},
    {{"車椅子貸出"}, AF(WHEELCHAIR_LOAN)},
    {{"バリアフリートイレ", "多機能トイレ", "車椅子使用者用トイレ有無"}, AF(ACCESSIBLE_TOILET)},
    {{"スロープ、エレベータ、エスカレータ"}, AF(STEP_FREE)},
    {{"点字ブロック等の移動支援"}, AF(TACTILE_PAVING)},
    {{"点字や読上による支援"}, AF(BRAILLE_OR_AUDIO)},
    {{"盲導犬・介助犬、聴導犬同伴"}, AF(ASSISTANCE_DOGS)},
    {{"字幕"}, AF(CAPTIONS)},
    {{"筆談対応"}, AF(WRITTEN_COMMUNICATION)},
    {{"優先駐車場"}, AF(ACCESSIBLE_PARKING)},
    {{"オストメイト対応トイレ", "オストメイト設置トイレ有無"}, AF(OSTOMATE_TOILET)},
    {{"授乳室"}, AF(NURSING_ROOM)},
    {{"おむつ替えコーナー", "乳幼児用設備設置トイレ有無"}, AF(BABY_CHANGING)},
    {{"ベビーカー利用"}, AF(STROLLER_ACCESSIBLE)},
};

#define N_FEATURES (sizeof(feature_columns) / sizeof(feature_columns[0]))

typedef struct import {
    rk_facility_csv_t *csv;
    const rk_facility_csv_options_t *options;
    const char *file;
    int column[N_COLS];
    const char *header[N_COLS]; /* the file's own spelling, for messages */
    int feature_column[N_FEATURES];
    size_t width;
    size_t short_row_fields, short_row_line; /* the last row read, when it was short */
} import_t;

/* --- helpers ------------------------------------------------------------------------------- */

/* Moves a malloc'd string (NULL = "") into the arena. */
static const char *keep(rk_facility_csv_t *csv, char *text)
{
    const char *copy = rk_arena_strdup(csv->arena, text ? text : "");
    free(text);
    return copy;
}

static void problem(import_t *im, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(import_t *im, size_t line, const char *fmt, ...)
{
    rk_facility_csv_t *csv = im->csv;
    if (csv->n_problems >= RK_FACILITY_CSV_MAX_PROBLEMS) {
        csv->more_problems++;
        return;
    }
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (csv->n_problems == 0)
        csv->problems =
            rk_arena_calloc(csv->arena, RK_FACILITY_CSV_MAX_PROBLEMS, sizeof(*csv->problems));
    csv->problems[csv->n_problems++] =
        rk_arena_printf(csv->arena, "%s:%zu: %s", im->file, line, text);
}

/* "有", "○", "可", "1"… or a count above zero: the feature is there. */
static int yes(const char *value)
{
    static const char *const words[] = {"有", "有り", "あり", "可",   "可能", "対応", "○",
                                        "◯",  "〇",   "●",    "true", "yes",  "TRUE", "YES"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcmp(value, words[i]) == 0)
            return 1;
    }
    char *end;
    errno = 0;
    long count = strtol(value, &end, 10);
    return *value && !*end && errno == 0 && count > 0;
}

/* At most 40 bytes of text for a message, never cutting a UTF-8 character. */
static const char *clip(char out[48], const char *text)
{
    size_t len = strlen(text);
    if (len > 40) {
        len = 40;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(out, text, len);
    out[len] = '\0';
    return out;
}

static int id_ok(const char *id)
{
    size_t len = strlen(id);
    return len >= 1 && len <= RK_FACILITY_ID_MAX &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == len;
}

static int digits_only(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s);
}

/* --- the header ---------------------------------------------------------------------------- */

static int names_match(const char *header, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n && names[i]; i++) {
        if (strcmp(header, names[i]) == 0)
            return 1;
    }
    return 0;
}

static int read_header(import_t *im, const rk_csv_row_t *row, char *why, size_t why_len)
{
    for (int c = 0; c < N_COLS; c++)
        im->column[c] = -1;
    for (size_t f = 0; f < N_FEATURES; f++)
        im->feature_column[f] = -1;
    im->width = row->n_fields;
    for (size_t i = row->n_fields; i-- > 0;) { /* backwards: the first of twins wins */
        char *header = rk_text_normalize(row->fields[i], RK_TEXT_TIDY);
        if (!header)
            continue;
        for (int c = 0; c < N_COLS; c++) {
            if (names_match(header, column_names[c], 4)) {
                im->column[c] = (int)i;
                im->header[c] = rk_arena_strdup(im->csv->arena, header);
            }
        }
        for (size_t f = 0; f < N_FEATURES; f++) {
            if (names_match(header, feature_columns[f].names, 3))
                im->feature_column[f] = (int)i;
        }
        free(header);
    }
    if (im->column[COL_NAME] < 0) {
        snprintf(why, why_len,
                 "line %zu: no column 名称: not a 公共施設一覧 file (its header names the columns)",
                 row->line);
        return -1;
    }
    int gif =
        im->column[COL_PREFECTURE] >= 0 ||
        (im->column[COL_ADDRESS] >= 0 && strcmp(im->header[COL_ADDRESS], "所在地_連結表記") == 0);
    im->csv->layout = gif ? "GIF 56-column" : "推奨データセット";
    return 0;
}

/* --- one row ------------------------------------------------------------------------------- */

#define FIELD(c) (im->column[c] >= 0 ? row->fields[im->column[c]] : "")
#define HEADER(c) (im->header[c] ? im->header[c] : column_names[c][0])

/* Latitude and longitude: 0 with *located, or -1 after a problem (the row is skipped). */
static int read_location(import_t *im, const rk_csv_row_t *row, rk_facility_record_t *r)
{
    char *lat_text = rk_text_normalize(FIELD(COL_LAT), RK_TEXT_TIDY),
         *lon_text = rk_text_normalize(FIELD(COL_LON), RK_TEXT_TIDY);
    int rc = 0;
    if (!*lat_text && !*lon_text) {
        r->located = 0;
    } else if (!*lat_text || !*lon_text) {
        problem(im, row->line, "%s: given without %s; row skipped",
                HEADER(*lat_text ? COL_LAT : COL_LON), HEADER(*lat_text ? COL_LON : COL_LAT));
        rc = -1;
    } else {
        char shown[48];
        char *end_lat, *end_lon;
        double lat = strtod(lat_text, &end_lat), lon = strtod(lon_text, &end_lon);
        if (*end_lat || !isfinite(lat) || lat < -90 || lat > 90) {
            problem(im, row->line, "%s: \"%s\" is not a latitude (-90 to 90); row skipped",
                    HEADER(COL_LAT), clip(shown, lat_text));
            rc = -1;
        } else if (*end_lon || !isfinite(lon) || lon < -180 || lon > 180) {
            problem(im, row->line, "%s: \"%s\" is not a longitude (-180 to 180); row skipped",
                    HEADER(COL_LON), clip(shown, lon_text));
            rc = -1;
        } else {
            r->located = !(lat == 0 && lon == 0);
            r->latitude = lat;
            r->longitude = lon;
        }
    }
    free(lat_text);
    free(lon_text);
    return rc;
}

/* 所在地_連結表記, or the parts it joins, and the building (方書). */
static const char *read_address(import_t *im, const rk_csv_row_t *row)
{
    char joined[4096];
    if (*FIELD(COL_ADDRESS))
        snprintf(joined, sizeof(joined), "%s", FIELD(COL_ADDRESS));
    else
        snprintf(joined, sizeof(joined), "%s%s%s%s", FIELD(COL_PREFECTURE), FIELD(COL_CITY),
                 FIELD(COL_TOWN), FIELD(COL_BLOCK));
    if (*FIELD(COL_BUILDING)) {
        size_t len = strlen(joined);
        snprintf(joined + len, sizeof(joined) - len, " %s", FIELD(COL_BUILDING));
    }
    return keep(im->csv, rk_text_normalize(joined, RK_TEXT_ADDRESS));
}

/* "月〜金 8:30〜22:00（年末年始は休館）" from the hours columns; "" when none is given. */
static const char *read_hours(import_t *im, const rk_csv_row_t *row)
{
    char *days = rk_text_normalize(FIELD(COL_DAYS), RK_TEXT_TIDY),
         *opens = rk_text_normalize(FIELD(COL_OPENS), RK_TEXT_TIDY);
    char *closes = rk_text_normalize(FIELD(COL_CLOSES), RK_TEXT_TIDY),
         *notes = rk_text_normalize(FIELD(COL_HOURS_NOTES), RK_TEXT_TIDY);
    char hours[2048] = "";
    if (*opens || *closes)
        snprintf(hours, sizeof(hours), "%s%s%s〜%s", days, *days ? " " : "", opens, closes);
    else
        snprintf(hours, sizeof(hours), "%s", days);
    if (*notes) {
        size_t len = strlen(hours);
        snprintf(hours + len, sizeof(hours) - len, *hours ? "（%s）" : "%s", notes);
    }
    free(days);
    free(opens);
    free(closes);
    free(notes);
    return rk_arena_strdup(im->csv->arena, hours);
}

/* An http(s) address (https only when https_only); "" after a problem when it is not one. */
static const char *read_url(import_t *im, const rk_csv_row_t *row, int column, int https_only)
{
    char *url = rk_text_normalize(FIELD(column), RK_TEXT_TIDY);
    int ok = strncmp(url, "https://", 8) == 0 || (!https_only && strncmp(url, "http://", 7) == 0);
    if (*url && (!ok || strchr(url, ' '))) {
        problem(im, row->line, "%s: not an %s address; left out", HEADER(column),
                https_only ? "https://" : "http(s)://");
        url[0] = '\0';
    }
    return keep(im->csv, url);
}

/* 0 with the row read into r, or -1 after a problem (the row is skipped). */
static int read_row(import_t *im, const rk_csv_row_t *row, rk_facility_record_t *r)
{
    rk_facility_csv_t *csv = im->csv;
    if (row->n_fields != im->width) {
        problem(im, row->line, "%zu fields where the header has %zu; row skipped", row->n_fields,
                im->width);
        return -1;
    }
    r->line = row->line;
    r->owner_code = keep(csv, rk_text_normalize(FIELD(COL_OWNER_CODE), RK_TEXT_TIDY));
    const char *own = im->options->municipality_code;
    if (own && *own && *r->owner_code &&
        (!digits_only(r->owner_code) || strncmp(r->owner_code, own, 5) != 0)) {
        char shown[48];
        problem(im, row->line, "%s: %s is not this municipality (%s); row skipped",
                HEADER(COL_OWNER_CODE), clip(shown, r->owner_code), own);
        return -1;
    }
    r->id = keep(csv, rk_text_normalize(FIELD(COL_ID), RK_TEXT_TIDY));
    if (*r->id && !id_ok(r->id)) {
        problem(im, row->line, "%s: must be 1 to %d characters of A-Z a-z 0-9 . _ : -; row skipped",
                HEADER(COL_ID), RK_FACILITY_ID_MAX);
        return -1;
    }
    r->name = keep(csv, rk_text_normalize(FIELD(COL_NAME), RK_TEXT_SPACES));
    if (!*r->name) {
        problem(im, row->line, "%s: empty; row skipped", HEADER(COL_NAME));
        return -1;
    }
    if (read_location(im, row, r) != 0)
        return -1;
    r->name_kana = keep(csv, rk_text_normalize(FIELD(COL_KANA), RK_TEXT_KATAKANA));
    r->name_en = keep(csv, rk_text_normalize(FIELD(COL_EN), RK_TEXT_TIDY));
    r->kind = rk_facility_kind_of_name(r->name);
    r->address = read_address(im, row);
    r->postal_code = keep(csv, rk_text_normalize(FIELD(COL_POSTAL), RK_TEXT_POSTAL_CODE));
    char shown[48];
    if (!*r->postal_code && *FIELD(COL_POSTAL))
        problem(im, row->line, "%s: \"%s\" is not 7 digits; left out", HEADER(COL_POSTAL),
                clip(shown, FIELD(COL_POSTAL)));
    r->phone = keep(csv, rk_text_normalize(FIELD(COL_PHONE), RK_TEXT_PHONE));
    r->url = read_url(im, row, COL_URL, 0);
    r->photo_url = read_url(im, row, COL_IMAGE, 1);
    r->description = keep(csv, rk_text_normalize(FIELD(COL_DESCRIPTION), RK_TEXT_TIDY));
    r->opening_hours = read_hours(im, row);
    r->accessibility_notes =
        keep(csv, rk_text_normalize(FIELD(COL_ACCESSIBILITY_NOTES), RK_TEXT_TIDY));
    for (size_t f = 0; f < N_FEATURES; f++) {
        if (im->feature_column[f] < 0)
            continue;
        char *value = rk_text_normalize(row->fields[im->feature_column[f]], RK_TEXT_TIDY);
        if (value && yes(value))
            r->accessibility[r->n_accessibility++] = feature_columns[f].feature;
        free(value);
    }
    return 0;
}

#undef FIELD
#undef HEADER

static int row_cb(void *ctx, const rk_csv_row_t *row, char *why, size_t why_len)
{
    import_t *im = ctx;
    rk_facility_csv_t *csv = im->csv;
    if (row->index == 0)
        return read_header(im, row, why, why_len);
    csv->rows++;
    if (csv->n_records == csv->cap_records) {
        csv->cap_records = csv->cap_records ? csv->cap_records * 2 : 64;
        csv->records = rk_xrealloc(csv->records, csv->cap_records * sizeof(*csv->records));
    }
    rk_facility_record_t *r = &csv->records[csv->n_records];
    memset(r, 0, sizeof(*r));
    im->short_row_line = row->n_fields < im->width ? row->line : 0;
    im->short_row_fields = row->n_fields;
    if (read_row(im, row, r) != 0) {
        csv->rows_skipped++;
        return 0;
    }
    csv->n_records++;
    return 0;
}

/* --- files --------------------------------------------------------------------------------- */

void rk_facility_csv_free(rk_facility_csv_t *csv)
{
    if (!csv)
        return;
    free(csv->records);
    rk_arena_free(csv->arena);
    free(csv);
}

rk_facility_csv_t *rk_facility_csv_parse(const char *data, size_t len,
                                         const rk_facility_csv_options_t *options, char *why,
                                         size_t why_len)
{
    const char *file = options->file ? options->file : "csv";
    char inner[512];
    char *text = NULL;
    size_t text_len = 0;
    rk_encoding_t used;
    if (rk_text_decode(data, len, options->encoding, &text, &text_len, &used, inner,
                       sizeof(inner)) != 0) {
        snprintf(why, why_len, "%s: %s", file, inner);
        return NULL;
    }
    rk_facility_csv_t *csv = rk_xcalloc(1, sizeof(*csv));
    csv->arena = rk_arena_new();
    csv->encoding = used;
    import_t im = {.csv = csv, .options = options, .file = file};
    int rc = rk_csv_parse(text, text_len, row_cb, &im, inner, sizeof(inner));
    free(text);
    if (rc == 0 && im.short_row_line) {
        snprintf(inner, sizeof(inner),
                 "line %zu: the last row has %zu fields where the header has %zu: the file looks "
                 "cut off (copy it next to the old one, then rename it over)",
                 im.short_row_line, im.short_row_fields, im.width);
        rc = -1;
    }
    if (rc != 0) {
        snprintf(why, why_len, "%s: %s", file, inner);
        rk_facility_csv_free(csv);
        return NULL;
    }
    return csv;
}

rk_facility_csv_t *rk_facility_csv_load(const char *path, const rk_facility_csv_options_t *options,
                                        char *why, size_t why_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_len, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *data = rk_xmalloc(RK_FACILITY_CSV_MAX_FILE + 1);
    size_t len = fread(data, 1, RK_FACILITY_CSV_MAX_FILE + 1, f);
    int read_error = ferror(f);
    fclose(f);
    if (read_error || len > RK_FACILITY_CSV_MAX_FILE) {
        snprintf(why, why_len, "%s: %s", path, read_error ? "read error" : "larger than 16 MiB");
        free(data);
        return NULL;
    }
    rk_facility_csv_options_t named = *options;
    if (!named.file)
        named.file = path;
    rk_facility_csv_t *csv = rk_facility_csv_parse(data, len, &named, why, why_len);
    free(data);
    return csv;
}
