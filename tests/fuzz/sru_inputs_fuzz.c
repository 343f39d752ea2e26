/*
 * sru_inputs_fuzz.c — libFuzzer target for what the sru adapter reads from outside: the search
 * text a caller sends (adapters/sru/sru_cql.c), the ISBNs (sru_isbn.c) and the SRU answers a
 * catalogue server sends back (sru_marc.c).
 *
 * The first byte of an input picks the routine, the rest is its input. Every input must end in
 * a result or a refusal: no crash, no read past the bounds, and
 *   - a CQL query never lets the text out of its quoted terms: outside quotes there are only the
 *     builder's index names, relations, "and"/"or" and parentheses; inside, every quote and
 *     backslash is escaped and a masking character (* ? ^) is unescaped only as the prefix
 *     wildcard after an NDC class of digits;
 *   - an ISBN result is 13 digits with a right check digit;
 *   - a parsed answer's strings are NUL-terminated and at most SRU_MARC_TEXT_MAX bytes.
 */
#include "sru_cql.h"
#include "sru_isbn.h"
#include "sru_marc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what, const char *text)
{
    fprintf(stderr, "sru_inputs: %s: %s\n", what, text);
    abort();
}

static void check_cql(const char *q)
{
    static const char outside_ok[] = "abcdefghijklmnopqrstuvwxyzACDEFGHIJKLMNOPQRSTUVWXYZB.=() ";
    int quoted = 0;
    size_t term_start = 0;
    for (size_t i = 0; q[i]; i++) {
        char c = q[i];
        if (!quoted) {
            if (c == '"') {
                quoted = 1;
                term_start = i + 1;
            } else if (!strchr(outside_ok, c)) {
                fail("a character outside the quoted terms", q);
            }
            continue;
        }
        if (c == '\\') {
            if (!q[i + 1] || !strchr("\\\"*?^", q[i + 1]))
                fail("a backslash that escapes nothing", q);
            i++;
        } else if (c == '"') {
            quoted = 0;
        } else if (c == '*' || c == '?' || c == '^') {
            /* Only "913*": digits and dots before it, the closing quote after it. */
            if (c != '*' || q[i + 1] != '"' || i == term_start ||
                strspn(q + term_start, "0123456789.") != i - term_start)
                fail("an unescaped masking character", q);
        }
    }
    if (quoted)
        fail("an unterminated term", q);
}

static void check_isbn(const char *isbn)
{
    if (strlen(isbn) != 13 || strspn(isbn, "0123456789") != 13)
        fail("an ISBN-13 that is not 13 digits", isbn);
    int sum = 0;
    for (int i = 0; i < 12; i++)
        sum += (isbn[i] - '0') * (i % 2 ? 3 : 1);
    if (isbn[12] - '0' != (10 - sum % 10) % 10)
        fail("an ISBN-13 with a wrong check digit", isbn);
}

static void check_text(const char *s)
{
    if (strlen(s) > SRU_MARC_TEXT_MAX)
        fail("a string longer than its bound", "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    unsigned which = data[0] % 3;
    size_t len = size - 1;
    char *text = malloc(len + 1);
    memcpy(text, data + 1, len);
    text[len] = '\0';
    if (which == 0) {
        /* Up to five fields separated by newlines: isbn, title, author, keyword, subject. */
        const char *fields[5] = {"", "", "", "", ""};
        char *p = text;
        for (int f = 0; f < 5 && p; f++) {
            fields[f] = p;
            p = strchr(p, '\n');
            if (p)
                *p++ = '\0';
        }
        sru_search_terms_t terms = {fields[0], fields[1], fields[2], fields[3], fields[4]};
        char cql[SRU_CQL_MAX];
        const char *field, *why;
        if (sru_cql_search(&terms, cql, &field, &why) == 0)
            check_cql(cql);
        const char *ids[] = {fields[1]};
        if (sru_cql_record_ids(ids, 1, cql, &why) == 0)
            check_cql(cql);
        if (sru_cql_item(fields[2], cql, &why) == 0)
            check_cql(cql);
    } else if (which == 1) {
        char isbn[14], ten[11];
        if (sru_isbn_to13(text, len, isbn) == 0) {
            check_isbn(isbn);
            if (sru_isbn13_to10(isbn, ten) == 0 && strlen(ten) != 10)
                fail("an ISBN-10 that is not 10 characters", ten);
        }
    } else {
        rk_arena_t *arena = rk_arena_new();
        sru_answer_t answer;
        char why[200];
        if (sru_marc_parse(text, len, arena, &answer, why, sizeof(why)) == 0) {
            for (size_t i = 0; i < answer.n_records; i++) {
                const sru_record_t *r = &answer.records[i];
                check_text(r->id);
                check_text(r->title);
                check_text(r->title_kana);
                if (*r->isbn13)
                    check_isbn(r->isbn13);
                for (size_t a = 0; a < r->n_authors; a++)
                    check_text(r->authors[a].name);
                for (size_t k = 0; k < r->n_items; k++)
                    check_text(r->items[k].barcode);
            }
        }
        rk_arena_free(arena);
    }
    free(text);
    return 0;
}
