/*
 * authz_request.h — an authorization request (OpenID Connect Core §3.1.2.1): its parameters,
 * their rules, and the signed form that carries it through the login and consent pages.
 *
 * The authorize endpoint checks a request in two stages, because where errors go depends on
 * what is known: until the client and its redirect URI are confirmed, an error is shown on a
 * page of the provider (never a redirect, or the provider becomes an open redirector); after,
 * errors go back to the client at redirect_uri with error, error_description and state.
 * rk_identity_authz_parse() takes the parameters, rk_identity_authz_validate() applies the
 * second stage's rules once the client is known.
 *
 * While the resident logs in or consents, the request travels in the page as a "tx": the
 * parameters as JSON, with the realm and an expiry, in base64url, followed by an HMAC-SHA256
 * under a key derived from the master key. Nothing is stored for a login in progress, and a
 * tx cannot be forged, moved to another realm, or used after RK_IDENTITY_TX_TTL.
 *
 * Pure functions over a request arena; used by authorize.c, tested by tests/unit/identity.
 */
#ifndef RK_IDENTITY_AUTHZ_REQUEST_H
#define RK_IDENTITY_AUTHZ_REQUEST_H

#include "core/mem.h"
#include "identity/form.h"
#include "identity/secret_text.h"

#define RK_IDENTITY_ACR_PASSWORD "urn:renkei:acr:password"
#define RK_IDENTITY_ACR_CERTIFICATE "urn:renkei:acr:certificate"
#define RK_IDENTITY_TX_TTL 1800          /* seconds a login or consent page stays usable */
#define RK_IDENTITY_AUTHZ_MAX_VALUE 2048 /* the longest parameter (claims) */

/* Levels of assurance, in the order acr values rank. */
typedef enum {
    RK_IDENTITY_LOA_ANY = 0,
    RK_IDENTITY_LOA_PASSWORD = 1,
    RK_IDENTITY_LOA_CERTIFICATE = 2,
} rk_identity_loa_t;

#define RK_IDENTITY_PROMPT_NONE 0x1u
#define RK_IDENTITY_PROMPT_LOGIN 0x2u
#define RK_IDENTITY_PROMPT_CONSENT 0x4u
#define RK_IDENTITY_PROMPT_SELECT_ACCOUNT 0x8u

typedef struct rk_identity_authz {
    /* Parameters as sent (NULL when absent); strings live in the arena. */
    const char *client_id;
    const char *redirect_uri;
    const char *response_type;
    const char *response_mode;
    const char *scope;
    const char *state;
    const char *nonce;
    const char *code_challenge;
    const char *code_challenge_method;
    const char *prompt;
    const char *max_age;
    const char *ui_locales;
    const char *acr_values;
    const char *claims;
    const char *login_hint;
    const char *unsupported; /* request, request_uri or registration when sent */
    const char *oversized;   /* a parameter over its bound, refused by validate */
    int account;             /* no client: the resident's own account page (account.c) */
    /* Set by rk_identity_authz_validate(). */
    unsigned prompts;          /* RK_IDENTITY_PROMPT_* */
    long long max_age_s;       /* -1 when absent */
    rk_identity_loa_t min_loa; /* what the authentication must reach (acr_values, claims) */
    int acr_essential;         /* the claims parameter made acr essential */
} rk_identity_authz_t;

/** The acr value of a level ("" for RK_IDENTITY_LOA_ANY). */
const char *rk_identity_loa_acr(rk_identity_loa_t loa);
/** The level an acr value names; RK_IDENTITY_LOA_ANY for anything else. */
rk_identity_loa_t rk_identity_loa_of(const char *acr);

/**
 * Reads the parameters of an authorization request (query or form body) into authz. The
 * first stage: RK_OK when client_id and redirect_uri are present and the request may be
 * answered by redirect once they are confirmed; RK_EINVAL with *why otherwise (the caller
 * shows an error page). Parameters that the provider does not support but that require an
 * answer (request, request_uri, registration) are left to rk_identity_authz_validate().
 */
int rk_identity_authz_parse(const rk_identity_form_t *form, rk_identity_authz_t *authz,
                            const char **why);

/**
 * The second stage, for a client already found with this redirect_uri registered: response
 * type "code", response mode "query", "openid" in scope, PKCE (S256 only; required when
 * public_client), prompt, max_age, acr_values and the claims parameter's acr. RK_OK with the
 * derived fields set, or RK_EINVAL with *error (an OAuth error code for the redirect) and
 * *why (its description, naming the parameter).
 */
int rk_identity_authz_validate(rk_identity_authz_t *authz, int public_client, const char **error,
                               const char **why);

/** The signed tx for authz in realm, valid until now + RK_IDENTITY_TX_TTL (in the arena). */
char *rk_identity_authz_seal(rk_arena_t *arena, const rk_identity_authz_t *authz, const char *realm,
                             long long now, const unsigned char key[RK_IDENTITY_DERIVED_KEY_LEN]);

/**
 * Opens a tx made by rk_identity_authz_seal() for realm: RK_OK with authz filled (parsed and
 * validated again, so its derived fields are set), or RK_EINVAL with *why when the signature,
 * the realm or the expiry does not hold, or it is not a tx at all.
 */
int rk_identity_authz_open(rk_arena_t *arena, const char *tx, const char *realm, long long now,
                           const unsigned char key[RK_IDENTITY_DERIVED_KEY_LEN],
                           rk_identity_authz_t *authz, const char **why);

#endif
