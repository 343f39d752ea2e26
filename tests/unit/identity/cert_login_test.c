/*
 * cert_login_test.c — hub/identity/cert_login.c against a PKI made by tests/lib/make-test-ca
 * (RENKEI_TEST_CA names its directory; ctest's fixture test_ca makes it).
 *
 * Without arguments (label unit): residents' responses signed in-process are accepted with the
 * right subject key (the same for a re-issued certificate), and refused for a wrong challenge,
 * a tampered or re-labelled signature, a revoked, expired, not yet valid, untrusted, CA or
 * document-signing certificate, a missing intermediate, and every malformed response; a
 * valid response flipped or cut anywhere never verifies; bad trust files are named.
 *
 * With --cli RENKEICTL (label integration): runs the real `renkeictl cert-login-sign` as a
 * resident would, checks the exact JSON shape, verifies its output with the hub's verifier
 * and independently with OpenSSL, and checks its exit statuses and messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "identity/cert_login.h"

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHALLENGE "rk-login:7c0f3e5a9b2d4e61 市役所"

static const char *ca_dir;
static const char *renkeictl;
static rk_identity_cert_trust_t *trust;        /* root.pem with crl.pem */
static rk_identity_cert_trust_t *trust_no_crl; /* root.pem alone */

/* --- helpers ------------------------------------------------------------------------------ */

static const char *path_of(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof(paths[0]), "%s/%s", ca_dir, name);
    return p;
}

static EVP_PKEY *load_key(const char *name)
{
    char file[64];
    snprintf(file, sizeof(file), "%s.key", name);
    FILE *f = fopen(path_of(file), "r");
    assert_non_null(f);
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(key);
    return key;
}

static X509 *load_cert(const char *name)
{
    char file[64];
    snprintf(file, sizeof(file), "%s.pem", name);
    FILE *f = fopen(path_of(file), "r");
    assert_non_null(f);
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(cert);
    return cert;
}

/* name's certificate, then inter.pem when with_intermediate. */
static STACK_OF(X509) * chain_of(const char *name, int with_intermediate)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    sk_X509_push(chain, load_cert(name));
    if (with_intermediate)
        sk_X509_push(chain, load_cert("inter"));
    return chain;
}

/* The response of resident name (key and certificate of the same name) to challenge. */
static char *sign_as(const char *key_name, const char *cert_name, int with_intermediate,
                     const char *challenge, const char *alg)
{
    EVP_PKEY *key = load_key(key_name);
    STACK_OF(X509) *chain = chain_of(cert_name, with_intermediate);
    const char *why = NULL;
    char *response = rk_identity_cert_login_sign(key, chain, challenge, alg, &why);
    if (!response)
        fail_msg("signing as %s failed: %s", cert_name, why);
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
    return response;
}

static char *sign_resident(const char *name, const char *alg)
{
    return sign_as(name, name, 1, CHALLENGE, alg);
}

static int verify_at(const rk_identity_cert_trust_t *t, const char *response, long long now,
                     rk_identity_cert_subject_t *out, const char **why)
{
    return rk_identity_cert_login_verify(t, CHALLENGE, response, strlen(response), now, out, why);
}

static int verify(const char *response, rk_identity_cert_subject_t *out, const char **why)
{
    return verify_at(trust, response, (long long)time(NULL), out, why);
}

static void expect_refused(const char *response, int rc, const char *expected_why)
{
    rk_identity_cert_subject_t out;
    const char *why = NULL;
    int got = verify(response, &out, &why);
    if (got != rc || !why || strcmp(why, expected_why) != 0)
        fail_msg("expected %d \"%s\", got %d \"%s\" for %.300s", rc, expected_why, got,
                 why ? why : "(null)", response);
    assert_string_equal(out.key, "");
}

/* The response with member set to value (NULL: removed); the caller frees it. */
static char *with_member(const char *response, const char *member, json_t *value)
{
    json_t *obj = json_loads(response, 0, NULL);
    assert_non_null(obj);
    if (value)
        json_object_set_new(obj, member, value);
    else
        json_object_del(obj, member);
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    return text;
}

static void hex(const unsigned char *bytes, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++)
        sprintf(out + 2 * i, "%02x", bytes[i]);
}

/* What the subject key should be, computed here apart from cert_login.c. */
static void expected_key(const char *name, char out[65])
{
    X509 *cert = load_cert(name);
    unsigned char *issuer = NULL, *subject = NULL, digest[SHA256_DIGEST_LENGTH];
    int issuer_len = i2d_X509_NAME(X509_get_issuer_name(cert), &issuer);
    int subject_len = i2d_X509_NAME(X509_get_subject_name(cert), &subject);
    unsigned char *both = malloc((size_t)(issuer_len + subject_len));
    memcpy(both, issuer, (size_t)issuer_len);
    memcpy(both + issuer_len, subject, (size_t)subject_len);
    SHA256(both, (size_t)(issuer_len + subject_len), digest);
    hex(digest, sizeof(digest), out);
    free(both);
    OPENSSL_free(issuer);
    OPENSSL_free(subject);
    X509_free(cert);
}

static void expected_fingerprint(const char *name, char out[65])
{
    X509 *cert = load_cert(name);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    unsigned int len = 0;
    assert_int_equal(X509_digest(cert, EVP_sha256(), digest, &len), 1);
    hex(digest, len, out);
    X509_free(cert);
}

static long long not_before_of(const char *name)
{
    X509 *cert = load_cert(name);
    struct tm tm;
    assert_int_equal(ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm), 1);
    X509_free(cert);
    return (long long)timegm(&tm);
}

static long long not_after_of(const char *name)
{
    X509 *cert = load_cert(name);
    struct tm tm;
    assert_int_equal(ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm), 1);
    X509_free(cert);
    return (long long)timegm(&tm);
}

static int setup(void **state)
{
    (void)state;
    char why[512];
    trust = rk_identity_cert_trust_load(path_of("root.pem"), path_of("crl.pem"), why, sizeof(why));
    if (!trust) {
        fprintf(stderr, "trust: %s\n", why);
        return -1;
    }
    trust_no_crl = rk_identity_cert_trust_load(path_of("root.pem"), NULL, why, sizeof(why));
    return trust_no_crl ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    rk_identity_cert_trust_free(trust);
    rk_identity_cert_trust_free(trust_no_crl);
    return 0;
}

/* --- residents accepted -------------------------------------------------------------------- */

static void alice_is_accepted(void **state)
{
    (void)state;
    char *response = sign_resident("alice", NULL);
    json_t *obj = json_loads(response, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(obj, "alg")), "ES256");
    json_decref(obj);

    rk_identity_cert_subject_t out;
    const char *why = "unset";
    assert_int_equal(verify(response, &out, &why), RK_OK);
    assert_null(why);
    char key[65], fingerprint[65];
    expected_key("alice", key);
    expected_fingerprint("alice", fingerprint);
    assert_string_equal(out.key, key);
    assert_string_equal(out.fingerprint, fingerprint);
    assert_string_equal(out.subject, "CN=Alice Example,O=Renkei Test JPKI,C=JP");
    assert_int_equal(out.not_after, not_after_of("alice"));
    X509 *cert = load_cert("alice");
    BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    char *serial_hex = BN_bn2hex(serial);
    assert_int_equal(strcasecmp(out.serial, serial_hex), 0);
    OPENSSL_free(serial_hex);
    BN_free(serial);
    X509_free(cert);
    free(response);

    /* Re-issued to the same person by the same CA: new key and serial, same account key. */
    response = sign_resident("alice-renewed", NULL);
    rk_identity_cert_subject_t renewed;
    assert_int_equal(verify(response, &renewed, &why), RK_OK);
    assert_string_equal(renewed.key, out.key);
    assert_string_not_equal(renewed.fingerprint, out.fingerprint);
    assert_string_not_equal(renewed.serial, out.serial);
    free(response);
}

static void bob_is_accepted_with_rs256_and_ps256(void **state)
{
    (void)state;
    char key[65];
    expected_key("bob", key);
    const char *algs[] = {NULL, "RS256", "PS256"};
    for (size_t i = 0; i < 3; i++) {
        char *response = sign_resident("bob", algs[i]);
        json_t *obj = json_loads(response, 0, NULL);
        assert_string_equal(json_string_value(json_object_get(obj, "alg")),
                            algs[i] ? algs[i] : "RS256");
        json_decref(obj);
        rk_identity_cert_subject_t out;
        const char *why = NULL;
        assert_int_equal(verify(response, &out, &why), RK_OK);
        assert_string_equal(out.key, key);
        assert_string_equal(out.subject, "CN=Bob Example,O=Renkei Test JPKI,C=JP");
        free(response);
    }
    char alice[65];
    expected_key("alice", alice);
    assert_string_not_equal(key, alice);
}

/* --- refused ------------------------------------------------------------------------------- */

static void wrong_challenge_is_refused(void **state)
{
    (void)state;
    char *response = sign_resident("alice", NULL);
    const char *others[] = {"rk-login:7c0f3e5a9b2d4e61", CHALLENGE " ", "", "RK-LOGIN"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        rk_identity_cert_subject_t out;
        const char *why = NULL;
        assert_int_equal(rk_identity_cert_login_verify(trust, others[i], response, strlen(response),
                                                       (long long)time(NULL), &out, &why),
                         RK_EDENIED);
        assert_string_equal(why, "challenge: does not match");
    }
    free(response);

    /* Signed for another challenge, then relabelled with this one. */
    response = sign_as("alice", "alice", 1, "another challenge", NULL);
    char *relabelled = with_member(response, "challenge", json_string(CHALLENGE));
    expect_refused(relabelled, RK_EDENIED, "signature: does not verify");
    free(relabelled);
    free(response);
}

static void tampered_signature_is_refused(void **state)
{
    (void)state;
    const char *residents[] = {"alice", "bob"};
    for (size_t i = 0; i < 2; i++) {
        char *response = sign_resident(residents[i], NULL);
        json_t *obj = json_loads(response, 0, NULL);
        char *signature = strdup(json_string_value(json_object_get(obj, "signature")));
        signature[0] = signature[0] == 'A' ? 'B' : 'A';
        char *tampered = with_member(response, "signature", json_string(signature));
        expect_refused(tampered, RK_EDENIED, "signature: does not verify");
        free(tampered);
        free(signature);
        json_decref(obj);
        free(response);
    }

    /* alice's certificate with the signature of another key (alice's renewed one). */
    char *response = sign_as("alice-renewed", "alice-renewed", 1, CHALLENGE, NULL);
    char *genuine = sign_resident("alice", NULL);
    json_t *obj = json_loads(genuine, 0, NULL);
    char *swapped =
        with_member(response, "certificate", json_incref(json_object_get(obj, "certificate")));
    expect_refused(swapped, RK_EDENIED, "signature: does not verify");
    free(swapped);
    json_decref(obj);
    free(genuine);
    free(response);

    /* An RS256 signature labelled PS256, and the other way round; ES256 on an RSA key. */
    response = sign_resident("bob", "RS256");
    char *relabelled = with_member(response, "alg", json_string("PS256"));
    expect_refused(relabelled, RK_EDENIED, "signature: does not verify");
    free(relabelled);
    relabelled = with_member(response, "alg", json_string("ES256"));
    expect_refused(relabelled, RK_EINVAL, "signature: ES256 takes 64 bytes (r || s)");
    free(relabelled);
    free(response);
    response = sign_resident("bob", "PS256");
    relabelled = with_member(response, "alg", json_string("RS256"));
    expect_refused(relabelled, RK_EDENIED, "signature: does not verify");
    free(relabelled);
    free(response);
    response = sign_resident("alice", NULL);
    relabelled = with_member(response, "alg", json_string("RS256"));
    expect_refused(relabelled, RK_EDENIED, "alg: does not fit the certificate's key");
    free(relabelled);
    free(response);
}

static void revoked_is_refused(void **state)
{
    (void)state;
    char *response = sign_resident("revoked", NULL);
    expect_refused(response, RK_EDENIED, "certificate: revoked");
    /* The CRL is what refuses it: without CRLs the same response verifies. */
    rk_identity_cert_subject_t out;
    const char *why = NULL;
    assert_int_equal(verify_at(trust_no_crl, response, (long long)time(NULL), &out, &why), RK_OK);
    free(response);
}

static void expired_is_refused(void **state)
{
    (void)state;
    char *response = sign_resident("expired", NULL);
    expect_refused(response, RK_EDENIED, "certificate: expired");
    rk_identity_cert_subject_t out;
    const char *why = NULL;
    assert_int_equal(verify_at(trust_no_crl, response, (long long)time(NULL), &out, &why),
                     RK_EDENIED);
    assert_string_equal(why, "certificate: expired");
    free(response);
}

static void time_travel_is_refused(void **state)
{
    (void)state;
    char *response = sign_resident("alice", NULL);
    rk_identity_cert_subject_t out;
    const char *why = NULL;
    long long not_before = not_before_of("alice"), not_after = not_after_of("alice");
    assert_int_equal(verify_at(trust, response, not_before - 60, &out, &why), RK_EDENIED);
    assert_string_equal(why, "certificate: not yet valid");
    assert_int_equal(verify_at(trust, response, not_after + 1, &out, &why), RK_EDENIED);
    assert_string_equal(why, "certificate: expired");
    assert_int_equal(verify_at(trust, response, -1000000000000LL, &out, &why), RK_EDENIED);
    assert_int_equal(verify_at(trust, response, 253402300800LL, &out, &why), RK_EDENIED);
    free(response);
}

static void untrusted_is_refused(void **state)
{
    (void)state;
    /* stranger.pem comes from a root nobody configured: with or without that root attached. */
    char *response = sign_as("stranger", "stranger", 0, CHALLENGE, NULL);
    expect_refused(response, RK_EDENIED, "certificate: does not chain to a trust anchor");
    free(response);
    EVP_PKEY *key = load_key("stranger");
    STACK_OF(X509) *chain = chain_of("stranger", 0);
    sk_X509_push(chain, load_cert("stranger-root"));
    const char *why = NULL;
    response = rk_identity_cert_login_sign(key, chain, CHALLENGE, NULL, &why);
    assert_non_null(response);
    expect_refused(response, RK_EDENIED, "certificate: does not chain to a trust anchor");
    free(response);
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);

    /* A CA certificate is not a resident's, though it chains. */
    response = sign_as("inter", "inter", 0, CHALLENGE, NULL);
    expect_refused(response, RK_EDENIED, "certificate: is a CA certificate, not a resident's");
    free(response);
    response = sign_as("root", "root", 0, CHALLENGE, NULL);
    expect_refused(response, RK_EDENIED, "certificate: is a CA certificate, not a resident's");
    free(response);

    /* A document-signing certificate (nonRepudiation only) does not log in. */
    response = sign_resident("nonrep", NULL);
    expect_refused(response, RK_EDENIED, "certificate: keyUsage does not allow digitalSignature");
    free(response);
}

static void intermediate_is_needed(void **state)
{
    (void)state;
    char *response = sign_as("alice", "alice", 0, CHALLENGE, NULL);
    expect_refused(response, RK_EDENIED, "certificate: does not chain to a trust anchor");
    free(response);
    response = sign_as("alice", "alice", 1, CHALLENGE, NULL);
    rk_identity_cert_subject_t out;
    const char *why = NULL;
    assert_int_equal(verify(response, &out, &why), RK_OK);
    free(response);
}

/* --- malformed ----------------------------------------------------------------------------- */

typedef struct malformed {
    const char *member;
    const char *value; /* JSON text; NULL removes the member */
    int rc;
    const char *why;
} malformed_t;

static void malformed_is_refused(void **state)
{
    (void)state;
    char *response = sign_resident("alice", NULL);
    json_t *obj = json_loads(response, 0, NULL);
    const char *leaf = json_string_value(json_array_get(json_object_get(obj, "certificate"), 0));
    const char *signature = json_string_value(json_object_get(obj, "signature"));
    const char *certificate_why = "certificate: must be an array of 1 to 4 base64 strings";
    const char *der_why = "certificate: must be base64 of DER X.509 certificates";
    const char *signature_why = "signature: must be base64url without padding";

    char leaf_url[4096], leaf_spaced[4096], leaf_cut[4096], leaf_trailing[4096], leaf_five[8192],
        signature_padded[256], signature_std[256], signature_short[256], signature_bits[256];
    snprintf(leaf_url, sizeof(leaf_url), "[\"%s\"]", leaf);
    for (char *c = leaf_url; *c; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    if (!strpbrk(leaf, "+/"))
        snprintf(leaf_url, sizeof(leaf_url), "[\"%s\"]", "-_-_");
    snprintf(leaf_spaced, sizeof(leaf_spaced), "[\"%.64s\\n%s\"]", leaf, leaf + 64);
    snprintf(leaf_cut, sizeof(leaf_cut), "[\"%.*s\"]", (int)(strlen(leaf) / 8 * 4), leaf);
    /* The DER with one byte more: "AA==" appended after re-padding is not canonical, so add
     * it at the binary level. */
    {
        size_t len = strlen(leaf);
        unsigned char *der = malloc(len);
        int n = EVP_DecodeBlock(der, (const unsigned char *)leaf, (int)len);
        n -= (leaf[len - 1] == '=') + (leaf[len - 2] == '=');
        der[n] = 0;
        char *text = malloc(len + 8);
        EVP_EncodeBlock((unsigned char *)text, der, n + 1);
        snprintf(leaf_trailing, sizeof(leaf_trailing), "[\"%s\"]", text);
        free(text);
        free(der);
    }
    snprintf(leaf_five, sizeof(leaf_five), "[\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"]", leaf, leaf, leaf,
             leaf, leaf);
    snprintf(signature_padded, sizeof(signature_padded), "\"%s=\"", signature);
    snprintf(signature_std, sizeof(signature_std), "\"+/%s\"", signature + 2);
    snprintf(signature_short, sizeof(signature_short), "\"%.84s\"", signature);
    /* 86 characters hold 64 bytes and 4 spare bits, which must be zero. */
    snprintf(signature_bits, sizeof(signature_bits), "\"%s\"", signature);
    {
        char *last = signature_bits + strlen(signature_bits) - 2;
        *last = *last == 'B' ? 'C' : 'B';
    }

    const malformed_t cases[] = {
        {"v", "2", RK_EINVAL, "v: must be 1"},
        {"v", "\"1\"", RK_EINVAL, "v: must be 1"},
        {"v", "1.0", RK_EINVAL, "v: must be 1"},
        {"v", NULL, RK_EINVAL, "v: must be 1"},
        {"challenge", NULL, RK_EINVAL, "challenge: must be a string"},
        {"challenge", "42", RK_EINVAL, "challenge: must be a string"},
        {"alg", "\"none\"", RK_EINVAL, "alg: must be ES256, RS256 or PS256"},
        {"alg", "\"HS256\"", RK_EINVAL, "alg: must be ES256, RS256 or PS256"},
        {"alg", "\"es256\"", RK_EINVAL, "alg: must be ES256, RS256 or PS256"},
        {"alg", NULL, RK_EINVAL, "alg: must be ES256, RS256 or PS256"},
        {"signature", NULL, RK_EINVAL, "signature: must be a string"},
        {"signature", "[]", RK_EINVAL, "signature: must be a string"},
        {"signature", "\"\"", RK_EINVAL, signature_why},
        {"signature", signature_padded, RK_EINVAL, signature_why},
        {"signature", signature_std, RK_EINVAL, signature_why},
        {"signature", signature_bits, RK_EINVAL, signature_why},
        {"signature", "\"!!!!\"", RK_EINVAL, signature_why},
        {"signature", signature_short, RK_EINVAL, "signature: ES256 takes 64 bytes (r || s)"},
        {"certificate", NULL, RK_EINVAL, certificate_why},
        {"certificate", "[]", RK_EINVAL, certificate_why},
        {"certificate", "{}", RK_EINVAL, certificate_why},
        {"certificate", "\"MIIB\"", RK_EINVAL, certificate_why},
        {"certificate", "[1]", RK_EINVAL, certificate_why},
        {"certificate", leaf_five, RK_EINVAL, certificate_why},
        {"certificate", "[\"\"]", RK_EINVAL, der_why},
        {"certificate", "[\"!!!!\"]", RK_EINVAL, der_why},
        {"certificate", "[\"AAAA\"]", RK_EINVAL, der_why},
        {"certificate", leaf_url, RK_EINVAL, der_why},
        {"certificate", leaf_spaced, RK_EINVAL, der_why},
        {"certificate", leaf_cut, RK_EINVAL, der_why},
        {"certificate", leaf_trailing, RK_EINVAL, der_why},
        {"extra", "true", RK_EINVAL,
         "response: has a member other than v, challenge, certificate, signature and alg"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *value = cases[i].value ? json_loads(cases[i].value, JSON_DECODE_ANY, NULL) : NULL;
        if (cases[i].value && !value)
            fail_msg("case %zu: bad JSON in the test: %s", i, cases[i].value);
        char *bad = with_member(response, cases[i].member, value);
        expect_refused(bad, cases[i].rc, cases[i].why);
        free(bad);
    }

    /* Whole responses. */
    rk_identity_cert_subject_t out;
    const char *why = NULL;
    assert_int_equal(rk_identity_cert_login_verify(trust, CHALLENGE, NULL, 0, 0, &out, &why),
                     RK_EINVAL);
    assert_string_equal(why, "response: empty");
    expect_refused("", RK_EINVAL, "response: empty");
    expect_refused("not json", RK_EINVAL, "response: not valid JSON");
    expect_refused("[]", RK_EINVAL, "response: not a JSON object");
    expect_refused("\"text\"", RK_EINVAL, "response: not a JSON object");
    expect_refused("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", RK_EINVAL,
                   "response: nested too deeply");
    expect_refused("{\"v\":1,\"v\":1}", RK_EINVAL, "response: not valid JSON");
    expect_refused("{\"challenge\":\"a\\u0000b\"}", RK_EINVAL, "response: not valid JSON");
    char trailing[8192];
    snprintf(trailing, sizeof(trailing), "%s}", response);
    expect_refused(trailing, RK_EINVAL, "response: not valid JSON");
    snprintf(trailing, sizeof(trailing), " %s\r\n", response);
    assert_int_equal(verify(trailing, &out, &why), RK_OK); /* whitespace around is JSON */

    /* Not NUL-terminated: exactly response_len bytes are read. */
    size_t len = strlen(response);
    char *exact = malloc(len);
    memcpy(exact, response, len);
    assert_int_equal(rk_identity_cert_login_verify(trust, CHALLENGE, exact, len,
                                                   (long long)time(NULL), &out, &why),
                     RK_OK);
    assert_int_equal(rk_identity_cert_login_verify(trust, CHALLENGE, exact, len - 1,
                                                   (long long)time(NULL), &out, &why),
                     RK_EINVAL);
    free(exact);

    /* Oversized: a valid response padded with whitespace past 16 KiB. */
    char *big = malloc(RK_IDENTITY_CERT_LOGIN_MAX_BYTES + 2);
    memset(big, ' ', RK_IDENTITY_CERT_LOGIN_MAX_BYTES + 1);
    memcpy(big, response, len);
    big[RK_IDENTITY_CERT_LOGIN_MAX_BYTES + 1] = '\0';
    expect_refused(big, RK_EINVAL, "response: larger than 16 KiB");
    big[RK_IDENTITY_CERT_LOGIN_MAX_BYTES] = '\0';
    assert_int_equal(verify(big, &out, &why), RK_OK);
    free(big);

    json_decref(obj);
    free(response);
}

/* Every single-bit flip and every cut of a valid response is refused, without a crash. */
static void flipped_or_cut_never_verifies(void **state)
{
    (void)state;
    char *response = sign_resident("alice", NULL);
    size_t len = strlen(response);
    char *copy = malloc(len);
    rk_identity_cert_subject_t out;
    const char *why = NULL;
    long long now = (long long)time(NULL);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(copy, response, len);
            copy[i] = (char)(copy[i] ^ (1 << bit));
            int rc = rk_identity_cert_login_verify(trust, CHALLENGE, copy, len, now, &out, &why);
            if (rc == RK_OK)
                fail_msg("flipping bit %d of byte %zu still verifies", bit, i);
            assert_non_null(why);
        }
        int rc = rk_identity_cert_login_verify(trust, CHALLENGE, response, i, now, &out, &why);
        if (rc == RK_OK)
            fail_msg("the first %zu bytes verify", i);
    }
    free(copy);
    free(response);
}

/* --- trust files and signing errors -------------------------------------------------------- */

static char tmp_dir[256];

static const char *tmp_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void expect_load_error(const char *anchors, const char *crls, const char *fragment)
{
    char why[512] = "";
    rk_identity_cert_trust_t *t = rk_identity_cert_trust_load(anchors, crls, why, sizeof(why));
    if (t || !strstr(why, fragment))
        fail_msg("loading %s / %s: expected \"%s\", got \"%s\"", anchors, crls ? crls : "-",
                 fragment, t ? "(loaded)" : why);
}

static void bad_trust_files_are_named(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/cert_login_test.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(tmp_dir));
    char root[512], crl[512];
    snprintf(root, sizeof(root), "%s", path_of("root.pem"));
    snprintf(crl, sizeof(crl), "%s", path_of("crl.pem"));

    expect_load_error("/nonexistent/anchors.pem", NULL,
                      "trust anchors /nonexistent/anchors.pem: cannot be opened: No such file");
    expect_load_error(NULL, NULL, "trust anchors: no file given");
    expect_load_error(path_of("alice.key"), NULL, "holds a private key");
    expect_load_error(path_of("alice.pem"), NULL, "certificate 1 is not a CA certificate");
    expect_load_error(crl, NULL, "holds a CRL");
    expect_load_error(tmp_file("empty.pem", ""), NULL, "holds no certificate");
    expect_load_error(tmp_file("junk.pem", "-----BEGIN CERTIFICATE-----\nnot base64!\n"
                                           "-----END CERTIFICATE-----\n"),
                      NULL, "not valid PEM");
    expect_load_error(root, "/nonexistent/crl.pem",
                      "CRL file /nonexistent/crl.pem: cannot be opened");
    expect_load_error(root, root, "CRL file");
    expect_load_error(root, tmp_file("empty.pem", ""), "holds no CRL");

    /* Several anchors in one file: the intermediate as an anchor too. */
    FILE *f = fopen(tmp_file("both.pem", ""), "w");
    const char *parts[] = {"root.pem", "inter.pem"};
    for (size_t i = 0; i < 2; i++) {
        FILE *in = fopen(path_of(parts[i]), "r");
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
            fwrite(buf, 1, n, f);
        fclose(in);
    }
    fclose(f);
    char why[512];
    char both[512];
    snprintf(both, sizeof(both), "%s/both.pem", tmp_dir);
    rk_identity_cert_trust_t *t = rk_identity_cert_trust_load(both, crl, why, sizeof(why));
    assert_non_null(t);
    char *response = sign_as("alice", "alice", 0, CHALLENGE, NULL);
    rk_identity_cert_subject_t out;
    const char *verify_why = NULL;
    assert_int_equal(verify_at(t, response, (long long)time(NULL), &out, &verify_why), RK_OK);
    free(response);
    rk_identity_cert_trust_free(t);
    rk_identity_cert_trust_free(NULL);

    const char *names[] = {"empty.pem", "junk.pem", "both.pem"};
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", tmp_dir, names[i]);
        unlink(path);
    }
    rmdir(tmp_dir);
}

static void signing_refuses_what_cannot_verify(void **state)
{
    (void)state;
    EVP_PKEY *alice = load_key("alice"), *bob = load_key("bob");
    STACK_OF(X509) *alice_chain = chain_of("alice", 1), *bob_chain = chain_of("bob", 1);
    const char *why = NULL;
    assert_null(rk_identity_cert_login_sign(bob, alice_chain, CHALLENGE, NULL, &why));
    assert_string_equal(why, "key: does not belong to the certificate");
    assert_null(rk_identity_cert_login_sign(alice, alice_chain, CHALLENGE, "PS256", &why));
    assert_string_equal(why, "alg: does not fit the certificate's key");
    assert_null(rk_identity_cert_login_sign(bob, bob_chain, CHALLENGE, "ES256", &why));
    assert_string_equal(why, "alg: does not fit the certificate's key");
    assert_null(rk_identity_cert_login_sign(alice, alice_chain, CHALLENGE, "HS256", &why));
    assert_string_equal(why, "alg: must be ES256, RS256 or PS256");
    assert_null(rk_identity_cert_login_sign(alice, alice_chain, "caf\xc3", NULL, &why));
    assert_string_equal(why, "challenge: must be UTF-8 text");
    assert_null(rk_identity_cert_login_sign(alice, alice_chain, NULL, NULL, &why));
    assert_string_equal(why, "challenge: none given");
    assert_null(rk_identity_cert_login_sign(alice, NULL, CHALLENGE, NULL, &why));
    assert_string_equal(why, "certificate: give the leaf and at most 3 intermediates");

    STACK_OF(X509) *five = chain_of("alice", 1);
    for (int i = 0; i < 3; i++)
        sk_X509_push(five, load_cert("inter"));
    assert_null(rk_identity_cert_login_sign(alice, five, CHALLENGE, NULL, &why));
    assert_string_equal(why, "certificate: give the leaf and at most 3 intermediates");
    sk_X509_pop_free(five, X509_free);

    char *long_challenge = malloc(RK_IDENTITY_CERT_LOGIN_MAX_BYTES);
    memset(long_challenge, 'x', RK_IDENTITY_CERT_LOGIN_MAX_BYTES - 1);
    long_challenge[RK_IDENTITY_CERT_LOGIN_MAX_BYTES - 1] = '\0';
    assert_null(rk_identity_cert_login_sign(alice, alice_chain, long_challenge, NULL, &why));
    assert_string_equal(why, "response: larger than 16 KiB; shorten the challenge or the chain");
    free(long_challenge);

    EVP_PKEY_free(alice);
    EVP_PKEY_free(bob);
    sk_X509_pop_free(alice_chain, X509_free);
    sk_X509_pop_free(bob_chain, X509_free);
}

/* --- the command line (--cli RENKEICTL) ---------------------------------------------------- */

typedef struct run {
    int status;
    char out[32768];
    char err[4096];
} run_t;

static void read_all(int fd, char *buf, size_t size)
{
    size_t used = 0;
    ssize_t n;
    while (used + 1 < size && (n = read(fd, buf + used, size - 1 - used)) > 0)
        used += (size_t)n;
    buf[used] = '\0';
}

/* Runs renkeictl with args (NULL-terminated); stdout and stderr kept apart. */
static void run_ctl(run_t *r, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)renkeictl;
    for (; args[argc - 1] && argc < 31; argc++)
        argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    int out_pipe[2], err_pipe[2];
    assert_int_equal(pipe(out_pipe), 0);
    assert_int_equal(pipe(err_pipe), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        close(out_pipe[0]);
        close(err_pipe[0]);
        execv(renkeictl, argv);
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    read_all(out_pipe[0], r->out, sizeof(r->out)); /* small outputs: no pipe fills meanwhile */
    read_all(err_pipe[0], r->err, sizeof(r->err));
    close(out_pipe[0]);
    close(err_pipe[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* base64url to bytes with OpenSSL's decoder (apart from cert_login.c's); returns the length. */
static int decode_url(const char *text, unsigned char *out)
{
    char padded[1024];
    size_t len = strlen(text);
    assert_true(len + 4 < sizeof(padded));
    for (size_t i = 0; i < len; i++)
        padded[i] = text[i] == '-' ? '+' : text[i] == '_' ? '/' : text[i];
    size_t pad = (4 - len % 4) % 4;
    memset(padded + len, '=', pad);
    padded[len + pad] = '\0';
    int n = EVP_DecodeBlock(out, (unsigned char *)padded, (int)(len + pad));
    return n - (int)pad;
}

/* Verifies a response with plain OpenSSL calls against the certificate file of name. */
static void verify_independently(const char *response, const char *name)
{
    json_t *obj = json_loads(response, 0, NULL);
    const char *alg = json_string_value(json_object_get(obj, "alg"));
    const char *challenge = json_string_value(json_object_get(obj, "challenge"));
    unsigned char sig[1024], *der = NULL;
    int sig_len = decode_url(json_string_value(json_object_get(obj, "signature")), sig);
    size_t der_len = (size_t)sig_len;
    if (strcmp(alg, "ES256") == 0) {
        assert_int_equal(sig_len, 64);
        ECDSA_SIG *ecdsa = ECDSA_SIG_new();
        ECDSA_SIG_set0(ecdsa, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
        der_len = (size_t)i2d_ECDSA_SIG(ecdsa, &der);
        ECDSA_SIG_free(ecdsa);
    }
    X509 *cert = load_cert(name);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    assert_int_equal(EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, X509_get0_pubkey(cert)),
                     1);
    if (strcmp(alg, "PS256") == 0) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32), 1);
    }
    assert_int_equal(EVP_DigestVerify(md, der ? der : sig, der_len,
                                      (const unsigned char *)challenge, strlen(challenge)),
                     1);
    EVP_MD_CTX_free(md);
    X509_free(cert);
    OPENSSL_free(der);
    json_decref(obj);
}

static void cli_signs_what_the_hub_verifies(void **state)
{
    (void)state;
    /* A challenge that looks like renkeictl's own options stays text. */
    const char *challenges[] = {CHALLENGE, "--hub --json x"};
    const struct {
        const char *name, *alg, *expected_alg;
    } residents[] = {{"alice", NULL, "ES256"}, {"bob", NULL, "RS256"}, {"bob", "PS256", "PS256"}};
    run_t r;
    for (size_t c = 0; c < 2; c++) {
        for (size_t i = 0; i < 3; i++) {
            char key[512], cert[512], chain[512];
            snprintf(key, sizeof(key), "%s/%s.key", ca_dir, residents[i].name);
            snprintf(cert, sizeof(cert), "%s/%s.pem", ca_dir, residents[i].name);
            snprintf(chain, sizeof(chain), "%s/chain.pem", ca_dir);
            const char *args[] = {"cert-login-sign",
                                  "--key",
                                  key,
                                  "--cert",
                                  cert,
                                  "--chain",
                                  chain,
                                  "--challenge",
                                  challenges[c],
                                  residents[i].alg ? "--alg" : NULL,
                                  residents[i].alg,
                                  NULL};
            run_ctl(&r, args);
            if (r.status != 0)
                fail_msg("renkeictl exited %d: %s", r.status, r.err);
            assert_string_equal(r.err, "");
            size_t len = strlen(r.out);
            assert_true(len > 1 && r.out[len - 1] == '\n');
            assert_null(memchr(r.out, '\n', len - 1)); /* one line */

            /* Exactly the documented shape, in order. */
            json_t *obj = json_loads(r.out, JSON_REJECT_DUPLICATES, NULL);
            assert_non_null(obj);
            const char *order[] = {"v", "challenge", "certificate", "signature", "alg"};
            size_t k = 0;
            const char *member;
            json_t *value;
            json_object_foreach(obj, member, value)
            {
                assert_true(k < 5);
                assert_string_equal(member, order[k++]);
            }
            assert_int_equal(k, 5);
            assert_int_equal(json_integer_value(json_object_get(obj, "v")), 1);
            assert_string_equal(json_string_value(json_object_get(obj, "challenge")),
                                challenges[c]);
            assert_string_equal(json_string_value(json_object_get(obj, "alg")),
                                residents[i].expected_alg);
            assert_int_equal(json_array_size(json_object_get(obj, "certificate")), 2);
            json_decref(obj);

            rk_identity_cert_subject_t out;
            const char *why = NULL;
            assert_int_equal(rk_identity_cert_login_verify(trust, challenges[c], r.out, len,
                                                           (long long)time(NULL), &out, &why),
                             RK_OK);
            char expected[65];
            expected_key(residents[i].name, expected);
            assert_string_equal(out.key, expected);
            verify_independently(r.out, residents[i].name);
        }
    }
}

static void cli_reports_errors(void **state)
{
    (void)state;
    char alice_key[512], alice_pem[512], bob_key[512];
    snprintf(alice_key, sizeof(alice_key), "%s/alice.key", ca_dir);
    snprintf(alice_pem, sizeof(alice_pem), "%s/alice.pem", ca_dir);
    snprintf(bob_key, sizeof(bob_key), "%s/bob.key", ca_dir);
    const struct {
        const char *args[12];
        int status;
        const char *stderr_has;
    } cases[] = {
        {{"cert-login-sign", NULL}, 2, "--key, --cert and --challenge are required"},
        {{"cert-login-sign", "--key", alice_key, "--cert", alice_pem, NULL},
         2,
         "--key, --cert and --challenge are required"},
        {{"cert-login-sign", "--key", alice_key, "--cert", alice_pem, "--challenge", NULL},
         2,
         "--challenge needs a value"},
        {{"cert-login-sign", "--kee", alice_key, NULL}, 2, "unknown option --kee"},
        {{"cert-login-sign", "--key", alice_key, "--key", alice_key, NULL},
         2,
         "--key is given twice"},
        {{"cert-login-sign", "--key", alice_key, "--cert", alice_pem, "--challenge", "c", "--alg",
          "HS256", NULL},
         2,
         "--alg must be ES256, RS256 or PS256"},
        {{"cert-login-sign", "--help", NULL}, 2, "usage: renkeictl cert-login-sign"},
        {{"cert-login-sign", "--key", "/nonexistent/k.pem", "--cert", alice_pem, "--challenge", "c",
          NULL},
         1,
         "--key /nonexistent/k.pem: No such file or directory"},
        {{"cert-login-sign", "--key", alice_key, "--cert", alice_key, "--challenge", "c", NULL},
         1,
         "holds no PEM certificate"},
        {{"cert-login-sign", "--key", alice_pem, "--cert", alice_pem, "--challenge", "c", NULL},
         1,
         "holds no PEM private key"},
        {{"cert-login-sign", "--key", bob_key, "--cert", alice_pem, "--challenge", "c", NULL},
         1,
         "--key " /* path */},
        {{"cert-login-sign", "--key", alice_key, "--cert", alice_pem, "--challenge", "c", "--alg",
          "PS256", NULL},
         1,
         "--alg: does not fit the certificate's key"},
        {{"cert-login-sign", "--key", alice_key, "--cert", alice_pem, "--challenge", "caf\xc3",
          NULL},
         1,
         "--challenge: must be UTF-8 text"},
    };
    run_t r;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_ctl(&r, cases[i].args);
        if (r.status != cases[i].status || !strstr(r.err, cases[i].stderr_has))
            fail_msg("case %zu: expected exit %d and \"%s\", got %d: %s", i, cases[i].status,
                     cases[i].stderr_has, r.status, r.err);
        assert_string_equal(r.out, "");
    }
    const char *mismatch[] = {"cert-login-sign", "--key",       bob_key, "--cert",
                              alice_pem,         "--challenge", "c",     NULL};
    run_ctl(&r, mismatch);
    assert_non_null(strstr(r.err, "does not belong to the certificate"));
}

int main(int argc, char **argv)
{
    ca_dir = getenv("RENKEI_TEST_CA");
    if (!ca_dir || !*ca_dir) {
        fprintf(stderr, "RENKEI_TEST_CA is not set: run through ctest (fixture test_ca), or "
                        "make a CA with tests/lib/make-test-ca DIR and export "
                        "RENKEI_TEST_CA=DIR\n");
        return 1;
    }
    if (argc == 3 && strcmp(argv[1], "--cli") == 0) {
        renkeictl = argv[2];
        const struct CMUnitTest cli[] = {
            cmocka_unit_test(cli_signs_what_the_hub_verifies),
            cmocka_unit_test(cli_reports_errors),
        };
        return cmocka_run_group_tests_name("renkeictl cert-login-sign", cli, setup, teardown);
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--cli RENKEICTL]\n", argv[0]);
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alice_is_accepted),
        cmocka_unit_test(bob_is_accepted_with_rs256_and_ps256),
        cmocka_unit_test(wrong_challenge_is_refused),
        cmocka_unit_test(tampered_signature_is_refused),
        cmocka_unit_test(revoked_is_refused),
        cmocka_unit_test(expired_is_refused),
        cmocka_unit_test(time_travel_is_refused),
        cmocka_unit_test(untrusted_is_refused),
        cmocka_unit_test(intermediate_is_needed),
        cmocka_unit_test(malformed_is_refused),
        cmocka_unit_test(flipped_or_cut_never_verifies),
        cmocka_unit_test(bad_trust_files_are_named),
        cmocka_unit_test(signing_refuses_what_cannot_verify),
    };
    return cmocka_run_group_tests_name("cert_login", tests, setup, teardown);
}
