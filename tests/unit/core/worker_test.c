/*
 * worker_test.c — hub/core/worker.c on a real libevent loop: jobs run on named worker
 * threads and complete on the loop thread, in submission order with one thread; a full
 * queue refuses; freeing the pool reports every job exactly once (ran = 0 for those still
 * queued), also when a done callback frees it. ASan checks that nothing leaks.
 */
#define _GNU_SOURCE /* pthread_getname_np */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/worker.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JOBS_MAX 512

typedef struct ctx ctx_t;

typedef struct test_job {
    ctx_t *ctx;
    int index;
    /* Written by the worker thread. */
    pthread_t worker;
    int worked;
    char thread_name[16];
    /* Written on the loop. */
    int done_calls;
    int ran;
    int done_on_loop;
} test_job_t;

struct ctx {
    struct event_base *base;
    rk_worker_pool_t *pool;
    pthread_t loop_thread;
    test_job_t jobs[JOBS_MAX];
    int order[JOBS_MAX]; /* job indexes in the order done was called */
    int completed;
    int target;          /* loopbreak when completed reaches it */
    int free_in_done_of; /* index of the job whose done frees the pool, or -1 */
    int submit_in_done;  /* what rk_worker_submit() answered inside a ran = 0 done */
    /* A gate that holds blocking_work until opened. */
    pthread_mutex_t gate_lock;
    pthread_cond_t gate_cond;
    int gate_open;
    int blocked; /* blocking_work has started */
};

static void work(void *arg)
{
    test_job_t *job = arg;
    job->worker = pthread_self();
    pthread_getname_np(pthread_self(), job->thread_name, sizeof(job->thread_name));
    job->worked = 1;
}

static void blocking_work(void *arg)
{
    test_job_t *job = arg;
    ctx_t *ctx = job->ctx;
    pthread_mutex_lock(&ctx->gate_lock);
    ctx->blocked = 1;
    pthread_cond_broadcast(&ctx->gate_cond);
    while (!ctx->gate_open)
        pthread_cond_wait(&ctx->gate_cond, &ctx->gate_lock);
    pthread_mutex_unlock(&ctx->gate_lock);
    work(arg);
}

static void noop_done(void *arg, int ran)
{
    (void)arg;
    (void)ran;
}

static void done(void *arg, int ran)
{
    test_job_t *job = arg;
    ctx_t *ctx = job->ctx;
    job->done_calls++;
    job->ran = ran;
    job->done_on_loop = pthread_equal(pthread_self(), ctx->loop_thread);
    ctx->order[ctx->completed++] = job->index;
    if (!ran && ctx->pool)
        ctx->submit_in_done = rk_worker_submit(ctx->pool, work, noop_done, NULL);
    if (job->index == ctx->free_in_done_of) {
        rk_worker_pool_t *pool = ctx->pool;
        ctx->pool = NULL;
        rk_worker_pool_free(pool);
        event_base_loopbreak(ctx->base);
    }
    if (ctx->completed == ctx->target)
        event_base_loopbreak(ctx->base);
}

static void gate_set(ctx_t *ctx, int open)
{
    pthread_mutex_lock(&ctx->gate_lock);
    ctx->gate_open = open;
    pthread_cond_broadcast(&ctx->gate_cond);
    pthread_mutex_unlock(&ctx->gate_lock);
}

static void gate_wait_blocked(ctx_t *ctx)
{
    pthread_mutex_lock(&ctx->gate_lock);
    while (!ctx->blocked)
        pthread_cond_wait(&ctx->gate_cond, &ctx->gate_lock);
    pthread_mutex_unlock(&ctx->gate_lock);
}

static ctx_t *ctx_new(unsigned threads, unsigned queue_max)
{
    ctx_t *ctx = calloc(1, sizeof(*ctx));
    assert_non_null(ctx);
    ctx->base = event_base_new();
    assert_non_null(ctx->base);
    ctx->pool = rk_worker_pool_new(ctx->base, threads, queue_max);
    assert_non_null(ctx->pool);
    ctx->loop_thread = pthread_self();
    ctx->free_in_done_of = -1;
    pthread_mutex_init(&ctx->gate_lock, NULL);
    pthread_cond_init(&ctx->gate_cond, NULL);
    for (int i = 0; i < JOBS_MAX; i++) {
        ctx->jobs[i].ctx = ctx;
        ctx->jobs[i].index = i;
    }
    return ctx;
}

static void ctx_free(ctx_t *ctx)
{
    rk_worker_pool_free(ctx->pool);
    event_base_free(ctx->base);
    pthread_cond_destroy(&ctx->gate_cond);
    pthread_mutex_destroy(&ctx->gate_lock);
    free(ctx);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

/* Runs the loop until target jobs are done (or 30 s have passed: the asserts then fail). */
static void run_until(ctx_t *ctx, int target)
{
    ctx->target = target;
    if (ctx->completed >= target)
        return;
    struct event *timeout = evtimer_new(ctx->base, timeout_cb, ctx->base);
    struct timeval thirty = {30, 0};
    evtimer_add(timeout, &thirty);
    event_base_dispatch(ctx->base);
    event_free(timeout);
    assert_int_equal(ctx->completed, target);
}

static void refuses_bad_arguments(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    assert_null(rk_worker_pool_new(NULL, 1, 1));
    assert_null(rk_worker_pool_new(base, 0, 1));
    assert_null(rk_worker_pool_new(base, 1, 0));
    rk_worker_pool_t *pool = rk_worker_pool_new(base, 1, 1);
    assert_int_equal(rk_worker_submit(pool, NULL, done, NULL), RK_EINVAL);
    assert_int_equal(rk_worker_submit(pool, work, NULL, NULL), RK_EINVAL);
    rk_worker_pool_free(pool);
    rk_worker_pool_free(NULL);
    event_base_free(base);
}

static void many_jobs_complete_on_the_loop(void **state)
{
    (void)state;
    ctx_t *ctx = ctx_new(4, JOBS_MAX);
    for (int i = 0; i < JOBS_MAX; i++)
        assert_int_equal(rk_worker_submit(ctx->pool, work, done, &ctx->jobs[i]), RK_OK);
    /* done never runs inside submit. */
    assert_int_equal(ctx->completed, 0);
    run_until(ctx, JOBS_MAX);
    for (int i = 0; i < JOBS_MAX; i++) {
        test_job_t *job = &ctx->jobs[i];
        assert_int_equal(job->done_calls, 1);
        assert_int_equal(job->ran, 1);
        assert_true(job->worked);
        assert_true(job->done_on_loop);
        assert_false(pthread_equal(job->worker, ctx->loop_thread));
        assert_string_equal(job->thread_name, "rk-worker");
    }
    assert_int_equal(rk_worker_pool_waiting(ctx->pool), 0);
    ctx_free(ctx);
}

static void one_thread_completes_in_order(void **state)
{
    (void)state;
    ctx_t *ctx = ctx_new(1, 64);
    for (int i = 0; i < 64; i++)
        assert_int_equal(rk_worker_submit(ctx->pool, work, done, &ctx->jobs[i]), RK_OK);
    run_until(ctx, 64);
    for (int i = 0; i < 64; i++)
        assert_int_equal(ctx->order[i], i);
    ctx_free(ctx);
}

static void refuses_when_the_queue_is_full(void **state)
{
    (void)state;
    ctx_t *ctx = ctx_new(1, 2);
    assert_int_equal(rk_worker_submit(ctx->pool, blocking_work, done, &ctx->jobs[0]), RK_OK);
    gate_wait_blocked(ctx); /* job 0 runs: the queue is empty again */
    assert_int_equal(rk_worker_pool_waiting(ctx->pool), 0);
    assert_int_equal(rk_worker_submit(ctx->pool, work, done, &ctx->jobs[1]), RK_OK);
    assert_int_equal(rk_worker_submit(ctx->pool, work, done, &ctx->jobs[2]), RK_OK);
    assert_int_equal(rk_worker_pool_waiting(ctx->pool), 2);
    assert_int_equal(rk_worker_submit(ctx->pool, work, done, &ctx->jobs[3]), RK_ETOOBIG);
    assert_int_equal(rk_worker_pool_waiting(ctx->pool), 2);
    gate_set(ctx, 1);
    run_until(ctx, 3);
    assert_int_equal(ctx->jobs[3].done_calls, 0);
    assert_int_equal(rk_worker_submit(ctx->pool, work, done, &ctx->jobs[3]), RK_OK);
    run_until(ctx, 4);
    ctx_free(ctx);
}

static void *open_gate_later(void *arg)
{
    usleep(200 * 1000);
    gate_set(arg, 1);
    return NULL;
}

static void free_reports_queued_jobs_once(void **state)
{
    (void)state;
    ctx_t *ctx = ctx_new(1, 16);
    assert_int_equal(rk_worker_submit(ctx->pool, blocking_work, done, &ctx->jobs[0]), RK_OK);
    gate_wait_blocked(ctx);
    for (int i = 1; i <= 5; i++)
        assert_int_equal(rk_worker_submit(ctx->pool, work, done, &ctx->jobs[i]), RK_OK);
    /* free waits for job 0, which the helper lets go once free has told the thread to stop. */
    pthread_t helper;
    assert_int_equal(pthread_create(&helper, NULL, open_gate_later, ctx), 0);
    rk_worker_pool_t *pool = ctx->pool;
    rk_worker_pool_free(pool);
    ctx->pool = NULL;
    pthread_join(helper, NULL);
    assert_int_equal(ctx->completed, 6);
    assert_int_equal(ctx->jobs[0].done_calls, 1);
    assert_int_equal(ctx->jobs[0].ran, 1);
    for (int i = 1; i <= 5; i++) {
        assert_int_equal(ctx->jobs[i].done_calls, 1);
        assert_int_equal(ctx->jobs[i].ran, 0);
        assert_false(ctx->jobs[i].worked);
        assert_true(ctx->jobs[i].done_on_loop);
    }
    /* Jobs reported as the pool stops: ran first, then queued in order. */
    for (int i = 0; i <= 5; i++)
        assert_int_equal(ctx->order[i], i);
    assert_int_equal(ctx->submit_in_done, RK_ESHUTDOWN);
    ctx_free(ctx);
}

static void a_done_callback_may_free_the_pool(void **state)
{
    (void)state;
    ctx_t *ctx = ctx_new(2, 64);
    for (int i = 0; i < 64; i++)
        assert_int_equal(rk_worker_submit(ctx->pool, work, done, &ctx->jobs[i]), RK_OK);
    ctx->free_in_done_of = 0;
    run_until(ctx, 64);
    assert_null(ctx->pool);
    for (int i = 0; i < 64; i++) {
        assert_int_equal(ctx->jobs[i].done_calls, 1);
        assert_int_equal(ctx->jobs[i].ran, ctx->jobs[i].worked);
    }
    ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refuses_bad_arguments),
        cmocka_unit_test(many_jobs_complete_on_the_loop),
        cmocka_unit_test(one_thread_completes_in_order),
        cmocka_unit_test(refuses_when_the_queue_is_full),
        cmocka_unit_test(free_reports_queued_jobs_once),
        cmocka_unit_test(a_done_callback_may_free_the_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
