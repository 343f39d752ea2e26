/*
 * account_admin.c — residents' and staff accounts through the admin API:
 *
 *   POST /admin/v1/realms/{slug}/users   create an account whose home city is the realm
 *   GET  /admin/v1/realms/{slug}/users   list the realm's accounts (no secrets)
 *
 * A new account's password is checked against the policy, then hashed with argon2id on a
 * worker thread (tens of milliseconds of CPU that must not stall the loop); the password
 * itself is wiped when the request ends and never logged. Usernames are global and lower
 * case: a taken one is 409, naming the field.
 */
#include "identity/account_admin.h"

#include "admin/admin_auth.h"
#include "admin/admin_reply.h"
#include "core/error.h"
#include "core/log.h"
#include "identity/form.h"
#include "identity/password.h"
#include "identity/secret_text.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_INSERT "identity_account_insert"
#define STMT_LIST "identity_account_list"

#define ACCOUNT_JSON                                                                               \
    "jsonb_strip_nulls(jsonb_build_object('username', a.username, 'display_name', a.display_name," \
    " 'email', a.email, 'home_municipality', (SELECT code FROM rk_tenant WHERE id = a.tenant_id)," \
    " 'residency_verified', a.residency_verified, 'staff_roles', a.staff_roles,"                   \
    " 'works_in', (SELECT slug FROM rk_tenant WHERE id = a.works_in_tenant_id),"                   \
    " 'studies_in', (SELECT slug FROM rk_tenant WHERE id = a.studies_in_tenant_id),"               \
    " 'certificate_bound', a.cert_key IS NOT NULL, 'created_at', a.created_at))"

static const char sql_insert[] =
    "INSERT INTO rk_identity_account AS a (uid, tenant_id, username, password_hash, display_name,"
    " email, residency_verified, staff_roles, cert_key, works_in_tenant_id, studies_in_tenant_id)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, ARRAY(SELECT json_array_elements_text($8::json)), $9,"
    " $10::bigint, $11::bigint)"
    " RETURNING " ACCOUNT_JSON "::text";

static const char sql_list[] =
    "SELECT json_build_object('users', coalesce(json_agg(" ACCOUNT_JSON
    " ORDER BY a.username), '[]'::json))::text FROM rk_identity_account a WHERE a.tenant_id = $1";

static const char *const staff_roles[] = {"tenant-admin", "facility-manager", "librarian",
                                          "auditor"};
static const char *const residency[] = {"registration", "self_declared", "certificate"};

typedef struct creation {
    rk_request_t *req;
    json_t *body;
    const char *tenant_id;
    char *password;
    size_t password_len;
    char hash[RK_IDENTITY_PASSWORD_HASH_MAX];
    int hash_status;
    const char *works_in, *studies_in; /* tenant ids of the named cities, or NULL */
} creation_t;

static void wipe(void *data)
{
    creation_t *c = data;
    if (c->password)
        OPENSSL_cleanse(c->password, c->password_len);
    OPENSSL_cleanse(c->hash, sizeof(c->hash));
    json_decref(c->body);
}

static void bad_request(rk_request_t *req, const char *message)
{
    rk_response_error(req, 400, "invalid_request", message);
    rk_request_finish(req);
}

static int one_of(const char *s, const char *const *choices, size_t n)
{
    for (size_t i = 0; s && i < n; i++) {
        if (strcmp(s, choices[i]) == 0)
            return 1;
    }
    return 0;
}

/* Checks the request body; NULL, or the first problem naming its field. */
static const char *check_body(json_t *body, const char **password_why)
{
    static const char *const known[] = {"username", "password",           "display_name",
                                        "email",    "residency_verified", "staff_roles",
                                        "cert_key", "works_in",           "studies_in"};
    const char *field;
    json_t *value;
    json_object_foreach(body, field, value)
    {
        if (!one_of(field, known, sizeof(known) / sizeof(known[0])))
            return "unknown field (allowed: username, password, display_name, email, "
                   "residency_verified, staff_roles, cert_key, works_in, studies_in)";
    }
    const char *username = json_string_value(json_object_get(body, "username"));
    size_t len = username ? strlen(username) : 0;
    int ok =
        len >= 3 && len <= 64 && username[0] != '.' && username[0] != '_' && username[0] != '-';
    for (size_t i = 0; ok && i < len; i++) {
        char c = username[i];
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    }
    if (!ok)
        return "username: is required: 3 to 64 characters of a-z 0-9 . _ -, starting with a "
               "letter or digit";
    const char *password = json_string_value(json_object_get(body, "password"));
    if (!password)
        return "password: is required";
    if (rk_identity_password_policy(password, strlen(password), password_why) != RK_OK)
        return *password_why;
    json_t *display = json_object_get(body, "display_name");
    long chars =
        display
            ? (json_is_string(display) ? rk_identity_text_chars(json_string_value(display)) : -1)
            : 1;
    if (chars < 1 || chars > 200)
        return "display_name: 1 to 200 characters without control characters";
    json_t *email = json_object_get(body, "email");
    const char *e = json_string_value(email);
    if (email && (!e || strlen(e) < 3 || strlen(e) > 254 || !strchr(e, '@') ||
                  rk_identity_text_chars(e) < 0 || strchr(e, ' ')))
        return "email: must be an address of 3 to 254 bytes with an @";
    json_t *verified = json_object_get(body, "residency_verified");
    if (verified && !one_of(json_string_value(verified), residency, 3))
        return "residency_verified: must be registration, self_declared or certificate";
    json_t *roles = json_object_get(body, "staff_roles");
    if (roles) {
        size_t i;
        json_t *role;
        if (!json_is_array(roles) || json_array_size(roles) > 4)
            return "staff_roles: must be an array of tenant-admin, facility-manager, librarian, "
                   "auditor";
        json_array_foreach(roles, i, role)
        {
            if (!one_of(json_string_value(role), staff_roles, 4))
                return "staff_roles: must be an array of tenant-admin, facility-manager, "
                       "librarian, auditor";
        }
    }
    json_t *cert = json_object_get(body, "cert_key");
    const char *k = json_string_value(cert);
    ok = !cert || (k && strlen(k) == 64);
    for (size_t i = 0; ok && cert && i < 64; i++)
        ok = (k[i] >= '0' && k[i] <= '9') || (k[i] >= 'a' && k[i] <= 'f');
    if (!ok)
        return "cert_key: must be the 64 lower-case hex digits that certificate login reports "
               "for the resident's certificate";
    return NULL;
}

/* The tenant id of the city body's `field` names (在勤 works_in / 在学 studies_in: a realm slug
 * other than the home realm) into *tenant_id (NULL when absent); NULL, or the problem. */
static const char *affiliation(rk_request_t *req, rk_identity_t *identity, json_t *body,
                               const char *field, const rk_identity_realm_t *home,
                               const char **tenant_id)
{
    *tenant_id = NULL;
    json_t *value = json_object_get(body, field);
    if (!value)
        return NULL;
    const char *slug = json_string_value(value);
    const rk_identity_realm_t *city = slug ? rk_identity_realm(identity, slug) : NULL;
    if (!city)
        return rk_arena_printf(req->arena, "%s: must be the slug of a municipality of this hub",
                               field);
    if (city == home)
        return rk_arena_printf(req->arena,
                               "%s: must be another municipality than the account's home", field);
    *tenant_id = rk_arena_strdup(req->arena, city->tenant_id);
    return NULL;
}

static void inserted(const rk_store_result_t *res, void *arg)
{
    creation_t *c = arg;
    rk_request_t *req = c->req;
    if (res->status == RK_EINVAL && strcmp(res->sqlstate, "23505") == 0) {
        const char *which = strstr(res->error, "cert_key") ? "cert_key: is bound to another account"
                                                           : "username: is taken";
        rk_response_error(req, 409, "conflict", which);
        rk_request_finish(req);
        return;
    }
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        if (res->status == RK_EINVAL)
            rk_log_error("creating an account failed", "{s:s}", "error", res->error);
        rk_response_error(req, 503, "unavailable", "the database did not store the account");
        rk_request_finish(req);
        return;
    }
    const char *text = PQgetvalue(res->results[0], 0, 0);
    rk_log_info("account created", "{s:s, s:s}", "request_id", req->request_id, "realm",
                req->params[0]);
    rk_response_set(req, 201, "application/json", text, strlen(text));
    rk_response_header(req, "cache-control", "no-store");
    rk_request_finish(req);
}

static void hash_work(void *arg)
{
    creation_t *c = arg;
    c->hash_status = rk_identity_password_hash(c->password, c->password_len, c->hash);
}

static void hashed(void *arg, int ran)
{
    creation_t *c = arg;
    rk_request_t *req = c->req;
    OPENSSL_cleanse(c->password, c->password_len);
    if (!ran || c->hash_status != RK_OK) {
        rk_response_error(req, 503, "unavailable", "the password could not be hashed");
        rk_request_finish(req);
        return;
    }
    char uid[RK_IDENTITY_B64_LEN(16) + 1];
    if (rk_identity_random_text(uid, 16) != RK_OK) {
        rk_response_error(req, 500, "internal", "no randomness");
        rk_request_finish(req);
        return;
    }
    json_t *body = c->body;
    json_t *roles = json_object_get(body, "staff_roles");
    char *roles_text = roles ? json_dumps(roles, JSON_COMPACT) : strdup("[]");
    const char *verified = json_string_value(json_object_get(body, "residency_verified"));
    const char *values[] = {uid,
                            c->tenant_id,
                            json_string_value(json_object_get(body, "username")),
                            c->hash,
                            json_string_value(json_object_get(body, "display_name")),
                            json_string_value(json_object_get(body, "email")),
                            verified ? verified : "registration",
                            roles_text,
                            json_string_value(json_object_get(body, "cert_key")),
                            c->works_in,
                            c->studies_in};
    int rc = rk_store_exec(rk_app(req)->store, STMT_INSERT, 11, values, inserted, c);
    free(roles_text);
    if (rc != RK_AGAIN) {
        rk_response_error(req, 503, "unavailable", "no database connection");
        rk_request_finish(req);
    }
}

static void user_create(rk_request_t *req)
{
    if (!rk_admin_authorize_tenant(req, req->params[0], RK_ADMIN_ROLE_TENANT_ADMIN))
        return;
    rk_identity_t *identity = rk_app(req)->identity;
    const rk_identity_realm_t *realm = rk_identity_realm(identity, req->params[0]);
    if (!realm) {
        rk_response_error(req, 404, "not_found", "no realm with this slug");
        rk_request_finish(req);
        return;
    }
    creation_t *c = rk_arena_calloc(req->arena, 1, sizeof(*c));
    c->req = req;
    c->tenant_id = rk_arena_strdup(req->arena, realm->tenant_id);
    rk_arena_on_free(req->arena, wipe, c);
    json_error_t jerr;
    c->body = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(c->body)) {
        bad_request(req, "body: must be a JSON object");
        return;
    }
    const char *password_why = NULL;
    const char *why = check_body(c->body, &password_why);
    if (!why)
        why = affiliation(req, identity, c->body, "works_in", realm, &c->works_in);
    if (!why)
        why = affiliation(req, identity, c->body, "studies_in", realm, &c->studies_in);
    if (why) {
        bad_request(req, why);
        return;
    }
    const char *password = json_string_value(json_object_get(c->body, "password"));
    c->password_len = strlen(password);
    c->password = rk_arena_alloc(req->arena, c->password_len + 1);
    memcpy(c->password, password, c->password_len + 1);
    /* The body's copy is not needed any more: wipe it now. */
    OPENSSL_cleanse((char *)password, c->password_len);
    if (rk_worker_submit(identity->workers, hash_work, hashed, c) != RK_OK) {
        rk_response_header(req, "retry-after", "1");
        rk_response_error(req, 503, "unavailable", "too many passwords are being hashed; retry");
        rk_request_finish(req);
    }
}

static void user_list(rk_request_t *req)
{
    if (!rk_admin_authorize_tenant(req, req->params[0],
                                   RK_ADMIN_ROLE_TENANT_ADMIN | RK_ADMIN_ROLE_AUDITOR))
        return;
    const rk_identity_realm_t *realm = rk_identity_realm(rk_app(req)->identity, req->params[0]);
    if (!realm) {
        rk_response_error(req, 404, "not_found", "no realm with this slug");
        rk_request_finish(req);
        return;
    }
    const char *values[] = {realm->tenant_id};
    if (rk_store_exec(rk_app(req)->store, STMT_LIST, 1, values, rk_admin_reply_json_row, req) !=
        RK_AGAIN) {
        rk_response_error(req, 503, "unavailable", "no database connection");
        rk_request_finish(req);
    }
}

void rk_identity_account_admin_register(rk_identity_t *identity, rk_router_t *router)
{
    rk_store_prepare(identity->app->store, STMT_INSERT, sql_insert);
    rk_store_prepare(identity->app->store, STMT_LIST, sql_list);
    rk_router_add(router, "POST", "/admin/v1/realms/{slug}/users", user_create,
                  "identity_users_create");
    rk_router_add(router, "GET", "/admin/v1/realms/{slug}/users", user_list, "identity_users_list");
}
