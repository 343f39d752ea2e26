/*
 * text_normalize.c — NFKC with ICU, then each field's rule for dashes and spaces (see
 * text_normalize.h). The rules run on ICU's UTF-16 form, one code unit at a time: every
 * character they look at is in the Basic Multilingual Plane.
 */
#include "text_normalize.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

/* The dashes NFKC leaves alone (after NFKC: U+FF0D and U+FE63 are already '-', U+FF70 is
 * U+30FC). */
static int is_dash(UChar c)
{
    return c == '-' || (c >= 0x2010 && c <= 0x2015) || c == 0x2212 || c == 0x30FC;
}

static int is_digit(UChar c)
{
    return c >= '0' && c <= '9';
}

/* text in UTF-16 (as NFKC unless as_is), malloc'd, *len code units; NULL for invalid UTF-8. */
static UChar *utf16(const char *text, int as_is, int32_t *len)
{
    UErrorCode status = U_ZERO_ERROR;
    int32_t n = 0;
    u_strFromUTF8(NULL, 0, &n, text, -1, &status);
    if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
        return NULL;
    UChar *source = rk_xmalloc(((size_t)n + 1) * sizeof(UChar));
    status = U_ZERO_ERROR;
    u_strFromUTF8(source, n + 1, NULL, text, -1, &status);
    if (as_is && U_SUCCESS(status)) {
        *len = n;
        return source;
    }
    const UNormalizer2 *normalizer = unorm2_getNFKCInstance(&status);
    if (U_FAILURE(status)) {
        free(source);
        return NULL;
    }
    int32_t m = unorm2_normalize(normalizer, source, n, NULL, 0, &status);
    if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) {
        free(source);
        return NULL;
    }
    UChar *normal = rk_xmalloc(((size_t)m + 1) * sizeof(UChar));
    status = U_ZERO_ERROR;
    unorm2_normalize(normalizer, source, n, normal, m + 1, &status);
    free(source);
    if (U_FAILURE(status)) {
        free(normal);
        return NULL;
    }
    *len = m;
    return normal;
}

static char *to_utf8(const UChar *s, int32_t len)
{
    UErrorCode status = U_ZERO_ERROR;
    int32_t n = 0;
    u_strToUTF8(NULL, 0, &n, s, len, &status);
    if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
        return NULL;
    char *out = rk_xmalloc((size_t)n + 1);
    status = U_ZERO_ERROR;
    u_strToUTF8(out, n + 1, NULL, s, len, &status);
    if (U_FAILURE(status)) {
        free(out);
        return NULL;
    }
    return out;
}

char *rk_text_normalize(const char *text, rk_text_rule_t rule)
{
    int32_t len = 0;
    UChar *s = utf16(text, rule == RK_TEXT_SPACES, &len);
    if (!s)
        return NULL;
    int32_t n = 0; /* the rule rewrites s in place: it never lengthens it */
    int pending_space = 0;
    for (int32_t i = 0; i < len; i++) {
        UChar c = s[i];
        if (u_isUWhiteSpace(c) || u_iscntrl(c)) {
            pending_space = n > 0;
            continue;
        }
        if (pending_space && rule != RK_TEXT_PHONE && rule != RK_TEXT_POSTAL_CODE)
            s[n++] = ' ';
        pending_space = 0;
        if (is_dash(c)) {
            if (rule == RK_TEXT_POSTAL_CODE)
                continue;
            if (rule == RK_TEXT_PHONE || (rule == RK_TEXT_ADDRESS && n > 0 && is_digit(s[n - 1]) &&
                                          i + 1 < len && is_digit(s[i + 1])))
                c = '-';
        } else if (rule == RK_TEXT_POSTAL_CODE && c == 0x3012) { /* 〒 */
            continue;
        } else if (rule == RK_TEXT_KATAKANA &&
                   ((c >= 0x3041 && c <= 0x3096) || c == 0x309D || c == 0x309E)) {
            c = (UChar)(c + 0x60); /* ぁ…ゖ ゝ ゞ → ァ…ヶ ヽ ヾ */
        }
        s[n++] = c;
    }
    if (rule == RK_TEXT_POSTAL_CODE) {
        int digits = n == 7;
        for (int32_t i = 0; i < n && digits; i++)
            digits = is_digit(s[i]);
        char *out = rk_xmalloc(9);
        if (!digits) {
            out[0] = '\0';
        } else {
            for (int i = 0, j = 0; i < 7; i++) {
                out[j++] = (char)s[i];
                if (i == 2)
                    out[j++] = '-';
            }
            out[8] = '\0';
        }
        free(s);
        return out;
    }
    char *out = to_utf8(s, n);
    free(s);
    return out;
}
