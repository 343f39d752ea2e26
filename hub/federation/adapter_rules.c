/*
 * adapter_rules.c — registration checks and the activation verdict (see adapter_rules.h).
 *
 * Endpoints are parsed by hand rather than with evhttp_uri_parse(), which accepts paths,
 * user info and queries that an adapter endpoint must not have: the grammar here is exactly
 * scheme "://" host ":" port ["/"], host being a DNS name, an IPv4 literal or a bracketed
 * IPv6 literal.
 */
#include "federation/adapter_rules.h"

#include "core/error.h"
#include "grpc/health/v1/health.pb-c.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CAPABILITY_PREFIX "ADAPTER_CAPABILITY_"
#define CONTRACT_VERSION "renkei.v1"

static const char hex_digits[] = "0123456789abcdef";

static void to_hex(const unsigned char *bytes, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_digits[bytes[i] >> 4];
        out[2 * i + 1] = hex_digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

int rk_federation_name_check(const char *name)
{
    size_t len = strlen(name);
    if (len < 1 || len > RK_FEDERATION_NAME_MAX || name[0] == '-')
        return RK_EINVAL;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == len ? RK_OK : RK_EINVAL;
}

/* A DNS name: dot-separated labels of letters, digits and '-', not starting or ending with
 * '-'; or an IPv4 literal (which the same rule admits). */
static int host_name_ok(const char *host, size_t len)
{
    if (len == 0 || len > RK_FEDERATION_HOST_MAX)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = host[i];
        if (c == '.') {
            if (label == 0 || host[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!isalnum((unsigned char)c) && c != '-')
            return 0;
        if (c == '-' && label == 0)
            return 0;
        if (++label > 63)
            return 0;
    }
    return label > 0 && host[len - 1] != '-';
}

static int is_loopback(const char *host)
{
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6);
    return 0;
}

int rk_federation_endpoint_parse(const char *endpoint, rk_federation_endpoint_t *out)
{
    memset(out, 0, sizeof(*out));
    size_t total = strlen(endpoint);
    if (total > RK_FEDERATION_ENDPOINT_MAX)
        return RK_EINVAL;
    const char *p;
    if (strncmp(endpoint, "https://", 8) == 0) {
        out->tls = 1;
        p = endpoint + 8;
    } else if (strncmp(endpoint, "http://", 7) == 0) {
        p = endpoint + 7;
    } else {
        return RK_EINVAL;
    }
    const char *host = p, *host_end, *port;
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end || host_end[1] != ':')
            return RK_EINVAL;
        port = host_end + 2;
        struct in6_addr v6;
        char literal[64];
        size_t len = (size_t)(host_end - host);
        if (len == 0 || len >= sizeof(literal))
            return RK_EINVAL;
        memcpy(literal, host, len);
        literal[len] = '\0';
        if (inet_pton(AF_INET6, literal, &v6) != 1)
            return RK_EINVAL;
    } else {
        host_end = strchr(p, ':');
        if (!host_end || !host_name_ok(host, (size_t)(host_end - host)))
            return RK_EINVAL;
        port = host_end + 1;
    }
    size_t digits = strspn(port, "0123456789");
    if (digits == 0 || digits > 5 || (port[digits] != '\0' && strcmp(port + digits, "/") != 0))
        return RK_EINVAL;
    long number = 0;
    for (size_t i = 0; i < digits; i++)
        number = number * 10 + (port[i] - '0');
    if (number < 1 || number > 65535 || port[0] == '0')
        return RK_EINVAL;
    size_t host_len = (size_t)(host_end - host);
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    out->port = (int)number;
    out->loopback = is_loopback(out->host);
    if (!out->tls && !out->loopback)
        return RK_EINVAL;
    return RK_OK;
}

int rk_federation_pin_parse(const char *text, unsigned char pin[32], char hex[65])
{
    /* 64 hex digits, or 32 pairs joined by colons as `openssl x509 -fingerprint` prints. */
    size_t len = strlen(text), step = strchr(text, ':') ? 3 : 2;
    if (len != (step == 3 ? 95 : 64))
        return RK_EINVAL;
    for (size_t i = 0; i < 32; i++) {
        const char *p = text + i * step;
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
            (step == 3 && i < 31 && p[2] != ':'))
            return RK_EINVAL;
        char byte[3] = {p[0], p[1], '\0'};
        pin[i] = (unsigned char)strtoul(byte, NULL, 16);
    }
    to_hex(pin, 32, hex);
    return RK_OK;
}

int rk_federation_ca_pem_check(const char *pem, char fingerprint[65], char *why, size_t why_len)
{
    fingerprint[0] = '\0';
    size_t len = strlen(pem);
    if (len > RK_FEDERATION_CA_PEM_MAX) {
        snprintf(why, why_len, "ca_pem: must be at most %d bytes", RK_FEDERATION_CA_PEM_MAX);
        return RK_EINVAL;
    }
    ERR_clear_error();
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    int count = 0, rc = RK_OK;
    X509 *cert;
    while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        if (count == 0) {
            unsigned char md[32];
            unsigned int md_len = 0;
            X509_digest(cert, EVP_sha256(), md, &md_len);
            to_hex(md, sizeof(md), fingerprint);
        }
        X509_free(cert);
        if (++count > RK_FEDERATION_CA_CERTS_MAX) {
            snprintf(why, why_len, "ca_pem: must hold at most %d certificates",
                     RK_FEDERATION_CA_CERTS_MAX);
            rc = RK_EINVAL;
            break;
        }
    }
    /* The loop ends on the first thing that is not a certificate: only the end of the text,
     * blank lines and explanatory text between certificates are fine. */
    unsigned long err = ERR_peek_last_error();
    if (rc == RK_OK && err && ERR_GET_REASON(err) != PEM_R_NO_START_LINE) {
        /* The first error is the most specific (the last is "ASN1 lib" and the like). */
        const char *reason = ERR_reason_error_string(ERR_peek_error());
        snprintf(why, why_len, "ca_pem: certificate %d is not valid PEM: %s", count + 1,
                 reason ? reason : "unreadable");
        rc = RK_EINVAL;
    }
    if (rc == RK_OK && count == 0) {
        snprintf(why, why_len,
                 "ca_pem: must hold PEM certificates "
                 "(-----BEGIN CERTIFICATE-----)");
        rc = RK_EINVAL;
    }
    ERR_clear_error();
    BIO_free(bio);
    if (rc != RK_OK)
        fingerprint[0] = '\0';
    return rc;
}

int rk_federation_idempotency_key_check(const char *key)
{
    size_t len = strlen(key);
    if (len < 1 || len > RK_FEDERATION_KEY_MAX)
        return RK_EINVAL;
    return strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == len
               ? RK_OK
               : RK_EINVAL;
}

const char *rk_federation_capability_short_name(int capability)
{
    const ProtobufCEnumValue *v = capability > 0
                                      ? protobuf_c_enum_descriptor_get_value(
                                            &renkei__v1__adapter_capability__descriptor, capability)
                                      : NULL;
    return v ? v->name + strlen(CAPABILITY_PREFIX) : NULL;
}

int rk_federation_capability_parse(const char *name, int *capability)
{
    if (strncasecmp(name, CAPABILITY_PREFIX, strlen(CAPABILITY_PREFIX)) == 0)
        name += strlen(CAPABILITY_PREFIX);
    const ProtobufCEnumDescriptor *d = &renkei__v1__adapter_capability__descriptor;
    for (unsigned i = 0; i < d->n_values; i++) {
        if (d->values[i].value > 0 &&
            strcasecmp(d->values[i].name + strlen(CAPABILITY_PREFIX), name) == 0) {
            *capability = d->values[i].value;
            return RK_OK;
        }
    }
    return RK_EINVAL;
}

uint32_t rk_federation_capability_bits(const Renkei__V1__AdapterCapability *list, size_t n)
{
    uint32_t bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (rk_federation_capability_short_name((int)list[i]))
            bits |= 1u << (int)list[i];
    }
    return bits;
}

char *rk_federation_capability_list(rk_arena_t *arena, uint32_t bits)
{
    char *text = rk_arena_strdup(arena, "");
    for (int c = 1; c < 32; c++) {
        const char *name = (bits & (1u << c)) ? rk_federation_capability_short_name(c) : NULL;
        if (name)
            text =
                rk_arena_printf(arena, "%s%s" CAPABILITY_PREFIX "%s", text, *text ? "," : "", name);
    }
    return text;
}

uint32_t rk_federation_capability_list_parse(const char *text)
{
    uint32_t bits = 0;
    while (text && *text) {
        size_t len = strcspn(text, ",");
        char name[96];
        int capability;
        if (len < sizeof(name)) {
            memcpy(name, text, len);
            name[len] = '\0';
            if (rk_federation_capability_parse(name, &capability) == RK_OK)
                bits |= 1u << capability;
        }
        text += len + (text[len] == ',');
    }
    return bits;
}

/* "FACILITY_BOOKING, LIBRARY_LOANS" */
static char *short_list(rk_arena_t *arena, uint32_t bits)
{
    char *text = rk_arena_strdup(arena, "");
    for (int c = 1; c < 32; c++) {
        if (bits & (1u << c))
            text = rk_arena_printf(arena, "%s%s%s", text, *text ? ", " : "",
                                   rk_federation_capability_short_name(c));
    }
    return text;
}

int rk_federation_registration_check(const Renkei__V1__RegisterAdapterRequest *in,
                                     rk_arena_t *arena, rk_federation_registration_t *out,
                                     char *why, size_t why_len)
{
    memset(out, 0, sizeof(*out));
    out->idempotency_key = "";
    if (in->idempotency_key && *in->idempotency_key->key) {
        if (rk_federation_idempotency_key_check(in->idempotency_key->key) != RK_OK) {
            snprintf(why, why_len,
                     "idempotency_key.key: must be 1-128 characters of "
                     "[A-Za-z0-9._:-]");
            return RK_EINVAL;
        }
        out->idempotency_key = in->idempotency_key->key;
    }
    if (!*in->tenant) {
        snprintf(why, why_len, "tenant: required (the tenant's slug or 6-digit code)");
        return RK_EINVAL;
    }
    out->tenant = in->tenant;
    if (rk_federation_name_check(in->name) != RK_OK) {
        snprintf(why, why_len,
                 "name: must be 1-63 characters of a-z, 0-9 and '-', starting "
                 "with a letter or digit");
        return RK_EINVAL;
    }
    out->name = in->name;
    rk_federation_endpoint_t endpoint;
    if (rk_federation_endpoint_parse(in->endpoint, &endpoint) != RK_OK) {
        snprintf(why, why_len, "%s", RK_FEDERATION_ENDPOINT_RULE);
        return RK_EINVAL;
    }
    size_t len = strlen(in->endpoint);
    out->endpoint = in->endpoint[len - 1] == '/' ? rk_arena_strndup(arena, in->endpoint, len - 1)
                                                 : in->endpoint;
    for (size_t i = 0; i < in->n_expected_capabilities; i++) {
        int c = (int)in->expected_capabilities[i];
        if (!rk_federation_capability_short_name(c)) {
            snprintf(why, why_len,
                     "expected_capabilities[%zu]: %d is not a capability this hub knows", i, c);
            return RK_EINVAL;
        }
        out->expected |= 1u << c;
    }
    const char *trust_field = NULL;
    if (in->trust_case == RENKEI__V1__REGISTER_ADAPTER_REQUEST__TRUST_CA_PEM) {
        trust_field = "ca_pem";
        if (rk_federation_ca_pem_check(in->ca_pem, out->ca_sha256, why, why_len) != RK_OK)
            return RK_EINVAL;
        out->ca_pem = in->ca_pem;
    } else if (in->trust_case == RENKEI__V1__REGISTER_ADAPTER_REQUEST__TRUST_PINNED_CERT_SHA256) {
        trust_field = "pinned_cert_sha256";
        unsigned char pin[32];
        if (rk_federation_pin_parse(in->pinned_cert_sha256, pin, out->pin_sha256) != RK_OK) {
            snprintf(why, why_len,
                     "pinned_cert_sha256: must be the SHA-256 of the adapter's "
                     "certificate (DER): 64 hex digits, colons allowed");
            return RK_EINVAL;
        }
    }
    if (trust_field && !endpoint.tls) {
        snprintf(why, why_len, "%s: only for https:// endpoints", trust_field);
        return RK_EINVAL;
    }
    out->tls_server_name = in->tls_server_name;
    if (*in->tls_server_name) {
        if (!endpoint.tls) {
            snprintf(why, why_len, "tls_server_name: only for https:// endpoints");
            return RK_EINVAL;
        }
        if (!host_name_ok(in->tls_server_name, strlen(in->tls_server_name))) {
            snprintf(why, why_len,
                     "tls_server_name: must be a DNS name (letters, digits, '-' "
                     "and '.', at most 253 characters)");
            return RK_EINVAL;
        }
    }
    return RK_OK;
}

static const char *ref_text(rk_arena_t *arena, const Renkei__V1__MunicipalityRef *m)
{
    if (*m->code && *m->slug)
        return rk_arena_printf(arena, "%s (%s)", m->code, m->slug);
    return *m->code ? m->code : m->slug;
}

const char *rk_federation_verdict(rk_arena_t *arena, const Renkei__V1__AdapterDescribeResponse *d,
                                  int serving_status, const char *tenant_code,
                                  const char *tenant_slug, uint32_t expected)
{
    const Renkei__V1__MunicipalityRef *m = d->municipality;
    if (!m || (!*m->code && !*m->slug))
        return rk_arena_printf(arena,
                               "municipality: Describe names no municipality; this tenant is "
                               "%s (%s)",
                               tenant_code, tenant_slug);
    int same = *m->code ? strcmp(m->code, tenant_code) == 0 : strcmp(m->slug, tenant_slug) == 0;
    if (same && *m->code && *m->slug && strcmp(m->slug, tenant_slug) != 0)
        same = 0; /* code and slug must name the same tenant */
    if (!same)
        return rk_arena_printf(arena,
                               "municipality: the adapter serves %s, not this tenant %s (%s)",
                               ref_text(arena, m), tenant_code, tenant_slug);
    if (*d->contract_version && strcmp(d->contract_version, CONTRACT_VERSION) != 0)
        return rk_arena_printf(
            arena, "contract_version: the adapter speaks %s, this hub " CONTRACT_VERSION,
            d->contract_version);
    uint32_t reported = rk_federation_capability_bits(d->capabilities, d->n_capabilities);
    uint32_t missing = expected & ~reported;
    if (missing)
        return rk_arena_printf(arena,
                               "capabilities: the adapter does not report %s (expected at "
                               "registration; it reports %s)",
                               short_list(arena, missing),
                               reported ? short_list(arena, reported) : "none");
    if (serving_status != GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            &grpc__health__v1__health_check_response__serving_status__descriptor, serving_status);
        return rk_arena_printf(arena, "health: the adapter reports %s, not SERVING",
                               v ? v->name : "an unknown status");
    }
    return NULL;
}

Renkei__V1__AdapterState rk_federation_state_value(const char *state)
{
    if (strcmp(state, "pending") == 0)
        return RENKEI__V1__ADAPTER_STATE__ADAPTER_STATE_PENDING;
    if (strcmp(state, "active") == 0)
        return RENKEI__V1__ADAPTER_STATE__ADAPTER_STATE_ACTIVE;
    if (strcmp(state, "failed") == 0)
        return RENKEI__V1__ADAPTER_STATE__ADAPTER_STATE_FAILED;
    if (strcmp(state, "disabled") == 0)
        return RENKEI__V1__ADAPTER_STATE__ADAPTER_STATE_DISABLED;
    return RENKEI__V1__ADAPTER_STATE__ADAPTER_STATE_UNSPECIFIED;
}
