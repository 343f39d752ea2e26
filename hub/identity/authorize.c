/*
 * authorize.c — the authorization endpoint and the decision after it (see flow.h).
 *
 * GET or POST /t/{slug}/authorize reads the request, finds the client and checks the redirect
 * URI exactly; until then an error is a page of ours, after it errors go back to the client.
 * The SSO session comes from the rk_sso cookie ("sid.secret", the secret's SHA-256 compared in
 * constant time) with one query that also answers whether the resident's home city is
 * admitted to the client's service by an agreement, and which scopes they already approved.
 * The decision: log in (no session, prompt=login, max_age passed — max_age=0 always asks, as
 * its elapsed whole seconds may still be 0 — or a lower acr than asked),
 * refuse (not admitted), ask consent (not the home city's own first-party client, and scopes
 * not yet approved, or prompt=consent), else store a grant and a 60-second code and redirect.
 */
#include "identity/flow.h"

#include "core/error.h"
#include "core/log.h"
#include "identity/form.h"
#include "identity/secret_text.h"
#include "identity/token.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define STMT_SESSION "identity_session_read"
#define STMT_CODE_ISSUE "identity_code_issue"
#define CODE_TTL 60

/*
 * The session with its resident, the admission of the resident's home city to the client's
 * service ("home", "agreement-id:version", or NULL), and the scopes already approved.
 */
static const char sql_session[] =
    "SELECT encode(s.secret_sha256, 'hex'), extract(epoch FROM s.auth_time)::bigint, s.acr,"
    " a.username, a.tenant_id = $2, t.name_ja, t.name_en,"
    " CASE WHEN a.tenant_id = $2 THEN 'home' ELSE"
    "  (SELECT g.id || ':' || g.version FROM rk_agreement g WHERE g.tenant_id = $2"
    "   AND g.from_tenant_id = a.tenant_id AND $3 = ANY (g.services)"
    "   AND rk_agreement_in_force(g.state, g.valid_from, g.valid_until)"
    "   ORDER BY g.version DESC LIMIT 1) END,"
    " (SELECT array_to_string(c.scopes, ' ') FROM rk_identity_consent c"
    "  WHERE c.account_id = a.id AND c.tenant_id = $2 AND c.client_id = $4)"
    " FROM rk_identity_session s JOIN rk_identity_account a ON a.id = s.account_id"
    " JOIN rk_tenant t ON t.id = a.tenant_id"
    " WHERE s.sid = $1 AND s.ended_at IS NULL AND s.expires_at > now()"
    " AND a.disabled_at IS NULL AND NOT rk_identity_pupil_ended(a.id)";
enum {
    SES_SECRET,
    SES_AUTH_TIME,
    SES_ACR,
    SES_USERNAME,
    SES_HOME,
    SES_HOME_JA,
    SES_HOME_EN,
    SES_ADMISSION,
    SES_CONSENTED
};

/* A grant and its code in one statement; the session gives the resident and how they logged in. */
static const char sql_code_issue[] =
    "WITH g AS (INSERT INTO rk_identity_grant (id, tenant_id, client_id, account_id, sid, scope,"
    " nonce, auth_time, acr, amr, agreement_id, agreement_version, expires_at)"
    " SELECT $1, $2, $3, s.account_id, s.sid, $5, $6, s.auth_time, s.acr, s.amr, $7::bigint,"
    " $8::int, now() + make_interval(secs => $9::int)"
    " FROM rk_identity_session s WHERE s.sid = $4 AND s.ended_at IS NULL RETURNING id)"
    " INSERT INTO rk_identity_code (code_sha256, grant_id, redirect_uri, code_challenge,"
    " expires_at) SELECT decode($10, 'hex'), g.id, $11, $12, now() + interval '60 seconds'"
    " FROM g RETURNING 1";

typedef struct code_issue {
    rk_identity_flow_t *flow;
    char code[RK_IDENTITY_B64_LEN(32) + 1];
} code_issue_t;

/* --- answers ---------------------------------------------------------------------------------- */

static void page_headers(rk_request_t *req)
{
    rk_response_header(req, "content-security-policy", rk_identity_pages_csp());
    rk_response_header(req, "cache-control", "no-store");
    rk_response_header(req, "referrer-policy", "no-referrer");
    rk_response_header(req, "x-content-type-options", "nosniff");
}

static void send_page(rk_request_t *req, int status, const char *html)
{
    rk_response_set(req, status, "text/html; charset=utf-8", html, strlen(html));
    page_headers(req);
    rk_request_finish(req);
}

void rk_identity_flow_error_page(rk_request_t *req, rk_lang_t lang, int status,
                                 const char *title_ja, const char *title_en, const char *detail)
{
    send_page(req, status, rk_identity_page_error(req->arena, lang, title_ja, title_en, detail));
}

static int https(const rk_request_t *req)
{
    return strncmp(rk_app(req)->public_url, "https://", 8) == 0;
}

/* Sends the browser to uri + the given query parameters (names and values, NULL values left out).
 */
static void redirect(rk_identity_flow_t *flow, const char *const *params, size_t n)
{
    rk_request_t *req = flow->req;
    const char *uri = flow->authz.redirect_uri;
    char sep = strchr(uri, '?') ? '&' : '?';
    char *location = rk_arena_strdup(req->arena, uri);
    for (size_t i = 0; i + 1 < n; i += 2) {
        if (!params[i + 1])
            continue;
        location = rk_arena_printf(req->arena, "%s%c%s=%s", location, sep, params[i],
                                   rk_identity_url_encode(req->arena, params[i + 1]));
        sep = '&';
    }
    rk_response_set(req, strcmp(req->method, "GET") == 0 ? 302 : 303, "text/plain", "", 0);
    rk_response_header(req, "location", location);
    rk_response_header(req, "cache-control", "no-store");
    rk_response_header(req, "referrer-policy", "no-referrer");
    rk_request_finish(req);
}

static const char *issuer_of(rk_identity_flow_t *flow)
{
    return rk_arena_printf(flow->req->arena, "%s/t/%s", rk_app(flow->req)->public_url, flow->slug);
}

void rk_identity_flow_redirect_error(rk_identity_flow_t *flow, const char *error,
                                     const char *description)
{
    rk_log_info("authorization refused", "{s:s, s:s, s:s, s:s}", "request_id",
                flow->req->request_id, "realm", flow->slug, "client_id", flow->authz.client_id,
                "error", error);
    const char *params[] = {"error",           error, "error_description", description, "state",
                            flow->authz.state, "iss", issuer_of(flow)};
    redirect(flow, params, 8);
}

/* --- pages ------------------------------------------------------------------------------------ */

/* This browser's CSRF cookie, set now when it has none. */
static const char *csrf_cookie(rk_identity_flow_t *flow)
{
    rk_request_t *req = flow->req;
    const char *value =
        rk_identity_cookie(req->arena, rk_request_header(req, "cookie"), RK_IDENTITY_CSRF_COOKIE);
    if (value)
        return value;
    char *fresh = rk_arena_alloc(req->arena, RK_IDENTITY_B64_LEN(16) + 1);
    if (rk_identity_random_text(fresh, 16) != RK_OK)
        return NULL;
    rk_response_header(req, "set-cookie",
                       rk_arena_printf(req->arena, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s",
                                       RK_IDENTITY_CSRF_COOKIE, fresh,
                                       https(req) ? "; Secure" : ""));
    return fresh;
}

static const char *csrf_for(rk_identity_flow_t *flow, const char *cookie, const char *tx)
{
    if (!cookie)
        return NULL;
    const char *data = rk_arena_printf(flow->req->arena, "%s|%s", cookie, tx);
    char *out = rk_arena_alloc(flow->req->arena, RK_IDENTITY_SHA256_TEXT_LEN + 1);
    rk_identity_hmac_text(flow->identity->csrf_key, data, strlen(data), out);
    return out;
}

const char *rk_identity_flow_page_csrf(rk_identity_flow_t *flow, const char *tx)
{
    return csrf_for(flow, csrf_cookie(flow), tx);
}

const char *rk_identity_flow_csrf(rk_identity_flow_t *flow, const char *tx)
{
    rk_request_t *req = flow->req;
    return csrf_for(
        flow,
        rk_identity_cookie(req->arena, rk_request_header(req, "cookie"), RK_IDENTITY_CSRF_COOKIE),
        tx);
}

/* This authorization request again, in another language: the language links of the pages. */
static const char *lang_url(rk_identity_flow_t *flow, rk_lang_t lang)
{
    rk_arena_t *arena = flow->req->arena;
    const rk_identity_authz_t *a = &flow->authz;
    if (a->account)
        return rk_arena_printf(arena, "/t/%s/account?ui_locales=%s", flow->slug, rk_lang_tag(lang));
    const char *const params[] = {
        "client_id",
        a->client_id,
        "redirect_uri",
        a->redirect_uri,
        "response_type",
        a->response_type,
        "response_mode",
        a->response_mode,
        "scope",
        a->scope,
        "state",
        a->state,
        "nonce",
        a->nonce,
        "code_challenge",
        a->code_challenge,
        "code_challenge_method",
        a->code_challenge_method,
        "prompt",
        a->prompt,
        "max_age",
        a->max_age,
        "acr_values",
        a->acr_values,
        "claims",
        a->claims,
        "login_hint",
        a->login_hint,
    };
    char *url =
        rk_arena_printf(arena, "/t/%s/authorize?ui_locales=%s", flow->slug, rk_lang_tag(lang));
    for (size_t i = 0; i + 1 < sizeof(params) / sizeof(params[0]); i += 2) {
        if (params[i + 1])
            url = rk_arena_printf(arena, "%s&%s=%s", url, params[i],
                                  rk_identity_url_encode(arena, params[i + 1]));
    }
    return url;
}

static const char *realm_name(rk_identity_flow_t *flow)
{
    const rk_identity_realm_t *realm = rk_identity_realm(flow->identity, flow->slug);
    if (!realm)
        return NULL;
    return flow->lang == RK_LANG_JA ? realm->name_ja : realm->name_en;
}

void rk_identity_flow_show_login(rk_identity_flow_t *flow, int status, rk_login_notice_t notice,
                                 const char *username, int retry_after_s)
{
    rk_request_t *req = flow->req;
    const char *tx = rk_identity_authz_seal(req->arena, &flow->authz, flow->slug,
                                            (long long)time(NULL), flow->identity->tx_key);
    const char *cookie = csrf_cookie(flow);
    const char *csrf = csrf_for(flow, cookie, tx);
    const char *challenge = rk_identity_cert_challenge(flow, cookie);
    rk_identity_login_page_t page = {
        .lang = flow->lang,
        .realm_name = realm_name(flow),
        .client_name = flow->client_name,
        .action = rk_arena_printf(req->arena, "/t/%s/login", flow->slug),
        .tx = tx,
        .csrf = csrf ? csrf : "",
        .username = username ? username : flow->authz.login_hint,
        .notice = notice,
        .retry_after_s = retry_after_s,
        .password_allowed = flow->authz.min_loa <= RK_IDENTITY_LOA_PASSWORD,
        .cert_action =
            challenge ? rk_arena_printf(req->arena, "/t/%s/login/certificate", flow->slug) : NULL,
        .cert_challenge = challenge,
        .lang_url_ja = lang_url(flow, RK_LANG_JA),
        .lang_url_en = lang_url(flow, RK_LANG_EN),
    };
    if (notice == RK_LOGIN_OK && !page.password_allowed)
        page.notice = RK_LOGIN_STEP_UP;
    if (retry_after_s > 0)
        rk_response_header(req, "retry-after", rk_arena_printf(req->arena, "%d", retry_after_s));
    send_page(req, status, rk_identity_page_login(req->arena, &page));
}

/* The scopes of a space-separated list, as an array in the arena. */
static const char *const *scope_list(rk_arena_t *arena, const char *scope, size_t *n)
{
    const char **out = rk_arena_calloc(arena, RK_IDENTITY_SCOPE_MAX_TOKENS, sizeof(*out));
    *n = 0;
    for (const char *p = scope; *p && *n < RK_IDENTITY_SCOPE_MAX_TOKENS;) {
        size_t len = strcspn(p, " ");
        char *word = rk_arena_alloc(arena, len + 1);
        memcpy(word, p, len);
        word[len] = '\0';
        out[(*n)++] = word;
        p += len;
        p += strspn(p, " ");
    }
    return out;
}

static void show_consent(rk_identity_flow_t *flow, const PGresult *row)
{
    rk_request_t *req = flow->req;
    const char *tx = rk_identity_authz_seal(req->arena, &flow->authz, flow->slug,
                                            (long long)time(NULL), flow->identity->tx_key);
    const char *csrf = rk_identity_flow_page_csrf(flow, tx);
    int home = strcmp(PQgetvalue(row, 0, SES_HOME), "t") == 0;
    rk_identity_consent_page_t page = {
        .lang = flow->lang,
        .realm_name = realm_name(flow),
        .client_name = flow->client_name,
        .home_city =
            home ? NULL
                 : rk_arena_strdup(
                       req->arena,
                       PQgetvalue(row, 0, flow->lang == RK_LANG_JA ? SES_HOME_JA : SES_HOME_EN)),
        .username = rk_arena_strdup(req->arena, PQgetvalue(row, 0, SES_USERNAME)),
        .action = rk_arena_printf(req->arena, "/t/%s/consent", flow->slug),
        .tx = tx,
        .csrf = csrf ? csrf : "",
        .lang_url_ja = lang_url(flow, RK_LANG_JA),
        .lang_url_en = lang_url(flow, RK_LANG_EN),
    };
    page.scopes = scope_list(req->arena, flow->granted_scope, &page.n_scopes);
    send_page(req, 200, rk_identity_page_consent(req->arena, &page));
}

/* --- the decision ----------------------------------------------------------------------------- */

static void code_issued(const rk_store_result_t *res, void *arg)
{
    code_issue_t *issue = arg;
    rk_identity_flow_t *flow = issue->flow;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        if (res->status == RK_EINVAL)
            rk_log_error("storing a code failed", "{s:s}", "error", res->error);
        /* The session ended meanwhile, or the database is away: the resident starts again. */
        rk_identity_flow_redirect_error(flow, "temporarily_unavailable",
                                        "the authorization could not be stored; try again");
        return;
    }
    const char *params[] = {"code", issue->code,    "state", flow->authz.state,
                            "iss",  issuer_of(flow)};
    redirect(flow, params, 6);
}

static void wipe_code(void *data)
{
    code_issue_t *issue = data;
    OPENSSL_cleanse(issue->code, sizeof(issue->code));
}

static void issue_code(rk_identity_flow_t *flow, const char *admission)
{
    rk_request_t *req = flow->req;
    code_issue_t *issue = rk_arena_calloc(req->arena, 1, sizeof(*issue));
    rk_arena_on_free(req->arena, wipe_code, issue);
    issue->flow = flow;
    char grant_id[RK_IDENTITY_B64_LEN(16) + 1], code_hex[65], ttl[16];
    if (rk_identity_random_text(grant_id, 16) != RK_OK ||
        rk_identity_random_text(issue->code, 32) != RK_OK) {
        rk_identity_flow_redirect_error(flow, "server_error", "no randomness");
        return;
    }
    rk_identity_sha256_hex(issue->code, strlen(issue->code), code_hex);
    snprintf(ttl, sizeof(ttl), "%d", flow->grant_ttl);
    const char *agreement_id = NULL, *agreement_version = NULL;
    const char *colon = strcmp(admission, "home") == 0 ? NULL : strchr(admission, ':');
    if (colon) {
        agreement_id = rk_arena_printf(req->arena, "%.*s", (int)(colon - admission), admission);
        agreement_version = colon + 1;
    }
    const char *values[] = {grant_id,     flow->tenant_id,          flow->authz.client_id,
                            flow->sid,    flow->granted_scope,      flow->authz.nonce,
                            agreement_id, agreement_version,        ttl,
                            code_hex,     flow->authz.redirect_uri, flow->authz.code_challenge};
    if (rk_store_exec(rk_app(req)->store, STMT_CODE_ISSUE, 12, values, code_issued, issue) !=
        RK_AGAIN)
        rk_identity_flow_redirect_error(flow, "temporarily_unavailable",
                                        "the database is not reachable; try again");
}

/* 1 if every scope of wanted is in the space-separated list have. */
static int scopes_within(const char *wanted, const char *have)
{
    for (const char *p = wanted; *p;) {
        size_t len = strcspn(p, " ");
        int found = 0;
        for (const char *q = have; *q && !found;) {
            size_t qlen = strcspn(q, " ");
            found = qlen == len && memcmp(p, q, len) == 0;
            q += qlen;
            q += strspn(q, " ");
        }
        if (!found)
            return 0;
        p += len;
        p += strspn(p, " ");
    }
    return 1;
}

/* 1 if the session row is this browser's: its secret matches the cookie's. */
static int session_matches(rk_identity_flow_t *flow, const PGresult *row)
{
    char presented[65];
    rk_identity_sha256_hex(flow->session_secret, strlen(flow->session_secret), presented);
    return CRYPTO_memcmp(presented, PQgetvalue(row, 0, SES_SECRET), 64) == 0;
}

static void decide(rk_identity_flow_t *flow, const PGresult *row)
{
    const rk_identity_authz_t *a = &flow->authz;
    long long now = (long long)time(NULL);
    int has_session = row && PQntuples(row) == 1 && session_matches(flow, row);
    int need_login = !has_session;
    if (has_session && !flow->fresh_login) {
        long long auth_time = atoll(PQgetvalue(row, 0, SES_AUTH_TIME));
        need_login =
            (a->prompts & (RK_IDENTITY_PROMPT_LOGIN | RK_IDENTITY_PROMPT_SELECT_ACCOUNT)) ||
            (a->max_age_s == 0 || (a->max_age_s > 0 && now - auth_time > a->max_age_s));
    }
    if (has_session && rk_identity_loa_of(PQgetvalue(row, 0, SES_ACR)) < a->min_loa)
        need_login = 1;
    if (a->account) { /* the account page: log in if needed, then show it */
        if (need_login) {
            rk_identity_flow_show_login(flow, 200, RK_LOGIN_OK, NULL, 0);
            return;
        }
        rk_response_set(flow->req, 303, "text/plain", "", 0);
        rk_response_header(flow->req, "location",
                           rk_arena_printf(flow->req->arena, "/t/%s/account", flow->slug));
        rk_response_header(flow->req, "cache-control", "no-store");
        rk_request_finish(flow->req);
        return;
    }
    if (need_login) {
        if (a->prompts & RK_IDENTITY_PROMPT_NONE)
            rk_identity_flow_redirect_error(flow, "login_required",
                                            "the resident must log in (prompt=none was asked)");
        else
            rk_identity_flow_show_login(flow, 200, RK_LOGIN_OK, NULL, 0);
        return;
    }
    if (PQgetisnull(row, 0, SES_ADMISSION)) {
        rk_identity_flow_redirect_error(flow, "access_denied",
                                        "the resident's home city has no agreement with this "
                                        "city that covers this service");
        return;
    }
    int home = strcmp(PQgetvalue(row, 0, SES_HOME), "t") == 0;
    int consent_needed =
        !(flow->first_party && home) &&
        ((a->prompts & RK_IDENTITY_PROMPT_CONSENT) || PQgetisnull(row, 0, SES_CONSENTED) ||
         !scopes_within(flow->granted_scope, PQgetvalue(row, 0, SES_CONSENTED)));
    if (consent_needed && !flow->consent_approved) {
        if (a->prompts & RK_IDENTITY_PROMPT_NONE)
            rk_identity_flow_redirect_error(flow, "consent_required",
                                            "the resident has not approved these scopes");
        else
            show_consent(flow, row);
        return;
    }
    issue_code(flow, PQgetvalue(row, 0, SES_ADMISSION));
}

static void session_read(const rk_store_result_t *res, void *arg)
{
    rk_identity_flow_t *flow = arg;
    if (!rk_identity_realm(flow->identity, flow->slug)) {
        rk_identity_flow_error_page(flow->req, flow->lang, 404, "見つかりません", "Not found",
                                    "no realm with this slug");
        return;
    }
    if (res->status != RK_OK || res->n_results != 1) {
        if (res->status == RK_EINVAL)
            rk_log_error("reading a session failed", "{s:s}", "error", res->error);
        rk_identity_flow_redirect_error(flow, "temporarily_unavailable",
                                        "the database did not answer; try again");
        return;
    }
    decide(flow, res->results[0]);
}

void rk_identity_flow_load_session(rk_identity_flow_t *flow)
{
    if (!flow->sid) {
        decide(flow, NULL);
        return;
    }
    const char *values[] = {flow->sid, flow->tenant_id, flow->service ? flow->service : "",
                            flow->authz.client_id};
    if (rk_store_exec(rk_app(flow->req)->store, STMT_SESSION, 4, values, session_read, flow) !=
        RK_AGAIN)
        rk_identity_flow_redirect_error(flow, "temporarily_unavailable",
                                        "the database is not reachable; try again");
}

/* --- the client ------------------------------------------------------------------------------- */

static void client_checked(rk_identity_flow_t *flow, const rk_identity_client_t *client)
{
    rk_arena_t *arena = flow->req->arena;
    if (!rk_identity_client_redirect_ok(client, flow->authz.redirect_uri)) {
        rk_identity_flow_error_page(flow->req, flow->lang, 400,
                                    "リダイレクト先が登録されていません",
                                    "Unregistered redirect URI",
                                    "redirect_uri: is not one of this client's registered "
                                    "redirect URIs (they are compared exactly)");
        return;
    }
    flow->client_name = rk_arena_strdup(arena, client->name);
    flow->service = client->service ? rk_arena_strdup(arena, client->service) : NULL;
    flow->first_party = client->first_party;
    flow->public_client = client->auth_method == RK_IDENTITY_AUTH_NONE;
    flow->grant_ttl = client->refresh_token_ttl;
    const char *error = NULL, *why = NULL;
    if (!(client->grant_types & RK_IDENTITY_GRANT_AUTHORIZATION_CODE)) {
        rk_identity_flow_redirect_error(flow, "unauthorized_client",
                                        "this client may not use the authorization code flow");
        return;
    }
    if (rk_identity_authz_validate(&flow->authz, flow->public_client, &error, &why) != RK_OK) {
        rk_identity_flow_redirect_error(flow, error, why);
        return;
    }
    if (rk_identity_scope_grant(arena, flow->authz.scope, client->scopes, &flow->granted_scope,
                                &why) != RK_OK) {
        rk_identity_flow_redirect_error(flow, "invalid_scope", why);
        return;
    }
    flow->after_client(flow);
}

static void client_found(int status, const rk_identity_client_t *client, void *arg)
{
    rk_identity_flow_t *flow = arg;
    if (!rk_identity_realm(flow->identity, flow->slug))
        rk_identity_flow_error_page(flow->req, flow->lang, 404, "見つかりません", "Not found",
                                    "no realm with this slug");
    else if (status == RK_OK)
        client_checked(flow, client);
    else if (status == RK_ENOTFOUND)
        rk_identity_flow_error_page(flow->req, flow->lang, 400, "不明なサービスです",
                                    "Unknown client", "client_id: no such client in this realm");
    else
        rk_identity_flow_error_page(flow->req, flow->lang, 503, "しばらくしてからお試しください",
                                    "Please try again shortly", "the database did not answer");
}

void rk_identity_flow_start(rk_identity_flow_t *flow)
{
    flow->lang = rk_lang_pick(
        flow->authz.ui_locales,
        rk_identity_cookie(flow->req->arena, rk_request_header(flow->req, "cookie"), "lang"),
        rk_request_header(flow->req, "accept-language"));
    if (flow->authz.account) { /* no client: the realm's own account page */
        flow->client_name = flow->lang == RK_LANG_JA ? "アカウント" : "Account";
        flow->after_client(flow);
        return;
    }
    const rk_identity_client_t *client = NULL;
    int rc = rk_identity_client_lookup(flow->identity->clients, flow->tenant_id,
                                       flow->authz.client_id, &client, client_found, flow);
    if (rc == RK_OK)
        client_checked(flow, client);
    else if (rc != RK_AGAIN)
        client_found(RK_EUNAVAILABLE, NULL, flow);
}

rk_identity_flow_t *rk_identity_flow_new(rk_request_t *req)
{
    rk_identity_t *identity = rk_app(req)->identity;
    const rk_identity_realm_t *realm = rk_identity_realm(identity, req->params[0]);
    if (!realm) {
        rk_response_error(req, 404, "not_found", "no realm with this slug");
        rk_request_finish(req);
        return NULL;
    }
    rk_identity_flow_t *flow = rk_arena_calloc(req->arena, 1, sizeof(*flow));
    flow->req = req;
    flow->identity = identity;
    flow->slug = req->params[0];
    flow->tenant_id = rk_arena_strdup(req->arena, realm->tenant_id);
    const char *cookie = rk_identity_cookie(req->arena, rk_request_header(req, "cookie"),
                                            RK_IDENTITY_SESSION_COOKIE);
    const char *dot = cookie ? strchr(cookie, '.') : NULL;
    if (dot && dot - cookie == RK_IDENTITY_B64_LEN(16)) {
        flow->sid = rk_arena_printf(req->arena, "%.*s", (int)(dot - cookie), cookie);
        flow->session_secret = dot + 1;
    }
    flow->lang = rk_lang_pick(NULL, NULL, rk_request_header(req, "accept-language"));
    return flow;
}

/* --- the endpoint ----------------------------------------------------------------------------- */

static void authorize(rk_request_t *req)
{
    rk_identity_flow_t *flow = rk_identity_flow_new(req);
    if (!flow)
        return;
    const char *source = req->query;
    size_t len = strlen(req->query);
    if (strcmp(req->method, "POST") == 0) {
        const char *type = rk_request_header(req, "content-type");
        if (!type || strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0) {
            rk_identity_flow_error_page(req, flow->lang, 400, "不正な要求です", "Bad request",
                                        "Content-Type: must be application/x-www-form-urlencoded");
            return;
        }
        source = (const char *)req->body;
        len = req->body_len;
    }
    rk_identity_form_t form;
    const char *why = NULL;
    if (rk_identity_form_parse(req->arena, source, len, RK_IDENTITY_AUTHZ_MAX_VALUE, &form, &why) !=
            RK_OK ||
        rk_identity_authz_parse(&form, &flow->authz, &why) != RK_OK) {
        rk_identity_flow_error_page(req, flow->lang, 400, "不正な要求です", "Bad request", why);
        return;
    }
    flow->after_client = rk_identity_flow_load_session;
    rk_identity_flow_start(flow);
}

void rk_identity_authorize_register(rk_identity_t *identity, rk_router_t *router)
{
    rk_store_prepare(identity->app->store, STMT_SESSION, sql_session);
    rk_store_prepare(identity->app->store, STMT_CODE_ISSUE, sql_code_issue);
    rk_identity_login_prepare(identity->app->store);
    rk_identity_cert_login_prepare(identity->app->store);
    rk_router_add(router, "GET", "/t/{slug}/authorize", authorize, "oidc_authorize");
    rk_router_add(router, "POST", "/t/{slug}/authorize", authorize, "oidc_authorize");
    rk_router_add(router, "POST", "/t/{slug}/login", rk_identity_login_post, "oidc_login");
    rk_router_add(router, "POST", "/t/{slug}/login/certificate", rk_identity_cert_login_post,
                  "oidc_login_certificate");
    rk_router_add(router, "POST", "/t/{slug}/consent", rk_identity_consent_post, "oidc_consent");
    rk_identity_account_page_register(identity, router);
}
