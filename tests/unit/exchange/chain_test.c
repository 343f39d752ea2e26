/*
 * chain_test.c — recomputing an exchange-log chain: an entry PostgreSQL wrote verifies here
 * byte for byte; a chain built here verifies; one changed byte, a changed link, a missing entry,
 * an entry of another tenant or in non-canonical form is named as the first broken entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exchange/canonical.h"
#include "exchange/chain.h"
#include "identity/secret_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTRIES 5

typedef struct entry {
    char *text;
    char hash[RK_EXCHANGE_HASH_HEX + 1];
} entry_t;

/* A chain of ENTRIES entries of tenant 132080, shaped as PostgreSQL writes them. */
static void build_chain(entry_t *entries)
{
    const char *previous = RK_EXCHANGE_GENESIS_HASH;
    for (int i = 0; i < ENTRIES; i++) {
        json_t *e = json_pack("{s:I, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:I}}", "sequence",
                              (json_int_t)(i + 1), "tenant", "132080", "kind", "booking_confirmed",
                              "previous_hash", previous, "provider", "132080", "resource", "type",
                              "booking", "id", "bk_1", "amounts", "fee", (json_int_t)1200);
        const char *why = NULL;
        entries[i].text = rk_exchange_canonical_json(e, &why);
        json_decref(e);
        rk_identity_sha256_hex(entries[i].text, strlen(entries[i].text), entries[i].hash);
        previous = entries[i].hash;
    }
}

static void free_chain(entry_t *entries)
{
    for (int i = 0; i < ENTRIES; i++)
        free(entries[i].text);
}

/* Checks the chain; returns the first broken sequence (0 = intact). */
static int64_t check_chain(const entry_t *entries, int skip, rk_exchange_chain_check_t *check)
{
    char hash[RK_EXCHANGE_HASH_HEX + 1];
    rk_exchange_chain_check_start(check, "132080", 1);
    for (int i = 0; i < ENTRIES; i++)
        if (i + 1 != skip)
            rk_exchange_chain_check_entry(check, i + 1, "booking_confirmed", entries[i].hash,
                                          entries[i].text, strlen(entries[i].text), hash);
    return check->first_broken;
}

/* Asserts that an entry PostgreSQL stored (text, entry_hash) verifies as the first one checked. */
static void assert_stored_entry_verifies(const char *tenant_code, int64_t sequence,
                                         const char *entry_hash, const char *text)
{
    rk_exchange_chain_check_t check;
    char hash[RK_EXCHANGE_HASH_HEX + 1];
    rk_exchange_chain_check_start(&check, tenant_code, sequence);
    assert_int_equal(rk_exchange_chain_check_entry(&check, sequence, "booking_confirmed",
                                                   entry_hash, text, strlen(text), hash),
                     0);
    assert_int_equal(check.checked, 1);
}

static void entry_written_by_postgresql(void **state)
{
    (void)state;
    assert_stored_entry_verifies(
        "132110", 1, "46471941a8f35a4798550ca6919008e632a9c69c1bee117f5d2083963b34622d",
        "{\"amounts\":{\"fee\":2400},\"home\":\"132110\",\"kind\":\"booking_confirmed\","
        "\"previous_hash\":\"0000000000000000000000000000000000000000000000000000000000000000\","
        "\"provider\":\"132080\",\"receipt_id\":\"rc_fb4308b554b743c9b3af0842b7264b35\","
        "\"recorded_at\":\"2026-11-25T13:15:26.842342Z\",\"resource\":{\"id\":\"bk_0123\","
        "\"type\":\"booking\"},\"sequence\":1,\"tenant\":\"132110\",\"time\":{\"end\":"
        "\"2026-12-01T03:00:00Z\",\"start\":\"2026-12-01T01:00:00Z\"}}");
}

static void entry_written_by_the_pair_append(void **state)
{
    (void)state;
    /* Written by rk_exchange_record() of migration 0024 (concatenated, not rk_canonical_json):
     * control characters, a quote, a backslash, '/', DEL, U+2028 and non-ASCII in the
     * resource id, empty amounts, an agreement, microseconds in the time. */
    assert_stored_entry_verifies(
        "132080", 10001, "f6cb0514a03f717e5a127bcfdf59ab4b08d9083db88192e8845e2d9c25cfe2b4",
        "{\"agreement\":{\"id\":\"12\",\"version\":3},\"amounts\":{},\"home\":\"132195\","
        "\"kind\":\"booking_confirmed\",\"previous_hash\":"
        "\"35fc684c3edbab59c0b56d10ff5549e43ee58f0e4442221f76189599599e9e2e\","
        "\"provider\":\"132080\",\"receipt_id\":\"rc_4df7352f5b48420d84dc2aa43f1816fb\","
        "\"recorded_at\":\"2026-11-25T15:37:45.762489Z\",\"resource\":{\"id\":"
        "\"a\\\"b\\\\c/\\u0001\\t\\u001f\x7f\xe2\x80\xa8\xe6\x97\xa5\xf0\x9f\x98\x80\","
        "\"type\":\"booking\"},\"sequence\":10001,\"tenant\":\"132080\",\"time\":{\"end\":"
        "\"2026-12-01T03:00:00Z\",\"start\":\"2026-12-01T01:00:00.500000Z\"}}");
}

static void intact_chain(void **state)
{
    (void)state;
    entry_t entries[ENTRIES];
    build_chain(entries);
    rk_exchange_chain_check_t check;
    assert_int_equal(check_chain(entries, 0, &check), 0);
    assert_int_equal(check.checked, ENTRIES);
    free_chain(entries);
}

static void one_changed_byte_names_its_entry(void **state)
{
    (void)state;
    entry_t entries[ENTRIES];
    build_chain(entries);
    char *fee = strstr(entries[2].text, "1200");
    fee[0] = '9';
    rk_exchange_chain_check_t check;
    assert_int_equal(check_chain(entries, 0, &check), 3);
    assert_int_equal(check.checked, 2);
    assert_non_null(strstr(check.problem, "entry_hash"));
    free_chain(entries);
}

static void changed_entry_with_its_hash_breaks_the_next_link(void **state)
{
    (void)state;
    entry_t entries[ENTRIES];
    build_chain(entries);
    strstr(entries[1].text, "1200")[0] = '9';
    rk_identity_sha256_hex(entries[1].text, strlen(entries[1].text), entries[1].hash);
    rk_exchange_chain_check_t check;
    assert_int_equal(check_chain(entries, 0, &check), 3);
    assert_non_null(strstr(check.problem, "previous_hash"));
    free_chain(entries);
}

static void missing_entry(void **state)
{
    (void)state;
    entry_t entries[ENTRIES];
    build_chain(entries);
    rk_exchange_chain_check_t check;
    assert_int_equal(check_chain(entries, 4, &check), 4);
    assert_non_null(strstr(check.problem, "missing"));
    free_chain(entries);
}

static void other_tenant_and_form(void **state)
{
    (void)state;
    entry_t entries[ENTRIES];
    build_chain(entries);
    rk_exchange_chain_check_t check;
    char hash[RK_EXCHANGE_HASH_HEX + 1];
    rk_exchange_chain_check_start(&check, "132110", 1);
    assert_int_equal(rk_exchange_chain_check_entry(&check, 1, "booking_confirmed", entries[0].hash,
                                                   entries[0].text, strlen(entries[0].text), hash),
                     -1);
    assert_non_null(strstr(check.problem, "another tenant"));

    const char *spaced = "{\"kind\": \"booking_confirmed\"}";
    rk_exchange_chain_check_start(&check, "132080", 1);
    assert_int_equal(rk_exchange_chain_check_entry(&check, 1, "booking_confirmed", "", spaced,
                                                   strlen(spaced), hash),
                     -1);
    assert_non_null(strstr(check.problem, "canonical"));
    free_chain(entries);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entry_written_by_postgresql),
        cmocka_unit_test(entry_written_by_the_pair_append),
        cmocka_unit_test(intact_chain),
        cmocka_unit_test(one_changed_byte_names_its_entry),
        cmocka_unit_test(changed_entry_with_its_hash_breaks_the_next_link),
        cmocka_unit_test(missing_entry),
        cmocka_unit_test(other_tenant_and_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
