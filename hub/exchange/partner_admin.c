/*
 * partner_admin.c — AdminService.RegisterPartner, GrantPartner, RevokePartner, ListPartners
 * and SetPartnerWebhook (see partner_admin.h).
 *
 * Each method checks its request here (every field named in its error), then makes one call
 * of a function of migration 0019, which changes the rows in one transaction and answers the
 * partner as the proto3 JSON of renkei.v1.Partner; the trigger NOTIFYs rk_partner and every
 * hub process reloads (partner.c). Registering a partner registers its OIDC client in the
 * same transaction: the client registry is the one store of credentials.
 */
#include "exchange/partner_admin.h"

#include "admin/admin_auth.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "exchange/grant.h"
#include "exchange/webhook_url.h"
#include "identity/client.h"
#include "identity/client_assertion.h"
#include "net/json_transcode.h"
#include "net/pb_arena.h"
#include "renkei/v1/admin.pb-c.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define STMT_REGISTER "exchange_partner_register"
#define STMT_GRANT "exchange_partner_grant"
#define STMT_REVOKE "exchange_partner_revoke"
#define STMT_LIST "exchange_partner_list"
#define STMT_WEBHOOK "exchange_partner_webhook"
/* SQLSTATE of rk_partner_webhook_set() for a partner without a grant to read its feed. */
#define SQLSTATE_NO_FEED_GRANT "RKW01"

#define NAME_MAX_LEN 128
#define RATE_MAX 100000
#define TENANT_MAX 64
#define LIST_MAX 1000

static const char sql_register[] = "SELECT rk_partner_register($1, $2, $3, $4, $5::jsonb, "
                                   "$6::int, $7)::text";
static const char sql_grant[] = "SELECT rk_partner_grant_method($1, $2, $3, $4::boolean)::text";
static const char sql_revoke[] = "SELECT rk_partner_revoke($1, $2, $3)::text";
static const char sql_webhook[] = "SELECT rk_partner_webhook_set($1, $2, $3)::text";
static const char sql_list[] =
    "SELECT rk_partner_json(p.id)::text FROM rk_partner p JOIN rk_tenant t ON t.id = p.tenant_id"
    " WHERE (t.slug = $1 OR t.code::text = $1) AND ($2::boolean OR p.revoked_at IS NULL)"
    " ORDER BY p.name LIMIT 1000"; /* LIST_MAX */

typedef struct call {
    rk_rpc_t *rpc;
    const ProtobufCMessageDescriptor *answer; /* the response */
    const char *field;                        /* its field with the partner(s): "partner(s)" */
    const char *what;                         /* "RegisterPartner", for the log */
} call_t;

static int invalid(rk_rpc_t *rpc, const char *message)
{
    rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, message);
    return 0;
}

static int tenant_allowed(rk_rpc_t *rpc, const char *method, const char *tenant, unsigned roles)
{
    if (!tenant || !*tenant || strlen(tenant) > TENANT_MAX)
        return invalid(rpc, "tenant: required (a tenant slug or code)");
    return rk_admin_authorize_tenant_rpc(rpc, method, tenant, roles);
}

static int partner_id_ok(const char *id)
{
    if (!id || strlen(id) != 35 || strncmp(id, "pt_", 3) != 0)
        return 0;
    for (const char *c = id + 3; *c; c++)
        if (!isxdigit((unsigned char)*c) || isupper((unsigned char)*c))
            return 0;
    return 1;
}

/* The answer message with field 1 set from the JSON rows of res (one partner, or a list). */
static void answered_cb(const rk_store_result_t *res, void *arg)
{
    call_t *call = arg;
    rk_rpc_t *rpc = call->rpc;
    rk_request_t *req = rk_rpc_request(rpc);
    if (res->status == RK_EINVAL && strcmp(res->sqlstate, "23505") == 0) {
        rk_rpc_fail(rpc, RK_RPC_ALREADY_EXISTS, "name: the tenant already has a partner so named");
        return;
    }
    if (res->status == RK_EINVAL && strcmp(res->sqlstate, SQLSTATE_NO_FEED_GRANT) == 0) {
        rk_rpc_fail(rpc, RK_RPC_FAILED_PRECONDITION,
                    "partner_id: the partner may not read its feed: grant it "
                    "renkei.v1.ExchangeService/ListFeed (or Subscribe, or the whole service) "
                    "first; a webhook pushes only what the partner may pull");
        return;
    }
    if (res->status != RK_OK) {
        if (res->status == RK_EINVAL)
            rk_log_error("partner statement failed", "{s:s, s:s, s:s}", "request_id",
                         req->request_id, "method", call->what, "error", res->error);
        rk_rpc_fail(rpc, res->status == RK_EINVAL ? RK_RPC_INTERNAL : RK_RPC_UNAVAILABLE,
                    res->status == RK_EINVAL ? "the partner could not be stored; see the hub's log"
                                             : "the database is not reachable now; retry later");
        return;
    }
    const PGresult *r = res->results[0];
    json_t *body = json_object();
    if (strcmp(call->field, "partners") == 0) {
        json_t *list = json_array();
        for (int i = 0; i < PQntuples(r); i++)
            json_array_append_new(list, json_loads(PQgetvalue(r, i, 0), 0, NULL));
        json_object_set_new(body, call->field, list);
    } else if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
        json_object_set_new(body, call->field, json_loads(PQgetvalue(r, 0, 0), 0, NULL));
    } else {
        json_decref(body);
        rk_rpc_fail(rpc, RK_RPC_NOT_FOUND,
                    "tenant, partner_id: no such tenant, or no such live partner of it");
        return;
    }
    ProtobufCAllocator allocator = rk_pb_arena_allocator(req->arena);
    char err[256];
    ProtobufCMessage *answer = rk_json_to_message(call->answer, body, &allocator, err, sizeof(err));
    json_decref(body);
    if (!answer) {
        rk_log_error("partner answer unreadable", "{s:s, s:s}", "method", call->what, "error", err);
        rk_rpc_fail(rpc, RK_RPC_INTERNAL, "the partner could not be read back; see the hub's log");
        return;
    }
    rk_rpc_reply(rpc, answer);
}

static void run(rk_rpc_t *rpc, const char *what, const ProtobufCMessageDescriptor *answer,
                const char *stmt, int n, const char *const *values)
{
    call_t *call = rk_arena_calloc(rk_rpc_request(rpc)->arena, 1, sizeof(*call));
    call->rpc = rpc;
    call->answer = answer;
    call->field =
        answer == &renkei__v1__list_partners_response__descriptor ? "partners" : "partner";
    call->what = what;
    if (rk_store_exec(rk_app(rk_rpc_request(rpc))->store, stmt, n, values, answered_cb, call) !=
        RK_AGAIN)
        rk_rpc_fail(rpc, RK_RPC_UNAVAILABLE, "the database is not reachable now; retry later");
}

/* The registered JWK set, checked as dynamic registration checks it; NULL after answering. */
static char *jwks_text(rk_rpc_t *rpc, const Renkei__V1__RegisterPartnerRequest *in)
{
    if (in->jwks_uri && *in->jwks_uri) {
        invalid(rpc, "jwks_uri: not supported: this hub does not fetch keys; register them "
                     "inline as jwks");
        return NULL;
    }
    if (!in->jwks || !*in->jwks) {
        invalid(rpc, "jwks: required with PARTNER_AUTH_METHOD_PRIVATE_KEY_JWT (the partner's "
                     "public JWK Set as JSON text)");
        return NULL;
    }
    json_t *jwks = json_loads(in->jwks, JSON_REJECT_DUPLICATES, NULL);
    char why[256];
    if (!jwks || rk_identity_client_jwks_check(jwks, why, sizeof(why)) != RK_OK) {
        if (!jwks)
            snprintf(why, sizeof(why), "jwks: must be a JWK Set as JSON text");
        json_decref(jwks);
        invalid(rpc, rk_arena_strdup(rk_rpc_request(rpc)->arena, why));
        return NULL;
    }
    char *text = json_dumps(jwks, JSON_COMPACT);
    char *copy = rk_arena_strdup(rk_rpc_request(rpc)->arena, text);
    free(text);
    json_decref(jwks);
    return copy;
}

static void register_partner(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__RegisterPartnerRequest *in =
        (const Renkei__V1__RegisterPartnerRequest *)message;
    if (!tenant_allowed(rpc, "RegisterPartner", in->tenant, RK_ADMIN_ROLE_TENANT_ADMIN))
        return;
    if (!in->name || !*in->name || strlen(in->name) > NAME_MAX_LEN) {
        invalid(rpc, "name: required, at most 128 bytes");
        return;
    }
    if (in->auth_method != RENKEI__V1__PARTNER_AUTH_METHOD__PARTNER_AUTH_METHOD_PRIVATE_KEY_JWT) {
        invalid(rpc, "auth_method: must be PARTNER_AUTH_METHOD_PRIVATE_KEY_JWT (mTLS-bound "
                     "partners are not supported yet)");
        return;
    }
    if (in->rate_limit_per_second < 0 || in->rate_limit_per_second > RATE_MAX) {
        invalid(rpc, "rate_limit_per_second: 0 (the hub default) to 100000");
        return;
    }
    if (in->webhook_url && *in->webhook_url) {
        invalid(rpc, "webhook_url: set it once the partner is registered, with "
                     "SetPartnerWebhook (renkeictl partner webhook)");
        return;
    }
    if (in->cert_sha256 && *in->cert_sha256) {
        invalid(rpc, "cert_sha256: only for PARTNER_AUTH_METHOD_TLS_CLIENT_AUTH");
        return;
    }
    char *jwks = jwks_text(rpc, in);
    if (!jwks)
        return;
    char client_id[RK_IDENTITY_CLIENT_ID_LEN + 1], secret[RK_IDENTITY_CLIENT_SECRET_LEN + 1];
    unsigned char random[16];
    char id[40], rate[16];
    if (rk_identity_client_credentials_new(client_id, secret) != RK_OK ||
        RAND_bytes(random, sizeof(random)) != 1) {
        rk_rpc_fail(rpc, RK_RPC_INTERNAL, "cannot generate the partner's identifiers");
        return;
    }
    OPENSSL_cleanse(secret, sizeof(secret)); /* private_key_jwt: the client has no secret */
    int n = snprintf(id, sizeof(id), "pt_");
    for (size_t i = 0; i < sizeof(random); i++)
        n += snprintf(id + n, sizeof(id) - (size_t)n, "%02x", random[i]);
    snprintf(rate, sizeof(rate), "%d", in->rate_limit_per_second);
    const char *values[] = {
        in->tenant, id, client_id, in->name, jwks, rate, rk_app(rk_rpc_request(rpc))->public_url};
    rk_log_info("partner registered", "{s:s, s:s, s:s}", "tenant", in->tenant, "partner", id,
                "client_id", client_id);
    run(rpc, "RegisterPartner", &renkei__v1__register_partner_response__descriptor, STMT_REGISTER,
        7, values);
}

static void grant_partner(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__GrantPartnerRequest *in = (const Renkei__V1__GrantPartnerRequest *)message;
    if (!tenant_allowed(rpc, "GrantPartner", in->tenant, RK_ADMIN_ROLE_TENANT_ADMIN))
        return;
    if (!partner_id_ok(in->partner_id)) {
        invalid(rpc, "partner_id: required, a Partner.id (pt_ and 32 hex digits)");
        return;
    }
    if (!rk_exchange_grant_valid(in->method)) {
        invalid(rpc,
                "method: must be a full method, \"renkei.v1.FacilityService/SearchFacilities\","
                " or a whole service, \"renkei.v1.ExchangeService/*\"");
        return;
    }
    const char *values[] = {in->tenant, in->partner_id, in->method,
                            in->read_only ? "true" : "false"};
    run(rpc, "GrantPartner", &renkei__v1__grant_partner_response__descriptor, STMT_GRANT, 4,
        values);
}

static void revoke_partner(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__RevokePartnerRequest *in = (const Renkei__V1__RevokePartnerRequest *)message;
    if (!tenant_allowed(rpc, "RevokePartner", in->tenant, RK_ADMIN_ROLE_TENANT_ADMIN))
        return;
    if (!partner_id_ok(in->partner_id)) {
        invalid(rpc, "partner_id: required, a Partner.id (pt_ and 32 hex digits)");
        return;
    }
    if (in->method && *in->method && !rk_exchange_grant_valid(in->method)) {
        invalid(rpc, "method: empty (the whole partner) or a granted method");
        return;
    }
    const char *values[] = {in->tenant, in->partner_id, in->method ? in->method : ""};
    rk_log_info("partner revoked", "{s:s, s:s, s:s}", "tenant", in->tenant, "partner",
                in->partner_id, "method", values[2]);
    run(rpc, "RevokePartner", &renkei__v1__revoke_partner_response__descriptor, STMT_REVOKE, 3,
        values);
}

static void list_partners(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__ListPartnersRequest *in = (const Renkei__V1__ListPartnersRequest *)message;
    if (!tenant_allowed(rpc, "ListPartners", in->tenant,
                        RK_ADMIN_ROLE_TENANT_ADMIN | RK_ADMIN_ROLE_AUDITOR))
        return;
    const char *values[] = {in->tenant, in->include_revoked ? "true" : "false"};
    run(rpc, "ListPartners", &renkei__v1__list_partners_response__descriptor, STMT_LIST, 2, values);
}

/* webhook_url empty turns the webhook off; else it must pass webhook_url.h's rules. */
static void set_partner_webhook(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__SetPartnerWebhookRequest *in =
        (const Renkei__V1__SetPartnerWebhookRequest *)message;
    if (!tenant_allowed(rpc, "SetPartnerWebhook", in->tenant, RK_ADMIN_ROLE_TENANT_ADMIN))
        return;
    if (!partner_id_ok(in->partner_id)) {
        invalid(rpc, "partner_id: required, a Partner.id (pt_ and 32 hex digits)");
        return;
    }
    rk_exchange_webhook_url_t url;
    const char *why = NULL;
    const char *webhook_url = in->webhook_url ? in->webhook_url : "";
    if (*webhook_url && rk_exchange_webhook_url_parse(webhook_url, &url, &why) != RK_OK) {
        invalid(rpc, why);
        return;
    }
    const char *values[] = {in->tenant, in->partner_id, webhook_url};
    rk_log_info("partner webhook set", "{s:s, s:s, s:b}", "tenant", in->tenant, "partner",
                in->partner_id, "on", *webhook_url != '\0');
    run(rpc, "SetPartnerWebhook", &renkei__v1__set_partner_webhook_response__descriptor,
        STMT_WEBHOOK, 3, values);
}

static const rk_rpc_method_t methods[] = {
    {"/renkei.v1.AdminService/RegisterPartner", &renkei__v1__register_partner_request__descriptor,
     &renkei__v1__register_partner_response__descriptor, register_partner, 0},
    {"/renkei.v1.AdminService/GrantPartner", &renkei__v1__grant_partner_request__descriptor,
     &renkei__v1__grant_partner_response__descriptor, grant_partner, 0},
    {"/renkei.v1.AdminService/RevokePartner", &renkei__v1__revoke_partner_request__descriptor,
     &renkei__v1__revoke_partner_response__descriptor, revoke_partner, 0},
    {"/renkei.v1.AdminService/ListPartners", &renkei__v1__list_partners_request__descriptor,
     &renkei__v1__list_partners_response__descriptor, list_partners, 0},
    {"/renkei.v1.AdminService/SetPartnerWebhook",
     &renkei__v1__set_partner_webhook_request__descriptor,
     &renkei__v1__set_partner_webhook_response__descriptor, set_partner_webhook, 0},
};

void rk_exchange_partner_admin_register(rk_exchange_t *exchange, rk_router_t *router)
{
    rk_store_t *store = exchange->app->store;
    rk_store_prepare(store, STMT_REGISTER, sql_register);
    rk_store_prepare(store, STMT_GRANT, sql_grant);
    rk_store_prepare(store, STMT_REVOKE, sql_revoke);
    rk_store_prepare(store, STMT_LIST, sql_list);
    rk_store_prepare(store, STMT_WEBHOOK, sql_webhook);
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        rk_rpc_register(router, &methods[i]);
}
