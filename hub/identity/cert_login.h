/*
 * cert_login.h — certificate login: a resident proves possession of the private key of an
 * X.509 certificate issued by a CA the hub trusts, the way the My Number card's user
 * certificate (利用者証明用電子証明書) is used to log in.
 *
 * The login page shows a challenge; the resident's tool (`renkeictl cert-login-sign`) signs
 * its UTF-8 bytes with the certificate's key and prints a one-line JSON response:
 *
 *   {"v":1,"challenge":"…","certificate":["base64 DER leaf","base64 DER intermediate",…],
 *    "signature":"base64url","alg":"ES256"|"RS256"|"PS256"}
 *
 * The hub checks that the response answers exactly the challenge it issued, that the leaf
 * chains to a configured trust anchor at the given time and is not revoked, that its keyUsage
 * allows digitalSignature, and that the signature verifies with the leaf's key under an alg
 * that fits the key. The account is bound to rk_identity_cert_subject_t.key, which survives
 * the re-issue of the same person's certificate by the same CA. Minting challenges, their
 * freshness and the binding to accounts belong to the caller (the login handler).
 *
 * Pure: the trust anchors and CRLs are read once at start-up (rk_identity_cert_trust_load());
 * verification does no I/O and may run on any thread (the trust object is read-only).
 * Signing (rk_identity_cert_login_sign()) is here so that the tool and the tests produce
 * exactly what the verifier reads.
 */
#ifndef RK_IDENTITY_CERT_LOGIN_H
#define RK_IDENTITY_CERT_LOGIN_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

#define RK_IDENTITY_CERT_LOGIN_VERSION 1
/** The largest response accepted, in bytes. */
#define RK_IDENTITY_CERT_LOGIN_MAX_BYTES 16384
/** The most certificates a response carries: the leaf and up to three intermediates. */
#define RK_IDENTITY_CERT_LOGIN_MAX_CERTS 4
/** The smallest RSA key accepted, in bits. */
#define RK_IDENTITY_CERT_LOGIN_RSA_MIN_BITS 2048

/** Trust anchors and CRLs; opaque, immutable once loaded. */
typedef struct rk_identity_cert_trust rk_identity_cert_trust_t;

/**
 * Loads the trust anchors from anchors_pem_path (PEM, one or more CA certificates and nothing
 * else) and, when crl_pem_path is not NULL, the CRLs in it (PEM, one or more CRLs and nothing
 * else). With CRLs loaded every leaf is checked for revocation and must have a current CRL
 * from its issuer; without, revocation is not checked. Blocking file I/O: call at start-up.
 * Returns the trust (free with rk_identity_cert_trust_free()), or NULL with why filled
 * (names the file and what is wrong with it).
 */
rk_identity_cert_trust_t *rk_identity_cert_trust_load(const char *anchors_pem_path,
                                                      const char *crl_pem_path, char *why,
                                                      size_t why_len);

/** Frees a trust; NULL is allowed. */
void rk_identity_cert_trust_free(rk_identity_cert_trust_t *trust);

/** Who logged in: what a verified response says about its certificate. */
typedef struct rk_identity_cert_subject {
    char key[65];         /* hex SHA-256 over DER(issuer name) || DER(subject name): what an
                             account is bound to; survives re-issue by the same CA */
    char fingerprint[65]; /* hex SHA-256 of the leaf certificate's DER (for logs) */
    char subject[256];    /* RFC 2253 one-line subject DN in UTF-8, truncated; personal data:
                             never log it */
    char serial[80];      /* the leaf's serial number, hex, truncated */
    long long not_after;  /* the leaf's notAfter, epoch seconds */
} rk_identity_cert_subject_t;

/**
 * Verifies a login response (response_len bytes, not necessarily NUL-terminated) for exactly
 * expected_challenge at time now (epoch seconds), against trust (NULL refuses every response:
 * no anchors are configured). Every byte of the response is treated as hostile. Checks, in
 * order: the JSON shape (at most RK_IDENTITY_CERT_LOGIN_MAX_BYTES, v 1, no other members, at
 * most RK_IDENTITY_CERT_LOGIN_MAX_CERTS certificates), the challenge (constant time), the
 * leaf's validity period, the chain to a trust anchor (given intermediates are untrusted
 * helpers) with the leaf's revocation when CRLs were loaded, that the leaf is not a CA, its
 * keyUsage, and the signature.
 *
 * Returns RK_OK with *out filled; RK_EINVAL when the response is malformed; RK_EDENIED when it
 * is well formed but refused; RK_EIO when OpenSSL fails internally. On failure *why is a short
 * stable sentence naming the check ("certificate: revoked", "signature: does not verify",
 * "challenge: does not match", "response: not valid JSON", …), safe to log and to show.
 */
int rk_identity_cert_login_verify(const rk_identity_cert_trust_t *trust,
                                  const char *expected_challenge, const char *response,
                                  size_t response_len, long long now,
                                  rk_identity_cert_subject_t *out, const char **why);

/**
 * Signs challenge (UTF-8 text) with key and returns the one-line JSON response (no newline)
 * that rk_identity_cert_login_verify() reads. chain holds the leaf certificate first (it must
 * belong to key), then any intermediates, at most RK_IDENTITY_CERT_LOGIN_MAX_CERTS in all;
 * neither is taken over. alg is "ES256" (EC P-256 key), "RS256" or "PS256" (RSA key of at
 * least 2048 bits), or NULL to pick ES256 or RS256 from the key. Returns the text (the caller
 * frees it with free()), or NULL with *why naming the argument and the rule.
 */
char *rk_identity_cert_login_sign(EVP_PKEY *key, STACK_OF(X509) * chain, const char *challenge,
                                  const char *alg, const char **why);

#endif
