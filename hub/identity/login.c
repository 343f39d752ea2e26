/*
 * login.c — the login and consent forms (see flow.h).
 *
 * Both forms post back the signed tx and a CSRF token bound to this browser's rk_csrf cookie
 * (SameSite=Lax, so another site's form cannot carry it). A password login:
 *   1. throttling (per account, per address; throttle.h) answers 429 with a wait before any work;
 *   2. one query finds the account; its argon2id hash is checked on a worker thread, never on
 *      the loop (an unknown username spends the same time on a dummy hash, so timing does not
 *      reveal which accounts exist);
 *   3. success stores a new SSO session and sets the rk_sso cookie, then the flow goes on as if
 *      the resident had come with that session; failure counts against the throttle and shows
 *      the form again with one message for "no such user" and "wrong password" alike.
 * The consent form stores the approved scopes and goes on to the code, or sends access_denied.
 */
#include "identity/flow.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "identity/cert_login.h"
#include "identity/form.h"
#include "identity/password.h"
#include "identity/secret_text.h"
#include "identity/throttle.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define STMT_ACCOUNT "identity_login_account"
#define STMT_SESSION_NEW "identity_session_new"
#define STMT_CONSENT "identity_consent_store"
#define USERNAME_MAX 64
#define DEVICE_COOKIE "rk_device"

static const char sql_account[] = "SELECT id, password_hash, rk_identity_pupil_ended(id)"
                                  " FROM rk_identity_account"
                                  " WHERE username = $1 AND disabled_at IS NULL";

static const char sql_session_new[] =
    "INSERT INTO rk_identity_session (sid, secret_sha256, account_id, auth_time, acr, amr,"
    " expires_at) VALUES ($1, decode($2, 'hex'), $3, now(), $4, string_to_array($5, ' '),"
    " now() + make_interval(secs => $6::int)) RETURNING sid";

static const char sql_consent[] =
    "INSERT INTO rk_identity_consent (account_id, tenant_id, client_id, scopes)"
    " SELECT s.account_id, $2, $3, string_to_array($4, ' ') FROM rk_identity_session s"
    " WHERE s.sid = $1 AND s.ended_at IS NULL"
    " ON CONFLICT (account_id, tenant_id, client_id) DO UPDATE"
    " SET scopes = ARRAY(SELECT DISTINCT unnest(rk_identity_consent.scopes || EXCLUDED.scopes)),"
    " updated_at = now() RETURNING 1";

/* A password check on a worker thread. The thread reads and writes only this job. */
typedef struct password_job {
    rk_identity_flow_t *flow;
    char *username;
    const char *device; /* this browser's trusted-device id for the account, or NULL */
    char *password;
    size_t password_len;
    char *account_id; /* NULL: no such account */
    char *hash;
    int verified;
    int pupil_ended; /* a pupil ID past its valid_until (the pupils migration) */
} password_job_t;

static void wipe_job(void *data)
{
    password_job_t *job = data;
    if (job->password)
        OPENSSL_cleanse(job->password, job->password_len);
}

static uint64_t now_ms(void)
{
    return rk_now_ns() / 1000000u;
}

const char *rk_identity_login_peer(rk_request_t *req)
{
    const char *colon = strrchr(req->peer, ':');
    return colon ? rk_arena_printf(req->arena, "%.*s", (int)(colon - req->peer), req->peer)
                 : req->peer;
}

/* The MAC that binds a trusted-device id to a username. */
static void device_mac(rk_identity_flow_t *flow, const char *username, const char *id,
                       char out[RK_IDENTITY_SHA256_TEXT_LEN + 1])
{
    const char *data = rk_arena_printf(flow->req->arena, "device|%s|%s", username, id);
    rk_identity_hmac_text(flow->identity->csrf_key, data, strlen(data), out);
}

/*
 * This browser's trusted-device id for username: the rk_device cookie, "id.mac", set when the
 * browser last logged into that account. NULL when there is none or it is not this account's.
 */
static const char *trusted_device(rk_identity_flow_t *flow, const char *username)
{
    rk_request_t *req = flow->req;
    const char *cookie =
        rk_identity_cookie(req->arena, rk_request_header(req, "cookie"), DEVICE_COOKIE);
    const char *dot = cookie ? strchr(cookie, '.') : NULL;
    if (!dot || dot - cookie != RK_IDENTITY_B64_LEN(16))
        return NULL;
    const char *id = rk_arena_printf(req->arena, "%.*s", (int)(dot - cookie), cookie);
    char mac[RK_IDENTITY_SHA256_TEXT_LEN + 1];
    device_mac(flow, username, id, mac);
    return rk_identity_text_equal(mac, dot + 1) ? id : NULL;
}

/* Marks this browser as trusted for username (a year; the last account logged into wins). */
static void trust_device(rk_identity_flow_t *flow, const char *username)
{
    rk_request_t *req = flow->req;
    char id[RK_IDENTITY_B64_LEN(16) + 1], mac[RK_IDENTITY_SHA256_TEXT_LEN + 1];
    if (rk_identity_random_text(id, 16) != RK_OK)
        return;
    device_mac(flow, username, id, mac);
    rk_response_header(
        req, "set-cookie",
        rk_arena_printf(req->arena, "%s=%s.%s; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax%s",
                        DEVICE_COOKIE, id, mac,
                        strncmp(rk_app(req)->public_url, "https://", 8) == 0 ? "; Secure" : ""));
}

/* --- the shared start of both forms --------------------------------------------------------- */

rk_identity_flow_t *rk_identity_login_form_flow(rk_request_t *req, rk_identity_form_t *form)
{
    rk_identity_flow_t *flow = rk_identity_flow_new(req);
    if (!flow)
        return NULL;
    const char *why = NULL;
    const char *type = rk_request_header(req, "content-type");
    if (!type || strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0 ||
        rk_identity_form_parse(req->arena, (const char *)req->body, req->body_len,
                               RK_IDENTITY_CERT_LOGIN_MAX_BYTES, form, &why) != RK_OK) {
        rk_identity_flow_error_page(req, flow->lang, 400, "不正な要求です", "Bad request",
                                    why ? why
                                        : "the form must be application/x-www-form-urlencoded");
        return NULL;
    }
    const char *tx = rk_identity_form_get(form, "tx");
    if (rk_identity_authz_open(req->arena, tx, flow->slug, (long long)time(NULL),
                               flow->identity->tx_key, &flow->authz, &why) != RK_OK) {
        rk_identity_flow_error_page(req, flow->lang, 400, "このページは有効期限が切れました",
                                    "This page has expired",
                                    "go back to the service and start again");
        return NULL;
    }
    const char *csrf = rk_identity_form_get(form, "csrf");
    const char *expected = rk_identity_flow_csrf(flow, tx);
    if (!csrf || !expected || !rk_identity_text_equal(csrf, expected)) {
        rk_log_warn("login form without a valid CSRF token", "{s:s, s:s, s:s}", "request_id",
                    req->request_id, "realm", flow->slug, "peer", req->peer);
        flow->after_client = NULL; /* show the form again: this browser gets a fresh token */
        return flow;
    }
    flow->after_client = rk_identity_flow_load_session; /* a placeholder the caller replaces */
    return flow;
}

/* --- password login ------------------------------------------------------------------------- */

static void session_stored(const rk_store_result_t *res, void *arg)
{
    rk_identity_flow_t *flow = arg;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        if (res->status == RK_EINVAL)
            rk_log_error("storing a session failed", "{s:s}", "error", res->error);
        rk_identity_flow_show_login(flow, 503, RK_LOGIN_UNAVAILABLE, NULL, 0);
        return;
    }
    rk_request_t *req = flow->req;
    rk_response_header(
        req, "set-cookie",
        rk_arena_printf(req->arena, "%s=%s.%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s",
                        RK_IDENTITY_SESSION_COOKIE, flow->sid, flow->session_secret,
                        RK_IDENTITY_SESSION_TTL,
                        strncmp(rk_app(req)->public_url, "https://", 8) == 0 ? "; Secure" : ""));
    flow->fresh_login = 1;
    rk_identity_flow_load_session(flow);
}

void rk_identity_login_start_session(rk_identity_flow_t *flow, const char *account_id,
                                     const char *acr, const char *amr)
{
    rk_request_t *req = flow->req;
    char *sid = rk_arena_alloc(req->arena, RK_IDENTITY_B64_LEN(16) + 1);
    char *secret = rk_arena_alloc(req->arena, RK_IDENTITY_B64_LEN(32) + 1);
    char secret_hex[65], ttl[16];
    if (rk_identity_random_text(sid, 16) != RK_OK || rk_identity_random_text(secret, 32) != RK_OK) {
        rk_identity_flow_show_login(flow, 500, RK_LOGIN_UNAVAILABLE, NULL, 0);
        return;
    }
    flow->sid = sid;
    flow->session_secret = secret;
    rk_identity_sha256_hex(secret, strlen(secret), secret_hex);
    snprintf(ttl, sizeof(ttl), "%d", RK_IDENTITY_SESSION_TTL);
    const char *values[] = {sid, secret_hex, account_id, acr, amr, ttl};
    if (rk_store_exec(rk_app(req)->store, STMT_SESSION_NEW, 6, values, session_stored, flow) !=
        RK_AGAIN)
        rk_identity_flow_show_login(flow, 503, RK_LOGIN_UNAVAILABLE, NULL, 0);
}

static void verify_work(void *arg)
{
    password_job_t *job = arg;
    if (job->hash)
        job->verified =
            rk_identity_password_verify(job->hash, job->password, job->password_len) == 1;
    else
        rk_identity_password_verify_dummy(job->password, job->password_len);
}

static void verify_done(void *arg, int ran)
{
    password_job_t *job = arg;
    rk_identity_flow_t *flow = job->flow;
    rk_request_t *req = flow->req;
    OPENSSL_cleanse(job->password, job->password_len);
    if (!ran) {
        rk_identity_flow_show_login(flow, 503, RK_LOGIN_UNAVAILABLE, job->username, 0);
        return;
    }
    const char *peer = rk_identity_login_peer(req);
    if (!job->verified) {
        rk_identity_throttle_failed(flow->identity->throttle, job->username, peer, job->device,
                                    now_ms());
        rk_log_info("login failed", "{s:s, s:s, s:s}", "request_id", req->request_id, "realm",
                    flow->slug, "peer", req->peer);
        rk_identity_flow_show_login(flow, 401, RK_LOGIN_BAD_CREDENTIALS, job->username, 0);
        return;
    }
    rk_identity_throttle_succeeded(flow->identity->throttle, job->username, peer, job->device,
                                   now_ms());
    if (!job->device)
        trust_device(flow, job->username);
    if (job->pupil_ended) { /* told only after the right password: no account probing */
        rk_log_info("login refused: pupil ID ended", "{s:s, s:s}", "request_id", req->request_id,
                    "realm", flow->slug);
        rk_identity_flow_show_login(flow, 403, RK_LOGIN_PUPIL_ENDED, job->username, 0);
        return;
    }
    rk_log_info("login", "{s:s, s:s, s:s, s:s}", "request_id", req->request_id, "realm", flow->slug,
                "account_id", job->account_id, "method", "password");
    rk_identity_login_start_session(flow, job->account_id, RK_IDENTITY_ACR_PASSWORD, "pwd");
}

/* Checks the password on a worker thread (against a dummy hash when there is no account). */
static void submit_check(password_job_t *job)
{
    if (rk_worker_submit(job->flow->identity->workers, verify_work, verify_done, job) != RK_OK) {
        OPENSSL_cleanse(job->password, job->password_len);
        rk_identity_flow_show_login(job->flow, 503, RK_LOGIN_UNAVAILABLE, job->username, 0);
    }
}

static void account_found(const rk_store_result_t *res, void *arg)
{
    password_job_t *job = arg;
    rk_identity_flow_t *flow = job->flow;
    if (res->status != RK_OK || res->n_results != 1) {
        OPENSSL_cleanse(job->password, job->password_len);
        rk_identity_flow_show_login(flow, 503, RK_LOGIN_UNAVAILABLE, job->username, 0);
        return;
    }
    const PGresult *rows = res->results[0];
    rk_arena_t *arena = flow->req->arena;
    if (PQntuples(rows) == 1 && !PQgetisnull(rows, 0, 1)) {
        job->account_id = rk_arena_strdup(arena, PQgetvalue(rows, 0, 0));
        job->hash = rk_arena_strdup(arena, PQgetvalue(rows, 0, 1));
        job->pupil_ended = strcmp(PQgetvalue(rows, 0, 2), "t") == 0;
    }
    submit_check(job);
}

/* 1 if s could be a username: what the accounts table allows (bounded, lower case). */
static int username_shape(const char *s)
{
    size_t len = strlen(s);
    if (len < 3 || len > USERNAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static void password_login(rk_identity_flow_t *flow)
{
    rk_request_t *req = flow->req;
    const rk_identity_form_t *form = flow->after_client_arg;
    const char *username = rk_identity_form_get(form, "username");
    const char *password = rk_identity_form_get(form, "password");
    if (flow->authz.min_loa > RK_IDENTITY_LOA_PASSWORD) {
        rk_identity_flow_show_login(flow, 403, RK_LOGIN_STEP_UP, NULL, 0);
        return;
    }
    if (!username || !password) {
        rk_identity_flow_show_login(flow, 400, RK_LOGIN_BAD_CREDENTIALS, username, 0);
        return;
    }
    /* Usernames are lower case; what a resident types may not be. */
    char *lowered = rk_arena_strdup(req->arena, username);
    for (char *c = lowered; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    /*
     * A browser this account logged in from before is throttled on its own counter, not the
     * account's: whoever hammers a resident's username cannot lock the resident out.
     */
    const char *device = trusted_device(flow, lowered);
    uint64_t wait = rk_identity_throttle_wait(flow->identity->throttle, lowered,
                                              rk_identity_login_peer(req), device, now_ms());
    if (wait > 0) {
        rk_log_warn("login throttled", "{s:s, s:s, s:s}", "request_id", req->request_id, "realm",
                    flow->slug, "peer", req->peer);
        rk_identity_flow_show_login(flow, 429, RK_LOGIN_THROTTLED, username,
                                    (int)((wait + 999) / 1000));
        return;
    }
    password_job_t *job = rk_arena_calloc(req->arena, 1, sizeof(*job));
    job->flow = flow;
    job->username = lowered;
    job->device = device;
    /* A password over the bound is checked (and fails) in bounded time: verify refuses it. */
    job->password_len = strnlen(password, RK_IDENTITY_PASSWORD_MAX + 1);
    job->password = rk_arena_alloc(req->arena, job->password_len + 1);
    memcpy(job->password, password, job->password_len);
    job->password[job->password_len] = '\0';
    rk_arena_on_free(req->arena, wipe_job, job);
    if (!username_shape(lowered)) {
        submit_check(job); /* no such account can exist */
        return;
    }
    const char *values[] = {lowered};
    if (rk_store_exec(rk_app(req)->store, STMT_ACCOUNT, 1, values, account_found, job) != RK_AGAIN)
        rk_identity_flow_show_login(flow, 503, RK_LOGIN_UNAVAILABLE, username, 0);
}

void rk_identity_login_show_expired(rk_identity_flow_t *flow)
{
    rk_identity_flow_show_login(flow, 403, RK_LOGIN_EXPIRED, NULL, 0);
}

void rk_identity_login_post(rk_request_t *req)
{
    rk_identity_form_t *form = rk_arena_calloc(req->arena, 1, sizeof(*form));
    rk_identity_flow_t *flow = rk_identity_login_form_flow(req, form);
    if (!flow)
        return;
    flow->after_client = flow->after_client ? password_login : rk_identity_login_show_expired;
    flow->after_client_arg = form;
    rk_identity_flow_start(flow);
}

/* --- consent ------------------------------------------------------------------------------- */

static void consent_stored(const rk_store_result_t *res, void *arg)
{
    rk_identity_flow_t *flow = arg;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        if (res->status == RK_EINVAL)
            rk_log_error("storing a consent failed", "{s:s}", "error", res->error);
        /* No session any more (it ended, or never was): the flow asks for a login. */
        flow->consent_approved = 0;
    }
    rk_identity_flow_load_session(flow);
}

static void consent_decided(rk_identity_flow_t *flow)
{
    const rk_identity_form_t *form = flow->after_client_arg;
    const char *decision = rk_identity_form_get(form, "decision");
    if (!decision || strcmp(decision, "approve") != 0) {
        rk_identity_flow_redirect_error(flow, "access_denied", "the resident declined");
        return;
    }
    if (!flow->sid) {
        rk_identity_flow_load_session(flow); /* asks for a login */
        return;
    }
    flow->consent_approved = 1;
    const char *values[] = {flow->sid, flow->tenant_id, flow->authz.client_id, flow->granted_scope};
    if (rk_store_exec(rk_app(flow->req)->store, STMT_CONSENT, 4, values, consent_stored, flow) !=
        RK_AGAIN)
        rk_identity_flow_redirect_error(flow, "temporarily_unavailable",
                                        "the database is not reachable; try again");
}

void rk_identity_consent_post(rk_request_t *req)
{
    rk_identity_form_t *form = rk_arena_calloc(req->arena, 1, sizeof(*form));
    rk_identity_flow_t *flow = rk_identity_login_form_flow(req, form);
    if (!flow)
        return;
    flow->after_client = flow->after_client ? consent_decided : rk_identity_login_show_expired;
    flow->after_client_arg = form;
    rk_identity_flow_start(flow);
}

void rk_identity_login_prepare(rk_store_t *store)
{
    rk_store_prepare(store, STMT_ACCOUNT, sql_account);
    rk_store_prepare(store, STMT_SESSION_NEW, sql_session_new);
    rk_store_prepare(store, STMT_CONSENT, sql_consent);
}
