/*
 * keygen.h — generating a realm key on the worker pool, answered on the event loop.
 *
 * A 2048-bit RSA key takes 0.1–0.5 s to generate: far too long for the loop. Each request
 * for a key becomes a job on the module's rk_worker_pool_t, which runs
 * rk_identity_key_generate() on a worker thread and calls back on the loop.
 *
 * Used by identity.c for rk_identity_rotate().
 */
#ifndef RK_IDENTITY_KEYGEN_H
#define RK_IDENTITY_KEYGEN_H

#include "core/worker.h"
#include "identity/keys.h"

typedef struct rk_identity_keygen rk_identity_keygen_t;

/**
 * Called on the loop with RK_OK and the new key (the callee may take its contents: they are
 * cleared after the call with rk_identity_new_key_clear()), or RK_EIO with why.
 */
typedef void (*rk_identity_keygen_cb)(int status, rk_identity_new_key_t *key, const char *why,
                                      void *arg);

/**
 * A job runner on pool. master must stay valid until the pool has been freed (a job may
 * still be running after rk_identity_keygen_free()); the pool must outlive the keygen.
 */
rk_identity_keygen_t *rk_identity_keygen_new(const rk_identity_master_key_t *master,
                                             rk_worker_pool_t *pool);

/**
 * Starts generating a key for alg in realm slug: RK_AGAIN (cb follows), or at once the
 * pool's refusal: RK_ETOOBIG (its queue is full) or RK_ESHUTDOWN.
 */
int rk_identity_keygen_start(rk_identity_keygen_t *keygen, rk_identity_alg_t alg, const char *slug,
                             rk_identity_keygen_cb cb, void *arg);

/**
 * Frees the keygen; callbacks of jobs not yet answered are never called (the jobs finish on
 * the pool and are dropped there). NULL is allowed.
 */
void rk_identity_keygen_free(rk_identity_keygen_t *keygen);

#endif
