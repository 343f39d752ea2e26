/*
 * supervise.h — running the hub as several event-loop processes on one port.
 *
 * One event loop uses one core. With server.workers > 1, main.c forks that many workers after
 * the database is prepared (migrations and tenant files, once); each builds its own loop,
 * PostgreSQL pool and caches, and listens on the same address with SO_REUSEPORT, so the
 * kernel spreads connections across them. Nothing is shared in memory: everything that must
 * agree across workers already agrees across hubs, through PostgreSQL.
 *
 * The parent only supervises: SIGTERM and SIGINT are passed on to every worker (each drains),
 * a worker that dies is started again — unless it dies within RK_SUPERVISE_MIN_UPTIME_S of
 * starting, which means it cannot run (the others are then stopped too) — and the parent
 * exits 0 only when every worker ended cleanly. Workers get SIGTERM if the parent dies.
 */
#ifndef RK_SUPERVISE_H
#define RK_SUPERVISE_H

#define RK_SUPERVISE_MIN_UPTIME_S 5

/** What each worker runs: its index (0 … n-1) and arg; returns the process's exit status. */
typedef int (*rk_worker_main_fn)(unsigned index, void *arg);

/**
 * Forks n workers running fn and supervises them until all have ended. Call it with no
 * threads running and no event base. Returns the parent's exit status: 0 when every worker
 * exited 0 after a stop signal, 1 otherwise.
 */
int rk_supervise(unsigned n, rk_worker_main_fn fn, void *arg);

#endif
