/*
 * secret_text.c — random identifiers, digests and derived keys as text (see secret_text.h).
 */
#include "identity/secret_text.h"

#include "core/error.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void rk_identity_b64url(const unsigned char *bytes, size_t len, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)bytes[i] << 16 | (unsigned)bytes[i + 1] << 8 | bytes[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)bytes[i] << 16;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)bytes[i] << 16 | (unsigned)bytes[i + 1] << 8;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
}

/* The value of a base64 character, or -1. */
static int b64_value(unsigned char c, int url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

int rk_identity_b64_decode(rk_arena_t *arena, const char *text, size_t len, int url,
                           unsigned char **out, size_t *out_len)
{
    size_t data = len;
    if (!url && len % 4 == 0) {
        while (data > 0 && len - data < 2 && text[data - 1] == '=')
            data--;
    } else if (!url && len % 4 != 0) {
        return RK_EINVAL; /* standard base64 comes padded */
    }
    if (data % 4 == 1)
        return RK_EINVAL;
    unsigned char *bytes = rk_arena_alloc(arena, data * 3 / 4 + 2);
    size_t n = 0;
    uint32_t packed = 0;
    for (size_t i = 0; i < data; i++) {
        int v = b64_value((unsigned char)text[i], url);
        if (v < 0)
            return RK_EINVAL;
        packed = packed << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            bytes[n++] = (unsigned char)(packed >> 16);
            bytes[n++] = (unsigned char)(packed >> 8);
            bytes[n++] = (unsigned char)packed;
            packed = 0;
        }
    }
    if (data % 4 == 2) {
        if (packed & 0xf)
            return RK_EINVAL; /* bits that no byte holds: not the canonical text */
        bytes[n++] = (unsigned char)(packed >> 4);
    } else if (data % 4 == 3) {
        if (packed & 0x3)
            return RK_EINVAL;
        bytes[n++] = (unsigned char)(packed >> 10);
        bytes[n++] = (unsigned char)(packed >> 2);
    }
    bytes[n] = '\0';
    *out = bytes;
    *out_len = n;
    return RK_OK;
}

int rk_identity_b64url_ok(const char *text, size_t len)
{
    if (len % 4 == 1)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (b64_value((unsigned char)text[i], 1) < 0)
            return 0;
    }
    /* Canonical: the bits past the last whole byte are zero (one text per byte string). */
    int last = len ? b64_value((unsigned char)text[len - 1], 1) : 0;
    return len % 4 == 2 ? (last & 0xf) == 0 : len % 4 == 3 ? (last & 0x3) == 0 : 1;
}

int rk_identity_jws_shape_ok(const char *token, size_t len)
{
    const char *end = token + len;
    const char *first = memchr(token, '.', len);
    const char *second = first ? memchr(first + 1, '.', (size_t)(end - first - 1)) : NULL;
    return second && !memchr(second + 1, '.', (size_t)(end - second - 1)) && first > token &&
           second > first + 1 && rk_identity_b64url_ok(token, (size_t)(first - token)) &&
           rk_identity_b64url_ok(first + 1, (size_t)(second - first - 1)) &&
           rk_identity_b64url_ok(second + 1, (size_t)(end - second - 1));
}

int rk_identity_random_text(char *out, size_t random_bytes)
{
    unsigned char raw[64];
    if (random_bytes > sizeof(raw) || RAND_bytes(raw, (int)random_bytes) != 1)
        return RK_EIO;
    rk_identity_b64url(raw, random_bytes, out);
    OPENSSL_cleanse(raw, sizeof(raw));
    return RK_OK;
}

void rk_identity_sha256_text(const char *text, size_t len,
                             char out[RK_IDENTITY_SHA256_TEXT_LEN + 1])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, len, digest);
    rk_identity_b64url(digest, sizeof(digest), out);
}

void rk_identity_sha256_hex(const char *text, size_t len, char out[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, len, digest);
    for (size_t i = 0; i < sizeof(digest); i++) {
        out[2 * i] = digits[digest[i] >> 4];
        out[2 * i + 1] = digits[digest[i] & 15];
    }
    out[64] = '\0';
}

void rk_identity_hmac_text(const unsigned char key[RK_IDENTITY_DERIVED_KEY_LEN], const void *data,
                           size_t len, char out[RK_IDENTITY_SHA256_TEXT_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    HMAC(EVP_sha256(), key, RK_IDENTITY_DERIVED_KEY_LEN, data, len, mac, &mac_len);
    rk_identity_b64url(mac, 32, out);
}

int rk_identity_text_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

int rk_identity_derive_key(const rk_identity_master_key_t *master, const char *label,
                           unsigned char out[RK_IDENTITY_DERIVED_KEY_LEN])
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)master->bytes,
                                          sizeof(master->bytes)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)label, strlen(label)),
        OSSL_PARAM_construct_end(),
    };
    int ok = ctx && EVP_KDF_derive(ctx, out, RK_IDENTITY_DERIVED_KEY_LEN, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok ? RK_OK : RK_EIO;
}
