/*
 * kana.c — Japanese free text folded for matching (see kana.h).
 *
 * rk_kana_normalize() converts to UTF-16 for ICU's NFKC normaliser (the one Unicode routine we
 * take from a library: DESIGN.md "Dependencies") and folds each code point on the way back to
 * UTF-8. rk_kana_key() then reads romaji runs and folds long vowels. ICU's own Latin-Hiragana
 * transliterator is not used for romaji: it reads kunrei wrongly ("tu" → てぅ, "kaigisitu" →
 * かいぎせぃてぅ, "kanni" → かっに), so the small syllable table below does it. Every step
 * writes into a bounded buffer and fails with RK_ETOOBIG rather than truncate.
 *
 * Interface routines: rk_kana_normalize, rk_kana_key, rk_kana_morae.
 */
#include "core/kana.h"

#include "core/error.h"

#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#define HIRAGANA_FIRST 0x3041 /* ぁ */
#define HIRAGANA_LAST 0x3096  /* ゖ */
#define LONG_VOWEL_MARK 0x30fc
#define KATAKANA_MIDDLE_DOT 0x30fb

/* The vowel of each hiragana from U+3041 (ぁ) to U+3096 (ゖ); '-' for っ and ん. */
static const char hiragana_vowels[] = "aaiiuueeoo"  /* ぁあぃいぅうぇえぉお */
                                      "aaiiuueeoo"  /* かがきぎくぐけげこご */
                                      "aaiiuueeoo"  /* さざしじすずせぜそぞ */
                                      "aaii-uueeoo" /* ただちぢっつづてでとど */
                                      "aiueo"       /* なにぬねの */
                                      "aaaiiiuuueeeooo" /* はばぱひびぴふぶぷへべぺほぼぽ */
                                      "aiueo"           /* まみむめも */
                                      "aauuoo"          /* ゃやゅゆょよ */
                                      "aiueo"           /* らりるれろ */
                                      "aaieo-"          /* ゎわゐゑをん */
                                      "uae";            /* ゔゕゖ */

_Static_assert(sizeof(hiragana_vowels) - 1 == HIRAGANA_LAST - HIRAGANA_FIRST + 1,
               "one vowel per hiragana");

/* --- bounded UTF-8 output ------------------------------------------------------------------- */

/* Appends n bytes at *o, keeping room for the NUL; -1 when they do not fit. */
static int put_bytes(char *out, size_t size, size_t *o, const char *bytes, size_t n)
{
    if (n >= size - *o)
        return -1;
    memcpy(out + *o, bytes, n);
    *o += n;
    out[*o] = '\0';
    return 0;
}

static int put_code_point(char *out, size_t size, size_t *o, UChar32 c)
{
    char bytes[U8_MAX_LENGTH];
    int32_t n = 0;
    U8_APPEND_UNSAFE(bytes, n, c);
    return put_bytes(out, size, o, bytes, (size_t)n);
}

/* --- normalisation -------------------------------------------------------------------------- */

/* c after NFKC, folded; ' ' for anything blank. */
static UChar32 fold_code_point(UChar32 c)
{
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || u_isUWhiteSpace(c))
        return ' ';
    if ((c >= 0x30a1 && c <= 0x30f6) || c == 0x30fd || c == 0x30fe) /* ァ…ヶ ヽ ヾ */
        return c - 0x60;
    if ((c >= 0x2010 && c <= 0x2015) || c == 0x2212) /* hyphens, dashes, minus */
        return '-';
    return u_tolower(c);
}

int rk_kana_normalize(const char *text, size_t len, char *out, size_t size)
{
    out[0] = '\0';
    if (len > RK_KANA_TEXT_MAX)
        return RK_ETOOBIG;
    if (len == 0)
        return RK_OK;
    if (memchr(text, '\0', len))
        return RK_EINVAL;
    UChar utf16[RK_KANA_TEXT_MAX];    /* UTF-8 never takes fewer bytes than UTF-16 units */
    UChar nfkc[2 * RK_KANA_TEXT_MAX]; /* compatibility decompositions can lengthen text */
    UErrorCode err = U_ZERO_ERROR;
    int32_t n = 0;
    u_strFromUTF8(utf16, RK_KANA_TEXT_MAX, &n, text, (int32_t)len, &err);
    if (U_FAILURE(err))
        return RK_EINVAL;
    const UNormalizer2 *nfkc_form = unorm2_getNFKCInstance(&err);
    if (U_FAILURE(err))
        return RK_EIO;
    int32_t m = unorm2_normalize(nfkc_form, utf16, n, nfkc, 2 * RK_KANA_TEXT_MAX, &err);
    if (err == U_BUFFER_OVERFLOW_ERROR)
        return RK_ETOOBIG;
    if (U_FAILURE(err))
        return RK_EIO;
    size_t o = 0;
    int blank = 0;
    for (int32_t i = 0; i < m;) {
        UChar32 c;
        U16_NEXT(nfkc, i, m, c);
        c = fold_code_point(c);
        if (c == ' ') {
            blank = o > 0;
            continue;
        }
        if ((blank && put_bytes(out, size, &o, " ", 1) < 0) ||
            put_code_point(out, size, &o, c) < 0) {
            out[0] = '\0';
            return RK_ETOOBIG;
        }
        blank = 0;
    }
    return RK_OK;
}

/* --- romaji --------------------------------------------------------------------------------- */

/* One consonant (or none) before the five vowels a, i, u, e, o; NULL: no such syllable. */
typedef struct syllable_row {
    const char *consonant;
    const char *kana[5];
} syllable_row_t;

static const syllable_row_t syllables[] = {
    {"", {"あ", "い", "う", "え", "お"}},
    {"k", {"か", "き", "く", "け", "こ"}},
    {"ky", {"きゃ", "きぃ", "きゅ", "きぇ", "きょ"}},
    {"g", {"が", "ぎ", "ぐ", "げ", "ご"}},
    {"gy", {"ぎゃ", "ぎぃ", "ぎゅ", "ぎぇ", "ぎょ"}},
    {"s", {"さ", "し", "す", "せ", "そ"}},
    {"sh", {"しゃ", "し", "しゅ", "しぇ", "しょ"}},
    {"sy", {"しゃ", "しぃ", "しゅ", "しぇ", "しょ"}},
    {"z", {"ざ", "じ", "ず", "ぜ", "ぞ"}},
    {"zy", {"じゃ", "じぃ", "じゅ", "じぇ", "じょ"}},
    {"j", {"じゃ", "じ", "じゅ", "じぇ", "じょ"}},
    {"jy", {"じゃ", "じぃ", "じゅ", "じぇ", "じょ"}},
    {"t", {"た", "ち", "つ", "て", "と"}},
    {"ts", {"つぁ", "つぃ", "つ", "つぇ", "つぉ"}},
    {"ty", {"ちゃ", "ちぃ", "ちゅ", "ちぇ", "ちょ"}},
    {"ch", {"ちゃ", "ち", "ちゅ", "ちぇ", "ちょ"}},
    {"cy", {"ちゃ", "ちぃ", "ちゅ", "ちぇ", "ちょ"}},
    {"th", {"てゃ", "てぃ", "てゅ", "てぇ", "てょ"}},
    {"d", {"だ", "ぢ", "づ", "で", "ど"}},
    {"dy", {"ぢゃ", "ぢぃ", "ぢゅ", "ぢぇ", "ぢょ"}},
    {"dh", {"でゃ", "でぃ", "でゅ", "でぇ", "でょ"}},
    {"n", {"な", "に", "ぬ", "ね", "の"}},
    {"ny", {"にゃ", "にぃ", "にゅ", "にぇ", "にょ"}},
    {"h", {"は", "ひ", "ふ", "へ", "ほ"}},
    {"hy", {"ひゃ", "ひぃ", "ひゅ", "ひぇ", "ひょ"}},
    {"f", {"ふぁ", "ふぃ", "ふ", "ふぇ", "ふぉ"}},
    {"b", {"ば", "び", "ぶ", "べ", "ぼ"}},
    {"by", {"びゃ", "びぃ", "びゅ", "びぇ", "びょ"}},
    {"p", {"ぱ", "ぴ", "ぷ", "ぺ", "ぽ"}},
    {"py", {"ぴゃ", "ぴぃ", "ぴゅ", "ぴぇ", "ぴょ"}},
    {"m", {"ま", "み", "む", "め", "も"}},
    {"my", {"みゃ", "みぃ", "みゅ", "みぇ", "みょ"}},
    {"y", {"や", NULL, "ゆ", "いぇ", "よ"}},
    {"r", {"ら", "り", "る", "れ", "ろ"}},
    {"ry", {"りゃ", "りぃ", "りゅ", "りぇ", "りょ"}},
    {"w", {"わ", "うぃ", "う", "うぇ", "を"}},
    {"v", {"ゔぁ", "ゔぃ", "ゔ", "ゔぇ", "ゔぉ"}},
};

/* Consonants whose doubling (kk, ss, tt, …) is a small っ; "nn" is ん, "mm" is ん + m. */
static const char doubling_consonants[] = "bcdfghjkpqrstvwyz";

static int vowel_index(char c)
{
    switch (c) {
    case 'a':
        return 0;
    case 'i':
        return 1;
    case 'u':
        return 2;
    case 'e':
        return 3;
    case 'o':
        return 4;
    default:
        return -1;
    }
}

/* The syllable at s (n bytes) with the longest consonant; NULL when none starts there. */
static const char *syllable_at(const char *s, size_t n, size_t *used)
{
    const char *found = NULL;
    size_t found_len = 0;
    for (size_t r = 0; r < sizeof(syllables) / sizeof(syllables[0]); r++) {
        size_t c = strlen(syllables[r].consonant);
        if (c >= n || (found && c <= found_len) || memcmp(s, syllables[r].consonant, c) != 0)
            continue;
        int v = vowel_index(s[c]);
        if (v < 0 || !syllables[r].kana[v])
            continue;
        found = syllables[r].kana[v];
        found_len = c;
    }
    *used = found_len + 1;
    return found;
}

/*
 * The n ASCII letters of word (lower case; apostrophes and hyphens allowed) as hiragana
 * appended at *o. RK_OK, RK_EINVAL when word is not romaji (*o is then unchanged), RK_ETOOBIG.
 */
static int romaji_word(const char *word, size_t n, char *out, size_t size, size_t *o)
{
    size_t start = *o;
    int after_syllable = 0;
    for (size_t i = 0; i < n;) {
        char c = word[i], next = i + 1 < n ? word[i + 1] : 0, then = i + 2 < n ? word[i + 2] : 0;
        const char *kana;
        size_t used = 1;
        if (c == '-' && after_syllable)
            kana = "ー";
        else if (c == 'n' && next == '\'')
            kana = "ん", used = 2;
        else if (c == 'n' && next == 'n' && vowel_index(then) < 0 && then != 'y')
            kana = "ん", used = 2;
        else if (c == 'n' && vowel_index(next) < 0 && next != 'y')
            kana = "ん";
        else if (c == 'm' && (next == 'b' || next == 'm' || next == 'p'))
            kana = "ん";
        else if (strchr(doubling_consonants, c) &&
                 (next == c || (c == 't' && next == 'c' && then == 'h')))
            kana = "っ";
        else
            kana = syllable_at(word + i, n - i, &used);
        if (!kana) {
            *o = start;
            out[start] = '\0';
            return RK_EINVAL;
        }
        if (put_bytes(out, size, o, kana, strlen(kana)) < 0)
            return RK_ETOOBIG;
        after_syllable = strcmp(kana, "っ") != 0;
        i += used;
    }
    return RK_OK;
}

/* The ASCII spelling of a Latin code point a romaji word may hold, into spelling (2 bytes);
 * its length, 0 for other code points. */
static size_t romaji_spelling(UChar32 c, char spelling[2])
{
    const char *long_vowel = NULL;
    switch (c) {
    case 0xe2:  /* â */
    case 0x101: /* ā */
        long_vowel = "aa";
        break;
    case 0xea:  /* ê */
    case 0x113: /* ē */
        long_vowel = "ee";
        break;
    case 0xee:  /* î */
    case 0x12b: /* ī */
        long_vowel = "ii";
        break;
    case 0xf4:  /* ô */
    case 0x14d: /* ō */
        long_vowel = "ou";
        break;
    case 0xfb:  /* û */
    case 0x16b: /* ū */
        long_vowel = "uu";
        break;
    default:
        if ((c >= 'a' && c <= 'z') || c == '\'' || c == '-') {
            spelling[0] = (char)c;
            return 1;
        }
        return 0;
    }
    memcpy(spelling, long_vowel, 2);
    return 2;
}

/* in (normalised) with every run of Latin letters that reads as romaji written in hiragana. */
static int read_romaji_runs(const char *in, char *out, size_t size)
{
    char ascii[RK_KANA_OUT_MAX];
    int32_t len = (int32_t)strlen(in);
    size_t o = 0;
    for (int32_t i = 0; i < len;) {
        int32_t j = i;
        size_t n = 0;
        while (j < len) {
            int32_t k = j;
            UChar32 c;
            char spelling[2];
            U8_NEXT(in, k, len, c);
            size_t s = romaji_spelling(c, spelling);
            if (!s)
                break;
            if (n + s > sizeof(ascii))
                return RK_ETOOBIG;
            memcpy(ascii + n, spelling, s);
            n += s;
            j = k;
        }
        if (j == i) { /* not Latin: copied as it is */
            UChar32 c;
            U8_NEXT(in, j, len, c);
            (void)c;
        } else {
            int rc = romaji_word(ascii, n, out, size, &o);
            if (rc == RK_OK) {
                i = j;
                continue;
            }
            if (rc != RK_EINVAL)
                return rc;
        }
        if (put_bytes(out, size, &o, in + i, (size_t)(j - i)) < 0)
            return RK_ETOOBIG;
        i = j;
    }
    return RK_OK;
}

/* --- keys ----------------------------------------------------------------------------------- */

static int is_plain_vowel(UChar32 c)
{
    return c == 0x3042 || c == 0x3044 || c == 0x3046 || c == 0x3048 || c == 0x304a; /* あいうえお */
}

/* ぢ づ を ゎ as じ ず お わ: spellings a reader does not tell apart. */
static UChar32 plain_kana(UChar32 c)
{
    switch (c) {
    case 0x3062:
        return 0x3058;
    case 0x3065:
        return 0x305a;
    case 0x3092:
        return 0x304a;
    case 0x308e:
        return 0x308f;
    default:
        return c;
    }
}

/* in with long vowels folded away (see kana.h). */
static int fold_long_vowels(const char *in, char *out, size_t size)
{
    int32_t len = (int32_t)strlen(in);
    size_t o = 0;
    char previous = 0; /* the vowel of the kana written last; 0 after anything else */
    for (int32_t i = 0; i < len;) {
        UChar32 c;
        U8_NEXT(in, i, len, c);
        if (c == KATAKANA_MIDDLE_DOT || ((c == LONG_VOWEL_MARK || c == '-') && previous))
            continue;
        char vowel = 0;
        if (c >= HIRAGANA_FIRST && c <= HIRAGANA_LAST) {
            c = plain_kana(c);
            vowel = hiragana_vowels[c - HIRAGANA_FIRST];
            if (is_plain_vowel(c) && previous &&
                (vowel == previous || (previous == 'o' && vowel == 'u') ||
                 (previous == 'e' && vowel == 'i')))
                continue;
            if (vowel == '-')
                vowel = 0;
        }
        if (put_code_point(out, size, &o, c) < 0)
            return RK_ETOOBIG;
        previous = vowel;
    }
    return RK_OK;
}

int rk_kana_key(const char *text, size_t len, int flags, char *out, size_t size)
{
    char normal[RK_KANA_OUT_MAX], read[RK_KANA_OUT_MAX];
    int rc = rk_kana_normalize(text, len, normal, sizeof(normal));
    const char *folding = normal;
    if (rc == RK_OK && (flags & RK_KANA_ROMAJI)) {
        read[0] = '\0';
        rc = read_romaji_runs(normal, read, sizeof(read));
        folding = read;
    }
    out[0] = '\0';
    if (rc == RK_OK)
        rc = fold_long_vowels(folding, out, size);
    if (rc != RK_OK)
        out[0] = '\0';
    return rc;
}

size_t rk_kana_morae(const char *key)
{
    int32_t len = (int32_t)strlen(key);
    size_t morae = 0;
    for (int32_t i = 0; i < len;) {
        UChar32 c;
        U8_NEXT(key, i, len, c);
        switch (c) {
        case 0x3041: /* ぁ ぃ ぅ ぇ ぉ */
        case 0x3043:
        case 0x3045:
        case 0x3047:
        case 0x3049:
        case 0x3083: /* ゃ ゅ ょ */
        case 0x3085:
        case 0x3087:
        case 0x308e: /* ゎ ゕ ゖ */
        case 0x3095:
        case 0x3096:
            break;
        default:
            morae++;
        }
    }
    return morae;
}
