/*
 * secret_text.h — random identifiers and digests as base64url text, and keys derived from the
 * master key.
 *
 * Everything the OpenID provider hands out or compares — client ids and secrets, token ids,
 * session ids, authorization codes, refresh tokens — is random bytes in base64url without
 * padding; what it stores of a secret is its SHA-256. Keys that protect the provider's own
 * state (signed login transactions, CSRF tokens, pairwise subjects) are derived from the master
 * key with HKDF-SHA256, one label each, so one secret is configured and no two uses share a key.
 *
 * Pure functions; used across hub/identity.
 */
#ifndef RK_IDENTITY_SECRET_TEXT_H
#define RK_IDENTITY_SECRET_TEXT_H

#include "core/mem.h"
#include "identity/master_key.h"

#include <stddef.h>

#define RK_IDENTITY_B64_LEN(n) ((((n)*4) + 2) / 3) /* base64url length of n bytes, no padding */
#define RK_IDENTITY_SHA256_TEXT_LEN 43             /* RK_IDENTITY_B64_LEN(32) */
#define RK_IDENTITY_DERIVED_KEY_LEN 32

/**
 * Writes random_bytes (at most 64) fresh random bytes as base64url into out, which holds
 * RK_IDENTITY_B64_LEN(random_bytes) + 1 bytes. RK_OK or RK_EIO.
 */
int rk_identity_random_text(char *out, size_t random_bytes);

/** base64url of bytes[0..len) into out (RK_IDENTITY_B64_LEN(len) + 1 bytes; len at most 64). */
void rk_identity_b64url(const unsigned char *bytes, size_t len, char *out);

/**
 * Decodes base64 strictly, as libraries that assert on malformed input must never see it
 * (cjose's decoder aborts the process on some inputs): url selects base64url (A-Z a-z 0-9 - _,
 * no padding) or standard base64 (A-Z a-z 0-9 + /, padding "=" only at the end and only to a
 * multiple of four). len % 4 == 1 and stray characters are refused. RK_OK with *out (in the
 * arena, NUL-terminated for convenience) and *out_len, or RK_EINVAL.
 */
int rk_identity_b64_decode(rk_arena_t *arena, const char *text, size_t len, int url,
                           unsigned char **out, size_t *out_len);

/** 1 if text[0..len) is base64url that rk_identity_b64_decode() accepts. */
int rk_identity_b64url_ok(const char *text, size_t len);

/**
 * 1 if token[0..len) has the shape of a compact JWS: three base64url parts (the signature may
 * be empty) separated by dots. Check this before handing untrusted text to cjose_jws_import().
 */
int rk_identity_jws_shape_ok(const char *token, size_t len);

/** base64url(SHA-256(text)) into out: the PKCE S256 transform (RFC 7636 §4.2). */
void rk_identity_sha256_text(const char *text, size_t len,
                             char out[RK_IDENTITY_SHA256_TEXT_LEN + 1]);

/** Lower-case hex of SHA-256(text): how codes and refresh tokens are looked up in PostgreSQL. */
void rk_identity_sha256_hex(const char *text, size_t len, char out[65]);

/** base64url(HMAC-SHA256(key, data)) into out. */
void rk_identity_hmac_text(const unsigned char key[RK_IDENTITY_DERIVED_KEY_LEN], const void *data,
                           size_t len, char out[RK_IDENTITY_SHA256_TEXT_LEN + 1]);

/** 1 if the NUL-terminated strings a and b are equal, in time independent of their content. */
int rk_identity_text_equal(const char *a, const char *b);

/** HKDF-SHA256 of the master key with label as info into out. RK_OK or RK_EIO. */
int rk_identity_derive_key(const rk_identity_master_key_t *master, const char *label,
                           unsigned char out[RK_IDENTITY_DERIVED_KEY_LEN]);

#endif
