/*
 * keygen.h — generating a realm key on a worker thread, answered on the event loop.
 *
 * A 2048-bit RSA key takes 0.1–0.5 s to generate: far too long for the loop. Each request
 * for a key gets its own short-lived thread that runs rk_identity_key_generate() and then
 * writes one byte into a pipe the loop watches; the loop joins the thread and calls back.
 * Rotations are rare admin operations, so a thread per job costs nothing worth pooling.
 *
 * Used by identity.c for rk_identity_rotate().
 */
#ifndef RK_IDENTITY_KEYGEN_H
#define RK_IDENTITY_KEYGEN_H

#include "identity/keys.h"

struct event_base;

typedef struct rk_identity_keygen rk_identity_keygen_t;

/**
 * Called on the loop with RK_OK and the new key (the callee may take its contents: they are
 * cleared after the call with rk_identity_new_key_clear()), or RK_EIO with why.
 */
typedef void (*rk_identity_keygen_cb)(int status, rk_identity_new_key_t *key, const char *why,
                                      void *arg);

/** A job runner on base; master must outlive it. */
rk_identity_keygen_t *rk_identity_keygen_new(struct event_base *base,
                                             const rk_identity_master_key_t *master);

/** Starts generating a key for alg in realm slug: RK_AGAIN (cb follows) or RK_EIO at once. */
int rk_identity_keygen_start(rk_identity_keygen_t *keygen, rk_identity_alg_t alg, const char *slug,
                             rk_identity_keygen_cb cb, void *arg);

/** Waits for running jobs (their callbacks are not called) and frees everything. */
void rk_identity_keygen_free(rk_identity_keygen_t *keygen);

#endif
