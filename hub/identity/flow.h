/*
 * flow.h — one resident's way through an authorization request: what authorize.c (the
 * /authorize endpoint and the decision after it) and login.c (the login and consent forms)
 * share.
 *
 * A flow starts from the request's parameters (authorize) or from the signed tx a page posted
 * back (login, consent); either way the client is looked up and checked again, then the SSO
 * session is read, and rk_identity_flow_decide() asks for a login, a consent, or issues the
 * code. Every step after a query looks the realm up again by slug.
 */
#ifndef RK_IDENTITY_FLOW_H
#define RK_IDENTITY_FLOW_H

#include "identity/authz_request.h"
#include "identity/identity.h"
#include "identity/lang.h"
#include "identity/pages.h"

#define RK_IDENTITY_SESSION_COOKIE "rk_sso"
#define RK_IDENTITY_CSRF_COOKIE "rk_csrf"
#define RK_IDENTITY_SESSION_TTL 28800 /* seconds of an SSO session: a working day */

typedef struct rk_identity_flow rk_identity_flow_t;
typedef void (*rk_identity_flow_step_fn)(rk_identity_flow_t *flow);

struct rk_identity_flow {
    rk_request_t *req;
    rk_identity_t *identity;
    const char *slug;
    const char *tenant_id; /* the realm's */
    rk_identity_authz_t authz;
    rk_lang_t lang;
    /* The client, copied when it was found. */
    const char *client_name;
    const char *service;
    const char *granted_scope;
    int first_party;
    int public_client;
    int grant_ttl; /* how long the grant lives: the refresh token lifetime */
    /* The SSO session: from the cookie, or made by this request's login. */
    const char *sid;
    const char *session_secret;
    int fresh_login;      /* authenticated in this request: prompt=login and max_age are met */
    int consent_approved; /* the consent form said yes in this request */
    rk_identity_flow_step_fn after_client; /* what runs once the client checks out */
    void *after_client_arg;                /* for it: the posted form */
};

/**
 * Starts a flow from authz (already parsed, stage one): finds the client, checks the redirect
 * URI (an error page if wrong), validates the rest (errors redirect), then runs
 * flow->after_client.
 */
void rk_identity_flow_start(rk_identity_flow_t *flow);

/** Reads the SSO session (if any) and decides: login page, consent page, or the code. */
void rk_identity_flow_load_session(rk_identity_flow_t *flow);

/** Shows the login page with notice, answering with status. */
void rk_identity_flow_show_login(rk_identity_flow_t *flow, int status, rk_login_notice_t notice,
                                 const char *username, int retry_after_s);

/** Answers with an error page (no redirect). */
void rk_identity_flow_error_page(rk_request_t *req, rk_lang_t lang, int status,
                                 const char *title_ja, const char *title_en, const char *detail);

/** Redirects to the client with an OAuth error (state and iss included). */
void rk_identity_flow_redirect_error(rk_identity_flow_t *flow, const char *error,
                                     const char *description);

/**
 * The CSRF token for a page that posts tx back: bound to this browser's rk_csrf cookie, which
 * is set now (in the response) when the browser has none. NULL only without randomness.
 */
const char *rk_identity_flow_page_csrf(rk_identity_flow_t *flow, const char *tx);

/** The CSRF token for tx in this browser, or NULL when the browser has no CSRF cookie. */
const char *rk_identity_flow_csrf(rk_identity_flow_t *flow, const char *tx);

/** A new flow for req in the realm of its {slug}; NULL after answering 404. */
rk_identity_flow_t *rk_identity_flow_new(rk_request_t *req);

/** GET /t/{slug}/account (account.c); prepares its statement. */
void rk_identity_account_page_register(rk_identity_t *identity, rk_router_t *router);

/** The login and consent form handlers (login.c). */
void rk_identity_login_post(rk_request_t *req);
void rk_identity_consent_post(rk_request_t *req);
/** Prepares login.c's statements. */
void rk_identity_login_prepare(rk_store_t *store);

/**
 * The shared start of the forms (login.c): parses the form and opens its tx, NULL after
 * answering when either is wrong; checks the CSRF token — flow->after_client is NULL when it
 * does not hold (show the form again with rk_identity_login_show_expired).
 */
rk_identity_flow_t *rk_identity_login_form_flow(rk_request_t *req, rk_identity_form_t *form);
/** The caller's address without its port (in the arena): what login throttling counts by. */
const char *rk_identity_login_peer(rk_request_t *req);
/** The login form again (403), with a fresh CSRF token for this browser. */
void rk_identity_login_show_expired(rk_identity_flow_t *flow);
/**
 * Stores a new SSO session for account_id authenticated as acr with amr (space-separated),
 * sets the rk_sso cookie and goes on with the flow as a fresh login.
 */
void rk_identity_login_start_session(rk_identity_flow_t *flow, const char *account_id,
                                     const char *acr, const char *amr);

/**
 * Certificate login (login_certificate.c). The challenge for this browser's login page (NULL
 * when certificate login is off or the browser has no CSRF cookie yet), and the form handler.
 */
const char *rk_identity_cert_challenge(rk_identity_flow_t *flow, const char *csrf_cookie);
void rk_identity_cert_login_post(rk_request_t *req);
void rk_identity_cert_login_prepare(rk_store_t *store);

#endif
