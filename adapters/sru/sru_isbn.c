/*
 * sru_isbn.c — ISBN-10/13 validation and conversion (see sru_isbn.h).
 */
#include "sru_isbn.h"

#include <string.h>

static char isbn13_check(const char *twelve)
{
    int sum = 0;
    for (int i = 0; i < 12; i++)
        sum += (twelve[i] - '0') * (i % 2 ? 3 : 1);
    return (char)('0' + (10 - sum % 10) % 10);
}

static char isbn10_check(const char *nine)
{
    int sum = 0;
    for (int i = 0; i < 9; i++)
        sum += (nine[i] - '0') * (10 - i);
    int check = (11 - sum % 11) % 11;
    return check == 10 ? 'X' : (char)('0' + check);
}

int sru_isbn_to13(const char *in, size_t len, char out[14])
{
    char digits[14];
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '-' || c == ' ')
            continue;
        if (c == 'x')
            c = 'X';
        /* X is a check digit: only the tenth character of an ISBN-10. */
        if (n >= 13 || !((c >= '0' && c <= '9') || (c == 'X' && n == 9)))
            return -1;
        digits[n++] = c;
    }
    digits[n] = '\0';
    if (n == 13) {
        if ((memcmp(digits, "978", 3) != 0 && memcmp(digits, "979", 3) != 0) || digits[9] == 'X' ||
            isbn13_check(digits) != digits[12])
            return -1;
        memcpy(out, digits, 14);
        return 0;
    }
    if (n != 10 || isbn10_check(digits) != digits[9])
        return -1;
    memcpy(out, "978", 3);
    memcpy(out + 3, digits, 9);
    out[12] = isbn13_check(out);
    out[13] = '\0';
    return 0;
}

int sru_isbn13_to10(const char *isbn13, char out[11])
{
    out[0] = '\0';
    if (strlen(isbn13) != 13 || strspn(isbn13, "0123456789") != 13 || memcmp(isbn13, "978", 3) != 0)
        return -1;
    memcpy(out, isbn13 + 3, 9);
    out[9] = isbn10_check(out);
    out[10] = '\0';
    return 0;
}
