/*
 * sim_csv.h — reads a CSV file row by row with Debian's libcsv, with bounds.
 *
 * Open-data CSV (自治体標準オープンデータセット) is RFC 4180: every field may be quoted, lines
 * end in CRLF, the last line may lack one, and some tools put a UTF-8 byte-order mark first.
 * libcsv does the quoting; this unit adds what a careful importer needs around it: a BOM is
 * skipped, every row must have as many fields as the header, a field longer than
 * SIM_CSV_MAX_FIELD or a row wider than SIM_CSV_MAX_FIELDS is an error naming the line, and
 * malformed quoting (CSV_STRICT) is refused instead of guessed at. Pure: no event loop.
 */
#ifndef SIM_CSV_H
#define SIM_CSV_H

#include <stddef.h>

#define SIM_CSV_MAX_FIELDS 256
#define SIM_CSV_MAX_FIELD 65536
#define SIM_CSV_MAX_FILE (16 * 1024 * 1024)

/**
 * Called once per row, the header first (row 0). fields are NUL-terminated and valid only
 * during the call. Return 0 to go on; non-zero stops with why (already filled by the callback).
 */
typedef int (*sim_csv_row_fn)(void *ctx, size_t row, const char *const *fields, size_t n_fields,
                              char *why, size_t why_len);

/** Parses len bytes of CSV. 0, or -1 with "line N: reason" in why. */
int sim_csv_parse(const char *data, size_t len, sim_csv_row_fn fn, void *ctx, char *why,
                  size_t why_len);
/** Reads and parses a file (at most SIM_CSV_MAX_FILE bytes). 0, or -1 with "path: …" in why. */
int sim_csv_read_file(const char *path, sim_csv_row_fn fn, void *ctx, char *why, size_t why_len);

#endif
