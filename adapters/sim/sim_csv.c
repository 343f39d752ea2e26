/*
 * sim_csv.c — bounded CSV rows over libcsv (see sim_csv.h).
 */
#include "sim_csv.h"

#include "core/mem.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
    sim_csv_row_fn fn;
    void *ctx;
    char *fields[SIM_CSV_MAX_FIELDS];
    size_t n_fields;
    size_t header_fields;
    size_t row;
    size_t line; /* 1-based line of the row being read, for messages */
    int failed;
    char *why;
    size_t why_len;
} reader_t;

static void field_cb(void *data, size_t len, void *arg)
{
    reader_t *r = arg;
    if (r->failed)
        return;
    if (r->n_fields >= SIM_CSV_MAX_FIELDS) {
        snprintf(r->why, r->why_len, "line %zu: more than %d fields", r->line, SIM_CSV_MAX_FIELDS);
        r->failed = 1;
        return;
    }
    if (len > SIM_CSV_MAX_FIELD) {
        snprintf(r->why, r->why_len, "line %zu: field %zu is longer than %d bytes", r->line,
                 r->n_fields + 1, SIM_CSV_MAX_FIELD);
        r->failed = 1;
        return;
    }
    r->fields[r->n_fields++] = rk_xstrndup(data ? data : "", data ? len : 0);
}

static void clear_fields(reader_t *r)
{
    for (size_t i = 0; i < r->n_fields; i++)
        free(r->fields[i]);
    r->n_fields = 0;
}

static void row_cb(int terminator, void *arg)
{
    (void)terminator;
    reader_t *r = arg;
    if (!r->failed) {
        if (r->row == 0) {
            r->header_fields = r->n_fields;
        } else if (r->n_fields != r->header_fields) {
            snprintf(r->why, r->why_len, "line %zu: %zu fields where the header has %zu", r->line,
                     r->n_fields, r->header_fields);
            r->failed = 1;
        }
        if (!r->failed &&
            r->fn(r->ctx, r->row, (const char *const *)r->fields, r->n_fields, r->why, r->why_len))
            r->failed = 1;
    }
    clear_fields(r);
    r->row++;
}

int sim_csv_parse(const char *data, size_t len, sim_csv_row_fn fn, void *ctx, char *why,
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
    reader_t r = {.fn = fn, .ctx = ctx, .why = why, .why_len = why_len, .line = 1};
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
        snprintf(why, why_len, "line %zu: %s", r.line, csv_strerror(csv_error(&parser)));
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

int sim_csv_read_file(const char *path, sim_csv_row_fn fn, void *ctx, char *why, size_t why_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *data = rk_xmalloc(SIM_CSV_MAX_FILE + 1);
    size_t len = fread(data, 1, SIM_CSV_MAX_FILE + 1, f);
    int read_error = ferror(f);
    fclose(f);
    if (read_error || len > SIM_CSV_MAX_FILE) {
        snprintf(why, why_len, "%s: %s", path, read_error ? "read error" : "larger than 16 MiB");
        free(data);
        return -1;
    }
    char inner[256];
    int rc = sim_csv_parse(data, len, fn, ctx, inner, sizeof(inner));
    if (rc != 0)
        snprintf(why, why_len, "%s: %s", path, inner);
    free(data);
    return rc;
}
