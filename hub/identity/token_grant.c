/*
 * token_grant.c — the authorization_code and refresh_token grants of the token endpoint.
 *
 * Both grants are one call of a SQL function that does every check and state change in one
 * transaction (migration 0005): rk_identity_code_redeem() spends the code, checks client,
 * redirect URI and PKCE, and stores the first refresh token; rk_identity_refresh_rotate()
 * spends a refresh token and stores its successor. Reuse of a spent code or refresh token
 * revokes the grant, and with it every token it issued. The hub keeps only SHA-256 digests of
 * codes and refresh tokens, so a database dump holds nothing a caller can present.
 *
 * What the answer needs of the client is copied before the query, since the cache entry may
 * be replaced while PostgreSQL works; the realm is looked up again after it.
 */
#include "identity/oauth_call.h"

#include "core/error.h"
#include "core/log.h"
#include "identity/authz_request.h"
#include "identity/secret_text.h"
#include "identity/token.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STMT_REDEEM "identity_code_redeem"
#define STMT_ROTATE_REFRESH "identity_refresh_rotate"
#define ID_TOKEN_TTL 300
#define REFRESH_TOKEN_LEN RK_IDENTITY_B64_LEN(32)

typedef struct exchange {
    rk_identity_oauth_call_t *call;
    /* The client, copied. */
    const char *client_id;
    const char *audience;
    const char *sector;
    int pairwise;
    int access_token_ttl;
    rk_identity_alg_t signing_alg;
    int refresh_allowed;
    /* The request. */
    int refreshing;    /* the refresh_token grant: the ID token carries no nonce (Core §12.2) */
    const char *scope; /* refresh: a narrower scope asked for, or NULL */
    char refresh_token[REFRESH_TOKEN_LEN + 1]; /* the one to hand out */
} exchange_t;

static void wipe(void *data)
{
    exchange_t *x = data;
    OPENSSL_cleanse(x->refresh_token, sizeof(x->refresh_token));
}

static exchange_t *exchange_new(rk_identity_oauth_call_t *call, const rk_identity_client_t *client)
{
    rk_arena_t *arena = call->req->arena;
    exchange_t *x = rk_arena_calloc(arena, 1, sizeof(*x));
    rk_arena_on_free(arena, wipe, x);
    x->call = call;
    x->client_id = rk_arena_strdup(arena, client->client_id);
    x->audience = rk_arena_strdup(arena, client->audience);
    x->sector = rk_arena_strdup(arena, client->sector);
    x->pairwise = client->pairwise;
    x->access_token_ttl = client->access_token_ttl;
    x->signing_alg = client->signing_alg;
    x->refresh_allowed = (client->grant_types & RK_IDENTITY_GRANT_REFRESH_TOKEN) != 0;
    return x;
}

/* Signs claims (taken) with the realm's key of the client's algorithm; NULL if it cannot. */
static char *sign(const rk_identity_realm_t *realm, rk_identity_alg_t alg, const char *typ,
                  json_t *claims)
{
    const char *why = NULL;
    char *payload = json_dumps(claims, JSON_COMPACT);
    json_decref(claims);
    char *jws =
        realm->signing[alg]
            ? rk_identity_jws_sign(realm->signing[alg], rk_identity_alg_name(alg),
                                   realm->signing_kid[alg], typ, payload, strlen(payload), &why)
            : NULL;
    free(payload);
    if (!jws)
        rk_log_error("signing a token failed", "{s:s, s:s, s:s}", "realm", realm->slug, "alg",
                     rk_identity_alg_name(alg), "error", why ? why : "no active key");
    return jws;
}

/* Issues the access token and ID token of a grant (the JSON from SQL) and answers. */
static void issue(exchange_t *x, json_t *grant, int with_refresh)
{
    rk_identity_oauth_call_t *call = x->call;
    const rk_identity_realm_t *realm = rk_identity_realm(call->identity, call->slug);
    if (!realm) {
        rk_identity_oauth_error(call, 400, "invalid_grant", "the realm no longer exists");
        return;
    }
    const char *scope = x->scope ? x->scope : json_string_value(json_object_get(grant, "scope"));
    char subject[44], jti[RK_IDENTITY_B64_LEN(16) + 1], at_hash[23];
    rk_identity_subject(call->identity->pairwise_key, x->pairwise, x->sector,
                        json_string_value(json_object_get(grant, "uid")), subject);
    if (rk_identity_random_text(jti, 16) != RK_OK) {
        rk_identity_oauth_error(call, 500, "server_error", "no randomness");
        return;
    }
    long long now = (long long)time(NULL);
    json_t *sid = json_object_get(grant, "sid");
    json_t *extra =
        json_pack("{s:O, s:O, s:O, s:O}", "gid", json_object_get(grant, "grant_id"), "auth_time",
                  json_object_get(grant, "auth_time"), "acr", json_object_get(grant, "acr"),
                  "home_municipality", json_object_get(grant, "home_municipality"));
    json_t *roles = json_object_get(grant, "staff_roles");
    if (rk_identity_scope_has(scope, "admin") && json_array_size(roles) > 0) {
        /* A staff member's token: the admin API reads these (staff_token.c). */
        json_object_set(extra, "staff_roles", roles);
        json_object_set(extra, "home_tenant", json_object_get(grant, "home_tenant"));
    }
    rk_identity_access_token_t access = {
        .issuer = realm->issuer,
        .client_id = x->client_id,
        .subject = subject,
        .audience = x->audience,
        .scope = scope,
        .jti = jti,
        .issued_at = now,
        .lifetime_s = x->access_token_ttl,
        .extra = extra,
    };
    char *access_jws =
        sign(realm, x->signing_alg, "at+jwt", rk_identity_access_token_claims(&access));
    json_decref(extra);
    if (!access_jws) {
        rk_identity_oauth_error(call, 500, "server_error", "the realm cannot sign tokens now");
        return;
    }
    rk_identity_at_hash(access_jws, at_hash);
    json_t *resident = rk_identity_resident_claims(grant, scope);
    rk_identity_id_token_t id = {
        .issuer = realm->issuer,
        .subject = subject,
        .client_id = x->client_id,
        .nonce = x->refreshing ? NULL : json_string_value(json_object_get(grant, "nonce")),
        .acr = json_string_value(json_object_get(grant, "acr")),
        .amr = json_object_get(grant, "amr"),
        .sid = json_string_value(sid),
        .at_hash = at_hash,
        .issued_at = now,
        .auth_time = json_integer_value(json_object_get(grant, "auth_time")),
        .lifetime_s = ID_TOKEN_TTL,
        .extra = resident,
    };
    char *id_jws = sign(realm, x->signing_alg, "JWT", rk_identity_id_token_claims(&id));
    json_decref(resident);
    if (!id_jws) {
        free(access_jws);
        rk_identity_oauth_error(call, 500, "server_error", "the realm cannot sign tokens now");
        return;
    }
    json_t *body =
        json_pack("{s:s, s:s, s:i, s:s, s:s}", "access_token", access_jws, "token_type", "Bearer",
                  "expires_in", x->access_token_ttl, "id_token", id_jws, "scope", scope);
    if (with_refresh)
        json_object_set_new(body, "refresh_token", json_string(x->refresh_token));
    free(access_jws);
    free(id_jws);
    rk_log_info("tokens issued", "{s:s, s:s, s:s, s:s, s:O, s:b}", "request_id",
                call->req->request_id, "realm", realm->slug, "client_id", x->client_id, "token_id",
                jti, "grant_id", json_object_get(grant, "grant_id"), "refresh", with_refresh);
    rk_identity_oauth_json(call->req, 200, body);
}

/* The SQL function's answer: an error to map, or the grant. */
static json_t *answer_of(exchange_t *x, const rk_store_result_t *res)
{
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        if (res->status == RK_EINVAL)
            rk_log_error("token grant query failed", "{s:s}", "error", res->error);
        rk_identity_oauth_unavailable(x->call);
        return NULL;
    }
    json_t *answer = json_loads(PQgetvalue(res->results[0], 0, 0), 0, NULL);
    if (!answer) {
        rk_identity_oauth_unavailable(x->call);
        return NULL;
    }
    const char *error = json_string_value(json_object_get(answer, "error"));
    if (!error)
        return answer;
    static const struct {
        const char *error;
        const char *description;
    } errors[] = {
        {"invalid", "the code or refresh token is not valid for this client"},
        {"expired", "the code or refresh token has expired or was revoked"},
        {"reused", "this was already used: every token issued from it is now revoked"},
        {"redirect_uri", "redirect_uri: differs from the authorization request's"},
        {"pkce", "code_verifier: does not match the code_challenge (or was not expected)"},
        {"pupil_ended", "the pupil ID ended: it works until the March its holder leaves 中学校"},
    };
    const char *description = errors[0].description;
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        if (strcmp(errors[i].error, error) == 0)
            description = errors[i].description;
    }
    rk_log_warn("token grant refused", "{s:s, s:s, s:s, s:s}", "request_id",
                x->call->req->request_id, "realm", x->call->slug, "client_id", x->client_id,
                "reason", error);
    rk_identity_oauth_error(x->call, 400, "invalid_grant", description);
    json_decref(answer);
    return NULL;
}

static void redeemed(const rk_store_result_t *res, void *arg)
{
    exchange_t *x = arg;
    json_t *grant = answer_of(x, res);
    if (grant) {
        issue(x, grant, json_is_true(json_object_get(grant, "refresh")));
        json_decref(grant);
    }
}

void rk_identity_token_grant_code(rk_identity_oauth_call_t *call, const rk_identity_realm_t *realm,
                                  const rk_identity_client_t *client)
{
    const char *code = rk_identity_form_get(&call->form, "code");
    const char *redirect_uri = rk_identity_form_get(&call->form, "redirect_uri");
    const char *verifier = rk_identity_form_get(&call->form, "code_verifier");
    if (!(client->grant_types & RK_IDENTITY_GRANT_AUTHORIZATION_CODE)) {
        rk_identity_oauth_error(call, 400, "unauthorized_client",
                                "this client may not use the authorization_code grant");
        return;
    }
    if (!code || !redirect_uri) {
        rk_identity_oauth_error(call, 400, "invalid_request",
                                code ? "redirect_uri: is required" : "code: is required");
        return;
    }
    size_t verifier_len = verifier ? strlen(verifier) : 0;
    int verifier_ok = !verifier || (verifier_len >= 43 && verifier_len <= 128);
    for (size_t i = 0; verifier_ok && i < verifier_len; i++) {
        char c = verifier[i];
        verifier_ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    }
    if (!verifier_ok) {
        rk_identity_oauth_error(
            call, 400, "invalid_request",
            "code_verifier: must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~");
        return;
    }
    exchange_t *x = exchange_new(call, client);
    char code_hex[65], challenge[RK_IDENTITY_SHA256_TEXT_LEN + 1], refresh_hex[65];
    rk_identity_sha256_hex(code, strlen(code), code_hex);
    if (verifier)
        rk_identity_sha256_text(verifier, verifier_len, challenge);
    const char *refresh = NULL;
    if (x->refresh_allowed) {
        if (rk_identity_random_text(x->refresh_token, 32) != RK_OK) {
            rk_identity_oauth_error(call, 500, "server_error", "no randomness");
            return;
        }
        rk_identity_sha256_hex(x->refresh_token, strlen(x->refresh_token), refresh_hex);
        refresh = refresh_hex;
    }
    const char *values[] = {
        code_hex, realm->tenant_id, x->client_id, redirect_uri, verifier ? challenge : NULL,
        refresh};
    if (rk_store_exec(rk_app(call->req)->store, STMT_REDEEM, 6, values, redeemed, x) != RK_AGAIN)
        rk_identity_oauth_unavailable(call);
}

static void rotated(const rk_store_result_t *res, void *arg)
{
    exchange_t *x = arg;
    json_t *grant = answer_of(x, res);
    if (!grant)
        return;
    const char *allowed = json_string_value(json_object_get(grant, "scope"));
    const char *granted = NULL, *why = NULL;
    if (x->scope &&
        rk_identity_scope_grant(x->call->req->arena, x->scope, allowed, &granted, &why) != RK_OK) {
        /* The new refresh token is stored; the client keeps it for a narrower request. */
        rk_identity_oauth_error(x->call, 400, "invalid_scope", why);
    } else {
        x->scope = x->scope ? granted : NULL;
        issue(x, grant, 1);
    }
    json_decref(grant);
}

void rk_identity_token_grant_refresh(rk_identity_oauth_call_t *call,
                                     const rk_identity_realm_t *realm,
                                     const rk_identity_client_t *client)
{
    const char *presented = rk_identity_form_get(&call->form, "refresh_token");
    if (!(client->grant_types & RK_IDENTITY_GRANT_REFRESH_TOKEN)) {
        rk_identity_oauth_error(call, 400, "unauthorized_client",
                                "this client may not use the refresh_token grant");
        return;
    }
    if (!presented) {
        rk_identity_oauth_error(call, 400, "invalid_request", "refresh_token: is required");
        return;
    }
    exchange_t *x = exchange_new(call, client);
    x->refreshing = 1;
    x->scope = rk_identity_form_get(&call->form, "scope");
    char old_hex[65], new_hex[65];
    if (rk_identity_random_text(x->refresh_token, 32) != RK_OK) {
        rk_identity_oauth_error(call, 500, "server_error", "no randomness");
        return;
    }
    rk_identity_sha256_hex(presented, strlen(presented), old_hex);
    rk_identity_sha256_hex(x->refresh_token, strlen(x->refresh_token), new_hex);
    const char *values[] = {old_hex, realm->tenant_id, x->client_id, new_hex};
    if (rk_store_exec(rk_app(call->req)->store, STMT_ROTATE_REFRESH, 4, values, rotated, x) !=
        RK_AGAIN)
        rk_identity_oauth_unavailable(call);
}

void rk_identity_token_grant_prepare(rk_store_t *store)
{
    rk_store_prepare(store, STMT_REDEEM,
                     "SELECT rk_identity_code_redeem(decode($1, 'hex'), $2, $3, $4, $5,"
                     " decode($6, 'hex'))::text");
    /* a pupil ID that ended (its valid_until passed) refreshes nothing any more */
    rk_store_prepare(store, STMT_ROTATE_REFRESH,
                     "SELECT CASE WHEN rk_identity_pupil_ended((SELECT g.account_id"
                     "  FROM rk_identity_refresh r JOIN rk_identity_grant g ON g.id = r.grant_id"
                     "  WHERE r.token_sha256 = decode($1, 'hex')))"
                     " THEN json_build_object('error', 'pupil_ended')::text"
                     " ELSE rk_identity_refresh_rotate(decode($1, 'hex'), $2, $3,"
                     " decode($4, 'hex'))::text END");
}
