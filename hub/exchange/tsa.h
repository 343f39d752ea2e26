/*
 * tsa.h — RFC 3161 time-stamps of chain heads: the request, and checking replies and tokens.
 *
 * The message imprint is SHA-256 of the head entry's canonical JSON, which is its entry_hash:
 * a token therefore proves that the chain up to that entry existed at genTime, and anyone can
 * check it against the log with the TSA's CA certificate alone. Requests ask for the TSA's
 * certificate in the token (certReq) so that a token verifies without other files, and carry
 * a random nonce that the reply must echo.
 *
 * Pure (OpenSSL's TS API, no I/O): anchor.c sends the request and stores the token,
 * service.c re-verifies stored tokens for VerifyLogChain.
 */
#ifndef RK_EXCHANGE_TSA_H
#define RK_EXCHANGE_TSA_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#define RK_EXCHANGE_TSA_REPLY_MAX 65536

/** What a verified token says. */
typedef struct rk_exchange_tsa_stamp {
    char gen_time[32];    /* RFC 3339, UTC, whole seconds */
    char tsa_name[256];   /* the TSA's name in the token, else its certificate's subject */
    unsigned char *token; /* DER TimeStampToken (rk_exchange_tsa_check_reply only); free() */
    size_t token_len;
} rk_exchange_tsa_stamp_t;

/**
 * The CA certificates of a PEM file, as a store that checks time-stamping certificates.
 * NULL with why when the file cannot be read or holds no certificate.
 */
X509_STORE *rk_exchange_tsa_store_load(const char *ca_file, char *why, size_t why_len);

/**
 * A DER TimeStampReq for the SHA-256 imprint hash, with nonce and certReq. Returns RK_OK with
 * *der (OPENSSL_free() it) and *len, or RK_EIO.
 */
int rk_exchange_tsa_request(const unsigned char hash[32], uint64_t nonce, unsigned char **der,
                            size_t *len);

/**
 * Checks a TimeStampResp: granted, signed by a certificate that chains to store with the
 * time-stamping purpose, imprint SHA-256 equal to hash, nonce echoed. RK_OK with *stamp filled
 * (its token DER to store), or RK_EINVAL with *why.
 */
int rk_exchange_tsa_check_reply(X509_STORE *store, const unsigned char *reply, size_t len,
                                const unsigned char hash[32], uint64_t nonce,
                                rk_exchange_tsa_stamp_t *stamp, const char **why);

/**
 * Checks a stored DER TimeStampToken the same way (no nonce). RK_OK with *stamp filled (no
 * token copy), or RK_EINVAL with *why.
 */
int rk_exchange_tsa_check_token(X509_STORE *store, const unsigned char *token, size_t len,
                                const unsigned char hash[32], rk_exchange_tsa_stamp_t *stamp,
                                const char **why);

#endif
