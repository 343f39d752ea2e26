/*
 * webhook_sign.c — the detached JWS of a webhook delivery (see webhook_sign.h).
 *
 * cjose signs a compact JWS with the payload in it; dropping the middle part leaves the
 * detached form, whose signature is the same (it covers header and payload either way).
 */
#include "exchange/webhook_sign.h"

#include "core/mem.h"

#include <cjose/header.h>
#include <cjose/jws.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

char *rk_exchange_webhook_sign(const cjose_jwk_t *key, const char *kid, const char *delivery_id,
                               long long iat, const char *body, size_t len, const char **why)
{
    char *out = NULL;
    const char *compact = NULL;
    cjose_jws_t *jws = NULL;
    cjose_header_t *header = cjose_header_new(NULL);
    if (!header || !cjose_header_set(header, CJOSE_HDR_ALG, "ES256", NULL) ||
        !cjose_header_set(header, CJOSE_HDR_KID, kid, NULL) ||
        !cjose_header_set(header, "typ", RK_EXCHANGE_WEBHOOK_TYP, NULL) ||
        !cjose_header_set(header, "renkei_delivery_id", delivery_id, NULL) ||
        /* cjose_header_t is jansson's json_t (cjose/header.h); set_raw takes objects only */
        json_object_set_new((json_t *)header, "iat", json_integer(iat)) != 0) {
        *why = "cannot build the JWS header";
        goto out;
    }
    jws = cjose_jws_sign(key, header, (const uint8_t *)body, len, NULL);
    if (!jws || !cjose_jws_export(jws, &compact, NULL)) {
        *why = "signing failed";
        goto out;
    }
    const char *first = strchr(compact, '.');
    const char *last = strrchr(compact, '.');
    if (!first || last == first) {
        *why = "signing gave no compact JWS";
        goto out;
    }
    size_t head = (size_t)(first - compact) + 1;
    size_t tail = strlen(last);
    out = rk_xmalloc(head + tail + 1);
    memcpy(out, compact, head);
    memcpy(out + head, last, tail + 1);
out:
    cjose_jws_release(jws);
    cjose_header_release(header);
    return out;
}
