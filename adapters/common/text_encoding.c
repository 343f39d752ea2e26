/*
 * text_encoding.c — UTF-8 or CP932 text to UTF-8, detected or forced (see text_encoding.h).
 */
#include "text_encoding.h"

#include "core/mem.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int rk_encoding_parse(const char *name, rk_encoding_t *out)
{
    static const struct {
        const char *name;
        rk_encoding_t encoding;
    } names[] = {
        {"auto", RK_ENCODING_AUTO},
        {"utf-8", RK_ENCODING_UTF8},
        {"utf8", RK_ENCODING_UTF8},
        {"shift_jis", RK_ENCODING_SHIFT_JIS},
        {"cp932", RK_ENCODING_SHIFT_JIS},
        {"sjis", RK_ENCODING_SHIFT_JIS},
        {"windows-31j", RK_ENCODING_SHIFT_JIS},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].encoding;
            return 0;
        }
    }
    return -1;
}

const char *rk_encoding_name(rk_encoding_t encoding)
{
    return encoding == RK_ENCODING_UTF8        ? "utf-8"
           : encoding == RK_ENCODING_SHIFT_JIS ? "shift_jis"
                                               : "auto";
}

static size_t line_of(const char *data, size_t offset)
{
    size_t line = 1;
    for (const char *p = data; (p = memchr(p, '\n', offset - (size_t)(p - data))) != NULL; p++)
        line++;
    return line;
}

/* Converts data from charset to UTF-8 with iconv (which also validates UTF-8 input). 0 with
 * *out malloc'd, or -1 with *bad the offset of the first byte that is not charset text. */
static int convert(const char *charset, const char *data, size_t len, char **out, size_t *out_len,
                   size_t *bad)
{
    iconv_t cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1) {
        *bad = 0;
        return -1;
    }
    size_t cap = len * 3 + 1; /* CP932 → UTF-8 at most triples a byte; UTF-8 stays as long */
    char *buffer = rk_xmalloc(cap);
    char *in = (char *)data, *o = buffer;
    size_t in_left = len, out_left = cap - 1;
    size_t rc = iconv(cd, &in, &in_left, &o, &out_left);
    iconv_close(cd);
    if (rc == (size_t)-1) {
        *bad = (size_t)(in - data);
        free(buffer);
        return -1;
    }
    *o = '\0';
    *out = buffer;
    *out_len = (size_t)(o - buffer);
    return 0;
}

int rk_text_decode(const char *data, size_t len, rk_encoding_t encoding, char **out,
                   size_t *out_len, rk_encoding_t *used, char *why, size_t why_len)
{
    *out = NULL;
    const char *nul = memchr(data, '\0', len);
    if (nul) {
        snprintf(why, why_len, "line %zu: a NUL byte: not a text file",
                 line_of(data, (size_t)(nul - data)));
        return -1;
    }
    int bom = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0;
    if (bom && encoding == RK_ENCODING_SHIFT_JIS) {
        snprintf(why, why_len,
                 "line 1: a UTF-8 byte-order mark, but the encoding is set to shift_jis");
        return -1;
    }
    size_t skip = bom ? 3 : 0, bad_utf8 = 0, bad_sjis = 0;
    if (bom || encoding != RK_ENCODING_SHIFT_JIS) {
        if (convert("UTF-8", data + skip, len - skip, out, out_len, &bad_utf8) == 0) {
            *used = RK_ENCODING_UTF8;
            return 0;
        }
        bad_utf8 += skip;
        if (bom || encoding == RK_ENCODING_UTF8) {
            snprintf(why, why_len, "line %zu: not valid UTF-8 (byte 0x%02X)%s",
                     line_of(data, bad_utf8), (unsigned char)data[bad_utf8],
                     bom ? " although the file starts with a UTF-8 byte-order mark" : "");
            return -1;
        }
    }
    if (convert("CP932", data, len, out, out_len, &bad_sjis) == 0) {
        *used = RK_ENCODING_SHIFT_JIS;
        return 0;
    }
    if (encoding == RK_ENCODING_SHIFT_JIS) {
        snprintf(why, why_len, "line %zu: not valid Shift_JIS (CP932) (byte 0x%02X)",
                 line_of(data, bad_sjis), (unsigned char)data[bad_sjis]);
        return -1;
    }
    /* The decoder that read further is the likelier intended encoding: name its stop. */
    size_t bad = bad_utf8 > bad_sjis ? bad_utf8 : bad_sjis;
    snprintf(why, why_len, "line %zu: neither UTF-8 nor Shift_JIS (CP932) text (byte 0x%02X)",
             line_of(data, bad), bad < len ? (unsigned char)data[bad] : 0);
    return -1;
}
