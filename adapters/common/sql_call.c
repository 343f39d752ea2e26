/*
 * sql_call.c — one AdapterService call = one SQL function in the owner's database (see
 * sql_call.h).
 */
#include "sql_call.h"

#include "core/error.h"
#include "core/log.h"
#include "net/json_transcode.h"
#include "store/pool.h"

#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One call waiting for its statement. */
typedef struct pending {
    rk_adapter_call_t *call;
    const rk_sql_methods_t *methods;
    const ProtobufCMessageDescriptor *output; /* the method's response type */
} pending_t;

static void *call_alloc(void *call, size_t size)
{
    return rk_adapter_call_alloc(call, size);
}

static void call_free(void *call, void *pointer)
{
    (void)call;
    (void)pointer; /* the call's memory goes with the call */
}

static void owner_unavailable(rk_adapter_call_t *call, const rk_sql_methods_t *methods)
{
    rk_adapter_fail(call, RK_ADAPTER_UNAVAILABLE, methods->unavailable_reason,
                    methods->unavailable_message);
}

/* SQLSTATE classes that say "not now" rather than "wrong": a retry with the same key is safe. */
static int transient(const char *sqlstate)
{
    static const char *const classes[] = {"08", "40", "53", "57", NULL};
    for (const char *const *c = classes; *c; c++)
        if (sqlstate && strncmp(sqlstate, *c, 2) == 0)
            return 1;
    return 0;
}

/* The function's error object as the call's error. */
static void fail_with(rk_adapter_call_t *call, const json_t *answer)
{
    json_int_t code = json_integer_value(json_object_get(answer, "code"));
    const char *field = json_string_value(json_object_get(answer, "field"));
    const char *reason = json_string_value(json_object_get(answer, "reason"));
    const char *message = json_string_value(json_object_get(answer, "message"));
    if (code < RK_ADAPTER_CANCELLED || code > RK_ADAPTER_UNAUTHENTICATED) {
        rk_log_error("owner database answered no known code", "{s:s}", "request_id",
                     rk_adapter_call_request_id(call));
        rk_adapter_fail(call, RK_ADAPTER_INTERNAL, NULL, "the adapter's link schema misbehaved");
        return;
    }
    Renkei__V1__ErrorDetail detail = RENKEI__V1__ERROR_DETAIL__INIT;
    Renkei__V1__FieldViolation violation = RENKEI__V1__FIELD_VIOLATION__INIT;
    Renkei__V1__FieldViolation *violations[] = {&violation};
    if (field) {
        violation.field = rk_adapter_call_strdup(call, field);
        violation.description =
            rk_adapter_call_strdup(call, json_string_value(json_object_get(answer, "description")));
        detail.field_violations = violations;
        detail.n_field_violations = 1;
        detail.reason = "ERROR_REASON_FIELD_INVALID";
        message = rk_adapter_call_printf(call, "%s: %s", field, violation.description);
    } else {
        detail.reason = reason ? rk_adapter_call_strdup(call, reason) : NULL;
        detail.retry_after_seconds =
            (int32_t)json_integer_value(json_object_get(answer, "retry_after"));
        message = rk_adapter_call_strdup(call, message ? message : "");
    }
    rk_adapter_fail_detail(call, (rk_adapter_code_t)code, &detail, message);
}

static void answered(const rk_store_result_t *result, void *arg)
{
    pending_t *p = arg;
    rk_adapter_call_t *call = p->call;
    if (result->status == RK_EUNAVAILABLE ||
        (result->status != RK_OK && transient(result->sqlstate))) {
        owner_unavailable(call, p->methods);
        return;
    }
    if (result->status != RK_OK || result->n_results != 1 || PQntuples(result->results[0]) != 1) {
        rk_log_error("owner database call failed", "{s:s, s:s, s:s}", "request_id",
                     rk_adapter_call_request_id(call), "sqlstate",
                     result->sqlstate ? result->sqlstate : "", "error",
                     result->error ? result->error : "");
        rk_adapter_fail(call, RK_ADAPTER_INTERNAL, NULL, "the owner's database refused the call");
        return;
    }
    json_t *answer = json_loads(PQgetvalue(result->results[0], 0, 0), JSON_REJECT_DUPLICATES, NULL);
    const json_t *ok = json_object_get(answer, "ok");
    if (!ok) {
        fail_with(call, answer);
        json_decref(answer);
        return;
    }
    char err[256];
    ProtobufCAllocator allocator = {call_alloc, call_free, call};
    ProtobufCMessage *response = rk_json_to_message(p->output, ok, &allocator, err, sizeof(err));
    json_decref(answer);
    if (!response) {
        rk_log_error("owner database answer does not fit the contract", "{s:s, s:s}", "request_id",
                     rk_adapter_call_request_id(call), "error", err);
        rk_adapter_fail(call, RK_ADAPTER_INTERNAL, NULL, "the adapter's link schema misbehaved");
        return;
    }
    rk_adapter_reply(call, response);
}

static const rk_sql_method_t *method_of(rk_adapter_call_t *call, const rk_sql_methods_t *methods,
                                        const ProtobufCMessageDescriptor **output)
{
    const char *name = strrchr(rk_adapter_call_method(call), '/') + 1;
    const ProtobufCServiceDescriptor *service = &renkei__v1__adapter_service__descriptor;
    for (unsigned i = 0; i < service->n_methods; i++)
        if (strcmp(service->methods[i].name, name) == 0)
            *output = service->methods[i].output;
    for (size_t i = 0; i < methods->n; i++)
        if (strcmp(methods->methods[i].name, name) == 0)
            return &methods->methods[i];
    return NULL;
}

/*
 * The SHA-256, in hex in the call's memory, of what identifies a mutation: the packed request
 * with its ResidentContext reduced to who the resident is (the pairwise id). The rest of that
 * context (class, fee basis, agreement) is the hub's description of the resident at the time,
 * which a hub resuming a call may derive again differently; the first answer stands for it.
 */
static char *request_hash(rk_adapter_call_t *call, const ProtobufCMessage *request)
{
    const ProtobufCMessageDescriptor *d = request->descriptor;
    ProtobufCMessage *copy = rk_adapter_call_alloc(call, d->sizeof_message);
    memcpy(copy, request, d->sizeof_message);
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(d, "resident");
    Renkei__V1__ResidentContext who = RENKEI__V1__RESIDENT_CONTEXT__INIT;
    Renkei__V1__ResidentContext **resident = f ? (void *)((char *)copy + f->offset) : NULL;
    if (resident && *resident) {
        who.pairwise_id = (*resident)->pairwise_id;
        *resident = &who;
    }
    size_t len = protobuf_c_message_get_packed_size(copy);
    uint8_t *bytes = rk_adapter_call_alloc(call, len + 1);
    protobuf_c_message_pack(copy, bytes);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(bytes, len, digest);
    char *hex = rk_adapter_call_alloc(call, 2 * sizeof(digest) + 1);
    for (size_t i = 0; i < sizeof(digest); i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    return hex;
}

void rk_sql_call(rk_adapter_call_t *call, struct rk_store *store, const rk_sql_methods_t *methods,
                 const ProtobufCMessage *request, const char *extra)
{
    pending_t *p = rk_adapter_call_alloc(call, sizeof(*p));
    p->call = call;
    p->methods = methods;
    const rk_sql_method_t *m = method_of(call, methods, &p->output);
    if (!m) {
        rk_adapter_fail(call, RK_ADAPTER_UNIMPLEMENTED, "ERROR_REASON_CAPABILITY_MISSING",
                        "not a method of this adapter");
        return;
    }
    json_t *json = rk_json_from_message(request);
    char *text = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);
    if (!text) {
        rk_adapter_fail(call, RK_ADAPTER_INVALID_ARGUMENT, "ERROR_REASON_FIELD_INVALID",
                        "the request holds text that is not UTF-8");
        return;
    }
    const char *values[] = {text, m->n_params >= 2 ? request_hash(call, request) : NULL, extra};
    int rc = rk_store_exec(store, m->stmt, m->n_params, values, answered, p);
    free(text);
    if (rc != RK_AGAIN)
        owner_unavailable(call, methods);
}

void rk_sql_prepare(struct rk_store *store, const rk_sql_methods_t *methods)
{
    for (size_t i = 0; i < methods->n; i++)
        rk_store_prepare(store, methods->methods[i].stmt, methods->methods[i].sql);
}
