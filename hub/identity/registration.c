/*
 * registration.c — initial access tokens and dynamic client registration (see registration.h).
 *
 * Metadata is translated into the admin API's client fields (client_name → name, scope →
 * scopes, id_token_signed_response_alg → signing_alg; redirect_uris, grant_types and the
 * rest keep their names) and judged by rk_identity_client_spec_parse(), so a registered
 * client passes exactly the rules an operator's client does; an error names the RFC 7591
 * member again. Only what this hub does is accepted: jwks_uri and sector_identifier_uri
 * (documents the hub would have to fetch) are refused; members it does not know are
 * ignored, as RFC 7591 §2 asks.
 *
 * One statement spends a use of the initial access token and stores the client, so a failed
 * insert spends nothing and two hubs cannot both spend the last use. Metadata that fails is
 * answered 400 only once the token is found live (one read, nothing spent): a caller without
 * a token learns nothing but 401, and a developer fixing their metadata keeps their use.
 *
 * The initial access token and a new client's secret are wiped when the request ends; logs
 * carry the realm, the client id and the method, never either of them.
 */
#include "identity/registration.h"

#include "admin/admin_auth.h"
#include "core/error.h"
#include "core/log.h"
#include "identity/client_assertion.h"
#include "identity/key_store.h"
#include "identity/oauth_call.h"
#include "identity/secret_text.h"
#include "identity/token.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STMT_TOKEN_INSERT "identity_registration_token_insert"
#define STMT_TOKEN_LIVE "identity_registration_token_live"
#define STMT_CLIENT_INSERT "identity_registration_client_insert"
#define TOKEN_BYTES 32
#define TOKEN_LEN RK_IDENTITY_B64_LEN(TOKEN_BYTES)
#define WHY_MAX 320

/* A new token; spent and expired ones of the realm go at the same time. */
static const char sql_token_insert[] =
    "WITH gone AS (DELETE FROM rk_identity_registration_token"
    " WHERE tenant_id = $1 AND (uses_left = 0 OR expires_at < now()))"
    " INSERT INTO rk_identity_registration_token (token_sha256, tenant_id, uses_left, expires_at)"
    " VALUES (decode($2, 'hex'), $1, $3::int, now() + make_interval(secs => $4::int))"
    " RETURNING json_build_object('expires_at', expires_at, 'uses', uses_left)::text";

static const char sql_token_live[] =
    "SELECT 1 FROM rk_identity_registration_token WHERE token_sha256 = decode($1, 'hex')"
    " AND tenant_id = $2 AND uses_left > 0 AND expires_at > now()";

/* A registered client as RFC 7591 §3.2.1 answers it, from the row c. */
#define REGISTERED_JSON                                                                            \
    "jsonb_strip_nulls(jsonb_build_object('client_id', c.client_id, 'client_id_issued_at',"        \
    " extract(epoch FROM c.created_at)::bigint, 'client_name', c.name, 'redirect_uris',"           \
    " c.redirect_uris, 'post_logout_redirect_uris', c.post_logout_redirect_uris, 'grant_types',"   \
    " c.grant_types, 'response_types', CASE WHEN 'authorization_code' = ANY (c.grant_types)"       \
    " THEN ARRAY['code'] ELSE ARRAY[]::text[] END, 'token_endpoint_auth_method', c.auth_method,"   \
    " 'scope', nullif(array_to_string(c.scopes, ' '), ''), 'subject_type', c.subject_type,"        \
    " 'id_token_signed_response_alg', c.signing_alg, 'backchannel_logout_uri',"                    \
    " c.backchannel_logout_uri, 'jwks', c.jwks))"

static const char sql_client_insert[] =
    "WITH spent AS (UPDATE rk_identity_registration_token SET uses_left = uses_left - 1"
    " WHERE token_sha256 = decode($1, 'hex') AND tenant_id = $2 AND uses_left > 0"
    " AND expires_at > now() RETURNING tenant_id)"
    " INSERT INTO rk_identity_client AS c (tenant_id, client_id, name, secret_sha256, grant_types,"
    " scopes, audience, access_token_ttl, signing_alg, auth_method, redirect_uris,"
    " post_logout_redirect_uris, subject_type, first_party, refresh_token_ttl,"
    " backchannel_logout_uri, jwks)"
    " SELECT spent.tenant_id, $3, $4, decode($5, 'hex'),"
    " ARRAY(SELECT json_array_elements_text($6::json)),"
    " ARRAY(SELECT json_array_elements_text($7::json)), $8, $9::int, $10, $11,"
    " ARRAY(SELECT json_array_elements_text($12::json)),"
    " ARRAY(SELECT json_array_elements_text($13::json)), $14, false, $15::int, $16, $17::jsonb"
    " FROM spent RETURNING " REGISTERED_JSON "::text";

static const char *const auth_methods[] = {"client_secret_basic", "client_secret_post",
                                           "private_key_jwt", "none"};

/* Admin API fields whose RFC 7591 member has another name. */
static const struct {
    const char *admin;
    const char *member;
} renamed[] = {
    {"name", "client_name"},
    {"scopes", "scope"},
    {"signing_alg", "id_token_signed_response_alg"},
};

/* Members RFC 7591 and the admin API both name so, copied as they are. */
static const char *const same_name[] = {"redirect_uris", "post_logout_redirect_uris",
                                        "subject_type", "backchannel_logout_uri"};

typedef struct registration {
    rk_request_t *req;
    const char *tenant_id;
    json_t *body;   /* the metadata as sent */
    json_t *fields; /* the same as the admin API's client fields; spec points into it */
    json_t *jwks;   /* what is stored (alg pinned), or NULL */
    rk_identity_client_spec_t spec;
    rk_identity_auth_method_t auth_method;
    const char *auth_signing_alg; /* token_endpoint_auth_signing_alg, or NULL */
    char token_hex[65];           /* SHA-256 of the initial access token */
    char client_id[RK_IDENTITY_CLIENT_ID_LEN + 1];
    char secret[RK_IDENTITY_CLIENT_SECRET_LEN + 1];
    int has_secret;
    const char *error; /* RFC 7591 §3.2.2 code of refused metadata, or NULL */
    const char *error_description;
} registration_t;

typedef struct token_issue {
    rk_request_t *req;
    char token[TOKEN_LEN + 1];
} token_issue_t;

static void wipe_registration(void *data)
{
    registration_t *r = data;
    OPENSSL_cleanse(r->secret, sizeof(r->secret));
    OPENSSL_cleanse(r->token_hex, sizeof(r->token_hex));
    json_decref(r->spec.scopes);
    json_decref(r->jwks);
    json_decref(r->fields);
    json_decref(r->body);
}

static void wipe_token(void *data)
{
    token_issue_t *t = data;
    OPENSSL_cleanse(t->token, sizeof(t->token));
}

/* An OAuth error (RFC 7591 §3.2.2, RFC 6750 §3 for the token). Finishes the request. */
static void answer_error(rk_request_t *req, int status, const char *error, const char *description)
{
    if (status == 401)
        rk_response_header(req, "www-authenticate",
                           rk_arena_printf(req->arena,
                                           "Bearer realm=\"%s\", error=\"invalid_token\"",
                                           req->params[0]));
    if (status == 503)
        rk_response_header(req, "retry-after", "1");
    json_t *body = json_pack("{s:s, s:s}", "error", error, "error_description", description);
    rk_identity_oauth_json(req, status, body ? body : json_pack("{s:s}", "error", error));
}

static void no_token(rk_request_t *req)
{
    answer_error(req, 401, "invalid_token",
                 "an initial access token is required (Authorization: Bearer), live and with a "
                 "use left; the realm's operator issues them");
}

/* --- metadata -------------------------------------------------------------------------------- */

static int refuse(char *why, size_t why_len, const char *member, const char *rule)
{
    snprintf(why, why_len, "%s: %s", member, rule);
    return RK_EINVAL;
}

/* Gives an error of client.c the RFC 7591 member's name: "scopes[2]: …" becomes "scope: …". */
static void rename_member(char *why, size_t why_len)
{
    for (size_t i = 0; i < sizeof(renamed) / sizeof(renamed[0]); i++) {
        size_t n = strlen(renamed[i].admin);
        const char *rest = strchr(why, ':');
        if (strncmp(why, renamed[i].admin, n) == 0 && (why[n] == ':' || why[n] == '[') && rest) {
            char copy[WHY_MAX];
            snprintf(copy, sizeof(copy), "%s%s", renamed[i].member, rest);
            snprintf(why, why_len, "%s", copy);
            return;
        }
    }
}

static int array_has(json_t *array, const char *s)
{
    size_t i;
    json_t *item;
    json_array_foreach(array, i, item)
    {
        if (json_is_string(item) && strcmp(json_string_value(item), s) == 0)
            return 1;
    }
    return 0;
}

/* The scope member (space-separated) as the array of tokens the admin API takes, or NULL. */
static json_t *scope_array(json_t *scope)
{
    const char *s = json_string_value(scope);
    if (!s || strlen(s) != json_string_length(scope))
        return NULL;
    json_t *tokens = json_array();
    for (const char *p = s; *p;) {
        size_t n = strcspn(p, " ");
        if (n == 0 || (p[n] == ' ' && !p[n + 1])) {
            json_decref(tokens);
            return NULL;
        }
        json_array_append_new(tokens, json_stringn(p, n));
        p += n + (p[n] == ' ');
    }
    return tokens;
}

static int translate_response_types(json_t *types, int code_flow, char *why, size_t why_len)
{
    if (!types)
        return RK_OK;
    size_t n = json_array_size(types);
    if (!json_is_array(types) || n > 1 || (n == 1 && !array_has(types, "code")))
        return refuse(why, why_len, "response_types",
                      "must be [\"code\"]: the only response type this hub supports");
    if (n == 1 && !code_flow)
        return refuse(why, why_len, "response_types",
                      "code needs the authorization_code grant in grant_types");
    if (n == 0 && code_flow)
        return refuse(why, why_len, "response_types",
                      "must be [\"code\"] with the authorization_code grant");
    return RK_OK;
}

/* The client's keys (private_key_jwt only), checked and, when asked, bound to one alg. */
static int translate_keys(registration_t *r, char *why, size_t why_len)
{
    json_t *jwks = json_object_get(r->body, "jwks");
    json_t *signing = json_object_get(r->body, "token_endpoint_auth_signing_alg");
    if (r->auth_method != RK_IDENTITY_AUTH_PRIVATE_KEY_JWT) {
        if (jwks)
            return refuse(why, why_len, "jwks",
                          "only clients of token_endpoint_auth_method private_key_jwt register "
                          "keys here");
        if (signing)
            return refuse(why, why_len, "token_endpoint_auth_signing_alg",
                          "applies to private_key_jwt only");
        return RK_OK;
    }
    if (!jwks)
        return refuse(why, why_len, "jwks",
                      "is required with token_endpoint_auth_method private_key_jwt");
    if (rk_identity_client_jwks_check(jwks, why, why_len) != RK_OK)
        return RK_EINVAL;
    r->jwks = json_deep_copy(jwks);
    if (signing) {
        r->auth_signing_alg = json_string_value(signing);
        if (rk_identity_client_jwks_pin_alg(r->jwks, r->auth_signing_alg, why, why_len) != RK_OK)
            return RK_EINVAL;
    }
    return RK_OK;
}

/*
 * Builds r->fields from the metadata and parses them into r->spec with client.c's rules.
 * RK_OK, or RK_EINVAL with why naming the RFC 7591 member.
 */
static int translate(registration_t *r, const rk_identity_t *identity, char *why, size_t why_len)
{
    json_t *body = r->body;
    json_t *fields = r->fields = json_object();
    if (json_object_get(body, "jwks_uri"))
        return refuse(why, why_len, "jwks_uri",
                      "not supported: this hub does not fetch keys; register them inline as jwks");
    if (json_object_get(body, "sector_identifier_uri"))
        return refuse(why, why_len, "sector_identifier_uri",
                      "not supported: this hub does not fetch it; the realm's operator can give "
                      "a client a sector through the admin API (sector_identifier)");
    json_t *method = json_object_get(body, "token_endpoint_auth_method");
    const char *method_name = method ? json_string_value(method) : auth_methods[0];
    size_t m = 0;
    while (method_name && m < 4 && strcmp(method_name, auth_methods[m]) != 0)
        m++;
    if (!method_name || m == 4)
        return refuse(why, why_len, "token_endpoint_auth_method",
                      "must be one of: client_secret_basic client_secret_post private_key_jwt "
                      "none");
    r->auth_method = (rk_identity_auth_method_t)m;
    /* client.c has no private_key_jwt (the admin API cannot take keys): it parses such a
     * client as a secret client, and the method is set once it is done. */
    if (r->auth_method != RK_IDENTITY_AUTH_PRIVATE_KEY_JWT)
        json_object_set_new(fields, "token_endpoint_auth_method", json_string(method_name));

    json_t *grants = json_object_get(body, "grant_types"); /* RFC 7591: authorization_code */
    json_object_set_new(fields, "grant_types",
                        grants ? json_incref(grants) : json_pack("[s]", "authorization_code"));
    int code_flow = !grants || array_has(grants, "authorization_code");
    if (translate_response_types(json_object_get(body, "response_types"), code_flow, why,
                                 why_len) != RK_OK)
        return RK_EINVAL;

    json_t *name = json_object_get(body, "client_name");
    json_object_set_new(fields, "name", name ? json_incref(name) : json_string(r->client_id));
    json_t *scope = json_object_get(body, "scope");
    if (scope) {
        json_t *scopes = scope_array(scope);
        if (!scopes)
            return refuse(why, why_len, "scope",
                          "must be a string of scope tokens separated by single spaces");
        json_object_set_new(fields, "scopes", scopes);
    } else if (!code_flow) {
        json_object_set_new(fields, "scopes", json_array());
    }
    for (size_t i = 0; i < sizeof(same_name) / sizeof(same_name[0]); i++) {
        json_t *value = json_object_get(body, same_name[i]);
        if (value)
            json_object_set(fields, same_name[i], value);
    }
    /* OpenID Connect Registration §2: RS256 unless the client asks otherwise; a realm that does
     * not sign with RS256 answers with the algorithm it registered instead. */
    json_t *alg = json_object_get(body, "id_token_signed_response_alg");
    rk_identity_alg_t fallback = identity->algs[0];
    for (size_t i = 0; i < identity->n_algs; i++) {
        if (identity->algs[i] == RK_IDENTITY_RS256)
            fallback = RK_IDENTITY_RS256;
    }
    json_object_set_new(fields, "signing_alg",
                        alg ? json_incref(alg) : json_string(rk_identity_alg_name(fallback)));

    if (translate_keys(r, why, why_len) != RK_OK)
        return RK_EINVAL;
    if (rk_identity_client_spec_parse(fields, identity->algs, identity->n_algs, &r->spec, why,
                                      why_len) != RK_OK) {
        rename_member(why, why_len);
        return RK_EINVAL;
    }
    r->spec.auth_method = r->auth_method;
    r->has_secret = r->auth_method == RK_IDENTITY_AUTH_SECRET_BASIC ||
                    r->auth_method == RK_IDENTITY_AUTH_SECRET_POST;
    return RK_OK;
}

/* --- registration ---------------------------------------------------------------------------- */

static void client_stored(const rk_store_result_t *res, void *arg)
{
    registration_t *r = arg;
    rk_request_t *req = r->req;
    if (res->status != RK_OK || res->n_results != 1) {
        if (res->status == RK_EINVAL)
            rk_log_error("registering a client failed", "{s:s, s:s}", "realm", req->params[0],
                         "error", res->error);
        answer_error(req, 503, "temporarily_unavailable", "the database did not store the client");
        return;
    }
    if (PQntuples(res->results[0]) == 0) {
        rk_log_info("client registration refused: no live initial access token", "{s:s, s:s}",
                    "request_id", req->request_id, "realm", req->params[0]);
        no_token(req);
        return;
    }
    json_t *client = json_loads(PQgetvalue(res->results[0], 0, 0), 0, NULL);
    if (!client) {
        answer_error(req, 500, "server_error", "the stored client cannot be read");
        return;
    }
    if (r->has_secret) {
        json_object_set_new(client, "client_secret", json_string(r->secret));
        json_object_set_new(client, "client_secret_expires_at", json_integer(0));
    }
    if (r->auth_signing_alg)
        json_object_set_new(client, "token_endpoint_auth_signing_alg",
                            json_string(r->auth_signing_alg));
    rk_log_info("client registered", "{s:s, s:s, s:s, s:s}", "request_id", req->request_id, "realm",
                req->params[0], "client_id", r->client_id, "auth_method",
                rk_identity_auth_method_name(r->auth_method));
    rk_identity_oauth_json(req, 201, client);
}

/* Refused metadata: 400 if the token is live (nothing is spent), else 401. */
static void token_checked(const rk_store_result_t *res, void *arg)
{
    registration_t *r = arg;
    if (res->status != RK_OK || res->n_results != 1)
        answer_error(r->req, 503, "temporarily_unavailable", "the database did not answer");
    else if (PQntuples(res->results[0]) == 0)
        no_token(r->req);
    else
        answer_error(r->req, 400, r->error, r->error_description);
}

static void store(registration_t *r, const rk_identity_realm_t *realm)
{
    rk_request_t *req = r->req;
    const rk_identity_client_spec_t *spec = &r->spec;
    char *digest_hex = NULL;
    if (r->has_secret) {
        unsigned char digest[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)r->secret, strlen(r->secret), digest);
        digest_hex = rk_identity_hex(digest, sizeof(digest));
        OPENSSL_cleanse(digest, sizeof(digest));
    }
    char *grants = json_dumps(spec->grant_types, JSON_COMPACT);
    char *scopes = json_dumps(spec->scopes, JSON_COMPACT);
    char *redirects =
        spec->redirect_uris ? json_dumps(spec->redirect_uris, JSON_COMPACT) : strdup("[]");
    char *logouts = spec->post_logout_redirect_uris
                        ? json_dumps(spec->post_logout_redirect_uris, JSON_COMPACT)
                        : strdup("[]");
    char *jwks = r->jwks ? json_dumps(r->jwks, JSON_COMPACT) : NULL;
    char ttl[16], refresh_ttl[16];
    snprintf(ttl, sizeof(ttl), "%d", spec->access_token_ttl);
    snprintf(refresh_ttl, sizeof(refresh_ttl), "%d", spec->refresh_token_ttl);
    const char *values[] = {r->token_hex,
                            realm->tenant_id,
                            r->client_id,
                            spec->name,
                            digest_hex,
                            grants,
                            scopes,
                            rk_app(req)->public_url,
                            ttl,
                            rk_identity_alg_name(spec->signing_alg),
                            rk_identity_auth_method_name(r->auth_method),
                            redirects,
                            logouts,
                            spec->subject_type,
                            refresh_ttl,
                            spec->backchannel_logout_uri,
                            jwks};
    int rc = rk_store_exec(rk_app(req)->store, STMT_CLIENT_INSERT, 17, values, client_stored, r);
    free(digest_hex);
    free(grants);
    free(scopes);
    free(redirects);
    free(logouts);
    free(jwks);
    if (rc != RK_AGAIN)
        answer_error(req, 503, "temporarily_unavailable", "no database connection");
}

/* The initial access token of an Authorization header, or NULL when there is none. */
static const char *bearer_token(const char *header)
{
    static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return NULL;
    const char *token = header + 7;
    while (*token == ' ')
        token++;
    size_t len = strlen(token);
    return len == TOKEN_LEN && strspn(token, b64url) == len ? token : NULL;
}

static int json_content_type(const char *value)
{
    static const char json[] = "application/json";
    size_t n = sizeof(json) - 1;
    return value && strncasecmp(value, json, n) == 0 &&
           (value[n] == '\0' || value[n] == ';' || value[n] == ' ');
}

/* Reads and judges the metadata into r; NULL, or the RFC 7591 error code with why set. */
static const char *judge(registration_t *r, const rk_identity_t *identity, char *why,
                         size_t why_len)
{
    rk_request_t *req = r->req;
    if (!json_content_type(rk_request_header(req, "content-type"))) {
        snprintf(why, why_len, "Content-Type: must be application/json");
        return "invalid_client_metadata";
    }
    json_error_t jerr;
    r->body = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!r->body) {
        snprintf(why, why_len, "body: line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return "invalid_client_metadata";
    }
    if (!json_is_object(r->body)) {
        snprintf(why, why_len, "body: must be a JSON object of client metadata");
        return "invalid_client_metadata";
    }
    if (translate(r, identity, why, why_len) == RK_OK)
        return NULL;
    return strncmp(why, "redirect_uris", 13) == 0 ? "invalid_redirect_uri"
                                                  : "invalid_client_metadata";
}

static void register_client(rk_request_t *req)
{
    rk_identity_t *identity = rk_app(req)->identity;
    const rk_identity_realm_t *realm = rk_identity_realm(identity, req->params[0]);
    if (!realm) {
        rk_response_error(req, 404, "not_found", "no realm with this slug");
        rk_request_finish(req);
        return;
    }
    const char *token = bearer_token(rk_request_header(req, "authorization"));
    if (!token) {
        no_token(req);
        return;
    }
    registration_t *r = rk_arena_calloc(req->arena, 1, sizeof(*r));
    rk_arena_on_free(req->arena, wipe_registration, r);
    r->req = req;
    rk_identity_sha256_hex(token, TOKEN_LEN, r->token_hex);
    if (rk_identity_client_credentials_new(r->client_id, r->secret) != RK_OK) {
        answer_error(req, 500, "server_error", "cannot generate client credentials");
        return;
    }
    char why[WHY_MAX];
    r->error = judge(r, identity, why, sizeof(why));
    if (!r->error) {
        store(r, realm);
        return;
    }
    r->error_description = rk_arena_strdup(req->arena, why);
    rk_log_debug("client registration refused", "{s:s, s:s, s:s}", "request_id", req->request_id,
                 "realm", realm->slug, "reason", r->error_description);
    const char *values[] = {r->token_hex, realm->tenant_id};
    if (rk_store_exec(rk_app(req)->store, STMT_TOKEN_LIVE, 2, values, token_checked, r) != RK_AGAIN)
        answer_error(req, 503, "temporarily_unavailable", "no database connection");
}

/* --- initial access tokens ------------------------------------------------------------------- */

static void admin_error(rk_request_t *req, int status, const char *code, const char *message)
{
    rk_response_error(req, status, code, message);
    rk_request_finish(req);
}

static void token_stored(const rk_store_result_t *res, void *arg)
{
    token_issue_t *t = arg;
    rk_request_t *req = t->req;
    json_t *body = res->status == RK_OK && res->n_results == 1 && PQntuples(res->results[0]) == 1
                       ? json_loads(PQgetvalue(res->results[0], 0, 0), 0, NULL)
                       : NULL;
    if (!body) {
        if (res->status == RK_EINVAL)
            rk_log_error("storing a registration token failed", "{s:s}", "error", res->error);
        admin_error(req, 503, "unavailable", "the database did not store the token");
        return;
    }
    rk_log_info("registration token issued", "{s:s, s:s, s:O}", "request_id", req->request_id,
                "realm", req->params[0], "uses", json_object_get(body, "uses"));
    json_object_set_new(body, "token", json_string(t->token));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    rk_response_set(req, 201, "application/json", text, strlen(text));
    rk_response_header(req, "cache-control", "no-store");
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    rk_request_finish(req);
}

/* An integer member between min and max, or fallback when absent; 0 if it is out of bounds. */
static int bounded_int(json_t *body, const char *member, int min, int max, int fallback, int *out)
{
    json_t *value = json_object_get(body, member);
    *out = fallback;
    if (!value)
        return 1;
    if (!json_is_integer(value) || json_integer_value(value) < min ||
        json_integer_value(value) > max)
        return 0;
    *out = (int)json_integer_value(value);
    return 1;
}

static void token_create(rk_request_t *req)
{
    if (!rk_admin_authorize_tenant(req, req->params[0], RK_ADMIN_ROLE_TENANT_ADMIN))
        return;
    const rk_identity_realm_t *realm = rk_identity_realm(rk_app(req)->identity, req->params[0]);
    if (!realm) {
        admin_error(req, 404, "not_found", "no realm with this slug");
        return;
    }
    json_error_t jerr;
    json_t *body = req->body_len ? json_loadb((const char *)req->body, req->body_len,
                                              JSON_REJECT_DUPLICATES, &jerr)
                                 : json_object();
    if (!json_is_object(body)) {
        json_decref(body);
        admin_error(req, 400, "invalid_request",
                    "body: must be a JSON object: {\"ttl\", \"uses\"}");
        return;
    }
    const char *member;
    json_t *value;
    const char *problem = NULL;
    json_object_foreach(body, member, value)
    {
        if (strcmp(member, "ttl") != 0 && strcmp(member, "uses") != 0 && !problem)
            problem = rk_arena_printf(req->arena, "%s: unknown field (allowed: ttl, uses)", member);
    }
    int ttl = 0, uses = 0;
    if (!problem && !bounded_int(body, "ttl", 60, RK_IDENTITY_REGISTRATION_TTL_MAX,
                                 RK_IDENTITY_REGISTRATION_TTL_DEFAULT, &ttl))
        problem = "ttl: must be an integer number of seconds between 60 and 2592000 (30 days)";
    if (!problem && !bounded_int(body, "uses", 1, RK_IDENTITY_REGISTRATION_USES_MAX, 1, &uses))
        problem = "uses: must be an integer between 1 and 1000";
    json_decref(body);
    if (problem) {
        admin_error(req, 400, "invalid_request", problem);
        return;
    }
    token_issue_t *t = rk_arena_calloc(req->arena, 1, sizeof(*t));
    rk_arena_on_free(req->arena, wipe_token, t);
    t->req = req;
    if (rk_identity_random_text(t->token, TOKEN_BYTES) != RK_OK) {
        admin_error(req, 500, "internal", "cannot generate a token");
        return;
    }
    char digest[65], ttl_text[16], uses_text[16];
    rk_identity_sha256_hex(t->token, TOKEN_LEN, digest);
    snprintf(ttl_text, sizeof(ttl_text), "%d", ttl);
    snprintf(uses_text, sizeof(uses_text), "%d", uses);
    const char *values[] = {realm->tenant_id, digest, uses_text, ttl_text};
    if (rk_store_exec(rk_app(req)->store, STMT_TOKEN_INSERT, 4, values, token_stored, t) !=
        RK_AGAIN)
        admin_error(req, 503, "unavailable", "no database connection");
}

void rk_identity_registration_register(rk_identity_t *identity, rk_router_t *router)
{
    rk_store_t *store = identity->app->store;
    rk_store_prepare(store, STMT_TOKEN_INSERT, sql_token_insert);
    rk_store_prepare(store, STMT_TOKEN_LIVE, sql_token_live);
    rk_store_prepare(store, STMT_CLIENT_INSERT, sql_client_insert);
    rk_store_prepare(store, RK_IDENTITY_STMT_ASSERTION_JTI, RK_IDENTITY_SQL_ASSERTION_JTI);
    rk_router_add(router, "POST", "/admin/v1/realms/{slug}/registration-tokens", token_create,
                  "identity_registration_tokens_create");
    rk_router_add(router, "POST", "/t/{slug}/register", register_client, "oidc_register");
}
