/*
 * kinds.h — the facility kind taxonomy (FacilityKind with Japanese and English names, the
 * reading and synonyms; proto/README.md "Facility kind taxonomy" shows the same table) and
 * what a free-text search query means against it and against facilities' names.
 *
 * A query is normalised and keyed with core/kana.h (kanji, hiragana, katakana, half- and
 * full-width, romaji in Hepburn or kunrei all meet) and cut into words at blanks. Consecutive
 * words that together name a kind stay one word ("meeting room", "table tennis"). Each word
 * names the kinds one of whose terms (the Japanese and English names, the reading, the
 * synonyms) it matches, best level only:
 *   exact      the word's key is the term's key: "やきゅう", "yakyu", "baseball", "球場", "プール";
 *   prefix     the word's key begins the term's: at least 2 kana or kanji ("野球", "てに", "体育")
 *              and, for a Latin word or romaji, at least 4 letters ("tenisu", "swim", "yakyu");
 *   contains   a term with a kanji (2 or more characters) or of 3 or more kana lies inside the
 *              word: "市民体育館" → GYMNASIUM; of several nested terms only the longest counts.
 * English plurals are tried singular ("courts"). "ba", "室", "ten" name nothing.
 *
 * What search does with the result (SearchFacilities' free text), for rk_facility rows f:
 *
 *   f matches the query when every word w matches:
 *       f.kind is one of w.kinds
 *    OR f.name_key contains w.key
 *    OR w.reading is not empty and f.name_key contains w.reading
 *   where f.name_key = rk_facility_name_key(f.name_ja, f.name_en, f.name_kana), computed when
 *   the catalogue sync stores the row. RK_FACILITY_QUERY_SQL() is that condition in SQL over
 *   rk_facility_query_json()'s array; the address can still be matched with the raw query
 *   (ILIKE), as search.c does today.
 *
 * So "やきゅう" finds facilities of kind BASEBALL_FIELD and any whose reading holds やきゅう
 * (ヤキュウジョウ), "yakyu chofu" finds baseball fields whose names hold ちょうふ/chofu.
 *
 * Pure: no I/O; the terms' keys are made once per process (pthread_once). Used by
 * kinds_service.c (ListFacilityKinds) and SearchFacilities' free text (search.c), with
 * rk_facility.name_key (migration 0012) filled by the catalogue sync (catalogue_sync.c).
 */
#ifndef RK_FACILITY_KINDS_H
#define RK_FACILITY_KINDS_H

#include "renkei/v1/facility.pb-c.h"

#include <jansson.h>
#include <stddef.h>

#define RK_FACILITY_KIND_COUNT 25      /* entries of the taxonomy, OTHER included */
#define RK_FACILITY_QUERY_WORDS_MAX 8  /* words of a query; more is RK_ETOOBIG */
#define RK_FACILITY_QUERY_KEY_MAX 1024 /* bytes of a word's key or reading, with its NUL */

/** One kind of the taxonomy. */
typedef struct rk_facility_kind_info {
    Renkei__V1__FacilityKind kind;
    const char *ja;              /* canonical Japanese name: 野球場 */
    const char *en;              /* canonical English name: Baseball field */
    const char *kana;            /* reading of ja in katakana: ヤキュウジョウ */
    const char *const *synonyms; /* other words for it (Japanese, kana, English), NULL-ended */
} rk_facility_kind_info_t;

/** One word of a query (see above). */
typedef struct rk_facility_query_word {
    char key[RK_FACILITY_QUERY_KEY_MAX];     /* rk_kana_key(word, 0): as typed */
    char reading[RK_FACILITY_QUERY_KEY_MAX]; /* rk_kana_key(word, ROMAJI) when that differs */
    Renkei__V1__FacilityKind kinds[RK_FACILITY_KIND_COUNT]; /* in taxonomy order */
    size_t n_kinds;
} rk_facility_query_word_t;

/* About 17 KiB: allocate it (in the request's arena), not on a small stack. */
typedef struct rk_facility_query {
    rk_facility_query_word_t words[RK_FACILITY_QUERY_WORDS_MAX];
    size_t n_words; /* 0 for a blank query: it restricts nothing */
} rk_facility_query_t;

/** The taxonomy in enum order, FACILITY_KIND_OTHER last; RK_FACILITY_KIND_COUNT entries. */
const rk_facility_kind_info_t *rk_facility_kinds(void);

/** The entry of kind, or NULL when kind is not in the taxonomy (UNSPECIFIED, unknown). */
const rk_facility_kind_info_t *rk_facility_kind_info(Renkei__V1__FacilityKind kind);

/**
 * Reads a free-text query (UTF-8, NUL-terminated) into out. Returns RK_OK; RK_EINVAL when it
 * is not valid UTF-8; RK_ETOOBIG when it is longer than RK_KANA_TEXT_MAX bytes or has more
 * than RK_FACILITY_QUERY_WORDS_MAX words. *why (when why is not NULL) then names the field
 * ("query: …") for the caller's error.
 */
int rk_facility_kinds_for_query(const char *query, rk_facility_query_t *out, const char **why);

/**
 * The words of query as a JSON array of {"kinds": [numbers], "key": "…", "reading": "…"}, the
 * parameter of RK_FACILITY_QUERY_SQL(); the caller json_decref()s it.
 */
json_t *rk_facility_query_json(const rk_facility_query_t *query);

/**
 * The free-text condition above in SQL, for a jsonb parameter words (e.g. "$2::jsonb", NULL
 * or [] = no condition), the kind column and the name_key column.
 */
#define RK_FACILITY_QUERY_SQL(words, kind, name_key)                                               \
    "NOT EXISTS (SELECT 1 FROM jsonb_to_recordset(" words ") AS w(kinds int[], key text,"          \
    " reading text) WHERE NOT (" kind " = ANY (w.kinds) OR strpos(" name_key ", w.key) > 0"        \
    " OR (w.reading <> '' AND strpos(" name_key ", w.reading) > 0)))"

/**
 * The matching key of a facility's names (rk_kana_key of the reading, the Japanese and the
 * English name, one per line) into out (size bytes, NUL-terminated): what RK_FACILITY_QUERY_SQL
 * compares words with. A name that is not valid UTF-8 or too long is left out (it cannot be
 * matched by text), so this never fails; what does not fit in size is left out too.
 */
void rk_facility_name_key(const char *name_ja, const char *name_en, const char *name_kana,
                          char *out, size_t size);

#endif
