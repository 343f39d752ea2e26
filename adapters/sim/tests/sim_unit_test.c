/*
 * sim_unit_test.c — the pure parts of renkei-adapter-sim: the 公共施設一覧 import of sports
 * rows (板橋区's real file, adapters/sim/data, read by adapters/common), the seeded
 * generator's determinism, the idempotency table, fault decisions and time arithmetic; and the
 * SDK's municipality code check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "adapter_config.h"
#include "sim_catalogue.h"
#include "sim_fault.h"
#include "sim_idem.h"
#include "sim_util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- catalogue -------------------------------------------------------------------------------- */

static sim_catalogue_t *catalogue(uint64_t seed, const char *code, const char *slug)
{
    sim_catalogue_options_t o = {code, slug, "調布市", "Chofu", "チョウフシ", seed, 0, 0};
    return sim_catalogue_new(&o);
}

/* The packed bytes of every facility, with the clock-dependent updated_at left out. */
static char *fingerprint(sim_catalogue_t *cat, size_t *len)
{
    size_t cap = 1 << 20, used = 0;
    char *out = malloc(cap);
    for (size_t i = 0; i < cat->n; i++) {
        Renkei__V1__Facility copy = cat->facilities[i]->pb;
        copy.updated_at = (char *)"";
        size_t n = protobuf_c_message_get_packed_size(&copy.base);
        assert_true(used + n <= cap);
        protobuf_c_message_pack(&copy.base, (uint8_t *)out + used);
        used += n;
    }
    *len = used;
    return out;
}

static void generator_is_deterministic(void **state)
{
    (void)state;
    sim_catalogue_t *a = catalogue(42, "132080", "chofu");
    sim_catalogue_t *b = catalogue(42, "132080", "chofu");
    sim_catalogue_t *c = catalogue(43, "132080", "chofu");
    sim_catalogue_generate(a, 60);
    sim_catalogue_generate(b, 60);
    sim_catalogue_generate(c, 60);
    size_t la, lb, lc;
    char *fa = fingerprint(a, &la), *fb = fingerprint(b, &lb), *fc = fingerprint(c, &lc);
    assert_int_equal(la, lb);
    assert_memory_equal(fa, fb, la);
    assert_true(la != lc || memcmp(fa, fc, la) != 0);
    const sim_facility_t *f = a->facilities[0];
    assert_string_equal(f->pb.id, "chofu-f0001");
    assert_true(*f->pb.name->ja && *f->pb.name->en && *f->pb.name->kana);
    assert_true(f->pb.location->latitude > 35.6 && f->pb.location->latitude < 35.7);
    assert_true(f->pb.location->longitude > 139.5 && f->pb.location->longitude < 139.6);
    assert_true(f->resident_fee >= 100 && f->non_resident_fee > f->resident_fee);
    assert_int_equal(f->pb.fees->n_rates, 2);
    /* Churn: versions move, only churn-added facilities go, the rest stay. */
    uint64_t v = a->version;
    for (int i = 0; i < 6; i++)
        sim_catalogue_churn(a);
    assert_int_equal(a->version, v + 6);
    size_t removed = 0, changed = 0;
    for (size_t i = 0; i < a->n; i++) {
        removed += a->facilities[i]->removed;
        changed += a->facilities[i]->version > v;
        assert_true(!a->facilities[i]->removed || a->facilities[i]->from_churn);
    }
    assert_int_equal(a->n, 62);
    assert_int_equal(removed, 2);
    assert_true(changed >= 4);
    free(fa);
    free(fb);
    free(fc);
    sim_catalogue_free(a);
    sim_catalogue_free(b);
    sim_catalogue_free(c);
}

/* Reads data with the shared 公共施設一覧 reader and imports it: the number added, or -1 with
 * the reason checked. */
static int import(sim_catalogue_t *cat, const char *data, size_t len)
{
    char why[256] = "";
    rk_facility_csv_options_t options = {.file = "t.csv", .municipality_code = "131199"};
    rk_facility_csv_t *csv = rk_facility_csv_parse(data, len, &options, why, sizeof(why));
    if (!csv)
        fail_msg("%s", why);
    int added = sim_catalogue_import(cat, csv, why, sizeof(why));
    if (added < 0)
        assert_string_equal(why, "line 3: ID 5: appears twice");
    rk_facility_csv_free(csv);
    return added;
}

static void csv_import_keeps_sports_rows(void **state)
{
    (void)state;
    static const char data[] =
        "\"ID\",\"名称\",\"名称_カナ\",\"所在地_連結表記\",\"緯度\",\"経度\",\"郵便番号\"\r\n"
        "\"1\",\"板橋区役所\",\"\",\"東京都板橋区板橋2-66-1\",\"35.751126\",\"139.709251\","
        "\"1738501\"\r\n"
        "\"90\",\"赤塚体育館\",\"アカツカタイイクカン\",\"東京都板橋区赤塚5-6-1\",\"35.777842\","
        "\"139.641779\",\"1750092\"\r\n"
        "\"99\",\"城北野球場Ｂ面\",\"\",\"東京都板橋区坂下2-19-1\",\"\",\"\",\"\"";
    sim_catalogue_t *cat = catalogue(1, "131199", "itabashi");
    assert_int_equal(import(cat, data, sizeof(data) - 1), 2);
    const sim_facility_t *gym = sim_catalogue_find(cat, "90");
    assert_non_null(gym);
    assert_string_equal(gym->pb.name->kana, "アカツカタイイクカン");
    assert_string_equal(gym->pb.address->postal_code, "175-0092");
    assert_true(gym->pb.location && gym->pb.location->latitude > 35.77);
    assert_true(gym->pb.bookable_via_hub);
    const sim_facility_t *field = sim_catalogue_find(cat, "99");
    assert_null(field->pb.location); /* no coordinates given: none invented */
    assert_null(sim_catalogue_find(cat, "1"));
    static const char duplicate[] = "\"ID\",\"名称\"\r\n\"5\",\"体育館\"\r\n\"5\",\"体育館\"\r\n";
    assert_int_equal(import(cat, duplicate, sizeof(duplicate) - 1), -1);
    sim_catalogue_free(cat);
}

static void itabashi_open_data(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/itabashi_public_facilities.csv", RENKEI_SHARED_DATA);
    sim_catalogue_t *cat = catalogue(1, "131199", "itabashi");
    char why[256] = "";
    rk_facility_csv_options_t options = {.municipality_code = "131199"};
    rk_facility_csv_t *csv = rk_facility_csv_load(path, &options, why, sizeof(why));
    if (!csv)
        fail_msg("%s", why);
    int added = sim_catalogue_import(cat, csv, why, sizeof(why));
    rk_facility_csv_free(csv);
    if (added < 0)
        fail_msg("%s", why);
    assert_int_equal(added, 44); /* SOURCES.md: about 44 sports rows */
    const sim_facility_t *f = sim_catalogue_find(cat, "131199000086");
    assert_non_null(f);
    assert_string_equal(f->pb.name->ja, "荒川戸田橋陸上競技場");
    assert_int_equal(f->pb.kind, RENKEI__V1__FACILITY_KIND__FACILITY_KIND_ATHLETIC_FIELD);
    assert_true(f->pb.location->latitude > 35.79 && f->pb.location->latitude < 35.8);
    assert_int_equal(sim_catalogue_find(cat, "131199000124")->pb.kind, /* 徳丸ヶ原庭球場 */
                     RENKEI__V1__FACILITY_KIND__FACILITY_KIND_TENNIS_COURT);
    sim_catalogue_free(cat);
}

/* --- idempotency ------------------------------------------------------------------------------ */

static void idempotency_table(void **state)
{
    (void)state;
    sim_idem_t *t = sim_idem_new();
    const sim_idem_entry_t *e;
    const uint8_t req[] = {1, 2, 3}, other[] = {1, 2, 4}, resp[] = {9, 9};
    assert_int_equal(sim_idem_lookup(t, "/x/Hold", "k1", req, 3, &e), SIM_IDEM_NEW);
    sim_idem_store(t, "/x/Hold", "k1", req, 3, 0, NULL, NULL, resp, 2);
    assert_int_equal(sim_idem_lookup(t, "/x/Hold", "k1", req, 3, &e), SIM_IDEM_REPLAY);
    assert_int_equal(e->code, 0);
    assert_int_equal(e->response_len, 2);
    assert_memory_equal(e->response, resp, 2);
    assert_int_equal(sim_idem_lookup(t, "/x/Hold", "k1", other, 3, &e), SIM_IDEM_CONFLICT);
    assert_int_equal(sim_idem_lookup(t, "/x/Hold", "k1", req, 2, &e), SIM_IDEM_CONFLICT);
    /* Scoped per method: the same key under another method is new. */
    assert_int_equal(sim_idem_lookup(t, "/x/Confirm", "k1", req, 3, &e), SIM_IDEM_NEW);
    sim_idem_store(t, "/x/Confirm", "k1", req, 3, 9, "BOOKING_ERROR_HOLD_EXPIRED", "late", NULL, 0);
    assert_int_equal(sim_idem_lookup(t, "/x/Confirm", "k1", req, 3, &e), SIM_IDEM_REPLAY);
    assert_int_equal(e->code, 9);
    assert_string_equal(e->reason, "BOOKING_ERROR_HOLD_EXPIRED");
    /* The first answer stands. */
    sim_idem_store(t, "/x/Hold", "k1", req, 3, 5, "X", "Y", NULL, 0);
    assert_int_equal(sim_idem_lookup(t, "/x/Hold", "k1", req, 3, &e), SIM_IDEM_REPLAY);
    assert_int_equal(e->code, 0);
    /* Growth keeps every entry. */
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        sim_idem_store(t, "/x/Hold", key, req, 3, 0, NULL, NULL, resp, 2);
    }
    assert_int_equal(sim_idem_count(t), 5002);
    for (int i = 0; i < 5000; i += 499) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(sim_idem_lookup(t, "/x/Hold", key, req, 3, &e), SIM_IDEM_REPLAY);
    }
    assert_true(sim_idem_key_ok("3f1c0a9e-7d2b-4c1e-9a5f-0b8e6d4c2a10"));
    assert_true(sim_idem_key_ok("L123:r2"));
    assert_false(sim_idem_key_ok(""));
    assert_false(sim_idem_key_ok("with space"));
    char long_key[130];
    memset(long_key, 'a', 129);
    long_key[129] = '\0';
    assert_false(sim_idem_key_ok(long_key));
    sim_idem_free(t);
}

/* --- faults ----------------------------------------------------------------------------------- */

static void faults(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *config = json_loads(
        "{\"latency\": {\"distribution\": \"fixed\", \"fixed_ms\": 100, \"jitter_ms\": 50},"
        " \"error_rate\": 0.25, \"outages\": [{\"start_s\": 10, \"duration_s\": 5}]}",
        0, &jerr);
    sim_fault_config_t f;
    char why[256];
    assert_int_equal(sim_fault_parse(&f, config, why, sizeof(why)), 0);
    uint64_t rng = 1;
    int errors = 0;
    for (int i = 0; i < 4000; i++) {
        uint64_t ms = sim_fault_latency_ms(&f, &rng);
        assert_true(ms >= 100 && ms <= 150);
        errors += sim_fault_error(&f, &rng);
    }
    assert_true(errors > 800 && errors < 1200);
    assert_false(sim_fault_in_outage(&f, 9.9, 0));
    assert_true(sim_fault_in_outage(&f, 10.0, 0));
    assert_true(sim_fault_in_outage(&f, 14.9, 0));
    assert_false(sim_fault_in_outage(&f, 15.0, 0));
    assert_true(sim_fault_in_outage(&f, 1.0, 1)); /* the outage file */
    sim_fault_free(&f);
    json_decref(config);

    config = json_loads("{\"latency\": {\"distribution\": \"lognormal\", \"median_ms\": 20,"
                        " \"sigma\": 0.5, \"max_ms\": 200}}",
                        0, &jerr);
    assert_int_equal(sim_fault_parse(&f, config, why, sizeof(why)), 0);
    uint64_t below = 0;
    for (int i = 0; i < 4000; i++) {
        uint64_t ms = sim_fault_latency_ms(&f, &rng);
        assert_true(ms <= 200);
        below += ms < 20;
    }
    assert_true(below > 1700 && below < 2300); /* the median is the median */
    assert_false(sim_fault_error(&f, &rng));
    sim_fault_free(&f);
    json_decref(config);

    config = json_loads("{\"error_rate\": 2}", 0, &jerr);
    assert_int_equal(sim_fault_parse(&f, config, why, sizeof(why)), -1);
    assert_string_equal(why, "config: sim.faults.error_rate: must be a number from 0 to 1");
    json_decref(config);
    config = json_loads("{\"latncy\": {}}", 0, &jerr);
    assert_int_equal(sim_fault_parse(&f, config, why, sizeof(why)), -1);
    assert_string_equal(why, "config: sim.faults.latncy: unknown key");
    json_decref(config);
}

/* --- time and codes --------------------------------------------------------------------------- */

static void times(void **state)
{
    (void)state;
    time_t t;
    assert_int_equal(sim_time_parse("2026-11-28T09:00:00Z", &t), 0);
    char buf[32];
    sim_time_format(t, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-28T09:00:00Z");
    time_t u;
    assert_int_equal(sim_time_parse("2026-11-28T18:00:00.250+09:00", &u), 0);
    assert_int_equal(u, t);
    assert_int_equal(sim_time_parse("2026-11-28 09:00:00Z", &u), -1);
    assert_int_equal(sim_time_parse("2026-13-28T09:00:00Z", &u), -1);
    assert_int_equal(sim_time_parse("2026-11-28T09:00:00", &u), -1);
    /* 2026-11-28T16:00Z is already the 29th in Japan, a Sunday. */
    assert_int_equal(sim_time_parse("2026-11-28T16:00:00Z", &u), 0);
    sim_date_format(u, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-29");
    assert_int_equal(sim_jst_weekday(u), 0);
    sim_time_format(sim_jst_day_start(u), buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-28T15:00:00Z");
}

static void municipality_codes(void **state)
{
    (void)state;
    assert_true(rk_adapter_municipality_code_ok("132080")); /* 調布市 */
    assert_true(rk_adapter_municipality_code_ok("131199")); /* 板橋区 */
    assert_true(rk_adapter_municipality_code_ok("132217")); /* 清瀬市 */
    assert_false(rk_adapter_municipality_code_ok("132081"));
    assert_false(rk_adapter_municipality_code_ok("13208"));
    assert_false(rk_adapter_municipality_code_ok("13208x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generator_is_deterministic),
        cmocka_unit_test(csv_import_keeps_sports_rows),
        cmocka_unit_test(itabashi_open_data),
        cmocka_unit_test(idempotency_table),
        cmocka_unit_test(faults),
        cmocka_unit_test(times),
        cmocka_unit_test(municipality_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
