/*
 * web.c — the e-library's own site (see web.h): routes, cookies and pages (Japanese first, with
 * English beside it, no JavaScript). Every value shown is HTML-escaped; requests are bounded
 * (headers 16 KiB, bodies 4 KiB, 10 s); answers carry no-store, nosniff, no-referrer (the
 * callback's code never leaves in a Referer) and a CSP without scripts or frames.
 */
#include "web.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "identity/form.h"
#include "identity/secret_text.h"
#include "store/pool.h"
#include "web_oidc.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_VIEW "elibrary_web_view"
#define STMT_CHECKOUT "elibrary_web_checkout"
#define SESSION_COOKIE "el_session"
#define STATE_COOKIE "el_state"

struct elibrary_web {
    elibrary_t *e;
    struct evhttp *http;
    web_oidc_t *rp;
    int secure; /* the site is https: cookies get Secure */
};

/* One request waiting for the database or the hub. */
typedef struct pending_page {
    elibrary_web_t *web;
    struct evhttp_request *req;
    char session_id[WEB_OIDC_ID_LEN + 1]; /* the session may go while we wait */
} pending_page_t;

void elibrary_web_prepare(struct rk_store *store)
{
    rk_store_prepare(store, STMT_VIEW, "SELECT elibrary.web_view($1, $2, $3)::text");
    rk_store_prepare(store, STMT_CHECKOUT,
                     "SELECT elibrary.call('Checkout', $1::jsonb, $2, $3)::text");
}

/* --- answers ------------------------------------------------------------------------------- */

static void headers(struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    evhttp_add_header(h, "Content-Security-Policy",
                      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
}

static void cookie(elibrary_web_t *web, struct evhttp_request *req, const char *name,
                   const char *value, int max_age)
{
    char text[256];
    snprintf(text, sizeof(text), "%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s", name, value,
             max_age, web->secure ? "; Secure" : "");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", text);
}

static void redirect(struct evhttp_request *req, const char *location)
{
    headers(req);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Location", location);
    evhttp_send_reply(req, 303, "See Other", NULL);
}

static void put_escaped(struct evbuffer *out, const char *text)
{
    char *escaped = evhttp_htmlescape(text ? text : "");
    evbuffer_add(out, escaped, strlen(escaped));
    free(escaped);
}

static void page_start(struct evbuffer *out, const char *city)
{
    evbuffer_add_printf(out,
                        "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">"
                        "<meta name=\"viewport\" content=\"width=device-width\">"
                        "<title>電子図書館 e-library</title><style>body{font-family:sans-serif;"
                        "max-width:46em;margin:1em auto;padding:0 1em}table{border-collapse:"
                        "collapse}td,th{border-bottom:1px solid #ccc;padding:.3em .6em;text-align:"
                        "left}.badge{background:#2a6;color:#fff;padding:.1em .5em;border-radius:"
                        ".3em}</style></head><body><h1>");
    put_escaped(out, city);
    evbuffer_add_printf(out, " 電子図書館 <small>e-library</small></h1>");
}

static void send_page(struct evhttp_request *req, int status, struct evbuffer *out)
{
    evbuffer_add_printf(out, "</body></html>");
    headers(req);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/html; charset=utf-8");
    evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", out);
    evbuffer_free(out);
}

static void problem(elibrary_web_t *web, struct evhttp_request *req, int status, const char *ja,
                    const char *en)
{
    struct evbuffer *out = evbuffer_new();
    page_start(out, web->e->city);
    evbuffer_add_printf(out, "<p role=\"alert\">");
    put_escaped(out, ja);
    evbuffer_add_printf(out, "<br><small>");
    put_escaped(out, en);
    evbuffer_add_printf(out, "</small></p><p><a href=\"/\">戻る Back</a></p>");
    send_page(req, status, out);
}

/* --- my e-library -------------------------------------------------------------------------- */

/* The browser went away while we waited: libevent frees its request with the connection. */
static void browser_gone(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    ((pending_page_t *)arg)->req = NULL;
}

static pending_page_t *pending_new(elibrary_web_t *web, struct evhttp_request *req,
                                   web_session_t *s)
{
    pending_page_t *p = rk_xcalloc(1, sizeof(*p));
    p->web = web;
    p->req = req;
    if (s)
        memcpy(p->session_id, s->id, sizeof(p->session_id));
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), browser_gone, p);
    return p;
}

/* Frees p; its request to answer, or NULL when the browser went away. */
static struct evhttp_request *pending_end(pending_page_t *p)
{
    struct evhttp_request *req = p->req;
    if (req)
        evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
    free(p);
    return req;
}

static const char *band_label(const char *band)
{
    return strcmp(band, "elementary") == 0 ? "児童・生徒ID（小学生） pupil ID, elementary"
           : strcmp(band, "lower_secondary") == 0
               ? "児童・生徒ID（中学生） pupil ID, lower secondary"
               : NULL;
}

static void put_loans(struct evbuffer *out, json_t *loans)
{
    evbuffer_add_printf(out, "<h2>借りている本 <small>My loans</small></h2>");
    if (!json_array_size(loans)) {
        evbuffer_add_printf(out, "<p id=\"no-loans\">ありません。 None.</p>");
        return;
    }
    evbuffer_add_printf(out, "<table id=\"loans\"><tr><th>書名 Title</th><th>返却期限 Due</th>"
                             "<th></th></tr>");
    size_t i;
    json_t *l;
    json_array_foreach(loans, i, l)
    {
        evbuffer_add_printf(out, "<tr><td>");
        put_escaped(out, json_string_value(json_object_get(
                             json_object_get(json_object_get(l, "work"), "title"), "ja")));
        evbuffer_add_printf(out, "</td><td>");
        put_escaped(out, json_string_value(json_object_get(l, "dueDate")));
        evbuffer_add_printf(out, "</td><td><a href=\"");
        put_escaped(out, json_string_value(json_object_get(l, "readerUrl")));
        evbuffer_add_printf(out, "\">読む Read</a></td></tr>");
    }
    evbuffer_add_printf(out, "</table>");
}

static void put_titles(struct evbuffer *out, json_t *titles, const web_session_t *s)
{
    evbuffer_add_printf(out,
                        "<h2>借りられる本 <small>Titles for you</small></h2><table "
                        "id=\"titles\"><tr><th>書名 Title</th><th>著者 Author</th><th></th></tr>");
    size_t i;
    json_t *t;
    json_array_foreach(titles, i, t)
    {
        evbuffer_add_printf(out, "<tr><td>");
        put_escaped(out, json_string_value(json_object_get(t, "title")));
        evbuffer_add_printf(out, "</td><td>");
        put_escaped(out, json_string_value(json_object_get(t, "author")));
        evbuffer_add_printf(out, "</td><td>");
        if (json_is_true(json_object_get(t, "mine"))) {
            evbuffer_add_printf(out, "借りています On loan");
        } else if (json_is_true(json_object_get(t, "available"))) {
            evbuffer_add_printf(out,
                                "<form method=\"post\" action=\"/checkout\"><input "
                                "type=\"hidden\" name=\"csrf\" value=\"%s\"><input "
                                "type=\"hidden\" name=\"record_id\" value=\"",
                                s->csrf);
            put_escaped(out, json_string_value(json_object_get(t, "record_id")));
            evbuffer_add_printf(out, "\"><button>借りる Borrow</button></form>");
        } else {
            evbuffer_add_printf(out, "貸出中 All lent");
        }
        evbuffer_add_printf(out, "</td></tr>");
    }
    evbuffer_add_printf(out, "</table>");
}

static void view_read(const rk_store_result_t *res, void *arg)
{
    pending_page_t *p = arg;
    elibrary_web_t *web = p->web;
    web_session_t *s = web_oidc_session(web->rp, p->session_id);
    struct evhttp_request *req = pending_end(p);
    json_t *view = req && res->status == 0 && res->n_results == 1 && PQntuples(res->results[0]) == 1
                       ? json_loads(PQgetvalue(res->results[0], 0, 0), 0, NULL)
                       : NULL;
    if (!view || !s) {
        if (req)
            problem(web, req, 503, "しばらくしてからお試しください。", "Please try again shortly.");
        json_decref(view);
        return;
    }
    struct evbuffer *out = evbuffer_new();
    page_start(out, web->e->city);
    const char *label = band_label(s->age_band);
    evbuffer_add_printf(out,
                        "<p id=\"who\">ログイン中 Logged in%s%s%s — 同時に%lld冊まで "
                        "up to %lld at once</p>",
                        label ? " <span class=\"badge\" id=\"age-band\">" : "", label ? label : "",
                        label ? "</span>" : "",
                        (long long)json_integer_value(json_object_get(view, "loan_limit")),
                        (long long)json_integer_value(json_object_get(view, "loan_limit")));
    put_loans(out, json_object_get(view, "loans"));
    put_titles(out, json_object_get(view, "titles"), s);
    evbuffer_add_printf(out,
                        "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" "
                        "name=\"csrf\" value=\"%s\"><button>ログアウト Log out</button></form>",
                        s->csrf);
    json_decref(view);
    send_page(req, 200, out);
}

static const char *age_band_enum(const char *band)
{
    return strcmp(band, "elementary") == 0        ? "AGE_BAND_ELEMENTARY"
           : strcmp(band, "lower_secondary") == 0 ? "AGE_BAND_LOWER_SECONDARY"
                                                  : "AGE_BAND_UNSPECIFIED";
}

static void home(elibrary_web_t *web, struct evhttp_request *req, web_session_t *s)
{
    if (!s) {
        struct evbuffer *out = evbuffer_new();
        page_start(out, web->e->city);
        evbuffer_add_printf(
            out, "<p>市のアカウント（図書館カード、児童・生徒ID）でログインします。ポータルなどで"
                 "ログインしていれば、パスワードの入力はいりません。<br><small>Log in with your "
                 "city account (library card or pupil ID); logged in at the portal already, "
                 "you type no password.</small></p><p><a id=\"login\" href=\"/login\">ログイン "
                 "Log in</a></p>");
        send_page(req, 200, out);
        return;
    }
    pending_page_t *p = pending_new(web, req, s);
    const char *values[] = {web->e->municipality, s->sub, age_band_enum(s->age_band)};
    if (rk_store_exec(web->e->store, STMT_VIEW, 3, values, view_read, p) != RK_AGAIN)
        problem(web, pending_end(p), 503, "しばらくしてからお試しください。",
                "Please try again shortly.");
}

/* --- login, logout, checkout --------------------------------------------------------------- */

static void logged_in(web_session_t *session, const char *why, void *arg)
{
    pending_page_t *p = arg;
    elibrary_web_t *web = p->web;
    struct evhttp_request *req = pending_end(p);
    if (!session)
        rk_log_warn("e-library site: a login failed", "{s:s}", "why", why);
    if (!req)
        return;
    if (!session) {
        problem(web, req, 400, "ログインできませんでした。もう一度お試しください。",
                "The login did not complete; please try again.");
        return;
    }
    cookie(web, req, STATE_COOKIE, "", 0);
    cookie(web, req, SESSION_COOKIE, session->id, 8 * 3600);
    redirect(req, "/");
}

static const char *query_get(struct evkeyvalq *q, const char *name)
{
    const char *v = evhttp_find_header(q, name);
    return v && *v ? v : NULL;
}

static void checked_out(const rk_store_result_t *res, void *arg)
{
    pending_page_t *p = arg;
    elibrary_web_t *web = p->web;
    struct evhttp_request *req = pending_end(p);
    if (!req)
        return; /* lent or not, the page shows it next time */
    json_t *answer = res->status == 0 && res->n_results == 1 && PQntuples(res->results[0]) == 1
                         ? json_loads(PQgetvalue(res->results[0], 0, 0), 0, NULL)
                         : NULL;
    const char *reason = json_string_value(json_object_get(answer, "reason"));
    if (answer && json_object_get(answer, "ok"))
        redirect(req, "/");
    else if (reason && strcmp(reason, "LIBRARY_ERROR_AGE_RESTRICTED") == 0)
        problem(web, req, 403, "この資料は年齢制限により利用できません。",
                "This item is not lent to your age group.");
    else if (reason && strcmp(reason, "LIBRARY_ERROR_LOAN_LIMIT_REACHED") == 0)
        problem(web, req, 429, "同時に借りられる冊数を超えています。",
                "You have as many loans as you may.");
    else
        problem(web, req, answer ? 409 : 503, "借りられませんでした。",
                "The e-book could not be lent.");
    json_decref(answer);
}

static void checkout(elibrary_web_t *web, struct evhttp_request *req, web_session_t *s,
                     const rk_identity_form_t *form)
{
    const char *record = rk_identity_form_get(form, "record_id");
    char key[WEB_OIDC_ID_LEN + 1];
    if (!record || strlen(record) > 64 || rk_identity_random_text(key, 32) != 0) {
        problem(web, req, 400, "本の指定が正しくありません。", "record_id: not a title.");
        return;
    }
    json_t *q = json_pack("{s:{s:s}, s:{s:s, s:s, s:{s:s}}, s:s}", "idempotencyKey", "key", key,
                          "resident", "pairwiseId", s->sub, "ageBand", age_band_enum(s->age_band),
                          "homeMunicipality", "code", s->home, "recordId", record);
    char *text = q ? json_dumps(q, JSON_COMPACT) : NULL;
    json_decref(q);
    pending_page_t *p = pending_new(web, req, s);
    const char *values[] = {text, key, web->e->municipality};
    if (!text || rk_store_exec(web->e->store, STMT_CHECKOUT, 3, values, checked_out, p) != RK_AGAIN)
        problem(web, pending_end(p), 503, "しばらくしてからお試しください。",
                "Please try again shortly.");
    free(text);
}

/* POST bodies: the form, with its csrf checked against the session. */
static int post_form(elibrary_web_t *web, struct evhttp_request *req, rk_arena_t *arena,
                     web_session_t *s, rk_identity_form_t *form)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    char *body = rk_arena_alloc(arena, len + 1);
    evbuffer_remove(in, body, len);
    body[len] = '\0';
    const char *why = NULL, *csrf = NULL;
    if (rk_identity_form_parse(arena, body, len, 256, form, &why) == 0)
        csrf = rk_identity_form_get(form, "csrf");
    if (!s || !csrf || !rk_identity_text_equal(csrf, s->csrf)) {
        problem(web, req, 403, "もう一度ログインしてください。", "Please log in again.");
        return -1;
    }
    return 0;
}

static void route(struct evhttp_request *req, void *arg)
{
    elibrary_web_t *web = arg;
    rk_arena_t *arena = rk_arena_new();
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    const char *cookies = evhttp_find_header(evhttp_request_get_input_headers(req), "Cookie");
    web_session_t *s =
        web_oidc_session(web->rp, rk_identity_cookie(arena, cookies, SESSION_COOKIE));
    int post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
    rk_identity_form_t *form = rk_arena_calloc(arena, 1, sizeof(*form));
    if (!path) {
        problem(web, req, 400, "URLが正しくありません。", "Bad URL.");
    } else if (!post && strcmp(path, "/") == 0) {
        home(web, req, s);
    } else if (!post && strcmp(path, "/login") == 0) {
        char state[WEB_OIDC_ID_LEN + 1];
        char *url = web_oidc_login_url(web->rp, state);
        if (url) {
            cookie(web, req, STATE_COOKIE, state, 600);
            redirect(req, url);
        } else {
            problem(web, req, 500, "しばらくしてからお試しください。", "Please try again.");
        }
        free(url);
    } else if (!post && strcmp(path, "/callback") == 0) {
        struct evkeyvalq q;
        evhttp_parse_query_str(query && strlen(query) <= 4096 ? query : "", &q);
        pending_page_t *p = pending_new(web, req, NULL);
        web_oidc_complete(web->rp, query_get(&q, "code"), query_get(&q, "state"),
                          query_get(&q, "iss"), rk_identity_cookie(arena, cookies, STATE_COOKIE),
                          logged_in, p);
        evhttp_clear_headers(&q);
    } else if (post && strcmp(path, "/logout") == 0) {
        if (post_form(web, req, arena, s, form) == 0) {
            char *url = web_oidc_end(web->rp, s);
            cookie(web, req, SESSION_COOKIE, "", 0);
            redirect(req, url ? url : "/");
            free(url);
        }
    } else if (post && strcmp(path, "/checkout") == 0) {
        if (post_form(web, req, arena, s, form) == 0)
            checkout(web, req, s, form);
    } else {
        problem(web, req, 404, "ページがありません。", "No such page.");
    }
    rk_arena_free(arena);
}

elibrary_web_t *elibrary_web_start(elibrary_t *e, struct event_base *base, char *why,
                                   size_t why_len)
{
    elibrary_web_t *web = rk_xcalloc(1, sizeof(*web));
    web->e = e;
    web->rp = web_oidc_new(base, &e->config, why, why_len);
    web->http = web->rp ? evhttp_new(base) : NULL;
    if (!web->http) {
        elibrary_web_free(web);
        return NULL;
    }
    web->secure = strncmp(web_oidc_public_url(web->rp), "https://", 8) == 0;
    evhttp_set_max_headers_size(web->http, 16 * 1024);
    evhttp_set_max_body_size(web->http, 4096);
    evhttp_set_timeout(web->http, 10);
    evhttp_set_allowed_methods(web->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_gencb(web->http, route, web);
    if (evhttp_bind_socket(web->http, e->config.web_host, (ev_uint16_t)e->config.web_port) != 0) {
        snprintf(why, why_len, "the e-library's site cannot listen on %s:%d", e->config.web_host,
                 e->config.web_port);
        elibrary_web_free(web);
        return NULL;
    }
    return web;
}

void elibrary_web_free(elibrary_web_t *web)
{
    if (!web)
        return;
    if (web->http)
        evhttp_free(web->http);
    web_oidc_free(web->rp);
    free(web);
}
