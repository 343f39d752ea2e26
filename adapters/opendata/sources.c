/*
 * sources.c — stat, compare, read the CSV files (see sources.h).
 */
#include "sources.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void sign(const char *path, opendata_signature_t *out)
{
    struct stat st;
    memset(out, 0, sizeof(*out));
    if (stat(path, &st) != 0) {
        out->missing = 1;
        return;
    }
    out->device = (uint64_t)st.st_dev;
    out->inode = (uint64_t)st.st_ino;
    out->size = (uint64_t)st.st_size;
    out->modified_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    out->changed_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
}

static int same(const opendata_signature_t *a, const opendata_signature_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].missing != b[i].missing || a[i].device != b[i].device ||
            a[i].inode != b[i].inode || a[i].size != b[i].size ||
            a[i].modified_ns != b[i].modified_ns || a[i].changed_ns != b[i].changed_ns)
            return 0;
    }
    return 1;
}

void opendata_sources_check(const opendata_sources_t *sources, opendata_check_job_t *job)
{
    size_t n = sources->n_paths;
    opendata_signature_t now[OPENDATA_MAX_FILES];
    for (size_t i = 0; i < n; i++)
        sign(sources->paths[i], &now[i]);
    if ((job->have_loaded && same(now, job->loaded, n)) ||
        (job->have_failed && same(now, job->failed, n))) {
        job->result = OPENDATA_UNCHANGED;
        return;
    }
    rk_facility_csv_t *files[OPENDATA_MAX_FILES] = {0};
    rk_facility_csv_options_t options = {.municipality_code = sources->municipality_code,
                                         .encoding = sources->encoding};
    job->result = OPENDATA_LOADED;
    for (size_t i = 0; i < n && job->result == OPENDATA_LOADED; i++) {
        files[i] = rk_facility_csv_load(sources->paths[i], &options, job->why, sizeof(job->why));
        if (!files[i])
            job->result = OPENDATA_FAILED;
    }
    if (job->result == OPENDATA_LOADED) {
        job->snapshot =
            opendata_snapshot_build(files, (const char *const *)sources->paths, n, &sources->terms);
        memcpy(job->loaded, now, sizeof(now[0]) * n);
        job->have_loaded = 1;
        job->have_failed = 0;
    } else {
        memcpy(job->failed, now, sizeof(now[0]) * n);
        job->have_failed = 1;
    }
    for (size_t i = 0; i < n; i++)
        rk_facility_csv_free(files[i]);
}
