/*
 * text_encoding.h — turns a municipality's text file into UTF-8: UTF-8 with or without a
 * byte-order mark, or Shift_JIS as Japanese offices write it (CP932, Windows-31J).
 *
 * Open data from Japanese municipalities comes in both: Excel saves CSV as CP932 unless told
 * otherwise, newer portals publish UTF-8 with a BOM. Detection: a UTF-8 BOM means UTF-8; text
 * that is valid UTF-8 is UTF-8 (Shift_JIS text with kanji is practically never valid UTF-8);
 * anything else is decoded as CP932. A file that is neither is refused with the line of the
 * first byte that could not be decoded, so that the operator can find it. CP932, not strict
 * Shift_JIS: real files use its extensions (全角ハイフン －, ①, ㈱) that strict Shift_JIS lacks.
 * Conversion and validation are glibc's iconv; NUL bytes are refused (no text file has one).
 * Pure: no event loop. Used by facility_csv.c.
 */
#ifndef RK_TEXT_ENCODING_H
#define RK_TEXT_ENCODING_H

#include <stddef.h>

typedef enum {
    RK_ENCODING_AUTO = 0,  /* detect: BOM, valid UTF-8, else CP932 */
    RK_ENCODING_UTF8,      /* UTF-8, a BOM allowed */
    RK_ENCODING_SHIFT_JIS, /* CP932 */
} rk_encoding_t;

/** "auto", "utf-8" (or "utf8"), "shift_jis" (or "cp932", "sjis"): 0, or -1 if unknown. */
int rk_encoding_parse(const char *name, rk_encoding_t *out);
/** "utf-8" or "shift_jis" ("auto" for RK_ENCODING_AUTO). */
const char *rk_encoding_name(rk_encoding_t encoding);

/**
 * Decodes len bytes in encoding (or detected) into UTF-8 without a BOM. On success returns 0,
 * *out is a malloc'd NUL-terminated copy the caller frees, *out_len its length and *used the
 * encoding found. Otherwise -1 with "line N: reason" in why and *out NULL.
 */
int rk_text_decode(const char *data, size_t len, rk_encoding_t encoding, char **out,
                   size_t *out_len, rk_encoding_t *used, char *why, size_t why_len);

#endif
