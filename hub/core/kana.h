/*
 * kana.h — Japanese free text folded for matching: what a resident types (kanji, hiragana,
 * katakana, half-width kana, full-width letters, romaji) and what a catalogue stores (readings
 * in katakana) brought to one comparable form.
 *
 * Two steps:
 *   rk_kana_normalize()  NFKC (ICU: full-width ASCII → ASCII, half-width katakana → full-width
 *                        with their voicing marks composed, U+3000 → space, compatibility
 *                        characters decomposed), then lower case, katakana → hiragana, dashes
 *                        (U+2010–2015, U+2212) → '-', runs of blanks and control characters →
 *                        one space, trimmed. Readable: "ﾔｷｭｳｼﾞｮｳ" → "やきゅうじょう".
 *   rk_kana_key()        the normalised text as a matching key: with RK_KANA_ROMAJI, every run
 *                        of Latin letters that reads as romaji (Hepburn or kunrei: shi/si,
 *                        tsu/tu, chi/ti, ji/zi, fu/hu, n'/nn, doubled consonants → っ, m before
 *                        b/m/p → ん, â ā ê ē î ī ô ō û ū as long vowels, '-' after a vowel as
 *                        ー) becomes hiragana, other runs stay as they are ("tennis"); then long
 *                        vowels are folded away: ー and a vowel kana lengthening the one before
 *                        (same vowel, う after an o-row kana, い after an e-row kana) are
 *                        dropped, ぢ づ を ゎ become じ ず お わ. So "やきゅうじょう", "ヤキュウ
 *                        ジョウ", "yakyûjô", "yakyujo" and "yakyuujou" all key as "やきゅじょ".
 * Keys are for comparing (equality, prefix, substring), not for showing: two texts match when
 * their keys do. A key made without RK_KANA_ROMAJI keeps Latin words, so English still
 * matches English.
 *
 * Pure: no allocation (bounded buffers on the stack, caller's output buffer), no state beyond
 * ICU's own NFKC data, safe from any thread. Invalid UTF-8 (overlong forms, surrogates, beyond
 * U+10FFFF, truncated sequences) and NUL bytes are refused, never read past len. Used by
 * hub/facility/kinds.c (the kind taxonomy and search keys).
 */
#ifndef RK_CORE_KANA_H
#define RK_CORE_KANA_H

#include <stddef.h>

#define RK_KANA_TEXT_MAX 1024 /* bytes of input text accepted */
#define RK_KANA_OUT_MAX 4096  /* bytes of any result (with its NUL) that can be produced */

enum {
    RK_KANA_ROMAJI = 1, /* rk_kana_key(): read runs of Latin letters as romaji */
};

/**
 * Normalises the len bytes of text (UTF-8, need not be NUL-terminated) into out (size bytes,
 * NUL-terminated) as described above. Returns RK_OK; RK_EINVAL when text is not valid UTF-8 or
 * holds a NUL; RK_ETOOBIG when len > RK_KANA_TEXT_MAX or the result does not fit (out is then
 * the empty string).
 */
int rk_kana_normalize(const char *text, size_t len, char *out, size_t size);

/**
 * The matching key of the len bytes of text (any text: it is normalised first) into out (size
 * bytes, NUL-terminated); flags is 0 or RK_KANA_ROMAJI. Returns as rk_kana_normalize().
 */
int rk_kana_key(const char *text, size_t len, int flags, char *out, size_t size);

/** How many kana a key holds for length rules: small kana (ゃ ゅ ょ ぁ …) do not count; other
 * characters count one each. */
size_t rk_kana_morae(const char *key);

#endif
