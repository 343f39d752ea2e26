/*
 * supervise.c — forking and watching the worker processes (see supervise.h).
 *
 * The parent blocks SIGTERM, SIGINT and SIGCHLD and takes them with sigwait(): no handler
 * runs asynchronously, so the bookkeeping needs no care about reentrancy. Workers restore the
 * signal mask before they run, so their own loops see the signals.
 */
#include "supervise.h"

#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct worker {
    pid_t pid; /* 0 when not running */
    time_t started;
} worker_t;

static pid_t spawn(unsigned index, rk_worker_main_fn fn, void *arg, const sigset_t *original)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    sigprocmask(SIG_SETMASK, original, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) /* the parent died before prctl() */
        _exit(1);
    _exit(fn(index, arg));
}

static void signal_all(const worker_t *workers, unsigned n, int sig)
{
    for (unsigned i = 0; i < n; i++) {
        if (workers[i].pid > 0)
            kill(workers[i].pid, sig);
    }
}

int rk_supervise(unsigned n, rk_worker_main_fn fn, void *arg)
{
    sigset_t wanted, original;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGTERM);
    sigaddset(&wanted, SIGINT);
    sigaddset(&wanted, SIGCHLD);
    sigprocmask(SIG_BLOCK, &wanted, &original);
    worker_t *workers = rk_xcalloc(n, sizeof(*workers));
    unsigned alive = 0;
    int stopping = 0, failed = 0;
    for (unsigned i = 0; i < n; i++) {
        workers[i].pid = spawn(i, fn, arg, &original);
        workers[i].started = time(NULL);
        if (workers[i].pid < 0) {
            rk_log_error("cannot start a worker", "{s:i}", "errno", errno);
            workers[i].pid = 0;
            failed = stopping = 1;
        } else {
            alive++;
        }
    }
    if (failed)
        signal_all(workers, n, SIGTERM);
    rk_log_info("workers started", "{s:i}", "workers", (int)alive);
    while (alive > 0) {
        int sig = 0;
        if (sigwait(&wanted, &sig) != 0)
            continue;
        if (sig == SIGTERM || sig == SIGINT) {
            stopping = 1;
            signal_all(workers, n, sig); /* a second one makes the workers exit at once */
            continue;
        }
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            unsigned i = 0;
            while (i < n && workers[i].pid != pid)
                i++;
            if (i == n)
                continue;
            alive--;
            workers[i].pid = 0;
            int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            if (stopping) {
                failed |= !clean;
                continue;
            }
            rk_log_error("worker ended", "{s:i, s:i, s:i}", "worker", (int)i, "status",
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1, "signal",
                         WIFSIGNALED(status) ? WTERMSIG(status) : 0);
            if (time(NULL) - workers[i].started < RK_SUPERVISE_MIN_UPTIME_S) {
                /* It cannot run: stop everything rather than fork in a loop. */
                failed = stopping = 1;
                signal_all(workers, n, SIGTERM);
                continue;
            }
            workers[i].pid = spawn(i, fn, arg, &original);
            workers[i].started = time(NULL);
            if (workers[i].pid > 0)
                alive++;
            else
                workers[i].pid = 0;
        }
    }
    free(workers);
    sigprocmask(SIG_SETMASK, &original, NULL);
    rk_log_info("workers stopped", "{s:b}", "clean", !failed);
    return failed ? 1 : 0;
}
