/*
 * main.c — renkei-adapter-sru: a library adapter over an SRU catalogue server (Index Data's
 * Zebra serving MARC 21), with circulation in the owner's own PostgreSQL tables.
 *
 * Start-up (init, blocking allowed) reads the "sru" section of the config file: the catalogue
 * server (sru_settings below, with RENKEI_SRU_* overrides), the library's branches, and the
 * circulation rules. With circulation.postgres set it applies the circulation schema, adds the
 * demo patrons the section lists (their PINs are hashed in PostgreSQL, never kept), and opens
 * the asynchronous libpq pool on the SDK's event loop; without it the adapter serves the
 * catalogue only and the circulation methods answer UNIMPLEMENTED.
 */
#include "sru.h"

#include "core/log.h"
#include "core/settings.h"
#include "sru_circ.h"
#include "sru_cql.h"
#include "store/connect.h"

#include <event2/event.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sru_settings {
    char *host, *database, *postgres;
    int port, connections, timeout_ms, pool_size;
    int loan_limit, hold_limit, loan_days, max_renewals, pickup_days, expiry_interval_ms;
} sru_settings_t;

static const char *rule_database(const char *value)
{
    return !value || strspn(value,
                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                         strlen(value)
               ? NULL
               : "must be letters, digits, _ or - (it is the URL path)";
}

#define OFF(field) offsetof(sru_settings_t, field)
static const rk_setting_t sru_keys[] = {
    {"sru.server.host", "RENKEI_SRU_HOST", RK_SETTING_STRING, OFF(host), 1, 255, "127.0.0.1", NULL,
     "the SRU server's address (zebrasrv)"},
    {"sru.server.port", "RENKEI_SRU_PORT", RK_SETTING_INT, OFF(port), 1, 65535, "9210", NULL,
     "the SRU server's port"},
    {"sru.server.database", "RENKEI_SRU_DATABASE", RK_SETTING_STRING, OFF(database), 1, 64, "",
     rule_database, "the catalogue's database (URL path); default: the municipality slug"},
    {"sru.server.connections", "RENKEI_SRU_CONNECTIONS", RK_SETTING_INT, OFF(connections), 1, 64,
     "4", NULL, "kept-alive connections to the SRU server"},
    {"sru.server.timeout_ms", "RENKEI_SRU_TIMEOUT_MS", RK_SETTING_INT, OFF(timeout_ms), 10, 60000,
     "3000", NULL, "one SRU request at most (the caller's deadline may be shorter)"},
    {"sru.circulation.postgres", "RENKEI_SRU_POSTGRES", RK_SETTING_STRING, OFF(postgres), 0, 1024,
     "", NULL, "libpq connection string of the circulation tables; empty: catalogue only"},
    {"sru.circulation.pool_size", "RENKEI_SRU_POOL_SIZE", RK_SETTING_INT, OFF(pool_size), 1, 32,
     "2", NULL, "PostgreSQL connections"},
    {"sru.circulation.loan_limit", NULL, RK_SETTING_INT, OFF(loan_limit), 1, 100, "10", NULL,
     "items a patron may have on loan"},
    {"sru.circulation.hold_limit", NULL, RK_SETTING_INT, OFF(hold_limit), 1, 100, "10", NULL,
     "holds a patron may have at once"},
    {"sru.circulation.loan_days", NULL, RK_SETTING_INT, OFF(loan_days), 1, 90, "14", NULL,
     "loan period in days"},
    {"sru.circulation.max_renewals", NULL, RK_SETTING_INT, OFF(max_renewals), 0, 10, "2", NULL,
     "renewals allowed per loan"},
    {"sru.circulation.pickup_days", NULL, RK_SETTING_INT, OFF(pickup_days), 1, 30, "7", NULL,
     "days a READY hold waits at the pickup branch"},
    {"sru.circulation.expiry_interval_ms", "RENKEI_SRU_EXPIRY_INTERVAL_MS", RK_SETTING_INT,
     OFF(expiry_interval_ms), 100, 3600000, "60000", NULL,
     "how often READY holds past their pickup deadline are expired"},
};
#undef OFF
static const rk_settings_t sru_settings = {sru_keys, sizeof(sru_keys) / sizeof(sru_keys[0])};

static const char *getenv_cb(const char *name, void *ctx)
{
    (void)ctx;
    return name ? getenv(name) : NULL; /* keys without a variable */
}

static int bad(char *why, size_t why_len, const char *path, const char *rule)
{
    snprintf(why, why_len, "config: sru.%s: %s", path, rule);
    return -1;
}

static char *string_of(const json_t *obj, const char *key, size_t max)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && strlen(s) <= max ? rk_xstrdup(s) : NULL;
}

/* sru.branches: [{"id", "name_ja", "name_en", "name_kana", "latitude", "longitude", "pickup"}] */
static int read_branches(sru_t *sru, const json_t *list, char *why, size_t why_len)
{
    if (!json_is_array(list) || json_array_size(list) < 1 || json_array_size(list) > 64)
        return bad(why, why_len, "branches", "must be a list of 1 to 64 branches");
    sru->n_branches = json_array_size(list);
    sru->branches = rk_xcalloc(sru->n_branches, sizeof(*sru->branches));
    for (size_t i = 0; i < sru->n_branches; i++) {
        const json_t *b = json_array_get(list, i);
        sru_branch_t *out = &sru->branches[i];
        char path[64];
        snprintf(path, sizeof(path), "branches[%zu]", i);
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)b, key, v)
        {
            static const char *const known =
                " id name_ja name_en name_kana latitude longitude pickup partner_pickup ";
            char word[40];
            snprintf(word, sizeof(word), " %.32s ", key);
            if (!strstr(known, word)) {
                snprintf(path, sizeof(path), "branches[%zu].%.32s", i, key);
                return bad(why, why_len, path, "unknown key");
            }
        }
        out->id = string_of(b, "id", SRU_RECORD_ID_MAX);
        out->name_ja = string_of(b, "name_ja", 200);
        out->name_en = string_of(b, "name_en", 200);
        out->name_kana = string_of(b, "name_kana", 200);
        if (!json_is_object(b) || !out->id || !*out->id || !sru_record_id_ok(out->id) ||
            !out->name_ja || !*out->name_ja)
            return bad(why, why_len, path,
                       "needs id (the 952$a/$b code: A-Z a-z 0-9 . _ -) and name_ja");
        if (!out->name_en)
            out->name_en = rk_xstrdup("");
        if (!out->name_kana)
            out->name_kana = rk_xstrdup("");
        out->latitude = json_number_value(json_object_get(b, "latitude"));
        out->longitude = json_number_value(json_object_get(b, "longitude"));
        out->pickup = !json_is_false(json_object_get(b, "pickup"));
        const json_t *partner = json_object_get(b, "partner_pickup");
        out->partner_pickup = partner ? json_is_true(partner) && out->pickup : out->pickup;
        for (size_t k = 0; k < i; k++) {
            if (strcmp(sru->branches[k].id, out->id) == 0)
                return bad(why, why_len, path, "id used twice");
        }
    }
    return 0;
}

/* circulation.pickup_partners: ["132217", …] municipality codes. */
static int read_partners(sru_t *sru, const json_t *list, char *why, size_t why_len)
{
    if (!list)
        return 0;
    if (!json_is_array(list) || json_array_size(list) > 64)
        return bad(why, why_len, "circulation.pickup_partners",
                   "must be a list of municipality codes");
    sru->n_pickup_partners = json_array_size(list);
    sru->pickup_partners = rk_xcalloc(sru->n_pickup_partners + 1, sizeof(char *));
    for (size_t i = 0; i < sru->n_pickup_partners; i++) {
        const char *code = json_string_value(json_array_get(list, i));
        if (!code || strlen(code) != 6 || strspn(code, "0123456789") != 6)
            return bad(why, why_len, "circulation.pickup_partners",
                       "each must be a 6-digit municipality code");
        sru->pickup_partners[i] = rk_xstrdup(code);
    }
    return 0;
}

static void sru_fini(rk_adapter_server_t *server);

/* Health: the catalogue server answers, and the circulation database (when kept) is up. */
static int sru_serving(rk_adapter_server_t *server)
{
    sru_t *sru = rk_adapter_data(server);
    return sru_http_reachable(sru->http) && (!sru->store || rk_store_ready(sru->store) > 0);
}

static void probed_cb(int status, int http_status, const char *body, size_t len, const char *why,
                      void *arg)
{
    (void)status, (void)http_status, (void)body, (void)len, (void)why;
    ((sru_t *)arg)->probing = 0; /* the pool noted whether it answered */
}

/* While the catalogue server is unreachable nothing else may ask it: an explain every 2 s
 * notices its return, so health goes back to SERVING without waiting for a search. */
static void probe_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    sru_t *sru = arg;
    if (sru->probing || sru_http_reachable(sru->http))
        return;
    sru->probing = 1;
    char target[128];
    snprintf(target, sizeof(target), "/%s?version=1.1&operation=explain", sru->database);
    sru_http_get(sru->http, target, 2000, probed_cb, sru);
}

static int sru_init(rk_adapter_server_t *server, const json_t *section,
                    rk_adapter_handlers_t *handlers, char *why, size_t why_len)
{
    sru_t *sru = rk_xcalloc(1, sizeof(*sru));
    sru->server = server;
    rk_adapter_set_data(server, sru);
    xmlInitParser();

    /* The scalar keys through the settings table; the lists by hand. */
    json_t *scalars = json_deep_copy(section);
    json_t *circulation = json_object_get(scalars, "circulation");
    json_t *partners = json_incref(json_object_get(circulation, "pickup_partners"));
    json_t *branches = json_incref(json_object_get(scalars, "branches"));
    json_t *patrons = json_incref(json_object_get(scalars, "patrons"));
    json_object_del(scalars, "branches");
    json_object_del(scalars, "patrons");
    if (json_is_object(circulation))
        json_object_del(circulation, "pickup_partners");
    sru_settings_t s;
    rk_settings_init(&sru_settings, &s);
    int rc = -1;
    char err[300];
    json_t *wrapped = json_pack("{s:O}", "sru", scalars); /* key paths as written: sru.… */
    int loaded = rk_settings_load_object(&sru_settings, &s, wrapped, "sru", err, sizeof(err));
    json_decref(wrapped);
    if (loaded != 0 ||
        rk_settings_apply_env(&sru_settings, &s, getenv_cb, NULL, err, sizeof(err)) != 0) {
        snprintf(why, why_len, "%s", err);
        goto out;
    }
    if (read_branches(sru, branches, why, why_len) || read_partners(sru, partners, why, why_len))
        goto out;
    const rk_adapter_config_t *config = rk_adapter_config(server);
    sru->host = rk_xstrdup(s.host);
    sru->port = s.port;
    sru->database = rk_xstrdup(*s.database ? s.database : config->municipality_slug);
    sru->timeout_ms = s.timeout_ms;
    sru->loan_limit = s.loan_limit;
    sru->hold_limit = s.hold_limit;
    sru->loan_days = s.loan_days;
    sru->max_renewals = s.max_renewals;
    sru->pickup_days = s.pickup_days;
    sru->expiry_interval_ms = s.expiry_interval_ms;
    sru->http = sru_http_new(rk_adapter_base(server), sru->host, sru->port, s.connections,
                             SRU_MARC_ANSWER_MAX);
    sru->probe = event_new(rk_adapter_base(server), -1, EV_PERSIST, probe_cb, sru);
    struct timeval every = {2, 0};
    event_add(sru->probe, &every);
    if (*s.postgres) {
        if (sru_circ_start(sru, s.postgres, s.pool_size, patrons, why, why_len) != 0)
            goto out;
    } else {
        if (patrons)
            rk_log_warn("sru.patrons ignored: circulation.postgres is not set", "{}");
        handlers->verify_patron = NULL;
        handlers->place_hold = NULL;
        handlers->cancel_hold = NULL;
        handlers->list_holds = NULL;
        handlers->list_loans = NULL;
        handlers->checkout = NULL;
        handlers->renew = NULL;
        handlers->return_loan = NULL;
    }
    rk_log_info("sru catalogue", "{s:s, s:i, s:s, s:i, s:b}", "host", sru->host, "port", sru->port,
                "database", sru->database, "connections", s.connections, "circulation",
                *s.postgres != '\0');
    rc = 0;
out:
    if (rc != 0) /* the SDK calls fini only after a start */
        sru_fini(server);
    rk_settings_free(&sru_settings, &s);
    json_decref(scalars);
    json_decref(partners);
    json_decref(branches);
    json_decref(patrons);
    return rc;
}

static void sru_fini(rk_adapter_server_t *server)
{
    sru_t *sru = rk_adapter_data(server);
    if (!sru)
        return;
    sru_circ_stop(sru);
    if (sru->probe)
        event_free(sru->probe);
    sru_http_free(sru->http); /* a probe in flight is dropped without its callback */
    for (size_t i = 0; i < sru->n_branches; i++) {
        free(sru->branches[i].id);
        free(sru->branches[i].name_ja);
        free(sru->branches[i].name_en);
        free(sru->branches[i].name_kana);
    }
    free(sru->branches);
    for (size_t i = 0; i < sru->n_pickup_partners; i++)
        free(sru->pickup_partners[i]);
    free(sru->pickup_partners);
    free(sru->host);
    free(sru->database);
    free(sru);
    rk_adapter_set_data(server, NULL);
    xmlCleanupParser();
}

static const rk_adapter_t adapter = {
    .name = "sru",
    .version = "1.0.0",
    .owner_system = "Zebra SRU catalogue (MARC 21) with PostgreSQL circulation",
    .config_section = "sru",
    .hold_ttl_seconds = 0,
    .handlers =
        {
            .describe = sru_describe,
            .search_catalogue = sru_search_catalogue,
            .get_holdings = sru_get_holdings,
            .verify_patron = sru_verify_patron,
            .place_hold = sru_place_hold,
            .cancel_hold = sru_cancel_hold,
            .list_holds = sru_list_holds,
            .list_loans = sru_list_loans,
            .checkout = sru_checkout,
            .renew = sru_renew,
            .return_loan = sru_return_loan,
        },
    .init = sru_init,
    .fini = sru_fini,
    .serving = sru_serving,
};

int main(int argc, char **argv)
{
    return rk_adapter_serve(&adapter, argc, argv);
}
