/*
 * tsa.c — RFC 3161 requests and verification with OpenSSL's TS API (see tsa.h).
 *
 * A TS_VERIFY_CTX owns what it is given (imprint, nonce, store), so each check hands it copies
 * and a new reference to the store.
 */
#include "exchange/tsa.h"

#include "core/error.h"
#include "core/mem.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

X509_STORE *rk_exchange_tsa_store_load(const char *ca_file, char *why, size_t why_len)
{
    X509_STORE *store = X509_STORE_new();
    int n = store ? X509_STORE_load_file(store, ca_file) : 0;
    if (n != 1) {
        snprintf(why, why_len, "%s: cannot read PEM CA certificates", ca_file);
        X509_STORE_free(store);
        return NULL;
    }
    return store;
}

/* The TimeStampReq for hash and nonce (what the reply is checked against, too), or NULL. */
static TS_REQ *build_request(const unsigned char hash[32], uint64_t nonce)
{
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *imprint = TS_MSG_IMPRINT_new();
    X509_ALGOR *algo = X509_ALGOR_new();
    ASN1_INTEGER *asn1_nonce = ASN1_INTEGER_new();
    if (!req || !imprint || !algo || !asn1_nonce ||
        !X509_ALGOR_set0(algo, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) ||
        !TS_MSG_IMPRINT_set_algo(imprint, algo) ||
        !TS_MSG_IMPRINT_set_msg(imprint, (unsigned char *)hash, 32) ||
        !TS_REQ_set_version(req, 1) || !TS_REQ_set_msg_imprint(req, imprint) ||
        !ASN1_INTEGER_set_uint64(asn1_nonce, nonce) || !TS_REQ_set_nonce(req, asn1_nonce) ||
        !TS_REQ_set_cert_req(req, 1)) {
        TS_REQ_free(req);
        req = NULL;
    }
    ASN1_INTEGER_free(asn1_nonce);
    X509_ALGOR_free(algo);
    TS_MSG_IMPRINT_free(imprint);
    return req;
}

int rk_exchange_tsa_request(const unsigned char hash[32], uint64_t nonce, unsigned char **der,
                            size_t *len)
{
    TS_REQ *req = build_request(hash, nonce);
    *der = NULL;
    int n = req ? i2d_TS_REQ(req, der) : 0;
    TS_REQ_free(req);
    if (n <= 0)
        return RK_EIO;
    *len = (size_t)n;
    return RK_OK;
}

/*
 * A context that checks signature (chaining to store), version and imprint — and the nonce
 * when req is given (the request the reply answers; OpenSSL 3.0 sets a nonce only from one).
 */
static TS_VERIFY_CTX *verify_context(X509_STORE *store, const unsigned char hash[32], TS_REQ *req)
{
    TS_VERIFY_CTX *ctx = req ? TS_REQ_to_TS_VERIFY_CTX(req, NULL) : TS_VERIFY_CTX_new();
    if (!ctx || !X509_STORE_up_ref(store)) {
        TS_VERIFY_CTX_free(ctx);
        return NULL;
    }
    TS_VERIFY_CTX_set_store(ctx, store);
    if (!req) {
        unsigned char *imprint = OPENSSL_memdup(hash, 32);
        if (!imprint) {
            TS_VERIFY_CTX_free(ctx);
            return NULL;
        }
        TS_VERIFY_CTX_set_imprint(ctx, imprint, 32);
    }
    TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT |
                                     (req ? TS_VFY_NONCE : 0));
    return ctx;
}

/* genTime, the TSA's name, and that the imprint is SHA-256: RK_OK or RK_EINVAL with *why. */
static int describe(TS_TST_INFO *info, PKCS7 *token, rk_exchange_tsa_stamp_t *stamp,
                    const char **why)
{
    const ASN1_OBJECT *algorithm = NULL;
    X509_ALGOR_get0(&algorithm, NULL, NULL,
                    TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(info)));
    struct tm tm;
    if (OBJ_obj2nid(algorithm) != NID_sha256) {
        *why = "the token's imprint is not SHA-256";
        return RK_EINVAL;
    }
    if (!ASN1_TIME_to_tm(TS_TST_INFO_get_time(info), &tm)) {
        *why = "the token's genTime cannot be read";
        return RK_EINVAL;
    }
    strftime(stamp->gen_time, sizeof(stamp->gen_time), "%Y-%m-%dT%H:%M:%SZ", &tm);
    const X509_NAME *name = NULL;
    GENERAL_NAME *tsa = TS_TST_INFO_get_tsa(info);
    STACK_OF(X509) *signers = NULL;
    if (tsa && tsa->type == GEN_DIRNAME) {
        name = tsa->d.directoryName;
    } else if ((signers = PKCS7_get0_signers(token, NULL, 0)) && sk_X509_num(signers) > 0) {
        name = X509_get_subject_name(sk_X509_value(signers, 0));
    }
    stamp->tsa_name[0] = '\0';
    BIO *bio = BIO_new(BIO_s_mem());
    if (name && bio && X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
        int n = BIO_read(bio, stamp->tsa_name, (int)sizeof(stamp->tsa_name) - 1);
        stamp->tsa_name[n > 0 ? n : 0] = '\0';
    }
    BIO_free(bio);
    sk_X509_free(signers);
    return RK_OK;
}

int rk_exchange_tsa_check_reply(X509_STORE *store, const unsigned char *reply, size_t len,
                                const unsigned char hash[32], uint64_t nonce,
                                rk_exchange_tsa_stamp_t *stamp, const char **why)
{
    int rc = RK_EINVAL;
    const unsigned char *p = reply;
    TS_RESP *resp = len <= RK_EXCHANGE_TSA_REPLY_MAX ? d2i_TS_RESP(NULL, &p, (long)len) : NULL;
    TS_REQ *req = build_request(hash, nonce);
    TS_VERIFY_CTX *ctx = NULL;
    memset(stamp, 0, sizeof(*stamp));
    if (!resp || p != reply + len) {
        *why = "the reply is not one DER TimeStampResp";
        goto out;
    }
    if (!req || !(ctx = verify_context(store, hash, req))) {
        *why = "out of memory";
        goto out;
    }
    if (TS_RESP_verify_response(ctx, resp) != 1) {
        *why = "the reply does not verify (status, signature, certificate, imprint or nonce)";
        goto out;
    }
    PKCS7 *token = TS_RESP_get_token(resp);
    if (describe(TS_RESP_get_tst_info(resp), token, stamp, why) != RK_OK)
        goto out;
    unsigned char *der = NULL;
    int n = i2d_PKCS7(token, &der);
    if (n <= 0) {
        *why = "the token cannot be encoded";
        goto out;
    }
    stamp->token = rk_xmalloc((size_t)n);
    memcpy(stamp->token, der, (size_t)n);
    stamp->token_len = (size_t)n;
    rc = RK_OK;
    OPENSSL_free(der);
out:
    ERR_clear_error();
    TS_VERIFY_CTX_free(ctx);
    TS_REQ_free(req);
    TS_RESP_free(resp);
    return rc;
}

int rk_exchange_tsa_check_token(X509_STORE *store, const unsigned char *token, size_t len,
                                const unsigned char hash[32], rk_exchange_tsa_stamp_t *stamp,
                                const char **why)
{
    int rc = RK_EINVAL;
    const unsigned char *p = token;
    PKCS7 *pkcs7 = len <= RK_EXCHANGE_TSA_REPLY_MAX ? d2i_PKCS7(NULL, &p, (long)len) : NULL;
    TS_TST_INFO *info = NULL;
    TS_VERIFY_CTX *ctx = NULL;
    memset(stamp, 0, sizeof(*stamp));
    if (!pkcs7 || p != token + len || !(info = PKCS7_to_TS_TST_INFO(pkcs7))) {
        *why = "the token is not one DER TimeStampToken";
    } else if (!(ctx = verify_context(store, hash, NULL))) {
        *why = "out of memory";
    } else if (TS_RESP_verify_token(ctx, pkcs7) != 1) {
        *why = "the token does not verify (signature, TSA certificate or imprint)";
    } else {
        rc = describe(info, pkcs7, stamp, why);
    }
    ERR_clear_error();
    TS_VERIFY_CTX_free(ctx);
    TS_TST_INFO_free(info);
    PKCS7_free(pkcs7);
    return rc;
}
