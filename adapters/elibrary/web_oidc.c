/*
 * web_oidc.c — the e-library site's OpenID Connect relying party (see web_oidc.h).
 *
 * A login: /login remembers {state, nonce, verifier} (PENDING_MAX, 10 minutes) and sends the
 * browser to the realm's /authorize; /callback brings code and state back: the state must
 * equal the browser's cookie and a waiting login (then forgotten: one use), iss must be the
 * realm's (RFC 9207); the code is redeemed at /token (client_secret_basic, the verifier); the
 * ID token is verified against the realm's JWKS (fetched when a kid is not known, at most every
 * JWKS_REFETCH_S), its aud must be this client, exp in the future, iat not ahead, nonce the
 * login's. Then a session (SESSION_MAX, SESSION_TTL_S). Every answer of the hub is bounded
 * (BODY_MAX) and every call has a deadline (HTTP_TIMEOUT_S).
 */
#include "web_oidc.h"

#include "core/mem.h"
#include "identity/client_assertion.h"
#include "identity/form.h"
#include "identity/secret_text.h"
#include "identity/token.h"
#include "net/http_out.h"

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PENDING_MAX 256
#define PENDING_TTL_S 600
#define SESSION_MAX 1024
#define SESSION_TTL_S (8 * 3600)
#define JWKS_KEYS_MAX 8
#define JWKS_REFETCH_S 10
#define BODY_MAX (64 * 1024)
#define HTTP_TIMEOUT_S 5
#define CLOCK_SKEW_S 60

typedef struct pending {
    char state[WEB_OIDC_ID_LEN + 1], nonce[WEB_OIDC_ID_LEN + 1], verifier[WEB_OIDC_ID_LEN + 1];
    time_t created; /* 0: free */
} pending_t;

typedef struct jwks_key {
    char kid[256];
    char alg[8];
    cjose_jwk_t *jwk;
} jwks_key_t;

struct web_oidc {
    const elibrary_config_t *config;
    struct event_base *base;
    struct evdns_base *dns;
    SSL_CTX *tls; /* an https issuer */
    char host[256];
    int port, host_is_ip;
    char path[512]; /* the issuer's path: /t/kiyose */
    char public_url[512];
    pending_t pending[PENDING_MAX];
    web_session_t sessions[SESSION_MAX];
    jwks_key_t keys[JWKS_KEYS_MAX];
    size_t n_keys;
    time_t jwks_fetched;
};

/* One login being completed. */
typedef struct completion {
    web_oidc_t *rp;
    pending_t login;
    char *id_token;
    web_oidc_done_fn done;
    void *arg;
} completion_t;

typedef void (*http_done_fn)(completion_t *c, int status, const char *body);

typedef struct http_call {
    completion_t *c;
    http_done_fn done;
} http_call_t;

const char *web_oidc_public_url(const web_oidc_t *rp)
{
    return rp->public_url;
}

web_oidc_t *web_oidc_new(struct event_base *base, const elibrary_config_t *config, char *why,
                         size_t why_len)
{
    struct evhttp_uri *uri = evhttp_uri_parse(config->oidc_issuer);
    const char *scheme = uri ? evhttp_uri_get_scheme(uri) : NULL;
    const char *host = uri ? evhttp_uri_get_host(uri) : NULL;
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    int https = scheme && strcmp(scheme, "https") == 0;
    if (!host || !*host || strlen(host) > 255 || !path || strlen(path) > 400 ||
        evhttp_uri_get_query(uri) || evhttp_uri_get_fragment(uri)) {
        snprintf(why, why_len, "config: elibrary.oidc_issuer: must be http(s)://host[:port]/path");
        if (uri)
            evhttp_uri_free(uri);
        return NULL;
    }
    web_oidc_t *rp = rk_xcalloc(1, sizeof(*rp));
    rp->config = config;
    rp->base = base;
    snprintf(rp->host, sizeof(rp->host), "%s", host);
    snprintf(rp->path, sizeof(rp->path), "%s", path);
    rp->port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : https ? 443 : 80;
    evhttp_uri_free(uri);
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    rp->host_is_ip = evutil_parse_sockaddr_port(rp->host, (struct sockaddr *)&ss, &len) == 0;
    rp->dns = rp->host_is_ip ? NULL : evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    rp->tls = https ? rk_http_out_tls_context() : NULL;
    if (*config->web_public_url)
        snprintf(rp->public_url, sizeof(rp->public_url), "%s", config->web_public_url);
    else
        snprintf(rp->public_url, sizeof(rp->public_url), "http://%s:%d", config->web_host,
                 config->web_port);
    size_t n = strlen(rp->public_url);
    if (n && rp->public_url[n - 1] == '/')
        rp->public_url[n - 1] = '\0';
    if ((https && !rp->tls) || (!rp->host_is_ip && !rp->dns)) {
        snprintf(why, why_len, "the site cannot reach %s (TLS or DNS set-up failed)", rp->host);
        web_oidc_free(rp);
        return NULL;
    }
    return rp;
}

static void forget_keys(web_oidc_t *rp)
{
    for (size_t i = 0; i < rp->n_keys; i++)
        cjose_jwk_release(rp->keys[i].jwk);
    rp->n_keys = 0;
}

static void session_clear(web_session_t *s)
{
    free(s->id_token);
    memset(s, 0, sizeof(*s));
}

void web_oidc_free(web_oidc_t *rp)
{
    if (!rp)
        return;
    forget_keys(rp);
    for (size_t i = 0; i < SESSION_MAX; i++)
        session_clear(&rp->sessions[i]);
    if (rp->dns)
        evdns_base_free(rp->dns, 0);
    if (rp->tls)
        SSL_CTX_free(rp->tls);
    free(rp);
}

/* --- logins and sessions ------------------------------------------------------------------- */

char *web_oidc_login_url(web_oidc_t *rp, char state[WEB_OIDC_ID_LEN + 1])
{
    time_t now = time(NULL);
    pending_t *slot = &rp->pending[0];
    for (size_t i = 0; i < PENDING_MAX; i++) {
        pending_t *p = &rp->pending[i];
        if (!p->created || p->created + PENDING_TTL_S < now) {
            slot = p;
            break;
        }
        if (p->created < slot->created)
            slot = p; /* full: the oldest goes */
    }
    if (rk_identity_random_text(slot->state, 32) != 0 ||
        rk_identity_random_text(slot->nonce, 32) != 0 ||
        rk_identity_random_text(slot->verifier, 32) != 0)
        return NULL;
    slot->created = now;
    memcpy(state, slot->state, sizeof(slot->state));
    char challenge[RK_IDENTITY_SHA256_TEXT_LEN + 1];
    rk_identity_sha256_text(slot->verifier, strlen(slot->verifier), challenge);
    rk_arena_t *arena = rk_arena_new();
    char *url = strdup(rk_arena_printf(
        arena,
        "%s/authorize?response_type=code&client_id=%s&redirect_uri=%s&scope=openid%%20age_band"
        "&state=%s&nonce=%s&code_challenge=%s&code_challenge_method=S256",
        rp->config->oidc_issuer, rk_identity_url_encode(arena, rp->config->oidc_client_id),
        rk_identity_url_encode(arena, rk_arena_printf(arena, "%s/callback", rp->public_url)),
        slot->state, slot->nonce, challenge));
    rk_arena_free(arena);
    return url;
}

web_session_t *web_oidc_session(web_oidc_t *rp, const char *id)
{
    if (!id || strlen(id) != WEB_OIDC_ID_LEN)
        return NULL;
    time_t now = time(NULL);
    for (size_t i = 0; i < SESSION_MAX; i++) {
        web_session_t *s = &rp->sessions[i];
        if (s->expires > now && rk_identity_text_equal(s->id, id))
            return s;
    }
    return NULL;
}

char *web_oidc_end(web_oidc_t *rp, web_session_t *session)
{
    rk_arena_t *arena = rk_arena_new();
    char *url = strdup(rk_arena_printf(
        arena, "%s/logout?id_token_hint=%s&post_logout_redirect_uri=%s", rp->config->oidc_issuer,
        session->id_token ? session->id_token : "",
        rk_identity_url_encode(arena, rk_arena_printf(arena, "%s/", rp->public_url))));
    rk_arena_free(arena);
    session_clear(session);
    return url;
}

static web_session_t *session_new(web_oidc_t *rp)
{
    time_t now = time(NULL);
    web_session_t *slot = &rp->sessions[0];
    for (size_t i = 0; i < SESSION_MAX; i++) {
        web_session_t *s = &rp->sessions[i];
        if (s->expires <= now) {
            slot = s;
            break;
        }
        if (s->expires < slot->expires)
            slot = s; /* full: the one ending first goes */
    }
    session_clear(slot);
    if (rk_identity_random_text(slot->id, 32) != 0 || rk_identity_random_text(slot->csrf, 32) != 0)
        return NULL;
    slot->expires = now + SESSION_TTL_S;
    return slot;
}

/* --- calls to the hub ---------------------------------------------------------------------- */

static void http_done(struct evhttp_request *req, void *arg)
{
    http_call_t *call = arg;
    int status = req ? evhttp_request_get_response_code(req) : 0;
    struct evbuffer *in = req ? evhttp_request_get_input_buffer(req) : NULL;
    size_t len = in ? evbuffer_get_length(in) : 0;
    char *body = NULL;
    if (status && len <= BODY_MAX) {
        body = rk_xmalloc(len + 1);
        evbuffer_remove(in, body, len);
        body[len] = '\0';
    }
    call->done(call->c, body ? status : 0, body ? body : "");
    free(body);
    free(call);
}

/* method path_suffix (after the issuer's path) with body (form, or NULL: GET). */
static void http_call(completion_t *c, const char *suffix, const char *form, http_done_fn done)
{
    web_oidc_t *rp = c->rp;
    struct evhttp_connection *conn =
        rk_http_out_connect(rp->base, rp->dns, rp->tls, rp->host, rp->host_is_ip, rp->port);
    http_call_t *call = rk_xcalloc(1, sizeof(*call));
    call->c = c;
    call->done = done;
    struct evhttp_request *req = conn ? evhttp_request_new(http_done, call) : NULL;
    if (!req) {
        if (conn)
            evhttp_connection_free(conn);
        free(call);
        done(c, 0, "");
        return;
    }
    evhttp_connection_set_timeout(conn, HTTP_TIMEOUT_S);
    evhttp_connection_free_on_completion(conn);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", rp->host);
    evhttp_add_header(h, "Accept", "application/json");
    evhttp_add_header(h, "Connection", "close");
    if (form) {
        rk_arena_t *arena = rk_arena_new();
        const char *id = rk_identity_url_encode(arena, rp->config->oidc_client_id);
        const char *secret = rk_identity_url_encode(arena, rp->config->oidc_client_secret);
        const char *pair = rk_arena_printf(arena, "%s:%s", id, secret);
        size_t n = strlen(pair);
        char *b64 = rk_arena_alloc(arena, 4 * ((n + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)pair, (int)n);
        evhttp_add_header(h, "Authorization", rk_arena_printf(arena, "Basic %s", b64));
        evhttp_add_header(h, "Content-Type", "application/x-www-form-urlencoded");
        evbuffer_add(evhttp_request_get_output_buffer(req), form, strlen(form));
        OPENSSL_cleanse(b64, strlen(b64));
        rk_arena_free(arena);
    }
    char path[600];
    snprintf(path, sizeof(path), "%s%s", rp->path, suffix);
    if (evhttp_make_request(conn, req, form ? EVHTTP_REQ_POST : EVHTTP_REQ_GET, path) != 0) {
        /* libevent freed the request without calling back */
        evhttp_connection_free(conn);
        free(call);
        done(c, 0, "");
    }
}

/* --- the login's end ------------------------------------------------------------------------ */

static void finish(completion_t *c, web_session_t *session, const char *why)
{
    c->done(session, why, c->arg);
    if (c->id_token)
        OPENSSL_cleanse(c->id_token, strlen(c->id_token));
    free(c->id_token);
    OPENSSL_cleanse(&c->login, sizeof(c->login));
    free(c);
}

static const cjose_jwk_t *lookup(const void *ctx, const char *kid, const char **alg)
{
    const web_oidc_t *rp = ctx;
    for (size_t i = 0; i < rp->n_keys; i++) {
        if (strcmp(rp->keys[i].kid, kid) == 0) {
            *alg = rp->keys[i].alg;
            return rp->keys[i].jwk;
        }
    }
    return NULL;
}

/* The ID token's checks beyond its signature; NULL, or why not. */
static const char *check_id_token(completion_t *c, json_t *claims, const char *audience)
{
    time_t now = time(NULL);
    json_t *exp = json_object_get(claims, "exp"), *iat = json_object_get(claims, "iat");
    const char *nonce = json_string_value(json_object_get(claims, "nonce"));
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    const char *band = json_string_value(json_object_get(claims, "age_band"));
    const char *home = json_string_value(json_object_get(claims, "home_municipality"));
    if (strcmp(audience, c->rp->config->oidc_client_id) != 0)
        return "the ID token is for another client";
    if (!json_is_integer(exp) || json_integer_value(exp) <= now || !json_is_integer(iat) ||
        json_integer_value(iat) > now + CLOCK_SKEW_S)
        return "the ID token has expired or is not valid yet";
    if (!nonce || !rk_identity_text_equal(nonce, c->login.nonce))
        return "the ID token's nonce is not this login's";
    if (!sub || !*sub || strlen(sub) > 63)
        return "the ID token's subject is not usable";
    if (band && strcmp(band, "elementary") != 0 && strcmp(band, "lower_secondary") != 0)
        return "the ID token's age_band is not one this site knows";
    if (home && (strlen(home) != 6 || strspn(home, "0123456789") != 6))
        return "the ID token's home_municipality is not a municipality code";
    return NULL;
}

static void verify(completion_t *c)
{
    const char *audience = NULL, *why = NULL;
    json_t *claims = rk_identity_id_token_hint_verify(c->id_token, c->rp->config->oidc_issuer,
                                                      lookup, c->rp, &audience, &why);
    if (!claims) {
        finish(c, NULL, why);
        return;
    }
    why = check_id_token(c, claims, audience);
    web_session_t *s = why ? NULL : session_new(c->rp);
    if (s) {
        const char *band = json_string_value(json_object_get(claims, "age_band"));
        const char *home = json_string_value(json_object_get(claims, "home_municipality"));
        snprintf(s->sub, sizeof(s->sub), "%s", json_string_value(json_object_get(claims, "sub")));
        snprintf(s->age_band, sizeof(s->age_band), "%s", band ? band : "");
        snprintf(s->home, sizeof(s->home), "%s", home ? home : "");
        s->id_token = strdup(c->id_token);
    }
    json_decref(claims);
    finish(c, s, s ? NULL : why ? why : "no randomness");
}

static void jwks_loaded(completion_t *c, int status, const char *body)
{
    web_oidc_t *rp = c->rp;
    json_t *jwks = status == 200 ? json_loads(body, JSON_REJECT_DUPLICATES, NULL) : NULL;
    char why[256];
    if (!jwks || rk_identity_client_jwks_check(jwks, why, sizeof(why)) != 0) {
        json_decref(jwks);
        finish(c, NULL, "the hub's JWKS could not be read");
        return;
    }
    forget_keys(rp);
    size_t i;
    json_t *key;
    json_array_foreach(json_object_get(jwks, "keys"), i, key)
    {
        const char *kid = json_string_value(json_object_get(key, "kid"));
        const char *alg = json_string_value(json_object_get(key, "alg"));
        if (rp->n_keys == JWKS_KEYS_MAX || !kid || !alg || strlen(alg) >= sizeof(rp->keys[0].alg))
            continue;
        jwks_key_t *k = &rp->keys[rp->n_keys];
        if (!(k->jwk = rk_identity_jwk_import(key)))
            continue;
        snprintf(k->kid, sizeof(k->kid), "%s", kid);
        snprintf(k->alg, sizeof(k->alg), "%s", alg);
        rp->n_keys++;
    }
    json_decref(jwks);
    verify(c);
}

/* The token's kid, read before verifying, to know whether the JWKS must be fetched. */
static int kid_known(completion_t *c)
{
    json_t *header = NULL;
    const char *dot = strchr(c->id_token, '.');
    rk_arena_t *arena = rk_arena_new();
    unsigned char *bytes = NULL;
    size_t len = 0;
    if (dot && rk_identity_b64_decode(arena, c->id_token, (size_t)(dot - c->id_token), 1, &bytes,
                                      &len) == 0)
        header = json_loadb((const char *)bytes, len, 0, NULL);
    rk_arena_free(arena);
    const char *kid = json_string_value(json_object_get(header, "kid")), *alg;
    int known = kid && lookup(c->rp, kid, &alg) != NULL;
    json_decref(header);
    return known;
}

static void token_answered(completion_t *c, int status, const char *body)
{
    json_t *answer = status == 200 ? json_loads(body, 0, NULL) : NULL;
    const char *id_token = json_string_value(json_object_get(answer, "id_token"));
    if (!id_token || strlen(id_token) > RK_IDENTITY_TOKEN_MAX_BYTES) {
        json_decref(answer);
        finish(c, NULL,
               status ? "the hub did not redeem the code" : "the hub could not be reached");
        return;
    }
    c->id_token = strdup(id_token);
    json_decref(answer);
    time_t now = time(NULL);
    if (kid_known(c) || c->rp->jwks_fetched + JWKS_REFETCH_S > now) {
        verify(c);
        return;
    }
    c->rp->jwks_fetched = now;
    http_call(c, "/jwks", NULL, jwks_loaded);
}

void web_oidc_complete(web_oidc_t *rp, const char *code, const char *state, const char *iss,
                       const char *cookie_state, web_oidc_done_fn done, void *arg)
{
    if (!state || !cookie_state || !rk_identity_text_equal(state, cookie_state)) {
        done(NULL, "the login's state is not this browser's", arg);
        return;
    }
    pending_t *login = NULL;
    time_t now = time(NULL);
    for (size_t i = 0; i < PENDING_MAX && !login; i++) {
        pending_t *p = &rp->pending[i];
        if (p->created && p->created + PENDING_TTL_S >= now &&
            rk_identity_text_equal(p->state, state))
            login = p;
    }
    if (!login) {
        done(NULL, "the login's state is unknown, used or expired", arg);
        return;
    }
    completion_t *c = rk_xcalloc(1, sizeof(*c));
    c->rp = rp;
    c->login = *login;
    c->done = done;
    c->arg = arg;
    memset(login, 0, sizeof(*login)); /* one use */
    if (iss && strcmp(iss, rp->config->oidc_issuer) != 0) {
        finish(c, NULL, "the answer names another issuer");
        return;
    }
    if (!code || !*code || strlen(code) > 256) {
        finish(c, NULL, "the answer carries no code");
        return;
    }
    rk_arena_t *arena = rk_arena_new();
    char *form = rk_arena_printf(
        arena, "grant_type=authorization_code&code=%s&redirect_uri=%s&code_verifier=%s",
        rk_identity_url_encode(arena, code),
        rk_identity_url_encode(arena, rk_arena_printf(arena, "%s/callback", rp->public_url)),
        c->login.verifier);
    http_call(c, "/token", form, token_answered);
    rk_arena_free(arena);
}
