/*
 * login_certificate.c — certificate login, modelled on the My Number card's user certificate
 * (利用者証明用電子証明書): the login page shows a challenge, the resident's tool
 * (`renkeictl cert-login-sign`, or a card reader's) signs it with the certificate's key, and
 * the hub checks the signature, the chain to identity.cert_anchors, validity and the CRL
 * (cert_login.c), then finds the account bound to the certificate (rk_identity_account.cert_key:
 * the issuer and subject, which survive re-issue of the same person's certificate).
 *
 * The challenge is "renkei-login:{realm}:{expiry}:{nonce}:{mac}", where mac is an HMAC under a
 * key derived from the master key over the rest and this browser's rk_csrf cookie: nothing is
 * stored, it cannot be forged, it expires after RK_CERT_CHALLENGE_TTL, and a signature made for
 * one browser's page does not log in another browser.
 *
 * A resident already logged in with a password who steps up (acr_values asking for the
 * certificate acr) keeps their session: it is upgraded in place (acr, amr, auth_time), so the
 * services they use keep their session id. Otherwise a new session starts. Failures count
 * against the login throttle of the caller's address.
 */
#include "identity/flow.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "identity/cert_login.h"
#include "identity/form.h"
#include "identity/secret_text.h"
#include "identity/throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RK_CERT_CHALLENGE_TTL 300
#define STMT_ACCOUNT_BY_CERT "identity_account_by_cert"
#define STMT_SESSION_UPGRADE "identity_session_upgrade"
#define AMR_CERTIFICATE "pop" /* RFC 8176: proof of possession of a key */

static const char sql_account_by_cert[] =
    "SELECT id FROM rk_identity_account WHERE cert_key = $1 AND disabled_at IS NULL";

static const char sql_session_upgrade[] =
    "UPDATE rk_identity_session SET acr = $3, auth_time = now(),"
    " amr = ARRAY(SELECT DISTINCT unnest(amr || ARRAY[$4::text]))"
    " WHERE sid = $1 AND secret_sha256 = decode($2, 'hex') AND account_id = $5::bigint"
    " AND ended_at IS NULL AND expires_at > now() RETURNING sid";

typedef struct cert_login {
    rk_identity_flow_t *flow;
    const char *account_id;
    const char *peer;      /* the caller's address */
    char throttle_key[80]; /* "certificate " + the caller's address */
} cert_login_t;

static uint64_t now_ms(void)
{
    return rk_now_ns() / 1000000u;
}

/* The MAC of a challenge's fields for this browser. */
static void challenge_mac(rk_identity_flow_t *flow, const char *fields, const char *csrf_cookie,
                          char out[RK_IDENTITY_SHA256_TEXT_LEN + 1])
{
    const char *data = rk_arena_printf(flow->req->arena, "%s|%s", fields, csrf_cookie);
    rk_identity_hmac_text(flow->identity->challenge_key, data, strlen(data), out);
}

const char *rk_identity_cert_challenge(rk_identity_flow_t *flow, const char *csrf_cookie)
{
    char nonce[RK_IDENTITY_B64_LEN(16) + 1], mac[RK_IDENTITY_SHA256_TEXT_LEN + 1];
    if (!flow->identity->cert_trust || !csrf_cookie || rk_identity_random_text(nonce, 16) != RK_OK)
        return NULL;
    const char *fields = rk_arena_printf(flow->req->arena, "renkei-login:%s:%lld:%s", flow->slug,
                                         (long long)time(NULL) + RK_CERT_CHALLENGE_TTL, nonce);
    challenge_mac(flow, fields, csrf_cookie, mac);
    return rk_arena_printf(flow->req->arena, "%s:%s", fields, mac);
}

/* 1 if challenge was made by this hub for this realm and browser, and has not expired. */
static int challenge_ok(rk_identity_flow_t *flow, const char *challenge)
{
    rk_request_t *req = flow->req;
    const char *cookie =
        rk_identity_cookie(req->arena, rk_request_header(req, "cookie"), RK_IDENTITY_CSRF_COOKIE);
    const char *last = challenge ? strrchr(challenge, ':') : NULL;
    const char *prefix = rk_arena_printf(req->arena, "renkei-login:%s:", flow->slug);
    if (!cookie || !last || strlen(challenge) > 256 ||
        strncmp(challenge, prefix, strlen(prefix)) != 0)
        return 0;
    char mac[RK_IDENTITY_SHA256_TEXT_LEN + 1];
    const char *fields = rk_arena_printf(req->arena, "%.*s", (int)(last - challenge), challenge);
    challenge_mac(flow, fields, cookie, mac);
    if (!rk_identity_text_equal(mac, last + 1))
        return 0;
    long long expiry = atoll(challenge + strlen(prefix));
    return expiry > (long long)time(NULL);
}

static void refuse(cert_login_t *login, const char *reason)
{
    rk_identity_flow_t *flow = login->flow;
    rk_identity_throttle_failed(flow->identity->throttle, login->throttle_key, login->peer, NULL,
                                now_ms());
    rk_log_info("certificate login failed", "{s:s, s:s, s:s, s:s}", "request_id",
                flow->req->request_id, "realm", flow->slug, "peer", flow->req->peer, "reason",
                reason);
    rk_identity_flow_show_login(flow, 401, RK_LOGIN_CERT_FAILED, NULL, 0);
}

static void upgraded(const rk_store_result_t *res, void *arg)
{
    cert_login_t *login = arg;
    rk_identity_flow_t *flow = login->flow;
    if (res->status == RK_OK && res->n_results == 1 && PQntuples(res->results[0]) == 1) {
        flow->fresh_login = 1;
        rk_identity_flow_load_session(flow);
        return;
    }
    rk_identity_login_start_session(flow, login->account_id, RK_IDENTITY_ACR_CERTIFICATE,
                                    AMR_CERTIFICATE);
}

static void account_found(const rk_store_result_t *res, void *arg)
{
    cert_login_t *login = arg;
    rk_identity_flow_t *flow = login->flow;
    rk_request_t *req = flow->req;
    if (res->status != RK_OK || res->n_results != 1) {
        rk_identity_flow_show_login(flow, 503, RK_LOGIN_UNAVAILABLE, NULL, 0);
        return;
    }
    if (PQntuples(res->results[0]) != 1) {
        refuse(login, "no account is bound to this certificate");
        return;
    }
    login->account_id = rk_arena_strdup(req->arena, PQgetvalue(res->results[0], 0, 0));
    rk_identity_throttle_succeeded(flow->identity->throttle, login->throttle_key, login->peer, NULL,
                                   now_ms());
    rk_log_info("login", "{s:s, s:s, s:s, s:s}", "request_id", req->request_id, "realm", flow->slug,
                "account_id", login->account_id, "method", "certificate");
    if (!flow->sid) {
        rk_identity_login_start_session(flow, login->account_id, RK_IDENTITY_ACR_CERTIFICATE,
                                        AMR_CERTIFICATE);
        return;
    }
    char secret_hex[65];
    rk_identity_sha256_hex(flow->session_secret, strlen(flow->session_secret), secret_hex);
    const char *values[] = {flow->sid, secret_hex, RK_IDENTITY_ACR_CERTIFICATE, AMR_CERTIFICATE,
                            login->account_id};
    if (rk_store_exec(rk_app(req)->store, STMT_SESSION_UPGRADE, 5, values, upgraded, login) !=
        RK_AGAIN)
        rk_identity_flow_show_login(flow, 503, RK_LOGIN_UNAVAILABLE, NULL, 0);
}

static void certificate_login(rk_identity_flow_t *flow)
{
    rk_request_t *req = flow->req;
    const rk_identity_form_t *form = flow->after_client_arg;
    cert_login_t *login = rk_arena_calloc(req->arena, 1, sizeof(*login));
    login->flow = flow;
    login->peer = rk_identity_login_peer(req);
    snprintf(login->throttle_key, sizeof(login->throttle_key), "certificate %s", login->peer);
    if (!flow->identity->cert_trust) {
        rk_identity_flow_show_login(flow, 404, RK_LOGIN_CERT_FAILED, NULL, 0);
        return;
    }
    uint64_t wait = rk_identity_throttle_wait(flow->identity->throttle, login->throttle_key,
                                              login->peer, NULL, now_ms());
    if (wait > 0) {
        rk_identity_flow_show_login(flow, 429, RK_LOGIN_THROTTLED, NULL,
                                    (int)((wait + 999) / 1000));
        return;
    }
    const char *challenge = rk_identity_form_get(form, "challenge");
    const char *response = rk_identity_form_get(form, "certificate_response");
    if (!challenge_ok(flow, challenge)) {
        refuse(login, "challenge: not this page's, or expired");
        return;
    }
    rk_identity_cert_subject_t subject;
    const char *why = NULL;
    if (!response || rk_identity_cert_login_verify(flow->identity->cert_trust, challenge, response,
                                                   strlen(response), (long long)time(NULL),
                                                   &subject, &why) != RK_OK) {
        refuse(login, why ? why : "certificate_response: missing");
        return;
    }
    const char *values[] = {rk_arena_strdup(req->arena, subject.key)};
    if (rk_store_exec(rk_app(req)->store, STMT_ACCOUNT_BY_CERT, 1, values, account_found, login) !=
        RK_AGAIN)
        rk_identity_flow_show_login(flow, 503, RK_LOGIN_UNAVAILABLE, NULL, 0);
}

void rk_identity_cert_login_post(rk_request_t *req)
{
    rk_identity_form_t *form = rk_arena_calloc(req->arena, 1, sizeof(*form));
    rk_identity_flow_t *flow = rk_identity_login_form_flow(req, form);
    if (!flow)
        return;
    flow->after_client = flow->after_client ? certificate_login : rk_identity_login_show_expired;
    flow->after_client_arg = form;
    rk_identity_flow_start(flow);
}

void rk_identity_cert_login_prepare(rk_store_t *store)
{
    rk_store_prepare(store, STMT_ACCOUNT_BY_CERT, sql_account_by_cert);
    rk_store_prepare(store, STMT_SESSION_UPGRADE, sql_session_upgrade);
}
