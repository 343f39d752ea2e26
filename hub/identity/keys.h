/*
 * keys.h — realm signing keys as material: algorithms, generation, sealing, opening.
 *
 * A realm keeps a chain of keys per algorithm (ES256 on P-256 by default, RS256 with 2048-bit
 * RSA when identity.signing_algs asks for it). A new key gets a random kid; its public JWK
 * (with kid, use "sig" and alg) is stored as it will be published, and its private JWK only
 * sealed under the master key with "slug/kid" as additional authenticated data.
 *
 * Pure functions (CPU only, no I/O): RSA generation takes a good part of a second, so at run
 * time generation happens on a worker thread (keygen.c); start-up calls it directly.
 */
#ifndef RK_IDENTITY_KEYS_H
#define RK_IDENTITY_KEYS_H

#include "identity/master_key.h"

#include <cjose/jwk.h>
#include <stddef.h>

typedef enum {
    RK_IDENTITY_ES256 = 0,
    RK_IDENTITY_RS256,
    RK_IDENTITY_ALG_COUNT,
} rk_identity_alg_t;

#define RK_IDENTITY_KID_LEN 16 /* 12 random bytes in base64url */

/** "ES256" or "RS256". */
const char *rk_identity_alg_name(rk_identity_alg_t alg);
/** RK_OK with *alg for "ES256" or "RS256"; RK_EINVAL for anything else. */
int rk_identity_alg_parse(const char *name, rk_identity_alg_t *alg);

typedef struct rk_identity_new_key {
    rk_identity_alg_t alg;
    char kid[RK_IDENTITY_KID_LEN + 1];
    char *public_jwk;      /* JSON text, as published in the JWKS */
    unsigned char *sealed; /* the private JWK, sealed (master_key.h) */
    size_t sealed_len;
} rk_identity_new_key_t;

/**
 * Generates a key pair for alg in realm slug and seals its private half under master. RK_OK
 * with *out filled (release with rk_identity_new_key_clear()), or RK_EIO with *why.
 * Thread-safe: the worker thread calls it.
 */
int rk_identity_key_generate(rk_identity_alg_t alg, const char *slug,
                             const rk_identity_master_key_t *master, rk_identity_new_key_t *out,
                             const char **why);

/** Frees what rk_identity_key_generate() allocated; *key is zeroed. */
void rk_identity_new_key_clear(rk_identity_new_key_t *key);

/**
 * Opens a sealed private key of realm slug. Returns a JWK the caller releases with
 * cjose_jwk_release(), or NULL with *why when the value does not open under master (wrong
 * master key, or a row altered or moved) or does not hold a JWK.
 */
cjose_jwk_t *rk_identity_key_open(const rk_identity_master_key_t *master, const char *slug,
                                  const char *kid, const unsigned char *sealed, size_t sealed_len,
                                  const char **why);

#endif
