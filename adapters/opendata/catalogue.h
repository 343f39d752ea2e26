/*
 * catalogue.h — the opendata adapter's catalogue: the facilities of the CSV files as the hub
 * gets them, and what changed between one version of the files and the next.
 *
 * A snapshot is what one reading of the files says: one item per facility, sorted by owner id,
 * holding the packed Facility message (catalogue only: bookable_via_hub false, booking_url the
 * configured page or the row's URL) and the SHA-256 of those bytes. Owner ids are the rows' ID
 * (or NO) column; a file without IDs gets "h-" and 16 hex digits of SHA-256(名称 + "\n" +
 * address), stable as long as name and address are. A second row with an id already taken is
 * skipped with a problem naming both lines.
 *
 * The catalogue keeps every id it has ever served, in id order. Applying a snapshot compares
 * hashes: a new or changed facility, and one that disappeared (kept as removed), get the next
 * catalogue version; unchanged ones keep theirs, and their updated_at. ListFacilities answers
 * "what changed since version N" from that (list.c). Building a snapshot is pure and thread-safe
 * (it runs on a worker thread); applying one happens on the loop. Nothing here does I/O.
 */
#ifndef OPENDATA_CATALOGUE_H
#define OPENDATA_CATALOGUE_H

#include "facility_csv.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define OPENDATA_HASH_BYTES 32

/** How rows become Facility messages; borrowed by opendata_snapshot_build(). */
typedef struct opendata_terms {
    const char *booking_url; /* "" = the row's URL; "{id}" is replaced by the owner id */
    const Renkei__V1__FacilityKind *exclude_kinds; /* rows of these kinds are left out */
    size_t n_exclude_kinds;
} opendata_terms_t;

typedef struct opendata_item {
    char *id;
    uint8_t *packed; /* Facility without updated_at */
    size_t packed_len;
    unsigned char hash[OPENDATA_HASH_BYTES];
} opendata_item_t;

/** One reading of the files. */
typedef struct opendata_snapshot {
    opendata_item_t *items; /* sorted by id, ids unique */
    size_t n_items;
    char **problems; /* the files' row problems, then duplicate ids; at most 200 */
    size_t n_problems, more_problems;
    size_t rows, skipped, excluded; /* data rows; skipped for problems; left out by kind */
} opendata_snapshot_t;

typedef struct opendata_entry {
    char *id;
    uint8_t *packed; /* NULL once removed */
    size_t packed_len;
    unsigned char hash[OPENDATA_HASH_BYTES];
    uint64_t version; /* catalogue version of its last change (or removal) */
    int removed;
    char updated_at[24]; /* RFC 3339 UTC of that change */
} opendata_entry_t;

typedef struct opendata_catalogue {
    opendata_entry_t *entries; /* sorted by id; removed ones stay */
    size_t n;
    uint64_t version; /* 1 for the first snapshot applied */
    size_t live;      /* entries not removed */
} opendata_catalogue_t;

typedef struct opendata_changes {
    size_t added, changed, removed, unchanged;
} opendata_changes_t;

/** The facilities of files (n_files results of rk_facility_csv_*, in order), as a snapshot. */
opendata_snapshot_t *opendata_snapshot_build(rk_facility_csv_t *const *files,
                                             const char *const *paths, size_t n_files,
                                             const opendata_terms_t *terms);
void opendata_snapshot_free(opendata_snapshot_t *snapshot);

opendata_catalogue_t *opendata_catalogue_new(void);
void opendata_catalogue_free(opendata_catalogue_t *cat);
/**
 * Makes the catalogue what snapshot says, as of now: takes the items' memory (the snapshot
 * is left empty, still to be freed). Bumps the version only when something changed.
 */
opendata_changes_t opendata_catalogue_apply(opendata_catalogue_t *cat,
                                            opendata_snapshot_t *snapshot, time_t now);
/** Index of the first entry whose id sorts after id ("" = 0). */
size_t opendata_catalogue_after(const opendata_catalogue_t *cat, const char *id);

#endif
