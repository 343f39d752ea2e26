/*
 * cert_login.c — certificate login: loading trust anchors and CRLs, verifying a signed
 * challenge, and signing one (see cert_login.h).
 *
 * Verification goes from cheap to costly and from the response to the certificate: the JSON
 * shape under fixed bounds (size, nesting, member set, certificate count), the challenge, the
 * leaf's own validity period (checked first so that "expired" and "not yet valid" are reported
 * as such, not as a CRL that is not yet valid at a time before it was issued), the chain by
 * X509_verify_cert() at the caller's time, the leaf's keyUsage, and last the signature, so the
 * leaf's key is used only once a trusted CA has vouched for it. Base64 is decoded strictly
 * (one alphabet, canonical padding and final bits) and DER must fill its bytes exactly, so one
 * response has one reading.
 *
 * Called by the login handler (verification) and by renkeictl's cert-login-sign (signing).
 */
#include "identity/cert_login.h"

#include "core/error.h"
#include "core/mem.h"
#include "core/secret.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ES256_SIGNATURE_BYTES 64
#define PSS_SALT_BYTES 32
#define MAX_NESTING 3            /* the response nests two deep: object, certificate array */
#define MAX_CHAIN_DEPTH 8        /* leaf, up to three given intermediates, anchors' own chains */
#define MAX_SIGNATURE_BYTES 2048 /* RSA-16384, OpenSSL's largest modulus */

struct rk_identity_cert_trust {
    X509_STORE *store;
    int crl_count; /* > 0: every leaf is checked for revocation */
};

/* --- encodings ------------------------------------------------------------------------------ */

static void hex_of(const unsigned char *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

static int base64_value(unsigned char c, int url)
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

/*
 * Decodes text strictly: the standard alphabet with its padding (url 0) or the URL alphabet
 * without padding (url 1); no whitespace; unused final bits zero. out has room for len * 3 / 4
 * bytes. Returns the decoded length, or -1.
 */
static long base64_decode(const char *text, size_t len, int url, unsigned char *out)
{
    if (!url) {
        if (len % 4)
            return -1;
        if (len && text[len - 1] == '=')
            len -= len >= 2 && text[len - 2] == '=' ? 2 : 1;
    }
    if (len % 4 == 1)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int v = base64_value((unsigned char)text[i], url);
        if (v < 0)
            return -1;
        acc = ((acc << 6) | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits && (acc & ((1u << bits) - 1)))
        return -1;
    return (long)n;
}

/* base64 (url 0, padded) or base64url (url 1, unpadded) of bytes; the caller frees it. */
static char *base64_encode(const unsigned char *bytes, size_t len, int url)
{
    char *text = rk_xmalloc(4 * ((len + 2) / 3) + 1);
    int n = EVP_EncodeBlock((unsigned char *)text, bytes, (int)len);
    if (url) {
        while (n > 0 && text[n - 1] == '=')
            text[--n] = '\0';
        for (int i = 0; i < n; i++)
            text[i] = text[i] == '+' ? '-' : text[i] == '/' ? '_' : text[i];
    }
    return text;
}

/*
 * 1 when JSON text never nests deeper than MAX_NESTING, so the parser's recursion stays
 * shallow whatever the input; strings are skipped with their escapes.
 */
static int nesting_bounded(const char *text, size_t len)
{
    int depth = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > MAX_NESTING)
                return 0;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 1;
}

/* --- trust ---------------------------------------------------------------------------------- */

/* The PEM blocks of path, or NULL with why naming what (the role) and path. */
static STACK_OF(X509_INFO) * read_pem(const char *what, const char *path, char *why, size_t why_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, why_len, "%s %s: cannot be opened: %s", what, path, strerror(errno));
        return NULL;
    }
    BIO *bio = BIO_new_fp(f, BIO_CLOSE);
    if (!bio) {
        fclose(f);
        snprintf(why, why_len, "%s %s: cannot be read", what, path);
        return NULL;
    }
    STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!infos) {
        char reason[160];
        ERR_error_string_n(ERR_peek_last_error(), reason, sizeof(reason));
        snprintf(why, why_len, "%s %s: not valid PEM (%s)", what, path, reason);
    }
    ERR_clear_error();
    return infos;
}

/* Adds the CA certificates of path to store; returns how many, or -1 with why. */
static int add_anchors(X509_STORE *store, const char *path, char *why, size_t why_len)
{
    STACK_OF(X509_INFO) *infos = read_pem("trust anchors", path, why, why_len);
    if (!infos)
        return -1;
    int count = 0;
    for (int i = 0; i < sk_X509_INFO_num(infos) && count >= 0; i++) {
        X509_INFO *info = sk_X509_INFO_value(infos, i);
        if (info->x_pkey) {
            snprintf(why, why_len,
                     "trust anchors %s: holds a private key; it must hold only CA certificates",
                     path);
            count = -1;
        } else if (info->crl) {
            snprintf(why, why_len, "trust anchors %s: holds a CRL; CRLs belong in the CRL file",
                     path);
            count = -1;
        } else if (info->x509 && X509_check_ca(info->x509) == 0) {
            snprintf(why, why_len,
                     "trust anchors %s: certificate %d is not a CA certificate (basicConstraints "
                     "CA:TRUE)",
                     path, i + 1);
            count = -1;
        } else if (info->x509 && X509_STORE_add_cert(store, info->x509) != 1) {
            snprintf(why, why_len, "trust anchors %s: certificate %d cannot be added", path, i + 1);
            count = -1;
        } else if (info->x509) {
            count++;
        }
    }
    if (count == 0)
        snprintf(why, why_len, "trust anchors %s: holds no certificate", path);
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    ERR_clear_error();
    return count > 0 ? count : -1;
}

/* Adds the CRLs of path to store; returns how many, or -1 with why. */
static int add_crls(X509_STORE *store, const char *path, char *why, size_t why_len)
{
    STACK_OF(X509_INFO) *infos = read_pem("CRL file", path, why, why_len);
    if (!infos)
        return -1;
    int count = 0;
    for (int i = 0; i < sk_X509_INFO_num(infos) && count >= 0; i++) {
        X509_INFO *info = sk_X509_INFO_value(infos, i);
        if (info->x509 || info->x_pkey || !info->crl) {
            snprintf(why, why_len, "CRL file %s: holds something other than CRLs", path);
            count = -1;
        } else if (X509_STORE_add_crl(store, info->crl) != 1) {
            snprintf(why, why_len, "CRL file %s: CRL %d cannot be added", path, i + 1);
            count = -1;
        } else {
            count++;
        }
    }
    if (count == 0)
        snprintf(why, why_len, "CRL file %s: holds no CRL", path);
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    ERR_clear_error();
    return count > 0 ? count : -1;
}

rk_identity_cert_trust_t *rk_identity_cert_trust_load(const char *anchors_pem_path,
                                                      const char *crl_pem_path, char *why,
                                                      size_t why_len)
{
    rk_identity_cert_trust_t *trust = rk_xcalloc(1, sizeof(*trust));
    trust->store = X509_STORE_new();
    if (!trust->store) {
        snprintf(why, why_len, "cannot make a certificate store");
        goto err;
    }
    if (!anchors_pem_path) {
        snprintf(why, why_len, "trust anchors: no file given");
        goto err;
    }
    if (add_anchors(trust->store, anchors_pem_path, why, why_len) < 0)
        goto err;
    if (crl_pem_path) {
        trust->crl_count = add_crls(trust->store, crl_pem_path, why, why_len);
        if (trust->crl_count < 0)
            goto err;
    }
    return trust;
err:
    rk_identity_cert_trust_free(trust);
    return NULL;
}

void rk_identity_cert_trust_free(rk_identity_cert_trust_t *trust)
{
    if (!trust)
        return;
    X509_STORE_free(trust->store);
    free(trust);
}

/* --- algorithms ----------------------------------------------------------------------------- */

typedef enum { ALG_ES256, ALG_RS256, ALG_PS256, ALG_NONE } alg_t;

static const char *const alg_names[] = {"ES256", "RS256", "PS256"};

static alg_t alg_parse(const char *name)
{
    for (int i = 0; i < ALG_NONE; i++) {
        if (name && strcmp(name, alg_names[i]) == 0)
            return (alg_t)i;
    }
    return ALG_NONE;
}

static int is_p256(const EVP_PKEY *key)
{
    char group[64];
    size_t len = 0;
    return EVP_PKEY_is_a(key, "EC") &&
           EVP_PKEY_get_group_name(key, group, sizeof(group), &len) == 1 &&
           OBJ_sn2nid(group) == NID_X9_62_prime256v1;
}

/* RK_OK when alg fits key: ES256 an EC P-256 key, RS256 and PS256 an RSA key of 2048 bits or
 * more (PS256 also an RSA-PSS key). Else RK_EDENIED with why. */
static int alg_fits_key(alg_t alg, const EVP_PKEY *key, const char **why)
{
    int rsa = EVP_PKEY_is_a(key, "RSA") || (alg == ALG_PS256 && EVP_PKEY_is_a(key, "RSA-PSS"));
    if (alg == ALG_ES256 ? !is_p256(key) : !rsa) {
        *why = "alg: does not fit the certificate's key";
        return RK_EDENIED;
    }
    if (alg != ALG_ES256 && EVP_PKEY_get_bits(key) < RK_IDENTITY_CERT_LOGIN_RSA_MIN_BITS) {
        *why = "certificate: RSA key shorter than 2048 bits";
        return RK_EDENIED;
    }
    return RK_OK;
}

/* A digest context for alg over key, to sign (sign 1) or verify; NULL on failure. */
static EVP_MD_CTX *digest_context(alg_t alg, EVP_PKEY *key, int sign)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = md && (sign ? EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key)
                         : EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key)) == 1;
    if (ok && alg == ALG_PS256)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, PSS_SALT_BYTES) == 1;
    else if (ok && alg == ALG_RS256)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    if (!ok) {
        EVP_MD_CTX_free(md);
        return NULL;
    }
    return md;
}

/* 1 when signature (JOSE form: r || s for ES256) verifies over message with key under alg. */
static int signature_verifies(alg_t alg, EVP_PKEY *key, const unsigned char *message,
                              size_t message_len, const unsigned char *signature,
                              size_t signature_len)
{
    unsigned char *der = NULL;
    int der_len = 0, ok = 0;
    if (alg == ALG_ES256) {
        ECDSA_SIG *sig = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(signature, ES256_SIGNATURE_BYTES / 2, NULL);
        BIGNUM *s =
            BN_bin2bn(signature + ES256_SIGNATURE_BYTES / 2, ES256_SIGNATURE_BYTES / 2, NULL);
        if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
            r = s = NULL;
            der_len = i2d_ECDSA_SIG(sig, &der);
        }
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        if (der_len <= 0)
            return 0;
        signature = der;
        signature_len = (size_t)der_len;
    }
    EVP_MD_CTX *md = digest_context(alg, key, 0);
    if (md)
        ok = EVP_DigestVerify(md, signature, signature_len, message, message_len) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    return ok;
}

/* --- verification --------------------------------------------------------------------------- */

typedef struct response {
    const char *challenge;
    alg_t alg;
    const char *signature; /* base64url */
    json_t *certificates;  /* array of base64 strings */
} response_t;

/* Reads the members of a parsed response into r; RK_OK or RK_EINVAL with why. */
static int read_members(json_t *root, response_t *r, const char **why)
{
    if (!json_is_object(root)) {
        *why = "response: not a JSON object";
        return RK_EINVAL;
    }
    const char *name;
    json_t *value;
    json_object_foreach(root, name, value)
    {
        if (strcmp(name, "v") != 0 && strcmp(name, "challenge") != 0 &&
            strcmp(name, "certificate") != 0 && strcmp(name, "signature") != 0 &&
            strcmp(name, "alg") != 0) {
            *why = "response: has a member other than v, challenge, certificate, signature and "
                   "alg";
            return RK_EINVAL;
        }
    }
    json_t *v = json_object_get(root, "v");
    if (!json_is_integer(v) || json_integer_value(v) != RK_IDENTITY_CERT_LOGIN_VERSION) {
        *why = "v: must be 1";
        return RK_EINVAL;
    }
    if (!(r->challenge = json_string_value(json_object_get(root, "challenge")))) {
        *why = "challenge: must be a string";
        return RK_EINVAL;
    }
    if ((r->alg = alg_parse(json_string_value(json_object_get(root, "alg")))) == ALG_NONE) {
        *why = "alg: must be ES256, RS256 or PS256";
        return RK_EINVAL;
    }
    if (!(r->signature = json_string_value(json_object_get(root, "signature")))) {
        *why = "signature: must be a string";
        return RK_EINVAL;
    }
    r->certificates = json_object_get(root, "certificate");
    size_t count = json_array_size(r->certificates);
    int strings =
        json_is_array(r->certificates) && count >= 1 && count <= RK_IDENTITY_CERT_LOGIN_MAX_CERTS;
    for (size_t i = 0; strings && i < count; i++)
        strings = json_is_string(json_array_get(r->certificates, i));
    if (!strings) {
        *why = "certificate: must be an array of 1 to 4 base64 strings";
        return RK_EINVAL;
    }
    return RK_OK;
}

/* The certificate in base64 DER text, which it must fill exactly; NULL when it does not. When
 * digest is not NULL it receives the SHA-256 of the DER bytes. */
static X509 *certificate_of(const char *text, unsigned char digest[SHA256_DIGEST_LENGTH])
{
    size_t len = strlen(text);
    unsigned char *der = rk_xmalloc(len / 4 * 3 + 3);
    long der_len = base64_decode(text, len, 0, der);
    const unsigned char *p = der;
    X509 *cert = der_len > 0 ? d2i_X509(NULL, &p, der_len) : NULL;
    if (cert && p != der + der_len) {
        X509_free(cert);
        cert = NULL;
    }
    if (cert && digest)
        SHA256(der, (size_t)der_len, digest);
    free(der);
    return cert;
}

/* The sentence for a failed X509_verify_cert(); error depth 0 is the leaf. */
static const char *chain_why(int error, int depth)
{
    switch (error) {
    case X509_V_ERR_CERT_REVOKED:
        return depth == 0 ? "certificate: revoked" : "certificate: an issuing CA is revoked";
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return depth == 0 ? "certificate: expired" : "certificate: an issuing CA has expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return depth == 0 ? "certificate: not yet valid"
                          : "certificate: an issuing CA is not yet valid";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
        return "certificate: does not chain to a trust anchor";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
        return "certificate: a signature in its chain does not verify";
    case X509_V_ERR_UNABLE_TO_GET_CRL:
        return "certificate: no CRL from its issuer is loaded";
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
        return "certificate: its issuer's CRL is out of date";
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
        return "certificate: its issuer's CRL does not verify";
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
        return "certificate: an issuer in its chain may not issue certificates";
    case X509_V_ERR_INVALID_EXTENSION:
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
    case X509_V_ERR_INVALID_POLICY_EXTENSION:
        return "certificate: an extension in its chain is invalid or not understood";
    default:
        return "certificate: does not verify";
    }
}

/* Verifies the chain from certs[0] at now; RK_OK, RK_EDENIED with why, or RK_EIO. */
static int chain_verifies(const rk_identity_cert_trust_t *trust, STACK_OF(X509) * certs,
                          long long now, const char **why)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int rc = RK_EIO;
    *why = "certificate: cannot be verified (internal error)";
    for (int i = 1; untrusted && i < sk_X509_num(certs); i++) {
        if (!sk_X509_push(untrusted, sk_X509_value(certs, i)))
            goto out;
    }
    if (!ctx || !untrusted ||
        X509_STORE_CTX_init(ctx, trust->store, sk_X509_value(certs, 0), untrusted) != 1)
        goto out;
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, (time_t)now);
    X509_VERIFY_PARAM_set_depth(param, MAX_CHAIN_DEPTH);
    if (trust->crl_count > 0)
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK);
    int verified = X509_verify_cert(ctx);
    if (verified == 1) {
        rc = RK_OK;
        *why = NULL;
    } else if (verified == 0) {
        rc = RK_EDENIED;
        *why = chain_why(X509_STORE_CTX_get_error(ctx), X509_STORE_CTX_get_error_depth(ctx));
    }
out:
    sk_X509_free(untrusted); /* the certificates belong to certs */
    X509_STORE_CTX_free(ctx);
    return rc;
}

/* The RFC 2253 subject in UTF-8 into out (truncated on a character boundary). */
static void subject_text(X509_NAME *name, char *out, size_t size)
{
    /* UTF-8 when the name's strings convert; else every value as hex DER (#…), all ASCII. */
    static const unsigned long flags[] = {XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB,
                                          XN_FLAG_RFC2253 | ASN1_STRFLGS_DUMP_ALL};
    out[0] = '\0';
    for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *text = NULL;
        long len = bio && X509_NAME_print_ex(bio, name, 0, flags[f]) >= 0
                       ? BIO_get_mem_data(bio, &text)
                       : -1;
        if (len >= 0) {
            size_t n = (size_t)len < size - 1 ? (size_t)len : size - 1;
            while (n > 0 && (size_t)len > n && ((unsigned char)text[n] & 0xc0) == 0x80)
                n--;
            memcpy(out, text, n);
            out[n] = '\0';
        }
        BIO_free(bio);
        if (len >= 0)
            break;
    }
    ERR_clear_error();
}

/* 1 with *epoch the seconds since 1970 of t; 0 when t is malformed. */
static int epoch_of(const ASN1_TIME *t, long long *epoch)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    *epoch = (long long)timegm(&tm);
    return 1;
}

/* Fills out from the verified leaf; RK_OK, or RK_EIO when OpenSSL cannot encode or hash. */
static int describe(X509 *leaf, const unsigned char digest[SHA256_DIGEST_LENGTH],
                    rk_identity_cert_subject_t *out)
{
    hex_of(digest, SHA256_DIGEST_LENGTH, out->fingerprint);

    unsigned char *issuer = NULL, *subject = NULL, key[SHA256_DIGEST_LENGTH];
    int issuer_len = i2d_X509_NAME(X509_get_issuer_name(leaf), &issuer);
    int subject_len = i2d_X509_NAME(X509_get_subject_name(leaf), &subject);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int hashed =
        issuer_len > 0 && subject_len > 0 && md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
        EVP_DigestUpdate(md, issuer, (size_t)issuer_len) &&
        EVP_DigestUpdate(md, subject, (size_t)subject_len) && EVP_DigestFinal_ex(md, key, NULL);
    EVP_MD_CTX_free(md);
    OPENSSL_free(issuer);
    OPENSSL_free(subject);
    if (!hashed)
        return RK_EIO;
    hex_of(key, sizeof(key), out->key);

    subject_text(X509_get_subject_name(leaf), out->subject, sizeof(out->subject));

    BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
    char *hex = serial ? BN_bn2hex(serial) : NULL;
    if (hex) {
        for (char *c = hex; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
        snprintf(out->serial, sizeof(out->serial), "%s", hex);
    }
    OPENSSL_free(hex);
    BN_free(serial);

    return epoch_of(X509_get0_notAfter(leaf), &out->not_after) ? RK_OK : RK_EIO;
}

int rk_identity_cert_login_verify(const rk_identity_cert_trust_t *trust,
                                  const char *expected_challenge, const char *response,
                                  size_t response_len, long long now,
                                  rk_identity_cert_subject_t *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    if (!trust) {
        *why = "certificate: no trust anchors are configured";
        return RK_EDENIED;
    }
    if (!response || response_len == 0) {
        *why = "response: empty";
        return RK_EINVAL;
    }
    if (response_len > RK_IDENTITY_CERT_LOGIN_MAX_BYTES) {
        *why = "response: larger than 16 KiB";
        return RK_EINVAL;
    }
    if (!nesting_bounded(response, response_len)) {
        *why = "response: nested too deeply";
        return RK_EINVAL;
    }
    json_t *root =
        json_loadb(response, response_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    STACK_OF(X509) *certs = sk_X509_new_null();
    unsigned char *signature = NULL, leaf_digest[SHA256_DIGEST_LENGTH];
    response_t r = {0};
    int rc = RK_EINVAL;
    if (!root) {
        *why = "response: not valid JSON";
        goto out;
    }
    if (!certs) {
        rc = RK_EIO;
        *why = "response: cannot be read (internal error)";
        goto out;
    }
    if ((rc = read_members(root, &r, why)) != RK_OK)
        goto out;
    if (!rk_secret_equal(r.challenge, expected_challenge)) {
        rc = RK_EDENIED;
        *why = "challenge: does not match";
        goto out;
    }

    for (size_t i = 0; i < json_array_size(r.certificates); i++) {
        X509 *cert = certificate_of(json_string_value(json_array_get(r.certificates, i)),
                                    i == 0 ? leaf_digest : NULL);
        if (!cert || !sk_X509_push(certs, cert)) {
            X509_free(cert);
            rc = RK_EINVAL;
            *why = "certificate: must be base64 of DER X.509 certificates";
            goto out;
        }
    }
    size_t signature_text_len = strlen(r.signature);
    signature = rk_xmalloc(signature_text_len / 4 * 3 + 3);
    long signature_len = base64_decode(r.signature, signature_text_len, 1, signature);
    if (signature_len <= 0 || signature_len > MAX_SIGNATURE_BYTES ||
        (r.alg == ALG_ES256 && signature_len != ES256_SIGNATURE_BYTES)) {
        rc = RK_EINVAL;
        *why = r.alg == ALG_ES256 && signature_len > 0
                   ? "signature: ES256 takes 64 bytes (r || s)"
                   : "signature: must be base64url without padding";
        goto out;
    }

    X509 *leaf = sk_X509_value(certs, 0);
    rc = RK_EDENIED;
    long long not_before = 0, not_after = 0;
    if (!epoch_of(X509_get0_notBefore(leaf), &not_before) ||
        !epoch_of(X509_get0_notAfter(leaf), &not_after)) {
        rc = RK_EINVAL;
        *why = "certificate: its validity period is malformed";
        goto out;
    }
    if (now < not_before) {
        *why = "certificate: not yet valid";
        goto out;
    }
    if (now > not_after) {
        *why = "certificate: expired";
        goto out;
    }
    if ((rc = chain_verifies(trust, certs, now, why)) != RK_OK)
        goto out;
    rc = RK_EDENIED;
    if (X509_check_ca(leaf) != 0) {
        *why = "certificate: is a CA certificate, not a resident's";
        goto out;
    }
    if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
        !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE)) {
        *why = "certificate: keyUsage does not allow digitalSignature";
        goto out;
    }
    EVP_PKEY *key = X509_get0_pubkey(leaf);
    if (!key) {
        *why = "certificate: its public key cannot be read";
        goto out;
    }
    if ((rc = alg_fits_key(r.alg, key, why)) != RK_OK)
        goto out;
    if (!signature_verifies(r.alg, key, (const unsigned char *)r.challenge, strlen(r.challenge),
                            signature, (size_t)signature_len)) {
        rc = RK_EDENIED;
        *why = "signature: does not verify";
        goto out;
    }
    if ((rc = describe(leaf, leaf_digest, out)) != RK_OK) {
        memset(out, 0, sizeof(*out));
        *why = "certificate: cannot be described (internal error)";
        goto out;
    }
    *why = NULL;
out:
    free(signature);
    sk_X509_pop_free(certs, X509_free);
    json_decref(root);
    ERR_clear_error();
    return rc;
}

/* --- signing -------------------------------------------------------------------------------- */

/* The JOSE signature of message with key under alg (r || s for ES256), base64url; or NULL. */
static char *sign_base64url(alg_t alg, EVP_PKEY *key, const char *message)
{
    size_t message_len = strlen(message), len = 0;
    EVP_MD_CTX *md = digest_context(alg, key, 1);
    unsigned char *der = NULL;
    char *text = NULL;
    if (!md || EVP_DigestSign(md, NULL, &len, (const unsigned char *)message, message_len) != 1)
        goto out;
    der = rk_xmalloc(len);
    if (EVP_DigestSign(md, der, &len, (const unsigned char *)message, message_len) != 1)
        goto out;
    if (alg == ALG_ES256) {
        unsigned char raw[ES256_SIGNATURE_BYTES];
        const unsigned char *p = der;
        ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
        int ok = sig &&
                 BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, ES256_SIGNATURE_BYTES / 2) ==
                     ES256_SIGNATURE_BYTES / 2 &&
                 BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + ES256_SIGNATURE_BYTES / 2,
                              ES256_SIGNATURE_BYTES / 2) == ES256_SIGNATURE_BYTES / 2;
        ECDSA_SIG_free(sig);
        if (ok)
            text = base64_encode(raw, sizeof(raw), 1);
    } else {
        text = base64_encode(der, len, 1);
    }
out:
    free(der);
    EVP_MD_CTX_free(md);
    return text;
}

char *rk_identity_cert_login_sign(EVP_PKEY *key, STACK_OF(X509) * chain, const char *challenge,
                                  const char *alg_name, const char **why)
{
    int count = chain ? sk_X509_num(chain) : 0;
    if (!key) {
        *why = "key: none given";
        return NULL;
    }
    if (count < 1 || count > RK_IDENTITY_CERT_LOGIN_MAX_CERTS) {
        *why = "certificate: give the leaf and at most 3 intermediates";
        return NULL;
    }
    if (!challenge) {
        *why = "challenge: none given";
        return NULL;
    }
    X509 *leaf = sk_X509_value(chain, 0);
    alg_t alg = alg_name ? alg_parse(alg_name) : is_p256(key) ? ALG_ES256 : ALG_RS256;
    if (alg == ALG_NONE) {
        *why = "alg: must be ES256, RS256 or PS256";
        return NULL;
    }
    char *out = NULL, *signature = NULL;
    json_t *certificates = json_array(), *response = NULL;
    if (X509_check_private_key(leaf, key) != 1) {
        *why = "key: does not belong to the certificate";
        goto out;
    }
    if (alg_fits_key(alg, key, why) != RK_OK) {
        if (!alg_name && !EVP_PKEY_is_a(key, "RSA"))
            *why = "key: must be an EC P-256 or RSA key";
        goto out;
    }
    for (int i = 0; i < count; i++) {
        unsigned char *der = NULL;
        int der_len = i2d_X509(sk_X509_value(chain, i), &der);
        if (der_len <= 0) {
            *why = "certificate: cannot be encoded";
            goto out;
        }
        char *text = base64_encode(der, (size_t)der_len, 0);
        json_array_append_new(certificates, json_string(text));
        free(text);
        OPENSSL_free(der);
    }
    json_t *challenge_value = json_string(challenge);
    if (!challenge_value) {
        *why = "challenge: must be UTF-8 text";
        goto out;
    }
    if (!(signature = sign_base64url(alg, key, challenge))) {
        json_decref(challenge_value);
        *why = "key: cannot sign";
        goto out;
    }
    response = json_pack("{s:i, s:o, s:O, s:s, s:s}", "v", RK_IDENTITY_CERT_LOGIN_VERSION,
                         "challenge", challenge_value, "certificate", certificates, "signature",
                         signature, "alg", alg_names[alg]);
    char *text = response ? json_dumps(response, JSON_COMPACT) : NULL;
    if (!text) {
        *why = "response: cannot be encoded";
    } else if (strlen(text) > RK_IDENTITY_CERT_LOGIN_MAX_BYTES) {
        *why = "response: larger than 16 KiB; shorten the challenge or the chain";
    } else {
        out = rk_xstrdup(text);
    }
    free(text);
out:
    free(signature);
    json_decref(response);
    json_decref(certificates);
    ERR_clear_error();
    return out;
}
