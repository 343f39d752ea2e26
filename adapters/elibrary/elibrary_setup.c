/*
 * elibrary_setup.c — the "elibrary" config section and the e-library's database made ready
 * before the loop runs (see elibrary.h). Blocking is allowed here: the SDK calls init before it
 * opens the port. Adapters of several e-libraries starting together on one database take an
 * advisory lock, so the schema is applied once at a time; sql/elibrary.sql is idempotent.
 */
#include "elibrary.h"

#include "core/error.h"
#include "core/log.h"
#include "core/settings.h"
#include "store/connect.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* sql/elibrary.sql, embedded at build time (../ownerdb/embed_sql.cmake). */
extern const char elibrary_schema_sql[];

#define CONNECT_TIMEOUT_MS 15000
#define SETUP_LOCK "7307117" /* pg_advisory_lock key of the set-up */
#define MAX_TITLES 10000
#define MAX_PATRONS 1000

#define OFF(field) offsetof(elibrary_config_t, field)

static const rk_setting_t keys[] = {
    {"elibrary.conninfo", "RENKEI_ELIBRARY_PG", RK_SETTING_STRING, OFF(conninfo), 1, 4096,
     "dbname=renkei_elibrary", NULL, "libpq connection string of the e-library's database"},
    {"elibrary.pool_size", "RENKEI_ELIBRARY_POOL_SIZE", RK_SETTING_INT, OFF(pool_size), 1, 32, "4",
     NULL, "connections to the e-library's database"},
    {"elibrary.loan_days", "RENKEI_ELIBRARY_LOAN_DAYS", RK_SETTING_INT, OFF(loan_days), 1, 60, "14",
     NULL, "a loan's length; the e-book returns itself then"},
    {"elibrary.loan_limit", "RENKEI_ELIBRARY_LOAN_LIMIT", RK_SETTING_INT, OFF(loan_limit), 1, 100,
     "5", NULL, "e-books a patron may borrow at once"},
    {"elibrary.pupil_loan_limit", "RENKEI_ELIBRARY_PUPIL_LOAN_LIMIT", RK_SETTING_INT,
     OFF(pupil_loan_limit), 1, 100, "3", NULL,
     "e-books a pupil (a call with an ELEMENTARY or LOWER_SECONDARY age band) may borrow at once"},
    {"elibrary.max_renewals", "RENKEI_ELIBRARY_MAX_RENEWALS", RK_SETTING_INT, OFF(max_renewals), 0,
     10, "1", NULL, "renewals of one loan"},
    {"elibrary.reader_url", "RENKEI_ELIBRARY_READER_URL", RK_SETTING_STRING, OFF(reader_url), 9,
     512, "https://elibrary.example.jp/read/", NULL,
     "the reader's URL (https), a loan's reference appended"},
    {"elibrary.web_port", "RENKEI_ELIBRARY_WEB_PORT", RK_SETTING_INT, OFF(web_port), 0, 65535, "0",
     NULL, "port of the e-library's own site (my e-library, logged in with the hub); 0: none"},
    {"elibrary.web_host", "RENKEI_ELIBRARY_WEB_HOST", RK_SETTING_STRING, OFF(web_host), 1, 255,
     "127.0.0.1", NULL, "address the site listens on"},
    {"elibrary.web_public_url", "RENKEI_ELIBRARY_WEB_PUBLIC_URL", RK_SETTING_STRING,
     OFF(web_public_url), 0, 512, "", NULL,
     "the site's URL as browsers reach it (default http://web_host:web_port)"},
    {"elibrary.oidc_issuer", "RENKEI_ELIBRARY_OIDC_ISSUER", RK_SETTING_STRING, OFF(oidc_issuer), 0,
     512, "", NULL, "the hub realm residents log in at (https://hub/t/kiyose)"},
    {"elibrary.oidc_client_id", "RENKEI_ELIBRARY_OIDC_CLIENT_ID", RK_SETTING_STRING,
     OFF(oidc_client_id), 0, 255, "", NULL, "the site's client id at that realm"},
    {"elibrary.oidc_client_secret", "RENKEI_ELIBRARY_OIDC_CLIENT_SECRET", RK_SETTING_STRING,
     OFF(oidc_client_secret), 0, 255, "", NULL, "its client secret (better in the environment)"},
};

static const rk_settings_t settings = {keys, sizeof(keys) / sizeof(keys[0])};

static const char *env_lookup(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

static int bad(char *why, size_t why_len, const char *key, const char *what)
{
    snprintf(why, why_len, "config: elibrary.%s: %s", key, what);
    return -1;
}

/* elibrary.titles: [{"record_id", "title", "licence", …}], the rest checked by the schema. */
static int check_titles(const json_t *titles, char *why, size_t why_len)
{
    if (!json_is_array(titles) || json_array_size(titles) < 1 ||
        json_array_size(titles) > MAX_TITLES)
        return bad(why, why_len, "titles", "must be a list of 1 to 10000 titles");
    size_t i;
    const json_t *t;
    json_array_foreach(titles, i, t)
    {
        const char *id = json_string_value(json_object_get(t, "record_id"));
        const char *title = json_string_value(json_object_get(t, "title"));
        const char *licence = json_string_value(json_object_get(t, "licence"));
        char key[48];
        snprintf(key, sizeof(key), "titles[%zu]", i);
        if (!id || !*id || strlen(id) > 64 ||
            strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
                strlen(id))
            return bad(why, why_len, key, "record_id: 1 to 64 letters, digits, - or _");
        if (!title || !*title)
            return bad(why, why_len, key, "title: required");
        if (!licence || (strcmp(licence, "one_copy_one_user") && strcmp(licence, "unlimited")))
            return bad(why, why_len, key, "licence: one_copy_one_user or unlimited");
        const json_t *age = json_object_get(t, "age_restriction");
        const char *a = json_string_value(age);
        if (age && (!a || (strcmp(a, "lower_secondary") && strcmp(a, "adult"))))
            return bad(why, why_len, key,
                       "age_restriction: lower_secondary (not lent to elementary pupils) or adult "
                       "(not lent to pupils)");
    }
    return 0;
}

/* elibrary.patrons: [{"card": 8–14 digits, "pin": 4–8 digits}] (optional). */
static int check_patrons(const json_t *patrons, char *why, size_t why_len)
{
    if (!json_is_array(patrons) || json_array_size(patrons) > MAX_PATRONS)
        return bad(why, why_len, "patrons", "must be a list of at most 1000 cards");
    size_t i;
    const json_t *p;
    json_array_foreach(patrons, i, p)
    {
        const char *card = json_string_value(json_object_get(p, "card"));
        const char *pin = json_string_value(json_object_get(p, "pin"));
        size_t cl = card ? strlen(card) : 0, pl = pin ? strlen(pin) : 0;
        char key[48];
        snprintf(key, sizeof(key), "patrons[%zu]", i);
        if (cl < 8 || cl > 14 || strspn(card, "0123456789") != cl || pl < 4 || pl > 8 ||
            strspn(pin, "0123456789") != pl)
            return bad(why, why_len, key, "card: 8 to 14 digits, pin: 4 to 8 digits");
    }
    return 0;
}

int elibrary_config_load(elibrary_config_t *config, const json_t *section, char *why,
                         size_t why_len)
{
    rk_settings_init(&settings, config);
    json_t *scalars = json_is_object(section) ? json_deep_copy(section) : json_object();
    config->titles = json_incref(json_object_get(scalars, "titles"));
    config->patrons = json_incref(json_object_get(scalars, "patrons"));
    json_object_del(scalars, "titles");
    json_object_del(scalars, "patrons");
    if (!config->patrons)
        config->patrons = json_array();
    json_t *root = json_pack("{s:o}", "elibrary", scalars);
    int rc = rk_settings_load_object(&settings, config, root, "the config file", why, why_len);
    json_decref(root);
    if (rc == RK_OK)
        rc = rk_settings_apply_env(&settings, config, env_lookup, NULL, why, why_len);
    if (rc != RK_OK)
        return -1;
    if (strncmp(config->reader_url, "https://", 8) != 0)
        return bad(why, why_len, "reader_url", "must be an https URL");
    if (config->web_port &&
        (!*config->oidc_issuer || !*config->oidc_client_id || !*config->oidc_client_secret))
        return bad(why, why_len, "web_port",
                   "the site needs oidc_issuer, oidc_client_id and oidc_client_secret");
    if (config->web_port && strncmp(config->oidc_issuer, "http://", 7) != 0 &&
        strncmp(config->oidc_issuer, "https://", 8) != 0)
        return bad(why, why_len, "oidc_issuer", "must be an http or https URL");
    return check_titles(config->titles, why, why_len) ||
                   check_patrons(config->patrons, why, why_len)
               ? -1
               : 0;
}

void elibrary_config_free(elibrary_config_t *config)
{
    json_decref(config->titles);
    json_decref(config->patrons);
    config->titles = config->patrons = NULL;
    rk_settings_free(&settings, config);
}

/* Runs sql with params; 0, or -1 with what failed in why. */
static int run(PGconn *pg, const char *sql, int n, const char *const *values, const char *what,
               char *why, size_t why_len)
{
    PGresult *r = n ? PQexecParams(pg, sql, n, NULL, values, NULL, NULL, 0) : PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(why, why_len, "elibrary: %s: %s", what, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

int elibrary_setup(const elibrary_config_t *c, const char *municipality, char *why, size_t why_len)
{
    PGconn *pg = rk_store_connect_blocking(c->conninfo, CONNECT_TIMEOUT_MS, why, why_len);
    if (!pg)
        return -1;
    json_t *s = json_pack("{s:i, s:i, s:i, s:i, s:s}", "loan_days", c->loan_days, "loan_limit",
                          c->loan_limit, "pupil_loan_limit", c->pupil_loan_limit, "max_renewals",
                          c->max_renewals, "reader_base", c->reader_url);
    char *settings_text = json_dumps(s, JSON_COMPACT);
    char *titles = json_dumps(c->titles, JSON_COMPACT);
    char *patrons = json_dumps(c->patrons, JSON_COMPACT);
    json_decref(s);
    const char *values[] = {municipality, settings_text, titles, patrons};
    int rc =
        run(pg, "SELECT pg_advisory_lock(" SETUP_LOCK ")", 0, NULL, "set-up lock", why, why_len);
    if (rc == 0)
        rc = run(pg, elibrary_schema_sql, 0, NULL, "applying the schema elibrary", why, why_len);
    if (rc == 0)
        rc = run(pg, "SELECT elibrary.seed($1, $2::jsonb, $3::jsonb, $4::jsonb)", 4, values,
                 "the titles and cards of elibrary.titles / elibrary.patrons", why, why_len);
    free(settings_text);
    free(titles);
    free(patrons);
    PQfinish(pg); /* also releases the lock */
    return rc;
}
