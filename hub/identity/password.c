/*
 * password.c — the password policy, and argon2id through libargon2 (see password.h).
 *
 * libargon2 does the hashing, the PHC encoding and decoding, and the constant-time
 * comparison. What it leaves to us: the salt (OpenSSL's generator), refusing other variants
 * (argon2_verify() would follow the string's own "$argon2i$"), and bounding the cost read
 * from a stored string before argon2 allocates m KiB and runs t passes over it.
 */
#include "identity/password.h"

#include "core/error.h"

#include <argon2.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define SALT_LEN 16
#define TAG_LEN 32
#define PREFIX "$argon2id$v=19$"

/* Length of the well-formed UTF-8 character at s (n bytes available), or 0 when malformed:
 * truncated, overlong, a surrogate or above U+10FFFF. *cp receives its code point. */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t min;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    } else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2, min = 0x80, *cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3, min = 0x800, *cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4, min = 0x10000, *cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return len;
}

int rk_identity_password_policy(const char *password, size_t len, const char **why)
{
    if (len < RK_IDENTITY_PASSWORD_MIN) {
        *why = "password: must be at least 8 bytes";
        return RK_EINVAL;
    }
    if (len > RK_IDENTITY_PASSWORD_MAX) {
        *why = "password: must be at most 256 bytes";
        return RK_EINVAL;
    }
    const unsigned char *p = (const unsigned char *)password;
    int control = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_char(p + i, len - i, &cp);
        if (n == 0) {
            *why = "password: must be valid UTF-8";
            return RK_EINVAL;
        }
        control |= cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
        i += n;
    }
    if (control) {
        *why = "password: must not contain control characters";
        return RK_EINVAL;
    }
    return RK_OK;
}

static int encode(const char *password, size_t len, const unsigned char salt[SALT_LEN],
                  char out[RK_IDENTITY_PASSWORD_HASH_MAX])
{
    int rc = argon2id_hash_encoded(RK_IDENTITY_ARGON2_T, RK_IDENTITY_ARGON2_M_KIB,
                                   RK_IDENTITY_ARGON2_P, password ? password : "", len, salt,
                                   SALT_LEN, TAG_LEN, out, RK_IDENTITY_PASSWORD_HASH_MAX);
    if (rc != ARGON2_OK) {
        out[0] = '\0';
        return RK_EIO;
    }
    return RK_OK;
}

int rk_identity_password_hash(const char *password, size_t len,
                              char out[RK_IDENTITY_PASSWORD_HASH_MAX])
{
    const char *why;
    out[0] = '\0';
    if (rk_identity_password_policy(password, len, &why) != RK_OK)
        return RK_EINVAL;
    unsigned char salt[SALT_LEN];
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return RK_EIO;
    return encode(password, len, salt, out);
}

/* Reads "name=<decimal>" at *p into *value, advancing *p; 0 unless min ≤ value ≤ max. */
static int read_param(const char **p, char name, uint32_t min, uint32_t max, uint32_t *value)
{
    const char *s = *p;
    if (s[0] != name || s[1] != '=' || s[2] < '0' || s[2] > '9')
        return 0;
    uint64_t v = 0;
    for (s += 2; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > max)
            return 0;
    }
    if (v < min)
        return 0;
    *value = (uint32_t)v;
    *p = s;
    return 1;
}

/* Whether encoded is an argon2id v=19 string with bounded cost; argon2 checks the rest. */
static int encoded_acceptable(const char *encoded)
{
    if (!encoded ||
        strnlen(encoded, RK_IDENTITY_PASSWORD_HASH_MAX) >= RK_IDENTITY_PASSWORD_HASH_MAX)
        return 0;
    if (strncmp(encoded, PREFIX, strlen(PREFIX)) != 0)
        return 0;
    const char *p = encoded + strlen(PREFIX);
    uint32_t m, t, parallel;
    return read_param(&p, 'm', 8, RK_IDENTITY_ARGON2_VERIFY_M_MAX, &m) && *p++ == ',' &&
           read_param(&p, 't', 1, RK_IDENTITY_ARGON2_VERIFY_T_MAX, &t) && *p++ == ',' &&
           read_param(&p, 'p', 1, RK_IDENTITY_ARGON2_VERIFY_P_MAX, &parallel) && *p == '$';
}

int rk_identity_password_verify(const char *encoded, const char *password, size_t len)
{
    if (!encoded_acceptable(encoded))
        return RK_EINVAL;
    if (len > RK_IDENTITY_PASSWORD_MAX)
        return 0;
    switch (argon2id_verify(encoded, password ? password : "", len)) {
    case ARGON2_OK:
        return 1;
    case ARGON2_VERIFY_MISMATCH:
        return 0;
    case ARGON2_MEMORY_ALLOCATION_ERROR:
    case ARGON2_THREAD_FAIL:
        return RK_EIO;
    default:
        return RK_EINVAL;
    }
}

static char dummy_hash[RK_IDENTITY_PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

/* The dummy's salt need not be random: no one's password is checked against it. If argon2
 * cannot allocate, the dummy stays empty and verifying against it fails fast, as real
 * verifications then do too. */
static void make_dummy(void)
{
    static const unsigned char salt[SALT_LEN] = "renkei-no-user!";
    static const char password[] = "no account has this password";
    encode(password, sizeof(password) - 1, salt, dummy_hash);
}

void rk_identity_password_verify_dummy(const char *password, size_t len)
{
    pthread_once(&dummy_once, make_dummy);
    (void)rk_identity_password_verify(dummy_hash, password, len);
}
