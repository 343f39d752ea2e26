/*
 * keygen.c — one worker thread per key generation, reported through a pipe (see keygen.h).
 *
 * The thread touches only its job's own fields (and reads the master key, which no one
 * writes while jobs run); the loop touches the job again only after the thread's byte has
 * arrived and pthread_join() has returned, so no lock is needed.
 */
#include "identity/keygen.h"

#include "core/error.h"
#include "core/mem.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct job {
    rk_identity_keygen_t *keygen;
    struct job *prev, *next;
    pthread_t thread;
    int joined;
    int fds[2]; /* [0] watched by the loop, [1] written once by the thread */
    struct event *done;
    rk_identity_alg_t alg;
    char *slug;
    rk_identity_keygen_cb cb;
    void *arg;
    /* Written by the thread. */
    rk_identity_new_key_t key;
    int status;
    const char *why;
} job_t;

struct rk_identity_keygen {
    struct event_base *base;
    const rk_identity_master_key_t *master;
    job_t *jobs;
};

static void *run(void *arg)
{
    job_t *job = arg;
    job->status =
        rk_identity_key_generate(job->alg, job->slug, job->keygen->master, &job->key, &job->why);
    ssize_t n;
    do {
        n = write(job->fds[1], "", 1);
    } while (n < 0 && errno == EINTR);
    return NULL;
}

/* Unlinks, joins and frees a job; the caller has taken what it needs from it. */
static void job_free(job_t *job)
{
    if (job->prev)
        job->prev->next = job->next;
    else
        job->keygen->jobs = job->next;
    if (job->next)
        job->next->prev = job->prev;
    if (!job->joined)
        pthread_join(job->thread, NULL);
    rk_identity_new_key_clear(&job->key);
    event_free(job->done);
    close(job->fds[0]);
    close(job->fds[1]);
    free(job->slug);
    free(job);
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    job_t *job = arg;
    char byte;
    if (read(fd, &byte, 1) != 1)
        return; /* spurious wake-up: the thread has not finished */
    pthread_join(job->thread, NULL);
    job->joined = 1;
    job->cb(job->status, &job->key, job->why, job->arg);
    job_free(job);
}

rk_identity_keygen_t *rk_identity_keygen_new(struct event_base *base,
                                             const rk_identity_master_key_t *master)
{
    rk_identity_keygen_t *keygen = rk_xcalloc(1, sizeof(*keygen));
    keygen->base = base;
    keygen->master = master;
    return keygen;
}

int rk_identity_keygen_start(rk_identity_keygen_t *keygen, rk_identity_alg_t alg, const char *slug,
                             rk_identity_keygen_cb cb, void *arg)
{
    job_t *job = rk_xcalloc(1, sizeof(*job));
    if (pipe(job->fds) != 0) {
        free(job);
        return RK_EIO;
    }
    fcntl(job->fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(job->fds[1], F_SETFD, FD_CLOEXEC);
    fcntl(job->fds[0], F_SETFL, O_NONBLOCK);
    job->keygen = keygen;
    job->alg = alg;
    job->slug = rk_xstrdup(slug);
    job->cb = cb;
    job->arg = arg;
    job->done = event_new(keygen->base, job->fds[0], EV_READ | EV_PERSIST, done_cb, job);
    event_add(job->done, NULL);
    if (pthread_create(&job->thread, NULL, run, job) != 0) {
        event_free(job->done);
        close(job->fds[0]);
        close(job->fds[1]);
        free(job->slug);
        free(job);
        return RK_EIO;
    }
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
    while (keygen->jobs)
        job_free(keygen->jobs);
    free(keygen);
}
