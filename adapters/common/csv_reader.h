/*
 * csv_reader.h — reads CSV text row by row with Debian's libcsv, with bounds and line numbers.
 *
 * Open-data CSV (自治体標準オープンデータセット) is RFC 4180: every field may be quoted, lines
 * end in CRLF, the last line may lack one, quoted fields may hold newlines, and some tools put a
 * UTF-8 byte-order mark first. libcsv does the quoting; this unit adds what a careful importer
 * needs around it: a BOM is skipped, each row says on which line of the text it starts (a
 * quoted newline does not shift the rows after it), a field longer than RK_CSV_MAX_FIELD or a
 * row wider than RK_CSV_MAX_FIELDS is an error naming the line, and malformed quoting
 * (CSV_STRICT) — a stray quote, a file cut off inside a quoted field — is refused instead of
 * guessed at. Rows may have any number of fields: what a short or long row means is the
 * caller's rule. Pure: no event loop, no I/O. Used by facility_csv.c.
 */
#ifndef RK_CSV_READER_H
#define RK_CSV_READER_H

#include <stddef.h>

#define RK_CSV_MAX_FIELDS 256
#define RK_CSV_MAX_FIELD 65536

/** One row as the callback sees it; everything is valid only during the call. */
typedef struct rk_csv_row {
    size_t index;              /* 0 = the header, then 1, 2, … */
    size_t line;               /* 1-based line of the text on which the row starts */
    const char *const *fields; /* NUL-terminated (a field holding a NUL byte ends there) */
    size_t n_fields;
} rk_csv_row_t;

/**
 * Called once per row, the header first. Return 0 to go on; non-zero stops the parse with why
 * (already filled by the callback).
 */
typedef int (*rk_csv_row_fn)(void *ctx, const rk_csv_row_t *row, char *why, size_t why_len);

/** Parses len bytes of CSV. 0, or -1 with "line N: reason" (or the callback's why) in why. */
int rk_csv_parse(const char *data, size_t len, rk_csv_row_fn fn, void *ctx, char *why,
                 size_t why_len);

#endif
