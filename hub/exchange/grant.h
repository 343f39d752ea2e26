/*
 * grant.h — pure: what a partner's grant names and what it allows (partner.c, partner_admin.c).
 *
 * A grant names one RPC method, "renkei.v1.FacilityService/SearchFacilities", or a whole
 * service: its name, a slash and an asterisk ("renkei.v1.ExchangeService" + "/" + "*"). A
 * read-only grant allows only the methods that change
 * nothing, known by their names: Get…, List…, Search…, Verify…, Subscribe…. Kept apart from the
 * cache and the database so that tests/unit/exchange/grant_test.c reaches every rule.
 */
#ifndef RK_EXCHANGE_GRANT_H
#define RK_EXCHANGE_GRANT_H

#define RK_EXCHANGE_GRANT_METHOD_MAX 150 /* bytes of a grant's method */

/** 1 if text is a method or a whole service of renkei.v1 as a grant names it, else 0. */
int rk_exchange_grant_valid(const char *text);

/** 1 if grant (a valid one) covers method ("renkei.v1.X/Y", without a leading '/'). */
int rk_exchange_grant_covers(const char *grant, const char *method);

/** 1 if method changes nothing, by its name (see above). */
int rk_exchange_method_reads_only(const char *method);

#endif
