/*
 * sru_cql.h — CQL queries for the sru adapter's catalogue searches (pure, no I/O).
 *
 * Search text is hostile input: it reaches the catalogue only as the inside of quoted CQL
 * terms, with quotes, backslashes and the masking characters * ? ^ escaped, so no input can
 * change the query's structure or widen a term into a wildcard. Each field is split into words
 * (ASCII spaces and the ideographic space U+3000); every word must match (AND), and a word
 * matches as a phrase, which Zebra's ICU chain turns into a substring match for Japanese text
 * (adapters/sru/zebra/renkei.idx). The index names are those of zebra/cql2pqf.txt.
 *
 * Called by sru_catalogue.c; tested by tests/sru_unit_test.c.
 */
#ifndef RK_SRU_CQL_H
#define RK_SRU_CQL_H

#include <stddef.h>

/** Bounds on user text: bytes per field and words per field. */
#define SRU_CQL_FIELD_MAX 256
#define SRU_CQL_WORDS_MAX 16
/** Enough for every field at its bounds, escaped. */
#define SRU_CQL_MAX 8192
/** A record id: 1–64 characters of A-Z a-z 0-9 . _ - */
#define SRU_RECORD_ID_MAX 64

/** The fields of AdapterSearchCatalogueRequest that become CQL; "" or NULL = not given. */
typedef struct sru_search_terms {
    const char *isbn; /* ISBN-13 (ISBN-10 and hyphens are accepted too) */
    const char *title, *author, *keyword, *subject;
} sru_search_terms_t;

/**
 * Builds the CQL query of a search into out (SRU_CQL_MAX bytes). Returns 0, or -1 with *field
 * (the request's field name) and *why (the rule) set when the input is refused: no field
 * given, an invalid ISBN (*field = "isbn"), a field too long, not UTF-8, with control
 * characters, or without any searchable word.
 */
int sru_cql_search(const sru_search_terms_t *terms, char *out, const char **field,
                   const char **why);

/**
 * Builds `rec.id = "A" or rec.id = "B" …` for 1–50 record ids into out (SRU_CQL_MAX bytes).
 * Returns 0, or -1 with *why set when an id is not a record id this adapter issues.
 */
int sru_cql_record_ids(const char *const *ids, size_t n, char *out, const char **why);

/**
 * Builds `renkei.barcode = "ITEM"` (the record holding a copy) into out (SRU_CQL_MAX bytes).
 * Returns 0, or -1 with *why set when item_id is not a well-formed item id (as record ids).
 */
int sru_cql_item(const char *item_id, char *out, const char **why);

/** 1 when id is a well-formed record id (see SRU_RECORD_ID_MAX). */
int sru_record_id_ok(const char *id);

#endif
