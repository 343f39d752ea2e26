/*
 * key_store.c — creating missing realm keys at start-up (see key_store.h).
 */
#include "identity/key_store.h"

#include "core/error.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* $1: the algorithms as a text[] literal. Rows: tenant id, slug, alg, missing state. */
static const char sql_missing[] =
    "SELECT t.id, t.slug, a.alg, s.state"
    " FROM rk_tenant t CROSS JOIN unnest($1::text[]) a (alg)"
    " CROSS JOIN (VALUES ('active'), ('next')) s (state)"
    " WHERE NOT EXISTS (SELECT 1 FROM rk_identity_key k"
    "  WHERE k.tenant_id = t.id AND k.alg = a.alg AND k.state = s.state)"
    " ORDER BY t.id, a.alg, s.state";

static const char sql_insert[] =
    "INSERT INTO rk_identity_key (tenant_id, kid, alg, state, public_jwk, private_sealed,"
    " activated_at) VALUES ($1, $2, $3, $4, $5::jsonb, decode($6, 'hex'),"
    " CASE WHEN $4 = 'active' THEN now() END)";

/* Serialises start-up key creation between hubs; released at commit. */
static const char sql_lock[] = "SELECT pg_advisory_xact_lock(hashtext('rk_identity_keys'))";

char *rk_identity_hex(const unsigned char *bytes, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *out = rk_xmalloc(2 * len + 1);
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xf];
    }
    out[2 * len] = '\0';
    return out;
}

/* Runs one statement; the result goes to *out (the caller PQclear()s it) or is dropped. */
static int run(PGconn *pg, const char *sql, int n, const char *const *values, const char *what,
               PGresult **out, char *err, size_t err_len)
{
    PGresult *r = PQexecParams(pg, sql, n, NULL, values, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        snprintf(err, err_len, "identity: %s: %s", what, PQresultErrorMessage(r));
        PQclear(r);
        return RK_EUNAVAILABLE;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return RK_OK;
}

static int insert_key(PGconn *pg, const PGresult *missing, int row,
                      const rk_identity_master_key_t *master, char *err, size_t err_len)
{
    const char *slug = PQgetvalue(missing, row, 1);
    rk_identity_alg_t alg;
    rk_identity_new_key_t key;
    const char *why = "unknown algorithm";
    if (rk_identity_alg_parse(PQgetvalue(missing, row, 2), &alg) != RK_OK ||
        rk_identity_key_generate(alg, slug, master, &key, &why) != RK_OK) {
        snprintf(err, err_len, "identity: realm %s: %s", slug, why);
        return RK_EIO;
    }
    char *sealed_hex = rk_identity_hex(key.sealed, key.sealed_len);
    const char *values[] = {PQgetvalue(missing, row, 0), key.kid,        rk_identity_alg_name(alg),
                            PQgetvalue(missing, row, 3), key.public_jwk, sealed_hex};
    int rc = run(pg, sql_insert, 6, values, "storing a new key", NULL, err, err_len);
    free(sealed_hex);
    rk_identity_new_key_clear(&key);
    return rc;
}

/* Creates what the rows of sql_missing name, inside the caller's transaction. */
static int create_missing(PGconn *pg, const char *const *values,
                          const rk_identity_master_key_t *master, int *created, char *err,
                          size_t err_len)
{
    PGresult *missing = NULL;
    int rc = run(pg, sql_lock, 0, NULL, "locking key creation", NULL, err, err_len);
    if (rc == RK_OK)
        rc = run(pg, sql_missing, 1, values, "reading keys", &missing, err, err_len);
    for (int i = 0; rc == RK_OK && i < PQntuples(missing); i++) {
        rc = insert_key(pg, missing, i, master, err, err_len);
        *created += rc == RK_OK;
    }
    PQclear(missing);
    return rc;
}

int rk_identity_keys_ensure(PGconn *pg, const rk_identity_master_key_t *master,
                            const rk_identity_alg_t *algs, size_t n_algs, int *created, char *err,
                            size_t err_len)
{
    char alg_array[64] = "{";
    for (size_t i = 0; i < n_algs; i++)
        snprintf(alg_array + strlen(alg_array), sizeof(alg_array) - strlen(alg_array), "%s%s",
                 i ? "," : "", rk_identity_alg_name(algs[i]));
    strncat(alg_array, "}", sizeof(alg_array) - strlen(alg_array) - 1);
    const char *values[] = {alg_array};
    *created = 0;

    /* The common case, a restart: nothing is missing and nothing is locked. */
    PGresult *missing = NULL;
    int rc = run(pg, sql_missing, 1, values, "reading keys", &missing, err, err_len);
    if (rc != RK_OK)
        return rc;
    int n_missing = PQntuples(missing);
    PQclear(missing);
    if (n_missing == 0)
        return RK_OK;

    rc = run(pg, "BEGIN", 0, NULL, "begin", NULL, err, err_len);
    if (rc == RK_OK)
        rc = create_missing(pg, values, master, created, err, err_len);
    if (rc == RK_OK)
        rc = run(pg, "COMMIT", 0, NULL, "commit", NULL, err, err_len);
    if (rc != RK_OK) {
        PQclear(PQexec(pg, "ROLLBACK"));
        *created = 0;
    }
    return rc;
}
