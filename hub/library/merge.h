/*
 * merge.h — many cities' catalogue records merged into works, each with its availability per
 * city: what SearchCatalogue, GetWork and GetHoldings answer.
 *
 * Which records are one work (the work's id says which rule joined them):
 *   - a record with a valid ISBN (isbn.h: ISBN-10 converted, hyphens and spaces removed, check
 *     digit verified): every record with the same ISBN-13 — "isbn:9784101010014";
 *   - a record without ISBN: every record with the same title key, first author's key, year and
 *     format — "tay:<hex of the folded texts, year and format>". A key is the text with full-width
 * letters and digits made ASCII, letters lower case, and blanks and punctuation (ASCII,
 * 、。・「」『』（）【】 〈〉《》〔〕［］｛｝：；！？〜～‐–—) removed, so "羅生門・鼻",
 * "羅生門　鼻" and "羅生門 鼻" meet, as do "夏目 漱石" and "夏目漱石". A record whose title has no
 * key is its own work;
 *   - a record whose ISBN is present but invalid is never merged: its own work,
 *     "rec:<municipality code>:<hex of the record id>".
 * The work's metadata is the first record's (cities in the order given, records in each city's
 * order), its empty fields filled from the following records in the same order: with
 * conflicting values (another publisher, another year) the first city's win. Works are ordered
 * by their best record's position in its city's answer, then by how many cities hold them,
 * then by first appearance.
 *
 * Availability: one LibraryAvailability per city holding the work, in the cities' order, with
 * the city's first record id, the holdings of its records (holdings_total of them), the
 * AVAILABLE count and the count of items held (NOT_HELD not counted) over every holding, and
 * the city's may_borrow / restriction / agreement / status as given. Which holdings, and how
 * they name their library and branch, the shape says (rk_library_merge_shape_t).
 *
 * Pure: messages in, messages out, all in the caller's arena (the records' strings are shared,
 * not copied).
 */
#ifndef RK_LIBRARY_MERGE_H
#define RK_LIBRARY_MERGE_H

#include "core/mem.h"
#include "renkei/v1/adapter.pb-c.h"
#include "renkei/v1/library.pb-c.h"

#include <stddef.h>

#define RK_LIBRARY_WORK_ID_MAX 1024 /* longest work id, with its NUL */

/** One city's records and what the caller may do there, in the order the answer shows them. */
typedef struct rk_library_city {
    Renkei__V1__MunicipalityRef *library;
    int may_borrow;
    Renkei__V1__LocalizedText *restriction; /* NULL when may_borrow */
    Renkei__V1__AgreementRef *agreement;    /* NULL at home or without one */
    Renkei__V1__AnswerStatus status;        /* how its records were obtained (OK, STALE) */
    Renkei__V1__CatalogueRecord **records;
    size_t n_records;
} rk_library_city_t;

/** How much of each city's holdings an answer carries, and in which form. */
typedef struct rk_library_merge_shape {
    size_t holdings_max; /* at most this many holdings per city, the first in the owner's order
                            (0 = every one); holdings_total still counts them all */
    /* 1: the holdings carry no library, nor their record_id when it is the availability's,
     * and the availability's library is its code and slug (the caller names it once, in its
     * statuses) — what a search answer of hundreds of holdings would otherwise repeat in each;
     * rk_library_names_once() then takes the branch names out of them. 0: the city's
     * library in full, every holding with Holding.library set to it and its own record_id */
    int names_once;
} rk_library_merge_shape_t;

/** SearchCatalogue's shape: the first 10 holdings per city, each library named once. */
#define RK_LIBRARY_SEARCH_SHAPE ((rk_library_merge_shape_t){10, 1})
/** GetHoldings' shape: every holding, each with its library and branch name. */
#define RK_LIBRARY_FULL_SHAPE ((rk_library_merge_shape_t){0, 0})

/**
 * The works of the cities' records, with availability in the given shape, as above: *out (an
 * array of n_out WorkResults) in the arena.
 */
void rk_library_merge(rk_arena_t *arena, const rk_library_city_t *cities, size_t n_cities,
                      rk_library_merge_shape_t shape, Renkei__V1__WorkResult ***out, size_t *n_out);

/** What a search answer names once instead of in each holding (rk_library_names_once()). */
typedef struct rk_library_names {
    Renkei__V1__Branch **branches; /* municipality (the availability's library), branch_id, name */
    size_t n_branches;
    Renkei__V1__LocalizedText **shelf_locations;
    size_t n_shelf_locations;
} rk_library_names_t;

/**
 * Each branch and each shelf location the holdings of the works name, once (in order of first
 * mention), into *out; every holding's branch_name cleared and its shelf_location replaced by
 * shelf_location_ref (1 + its index in out->shelf_locations): a search answer names each once
 * instead of in each of its copies.
 */
void rk_library_names_once(rk_arena_t *arena, Renkei__V1__WorkResult *const *works, size_t n_works,
                           rk_library_names_t *out);

/**
 * The id of the work record r of the city with code belongs to, into out. Returns the kind:
 * 'i' (isbn:), 't' (tay:) or 'r' (rec:).
 */
char rk_library_work_id(const char *code, const Renkei__V1__CatalogueRecord *r,
                        char out[RK_LIBRARY_WORK_ID_MAX]);

/** A work id taken apart: what finds its records again at the owners. */
typedef struct rk_library_work_ref {
    char kind;                     /* 'i', 't' or 'r' */
    char isbn13[14];               /* 'i' */
    char code[16];                 /* 'r': the municipality code */
    char *record_id;               /* 'r' */
    char *title, *author;          /* 't': the keyed texts with their words apart (see below) */
    char *title_word;              /* 't': the title's longest word, to search the owners with */
    char *author_word;             /* 't': the author's longest word, or "" */
    int year;                      /* 't' */
    Renkei__V1__WorkFormat format; /* 't' */
} rk_library_work_ref_t;

/**
 * Parses id (a Work.id this unit made) into ref, its strings in the arena. RK_OK, or
 * RK_EINVAL when it is not one.
 */
int rk_library_work_ref_parse(rk_arena_t *arena, const char *id, rk_library_work_ref_t *ref);

/**
 * text (a title or an author's name) folded as above, with one space wherever blanks or
 * punctuation were, into out (size bytes; cut at a character boundary when longer). Its key is
 * this without the spaces (rk_library_same_key()).
 */
void rk_library_text_fold(const char *text, char *out, size_t size);

/** 1 when two folded texts have the same key (equal once their spaces are ignored). */
int rk_library_same_key(const char *a, const char *b);

/** The longest word of a folded text into out (size bytes). */
void rk_library_longest_word(const char *folded, char *out, size_t size);

#endif
