/*
 * isbn.h — ISBNs as residents type them and catalogues store them, brought to one form: the
 * thirteen digits of an ISBN-13 with a verified check digit.
 *
 * Accepted: an ISBN-13 (prefix 978 or 979) or an ISBN-10 (last character 0-9 or X), in ASCII
 * or full-width digits (as a Japanese input method types them), with hyphens, dashes and
 * spaces (ASCII, full-width, U+3000, ー) anywhere between the characters, and an optional
 * leading "ISBN" (any case) with an optional ":" — "ISBN 4-10-101001-3", "978-4-10-101001-4",
 * "９７８ー４ー１０ー１０１００１ー４". An ISBN-10 becomes its ISBN-13 (978 + its first nine digits
 * + a new check digit). Anything else — a wrong check digit, a wrong length, another character — is
 * refused, so two records share a normalised ISBN only when both carried a valid one.
 *
 * Pure: no allocation, bounded input. Used by the catalogue search (the request's isbn, the
 * owners' records) and the merge (merge.h).
 */
#ifndef RK_LIBRARY_ISBN_H
#define RK_LIBRARY_ISBN_H

#include <stddef.h>

#define RK_ISBN_TEXT_MAX 64 /* longest input accepted, in bytes */

/**
 * Normalises text into out (13 digits and a NUL). Returns RK_OK, or RK_EINVAL when text is not
 * a valid ISBN-10 or ISBN-13 by the rules above (out is then the empty string).
 */
int rk_isbn_normalize(const char *text, char out[14]);

/** The check digit ('0'-'9') of the first twelve digits of an ISBN-13. */
char rk_isbn13_check_digit(const char digits[12]);

/** The check character ('0'-'9' or 'X') of the first nine digits of an ISBN-10. */
char rk_isbn10_check_digit(const char digits[9]);

#endif
