/*
 * logout.c — RP-initiated logout and the back-channel logout tokens it sends (see logout.h).
 */
#include "identity/logout.h"

#include "core/error.h"
#include "core/log.h"
#include "identity/backchannel.h"
#include "identity/flow.h"
#include "identity/form.h"
#include "identity/identity.h"
#include "identity/pages.h"
#include "identity/secret_text.h"

#include <cjose/base64.h>
#include <cjose/jws.h>
#include <cjose/util.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define STMT_SESSION "identity_logout_session"
#define STMT_END "identity_logout_end"
#define TX_MAX 8192
#define STATE_MAX 1024
#define CLIENT_ID_MAX 64

struct rk_identity_logout {
    unsigned char tx_key[RK_IDENTITY_DERIVED_KEY_LEN]; /* confirmation pages' tx */
    rk_identity_backchannel_t *backchannel;            /* NULL: TLS could not be set up */
};

/* The browser's session, if it is live: its secret's SHA-256, compared in constant time. */
static const char sql_session[] = "SELECT encode(secret_sha256, 'hex') FROM rk_identity_session"
                                  " WHERE sid = $1 AND ended_at IS NULL AND expires_at > now()";

/*
 * Ends the session, revokes its grants that are not offline_access, and lists the clients to
 * tell: one row per client with a back-channel URI (or one row of NULLs for none), no row when
 * the session had already ended.
 */
static const char sql_end[] =
    "WITH s AS (UPDATE rk_identity_session SET ended_at = now()"
    "  WHERE sid = $1 AND ended_at IS NULL RETURNING sid, account_id),"
    " r AS (UPDATE rk_identity_grant g SET revoked_at = now(), revoked_reason = 'logout' FROM s"
    "  WHERE g.sid = s.sid AND g.revoked_at IS NULL"
    "  AND NOT 'offline_access' = ANY (string_to_array(g.scope, ' ')) RETURNING g.id)"
    " SELECT (SELECT count(*) FROM r), a.id, b.slug, b.client_id, b.backchannel_logout_uri,"
    " b.signing_alg, b.subject_type, b.sector, a.uid"
    " FROM s JOIN rk_identity_account a ON a.id = s.account_id"
    " LEFT JOIN (SELECT t.slug, c.client_id, c.backchannel_logout_uri, c.signing_alg,"
    "  c.subject_type, coalesce(c.sector_identifier, 'tenant:' || c.tenant_id) AS sector"
    "  FROM rk_identity_client c JOIN rk_tenant t ON t.id = c.tenant_id"
    "  WHERE c.backchannel_logout_uri IS NOT NULL AND (c.tenant_id, c.client_id) IN"
    "  (SELECT g.tenant_id, g.client_id FROM rk_identity_grant g WHERE g.sid = $1)"
    "  LIMIT 1000) b ON true";
enum {
    END_REVOKED,
    END_ACCOUNT,
    END_SLUG,
    END_CLIENT,
    END_URI,
    END_ALG,
    END_SUBJECT_TYPE,
    END_SECTOR,
    END_UID
};

/* One logout request on its way. */
typedef struct logout {
    rk_identity_flow_t *flow; /* req, identity, slug, tenant id, the browser's sid, lang */
    rk_identity_logout_request_t request;
    const char *hint_sid; /* sid of a verified id_token_hint, or NULL */
    int confirmed;        /* the confirmation page said "logout" */
} logout_t;

/* --- the pure parts --------------------------------------------------------------------------- */

json_t *rk_identity_logout_token_claims(const rk_identity_logout_token_t *t)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:{s:{}}}", "iss", t->issuer, "aud",
                     t->client_id, "iat", (json_int_t)t->issued_at, "exp",
                     (json_int_t)(t->issued_at + t->lifetime_s), "jti", t->jti, "sub", t->subject,
                     "sid", t->sid, "events", RK_IDENTITY_BACKCHANNEL_LOGOUT_EVENT);
}

/* The request's fields, by name, for the tx. */
static const char **request_field(rk_identity_logout_request_t *r, size_t i, const char **name)
{
    static const char *const names[] = {"client_id", "post_logout_redirect_uri", "state",
                                        "ui_locales"};
    const char **slots[] = {&r->client_id, &r->post_logout_redirect_uri, &r->state, &r->ui_locales};
    if (i >= sizeof(names) / sizeof(names[0]))
        return NULL;
    *name = names[i];
    return slots[i];
}

char *rk_identity_logout_tx_seal(rk_arena_t *arena, const rk_identity_logout_request_t *request,
                                 const char *realm, long long now,
                                 const unsigned char key[RK_IDENTITY_DERIVED_KEY_LEN])
{
    rk_identity_logout_request_t copy = *request;
    json_t *doc = json_pack("{s:s, s:s, s:I}", "use", "logout", "realm", realm, "exp",
                            (json_int_t)(now + RK_IDENTITY_LOGOUT_TX_TTL));
    const char *name = NULL;
    const char **slot;
    for (size_t i = 0; (slot = request_field(&copy, i, &name)); i++) {
        if (*slot)
            json_object_set_new(doc, name, json_string(*slot));
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    char *encoded = NULL;
    size_t encoded_len = 0;
    cjose_base64url_encode((const uint8_t *)text, strlen(text), &encoded, &encoded_len, NULL);
    free(text);
    char *tx = rk_arena_alloc(arena, encoded_len + RK_IDENTITY_SHA256_TEXT_LEN + 2);
    memcpy(tx, encoded, encoded_len);
    cjose_get_dealloc()(encoded);
    tx[encoded_len] = '.';
    rk_identity_hmac_text(key, tx, encoded_len, tx + encoded_len + 1);
    return tx;
}

int rk_identity_logout_tx_open(rk_arena_t *arena, const char *tx, const char *realm, long long now,
                               const unsigned char key[RK_IDENTITY_DERIVED_KEY_LEN],
                               rk_identity_logout_request_t *request)
{
    const char *dot = tx ? strchr(tx, '.') : NULL;
    char mac[RK_IDENTITY_SHA256_TEXT_LEN + 1];
    if (!dot || strlen(tx) > TX_MAX)
        return RK_EINVAL;
    rk_identity_hmac_text(key, tx, (size_t)(dot - tx), mac);
    if (!rk_identity_text_equal(mac, dot + 1))
        return RK_EINVAL;
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    if (rk_identity_b64_decode(arena, tx, (size_t)(dot - tx), 1, &raw, &raw_len) != RK_OK)
        return RK_EINVAL;
    json_t *doc = json_loadb((const char *)raw, raw_len, 0, NULL);
    const char *use = json_string_value(json_object_get(doc, "use"));
    const char *doc_realm = json_string_value(json_object_get(doc, "realm"));
    json_t *exp = json_object_get(doc, "exp");
    int rc = RK_EINVAL;
    if (use && strcmp(use, "logout") == 0 && doc_realm && strcmp(doc_realm, realm) == 0 &&
        json_is_integer(exp) && json_integer_value(exp) > now) {
        memset(request, 0, sizeof(*request));
        const char *name = NULL;
        const char **slot;
        for (size_t i = 0; (slot = request_field(request, i, &name)); i++) {
            const char *value = json_string_value(json_object_get(doc, name));
            if (value)
                *slot = rk_arena_strdup(arena, value);
        }
        rc = RK_OK;
    }
    json_decref(doc);
    return rc;
}

/* --- answers ---------------------------------------------------------------------------------- */

static int https(const rk_request_t *req)
{
    return strncmp(rk_app(req)->public_url, "https://", 8) == 0;
}

static void send_page(rk_request_t *req, int status, const char *html)
{
    rk_response_set(req, status, "text/html; charset=utf-8", html, strlen(html));
    rk_response_header(req, "content-security-policy", rk_identity_pages_csp());
    rk_response_header(req, "cache-control", "no-store");
    rk_response_header(req, "referrer-policy", "no-referrer");
    rk_response_header(req, "x-content-type-options", "nosniff");
    rk_request_finish(req);
}

static void bad_request(logout_t *lo, const char *detail)
{
    rk_identity_flow_error_page(lo->flow->req, lo->flow->lang, 400, "ログアウトできません",
                                "Cannot log out", detail);
}

static void unavailable(logout_t *lo)
{
    rk_identity_flow_error_page(lo->flow->req, lo->flow->lang, 503,
                                "しばらくしてからお試しください", "Please try again shortly",
                                "the database did not answer; you are not logged out yet");
}

static void redirect(rk_request_t *req, const char *location)
{
    rk_response_set(req, strcmp(req->method, "GET") == 0 ? 302 : 303, "text/plain", "", 0);
    rk_response_header(req, "location", location);
    rk_response_header(req, "cache-control", "no-store");
    rk_response_header(req, "referrer-policy", "no-referrer");
    rk_request_finish(req);
}

/*
 * The end of every logout that was not refused: rk_sso cleared if the browser sent one, then
 * the client's post-logout redirect URI (with state) or the "logged out" page.
 */
static void finish(logout_t *lo)
{
    rk_request_t *req = lo->flow->req;
    if (rk_identity_cookie(req->arena, rk_request_header(req, "cookie"),
                           RK_IDENTITY_SESSION_COOKIE))
        rk_response_header(
            req, "set-cookie",
            rk_arena_printf(req->arena, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
                            RK_IDENTITY_SESSION_COOKIE, https(req) ? "; Secure" : ""));
    const char *uri = lo->request.post_logout_redirect_uri;
    if (!uri) {
        send_page(req, 200, rk_identity_page_logged_out(req->arena, lo->flow->lang));
        return;
    }
    const char *location = uri;
    if (lo->request.state)
        location = rk_arena_printf(req->arena, "%s%cstate=%s", uri, strchr(uri, '?') ? '&' : '?',
                                   rk_identity_url_encode(req->arena, lo->request.state));
    redirect(req, location);
}

static void show_confirm(logout_t *lo, int status)
{
    rk_identity_flow_t *flow = lo->flow;
    rk_request_t *req = flow->req;
    const char *tx =
        rk_identity_logout_tx_seal(req->arena, &lo->request, flow->slug, (long long)time(NULL),
                                   flow->identity->logout->tx_key);
    const char *csrf = rk_identity_flow_page_csrf(lo->flow, tx);
    const char *action = rk_arena_printf(req->arena, "/t/%s/logout", flow->slug);
    send_page(req, status,
              rk_identity_page_logout_confirm(req->arena, flow->lang, action, csrf, tx));
}

/* --- back-channel logout tokens ----------------------------------------------------------- */

/* Signs and queues the logout token for the client of row i. 1 if queued. */
static int notify(logout_t *lo, const PGresult *rows, int i)
{
    rk_identity_t *identity = lo->flow->identity;
    const char *client_id = PQgetvalue(rows, i, END_CLIENT);
    const char *slug = PQgetvalue(rows, i, END_SLUG);
    const rk_identity_realm_t *realm = rk_identity_realm(identity, slug);
    rk_identity_alg_t alg;
    const char *why = NULL;
    if (!realm || rk_identity_alg_parse(PQgetvalue(rows, i, END_ALG), &alg) != RK_OK ||
        !realm->signing[alg]) {
        why = "the client's realm has no active key of its algorithm";
    } else if (!identity->logout->backchannel) {
        why = "back-channel delivery is not set up";
    }
    char subject[44], jti[RK_IDENTITY_B64_LEN(16) + 1];
    if (!why && rk_identity_random_text(jti, 16) != RK_OK)
        why = "no randomness";
    char *token = NULL;
    if (!why) {
        rk_identity_subject(identity->pairwise_key,
                            strcmp(PQgetvalue(rows, i, END_SUBJECT_TYPE), "pairwise") == 0,
                            PQgetvalue(rows, i, END_SECTOR), PQgetvalue(rows, i, END_UID), subject);
        rk_identity_logout_token_t claims = {
            .issuer = realm->issuer,
            .client_id = client_id,
            .subject = subject,
            .sid = lo->flow->sid,
            .jti = jti,
            .issued_at = (long long)time(NULL),
            .lifetime_s = RK_IDENTITY_LOGOUT_TOKEN_TTL,
        };
        json_t *doc = rk_identity_logout_token_claims(&claims);
        char *payload = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        token = rk_identity_jws_sign(realm->signing[alg], rk_identity_alg_name(alg),
                                     realm->signing_kid[alg], "logout+jwt", payload,
                                     strlen(payload), &why);
        free(payload);
    }
    int queued =
        token && rk_identity_backchannel_send(identity->logout->backchannel, client_id,
                                              PQgetvalue(rows, i, END_URI), token) == RK_OK;
    if (token) {
        OPENSSL_cleanse(token, strlen(token));
        free(token);
    }
    if (why)
        rk_log_error("back-channel logout not sent", "{s:s, s:s, s:s}", "realm", slug, "client_id",
                     client_id, "error", why);
    else if (queued)
        rk_log_debug("back-channel logout queued", "{s:s, s:s, s:s}", "realm", slug, "client_id",
                     client_id, "token_id", jti);
    return queued;
}

static void ended(const rk_store_result_t *res, void *arg)
{
    logout_t *lo = arg;
    rk_request_t *req = lo->flow->req;
    if (res->status != RK_OK || res->n_results != 1) {
        if (res->status == RK_EINVAL)
            rk_log_error("ending a session failed", "{s:s}", "error", res->error);
        unavailable(lo);
        return;
    }
    const PGresult *rows = res->results[0];
    int notified = 0;
    for (int i = 0; i < PQntuples(rows); i++) {
        if (!PQgetisnull(rows, i, END_CLIENT))
            notified += notify(lo, rows, i);
    }
    if (PQntuples(rows) > 0)
        rk_log_info("logout", "{s:s, s:s, s:s, s:i, s:i, s:b}", "request_id", req->request_id,
                    "realm", lo->flow->slug, "account_id", PQgetvalue(rows, 0, END_ACCOUNT),
                    "grants_revoked", atoi(PQgetvalue(rows, 0, END_REVOKED)), "backchannel",
                    notified, "confirmed", lo->confirmed);
    finish(lo);
}

static void end_session(logout_t *lo)
{
    const char *values[] = {lo->flow->sid};
    if (rk_store_exec(rk_app(lo->flow->req)->store, STMT_END, 1, values, ended, lo) != RK_AGAIN)
        unavailable(lo);
}

/* --- the decision ------------------------------------------------------------------------- */

static void decide(logout_t *lo, int live)
{
    if (!live)
        finish(lo); /* nothing to end in this browser */
    else if (lo->confirmed || (lo->hint_sid && strcmp(lo->hint_sid, lo->flow->sid) == 0))
        end_session(lo);
    else
        show_confirm(lo, 200);
}

static void session_read(const rk_store_result_t *res, void *arg)
{
    logout_t *lo = arg;
    rk_identity_flow_t *flow = lo->flow;
    if (res->status != RK_OK || res->n_results != 1) {
        if (res->status == RK_EINVAL)
            rk_log_error("reading a session failed", "{s:s}", "error", res->error);
        unavailable(lo);
        return;
    }
    const PGresult *rows = res->results[0];
    char presented[65];
    rk_identity_sha256_hex(flow->session_secret, strlen(flow->session_secret), presented);
    decide(lo, PQntuples(rows) == 1 && strlen(PQgetvalue(rows, 0, 0)) == 64 &&
                   CRYPTO_memcmp(presented, PQgetvalue(rows, 0, 0), 64) == 0);
}

static void read_session(logout_t *lo)
{
    if (!lo->flow->sid) {
        decide(lo, 0);
        return;
    }
    const char *values[] = {lo->flow->sid};
    if (rk_store_exec(rk_app(lo->flow->req)->store, STMT_SESSION, 1, values, session_read, lo) !=
        RK_AGAIN)
        unavailable(lo);
}

/* 1 if uri is one of the client's post_logout_redirect_uris, compared exactly. */
static int logout_uri_ok(const rk_identity_client_t *client, const char *uri)
{
    size_t i;
    json_t *value;
    json_array_foreach(client->post_logout_redirect_uris, i, value)
    {
        if (json_is_string(value) && strcmp(json_string_value(value), uri) == 0)
            return 1;
    }
    return 0;
}

static void client_checked(logout_t *lo, const rk_identity_client_t *client)
{
    const char *uri = lo->request.post_logout_redirect_uri;
    if (uri && !logout_uri_ok(client, uri)) {
        rk_log_info("logout refused", "{s:s, s:s, s:s, s:s}", "request_id",
                    lo->flow->req->request_id, "realm", lo->flow->slug, "client_id",
                    client->client_id, "reason", "post_logout_redirect_uri not registered");
        bad_request(lo, "post_logout_redirect_uri: is not one of this client's registered "
                        "post_logout_redirect_uris (they are compared exactly)");
        return;
    }
    read_session(lo);
}

static void client_found(int status, const rk_identity_client_t *client, void *arg)
{
    logout_t *lo = arg;
    if (!rk_identity_realm(lo->flow->identity, lo->flow->slug))
        rk_identity_flow_error_page(lo->flow->req, lo->flow->lang, 404, "見つかりません",
                                    "Not found", "no realm with this slug");
    else if (status == RK_OK)
        client_checked(lo, client);
    else if (status == RK_ENOTFOUND)
        bad_request(lo, "client_id: no such client in this realm");
    else
        unavailable(lo);
}

static void find_client(logout_t *lo)
{
    rk_identity_flow_t *flow = lo->flow;
    const rk_identity_client_t *client = NULL;
    int rc = rk_identity_client_lookup(flow->identity->clients, flow->tenant_id,
                                       lo->request.client_id, &client, client_found, lo);
    if (rc == RK_OK)
        client_checked(lo, client);
    else if (rc != RK_AGAIN)
        unavailable(lo);
}

/* --- the endpoint ------------------------------------------------------------------------- */

static void pick_lang(logout_t *lo)
{
    rk_request_t *req = lo->flow->req;
    lo->flow->lang =
        rk_lang_pick(lo->request.ui_locales,
                     rk_identity_cookie(req->arena, rk_request_header(req, "cookie"), "lang"),
                     rk_request_header(req, "accept-language"));
}

/* A relying party's POST came without the session cookie (SameSite=Lax keeps it off a
 * cross-site POST): the same request as a GET, which a top-level navigation carries it on. */
static void again_as_get(logout_t *lo, const rk_identity_form_t *form)
{
    rk_request_t *req = lo->flow->req;
    static const char *const names[] = {"id_token_hint", "client_id", "post_logout_redirect_uri",
                                        "state", "ui_locales"};
    char *location = rk_arena_printf(req->arena, "/t/%s/logout", lo->flow->slug);
    char sep = '?';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *value = rk_identity_form_get(form, names[i]);
        if (!value)
            continue;
        location = rk_arena_printf(req->arena, "%s%c%s=%s", location, sep, names[i],
                                   rk_identity_url_encode(req->arena, value));
        sep = '&';
    }
    redirect(req, location);
}

static void rp_initiated(logout_t *lo, const rk_identity_form_t *form)
{
    rk_identity_flow_t *flow = lo->flow;
    rk_identity_logout_request_t *r = &lo->request;
    const char *hint = rk_identity_form_get(form, "id_token_hint");
    r->client_id = rk_identity_form_get(form, "client_id");
    r->post_logout_redirect_uri = rk_identity_form_get(form, "post_logout_redirect_uri");
    r->state = rk_identity_form_get(form, "state");
    r->ui_locales = rk_identity_form_get(form, "ui_locales");
    pick_lang(lo);
    if (r->client_id && strlen(r->client_id) > CLIENT_ID_MAX) {
        bad_request(lo, "client_id: must be at most 64 bytes");
        return;
    }
    if (r->post_logout_redirect_uri && strlen(r->post_logout_redirect_uri) > RK_IDENTITY_URI_MAX) {
        bad_request(lo, "post_logout_redirect_uri: must be at most 512 bytes");
        return;
    }
    if (r->state && strlen(r->state) > STATE_MAX) {
        bad_request(lo, "state: must be at most 1024 bytes");
        return;
    }
    if (strcmp(flow->req->method, "POST") == 0 && !flow->sid) {
        again_as_get(lo, form);
        return;
    }
    if (hint) {
        const rk_identity_realm_t *realm = rk_identity_realm(flow->identity, flow->slug);
        const char *audience = NULL, *why = NULL;
        json_t *claims = realm ? rk_identity_id_token_hint_verify(hint, realm->issuer,
                                                                  rk_identity_realm_key_lookup,
                                                                  realm, &audience, &why)
                               : NULL;
        if (!claims) {
            rk_log_info("logout refused", "{s:s, s:s, s:s, s:s}", "request_id",
                        flow->req->request_id, "realm", flow->slug, "reason", "id_token_hint",
                        "detail", why ? why : "no realm");
            bad_request(lo, "id_token_hint: is not an ID token issued by this city");
            return;
        }
        const char *sid = json_string_value(json_object_get(claims, "sid"));
        lo->hint_sid = sid ? rk_arena_strdup(flow->req->arena, sid) : NULL;
        const char *hint_client = rk_arena_strdup(flow->req->arena, audience);
        json_decref(claims);
        if (r->client_id && strcmp(r->client_id, hint_client) != 0) {
            bad_request(lo, "client_id: differs from the audience of id_token_hint");
            return;
        }
        r->client_id = hint_client;
    }
    if (r->post_logout_redirect_uri && !r->client_id) {
        bad_request(lo, "post_logout_redirect_uri: needs client_id or id_token_hint to name the "
                        "client it belongs to");
        return;
    }
    if (r->client_id)
        find_client(lo);
    else
        read_session(lo);
}

/* The confirmation page's form: tx, csrf and the decision. */
static void confirmation(logout_t *lo, const rk_identity_form_t *form)
{
    rk_identity_flow_t *flow = lo->flow;
    const char *tx = rk_identity_form_get(form, "tx");
    if (rk_identity_logout_tx_open(flow->req->arena, tx, flow->slug, (long long)time(NULL),
                                   flow->identity->logout->tx_key, &lo->request) != RK_OK) {
        rk_identity_flow_error_page(flow->req, flow->lang, 400, "このページは有効期限が切れました",
                                    "This page has expired",
                                    "go back to the service and start again");
        return;
    }
    pick_lang(lo);
    const char *csrf = rk_identity_form_get(form, "csrf");
    const char *expected = rk_identity_flow_csrf(flow, tx);
    if (!csrf || !expected || !rk_identity_text_equal(csrf, expected)) {
        rk_log_warn("logout form without a valid CSRF token", "{s:s, s:s, s:s}", "request_id",
                    flow->req->request_id, "realm", flow->slug, "peer", flow->req->peer);
        show_confirm(lo, 403); /* ask again, with a token for this browser */
        return;
    }
    const char *decision = rk_identity_form_get(form, "decision");
    if (!decision || strcmp(decision, "logout") != 0) {
        rk_identity_flow_error_page(flow->req, flow->lang, 200, "ログアウトしませんでした",
                                    "You are still logged in", NULL);
        return;
    }
    lo->confirmed = 1;
    read_session(lo);
}

static void logout_endpoint(rk_request_t *req)
{
    rk_identity_flow_t *flow = rk_identity_flow_new(req);
    if (!flow)
        return;
    logout_t *lo = rk_arena_calloc(req->arena, 1, sizeof(*lo));
    lo->flow = flow;
    const char *source = req->query;
    size_t len = strlen(req->query);
    int post = strcmp(req->method, "POST") == 0;
    if (post) {
        const char *type = rk_request_header(req, "content-type");
        if (!type || strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0) {
            bad_request(lo, "Content-Type: must be application/x-www-form-urlencoded");
            return;
        }
        source = (const char *)req->body;
        len = req->body_len;
    }
    rk_identity_form_t *form = rk_arena_calloc(req->arena, 1, sizeof(*form));
    const char *why = NULL;
    if (rk_identity_form_parse(req->arena, source, len, RK_IDENTITY_TOKEN_MAX_BYTES, form, &why) !=
        RK_OK) {
        bad_request(lo, why);
        return;
    }
    if (post && (rk_identity_form_get(form, "tx") || rk_identity_form_get(form, "decision")))
        confirmation(lo, form);
    else
        rp_initiated(lo, form);
}

/* --- the module --------------------------------------------------------------------------- */

void rk_identity_logout_register(rk_identity_t *identity, rk_router_t *router)
{
    rk_identity_logout_t *logout = rk_xcalloc(1, sizeof(*logout));
    identity->logout = logout;
    if (rk_identity_derive_key(&identity->master, "renkei logout transaction v1", logout->tx_key) !=
        RK_OK) {
        /* Cannot happen once identity.c derived its keys; a random key only costs other hubs
         * the ability to open this hub's confirmation pages. */
        rk_log_error("cannot derive the logout key: using a random one", NULL);
        RAND_bytes(logout->tx_key, sizeof(logout->tx_key));
    }
    char why[256] = "";
    logout->backchannel = rk_identity_backchannel_new(identity->app->base, NULL, why, sizeof(why));
    if (!logout->backchannel)
        rk_log_error("back-channel logout is off", "{s:s}", "error", why);
    rk_store_prepare(identity->app->store, STMT_SESSION, sql_session);
    rk_store_prepare(identity->app->store, STMT_END, sql_end);
    rk_router_add(router, "GET", "/t/{slug}/logout", logout_endpoint, "oidc_logout");
    rk_router_add(router, "POST", "/t/{slug}/logout", logout_endpoint, "oidc_logout");
}

void rk_identity_logout_free(rk_identity_logout_t *logout)
{
    if (!logout)
        return;
    rk_identity_backchannel_free(logout->backchannel);
    OPENSSL_cleanse(logout->tx_key, sizeof(logout->tx_key));
    free(logout);
}
