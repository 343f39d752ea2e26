/*
 * client.c — client settings, the client cache and secret checks (see client.h).
 */
#include "identity/client.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "identity/form.h"
#include "identity/secret_text.h"
#include "identity/token.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_LOOKUP "identity_client_lookup"
#define N_BUCKETS 4096

static const char sql_lookup[] =
    "SELECT encode(secret_sha256, 'hex'), array_to_string(scopes, ' '), audience,"
    " access_token_ttl, signing_alg, array_to_string(grant_types, ' '), name, auth_method,"
    " refresh_token_ttl, array_to_json(redirect_uris)::text,"
    " array_to_json(post_logout_redirect_uris)::text, subject_type,"
    " coalesce(sector_identifier, 'tenant:' || tenant_id), first_party, service, jwks::text"
    " FROM rk_identity_client WHERE tenant_id = $1 AND client_id = $2";

enum {
    COL_SECRET,
    COL_SCOPES,
    COL_AUDIENCE,
    COL_ACCESS_TTL,
    COL_ALG,
    COL_GRANTS,
    COL_NAME,
    COL_AUTH_METHOD,
    COL_REFRESH_TTL,
    COL_REDIRECT_URIS,
    COL_LOGOUT_URIS,
    COL_SUBJECT_TYPE,
    COL_SECTOR,
    COL_FIRST_PARTY,
    COL_SERVICE,
    COL_JWKS
};

static const char *const auth_method_names[] = {"client_secret_basic", "client_secret_post",
                                                "private_key_jwt", "none"};
static const char *const grant_names[] = {"client_credentials", "authorization_code",
                                          "refresh_token"};

const char *rk_identity_auth_method_name(rk_identity_auth_method_t method)
{
    return auth_method_names[method];
}

/* The bits of the space-separated grant names. */
static unsigned grant_bits(const char *list)
{
    unsigned bits = 0;
    for (size_t g = 0; g < 3; g++) {
        size_t n = strlen(grant_names[g]);
        for (const char *p = list; *p;) {
            size_t len = strcspn(p, " ");
            if (len == n && memcmp(p, grant_names[g], n) == 0)
                bits |= 1u << g;
            p += len;
            p += strspn(p, " ");
        }
    }
    return bits;
}

struct rk_identity_clients {
    rk_store_t *store;
    uint64_t ttl_ns;
    size_t n;
    rk_identity_client_t *buckets[N_BUCKETS];
};

typedef struct lookup {
    rk_identity_clients_t *clients;
    char *tenant_id;
    char *client_id;
    rk_identity_client_cb cb;
    void *arg;
} lookup_t;

/* --- settings of a new client ------------------------------------------------------------- */

static int refuse(char *why, size_t why_len, const char *field, const char *rule)
{
    snprintf(why, why_len, "%s: %s", field, rule);
    return RK_EINVAL;
}

static int parse_scopes(json_t *scopes, char *why, size_t why_len)
{
    if (!json_is_array(scopes))
        return refuse(why, why_len, "scopes", "is required: an array of scope strings");
    if (json_array_size(scopes) > RK_IDENTITY_SCOPE_MAX_TOKENS)
        return refuse(why, why_len, "scopes", "at most 32 scopes");
    size_t total = 0, i, j;
    json_t *scope, *other;
    json_array_foreach(scopes, i, scope)
    {
        const char *s = json_string_value(scope);
        if (!s || !rk_identity_scope_token_valid(s, json_string_length(scope))) {
            snprintf(why, why_len,
                     "scopes[%zu]: must be a scope token: printable ASCII without space, '\"' and "
                     "'\\', at most 128 bytes",
                     i);
            return RK_EINVAL;
        }
        json_array_foreach(scopes, j, other)
        {
            if (j < i && json_equal(scope, other)) {
                snprintf(why, why_len, "scopes[%zu]: '%s' is listed twice", i, s);
                return RK_EINVAL;
            }
        }
        total += json_string_length(scope) + 1;
    }
    if (total > RK_IDENTITY_SCOPE_MAX_BYTES)
        return refuse(why, why_len, "scopes", "must be at most 1024 bytes together");
    return RK_OK;
}

static int parse_grant_types(json_t *grants, rk_identity_client_spec_t *spec, char *why,
                             size_t why_len)
{
    spec->grants = RK_IDENTITY_GRANT_CLIENT_CREDENTIALS;
    if (!grants)
        return RK_OK;
    const char *rule = "must be a non-empty array of distinct grants: authorization_code, "
                       "refresh_token, client_credentials";
    if (!json_is_array(grants) || json_array_size(grants) == 0)
        return refuse(why, why_len, "grant_types", rule);
    spec->grants = 0;
    size_t i;
    json_t *grant;
    json_array_foreach(grants, i, grant)
    {
        const char *name = json_string_value(grant);
        size_t g = 0;
        while (name && g < 3 && strcmp(name, grant_names[g]) != 0)
            g++;
        if (!name || g == 3 || (spec->grants & (1u << g)))
            return refuse(why, why_len, "grant_types", rule);
        spec->grants |= 1u << g;
    }
    if ((spec->grants & RK_IDENTITY_GRANT_REFRESH_TOKEN) &&
        !(spec->grants & RK_IDENTITY_GRANT_AUTHORIZATION_CODE))
        return refuse(why, why_len, "grant_types",
                      "refresh_token needs authorization_code: refresh tokens come from it");
    spec->grant_types = grants;
    return RK_OK;
}

/* 1 if host (up to the port or path) is a loopback name, where plain http is acceptable. */
static int loopback_host(const char *host)
{
    static const char *const names[] = {"127.0.0.1", "localhost", "[::1]"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(host, names[i], n) == 0 && (host[n] == ':' || host[n] == '/' || !host[n]))
            return 1;
    }
    return 0;
}

/* A redirect or logout URI: absolute https (http only on loopback), no fragment, bounded. */
static int uri_ok(const char *uri)
{
    size_t len = uri ? strlen(uri) : 0;
    if (len == 0 || len > RK_IDENTITY_URI_MAX || strchr(uri, '#'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)uri[i] <= 0x20 || (unsigned char)uri[i] >= 0x7f)
            return 0;
    }
    if (strncmp(uri, "https://", 8) == 0)
        return len > 8 && uri[8] != '/';
    return strncmp(uri, "http://", 7) == 0 && loopback_host(uri + 7);
}

static int parse_uris(json_t *uris, const char *field, json_t **out, char *why, size_t why_len)
{
    *out = uris;
    if (!uris)
        return RK_OK;
    if (!json_is_array(uris) || json_array_size(uris) > RK_IDENTITY_REDIRECT_URIS_MAX)
        return refuse(why, why_len, field, "must be an array of at most 10 URIs");
    size_t i;
    json_t *uri;
    json_array_foreach(uris, i, uri)
    {
        if (!uri_ok(json_string_value(uri))) {
            snprintf(why, why_len,
                     "%s[%zu]: must be an absolute https URI (http only on 127.0.0.1, localhost "
                     "or [::1]) of at most 512 bytes, without a fragment",
                     field, i);
            return RK_EINVAL;
        }
    }
    return RK_OK;
}

static int parse_choice(json_t *value, const char *field, const char *const *choices, size_t n,
                        size_t *chosen, char *why, size_t why_len)
{
    const char *s = json_string_value(value);
    for (size_t i = 0; s && i < n; i++) {
        if (strcmp(s, choices[i]) == 0) {
            *chosen = i;
            return RK_OK;
        }
    }
    char rule[160] = "must be one of:";
    for (size_t i = 0; i < n; i++)
        snprintf(rule + strlen(rule), sizeof(rule) - strlen(rule), " %s", choices[i]);
    return refuse(why, why_len, field, rule);
}

/* The code flow's fields; after the grants are known. */
static int parse_code_flow(json_t *body, rk_identity_client_spec_t *spec, char *why, size_t why_len)
{
    json_t *method = json_object_get(body, "token_endpoint_auth_method");
    size_t chosen = RK_IDENTITY_AUTH_SECRET_BASIC;
    static const char *const methods[] = {"client_secret_basic", "client_secret_post", "none"};
    if (method && parse_choice(method, "token_endpoint_auth_method", methods, 3, &chosen, why,
                               why_len) != RK_OK)
        return RK_EINVAL;
    spec->auth_method = chosen == 2 ? RK_IDENTITY_AUTH_NONE : (rk_identity_auth_method_t)chosen;
    if (spec->auth_method == RK_IDENTITY_AUTH_NONE &&
        (spec->grants & RK_IDENTITY_GRANT_CLIENT_CREDENTIALS))
        return refuse(why, why_len, "token_endpoint_auth_method",
                      "none (a public client) cannot use client_credentials");
    if (parse_uris(json_object_get(body, "redirect_uris"), "redirect_uris", &spec->redirect_uris,
                   why, why_len) != RK_OK ||
        parse_uris(json_object_get(body, "post_logout_redirect_uris"), "post_logout_redirect_uris",
                   &spec->post_logout_redirect_uris, why, why_len) != RK_OK)
        return RK_EINVAL;
    if ((spec->grants & RK_IDENTITY_GRANT_AUTHORIZATION_CODE) &&
        json_array_size(spec->redirect_uris) == 0)
        return refuse(why, why_len, "redirect_uris", "is required with authorization_code");
    static const char *const subject_types[] = {"pairwise", "public"};
    json_t *subject_type = json_object_get(body, "subject_type");
    spec->subject_type = "pairwise";
    if (subject_type) {
        if (parse_choice(subject_type, "subject_type", subject_types, 2, &chosen, why, why_len))
            return RK_EINVAL;
        spec->subject_type = subject_types[chosen];
    }
    json_t *sector = json_object_get(body, "sector_identifier");
    if (sector) {
        spec->sector_identifier = json_string_value(sector);
        long chars = spec->sector_identifier ? rk_identity_text_chars(spec->sector_identifier) : -1;
        if (chars < 1 || strlen(spec->sector_identifier) > 255)
            return refuse(why, why_len, "sector_identifier",
                          "must be a string of 1 to 255 bytes (usually the sector's host name)");
    }
    json_t *first_party = json_object_get(body, "first_party");
    if (first_party && !json_is_boolean(first_party))
        return refuse(why, why_len, "first_party", "must be true or false");
    spec->first_party = json_is_true(first_party);
    json_t *service = json_object_get(body, "service");
    if (service) {
        spec->service = json_string_value(service);
        int ok = spec->service && *spec->service && strlen(spec->service) <= 64;
        for (const char *p = spec->service; ok && *p; p++)
            ok = (*p >= 'a' && *p <= 'z') ||
                 (*p == '.' && p != spec->service && p[1] && p[1] != '.');
        if (!ok)
            return refuse(why, why_len, "service",
                          "must be a service name as agreements write it, e.g. facility.booking");
    }
    json_t *backchannel = json_object_get(body, "backchannel_logout_uri");
    if (backchannel) {
        spec->backchannel_logout_uri = json_string_value(backchannel);
        if (!uri_ok(spec->backchannel_logout_uri))
            return refuse(why, why_len, "backchannel_logout_uri",
                          "must be an absolute https URI (http only on a loopback host)");
    }
    json_t *ttl = json_object_get(body, "refresh_token_ttl");
    spec->refresh_token_ttl = RK_IDENTITY_REFRESH_TTL_DEFAULT;
    if (ttl) {
        if (!json_is_integer(ttl) || json_integer_value(ttl) < 3600 ||
            json_integer_value(ttl) > 31536000)
            return refuse(why, why_len, "refresh_token_ttl",
                          "must be an integer number of seconds between 3600 and 31536000");
        spec->refresh_token_ttl = (int)json_integer_value(ttl);
    }
    return RK_OK;
}

static int parse_audience(json_t *audience, rk_identity_client_spec_t *spec, char *why,
                          size_t why_len)
{
    if (!audience)
        return RK_OK;
    const char *s = json_string_value(audience);
    size_t len = s ? strlen(s) : 0;
    int ok = len >= 1 && len <= 512;
    for (size_t i = 0; ok && i < len; i++)
        ok = s[i] > 0x20 && s[i] < 0x7f;
    if (!ok)
        return refuse(why, why_len, "audience",
                      "must be a string of 1 to 512 printable ASCII characters without spaces "
                      "(the resource server's identifier, usually its URL)");
    spec->audience = s;
    return RK_OK;
}

static int alg_listed(const rk_identity_alg_t *algs, size_t n_algs, rk_identity_alg_t alg)
{
    for (size_t i = 0; i < n_algs; i++) {
        if (algs[i] == alg)
            return 1;
    }
    return 0;
}

int rk_identity_client_spec_parse(json_t *body, const rk_identity_alg_t *algs, size_t n_algs,
                                  rk_identity_client_spec_t *spec, char *why, size_t why_len)
{
    static const char *const known[] = {"name",
                                        "scopes",
                                        "grant_types",
                                        "access_token_ttl",
                                        "audience",
                                        "signing_alg",
                                        "token_endpoint_auth_method",
                                        "redirect_uris",
                                        "post_logout_redirect_uris",
                                        "subject_type",
                                        "sector_identifier",
                                        "first_party",
                                        "service",
                                        "refresh_token_ttl",
                                        "backchannel_logout_uri"};
    memset(spec, 0, sizeof(*spec));
    if (!json_is_object(body)) {
        snprintf(why, why_len, "the body must be a JSON object");
        return RK_EINVAL;
    }
    const char *field;
    json_t *value;
    json_object_foreach(body, field, value)
    {
        size_t k = 0;
        while (k < sizeof(known) / sizeof(known[0]) && strcmp(known[k], field) != 0)
            k++;
        if (k == sizeof(known) / sizeof(known[0]))
            return refuse(why, why_len, field, "unknown field");
    }
    spec->name = json_string_value(json_object_get(body, "name"));
    long chars = spec->name ? rk_identity_text_chars(spec->name) : 0;
    if (chars < 1 || chars > 200)
        return refuse(why, why_len, "name",
                      "is required: 1 to 200 characters without control characters");
    int rc = parse_grant_types(json_object_get(body, "grant_types"), spec, why, why_len);
    spec->scopes = json_object_get(body, "scopes");
    if (rc == RK_OK && !spec->scopes && (spec->grants & RK_IDENTITY_GRANT_AUTHORIZATION_CODE))
        spec->scopes = json_pack("[s,s,s,s]", "openid", "profile", "email", "offline_access");
    else
        json_incref(spec->scopes);
    if (rc == RK_OK)
        rc = parse_scopes(spec->scopes, why, why_len);
    if (rc == RK_OK)
        rc = parse_code_flow(body, spec, why, why_len);
    if (rc == RK_OK)
        rc = parse_audience(json_object_get(body, "audience"), spec, why, why_len);
    if (rc != RK_OK)
        return rc;
    json_t *ttl = json_object_get(body, "access_token_ttl");
    spec->access_token_ttl = RK_IDENTITY_TOKEN_TTL_DEFAULT;
    if (ttl) {
        if (!json_is_integer(ttl) || json_integer_value(ttl) < RK_IDENTITY_TOKEN_TTL_MIN ||
            json_integer_value(ttl) > RK_IDENTITY_TOKEN_TTL_MAX)
            return refuse(why, why_len, "access_token_ttl",
                          "must be an integer number of seconds between 60 and 86400");
        spec->access_token_ttl = (int)json_integer_value(ttl);
    }
    json_t *alg = json_object_get(body, "signing_alg");
    spec->signing_alg = algs[0];
    if (alg) {
        rk_identity_alg_t parsed = algs[0];
        if (rk_identity_alg_parse(json_string_value(alg), &parsed) != RK_OK ||
            !alg_listed(algs, n_algs, parsed)) {
            char rule[128] = "must be one of the realm's algorithms (identity.signing_algs):";
            for (size_t i = 0; i < n_algs; i++)
                snprintf(rule + strlen(rule), sizeof(rule) - strlen(rule), " %s",
                         rk_identity_alg_name(algs[i]));
            return refuse(why, why_len, "signing_alg", rule);
        }
        spec->signing_alg = parsed;
    }
    return RK_OK;
}

/* --- credentials ---------------------------------------------------------------------------- */

int rk_identity_client_credentials_new(char id[RK_IDENTITY_CLIENT_ID_LEN + 1],
                                       char secret[RK_IDENTITY_CLIENT_SECRET_LEN + 1])
{
    if (rk_identity_random_text(id, 16) != RK_OK)
        return RK_EIO;
    return rk_identity_random_text(secret, 32);
}

int rk_identity_client_redirect_ok(const rk_identity_client_t *client, const char *uri)
{
    size_t i;
    json_t *registered;
    json_array_foreach(client->redirect_uris, i, registered)
    {
        if (strcmp(json_string_value(registered), uri) == 0)
            return 1;
    }
    return 0;
}

int rk_identity_client_secret_ok(const rk_identity_client_t *client, const char *secret)
{
    if (client->auth_method != RK_IDENTITY_AUTH_SECRET_BASIC &&
        client->auth_method != RK_IDENTITY_AUTH_SECRET_POST)
        return 0;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)secret, strlen(secret), digest);
    int ok = CRYPTO_memcmp(digest, client->secret_sha256, sizeof(digest)) == 0;
    OPENSSL_cleanse(digest, sizeof(digest));
    return ok;
}

/* --- the cache ------------------------------------------------------------------------------- */

static size_t bucket_of(const char *tenant_id, const char *client_id)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = tenant_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ '/') * 16777619u;
    for (const char *p = client_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % N_BUCKETS;
}

static rk_identity_client_t **find_slot(rk_identity_clients_t *clients, const char *tenant_id,
                                        const char *client_id)
{
    rk_identity_client_t **slot = &clients->buckets[bucket_of(tenant_id, client_id)];
    while (*slot && (strcmp((*slot)->client_id, client_id) != 0 ||
                     strcmp((*slot)->tenant_id, tenant_id) != 0))
        slot = &(*slot)->next;
    return slot;
}

static void entry_free(rk_identity_client_t *c)
{
    OPENSSL_cleanse(c->secret_sha256, sizeof(c->secret_sha256));
    free(c->tenant_id);
    free(c->client_id);
    free(c->name);
    free(c->scopes);
    free(c->audience);
    free(c->sector);
    free(c->service);
    json_decref(c->redirect_uris);
    json_decref(c->post_logout_redirect_uris);
    json_decref(c->jwks);
    free(c);
}

/* Makes room for one more entry: drops expired ones, and everything if none had expired. */
static void make_room(rk_identity_clients_t *clients)
{
    uint64_t now = rk_now_ns();
    for (int pass = 0; pass < 2 && clients->n >= RK_IDENTITY_CLIENT_CACHE_MAX; pass++) {
        for (size_t b = 0; b < N_BUCKETS; b++) {
            rk_identity_client_t **slot = &clients->buckets[b];
            while (*slot) {
                rk_identity_client_t *c = *slot;
                if (pass == 1 || now - c->loaded_ns >= clients->ttl_ns) {
                    *slot = c->next;
                    entry_free(c);
                    clients->n--;
                } else {
                    slot = &c->next;
                }
            }
        }
    }
}

/* Stores the row as the cached client, replacing a stale entry; NULL if the row is bad. */
static rk_identity_client_t *store_row(rk_identity_clients_t *clients, const lookup_t *l,
                                       const PGresult *r)
{
    rk_identity_client_t *c = rk_xcalloc(1, sizeof(*c));
    size_t n = 0, method = 0;
    const char *auth_method = PQgetvalue(r, 0, COL_AUTH_METHOD);
    while (method < 4 && strcmp(auth_method_names[method], auth_method) != 0)
        method++;
    int has_secret = !PQgetisnull(r, 0, COL_SECRET);
    if ((has_secret && (OPENSSL_hexstr2buf_ex(c->secret_sha256, sizeof(c->secret_sha256), &n,
                                              PQgetvalue(r, 0, COL_SECRET), '\0') != 1 ||
                        n != sizeof(c->secret_sha256))) ||
        method == 4 || rk_identity_alg_parse(PQgetvalue(r, 0, COL_ALG), &c->signing_alg) != RK_OK ||
        !(c->redirect_uris = json_loads(PQgetvalue(r, 0, COL_REDIRECT_URIS), 0, NULL)) ||
        !(c->post_logout_redirect_uris = json_loads(PQgetvalue(r, 0, COL_LOGOUT_URIS), 0, NULL)) ||
        (!PQgetisnull(r, 0, COL_JWKS) &&
         !(c->jwks = json_loads(PQgetvalue(r, 0, COL_JWKS), 0, NULL)))) {
        json_decref(c->redirect_uris);
        json_decref(c->post_logout_redirect_uris);
        free(c);
        return NULL;
    }
    c->auth_method = (rk_identity_auth_method_t)method;
    c->tenant_id = rk_xstrdup(l->tenant_id);
    c->client_id = rk_xstrdup(l->client_id);
    c->name = rk_xstrdup(PQgetvalue(r, 0, COL_NAME));
    c->scopes = rk_xstrdup(PQgetvalue(r, 0, COL_SCOPES));
    c->audience = rk_xstrdup(PQgetvalue(r, 0, COL_AUDIENCE));
    c->access_token_ttl = atoi(PQgetvalue(r, 0, COL_ACCESS_TTL));
    c->refresh_token_ttl = atoi(PQgetvalue(r, 0, COL_REFRESH_TTL));
    c->grant_types = grant_bits(PQgetvalue(r, 0, COL_GRANTS));
    c->pairwise = strcmp(PQgetvalue(r, 0, COL_SUBJECT_TYPE), "pairwise") == 0;
    c->sector = rk_xstrdup(PQgetvalue(r, 0, COL_SECTOR));
    c->first_party = strcmp(PQgetvalue(r, 0, COL_FIRST_PARTY), "t") == 0;
    c->service = PQgetisnull(r, 0, COL_SERVICE) ? NULL : rk_xstrdup(PQgetvalue(r, 0, COL_SERVICE));
    c->loaded_ns = rk_now_ns();
    rk_identity_client_t **slot = find_slot(clients, l->tenant_id, l->client_id);
    if (*slot) {
        rk_identity_client_t *stale = *slot;
        c->next = stale->next;
        entry_free(stale);
        *slot = c;
        return c;
    }
    make_room(clients);
    slot = find_slot(clients, l->tenant_id, l->client_id);
    c->next = *slot;
    *slot = c;
    clients->n++;
    return c;
}

static void forget(rk_identity_clients_t *clients, const char *tenant_id, const char *client_id)
{
    rk_identity_client_t **slot = find_slot(clients, tenant_id, client_id);
    if (*slot) {
        rk_identity_client_t *c = *slot;
        *slot = c->next;
        entry_free(c);
        clients->n--;
    }
}

static void lookup_result(const rk_store_result_t *res, void *arg)
{
    lookup_t *l = arg;
    rk_identity_client_t *client = NULL;
    int status = RK_EUNAVAILABLE;
    if (res->status == RK_OK && res->n_results == 1) {
        if (PQntuples(res->results[0]) == 0) {
            forget(l->clients, l->tenant_id, l->client_id);
            status = RK_ENOTFOUND;
        } else if ((client = store_row(l->clients, l, res->results[0]))) {
            status = RK_OK;
        } else {
            rk_log_error("client row unreadable", "{s:s}", "client_id", l->client_id);
        }
    } else if (res->status == RK_EINVAL) {
        rk_log_error("client lookup failed", "{s:s}", "error", res->error);
    }
    l->cb(status, client, l->arg);
    free(l->tenant_id);
    free(l->client_id);
    free(l);
}

rk_identity_clients_t *rk_identity_clients_new(rk_store_t *store, int ttl_ms)
{
    rk_identity_clients_t *clients = rk_xcalloc(1, sizeof(*clients));
    clients->store = store;
    clients->ttl_ns = (uint64_t)ttl_ms * 1000000u;
    rk_store_prepare(store, STMT_LOOKUP, sql_lookup);
    return clients;
}

void rk_identity_clients_free(rk_identity_clients_t *clients)
{
    if (!clients)
        return;
    for (size_t b = 0; b < N_BUCKETS; b++) {
        while (clients->buckets[b]) {
            rk_identity_client_t *c = clients->buckets[b];
            clients->buckets[b] = c->next;
            entry_free(c);
        }
    }
    free(clients);
}

int rk_identity_client_lookup(rk_identity_clients_t *clients, const char *tenant_id,
                              const char *client_id, const rk_identity_client_t **found,
                              rk_identity_client_cb cb, void *arg)
{
    rk_identity_client_t *cached = *find_slot(clients, tenant_id, client_id);
    if (cached && rk_now_ns() - cached->loaded_ns < clients->ttl_ns) {
        *found = cached;
        return RK_OK;
    }
    lookup_t *l = rk_xcalloc(1, sizeof(*l));
    l->clients = clients;
    l->tenant_id = rk_xstrdup(tenant_id);
    l->client_id = rk_xstrdup(client_id);
    l->cb = cb;
    l->arg = arg;
    const char *values[] = {tenant_id, client_id};
    if (rk_store_exec(clients->store, STMT_LOOKUP, 2, values, lookup_result, l) == RK_AGAIN)
        return RK_AGAIN;
    free(l->tenant_id);
    free(l->client_id);
    free(l);
    return RK_EUNAVAILABLE;
}
