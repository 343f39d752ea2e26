/*
 * worker.c — the worker pool: a mutex-guarded job queue, threads, and one pipe back to the
 * loop (see worker.h).
 *
 * Who touches what: `queued`, `finished`, `waiting`, `stopping` and `signalled` are shared
 * and guarded by `lock`; everything else belongs to the loop thread. A job node is on exactly
 * one of queued (waiting), a thread's stack (running), finished (ran, not reported) or
 * delivering (taken by the loop, being reported).
 *
 * Wake-ups: a thread writes a byte only when it makes `finished` non-empty (signalled 0 → 1);
 * the loop empties the pipe first, then takes the whole list and clears signalled under the
 * lock. A job finished after that writes a new byte, so none is forgotten, and at most a
 * few bytes are ever in the pipe.
 */
#define _GNU_SOURCE /* pthread_setname_np */

#include "core/worker.h"

#include "core/error.h"
#include "core/mem.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct job {
    struct job *next;
    rk_work_fn work;
    rk_work_done_cb done;
    void *arg;
} job_t;

typedef struct job_list {
    job_t *head, *tail;
} job_list_t;

struct rk_worker_pool {
    pthread_mutex_t lock;
    pthread_cond_t work_ready;
    /* Under lock. */
    job_list_t queued;
    job_list_t finished;
    unsigned waiting;
    int stopping;
    int signalled; /* a byte is on its way for the jobs on finished */
    /* Loop thread only (queue_max is never written after new). */
    unsigned queue_max;
    int fds[2]; /* [0] read by the loop, [1] written by the threads */
    struct event *wakeup;
    job_list_t delivering;
    int *freed; /* while delivering: set by rk_worker_pool_free() from a done callback */
    unsigned n_threads;
    pthread_t threads[];
};

static void list_push(job_list_t *list, job_t *job)
{
    job->next = NULL;
    if (list->tail)
        list->tail->next = job;
    else
        list->head = job;
    list->tail = job;
}

static job_t *list_pop(job_list_t *list)
{
    job_t *job = list->head;
    if (job) {
        list->head = job->next;
        if (!list->head)
            list->tail = NULL;
    }
    return job;
}

/* Moves every job of from to the end of to. */
static void list_splice(job_list_t *to, job_list_t *from)
{
    if (!from->head)
        return;
    if (to->tail)
        to->tail->next = from->head;
    else
        to->head = from->head;
    to->tail = from->tail;
    from->head = from->tail = NULL;
}

static void wake_loop(rk_worker_pool_t *pool)
{
    ssize_t n;
    do {
        n = write(pool->fds[1], "", 1);
    } while (n < 0 && errno == EINTR);
    /* EAGAIN: the pipe is full of bytes the loop has yet to read, so it will wake anyway. */
}

static void *worker_main(void *arg)
{
    rk_worker_pool_t *pool = arg;
    pthread_setname_np(pthread_self(), "rk-worker");
    for (;;) {
        pthread_mutex_lock(&pool->lock);
        while (!pool->queued.head && !pool->stopping)
            pthread_cond_wait(&pool->work_ready, &pool->lock);
        if (pool->stopping) {
            pthread_mutex_unlock(&pool->lock);
            return NULL;
        }
        job_t *job = list_pop(&pool->queued);
        pool->waiting--;
        pthread_mutex_unlock(&pool->lock);

        job->work(job->arg);

        pthread_mutex_lock(&pool->lock);
        list_push(&pool->finished, job);
        int notify = !pool->signalled;
        pool->signalled = 1;
        pthread_mutex_unlock(&pool->lock);
        if (notify)
            wake_loop(pool);
    }
}

/*
 * Calls done for each job on list, freeing its node first. Stops when a callback has freed
 * the pool (rk_worker_pool_free() delivered what was left): the caller must return at once.
 */
static void deliver(rk_worker_pool_t *pool, job_list_t *list, int ran)
{
    int freed = 0;
    pool->freed = &freed;
    job_t *job;
    while ((job = list_pop(list))) {
        rk_work_done_cb done = job->done;
        void *arg = job->arg;
        free(job);
        done(arg, ran);
        if (freed)
            return;
    }
    pool->freed = NULL;
}

static void wakeup_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    rk_worker_pool_t *pool = arg;
    char bytes[64];
    while (read(fd, bytes, sizeof(bytes)) > 0)
        ;
    pthread_mutex_lock(&pool->lock);
    list_splice(&pool->delivering, &pool->finished);
    pool->signalled = 0;
    pthread_mutex_unlock(&pool->lock);
    deliver(pool, &pool->delivering, 1);
}

/* Tells the threads to stop after their current job and joins them. */
static void stop_threads(rk_worker_pool_t *pool)
{
    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->work_ready);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned i = 0; i < pool->n_threads; i++)
        pthread_join(pool->threads[i], NULL);
    pool->n_threads = 0;
}

/* Frees what new() made; the threads are stopped and no job is left. */
static void release(rk_worker_pool_t *pool)
{
    if (pool->wakeup)
        event_free(pool->wakeup);
    for (int i = 0; i < 2; i++) {
        if (pool->fds[i] >= 0)
            close(pool->fds[i]);
    }
    pthread_cond_destroy(&pool->work_ready);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

rk_worker_pool_t *rk_worker_pool_new(struct event_base *base, unsigned threads, unsigned queue_max)
{
    if (!base || threads == 0 || queue_max == 0)
        return NULL;
    rk_worker_pool_t *pool = rk_xcalloc(1, sizeof(*pool) + threads * sizeof(pthread_t));
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work_ready, NULL);
    pool->queue_max = queue_max;
    pool->fds[0] = pool->fds[1] = -1;
    if (pipe(pool->fds) != 0)
        goto err;
    for (int i = 0; i < 2; i++) {
        fcntl(pool->fds[i], F_SETFD, FD_CLOEXEC);
        fcntl(pool->fds[i], F_SETFL, O_NONBLOCK);
    }
    pool->wakeup = event_new(base, pool->fds[0], EV_READ | EV_PERSIST, wakeup_cb, pool);
    if (!pool->wakeup || event_add(pool->wakeup, NULL) != 0)
        goto err;

    /* Threads start with every signal blocked: signals are the main thread's business. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    while (pool->n_threads < threads &&
           pthread_create(&pool->threads[pool->n_threads], NULL, worker_main, pool) == 0)
        pool->n_threads++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pool->n_threads < threads)
        goto err;
    return pool;

err:
    stop_threads(pool);
    release(pool);
    return NULL;
}

int rk_worker_submit(rk_worker_pool_t *pool, rk_work_fn work, rk_work_done_cb done, void *job)
{
    if (!work || !done)
        return RK_EINVAL;
    job_t *node = rk_xmalloc(sizeof(*node));
    node->work = work;
    node->done = done;
    node->arg = job;
    int rc = RK_OK;
    pthread_mutex_lock(&pool->lock);
    if (pool->stopping) {
        rc = RK_ESHUTDOWN;
    } else if (pool->waiting >= pool->queue_max) {
        rc = RK_ETOOBIG;
    } else {
        list_push(&pool->queued, node);
        pool->waiting++;
        pthread_cond_signal(&pool->work_ready);
    }
    pthread_mutex_unlock(&pool->lock);
    if (rc != RK_OK)
        free(node);
    return rc;
}

unsigned rk_worker_pool_waiting(const rk_worker_pool_t *pool)
{
    /* The lock is not part of the pool's value: taking it does not change the pool. */
    rk_worker_pool_t *shared = (rk_worker_pool_t *)pool;
    pthread_mutex_lock(&shared->lock);
    unsigned waiting = shared->waiting;
    pthread_mutex_unlock(&shared->lock);
    return waiting;
}

void rk_worker_pool_free(rk_worker_pool_t *pool)
{
    if (!pool)
        return;
    if (pool->freed)
        *pool->freed = 1; /* called from a done callback: its deliver() stops */
    stop_threads(pool);
    /* The threads are gone: the lists are the loop's alone. stopping stays set, so a done
     * callback that submits is refused. */
    list_splice(&pool->delivering, &pool->finished);
    job_list_t queued = pool->queued;
    pool->queued.head = pool->queued.tail = NULL;
    pool->waiting = 0;
    deliver(pool, &pool->delivering, 1);
    deliver(pool, &queued, 0);
    release(pool);
}
