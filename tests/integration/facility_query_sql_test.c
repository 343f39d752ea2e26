/*
 * facility_query_sql_test.c — the free-text contract of hub/facility/kinds.h on the real
 * PostgreSQL that tests/run starts (RENKEI_PG): facilities keyed with rk_facility_name_key()
 * in a temporary table, queries read by rk_facility_kinds_for_query() and passed as
 * rk_facility_query_json() to RK_FACILITY_QUERY_SQL(). Asserts which facilities each query
 * finds: by kind, through the reading (やきゅう finds 野球場), in romaji, half-width kana and
 * full-width letters, every word required, no condition for a blank query.
 */
#include "facility/kinds.h"

#include <libpq-fe.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define KIND(name) RENKEI__V1__FACILITY_KIND__FACILITY_KIND_##name

static const struct {
    const char *id;
    Renkei__V1__FacilityKind kind;
    const char *ja, *en, *kana;
} facilities[] = {
    /* a baseball field whose kind the owner did not set: found through its names only */
    {"a", KIND(OTHER), "調布市民野球場", "Chofu Civic Baseball Field",
     "チョウフシミンヤキュウジョウ"},
    {"b", KIND(BASEBALL_FIELD), "多摩川第2グラウンド", "Tamagawa Ground 2",
     "タマガワダイ2グラウンド"},
    {"c", KIND(TENNIS_COURT), "市民テニスコート", "", ""}, /* no reading, no English */
    {"d", KIND(MEETING_ROOM), "文化会館第1会議室", "Bunka Kaikan Room 1",
     "ブンカカイカンダイ1カイギシツ"},
    {"e", KIND(GYMNASIUM), "総合体育館", "General Gymnasium", "ソウゴウタイイクカン"},
};

static PGconn *pg;

static int setup(void **state)
{
    (void)state;
    const char *conninfo = getenv("RENKEI_PG");
    if (!conninfo) {
        fprintf(stderr, "RENKEI_PG is not set: run through tests/run\n");
        return -1;
    }
    pg = PQconnectdb(conninfo);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect: %s", PQerrorMessage(pg));
        return -1;
    }
    PGresult *r = PQexec(pg, "CREATE TEMP TABLE facility (id text, kind int, name_key text)");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    for (size_t i = 0; ok && i < sizeof(facilities) / sizeof(facilities[0]); i++) {
        char key[2048], kind[8];
        rk_facility_name_key(facilities[i].ja, facilities[i].en, facilities[i].kana, key,
                             sizeof(key));
        snprintf(kind, sizeof(kind), "%d", (int)facilities[i].kind);
        const char *values[] = {facilities[i].id, kind, key};
        r = PQexecParams(pg, "INSERT INTO facility VALUES ($1, $2::int, $3)", 3, NULL, values, NULL,
                         NULL, 0);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
    }
    return ok ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    PQfinish(pg);
    return 0;
}

/* The ids of the facilities query finds, in id order ("" for none). */
static void assert_finds(const char *query, const char *want)
{
    rk_facility_query_t *q = malloc(sizeof(*q));
    assert_int_equal(rk_facility_kinds_for_query(query, q, NULL), 0);
    json_t *words = rk_facility_query_json(q);
    char *json = json_dumps(words, JSON_COMPACT);
    const char *values[] = {json};
    PGresult *r = PQexecParams(pg,
                               "SELECT coalesce(string_agg(id, '' ORDER BY id), '') FROM facility"
                               " WHERE " RK_FACILITY_QUERY_SQL("$1::jsonb", "kind", "name_key"),
                               1, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", query, PQresultErrorMessage(r));
    if (strcmp(PQgetvalue(r, 0, 0), want) != 0)
        fail_msg("%s (%s): found '%s', want '%s'", query, json, PQgetvalue(r, 0, 0), want);
    PQclear(r);
    free(json);
    json_decref(words);
    free(q);
}

static void kinds_and_readings_find_facilities(void **state)
{
    (void)state;
    assert_finds("やきゅう", "ab"); /* a by its reading, b by its kind */
    assert_finds("yakyu", "ab");
    assert_finds("ﾔｷｭｳｼﾞｮｳ", "ab");
    assert_finds("baseball", "ab"); /* a by its English name */
    assert_finds("野球場", "ab");
    assert_finds("テニス", "c");
    assert_finds("tenisu", "c"); /* c has no reading: its Japanese name is keyed */
    assert_finds("kaigishitsu", "d");
    assert_finds("会議室", "d");
    assert_finds("taiikukan", "e");
    assert_finds("gymnasium", "e");
}

static void names_and_every_word(void **state)
{
    (void)state;
    assert_finds("chofu", "a");    /* English name */
    assert_finds("ちょうふ", "a"); /* reading */
    assert_finds("ＣＨＯＦＵ", "a");
    assert_finds("yakyu chofu", "a"); /* every word: b is a baseball field but not in Chofu */
    assert_finds("たまがわ", "b");
    assert_finds("ぐらうんど", "b"); /* b's name; no SPORTS_GROUND facility here */
    assert_finds("yakyu tamagawa", "b");
    assert_finds("tennis chofu", "");
    assert_finds("ba", "a");     /* no kind, but "ba" lies in a's English name */
    assert_finds("室", "d");     /* no kind; d's name holds it */
    assert_finds("  ", "abcde"); /* a blank query restricts nothing */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kinds_and_readings_find_facilities),
        cmocka_unit_test(names_and_every_word),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
