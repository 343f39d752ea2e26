/*
 * key_store.h — realm keys in PostgreSQL: start-up creation and the rotation statement.
 *
 * At start-up (before the loop, so blocking libpq is allowed) every realm gets what its key
 * chains lack for each algorithm of identity.signing_algs: an active key and a next key. Hubs
 * starting together serialise on a transaction advisory lock and re-check inside it, so each
 * chain is created once. Restarts find the keys and create nothing.
 *
 * At run time keys change only through rotation: RK_IDENTITY_SQL_ROTATE calls the
 * rk_identity_key_rotate() function of migration 0002, one statement and one transaction.
 */
#ifndef RK_IDENTITY_KEY_STORE_H
#define RK_IDENTITY_KEY_STORE_H

#include "identity/keys.h"

#include <libpq-fe.h>
#include <stddef.h>

/*
 * $1 tenant id, $2 alg, $3 kid, $4 public JWK, $5 sealed private key in hex, $6 seconds a
 * retired key stays published. One row, one column: the chain as JSON text.
 */
#define RK_IDENTITY_SQL_ROTATE                                                                     \
    "SELECT rk_identity_key_rotate($1, $2, $3, $4::jsonb, decode($5, 'hex'),"                      \
    " make_interval(secs => $6::int))::text"

/**
 * Creates the active and next keys that realms lack for the given algorithms, over the
 * blocking connection pg. RK_OK, or an error with err naming what failed. *created counts
 * the keys made.
 */
int rk_identity_keys_ensure(PGconn *pg, const rk_identity_master_key_t *master,
                            const rk_identity_alg_t *algs, size_t n_algs, int *created, char *err,
                            size_t err_len);

/** bytes as lower-case hex text (what decode(…, 'hex') reads); the caller free()s it. */
char *rk_identity_hex(const unsigned char *bytes, size_t len);

#endif
