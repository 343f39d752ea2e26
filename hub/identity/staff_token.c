/*
 * staff_token.c — staff members' access tokens as admin API credentials (app->staff_verify,
 * see hub/admin/admin_auth.h).
 *
 * A staff member logs in like any resident, at their home tenant's realm, through a client
 * allowed the "admin" scope (an admin console, renkeictl's login). Their access token then
 * carries staff_roles and home_tenant (token_grant.c). The admin API accepts it when it is a
 * valid access token of the realm it names as issuer, whose home_tenant is that realm (staff
 * act in their own tenant only), with the "admin" scope and the hub itself as audience.
 * Everything is checked in memory: tokens live minutes (the client's access_token_ttl), which
 * bounds how long a removed role still works.
 */
#include "identity/staff_token.h"

#include "admin/admin_auth.h"
#include "core/error.h"
#include "identity/secret_text.h"
#include "identity/token.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The iss claim of an unverified compact JWS, copied into out; 0 if there is none. */
static int peek_issuer(const char *token, char *out, size_t out_len)
{
    const char *first = strchr(token, '.');
    const char *second = first ? strchr(first + 1, '.') : NULL;
    if (!second || strlen(token) > RK_IDENTITY_TOKEN_MAX_BYTES)
        return 0;
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    rk_arena_t *arena = rk_arena_new();
    json_t *claims = rk_identity_b64_decode(arena, first + 1, (size_t)(second - first - 1), 1, &raw,
                                            &raw_len) == RK_OK
                         ? json_loadb((const char *)raw, raw_len, 0, NULL)
                         : NULL;
    rk_arena_free(arena);
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    int ok = iss && strlen(iss) < out_len;
    if (ok)
        snprintf(out, out_len, "%s", iss);
    json_decref(claims);
    return ok;
}

int rk_identity_staff_verify(const rk_app_t *app, const char *token, rk_admin_staff_t *staff)
{
    char issuer[512];
    size_t prefix = strlen(app->public_url);
    if (!app->identity || !peek_issuer(token, issuer, sizeof(issuer)) ||
        strncmp(issuer, app->public_url, prefix) != 0 || strncmp(issuer + prefix, "/t/", 3) != 0)
        return -1;
    const rk_identity_realm_t *realm = rk_identity_realm(app->identity, issuer + prefix + 3);
    if (!realm)
        return -1;
    const char *why = NULL;
    json_t *claims = rk_identity_access_token_verify(token, realm->issuer, (long long)time(NULL),
                                                     rk_identity_realm_key_lookup, realm, &why);
    const char *scope = json_string_value(json_object_get(claims, "scope"));
    const char *home = json_string_value(json_object_get(claims, "home_tenant"));
    const char *aud = json_string_value(json_object_get(claims, "aud"));
    json_t *roles = json_object_get(claims, "staff_roles");
    int ok = claims && scope && rk_identity_scope_has(scope, "admin") && home &&
             strcmp(home, realm->slug) == 0 && aud && strcmp(aud, app->public_url) == 0 &&
             json_is_array(roles);
    if (ok) {
        memset(staff, 0, sizeof(*staff));
        snprintf(staff->tenant_slug, sizeof(staff->tenant_slug), "%s", realm->slug);
        snprintf(staff->tenant_code, sizeof(staff->tenant_code), "%s", realm->code);
        snprintf(staff->subject, sizeof(staff->subject), "%s",
                 json_string_value(json_object_get(claims, "sub")));
        size_t i;
        json_t *role;
        json_array_foreach(roles, i, role)
        {
            staff->roles |= rk_admin_role(json_string_value(role));
        }
        ok = staff->roles != 0;
    }
    json_decref(claims);
    return ok ? 0 : -1;
}
