/*
 * sru_marc.h — reading SRU searchRetrieve answers that carry MARC 21 records as MARCXML
 * (pure, no I/O; libxml2).
 *
 * An answer is hostile input: it is parsed without network access or entity expansion, with
 * bounds on its size, its records, their fields and every string; text is kept as UTF-8 exactly
 * as the record holds it (Japanese titles round-trip byte for byte). From each record:
 * 001 record id, 020 ISBN (normalized to ISBN-13), 245 title ($a $b $n $p, ISBD punctuation
 * trimmed) with its reading from the linked 880, 100/110/700/710 contributors with readings
 * from their 880s and roles ($e), 260/264 publisher and year, 084 NDC, 6XX subjects, and the
 * Koha-style 952 items (branch, location, call number, barcode, not-for-loan, date due).
 *
 * Called by sru_catalogue.c; tested by tests/sru_unit_test.c.
 */
#ifndef RK_SRU_MARC_H
#define RK_SRU_MARC_H

#include "core/mem.h"

#include <stddef.h>

#define SRU_MARC_ANSWER_MAX (8u << 20) /* bytes of one SRU answer */
#define SRU_MARC_RECORDS_MAX 100
#define SRU_MARC_ITEMS_MAX 200 /* 952 fields kept per record */
#define SRU_MARC_LIST_MAX 20   /* contributors, subjects per record */
#define SRU_MARC_TEXT_MAX 1024 /* bytes of one string (longer ones are cut at a character) */

typedef struct sru_contributor {
    const char *name; /* as catalogued, trailing punctuation trimmed */
    const char *kana; /* reading from the linked 880, or "" */
    const char *role; /* $e (relator term), or "" */
} sru_contributor_t;

/** One 952 item field. */
typedef struct sru_item {
    const char *home_branch;    /* $a */
    const char *holding_branch; /* $b, else $a */
    const char *location;       /* $c shelving location code */
    const char *call_number;    /* $o */
    const char *barcode;        /* $p: the item id */
    const char *date_due;       /* $q "YYYY-MM-DD" while on loan, else "" */
    int not_for_loan;           /* $7: 0 lendable, > 0 reference only, < 0 on order / processing */
    int lost, withdrawn, damaged; /* $1, $0, $4 non-zero */
} sru_item_t;

typedef struct sru_record {
    const char *id;         /* 001 */
    const char *isbn13;     /* the first valid 020$a as ISBN-13, or "" */
    const char *title;      /* 245 */
    const char *title_kana; /* 880 linked to 245, or "" */
    const char *publisher;  /* 264$b, else 260$b */
    const char *ndc;        /* 084$a, or "" */
    int year;               /* first four digits of 264$c / 260$c; 0 = unknown */
    char type;              /* leader/06: 'a' language material … */
    sru_contributor_t authors[SRU_MARC_LIST_MAX];
    size_t n_authors;
    const char *subjects[SRU_MARC_LIST_MAX];
    size_t n_subjects;
    sru_item_t *items;
    size_t n_items;
} sru_record_t;

typedef struct sru_answer {
    long total; /* numberOfRecords */
    sru_record_t *records;
    size_t n_records;
    /* The server's first diagnostic, when it refused the query: uri and message, else NULL. */
    const char *diagnostic_uri, *diagnostic_message;
} sru_answer_t;

/**
 * Parses one searchRetrieve answer (SRU 1.1, 1.2 or 2.0; records packed as XML) into out, with
 * every string in arena. Returns 0, or -1 with why filled when the bytes are not such an answer
 * (not XML, not searchRetrieveResponse, a record that is not MARCXML or has no 001). A
 * diagnostic is not a parse error: it is returned in out.
 */
int sru_marc_parse(const char *body, size_t len, rk_arena_t *arena, sru_answer_t *out, char *why,
                   size_t why_len);

#endif
