/*
 * service.h — ExchangeService's GetReceipt, ListExchangeLog and VerifyLogChain.
 *
 * Who may call: the bootstrap admin, and staff (tenant-admin or auditor) of the tenant named in
 * the request (admin_auth.h); a receipt is found only for a tenant that is one of its two
 * parties (else NOT_FOUND, so its existence is not revealed). A receipt still pending is signed
 * on demand (signer.h) before it is answered. VerifyLogChain recomputes the tenant's chain
 * (chain.h) in pages of entries and re-verifies every checkpoint's TSA token (tsa.h) against
 * exchange.tsa_ca_file, naming the first broken entry.
 */
#ifndef RK_EXCHANGE_SERVICE_H
#define RK_EXCHANGE_SERVICE_H

#include "exchange/exchange.h"

/** Prepares the statements and adds the methods to router. */
void rk_exchange_service_register(rk_exchange_t *exchange, rk_router_t *router);

#endif
