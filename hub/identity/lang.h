/*
 * lang.h — which language the OpenID provider's browser pages speak: Japanese or English.
 *
 * A relying party may ask for a language with ui_locales (OpenID Connect Core §3.1.2.1); the
 * resident may have chosen one with the pages' language switcher (a "lang" cookie); the
 * browser says what it prefers in Accept-Language. rk_lang_pick() weighs them in that order
 * and falls back to Japanese, the language of the cities that run the hub.
 *
 * Tags match on their primary subtag, case-insensitively: "ja", "ja-JP", "JA-jp" are Japanese,
 * "en", "en-US", "en-GB" English; "jav", "eng", "ja_JP" match nothing. Every input is
 * untrusted and only its first RK_LANG_INPUT_MAX bytes are read; a tag or list element cut by
 * that bound is ignored, so a truncated "jav" never reads as "ja".
 *
 * Pure functions, no allocation: used by the endpoints that render pages.c.
 */
#ifndef RK_IDENTITY_LANG_H
#define RK_IDENTITY_LANG_H

#define RK_LANG_INPUT_MAX 512

typedef enum { RK_LANG_JA = 0, RK_LANG_EN = 1 } rk_lang_t;

/**
 * Picks the page language. The first supported tag of ui_locales (space-separated BCP 47
 * tags) wins; then cookie_lang when it is "ja" or "en"; then the supported language that
 * accept_language (RFC 9110 §12.5.4) ranks highest. There a language counts at the highest q
 * of the ranges that name it ("*" stands for a language no range names), q=0 excludes it,
 * equal q-values go to the range listed first, and a malformed element is skipped. Otherwise
 * RK_LANG_JA. Any argument may be NULL.
 */
rk_lang_t rk_lang_pick(const char *ui_locales, const char *cookie_lang,
                       const char *accept_language);

/** The BCP 47 tag of lang: "ja" or "en" (also "ja" for a value outside the enum); static. */
const char *rk_lang_tag(rk_lang_t lang);

#endif
