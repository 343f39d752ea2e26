/*
 * oauth.c — discovery, JWKS, token and introspection endpoints of every realm (see oauth.h).
 *
 * The token and introspection endpoints share one path up to an authenticated client:
 * begin() checks the realm, Content-Type, the form and its bounds and the endpoint's own
 * required parameters, reads exactly one set of client credentials, finds the client (in the
 * cache or with one query) and checks its secret; then the endpoint's step runs. After the
 * possible query the realm is looked up again by slug: the table may have been replaced.
 */
#include "identity/oauth.h"

#include "core/error.h"
#include "core/log.h"
#include "identity/client_assertion.h"
#include "identity/form.h"
#include "identity/oauth_call.h"
#include "identity/secret_text.h"
#include "identity/token.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef rk_identity_oauth_call_t call_t;
typedef rk_identity_oauth_step_fn authenticated_fn;

/* Longest value each parameter may have; others get the form's own bound. */
static const struct {
    const char *name;
    size_t max;
} param_bounds[] = {
    {"grant_type", 64},
    {"client_id", 255},
    {"client_secret", 255},
    {"scope", 1024},
    {"token", RK_IDENTITY_TOKEN_MAX_BYTES},
    {"token_type_hint", 64},
    {"code", 64},
    {"redirect_uri", 512},
    {"code_verifier", 128},
    {"refresh_token", 64},
};

static void not_found(rk_request_t *req)
{
    rk_response_error(req, 404, "not_found", "no realm with this slug");
    rk_request_finish(req);
}

void rk_identity_oauth_json(rk_request_t *req, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    rk_response_set(req, status, "application/json", text, strlen(text));
    rk_response_header(req, "cache-control", "no-store");
    rk_response_header(req, "pragma", "no-cache");
    free(text);
    json_decref(body);
    rk_request_finish(req);
}

void rk_identity_oauth_error(call_t *call, int status, const char *error, const char *description)
{
    if (status == 401)
        rk_response_header(call->req, "www-authenticate",
                           rk_arena_printf(call->req->arena, "Basic realm=\"%s\"", call->slug));
    json_t *body = json_pack("{s:s, s:s}", "error", error, "error_description", description);
    rk_identity_oauth_json(call->req, status, body ? body : json_pack("{s:s}", "error", error));
}

static void invalid_client(call_t *call, const char *description)
{
    rk_log_warn("client authentication failed", "{s:s, s:s, s:s, s:s}", "request_id",
                call->req->request_id, "realm", call->slug, "client_id",
                call->client_id ? call->client_id : "", "peer", call->req->peer);
    rk_identity_oauth_error(call, 401, "invalid_client", description);
}

void rk_identity_oauth_unavailable(call_t *call)
{
    rk_response_header(call->req, "retry-after", "1");
    rk_identity_oauth_error(call, 503, "temporarily_unavailable",
                            "the database did not answer; try again");
}

static int form_content_type(const char *value)
{
    static const char form[] = "application/x-www-form-urlencoded";
    size_t n = sizeof(form) - 1;
    return value && strncasecmp(value, form, n) == 0 &&
           (value[n] == '\0' || value[n] == ';' || value[n] == ' ');
}

/* Checks per-parameter bounds; 0 after answering invalid_request. */
static int within_bounds(call_t *call)
{
    for (size_t i = 0; i < sizeof(param_bounds) / sizeof(param_bounds[0]); i++) {
        const char *value = rk_identity_form_get(&call->form, param_bounds[i].name);
        if (value && strlen(value) > param_bounds[i].max) {
            rk_identity_oauth_error(call, 400, "invalid_request",
                                    rk_arena_printf(call->req->arena,
                                                    "%s: must be at most %zu bytes",
                                                    param_bounds[i].name, param_bounds[i].max));
            return 0;
        }
    }
    return 1;
}

/*
 * Reads a private_key_jwt client assertion (RFC 7523 §2.2): the client is the assertion's sub
 * until verification shows it signed it. 0 after answering.
 */
static int read_assertion(call_t *call, int basic, const char *post_id, const char *post_secret)
{
    const char *type = rk_identity_form_get(&call->form, "client_assertion_type");
    const char *assertion = rk_identity_form_get(&call->form, "client_assertion");
    const char *sub = NULL, *why = NULL;
    if (!type || !assertion) {
        rk_identity_oauth_error(call, 400, "invalid_request",
                                type ? "client_assertion: is required with client_assertion_type"
                                     : "client_assertion_type: is required with client_assertion");
        return 0;
    }
    if (strcmp(type, RK_IDENTITY_CLIENT_ASSERTION_TYPE) != 0) {
        rk_identity_oauth_error(
            call, 400, "invalid_request",
            "client_assertion_type: must be " RK_IDENTITY_CLIENT_ASSERTION_TYPE);
        return 0;
    }
    if (basic != RK_ENOTFOUND || post_secret) {
        rk_identity_oauth_error(call, 400, "invalid_request",
                                "client_assertion: the client also sent a secret; use one "
                                "authentication method only");
        return 0;
    }
    if (rk_identity_client_assertion_subject(call->req->arena, assertion, &sub, &why) != RK_OK) {
        invalid_client(call, why);
        return 0;
    }
    if (post_id && strcmp(post_id, sub) != 0) {
        rk_identity_oauth_error(call, 400, "invalid_request",
                                "client_id: differs from the client assertion's sub");
        return 0;
    }
    call->client_id = sub;
    return 1;
}

/* Reads exactly one set of client credentials (RFC 6749 §2.3); 0 after answering. */
static int read_credentials(call_t *call)
{
    rk_request_t *req = call->req;
    const char *basic_id = NULL, *basic_secret = NULL, *why = NULL;
    int basic = rk_identity_basic_credentials(req->arena, rk_request_header(req, "authorization"),
                                              &basic_id, &basic_secret, &why);
    const char *post_id = rk_identity_form_get(&call->form, "client_id");
    const char *post_secret = rk_identity_form_get(&call->form, "client_secret");
    if (rk_identity_form_get(&call->form, "client_assertion") ||
        rk_identity_form_get(&call->form, "client_assertion_type"))
        return read_assertion(call, basic, post_id, post_secret);
    if (basic == RK_EINVAL) {
        invalid_client(call, why);
        return 0;
    }
    if (basic == RK_OK) {
        if (post_secret) {
            rk_identity_oauth_error(
                call, 400, "invalid_request",
                "client_secret: the client already authenticated with HTTP Basic; use "
                "one method only");
            return 0;
        }
        if (post_id && strcmp(post_id, basic_id) != 0) {
            rk_identity_oauth_error(
                call, 400, "invalid_request",
                "client_id: differs from the client of the HTTP Basic credentials");
            return 0;
        }
        call->client_id = basic_id;
        call->client_secret = basic_secret;
        if (strlen(basic_id) > 255 || strlen(basic_secret) > 255) {
            invalid_client(call, "the HTTP Basic credentials are longer than 255 bytes each");
            return 0;
        }
        return 1;
    }
    call->client_id = post_id;
    if (!post_id || (!post_secret && !call->public_allowed)) {
        invalid_client(call, "client authentication is required: client_secret_basic, "
                             "client_secret_post or private_key_jwt");
        return 0;
    }
    call->client_secret = post_secret;
    return 1;
}

/* The client again after the replay check: its pointer did not survive the query. */
static void assertion_client_found(int status, const rk_identity_client_t *client, void *arg)
{
    call_t *call = arg;
    const rk_identity_realm_t *realm = rk_identity_realm(call->identity, call->slug);
    if (!realm)
        not_found(call->req);
    else if (status == RK_OK && client->auth_method == RK_IDENTITY_AUTH_PRIVATE_KEY_JWT)
        call->next(call, realm, client);
    else if (status == RK_OK || status == RK_ENOTFOUND)
        invalid_client(call, "client authentication failed");
    else
        rk_identity_oauth_unavailable(call);
}

static void assertion_recorded(const rk_store_result_t *res, void *arg)
{
    call_t *call = arg;
    const rk_identity_client_t *client = NULL;
    if (res->status != RK_OK || res->n_results != 1) {
        if (res->status == RK_EINVAL)
            rk_log_error("recording a client assertion failed", "{s:s}", "error", res->error);
        rk_identity_oauth_unavailable(call);
        return;
    }
    if (PQntuples(res->results[0]) == 0) {
        invalid_client(call, "client_assertion: this jti was used before (a replayed assertion)");
        return;
    }
    const rk_identity_realm_t *realm = rk_identity_realm(call->identity, call->slug);
    if (!realm) {
        not_found(call->req);
        return;
    }
    int rc = rk_identity_client_lookup(call->identity->clients, realm->tenant_id, call->client_id,
                                       &client, assertion_client_found, call);
    if (rc == RK_OK)
        assertion_client_found(RK_OK, client, call);
    else if (rc != RK_AGAIN)
        rk_identity_oauth_unavailable(call);
}

/*
 * private_key_jwt: verifies the assertion against the client's registered keys, then records
 * its jti, which refuses a replay on any hub. The audience may be the issuer, the token
 * endpoint, or the endpoint called (RFC 7523 §3, OpenID Connect Core §9).
 */
static void authenticate_assertion(call_t *call, const rk_identity_realm_t *realm,
                                   const rk_identity_client_t *client)
{
    rk_request_t *req = call->req;
    const char *why = NULL;
    rk_identity_client_assertion_t verified;
    if (client->auth_method != RK_IDENTITY_AUTH_PRIVATE_KEY_JWT || !client->jwks) {
        invalid_client(call, "this client does not authenticate with private_key_jwt");
        return;
    }
    const char *audiences[] = {
        realm->issuer,
        rk_arena_printf(req->arena, "%s/token", realm->issuer),
        rk_arena_printf(req->arena, "%s%s", rk_app(req)->public_url, req->path),
    };
    if (rk_identity_client_assertion_verify(
            req->arena, rk_identity_form_get(&call->form, "client_assertion"), client->jwks,
            client->client_id, audiences, 3, (long long)time(NULL), &verified, &why) != RK_OK) {
        invalid_client(call, why);
        return;
    }
    char keep_until[24];
    snprintf(keep_until, sizeof(keep_until), "%lld", verified.keep_until);
    const char *values[] = {realm->tenant_id, client->client_id, verified.jti, keep_until};
    if (rk_store_exec(rk_app(req)->store, RK_IDENTITY_STMT_ASSERTION_JTI, 4, values,
                      assertion_recorded, call) != RK_AGAIN)
        rk_identity_oauth_unavailable(call);
}

static void authenticated(call_t *call, const rk_identity_realm_t *realm,
                          const rk_identity_client_t *client)
{
    if (rk_identity_form_get(&call->form, "client_assertion")) {
        authenticate_assertion(call, realm, client);
        return;
    }
    if (client->auth_method == RK_IDENTITY_AUTH_NONE) {
        if (call->client_secret || !call->public_allowed) {
            invalid_client(call, call->client_secret
                                     ? "this client is public: it has no secret to send"
                                     : "public clients cannot use this endpoint");
            return;
        }
    } else if (!call->client_secret || !rk_identity_client_secret_ok(client, call->client_secret)) {
        invalid_client(call, "client authentication failed");
        return;
    }
    call->next(call, realm, client);
}

static void client_found(int status, const rk_identity_client_t *client, void *arg)
{
    call_t *call = arg;
    const rk_identity_realm_t *realm = rk_identity_realm(call->identity, call->slug);
    if (!realm)
        not_found(call->req);
    else if (status == RK_OK)
        authenticated(call, realm, client);
    else if (status == RK_ENOTFOUND)
        invalid_client(call, "client authentication failed");
    else
        rk_identity_oauth_unavailable(call);
}

void rk_identity_oauth_begin(rk_request_t *req, int public_allowed, int (*check)(call_t *),
                             authenticated_fn next)
{
    rk_identity_t *identity = rk_app(req)->identity;
    const rk_identity_realm_t *realm = rk_identity_realm(identity, req->params[0]);
    if (!realm) {
        not_found(req);
        return;
    }
    call_t *call = rk_arena_calloc(req->arena, 1, sizeof(*call));
    call->req = req;
    call->identity = identity;
    call->slug = req->params[0];
    call->next = next;
    call->public_allowed = public_allowed;
    const char *why = NULL;
    if (!form_content_type(rk_request_header(req, "content-type"))) {
        rk_identity_oauth_error(call, 400, "invalid_request",
                                "Content-Type: must be application/x-www-form-urlencoded");
        return;
    }
    if (rk_identity_form_parse(req->arena, (const char *)req->body, req->body_len,
                               RK_IDENTITY_TOKEN_MAX_BYTES, &call->form, &why) != RK_OK) {
        rk_identity_oauth_error(call, 400, "invalid_request", why);
        return;
    }
    if (!within_bounds(call) || !check(call) || !read_credentials(call))
        return;
    const rk_identity_client_t *client = NULL;
    int rc = rk_identity_client_lookup(identity->clients, realm->tenant_id, call->client_id,
                                       &client, client_found, call);
    if (rc == RK_OK)
        authenticated(call, realm, client);
    else if (rc != RK_AGAIN)
        rk_identity_oauth_unavailable(call);
}

/* --- token ---------------------------------------------------------------------------------- */

static void token_issue(call_t *call, const rk_identity_realm_t *realm,
                        const rk_identity_client_t *client)
{
    rk_request_t *req = call->req;
    const char *granted = NULL, *why = NULL;
    if (!(client->grant_types & RK_IDENTITY_GRANT_CLIENT_CREDENTIALS)) {
        rk_identity_oauth_error(call, 400, "unauthorized_client",
                                "this client may not use the client_credentials grant");
        return;
    }
    if (rk_identity_scope_grant(req->arena, rk_identity_form_get(&call->form, "scope"),
                                client->scopes, &granted, &why) != RK_OK) {
        rk_identity_oauth_error(call, 400, "invalid_scope", why);
        return;
    }
    const cjose_jwk_t *key = realm->signing[client->signing_alg];
    const char *alg = rk_identity_alg_name(client->signing_alg);
    char jti[RK_IDENTITY_TOKEN_ID_LEN + 1];
    if (!key || rk_identity_random_text(jti, 16) != RK_OK) {
        rk_log_error("no signing key", "{s:s, s:s}", "realm", realm->slug, "alg", alg);
        rk_identity_oauth_error(call, 500, "server_error", "the realm cannot sign tokens now");
        return;
    }
    rk_identity_access_token_t token = {
        .issuer = realm->issuer,
        .client_id = client->client_id,
        .audience = client->audience,
        .scope = granted,
        .jti = jti,
        .issued_at = (long long)time(NULL),
        .lifetime_s = client->access_token_ttl,
    };
    json_t *claims = rk_identity_access_token_claims(&token);
    char *payload = json_dumps(claims, JSON_COMPACT);
    json_decref(claims);
    char *jws = rk_identity_jws_sign(key, alg, realm->signing_kid[client->signing_alg], "at+jwt",
                                     payload, strlen(payload), &why);
    free(payload);
    if (!jws) {
        rk_log_error("signing an access token failed", "{s:s, s:s}", "realm", realm->slug, "error",
                     why);
        rk_identity_oauth_error(call, 500, "server_error", "the realm cannot sign tokens now");
        return;
    }
    json_t *body = json_pack("{s:s, s:s, s:i}", "access_token", jws, "token_type", "Bearer",
                             "expires_in", client->access_token_ttl);
    free(jws);
    if (*granted)
        json_object_set_new(body, "scope", json_string(granted));
    rk_log_debug("access token issued", "{s:s, s:s, s:s, s:s}", "request_id", req->request_id,
                 "realm", realm->slug, "client_id", client->client_id, "token_id", jti);
    rk_identity_oauth_json(req, 200, body);
}

static int token_check(call_t *call)
{
    const char *grant_type = rk_identity_form_get(&call->form, "grant_type");
    if (!grant_type) {
        rk_identity_oauth_error(call, 400, "invalid_request", "grant_type: is required");
        return 0;
    }
    if (strcmp(grant_type, "client_credentials") == 0) {
        call->next = token_issue;
        call->public_allowed = 0;
    } else if (strcmp(grant_type, "authorization_code") == 0) {
        call->next = rk_identity_token_grant_code;
    } else if (strcmp(grant_type, "refresh_token") == 0) {
        call->next = rk_identity_token_grant_refresh;
    } else {
        rk_identity_oauth_error(call, 400, "unsupported_grant_type",
                                "grant_type: must be authorization_code, refresh_token or "
                                "client_credentials");
        return 0;
    }
    return 1;
}

static void token(rk_request_t *req)
{
    rk_identity_oauth_begin(req, 1, token_check, token_issue);
}

/* --- introspection -------------------------------------------------------------------------- */

static int introspect_check(call_t *call)
{
    if (!rk_identity_form_get(&call->form, "token")) {
        rk_identity_oauth_error(call, 400, "invalid_request", "token: is required");
        return 0;
    }
    return 1;
}

static void introspect_answer(call_t *call, const rk_identity_realm_t *realm,
                              const rk_identity_client_t *client)
{
    const char *why = NULL;
    const char *token = rk_identity_form_get(&call->form, "token");
    json_t *claims = rk_identity_access_token_verify(token, realm->issuer, (long long)time(NULL),
                                                     rk_identity_realm_key_lookup, realm, &why);
    rk_log_debug("token introspected", "{s:s, s:s, s:s, s:b, s:s}", "request_id",
                 call->req->request_id, "realm", realm->slug, "client_id", client->client_id,
                 "verified", claims != NULL, "reason", why ? why : "");
    if (!claims && rk_identity_token_is_opaque(token)) {
        rk_identity_introspect_resident(call, realm, NULL);
        return;
    }
    json_t *body = json_pack("{s:b}", "active", claims != NULL);
    if (claims) {
        json_object_update_missing(body, claims);
        json_object_set_new(body, "token_type", json_string("Bearer"));
        json_decref(claims);
    }
    if (json_is_string(json_object_get(body, "gid")))
        rk_identity_introspect_resident(call, realm, body); /* live only while its grant is */
    else
        rk_identity_oauth_json(call->req, 200, body);
}

static void introspect(rk_request_t *req)
{
    rk_identity_oauth_begin(req, 0, introspect_check, introspect_answer);
}

/* --- discovery and keys --------------------------------------------------------------------- */

static void serve_public(rk_request_t *req, const char *body, size_t len)
{
    rk_response_set(req, 200, "application/json", body, len);
    rk_response_header(req, "cache-control", "public, max-age=300");
    rk_response_header(req, "access-control-allow-origin", "*");
    rk_request_finish(req);
}

static void discovery(rk_request_t *req)
{
    const rk_identity_realm_t *realm = rk_identity_realm(rk_app(req)->identity, req->params[0]);
    if (realm)
        serve_public(req, realm->discovery, realm->discovery_len);
    else
        not_found(req);
}

static void jwks(rk_request_t *req)
{
    const rk_identity_realm_t *realm = rk_identity_realm(rk_app(req)->identity, req->params[0]);
    if (realm)
        serve_public(req, realm->jwks, realm->jwks_len);
    else
        not_found(req);
}

void rk_identity_oauth_register(rk_router_t *router)
{
    rk_router_add(router, "GET", "/t/{slug}/.well-known/openid-configuration", discovery,
                  "oidc_discovery");
    rk_router_add(router, "GET", "/t/{slug}/jwks", jwks, "oidc_jwks");
    rk_router_add(router, "POST", "/t/{slug}/token", token, "oidc_token");
    rk_router_add(router, "POST", "/t/{slug}/introspect", introspect, "oidc_introspect");
}
