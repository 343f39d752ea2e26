/*
 * connect.c — start-up connection with retry (see connect.h).
 */
#include "store/connect.h"

#include "core/clock.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void notice_cb(void *arg, const char *message)
{
    (void)arg;
    rk_log_debug("database notice", "{s:s}", "notice", message);
}

PGconn *rk_store_connect_blocking(const char *conninfo, int timeout_ms, char *err, size_t err_len)
{
    uint64_t deadline = rk_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        PGconn *pg = PQconnectdb(conninfo);
        if (PQstatus(pg) == CONNECTION_OK) {
            PQsetNoticeProcessor(pg, notice_cb, NULL);
            return pg;
        }
        snprintf(err, err_len, "store: cannot connect to PostgreSQL: %s", PQerrorMessage(pg));
        size_t len = strlen(err);
        while (len && (err[len - 1] == '\n' || err[len - 1] == ' '))
            err[--len] = '\0';
        PQfinish(pg);
        if (rk_now_ns() >= deadline)
            return NULL;
        struct timespec pause = {0, 200 * 1000000L};
        nanosleep(&pause, NULL);
    }
}
