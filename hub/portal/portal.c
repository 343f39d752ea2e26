/*
 * portal.c — the resident portal's files and its realm list (see portal.h).
 *
 * The files are embedded (portal_assets.h) rather than read from a folder: renkeid then carries
 * exactly the portal it was built with, a deployment has no second thing to install or keep in
 * step, and the build id in every asset URL is known at build time. Nothing here touches the
 * disk or allocates per file: bodies are added to the response by reference.
 */
#include "portal/portal.h"

#include "admin/admin_reply.h"
#include "core/error.h"
#include "portal/portal_assets.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STMT_REALMS "portal_realms"

/* Scripts, styles, requests and images from the hub's own origin only; no inline code, no
 * frames, no plugins. Facility photos on other origins are therefore shown as links. */
#define PORTAL_CSP                                                                                 \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static const char sql_realms[] =
    "SELECT json_build_object('redirect_uri', $2::text, 'post_logout_redirect_uri', $3::text,"
    " 'realms', coalesce(json_agg(json_build_object("
    "  'code', t.code, 'slug', t.slug,"
    "  'name', json_build_object('ja', t.name_ja, 'en', t.name_en, 'kana', t.name_kana),"
    "  'issuer', $1::text || '/t/' || t.slug,"
    "  'client_id', (SELECT c.client_id FROM rk_identity_client c WHERE c.tenant_id = t.id"
    "   AND c.auth_method = 'none' AND c.first_party AND $2::text = ANY (c.redirect_uris)"
    "   ORDER BY c.id LIMIT 1)) ORDER BY t.code), '[]'::json))::text"
    " FROM rk_tenant t";

/* How long a token's q-value may be ("0.001" is 5): longer ones are malformed, read as 0. */
#define QVALUE_MAX 8

/* The q of one Accept-Encoding item's parameters (";q=0.5"): 1 when absent, 0 when zero. */
static int q_nonzero(const char *params, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if ((params[i] == 'q' || params[i] == 'Q') && params[i + 1] == '=' &&
            (i == 0 || params[i - 1] == ';' || params[i - 1] == ' ')) {
            char value[QVALUE_MAX + 1];
            size_t n = 0;
            for (size_t j = i + 2; j < len && params[j] != ';' && params[j] != ' '; j++) {
                if (n == QVALUE_MAX)
                    return 0;
                value[n++] = params[j];
            }
            value[n] = '\0';
            char *end;
            double q = strtod(value, &end);
            return n > 0 && *end == '\0' && q > 0;
        }
    }
    return 1;
}

int rk_portal_accepts_gzip(const char *accept_encoding)
{
    int gzip = -1, any = -1; /* -1 not named, else the named item's verdict */
    for (const char *p = accept_encoding; p && *p;) {
        size_t item = strcspn(p, ",");
        size_t start = strspn(p, " \t");
        if (start > item)
            start = item;
        size_t token = start + strcspn(p + start, " \t;,");
        if (token > item)
            token = item;
        int ok = q_nonzero(p + token, item - token);
        size_t tlen = token - start;
        if ((tlen == 4 && strncasecmp(p + start, "gzip", 4) == 0) ||
            (tlen == 6 && strncasecmp(p + start, "x-gzip", 6) == 0))
            gzip = ok;
        else if (tlen == 1 && p[start] == '*')
            any = ok;
        p += item;
        if (*p == ',')
            p++;
    }
    return gzip >= 0 ? gzip : any > 0;
}

static const rk_portal_asset_t *asset_named(const char *name)
{
    for (size_t i = 0; i < rk_portal_assets_count; i++)
        if (strcmp(rk_portal_assets[i].name, name) == 0)
            return &rk_portal_assets[i];
    return NULL;
}

/* Sets the body of a (static) asset, compressed when the browser takes gzip. */
static void send_asset(rk_request_t *req, const rk_portal_asset_t *asset)
{
    req->status = 200;
    rk_response_header(req, "content-type", asset->content_type);
    rk_response_header(req, "x-content-type-options", "nosniff");
    rk_response_header(req, "vary", "accept-encoding");
    if (rk_portal_accepts_gzip(rk_request_header(req, "accept-encoding"))) {
        rk_response_header(req, "content-encoding", "gzip");
        evbuffer_add_reference(req->response_body, asset->gzip, asset->gzip_len, NULL, NULL);
    } else {
        evbuffer_add_reference(req->response_body, asset->data, asset->len, NULL, NULL);
    }
}

/* The single page, at / and at its redirect URI /callback. */
static void index_page(rk_request_t *req)
{
    char etag[sizeof("\"\"") + 32];
    snprintf(etag, sizeof(etag), "\"%s\"", rk_portal_build);
    rk_response_header(req, "cache-control", "no-cache");
    rk_response_header(req, "etag", etag);
    rk_response_header(req, "content-security-policy", PORTAL_CSP);
    /* The code and state in /callback's query must not travel on in a Referer. */
    rk_response_header(req, "referrer-policy", "no-referrer");
    const char *match = rk_request_header(req, "if-none-match");
    if (match && strstr(match, etag)) {
        req->status = 304;
    } else {
        send_asset(req, asset_named("index.html"));
    }
    rk_request_finish(req);
}

static void asset(rk_request_t *req)
{
    const rk_portal_asset_t *found =
        strcmp(req->params[0], rk_portal_build) == 0 ? asset_named(req->params[1]) : NULL;
    if (!found) {
        /* An older or newer build's URL (a page loaded before a restart) is not guessed at. */
        rk_response_header(req, "cache-control", "no-store");
        rk_response_error(req, 404, "not_found", "no such portal file in this build of the hub");
    } else {
        rk_response_header(req, "cache-control", "public, max-age=31536000, immutable");
        send_asset(req, found);
    }
    rk_request_finish(req);
}

static void realms(rk_request_t *req)
{
    rk_app_t *app = rk_app(req);
    char redirect[1024], post_logout[1024];
    snprintf(redirect, sizeof(redirect), "%s/callback", app->public_url);
    snprintf(post_logout, sizeof(post_logout), "%s/", app->public_url);
    const char *values[] = {app->public_url, redirect, post_logout};
    if (rk_store_exec(app->store, STMT_REALMS, 3, values, rk_admin_reply_json_row, req) !=
        RK_AGAIN) {
        rk_response_error(req, 503, "unavailable", "no database connection");
        rk_request_finish(req);
    }
}

void rk_portal_register(rk_app_t *app, rk_router_t *router)
{
    rk_store_prepare(app->store, STMT_REALMS, sql_realms);
    rk_router_add(router, "GET", "/", index_page, "portal_page");
    rk_router_add(router, "GET", "/callback", index_page, "portal_page");
    rk_router_add(router, "GET", "/portal/{build}/{name}", asset, "portal_asset");
    rk_router_add(router, "GET", "/api/v1/portal", realms, "portal_realms");
}
