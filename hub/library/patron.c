/*
 * patron.c — LinkPatron, UnlinkPatron, ListMyPatronLinks (see patron.h).
 */
#include "library/patron.h"

#include "core/error.h"
#include "core/mem.h"
#include "facility/terms.h"
#include "identity/identity.h"
#include "identity/secret_text.h"
#include "identity/token.h"
#include "library/fanout.h"
#include "renkei/v1/adapter.pb-c.h"
#include "renkei/v1/library.pb-c.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_TARGET "library_patron_target"
#define STMT_LINK "library_patron_link"
#define STMT_UNLINK "library_patron_unlink"
#define STMT_LINKS "library_patron_links"

#define STATUS(x) RENKEI__V1__ANSWER_STATUS__ANSWER_STATUS_##x
#define METHOD(x) RENKEI__V1__PATRON_LINK_METHOD__PATRON_LINK_METHOD_##x

/* $1 grant, $2 realm, $3 library (slug or code): the account, its uid and home, the library's
 * tenant and names, and its patrons adapter ('' when none): the library's own before an
 * e-library's, whose cards are the library's (adapters/elibrary); a pupil's age band ('' for
 * other accounts). */
static const char sql_target[] =
    "SELECT a.id, a.uid, h.code, t.id, t.code, t.slug, t.name_ja, t.name_en, t.name_kana,"
    " coalesce((SELECT d.id FROM rk_adapter d WHERE d.tenant_id = t.id AND d.state = 'active'"
    "   AND 'ADAPTER_CAPABILITY_LIBRARY_PATRONS' = ANY (d.capabilities)"
    "   ORDER BY 'ADAPTER_CAPABILITY_ELIBRARY' = ANY (d.capabilities), d.id LIMIT "
    "1)::text,"
    "  ''), coalesce(rk_identity_age_band(a.id), '')"
    " FROM rk_tenant t"
    " LEFT JOIN rk_identity_account a ON a.id = rk_booking_account($1, $2::bigint)"
    " LEFT JOIN rk_tenant h ON h.id = a.tenant_id"
    " WHERE t.slug = $3 OR t.code = $3";
enum {
    G_ACCOUNT,
    G_UID,
    G_HOME,
    G_TENANT,
    G_CODE,
    G_SLUG,
    G_NAME_JA,
    G_NAME_EN,
    G_KANA,
    G_ADAPTER,
    G_AGE_BAND
};

/* $1 account … $8 hold limit, $9 the resident's pairwise id towards the library (the exchange
 * log's, migration 0017): the link, replacing one. */
static const char sql_link[] =
    "INSERT INTO rk_library_patron (account_id, tenant_id, patron_ref, card_masked, method,"
    " expires_on, loan_limit, hold_limit, resident_subject) VALUES ($1::bigint, $2::bigint, $3,"
    " $4, $5, $6, $7::int, $8::int, $9) ON CONFLICT (account_id, tenant_id) DO UPDATE SET"
    " resident_subject = EXCLUDED.resident_subject,"
    " patron_ref = EXCLUDED.patron_ref, card_masked = EXCLUDED.card_masked,"
    " method = EXCLUDED.method, expires_on = EXCLUDED.expires_on,"
    " loan_limit = EXCLUDED.loan_limit, hold_limit = EXCLUDED.hold_limit, linked_at = now()"
    " RETURNING rk_booking_utc(linked_at)";

static const char sql_unlink[] =
    "WITH d AS (DELETE FROM rk_library_patron"
    "  WHERE account_id = rk_booking_account($1, $2::bigint)"
    "    AND tenant_id = (SELECT id FROM rk_tenant WHERE slug = $3 OR code = $3) RETURNING 1)"
    " SELECT rk_booking_account($1, $2::bigint),"
    "  (SELECT id FROM rk_tenant WHERE slug = $3 OR code = $3), (SELECT count(*) FROM d)";

static const char sql_links[] =
    "WITH acc AS (SELECT rk_booking_account($1, $2::bigint) AS id)"
    " SELECT acc.id, t.code, t.slug, t.name_ja, t.name_en, t.name_kana, p.card_masked, p.method,"
    "  rk_booking_utc(p.linked_at), p.expires_on, p.loan_limit, p.hold_limit"
    " FROM acc LEFT JOIN rk_library_patron p ON p.account_id = acc.id"
    " LEFT JOIN rk_tenant t ON t.id = p.tenant_id ORDER BY t.code";

typedef struct op {
    rk_library_t *lib;
    rk_rpc_t *rpc;
    rk_arena_t *arena;
    rk_identity_resident_t resident;
    const Renkei__V1__LinkPatronRequest *link;
    const char *key;
    char account[24], tenant[24];
    Renkei__V1__MunicipalityRef *library;
    rk_library_call_t call;
    char subject[44];
    Renkei__V1__ResidentContext context;
    Renkei__V1__MunicipalityRef home;
    Renkei__V1__AgreementRef agreement;
    int pupil; /* the account is a pupil's: linked by PUPIL_ID, not by certificate */
    /* a certificate link for another call (rk_library_patron_link_certificate): who is told */
    rk_library_linked_cb linked_cb;
    void *linked_arg;
} op_t;

static op_t *op_new(rk_rpc_t *rpc)
{
    rk_request_t *req = rk_rpc_request(rpc);
    op_t *op = rk_arena_calloc(req->arena, 1, sizeof(*op));
    op->lib = rk_app(req)->library;
    op->rpc = rpc;
    op->arena = req->arena;
    if (rk_library_resident(rpc, &op->resident) != 0)
        return NULL;
    return op;
}

static void fail_store(op_t *op, const rk_store_result_t *res)
{
    rk_library_fail_store(op->rpc, "patron", res);
}

static int library_ok(rk_rpc_t *rpc, const char *name)
{
    size_t len = strlen(name);
    if (len && len <= 31 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == len)
        return 1;
    rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                "library: required, the library's slug (kodaira) or code (132110)");
    return 0;
}

static Renkei__V1__MunicipalityRef *ref_of(rk_arena_t *arena, const PGresult *r, int i, int code)
{
    Renkei__V1__LocalizedText *name = rk_arena_alloc(arena, sizeof(*name));
    renkei__v1__localized_text__init(name);
    name->ja = rk_arena_strdup(arena, PQgetvalue(r, i, code + 2));
    name->en = rk_arena_strdup(arena, PQgetvalue(r, i, code + 3));
    name->kana = rk_arena_strdup(arena, PQgetvalue(r, i, code + 4));
    Renkei__V1__MunicipalityRef *ref = rk_arena_alloc(arena, sizeof(*ref));
    renkei__v1__municipality_ref__init(ref);
    ref->code = rk_arena_strdup(arena, PQgetvalue(r, i, code));
    ref->slug = rk_arena_strdup(arena, PQgetvalue(r, i, code + 1));
    ref->name = name;
    return ref;
}

static Renkei__V1__PatronLinkMethod method_of(const char *name)
{
    return strcmp(name, "certificate") == 0 ? METHOD(CERTIFICATE)
           : strcmp(name, "pupil_id") == 0  ? METHOD(PUPIL_ID)
                                            : METHOD(CARD_AND_PIN);
}

/* --- LinkPatron ----------------------------------------------------------------------------- */

static void linked(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        fail_store(op, res);
        return;
    }
    if (op->linked_cb) {
        op->linked_cb(NULL, op->linked_arg);
        return;
    }
    const Renkei__V1__AdapterVerifyPatronResponse *v = (const void *)op->call.response;
    Renkei__V1__PatronLink link = RENKEI__V1__PATRON_LINK__INIT;
    link.library = op->library;
    link.card_number_masked = v->card_number_masked;
    link.method = METHOD(CARD_AND_PIN);
    link.linked_at = PQgetvalue(res->results[0], 0, 0);
    link.expires_on = v->expires_on;
    link.loan_limit = v->loan_limit;
    link.hold_limit = v->hold_limit;
    Renkei__V1__LinkPatronResponse out = RENKEI__V1__LINK_PATRON_RESPONSE__INIT;
    out.link = &link;
    rk_rpc_reply(op->rpc, &out.base);
}

/* "YYYY-MM-DD" or "": what the table keeps of an owner's expiry. */
static const char *date_or_empty(const char *text)
{
    int y, m, d, n = 0;
    return strlen(text) == 10 && sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n == 10
               ? text
               : "";
}

static void verified(rk_library_call_t *calls, size_t n, void *arg)
{
    op_t *op = arg;
    (void)calls;
    (void)n;
    const rk_library_call_t *c = &op->call;
    if (c->status != STATUS(OK) && op->linked_cb) {
        op->linked_cb(c->reason && strncmp(c->reason, "LIBRARY_ERROR_", 14) == 0
                          ? rk_arena_strdup(op->arena, c->reason)
                          : "LIBRARY_ERROR_OWNER_UNAVAILABLE",
                      op->linked_arg);
        return;
    }
    if (c->status != STATUS(OK)) {
        if (c->reason && strcmp(c->reason, "LIBRARY_ERROR_PATRON_REJECTED") == 0)
            rk_library_fail(op->rpc, c->reason,
                            "card_number: the library rejected the card number or PIN", NULL, NULL,
                            NULL);
        else if (c->status == STATUS(ERROR) && c->code == RK_RPC_INVALID_ARGUMENT)
            rk_rpc_fail(op->rpc, RK_RPC_INVALID_ARGUMENT,
                        rk_arena_printf(op->arena, "the library refused the card: %s", c->message));
        else
            rk_library_fail(op->rpc, "LIBRARY_ERROR_OWNER_UNAVAILABLE", c->message, NULL, NULL,
                            NULL);
        return;
    }
    const Renkei__V1__AdapterVerifyPatronResponse *v = (const void *)c->response;
    if (!*v->patron_id || strlen(v->patron_id) > 200 || strlen(v->card_number_masked) > 64) {
        rk_library_fail(op->rpc, "LIBRARY_ERROR_OWNER_UNAVAILABLE",
                        "the library's answer to VerifyPatron is not usable (patron id)", NULL,
                        NULL, NULL);
        return;
    }
    char loan_limit[16], hold_limit[16];
    snprintf(loan_limit, sizeof(loan_limit), "%d", v->loan_limit);
    snprintf(hold_limit, sizeof(hold_limit), "%d", v->hold_limit);
    const char *values[] = {op->account,
                            op->tenant,
                            v->patron_id,
                            v->card_number_masked,
                            !op->linked_cb ? "card_and_pin"
                            : op->pupil    ? "pupil_id"
                                           : "certificate",
                            date_or_empty(v->expires_on),
                            loan_limit,
                            hold_limit,
                            op->subject};
    if (rk_store_exec(op->lib->app->store, STMT_LINK, 9, values, linked, op) != RK_AGAIN)
        fail_store(op, NULL);
}

/* The owner's idempotency key: "pl_" and 32 hex digits of the SHA-256 of what makes the
 * request, so that the same request repeats the key and another card or PIN does not. */
static char *owner_key(op_t *op, const char *uid)
{
    if (!op->link) { /* a certificate link: one per account and library */
        char *material = rk_arena_printf(op->arena, "%s\n%s\n%s", uid, op->tenant,
                                         op->pupil ? "pupil_id" : "certificate");
        char digest[65];
        rk_identity_sha256_hex(material, strlen(material), digest);
        return rk_arena_printf(op->arena, "pc_%.32s", digest);
    }
    const Renkei__V1__LinkPatronRequest *in = op->link;
    size_t len = strlen(uid) + strlen(op->tenant) + strlen(op->key) + strlen(in->card_number) +
                 strlen(in->pin) + 5;
    char *material = rk_xmalloc(len);
    snprintf(material, len, "%s\n%s\n%s\n%s\n%s", uid, op->tenant, op->key, in->card_number,
             in->pin);
    char hex[65];
    rk_identity_sha256_hex(material, strlen(material), hex);
    OPENSSL_cleanse(material, len);
    free(material);
    return rk_arena_printf(op->arena, "pl_%.32s", hex);
}

static void target_read(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1) {
        fail_store(op, res);
        return;
    }
    const PGresult *r = res->results[0];
    if (PQntuples(r) != 1) {
        rk_rpc_fail(op->rpc, RK_RPC_INVALID_ARGUMENT, "library: no such municipality");
        return;
    }
    if (PQgetisnull(r, 0, G_ACCOUNT)) {
        rk_library_fail(op->rpc, "ERROR_REASON_LOGIN_REQUIRED",
                        "authorization: the token's grant is no longer valid; log in again", NULL,
                        NULL, NULL);
        return;
    }
    if (!*PQgetvalue(r, 0, G_ADAPTER)) {
        rk_library_fail(op->rpc, "LIBRARY_ERROR_OWNER_UNAVAILABLE",
                        "library: its library system verifies no cards through the hub now", NULL,
                        NULL, NULL);
        return;
    }
    snprintf(op->account, sizeof(op->account), "%s", PQgetvalue(r, 0, G_ACCOUNT));
    snprintf(op->tenant, sizeof(op->tenant), "%s", PQgetvalue(r, 0, G_TENANT));
    op->library = ref_of(op->arena, r, 0, G_CODE);
    char sector[40];
    snprintf(sector, sizeof(sector), "tenant:%s", op->tenant);
    rk_identity_subject(op->lib->app->identity->pairwise_key, 1, sector, PQgetvalue(r, 0, G_UID),
                        op->subject);
    const char *home = rk_arena_strdup(op->arena, PQgetvalue(r, 0, G_HOME));
    int at_home = strcmp(home, op->library->code) == 0;
    rk_facility_resident_context(&op->context, &op->home, &op->agreement, op->subject, home,
                                 at_home ? "resident" : "partner_area",
                                 at_home ? "resident_rate" : "non_resident_rate", "", "");
    op->context.age_band = rk_library_age_band(PQgetvalue(r, 0, G_AGE_BAND));
    op->pupil = op->context.age_band != RENKEI__V1__AGE_BAND__AGE_BAND_UNSPECIFIED;
    Renkei__V1__IdempotencyKey *key = rk_arena_alloc(op->arena, sizeof(*key));
    renkei__v1__idempotency_key__init(key);
    key->key = owner_key(op, PQgetvalue(r, 0, G_UID));
    Renkei__V1__AdapterVerifyPatronRequest *in = rk_arena_alloc(op->arena, sizeof(*in));
    renkei__v1__adapter_verify_patron_request__init(in);
    in->idempotency_key = key;
    in->resident = &op->context;
    in->method = op->link    ? METHOD(CARD_AND_PIN)
                 : op->pupil ? METHOD(PUPIL_ID)
                             : METHOD(CERTIFICATE);
    in->card_number = op->link ? op->link->card_number : "";
    in->pin = op->link ? op->link->pin : "";
    op->call.adapter_id = strtoll(PQgetvalue(r, 0, G_ADAPTER), NULL, 10);
    op->call.request = &in->base;
    if (rk_library_fanout(op->lib, op->rpc, op->arena, "/renkei.v1.AdapterService/VerifyPatron",
                          &renkei__v1__adapter_verify_patron_response__descriptor, &op->call, 1,
                          verified, op) != RK_OK)
        rk_rpc_fail(op->rpc, RK_RPC_UNAVAILABLE, "the hub is starting or stopping; retry");
}

static int printable_ascii(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (!len || len > max)
        return 0;
    for (; *s; s++)
        if (*s <= ' ' || *s > '~')
            return 0;
    return 1;
}

static void link_patron(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__LinkPatronRequest *in = (const void *)message;
    op_t *op = op_new(rpc);
    if (!op)
        return;
    op->link = in;
    op->key =
        rk_federation_idempotency_key(rpc, in->idempotency_key ? in->idempotency_key->key : NULL);
    if (!op->key || !library_ok(rpc, in->library))
        return;
    if (!printable_ascii(in->card_number, 32) || !printable_ascii(in->pin, 64)) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    !printable_ascii(in->card_number, 32)
                        ? "card_number: required, 1-32 characters as printed on the card"
                        : "pin: required, 1-64 characters");
        return;
    }
    const char *values[] = {op->resident.grant_id, op->resident.tenant_id, in->library};
    if (rk_store_exec(op->lib->app->store, STMT_TARGET, 3, values, target_read, op) != RK_AGAIN)
        fail_store(op, NULL);
}

void rk_library_patron_link_certificate(rk_rpc_t *rpc, const rk_identity_resident_t *resident,
                                        const char *library, rk_library_linked_cb done, void *arg)
{
    rk_request_t *req = rk_rpc_request(rpc);
    op_t *op = rk_arena_calloc(req->arena, 1, sizeof(*op));
    op->lib = rk_app(req)->library;
    op->rpc = rpc;
    op->arena = req->arena;
    op->resident = *resident;
    op->linked_cb = done;
    op->linked_arg = arg;
    const char *values[] = {op->resident.grant_id, op->resident.tenant_id, library};
    if (rk_store_exec(op->lib->app->store, STMT_TARGET, 3, values, target_read, op) != RK_AGAIN)
        done("LIBRARY_ERROR_OWNER_UNAVAILABLE", arg);
}

/* --- UnlinkPatron, ListMyPatronLinks --------------------------------------------------------- */

static void unlinked(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        fail_store(op, res);
        return;
    }
    const PGresult *r = res->results[0];
    if (PQgetisnull(r, 0, 0)) {
        rk_library_fail(op->rpc, "ERROR_REASON_LOGIN_REQUIRED",
                        "authorization: the token's grant is no longer valid; log in again", NULL,
                        NULL, NULL);
        return;
    }
    if (PQgetisnull(r, 0, 1)) {
        rk_rpc_fail(op->rpc, RK_RPC_INVALID_ARGUMENT, "library: no such municipality");
        return;
    }
    Renkei__V1__UnlinkPatronResponse out = RENKEI__V1__UNLINK_PATRON_RESPONSE__INIT;
    rk_rpc_reply(op->rpc, &out.base);
}

static void unlink_patron(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__UnlinkPatronRequest *in = (const void *)message;
    op_t *op = op_new(rpc);
    if (!op || !library_ok(rpc, in->library))
        return;
    const char *values[] = {op->resident.grant_id, op->resident.tenant_id, in->library};
    if (rk_store_exec(op->lib->app->store, STMT_UNLINK, 3, values, unlinked, op) != RK_AGAIN)
        fail_store(op, NULL);
}

static void links_read(const rk_store_result_t *res, void *arg)
{
    op_t *op = arg;
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) < 1) {
        fail_store(op, res);
        return;
    }
    const PGresult *r = res->results[0];
    if (PQgetisnull(r, 0, 0)) {
        rk_library_fail(op->rpc, "ERROR_REASON_LOGIN_REQUIRED",
                        "authorization: the token's grant is no longer valid; log in again", NULL,
                        NULL, NULL);
        return;
    }
    int n = PQntuples(r);
    Renkei__V1__ListMyPatronLinksResponse out = RENKEI__V1__LIST_MY_PATRON_LINKS_RESPONSE__INIT;
    out.links = rk_arena_calloc(op->arena, (size_t)n, sizeof(*out.links));
    for (int i = 0; i < n; i++) {
        if (PQgetisnull(r, i, 1))
            continue;
        Renkei__V1__PatronLink *l = rk_arena_alloc(op->arena, sizeof(*l));
        renkei__v1__patron_link__init(l);
        l->library = ref_of(op->arena, r, i, 1);
        l->card_number_masked = rk_arena_strdup(op->arena, PQgetvalue(r, i, 6));
        l->method = method_of(PQgetvalue(r, i, 7));
        l->linked_at = rk_arena_strdup(op->arena, PQgetvalue(r, i, 8));
        l->expires_on = rk_arena_strdup(op->arena, PQgetvalue(r, i, 9));
        l->loan_limit = (int32_t)strtol(PQgetvalue(r, i, 10), NULL, 10);
        l->hold_limit = (int32_t)strtol(PQgetvalue(r, i, 11), NULL, 10);
        out.links[out.n_links++] = l;
    }
    rk_rpc_reply(op->rpc, &out.base);
}

static void list_my_patron_links(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    (void)message;
    op_t *op = op_new(rpc);
    if (!op)
        return;
    const char *values[] = {op->resident.grant_id, op->resident.tenant_id};
    if (rk_store_exec(op->lib->app->store, STMT_LINKS, 2, values, links_read, op) != RK_AGAIN)
        fail_store(op, NULL);
}

static const rk_rpc_method_t methods[] = {
    {"/renkei.v1.LibraryService/LinkPatron", &renkei__v1__link_patron_request__descriptor,
     &renkei__v1__link_patron_response__descriptor, link_patron, 0},
    {"/renkei.v1.LibraryService/UnlinkPatron", &renkei__v1__unlink_patron_request__descriptor,
     &renkei__v1__unlink_patron_response__descriptor, unlink_patron, 0},
    {"/renkei.v1.LibraryService/ListMyPatronLinks",
     &renkei__v1__list_my_patron_links_request__descriptor,
     &renkei__v1__list_my_patron_links_response__descriptor, list_my_patron_links, 0},
};

void rk_library_patron_register(rk_library_t *lib, rk_router_t *router)
{
    rk_store_t *store = lib->app->store;
    rk_store_prepare(store, STMT_TARGET, sql_target);
    rk_store_prepare(store, STMT_LINK, sql_link);
    rk_store_prepare(store, STMT_UNLINK, sql_unlink);
    rk_store_prepare(store, STMT_LINKS, sql_links);
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        rk_rpc_register(router, &methods[i]);
}
