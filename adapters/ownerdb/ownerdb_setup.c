/*
 * ownerdb_setup.c — the "ownerdb" config section and the owner's database made ready before
 * the loop runs (see ownerdb.h). Blocking is allowed here: the SDK calls init before it opens
 * the port.
 *
 * Order: connect (creating the database first when ownerdb.create_database is 1 and it does
 * not exist); take an advisory lock; when the owner's schema (yoyaku) is missing, create it
 * and run the seed file — only with ownerdb.init_schema = 1, since a real owner's system
 * brings its own; apply the adapter's schema (renkei_link, sql/link.sql), whose statements
 * are idempotent, so a new adapter version replaces its functions at start.
 */
#include "ownerdb.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/settings.h"
#include "store/connect.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The SQL files, embedded at build time (embed_sql.cmake). */
extern const char ownerdb_owner_schema_sql[];
extern const char ownerdb_link_sql[];

#define CONNECT_TIMEOUT_MS 15000
#define SEED_MAX_BYTES (1 << 20)
#define SETUP_LOCK "7307116" /* pg_advisory_lock key of the set-up */

#define OFF(field) offsetof(ownerdb_config_t, field)

static const rk_setting_t keys[] = {
    {"ownerdb.conninfo", "RENKEI_OWNERDB_PG", RK_SETTING_STRING, OFF(conninfo), 1, 4096,
     "dbname=ownerdb", NULL, "libpq connection string of the owner's own database"},
    {"ownerdb.create_database", "RENKEI_OWNERDB_CREATE_DATABASE", RK_SETTING_INT,
     OFF(create_database), 0, 1, "0", NULL, "1: create that database when it does not exist"},
    {"ownerdb.init_schema", "RENKEI_OWNERDB_INIT_SCHEMA", RK_SETTING_INT, OFF(init_schema), 0, 1,
     "0", NULL, "1: create the owner's schema (yoyaku) when missing: demo and test databases"},
    {"ownerdb.seed_file", "RENKEI_OWNERDB_SEED_FILE", RK_SETTING_STRING, OFF(seed_file), 0, 4096,
     "", NULL, "SQL run once, right after init_schema created the schema"},
    {"ownerdb.hold_ttl_seconds", "RENKEI_OWNERDB_HOLD_TTL_SECONDS", RK_SETTING_INT,
     OFF(hold_ttl_seconds), 10, 86400, "600", NULL, "how long a hold (仮予約) lasts"},
    {"ownerdb.pool_size", "RENKEI_OWNERDB_POOL_SIZE", RK_SETTING_INT, OFF(pool_size), 1, 32, "4",
     NULL, "connections to the owner's database"},
};

static const rk_settings_t settings = {keys, sizeof(keys) / sizeof(keys[0])};

static const char *env_lookup(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

int ownerdb_config_load(ownerdb_config_t *config, const json_t *section, char *why,
                        size_t why_len)
{
    rk_settings_init(&settings, config);
    json_t *root = json_pack("{s:O}", "ownerdb", (json_t *)section);
    int rc = rk_settings_load_object(&settings, config, root, "the config file", why, why_len);
    json_decref(root);
    if (rc == RK_OK)
        rc = rk_settings_apply_env(&settings, config, env_lookup, NULL, why, why_len);
    return rc == RK_OK ? 0 : -1;
}

void ownerdb_config_free(ownerdb_config_t *config)
{
    rk_settings_free(&settings, config);
}

/* Runs sql (one or more statements); 0, or -1 with what failed in why. */
static int run(PGconn *pg, const char *sql, const char *what, char *why, size_t why_len)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(why, why_len, "ownerdb: %s: %s", what, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* CREATE DATABASE for the dbname of conninfo, through the server's "postgres" database. */
static int create_database(const char *conninfo, char *why, size_t why_len)
{
    char *errmsg = NULL;
    PQconninfoOption *options = PQconninfoParse(conninfo, &errmsg);
    if (!options) {
        snprintf(why, why_len, "config: ownerdb.conninfo: %s", errmsg ? errmsg : "not valid");
        PQfreemem(errmsg);
        return -1;
    }
    const char *dbname = NULL;
    for (PQconninfoOption *o = options; o->keyword; o++)
        if (strcmp(o->keyword, "dbname") == 0 && o->val && *o->val)
            dbname = o->val;
    int rc = -1;
    if (!dbname) {
        snprintf(why, why_len, "config: ownerdb.conninfo: names no dbname to create");
        goto out;
    }
    /* The first dbname is expanded as the whole conninfo, the second replaces its database. */
    const char *const kw[] = {"dbname", "dbname", NULL};
    const char *const val[] = {conninfo, "postgres", NULL};
    PGconn *pg = PQconnectdbParams(kw, val, 1);
    if (PQstatus(pg) != CONNECTION_OK) {
        snprintf(why, why_len, "ownerdb: cannot connect to create database %s: %s", dbname,
                 PQerrorMessage(pg));
        PQfinish(pg);
        goto out;
    }
    char *ident = PQescapeIdentifier(pg, dbname, strlen(dbname));
    char *sql = ident ? rk_xmalloc(strlen(ident) + 32) : NULL;
    if (sql) {
        sprintf(sql, "CREATE DATABASE %s", ident);
        PGresult *r = PQexec(pg, sql);
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        /* 42P04: another adapter created it a moment ago. */
        rc = PQresultStatus(r) == PGRES_COMMAND_OK || (state && strcmp(state, "42P04") == 0) ? 0 : -1;
        if (rc != 0)
            snprintf(why, why_len, "ownerdb: CREATE DATABASE %s: %s", dbname,
                     PQresultErrorMessage(r));
        else
            rk_log_info("owner database created", "{s:s}", "database", dbname);
        PQclear(r);
    }
    free(sql);
    PQfreemem(ident);
    PQfinish(pg);
out:
    PQconninfoFree(options);
    return rc;
}

/* The seed file's text (NUL-terminated, malloc'd), or NULL with why filled. */
static char *read_seed(const char *path, char *why, size_t why_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_len, "config: ownerdb.seed_file: cannot open %s", path);
        return NULL;
    }
    char *text = rk_xmalloc(SEED_MAX_BYTES + 1);
    size_t n = fread(text, 1, SEED_MAX_BYTES + 1, f);
    fclose(f);
    if (n > SEED_MAX_BYTES || memchr(text, '\0', n)) {
        snprintf(why, why_len, "config: ownerdb.seed_file: %s: must be SQL text of at most %d bytes",
                 path, SEED_MAX_BYTES);
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

/* The owner's schema and its seed, in one transaction; 0 when it exists or was made. */
static int owner_schema(PGconn *pg, const ownerdb_config_t *c, char *why, size_t why_len)
{
    PGresult *r = PQexec(pg, "SELECT to_regclass('yoyaku.yoyaku') IS NOT NULL");
    int present = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (present)
        return 0;
    if (!c->init_schema) {
        snprintf(why, why_len, "ownerdb: the owner's schema yoyaku is missing in this database "
                               "(ownerdb.init_schema = 1 creates it, for a demo or test database)");
        return -1;
    }
    char *seed = *c->seed_file ? read_seed(c->seed_file, why, why_len) : NULL;
    if (*c->seed_file && !seed)
        return -1;
    int rc = run(pg, "BEGIN", "begin", why, why_len);
    if (rc == 0)
        rc = run(pg, ownerdb_owner_schema_sql, "creating the owner's schema", why, why_len);
    if (rc == 0 && seed)
        rc = run(pg, seed, "ownerdb.seed_file", why, why_len);
    if (rc == 0)
        rc = run(pg, "COMMIT", "commit", why, why_len);
    free(seed);
    if (rc == 0)
        rk_log_info("owner schema created", "{s:s}", "seed", c->seed_file);
    return rc;
}

int ownerdb_setup(const ownerdb_config_t *c, char *why, size_t why_len)
{
    PGconn *probe = PQconnectdb(c->conninfo);
    int missing = PQstatus(probe) != CONNECTION_OK && strstr(PQerrorMessage(probe), "does not exist");
    PQfinish(probe);
    if (missing && c->create_database && create_database(c->conninfo, why, why_len) != 0)
        return -1;
    PGconn *pg = rk_store_connect_blocking(c->conninfo, CONNECT_TIMEOUT_MS, why, why_len);
    if (!pg)
        return -1;
    int rc = run(pg, "SELECT pg_advisory_lock(" SETUP_LOCK ")", "set-up lock", why, why_len);
    if (rc == 0)
        rc = owner_schema(pg, c, why, why_len);
    if (rc == 0)
        rc = run(pg, ownerdb_link_sql, "applying the adapter's schema renkei_link", why, why_len);
    PQfinish(pg); /* also releases the lock */
    return rc;
}
