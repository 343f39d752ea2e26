/*
 * pupil_commands.c — `renkeictl pupil issue|import` (see pupil_commands.h):
 *
 *   pupil issue --tenant T --school NAME --grade N [--display-name NAME]
 *   pupil import --tenant T FILE.csv
 *
 * issue asks the hub for one pupil ID and prints it with its initial password, which the hub
 * shows only this once (it keeps the argon2id hash). import does the same for each row of a
 * school board's roster — a CSV file (UTF-8, RFC 4180, read with adapters/common/csv_reader)
 * whose header names the columns school, grade and, optionally, display_name in any order —
 * and prints one CSV line per pupil issued (line, pupil_id, initial_password, school, grade,
 * age_band, valid_until). A row the hub refuses, or that is malformed, is reported on stderr as
 * FILE:LINE with the field and the rule; the rest are issued all the same, and the exit status
 * is then 1. The hub judges the values (school kind, grade range): its message names the field.
 */
#include "ctl/pupil_commands.h"

#include "csv_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROSTER_MAX (8 * 1024 * 1024)

#define PUPIL_USAGE_LINES                                                                          \
    "  pupil issue --tenant T --school NAME --grade N [--display-name NAME]\n"                     \
    "  pupil import --tenant T FILE.csv   (columns school, grade[, display_name])\n"

const char rk_ctl_pupil_usage[] = PUPIL_USAGE_LINES;

static const char pupil_usage[] =
    "usage: renkeictl [--hub URL] [--json] pupil issue|import ...\n" PUPIL_USAGE_LINES
    "  N is the grade at that school: 1-6 at a …小学校, 1-3 at a …中学校, 1-9 at a\n"
    "  …義務教育学校. The pupil ID works until 31 March (JST) of the year the pupil leaves\n"
    "  中学校. The initial password is printed once: the hub keeps only its hash.\n";

typedef struct options {
    const char *tenant, *school, *grade, *display_name, *file;
} options_t;

static int parse(int argc, char **argv, options_t *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strncmp(opt, "--", 2) != 0) {
            if (o->file)
                return rk_ctl_usage_error(pupil_usage, "pupil %s: one FILE only", argv[0]);
            o->file = opt;
            continue;
        }
        if (i + 1 >= argc)
            return rk_ctl_usage_error(pupil_usage, "pupil %s: %s needs a value", argv[0], opt);
        const char *value = argv[++i];
        const char **slot = strcmp(opt, "--tenant") == 0         ? &o->tenant
                            : strcmp(opt, "--school") == 0       ? &o->school
                            : strcmp(opt, "--grade") == 0        ? &o->grade
                            : strcmp(opt, "--display-name") == 0 ? &o->display_name
                                                                 : NULL;
        if (!slot)
            return rk_ctl_usage_error(pupil_usage, "pupil %s: %s: unknown option", argv[0], opt);
        *slot = value;
    }
    if (!o->tenant || !*o->tenant || strlen(o->tenant) > 31 ||
        strspn(o->tenant, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(o->tenant))
        return rk_ctl_usage_error(pupil_usage, "pupil %s: --tenant is required: a tenant slug",
                                  argv[0]);
    return 0;
}

/* The request for one pupil; NULL with *why when grade is not a whole number or a text is not
 * UTF-8. */
static json_t *pupil_request(const char *school, const char *grade, const char *display_name,
                             const char **why)
{
    char *end = NULL;
    long n = grade && *grade ? strtol(grade, &end, 10) : 0;
    if (!grade || !*grade || *end || n < 0 || n > 99) {
        *why = "grade: must be a whole number (the grade at the school)";
        return NULL;
    }
    json_t *request = json_pack("{s:s, s:i}", "school", school ? school : "", "grade", (int)n);
    if (request && display_name && *display_name &&
        json_object_set_new(request, "display_name", json_string(display_name)) != 0) {
        json_decref(request);
        request = NULL;
    }
    if (!request)
        *why = "school, display_name: must be UTF-8";
    return request;
}

/* POSTs request (taken) for tenant; the hub's answer, or NULL after it was reported. */
static json_t *issue(const rk_ctl_t *ctl, const char *tenant, json_t *request, int *rc)
{
    char path[96];
    snprintf(path, sizeof(path), "/admin/v1/realms/%s/pupils", tenant);
    json_t *answer = rk_ctl_admin_call(ctl, "POST", path, request, rc);
    json_decref(request);
    return answer;
}

static const char *text(const json_t *pupil, const char *key)
{
    const char *s = json_string_value(json_object_get(pupil, key));
    return s ? s : "";
}

static int pupil_issue(const rk_ctl_t *ctl, const options_t *o)
{
    if (!o->school || !o->grade || o->file)
        return rk_ctl_usage_error(pupil_usage, "%s",
                                  "pupil issue: --school and --grade are required (no FILE)");
    const char *why = NULL;
    json_t *request = pupil_request(o->school, o->grade, o->display_name, &why);
    if (!request)
        return rk_ctl_usage_error(pupil_usage, "pupil issue: --%s", why);
    int rc = 0;
    json_t *pupil = issue(ctl, o->tenant, request, &rc);
    if (!pupil)
        return rc;
    if (ctl->json)
        rk_ctl_print_json(pupil);
    else
        printf("pupil ID          %s\ninitial password  %s   (shown once)\nschool            %s "
               "(grade %lld overall)\nage band          %s\nvalid until       %s\n",
               text(pupil, "pupil_id"), text(pupil, "initial_password"), text(pupil, "school"),
               (long long)json_integer_value(json_object_get(pupil, "grade")),
               text(pupil, "age_band"), text(pupil, "valid_until"));
    json_decref(pupil);
    return 0;
}

/* --- import ----------------------------------------------------------------------------------- */

typedef struct roster {
    const rk_ctl_t *ctl;
    const char *tenant, *file;
    int school, grade, display_name; /* column indexes; -1 when absent */
    int issued, refused;
} roster_t;

/* CSV: a field quoted when it holds a comma, a quote or a line break. */
static void put_csv(const char *s, int last)
{
    if (strpbrk(s, ",\"\r\n")) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"')
                putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
    putchar(last ? '\n' : ',');
}

static const char *field(const rk_csv_row_t *row, int column)
{
    return column >= 0 && (size_t)column < row->n_fields ? row->fields[column] : NULL;
}

static int roster_row(void *ctx, const rk_csv_row_t *row, char *why, size_t why_len)
{
    roster_t *r = ctx;
    if (row->index == 0) {
        r->school = r->grade = r->display_name = -1;
        for (size_t i = 0; i < row->n_fields; i++) {
            const char *name = row->fields[i];
            int *column = strcmp(name, "school") == 0         ? &r->school
                          : strcmp(name, "grade") == 0        ? &r->grade
                          : strcmp(name, "display_name") == 0 ? &r->display_name
                                                              : NULL;
            if (!column || *column >= 0) {
                snprintf(why, why_len,
                         "line %zu: the header must name the columns school, grade and "
                         "optionally display_name, each once",
                         row->line);
                return -1;
            }
            *column = (int)i;
        }
        if (r->school < 0 || r->grade < 0) {
            snprintf(why, why_len, "line %zu: the header must name the columns school and grade",
                     row->line);
            return -1;
        }
        printf("line,pupil_id,initial_password,school,grade,age_band,valid_until\n");
        return 0;
    }
    fflush(stdout);
    const char *problem = NULL;
    json_t *request = NULL;
    if (row->n_fields == 1 && !*row->fields[0])
        return 0; /* a blank line */
    if (!field(row, r->school) || !field(row, r->grade))
        problem = "school, grade: the row has fewer columns than the header";
    else
        request = pupil_request(field(row, r->school), field(row, r->grade),
                                field(row, r->display_name), &problem);
    if (!request) {
        fprintf(stderr, "%s:%zu: %s\n", r->file, row->line, problem);
        r->refused++;
        return 0;
    }
    fprintf(stderr, "%s:%zu: ", r->file, row->line); /* the hub's refusal, if any, follows */
    int rc = 0;
    rk_ctl_t quiet = *r->ctl;
    quiet.json = 0;
    json_t *pupil = issue(&quiet, r->tenant, request, &rc);
    if (!pupil) {
        r->refused++;
        return 0;
    }
    fprintf(stderr, "issued\n");
    char line[24], grade[24];
    snprintf(line, sizeof(line), "%zu", row->line);
    snprintf(grade, sizeof(grade), "%lld",
             (long long)json_integer_value(json_object_get(pupil, "grade")));
    put_csv(line, 0);
    put_csv(text(pupil, "pupil_id"), 0);
    put_csv(text(pupil, "initial_password"), 0);
    put_csv(text(pupil, "school"), 0);
    put_csv(grade, 0);
    put_csv(text(pupil, "age_band"), 0);
    put_csv(text(pupil, "valid_until"), 1);
    json_decref(pupil);
    r->issued++;
    return 0;
}

/* The file's bytes (at most ROSTER_MAX); NULL after reporting. free() it. */
static char *read_roster(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "renkeictl: %s: cannot open\n", path);
        return NULL;
    }
    char *data = malloc(ROSTER_MAX + 1);
    *len = data ? fread(data, 1, ROSTER_MAX + 1, f) : 0;
    int failed = ferror(f);
    fclose(f);
    if (!data || failed || *len > ROSTER_MAX) {
        fprintf(stderr, "renkeictl: %s: %s\n", path,
                failed ? "cannot be read" : "larger than 8 MiB");
        free(data);
        return NULL;
    }
    return data;
}

static int pupil_import(const rk_ctl_t *ctl, const options_t *o)
{
    if (!o->file || o->school || o->grade || o->display_name)
        return rk_ctl_usage_error(pupil_usage, "%s",
                                  "pupil import: FILE.csv is required (and no --school, --grade)");
    size_t len = 0;
    char *data = read_roster(o->file, &len);
    if (!data)
        return 1;
    roster_t r = {.ctl = ctl, .tenant = o->tenant, .file = o->file};
    char why[256];
    int rc = rk_csv_parse(data, len, roster_row, &r, why, sizeof(why));
    free(data);
    fflush(stdout);
    if (rc != 0) {
        fprintf(stderr, "renkeictl: %s: %s (rows before it were issued)\n", o->file, why);
        return 1;
    }
    fprintf(stderr, "renkeictl: %s: %d pupil IDs issued, %d rows refused\n", o->file, r.issued,
            r.refused);
    return r.refused ? 1 : 0;
}

int rk_ctl_pupil_command(const rk_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 1)
        return rk_ctl_usage_error(pupil_usage, "%s", "pupil: say issue or import");
    options_t o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    if (strcmp(argv[0], "issue") == 0)
        return pupil_issue(ctl, &o);
    if (strcmp(argv[0], "import") == 0)
        return pupil_import(ctl, &o);
    return rk_ctl_usage_error(pupil_usage, "pupil %s: say issue or import", argv[0]);
}
