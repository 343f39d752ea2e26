/*
 * keys.c — generating, sealing and opening realm signing keys with cjose (see keys.h).
 */
#include "identity/keys.h"

#include "core/error.h"
#include "core/mem.h"

#include <cjose/base64.h>
#include <cjose/util.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define RSA_BITS 2048

static const char *const alg_names[RK_IDENTITY_ALG_COUNT] = {"ES256", "RS256"};

const char *rk_identity_alg_name(rk_identity_alg_t alg)
{
    return alg_names[alg];
}

int rk_identity_alg_parse(const char *name, rk_identity_alg_t *alg)
{
    for (int i = 0; i < RK_IDENTITY_ALG_COUNT; i++) {
        if (name && strcmp(name, alg_names[i]) == 0) {
            *alg = (rk_identity_alg_t)i;
            return RK_OK;
        }
    }
    return RK_EINVAL;
}

/* The additional authenticated data of a sealed key: "slug/kid". */
static size_t aad_of(char *buf, size_t size, const char *slug, const char *kid)
{
    int n = snprintf(buf, size, "%s/%s", slug, kid);
    return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

static int new_kid(char kid[RK_IDENTITY_KID_LEN + 1])
{
    unsigned char raw[RK_IDENTITY_KID_LEN * 3 / 4];
    char *encoded = NULL;
    size_t len = 0;
    if (RAND_bytes(raw, sizeof(raw)) != 1 ||
        !cjose_base64url_encode(raw, sizeof(raw), &encoded, &len, NULL))
        return RK_EIO;
    memcpy(kid, encoded, RK_IDENTITY_KID_LEN);
    kid[RK_IDENTITY_KID_LEN] = '\0';
    cjose_get_dealloc()(encoded);
    return RK_OK;
}

/* The public JWK as published: cjose's public members plus use and alg. */
static char *public_json(const cjose_jwk_t *jwk, rk_identity_alg_t alg)
{
    char *text = cjose_jwk_to_json(jwk, false, NULL);
    json_t *obj = text ? json_loads(text, 0, NULL) : NULL;
    char *out = NULL;
    if (obj) {
        json_object_set_new(obj, "use", json_string("sig"));
        json_object_set_new(obj, "alg", json_string(alg_names[alg]));
        out = json_dumps(obj, JSON_COMPACT);
    }
    json_decref(obj);
    cjose_get_dealloc()(text);
    return out;
}

int rk_identity_key_generate(rk_identity_alg_t alg, const char *slug,
                             const rk_identity_master_key_t *master, rk_identity_new_key_t *out,
                             const char **why)
{
    static const uint8_t rsa_exponent[] = {0x01, 0x00, 0x01};
    memset(out, 0, sizeof(*out));
    out->alg = alg;
    char *private_text = NULL;
    int rc = RK_EIO;
    cjose_jwk_t *jwk =
        alg == RK_IDENTITY_ES256
            ? cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, NULL)
            : cjose_jwk_create_RSA_random(RSA_BITS, rsa_exponent, sizeof(rsa_exponent), NULL);
    char aad[128];
    size_t aad_len = 0;
    if (!jwk || new_kid(out->kid) != RK_OK ||
        !cjose_jwk_set_kid(jwk, out->kid, RK_IDENTITY_KID_LEN, NULL) ||
        !(aad_len = aad_of(aad, sizeof(aad), slug, out->kid))) {
        *why = "cannot generate a key pair";
        goto out;
    }
    out->public_jwk = public_json(jwk, alg);
    private_text = cjose_jwk_to_json(jwk, true, NULL);
    if (!out->public_jwk || !private_text) {
        *why = "cannot serialise the key pair";
        goto out;
    }
    size_t len = strlen(private_text);
    out->sealed_len = len + RK_IDENTITY_SEAL_OVERHEAD;
    out->sealed = rk_xmalloc(out->sealed_len);
    if (rk_identity_seal(master, aad, aad_len, private_text, len, out->sealed) != RK_OK) {
        *why = "cannot seal the private key";
        goto out;
    }
    rc = RK_OK;
out:
    if (private_text) {
        OPENSSL_cleanse(private_text, strlen(private_text));
        cjose_get_dealloc()(private_text);
    }
    cjose_jwk_release(jwk);
    if (rc != RK_OK)
        rk_identity_new_key_clear(out);
    return rc;
}

void rk_identity_new_key_clear(rk_identity_new_key_t *key)
{
    free(key->public_jwk);
    free(key->sealed);
    memset(key, 0, sizeof(*key));
}

cjose_jwk_t *rk_identity_key_open(const rk_identity_master_key_t *master, const char *slug,
                                  const char *kid, const unsigned char *sealed, size_t sealed_len,
                                  const char **why)
{
    char aad[128];
    size_t aad_len = aad_of(aad, sizeof(aad), slug, kid);
    if (!aad_len || sealed_len < RK_IDENTITY_SEAL_OVERHEAD) {
        *why = "the sealed key is malformed";
        return NULL;
    }
    size_t len = sealed_len - RK_IDENTITY_SEAL_OVERHEAD;
    unsigned char *plain = rk_xmalloc(len + 1);
    cjose_jwk_t *jwk = NULL;
    if (rk_identity_open(master, aad, aad_len, sealed, sealed_len, plain) != RK_OK) {
        *why = "it does not open with identity.master_key (RENKEI_MASTER_KEY): the master key "
               "differs from the one that sealed it, or the row was altered";
    } else if (!(jwk = cjose_jwk_import((const char *)plain, len, NULL))) {
        *why = "it opens but holds no valid JWK";
    }
    OPENSSL_cleanse(plain, len + 1);
    free(plain);
    return jwk;
}
