/*
 * rpc_client_tls.h — the TLS material gRPC channels share: loaded once, held in memory.
 *
 * Verifying servers needs a CA store, and mutual TLS needs our certificate chain and key.
 * Reading them from disk is slow — the system's CA bundle takes 50–100 ms to parse — and a
 * channel is made on the event loop (a registry refresh, an activation probe), so the files
 * are read once, at start-up, into one rk_rpc_client_tls_t; every channel made with it shares
 * the same X509_STORE, certificate and key (SSL_CTX_set1_cert_store, SSL_CTX_use_cert_and_key:
 * reference counted, so the object may be freed while channels made with it live on).
 *
 * The federation module builds one from federation.ca_file (or the system's bundle) and
 * federation.client_cert_file / client_key_file; rpc_client.c applies it to each channel.
 */
#ifndef RK_NET_RPC_CLIENT_TLS_H
#define RK_NET_RPC_CLIENT_TLS_H

#include <stddef.h>

struct ssl_ctx_st;

typedef struct rk_rpc_client_tls rk_rpc_client_tls_t;

/** Empty material: no CA store, no identity. Free with rk_rpc_client_tls_free(). */
rk_rpc_client_tls_t *rk_rpc_client_tls_new(void);

/**
 * Loads the CAs that verify servers: every certificate of ca_file (PEM), or, when ca_file is
 * NULL or "", the system's bundle (SSL_CERT_FILE, else OpenSSL's default file; only if there
 * is no such file, the hashed directory, whose entries OpenSSL reads when it looks an issuer
 * up). Reads files: call at start-up. Replaces a store loaded before. RK_OK, or RK_EINVAL
 * with why naming the file and OpenSSL's reason.
 */
int rk_rpc_client_tls_load_ca(rk_rpc_client_tls_t *tls, const char *ca_file, char *why,
                              size_t why_len);

/**
 * Loads our identity for mutual TLS: the PEM certificate chain of cert_file (leaf first, then
 * intermediates) and the unencrypted PEM private key of key_file, which must match. Reads
 * files: call at start-up. RK_OK, or RK_EINVAL with why naming the file and the reason.
 */
int rk_rpc_client_tls_load_identity(rk_rpc_client_tls_t *tls, const char *cert_file,
                                    const char *key_file, char *why, size_t why_len);

/** 1 when a CA store was loaded. */
int rk_rpc_client_tls_has_ca(const rk_rpc_client_tls_t *tls);

/**
 * Shares tls with ctx: its CA store when trust is 1 (ctx verifies servers with it), and its
 * identity when one was loaded. Neither reads a file. RK_OK, or RK_EINVAL if OpenSSL refuses
 * the identity.
 */
int rk_rpc_client_tls_apply(const rk_rpc_client_tls_t *tls, struct ssl_ctx_st *ctx, int trust);

/** Frees tls; channels made with it keep their own references. NULL is allowed. */
void rk_rpc_client_tls_free(rk_rpc_client_tls_t *tls);

#endif
