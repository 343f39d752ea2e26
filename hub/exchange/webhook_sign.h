/*
 * webhook_sign.h — pure: the signature of a webhook delivery, a detached JWS over its body.
 *
 * A partner must be able to tell that a delivery comes from the hub and that its body arrived
 * intact. The hub signs the exact body bytes with its tenant realm's ES256 key (the key that
 * signs receipts, published in /t/{slug}/jwks with its kid) as a JWS with a detached payload
 * (RFC 7515 appendix F): the compact serialisation with the payload part left empty,
 * "header..signature", sent in the Renkei-Signature header. The receiver puts
 * base64url(body) between the two dots and verifies with any JOSE library against the JWKS.
 * The protected header carries, besides alg, kid and typ "renkei-webhook+jws", the delivery's
 * id (renkei_delivery_id, fresh for every attempt) and its time (iat, seconds since the epoch),
 * so a receiver can refuse a replayed delivery: an old iat, or an id it has seen.
 *
 * Used by webhook.c. No I/O.
 */
#ifndef RK_EXCHANGE_WEBHOOK_SIGN_H
#define RK_EXCHANGE_WEBHOOK_SIGN_H

#include <cjose/jwk.h>
#include <stddef.h>

#define RK_EXCHANGE_WEBHOOK_TYP "renkei-webhook+jws"

/**
 * The detached JWS ("header..signature") of body, signed ES256 with key (kid named in the
 * header) and carrying delivery_id and iat. A string the caller free()s, or NULL with *why.
 */
char *rk_exchange_webhook_sign(const cjose_jwk_t *key, const char *kid, const char *delivery_id,
                               long long iat, const char *body, size_t len, const char **why);

#endif
