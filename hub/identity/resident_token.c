/*
 * resident_token.c — residents' access tokens as RPC credentials (see resident_token.h).
 */
#include "identity/resident_token.h"

#include "core/error.h"
#include "identity/identity.h"
#include "identity/secret_text.h"
#include "identity/token.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

json_t *rk_identity_token_peek(const char *token)
{
    const char *first = strchr(token, '.');
    const char *second = first ? strchr(first + 1, '.') : NULL;
    if (!second || strlen(token) > RK_IDENTITY_TOKEN_MAX_BYTES)
        return NULL;
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    rk_arena_t *arena = rk_arena_new();
    json_t *claims = rk_identity_b64_decode(arena, first + 1, (size_t)(second - first - 1), 1, &raw,
                                            &raw_len) == RK_OK
                         ? json_loadb((const char *)raw, raw_len, 0, NULL)
                         : NULL;
    rk_arena_free(arena);
    if (claims && !json_is_object(claims)) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}

/* The iss claim of an unverified compact JWS, copied into out; 0 if there is none. */
static int peek_issuer(const char *token, char *out, size_t out_len)
{
    json_t *claims = rk_identity_token_peek(token);
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    int ok = iss && strlen(iss) < out_len;
    if (ok)
        snprintf(out, out_len, "%s", iss);
    json_decref(claims);
    return ok;
}

/* Copies the string claim name into out; 0 when it is missing, empty or too long. */
static int claim(json_t *claims, const char *name, char *out, size_t out_len)
{
    const char *value = json_string_value(json_object_get(claims, name));
    if (!value || !*value || strlen(value) >= out_len)
        return 0;
    snprintf(out, out_len, "%s", value);
    return 1;
}

json_t *rk_identity_hub_access_token(const rk_app_t *app, const char *token,
                                     const rk_identity_realm_t **realm_out)
{
    char issuer[512];
    size_t prefix = strlen(app->public_url);
    if (!token || !app->identity || !peek_issuer(token, issuer, sizeof(issuer)) ||
        strncmp(issuer, app->public_url, prefix) != 0 || strncmp(issuer + prefix, "/t/", 3) != 0)
        return NULL;
    const rk_identity_realm_t *realm = rk_identity_realm(app->identity, issuer + prefix + 3);
    if (!realm)
        return NULL;
    const char *why = NULL;
    json_t *claims = rk_identity_access_token_verify(token, realm->issuer, (long long)time(NULL),
                                                     rk_identity_realm_key_lookup, realm, &why);
    const char *aud = json_string_value(json_object_get(claims, "aud"));
    if (!aud || strcmp(aud, app->public_url) != 0) {
        json_decref(claims);
        return NULL;
    }
    *realm_out = realm;
    return claims;
}

int rk_identity_resident_verify(const rk_app_t *app, const char *token, rk_identity_resident_t *out)
{
    const rk_identity_realm_t *realm = NULL;
    json_t *claims = rk_identity_hub_access_token(app, token, &realm);
    memset(out, 0, sizeof(*out));
    int ok = claims && claim(claims, "sub", out->subject, sizeof(out->subject)) &&
             claim(claims, "gid", out->grant_id, sizeof(out->grant_id));
    if (ok) {
        claim(claims, "home_municipality", out->home_municipality, sizeof(out->home_municipality));
        snprintf(out->tenant_id, sizeof(out->tenant_id), "%s", realm->tenant_id);
        snprintf(out->realm, sizeof(out->realm), "%s", realm->slug);
    }
    json_decref(claims);
    return ok ? 0 : -1;
}
