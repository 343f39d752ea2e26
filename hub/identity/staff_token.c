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
#include "identity/resident_token.h"
#include "identity/token.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int rk_identity_staff_verify(const rk_app_t *app, const char *token, rk_admin_staff_t *staff)
{
    const rk_identity_realm_t *realm = NULL;
    json_t *claims = rk_identity_hub_access_token(app, token, &realm);
    const char *scope = json_string_value(json_object_get(claims, "scope"));
    const char *home = json_string_value(json_object_get(claims, "home_tenant"));
    json_t *roles = json_object_get(claims, "staff_roles");
    int ok = claims && scope && rk_identity_scope_has(scope, "admin") && home &&
             strcmp(home, realm->slug) == 0 && json_is_array(roles);
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
