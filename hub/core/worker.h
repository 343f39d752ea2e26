/*
 * worker.h — a fixed pool of threads that runs CPU-heavy jobs for one event loop.
 *
 * The loop never blocks (STYLE.md), yet some work takes tens of milliseconds or more of CPU:
 * argon2id password hashing, RSA key generation. Such a job is submitted here; one of the
 * pool's threads runs its work function, and its done callback then runs on the loop.
 *
 * Design: the threads are started by rk_worker_pool_new() and take jobs from one FIFO queue
 * under a mutex and condition variable. Finished jobs go to a second list; the thread that
 * makes that list non-empty writes one byte into a pipe, and the loop's one event on the
 * pipe's other end takes every finished job at once and calls their done callbacks. Nobody
 * busy-waits. The queue is bounded, so a flood of requests is refused (RK_ETOOBIG) instead
 * of growing memory and latency without end.
 *
 * Used by identity (key generation in keygen.c, password hashing).
 */
#ifndef RK_CORE_WORKER_H
#define RK_CORE_WORKER_H

struct event_base;

typedef struct rk_worker_pool rk_worker_pool_t;

/**
 * Runs on a worker thread with the job given to rk_worker_submit(). It may touch only what
 * the job owns and what no other thread writes while it runs.
 */
typedef void (*rk_work_fn)(void *job);

/**
 * Runs on the loop thread once per submitted job. ran is 1 when the work function has run,
 * 0 when the pool was freed before the job started (the work function never ran). The job
 * belongs to its submitter again: this is where it is freed.
 */
typedef void (*rk_work_done_cb)(void *job, int ran);

/**
 * Starts threads (at least 1) worker threads named "rk-worker", whose done callbacks run on
 * base; at most queue_max (at least 1) jobs wait for a thread at any time. NULL when an
 * argument is 0 or the pipe, the event or a thread cannot be made. Free it with
 * rk_worker_pool_free() before base.
 */
rk_worker_pool_t *rk_worker_pool_new(struct event_base *base, unsigned threads, unsigned queue_max);

/**
 * Queues job: work(job) will run on a worker thread, then done(job, 1) on the loop. Call it
 * from the loop thread. Returns RK_OK, and done always follows on the loop, never inside this
 * call; or at once, without queueing and without calling done: RK_ETOOBIG when queue_max jobs
 * are already waiting, RK_ESHUTDOWN while the pool is being freed, RK_EINVAL when work or done
 * is NULL. The pool does not own job.
 */
int rk_worker_submit(rk_worker_pool_t *pool, rk_work_fn work, rk_work_done_cb done, void *job);

/** Jobs queued and not yet started by a thread. */
unsigned rk_worker_pool_waiting(const rk_worker_pool_t *pool);

/**
 * Stops the pool from the loop thread: lets running jobs finish, stops the threads, then calls
 * done for every job it still holds — ran = 1 for those that ran, ran = 0 for those still
 * queued — so that their owners can free them; nothing is called afterwards. A done callback
 * run from the loop may call this (the remaining jobs are still delivered, once each); one
 * run by this call must not. NULL is allowed.
 */
void rk_worker_pool_free(rk_worker_pool_t *pool);

#endif
