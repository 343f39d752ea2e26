/*
 * signer.c — the receipt-signing loop per provider (see signer.h).
 *
 * A job is one provider's loop: next → sign → store → next … until nothing is pending. Jobs
 * live in the signer's list; a request for a provider whose job runs sets `again` (so a receipt
 * committed after the job's last query is not missed) and joins its waiters.
 */
#include "exchange/signer.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "exchange/receipt_verify.h"
#include "identity/identity.h"
#include "identity/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_NEXT "exchange_receipt_next"
#define STMT_STORE "exchange_receipt_store"
#define STMT_PENDING "exchange_receipt_pending"

static const char sql_next[] =
    "SELECT receipt_id, payload_json FROM rk_exchange_receipt_next($1, $2)";
static const char sql_store[] = "SELECT rk_exchange_receipt_store($1, $2, $3, $4)";
static const char sql_pending[] =
    "SELECT DISTINCT provider_tenant_id::text FROM rk_exchange_receipt WHERE jws IS NULL";

typedef struct waiter {
    rk_exchange_signed_cb cb;
    void *arg;
    struct waiter *next;
} waiter_t;

typedef struct job {
    rk_exchange_signer_t *signer;
    struct job *next;
    char provider[24];
    int again;
    waiter_t *waiters;
} job_t;

struct rk_exchange_signer {
    rk_exchange_t *exchange;
    job_t *jobs;
};

static void next_pending(job_t *job);

rk_exchange_signer_t *rk_exchange_signer_new(rk_exchange_t *exchange)
{
    rk_exchange_signer_t *signer = rk_xcalloc(1, sizeof(*signer));
    signer->exchange = exchange;
    rk_store_prepare(exchange->app->store, STMT_NEXT, sql_next);
    rk_store_prepare(exchange->app->store, STMT_STORE, sql_store);
    rk_store_prepare(exchange->app->store, STMT_PENDING, sql_pending);
    return signer;
}

/* Ends the job: out of the list, then every waiter told. */
static void job_end(job_t *job, int status)
{
    for (job_t **p = &job->signer->jobs; *p; p = &(*p)->next) {
        if (*p == job) {
            *p = job->next;
            break;
        }
    }
    waiter_t *w = job->waiters;
    free(job);
    while (w) {
        waiter_t *next = w->next;
        if (w->cb)
            w->cb(status, w->arg);
        free(w);
        w = next;
    }
}

/* The realm of tenant id provider, valid until control returns to the loop; or NULL. */
static const rk_identity_realm_t *provider_realm(const rk_exchange_t *exchange,
                                                 const char *provider)
{
    const rk_identity_realms_t *realms = exchange->app->identity->realms;
    for (size_t i = 0; realms && i < realms->n; i++)
        if (strcmp(realms->realms[i].tenant_id, provider) == 0)
            return &realms->realms[i];
    return NULL;
}

static void stored_cb(const rk_store_result_t *res, void *arg)
{
    job_t *job = arg;
    if (res->status != RK_OK) {
        rk_log_warn("storing a receipt's signature failed", "{s:s, s:s}", "provider", job->provider,
                    "error", res->error ? res->error : "");
        job_end(job, RK_EUNAVAILABLE);
        return;
    }
    next_pending(job);
}

/* Signs one receipt's payload and stores it. */
static void sign_one(job_t *job, const char *receipt_id, const char *payload)
{
    const rk_identity_realm_t *realm = provider_realm(job->signer->exchange, job->provider);
    const cjose_jwk_t *key = realm ? realm->signing[RK_IDENTITY_ES256] : NULL;
    if (!key) {
        rk_log_error("receipt not signed: the providing realm has no active ES256 key "
                     "(identity.signing_algs must list ES256)",
                     "{s:s, s:s}", "provider", job->provider, "receipt_id", receipt_id);
        job_end(job, RK_ENOTFOUND);
        return;
    }
    const char *why = NULL;
    const char *kid = realm->signing_kid[RK_IDENTITY_ES256];
    char *jws = rk_identity_jws_sign(key, "ES256", kid, RK_EXCHANGE_RECEIPT_TYP, payload,
                                     strlen(payload), &why);
    if (!jws) {
        rk_log_error("receipt not signed", "{s:s, s:s}", "receipt_id", receipt_id, "error", why);
        job_end(job, RK_EIO);
        return;
    }
    const char *values[] = {receipt_id, payload, jws, kid};
    int rc =
        rk_store_exec(job->signer->exchange->app->store, STMT_STORE, 4, values, stored_cb, job);
    free(jws);
    if (rc != RK_AGAIN)
        job_end(job, RK_EUNAVAILABLE);
}

static void next_cb(const rk_store_result_t *res, void *arg)
{
    job_t *job = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        rk_log_warn("reading pending receipts failed", "{s:s, s:s}", "provider", job->provider,
                    "error", res->error ? res->error : "");
        job_end(job, RK_EUNAVAILABLE);
        return;
    }
    const PGresult *r = res->results[0];
    if (PQntuples(r) == 1) {
        sign_one(job, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
    } else if (job->again) {
        job->again = 0;
        next_pending(job);
    } else {
        job_end(job, RK_OK);
    }
}

static void next_pending(job_t *job)
{
    const rk_identity_realm_t *realm = provider_realm(job->signer->exchange, job->provider);
    if (!realm) {
        job_end(job, RK_ENOTFOUND);
        return;
    }
    const char *values[] = {job->provider, realm->issuer};
    if (rk_store_exec(job->signer->exchange->app->store, STMT_NEXT, 2, values, next_cb, job) !=
        RK_AGAIN)
        job_end(job, RK_EUNAVAILABLE);
}

void rk_exchange_sign(rk_exchange_signer_t *signer, const char *provider, rk_exchange_signed_cb cb,
                      void *arg)
{
    waiter_t *w = rk_xcalloc(1, sizeof(*w));
    w->cb = cb;
    w->arg = arg;
    for (job_t *job = signer->jobs; job; job = job->next) {
        if (strcmp(job->provider, provider) == 0) {
            job->again = 1;
            w->next = job->waiters;
            job->waiters = w;
            return;
        }
    }
    job_t *job = rk_xcalloc(1, sizeof(*job));
    job->signer = signer;
    snprintf(job->provider, sizeof(job->provider), "%s", provider);
    job->waiters = w;
    job->next = signer->jobs;
    signer->jobs = job;
    next_pending(job);
}

static void pending_cb(const rk_store_result_t *res, void *arg)
{
    rk_exchange_signer_t *signer = arg;
    if (res->status != RK_OK || res->n_results != 1)
        return; /* the next sweep tries again */
    for (int i = 0; i < PQntuples(res->results[0]); i++)
        rk_exchange_sign(signer, PQgetvalue(res->results[0], i, 0), NULL, NULL);
}

void rk_exchange_sign_all(rk_exchange_signer_t *signer)
{
    rk_store_exec(signer->exchange->app->store, STMT_PENDING, 0, NULL, pending_cb, signer);
}

void rk_exchange_signer_free(rk_exchange_signer_t *signer)
{
    if (!signer)
        return;
    while (signer->jobs) {
        job_t *job = signer->jobs;
        signer->jobs = job->next;
        for (waiter_t *w = job->waiters, *next; w; w = next) {
            next = w->next;
            free(w);
        }
        free(job);
    }
    free(signer);
}
