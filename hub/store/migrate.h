/*
 * migrate.h — numbered schema migrations, embedded in the binary, applied at start.
 *
 * hub/store/migrations/NNNN_name.sql are compiled into rk_migrations[] (see
 * cmake/embed_migrations.cmake). rk_store_migrate() applies the missing ones in order, each in
 * its own transaction, while holding a PostgreSQL advisory lock, so hubs that start together
 * migrate once. It uses a blocking libpq connection and runs before the event loop starts;
 * it is never called from the loop.
 */
#ifndef RK_STORE_MIGRATE_H
#define RK_STORE_MIGRATE_H

#include <stddef.h>

typedef struct rk_migration {
    int version;
    const char *name;
    const char *sql;
} rk_migration_t;

extern const rk_migration_t rk_migrations[];
extern const int rk_migrations_count;

/** The schema version this binary expects (the highest migration number). */
int rk_migrations_latest(void);

/**
 * Connects with conninfo (retrying until timeout_ms passes while PostgreSQL is not up yet),
 * takes the migration lock and applies what is missing. *applied counts the migrations this
 * call applied. RK_OK, or RK_EUNAVAILABLE / RK_EINVAL with the reason in err.
 */
int rk_store_migrate(const char *conninfo, int timeout_ms, int *applied, char *err, size_t err_len);

/** SQL that yields one row, one column: the applied schema version (0 if none). */
#define RK_SQL_SCHEMA_VERSION "SELECT coalesce(max(version), 0) FROM rk_schema_migration"

#endif
