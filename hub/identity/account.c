/*
 * account.c — GET /t/{slug}/account: the resident's own page at the hub, with no service in
 * between: who is logged in in this browser, their home city, how they logged in, and the way
 * out. Without a session it shows the login page, whose tx carries no client ("account"
 * mode, authz_request.h); after the login the flow comes back here. This is how a resident
 * (and the quickstart's demo resident) can use the hub's login in a browser directly.
 */
#include "identity/flow.h"

#include "core/error.h"
#include "core/log.h"
#include "identity/form.h"
#include "identity/secret_text.h"

#include <openssl/crypto.h>
#include <string.h>

#define STMT_ACCOUNT_PAGE "identity_account_page"

static const char sql_account_page[] =
    "SELECT encode(s.secret_sha256, 'hex'), s.acr, a.username, a.display_name, t.name_ja,"
    " t.name_en FROM rk_identity_session s JOIN rk_identity_account a ON a.id = s.account_id"
    " JOIN rk_tenant t ON t.id = a.tenant_id"
    " WHERE s.sid = $1 AND s.ended_at IS NULL AND s.expires_at > now()"
    " AND a.disabled_at IS NULL";

static void show_login(rk_identity_flow_t *flow)
{
    rk_identity_flow_show_login(flow, 200, RK_LOGIN_OK, NULL, 0);
}

static void session_read(const rk_store_result_t *res, void *arg)
{
    rk_identity_flow_t *flow = arg;
    rk_request_t *req = flow->req;
    const rk_identity_realm_t *realm = rk_identity_realm(flow->identity, flow->slug);
    if (!realm || res->status != RK_OK || res->n_results != 1) {
        rk_identity_flow_error_page(req, flow->lang, 503, "しばらくしてからお試しください",
                                    "Please try again shortly", "the database did not answer");
        return;
    }
    const PGresult *row = res->results[0];
    char presented[65];
    rk_identity_sha256_hex(flow->session_secret, strlen(flow->session_secret), presented);
    if (PQntuples(row) != 1 || CRYPTO_memcmp(presented, PQgetvalue(row, 0, 0), 64) != 0) {
        rk_identity_flow_start(flow); /* no session after all: the login page */
        return;
    }
    int ja = flow->lang == RK_LANG_JA;
    rk_identity_account_page_t page = {
        .lang = flow->lang,
        .realm_name = ja ? realm->name_ja : realm->name_en,
        .username = rk_arena_strdup(req->arena, PQgetvalue(row, 0, 2)),
        .display_name =
            PQgetisnull(row, 0, 3) ? NULL : rk_arena_strdup(req->arena, PQgetvalue(row, 0, 3)),
        .home_city = rk_arena_strdup(req->arena, PQgetvalue(row, 0, ja ? 4 : 5)),
        .certificate = rk_identity_loa_of(PQgetvalue(row, 0, 1)) == RK_IDENTITY_LOA_CERTIFICATE,
        .logout_url = rk_arena_printf(req->arena, "/t/%s/logout", flow->slug),
        .lang_url_ja = rk_arena_printf(req->arena, "/t/%s/account?ui_locales=ja", flow->slug),
        .lang_url_en = rk_arena_printf(req->arena, "/t/%s/account?ui_locales=en", flow->slug),
    };
    const char *html = rk_identity_page_account(req->arena, &page);
    rk_response_set(req, 200, "text/html; charset=utf-8", html, strlen(html));
    rk_response_header(req, "content-security-policy", rk_identity_pages_csp());
    rk_response_header(req, "cache-control", "no-store");
    rk_response_header(req, "x-content-type-options", "nosniff");
    rk_request_finish(req);
}

static void account(rk_request_t *req)
{
    rk_identity_flow_t *flow = rk_identity_flow_new(req);
    if (!flow)
        return;
    rk_identity_form_t form;
    const char *why = NULL;
    if (rk_identity_form_parse(req->arena, req->query, strlen(req->query), 64, &form, &why) ==
        RK_OK)
        flow->authz.ui_locales = rk_identity_form_get(&form, "ui_locales");
    flow->authz.account = 1;
    flow->authz.max_age_s = -1;
    flow->after_client = show_login;
    flow->lang =
        rk_lang_pick(flow->authz.ui_locales,
                     rk_identity_cookie(req->arena, rk_request_header(req, "cookie"), "lang"),
                     rk_request_header(req, "accept-language"));
    if (!flow->sid) {
        rk_identity_flow_start(flow);
        return;
    }
    const char *values[] = {flow->sid};
    if (rk_store_exec(rk_app(req)->store, STMT_ACCOUNT_PAGE, 1, values, session_read, flow) !=
        RK_AGAIN)
        rk_identity_flow_error_page(req, flow->lang, 503, "しばらくしてからお試しください",
                                    "Please try again shortly", "the database is not reachable");
}

void rk_identity_account_page_register(rk_identity_t *identity, rk_router_t *router)
{
    rk_store_prepare(identity->app->store, STMT_ACCOUNT_PAGE, sql_account_page);
    rk_router_add(router, "GET", "/t/{slug}/account", account, "oidc_account");
}
