/*
 * webhook_url.h — pure: what a partner's webhook URL may be, and where it points.
 *
 * A webhook receives a partner's feed items signed by the hub; it must be https, so the body
 * and its signature header cross the network encrypted and the hub knows whom it talks to.
 * Plain http is allowed only to this machine (127.0.0.1, ::1, localhost): the tests and the
 * quickstart run their receivers there. No user name or password in the URL (they would end
 * up in logs and listings), no fragment, at most RK_EXCHANGE_WEBHOOK_URL_MAX bytes.
 *
 * Used by webhook_admin.c (SetPartnerWebhook refuses a bad URL naming webhook_url) and by
 * webhook.c (where to connect). No I/O.
 */
#ifndef RK_EXCHANGE_WEBHOOK_URL_H
#define RK_EXCHANGE_WEBHOOK_URL_H

#include <stddef.h>

#define RK_EXCHANGE_WEBHOOK_URL_MAX 2048 /* rk_partner.webhook_url's limit */

typedef struct rk_exchange_webhook_url {
    int https;
    char host[256];        /* a name, or an IP address without brackets */
    int host_is_ip;        /* 1: certificates must name the address, not a DNS name */
    int port;              /* 443 or 80 unless given */
    char host_header[300]; /* Host: as the URL spells it, with a port when one is given */
    char target[RK_EXCHANGE_WEBHOOK_URL_MAX + 1]; /* path and query; "/" at least */
} rk_exchange_webhook_url_t;

/**
 * Parses and checks url into *out. RK_OK, or RK_EINVAL with *why saying which rule it breaks
 * ("webhook_url: …", a static string).
 */
int rk_exchange_webhook_url_parse(const char *url, rk_exchange_webhook_url_t *out,
                                  const char **why);

#endif
