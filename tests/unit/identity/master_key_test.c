/*
 * master_key_test.c — hub/identity/master_key.c: the master key's two text forms and every
 * wrong one, and AES-256-GCM sealing: round trip, fresh nonces, and refusal of anything
 * altered (ciphertext, tag, nonce, additional data, key, length).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "identity/master_key.h"

#include <string.h>

#define HEX_KEY "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define B64_KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static void expect_bytes_0_to_31(const rk_identity_master_key_t *key)
{
    for (int i = 0; i < RK_IDENTITY_MASTER_KEY_LEN; i++)
        assert_int_equal(key->bytes[i], i);
}

static void parses_hex_and_base64(void **state)
{
    (void)state;
    rk_identity_master_key_t key;
    const char *why = NULL;
    assert_int_equal(rk_identity_master_key_parse(HEX_KEY, &key, &why), RK_OK);
    expect_bytes_0_to_31(&key);
    assert_int_equal(
        rk_identity_master_key_parse(
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", &key, &why),
        RK_OK);
    expect_bytes_0_to_31(&key);
    assert_int_equal(rk_identity_master_key_parse(B64_KEY, &key, &why), RK_OK);
    expect_bytes_0_to_31(&key);
    rk_identity_master_key_wipe(&key);
    for (int i = 0; i < RK_IDENTITY_MASTER_KEY_LEN; i++)
        assert_int_equal(key.bytes[i], 0);
}

static void expect_refused(const char *text, const char *rule_part)
{
    rk_identity_master_key_t key;
    const char *why = NULL;
    memset(&key, 0xab, sizeof(key));
    assert_int_equal(rk_identity_master_key_parse(text, &key, &why), RK_EINVAL);
    assert_non_null(why);
    if (!strstr(why, rule_part))
        fail_msg("for '%s': '%s' does not say '%s'", text ? text : "(null)", why, rule_part);
    for (int i = 0; i < RK_IDENTITY_MASTER_KEY_LEN; i++)
        assert_int_equal(key.bytes[i], 0);
}

static void refuses_wrong_lengths_and_forms(void **state)
{
    (void)state;
    expect_refused(NULL, "is required");
    expect_refused("", "is required");
    /* 31 and 33 bytes of hex: the rule names the 64 characters hex needs. */
    expect_refused("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e", "64 hex");
    expect_refused(HEX_KEY "20", "64 hex");
    expect_refused("abc", "64 hex");
    /* base64 of 31 and 33 bytes, and of 32 bytes without its padding. */
    expect_refused("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", "44 characters");
    expect_refused("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", "44 characters");
    expect_refused("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "44 characters");
    /* Not canonical: cjose's lenient decoder alone would read it as something else. */
    expect_refused("AA==ECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "44 characters");
    expect_refused(HEX_KEY " ", "44 characters");
    expect_refused("this is not a key at all, this is not a key", "44 characters");
}

static const rk_identity_master_key_t *test_key(void)
{
    static rk_identity_master_key_t key;
    const char *why;
    assert_int_equal(rk_identity_master_key_parse(HEX_KEY, &key, &why), RK_OK);
    return &key;
}

static const char plain[] = "{\"kty\":\"EC\",\"d\":\"secret-part\"}";
static const char aad[] = "kodaira/kid123";

static int contains(const unsigned char *buf, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(buf + i, needle, n) == 0)
            return 1;
    }
    return 0;
}

static size_t seal(unsigned char *out)
{
    assert_int_equal(rk_identity_seal(test_key(), aad, strlen(aad), plain, strlen(plain), out),
                     RK_OK);
    return strlen(plain) + RK_IDENTITY_SEAL_OVERHEAD;
}

static void round_trip(void **state)
{
    (void)state;
    unsigned char sealed[128], again[128], opened[128];
    size_t len = seal(sealed);
    assert_false(contains(sealed, len, "secret-part"));
    assert_int_equal(rk_identity_open(test_key(), aad, strlen(aad), sealed, len, opened), RK_OK);
    assert_memory_equal(opened, plain, strlen(plain));
    /* A fresh nonce each time: sealing the same text twice gives different bytes. */
    seal(again);
    assert_memory_not_equal(sealed, again, RK_IDENTITY_SEAL_NONCE_LEN);
    assert_memory_not_equal(sealed + RK_IDENTITY_SEAL_NONCE_LEN, again + RK_IDENTITY_SEAL_NONCE_LEN,
                            strlen(plain));
    /* Empty plain text seals to the overhead alone and opens again. */
    assert_int_equal(rk_identity_seal(test_key(), aad, strlen(aad), "", 0, sealed), RK_OK);
    assert_int_equal(
        rk_identity_open(test_key(), aad, strlen(aad), sealed, RK_IDENTITY_SEAL_OVERHEAD, opened),
        RK_OK);
}

static void expect_tamper_refused(size_t flip_at)
{
    unsigned char sealed[128], opened[128];
    size_t len = seal(sealed);
    sealed[flip_at] ^= 0x01;
    memset(opened, 0x55, sizeof(opened));
    assert_int_equal(rk_identity_open(test_key(), aad, strlen(aad), sealed, len, opened),
                     RK_EINVAL);
    for (size_t i = 0; i < strlen(plain); i++)
        assert_int_equal(opened[i], 0);
}

static void detects_tampering(void **state)
{
    (void)state;
    size_t len = strlen(plain) + RK_IDENTITY_SEAL_OVERHEAD;
    expect_tamper_refused(0);                              /* nonce */
    expect_tamper_refused(RK_IDENTITY_SEAL_NONCE_LEN);     /* first ciphertext byte */
    expect_tamper_refused(RK_IDENTITY_SEAL_NONCE_LEN + 5); /* ciphertext */
    expect_tamper_refused(len - 1);                        /* tag */

    unsigned char sealed[128], opened[128];
    seal(sealed);
    const char other_aad[] = "chofu/kid123";
    assert_int_equal(
        rk_identity_open(test_key(), other_aad, strlen(other_aad), sealed, len, opened), RK_EINVAL);
    rk_identity_master_key_t other;
    const char *why;
    assert_int_equal(
        rk_identity_master_key_parse(
            "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &other, &why),
        RK_OK);
    assert_int_equal(rk_identity_open(&other, aad, strlen(aad), sealed, len, opened), RK_EINVAL);
    assert_int_equal(rk_identity_open(test_key(), aad, strlen(aad), sealed, len - 1, opened),
                     RK_EINVAL);
    assert_int_equal(rk_identity_open(test_key(), aad, strlen(aad), sealed,
                                      RK_IDENTITY_SEAL_OVERHEAD - 1, opened),
                     RK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_hex_and_base64),
        cmocka_unit_test(refuses_wrong_lengths_and_forms),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(detects_tampering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
