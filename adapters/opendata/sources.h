/*
 * sources.h — the CSV files an opendata adapter serves, and noticing that an operator replaced
 * one.
 *
 * An operator updates the catalogue by dropping a new file in place of the old one (a rename,
 * or a copy over it). Each file's signature — device, inode, size, modification and change
 * time in nanoseconds — is taken with stat(); a reload reads every file again when any
 * signature differs from the one last read successfully. A reload is all or nothing: when one
 * file cannot be read (half-copied, undecodable), the catalogue stays as it was and the error
 * names the file and line; the same signatures are not tried again, so a broken file costs one
 * attempt, and the next change to it is tried at once.
 *
 * opendata_sources_check() does blocking file I/O: the adapter calls it in init and otherwise
 * on a worker thread (main.c), never on the event loop. It only reads the sources' settings and
 * writes the signatures of the call's own job.
 */
#ifndef OPENDATA_SOURCES_H
#define OPENDATA_SOURCES_H

#include "catalogue.h"
#include "facility_csv.h"

#include <stddef.h>
#include <stdint.h>

#define OPENDATA_MAX_FILES 16

typedef struct opendata_signature {
    uint64_t device, inode, size;
    int64_t modified_ns, changed_ns;
    int missing; /* stat() failed */
} opendata_signature_t;

/** What the files are and how to read them; fixed after init. */
typedef struct opendata_sources {
    char *paths[OPENDATA_MAX_FILES];
    size_t n_paths;
    const char *municipality_code; /* rows of other owner codes are skipped */
    rk_encoding_t encoding;
    opendata_terms_t terms;
} opendata_sources_t;

typedef enum {
    OPENDATA_UNCHANGED, /* every signature is the one last read (or last failed) */
    OPENDATA_LOADED,    /* snapshot holds the files' facilities */
    OPENDATA_FAILED,    /* why says which file and line could not be read */
} opendata_check_t;

/** One check: the signatures known before it, and what it found. */
typedef struct opendata_check_job {
    opendata_signature_t loaded[OPENDATA_MAX_FILES]; /* in: last read; out: updated on LOADED */
    opendata_signature_t failed[OPENDATA_MAX_FILES]; /* in: last failed; out: set on FAILED */
    int have_loaded, have_failed;
    opendata_check_t result;
    opendata_snapshot_t *snapshot; /* LOADED: the caller applies and frees it */
    char why[1024];                /* FAILED */
} opendata_check_job_t;

/** Compares the files' signatures with the job's and reads them if they changed. */
void opendata_sources_check(const opendata_sources_t *sources, opendata_check_job_t *job);

#endif
