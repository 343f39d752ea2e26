/*
 * userinfo.c — what a resident's tokens reach after they are issued: userinfo (Core §5.3),
 * revocation (RFC 7009), and introspection's view of grants (RFC 7662).
 *
 * A resident's access token is a JWS like a partner's, with one more claim: gid, the grant it
 * came from. Its signature and expiry are checked in memory; then one query checks that the
 * grant is still live, because a grant dies early — a reused code or refresh token, a
 * revocation — and every token of a dead grant must stop working at once. Refresh tokens are
 * opaque; only their SHA-256 is stored.
 */
#include "identity/oauth_call.h"

#include "core/error.h"
#include "core/log.h"
#include "identity/secret_text.h"
#include "identity/token.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define STMT_GRANT_LIVE "identity_grant_live"
#define STMT_REFRESH_LIVE "identity_refresh_live"
#define STMT_REVOKE_GRANT "identity_grant_revoke"
#define STMT_REVOKE_REFRESH "identity_refresh_revoke"

static const char sql_grant_live[] =
    "SELECT rk_identity_grant_json(g)::text FROM rk_identity_grant g"
    " WHERE g.id = $1 AND g.tenant_id = $2 AND g.revoked_at IS NULL AND g.expires_at > now()"
    " AND NOT rk_identity_pupil_ended(g.account_id)";

static const char sql_refresh_live[] =
    "SELECT rk_identity_grant_json(g)::text, g.client_id FROM rk_identity_refresh r"
    " JOIN rk_identity_grant g ON g.id = r.grant_id"
    " WHERE r.token_sha256 = decode($1, 'hex') AND g.tenant_id = $2 AND r.spent_at IS NULL"
    " AND g.revoked_at IS NULL AND g.expires_at > now() AND NOT "
    "rk_identity_pupil_ended(g.account_id)";

static const char sql_revoke_grant[] =
    "UPDATE rk_identity_grant SET revoked_at = now(), revoked_reason = 'revoked'"
    " WHERE id = $1 AND tenant_id = $2 AND client_id = $3 AND revoked_at IS NULL";

static const char sql_revoke_refresh[] =
    "UPDATE rk_identity_grant g SET revoked_at = now(), revoked_reason = 'revoked'"
    " FROM rk_identity_refresh r WHERE r.token_sha256 = decode($1, 'hex') AND g.id = r.grant_id"
    " AND g.tenant_id = $2 AND g.client_id = $3 AND g.revoked_at IS NULL";

json_t *rk_identity_resident_claims(json_t *grant, const char *scope)
{
    json_t *claims =
        json_pack("{s:O, s:O}", "home_municipality", json_object_get(grant, "home_municipality"),
                  "residency_verified", json_object_get(grant, "residency_verified"));
    if (rk_identity_scope_has(scope, "profile")) {
        json_object_set(claims, "preferred_username", json_object_get(grant, "username"));
        if (json_is_string(json_object_get(grant, "display_name")))
            json_object_set(claims, "name", json_object_get(grant, "display_name"));
    }
    if (rk_identity_scope_has(scope, "email") && json_is_string(json_object_get(grant, "email")))
        json_object_set(claims, "email", json_object_get(grant, "email"));
    /* a pupil's "elementary" or "lower_secondary" (the pupils migration), never a birth date */
    if (rk_identity_scope_has(scope, "age_band") &&
        json_is_string(json_object_get(grant, "age_band")))
        json_object_set(claims, "age_band", json_object_get(grant, "age_band"));
    return claims;
}

/* 1 if token has the shape of a compact JWS: three parts. */
static int looks_like_jws(const char *token)
{
    const char *dot = strchr(token, '.');
    return dot && strchr(dot + 1, '.') != NULL;
}

/* --- userinfo --------------------------------------------------------------------------------- */

typedef struct userinfo {
    rk_request_t *req;
    const char *slug;
    json_t *claims; /* the access token's */
} userinfo_t;

static void release_claims(void *data)
{
    json_decref(((userinfo_t *)data)->claims);
}

/* 401 or 403 with an RFC 6750 challenge; error NULL for a request without a token. */
static void bearer_error(rk_request_t *req, const char *slug, int status, const char *error,
                         const char *description)
{
    const char *challenge = error ? rk_arena_printf(req->arena,
                                                    "Bearer realm=\"%s\", error=\"%s\", "
                                                    "error_description=\"%s\"",
                                                    slug, error, description)
                                  : rk_arena_printf(req->arena, "Bearer realm=\"%s\"", slug);
    rk_response_header(req, "www-authenticate", challenge);
    json_t *body = error ? json_pack("{s:s, s:s}", "error", error, "error_description", description)
                         : json_pack("{s:s}", "error", "invalid_request");
    rk_identity_oauth_json(req, status, body);
}

static void userinfo_grant(const rk_store_result_t *res, void *arg)
{
    userinfo_t *u = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        rk_response_header(u->req, "retry-after", "1");
        rk_identity_oauth_json(u->req, 503, json_pack("{s:s}", "error", "temporarily_unavailable"));
        return;
    }
    if (PQntuples(res->results[0]) != 1) {
        bearer_error(u->req, u->slug, 401, "invalid_token", "the token was revoked");
        return;
    }
    json_t *grant = json_loads(PQgetvalue(res->results[0], 0, 0), 0, NULL);
    const char *scope = json_string_value(json_object_get(u->claims, "scope"));
    json_t *body = rk_identity_resident_claims(grant, scope ? scope : "");
    json_object_set(body, "sub", json_object_get(u->claims, "sub"));
    json_decref(grant);
    rk_identity_oauth_json(u->req, 200, body);
}

/* The token of a userinfo request: the Bearer header, or access_token in a form body. */
static const char *bearer_token(rk_request_t *req, int *several)
{
    const char *header = rk_request_header(req, "authorization");
    const char *from_header = NULL, *from_body = NULL;
    if (header && strncasecmp(header, "Bearer ", 7) == 0) {
        from_header = header + 7;
        while (*from_header == ' ')
            from_header++;
    }
    const char *type = rk_request_header(req, "content-type");
    if (strcmp(req->method, "POST") == 0 && type &&
        strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0) {
        rk_identity_form_t form;
        const char *why = NULL;
        if (rk_identity_form_parse(req->arena, (const char *)req->body, req->body_len,
                                   RK_IDENTITY_TOKEN_MAX_BYTES, &form, &why) == RK_OK)
            from_body = rk_identity_form_get(&form, "access_token");
    }
    *several = from_header && from_body;
    return from_header ? from_header : from_body;
}

static void userinfo(rk_request_t *req)
{
    rk_identity_t *identity = rk_app(req)->identity;
    const char *slug = req->params[0];
    const rk_identity_realm_t *realm = rk_identity_realm(identity, slug);
    if (!realm) {
        rk_response_error(req, 404, "not_found", "no realm with this slug");
        rk_request_finish(req);
        return;
    }
    int several = 0;
    const char *token = bearer_token(req, &several);
    if (!token || !*token) {
        bearer_error(req, slug, 401, NULL, NULL);
        return;
    }
    if (several) {
        bearer_error(req, slug, 400, "invalid_request",
                     "send the token once: in the Authorization header or the body");
        return;
    }
    const char *why = NULL;
    json_t *claims = rk_identity_access_token_verify(token, realm->issuer, (long long)time(NULL),
                                                     rk_identity_realm_key_lookup, realm, &why);
    const char *grant_id = json_string_value(json_object_get(claims, "gid"));
    const char *scope = json_string_value(json_object_get(claims, "scope"));
    if (!claims || !grant_id) {
        rk_log_debug("userinfo refused", "{s:s, s:s, s:s}", "request_id", req->request_id, "realm",
                     slug, "reason", why ? why : "not a resident's token");
        json_decref(claims);
        bearer_error(req, slug, 401, "invalid_token",
                     "the access token is not valid for this realm's userinfo");
        return;
    }
    if (!scope || !rk_identity_scope_has(scope, "openid")) {
        json_decref(claims);
        bearer_error(req, slug, 403, "insufficient_scope", "the token lacks the openid scope");
        return;
    }
    userinfo_t *u = rk_arena_calloc(req->arena, 1, sizeof(*u));
    u->req = req;
    u->slug = slug;
    u->claims = claims;
    rk_arena_on_free(req->arena, release_claims, u);
    const char *values[] = {grant_id, realm->tenant_id};
    if (rk_store_exec(rk_app(req)->store, STMT_GRANT_LIVE, 2, values, userinfo_grant, u) !=
        RK_AGAIN) {
        rk_response_header(req, "retry-after", "1");
        rk_identity_oauth_json(req, 503, json_pack("{s:s}", "error", "temporarily_unavailable"));
    }
}

/* --- introspection of a resident's tokens ----------------------------------------------------- */

typedef struct introspection {
    rk_identity_oauth_call_t *call;
    json_t *body; /* the answer so far, for an access token */
} introspection_t;

static void release_body(void *data)
{
    json_decref(((introspection_t *)data)->body);
}

static void access_grant_checked(const rk_store_result_t *res, void *arg)
{
    introspection_t *in = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        rk_identity_oauth_unavailable(in->call);
        return;
    }
    json_t *body =
        PQntuples(res->results[0]) == 1 ? json_incref(in->body) : json_pack("{s:b}", "active", 0);
    rk_identity_oauth_json(in->call->req, 200, body);
}

static void refresh_checked(const rk_store_result_t *res, void *arg)
{
    introspection_t *in = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        rk_identity_oauth_unavailable(in->call);
        return;
    }
    const PGresult *rows = res->results[0];
    if (PQntuples(rows) != 1) {
        rk_identity_oauth_json(in->call->req, 200, json_pack("{s:b}", "active", 0));
        return;
    }
    json_t *grant = json_loads(PQgetvalue(rows, 0, 0), 0, NULL);
    json_t *body =
        json_pack("{s:b, s:s, s:s, s:O, s:O, s:s}", "active", 1, "token_type", "refresh_token",
                  "client_id", PQgetvalue(rows, 0, 1), "scope", json_object_get(grant, "scope"),
                  "exp", json_object_get(grant, "expires_at"), "gid",
                  json_string_value(json_object_get(grant, "grant_id")));
    json_decref(grant);
    rk_identity_oauth_json(in->call->req, 200, body ? body : json_pack("{s:b}", "active", 0));
}

void rk_identity_introspect_resident(rk_identity_oauth_call_t *call,
                                     const rk_identity_realm_t *realm, json_t *body)
{
    rk_request_t *req = call->req;
    introspection_t *in = rk_arena_calloc(req->arena, 1, sizeof(*in));
    in->call = call;
    in->body = body;
    rk_arena_on_free(req->arena, release_body, in);
    const char *token = rk_identity_form_get(&call->form, "token");
    int rc;
    if (body) {
        const char *values[] = {json_string_value(json_object_get(body, "gid")), realm->tenant_id};
        rc =
            rk_store_exec(rk_app(req)->store, STMT_GRANT_LIVE, 2, values, access_grant_checked, in);
    } else {
        char digest[65];
        rk_identity_sha256_hex(token, strlen(token), digest);
        const char *values[] = {digest, realm->tenant_id};
        rc = rk_store_exec(rk_app(req)->store, STMT_REFRESH_LIVE, 2, values, refresh_checked, in);
    }
    if (rc != RK_AGAIN)
        rk_identity_oauth_unavailable(call);
}

int rk_identity_token_is_opaque(const char *token)
{
    return !looks_like_jws(token);
}

/* --- revocation ------------------------------------------------------------------------------- */

static int revoke_check(rk_identity_oauth_call_t *call)
{
    if (!rk_identity_form_get(&call->form, "token")) {
        rk_identity_oauth_error(call, 400, "invalid_request", "token: is required");
        return 0;
    }
    return 1;
}

static void revoked(const rk_store_result_t *res, void *arg)
{
    rk_identity_oauth_call_t *call = arg;
    if (res->status != RK_OK) {
        rk_identity_oauth_unavailable(call);
        return;
    }
    rk_log_info("token revoked", "{s:s, s:s, s:s, s:s}", "request_id", call->req->request_id,
                "realm", call->slug, "client_id", call->client_id, "grants",
                PQcmdTuples(res->results[0]));
    rk_response_set(call->req, 200, "application/json", "{}", 2);
    rk_response_header(call->req, "cache-control", "no-store");
    rk_request_finish(call->req);
}

static void revoke_answer(rk_identity_oauth_call_t *call, const rk_identity_realm_t *realm,
                          const rk_identity_client_t *client)
{
    rk_request_t *req = call->req;
    const char *token = rk_identity_form_get(&call->form, "token");
    const char *client_id = rk_arena_strdup(req->arena, client->client_id);
    int rc;
    if (looks_like_jws(token)) {
        const char *why = NULL;
        json_t *claims = rk_identity_access_token_verify(
            token, realm->issuer, (long long)time(NULL), rk_identity_realm_key_lookup, realm, &why);
        const char *grant_id = json_string_value(json_object_get(claims, "gid"));
        if (claims && !grant_id) {
            json_decref(claims);
            rk_identity_oauth_error(call, 400, "unsupported_token_type",
                                    "client_credentials access tokens are not revocable: they "
                                    "expire on their own");
            return;
        }
        if (!grant_id) { /* invalid or expired: nothing to do (RFC 7009 §2.2) */
            rk_response_set(req, 200, "application/json", "{}", 2);
            rk_request_finish(req);
            return;
        }
        const char *values[] = {rk_arena_strdup(req->arena, grant_id), realm->tenant_id, client_id};
        json_decref(claims);
        rc = rk_store_exec(rk_app(req)->store, STMT_REVOKE_GRANT, 3, values, revoked, call);
    } else {
        char digest[65];
        rk_identity_sha256_hex(token, strlen(token), digest);
        const char *values[] = {digest, realm->tenant_id, client_id};
        rc = rk_store_exec(rk_app(req)->store, STMT_REVOKE_REFRESH, 3, values, revoked, call);
    }
    if (rc != RK_AGAIN)
        rk_identity_oauth_unavailable(call);
}

static void revoke(rk_request_t *req)
{
    rk_identity_oauth_begin(req, 1, revoke_check, revoke_answer);
}

void rk_identity_userinfo_register(rk_identity_t *identity, rk_router_t *router)
{
    rk_store_t *store = identity->app->store;
    rk_store_prepare(store, STMT_GRANT_LIVE, sql_grant_live);
    rk_store_prepare(store, STMT_REFRESH_LIVE, sql_refresh_live);
    rk_store_prepare(store, STMT_REVOKE_GRANT, sql_revoke_grant);
    rk_store_prepare(store, STMT_REVOKE_REFRESH, sql_revoke_refresh);
    rk_router_add(router, "GET", "/t/{slug}/userinfo", userinfo, "oidc_userinfo");
    rk_router_add(router, "POST", "/t/{slug}/userinfo", userinfo, "oidc_userinfo");
    rk_router_add(router, "POST", "/t/{slug}/revoke", revoke, "oidc_revoke");
}
