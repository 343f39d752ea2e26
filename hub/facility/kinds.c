/*
 * kinds.c — the facility kind taxonomy and free-text queries against it (see kinds.h).
 *
 * The table is the one place the words live: ListFacilityKinds answers it, queries are matched
 * against the keys of its terms (each kind's Japanese and English name, reading and synonyms),
 * made once by pthread_once. A query is at most a few words and the table a few hundred terms,
 * so matching is a plain scan.
 *
 * Interface routines: rk_facility_kinds, rk_facility_kind_info, rk_facility_kinds_for_query,
 * rk_facility_query_json, rk_facility_name_key.
 */
#include "facility/kinds.h"

#include "core/error.h"
#include "core/kana.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KIND(name) RENKEI__V1__FACILITY_KIND__FACILITY_KIND_##name
/* A NULL-ended list of words, stored with the table. */
#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const rk_facility_kind_info_t taxonomy[RK_FACILITY_KIND_COUNT] = {
    {KIND(BASEBALL_FIELD), "野球場", "Baseball field", "ヤキュウジョウ",
     WORDS("球場", "少年野球場", "ソフトボール場", "野球", "やきゅう", "きゅうじょう", "baseball",
           "ballpark", "softball")},
    {KIND(TENNIS_COURT), "テニスコート", "Tennis court", "テニスコート",
     WORDS("庭球場", "庭球", "ていきゅうじょう", "テニス", "ソフトテニス", "オムニコート",
           "tennis")},
    {KIND(GYMNASIUM), "体育館", "Gymnasium", "タイイクカン",
     WORDS("体育室", "アリーナ", "屋内競技場", "バスケットボール", "バレーボール", "バドミントン",
           "sports hall", "arena", "basketball", "volleyball", "badminton")},
    {KIND(POOL), "プール", "Swimming pool", "プール",
     WORDS("温水プール", "屋内プール", "水泳場", "水泳", "すいえい", "pool", "swimming")},
    {KIND(MEETING_ROOM), "会議室", "Meeting room", "カイギシツ",
     WORDS("集会室", "研修室", "講義室", "学習室", "会議", "しゅうかいしつ", "セミナールーム",
           "conference room", "seminar room")},
    {KIND(HALL), "ホール", "Hall", "ホール",
     WORDS("大ホール", "小ホール", "講堂", "公会堂", "劇場", "こうどう", "auditorium", "theatre",
           "theater", "concert hall")},
    {KIND(MUSIC_STUDIO), "音楽室", "Music studio", "オンガクシツ",
     WORDS("音楽スタジオ", "練習室", "防音室", "合奏室", "music room", "rehearsal room", "band")},
    {KIND(ATHLETIC_FIELD), "陸上競技場", "Athletics stadium", "リクジョウキョウギジョウ",
     WORDS("競技場", "陸上トラック", "陸上", "track and field", "athletics", "stadium")},
    {KIND(SOCCER_FIELD), "サッカー場", "Football pitch", "サッカージョウ",
     WORDS("球技場", "蹴球場", "ラグビー場", "人工芝グラウンド", "サッカー", "ラグビー", "soccer",
           "football", "rugby")},
    {KIND(FUTSAL), "フットサル場", "Futsal court", "フットサルジョウ",
     WORDS("フットサルコート", "フットサル", "futsal")},
    {KIND(MARTIAL_ARTS_HALL), "武道場", "Martial arts hall", "ブドウジョウ",
     WORDS("武道館", "柔道場", "剣道場", "相撲場", "柔道", "剣道", "空手", "合気道", "dojo", "judo",
           "kendo", "karate", "martial arts")},
    {KIND(ARCHERY_RANGE), "弓道場", "Archery range", "キュウドウジョウ",
     WORDS("アーチェリー場", "弓道", "アーチェリー", "kyudo", "archery")},
    {KIND(MULTIPURPOSE_ROOM), "多目的室", "Multipurpose room", "タモクテキシツ",
     WORDS("多目的ルーム", "多目的ホール", "活動室", "レクリエーション室", "multipurpose",
           "multi-purpose room")},
    {KIND(COOKING_ROOM), "調理室", "Cooking room", "チョウリシツ",
     WORDS("料理室", "調理実習室", "料理教室", "調理", "料理", "kitchen", "cooking")},
    {KIND(JAPANESE_ROOM), "和室", "Japanese-style room", "ワシツ",
     WORDS("茶室", "日本間", "座敷", "畳", "tatami", "tea room")},
    {KIND(STUDIO), "スタジオ", "Studio", "スタジオ",
     WORDS("ダンススタジオ", "ダンス室", "創作室", "工芸室", "陶芸室", "アトリエ", "ダンス",
           "dance", "atelier")},
    {KIND(PARK_BBQ), "バーベキュー場", "Barbecue area", "バーベキュージョウ",
     WORDS("BBQ", "BBQ広場", "デイキャンプ場", "炊事場", "バーベキュー", "barbecue")},
    {KIND(CAMP_SITE), "キャンプ場", "Campsite", "キャンプジョウ",
     WORDS("野営場", "オートキャンプ場", "青少年キャンプ場", "キャンプ", "camping", "camp")},
    {KIND(SPORTS_GROUND), "運動場", "Sports ground", "ウンドウジョウ",
     WORDS("グラウンド", "グランド", "多目的広場", "運動広場", "校庭開放", "校庭", "playing field",
           "sports field", "ground")},
    {KIND(TABLE_TENNIS), "卓球場", "Table tennis room", "タッキュウジョウ",
     WORDS("卓球室", "卓球", "ping-pong", "ping pong")},
    {KIND(TRAINING_ROOM), "トレーニング室", "Training room", "トレーニングシツ",
     WORDS("トレーニングルーム", "ジム", "フィットネス", "gym", "fitness", "training")},
    {KIND(GATEBALL), "ゲートボール場", "Gateball field", "ゲートボールジョウ",
     WORDS("グラウンド・ゴルフ場", "グラウンドゴルフ", "グランドゴルフ", "ゲートボール", "gateball",
           "ground golf")},
    {KIND(EXHIBITION_ROOM), "展示室", "Exhibition room", "テンジシツ",
     WORDS("ギャラリー", "展示ホール", "市民ギャラリー", "展示", "gallery", "exhibition")},
    {KIND(CHILDREN_ROOM), "児童室", "Children's room", "ジドウシツ",
     WORDS("幼児室", "プレイルーム", "子育てひろば", "キッズルーム", "子ども", "kids room",
           "playroom")},
    {KIND(OTHER), "その他", "Other", "ソノタ", WORDS("other")},
};

/* --- the terms' keys ------------------------------------------------------------------------ */

#define TERMS_MAX 320
#define TERM_KEY_MAX 96

typedef struct term {
    size_t kind_index;      /* in taxonomy */
    char key[TERM_KEY_MAX]; /* rk_kana_key(word, 0) */
    size_t len;             /* of key */
    int may_be_contained;   /* found inside a longer word (see kinds.h "contains") */
} term_t;

static term_t terms[TERMS_MAX];
static size_t n_terms;
static pthread_once_t terms_once = PTHREAD_ONCE_INIT;

static int is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* A character that is neither ASCII nor hiragana: a kanji (keys hold no katakana). */
static int has_kanji(const char *key)
{
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        if (*p < 0x80 || (*p & 0xc0) == 0x80)
            continue;
        /* hiragana U+3041-U+309F is E3 81 81 … E3 82 9F */
        if (!(p[0] == 0xe3 && (p[1] == 0x81 || p[1] == 0x82)))
            return 1;
    }
    return 0;
}

static void add_term(size_t kind_index, const char *word)
{
    if (n_terms == TERMS_MAX) /* the table above outgrew TERMS_MAX: a programming error */
        abort();
    term_t *t = &terms[n_terms++];
    t->kind_index = kind_index;
    if (rk_kana_key(word, strlen(word), 0, t->key, sizeof(t->key)) != RK_OK)
        abort(); /* a word of the table that cannot be keyed: a programming error */
    t->len = strlen(t->key);
    size_t morae = rk_kana_morae(t->key);
    t->may_be_contained = !is_ascii(t->key) && ((has_kanji(t->key) && morae >= 2) || morae >= 3);
}

static void make_terms(void)
{
    for (size_t k = 0; k < RK_FACILITY_KIND_COUNT; k++) {
        const rk_facility_kind_info_t *info = &taxonomy[k];
        add_term(k, info->ja);
        add_term(k, info->en);
        add_term(k, info->kana);
        for (const char *const *s = info->synonyms; *s; s++)
            add_term(k, *s);
    }
}

/* --- matching ------------------------------------------------------------------------------- */

typedef enum { MATCH_NONE, MATCH_CONTAINS, MATCH_PREFIX, MATCH_EXACT } match_t;

/* One form of a word (its key or its reading) and whether it may match as a prefix. */
typedef struct form {
    const char *key;
    size_t len;
    int prefix_ok;
} form_t;

static match_t match_term(const term_t *t, const form_t *f)
{
    if (!f->len)
        return MATCH_NONE;
    if (t->len == f->len && memcmp(t->key, f->key, f->len) == 0)
        return MATCH_EXACT;
    if (f->prefix_ok && t->len > f->len && memcmp(t->key, f->key, f->len) == 0)
        return MATCH_PREFIX;
    if (t->may_be_contained && t->len < f->len && strstr(f->key, t->key))
        return MATCH_CONTAINS;
    return MATCH_NONE;
}

/*
 * The kinds the forms name at their best level into word (kinds, n_kinds); that level. Of
 * contained terms, one inside another contained term is not counted.
 */
static match_t name_kinds(const form_t *forms, size_t n_forms, rk_facility_query_word_t *word)
{
    static const size_t none = (size_t)-1;
    size_t matched[TERMS_MAX], n_matched = 0;
    match_t best = MATCH_NONE;
    for (size_t i = 0; i < n_terms; i++) {
        match_t level = MATCH_NONE;
        for (size_t f = 0; f < n_forms; f++) {
            match_t m = match_term(&terms[i], &forms[f]);
            level = m > level ? m : level;
        }
        if (level == MATCH_NONE || level < best)
            continue;
        if (level > best) {
            best = level;
            n_matched = 0;
        }
        matched[n_matched++] = i;
    }
    if (best == MATCH_CONTAINS) {
        for (size_t a = 0; a < n_matched; a++)
            for (size_t b = 0; b < n_matched && matched[a] != none; b++)
                if (a != b && matched[b] != none && terms[matched[b]].len > terms[matched[a]].len &&
                    strstr(terms[matched[b]].key, terms[matched[a]].key))
                    matched[a] = none;
    }
    int named[RK_FACILITY_KIND_COUNT] = {0};
    for (size_t i = 0; i < n_matched; i++)
        if (matched[i] != none)
            named[terms[matched[i]].kind_index] = 1;
    word->n_kinds = 0;
    for (size_t k = 0; k < RK_FACILITY_KIND_COUNT; k++)
        if (named[k])
            word->kinds[word->n_kinds++] = taxonomy[k].kind;
    return best;
}

/* Whether a key is long enough to match terms it begins (see kinds.h "prefix"). */
static int prefix_long_enough(const char *key, size_t letters)
{
    return is_ascii(key) ? strlen(key) >= 4 : rk_kana_morae(key) >= 2 && letters >= 4;
}

/*
 * Keys the len bytes of normalised text at text as one word into word and names its kinds;
 * the level they were named at. RK_ETOOBIG (as a negative level) when a key does not fit.
 */
static int read_word(const char *text, size_t len, rk_facility_query_word_t *word)
{
    if (rk_kana_key(text, len, 0, word->key, sizeof(word->key)) != RK_OK ||
        rk_kana_key(text, len, RK_KANA_ROMAJI, word->reading, sizeof(word->reading)) != RK_OK)
        return RK_ETOOBIG;
    int latin = is_ascii(word->key);
    if (strcmp(word->reading, word->key) == 0)
        word->reading[0] = '\0';
    size_t key_len = strlen(word->key);
    form_t forms[2] = {
        {word->key, key_len, prefix_long_enough(word->key, latin ? key_len : 4)},
        {word->reading, strlen(word->reading), prefix_long_enough(word->reading, key_len)},
    };
    match_t level = name_kinds(forms, 2, word);
    if (level == MATCH_NONE && latin && key_len >= 5 && word->key[key_len - 1] == 's') {
        form_t singular = {word->key, key_len - 1, 1}; /* "courts" → "court" */
        level = name_kinds(&singular, 1, word);
    }
    return (int)level;
}

int rk_facility_kinds_for_query(const char *query, rk_facility_query_t *out, const char **why)
{
    static const char *const reasons[] = {"query: must be valid UTF-8",
                                          "query: too long (at most 1024 bytes)",
                                          "query: at most 8 words"};
    pthread_once(&terms_once, make_terms);
    out->n_words = 0;
    char normal[RK_KANA_OUT_MAX];
    size_t query_len = strlen(query);
    int rc = rk_kana_normalize(query, query_len, normal, sizeof(normal));
    if (rc != RK_OK) {
        if (why)
            *why = rc == RK_EINVAL ? reasons[0] : reasons[1];
        return rc == RK_EINVAL ? RK_EINVAL : RK_ETOOBIG;
    }
    /* The words of the normalised text: single spaces between them, none at the ends. */
    const char *starts[RK_FACILITY_QUERY_WORDS_MAX];
    size_t lens[RK_FACILITY_QUERY_WORDS_MAX], n = 0;
    for (const char *p = normal; *p; n++) {
        if (n == RK_FACILITY_QUERY_WORDS_MAX) {
            if (why)
                *why = reasons[2];
            return RK_ETOOBIG;
        }
        const char *space = strchr(p, ' ');
        size_t len = space ? (size_t)(space - p) : strlen(p);
        starts[n] = p;
        lens[n] = len;
        p += len + (space ? 1 : 0);
    }
    for (size_t i = 0; i < n;) {
        rk_facility_query_word_t *word = &out->words[out->n_words];
        /* the longest run of words from i that names a kind exactly or as a prefix */
        size_t last = i;
        for (size_t j = n - 1; j > i; j--) {
            size_t len = (size_t)(starts[j] + lens[j] - starts[i]);
            if (read_word(starts[i], len, word) >= MATCH_PREFIX) {
                last = j;
                break;
            }
        }
        if (last == i && read_word(starts[i], lens[i], word) < 0) {
            if (why)
                *why = reasons[1];
            out->n_words = 0;
            return RK_ETOOBIG;
        }
        if (word->key[0])
            out->n_words++;
        i = last + 1;
    }
    return RK_OK;
}

/* --- the table, JSON, names ----------------------------------------------------------------- */

const rk_facility_kind_info_t *rk_facility_kinds(void)
{
    return taxonomy;
}

const rk_facility_kind_info_t *rk_facility_kind_info(Renkei__V1__FacilityKind kind)
{
    for (size_t k = 0; k < RK_FACILITY_KIND_COUNT; k++)
        if (taxonomy[k].kind == kind)
            return &taxonomy[k];
    return NULL;
}

json_t *rk_facility_query_json(const rk_facility_query_t *query)
{
    json_t *words = json_array();
    for (size_t i = 0; i < query->n_words; i++) {
        const rk_facility_query_word_t *w = &query->words[i];
        json_t *kinds = json_array();
        for (size_t k = 0; k < w->n_kinds; k++)
            json_array_append_new(kinds, json_integer(w->kinds[k]));
        json_array_append_new(words, json_pack("{s:o, s:s, s:s}", "kinds", kinds, "key", w->key,
                                               "reading", w->reading));
    }
    return words;
}

void rk_facility_name_key(const char *name_ja, const char *name_en, const char *name_kana,
                          char *out, size_t size)
{
    const char *names[] = {name_kana, name_ja, name_en};
    char key[RK_KANA_OUT_MAX];
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!names[i] || rk_kana_key(names[i], strlen(names[i]), 0, key, sizeof(key)) != RK_OK ||
            !key[0])
            continue;
        size_t len = strlen(key), separator = o > 0;
        if (separator + len >= size - o)
            continue;
        if (separator)
            out[o++] = '\n';
        memcpy(out + o, key, len + 1);
        o += len;
    }
}
