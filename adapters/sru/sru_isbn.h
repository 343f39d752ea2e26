/*
 * sru_isbn.h — ISBN normalisation for the sru adapter (pure, no I/O).
 *
 * The hub hands the adapter normalized ISBN-13s; catalogues hold ISBN-10s and ISBN-13s, with
 * or without hyphens. Both forms are searched, so a record catalogued with its ISBN-10 is found
 * by the ISBN-13 and the other way round. Used by sru_cql.c (queries) and sru_marc.c (records).
 */
#ifndef RK_SRU_ISBN_H
#define RK_SRU_ISBN_H

#include <stddef.h>

/**
 * Normalizes an ISBN-10 or ISBN-13 as written ("4-10-101013-7", "978 4 10 101013 7",
 * "0-8044-2957-X") to the 13 digits of its ISBN-13. Hyphens and spaces are ignored; the check
 * digit must be right. Returns 0 with out filled, or -1 (out set to "") when it is not an ISBN.
 */
int sru_isbn_to13(const char *in, size_t len, char out[14]);

/**
 * The ISBN-10 of a normalized ISBN-13 that starts with 978 (979 has none). Returns 0 with out
 * filled, or -1 (out set to "").
 */
int sru_isbn13_to10(const char *isbn13, char out[11]);

#endif
