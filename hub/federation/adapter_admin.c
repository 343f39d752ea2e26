/*
 * adapter_admin.c — AdminService's adapter methods (see adapter_admin.h).
 *
 * Each call is an op in its request's arena, moved along by store and probe callbacks:
 *
 *   authorize → check the request → [idempotency key seen? → answer again]
 *     RegisterAdapter: insert PENDING ─┐
 *     EnableAdapter:   set PENDING ────┴→ probe → store ACTIVE / FAILED → registry → answer
 *     DisableAdapter, RemoveAdapter: change the row → registry → answer
 *
 * The probe and what follows it are an activation with a life of its own: when the caller's
 * deadline comes first (the probe always gets at least BUDGET_MIN_NS, so that a short
 * deadline alone never fails a healthy adapter), the call is answered PENDING_MARGIN_NS
 * before its deadline with the adapter PENDING, and the outcome is still stored and reaches
 * the registry; ListAdapters, or the same request with its idempotency key, shows it. A call
 * that arrives with less than PENDING_MARGIN_NS left is DEADLINE_EXCEEDED and changes nothing.
 *
 * The SQL below is the one place that knows the table; every statement that answers with an
 * adapter selects ADAPTER_COLUMNS, read by row_read(). A tenant is named by slug or code; a
 * tenant that does not exist and an adapter that does not exist are both NOT_FOUND, with
 * messages naming the field. The outcome of an activation is stored only if nothing changed
 * the row meanwhile (its revision): otherwise the answer is the row as it now stands.
 *
 * Authorization (authorize()): the bootstrap admin token acts for every tenant; a staff token
 * only for its own tenant — a tenant-admin of chofu may change only chofu's adapters, any of
 * its staff may list them — and gets PERMISSION_DENIED with ERROR_REASON_WRONG_TENANT (or
 * ERROR_REASON_ROLE_REQUIRED) otherwise.
 */
#include "federation/adapter_admin.h"

#include "admin/admin_auth.h"

#include "core/error.h"
#include "core/log.h"
#include "federation/activation.h"
#include "federation/adapter_rules.h"
#include "net/rpc.h"
#include "renkei/v1/admin.pb-c.h"

#include <event2/event.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STMT_GET "federation_adapter_get"
#define STMT_GET_BY_ID "federation_adapter_get_by_id"
#define STMT_INSERT "federation_adapter_insert"
#define STMT_SAVE "federation_adapter_save"
#define STMT_DISABLE "federation_adapter_disable"
#define STMT_ENABLE "federation_adapter_enable"
#define STMT_REMOVE "federation_adapter_remove"
#define STMT_LIST "federation_adapter_list"
#define STMT_REQUEST_GET "federation_request_get"
#define STMT_REQUEST_PUT "federation_request_put"

/* Who made an idempotent request: one principal until staff accounts exist. */
#define CALLER_ADMIN "admin-token"

#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 100
#define MS 1000000ull
#define ANSWER_MARGIN_NS (250 * MS) /* kept from the caller's deadline to store and answer */
#define BUDGET_MIN_NS (1000 * MS)   /* a probe always gets this long, whatever the deadline */
#define PENDING_MARGIN_NS (50 * MS) /* a call still waiting this near its deadline: PENDING */

#define ADAPTER_COLUMNS                                                                            \
    "a.id, a.revision, t.id, t.code, t.slug, t.name_ja, t.name_en, t.name_kana, a.name,"           \
    " a.endpoint, array_to_string(a.expected_capabilities, ','),"                                  \
    " array_to_string(a.capabilities, ','), a.state, a.adapter_version, a.last_error,"             \
    " coalesce(a.ca_pem_sha256, ''), coalesce(a.pinned_cert_sha256, ''),"                          \
    " to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                 \
    " coalesce(a.ca_pem, ''), a.tls_server_name"

enum {
    COL_ID,
    COL_REVISION,
    COL_TENANT_ID,
    COL_CODE,
    COL_SLUG,
    COL_NAME_JA,
    COL_NAME_EN,
    COL_NAME_KANA,
    COL_NAME,
    COL_ENDPOINT,
    COL_EXPECTED,
    COL_CAPABILITIES,
    COL_STATE,
    COL_VERSION,
    COL_LAST_ERROR,
    COL_CA_SHA256,
    COL_PIN,
    COL_CREATED,
    COL_CA_PEM,
    COL_SERVER_NAME,
    N_COLUMNS
};

#define TENANT_MATCH "(t.slug = $1 OR t.code = $1)"

static const char sql_get[] = "SELECT " ADAPTER_COLUMNS " FROM rk_tenant t LEFT JOIN rk_adapter a"
                              " ON a.tenant_id = t.id AND a.name = $2 WHERE " TENANT_MATCH;

static const char sql_get_by_id[] =
    "SELECT " ADAPTER_COLUMNS " FROM rk_adapter a JOIN rk_tenant t ON t.id = a.tenant_id"
    " WHERE a.id = $1";

static const char sql_insert[] =
    "WITH a AS (INSERT INTO rk_adapter (tenant_id, name, endpoint, expected_capabilities, ca_pem,"
    "  ca_pem_sha256, pinned_cert_sha256, tls_server_name)"
    " SELECT t.id, $2, $3, string_to_array($4, ','), nullif($5, ''), nullif($6, ''),"
    "  nullif($7, ''), $8 FROM rk_tenant t WHERE " TENANT_MATCH " RETURNING *)"
    " SELECT " ADAPTER_COLUMNS " FROM a JOIN rk_tenant t ON t.id = a.tenant_id";

static const char sql_save[] =
    "WITH a AS (UPDATE rk_adapter x SET state = $3, capabilities = string_to_array($4, ','),"
    "  adapter_version = $5, contract_version = $6, owner_system = $7, last_error = $8,"
    "  revision = x.revision + 1, updated_at = now(),"
    "  activated_at = CASE WHEN $3 = 'active' THEN now() ELSE x.activated_at END"
    " WHERE x.id = $1 AND x.revision = $2 AND x.state = 'pending' RETURNING x.*)"
    " SELECT " ADAPTER_COLUMNS " FROM a JOIN rk_tenant t ON t.id = a.tenant_id";

static const char sql_disable[] =
    "WITH t AS (SELECT * FROM rk_tenant t WHERE " TENANT_MATCH "),"
    " a AS (UPDATE rk_adapter x SET state = 'disabled', revision = x.revision + 1,"
    "  updated_at = now() FROM t WHERE x.tenant_id = t.id AND x.name = $2 RETURNING x.*)"
    " SELECT " ADAPTER_COLUMNS " FROM t LEFT JOIN a ON true";

static const char sql_enable[] =
    "WITH t AS (SELECT * FROM rk_tenant t WHERE " TENANT_MATCH "),"
    " a AS (UPDATE rk_adapter x SET state = 'pending', last_error = '',"
    "  revision = x.revision + 1, updated_at = now()"
    "  FROM t WHERE x.tenant_id = t.id AND x.name = $2 RETURNING x.*)"
    " SELECT " ADAPTER_COLUMNS " FROM t LEFT JOIN a ON true";

static const char sql_remove[] =
    "WITH t AS (SELECT t.id FROM rk_tenant t WHERE " TENANT_MATCH "),"
    " d AS (DELETE FROM rk_adapter x USING t WHERE x.tenant_id = t.id AND x.name = $2"
    "  RETURNING x.id)"
    " SELECT t.id, d.id FROM t LEFT JOIN d ON true";

static const char sql_list[] =
    "SELECT " ADAPTER_COLUMNS ", (SELECT count(*) FROM rk_adapter c WHERE c.tenant_id = t.id)"
    " FROM rk_tenant t LEFT JOIN LATERAL (SELECT * FROM rk_adapter x"
    "  WHERE x.tenant_id = t.id AND x.name > $2 ORDER BY x.name LIMIT $3) a ON true"
    " WHERE " TENANT_MATCH " ORDER BY a.name";

static const char sql_request_get[] = "SELECT request_sha256 FROM rk_adapter_request"
                                      " WHERE caller = $1 AND method = $2 AND idempotency_key = $3";

/* Records a key only when the call is about an existing adapter ($5 tenant, $6 name): a
 * refusal (NOT_FOUND) is not remembered. RegisterAdapter puts it after its insert, the other
 * methods before their change (RemoveAdapter's adapter is gone after). */
static const char sql_request_put[] =
    "INSERT INTO rk_adapter_request (caller, method, idempotency_key, request_sha256)"
    " SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM rk_adapter a"
    "  JOIN rk_tenant t ON t.id = a.tenant_id WHERE (t.slug = $5 OR t.code = $5)"
    "  AND a.name = $6)"
    " ON CONFLICT DO NOTHING";

typedef enum { M_REGISTER, M_LIST, M_DISABLE, M_ENABLE, M_REMOVE } method_t;

static const char *const method_names[] = {"RegisterAdapter", "ListAdapters", "DisableAdapter",
                                           "EnableAdapter", "RemoveAdapter"};

/* One adapter row, copied into an arena. */
typedef struct row {
    int64_t id, revision, tenant_id;
    const char *code, *slug, *name_ja, *name_en, *name_kana;
    const char *name, *endpoint, *state, *version, *last_error, *ca_sha256, *pin, *created;
    const char *ca_pem, *server_name;
    uint32_t expected, capabilities;
} row_t;

typedef struct op op_t;
typedef void (*step_fn)(op_t *op);
typedef struct rk_federation_activation activation_t;

struct op {
    rk_federation_t *federation;
    rk_rpc_t *rpc;
    rk_request_t *req;
    method_t method;
    const char *tenant;
    const char *name;
    const char *key; /* idempotency key, "" when none */
    char request_sha256[65];
    step_fn next; /* what runs when the key is new */
    rk_federation_registration_t registration;
    row_t row;                  /* the adapter being activated, as written PENDING */
    activation_t *activation;   /* while the call waits for its outcome */
    struct event *answer_timer; /* answers PENDING just before the caller's deadline */
};

/* --- helpers ------------------------------------------------------------------------------- */

static int64_t to_int(const char *text)
{
    return strtoll(text, NULL, 10);
}

static void row_read(rk_arena_t *arena, const PGresult *r, int i, row_t *row)
{
#define TEXT(col) rk_arena_strdup(arena, PQgetvalue(r, i, col))
    row->id = to_int(PQgetvalue(r, i, COL_ID));
    row->revision = to_int(PQgetvalue(r, i, COL_REVISION));
    row->tenant_id = to_int(PQgetvalue(r, i, COL_TENANT_ID));
    row->code = TEXT(COL_CODE);
    row->slug = TEXT(COL_SLUG);
    row->name_ja = TEXT(COL_NAME_JA);
    row->name_en = TEXT(COL_NAME_EN);
    row->name_kana = TEXT(COL_NAME_KANA);
    row->name = TEXT(COL_NAME);
    row->endpoint = TEXT(COL_ENDPOINT);
    row->expected = rk_federation_capability_list_parse(PQgetvalue(r, i, COL_EXPECTED));
    row->capabilities = rk_federation_capability_list_parse(PQgetvalue(r, i, COL_CAPABILITIES));
    row->state = TEXT(COL_STATE);
    row->version = TEXT(COL_VERSION);
    row->last_error = TEXT(COL_LAST_ERROR);
    row->ca_sha256 = TEXT(COL_CA_SHA256);
    row->pin = TEXT(COL_PIN);
    row->created = TEXT(COL_CREATED);
    row->ca_pem = TEXT(COL_CA_PEM);
    row->server_name = TEXT(COL_SERVER_NAME);
#undef TEXT
}

static Renkei__V1__AdapterCapability *capability_array(rk_arena_t *arena, uint32_t bits, size_t *n)
{
    Renkei__V1__AdapterCapability *list = rk_arena_calloc(arena, 32, sizeof(*list));
    *n = 0;
    for (int c = 1; c < 32; c++) {
        if (bits & (1u << c))
            list[(*n)++] = (Renkei__V1__AdapterCapability)c;
    }
    return list;
}

/* The Adapter message of row, in the arena. The breaker is CLOSED while the adapter is in
 * this hub's registry (breakers proper come with the federation engine). */
static Renkei__V1__Adapter *adapter_message(const op_t *op, const row_t *row)
{
    rk_arena_t *arena = op->req->arena;
    Renkei__V1__LocalizedText *name = rk_arena_alloc(arena, sizeof(*name));
    *name = (Renkei__V1__LocalizedText)RENKEI__V1__LOCALIZED_TEXT__INIT;
    name->ja = (char *)row->name_ja;
    name->en = (char *)row->name_en;
    name->kana = (char *)row->name_kana;
    Renkei__V1__MunicipalityRef *tenant = rk_arena_alloc(arena, sizeof(*tenant));
    *tenant = (Renkei__V1__MunicipalityRef)RENKEI__V1__MUNICIPALITY_REF__INIT;
    tenant->code = (char *)row->code;
    tenant->slug = (char *)row->slug;
    tenant->name = name;
    Renkei__V1__Adapter *a = rk_arena_alloc(arena, sizeof(*a));
    *a = (Renkei__V1__Adapter)RENKEI__V1__ADAPTER__INIT;
    a->id = rk_arena_printf(arena, "%lld", (long long)row->id);
    a->tenant = tenant;
    a->name = (char *)row->name;
    a->endpoint = (char *)row->endpoint;
    a->expected_capabilities = capability_array(arena, row->expected, &a->n_expected_capabilities);
    a->capabilities = capability_array(arena, row->capabilities, &a->n_capabilities);
    a->state = rk_federation_state_value(row->state);
    const rk_federation_adapter_t *in = rk_federation_find(op->federation, row->slug, row->name);
    a->breaker = in && in->id == row->id ? RENKEI__V1__BREAKER_STATE__BREAKER_STATE_CLOSED
                                         : RENKEI__V1__BREAKER_STATE__BREAKER_STATE_UNSPECIFIED;
    a->adapter_version = (char *)row->version;
    a->last_error = (char *)row->last_error;
    a->ca_pem_sha256 = (char *)row->ca_sha256;
    a->pinned_cert_sha256 = (char *)row->pin;
    a->created_at = (char *)row->created;
    return a;
}

/* SHA-256 (hex) of a request packed without its idempotency key: "the same request". Every
 * mutating request of the contract has the key as field idempotency_key; it is cleared on a
 * shallow copy, found through the descriptor, so one function serves every request type. */
static void request_hash(const ProtobufCMessage *request, rk_arena_t *arena, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    const ProtobufCMessageDescriptor *d = request->descriptor;
    ProtobufCMessage *without_key = rk_arena_alloc(arena, d->sizeof_message);
    memcpy(without_key, request, d->sizeof_message);
    const ProtobufCFieldDescriptor *key =
        protobuf_c_message_descriptor_get_field_by_name(d, "idempotency_key");
    if (key)
        *(void **)((char *)without_key + key->offset) = NULL;
    size_t len = protobuf_c_message_get_packed_size(without_key);
    uint8_t *bytes = rk_arena_alloc(arena, len ? len : 1);
    protobuf_c_message_pack(without_key, bytes);
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(bytes, len, md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* --- answers -------------------------------------------------------------------------------- */

static void fail_store(op_t *op, const rk_store_result_t *res)
{
    if (res && res->status == RK_EINVAL) {
        rk_log_error("adapter query failed", "{s:s, s:s, s:s}", "request_id", op->req->request_id,
                     "method", method_names[op->method], "error", res->error);
        rk_rpc_fail(op->rpc, RK_RPC_INTERNAL,
                    rk_arena_printf(op->req->arena, "request %s failed; the hub's log has why",
                                    op->req->request_id));
        return;
    }
    rk_rpc_fail(op->rpc, RK_RPC_UNAVAILABLE, "the database is not reachable now; retry later");
}

static void fail_tenant(op_t *op)
{
    rk_rpc_fail(
        op->rpc, RK_RPC_NOT_FOUND,
        rk_arena_printf(op->req->arena, "tenant: no tenant with slug or code \"%s\"", op->tenant));
}

static void fail_adapter(op_t *op)
{
    rk_rpc_fail(op->rpc, RK_RPC_NOT_FOUND,
                rk_arena_printf(op->req->arena, "name: tenant %s has no adapter named \"%s\"",
                                op->tenant, op->name));
}

static void reply_adapter(op_t *op, const row_t *row)
{
    Renkei__V1__Adapter *adapter = adapter_message(op, row);
    switch (op->method) {
    case M_REGISTER: {
        Renkei__V1__RegisterAdapterResponse out = RENKEI__V1__REGISTER_ADAPTER_RESPONSE__INIT;
        out.adapter = adapter;
        rk_rpc_reply(op->rpc, &out.base);
        return;
    }
    case M_DISABLE: {
        Renkei__V1__DisableAdapterResponse out = RENKEI__V1__DISABLE_ADAPTER_RESPONSE__INIT;
        out.adapter = adapter;
        rk_rpc_reply(op->rpc, &out.base);
        return;
    }
    case M_ENABLE: {
        Renkei__V1__EnableAdapterResponse out = RENKEI__V1__ENABLE_ADAPTER_RESPONSE__INIT;
        out.adapter = adapter;
        rk_rpc_reply(op->rpc, &out.base);
        return;
    }
    case M_LIST:
    case M_REMOVE:
        break;
    }
    rk_rpc_fail(op->rpc, RK_RPC_INTERNAL, "no adapter answer for this method");
}

static void reply_removed(op_t *op)
{
    Renkei__V1__RemoveAdapterResponse out = RENKEI__V1__REMOVE_ADAPTER_RESPONSE__INIT;
    rk_rpc_reply(op->rpc, &out.base);
}

/* The single row of res (tenant, maybe adapter) into op->row; answers NOT_FOUND and returns 0
 * when the tenant or the adapter does not exist. */
static int one_adapter(op_t *op, const PGresult *r)
{
    if (PQntuples(r) < 1) {
        fail_tenant(op);
        return 0;
    }
    if (PQgetisnull(r, 0, COL_ID)) {
        fail_adapter(op);
        return 0;
    }
    row_read(op->req->arena, r, 0, &op->row);
    return 1;
}

/* The result of the statement that matters in a batch that may also hold the key's insert. */
static const PGresult *main_result(const op_t *op, const rk_store_result_t *res)
{
    if (res->status != RK_OK || res->n_results < 1)
        return NULL;
    int key_first = *op->key && op->method != M_REGISTER;
    int index = key_first ? res->n_results - 1 : 0;
    PGresult *r = res->results[index];
    return PQresultStatus(r) == PGRES_TUPLES_OK ? r : NULL;
}

/* Runs stmt (with values) in one transaction with the idempotency key's record, if any. */
static void run(op_t *op, const char *stmt, int n, const char *const *values, rk_store_cb cb)
{
    int rc;
    if (!*op->key) {
        rc = rk_store_exec(op->federation->app->store, stmt, n, values, cb, op);
    } else {
        const char *put[] = {CALLER_ADMIN, method_names[op->method],
                             op->key,      op->request_sha256,
                             op->tenant,   op->name};
        rk_store_batch_t *batch = rk_store_batch_new(op->federation->app->store);
        if (op->method == M_REGISTER)
            rk_store_batch_add(batch, 1, stmt, n, values);
        rk_store_batch_add(batch, 1, STMT_REQUEST_PUT, 6, put);
        if (op->method != M_REGISTER)
            rk_store_batch_add(batch, 1, stmt, n, values);
        rc = rk_store_batch_run(batch, cb, op);
    }
    if (rc != RK_AGAIN)
        fail_store(op, NULL);
}

/* --- authorization and idempotency ---------------------------------------------------------- */

/*
 * 1 if the call may go on for tenant (as the request names it); otherwise answered (see
 * hub/admin/admin_auth.h). Changes need a tenant-admin; reading the list, any staff role.
 */
static int authorize(rk_rpc_t *rpc, method_t method, const char *tenant)
{
    unsigned roles = method == M_LIST ? RK_ADMIN_ROLE_TENANT_ADMIN | RK_ADMIN_ROLE_AUDITOR |
                                            RK_ADMIN_ROLE_FACILITY_MANAGER | RK_ADMIN_ROLE_LIBRARIAN
                                      : RK_ADMIN_ROLE_TENANT_ADMIN;
    return rk_admin_authorize_tenant_rpc(rpc, method_names[method], tenant, roles);
}

static op_t *op_new(rk_rpc_t *rpc, method_t method)
{
    rk_request_t *req = rk_rpc_request(rpc);
    op_t *op = rk_arena_calloc(req->arena, 1, sizeof(*op));
    op->federation = rk_app(req)->federation;
    op->rpc = rpc;
    op->req = req;
    op->method = method;
    op->key = "";
    return op;
}

static void replayed(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    const PGresult *r = main_result(op, res);
    if (!r) {
        fail_store(op, res);
        return;
    }
    if (one_adapter(op, r))
        reply_adapter(op, &op->row);
}

/* Answers a repeated request again: the adapter as it is now. */
static void replay(op_t *op)
{
    if (op->method == M_REMOVE) {
        reply_removed(op);
        return;
    }
    const char *values[] = {op->tenant, op->name};
    if (rk_store_exec(op->federation->app->store, STMT_GET, 2, values, replayed, op) != RK_AGAIN)
        fail_store(op, NULL);
}

static void key_looked_up(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(op, res);
        return;
    }
    const PGresult *r = res->results[0];
    if (PQntuples(r) == 0) {
        op->next(op);
    } else if (strcmp(PQgetvalue(r, 0, 0), op->request_sha256) == 0) {
        rk_log_info("idempotent request repeated", "{s:s, s:s}", "request_id", op->req->request_id,
                    "method", method_names[op->method]);
        replay(op);
    } else {
        rk_rpc_fail(op->rpc, RK_RPC_ALREADY_EXISTS,
                    "idempotency_key: already used with a different request "
                    "(ERROR_REASON_IDEMPOTENCY_KEY_REUSED)");
    }
}

/* Runs next unless the idempotency key was seen before. */
static void start(op_t *op, step_fn next)
{
    op->next = next;
    if (!*op->key) {
        next(op);
        return;
    }
    const char *values[] = {CALLER_ADMIN, method_names[op->method], op->key};
    if (rk_store_exec(op->federation->app->store, STMT_REQUEST_GET, 3, values, key_looked_up, op) !=
        RK_AGAIN)
        fail_store(op, NULL);
}

/* Checks the key, tenant and name every method but ListAdapters takes; answers on error. */
static int check_target(op_t *op, const Renkei__V1__IdempotencyKey *key, const char *tenant,
                        const char *name)
{
    if (key && *key->key) {
        if (rk_federation_idempotency_key_check(key->key) != RK_OK) {
            rk_rpc_fail(op->rpc, RK_RPC_INVALID_ARGUMENT,
                        "idempotency_key.key: must be 1-128 characters of [A-Za-z0-9._:-]");
            return 0;
        }
        op->key = key->key;
    }
    if (!*tenant) {
        rk_rpc_fail(op->rpc, RK_RPC_INVALID_ARGUMENT,
                    "tenant: required (the tenant's slug or 6-digit code)");
        return 0;
    }
    if (rk_federation_name_check(name) != RK_OK) {
        rk_rpc_fail(op->rpc, RK_RPC_INVALID_ARGUMENT,
                    "name: must be 1-63 characters of a-z, 0-9 and '-', starting with a letter "
                    "or digit");
        return 0;
    }
    op->tenant = tenant;
    op->name = name;
    return 1;
}

/* --- activation ----------------------------------------------------------------------------- */

/*
 * An activation: the probe, then its outcome stored (only if the row's revision is still the
 * one probed) and the registry updated. It has an arena of its own because it may outlive the
 * call: when the caller's deadline comes before the outcome, answer_pending_cb() answers with
 * the adapter PENDING and the activation goes on without the call.
 */
struct rk_federation_activation {
    activation_t *next; /* in federation->activations */
    rk_arena_t *arena;
    rk_federation_t *federation;
    op_t *op; /* the call waiting for the outcome; NULL once it is answered */
    const char *request_id;
    row_t row;                 /* as probed (PENDING), then as stored */
    rk_rpc_channel_t *channel; /* an accepted probe's channel, until the registry takes it */
};

static void row_copy(rk_arena_t *arena, const row_t *from, row_t *to)
{
    *to = *from;
    const char **texts[] = {&to->code,      &to->slug,       &to->name_ja,    &to->name_en,
                            &to->name_kana, &to->name,       &to->endpoint,   &to->state,
                            &to->version,   &to->last_error, &to->ca_sha256,  &to->pin,
                            &to->created,   &to->ca_pem,     &to->server_name};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        *texts[i] = rk_arena_strdup(arena, *texts[i]);
}

/* The call still waiting for a, now detached from it (NULL if none). */
static op_t *detach_call(activation_t *a)
{
    op_t *op = a->op;
    if (op)
        op->activation = NULL;
    a->op = NULL;
    return op;
}

static void activation_free(activation_t *a)
{
    for (activation_t **p = &a->federation->activations; *p; p = &(*p)->next) {
        if (*p == a) {
            *p = a->next;
            break;
        }
    }
    detach_call(a);
    rk_rpc_channel_free(a->channel);
    rk_arena_free(a->arena);
}

static void activation_reread(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(op, res);
        return;
    }
    const PGresult *r = res->results[0];
    if (PQntuples(r) == 0) {
        rk_rpc_fail(op->rpc, RK_RPC_NOT_FOUND,
                    rk_arena_printf(op->req->arena,
                                    "name: the adapter \"%s\" was removed while it was being "
                                    "activated",
                                    op->name));
        return;
    }
    row_read(op->req->arena, r, 0, &op->row);
    reply_adapter(op, &op->row);
}

static void activation_saved(const rk_store_result_t *res, void *arg)
{
    activation_t *a = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        op_t *op = detach_call(a);
        if (op)
            fail_store(op, res);
        else
            rk_log_error("storing the outcome of an activation failed; the adapter stays pending",
                         "{s:s, s:s, s:s, s:s}", "request_id", a->request_id, "tenant", a->row.slug,
                         "adapter", a->row.name, "error", res->error);
        activation_free(a);
        return;
    }
    const PGresult *r = res->results[0];
    if (PQntuples(r) == 0) {
        /* Someone changed the adapter meanwhile (disabled, enabled again, removed): the
         * registry follows that change, not this probe; a waiting call gets the row as it
         * now stands. */
        op_t *op = detach_call(a);
        activation_free(a);
        if (!op)
            return;
        char id[24];
        snprintf(id, sizeof(id), "%lld", (long long)op->row.id);
        const char *values[] = {id};
        if (rk_store_exec(op->federation->app->store, STMT_GET_BY_ID, 1, values, activation_reread,
                          op) != RK_AGAIN)
            fail_store(op, NULL);
        return;
    }
    row_read(a->arena, r, 0, &a->row);
    const row_t *row = &a->row;
    if (strcmp(row->state, "active") == 0 && a->channel) {
        rk_federation_adapter_t entry = {
            .id = row->id,
            .revision = row->revision,
            .tenant_id = row->tenant_id,
            .tenant_code = (char *)row->code,
            .tenant_slug = (char *)row->slug,
            .name = (char *)row->name,
            .endpoint = (char *)row->endpoint,
            .ca_pem = (char *)row->ca_pem,
            .pinned_sha256 = (char *)row->pin,
            .tls_server_name = (char *)row->server_name,
            .capabilities = row->capabilities,
            .adapter_version = (char *)row->version,
        };
        rk_federation_registry_put(a->federation, &entry, a->channel);
        a->channel = NULL;
        rk_log_info("adapter activated", "{s:s, s:s, s:s, s:s}", "request_id", a->request_id,
                    "tenant", row->slug, "adapter", row->name, "version", row->version);
    } else {
        rk_federation_registry_drop(a->federation, row->id);
        rk_log_warn("adapter activation failed", "{s:s, s:s, s:s, s:s}", "request_id",
                    a->request_id, "tenant", row->slug, "adapter", row->name, "reason",
                    row->last_error);
    }
    op_t *op = detach_call(a);
    if (op)
        reply_adapter(op, row);
    activation_free(a);
}

static void probed(const rk_federation_probe_result_t *result, void *arg)
{
    activation_t *a = arg;
    rk_arena_t *arena = a->arena;
    char id[24], revision[24];
    snprintf(id, sizeof(id), "%lld", (long long)a->row.id);
    snprintf(revision, sizeof(revision), "%lld", (long long)a->row.revision);
    const char *values[] = {
        id,
        revision,
        result->accepted ? "active" : "failed",
        rk_federation_capability_list(arena, result->capabilities),
        result->adapter_version,
        result->contract_version,
        result->owner_system,
        result->why,
    };
    a->channel = result->channel;
    if (rk_store_exec(a->federation->app->store, STMT_SAVE, 8, values, activation_saved, a) !=
        RK_AGAIN) {
        op_t *op = detach_call(a);
        if (op)
            fail_store(op, NULL);
        else
            rk_log_error("the outcome of an activation cannot be stored; the adapter stays "
                         "pending",
                         "{s:s, s:s, s:s}", "request_id", a->request_id, "tenant", a->row.slug,
                         "adapter", a->row.name);
        activation_free(a);
    }
}

/* The caller's deadline is near and the outcome is not in: answer with the adapter PENDING,
 * as written before the probe. The activation goes on and stores its outcome. */
static void answer_pending_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    op_t *op = arg;
    if (!op->activation)
        return;
    detach_call(op->activation);
    rk_log_info("adapter activation goes on after the call's deadline", "{s:s, s:s, s:s}",
                "request_id", op->req->request_id, "tenant", op->row.slug, "adapter", op->row.name);
    reply_adapter(op, &op->row);
}

/* The call's request is being freed: its activation, if any, goes on without it. */
static void op_ended(void *data)
{
    op_t *op = data;
    if (op->activation)
        detach_call(op->activation);
    if (op->answer_timer)
        event_free(op->answer_timer);
}

/* How long the probe may take: federation.activation_timeout_ms, less when the caller's
 * deadline is nearer (keeping time to store the outcome and answer), but never so little
 * that a short deadline alone would mark a healthy adapter failed: such a call is answered
 * PENDING at its deadline instead (answer_pending_cb). */
static uint64_t probe_budget(const op_t *op)
{
    uint64_t budget = (uint64_t)op->federation->app->cfg->federation_activation_timeout_ms * MS;
    uint64_t left = rk_rpc_deadline_ns(op->rpc);
    if (left != UINT64_MAX) {
        left = left > ANSWER_MARGIN_NS ? left - ANSWER_MARGIN_NS : 0;
        if (left < budget)
            budget = left;
    }
    return budget < BUDGET_MIN_NS ? BUDGET_MIN_NS : budget;
}

/*
 * 1 if the call has time to be answered, at least PENDING; otherwise answers
 * DEADLINE_EXCEEDED before anything is written, so that so short a deadline has a certain
 * outcome: nothing changed.
 */
static int time_to_activate(rk_rpc_t *rpc)
{
    if (rk_rpc_deadline_ns(rpc) >= PENDING_MARGIN_NS)
        return 1;
    rk_rpc_fail(rpc, RK_RPC_DEADLINE_EXCEEDED,
                "the call's deadline leaves less than 50 ms, too little to activate an "
                "adapter; nothing was changed");
    return 0;
}

/* Probes op->row (just set PENDING) and stores the outcome; answers the call with it, or
 * PENDING when the call's deadline comes first. */
static void activate(op_t *op)
{
    rk_federation_t *fed = op->federation;
    rk_arena_t *arena = rk_arena_new();
    activation_t *a = rk_arena_calloc(arena, 1, sizeof(*a));
    a->arena = arena;
    a->federation = fed;
    a->op = op;
    a->request_id = rk_arena_strdup(arena, op->req->request_id);
    row_copy(arena, &op->row, &a->row);
    a->next = fed->activations;
    fed->activations = a;
    op->activation = a;
    rk_arena_on_free(op->req->arena, op_ended, op);
    uint64_t left = rk_rpc_deadline_ns(op->rpc);
    if (left != UINT64_MAX) {
        uint64_t wait = left > PENDING_MARGIN_NS ? left - PENDING_MARGIN_NS : 0;
        struct timeval tv = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u / 1000u)};
        op->answer_timer = evtimer_new(fed->app->base, answer_pending_cb, op);
        evtimer_add(op->answer_timer, &tv);
    }
    const row_t *row = &a->row;
    rk_federation_adapter_t target = {
        .id = row->id,
        .tenant_code = (char *)row->code,
        .tenant_slug = (char *)row->slug,
        .name = (char *)row->name,
        .endpoint = (char *)row->endpoint,
        .ca_pem = (char *)row->ca_pem,
        .pinned_sha256 = (char *)row->pin,
        .tls_server_name = (char *)row->server_name,
    };
    rk_federation_probe_start(fed, &target, row->expected, probe_budget(op), probed, a);
}

void rk_federation_admin_free(rk_federation_t *federation)
{
    while (federation->activations)
        activation_free(federation->activations);
}

/* --- RegisterAdapter ------------------------------------------------------------------------ */

static void registered(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status == RK_EINVAL && strcmp(res->sqlstate, "23505") == 0 &&
        strstr(res->error, "rk_adapter_name_unique")) {
        rk_rpc_fail(op->rpc, RK_RPC_ALREADY_EXISTS,
                    rk_arena_printf(op->req->arena,
                                    "name: tenant %s already has an adapter named \"%s\"",
                                    op->tenant, op->name));
        return;
    }
    const PGresult *r = main_result(op, res);
    if (!r) {
        fail_store(op, res);
        return;
    }
    if (PQntuples(r) < 1) {
        fail_tenant(op);
        return;
    }
    row_read(op->req->arena, r, 0, &op->row);
    rk_log_info("adapter registered", "{s:s, s:s, s:s, s:s}", "request_id", op->req->request_id,
                "tenant", op->row.slug, "adapter", op->row.name, "endpoint", op->row.endpoint);
    activate(op);
}

static void register_insert(op_t *op)
{
    const rk_federation_registration_t *g = &op->registration;
    const char *values[] = {
        g->tenant,
        g->name,
        g->endpoint,
        rk_federation_capability_list(op->req->arena, g->expected),
        g->ca_pem ? g->ca_pem : "",
        g->ca_sha256,
        g->pin_sha256,
        g->tls_server_name,
    };
    run(op, STMT_INSERT, 8, values, registered);
}

static void register_adapter(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__RegisterAdapterRequest *in =
        (const Renkei__V1__RegisterAdapterRequest *)message;
    if (!authorize(rpc, M_REGISTER, in->tenant) || !time_to_activate(rpc))
        return;
    op_t *op = op_new(rpc, M_REGISTER);
    char why[512];
    if (rk_federation_registration_check(in, op->req->arena, &op->registration, why, sizeof(why)) !=
        RK_OK) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, rk_arena_strdup(op->req->arena, why));
        return;
    }
    op->tenant = op->registration.tenant;
    op->name = op->registration.name;
    op->key = op->registration.idempotency_key;
    request_hash(message, op->req->arena, op->request_sha256);
    start(op, register_insert);
}

/* --- EnableAdapter, DisableAdapter, RemoveAdapter -------------------------------------------- */

static void enabled(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    const PGresult *r = main_result(op, res);
    if (!r) {
        fail_store(op, res);
        return;
    }
    if (one_adapter(op, r))
        activate(op);
}

static void disabled(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    const PGresult *r = main_result(op, res);
    if (!r) {
        fail_store(op, res);
        return;
    }
    if (!one_adapter(op, r))
        return;
    rk_federation_registry_drop(op->federation, op->row.id);
    rk_log_info("adapter disabled", "{s:s, s:s, s:s}", "request_id", op->req->request_id, "tenant",
                op->row.slug, "adapter", op->row.name);
    reply_adapter(op, &op->row);
}

static void removed(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    const PGresult *r = main_result(op, res);
    if (!r) {
        fail_store(op, res);
        return;
    }
    if (PQntuples(r) < 1) {
        fail_tenant(op);
        return;
    }
    if (PQgetisnull(r, 0, 1)) {
        fail_adapter(op);
        return;
    }
    rk_federation_registry_drop(op->federation, to_int(PQgetvalue(r, 0, 1)));
    rk_log_info("adapter removed", "{s:s, s:s, s:s}", "request_id", op->req->request_id, "tenant",
                op->tenant, "adapter", op->name);
    reply_removed(op);
}

static void enable_run(op_t *op)
{
    const char *values[] = {op->tenant, op->name};
    run(op, STMT_ENABLE, 2, values, enabled);
}

static void disable_run(op_t *op)
{
    const char *values[] = {op->tenant, op->name};
    run(op, STMT_DISABLE, 2, values, disabled);
}

static void remove_run(op_t *op)
{
    const char *values[] = {op->tenant, op->name};
    run(op, STMT_REMOVE, 2, values, removed);
}

/* The common path of the methods that name one adapter: authorize, check, then run. */
static void on_target(rk_rpc_t *rpc, const ProtobufCMessage *message, method_t method,
                      const Renkei__V1__IdempotencyKey *key, const char *tenant, const char *name,
                      void (*run_op)(op_t *))
{
    if (!authorize(rpc, method, tenant) || (method == M_ENABLE && !time_to_activate(rpc)))
        return;
    op_t *op = op_new(rpc, method);
    if (!check_target(op, key, tenant, name))
        return;
    request_hash(message, op->req->arena, op->request_sha256);
    start(op, run_op);
}

static void enable_adapter(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__EnableAdapterRequest *in = (const Renkei__V1__EnableAdapterRequest *)message;
    on_target(rpc, message, M_ENABLE, in->idempotency_key, in->tenant, in->name, enable_run);
}

static void disable_adapter(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__DisableAdapterRequest *in =
        (const Renkei__V1__DisableAdapterRequest *)message;
    on_target(rpc, message, M_DISABLE, in->idempotency_key, in->tenant, in->name, disable_run);
}

static void remove_adapter(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__RemoveAdapterRequest *in = (const Renkei__V1__RemoveAdapterRequest *)message;
    on_target(rpc, message, M_REMOVE, in->idempotency_key, in->tenant, in->name, remove_run);
}

/* --- ListAdapters --------------------------------------------------------------------------- */

typedef struct listing {
    op_t *op;
    int page_size;
} listing_t;

static void listed(const rk_store_result_t *res, void *arg)
{
    listing_t *l = arg;
    op_t *op = l->op;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(op, res);
        return;
    }
    const PGresult *r = res->results[0];
    int n = PQntuples(r);
    if (n < 1) {
        fail_tenant(op);
        return;
    }
    rk_arena_t *arena = op->req->arena;
    Renkei__V1__ListAdaptersResponse out = RENKEI__V1__LIST_ADAPTERS_RESPONSE__INIT;
    out.adapters = rk_arena_calloc(arena, (size_t)n, sizeof(*out.adapters));
    row_t *rows = rk_arena_calloc(arena, (size_t)n, sizeof(*rows));
    for (int i = 0; i < n && (int)out.n_adapters < l->page_size; i++) {
        if (PQgetisnull(r, i, COL_ID))
            continue;
        row_read(arena, r, i, &rows[i]);
        out.adapters[out.n_adapters++] = adapter_message(op, &rows[i]);
    }
    Renkei__V1__PageResponse page = RENKEI__V1__PAGE_RESPONSE__INIT;
    page.total_size = (int32_t)to_int(PQgetvalue(r, 0, N_COLUMNS));
    if (n > l->page_size && out.n_adapters > 0)
        page.next_page_token = out.adapters[out.n_adapters - 1]->name;
    out.page = &page;
    rk_rpc_reply(op->rpc, &out.base);
}

static void list_adapters(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__ListAdaptersRequest *in = (const Renkei__V1__ListAdaptersRequest *)message;
    if (!authorize(rpc, M_LIST, in->tenant))
        return;
    op_t *op = op_new(rpc, M_LIST);
    if (!*in->tenant) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "tenant: required (the tenant's slug or 6-digit code)");
        return;
    }
    op->tenant = in->tenant;
    int page_size = in->page ? in->page->page_size : 0;
    const char *after = in->page ? in->page->page_token : "";
    if (page_size < 0 || page_size > PAGE_SIZE_MAX) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "page.page_size: must be between 0 (the default, 20) and 100");
        return;
    }
    if (*after && rk_federation_name_check(after) != RK_OK) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "page.page_token: not a next_page_token of ListAdapters");
        return;
    }
    listing_t *l = rk_arena_calloc(op->req->arena, 1, sizeof(*l));
    l->op = op;
    l->page_size = page_size ? page_size : PAGE_SIZE_DEFAULT;
    char limit[16];
    snprintf(limit, sizeof(limit), "%d", l->page_size + 1);
    const char *values[] = {in->tenant, after, limit};
    if (rk_store_exec(op->federation->app->store, STMT_LIST, 3, values, listed, l) != RK_AGAIN)
        fail_store(op, NULL);
}

/* --- registration --------------------------------------------------------------------------- */

static const rk_rpc_method_t methods[] = {
    {"/renkei.v1.AdminService/RegisterAdapter", &renkei__v1__register_adapter_request__descriptor,
     &renkei__v1__register_adapter_response__descriptor, register_adapter, 0},
    {"/renkei.v1.AdminService/ListAdapters", &renkei__v1__list_adapters_request__descriptor,
     &renkei__v1__list_adapters_response__descriptor, list_adapters, 0},
    {"/renkei.v1.AdminService/DisableAdapter", &renkei__v1__disable_adapter_request__descriptor,
     &renkei__v1__disable_adapter_response__descriptor, disable_adapter, 0},
    {"/renkei.v1.AdminService/EnableAdapter", &renkei__v1__enable_adapter_request__descriptor,
     &renkei__v1__enable_adapter_response__descriptor, enable_adapter, 0},
    {"/renkei.v1.AdminService/RemoveAdapter", &renkei__v1__remove_adapter_request__descriptor,
     &renkei__v1__remove_adapter_response__descriptor, remove_adapter, 0},
};

void rk_federation_admin_register(rk_federation_t *federation, rk_router_t *router)
{
    rk_store_t *store = federation->app->store;
    rk_store_prepare(store, STMT_GET, sql_get);
    rk_store_prepare(store, STMT_GET_BY_ID, sql_get_by_id);
    rk_store_prepare(store, STMT_INSERT, sql_insert);
    rk_store_prepare(store, STMT_SAVE, sql_save);
    rk_store_prepare(store, STMT_DISABLE, sql_disable);
    rk_store_prepare(store, STMT_ENABLE, sql_enable);
    rk_store_prepare(store, STMT_REMOVE, sql_remove);
    rk_store_prepare(store, STMT_LIST, sql_list);
    rk_store_prepare(store, STMT_REQUEST_GET, sql_request_get);
    rk_store_prepare(store, STMT_REQUEST_PUT, sql_request_put);
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        rk_rpc_register(router, &methods[i]);
}
