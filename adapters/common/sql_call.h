/*
 * sql_call.h — one AdapterService call answered by one SQL function of the owner's own
 * PostgreSQL database, on the hub's asynchronous libpq pool (hub/store/pool.h): what the
 * adapters with their own database share (../ownerdb, ../elibrary).
 *
 * The request travels as its proto3 JSON ($1) and, for a mutation, with the SHA-256 of what
 * identifies it ($2, the idempotency check: the packed request with its ResidentContext reduced
 * to the pairwise id); a third parameter is the adapter's own. The function answers one jsonb
 * object: {"ok": response} becomes the method's response; {"code", "reason", "message",
 * "retry_after"} an error with a renkei.v1.ErrorDetail; {"code": 3, "field", "description"}
 * INVALID_ARGUMENT naming the field. While the database is away (or answers a transient
 * SQLSTATE: 08, 40, 53, 57) the call fails UNAVAILABLE at once and the pool reconnects alone.
 */
#ifndef RK_ADAPTER_SQL_CALL_H
#define RK_ADAPTER_SQL_CALL_H

#include "renkei_adapter.h"

#include <stddef.h>

struct rk_store;

/** One method: its AdapterService name, the statement's name and SQL, its parameters. */
typedef struct rk_sql_method {
    const char *name;
    const char *stmt;
    const char *sql;
    int n_params; /* 1: the request; 2: and its hash (a mutation); 3: and the adapter's extra */
} rk_sql_method_t;

/** An adapter's methods and how it says its database is away. */
typedef struct rk_sql_methods {
    const rk_sql_method_t *methods;
    size_t n;
    const char *unavailable_reason;  /* ErrorDetail.reason, e.g. ERROR_REASON_OWNER_UNAVAILABLE */
    const char *unavailable_message; /* for the caller */
} rk_sql_methods_t;

/** Registers the methods' prepared statements; before rk_store_start(). */
void rk_sql_prepare(struct rk_store *store, const rk_sql_methods_t *methods);

/**
 * Answers call (its method one of methods, else UNIMPLEMENTED) with the SQL function behind it
 * on store; extra is the third parameter of methods that take one.
 */
void rk_sql_call(rk_adapter_call_t *call, struct rk_store *store, const rk_sql_methods_t *methods,
                 const ProtobufCMessage *request, const char *extra);

#endif
