/*
 * master_key.h — the master key and the AES-256-GCM sealing of realm private keys under it.
 *
 * Realm signing keys live in PostgreSQL; their private halves are stored sealed, never in
 * clear. The master key (identity.master_key / RENKEI_MASTER_KEY: 32 bytes written as 64 hex
 * characters or as standard base64) stays in the hub's memory only. A sealed value is
 * nonce (12 random bytes, fresh for every seal) || ciphertext || tag (16 bytes); the caller's
 * additional authenticated data binds it to its place (the realm slug and key id), so a row
 * copied to another realm or key id does not open.
 *
 * Pure functions, no I/O: used at start-up (key_store.c), by the key generation worker
 * thread and when the realm table is rebuilt (realm.c).
 */
#ifndef RK_IDENTITY_MASTER_KEY_H
#define RK_IDENTITY_MASTER_KEY_H

#include <stddef.h>

#define RK_IDENTITY_MASTER_KEY_LEN 32
#define RK_IDENTITY_SEAL_NONCE_LEN 12
#define RK_IDENTITY_SEAL_TAG_LEN 16
#define RK_IDENTITY_SEAL_OVERHEAD (RK_IDENTITY_SEAL_NONCE_LEN + RK_IDENTITY_SEAL_TAG_LEN)

typedef struct rk_identity_master_key {
    unsigned char bytes[RK_IDENTITY_MASTER_KEY_LEN];
} rk_identity_master_key_t;

/**
 * Parses the configured text: exactly 64 hex digits, or the 44-character standard base64 of
 * 32 bytes (`openssl rand -hex 32`, `openssl rand -base64 32`). On failure returns RK_EINVAL
 * with *why a static sentence giving the rule (never the value); key is then wiped.
 */
int rk_identity_master_key_parse(const char *text, rk_identity_master_key_t *key, const char **why);

/** Overwrites the key (OPENSSL_cleanse). */
void rk_identity_master_key_wipe(rk_identity_master_key_t *key);

/**
 * Seals len bytes of plain into out, which must hold len + RK_IDENTITY_SEAL_OVERHEAD bytes.
 * aad is authenticated, not stored. RK_OK, or RK_EIO if OpenSSL fails.
 */
int rk_identity_seal(const rk_identity_master_key_t *key, const void *aad, size_t aad_len,
                     const void *plain, size_t len, unsigned char *out);

/**
 * Opens sealed (as made by rk_identity_seal with the same key and aad) into plain, which must
 * hold sealed_len - RK_IDENTITY_SEAL_OVERHEAD bytes. RK_EINVAL when the value is too short,
 * was altered, or the key or aad differ: nothing of plain may be used then (it is zeroed).
 */
int rk_identity_open(const rk_identity_master_key_t *key, const void *aad, size_t aad_len,
                     const unsigned char *sealed, size_t sealed_len, unsigned char *plain);

#endif
