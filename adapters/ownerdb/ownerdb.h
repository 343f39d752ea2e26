/*
 * ownerdb.h — renkei-adapter-ownerdb: what its units share.
 *
 * The adapter stands in front of an owner's reservation system that keeps its own PostgreSQL
 * database (schema yoyaku, sql/owner_schema.sql). ownerdb_setup.c reads the "ownerdb" config
 * section and, before the loop runs, makes the database ready (blocking); ownerdb_call.c runs
 * each AdapterService call as one SQL function of the adapter's own schema renkei_link
 * (sql/link.sql) on the hub's asynchronous libpq pool (hub/store/pool.h) and turns the
 * function's jsonb answer into the gRPC answer; main.c is the handler table.
 */
#ifndef OWNERDB_H
#define OWNERDB_H

#include "renkei_adapter.h"

#include <stddef.h>

struct rk_store;

/** The "ownerdb" config section (RENKEI_OWNERDB_PG overrides conninfo). */
typedef struct ownerdb_config {
    char *conninfo;        /* libpq connection string of the owner's database */
    int create_database;   /* 1: create the database when it does not exist */
    int init_schema;       /* 1: create the owner's schema when missing (demo and tests) */
    char *seed_file;       /* SQL run once, right after init_schema created the schema */
    int hold_ttl_seconds;  /* how long a 仮予約 made through the hub lasts */
    int pool_size;         /* connections to the owner's database */
} ownerdb_config_t;

typedef struct ownerdb {
    ownerdb_config_t config;
    struct rk_store *store;
} ownerdb_t;

/* --- ownerdb_setup.c --- */

/** Reads the section (borrowed) into config. 0, or -1 with "config: ownerdb.…: …" in why. */
int ownerdb_config_load(ownerdb_config_t *config, const struct json_t *section, char *why,
                        size_t why_len);
void ownerdb_config_free(ownerdb_config_t *config);
/**
 * Blocking, before the loop: connects (creating the database when configured), creates the
 * owner's schema and seeds it when configured and missing, and applies the adapter's own
 * schema (link.sql) — all under an advisory lock, so adapters starting together do it once.
 */
int ownerdb_setup(const ownerdb_config_t *config, char *why, size_t why_len);

/* --- ownerdb_call.c --- */

/** Registers the prepared statements of the methods; before rk_store_start(). */
void ownerdb_prepare(struct rk_store *store);
/**
 * Answers call with the SQL function behind its method: the request goes as proto3 JSON, a
 * mutation also with the SHA-256 of what identifies it (the idempotency check), and the
 * function's answer comes back as the method's response or its error. While the owner's
 * database is away the call fails UNAVAILABLE (ERROR_REASON_OWNER_UNAVAILABLE).
 */
void ownerdb_call(rk_adapter_call_t *call, const ProtobufCMessage *request);

#endif
