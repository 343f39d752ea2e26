/*
 * grant_test.c — partners' grants: which method names a grant may hold, which methods a grant
 * covers (one method, or a whole service with "*", never another service's), and which
 * methods a read-only grant allows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exchange/grant.h"

#include <string.h>

static void valid_grants(void **state)
{
    (void)state;
    assert_true(rk_exchange_grant_valid("renkei.v1.FacilityService/SearchFacilities"));
    assert_true(rk_exchange_grant_valid("renkei.v1.ExchangeService/*"));
    assert_false(rk_exchange_grant_valid(NULL));
    assert_false(rk_exchange_grant_valid(""));
    assert_false(rk_exchange_grant_valid("FacilityService/SearchFacilities"));
    assert_false(rk_exchange_grant_valid("renkei.v2.FacilityService/SearchFacilities"));
    assert_false(rk_exchange_grant_valid("renkei.v1.FacilityService/"));
    assert_false(rk_exchange_grant_valid("renkei.v1./SearchFacilities"));
    assert_false(rk_exchange_grant_valid("renkei.v1.FacilityService"));
    assert_false(rk_exchange_grant_valid("renkei.v1.FacilityService/Search*"));
    assert_false(rk_exchange_grant_valid("renkei.v1.*/*"));
    assert_false(rk_exchange_grant_valid("renkei.v1.FacilityService/Search Facilities"));
    assert_false(rk_exchange_grant_valid("renkei.v1.FacilityService/A/B"));
    char long_name[200];
    memset(long_name, 'A', sizeof(long_name));
    memcpy(long_name, "renkei.v1.X/", 12);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_false(rk_exchange_grant_valid(long_name));
}

static void coverage(void **state)
{
    (void)state;
    const char *search = "renkei.v1.FacilityService/SearchFacilities";
    assert_true(rk_exchange_grant_covers(search, search));
    assert_false(rk_exchange_grant_covers(search, "renkei.v1.FacilityService/HoldSlot"));
    assert_true(rk_exchange_grant_covers("renkei.v1.FacilityService/*", search));
    assert_false(rk_exchange_grant_covers("renkei.v1.FacilityService/*",
                                          "renkei.v1.FacilityServiceX/SearchFacilities"));
    assert_false(rk_exchange_grant_covers("renkei.v1.Facility/*", search));
    assert_false(rk_exchange_grant_covers("renkei.v1.ExchangeService/*", search));
    assert_false(rk_exchange_grant_covers("renkei.v1.FacilityService/*", "no-slash"));
}

static void read_only(void **state)
{
    (void)state;
    assert_true(rk_exchange_method_reads_only("renkei.v1.FacilityService/SearchFacilities"));
    assert_true(rk_exchange_method_reads_only("renkei.v1.ExchangeService/ListFeed"));
    assert_true(rk_exchange_method_reads_only("renkei.v1.ExchangeService/Subscribe"));
    assert_true(rk_exchange_method_reads_only("renkei.v1.ExchangeService/GetReceipt"));
    assert_true(rk_exchange_method_reads_only("renkei.v1.ExchangeService/VerifyLogChain"));
    assert_false(rk_exchange_method_reads_only("renkei.v1.FacilityService/HoldSlot"));
    assert_false(rk_exchange_method_reads_only("renkei.v1.AdminService/RevokePartner"));
    assert_false(rk_exchange_method_reads_only("renkei.v1.LibraryService/PlaceHold"));
    assert_false(rk_exchange_method_reads_only("GetSomething")); /* no service: not a method */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_grants),
        cmocka_unit_test(coverage),
        cmocka_unit_test(read_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
