/*
 * kana_test.c — unit tests for hub/core/kana.c: NFKC folding (full-width letters, half-width
 * katakana with voicing marks, ideographic spaces), katakana → hiragana, romaji in Hepburn and
 * kunrei (long vowels with macrons and circumflexes, n'/nn, doubled consonants), long vowels
 * folded away in keys, and refusals: invalid UTF-8, NUL bytes, over-long text, small buffers.
 */
#include "core/error.h"
#include "core/kana.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void assert_normal(const char *text, const char *want)
{
    char out[RK_KANA_OUT_MAX];
    assert_int_equal(rk_kana_normalize(text, strlen(text), out, sizeof(out)), RK_OK);
    assert_string_equal(out, want);
}

static void assert_key(const char *text, int flags, const char *want)
{
    char out[RK_KANA_OUT_MAX];
    assert_int_equal(rk_kana_key(text, strlen(text), flags, out, sizeof(out)), RK_OK);
    assert_string_equal(out, want);
}

static void normalize_folds_widths_scripts_and_blanks(void **state)
{
    (void)state;
    assert_normal("ヤキュウジョウ", "やきゅうじょう");
    assert_normal("ﾔｷｭｳｼﾞｮｳ", "やきゅうじょう"); /* half-width, voicing mark composed */
    assert_normal("ﾃﾆｽｺｰﾄ", "てにすこーと");
    assert_normal("ﾊﾟｰｸ", "ぱーく");
    assert_normal("ＴＥＮＮＩＳ　Ｃｏｕｒｔ", "tennis court"); /* full-width, U+3000 */
    assert_normal("  Baseball \t\n  Field  ", "baseball field");
    assert_normal("第１会議室", "第1会議室");
    assert_normal("ヴァイオリン", "ゔぁいおりん");
    assert_normal("yaku\xcc\x82", "yakû");              /* u + combining circumflex composed */
    assert_normal("ping\xe2\x80\x90pong", "ping-pong"); /* U+2010 hyphen */
    assert_normal("", "");
    assert_normal(" \t ", "");
}

static void romaji_reads_hepburn_and_kunrei(void **state)
{
    (void)state;
    const int r = RK_KANA_ROMAJI;
    assert_key("yakyu", r, "やきゅ");
    assert_key("yakyuu", r, "やきゅ");
    assert_key("yakyû", r, "やきゅ");
    assert_key("yakyū", r, "やきゅ");
    assert_key("YAKYUJO", r, "やきゅじょ");
    assert_key("tenisu", r, "てにす");
    assert_key("taiikukan", r, "たいくかん");
    assert_key("kaigishitsu", r, "かいぎしつ");
    assert_key("kaigisitu", r, "かいぎしつ");
    assert_key("chi ti tsu tu shi si ji zi fu hu", r, "ち ち つ つ し し じ じ ふ ふ");
    assert_key("kan'i", r, "かんい");
    assert_key("kanni", r, "かんに");
    assert_key("konnichiha", r, "こんにちは");
    assert_key("onnna", r, "おんな");
    assert_key("shinbun shimbun", r, "しんぶん しんぶん");
    assert_key("gakkou", r, "がっこ");
    assert_key("matcha", r, "まっちゃ");
    assert_key("kyôgijô", r, "きょぎじょ");
    assert_key("pūru puuru pu-ru", r, "ぷる ぷる ぷる");
    assert_key("ｙａｋｙｕ", r, "やきゅ"); /* full-width romaji */
    assert_key("jyudo judo", r, "じゅど じゅど");
}

static void romaji_leaves_other_latin_words(void **state)
{
    (void)state;
    const int r = RK_KANA_ROMAJI;
    assert_key("tennis", r, "tennis");
    assert_key("baseball field", r, "baseball field");
    assert_key("bbq広場", r, "bbq広場");
    assert_key("gym", r, "gym");
    assert_key("don't", r, "don't");
    assert_key("-pu", r, "-pu");
    assert_key("yakyu", 0, "yakyu"); /* without the flag Latin stays Latin */
}

static void keys_fold_long_vowels_and_spellings(void **state)
{
    (void)state;
    assert_key("プール", 0, "ぷる");
    assert_key("ぷうる", 0, "ぷる");
    assert_key("テニスコート", 0, "てにすこと");
    assert_key("とうきょう", 0, "ときょ");
    assert_key("ていきゅうじょう", 0, "てきゅじょ");
    assert_key("おおさか", 0, "おさか");
    assert_key("つづき", 0, "つずき");
    assert_key("ちぢみ", 0, "ちじみ");
    assert_key("グラウンド・ゴルフ", 0, "ぐらうんどごるふ");
    assert_key("あおい", 0, "あおい"); /* different vowels stay */
    assert_key("ーあ", 0, "ーあ");     /* a leading mark lengthens nothing */
    assert_key("wi-fi", 0, "wi-fi");
}

static void invalid_utf8_is_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xc0\x80",         /* overlong NUL */
        "\xe3\x81",         /* truncated あ */
        "\xed\xa0\x80",     /* a UTF-16 surrogate */
        "\xf4\x90\x80\x80", /* beyond U+10FFFF */
        "\xff",
        "ok\x80",
    };
    char out[64];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        strcpy(out, "unchanged");
        assert_int_equal(rk_kana_normalize(bad[i], strlen(bad[i]), out, sizeof(out)), RK_EINVAL);
        assert_string_equal(out, "");
        assert_int_equal(rk_kana_key(bad[i], strlen(bad[i]), RK_KANA_ROMAJI, out, sizeof(out)),
                         RK_EINVAL);
    }
    assert_int_equal(rk_kana_normalize("a\0b", 3, out, sizeof(out)), RK_EINVAL);
}

static void reads_only_len_bytes(void **state)
{
    (void)state;
    /* The bytes after len would be invalid; they are not read. */
    char out[64];
    assert_int_equal(rk_kana_key("yakyu\xff\xff", 5, RK_KANA_ROMAJI, out, sizeof(out)), RK_OK);
    assert_string_equal(out, "やきゅ");
    /* A multi-byte character cut by len is a truncated sequence. */
    assert_int_equal(rk_kana_normalize("あい", 4, out, sizeof(out)), RK_EINVAL);
}

static void bounds_are_kept(void **state)
{
    (void)state;
    char text[RK_KANA_TEXT_MAX + 2];
    memset(text, 'a', sizeof(text));
    char out[RK_KANA_OUT_MAX];
    assert_int_equal(rk_kana_normalize(text, RK_KANA_TEXT_MAX + 1, out, sizeof(out)), RK_ETOOBIG);
    assert_int_equal(rk_kana_normalize(text, RK_KANA_TEXT_MAX, out, sizeof(out)), RK_OK);
    assert_int_equal(strlen(out), RK_KANA_TEXT_MAX);
    /* 1024 "a" as romaji: 1024 あ of 3 bytes, within RK_KANA_OUT_MAX; folded to one あ. */
    assert_int_equal(rk_kana_key(text, RK_KANA_TEXT_MAX, RK_KANA_ROMAJI, out, sizeof(out)), RK_OK);
    assert_string_equal(out, "あ");
    /* A result that does not fit the caller's buffer is refused, not cut. */
    char small[8];
    assert_int_equal(rk_kana_normalize("やきゅう", strlen("やきゅう"), small, sizeof(small)),
                     RK_ETOOBIG);
    assert_string_equal(small, "");
    assert_int_equal(rk_kana_key("tenisukooto", 11, RK_KANA_ROMAJI, small, sizeof(small)),
                     RK_ETOOBIG);
    assert_string_equal(small, "");
    /* Compatibility characters that expand past the bound: U+FDFA is 18 characters. */
    char wide[RK_KANA_TEXT_MAX];
    size_t n = 0;
    while (n + 3 <= sizeof(wide)) {
        memcpy(wide + n, "\xef\xb7\xba", 3);
        n += 3;
    }
    assert_int_equal(rk_kana_normalize(wide, n, out, sizeof(out)), RK_ETOOBIG);
}

static void morae_skip_small_kana(void **state)
{
    (void)state;
    assert_int_equal(rk_kana_morae("きゅ"), 1);
    assert_int_equal(rk_kana_morae("やきゅ"), 2);
    assert_int_equal(rk_kana_morae("がっこ"), 3);
    assert_int_equal(rk_kana_morae("野球"), 2);
    assert_int_equal(rk_kana_morae(""), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalize_folds_widths_scripts_and_blanks),
        cmocka_unit_test(romaji_reads_hepburn_and_kunrei),
        cmocka_unit_test(romaji_leaves_other_latin_words),
        cmocka_unit_test(keys_fold_long_vowels_and_spellings),
        cmocka_unit_test(invalid_utf8_is_refused),
        cmocka_unit_test(reads_only_len_bytes),
        cmocka_unit_test(bounds_are_kept),
        cmocka_unit_test(morae_skip_small_kana),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
