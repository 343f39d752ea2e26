/*
 * text_normalize.h — tidies the text fields of Japanese open data: full-width digits, letters
 * and spaces, the many hyphens, half-width katakana.
 *
 * Municipal files mix ASCII and full-width forms freely (`３２－１５`, `4ー14`, `０３－３９６４`,
 * `〒173-8501`, ideographic spaces). Everything but names (kept as written, spaces aside) starts
 * with Unicode NFKC (ICU), which folds full-width ASCII and digits to ASCII, half-width katakana
 * to full-width, U+3000 to a space.
 * NFKC leaves alone the dashes people type between numbers — ー (U+30FC, the long vowel mark),
 * ‐ ‑ ‒ – — ― (U+2010–2015) and − (U+2212) — so each rule then does its field's part:
 *   - addresses: a dash between two digits becomes '-', spaces collapse ("センター" keeps ー);
 *   - phone numbers: every dash becomes '-', spaces go;
 *   - postal codes: 7 digits, written "NNN-NNNN" (〒, dashes and spaces dropped);
 *   - readings (名称_カナ): full-width katakana, hiragana turned into katakana (the reading form
 *     of proto/README.md, "Localized text").
 * rk_text_normalize() takes NUL-terminated UTF-8 and returns a malloc'd string the caller frees;
 * invalid UTF-8 in, NULL out. Pure: no event loop. Used by facility_csv.c.
 */
#ifndef RK_TEXT_NORMALIZE_H
#define RK_TEXT_NORMALIZE_H

/** Which field's rule rk_text_normalize() applies. */
typedef enum {
    RK_TEXT_SPACES,      /* runs of white space as one space, trimmed; nothing else changes
                            ("城北野球場Ｂ面" stays): names */
    RK_TEXT_TIDY,        /* NFKC, then white space as RK_TEXT_SPACES */
    RK_TEXT_ADDRESS,     /* RK_TEXT_TIDY, and a dash between two digits written '-' */
    RK_TEXT_PHONE,       /* NFKC, every dash '-', no white space: "(03)3964-1111" */
    RK_TEXT_POSTAL_CODE, /* "NNN-NNNN" from 7 digits in any usual spelling; "" otherwise */
    RK_TEXT_KATAKANA,    /* RK_TEXT_TIDY, hiragana as katakana: a reading in full-width katakana */
} rk_text_rule_t;

/** text (UTF-8) under rule, malloc'd (the caller frees it); NULL when text is not UTF-8. */
char *rk_text_normalize(const char *text, rk_text_rule_t rule);

#endif
