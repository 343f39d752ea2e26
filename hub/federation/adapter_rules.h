/*
 * adapter_rules.h — what makes an adapter registration valid, and an adapter acceptable.
 *
 * Pure logic, no I/O: the admin handlers (adapter_admin.c) check a RegisterAdapterRequest with
 * rk_federation_registration_check() before anything is written, and the activation
 * (activation.c) asks rk_federation_verdict() whether what the adapter said about itself in
 * Describe and Health/Check lets it in. Unit tests reach both without sockets.
 *
 * Every error is one line that names the request field and the rule, for the caller of the
 * admin API: "endpoint: must be https://host:port, or http://127.0.0.1:port for h2c on
 * loopback". Plain http (h2c) is allowed only to loopback IP literals, where no one else can
 * listen in; everything else is https, verified with the CA given at registration, a pinned
 * leaf certificate, or the hub's federation.ca_file (the system store when unset).
 *
 * Capabilities are kept as a bit set: bit N is AdapterCapability value N (1..31).
 */
#ifndef RK_FEDERATION_ADAPTER_RULES_H
#define RK_FEDERATION_ADAPTER_RULES_H

#include "core/mem.h"
#include "renkei/v1/adapter.pb-c.h"
#include "renkei/v1/admin.pb-c.h"

#include <stddef.h>
#include <stdint.h>

#define RK_FEDERATION_NAME_MAX 63
#define RK_FEDERATION_ENDPOINT_MAX 512
#define RK_FEDERATION_HOST_MAX 253
#define RK_FEDERATION_CA_PEM_MAX 65536 /* bytes of PEM text */
#define RK_FEDERATION_CA_CERTS_MAX 16  /* certificates in one ca_pem */
#define RK_FEDERATION_KEY_MAX 128      /* an idempotency key */

/** The message every malformed or non-loopback plain-http endpoint gets. */
#define RK_FEDERATION_ENDPOINT_RULE                                                                \
    "endpoint: must be https://host:port, or http://127.0.0.1:port for h2c on loopback"

/** An endpoint taken apart. */
typedef struct rk_federation_endpoint {
    int tls;                               /* 1 for https:// */
    char host[RK_FEDERATION_HOST_MAX + 1]; /* IPv6 without brackets */
    int port;
    int loopback; /* host is a loopback IP literal (127.0.0.0/8, ::1) */
} rk_federation_endpoint_t;

/** A registration request, checked and normalised. Strings point into the request or arena. */
typedef struct rk_federation_registration {
    const char *tenant;
    const char *name;
    const char *endpoint; /* without a trailing '/' */
    uint32_t expected;    /* capability bits */
    const char *ca_pem;   /* NULL when not given */
    char ca_sha256[65];   /* hex SHA-256 of the DER of ca_pem's first certificate, or "" */
    char pin_sha256[65];  /* lower-case hex without colons, or "" */
    const char *tls_server_name;
    const char *idempotency_key; /* "" when not given */
} rk_federation_registration_t;

/**
 * Checks in and fills out. RK_OK, or RK_EINVAL with the first problem written to why as
 * "field: rule". Strings written to out live in arena (or in the request).
 */
int rk_federation_registration_check(const Renkei__V1__RegisterAdapterRequest *in,
                                     rk_arena_t *arena, rk_federation_registration_t *out,
                                     char *why, size_t why_len);

/** RK_OK if name is 1-63 characters of a-z, 0-9 and '-' starting with a letter or digit. */
int rk_federation_name_check(const char *name);
/** The AdapterState of a state as the table stores it ("active" …); UNSPECIFIED if unknown. */
Renkei__V1__AdapterState rk_federation_state_value(const char *state);
/** Parses "https://host:port" or "http://LOOPBACK:port" (an optional final '/'). */
int rk_federation_endpoint_parse(const char *endpoint, rk_federation_endpoint_t *out);
/**
 * Reads a SHA-256 in hex (64 digits, either case, colons between bytes allowed) into pin and
 * its lower-case hex into hex. RK_OK or RK_EINVAL.
 */
int rk_federation_pin_parse(const char *text, unsigned char pin[32], char hex[65]);
/**
 * Checks that pem holds 1..16 X.509 certificates and nothing else; writes the hex SHA-256 of
 * the first one's DER (what `openssl x509 -fingerprint -sha256` prints) to fingerprint.
 * RK_OK, or RK_EINVAL with why.
 */
int rk_federation_ca_pem_check(const char *pem, char fingerprint[65], char *why, size_t why_len);
/** RK_OK if key is 1-128 characters of [A-Za-z0-9._:-] (common.proto's IdempotencyKey). */
int rk_federation_idempotency_key_check(const char *key);

/** "FACILITY_CATALOGUE" for a known capability value, NULL otherwise. */
const char *rk_federation_capability_short_name(int capability);
/**
 * Reads a capability from its full enum name ("ADAPTER_CAPABILITY_FACILITY_CATALOGUE") or
 * short name ("FACILITY_CATALOGUE"), either case. RK_OK or RK_EINVAL.
 */
int rk_federation_capability_parse(const char *name, int *capability);
/** The bits of a list of capabilities; unknown values are left out. */
uint32_t rk_federation_capability_bits(const Renkei__V1__AdapterCapability *list, size_t n);
/** The capabilities of bits as a comma-separated list of full enum names, in the arena. */
char *rk_federation_capability_list(rk_arena_t *arena, uint32_t bits);
/** Parses rk_federation_capability_list()'s text back into bits (unknown names ignored). */
uint32_t rk_federation_capability_list_parse(const char *text);

/**
 * Whether an adapter may be activated for the tenant (code, slug) given what it answered:
 * NULL if yes, else why not, in the arena, naming the rule ("municipality: …",
 * "capabilities: …", "health: …"). serving_status is HealthCheckResponse.status.
 */
const char *rk_federation_verdict(rk_arena_t *arena, const Renkei__V1__AdapterDescribeResponse *d,
                                  int serving_status, const char *tenant_code,
                                  const char *tenant_slug, uint32_t expected);

#endif
