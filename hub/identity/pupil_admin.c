/*
 * pupil_admin.c — pupil IDs through the admin API (see pupil_admin.h):
 *
 *   POST /admin/v1/realms/{slug}/pupils   {"school", "grade", "display_name"?}
 *
 * A tenant-admin of the city issues one pupil ID per call: the hub makes the ID ("p" and ten
 * digits, the account's username) and an initial password (12 characters of an alphabet
 * without look-alikes, about 59 bits), hashes the password with argon2id on a worker thread,
 * stores the account and its pupil row (school, valid_until: the pupils migration) in one
 * statement, and answers both once — the hub keeps only the hash, so the school prints the
 * slip from this answer. The password is wiped when the request ends and never logged.
 * Batches (a school board's roster) are renkeictl's: one call per row (hub/ctl).
 */
#include "identity/pupil_admin.h"

#include "admin/admin_auth.h"
#include "core/error.h"
#include "core/log.h"
#include "identity/form.h"
#include "identity/password.h"
#include "identity/secret_text.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define STMT_ISSUE "identity_pupil_issue"
#define PASSWORD_LEN 12
#define PUPIL_ID_DIGITS 10
#define ISSUE_ATTEMPTS 3 /* a pupil ID drawn twice is drawn again */

static const char sql_issue[] = "SELECT rk_identity_pupil_issue($1, $2::bigint, $3, $4, $5, $6,"
                                " $7::int)::text";

/* No 0/o, 1/l/i: a child copies it from paper. */
static const char password_alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";

typedef struct issue {
    rk_request_t *req;
    json_t *body;
    const char *tenant_id;
    int grade; /* overall, 1–9 */
    char password[PASSWORD_LEN + 1];
    char pupil_id[PUPIL_ID_DIGITS + 2];
    char hash[RK_IDENTITY_PASSWORD_HASH_MAX];
    int hash_status;
    int attempts;
} issue_t;

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && memcmp(s + n - m, suffix, m) == 0;
}

int rk_identity_pupil_grade(const char *school, long grade, const char **why)
{
    long chars = school ? rk_identity_text_chars(school) : -1;
    if (chars < 1 || chars > 100) {
        *why = "school: is required: the school's name, 1 to 100 characters";
        return 0;
    }
    int first = 1, last;
    if (ends_with(school, "義務教育学校"))
        last = 9;
    else if (ends_with(school, "小学校"))
        last = 6;
    else if (ends_with(school, "中学校"))
        last = 3, first = 7;
    else {
        *why = "school: must be the name of a 小学校, 中学校 or 義務教育学校 (e.g. "
               "江東区立第二亀戸小学校)";
        return 0;
    }
    if (grade < 1 || grade > last) {
        *why = last == 9   ? "grade: a 義務教育学校 has grades 1 to 9"
               : last == 6 ? "grade: a 小学校 has grades 1 to 6"
                           : "grade: a 中学校 has grades 1 to 3";
        return 0;
    }
    return (int)(first + grade - 1);
}

static void wipe(void *data)
{
    issue_t *c = data;
    OPENSSL_cleanse(c->password, sizeof(c->password));
    OPENSSL_cleanse(c->hash, sizeof(c->hash));
    json_decref(c->body);
}

static void fail(rk_request_t *req, int status, const char *code, const char *message)
{
    rk_response_error(req, status, code, message);
    rk_request_finish(req);
}

/* Uniform characters of alphabet (n < 256) from RAND_bytes; RK_OK or RK_EIO. */
static int random_chars(char *out, size_t len, const char *alphabet)
{
    size_t n = strlen(alphabet), limit = 256 - 256 % n, done = 0;
    unsigned char buf[64];
    while (done < len) {
        if (RAND_bytes(buf, sizeof(buf)) != 1)
            return RK_EIO;
        for (size_t i = 0; i < sizeof(buf) && done < len; i++) {
            if (buf[i] < limit)
                out[done++] = alphabet[buf[i] % n];
        }
    }
    out[len] = '\0';
    OPENSSL_cleanse(buf, sizeof(buf));
    return RK_OK;
}

static void store(issue_t *c);

static void stored(const rk_store_result_t *res, void *arg)
{
    issue_t *c = arg;
    rk_request_t *req = c->req;
    if (res->status == RK_EINVAL && strcmp(res->sqlstate, "23505") == 0 &&
        ++c->attempts < ISSUE_ATTEMPTS) {
        store(c); /* the drawn pupil ID is taken: draw another */
        return;
    }
    if (res->status != RK_OK || res->n_results != 1 || PQntuples(res->results[0]) != 1) {
        if (res->status == RK_EINVAL)
            rk_log_error("issuing a pupil ID failed", "{s:s}", "error", res->error);
        fail(req, 503, "unavailable", "the database did not store the pupil ID");
        return;
    }
    json_t *pupil = json_loads(PQgetvalue(res->results[0], 0, 0), 0, NULL);
    if (!pupil) {
        fail(req, 500, "internal", "the database's answer did not parse");
        return;
    }
    json_object_set_new(pupil, "initial_password", json_string(c->password));
    char *text = json_dumps(pupil, JSON_COMPACT);
    json_decref(pupil);
    rk_log_info("pupil ID issued", "{s:s, s:s}", "request_id", req->request_id, "realm",
                req->params[0]);
    rk_response_set(req, 201, "application/json", text, strlen(text));
    OPENSSL_cleanse(text, strlen(text));
    free(text);
    rk_response_header(req, "cache-control", "no-store");
    rk_request_finish(req);
}

static void store(issue_t *c)
{
    rk_request_t *req = c->req;
    char uid[RK_IDENTITY_B64_LEN(16) + 1], grade[4];
    c->pupil_id[0] = 'p';
    if (rk_identity_random_text(uid, 16) != RK_OK ||
        random_chars(c->pupil_id + 1, PUPIL_ID_DIGITS, "0123456789") != RK_OK) {
        fail(req, 500, "internal", "no randomness");
        return;
    }
    snprintf(grade, sizeof(grade), "%d", c->grade);
    const char *values[] = {uid,
                            c->tenant_id,
                            c->pupil_id,
                            c->hash,
                            json_string_value(json_object_get(c->body, "display_name")),
                            json_string_value(json_object_get(c->body, "school")),
                            grade};
    if (rk_store_exec(rk_app(req)->store, STMT_ISSUE, 7, values, stored, c) != RK_AGAIN)
        fail(req, 503, "unavailable", "no database connection");
}

static void hash_work(void *arg)
{
    issue_t *c = arg;
    c->hash_status = rk_identity_password_hash(c->password, strlen(c->password), c->hash);
}

static void hashed(void *arg, int ran)
{
    issue_t *c = arg;
    if (!ran || c->hash_status != RK_OK) {
        fail(c->req, 503, "unavailable", "the password could not be hashed");
        return;
    }
    store(c);
}

/* NULL, or the first problem of the body naming its field; *grade the overall grade. */
static const char *check_body(json_t *body, int *grade)
{
    const char *field;
    json_t *value;
    json_object_foreach(body, field, value)
    {
        if (strcmp(field, "school") != 0 && strcmp(field, "grade") != 0 &&
            strcmp(field, "display_name") != 0)
            return "unknown field (allowed: school, grade, display_name)";
    }
    json_t *display = json_object_get(body, "display_name");
    long chars =
        display
            ? (json_is_string(display) ? rk_identity_text_chars(json_string_value(display)) : -1)
            : 1;
    if (chars < 1 || chars > 200)
        return "display_name: 1 to 200 characters without control characters";
    json_t *g = json_object_get(body, "grade");
    if (!json_is_integer(g))
        return "grade: is required: the pupil's grade at the school (1 to 6 at a 小学校, 1 to 3 "
               "at a 中学校)";
    const char *why = NULL;
    *grade = rk_identity_pupil_grade(json_string_value(json_object_get(body, "school")),
                                     (long)json_integer_value(g), &why);
    return *grade ? NULL : why;
}

static void pupil_issue(rk_request_t *req)
{
    if (!rk_admin_authorize_tenant(req, req->params[0], RK_ADMIN_ROLE_TENANT_ADMIN))
        return;
    rk_identity_t *identity = rk_app(req)->identity;
    const rk_identity_realm_t *realm = rk_identity_realm(identity, req->params[0]);
    if (!realm) {
        fail(req, 404, "not_found", "no realm with this slug");
        return;
    }
    issue_t *c = rk_arena_calloc(req->arena, 1, sizeof(*c));
    c->req = req;
    c->tenant_id = rk_arena_strdup(req->arena, realm->tenant_id);
    rk_arena_on_free(req->arena, wipe, c);
    json_error_t jerr;
    c->body = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(c->body)) {
        fail(req, 400, "invalid_request", "body: must be a JSON object");
        return;
    }
    const char *why = check_body(c->body, &c->grade);
    if (why) {
        fail(req, 400, "invalid_request", why);
        return;
    }
    if (random_chars(c->password, PASSWORD_LEN, password_alphabet) != RK_OK) {
        fail(req, 500, "internal", "no randomness");
        return;
    }
    if (rk_worker_submit(identity->workers, hash_work, hashed, c) != RK_OK) {
        rk_response_header(req, "retry-after", "1");
        fail(req, 503, "unavailable", "too many passwords are being hashed; retry");
    }
}

void rk_identity_pupil_admin_register(rk_identity_t *identity, rk_router_t *router)
{
    rk_store_prepare(identity->app->store, STMT_ISSUE, sql_issue);
    rk_router_add(router, "POST", "/admin/v1/realms/{slug}/pupils", pupil_issue,
                  "identity_pupils_issue");
}
