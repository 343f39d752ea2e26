/*
 * facility_csv.h — reads a municipality's 公共施設一覧 (public facility list) in the Digital
 * Agency's standard open-data format into clean records.
 *
 * Two layouts exist and both are read, recognised by their header names, never by column
 * position: the 自治体標準オープンデータセット layout based on the GIF data model (56 columns:
 * ID, 所在地_連結表記, 所在地_都道府県 …, one column per barrier-free feature) and the older
 * 推奨データセット layout (NO, 住所, 方書, 名称_英語, バリアフリー情報 …). Only 名称 is required;
 * every other column is read when present.
 *
 * The file is decoded first (text_encoding.h: UTF-8 with or without BOM, or CP932) and parsed
 * with csv_reader.h. Whatever makes the file unreadable — undecodable bytes, broken quoting, a
 * file cut off (inside a quoted field, or a last row shorter than the header), no 名称 column —
 * fails the whole file with "file: line N: reason": a half-copied file must not read as a
 * shorter list. What is wrong with one row skips that row and is reported as a problem naming the
 * file, the line and the column, and the other rows are read:
 *   - a row with more or fewer fields than the header;
 *   - an empty 名称, or an ID that is not 1–64 characters of A-Z a-z 0-9 . _ : -;
 *   - coordinates that are not numbers, out of range (緯度 −90…90, 経度 −180…180), or one
 *     without the other. Both empty, or both 0 (a placeholder, not a place), mean "no location";
 *   - with options.municipality_code set: a row whose owner code (全国地方公共団体コード,
 *     市区町村コード) names another municipality — a prefecture-wide or merged file serves only
 *     this municipality's rows. Where a facility stands does not matter: 板橋区 runs a nature
 *     school in 長野県 and a seaside school in 千葉県; they are 板橋区's facilities.
 * Fields that are wrong but not essential are dropped with a problem and the row is kept: a
 * postal code that is not 7 digits, a URL that is not http(s).
 *
 * Text is normalised (text_normalize.h): full-width digits, dashes and spaces in addresses,
 * phone numbers and postal codes; readings in katakana. Names are kept as written (apart from
 * NFKC-safe trimming of spaces): "城北野球場Ｂ面" stays. The kind comes from the name
 * (facility_kind_words.h). Pure: no event loop. Used by the sim's CSV import and the opendata
 * adapter.
 */
#ifndef RK_FACILITY_CSV_H
#define RK_FACILITY_CSV_H

#include "core/mem.h"
#include "renkei/v1/facility.pb-c.h"
#include "text_encoding.h"

#include <stddef.h>

#define RK_FACILITY_CSV_MAX_FILE (16 * 1024 * 1024)
#define RK_FACILITY_CSV_MAX_PROBLEMS 200 /* kept; more are only counted */
#define RK_FACILITY_ID_MAX 64
#define RK_FACILITY_MAX_FEATURES 17

/** One facility row. Strings are never NULL ("" when the file does not say). */
typedef struct rk_facility_record {
    size_t line;            /* first line of the row in its file */
    const char *id;         /* ID (or NO); "" when the file gives none */
    const char *owner_code; /* 全国地方公共団体コード of the row, as given (tidied) */
    const char *name, *name_kana, *name_en;
    Renkei__V1__FacilityKind kind;
    const char *address;     /* 所在地_連結表記 (or its parts) and 方書, normalised */
    const char *postal_code; /* "173-8501" or "" */
    const char *phone;
    const char *url;         /* http(s) only */
    const char *photo_url;   /* 画像, https only */
    const char *description; /* 説明 */
    const char *opening_hours; /* 利用可能曜日 開始時間〜終了時間 and 利用可能時間特記事項 */
    const char *accessibility_notes; /* バリアフリー情報 (older layout) */
    int located;                     /* latitude and longitude are set */
    double latitude, longitude;
    Renkei__V1__AccessibilityFeature accessibility[RK_FACILITY_MAX_FEATURES];
    size_t n_accessibility;
} rk_facility_record_t;

/** A read file: its good rows and what was wrong with the others. */
typedef struct rk_facility_csv {
    rk_arena_t *arena; /* every string below */
    rk_facility_record_t *records;
    size_t n_records, cap_records;
    const char **problems; /* "file:line: column: reason; row skipped" */
    size_t n_problems, more_problems;
    size_t rows;            /* data rows read, skipped ones included */
    size_t rows_skipped;    /* rows not in records */
    rk_encoding_t encoding; /* the encoding found */
    const char *layout; /* "GIF 56-column" or "推奨データセット" (a guess from the header) */
} rk_facility_csv_t;

typedef struct rk_facility_csv_options {
    const char *file;              /* for messages; NULL = the path (load) or "csv" (parse) */
    const char *municipality_code; /* skip rows another code owns; NULL or "" = keep all */
    rk_encoding_t encoding;        /* RK_ENCODING_AUTO to detect */
} rk_facility_csv_options_t;

/**
 * Reads len bytes of a 公共施設一覧 file. Returns the result (free it with
 * rk_facility_csv_free), or NULL with "file: line N: reason" in why when the file as a whole
 * cannot be read.
 */
rk_facility_csv_t *rk_facility_csv_parse(const char *data, size_t len,
                                         const rk_facility_csv_options_t *options, char *why,
                                         size_t why_len);
/** As rk_facility_csv_parse() from a file of at most RK_FACILITY_CSV_MAX_FILE bytes. */
rk_facility_csv_t *rk_facility_csv_load(const char *path, const rk_facility_csv_options_t *options,
                                        char *why, size_t why_len);
void rk_facility_csv_free(rk_facility_csv_t *csv);

#endif
