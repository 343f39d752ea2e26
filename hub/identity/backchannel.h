/*
 * backchannel.h — delivering logout tokens to relying parties (OpenID Connect Back-Channel
 * Logout 1.0 §2.5): an HTTP/1.1 POST of "logout_token=<JWT>" to each client's
 * backchannel_logout_uri, off the request path.
 *
 * Delivery never blocks the loop or the answer to the resident: rk_identity_backchannel_send()
 * copies the token into a delivery and returns; the deliveries run on libevent's HTTP client
 * (evhttp_connection_base_bufferevent_new), names resolved by evdns, https over
 * bufferevent_openssl with the peer's certificate verified against the system CAs (OpenSSL's
 * default paths, so SSL_CERT_FILE and SSL_CERT_DIR apply) and its name or IP address checked.
 * At most RK_IDENTITY_BACKCHANNEL_IN_FLIGHT run at once, the rest wait in order. Each attempt
 * has one deadline for resolution, connection, handshake and answer together. 200 or 204 is
 * done; anything else is retried after a backoff that doubles, and after the last attempt the
 * failure is logged with the client id and the status only — never the token.
 *
 * A delivery is one connection with "Connection: close": logouts are rare and their targets
 * many, so nothing is kept alive. Bounded everywhere: deliveries waiting or running, the
 * answer's headers and body.
 *
 * Used by logout.c; the module state lives in identity->logout and is freed at shutdown,
 * cancelling what is still in flight.
 */
#ifndef RK_IDENTITY_BACKCHANNEL_H
#define RK_IDENTITY_BACKCHANNEL_H

#include <stddef.h>

struct event_base;

#define RK_IDENTITY_BACKCHANNEL_IN_FLIGHT 16    /* deliveries running at once */
#define RK_IDENTITY_BACKCHANNEL_MAX 10000       /* deliveries waiting or running */
#define RK_IDENTITY_BACKCHANNEL_TIMEOUT_MS 5000 /* one attempt, from resolution to answer */
#define RK_IDENTITY_BACKCHANNEL_ATTEMPTS 4
#define RK_IDENTITY_BACKCHANNEL_BACKOFF_MS 1000 /* before the first retry; doubles after */

typedef struct rk_identity_backchannel_options {
    int in_flight;
    size_t max_deliveries;
    int timeout_ms;
    int attempts;
    int backoff_ms;
} rk_identity_backchannel_options_t;

typedef struct rk_identity_backchannel rk_identity_backchannel_t;

/**
 * A delivery service on base; options NULL takes the RK_IDENTITY_BACKCHANNEL_* defaults.
 * Reads /etc/resolv.conf and sets up the TLS context: call before the loop runs. Returns the
 * service (free with rk_identity_backchannel_free()), or NULL with why.
 */
rk_identity_backchannel_t *rk_identity_backchannel_new(struct event_base *base,
                                                       const rk_identity_backchannel_options_t *opt,
                                                       char *why, size_t why_len);

/**
 * Queues a POST of logout_token to uri (http or https, as the admin API admitted it) for
 * client_id, which only names it in logs. Everything is copied; the copy of the token is
 * wiped when the delivery ends. RK_OK (queued), RK_EINVAL (uri is not an absolute http(s)
 * URI with a host) or RK_ETOOBIG (RK_IDENTITY_BACKCHANNEL_MAX deliveries pending).
 */
int rk_identity_backchannel_send(rk_identity_backchannel_t *bc, const char *client_id,
                                 const char *uri, const char *logout_token);

/** Deliveries waiting or running: for tests and logs. */
size_t rk_identity_backchannel_pending(const rk_identity_backchannel_t *bc);

/** Stops every delivery (none of them reports) and frees the service. NULL is allowed. */
void rk_identity_backchannel_free(rk_identity_backchannel_t *bc);

#endif
