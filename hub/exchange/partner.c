/*
 * partner.c — the partner cache, its LISTEN, and the RPC guard (see partner.h).
 *
 * The cache is a list of every partner of every tenant, revoked ones included (a revoked
 * partner's live tokens must be told so, not mistaken for other clients). A reload reads all
 * of it in one query and swaps the list, keeping each partner's token bucket. A NOTIFY marks
 * the named partner `forgotten` before reloading: until the reload has read it back, its calls
 * are refused. Until the first load, every partner-shaped token is answered UNAVAILABLE.
 */
#include "exchange/partner.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "exchange/grant.h"
#include "identity/resident_token.h"
#include "renkei/v1/common.pb-c.h"
#include "store/listen.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NOTIFY_CHANNEL "rk_partner"
#define STMT_LOAD "exchange_partners_load"
#define POLL_MS 30000 /* beside LISTEN: what no notification can reveal */
#define FIRST_LOAD_RETRY_MS 200
/*
 * An admitted partner's call reaches its handler as an anonymous one (a partner is neither a
 * resident nor staff): the guard replaces its authorization header by this one, holding the
 * partner's client id, which rk_exchange_partner_caller() reads. A client's own header of this
 * name is renamed away first, so it cannot be forged.
 */
#define ADMITTED_HEADER "renkei-admitted-partner"
#define DROPPED_HEADER "renkei-dropped"

static const char sql_load[] =
    "SELECT p.id, p.client_id, t.id::text, t.slug, t.code, p.rate_limit_per_second::text,"
    " (p.revoked_at IS NOT NULL)::text,"
    " coalesce((SELECT json_agg(json_build_array(g.method, g.read_only) ORDER BY g.method)"
    "           FROM rk_partner_grant g WHERE g.partner_id = p.id), '[]')::text"
    " FROM rk_partner p JOIN rk_tenant t ON t.id = p.tenant_id";

typedef struct grant {
    char method[RK_EXCHANGE_GRANT_METHOD_MAX + 1];
    int read_only;
} grant_t;

typedef struct partner {
    char id[40];
    char client_id[64];
    char tenant_id[24];
    char slug[64];
    char code[8];
    int rate;
    int revoked;
    int forgotten; /* a NOTIFY named it after the last load */
    double tokens;
    uint64_t refilled_ns;
    grant_t *grants;
    size_t n_grants;
    struct partner *next;
} partner_t;

struct rk_exchange_partners {
    rk_exchange_t *exchange;
    struct event *poll;
    partner_t *list;
    int loaded;
    int loading;
    int load_again; /* a change arrived while loading */
};

static rk_exchange_partners_t *partners_of(rk_rpc_t *rpc)
{
    rk_exchange_t *exchange = rk_app(rk_rpc_request(rpc))->exchange;
    return exchange ? exchange->partners : NULL;
}

static void free_list(partner_t *p)
{
    while (p) {
        partner_t *next = p->next;
        free(p->grants);
        free(p);
        p = next;
    }
}

static partner_t *find_client(rk_exchange_partners_t *partners, const char *client_id)
{
    for (partner_t *p = partners->list; p; p = p->next)
        if (strcmp(p->client_id, client_id) == 0)
            return p;
    return NULL;
}

/* --- loading ------------------------------------------------------------------------------- */

static void load(rk_exchange_partners_t *partners);

static void copy_text(char *out, size_t len, const char *text)
{
    snprintf(out, len, "%s", text);
}

static partner_t *partner_of_row(const PGresult *r, int i)
{
    partner_t *p = rk_xcalloc(1, sizeof(*p));
    copy_text(p->id, sizeof(p->id), PQgetvalue(r, i, 0));
    copy_text(p->client_id, sizeof(p->client_id), PQgetvalue(r, i, 1));
    copy_text(p->tenant_id, sizeof(p->tenant_id), PQgetvalue(r, i, 2));
    copy_text(p->slug, sizeof(p->slug), PQgetvalue(r, i, 3));
    copy_text(p->code, sizeof(p->code), PQgetvalue(r, i, 4));
    p->rate = atoi(PQgetvalue(r, i, 5));
    if (p->rate <= 0)
        p->rate = RK_PARTNER_RATE_DEFAULT;
    p->revoked = strcmp(PQgetvalue(r, i, 6), "true") == 0;
    p->tokens = p->rate;
    p->refilled_ns = rk_now_ns();
    json_t *grants = json_loads(PQgetvalue(r, i, 7), 0, NULL);
    size_t n = json_array_size(grants);
    p->grants = rk_xcalloc(n ? n : 1, sizeof(grant_t));
    for (size_t g = 0; g < n; g++) {
        json_t *pair = json_array_get(grants, g);
        const char *method = json_string_value(json_array_get(pair, 0));
        if (!method || strlen(method) >= sizeof(p->grants[0].method))
            continue;
        copy_text(p->grants[p->n_grants].method, sizeof(p->grants[0].method), method);
        p->grants[p->n_grants++].read_only = json_is_true(json_array_get(pair, 1));
    }
    json_decref(grants);
    return p;
}

static void loaded_cb(const rk_store_result_t *res, void *arg)
{
    rk_exchange_partners_t *partners = arg;
    partners->loading = 0;
    if (res->status == RK_OK) {
        const PGresult *r = res->results[0];
        partner_t *list = NULL;
        for (int i = 0; i < PQntuples(r); i++) {
            partner_t *p = partner_of_row(r, i);
            const partner_t *old = find_client(partners, p->client_id);
            if (old && strcmp(old->id, p->id) == 0) {
                p->tokens = old->tokens < p->rate ? old->tokens : p->rate;
                p->refilled_ns = old->refilled_ns;
            }
            p->next = list;
            list = p;
        }
        free_list(partners->list);
        partners->list = list;
        partners->loaded = 1;
    } else {
        rk_log_warn("loading partners failed", "{s:s}", "error", res->error ? res->error : "");
    }
    if (partners->load_again || res->status != RK_OK) {
        partners->load_again = 0;
        if (res->status == RK_OK)
            load(partners);
    }
}

static void load(rk_exchange_partners_t *partners)
{
    if (partners->loading) {
        partners->load_again = 1;
        return;
    }
    partners->loading = 1;
    if (rk_store_exec(partners->exchange->app->store, STMT_LOAD, 0, NULL, loaded_cb, partners) !=
        RK_AGAIN)
        partners->loading = 0;
}

static void changed_cb(const char *channel, const char *payload, void *arg)
{
    (void)channel;
    rk_exchange_partners_t *partners = arg;
    for (partner_t *p = partners->list; p; p = p->next)
        if (strcmp(p->id, payload) == 0)
            p->forgotten = 1;
    load(partners);
}

static void listening_cb(const char *channel, void *arg)
{
    (void)channel;
    load(arg);
}

/* Until the first load succeeds (the pool may not be up yet) often, then slowly. */
static void schedule_poll(rk_exchange_partners_t *partners)
{
    int ms = partners->loaded ? POLL_MS : FIRST_LOAD_RETRY_MS;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(partners->poll, &tv);
}

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_exchange_partners_t *partners = arg;
    load(partners);
    schedule_poll(partners);
}

/* --- the guard ----------------------------------------------------------------------------- */

static const grant_t *grant_for(const partner_t *p, const char *method)
{
    for (size_t i = 0; i < p->n_grants; i++)
        if (rk_exchange_grant_covers(p->grants[i].method, method))
            return &p->grants[i];
    return NULL;
}

/* The request's `tenant` field (slug or code), or NULL when its message has none. */
static const char *request_tenant(const ProtobufCMessage *request)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(request->descriptor, "tenant");
    if (!f || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    return *(const char *const *)((const char *)request + f->offset);
}

static int take_token(partner_t *p)
{
    uint64_t now = rk_now_ns();
    p->tokens += (double)(now - p->refilled_ns) / 1e9 * p->rate;
    if (p->tokens > p->rate)
        p->tokens = p->rate;
    p->refilled_ns = now;
    if (p->tokens < 1.0)
        return 0;
    p->tokens -= 1.0;
    return 1;
}

static void refuse(rk_rpc_t *rpc, const char *method, const partner_t *p, const char *message,
                   const char *reason)
{
    rk_request_t *req = rk_rpc_request(rpc);
    rk_log_warn("partner call refused", "{s:s, s:s, s:s, s:s}", "request_id", req->request_id,
                "partner", p->id, "method", method, "reason", reason);
    rk_rpc_fail_detail(rpc, RK_RPC_PERMISSION_DENIED, rk_arena_strdup(req->arena, message), reason,
                       NULL);
}

/* The partner whose client_credentials token rpc carries (unverified), or NULL. */
static partner_t *claimed_partner(rk_exchange_partners_t *partners, rk_rpc_t *rpc,
                                  const char **token_out, int *unknown_yet)
{
    const char *auth = rk_request_header(rk_rpc_request(rpc), "authorization");
    const char *token = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
    *unknown_yet = 0;
    if (!token || !strchr(token, '.'))
        return NULL;
    json_t *claims = rk_identity_token_peek(token);
    const char *client_id = json_string_value(json_object_get(claims, "client_id"));
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    partner_t *p = NULL;
    if (client_id && sub && strcmp(client_id, sub) == 0) {
        p = find_client(partners, client_id);
        *unknown_yet = !partners->loaded;
    }
    json_decref(claims);
    *token_out = token;
    return p;
}

/* 1 when token is a valid hub access token of p's own realm and client. */
static int token_is_partners(const rk_app_t *app, const char *token, const partner_t *p)
{
    const rk_identity_realm_t *realm = NULL;
    json_t *claims = rk_identity_hub_access_token(app, token, &realm);
    const char *client_id = json_string_value(json_object_get(claims, "client_id"));
    int ok = claims && client_id && strcmp(client_id, p->client_id) == 0 &&
             strcmp(realm->tenant_id, p->tenant_id) == 0;
    json_decref(claims);
    return ok;
}

static rk_header_t *find_header(rk_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcmp(req->headers[i].name, name) == 0)
            return &req->headers[i];
    return NULL;
}

static int guard(rk_rpc_t *rpc, const char *method, const ProtobufCMessage *request)
{
    rk_exchange_partners_t *partners = partners_of(rpc);
    rk_header_t *forged;
    while ((forged = find_header(rk_rpc_request(rpc), ADMITTED_HEADER)))
        forged->name = DROPPED_HEADER;
    if (!partners)
        return 1;
    const char *token = NULL;
    int unknown_yet = 0;
    partner_t *p = claimed_partner(partners, rpc, &token, &unknown_yet);
    if (unknown_yet) {
        rk_rpc_fail(rpc, RK_RPC_UNAVAILABLE, "the hub is loading partner grants; retry shortly");
        return 0;
    }
    if (!p)
        return 1;
    rk_request_t *req = rk_rpc_request(rpc);
    if (!token_is_partners(rk_app(req), token, p)) {
        rk_rpc_fail(rpc, RK_RPC_UNAUTHENTICATED, "authorization: the access token is not valid");
        return 0;
    }
    if (p->revoked || p->forgotten) {
        refuse(rpc, method, p,
               rk_arena_printf(req->arena, "%s: this partner's access has been revoked", method),
               "ERROR_REASON_PARTNER_REVOKED");
        return 0;
    }
    const grant_t *g = grant_for(p, method);
    if (!g || (g->read_only && !rk_exchange_method_reads_only(method))) {
        refuse(rpc, method, p,
               rk_arena_printf(req->arena, "%s: this partner has no grant for the method%s", method,
                               g ? " (its grant is read-only)" : ""),
               "ERROR_REASON_METHOD_NOT_GRANTED");
        return 0;
    }
    const char *tenant = request_tenant(request);
    if (tenant && *tenant && strcmp(tenant, p->slug) != 0 && strcmp(tenant, p->code) != 0) {
        refuse(rpc, method, p,
               rk_arena_printf(req->arena, "tenant: %s: a partner reaches only its own tenant (%s)",
                               method, p->slug),
               "ERROR_REASON_WRONG_TENANT");
        return 0;
    }
    if (!take_token(p)) {
        Renkei__V1__ErrorDetail detail = RENKEI__V1__ERROR_DETAIL__INIT;
        detail.reason = "ERROR_REASON_RATE_LIMITED";
        detail.retry_after_seconds = 1;
        rk_rpc_fail_detail(rpc, RK_RPC_RESOURCE_EXHAUSTED,
                           rk_arena_printf(req->arena,
                                           "%s: this partner's rate limit (%d calls per second) "
                                           "is used up; retry in a second",
                                           method, p->rate),
                           detail.reason, &detail.base);
        return 0;
    }
    rk_header_t *auth = find_header(req, "authorization");
    auth->name = ADMITTED_HEADER;
    auth->value = rk_arena_strdup(req->arena, p->client_id);
    return 1;
}

int rk_exchange_partner_caller(rk_rpc_t *rpc, rk_exchange_partner_caller_t *caller)
{
    rk_exchange_partners_t *partners = partners_of(rpc);
    const char *client_id = rk_request_header(rk_rpc_request(rpc), ADMITTED_HEADER);
    const partner_t *p = partners && client_id ? find_client(partners, client_id) : NULL;
    if (!p || p->revoked || p->forgotten)
        return 0;
    copy_text(caller->partner_id, sizeof(caller->partner_id), p->id);
    copy_text(caller->tenant_id, sizeof(caller->tenant_id), p->tenant_id);
    copy_text(caller->tenant_slug, sizeof(caller->tenant_slug), p->slug);
    copy_text(caller->tenant_code, sizeof(caller->tenant_code), p->code);
    return 1;
}

/* --- life ---------------------------------------------------------------------------------- */

rk_exchange_partners_t *rk_exchange_partners_new(rk_exchange_t *exchange,
                                                 rk_store_listener_t *listener)
{
    rk_exchange_partners_t *partners = rk_xcalloc(1, sizeof(*partners));
    partners->exchange = exchange;
    const rk_app_t *app = exchange->app;
    rk_store_prepare(app->store, STMT_LOAD, sql_load);
    rk_store_listen(listener, NOTIFY_CHANNEL, changed_cb, listening_cb, partners);
    partners->poll = evtimer_new(app->base, poll_cb, partners);
    schedule_poll(partners);
    rk_rpc_set_guard(guard);
    return partners;
}

void rk_exchange_partners_free(rk_exchange_partners_t *partners)
{
    if (!partners)
        return;
    if (partners->poll)
        event_free(partners->poll);
    free_list(partners->list);
    free(partners);
}
