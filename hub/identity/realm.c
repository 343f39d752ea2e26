/*
 * realm.c — building the realm table from PostgreSQL rows (see realm.h).
 */
#include "identity/realm.h"

#include "core/error.h"
#include "core/mem.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    COL_TENANT,
    COL_SLUG,
    COL_KID,
    COL_ALG,
    COL_STATE,
    COL_PUBLIC,
    COL_SEALED,
    COL_CODE,
    COL_NAME_JA,
    COL_NAME_EN
};

static const char *const state_names[] = {"next", "active", "retired"};

static int parse_state(const char *name, rk_identity_key_state_t *state)
{
    for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
        if (strcmp(name, state_names[i]) == 0) {
            *state = (rk_identity_key_state_t)i;
            return RK_OK;
        }
    }
    return RK_EINVAL;
}

char *rk_identity_realms_fingerprint(const PGresult *rows)
{
    size_t cap = 256, len = 0;
    char *out = rk_xmalloc(cap);
    out[0] = '\0';
    for (int i = 0; i < PQntuples(rows); i++) {
        const char *parts[] = {PQgetvalue(rows, i, COL_TENANT), PQgetvalue(rows, i, COL_SLUG),
                               PQgetvalue(rows, i, COL_KID), PQgetvalue(rows, i, COL_STATE)};
        for (size_t p = 0; p < sizeof(parts) / sizeof(parts[0]); p++) {
            size_t n = strlen(parts[p]);
            while (len + n + 2 > cap) {
                cap *= 2;
                out = rk_xrealloc(out, cap);
            }
            memcpy(out + len, parts[p], n);
            len += n;
            out[len++] = p + 1 < sizeof(parts) / sizeof(parts[0]) ? ':' : ';';
            out[len] = '\0';
        }
    }
    return out;
}

/*
 * The discovery document (OpenID Connect Discovery 1.0 §3): only what this realm really does.
 * ID tokens are signed with the algorithms the realm has active keys for.
 */
static char *render_discovery(const rk_identity_realm_t *realm, int cert_login, size_t *len)
{
    const char *issuer = realm->issuer;
    json_t *algs = json_array();
    for (int a = 0; a < RK_IDENTITY_ALG_COUNT; a++) {
        if (realm->signing[a])
            json_array_append_new(algs, json_string(rk_identity_alg_name((rk_identity_alg_t)a)));
    }
    json_t *doc = json_pack("{s:s, s:s+, s:s+, s:s+, s:s+, s:s+, s:s+}", "issuer", issuer,
                            "authorization_endpoint", issuer, "/authorize", "token_endpoint",
                            issuer, "/token", "userinfo_endpoint", issuer, "/userinfo", "jwks_uri",
                            issuer, "/jwks", "introspection_endpoint", issuer, "/introspect",
                            "revocation_endpoint", issuer, "/revoke");
    json_object_set_new(doc, "response_types_supported", json_pack("[s]", "code"));
    json_object_set_new(doc, "response_modes_supported", json_pack("[s]", "query"));
    json_object_set_new(
        doc, "grant_types_supported",
        json_pack("[s,s,s]", "authorization_code", "refresh_token", "client_credentials"));
    json_object_set_new(doc, "subject_types_supported", json_pack("[s,s]", "pairwise", "public"));
    json_object_set_new(doc, "id_token_signing_alg_values_supported", json_copy(algs));
    json_object_set_new(
        doc, "scopes_supported",
        json_pack("[s,s,s,s,s]", "openid", "profile", "email", "offline_access", "age_band"));
    json_object_set_new(doc, "claims_supported",
                        json_pack("[s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s]", "iss", "sub", "aud", "exp",
                                  "iat", "auth_time", "nonce", "acr", "amr", "sid", "azp", "name",
                                  "preferred_username", "email", "home_municipality", "age_band"));
    json_object_set_new(doc, "code_challenge_methods_supported", json_pack("[s]", "S256"));
    json_object_set_new(doc, "registration_endpoint", json_pack("s+", issuer, "/register"));
    /* private_key_jwt (RFC 7523): assertions signed with a key the client registered. */
    json_t *assertion_algs = json_pack("[s,s,s]", "ES256", "RS256", "PS256");
    json_object_set_new(doc, "token_endpoint_auth_methods_supported",
                        json_pack("[s,s,s,s]", "client_secret_basic", "client_secret_post",
                                  "private_key_jwt", "none"));
    json_object_set_new(doc, "token_endpoint_auth_signing_alg_values_supported",
                        json_copy(assertion_algs));
    json_object_set_new(
        doc, "introspection_endpoint_auth_methods_supported",
        json_pack("[s,s,s]", "client_secret_basic", "client_secret_post", "private_key_jwt"));
    json_object_set_new(doc, "introspection_endpoint_auth_signing_alg_values_supported",
                        json_copy(assertion_algs));
    json_object_set_new(doc, "revocation_endpoint_auth_methods_supported",
                        json_pack("[s,s,s,s]", "client_secret_basic", "client_secret_post",
                                  "private_key_jwt", "none"));
    json_object_set_new(doc, "revocation_endpoint_auth_signing_alg_values_supported",
                        assertion_algs);
    json_object_set_new(
        doc, "acr_values_supported",
        cert_login ? json_pack("[s,s]", "urn:renkei:acr:password", "urn:renkei:acr:certificate")
                   : json_pack("[s]", "urn:renkei:acr:password"));
    json_object_set_new(doc, "ui_locales_supported", json_pack("[s,s]", "ja", "en"));
    json_object_set_new(doc, "claims_parameter_supported", json_true());
    json_object_set_new(doc, "request_parameter_supported", json_false());
    json_object_set_new(doc, "request_uri_parameter_supported", json_false());
    json_object_set_new(doc, "authorization_response_iss_parameter_supported", json_true());
    json_object_set_new(doc, "end_session_endpoint", json_pack("s+", issuer, "/logout"));
    json_object_set_new(doc, "backchannel_logout_supported", json_true());
    json_object_set_new(doc, "backchannel_logout_session_supported", json_true());
    char *text = json_dumps(doc, JSON_COMPACT);
    *len = strlen(text);
    json_decref(doc);
    json_decref(algs);
    return text;
}

/* Adds the key of row i to realm; its public JWK goes into jwks_keys too. */
static int add_key(rk_identity_realm_t *realm, json_t *jwks_keys, const PGresult *rows, int i,
                   const rk_identity_master_key_t *master, char *err, size_t err_len)
{
    const char *kid = PQgetvalue(rows, i, COL_KID);
    const char *public_text = PQgetvalue(rows, i, COL_PUBLIC);
    rk_identity_key_t *key = &realm->keys[realm->n_keys];
    const char *why = NULL;
    json_t *public_json = json_loads(public_text, 0, NULL);
    if (rk_identity_alg_parse(PQgetvalue(rows, i, COL_ALG), &key->alg) != RK_OK ||
        parse_state(PQgetvalue(rows, i, COL_STATE), &key->state) != RK_OK)
        why = "unknown algorithm or state";
    else if (!public_json ||
             !(key->public_key = cjose_jwk_import(public_text, strlen(public_text), NULL)))
        why = "the public JWK cannot be read";
    if (why) {
        json_decref(public_json);
        snprintf(err, err_len, "realm %s: key %s: %s", realm->slug, kid, why);
        return RK_EINVAL;
    }
    key->kid = rk_xstrdup(kid);
    realm->n_keys++;
    json_array_append_new(jwks_keys, public_json);
    if (key->state != RK_IDENTITY_KEY_ACTIVE)
        return RK_OK;
    size_t sealed_len = 0;
    unsigned char *sealed =
        PQunescapeBytea((const unsigned char *)PQgetvalue(rows, i, COL_SEALED), &sealed_len);
    cjose_jwk_t *private_key =
        sealed ? rk_identity_key_open(master, realm->slug, kid, sealed, sealed_len, &why) : NULL;
    PQfreemem(sealed);
    if (!private_key) {
        snprintf(err, err_len, "realm %s: key %s: %s", realm->slug, kid,
                 why ? why : "the sealed key cannot be read");
        return RK_EINVAL;
    }
    cjose_jwk_release(realm->signing[key->alg]);
    realm->signing[key->alg] = private_key;
    realm->signing_kid[key->alg] = key->kid;
    return RK_OK;
}

static void finish_realm(rk_identity_realm_t *realm, json_t *jwks_keys, int cert_login)
{
    json_t *jwks = json_pack("{s:O}", "keys", jwks_keys);
    realm->jwks = json_dumps(jwks, JSON_COMPACT);
    realm->jwks_len = strlen(realm->jwks);
    json_decref(jwks);
    realm->discovery = render_discovery(realm, cert_login, &realm->discovery_len);
}

rk_identity_realms_t *rk_identity_realms_build(const PGresult *rows, const char *public_url,
                                               int cert_login,
                                               const rk_identity_master_key_t *master, char *err,
                                               size_t err_len)
{
    int n_rows = PQntuples(rows);
    rk_identity_realms_t *realms = rk_xcalloc(1, sizeof(*realms));
    realms->realms = rk_xcalloc((size_t)n_rows, sizeof(rk_identity_realm_t));
    realms->fingerprint = rk_identity_realms_fingerprint(rows);
    rk_identity_realm_t *realm = NULL;
    json_t *jwks_keys = NULL;
    for (int i = 0; i < n_rows; i++) {
        const char *tenant_id = PQgetvalue(rows, i, COL_TENANT);
        if (!realm || strcmp(realm->tenant_id, tenant_id) != 0) {
            if (realm)
                finish_realm(realm, jwks_keys, cert_login);
            json_decref(jwks_keys);
            jwks_keys = json_array();
            realm = &realms->realms[realms->n++];
            realm->tenant_id = rk_xstrdup(tenant_id);
            realm->slug = rk_xstrdup(PQgetvalue(rows, i, COL_SLUG));
            realm->code = rk_xstrdup(PQgetvalue(rows, i, COL_CODE));
            realm->name_ja = rk_xstrdup(PQgetvalue(rows, i, COL_NAME_JA));
            realm->name_en = rk_xstrdup(PQgetvalue(rows, i, COL_NAME_EN));
            size_t len = strlen(public_url) + strlen(realm->slug) + 4;
            realm->issuer = rk_xmalloc(len);
            snprintf(realm->issuer, len, "%s/t/%s", public_url, realm->slug);
            int end = i + 1;
            while (end < n_rows && strcmp(PQgetvalue(rows, end, COL_TENANT), tenant_id) == 0)
                end++;
            realm->keys = rk_xcalloc((size_t)(end - i), sizeof(rk_identity_key_t));
        }
        if (!PQgetisnull(rows, i, COL_KID) &&
            add_key(realm, jwks_keys, rows, i, master, err, err_len) != RK_OK) {
            json_decref(jwks_keys);
            rk_identity_realms_free(realms);
            return NULL;
        }
    }
    if (realm)
        finish_realm(realm, jwks_keys, cert_login);
    json_decref(jwks_keys);
    return realms;
}

static int compare_slug(const void *key, const void *member)
{
    return strcmp(key, ((const rk_identity_realm_t *)member)->slug);
}

const rk_identity_realm_t *rk_identity_realm_find(const rk_identity_realms_t *realms,
                                                  const char *slug)
{
    if (!realms || !realms->n)
        return NULL;
    return bsearch(slug, realms->realms, realms->n, sizeof(rk_identity_realm_t), compare_slug);
}

const cjose_jwk_t *rk_identity_realm_key_lookup(const void *ctx, const char *kid, const char **alg)
{
    const rk_identity_realm_t *realm = ctx;
    for (size_t i = 0; i < realm->n_keys; i++) {
        if (strcmp(realm->keys[i].kid, kid) == 0) {
            *alg = rk_identity_alg_name(realm->keys[i].alg);
            return realm->keys[i].public_key;
        }
    }
    return NULL;
}

void rk_identity_realms_free(rk_identity_realms_t *realms)
{
    if (!realms)
        return;
    for (size_t r = 0; r < realms->n; r++) {
        rk_identity_realm_t *realm = &realms->realms[r];
        for (size_t k = 0; k < realm->n_keys; k++) {
            free(realm->keys[k].kid);
            cjose_jwk_release(realm->keys[k].public_key);
        }
        for (int a = 0; a < RK_IDENTITY_ALG_COUNT; a++)
            cjose_jwk_release(realm->signing[a]);
        free(realm->keys);
        free(realm->tenant_id);
        free(realm->slug);
        free(realm->code);
        free(realm->name_ja);
        free(realm->name_en);
        free(realm->issuer);
        free(realm->discovery);
        free(realm->jwks);
    }
    free(realms->realms);
    free(realms->fingerprint);
    free(realms);
}
