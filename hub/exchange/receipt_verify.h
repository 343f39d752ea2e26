/*
 * receipt_verify.h — checking a signed receipt offline against its issuer's JWKS.
 *
 * A receipt is a compact JWS: protected header {alg: ES256, kid, typ: RK_EXCHANGE_RECEIPT_TYP}
 * over the canonical JSON (canonical.h) of the transaction — parties, the resident's pairwise
 * id, resource, time, amounts, agreement and version, the hash of the issuer's previous
 * receipt. Any JOSE library verifies it with the issuing realm's published key; this is ours,
 * for `renkeictl receipt verify` and the tests. The token is checked for shape before cjose
 * sees it (cjose aborts on some malformed base64), the alg against the key's, and the
 * signature for its exact length (cjose accepts bytes appended to it).
 *
 * Pure: used by renkeictl.
 */
#ifndef RK_EXCHANGE_RECEIPT_VERIFY_H
#define RK_EXCHANGE_RECEIPT_VERIFY_H

#include <jansson.h>

#define RK_EXCHANGE_RECEIPT_TYP "renkei-receipt+json"
#define RK_EXCHANGE_RECEIPT_MAX_BYTES 16384

/**
 * Verifies the compact JWS receipt against jwks ({"keys": [JWK…]}). Returns the payload (a new
 * reference) with kid_out (at least 64 bytes) set to the key used, or NULL with *why.
 */
json_t *rk_exchange_receipt_verify(const char *receipt, const json_t *jwks, char *kid_out,
                                   const char **why);

#endif
