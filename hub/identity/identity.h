/*
 * identity.h — the OpenID provider module: every tenant a realm with its own issuer
 * ({public_url}/t/{slug}), signing keys and OAuth clients.
 *
 * What runs so far (hub/identity/README.md has the design): per-realm discovery, JWKS, the
 * token endpoint for client_credentials (RFC 9068 JWT access tokens, client_secret_basic and
 * client_secret_post), introspection (RFC 7662), and the admin endpoints for key rotation
 * and clients.
 *
 * Start-up (rk_identity_register(), before the loop, may block): reads the master key, makes
 * sure every realm has an active and a next key for each algorithm of identity.signing_algs,
 * and builds the realm table with the active keys opened in memory. While running, the
 * table is re-read every identity.refresh_ms and rebuilt only when its keys changed.
 *
 * main.c registers the module and frees it after the store (store callbacks still in flight
 * at shutdown reach a live module).
 */
#ifndef RK_IDENTITY_IDENTITY_H
#define RK_IDENTITY_IDENTITY_H

#include "app.h"
#include "core/worker.h"
#include "identity/client.h"
#include "identity/keygen.h"
#include "identity/keys.h"
#include "identity/master_key.h"
#include "identity/realm.h"
#include "identity/secret_text.h"
#include "net/router.h"

#include <stddef.h>
#include <stdint.h>

struct event;

typedef struct rk_identity {
    rk_app_t *app;
    rk_identity_master_key_t master;
    rk_identity_alg_t algs[RK_IDENTITY_ALG_COUNT]; /* identity.signing_algs; algs[0] default */
    size_t n_algs;
    rk_identity_realms_t *realms; /* replaced whole when keys change; never NULL once running */
    rk_identity_clients_t *clients;
    rk_identity_keygen_t *keygen;
    rk_worker_pool_t *workers;             /* CPU-heavy jobs: key generation, password hashing */
    struct rk_identity_throttle *throttle; /* failed logins */
    struct rk_identity_logout *logout;     /* logout.c: its tx key, back-channel deliveries */
    struct rk_identity_cert_trust *cert_trust; /* certificate login's anchors, or NULL: off */
    /* Keys derived from the master key (secret_text.h), one per use. */
    unsigned char tx_key[RK_IDENTITY_DERIVED_KEY_LEN];        /* signed login transactions */
    unsigned char csrf_key[RK_IDENTITY_DERIVED_KEY_LEN];      /* CSRF tokens of the pages */
    unsigned char pairwise_key[RK_IDENTITY_DERIVED_KEY_LEN];  /* pairwise subjects */
    unsigned char challenge_key[RK_IDENTITY_DERIVED_KEY_LEN]; /* certificate login challenges */
    struct event *refresh_timer;
    int refreshing;           /* a periodic refresh is in flight */
    uint64_t refresh_started; /* sequence of refresh queries sent */
    uint64_t refresh_applied; /* newest sequence whose rows were applied */
} rk_identity_t;

/**
 * Sets up the module (app->identity), runs the blocking start-up work and adds the routes.
 * RK_OK, or an error with why: a missing or malformed master key names identity.master_key
 * and RENKEI_MASTER_KEY. On error app->identity may be set: free it with rk_identity_free().
 */
int rk_identity_register(rk_app_t *app, rk_router_t *router, char *why, size_t why_len);

/**
 * Checks what the configuration decides for the identity module without starting it (for
 * renkeid --check-config): the master key, identity.signing_algs, identity.cert_anchors and
 * identity.cert_crl. RK_OK, or an error with why naming the setting.
 */
int rk_identity_check_config(const rk_config_t *cfg, char *why, size_t why_len);

/** Frees the module; waits for key generation threads. NULL is allowed. */
void rk_identity_free(rk_identity_t *identity);

/**
 * Called when a rotation ends: RK_OK with the chain as JSON text ({"alg", "active", "next",
 * "retired": [...]}, valid during the call), or an error with why: RK_ECONFLICT (the chain
 * has no next key), RK_EUNAVAILABLE (PostgreSQL), RK_EIO (key generation).
 */
typedef void (*rk_identity_rotate_cb)(int status, const char *chain, const char *why, void *arg);

/**
 * Rotates the alg chain of realm slug: next becomes active (it has been published since it
 * was made), active is retired (published for identity.retired_key_days more, for
 * verification only, so receipts and tokens it signed still verify), and a new next key is
 * generated off the loop. When cb
 * runs, this hub already serves the new JWKS and signs with the new active key; other hubs
 * follow within identity.refresh_ms. Returns RK_AGAIN (cb follows), or at once RK_ENOTFOUND
 * (no such realm), RK_EINVAL (alg is not in identity.signing_algs), RK_ECONFLICT (the realm
 * has no next key of alg) or RK_EIO (no worker thread).
 */
int rk_identity_rotate(rk_identity_t *identity, const char *slug, rk_identity_alg_t alg,
                       rk_identity_rotate_cb cb, void *arg);

/** The realm with this slug now, or NULL. Valid until control returns to the loop. */
const rk_identity_realm_t *rk_identity_realm(const rk_identity_t *identity, const char *slug);

#endif
