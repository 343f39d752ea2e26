/*
 * identity.c — the identity module's wiring: start-up, the realm table refresh and key
 * rotation (see identity.h).
 */
#include "identity/identity.h"

#include "core/error.h"
#include "core/log.h"
#include "identity/account_admin.h"
#include "identity/admin.h"
#include "identity/cert_login.h"
#include "identity/key_store.h"
#include "identity/logout.h"
#include "identity/oauth.h"
#include "identity/oauth_call.h"
#include "identity/pupil_admin.h"
#include "identity/registration.h"
#include "identity/staff_token.h"
#include "identity/throttle.h"
#include "store/connect.h"

#include <event2/event.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_REALMS "identity_realm_rows"
#define STMT_ROTATE "identity_key_rotate"

typedef void (*refresh_done_fn)(void *arg);

typedef struct refresh {
    rk_identity_t *identity;
    uint64_t seq;
    refresh_done_fn done;
    void *arg;
} refresh_t;

typedef struct rotation {
    rk_identity_t *identity;
    char *slug;
    char *tenant_id;
    rk_identity_alg_t alg;
    char *chain;
    rk_identity_rotate_cb cb;
    void *arg;
} rotation_t;

/* --- the realm table ------------------------------------------------------------------------ */

/* Applies fresh rows unless a newer refresh got there first (answers may cross). */
static void apply_rows(rk_identity_t *identity, uint64_t seq, const PGresult *rows)
{
    if (seq <= identity->refresh_applied)
        return;
    identity->refresh_applied = seq;
    char *fingerprint = rk_identity_realms_fingerprint(rows);
    int same = strcmp(fingerprint, identity->realms->fingerprint) == 0;
    free(fingerprint);
    if (same)
        return;
    char err[512] = "";
    rk_identity_realms_t *fresh =
        rk_identity_realms_build(rows, identity->app->public_url, identity->cert_trust != NULL,
                                 &identity->master, err, sizeof(err));
    if (!fresh) {
        rk_log_error("realm keys changed but cannot be loaded: keeping the previous ones", "{s:s}",
                     "error", err);
        return;
    }
    rk_identity_realms_free(identity->realms);
    identity->realms = fresh;
    rk_log_info("realm keys reloaded", "{s:I}", "realms", (json_int_t)fresh->n);
}

static void refresh_result(const rk_store_result_t *res, void *arg)
{
    refresh_t *r = arg;
    if (res->status == RK_OK && res->n_results == 1)
        apply_rows(r->identity, r->seq, res->results[0]);
    else if (res->status == RK_EINVAL)
        rk_log_error("reading realm keys failed", "{s:s}", "error", res->error);
    r->done(r->arg);
    free(r);
}

/* Re-reads the realm rows; done(arg) runs once they are applied or failed. RK_AGAIN or
 * RK_EUNAVAILABLE (done is not called then). */
static int refresh_start(rk_identity_t *identity, refresh_done_fn done, void *arg)
{
    refresh_t *r = rk_xcalloc(1, sizeof(*r));
    r->identity = identity;
    r->seq = ++identity->refresh_started;
    r->done = done;
    r->arg = arg;
    if (rk_store_exec(identity->app->store, STMT_REALMS, 0, NULL, refresh_result, r) == RK_AGAIN)
        return RK_AGAIN;
    free(r);
    return RK_EUNAVAILABLE;
}

static void arm_refresh(rk_identity_t *identity)
{
    int ms = identity->app->cfg->identity_refresh_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(identity->refresh_timer, &tv);
}

static void periodic_done(void *arg)
{
    rk_identity_t *identity = arg;
    identity->refreshing = 0;
    arm_refresh(identity);
}

static void refresh_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_identity_t *identity = arg;
    if (identity->refreshing)
        return;
    if (refresh_start(identity, periodic_done, identity) == RK_AGAIN)
        identity->refreshing = 1;
    else
        arm_refresh(identity);
}

const rk_identity_realm_t *rk_identity_realm(const rk_identity_t *identity, const char *slug)
{
    return rk_identity_realm_find(identity->realms, slug);
}

/* --- rotation ------------------------------------------------------------------------------- */

static void rotation_free(rotation_t *rot)
{
    free(rot->slug);
    free(rot->tenant_id);
    free(rot->chain);
    free(rot);
}

static void rotation_end(rotation_t *rot, int status, const char *why)
{
    rot->cb(status, rot->chain, why, rot->arg);
    rotation_free(rot);
}

static void rotation_refreshed(void *arg)
{
    rotation_t *rot = arg;
    rk_log_info("realm key rotated", "{s:s, s:s, s:s}", "realm", rot->slug, "alg",
                rk_identity_alg_name(rot->alg), "chain", rot->chain);
    rotation_end(rot, RK_OK, NULL);
}

static void rotation_stored(const rk_store_result_t *res, void *arg)
{
    rotation_t *rot = arg;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        if (strcmp(res->sqlstate, "55000") == 0) {
            rotation_end(rot, RK_ECONFLICT, "the realm has no next key of this algorithm");
            return;
        }
        rk_log_error("storing a rotated key failed", "{s:s, s:s}", "realm", rot->slug, "error",
                     res->error ? res->error : "unexpected result");
        rotation_end(rot, RK_EUNAVAILABLE, "the database did not store the rotation");
        return;
    }
    rot->chain = rk_xstrdup(PQgetvalue(res->results[0], 0, 0));
    /* Answer once this hub serves the new keys, so the caller sees what it did. */
    if (refresh_start(rot->identity, rotation_refreshed, rot) != RK_AGAIN)
        rotation_refreshed(rot);
}

static void rotation_generated(int status, rk_identity_new_key_t *key, const char *why, void *arg)
{
    rotation_t *rot = arg;
    if (status != RK_OK) {
        rk_log_error("key generation failed", "{s:s, s:s}", "realm", rot->slug, "error", why);
        rotation_end(rot, RK_EIO, why);
        return;
    }
    char *sealed_hex = rk_identity_hex(key->sealed, key->sealed_len);
    /* Retired keys stay published for identity.retired_key_days: receipts they signed are
       checked long after (a fiscal year's audit), not only tokens, which live a day at most. */
    char retire_after[16];
    snprintf(retire_after, sizeof(retire_after), "%d",
             rot->identity->app->cfg->identity_retired_key_days * 86400);
    const char *values[] = {rot->tenant_id, rk_identity_alg_name(rot->alg),
                            key->kid,       key->public_jwk,
                            sealed_hex,     retire_after};
    int rc = rk_store_exec(rot->identity->app->store, STMT_ROTATE, 6, values, rotation_stored, rot);
    free(sealed_hex);
    if (rc != RK_AGAIN)
        rotation_end(rot, RK_EUNAVAILABLE, "no database connection");
}

static int has_next_key(const rk_identity_realm_t *realm, rk_identity_alg_t alg)
{
    for (size_t i = 0; i < realm->n_keys; i++) {
        if (realm->keys[i].alg == alg && realm->keys[i].state == RK_IDENTITY_KEY_NEXT)
            return 1;
    }
    return 0;
}

int rk_identity_rotate(rk_identity_t *identity, const char *slug, rk_identity_alg_t alg,
                       rk_identity_rotate_cb cb, void *arg)
{
    const rk_identity_realm_t *realm = rk_identity_realm(identity, slug);
    if (!realm)
        return RK_ENOTFOUND;
    size_t a = 0;
    while (a < identity->n_algs && identity->algs[a] != alg)
        a++;
    if (a == identity->n_algs)
        return RK_EINVAL;
    if (!has_next_key(realm, alg))
        return RK_ECONFLICT;
    rotation_t *rot = rk_xcalloc(1, sizeof(*rot));
    rot->identity = identity;
    rot->slug = rk_xstrdup(slug);
    rot->tenant_id = rk_xstrdup(realm->tenant_id);
    rot->alg = alg;
    rot->cb = cb;
    rot->arg = arg;
    if (rk_identity_keygen_start(identity->keygen, alg, slug, rotation_generated, rot) == RK_AGAIN)
        return RK_AGAIN;
    rotation_free(rot);
    return RK_EIO;
}

/* --- start-up ------------------------------------------------------------------------------- */

static int parse_algs(rk_identity_t *identity, const char *text)
{
    identity->n_algs = 0;
    for (const char *p = text;;) {
        size_t n = strcspn(p, ",");
        char name[16];
        rk_identity_alg_t alg;
        if (n == 0 || n >= sizeof(name))
            return RK_EINVAL;
        memcpy(name, p, n);
        name[n] = '\0';
        if (rk_identity_alg_parse(name, &alg) != RK_OK)
            return RK_EINVAL;
        for (size_t i = 0; i < identity->n_algs; i++) {
            if (identity->algs[i] == alg)
                return RK_EINVAL;
        }
        identity->algs[identity->n_algs++] = alg;
        if (!p[n])
            return RK_OK;
        p += n + 1;
    }
}

/* Creates missing keys and builds the first realm table over a blocking connection. */
static int load_realms(rk_identity_t *identity, char *why, size_t why_len)
{
    const rk_config_t *cfg = identity->app->cfg;
    PGconn *pg =
        rk_store_connect_blocking(cfg->store_conninfo, cfg->store_connect_timeout_ms, why, why_len);
    if (!pg)
        return RK_EUNAVAILABLE;
    int created = 0;
    int rc = rk_identity_keys_ensure(pg, &identity->master, identity->algs, identity->n_algs,
                                     &created, why, why_len);
    PGresult *rows = NULL;
    if (rc == RK_OK) {
        rows = PQexec(pg, RK_IDENTITY_SQL_REALM_ROWS);
        if (PQresultStatus(rows) != PGRES_TUPLES_OK) {
            snprintf(why, why_len, "identity: reading realm keys: %s", PQresultErrorMessage(rows));
            rc = RK_EUNAVAILABLE;
        }
    }
    if (rc == RK_OK) {
        char err[512] = "";
        identity->realms =
            rk_identity_realms_build(rows, identity->app->public_url, identity->cert_trust != NULL,
                                     &identity->master, err, sizeof(err));
        if (!identity->realms) {
            snprintf(why, why_len, "identity: %s", err);
            rc = RK_EINVAL;
        }
    }
    PQclear(rows);
    PQfinish(pg);
    if (rc == RK_OK)
        rk_log_info("realm keys ready", "{s:I, s:i}", "realms", (json_int_t)identity->realms->n,
                    "keys_created", created);
    return rc;
}

/*
 * What the configuration decides, checked and set up without any I/O but reading the
 * certificate files: the master key and the keys derived from it, the signing algorithms,
 * certificate login's trust. Errors name the setting.
 */
static int configure(rk_identity_t *identity, const rk_config_t *cfg, char *why, size_t why_len)
{
    const char *rule = NULL;
    if (rk_identity_master_key_parse(cfg->identity_master_key, &identity->master, &rule) != RK_OK) {
        snprintf(why, why_len, "config: identity.master_key (RENKEI_MASTER_KEY): %s", rule);
        return RK_EINVAL;
    }
    if (rk_identity_derive_key(&identity->master, "renkei login transaction v1",
                               identity->tx_key) != RK_OK ||
        rk_identity_derive_key(&identity->master, "renkei csrf v1", identity->csrf_key) != RK_OK ||
        rk_identity_derive_key(&identity->master, "renkei pairwise subject v1",
                               identity->pairwise_key) != RK_OK ||
        rk_identity_derive_key(&identity->master, "renkei certificate challenge v1",
                               identity->challenge_key) != RK_OK) {
        snprintf(why, why_len, "identity: cannot derive keys from the master key");
        return RK_EIO;
    }
    if (parse_algs(identity, cfg->identity_signing_algs) != RK_OK) {
        snprintf(why, why_len,
                 "config: identity.signing_algs (RENKEI_SIGNING_ALGS): must be ES256, RS256 or "
                 "both, comma-separated without spaces or repeats; the first is the default");
        return RK_EINVAL;
    }
    if (*cfg->identity_cert_anchors) {
        char err[512] = "";
        identity->cert_trust = rk_identity_cert_trust_load(
            cfg->identity_cert_anchors, *cfg->identity_cert_crl ? cfg->identity_cert_crl : NULL,
            err, sizeof(err));
        if (!identity->cert_trust) {
            snprintf(why, why_len, "config: identity.cert_anchors / identity.cert_crl: %s", err);
            return RK_EINVAL;
        }
    } else if (*cfg->identity_cert_crl) {
        snprintf(why, why_len,
                 "config: identity.cert_crl (RENKEI_CERT_CRL): needs identity.cert_anchors");
        return RK_EINVAL;
    }
    return RK_OK;
}

int rk_identity_check_config(const rk_config_t *cfg, char *why, size_t why_len)
{
    rk_identity_t identity = {0};
    int rc = configure(&identity, cfg, why, why_len);
    rk_identity_cert_trust_free(identity.cert_trust);
    rk_identity_master_key_wipe(&identity.master);
    OPENSSL_cleanse(&identity, sizeof(identity));
    return rc;
}

int rk_identity_register(rk_app_t *app, rk_router_t *router, char *why, size_t why_len)
{
    rk_identity_t *identity = rk_xcalloc(1, sizeof(*identity));
    identity->app = app;
    app->identity = identity;
    int rc = configure(identity, app->cfg, why, why_len);
    if (rc != RK_OK)
        return rc;
    rc = load_realms(identity, why, why_len);
    if (rc != RK_OK)
        return rc;
    identity->clients = rk_identity_clients_new(app->store, app->cfg->identity_refresh_ms);
    identity->workers =
        rk_worker_pool_new(app->base, (unsigned)app->cfg->identity_worker_threads, 1024);
    if (!identity->workers) {
        snprintf(why, why_len, "identity: cannot start the worker threads");
        return RK_EIO;
    }
    identity->keygen = rk_identity_keygen_new(&identity->master, identity->workers);
    identity->throttle = rk_identity_throttle_new(100000);
    identity->refresh_timer = evtimer_new(app->base, refresh_timer_cb, identity);
    rk_store_prepare(app->store, STMT_REALMS, RK_IDENTITY_SQL_REALM_ROWS);
    rk_store_prepare(app->store, STMT_ROTATE, RK_IDENTITY_SQL_ROTATE);
    rk_identity_token_grant_prepare(app->store);
    rk_identity_oauth_register(router);
    rk_identity_authorize_register(identity, router);
    rk_identity_userinfo_register(identity, router);
    rk_identity_logout_register(identity, router);
    rk_identity_admin_register(identity, router);
    rk_identity_account_admin_register(identity, router);
    rk_identity_pupil_admin_register(identity, router);
    rk_identity_registration_register(identity, router);
    app->staff_verify = rk_identity_staff_verify;
    arm_refresh(identity);
    return RK_OK;
}

void rk_identity_free(rk_identity_t *identity)
{
    if (!identity)
        return;
    rk_identity_keygen_free(identity->keygen);
    rk_identity_logout_free(identity->logout);
    rk_worker_pool_free(identity->workers);
    if (identity->refresh_timer)
        event_free(identity->refresh_timer);
    rk_identity_clients_free(identity->clients);
    rk_identity_realms_free(identity->realms);
    rk_identity_throttle_free(identity->throttle);
    rk_identity_cert_trust_free(identity->cert_trust);
    rk_identity_master_key_wipe(&identity->master);
    OPENSSL_cleanse(identity->tx_key, sizeof(identity->tx_key));
    OPENSSL_cleanse(identity->csrf_key, sizeof(identity->csrf_key));
    OPENSSL_cleanse(identity->pairwise_key, sizeof(identity->pairwise_key));
    OPENSSL_cleanse(identity->challenge_key, sizeof(identity->challenge_key));
    free(identity);
}
