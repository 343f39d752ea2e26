/*
 * admin.c — key rotation and client administration endpoints (see admin.h).
 *
 * PostgreSQL renders the client JSON (as tenant_store.c does for tenants), so the shape of
 * a client in the API is written once, in the SQL below. A new client's secret never reaches
 * the database or the logs: only its SHA-256 is stored, and the copy kept for the one
 * response is wiped when the request ends.
 */
#include "identity/admin.h"

#include "admin/admin_auth.h"
#include "admin/admin_reply.h"
#include "core/error.h"
#include "core/log.h"
#include "identity/key_store.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_CLIENT_INSERT "identity_client_insert"
#define STMT_CLIENT_LIST "identity_client_list"

/* A client as the API shows it, from the row c. */
#define CLIENT_JSON                                                                                \
    "jsonb_strip_nulls(jsonb_build_object('client_id', c.client_id, 'name', c.name,"               \
    " 'grant_types', c.grant_types, 'scopes', c.scopes, 'token_endpoint_auth_method',"             \
    " c.auth_method, 'redirect_uris', c.redirect_uris, 'post_logout_redirect_uris',"               \
    " c.post_logout_redirect_uris, 'subject_type', c.subject_type, 'sector_identifier',"           \
    " c.sector_identifier, 'first_party', c.first_party, 'service', c.service,"                    \
    " 'backchannel_logout_uri', c.backchannel_logout_uri, 'audience', c.audience,"                 \
    " 'access_token_ttl', c.access_token_ttl, 'refresh_token_ttl', c.refresh_token_ttl,"           \
    " 'signing_alg', c.signing_alg, 'created_at', c.created_at, 'updated_at', c.updated_at))"

static const char sql_client_insert[] =
    "INSERT INTO rk_identity_client AS c (tenant_id, client_id, name, secret_sha256, grant_types,"
    " scopes, audience, access_token_ttl, signing_alg, auth_method, redirect_uris,"
    " post_logout_redirect_uris, subject_type, sector_identifier, first_party, service,"
    " refresh_token_ttl, backchannel_logout_uri)"
    " VALUES ($1, $2, $3, decode($4, 'hex'), ARRAY(SELECT json_array_elements_text($9::json)),"
    " ARRAY(SELECT json_array_elements_text($5::json)), $6, $7::int, $8, $10,"
    " ARRAY(SELECT json_array_elements_text($11::json)),"
    " ARRAY(SELECT json_array_elements_text($12::json)), $13, $14, $15::boolean, $16, $17::int,"
    " $18)"
    " RETURNING " CLIENT_JSON "::text";

static const char sql_client_list[] =
    "SELECT json_build_object('clients', coalesce(json_agg(" CLIENT_JSON
    " ORDER BY c.created_at, c.client_id), '[]'::json))::text FROM rk_identity_client c"
    " WHERE c.tenant_id = $1";

typedef struct creation {
    rk_request_t *req;
    char *issuer;
    char client_id[RK_IDENTITY_CLIENT_ID_LEN + 1];
    char secret[RK_IDENTITY_CLIENT_SECRET_LEN + 1];
    int has_secret;
} creation_t;

static rk_identity_t *identity_of(rk_request_t *req)
{
    return rk_app(req)->identity;
}

/* The realm of the route's {slug}, or NULL after answering 404. */
static const rk_identity_realm_t *realm_or_404(rk_request_t *req)
{
    const rk_identity_realm_t *realm = rk_identity_realm(identity_of(req), req->params[0]);
    if (!realm) {
        rk_response_error(req, 404, "not_found", "no realm with this slug");
        rk_request_finish(req);
    }
    return realm;
}

static void finish_text(rk_request_t *req, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    rk_response_set(req, status, "application/json", text, strlen(text));
    rk_response_header(req, "cache-control", "no-store");
    free(text);
    json_decref(body);
    rk_request_finish(req);
}

static void bad_request(rk_request_t *req, const char *message)
{
    rk_response_error(req, 400, "invalid_request", message);
    rk_request_finish(req);
}

/* The body as a JSON object, or NULL after answering 400. An empty body is {}. */
static json_t *json_body(rk_request_t *req)
{
    if (req->body_len == 0)
        return json_object();
    json_error_t jerr;
    json_t *body =
        json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!body) {
        bad_request(req, rk_arena_printf(req->arena, "body: line %d column %d: %s", jerr.line,
                                         jerr.column, jerr.text));
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        bad_request(req, "body: must be a JSON object");
        return NULL;
    }
    return body;
}

/* --- keys:rotate ---------------------------------------------------------------------------- */

static void rotated(int status, const char *chain, const char *why, void *arg)
{
    rk_request_t *req = arg;
    json_t *body = status == RK_OK ? json_loads(chain, 0, NULL) : NULL;
    if (body) {
        json_object_set_new(body, "realm", json_string(req->params[0]));
        finish_text(req, 200, body);
        return;
    }
    if (status == RK_ECONFLICT)
        rk_response_error(req, 409, "conflict", why);
    else
        rk_response_error(req, 503, "unavailable", why ? why : "the rotation did not complete");
    rk_request_finish(req);
}

static void keys_rotate(rk_request_t *req)
{
    if (!rk_admin_authorize_tenant(req, req->params[0], RK_ADMIN_ROLE_TENANT_ADMIN))
        return;
    rk_identity_t *identity = identity_of(req);
    json_t *body = json_body(req);
    if (!body)
        return;
    rk_identity_alg_t alg = identity->algs[0];
    json_t *alg_value = json_object_get(body, "alg");
    int fields_ok = json_object_size(body) == (alg_value ? 1u : 0u);
    int alg_ok = !alg_value || rk_identity_alg_parse(json_string_value(alg_value), &alg) == RK_OK;
    json_decref(body);
    if (!fields_ok) {
        bad_request(req, "body: the only field is \"alg\"");
        return;
    }
    int rc = alg_ok ? rk_identity_rotate(identity, req->params[0], alg, rotated, req) : RK_EINVAL;
    if (rc == RK_AGAIN)
        return;
    if (rc == RK_ENOTFOUND) {
        rk_response_error(req, 404, "not_found", "no realm with this slug");
    } else if (rc == RK_EINVAL) {
        rk_response_error(req, 400, "invalid_request",
                          "alg: must be one of the realm's algorithms (identity.signing_algs)");
    } else if (rc == RK_ECONFLICT) {
        rk_response_error(req, 409, "conflict", "the realm has no next key of this algorithm");
    } else {
        rk_response_error(req, 503, "unavailable", "cannot start key generation");
    }
    rk_request_finish(req);
}

/* --- clients -------------------------------------------------------------------------------- */

static void wipe_creation(void *data)
{
    creation_t *c = data;
    OPENSSL_cleanse(c->secret, sizeof(c->secret));
}

static void client_created(const rk_store_result_t *res, void *arg)
{
    creation_t *c = arg;
    rk_request_t *req = c->req;
    json_t *client = res->status == RK_OK && res->n_results == 1 && PQntuples(res->results[0]) == 1
                         ? json_loads(PQgetvalue(res->results[0], 0, 0), 0, NULL)
                         : NULL;
    if (!client) {
        if (res->status == RK_EINVAL)
            rk_log_error("creating a client failed", "{s:s}", "error", res->error);
        rk_response_error(req, 503, "unavailable", "the database did not store the client");
        rk_request_finish(req);
        return;
    }
    if (c->has_secret)
        json_object_set_new(client, "client_secret", json_string(c->secret));
    json_object_set_new(client, "issuer", json_string(c->issuer));
    json_object_set_new(client, "token_endpoint",
                        json_string(rk_arena_printf(req->arena, "%s/token", c->issuer)));
    rk_log_info("client created", "{s:s, s:s, s:s}", "request_id", req->request_id, "realm",
                req->params[0], "client_id", c->client_id);
    finish_text(req, 201, client);
}

static void client_create(rk_request_t *req)
{
    if (!rk_admin_authorize_tenant(req, req->params[0], RK_ADMIN_ROLE_TENANT_ADMIN))
        return;
    rk_identity_t *identity = identity_of(req);
    const rk_identity_realm_t *realm = realm_or_404(req);
    if (!realm)
        return;
    json_t *body = json_body(req);
    if (!body)
        return;
    rk_identity_client_spec_t spec;
    char why[256];
    if (rk_identity_client_spec_parse(body, identity->algs, identity->n_algs, &spec, why,
                                      sizeof(why)) != RK_OK) {
        json_decref(spec.scopes);
        json_decref(body);
        bad_request(req, rk_arena_strdup(req->arena, why));
        return;
    }
    creation_t *c = rk_arena_calloc(req->arena, 1, sizeof(*c));
    rk_arena_on_free(req->arena, wipe_creation, c);
    c->req = req;
    c->issuer = rk_arena_strdup(req->arena, realm->issuer);
    c->has_secret = spec.auth_method == RK_IDENTITY_AUTH_SECRET_BASIC ||
                    spec.auth_method == RK_IDENTITY_AUTH_SECRET_POST;
    if (rk_identity_client_credentials_new(c->client_id, c->secret) != RK_OK) {
        json_decref(spec.scopes);
        json_decref(body);
        rk_response_error(req, 500, "internal", "cannot generate client credentials");
        rk_request_finish(req);
        return;
    }
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)c->secret, strlen(c->secret), digest);
    char *digest_hex = c->has_secret ? rk_identity_hex(digest, sizeof(digest)) : NULL;
    char *scopes = json_dumps(spec.scopes, JSON_COMPACT);
    char *grants = spec.grant_types ? json_dumps(spec.grant_types, JSON_COMPACT)
                                    : strdup("[\"client_credentials\"]");
    char *redirects =
        spec.redirect_uris ? json_dumps(spec.redirect_uris, JSON_COMPACT) : strdup("[]");
    char *logouts = spec.post_logout_redirect_uris
                        ? json_dumps(spec.post_logout_redirect_uris, JSON_COMPACT)
                        : strdup("[]");
    char ttl[16], refresh_ttl[16];
    snprintf(ttl, sizeof(ttl), "%d", spec.access_token_ttl);
    snprintf(refresh_ttl, sizeof(refresh_ttl), "%d", spec.refresh_token_ttl);
    const char *values[] = {realm->tenant_id,
                            c->client_id,
                            spec.name,
                            digest_hex,
                            scopes,
                            spec.audience ? spec.audience : rk_app(req)->public_url,
                            ttl,
                            rk_identity_alg_name(spec.signing_alg),
                            grants,
                            rk_identity_auth_method_name(spec.auth_method),
                            redirects,
                            logouts,
                            spec.subject_type,
                            spec.sector_identifier,
                            spec.first_party ? "true" : "false",
                            spec.service,
                            refresh_ttl,
                            spec.backchannel_logout_uri};
    int rc = rk_store_exec(rk_app(req)->store, STMT_CLIENT_INSERT, 18, values, client_created, c);
    free(scopes);
    free(grants);
    free(redirects);
    free(logouts);
    free(digest_hex);
    json_decref(spec.scopes);
    json_decref(body);
    if (rc != RK_AGAIN) {
        rk_response_error(req, 503, "unavailable", "no database connection");
        rk_request_finish(req);
    }
}

static void client_list(rk_request_t *req)
{
    if (!rk_admin_authorize_tenant(req, req->params[0],
                                   RK_ADMIN_ROLE_TENANT_ADMIN | RK_ADMIN_ROLE_AUDITOR))
        return;
    const rk_identity_realm_t *realm = realm_or_404(req);
    if (!realm)
        return;
    const char *values[] = {realm->tenant_id};
    if (rk_store_exec(rk_app(req)->store, STMT_CLIENT_LIST, 1, values, rk_admin_reply_json_row,
                      req) != RK_AGAIN) {
        rk_response_error(req, 503, "unavailable", "no database connection");
        rk_request_finish(req);
    }
}

void rk_identity_admin_register(rk_identity_t *identity, rk_router_t *router)
{
    rk_store_prepare(identity->app->store, STMT_CLIENT_INSERT, sql_client_insert);
    rk_store_prepare(identity->app->store, STMT_CLIENT_LIST, sql_client_list);
    rk_router_add(router, "POST", "/admin/v1/realms/{slug}/keys:rotate", keys_rotate,
                  "identity_keys_rotate");
    rk_router_add(router, "POST", "/admin/v1/realms/{slug}/clients", client_create,
                  "identity_clients_create");
    rk_router_add(router, "GET", "/admin/v1/realms/{slug}/clients", client_list,
                  "identity_clients_list");
}
