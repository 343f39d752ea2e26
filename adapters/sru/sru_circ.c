/*
 * sru_circ.c — patrons, holds and loans in the owner's PostgreSQL (see sru_circ.h).
 *
 * Each handler checks what needs no state (fields, pickup rules from the configuration), asks
 * the catalogue what it must know about the record or copy (PlaceHold: the copies and their
 * shelf state; Checkout: the copy's record), then runs one statement — a PL/pgSQL function of
 * sql/sru_circulation.sql that applies the rules and records the answer with the idempotency
 * key in the same transaction — and turns the jsonb answer into the reply or the refusal.
 *
 * Database calls run on the hub's pool (hub/store/pool.h), which cannot cancel a query: the
 * context of a query is shared by the call and the pool's callback, and freed by whichever
 * ends last, so an answer arriving after the call ended (shutdown, caller gone) is dropped.
 * PINs travel only to PostgreSQL's crypt() and are never logged; VerifyPatron is read-only
 * for cards, so no hash of a request holding a PIN is ever stored.
 */
#include "sru_circ.h"

#include "core/error.h"
#include "core/log.h"
#include "sru_cql.h"
#include "store/connect.h"

#include <event2/event.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HS(x) RENKEI__V1__HOLDING_STATUS__HOLDING_STATUS_##x
#define HOLD(x) RENKEI__V1__HOLD_STATE__HOLD_STATE_##x
#define LOAN(x) RENKEI__V1__LOAN_STATE__LOAN_STATE_##x

#define SCHEMA_LOCK "SELECT pg_advisory_lock(hashtext('renkei-sru-schema'))"
#define SCHEMA_UNLOCK "SELECT pg_advisory_unlock(hashtext('renkei-sru-schema'))"

static const struct {
    const char *name, *sql;
} statements[] = {
    {"sru_verify_card", "SELECT sru.verify_card($1, $2, $3)"},
    {"sru_certificate_patron", "SELECT sru.certificate_patron($1, $2)"},
    {"sru_place_hold",
     "SELECT sru.place_hold($1, $2, $3, $4, $5, $6::jsonb, $7::text[], $8::int, $9, $10, "
     "$11::int, $12::int)"},
    {"sru_cancel_hold", "SELECT sru.cancel_hold($1, $2, $3, $4, $5, $6::int)"},
    {"sru_list_holds", "SELECT sru.list_holds($1, $2)"},
    {"sru_list_loans", "SELECT sru.list_loans($1, $2, $3::boolean)"},
    {"sru_checkout",
     "SELECT sru.checkout($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::boolean, $10::int, $11::int, "
     "$12::int)"},
    {"sru_renew", "SELECT sru.renew($1, $2, $3, $4, $5, $6::int)"},
    {"sru_return_loan", "SELECT sru.return_loan($1, $2, $3, $4, $5, $6::int)"},
    {"sru_circulation_of", "SELECT sru.circulation_of($1, $2::text[])"},
    {"sru_expire_holds", "SELECT sru.expire_holds($1, $2::int)"},
};

/* --- start-up (blocking, before the loop runs) ------------------------------------------------ */

static int exec_ok(PGconn *conn, const char *sql, int n, const char *const *values, char *why,
                   size_t why_len)
{
    PGresult *r = PQexecParams(conn, sql, n, NULL, values, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(why, why_len, "circulation: %s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* sru.patrons: [{"card": "…", "pin": "…", "expires_on": "YYYY-MM-DD"}] — demo patrons. */
static int add_patrons(PGconn *conn, const char *library, const json_t *patrons, char *why,
                       size_t why_len)
{
    if (!patrons)
        return 0;
    if (!json_is_array(patrons) || json_array_size(patrons) > 1000) {
        snprintf(why, why_len, "config: sru.patrons: must be a list of at most 1000 patrons");
        return -1;
    }
    for (size_t i = 0; i < json_array_size(patrons); i++) {
        const json_t *p = json_array_get(patrons, i);
        const char *card = json_string_value(json_object_get(p, "card"));
        const char *pin = json_string_value(json_object_get(p, "pin"));
        const char *expires = json_string_value(json_object_get(p, "expires_on"));
        if (!card || strlen(card) < 8 || strlen(card) > 14 ||
            strspn(card, "0123456789") != strlen(card) || !pin || strlen(pin) < 4 ||
            strlen(pin) > 64) {
            snprintf(why, why_len,
                     "config: sru.patrons[%zu]: needs card (8 to 14 digits) and pin (4 to 64 "
                     "characters)",
                     i);
            return -1;
        }
        const char *values[] = {library, card, pin, expires ? expires : "2099-12-31"};
        if (exec_ok(conn, "SELECT sru.ensure_card_patron($1, $2, $3, $4::date)", 4, values, why,
                    why_len) != 0)
            return -1;
    }
    return 0;
}

static void expired_cb(const rk_store_result_t *result, void *arg)
{
    (void)arg;
    if (result->status != RK_OK)
        rk_log_warn("expiring holds failed", "{s:s}", "error",
                    result->error ? result->error : rk_error_name(result->status));
    else if (result->n_results > 0 && atoi(PQgetvalue(result->results[0], 0, 0)) > 0)
        rk_log_info("holds expired", "{s:i}", "count", atoi(PQgetvalue(result->results[0], 0, 0)));
}

static void expiry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sru_t *sru = arg;
    char days[16];
    snprintf(days, sizeof(days), "%d", sru->pickup_days);
    const char *values[] = {rk_adapter_config(sru->server)->municipality_code, days};
    /* While PostgreSQL is away the pool refuses at once; the next tick tries again. */
    rk_store_exec(sru->store, "sru_expire_holds", 2, values, expired_cb, NULL);
}

void sru_circ_stop(sru_t *sru)
{
    if (sru->expiry)
        event_free(sru->expiry);
    sru->expiry = NULL;
    if (sru->store)
        rk_store_free(sru->store);
    sru->store = NULL;
}

int sru_circ_start(sru_t *sru, const char *conninfo, int pool_size, const json_t *patrons,
                   char *why, size_t why_len)
{
    char err[256];
    PGconn *conn = rk_store_connect_blocking(conninfo, 10000, err, sizeof(err));
    if (!conn) {
        snprintf(why, why_len, "circulation: PostgreSQL: %s", err);
        return -1;
    }
    const char *library = rk_adapter_config(sru->server)->municipality_code;
    /* Adapters of several cities may share a database and start together. */
    int rc = exec_ok(conn, SCHEMA_LOCK, 0, NULL, why, why_len);
    if (rc == 0) {
        PGresult *r = PQexec(conn, sru_circ_schema_sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
            snprintf(why, why_len, "circulation: schema: %s", PQresultErrorMessage(r));
            rc = -1;
        }
        PQclear(r);
        if (rc == 0)
            rc = add_patrons(conn, library, patrons, why, why_len);
        exec_ok(conn, SCHEMA_UNLOCK, 0, NULL, err, sizeof(err));
    }
    PQfinish(conn);
    if (rc != 0)
        return -1;
    rk_store_options_t options = {conninfo, pool_size, 64, 5000, 5000};
    sru->store = rk_store_new(rk_adapter_base(sru->server), &options);
    for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]); i++)
        rk_store_prepare(sru->store, statements[i].name, statements[i].sql);
    rk_store_start(sru->store);
    sru->expiry = event_new(rk_adapter_base(sru->server), -1, EV_PERSIST, expiry_cb, sru);
    struct timeval every = {sru->expiry_interval_ms / 1000,
                            (sru->expiry_interval_ms % 1000) * 1000};
    event_add(sru->expiry, &every);
    return 0;
}

/* --- one statement on the pool ------------------------------------------------------------- */

typedef void (*answer_fn)(rk_adapter_call_t *call, const json_t *answer, void *arg);

typedef struct query {
    rk_adapter_call_t *call; /* NULL once the call ended */
    int refs;                /* the call and the pool */
    answer_fn done;
    void *arg;
} query_t;

static void query_release(query_t *q)
{
    if (--q->refs == 0)
        free(q);
}

static void query_call_end_cb(void *data)
{
    query_t *q = data;
    q->call = NULL;
    query_release(q);
}

static void owner_unavailable(rk_adapter_call_t *call, const char *what)
{
    rk_adapter_fail(call, RK_ADAPTER_UNAVAILABLE, "LIBRARY_ERROR_OWNER_UNAVAILABLE",
                    rk_adapter_call_printf(call, "the library's circulation database %s", what));
}

/* Answers a refusal the function returned ({"code": n, …}) and returns 1; 0 when code is 0. */
static int refused(rk_adapter_call_t *call, const json_t *answer)
{
    int code = (int)json_integer_value(json_object_get(answer, "code"));
    if (code == 0)
        return 0;
    const char *reason = json_string_value(json_object_get(answer, "reason"));
    const char *message = json_string_value(json_object_get(answer, "message"));
    rk_adapter_fail(call, (rk_adapter_code_t)code,
                    reason ? rk_adapter_call_strdup(call, reason) : NULL,
                    rk_adapter_call_strdup(call, message ? message : "refused"));
    return 1;
}

static void query_cb(const rk_store_result_t *result, void *arg)
{
    query_t *q = arg;
    rk_adapter_call_t *call = q->call;
    if (!call) {
        query_release(q);
        return;
    }
    if (result->status != RK_OK || result->n_results < 1 ||
        PQntuples(result->results[result->n_results - 1]) != 1) {
        if (result->status == RK_EUNAVAILABLE)
            owner_unavailable(call, "cannot be reached");
        else
            rk_adapter_fail(call, RK_ADAPTER_INTERNAL, NULL,
                            rk_adapter_call_printf(call, "circulation query failed: %s",
                                                   result->error ? result->error : "no row"));
        query_release(q);
        return;
    }
    json_error_t error;
    json_t *answer =
        json_loads(PQgetvalue(result->results[result->n_results - 1], 0, 0), 0, &error);
    if (!answer) {
        rk_adapter_fail(call, RK_ADAPTER_INTERNAL, NULL, "circulation answer unreadable");
    } else if (!refused(call, answer)) {
        q->done(call, answer, q->arg);
    }
    json_decref(answer);
    query_release(q);
}

static void run(rk_adapter_call_t *call, const char *statement, int n, const char *const *values,
                answer_fn done, void *arg)
{
    sru_t *sru = rk_adapter_call_data(call);
    query_t *q = rk_xcalloc(1, sizeof(*q));
    q->call = call;
    q->refs = 2;
    q->done = done;
    q->arg = arg;
    rk_adapter_call_on_end(call, query_call_end_cb, q);
    if (rk_store_exec(sru->store, statement, n, values, query_cb, q) != RK_AGAIN) {
        owner_unavailable(call, "cannot be reached");
        query_release(q); /* the pool will not call back */
    }
}

/* --- JSON ⇄ messages ------------------------------------------------------------------------ */

static const char *str(rk_adapter_call_t *call, const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return rk_adapter_call_strdup(call, s ? s : "");
}

/* The work as stored with a hold or loan (written by work_json). */
static char *work_json(const sru_record_t *r)
{
    json_t *authors = json_array();
    for (size_t i = 0; i < r->n_authors; i++)
        json_array_append_new(authors,
                              json_pack("{s:s, s:s, s:s}", "name", r->authors[i].name, "kana",
                                        r->authors[i].kana, "role", r->authors[i].role));
    json_t *subjects = json_array();
    for (size_t i = 0; i < r->n_subjects; i++)
        json_array_append_new(subjects, json_string(r->subjects[i]));
    json_t *w = json_pack("{s:s, s:s, s:s, s:o, s:s, s:i, s:s, s:o, s:i}", "isbn13", r->isbn13,
                          "title", r->title, "title_kana", r->title_kana, "authors", authors,
                          "publisher", r->publisher, "year", r->year, "ndc", r->ndc, "subjects",
                          subjects, "type", (int)r->type);
    char *text = json_dumps(w, JSON_COMPACT);
    json_decref(w);
    return text;
}

static Renkei__V1__Work *work_of_json(rk_adapter_call_t *call, const json_t *w)
{
    sru_record_t *r = rk_adapter_call_alloc(call, sizeof(*r));
    r->isbn13 = str(call, w, "isbn13");
    r->title = str(call, w, "title");
    r->title_kana = str(call, w, "title_kana");
    r->publisher = str(call, w, "publisher");
    r->ndc = str(call, w, "ndc");
    r->year = (int)json_integer_value(json_object_get(w, "year"));
    r->type = (char)json_integer_value(json_object_get(w, "type"));
    const json_t *authors = json_object_get(w, "authors");
    for (size_t i = 0; i < json_array_size(authors) && i < SRU_MARC_LIST_MAX; i++) {
        const json_t *a = json_array_get(authors, i);
        r->authors[i] =
            (sru_contributor_t){str(call, a, "name"), str(call, a, "kana"), str(call, a, "role")};
        r->n_authors++;
    }
    const json_t *subjects = json_object_get(w, "subjects");
    for (size_t i = 0; i < json_array_size(subjects) && i < SRU_MARC_LIST_MAX; i++)
        r->subjects[r->n_subjects++] =
            rk_adapter_call_strdup(call, json_string_value(json_array_get(subjects, i)));
    return sru_work_message(call, r);
}

static Renkei__V1__HoldState hold_state(const char *s)
{
    return strcmp(s, "WAITING") == 0     ? HOLD(WAITING)
           : strcmp(s, "READY") == 0     ? HOLD(READY)
           : strcmp(s, "CANCELLED") == 0 ? HOLD(CANCELLED)
           : strcmp(s, "FULFILLED") == 0 ? HOLD(FULFILLED)
           : strcmp(s, "EXPIRED") == 0   ? HOLD(EXPIRED)
                                         : HOLD(UNSPECIFIED);
}

static Renkei__V1__OwnerHold *hold_message(rk_adapter_call_t *call, const json_t *h)
{
    Renkei__V1__OwnerHold *m = rk_adapter_call_alloc(call, sizeof(*m));
    renkei__v1__owner_hold__init(m);
    m->owner_reference = (char *)str(call, h, "reference");
    m->hold_key = (char *)str(call, h, "key");
    m->record_id = (char *)str(call, h, "record_id");
    m->work = work_of_json(call, json_object_get(h, "work"));
    m->state = hold_state(str(call, h, "state"));
    m->queue_position = (int32_t)json_integer_value(json_object_get(h, "queue_position"));
    m->pickup_municipality = (char *)str(call, h, "pickup_municipality");
    m->pickup_branch_id = (char *)str(call, h, "pickup_branch");
    m->expires_at = (char *)str(call, h, "expires_at");
    m->placed_at = (char *)str(call, h, "placed_at");
    return m;
}

static Renkei__V1__OwnerLoan *loan_message(rk_adapter_call_t *call, const json_t *l)
{
    Renkei__V1__OwnerLoan *m = rk_adapter_call_alloc(call, sizeof(*m));
    renkei__v1__owner_loan__init(m);
    m->owner_reference = (char *)str(call, l, "reference");
    m->loan_key = (char *)str(call, l, "key");
    m->record_id = (char *)str(call, l, "record_id");
    m->work = work_of_json(call, json_object_get(l, "work"));
    m->item_id = (char *)str(call, l, "item_id");
    m->branch_id = (char *)str(call, l, "branch_id");
    const char *state = str(call, l, "state");
    m->state = strcmp(state, "RETURNED") == 0  ? LOAN(RETURNED)
               : strcmp(state, "OVERDUE") == 0 ? LOAN(OVERDUE)
                                               : LOAN(ACTIVE);
    m->borrowed_on = (char *)str(call, l, "borrowed_on");
    m->due_date = (char *)str(call, l, "due_date");
    m->renewals = (int32_t)json_integer_value(json_object_get(l, "renewals"));
    m->max_renewals = (int32_t)json_integer_value(json_object_get(l, "max_renewals"));
    m->returned_at = (char *)str(call, l, "returned_at");
    return m;
}

/* --- common checks ----------------------------------------------------------------------- */

static int key_ok(const char *key)
{
    size_t n = strlen(key);
    return n >= 1 && n <= 128 &&
           strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == n;
}

/* The key and patron of a mutation: 0, or answers INVALID_ARGUMENT and returns -1. */
static int check_change(rk_adapter_call_t *call, const Renkei__V1__IdempotencyKey *key,
                        const char *patron_id)
{
    if (!key || !key_ok(key->key)) {
        rk_adapter_fail_field(call, "idempotency_key.key",
                              "required: 1 to 128 characters of A-Z a-z 0-9 . _ : -");
        return -1;
    }
    if (patron_id && !sru_record_id_ok(patron_id)) {
        rk_adapter_fail_field(call, "patron_id", "required: the patron id VerifyPatron gave");
        return -1;
    }
    return 0;
}

/* SHA-256 of the request as sent, in hex: the same key with another request is refused. */
static const char *request_hash(rk_adapter_call_t *call, const ProtobufCMessage *request)
{
    size_t len = protobuf_c_message_get_packed_size(request);
    uint8_t *bytes = rk_adapter_call_alloc(call, len);
    protobuf_c_message_pack(request, bytes);
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(bytes, len, digest);
    char *hex = rk_adapter_call_alloc(call, 2 * SHA256_DIGEST_LENGTH + 1);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    return hex;
}

static const char *library_code(rk_adapter_call_t *call)
{
    return rk_adapter_config(rk_adapter_call_server(call))->municipality_code;
}

static const char *number(rk_adapter_call_t *call, int n)
{
    return rk_adapter_call_printf(call, "%d", n);
}

/* CancelHold, Renew, ReturnLoan: a change of one of the patron's holds or loans by its
 * reference; days is the function's last argument (pickup or loan days). */
static void change_by_reference(rk_adapter_call_t *call, const ProtobufCMessage *request,
                                const Renkei__V1__IdempotencyKey *key, const char *patron_id,
                                const char *reference, const char *statement, int days,
                                answer_fn reply, const ProtobufCMessageDescriptor *type)
{
    if (check_change(call, key, patron_id) != 0)
        return;
    const char *values[] = {library_code(call), key->key,  request_hash(call, request),
                            patron_id,          reference, number(call, days)};
    run(call, statement, 6, values, reply, (void *)type);
}

/* --- VerifyPatron ------------------------------------------------------------------------- */

static void patron_reply(rk_adapter_call_t *call, const json_t *answer, void *arg)
{
    (void)arg;
    sru_t *sru = rk_adapter_call_data(call);
    const json_t *p = json_object_get(answer, "patron");
    Renkei__V1__AdapterVerifyPatronResponse out = RENKEI__V1__ADAPTER_VERIFY_PATRON_RESPONSE__INIT;
    out.patron_id = (char *)str(call, p, "patron_id");
    const char *last4 = str(call, p, "card_last4");
    if (*last4)
        out.card_number_masked = rk_adapter_call_printf(call, "******%s", last4);
    out.expires_on = (char *)str(call, p, "expires_on");
    out.loan_limit = sru->loan_limit;
    out.hold_limit = sru->hold_limit;
    rk_adapter_reply(call, &out.base);
}

void sru_verify_patron(rk_adapter_call_t *call,
                       const Renkei__V1__AdapterVerifyPatronRequest *request)
{
    if (check_change(call, request->idempotency_key, NULL) != 0)
        return;
    const char *card = request->card_number;
    size_t len = strlen(card);
    switch (request->method) {
    case RENKEI__V1__PATRON_LINK_METHOD__PATRON_LINK_METHOD_CARD_AND_PIN: {
        if (len < 8 || len > 14 || strspn(card, "0123456789") != len) {
            rk_adapter_fail_field(call, "card_number", "must be 8 to 14 digits");
            return;
        }
        if (strlen(request->pin) < 4 || strlen(request->pin) > 64) {
            rk_adapter_fail_field(call, "pin", "must be 4 to 64 characters");
            return;
        }
        const char *values[] = {library_code(call), card, request->pin};
        run(call, "sru_verify_card", 3, values, patron_reply, NULL);
        return;
    }
    case RENKEI__V1__PATRON_LINK_METHOD__PATRON_LINK_METHOD_CERTIFICATE: {
        const char *pairwise = request->resident ? request->resident->pairwise_id : "";
        if (!*pairwise || strlen(pairwise) > 255) {
            rk_adapter_fail_field(call, "resident.pairwise_id", "required for CERTIFICATE");
            return;
        }
        const char *values[] = {library_code(call), pairwise};
        run(call, "sru_certificate_patron", 2, values, patron_reply, NULL);
        return;
    }
    default:
        rk_adapter_fail_field(call, "method", "must be CARD_AND_PIN or CERTIFICATE");
        return;
    }
}

/* --- holds -------------------------------------------------------------------------------- */

static void hold_reply(rk_adapter_call_t *call, const json_t *answer, void *arg)
{
    const ProtobufCMessageDescriptor *type = arg;
    Renkei__V1__OwnerHold *hold = hold_message(call, json_object_get(answer, "hold"));
    if (type == &renkei__v1__adapter_place_hold_response__descriptor) {
        Renkei__V1__AdapterPlaceHoldResponse out = RENKEI__V1__ADAPTER_PLACE_HOLD_RESPONSE__INIT;
        out.hold = hold;
        rk_adapter_reply(call, &out.base);
    } else {
        Renkei__V1__AdapterCancelHoldResponse out = RENKEI__V1__ADAPTER_CANCEL_HOLD_RESPONSE__INIT;
        out.hold = hold;
        rk_adapter_reply(call, &out.base);
    }
}

/* The pickup rules: this library's own pickup branches — for residents of partner cities
 * (residency class PARTNER_AREA) only those the mutual-use agreement names (partner_pickup) —
 * or any branch of a partner city. */
static int check_pickup(rk_adapter_call_t *call, const char *municipality, const char *branch,
                        const Renkei__V1__ResidentContext *resident)
{
    sru_t *sru = rk_adapter_call_data(call);
    if (!sru_record_id_ok(branch)) {
        rk_adapter_fail_field(call, "pickup_branch_id", "required: a branch id");
        return -1;
    }
    if (strcmp(municipality, library_code(call)) == 0) {
        const sru_branch_t *b = sru_branch_find(sru, branch);
        if (!b || !b->pickup) {
            rk_adapter_fail(call, RK_ADAPTER_INVALID_ARGUMENT, "LIBRARY_ERROR_UNKNOWN_BRANCH",
                            b ? "pickup_branch_id: holds cannot be collected at that branch"
                              : "pickup_branch_id: no such branch");
            return -1;
        }
        if (resident &&
            resident->residency_class ==
                RENKEI__V1__RESIDENCY_CLASS__RESIDENCY_CLASS_PARTNER_AREA &&
            !b->partner_pickup) {
            char allowed[512] = "";
            for (size_t i = 0; i < sru->n_branches; i++) {
                if (sru->branches[i].partner_pickup && strlen(allowed) + 70 < sizeof(allowed))
                    snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed), "%s%s",
                             *allowed ? ", " : "", sru->branches[i].id);
            }
            rk_adapter_fail(call, RK_ADAPTER_FAILED_PRECONDITION,
                            "LIBRARY_ERROR_PICKUP_BRANCH_NOT_ALLOWED",
                            rk_adapter_call_printf(call,
                                                   "pickup_branch_id: residents of partner cities "
                                                   "collect holds here only at the mutual-use "
                                                   "agreement's pickup branches: %s",
                                                   *allowed ? allowed : "none"));
            return -1;
        }
        return 0;
    }
    for (size_t i = 0; i < sru->n_pickup_partners; i++) {
        if (strcmp(sru->pickup_partners[i], municipality) == 0)
            return 0;
    }
    rk_adapter_fail(call, RK_ADAPTER_FAILED_PRECONDITION, "LIBRARY_ERROR_PICKUP_BRANCH_NOT_ALLOWED",
                    rk_adapter_call_printf(call,
                                           "pickup_municipality: holds of this library can be "
                                           "collected at its own branches and at partner cities' "
                                           "(circulation.pickup_partners); not at %s",
                                           municipality));
    return -1;
}

typedef struct place {
    const Renkei__V1__AdapterPlaceHoldRequest *request;
    const char *pickup_municipality;
    const char *hash;
} place_t;

static void place_record_found(rk_adapter_call_t *call, const sru_answer_t *answer, void *arg)
{
    place_t *p = arg;
    sru_t *sru = rk_adapter_call_data(call);
    if (answer->n_records != 1) {
        rk_adapter_fail(call, RK_ADAPTER_NOT_FOUND, "ERROR_REASON_NOT_FOUND",
                        "record_id: no such record in this library's catalogue");
        return;
    }
    const sru_record_t *r = &answer->records[0];
    /* The copies the catalogue shows on the shelf, as a PostgreSQL array of item ids (they are
     * [A-Za-z0-9._-], checked, so they need no quoting). */
    char *shelf = rk_adapter_call_alloc(call, r->n_items * (SRU_RECORD_ID_MAX + 1) + 3);
    int lendable = 0;
    strcpy(shelf, "{");
    for (size_t i = 0; i < r->n_items; i++) {
        const sru_item_t *it = &r->items[i];
        if (it->withdrawn || it->lost || it->damaged || it->not_for_loan > 0 ||
            !sru_record_id_ok(it->barcode))
            continue;
        lendable++;
        const char *due;
        if (sru_item_state(it, NULL, r->id, &due) == HS(AVAILABLE)) {
            if (shelf[1])
                strcat(shelf, ",");
            strcat(shelf, it->barcode);
        }
    }
    strcat(shelf, "}");
    char *work = work_json(r);
    const char *values[] = {library_code(call),
                            p->request->idempotency_key->key,
                            p->hash,
                            p->request->patron_id,
                            r->id,
                            rk_adapter_call_strdup(call, work),
                            shelf,
                            number(call, lendable),
                            p->pickup_municipality,
                            p->request->pickup_branch_id,
                            number(call, sru->hold_limit),
                            number(call, sru->pickup_days)};
    free(work);
    run(call, "sru_place_hold", 12, values, hold_reply,
        (void *)&renkei__v1__adapter_place_hold_response__descriptor);
}

void sru_place_hold(rk_adapter_call_t *call, const Renkei__V1__AdapterPlaceHoldRequest *request)
{
    if (check_change(call, request->idempotency_key, request->patron_id) != 0)
        return;
    if (!sru_record_id_ok(request->record_id)) {
        rk_adapter_fail_field(call, "record_id", "required: a record id of this library");
        return;
    }
    place_t *p = rk_adapter_call_alloc(call, sizeof(*p));
    p->request = request;
    p->pickup_municipality =
        *request->pickup_municipality ? request->pickup_municipality : library_code(call);
    if (check_pickup(call, p->pickup_municipality, request->pickup_branch_id, request->resident) !=
        0)
        return;
    p->hash = request_hash(call, &request->base);
    char *cql = rk_adapter_call_alloc(call, SRU_CQL_MAX);
    const char *why;
    const char *ids[] = {request->record_id};
    sru_cql_record_ids(ids, 1, cql, &why); /* the id was checked above */
    sru_fetch(call, cql, 1, 1, place_record_found, p);
}

void sru_cancel_hold(rk_adapter_call_t *call, const Renkei__V1__AdapterCancelHoldRequest *request)
{
    sru_t *sru = rk_adapter_call_data(call);
    change_by_reference(call, &request->base, request->idempotency_key, request->patron_id,
                        request->owner_reference, "sru_cancel_hold", sru->pickup_days, hold_reply,
                        &renkei__v1__adapter_cancel_hold_response__descriptor);
}

static void holds_reply(rk_adapter_call_t *call, const json_t *answer, void *arg)
{
    (void)arg;
    const json_t *holds = json_object_get(answer, "holds");
    Renkei__V1__AdapterListHoldsResponse out = RENKEI__V1__ADAPTER_LIST_HOLDS_RESPONSE__INIT;
    out.holds = rk_adapter_call_alloc(call, (json_array_size(holds) + 1) * sizeof(*out.holds));
    for (size_t i = 0; i < json_array_size(holds); i++)
        out.holds[out.n_holds++] = hold_message(call, json_array_get(holds, i));
    rk_adapter_reply(call, &out.base);
}

void sru_list_holds(rk_adapter_call_t *call, const Renkei__V1__AdapterListHoldsRequest *request)
{
    if (!sru_record_id_ok(request->patron_id)) {
        rk_adapter_fail_field(call, "patron_id", "required: the patron id VerifyPatron gave");
        return;
    }
    const char *values[] = {library_code(call), request->patron_id};
    run(call, "sru_list_holds", 2, values, holds_reply, NULL);
}

/* --- loans -------------------------------------------------------------------------------- */

static void loan_reply(rk_adapter_call_t *call, const json_t *answer, void *arg)
{
    const ProtobufCMessageDescriptor *type = arg;
    Renkei__V1__OwnerLoan *loan = loan_message(call, json_object_get(answer, "loan"));
    if (type == &renkei__v1__adapter_checkout_response__descriptor) {
        Renkei__V1__AdapterCheckoutResponse out = RENKEI__V1__ADAPTER_CHECKOUT_RESPONSE__INIT;
        out.loan = loan;
        rk_adapter_reply(call, &out.base);
    } else if (type == &renkei__v1__adapter_renew_response__descriptor) {
        Renkei__V1__AdapterRenewResponse out = RENKEI__V1__ADAPTER_RENEW_RESPONSE__INIT;
        out.loan = loan;
        rk_adapter_reply(call, &out.base);
    } else {
        Renkei__V1__AdapterReturnLoanResponse out = RENKEI__V1__ADAPTER_RETURN_LOAN_RESPONSE__INIT;
        out.loan = loan;
        rk_adapter_reply(call, &out.base);
    }
}

static void loans_reply(rk_adapter_call_t *call, const json_t *answer, void *arg)
{
    (void)arg;
    const json_t *loans = json_object_get(answer, "loans");
    Renkei__V1__AdapterListLoansResponse out = RENKEI__V1__ADAPTER_LIST_LOANS_RESPONSE__INIT;
    out.loans = rk_adapter_call_alloc(call, (json_array_size(loans) + 1) * sizeof(*out.loans));
    for (size_t i = 0; i < json_array_size(loans); i++)
        out.loans[out.n_loans++] = loan_message(call, json_array_get(loans, i));
    rk_adapter_reply(call, &out.base);
}

void sru_list_loans(rk_adapter_call_t *call, const Renkei__V1__AdapterListLoansRequest *request)
{
    if (!sru_record_id_ok(request->patron_id)) {
        rk_adapter_fail_field(call, "patron_id", "required: the patron id VerifyPatron gave");
        return;
    }
    const char *values[] = {library_code(call), request->patron_id,
                            request->include_returned ? "true" : "false"};
    run(call, "sru_list_loans", 3, values, loans_reply, NULL);
}

typedef struct lend {
    const Renkei__V1__AdapterCheckoutRequest *request;
    const char *hash;
} lend_t;

static void checkout_item_found(rk_adapter_call_t *call, const sru_answer_t *answer, void *arg)
{
    lend_t *l = arg;
    sru_t *sru = rk_adapter_call_data(call);
    const sru_record_t *r = answer->n_records == 1 ? &answer->records[0] : NULL;
    const sru_item_t *item = NULL;
    for (size_t i = 0; r && i < r->n_items; i++) {
        if (strcmp(r->items[i].barcode, l->request->item_id) == 0)
            item = &r->items[i];
    }
    if (!item ||
        (*l->request->branch_id && strcmp(item->holding_branch, l->request->branch_id) != 0)) {
        rk_adapter_fail(call, RK_ADAPTER_NOT_FOUND, "ERROR_REASON_NOT_FOUND",
                        "item_id: no such item at that branch");
        return;
    }
    const char *due;
    int on_shelf =
        !item->withdrawn && !item->lost && sru_item_state(item, NULL, r->id, &due) == HS(AVAILABLE);
    char *work = work_json(r);
    const char *values[] = {library_code(call),
                            l->request->idempotency_key->key,
                            l->hash,
                            l->request->patron_id,
                            item->barcode,
                            item->holding_branch,
                            r->id,
                            rk_adapter_call_strdup(call, work),
                            on_shelf ? "true" : "false",
                            number(call, sru->loan_limit),
                            number(call, sru->loan_days),
                            number(call, sru->max_renewals)};
    free(work);
    run(call, "sru_checkout", 12, values, loan_reply,
        (void *)&renkei__v1__adapter_checkout_response__descriptor);
}

void sru_checkout(rk_adapter_call_t *call, const Renkei__V1__AdapterCheckoutRequest *request)
{
    if (check_change(call, request->idempotency_key, request->patron_id) != 0)
        return;
    char *cql = rk_adapter_call_alloc(call, SRU_CQL_MAX);
    const char *why;
    if (!*request->item_id) {
        rk_adapter_fail_field(call, "item_id",
                              "required: this library lends print copies at a counter");
        return;
    }
    if (sru_cql_item(request->item_id, cql, &why) != 0) {
        rk_adapter_fail_field(call, "item_id", why);
        return;
    }
    lend_t *l = rk_adapter_call_alloc(call, sizeof(*l));
    l->request = request;
    l->hash = request_hash(call, &request->base);
    sru_fetch(call, cql, 1, 1, checkout_item_found, l);
}

void sru_renew(rk_adapter_call_t *call, const Renkei__V1__AdapterRenewRequest *request)
{
    sru_t *sru = rk_adapter_call_data(call);
    change_by_reference(call, &request->base, request->idempotency_key, request->patron_id,
                        request->owner_reference, "sru_renew", sru->loan_days, loan_reply,
                        &renkei__v1__adapter_renew_response__descriptor);
}

void sru_return_loan(rk_adapter_call_t *call, const Renkei__V1__AdapterReturnLoanRequest *request)
{
    sru_t *sru = rk_adapter_call_data(call);
    change_by_reference(call, &request->base, request->idempotency_key, request->patron_id,
                        request->owner_reference, "sru_return_loan", sru->pickup_days, loan_reply,
                        &renkei__v1__adapter_return_loan_response__descriptor);
}

/* --- the holdings overlay ---------------------------------------------------------------- */

typedef struct overlay_load {
    sru_circ_overlay_cb done;
    void *arg;
} overlay_load_t;

static void overlay_reply(rk_adapter_call_t *call, const json_t *answer, void *arg)
{
    overlay_load_t *o = arg;
    sru_circ_overlay_t *overlay = rk_adapter_call_alloc(call, sizeof(*overlay));
    const json_t *items = json_object_get(answer, "items");
    const json_t *queues = json_object_get(answer, "queues");
    overlay->items =
        rk_adapter_call_alloc(call, (json_array_size(items) + 1) * sizeof(*overlay->items));
    for (size_t i = 0; i < json_array_size(items); i++) {
        const json_t *it = json_array_get(items, i);
        sru_circ_item_t *c = &overlay->items[overlay->n_items++];
        c->record_id = str(call, it, "record_id");
        c->item_id = str(call, it, "item_id");
        c->status = strcmp(str(call, it, "status"), "ON_LOAN") == 0 ? HS(ON_LOAN) : HS(RESERVED);
        c->due_date = str(call, it, "due_date");
    }
    overlay->queues =
        rk_adapter_call_alloc(call, (json_object_size(queues) + 1) * sizeof(*overlay->queues));
    const char *record;
    json_t *n;
    json_object_foreach((json_t *)queues, record, n)
    {
        overlay->queues[overlay->n_queues].record_id = rk_adapter_call_strdup(call, record);
        overlay->queues[overlay->n_queues++].waiting = (int)json_integer_value(n);
    }
    o->done(call, overlay, o->arg);
}

void sru_circ_overlay_load(rk_adapter_call_t *call, const sru_answer_t *answer,
                           sru_circ_overlay_cb done, void *arg)
{
    sru_t *sru = rk_adapter_call_data(call);
    if (!sru->store || answer->n_records == 0) {
        done(call, NULL, arg);
        return;
    }
    /* Record ids the catalogue gave, as a PostgreSQL array; ids outside the safe alphabet
     * cannot have circulation here (every change checks them) and are left out. */
    char *ids = rk_adapter_call_alloc(call, answer->n_records * (SRU_RECORD_ID_MAX + 1) + 3);
    strcpy(ids, "{");
    for (size_t i = 0; i < answer->n_records; i++) {
        if (!sru_record_id_ok(answer->records[i].id))
            continue;
        if (ids[1])
            strcat(ids, ",");
        strcat(ids, answer->records[i].id);
    }
    strcat(ids, "}");
    overlay_load_t *o = rk_adapter_call_alloc(call, sizeof(*o));
    o->done = done;
    o->arg = arg;
    const char *values[] = {library_code(call), ids};
    run(call, "sru_circulation_of", 2, values, overlay_reply, o);
}

const sru_circ_item_t *sru_circ_overlay_item(const sru_circ_overlay_t *overlay,
                                             const char *record_id, const char *item_id)
{
    for (size_t i = 0; overlay && i < overlay->n_items; i++) {
        if (strcmp(overlay->items[i].item_id, item_id) == 0 &&
            strcmp(overlay->items[i].record_id, record_id) == 0)
            return &overlay->items[i];
    }
    return NULL;
}

int sru_circ_overlay_queue(const sru_circ_overlay_t *overlay, const char *record_id)
{
    for (size_t i = 0; overlay && i < overlay->n_queues; i++) {
        if (strcmp(overlay->queues[i].record_id, record_id) == 0)
            return overlay->queues[i].waiting;
    }
    return 0;
}
