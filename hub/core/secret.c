/*
 * secret.c — constant-time secret comparison (see secret.h).
 */
#include "core/secret.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

int rk_secret_equal(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)a, strlen(a), da);
    SHA256((const unsigned char *)b, strlen(b), db);
    int equal = CRYPTO_memcmp(da, db, sizeof(da)) == 0;
    OPENSSL_cleanse(da, sizeof(da));
    OPENSSL_cleanse(db, sizeof(db));
    return equal;
}
