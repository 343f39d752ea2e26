/*
 * sru_cql.c — building CQL from search fields, escaping every term (see sru_cql.h).
 */
#include "sru_cql.h"

#include "sru_isbn.h"

#include <stdio.h>
#include <string.h>

typedef struct cql {
    char *text; /* SRU_CQL_MAX bytes */
    size_t len;
    int overflow;
} cql_t;

static void put(cql_t *q, const char *s, size_t n)
{
    if (q->overflow || q->len + n >= SRU_CQL_MAX) {
        q->overflow = 1;
        return;
    }
    memcpy(q->text + q->len, s, n);
    q->len += n;
    q->text[q->len] = '\0';
}

static void puts_(cql_t *q, const char *s)
{
    put(q, s, strlen(s));
}

/* index = "word", with \ " * ? ^ escaped so the word stays one literal term. */
static void term(cql_t *q, const char *index, const char *word, size_t len)
{
    if (q->len)
        puts_(q, " and ");
    puts_(q, index);
    puts_(q, " = \"");
    for (size_t i = 0; i < len; i++) {
        if (strchr("\\\"*?^", word[i]))
            put(q, "\\", 1);
        put(q, word + i, 1);
    }
    put(q, "\"", 1);
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), or 0 when it is not one. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80             ? 1
                 : (s[0] & 0xe0) == 0xc0 ? 2
                 : (s[0] & 0xf0) == 0xe0 ? 3
                 : (s[0] & 0xf8) == 0xf0 ? 4
                                         : 0;
    if (!len || len > n || (len == 2 && s[0] < 0xc2))
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    }
    if (len == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
        return 0; /* overlong, or a surrogate */
    if (len == 4 &&
        ((s[0] == 0xf0 && s[1] < 0x90) || s[0] > 0xf4 || (s[0] == 0xf4 && s[1] >= 0x90)))
        return 0;
    return len;
}

/* Checks a field: bounded, UTF-8, no control characters. */
static const char *field_problem(const char *text)
{
    size_t n = strlen(text);
    if (n > SRU_CQL_FIELD_MAX)
        return "at most 256 bytes";
    for (size_t i = 0; i < n;) {
        const unsigned char *c = (const unsigned char *)text + i;
        size_t len = utf8_char(c, n - i);
        if (!len)
            return "must be UTF-8";
        if (len == 1 && (*c < 0x20 || *c == 0x7f))
            return "must not contain control characters";
        i += len;
    }
    return NULL;
}

static int is_space(const char *s, size_t left)
{
    return *s == ' ' || (left >= 3 && memcmp(s, "\xe3\x80\x80", 3) == 0); /* U+3000 */
}

/* A word counts when it has a letter or digit: ASCII alphanumerics or any non-ASCII character
 * (kanji, kana); words of punctuation alone match nothing meaningful and are skipped. */
static int searchable(const char *w, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
            return 1;
    }
    return 0;
}

/* An NDC class or its prefix: "9", "913", "913.6". */
static int ndc_like(const char *w, size_t len)
{
    size_t digits = 0;
    while (digits < len && w[digits] >= '0' && w[digits] <= '9')
        digits++;
    if (digits < 1 || digits > 3)
        return 0;
    if (digits == len)
        return 1;
    if (digits != 3 || w[3] != '.' || len == 4)
        return 0;
    for (size_t i = 4; i < len; i++) {
        if (w[i] < '0' || w[i] > '9')
            return 0;
    }
    return 1;
}

/* The words of one field, each ANDed: index = "word". Subject words that look like NDC
 * classes also match the class as a prefix. Returns the problem, or NULL. */
static const char *words(cql_t *q, const char *index, const char *text, int subject)
{
    const char *problem = field_problem(text);
    if (problem)
        return problem;
    size_t n = strlen(text), found = 0;
    for (size_t i = 0; i < n;) {
        if (is_space(text + i, n - i)) {
            i += text[i] == ' ' ? 1 : 3;
            continue;
        }
        size_t start = i;
        while (i < n && !is_space(text + i, n - i))
            i++;
        if (!searchable(text + start, i - start))
            continue;
        if (++found > SRU_CQL_WORDS_MAX)
            return "at most 16 words";
        if (subject && ndc_like(text + start, i - start)) {
            if (q->len)
                puts_(q, " and ");
            puts_(q, "(renkei.ndc = \"");
            put(q, text + start, i - start);
            puts_(q, "*\" or dc.subject = \"");
            put(q, text + start, i - start);
            puts_(q, "\")");
        } else {
            term(q, index, text + start, i - start);
        }
    }
    return found ? NULL : "has no searchable word";
}

int sru_cql_search(const sru_search_terms_t *terms, char *out, const char **field, const char **why)
{
    cql_t q = {out, 0, 0};
    out[0] = '\0';
    *field = NULL;
    *why = NULL;
    const char *isbn = terms->isbn ? terms->isbn : "";
    if (*isbn) {
        char isbn13[14], isbn10[11];
        if (strlen(isbn) > 32 || sru_isbn_to13(isbn, strlen(isbn), isbn13) != 0) {
            *field = "isbn";
            *why = "not a valid ISBN-13 or ISBN-10";
            return -1;
        }
        puts_(&q, "(bath.isbn = \"");
        puts_(&q, isbn13);
        if (sru_isbn13_to10(isbn13, isbn10) == 0) {
            puts_(&q, "\" or bath.isbn = \"");
            puts_(&q, isbn10);
        }
        puts_(&q, "\")");
    }
    const struct {
        const char *name, *index, *text;
    } fields[] = {
        {"title", "dc.title", terms->title},
        {"author", "dc.creator", terms->author},
        {"keyword", "cql.serverChoice", terms->keyword},
        {"subject", "dc.subject", terms->subject},
    };
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        if (!fields[f].text || !*fields[f].text)
            continue;
        const char *problem = words(&q, fields[f].index, fields[f].text, f == 3);
        if (problem) {
            *field = fields[f].name;
            *why = problem;
            return -1;
        }
    }
    if (!q.len) {
        *field = "keyword";
        *why = "give at least one of isbn, title, author, keyword, subject";
        return -1;
    }
    return 0; /* the field bounds keep every query well within SRU_CQL_MAX */
}

int sru_record_id_ok(const char *id)
{
    size_t n = strlen(id);
    return n >= 1 && n <= SRU_RECORD_ID_MAX &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int sru_cql_record_ids(const char *const *ids, size_t n, char *out, const char **why)
{
    cql_t q = {out, 0, 0};
    out[0] = '\0';
    if (n < 1 || n > 50) {
        *why = "give 1 to 50 record ids";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!sru_record_id_ok(ids[i])) {
            *why = "a record id is 1 to 64 characters of A-Z a-z 0-9 . _ -";
            return -1;
        }
        puts_(&q, i ? " or rec.id = \"" : "rec.id = \"");
        puts_(&q, ids[i]);
        puts_(&q, "\"");
    }
    return 0;
}

int sru_cql_item(const char *item_id, char *out, const char **why)
{
    out[0] = '\0';
    if (!sru_record_id_ok(item_id)) {
        *why = "an item id is 1 to 64 characters of A-Z a-z 0-9 . _ -";
        return -1;
    }
    snprintf(out, SRU_CQL_MAX, "renkei.barcode = \"%s\"", item_id);
    return 0;
}
