/*
 * csv_reader.c — bounded CSV rows over libcsv, with line numbers (see csv_reader.h).
 */
#include "csv_reader.h"

#include "core/mem.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
    rk_csv_row_fn fn;
    void *ctx;
    char *fields[RK_CSV_MAX_FIELDS];
    size_t n_fields;
    size_t newlines_in_fields; /* quoted newlines of the row being read */
    size_t row;
    size_t line;      /* 1-based line being fed to libcsv */
    size_t next_line; /* where the row after the last one ended starts (blank lines aside) */
    int failed;
    char *why;
    size_t why_len;
} reader_t;

static void field_cb(void *data, size_t len, void *arg)
{
    reader_t *r = arg;
    if (r->failed)
        return;
    if (r->n_fields >= RK_CSV_MAX_FIELDS) {
        snprintf(r->why, r->why_len, "line %zu: more than %d fields", r->line, RK_CSV_MAX_FIELDS);
        r->failed = 1;
        return;
    }
    if (len > RK_CSV_MAX_FIELD) {
        snprintf(r->why, r->why_len, "line %zu: field %zu is longer than %d bytes", r->line,
                 r->n_fields + 1, RK_CSV_MAX_FIELD);
        r->failed = 1;
        return;
    }
    const char *text = data ? data : "";
    for (const char *p = text; (p = memchr(p, '\n', len - (size_t)(p - text))) != NULL; p++)
        r->newlines_in_fields++;
    r->fields[r->n_fields++] = rk_xstrndup(text, data ? len : 0);
}

static void clear_fields(reader_t *r)
{
    for (size_t i = 0; i < r->n_fields; i++)
        free(r->fields[i]);
    r->n_fields = 0;
    r->newlines_in_fields = 0;
}

/* libcsv ends a row on its terminator, so the row began as many lines back as its fields
 * hold newlines. */
static void row_cb(int terminator, void *arg)
{
    (void)terminator;
    reader_t *r = arg;
    if (!r->failed) {
        rk_csv_row_t row = {.index = r->row,
                            .line = r->line - r->newlines_in_fields,
                            .fields = (const char *const *)r->fields,
                            .n_fields = r->n_fields};
        if (r->fn(r->ctx, &row, r->why, r->why_len))
            r->failed = 1;
    }
    clear_fields(r);
    r->row++;
    r->next_line = r->line + 1;
}

int rk_csv_parse(const char *data, size_t len, rk_csv_row_fn fn, void *ctx, char *why,
                 size_t why_len)
{
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    struct csv_parser parser;
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0) {
        snprintf(why, why_len, "cannot start the CSV parser");
        return -1;
    }
    reader_t r = {.fn = fn, .ctx = ctx, .why = why, .why_len = why_len, .line = 1, .next_line = 1};
    /* Feed line by line so that an error can name its line; quoted newlines carry over. */
    size_t pos = 0;
    while (pos < len && !r.failed) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t chunk = nl ? (size_t)(nl - (data + pos)) + 1 : len - pos;
        if (csv_parse(&parser, data + pos, chunk, field_cb, row_cb, &r) != chunk) {
            snprintf(why, why_len, "line %zu: %s", r.line, csv_strerror(csv_error(&parser)));
            r.failed = 1;
            break;
        }
        pos += chunk;
        r.line += nl != NULL; /* libcsv does not count lines; messages should name one */
    }
    if (!r.failed && csv_fini(&parser, field_cb, row_cb, &r) != 0) {
        snprintf(why, why_len, "line %zu: %s (the file ends inside a quoted field of this row)",
                 r.next_line, csv_strerror(csv_error(&parser)));
        r.failed = 1;
    }
    clear_fields(&r);
    csv_free(&parser);
    if (!r.failed && r.row == 0) {
        snprintf(why, why_len, "the file has no header row");
        return -1;
    }
    return r.failed ? -1 : 0;
}
