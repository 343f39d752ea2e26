/*
 * kinds_test.c — unit tests for hub/facility/kinds.c: the taxonomy table (every FacilityKind
 * once, in enum order, OTHER last, the words of proto/README.md), queries naming kinds by
 * name, reading, romaji and synonyms in Japanese and English, no kind for short or ambiguous
 * input, words and phrases, the JSON for search, facilities' name keys, and refusals.
 */
#include "core/error.h"
#include "core/kana.h"
#include "facility/kinds.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define KIND(name) RENKEI__V1__FACILITY_KIND__FACILITY_KIND_##name

/* The kinds the one-word query names, as a 0-terminated list compared in order. */
static void assert_kinds(const char *query, const Renkei__V1__FacilityKind *want)
{
    rk_facility_query_t *q = malloc(sizeof(*q));
    const char *why = NULL;
    assert_int_equal(rk_facility_kinds_for_query(query, q, &why), RK_OK);
    assert_null(why);
    assert_int_equal(q->n_words, 1);
    size_t n = 0;
    while (want[n])
        n++;
    if (q->words[0].n_kinds != n)
        fail_msg("%s: %zu kinds, want %zu (first %d)", query, q->words[0].n_kinds, n,
                 q->words[0].n_kinds ? (int)q->words[0].kinds[0] : 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(q->words[0].kinds[i], want[i]);
    free(q);
}

#define NAMES(query, ...) assert_kinds(query, (const Renkei__V1__FacilityKind[]){__VA_ARGS__, 0})
#define NAMES_NOTHING(query) assert_kinds(query, (const Renkei__V1__FacilityKind[]){0})

/* Whether s is full-width katakana (U+30A1-U+30FC: E3 82 A1 … E3 83 BC) and nothing else. */
static int katakana_only(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    if (n == 0 || n % 3)
        return 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned cp = ((p[i] & 0x0fu) << 12) | ((p[i + 1] & 0x3fu) << 6) | (p[i + 2] & 0x3fu);
        if (p[i] != 0xe3 || cp < 0x30a1 || cp > 0x30fc)
            return 0;
    }
    return 1;
}

static void the_table_follows_the_enum(void **state)
{
    (void)state;
    const rk_facility_kind_info_t *kinds = rk_facility_kinds();
    const ProtobufCEnumDescriptor *e = &renkei__v1__facility_kind__descriptor;
    /* every value but UNSPECIFIED, once, in number order: OTHER (100) last */
    assert_int_equal(e->n_values - 1, RK_FACILITY_KIND_COUNT);
    for (size_t k = 0; k < RK_FACILITY_KIND_COUNT; k++) {
        assert_int_equal(kinds[k].kind, e->values[k + 1].value);
        assert_true(kinds[k].ja[0] && kinds[k].en[0] && kinds[k].kana[0]);
        assert_ptr_equal(rk_facility_kind_info(kinds[k].kind), &kinds[k]);
        assert_true(katakana_only(kinds[k].kana));
    }
    assert_int_equal(kinds[RK_FACILITY_KIND_COUNT - 1].kind, KIND(OTHER));
    assert_null(rk_facility_kind_info(KIND(UNSPECIFIED)));
    assert_null(rk_facility_kind_info((Renkei__V1__FacilityKind)99));
    assert_string_equal(rk_facility_kind_info(KIND(BASEBALL_FIELD))->ja, "野球場");
    assert_string_equal(rk_facility_kind_info(KIND(BASEBALL_FIELD))->kana, "ヤキュウジョウ");
}

static void baseball_by_every_spelling(void **state)
{
    (void)state;
    static const char *const spellings[] = {
        "野球場",  "野球",           "やきゅう",     "ヤキュウ", "ﾔｷｭｳ",
        "yakyu",   "yakyuu",         "yakyû",        "yakyū",    "YAKYU",
        "yakyujo", "やきゅうじょう", "baseball",     "Baseball", "ＢＡＳＥＢＡＬＬ",
        "球場",    "ballpark",       "ソフトボール", "softball", "baseball field",
    };
    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++)
        NAMES(spellings[i], KIND(BASEBALL_FIELD));
}

static void other_kinds_by_name_reading_and_synonym(void **state)
{
    (void)state;
    NAMES("テニス", KIND(TENNIS_COURT));
    NAMES("tenisu", KIND(TENNIS_COURT));
    NAMES("tennis", KIND(TENNIS_COURT));
    NAMES("てに", KIND(TENNIS_COURT));
    NAMES("庭球場", KIND(TENNIS_COURT));
    NAMES("tennis courts", KIND(TENNIS_COURT)); /* plural */
    NAMES("体育館", KIND(GYMNASIUM));
    NAMES("taiikukan", KIND(GYMNASIUM));
    NAMES("体育", KIND(GYMNASIUM));
    NAMES("sports hall", KIND(GYMNASIUM));
    NAMES("会議室", KIND(MEETING_ROOM));
    NAMES("kaigishitsu", KIND(MEETING_ROOM));
    NAMES("kaigisitu", KIND(MEETING_ROOM));
    NAMES("かいぎ", KIND(MEETING_ROOM));
    NAMES("meeting room", KIND(MEETING_ROOM));
    NAMES("Meeting", KIND(MEETING_ROOM));
    NAMES("プール", KIND(POOL));
    NAMES("pūru", KIND(POOL));
    NAMES("pool", KIND(POOL));
    NAMES("swimming", KIND(POOL));
    NAMES("swim", KIND(POOL));
    NAMES("ホール", KIND(HALL));
    NAMES("hall", KIND(HALL));
    NAMES("studio", KIND(STUDIO));
    NAMES("gym", KIND(TRAINING_ROOM));
    NAMES("ジム", KIND(TRAINING_ROOM));
    NAMES("グラウンド", KIND(SPORTS_GROUND));
    NAMES("グラウンドゴルフ", KIND(GATEBALL));
    NAMES("グラウンド・ゴルフ場", KIND(GATEBALL));
    NAMES("table tennis", KIND(TABLE_TENNIS));
    NAMES("ping-pong", KIND(TABLE_TENNIS));
    NAMES("budojo", KIND(MARTIAL_ARTS_HALL));
    NAMES("kyudo", KIND(ARCHERY_RANGE));
    NAMES("track and field", KIND(ATHLETIC_FIELD));
    NAMES("BBQ", KIND(PARK_BBQ));
    NAMES("ｂｂｑ", KIND(PARK_BBQ));
    NAMES("その他", KIND(OTHER));
}

static void names_inside_a_longer_word(void **state)
{
    (void)state;
    NAMES("市民体育館", KIND(GYMNASIUM));
    NAMES("第1会議室", KIND(MEETING_ROOM));
    NAMES("調布市野球場", KIND(BASEBALL_FIELD));
    NAMES("市民弓道場", KIND(ARCHERY_RANGE)); /* not also 道場-like kinds */
    NAMES("屋内競技場", KIND(GYMNASIUM));     /* exact beats 競技場 inside it */
}

static void short_and_ambiguous_input_names_nothing(void **state)
{
    (void)state;
    NAMES_NOTHING("ba");
    NAMES_NOTHING("室");
    NAMES_NOTHING("場");
    NAMES_NOTHING("ten");
    NAMES_NOTHING("や");
    NAMES_NOTHING("きゅ");
    NAMES_NOTHING("a");
    NAMES_NOTHING("ro");
    NAMES_NOTHING("調布");
    NAMES_NOTHING("chofu");
    NAMES_NOTHING("ぷるとにうむ"); /* ぷる is POOL's key, but too short to be found inside */
}

static void words_and_phrases(void **state)
{
    (void)state;
    rk_facility_query_t *q = malloc(sizeof(*q));
    assert_int_equal(rk_facility_kinds_for_query("  yakyu　ちょうふ ", q, NULL), RK_OK);
    assert_int_equal(q->n_words, 2);
    assert_string_equal(q->words[0].key, "yakyu");
    assert_string_equal(q->words[0].reading, "やきゅ");
    assert_int_equal(q->words[0].n_kinds, 1);
    assert_int_equal(q->words[0].kinds[0], KIND(BASEBALL_FIELD));
    assert_string_equal(q->words[1].key, "ちょふ");
    assert_string_equal(q->words[1].reading, ""); /* no romaji in it */
    assert_int_equal(q->words[1].n_kinds, 0);

    assert_int_equal(rk_facility_kinds_for_query("Conference Room Chofu", q, NULL), RK_OK);
    assert_int_equal(q->n_words, 2);
    assert_string_equal(q->words[0].key, "conference room");
    assert_int_equal(q->words[0].kinds[0], KIND(MEETING_ROOM));
    assert_string_equal(q->words[1].key, "chofu");
    assert_string_equal(q->words[1].reading, "ちょふ");

    assert_int_equal(rk_facility_kinds_for_query(" \t　", q, NULL), RK_OK);
    assert_int_equal(q->n_words, 0);

    json_t *words = NULL;
    assert_int_equal(rk_facility_kinds_for_query("tenisu 調布", q, NULL), RK_OK);
    words = rk_facility_query_json(q);
    char *text = json_dumps(words, JSON_COMPACT);
    assert_string_equal(text, "[{\"kinds\":[2],\"key\":\"tenisu\",\"reading\":\"てにす\"},"
                              "{\"kinds\":[],\"key\":\"調布\",\"reading\":\"\"}]");
    free(text);
    json_decref(words);
    free(q);
}

static void bad_queries_are_refused_naming_the_field(void **state)
{
    (void)state;
    rk_facility_query_t *q = malloc(sizeof(*q));
    const char *why = NULL;
    assert_int_equal(rk_facility_kinds_for_query("野球\xff", q, &why), RK_EINVAL);
    assert_string_equal(why, "query: must be valid UTF-8");
    assert_int_equal(q->n_words, 0);
    assert_int_equal(rk_facility_kinds_for_query("a b c d e f g h i", q, &why), RK_ETOOBIG);
    assert_string_equal(why, "query: at most 8 words");
    assert_int_equal(q->n_words, 0);
    char *big = malloc(RK_KANA_TEXT_MAX + 2);
    memset(big, 'x', RK_KANA_TEXT_MAX + 1);
    big[RK_KANA_TEXT_MAX + 1] = '\0';
    assert_int_equal(rk_facility_kinds_for_query(big, q, &why), RK_ETOOBIG);
    assert_string_equal(why, "query: too long (at most 1024 bytes)");
    free(big);
    free(q);
}

static void name_keys_meet_query_keys(void **state)
{
    (void)state;
    char key[512];
    rk_facility_name_key("市民野球場", "Civic Baseball Field", "シミンヤキュウジョウ", key,
                         sizeof(key));
    assert_string_equal(key, "しみんやきゅじょ\n市民野球場\ncivic baseball field");
    rk_facility_query_t *q = malloc(sizeof(*q));
    static const char *const finding[] = {"やきゅう", "yakyu",      "ﾔｷｭｳｼﾞｮｳ",
                                          "shimin",   "ＣＩＶＩＣ", "野球"};
    for (size_t i = 0; i < sizeof(finding) / sizeof(finding[0]); i++) {
        assert_int_equal(rk_facility_kinds_for_query(finding[i], q, NULL), RK_OK);
        const rk_facility_query_word_t *w = &q->words[0];
        if (!strstr(key, w->key) && !(w->reading[0] && strstr(key, w->reading)))
            fail_msg("%s (key %s, reading %s) does not meet the name key", finding[i], w->key,
                     w->reading);
    }
    /* names that are not UTF-8 or missing are left out; the rest stays */
    rk_facility_name_key("テニス\xc0", NULL, "テニスコート", key, sizeof(key));
    assert_string_equal(key, "てにすこと");
    char tiny[16];
    rk_facility_name_key("体育館", "Gymnasium", "タイイクカン", tiny, sizeof(tiny));
    assert_string_equal(tiny, "たいくかん"); /* what does not fit is left out */
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_table_follows_the_enum),
        cmocka_unit_test(baseball_by_every_spelling),
        cmocka_unit_test(other_kinds_by_name_reading_and_synonym),
        cmocka_unit_test(names_inside_a_longer_word),
        cmocka_unit_test(short_and_ambiguous_input_names_nothing),
        cmocka_unit_test(words_and_phrases),
        cmocka_unit_test(bad_queries_are_refused_naming_the_field),
        cmocka_unit_test(name_keys_meet_query_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
