/*
 * agreement_admin.c — AdminService's agreement methods (see agreement_admin.h).
 *
 * Every call is: authorize → check the request → one statement → answer. The statements call
 * the functions of migration 0018 (rk_agreement_propose, _decide, _end, _get, _list), which take
 * the decision in one transaction and answer one JSON value: either the proto3 JSON of the
 * answer message, read here with the contract's own transcoder, or {"code", "message"} for a
 * refusal (a Connect code name and a message naming the field), passed on as it is.
 *
 * ProposeAgreement first resolves the two parties (code or slug) to slugs, then turns the
 * contract's Agreement into the tenants/<slug>.json agreement object and checks it with the file
 * validator: the contract's services are groups of the file's (FACILITY_BOOKING =
 * facility.search + facility.booking; LIBRARY_LOAN = library.catalogue + library.hold +
 * library.loan), its terms one object per residency class.
 */
#include "tenancy/agreement_admin.h"

#include "admin/admin_auth.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "net/json_transcode.h"
#include "net/pb_arena.h"
#include "net/rpc.h"
#include "renkei/v1/admin.pb-c.h"
#include "tenancy/tenant_file.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_RESOLVE "agreement_resolve"
#define STMT_PROPOSE "agreement_propose"
#define STMT_DECIDE "agreement_decide"
#define STMT_END "agreement_end"
#define STMT_GET "agreement_get"
#define STMT_LIST "agreement_list"

#define DECIDE_ROLES RK_ADMIN_ROLE_TENANT_ADMIN
#define READ_ROLES (RK_ADMIN_ROLE_TENANT_ADMIN | RK_ADMIN_ROLE_AUDITOR)
#define TENANT_MAX 64 /* a slug or code in a request */
#define ID_DIGITS_MAX 18
#define TITLE_MAX 200 /* bytes of each text of Agreement.title */
#define NOTES_MAX 2000
#define NOTE_MAX 1000 /* a decision's note */
#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 100
#define OFFSET_MAX 1000000
#define WHY_MAX 512

static const char sql_resolve[] =
    "SELECT (SELECT slug FROM rk_tenant WHERE $1::text IN (slug, code::text)),"
    " (SELECT slug FROM rk_tenant WHERE $2::text IN (slug, code::text))";
static const char sql_propose[] = "SELECT rk_agreement_propose($1, $2, $3, $4::bigint, $5::jsonb,"
                                  " $6::jsonb, $7::jsonb)::text";
static const char sql_decide[] =
    "SELECT rk_agreement_decide($1, $2::bigint, $3::integer, $4::boolean, $5)::text";
static const char sql_end[] = "SELECT rk_agreement_end($1, $2::bigint, $3, $4)::text";
static const char sql_get[] = "SELECT rk_agreement_get($1, $2::bigint, $3::integer)::text";
static const char sql_list[] =
    "SELECT rk_agreement_list($1, $2::text[], $3::integer, $4::integer)::text";

/* One call: what answers it, and for ProposeAgreement the request until the parties are known. */
typedef struct call {
    rk_rpc_t *rpc;
    const ProtobufCMessageDescriptor *answer;
    const Renkei__V1__ProposeAgreementRequest *propose;
} call_t;

static call_t *call_new(rk_rpc_t *rpc, const ProtobufCMessageDescriptor *answer)
{
    call_t *call = rk_arena_calloc(rk_rpc_request(rpc)->arena, 1, sizeof *call);
    call->rpc = rpc;
    call->answer = answer;
    return call;
}

static void fail_arena(rk_rpc_t *rpc, rk_rpc_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail_arena(rk_rpc_t *rpc, rk_rpc_code_t code, const char *fmt, ...)
{
    char message[WHY_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    rk_rpc_fail(rpc, code, rk_arena_strdup(rk_rpc_request(rpc)->arena, message));
}

static void fail_store(rk_rpc_t *rpc, const rk_store_result_t *res)
{
    rk_request_t *req = rk_rpc_request(rpc);
    if (res && res->status == RK_EINVAL) {
        rk_log_error("agreement query failed", "{s:s, s:s}", "request_id", req->request_id,
                     "error", res->error);
        fail_arena(rpc, RK_RPC_INTERNAL, "request %s failed; the hub's log has why",
                   req->request_id);
        return;
    }
    rk_rpc_fail(rpc, RK_RPC_UNAVAILABLE, "the database is not reachable now; retry later");
}

/* The code whose Connect name is name ("not_found"); INTERNAL for anything else. */
static rk_rpc_code_t code_named(const char *name)
{
    for (int code = RK_RPC_CANCELLED; code <= RK_RPC_UNAUTHENTICATED; code++)
        if (strcmp(rk_rpc_code_name((rk_rpc_code_t)code), name) == 0)
            return (rk_rpc_code_t)code;
    return RK_RPC_INTERNAL;
}

/* A statement's one JSON value: the answer message, or a refusal. */
static void answered(const rk_store_result_t *res, void *arg)
{
    call_t *call = arg;
    rk_request_t *req = rk_rpc_request(call->rpc);
    if (!res || res->status != RK_OK || res->n_results < 1 || PQntuples(res->results[0]) != 1) {
        fail_store(call->rpc, res);
        return;
    }
    json_t *doc = json_loads(PQgetvalue(res->results[0], 0, 0), 0, NULL);
    const char *code = json_string_value(json_object_get(doc, "code"));
    if (code) {
        rk_rpc_fail(call->rpc, code_named(code),
                    rk_arena_strdup(req->arena,
                                    json_string_value(json_object_get(doc, "message"))));
        json_decref(doc);
        return;
    }
    char why[WHY_MAX];
    ProtobufCAllocator allocator = rk_pb_arena_allocator(req->arena);
    ProtobufCMessage *msg =
        doc ? rk_json_to_message(call->answer, doc, &allocator, why, sizeof why) : NULL;
    json_decref(doc);
    if (!msg) {
        rk_log_error("agreement answer unreadable", "{s:s, s:s}", "request_id", req->request_id,
                     "error", doc ? why : "not JSON");
        fail_arena(call->rpc, RK_RPC_INTERNAL, "request %s failed; the hub's log has why",
                   req->request_id);
        return;
    }
    rk_rpc_reply(call->rpc, msg);
}

static void run(call_t *call, const char *stmt, int n, const char *const *values)
{
    rk_store_t *store = rk_app(rk_rpc_request(call->rpc))->store;
    if (rk_store_exec(store, stmt, n, values, answered, call) != RK_AGAIN)
        fail_store(call->rpc, NULL);
}

/* The tenant named by the request is well-formed and the caller may act for it with roles. */
static int tenant_ok(rk_rpc_t *rpc, const char *method, const char *tenant, unsigned roles)
{
    if (!tenant || !*tenant || strlen(tenant) > TENANT_MAX) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, "tenant: required (a tenant slug or code)");
        return 0;
    }
    return rk_admin_authorize_tenant_rpc(rpc, method, tenant, roles);
}

/* An agreement id (decimal digits) into out; 0, or -1 after failing the call naming field. */
static int id_ok(rk_rpc_t *rpc, const char *field, const char *id, char out[ID_DIGITS_MAX + 1])
{
    size_t n = id ? strlen(id) : 0;
    int ok = n >= 1 && n <= ID_DIGITS_MAX && id[0] != '0';
    for (size_t i = 0; ok && i < n; i++)
        ok = isdigit((unsigned char)id[i]);
    if (!ok) {
        fail_arena(rpc, RK_RPC_INVALID_ARGUMENT, "%s: required, the decimal id of an agreement",
                   field);
        return -1;
    }
    memcpy(out, id, n + 1);
    return 0;
}

/* Free text of at most max bytes, valid UTF-8; 0, or -1 after failing the call naming field. */
static int text_ok(rk_rpc_t *rpc, const char *field, const char *text, size_t max)
{
    json_t *probe = json_string(text ? text : "");
    int ok = probe && strlen(text ? text : "") <= max;
    json_decref(probe);
    if (!ok)
        fail_arena(rpc, RK_RPC_INVALID_ARGUMENT, "%s: at most %zu bytes of UTF-8 text", field, max);
    return ok ? 0 : -1;
}

/* "RESIDENCY_CLASS_PARTNER_AREA" → "partner_area" (the name after prefix, lower-cased). */
static int enum_word(const ProtobufCEnumDescriptor *desc, int value, const char *prefix,
                     char *out, size_t len)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    size_t skip = strlen(prefix);
    if (!v || value == 0 || strncmp(v->name, prefix, skip) != 0 || strlen(v->name + skip) >= len)
        return -1;
    size_t i = 0;
    for (const char *s = v->name + skip; *s; s++)
        out[i++] = (char)tolower((unsigned char)*s);
    out[i] = '\0';
    return 0;
}

/* --- ProposeAgreement ------------------------------------------------------------------------ */

/* The file services of one contract service, appended to list; -1 when it is none. */
static int add_services(json_t *list, Renkei__V1__AgreementService service)
{
    static const char *const facility[] = {"facility.search", "facility.booking", NULL};
    static const char *const library[] = {"library.catalogue", "library.hold", "library.loan",
                                          NULL};
    static const char *const elibrary[] = {"elibrary", NULL};
    static const char *const sso[] = {"sso", NULL};
    const char *const *names = NULL;
    switch (service) {
    case RENKEI__V1__AGREEMENT_SERVICE__AGREEMENT_SERVICE_FACILITY_BOOKING:
        names = facility;
        break;
    case RENKEI__V1__AGREEMENT_SERVICE__AGREEMENT_SERVICE_LIBRARY_LOAN:
        names = library;
        break;
    case RENKEI__V1__AGREEMENT_SERVICE__AGREEMENT_SERVICE_ELIBRARY:
        names = elibrary;
        break;
    case RENKEI__V1__AGREEMENT_SERVICE__AGREEMENT_SERVICE_SSO:
        names = sso;
        break;
    default:
        return -1;
    }
    for (; *names; names++)
        json_array_append_new(list, json_string(*names));
    return 0;
}

/* One ResidencyTerms as the file's terms of its class, set into terms; -1 with why. */
static int add_terms(json_t *terms, const Renkei__V1__ResidencyTerms *t, size_t i,
                     const char *provider, char *why, size_t len)
{
    char cls[32];
    if (enum_word(&renkei__v1__residency_class__descriptor, t->residency_class,
                  "RESIDENCY_CLASS_", cls, sizeof cls) != 0) {
        snprintf(why, len, "agreement.terms[%zu].residency_class: required, a residency class", i);
        return -1;
    }
    if (json_object_get(terms, cls)) {
        snprintf(why, len, "agreement.terms[%zu].residency_class: %s has terms already", i, cls);
        return -1;
    }
    if (t->hold_limit != 0) {
        snprintf(why, len,
                 "agreement.terms[%zu].hold_limit: not supported (leave 0: the provider's "
                 "default)",
                 i);
        return -1;
    }
    json_t *o = json_object();
    json_object_set_new(terms, cls, o);
    char fee[32];
    if (t->fee_basis != RENKEI__V1__FEE_BASIS__FEE_BASIS_UNSPECIFIED) {
        if (enum_word(&renkei__v1__fee_basis__descriptor, t->fee_basis, "FEE_BASIS_", fee,
                      sizeof fee) != 0) {
            snprintf(why, len, "agreement.terms[%zu].fee_basis: not a fee basis", i);
            return -1;
        }
        json_object_set_new(o, "fee", json_string(fee));
    }
    if (t->booking_window_days != 0)
        json_object_set_new(o, "booking_window_days", json_integer(t->booking_window_days));
    if (t->lottery)
        json_object_set_new(o, "lottery", json_true());
    if (t->loan_limit != 0)
        json_object_set_new(o, "loan_limit", json_integer(t->loan_limit));
    if (t->n_pickup_branches == 0)
        return 0;
    json_t *branches = json_array();
    json_object_set_new(o, "pickup_branches", branches);
    for (size_t b = 0; b < t->n_pickup_branches; b++) {
        const Renkei__V1__BranchRef *ref = t->pickup_branches[b];
        const Renkei__V1__MunicipalityRef *m = ref->municipality;
        if (m && *m->slug && strcmp(m->slug, provider) != 0) {
            snprintf(why, len,
                     "agreement.terms[%zu].pickup_branches[%zu].municipality: branches are the "
                     "provider's (%s)",
                     i, b, provider);
            return -1;
        }
        json_t *id = json_string(ref->branch_id);
        if (!id) {
            snprintf(why, len,
                     "agreement.terms[%zu].pickup_branches[%zu].branch_id: must be UTF-8 text", i,
                     b);
            return -1;
        }
        json_array_append_new(branches, id);
    }
    return 0;
}

/* The tenants/<slug>.json agreement object of a; NULL with why. */
static json_t *file_form(const Renkei__V1__Agreement *a, const char *home, const char *provider,
                         char *why, size_t len)
{
    json_t *o = json_pack("{s:s, s:[s]}", "id", "proposed", "from", home);
    json_t *services = json_array();
    json_object_set_new(o, "services", services);
    for (size_t i = 0; i < a->n_services; i++) {
        if (add_services(services, a->services[i]) != 0) {
            snprintf(why, len,
                     "agreement.services[%zu]: not a service (AGREEMENT_SERVICE_FACILITY_BOOKING, "
                     "_LIBRARY_LOAN, _ELIBRARY or _SSO)",
                     i);
            json_decref(o);
            return NULL;
        }
    }
    if (a->validity) {
        json_t *from = *a->validity->start_date ? json_string(a->validity->start_date) : NULL;
        json_t *until = *a->validity->end_date ? json_string(a->validity->end_date) : NULL;
        if (from)
            json_object_set_new(o, "valid_from", from);
        if (until)
            json_object_set_new(o, "valid_until", until);
    }
    json_t *terms = json_object();
    json_object_set_new(o, "terms", terms);
    for (size_t i = 0; i < a->n_terms; i++) {
        if (add_terms(terms, a->terms[i], i, provider, why, len) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* LocalizedText as JSON text ("{}" when absent); NULL after failing the call naming field. */
static char *localized(rk_rpc_t *rpc, const char *field, const Renkei__V1__LocalizedText *t,
                       size_t max)
{
    rk_arena_t *arena = rk_rpc_request(rpc)->arena;
    if (!t)
        return rk_arena_strdup(arena, "{}");
    const char *parts[] = {t->ja, t->en, t->kana};
    const char *names[] = {"ja", "en", "kana"};
    for (size_t i = 0; i < 3; i++) {
        if (strlen(parts[i]) > max) {
            fail_arena(rpc, RK_RPC_INVALID_ARGUMENT, "%s.%s: at most %zu bytes", field, names[i],
                       max);
            return NULL;
        }
    }
    json_t *j = rk_json_from_message(&t->base);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        fail_arena(rpc, RK_RPC_INVALID_ARGUMENT, "%s: must be UTF-8 text", field);
        return NULL;
    }
    char *copy = rk_arena_strdup(arena, text);
    free(text);
    return copy;
}

static void parties_resolved(const rk_store_result_t *res, void *arg)
{
    call_t *call = arg;
    rk_rpc_t *rpc = call->rpc;
    rk_arena_t *arena = rk_rpc_request(rpc)->arena;
    const Renkei__V1__Agreement *a = call->propose->agreement;
    if (!res || res->status != RK_OK || res->n_results < 1 || PQntuples(res->results[0]) != 1) {
        fail_store(rpc, res);
        return;
    }
    const PGresult *r = res->results[0];
    const char *home = a->home->slug[0] ? a->home->slug : a->home->code;
    const char *provider = a->provider->slug[0] ? a->provider->slug : a->provider->code;
    if (PQgetisnull(r, 0, 0)) {
        fail_arena(rpc, RK_RPC_NOT_FOUND, "agreement.home: no tenant \"%s\"", home);
        return;
    }
    if (PQgetisnull(r, 0, 1)) {
        fail_arena(rpc, RK_RPC_NOT_FOUND, "agreement.provider: no tenant \"%s\"", provider);
        return;
    }
    home = rk_arena_strdup(arena, PQgetvalue(r, 0, 0));
    provider = rk_arena_strdup(arena, PQgetvalue(r, 0, 1));
    if (strcmp(home, provider) == 0) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "agreement.home: is the provider itself; an agreement is between two tenants");
        return;
    }
    char why[WHY_MAX];
    json_t *body = file_form(a, home, provider, why, sizeof why);
    rk_tenant_agreement_t parsed;
    if (!body || rk_tenant_agreement_parse(provider, body, &parsed, why, sizeof why) != RK_OK) {
        json_decref(body);
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, rk_arena_strdup(arena, why));
        return;
    }
    rk_tenant_agreement_free(&parsed);
    char *body_text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    const char *values[] = {call->propose->tenant,
                            home,
                            provider,
                            *a->id ? a->id : NULL,
                            rk_arena_strdup(arena, body_text),
                            localized(rpc, "agreement.title", a->title, TITLE_MAX),
                            NULL};
    free(body_text);
    if (!values[5])
        return;
    values[6] = localized(rpc, "agreement.notes", a->notes, NOTES_MAX);
    if (!values[6])
        return;
    run(call, STMT_PROPOSE, 7, values);
}

static int party_ok(rk_rpc_t *rpc, const char *field, const Renkei__V1__MunicipalityRef *m)
{
    const char *name = m ? (*m->slug ? m->slug : m->code) : "";
    json_t *probe = json_string(name);
    int utf8 = probe != NULL;
    json_decref(probe);
    if (!*name || strlen(name) > TENANT_MAX || !utf8) {
        fail_arena(rpc, RK_RPC_INVALID_ARGUMENT, "%s: required, a tenant's slug or code", field);
        return 0;
    }
    return 1;
}

static void propose_agreement(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__ProposeAgreementRequest *in = (const void *)message;
    if (!tenant_ok(rpc, "ProposeAgreement", in->tenant, DECIDE_ROLES))
        return;
    const Renkei__V1__Agreement *a = in->agreement;
    if (!a) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, "agreement: required");
        return;
    }
    char id[ID_DIGITS_MAX + 1];
    if ((*a->id && id_ok(rpc, "agreement.id", a->id, id) != 0) ||
        !party_ok(rpc, "agreement.home", a->home) ||
        !party_ok(rpc, "agreement.provider", a->provider))
        return;
    call_t *call = call_new(rpc, &renkei__v1__propose_agreement_response__descriptor);
    call->propose = in;
    const char *values[] = {*a->home->slug ? a->home->slug : a->home->code,
                            *a->provider->slug ? a->provider->slug : a->provider->code};
    rk_store_t *store = rk_app(rk_rpc_request(rpc))->store;
    if (rk_store_exec(store, STMT_RESOLVE, 2, values, parties_resolved, call) != RK_AGAIN)
        fail_store(rpc, NULL);
}

/* --- Approve, Reject, End --------------------------------------------------------------------- */

static void decide(rk_rpc_t *rpc, const char *method, const char *tenant, const char *agreement_id,
                   int32_t version, const char *note, int approve,
                   const ProtobufCMessageDescriptor *answer)
{
    char id[ID_DIGITS_MAX + 1];
    if (!tenant_ok(rpc, method, tenant, DECIDE_ROLES) ||
        id_ok(rpc, "agreement_id", agreement_id, id) != 0 ||
        text_ok(rpc, "note", note, NOTE_MAX) != 0)
        return;
    if (version < 1) {
        fail_arena(rpc, RK_RPC_INVALID_ARGUMENT, "version: required, the proposed version (1, 2, …)");
        return;
    }
    char version_text[16];
    snprintf(version_text, sizeof version_text, "%d", (int)version);
    const char *values[] = {tenant, id, version_text, approve ? "true" : "false", note};
    run(call_new(rpc, answer), STMT_DECIDE, 5, values);
}

static void approve_agreement(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__ApproveAgreementRequest *in = (const void *)message;
    decide(rpc, "ApproveAgreement", in->tenant, in->agreement_id, in->version, "", 1,
           &renkei__v1__approve_agreement_response__descriptor);
}

static void reject_agreement(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__RejectAgreementRequest *in = (const void *)message;
    decide(rpc, "RejectAgreement", in->tenant, in->agreement_id, in->version, in->note, 0,
           &renkei__v1__reject_agreement_response__descriptor);
}

static void end_agreement(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__EndAgreementRequest *in = (const void *)message;
    char id[ID_DIGITS_MAX + 1];
    if (!tenant_ok(rpc, "EndAgreement", in->tenant, DECIDE_ROLES) ||
        id_ok(rpc, "agreement_id", in->agreement_id, id) != 0 ||
        text_ok(rpc, "note", in->note, NOTE_MAX) != 0 ||
        text_ok(rpc, "end_date", in->end_date, 10) != 0)
        return;
    const char *values[] = {in->tenant, id, in->end_date, in->note};
    run(call_new(rpc, &renkei__v1__end_agreement_response__descriptor), STMT_END, 4, values);
}

/* --- Get, List -------------------------------------------------------------------------------- */

static void get_agreement(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__GetAgreementRequest *in = (const void *)message;
    char id[ID_DIGITS_MAX + 1];
    if (!tenant_ok(rpc, "GetAgreement", in->tenant, READ_ROLES) ||
        id_ok(rpc, "agreement_id", in->agreement_id, id) != 0)
        return;
    if (in->version < 0) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, "version: 0 (the latest) or a version 1, 2, …");
        return;
    }
    char version_text[16];
    snprintf(version_text, sizeof version_text, "%d", (int)in->version);
    const char *values[] = {in->tenant, id, version_text};
    run(call_new(rpc, &renkei__v1__get_agreement_response__descriptor), STMT_GET, 3, values);
}

/* The states asked for as a PostgreSQL text[] literal; NULL after failing the call. */
static char *states_literal(rk_rpc_t *rpc, const Renkei__V1__ListAgreementsRequest *in)
{
    char out[128] = "{proposed,active";
    size_t n = strlen(out);
    if (in->n_states > 0)
        n = (size_t)snprintf(out, sizeof out, "{");
    for (size_t i = 0; i < in->n_states; i++) {
        char word[32];
        if (enum_word(&renkei__v1__agreement_state__descriptor, in->states[i],
                      "AGREEMENT_STATE_", word, sizeof word) != 0) {
            fail_arena(rpc, RK_RPC_INVALID_ARGUMENT, "states[%zu]: not an agreement state", i);
            return NULL;
        }
        if (n + strlen(word) + 2 >= sizeof out) {
            fail_arena(rpc, RK_RPC_INVALID_ARGUMENT, "states: at most 5 states");
            return NULL;
        }
        n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", i ? "," : "", word);
    }
    if (in->all_versions)
        n += (size_t)snprintf(out + n, sizeof out - n, ",superseded");
    snprintf(out + n, sizeof out - n, "}");
    return rk_arena_strdup(rk_rpc_request(rpc)->arena, out);
}

static void list_agreements(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__ListAgreementsRequest *in = (const void *)message;
    if (!tenant_ok(rpc, "ListAgreements", in->tenant, READ_ROLES))
        return;
    int size = in->page && in->page->page_size ? in->page->page_size : PAGE_SIZE_DEFAULT;
    const char *token = in->page ? in->page->page_token : "";
    char *end = NULL;
    long offset = *token ? strtol(token, &end, 10) : 0;
    if (*token && (*end || offset < 0 || offset > OFFSET_MAX || !isdigit((unsigned char)*token))) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "page.page_token: not a token from a previous answer");
        return;
    }
    if (size < 0) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, "page.page_size: must not be negative");
        return;
    }
    if (size > PAGE_SIZE_MAX)
        size = PAGE_SIZE_MAX;
    char *states = states_literal(rpc, in);
    if (!states)
        return;
    char offset_text[16], size_text[16];
    snprintf(offset_text, sizeof offset_text, "%ld", offset);
    snprintf(size_text, sizeof size_text, "%d", size);
    const char *values[] = {in->tenant, states, offset_text, size_text};
    run(call_new(rpc, &renkei__v1__list_agreements_response__descriptor), STMT_LIST, 4, values);
}

/* --- registration ----------------------------------------------------------------------------- */

#define ADMIN_METHOD(name, snake)                                                                  \
    {"/renkei.v1.AdminService/" name, &renkei__v1__##snake##_request__descriptor,                  \
     &renkei__v1__##snake##_response__descriptor, snake, 0}

static const rk_rpc_method_t methods[] = {
    ADMIN_METHOD("ProposeAgreement", propose_agreement),
    ADMIN_METHOD("ApproveAgreement", approve_agreement),
    ADMIN_METHOD("RejectAgreement", reject_agreement),
    ADMIN_METHOD("EndAgreement", end_agreement),
    ADMIN_METHOD("GetAgreement", get_agreement),
    ADMIN_METHOD("ListAgreements", list_agreements),
};

void rk_agreement_admin_register(rk_app_t *app, rk_router_t *router)
{
    rk_store_prepare(app->store, STMT_RESOLVE, sql_resolve);
    rk_store_prepare(app->store, STMT_PROPOSE, sql_propose);
    rk_store_prepare(app->store, STMT_DECIDE, sql_decide);
    rk_store_prepare(app->store, STMT_END, sql_end);
    rk_store_prepare(app->store, STMT_GET, sql_get);
    rk_store_prepare(app->store, STMT_LIST, sql_list);
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        rk_rpc_register(router, &methods[i]);
}
