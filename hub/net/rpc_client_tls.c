/*
 * rpc_client_tls.c — CA store and client identity read once, shared by channels (see
 * rpc_client_tls.h).
 *
 * The certificate chain is read the way SSL_CTX_use_certificate_chain_file() reads it (the
 * leaf with PEM_read_bio_X509_AUX, then every further certificate), but into memory, so that
 * SSL_CTX_use_cert_and_key() can give each channel's context the same objects. Private keys
 * are read with a password callback that refuses: a daemon must never stop to prompt on a
 * terminal for an encrypted key.
 */
#include "net/rpc_client_tls.h"

#include "core/error.h"
#include "core/mem.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>

struct rk_rpc_client_tls {
    X509_STORE *store;      /* NULL until a CA is loaded */
    X509 *cert;             /* our leaf, or NULL */
    STACK_OF(X509) * chain; /* the intermediates after it */
    EVP_PKEY *key;
};

/* OpenSSL's reason for the last failure ("no start line"), or a fallback; clears the queue. */
static const char *reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *text = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return text ? text : "unreadable";
}

static int no_password_cb(char *buf, int size, int rwflag, void *arg)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)arg;
    return -1;
}

rk_rpc_client_tls_t *rk_rpc_client_tls_new(void)
{
    return rk_xcalloc(1, sizeof(rk_rpc_client_tls_t));
}

/* The system's bundle file, or, when there is none, its hashed directory. */
static int load_system_store(X509_STORE *store, char *why, size_t why_len)
{
    const char *file = getenv(X509_get_default_cert_file_env());
    if (!file || !*file)
        file = X509_get_default_cert_file();
    if (X509_STORE_load_file(store, file) == 1)
        return RK_OK;
    ERR_clear_error();
    const char *dir = getenv(X509_get_default_cert_dir_env());
    if (!dir || !*dir)
        dir = X509_get_default_cert_dir();
    if (X509_STORE_load_path(store, dir) == 1)
        return RK_OK;
    snprintf(why, why_len, "the system has no CA bundle %s nor directory %s: %s", file, dir,
             reason());
    return RK_EINVAL;
}

int rk_rpc_client_tls_load_ca(rk_rpc_client_tls_t *tls, const char *ca_file, char *why,
                              size_t why_len)
{
    X509_STORE *store = X509_STORE_new();
    if (!store)
        abort();
    int rc = RK_OK;
    if (ca_file && *ca_file) {
        if (X509_STORE_load_file(store, ca_file) != 1) {
            snprintf(why, why_len, "cannot load CA certificates from %s: %s", ca_file, reason());
            rc = RK_EINVAL;
        }
    } else {
        rc = load_system_store(store, why, why_len);
    }
    if (rc != RK_OK) {
        X509_STORE_free(store);
        return rc;
    }
    X509_STORE_free(tls->store);
    tls->store = store;
    return RK_OK;
}

static void identity_clear(rk_rpc_client_tls_t *tls)
{
    X509_free(tls->cert);
    sk_X509_pop_free(tls->chain, X509_free);
    EVP_PKEY_free(tls->key);
    tls->cert = NULL;
    tls->chain = NULL;
    tls->key = NULL;
}

/* The leaf and the certificates after it; RK_OK or RK_EINVAL with why. */
static int read_chain(rk_rpc_client_tls_t *tls, const char *cert_file, char *why, size_t why_len)
{
    BIO *bio = BIO_new_file(cert_file, "r");
    if (!bio) {
        snprintf(why, why_len, "cannot open %s: %s", cert_file, reason());
        return RK_EINVAL;
    }
    tls->cert = PEM_read_bio_X509_AUX(bio, NULL, no_password_cb, NULL);
    if (!tls->cert) {
        snprintf(why, why_len, "no PEM certificate in %s: %s", cert_file, reason());
        BIO_free(bio);
        return RK_EINVAL;
    }
    tls->chain = sk_X509_new_null();
    X509 *next;
    while ((next = PEM_read_bio_X509(bio, NULL, no_password_cb, NULL)))
        sk_X509_push(tls->chain, next);
    /* The loop ends at the end of the file ("no start line"), or at a broken certificate. */
    unsigned long e = ERR_peek_last_error();
    BIO_free(bio);
    if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
        snprintf(why, why_len, "a certificate after the first in %s cannot be read: %s", cert_file,
                 reason());
        return RK_EINVAL;
    }
    ERR_clear_error();
    return RK_OK;
}

int rk_rpc_client_tls_load_identity(rk_rpc_client_tls_t *tls, const char *cert_file,
                                    const char *key_file, char *why, size_t why_len)
{
    BIO *bio = NULL;
    identity_clear(tls);
    if (read_chain(tls, cert_file, why, why_len) != RK_OK)
        goto err;
    bio = BIO_new_file(key_file, "r");
    if (!bio) {
        snprintf(why, why_len, "cannot open %s: %s", key_file, reason());
        goto err;
    }
    tls->key = PEM_read_bio_PrivateKey(bio, NULL, no_password_cb, NULL);
    BIO_free(bio);
    if (!tls->key) {
        snprintf(why, why_len, "no unencrypted PEM private key in %s: %s", key_file, reason());
        goto err;
    }
    if (X509_check_private_key(tls->cert, tls->key) != 1) {
        snprintf(why, why_len, "the key in %s does not belong to the certificate in %s: %s",
                 key_file, cert_file, reason());
        goto err;
    }
    return RK_OK;
err:
    identity_clear(tls);
    return RK_EINVAL;
}

int rk_rpc_client_tls_has_ca(const rk_rpc_client_tls_t *tls)
{
    return tls && tls->store != NULL;
}

int rk_rpc_client_tls_apply(const rk_rpc_client_tls_t *tls, SSL_CTX *ctx, int trust)
{
    if (trust && tls->store)
        SSL_CTX_set1_cert_store(ctx, tls->store);
    if (tls->cert && SSL_CTX_use_cert_and_key(ctx, tls->cert, tls->key, tls->chain, 1) != 1) {
        ERR_clear_error();
        return RK_EINVAL;
    }
    return RK_OK;
}

void rk_rpc_client_tls_free(rk_rpc_client_tls_t *tls)
{
    if (!tls)
        return;
    identity_clear(tls);
    X509_STORE_free(tls->store);
    free(tls);
}
