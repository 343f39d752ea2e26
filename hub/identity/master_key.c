/*
 * master_key.c — master key parsing and AES-256-GCM sealing (see master_key.h).
 *
 * OpenSSL's EVP interface does the cipher; secret_text.c's base64 and OpenSSL's hex decoder do
 * the text forms. The base64 form is decoded strictly (secret_text.c: canonical text only, no stray
 * bits or padding): a key that is not exactly what the operator meant must be refused, not
 * silently read as something else.
 */
#include "identity/master_key.h"

#include "core/error.h"
#include "core/mem.h"
#include "identity/secret_text.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

static int all_hex(const char *text)
{
    for (const char *c = text; *c; c++) {
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || (*c >= 'A' && *c <= 'F')))
            return 0;
    }
    return 1;
}

static int parse_base64(const char *text, rk_identity_master_key_t *key)
{
    rk_arena_t *arena = rk_arena_new();
    unsigned char *bytes = NULL;
    size_t n = 0;
    /* Strict: canonical standard base64 only (rk_identity_b64_decode refuses stray bits). */
    int ok = rk_identity_b64_decode(arena, text, strlen(text), 0, &bytes, &n) == RK_OK &&
             n == RK_IDENTITY_MASTER_KEY_LEN;
    if (ok)
        memcpy(key->bytes, bytes, RK_IDENTITY_MASTER_KEY_LEN);
    if (bytes)
        OPENSSL_cleanse(bytes, n);
    rk_arena_free(arena);
    return ok;
}

int rk_identity_master_key_parse(const char *text, rk_identity_master_key_t *key, const char **why)
{
    size_t len = text ? strlen(text) : 0;
    rk_identity_master_key_wipe(key);
    if (len == 0) {
        *why = "is required: 32 random bytes as 64 hex characters or base64 "
               "(openssl rand -hex 32)";
        return RK_EINVAL;
    }
    if (all_hex(text)) {
        size_t n = 0;
        if (len == 2 * RK_IDENTITY_MASTER_KEY_LEN &&
            OPENSSL_hexstr2buf_ex(key->bytes, sizeof(key->bytes), &n, text, '\0') == 1 &&
            n == RK_IDENTITY_MASTER_KEY_LEN)
            return RK_OK;
        rk_identity_master_key_wipe(key);
        *why = "must be 32 bytes: as hex it needs exactly 64 hex characters";
        return RK_EINVAL;
    }
    if (parse_base64(text, key))
        return RK_OK;
    rk_identity_master_key_wipe(key);
    *why = "must be 32 bytes written as 64 hex characters or as 44 characters of standard base64";
    return RK_EINVAL;
}

void rk_identity_master_key_wipe(rk_identity_master_key_t *key)
{
    OPENSSL_cleanse(key->bytes, sizeof(key->bytes));
}

int rk_identity_seal(const rk_identity_master_key_t *key, const void *aad, size_t aad_len,
                     const void *plain, size_t len, unsigned char *out)
{
    unsigned char *nonce = out;
    unsigned char *cipher = out + RK_IDENTITY_SEAL_NONCE_LEN;
    unsigned char *tag = cipher + len;
    int n = 0, rc = RK_EIO;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx || RAND_bytes(nonce, RK_IDENTITY_SEAL_NONCE_LEN) != 1 ||
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->bytes, nonce) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1 ||
        EVP_EncryptUpdate(ctx, cipher, &n, plain, (int)len) != 1 ||
        EVP_EncryptFinal_ex(ctx, cipher + n, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, RK_IDENTITY_SEAL_TAG_LEN, tag) != 1)
        goto out;
    rc = RK_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

int rk_identity_open(const rk_identity_master_key_t *key, const void *aad, size_t aad_len,
                     const unsigned char *sealed, size_t sealed_len, unsigned char *plain)
{
    if (sealed_len < RK_IDENTITY_SEAL_OVERHEAD)
        return RK_EINVAL;
    size_t len = sealed_len - RK_IDENTITY_SEAL_OVERHEAD;
    const unsigned char *nonce = sealed;
    const unsigned char *cipher = sealed + RK_IDENTITY_SEAL_NONCE_LEN;
    unsigned char tag[RK_IDENTITY_SEAL_TAG_LEN];
    memcpy(tag, cipher + len, sizeof(tag));
    int n = 0, rc = RK_EINVAL;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->bytes, nonce) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1 ||
        EVP_DecryptUpdate(ctx, plain, &n, cipher, (int)len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, sizeof(tag), tag) != 1 ||
        EVP_DecryptFinal_ex(ctx, plain + n, &n) != 1) {
        OPENSSL_cleanse(plain, len);
        goto out;
    }
    rc = RK_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}
