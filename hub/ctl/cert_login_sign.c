/*
 * cert_login_sign.c — `renkeictl cert-login-sign`: signs a login challenge with a certificate's
 * private key, the resident's side of certificate login (hub/identity/cert_login.h).
 *
 *   renkeictl cert-login-sign --key KEY.pem --cert CERT.pem [--chain CHAIN.pem]
 *                             --challenge TEXT [--alg ES256|RS256|PS256]
 *
 * KEY.pem is the private key (PEM; an encrypted key asks for its pass phrase on the terminal);
 * CERT.pem holds the certificate first, and may hold intermediates after it; CHAIN.pem adds
 * intermediates. The alg is ES256 for an EC P-256 key and RS256 for RSA unless --alg says
 * PS256. It prints the one-line JSON response for the login page on stdout. Nothing here talks
 * to a hub: renkeictl's main() hands the options over untouched, before it reads --hub or
 * --json, so a challenge may be any text.
 */
#include "ctl/cert_login_sign.h"

#include "identity/cert_login.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct options {
    const char *key, *cert, *chain, *challenge, *alg;
} options_t;

static int usage(const char *problem)
{
    if (problem)
        fprintf(stderr, "renkeictl cert-login-sign: %s\n", problem);
    fprintf(stderr, "usage: renkeictl cert-login-sign --key KEY.pem --cert CERT.pem "
                    "[--chain CHAIN.pem]\n"
                    "                                 --challenge TEXT [--alg ES256|RS256|PS256]\n"
                    "  signs TEXT (the login page's challenge) with the certificate's private key\n"
                    "  and prints the response to paste into the page\n");
    return 2;
}

static int failure(const char *option, const char *path, const char *problem)
{
    if (path)
        fprintf(stderr, "renkeictl cert-login-sign: %s %s: %s\n", option, path, problem);
    else
        fprintf(stderr, "renkeictl cert-login-sign: %s: %s\n", option, problem);
    return 1;
}

static int parse(int argc, char **argv, options_t *o)
{
    for (int i = 0; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0)
            return usage(NULL);
        const char **slot = strcmp(opt, "--key") == 0         ? &o->key
                            : strcmp(opt, "--cert") == 0      ? &o->cert
                            : strcmp(opt, "--chain") == 0     ? &o->chain
                            : strcmp(opt, "--challenge") == 0 ? &o->challenge
                            : strcmp(opt, "--alg") == 0       ? &o->alg
                                                              : NULL;
        char problem[160];
        if (!slot) {
            snprintf(problem, sizeof(problem), "unknown option %.100s", opt);
            return usage(problem);
        }
        if (i + 1 >= argc) {
            snprintf(problem, sizeof(problem), "%s needs a value", opt);
            return usage(problem);
        }
        if (*slot) {
            snprintf(problem, sizeof(problem), "%s is given twice", opt);
            return usage(problem);
        }
        *slot = argv[++i];
    }
    if (!o->key || !o->cert || !o->challenge)
        return usage("--key, --cert and --challenge are required");
    if (o->alg && strcmp(o->alg, "ES256") != 0 && strcmp(o->alg, "RS256") != 0 &&
        strcmp(o->alg, "PS256") != 0)
        return usage("--alg must be ES256, RS256 or PS256");
    return 0;
}

/* Appends the certificates of path to chain; returns 0, or the exit status after reporting. */
static int read_certificates(const char *option, const char *path, STACK_OF(X509) * chain)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return failure(option, path, strerror(errno));
    int count = 0;
    X509 *cert;
    while ((cert = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(chain, cert)) {
            X509_free(cert);
            break;
        }
        count++;
    }
    unsigned long error = ERR_peek_last_error();
    int end_of_file =
        ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE;
    int bad = ferror(f) || (count > 0 && !end_of_file);
    fclose(f);
    ERR_clear_error();
    if (bad)
        return failure(option, path, "a certificate in it cannot be read");
    if (count == 0)
        return failure(option, path, "holds no PEM certificate");
    return 0;
}

static EVP_PKEY *read_key(const char *path, int *rc)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        *rc = failure("--key", path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ERR_clear_error();
    if (!key)
        *rc = failure("--key", path, "holds no PEM private key (or the pass phrase is wrong)");
    return key;
}

/* Reports why signing failed under the option it is about ("key: …" is about --key). */
static int sign_failure(const options_t *o, const char *why)
{
    static const struct {
        const char *prefix, *option;
    } about[] = {{"key: ", "--key"},
                 {"certificate: ", "--cert/--chain"},
                 {"challenge: ", "--challenge"},
                 {"alg: ", "--alg"}};
    for (size_t i = 0; i < sizeof(about) / sizeof(about[0]); i++) {
        size_t len = strlen(about[i].prefix);
        if (strncmp(why, about[i].prefix, len) == 0)
            return failure(about[i].option, i == 0 ? o->key : NULL, why + len);
    }
    return failure("cannot sign", NULL, why);
}

int rk_ctl_cert_login_sign(int argc, char **argv)
{
    options_t o = {0};
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    STACK_OF(X509) *chain = sk_X509_new_null();
    EVP_PKEY *key = NULL;
    if (!chain) {
        rc = failure("--cert", NULL, "out of memory");
        goto out;
    }
    if ((rc = read_certificates("--cert", o.cert, chain)) != 0)
        goto out;
    if (o.chain && (rc = read_certificates("--chain", o.chain, chain)) != 0)
        goto out;
    if (!(key = read_key(o.key, &rc)))
        goto out;
    const char *why = NULL;
    char *response = rk_identity_cert_login_sign(key, chain, o.challenge, o.alg, &why);
    if (!response) {
        rc = sign_failure(&o, why);
        goto out;
    }
    printf("%s\n", response);
    free(response);
    if (fflush(stdout) != 0)
        rc = failure("stdout", NULL, strerror(errno));
out:
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
    return rc;
}
