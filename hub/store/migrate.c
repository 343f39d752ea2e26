/*
 * migrate.c — applies embedded migrations under an advisory lock (see migrate.h).
 */
#include "store/migrate.h"

#include "core/error.h"
#include "core/log.h"
#include "store/connect.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Advisory lock key: "renkei" in ASCII, so it is recognisable in pg_locks. */
#define MIGRATION_LOCK_KEY "114101110107101105"

int rk_migrations_latest(void)
{
    return rk_migrations_count ? rk_migrations[rk_migrations_count - 1].version : 0;
}

static int exec_ok(PGconn *pg, const char *sql, int n_params, const char *const *values, char *err,
                   size_t err_len, const char *what)
{
    PGresult *r = PQexecParams(pg, sql, n_params, NULL, values, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(err, err_len, "migrations: %s: %s", what, PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

static int is_applied(PGconn *pg, int version, int *applied, char *err, size_t err_len)
{
    char v[16];
    snprintf(v, sizeof(v), "%d", version);
    const char *values[] = {v};
    PGresult *r = PQexecParams(pg, "SELECT 1 FROM rk_schema_migration WHERE version = $1", 1, NULL,
                               values, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, err_len, "migrations: reading rk_schema_migration: %s",
                 PQresultErrorMessage(r));
        PQclear(r);
        return RK_EUNAVAILABLE;
    }
    *applied = PQntuples(r) > 0;
    PQclear(r);
    return RK_OK;
}

static int apply_one(PGconn *pg, const rk_migration_t *m, char *err, size_t err_len)
{
    char v[16];
    snprintf(v, sizeof(v), "%d", m->version);
    const char *values[] = {v, m->name};
    if (!exec_ok(pg, "BEGIN", 0, NULL, err, err_len, m->name))
        return RK_EUNAVAILABLE;
    /* PQexec, not PQexecParams: a migration file holds several statements. */
    PGresult *r = PQexec(pg, m->sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, err_len, "migrations: %s: %s", m->name, PQresultErrorMessage(r));
        PQclear(r);
        PQclear(PQexec(pg, "ROLLBACK"));
        return RK_EINVAL;
    }
    PQclear(r);
    if (!exec_ok(pg, "INSERT INTO rk_schema_migration (version, name) VALUES ($1, $2)", 2, values,
                 err, err_len, m->name) ||
        !exec_ok(pg, "COMMIT", 0, NULL, err, err_len, m->name)) {
        PQclear(PQexec(pg, "ROLLBACK"));
        return RK_EINVAL;
    }
    rk_log_info("migration applied", "{s:i, s:s}", "version", m->version, "name", m->name);
    return RK_OK;
}

int rk_store_migrate(const char *conninfo, int timeout_ms, int *applied, char *err, size_t err_len)
{
    *applied = 0;
    PGconn *pg = rk_store_connect_blocking(conninfo, timeout_ms, err, err_len);
    if (!pg)
        return RK_EUNAVAILABLE;
    int rc = RK_EUNAVAILABLE;
    const char *key[] = {MIGRATION_LOCK_KEY};
    if (!exec_ok(pg, "SELECT pg_advisory_lock($1::bigint)", 1, key, err, err_len, "lock"))
        goto done;
    if (!exec_ok(pg,
                 "CREATE TABLE IF NOT EXISTS rk_schema_migration ("
                 " version integer PRIMARY KEY, name text NOT NULL,"
                 " applied_at timestamptz NOT NULL DEFAULT now())",
                 0, NULL, err, err_len, "rk_schema_migration"))
        goto unlock;
    for (int i = 0; i < rk_migrations_count; i++) {
        int done_already;
        rc = is_applied(pg, rk_migrations[i].version, &done_already, err, err_len);
        if (rc != RK_OK)
            goto unlock;
        if (done_already)
            continue;
        rc = apply_one(pg, &rk_migrations[i], err, err_len);
        if (rc != RK_OK)
            goto unlock;
        (*applied)++;
    }
    rc = RK_OK;
unlock:
    exec_ok(pg, "SELECT pg_advisory_unlock($1::bigint)", 1, key, err + strlen(err),
            err_len - strlen(err), "unlock");
done:
    PQfinish(pg);
    return rc;
}
