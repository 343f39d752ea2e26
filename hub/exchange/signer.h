/*
 * signer.h — signing pending receipts with the providing realm's ES256 key.
 *
 * rk_exchange_record() (SQL) creates a receipt row without a signature. Signing one provider's
 * receipts is a loop, in receipt order: ask rk_exchange_receipt_next() for the oldest pending
 * one and its canonical payload (which holds the hash of the previous receipt's JWS, hence the
 * order), sign it here, store it with rk_exchange_receipt_store() — a receipt that another hub
 * signed meanwhile keeps that signature, and the loop goes on from what is stored. Nothing is
 * lost in a crash: a pending row is simply signed by the next loop.
 *
 * One loop per provider runs in a process at a time; a request while it runs makes it go round
 * once more and waits for it. Used by exchange.c (notifications, sweeps) and service.c
 * (GetReceipt of a receipt still pending).
 */
#ifndef RK_EXCHANGE_SIGNER_H
#define RK_EXCHANGE_SIGNER_H

#include "exchange/exchange.h"

typedef struct rk_exchange_signer rk_exchange_signer_t;

/** Called on the loop when the provider's pending receipts are signed (RK_OK) or not. */
typedef void (*rk_exchange_signed_cb)(int status, void *arg);

rk_exchange_signer_t *rk_exchange_signer_new(rk_exchange_t *exchange);

/**
 * Signs every pending receipt of provider (a tenant id, decimal text); cb (may be NULL) runs
 * once that is done or failed: RK_OK, RK_EUNAVAILABLE (database), RK_ENOTFOUND (no realm or no
 * ES256 key: identity.signing_algs). cb runs from inside the call only when the database
 * cannot be reached at once (RK_EUNAVAILABLE).
 */
void rk_exchange_sign(rk_exchange_signer_t *signer, const char *provider, rk_exchange_signed_cb cb,
                      void *arg);

/** Signs what is pending for every provider (the sweep). */
void rk_exchange_sign_all(rk_exchange_signer_t *signer);

/** Frees the signer; callbacks not yet run are dropped. NULL is allowed. */
void rk_exchange_signer_free(rk_exchange_signer_t *signer);

#endif
