/*
 * client.c — client settings, the client cache and secret checks (see client.h).
 */
#include "identity/client.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "identity/token.h"

#include <cjose/base64.h>
#include <cjose/util.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_LOOKUP "identity_client_lookup"
#define N_BUCKETS 4096

static const char sql_lookup[] =
    "SELECT encode(secret_sha256, 'hex'), array_to_string(scopes, ' '), audience,"
    " access_token_ttl, signing_alg, 'client_credentials' = ANY (grant_types)"
    " FROM rk_identity_client WHERE tenant_id = $1 AND client_id = $2";

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

/* Characters (code points) of valid UTF-8, or -1 if it holds a control character. */
static long text_chars(const char *s)
{
    long n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return -1;
        n += (*p & 0xc0) != 0x80;
    }
    return n;
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

static int parse_grant_types(json_t *grants, char *why, size_t why_len)
{
    if (!grants)
        return RK_OK;
    if (!json_is_array(grants) || json_array_size(grants) != 1 ||
        !json_is_string(json_array_get(grants, 0)) ||
        strcmp(json_string_value(json_array_get(grants, 0)), "client_credentials") != 0)
        return refuse(why, why_len, "grant_types",
                      "must be [\"client_credentials\"]: the only grant this hub issues so far");
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
    static const char *const known[] = {"name",     "scopes",     "grant_types", "access_token_ttl",
                                        "audience", "signing_alg"};
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
    long chars = spec->name ? text_chars(spec->name) : 0;
    if (chars < 1 || chars > 200)
        return refuse(why, why_len, "name",
                      "is required: 1 to 200 characters without control characters");
    spec->scopes = json_object_get(body, "scopes");
    int rc = parse_scopes(spec->scopes, why, why_len);
    if (rc == RK_OK)
        rc = parse_grant_types(json_object_get(body, "grant_types"), why, why_len);
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

static int random_text(char *out, size_t random_bytes, size_t text_len)
{
    unsigned char raw[32];
    char *encoded = NULL;
    size_t len = 0;
    int ok = RAND_bytes(raw, (int)random_bytes) == 1 &&
             cjose_base64url_encode(raw, random_bytes, &encoded, &len, NULL) && len == text_len;
    if (ok) {
        memcpy(out, encoded, text_len);
        out[text_len] = '\0';
    }
    OPENSSL_cleanse(raw, sizeof(raw));
    if (encoded) {
        OPENSSL_cleanse(encoded, len);
        cjose_get_dealloc()(encoded);
    }
    return ok ? RK_OK : RK_EIO;
}

int rk_identity_client_credentials_new(char id[RK_IDENTITY_CLIENT_ID_LEN + 1],
                                       char secret[RK_IDENTITY_CLIENT_SECRET_LEN + 1])
{
    if (random_text(id, 16, RK_IDENTITY_CLIENT_ID_LEN) != RK_OK)
        return RK_EIO;
    return random_text(secret, 32, RK_IDENTITY_CLIENT_SECRET_LEN);
}

int rk_identity_client_secret_ok(const rk_identity_client_t *client, const char *secret)
{
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
    free(c->scopes);
    free(c->audience);
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
    size_t n = 0;
    if (OPENSSL_hexstr2buf_ex(c->secret_sha256, sizeof(c->secret_sha256), &n, PQgetvalue(r, 0, 0),
                              '\0') != 1 ||
        n != sizeof(c->secret_sha256) ||
        rk_identity_alg_parse(PQgetvalue(r, 0, 4), &c->signing_alg) != RK_OK) {
        free(c);
        return NULL;
    }
    c->tenant_id = rk_xstrdup(l->tenant_id);
    c->client_id = rk_xstrdup(l->client_id);
    c->scopes = rk_xstrdup(PQgetvalue(r, 0, 1));
    c->audience = rk_xstrdup(PQgetvalue(r, 0, 2));
    c->access_token_ttl = atoi(PQgetvalue(r, 0, 3));
    c->grant_types =
        strcmp(PQgetvalue(r, 0, 5), "t") == 0 ? RK_IDENTITY_GRANT_CLIENT_CREDENTIALS : 0;
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
