/*
 * isbn.c — ISBN-10 and ISBN-13 read, verified and normalised to ISBN-13 (see isbn.h).
 */
#include "library/isbn.h"

#include "core/error.h"

#include <string.h>
#include <strings.h>

char rk_isbn13_check_digit(const char digits[12])
{
    int sum = 0;
    for (int i = 0; i < 12; i++)
        sum += (digits[i] - '0') * (i % 2 ? 3 : 1);
    return (char)('0' + (10 - sum % 10) % 10);
}

char rk_isbn10_check_digit(const char digits[9])
{
    int sum = 0;
    for (int i = 0; i < 9; i++)
        sum += (digits[i] - '0') * (10 - i);
    int check = (11 - sum % 11) % 11;
    return check == 10 ? 'X' : (char)('0' + check);
}

/* The ASCII character the bytes at p stand for, with their length in *len: full-width digits,
 * X and hyphen as their ASCII forms, U+3000 as a space, dashes (U+2010-2015, U+2212, U+30FC)
 * as '-'; any other byte as itself. */
static char ascii_at(const char *p, size_t *len)
{
    const unsigned char *s = (const unsigned char *)p;
    *len = 1;
    if (s[0] < 0x80 || !s[1] || !s[2])
        return (char)s[0];
    unsigned cp = ((unsigned)(s[0] & 0x0f) << 12) | ((unsigned)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
    if ((s[0] & 0xf0) != 0xe0 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
        return (char)s[0];
    *len = 3;
    if (cp >= 0xff10 && cp <= 0xff19)
        return (char)('0' + (cp - 0xff10));
    if (cp == 0xff38 || cp == 0xff58)
        return 'X';
    if (cp == 0x3000)
        return ' ';
    if (cp == 0xff0d || (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0x30fc)
        return '-';
    *len = 1;
    return (char)s[0];
}

int rk_isbn_normalize(const char *text, char out[14])
{
    out[0] = '\0';
    if (strnlen(text, RK_ISBN_TEXT_MAX + 1) > RK_ISBN_TEXT_MAX)
        return RK_EINVAL;
    const char *p = text;
    size_t len;
    while (*p == ' ' || ascii_at(p, &len) == ' ')
        p += len;
    if (strncasecmp(p, "isbn", 4) == 0) {
        p += 4;
        if (*p == ':')
            p++;
    }
    char chars[14];
    size_t n = 0;
    for (; *p; p += len) {
        char c = ascii_at(p, &len);
        if (c == ' ' || c == '-')
            continue;
        int digit = c >= '0' && c <= '9';
        int ten_check = (c == 'X' || c == 'x') && n == 9;
        if ((!digit && !ten_check) || n == 13)
            return RK_EINVAL;
        chars[n++] = ten_check ? 'X' : c;
    }
    if (n == 10) {
        if (rk_isbn10_check_digit(chars) != chars[9])
            return RK_EINVAL;
        memcpy(out, "978", 3);
        memcpy(out + 3, chars, 9);
        out[12] = rk_isbn13_check_digit(out);
        out[13] = '\0';
        return RK_OK;
    }
    if (n != 13 || memchr(chars, 'X', 13) ||
        (strncmp(chars, "978", 3) != 0 && strncmp(chars, "979", 3) != 0) ||
        rk_isbn13_check_digit(chars) != chars[12])
        return RK_EINVAL;
    memcpy(out, chars, 13);
    out[13] = '\0';
    return RK_OK;
}
