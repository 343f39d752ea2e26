/*
 * identity_inputs_fuzz.c — libFuzzer target for what a browser or a client sends the OpenID
 * provider before anything is authenticated: form bodies and authorization requests
 * (form.c, authz_request.c), the signed login transaction (tx), cookies, Basic credentials,
 * certificate login responses (cert_login.c) and JWS access tokens (token.c).
 *
 * The first byte of an input picks the parser, the rest is its text. Every input must end in
 * a value or an error: no crash, no leak, no read past the bounds, whatever the bytes.
 */
#include "core/error.h"
#include "core/mem.h"
#include "identity/authz_request.h"
#include "identity/cert_login.h"
#include "identity/form.h"
#include "identity/token.h"

#include <cjose/jwk.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A self-signed P-256 root, so that certificate responses reach chain building. */
static const char root_pem[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIBmzCCAUGgAwIBAgIUZZvzFcVVDAStMoq3KpoP5040oVQwCgYIKoZIzj0EAwIw\n"
                               "IzELMAkGA1UEBhMCSlAxFDASBgNVBAMMC1JlbmtlaSBGdXp6MB4XDTI2MTEyNTEw\n"
                               "NDk1MFoXDTM2MTEyMjEwNDk1MFowIzELMAkGA1UEBhMCSlAxFDASBgNVBAMMC1Jl\n"
                               "bmtlaSBGdXp6MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8wou4Z96yCzrGOxx\n"
                               "4c8PvCkyVh7nz+nhIYKUmzGEa3nPZsfg2vinLKM8DEFwMV7COwOsRcXbweT+eQ7z\n"
                               "vIJvOqNTMFEwHQYDVR0OBBYEFC2dCAjpUMrXbSDgOlYCFzgfZB9UMB8GA1UdIwQY\n"
                               "MBaAFC2dCAjpUMrXbSDgOlYCFzgfZB9UMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZI\n"
                               "zj0EAwIDSAAwRQIgazag/LLnoD5M5MO8+MRYqhU1KjC7DrL0ZIu2uvHdkOoCIQCT\n"
                               "D3kxfezU6aQlnC9GBI+W4hN1mECZFEAGNtXm14UWxg==\n"
                               "-----END CERTIFICATE-----\n";

static const unsigned char tx_key[RK_IDENTITY_DERIVED_KEY_LEN] = {7};
static rk_identity_cert_trust_t *trust;
static cjose_jwk_t *verify_key;

static const cjose_jwk_t *key_lookup(const void *ctx, const char *kid, const char **alg)
{
    (void)ctx;
    *alg = "ES256";
    return strcmp(kid, "fuzz-key-0001") == 0 ? verify_key : NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char path[] = "/tmp/renkei-fuzz-root-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) {
        if (write(fd, root_pem, sizeof(root_pem) - 1) == (ssize_t)(sizeof(root_pem) - 1)) {
            char why[256];
            trust = rk_identity_cert_trust_load(path, NULL, why, sizeof(why));
        }
        close(fd);
        unlink(path);
    }
    verify_key = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 32768)
        return 0;
    unsigned which = data[0] % 6;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    rk_arena_t *arena = rk_arena_new();
    const char *why = NULL, *error = NULL;
    rk_identity_form_t form;
    rk_identity_authz_t authz;
    switch (which) {
    case 0: /* an authorization request, both stages, then sealed and opened again */
        if (rk_identity_form_parse(arena, text, size - 1, RK_IDENTITY_AUTHZ_MAX_VALUE, &form,
                                   &why) == RK_OK &&
            rk_identity_authz_parse(&form, &authz, &why) == RK_OK &&
            rk_identity_authz_validate(&authz, data[0] & 0x80, &error, &why) == RK_OK) {
            rk_identity_authz_t back;
            char *tx = rk_identity_authz_seal(arena, &authz, "fuzz", 1000, tx_key);
            if (rk_identity_authz_open(arena, tx, "fuzz", 1001, tx_key, &back, &why) != RK_OK)
            {
                fprintf(stderr, "tx did not open: %s\n", why);
                abort(); /* what was sealed must open */
            }
        }
        break;
    case 1: /* a tx posted back by a browser */
        rk_identity_authz_open(arena, text, "fuzz", 1001, tx_key, &authz, &why);
        break;
    case 2: /* a Cookie header */
        rk_identity_cookie(arena, text, "rk_sso");
        rk_identity_cookie(arena, text, "rk_csrf");
        break;
    case 3: { /* an Authorization header */
        const char *id = NULL, *secret = NULL;
        rk_identity_basic_credentials(arena, text, &id, &secret, &why);
        break;
    }
    case 4: { /* a certificate login response */
        rk_identity_cert_subject_t subject;
        rk_identity_cert_login_verify(trust, "renkei-login:fuzz:1:n:m", text, size - 1, 1800000000,
                                      &subject, &why);
        break;
    }
    case 5: /* an access token at userinfo or introspection */
        json_decref(rk_identity_access_token_verify(text, "https://hub.example/t/fuzz", 1800000000,
                                                    key_lookup, NULL, &why));
        break;
    }
    rk_arena_free(arena);
    free(text);
    return 0;
}
