/*
 * lang.c — the page language from ui_locales, the "lang" cookie and Accept-Language (see
 * lang.h).
 *
 * Each input is read in place, bounded by RK_LANG_INPUT_MAX: bounded_len() decides how much
 * of it to read, and the parsers never look past that.
 */
#include "identity/lang.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#define NO_MATCH (-1)
#define LANG_COUNT 2

/* Thousandths: q=1 is 1000. */
#define Q_MAX 1000

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/*
 * How many bytes of s to read: all of it up to RK_LANG_INPUT_MAX bytes; when it is longer,
 * only up to the last separator before the bound, so that no element is read truncated.
 */
static size_t bounded_len(const char *s, char separator)
{
    size_t n = strnlen(s, RK_LANG_INPUT_MAX + 1);
    if (n <= RK_LANG_INPUT_MAX)
        return n;
    n = RK_LANG_INPUT_MAX;
    if (s[n] == separator)
        return n;
    while (n > 0 && s[n - 1] != separator)
        n--;
    return n;
}

/* The language of the BCP 47 tag s[0..len) (by its primary subtag), or NO_MATCH. */
static int tag_lang(const char *s, size_t len)
{
    if (len < 2 || (len > 2 && s[2] != '-'))
        return NO_MATCH;
    for (size_t i = 3; i < len; i++) {
        if (!is_alnum(s[i]) && s[i] != '-')
            return NO_MATCH;
    }
    if (strncasecmp(s, "ja", 2) == 0)
        return RK_LANG_JA;
    if (strncasecmp(s, "en", 2) == 0)
        return RK_LANG_EN;
    return NO_MATCH;
}

static int pick_ui_locales(const char *s)
{
    size_t len = bounded_len(s, ' ');
    for (size_t i = 0; i < len;) {
        while (i < len && s[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && s[i] != ' ')
            i++;
        int lang = tag_lang(s + start, i - start);
        if (lang != NO_MATCH)
            return lang;
    }
    return NO_MATCH;
}

static int pick_cookie(const char *s)
{
    if (strcasecmp(s, "ja") == 0)
        return RK_LANG_JA;
    if (strcasecmp(s, "en") == 0)
        return RK_LANG_EN;
    return NO_MATCH;
}

/* A qvalue (RFC 9110 §12.4.2: "0", "0.5", "1.000"…) in thousandths, or -1 when malformed. */
static int parse_qvalue(const char *s, size_t len)
{
    if (len == 0 || (s[0] != '0' && s[0] != '1') || (len > 1 && (s[1] != '.' || len > 5)))
        return -1;
    int q = (s[0] - '0') * Q_MAX, scale = 100;
    for (size_t i = 2; i < len; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q > Q_MAX ? -1 : q;
}

/*
 * Reads the parameters after a language range, p[0..end), for its q (default 1). Returns the
 * q in thousandths, or -1 when the parameters are malformed.
 */
static int element_q(const char *p, const char *end)
{
    int q = Q_MAX;
    while (p < end) {
        while (p < end && is_ows(*p))
            p++;
        if (p == end)
            break;
        if (*p++ != ';')
            return -1;
        while (p < end && is_ows(*p))
            p++;
        const char *name = p;
        while (p < end && *p != '=' && *p != ';' && !is_ows(*p))
            p++;
        size_t name_len = (size_t)(p - name);
        const char *value = p;
        if (p < end && *p == '=') {
            value = ++p;
            while (p < end && *p != ';' && !is_ows(*p))
                p++;
        }
        if (name_len == 1 && (*name == 'q' || *name == 'Q')) {
            q = parse_qvalue(value, (size_t)(p - value));
            if (q < 0)
                return -1;
        }
    }
    return q;
}

static int pick_accept_language(const char *s)
{
    size_t len = bounded_len(s, ',');
    /* For each language, the highest q of a range naming it and where that range stands. */
    int q[LANG_COUNT] = {-1, -1};
    size_t position[LANG_COUNT] = {0, 0};
    int wildcard_q = -1;
    size_t wildcard_position = 0;
    size_t index = 0;
    for (size_t i = 0; i < len; index++) {
        size_t start = i;
        while (i < len && s[i] != ',')
            i++;
        const char *p = s + start, *end = s + i;
        i++;
        while (p < end && is_ows(*p))
            p++;
        const char *range = p;
        while (p < end && *p != ';' && !is_ows(*p))
            p++;
        size_t range_len = (size_t)(p - range);
        int element = element_q(p, end);
        if (range_len == 0 || element < 0)
            continue;
        if (range_len == 1 && *range == '*') {
            if (element > wildcard_q) {
                wildcard_q = element;
                wildcard_position = index;
            }
            continue;
        }
        int lang = tag_lang(range, range_len);
        if (lang != NO_MATCH && element > q[lang]) {
            q[lang] = element;
            position[lang] = index;
        }
    }
    for (int lang = 0; lang < LANG_COUNT; lang++) {
        if (q[lang] < 0) {
            q[lang] = wildcard_q;
            position[lang] = wildcard_position;
        }
    }
    int best = NO_MATCH;
    for (int lang = 0; lang < LANG_COUNT; lang++) {
        if (q[lang] <= 0)
            continue;
        if (best == NO_MATCH || q[lang] > q[best] ||
            (q[lang] == q[best] && position[lang] < position[best]))
            best = lang;
    }
    return best;
}

rk_lang_t rk_lang_pick(const char *ui_locales, const char *cookie_lang, const char *accept_language)
{
    int lang = NO_MATCH;
    if (ui_locales)
        lang = pick_ui_locales(ui_locales);
    if (lang == NO_MATCH && cookie_lang)
        lang = pick_cookie(cookie_lang);
    if (lang == NO_MATCH && accept_language)
        lang = pick_accept_language(accept_language);
    return lang == RK_LANG_EN ? RK_LANG_EN : RK_LANG_JA;
}

const char *rk_lang_tag(rk_lang_t lang)
{
    return lang == RK_LANG_EN ? "en" : "ja";
}
