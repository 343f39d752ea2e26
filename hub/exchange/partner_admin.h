/*
 * partner_admin.h — AdminService's partner methods: RegisterPartner, GrantPartner,
 * RevokePartner, ListPartners, SetPartnerWebhook (proto/renkei/v1/admin.proto).
 *
 * A tenant-admin of the tenant (or the bootstrap admin token) registers, grants and revokes;
 * its auditors may list. Registration makes the partner an OIDC confidential client of the
 * tenant's realm (client_credentials with private_key_jwt and the partner's JWK set) in the
 * same transaction as the partner row. Revoking the whole partner also takes the
 * client_credentials grant from its client. SetPartnerWebhook sets or clears the URL that
 * webhook.c delivers the partner's feed to. Registered by rk_exchange_register().
 */
#ifndef RK_EXCHANGE_PARTNER_ADMIN_H
#define RK_EXCHANGE_PARTNER_ADMIN_H

#include "exchange/exchange.h"

/** Prepares the statements and adds the five methods. Call before rk_store_start(). */
void rk_exchange_partner_admin_register(rk_exchange_t *exchange, rk_router_t *router);

#endif
