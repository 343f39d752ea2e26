/*
 * keygen.c — key generation jobs on the worker pool (see keygen.h).
 *
 * The worker thread touches only its job's own fields and reads the master key, which no one
 * writes while jobs run. The keygen keeps its unanswered jobs on a list so that its free can
 * orphan them: an orphan's answer is dropped on the loop instead of calling back.
 */
#include "identity/keygen.h"

#include "core/error.h"
#include "core/mem.h"

#include <stdlib.h>

typedef struct job {
    rk_identity_keygen_t *keygen; /* NULL once the keygen is freed */
    struct job *prev, *next;
    const rk_identity_master_key_t *master;
    rk_identity_alg_t alg;
    char *slug;
    rk_identity_keygen_cb cb;
    void *arg;
    /* Written by the worker thread. */
    rk_identity_new_key_t key;
    int status;
    const char *why;
} job_t;

struct rk_identity_keygen {
    const rk_identity_master_key_t *master;
    rk_worker_pool_t *pool;
    job_t *jobs;
};

static void unlink_job(job_t *job)
{
    if (job->prev)
        job->prev->next = job->next;
    else
        job->keygen->jobs = job->next;
    if (job->next)
        job->next->prev = job->prev;
}

static void generate(void *arg)
{
    job_t *job = arg;
    job->status = rk_identity_key_generate(job->alg, job->slug, job->master, &job->key, &job->why);
}

static void generated(void *arg, int ran)
{
    job_t *job = arg;
    if (job->keygen) {
        unlink_job(job);
        if (ran)
            job->cb(job->status, &job->key, job->why, job->arg);
        else
            job->cb(RK_EIO, &job->key, "key generation: the worker pool stopped first", job->arg);
    }
    rk_identity_new_key_clear(&job->key);
    free(job->slug);
    free(job);
}

rk_identity_keygen_t *rk_identity_keygen_new(const rk_identity_master_key_t *master,
                                             rk_worker_pool_t *pool)
{
    rk_identity_keygen_t *keygen = rk_xcalloc(1, sizeof(*keygen));
    keygen->master = master;
    keygen->pool = pool;
    return keygen;
}

int rk_identity_keygen_start(rk_identity_keygen_t *keygen, rk_identity_alg_t alg, const char *slug,
                             rk_identity_keygen_cb cb, void *arg)
{
    job_t *job = rk_xcalloc(1, sizeof(*job));
    job->master = keygen->master;
    job->alg = alg;
    job->slug = rk_xstrdup(slug);
    job->cb = cb;
    job->arg = arg;
    int rc = rk_worker_submit(keygen->pool, generate, generated, job);
    if (rc != RK_OK) {
        free(job->slug);
        free(job);
        return rc;
    }
    job->keygen = keygen;
    job->next = keygen->jobs;
    if (job->next)
        job->next->prev = job;
    keygen->jobs = job;
    return RK_AGAIN;
}

void rk_identity_keygen_free(rk_identity_keygen_t *keygen)
{
    if (!keygen)
        return;
    for (job_t *job = keygen->jobs; job; job = job->next)
        job->keygen = NULL;
    free(keygen);
}
