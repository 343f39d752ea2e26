/*
 * adapter_rules_test.c — unit tests for hub/federation/adapter_rules.c: adapter names,
 * endpoints (plain http only on loopback), certificate pins, CA PEM and its fingerprint,
 * capability names, whole registration requests, and the activation verdict on what an
 * adapter says in Describe and health. No sockets, no database.
 */
#include "federation/adapter_rules.h"

#include "core/error.h"
#include "grpc/health/v1/health.pb-c.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

/* A self-signed CA made with openssl (P-256, valid until 2126) and its SHA-256 fingerprint. */
static const char ca_pem[] = "-----BEGIN CERTIFICATE-----\n"
                             "MIIBkjCCATmgAwIBAgIUTg50DSwl2rXffkQWdlYXBwkNpswwCgYIKoZIzj0EAwIw\n"
                             "HjEcMBoGA1UEAwwTcmVua2VpLXVuaXQtdGVzdC1jYTAgFw0yNjExMjUwODM3NDFa\n"
                             "GA8yMTI2MTEwMTA4Mzc0MVowHjEcMBoGA1UEAwwTcmVua2VpLXVuaXQtdGVzdC1j\n"
                             "YTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABL9YDHQYOetCHRzA+D4HuGPy3HWf\n"
                             "MSnmHZxfmx44JWEIYAaPH4qbCebDVkS6a2pSYV0jzva+P4pKuu38YPajKlOjUzBR\n"
                             "MB0GA1UdDgQWBBSrfG/bDKgOdDO/h87zgZYiQUkR9jAfBgNVHSMEGDAWgBSrfG/b\n"
                             "DKgOdDO/h87zgZYiQUkR9jAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cA\n"
                             "MEQCICqJ8b5pDmTlNHXcoD1Y4fWpSAqpjRr3OP9inDKU1o68AiAy65iJSCliVGbq\n"
                             "8MWh5b4vA71n3nDfFoqIAI4MczypqA==\n"
                             "-----END CERTIFICATE-----\n";
static const char ca_sha256[] = "e5c43a0ba963e3a68a4930203285fd1808e21fd2dd8a8145ba0b09830dd9bb8a";

#define SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
#define NOT_SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
#define CAP(name) RENKEI__V1__ADAPTER_CAPABILITY__ADAPTER_CAPABILITY_##name
#define BIT(name) (1u << CAP(name))

/* OpenSSL's own reasons vary between versions: tests check what we write before them. */
static int starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static void names(void **state)
{
    (void)state;
    char longest[64];
    memset(longest, 'a', 63);
    longest[63] = '\0';
    assert_int_equal(rk_federation_name_check("sim-chofu"), RK_OK);
    assert_int_equal(rk_federation_name_check("a"), RK_OK);
    assert_int_equal(rk_federation_name_check("0wner-db2"), RK_OK);
    assert_int_equal(rk_federation_name_check(longest), RK_OK);
    longest[62] = '\0';
    assert_int_equal(rk_federation_name_check(longest), RK_OK);
    char too_long[65];
    memset(too_long, 'a', 64);
    too_long[64] = '\0';
    assert_int_equal(rk_federation_name_check(too_long), RK_EINVAL);
    assert_int_equal(rk_federation_name_check(""), RK_EINVAL);
    assert_int_equal(rk_federation_name_check("-sim"), RK_EINVAL);
    assert_int_equal(rk_federation_name_check("Sim"), RK_EINVAL);
    assert_int_equal(rk_federation_name_check("sim_chofu"), RK_EINVAL);
    assert_int_equal(rk_federation_name_check("sim chofu"), RK_EINVAL);
    assert_int_equal(rk_federation_name_check("調布"), RK_EINVAL);
}

static void endpoints_accepted(void **state)
{
    (void)state;
    rk_federation_endpoint_t e;
    assert_int_equal(rk_federation_endpoint_parse("https://adapter.chofu.example.jp:8443", &e),
                     RK_OK);
    assert_true(e.tls);
    assert_string_equal(e.host, "adapter.chofu.example.jp");
    assert_int_equal(e.port, 8443);
    assert_false(e.loopback);

    assert_int_equal(rk_federation_endpoint_parse("http://127.0.0.1:9101", &e), RK_OK);
    assert_false(e.tls);
    assert_true(e.loopback);
    assert_int_equal(e.port, 9101);
    assert_int_equal(rk_federation_endpoint_parse("http://127.8.9.10:1/", &e), RK_OK);
    assert_true(e.loopback);
    assert_int_equal(rk_federation_endpoint_parse("http://[::1]:9101", &e), RK_OK);
    assert_string_equal(e.host, "::1");
    assert_true(e.loopback);
    assert_int_equal(rk_federation_endpoint_parse("https://[2001:db8::7]:65535", &e), RK_OK);
    assert_string_equal(e.host, "2001:db8::7");
    assert_int_equal(e.port, 65535);
    assert_int_equal(rk_federation_endpoint_parse("https://192.0.2.10:443", &e), RK_OK);
    assert_int_equal(rk_federation_endpoint_parse("https://localhost:9101", &e), RK_OK);
    assert_false(e.loopback); /* a name, not a literal: plain http would not be allowed */
}

static void endpoints_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "adapter.example.jp:443",
        "ftp://adapter.example.jp:21",
        "http://192.0.2.10:9101",     /* plain http off the machine */
        "http://localhost:9101",      /* plain http to a name */
        "http://[2001:db8::7]:9101",  /* plain http to a routable IPv6 address */
        "https://adapter.example.jp", /* no port */
        "https://adapter.example.jp:",
        "https://adapter.example.jp:0",
        "https://adapter.example.jp:065",
        "https://adapter.example.jp:65536",
        "https://adapter.example.jp:123456",
        "https://adapter.example.jp:443/v1",
        "https://adapter.example.jp:443//",
        "https://adapter.example.jp:443?x=1",
        "https://user@adapter.example.jp:443",
        "https://:443",
        "https://-adapter.example.jp:443",
        "https://adapter-.example.jp:443",
        "https://adapter..example.jp:443",
        "https://adapter_1.example.jp:443",
        "https://[::1:443",
        "https://[::1]443",
        "https://[not-ip]:443",
        "https://adapter.example.jp:44 3",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rk_federation_endpoint_t e;
        if (rk_federation_endpoint_parse(bad[i], &e) != RK_EINVAL)
            fail_msg("accepted: \"%s\"", bad[i]);
    }
    char longest[600];
    snprintf(longest, sizeof(longest), "https://%0500d.example:443", 0);
    rk_federation_endpoint_t e;
    assert_int_equal(rk_federation_endpoint_parse(longest, &e), RK_EINVAL);
}

static void pins(void **state)
{
    (void)state;
    unsigned char pin[32];
    char hex[65];
    assert_int_equal(rk_federation_pin_parse(ca_sha256, pin, hex), RK_OK);
    assert_string_equal(hex, ca_sha256);
    assert_int_equal(pin[0], 0xe5);
    assert_int_equal(pin[31], 0x8a);
    assert_int_equal(rk_federation_pin_parse("E5:C4:3A:0B:A9:63:E3:A6:8A:49:30:20:32:85:FD:18:08:"
                                             "E2:1F:D2:DD:8A:81:45:BA:0B:09:83:0D:D9:BB:8A",
                                             pin, hex),
                     RK_OK);
    assert_string_equal(hex, ca_sha256);
    assert_int_equal(rk_federation_pin_parse("", pin, hex), RK_EINVAL);
    assert_int_equal(rk_federation_pin_parse("abc", pin, hex), RK_EINVAL);
    char text[100];
    snprintf(text, sizeof(text), "%s00", ca_sha256); /* 33 bytes */
    assert_int_equal(rk_federation_pin_parse(text, pin, hex), RK_EINVAL);
    snprintf(text, sizeof(text), "%.63sg", ca_sha256); /* not hex */
    assert_int_equal(rk_federation_pin_parse(text, pin, hex), RK_EINVAL);
    /* colons in the wrong places */
    assert_int_equal(rk_federation_pin_parse("E5C4:3A:0B:A9:63:E3:A6:8A:49:30:20:32:85:FD:18:08:"
                                             "E2:1F:D2:DD:8A:81:45:BA:0B:09:83:0D:D9:BB:8A:",
                                             pin, hex),
                     RK_EINVAL);
}

static void ca_pems(void **state)
{
    (void)state;
    char fingerprint[65], why[256];
    assert_int_equal(rk_federation_ca_pem_check(ca_pem, fingerprint, why, sizeof(why)), RK_OK);
    assert_string_equal(fingerprint, ca_sha256);

    /* Two certificates, text around them: fine; the fingerprint is the first one's. */
    char two[4096];
    snprintf(two, sizeof(two), "chofu adapters CA\n%s\nthe same again\n%s", ca_pem, ca_pem);
    assert_int_equal(rk_federation_ca_pem_check(two, fingerprint, why, sizeof(why)), RK_OK);
    assert_string_equal(fingerprint, ca_sha256);

    assert_int_equal(rk_federation_ca_pem_check("", fingerprint, why, sizeof(why)), RK_EINVAL);
    assert_string_equal(why, "ca_pem: must hold PEM certificates (-----BEGIN CERTIFICATE-----)");
    assert_string_equal(fingerprint, "");
    assert_int_equal(rk_federation_ca_pem_check("-----BEGIN CERTIFICATE-----\nAAAA\n"
                                                "-----END CERTIFICATE-----\n",
                                                fingerprint, why, sizeof(why)),
                     RK_EINVAL);
    assert_true(starts_with(why, "ca_pem: certificate 1 is not valid PEM: "));

    /* A second certificate that is broken is refused, not ignored. */
    snprintf(two, sizeof(two),
             "%s-----BEGIN CERTIFICATE-----\nnot base64!\n"
             "-----END CERTIFICATE-----\n",
             ca_pem);
    assert_int_equal(rk_federation_ca_pem_check(two, fingerprint, why, sizeof(why)), RK_EINVAL);
    assert_true(starts_with(why, "ca_pem: certificate 2 is not valid PEM: "));

    static char many[20 * sizeof(ca_pem)];
    many[0] = '\0';
    for (int i = 0; i < RK_FEDERATION_CA_CERTS_MAX + 1; i++)
        strcat(many, ca_pem);
    assert_int_equal(rk_federation_ca_pem_check(many, fingerprint, why, sizeof(why)), RK_EINVAL);
    assert_string_equal(why, "ca_pem: must hold at most 16 certificates");
}

static void capabilities(void **state)
{
    (void)state;
    int c = 0;
    assert_int_equal(rk_federation_capability_parse("facility_catalogue", &c), RK_OK);
    assert_int_equal(c, CAP(FACILITY_CATALOGUE));
    assert_int_equal(rk_federation_capability_parse("ADAPTER_CAPABILITY_ELIBRARY", &c), RK_OK);
    assert_int_equal(c, CAP(ELIBRARY));
    assert_int_equal(rk_federation_capability_parse("Library_Loans", &c), RK_OK);
    assert_int_equal(c, CAP(LIBRARY_LOANS));
    assert_int_equal(rk_federation_capability_parse("UNSPECIFIED", &c), RK_EINVAL);
    assert_int_equal(rk_federation_capability_parse("teleport", &c), RK_EINVAL);
    assert_string_equal(rk_federation_capability_short_name(CAP(FACILITY_BOOKING)),
                        "FACILITY_BOOKING");
    assert_null(rk_federation_capability_short_name(0));
    assert_null(rk_federation_capability_short_name(42));

    Renkei__V1__AdapterCapability list[] = {CAP(LIBRARY_HOLDS), CAP(FACILITY_CATALOGUE), 42,
                                            CAP(LIBRARY_HOLDS)};
    uint32_t bits = rk_federation_capability_bits(list, 4);
    assert_int_equal(bits, BIT(LIBRARY_HOLDS) | BIT(FACILITY_CATALOGUE));
    rk_arena_t *arena = rk_arena_new();
    char *text = rk_federation_capability_list(arena, bits);
    assert_string_equal(text,
                        "ADAPTER_CAPABILITY_FACILITY_CATALOGUE,ADAPTER_CAPABILITY_LIBRARY_HOLDS");
    assert_int_equal(rk_federation_capability_list_parse(text), bits);
    assert_string_equal(rk_federation_capability_list(arena, 0), "");
    assert_int_equal(rk_federation_capability_list_parse(""), 0);
    assert_int_equal(rk_federation_capability_list_parse("ADAPTER_CAPABILITY_NEW_THING,x"), 0);
    rk_arena_free(arena);
}

/* A valid request that the registration tests change in one place. */
static Renkei__V1__RegisterAdapterRequest valid_request(void)
{
    static Renkei__V1__AdapterCapability expected[] = {CAP(FACILITY_CATALOGUE), CAP(LIBRARY_LOANS)};
    Renkei__V1__RegisterAdapterRequest r = RENKEI__V1__REGISTER_ADAPTER_REQUEST__INIT;
    r.tenant = "chofu";
    r.name = "ownerdb";
    r.endpoint = "https://adapter.chofu.example.jp:8443/";
    r.n_expected_capabilities = 2;
    r.expected_capabilities = expected;
    return r;
}

/* Checks r; returns the error ("" when valid). */
static rk_arena_t *arena_for_checks;

static const char *check(const Renkei__V1__RegisterAdapterRequest *r,
                         rk_federation_registration_t *out)
{
    static char why[512];
    rk_arena_t *arena = arena_for_checks;
    why[0] = '\0';
    int rc = rk_federation_registration_check(r, arena, out, why, sizeof(why));
    assert_int_equal(rc, why[0] ? RK_EINVAL : RK_OK);
    return why;
}

static void registrations(void **state)
{
    (void)state;
    rk_federation_registration_t out;
    arena_for_checks = rk_arena_new();
    Renkei__V1__RegisterAdapterRequest r = valid_request();
    assert_string_equal(check(&r, &out), "");
    assert_string_equal(out.endpoint, "https://adapter.chofu.example.jp:8443");
    assert_int_equal(out.expected, BIT(FACILITY_CATALOGUE) | BIT(LIBRARY_LOANS));
    assert_null(out.ca_pem);
    assert_string_equal(out.pin_sha256, "");
    assert_string_equal(out.idempotency_key, "");

    r.trust_case = RENKEI__V1__REGISTER_ADAPTER_REQUEST__TRUST_CA_PEM;
    r.ca_pem = (char *)ca_pem;
    assert_string_equal(check(&r, &out), "");
    assert_string_equal(out.ca_sha256, ca_sha256);
    r.trust_case = RENKEI__V1__REGISTER_ADAPTER_REQUEST__TRUST_PINNED_CERT_SHA256;
    r.pinned_cert_sha256 = "E5:C4:3A:0B:A9:63:E3:A6:8A:49:30:20:32:85:FD:18:08:E2:1F:D2:DD:8A:81:"
                           "45:BA:0B:09:83:0D:D9:BB:8A";
    assert_string_equal(check(&r, &out), "");
    assert_string_equal(out.pin_sha256, ca_sha256);
    r.pinned_cert_sha256 = "e5c4";
    assert_string_equal(check(&r, &out),
                        "pinned_cert_sha256: must be the SHA-256 of the adapter's certificate "
                        "(DER): 64 hex digits, colons allowed");

    r = valid_request();
    r.endpoint = "http://127.0.0.1:9101";
    r.trust_case = RENKEI__V1__REGISTER_ADAPTER_REQUEST__TRUST_CA_PEM;
    r.ca_pem = (char *)ca_pem;
    assert_string_equal(check(&r, &out), "ca_pem: only for https:// endpoints");
    r.trust_case = RENKEI__V1__REGISTER_ADAPTER_REQUEST__TRUST__NOT_SET;
    r.tls_server_name = "adapter.example.jp";
    assert_string_equal(check(&r, &out), "tls_server_name: only for https:// endpoints");

    r = valid_request();
    r.tls_server_name = "bad name";
    assert_true(starts_with(check(&r, &out), "tls_server_name: must be a DNS name"));
    r.tls_server_name = "adapter.internal";
    assert_string_equal(check(&r, &out), "");

    r = valid_request();
    r.endpoint = "http://192.0.2.10:9101";
    assert_string_equal(check(&r, &out), RK_FEDERATION_ENDPOINT_RULE);
    r = valid_request();
    r.tenant = "";
    assert_string_equal(check(&r, &out), "tenant: required (the tenant's slug or 6-digit code)");
    r = valid_request();
    r.name = "Owner DB";
    assert_string_equal(check(&r, &out), "name: must be 1-63 characters of a-z, 0-9 and '-', "
                                         "starting with a letter or digit");
    r = valid_request();
    Renkei__V1__AdapterCapability unknown[] = {CAP(FACILITY_CATALOGUE), 42};
    r.expected_capabilities = unknown;
    assert_string_equal(check(&r, &out),
                        "expected_capabilities[1]: 42 is not a capability this hub knows");

    r = valid_request();
    Renkei__V1__IdempotencyKey key = RENKEI__V1__IDEMPOTENCY_KEY__INIT;
    key.key = "quickstart:sim-chofu.1";
    r.idempotency_key = &key;
    assert_string_equal(check(&r, &out), "");
    assert_string_equal(out.idempotency_key, "quickstart:sim-chofu.1");
    key.key = "no spaces";
    assert_string_equal(check(&r, &out),
                        "idempotency_key.key: must be 1-128 characters of [A-Za-z0-9._:-]");
    rk_arena_free(arena_for_checks);
}

/* Describe of the chofu sim: everything a facility and library adapter reports. */
static Renkei__V1__AdapterDescribeResponse describe(Renkei__V1__MunicipalityRef *m)
{
    static Renkei__V1__AdapterCapability reported[] = {CAP(FACILITY_CATALOGUE),
                                                       CAP(FACILITY_AVAILABILITY)};
    Renkei__V1__AdapterDescribeResponse d = RENKEI__V1__ADAPTER_DESCRIBE_RESPONSE__INIT;
    *m = (Renkei__V1__MunicipalityRef)RENKEI__V1__MUNICIPALITY_REF__INIT;
    m->code = "132080";
    m->slug = "chofu";
    d.municipality = m;
    d.capabilities = reported;
    d.n_capabilities = 2;
    d.adapter_version = "1.4.2";
    d.contract_version = "renkei.v1";
    return d;
}

static void verdicts(void **state)
{
    (void)state;
    rk_arena_t *arena = rk_arena_new();
    Renkei__V1__MunicipalityRef m;
    Renkei__V1__AdapterDescribeResponse d = describe(&m);
    uint32_t catalogue = BIT(FACILITY_CATALOGUE);
    assert_null(rk_federation_verdict(arena, &d, SERVING, "132080", "chofu", catalogue));
    assert_null(rk_federation_verdict(arena, &d, SERVING, "132080", "chofu", 0));
    m.code = "";
    assert_null(rk_federation_verdict(arena, &d, SERVING, "132080", "chofu", catalogue));
    m.slug = "kiyose";
    assert_string_equal(rk_federation_verdict(arena, &d, SERVING, "132080", "chofu", catalogue),
                        "municipality: the adapter serves kiyose, not this tenant 132080 (chofu)");
    m.code = "132217";
    assert_string_equal(rk_federation_verdict(arena, &d, SERVING, "132080", "chofu", catalogue),
                        "municipality: the adapter serves 132217 (kiyose), not this tenant "
                        "132080 (chofu)");
    m.code = "132080"; /* the right code with another city's slug is not this tenant either */
    assert_non_null(rk_federation_verdict(arena, &d, SERVING, "132080", "chofu", catalogue));
    m.slug = "";
    assert_null(rk_federation_verdict(arena, &d, SERVING, "132080", "chofu", catalogue));
    m.code = "";
    assert_string_equal(rk_federation_verdict(arena, &d, SERVING, "132080", "chofu", catalogue),
                        "municipality: Describe names no municipality; this tenant is 132080 "
                        "(chofu)");
    d.municipality = NULL;
    assert_non_null(rk_federation_verdict(arena, &d, SERVING, "132080", "chofu", catalogue));

    d = describe(&m);
    assert_string_equal(
        rk_federation_verdict(arena, &d, SERVING, "132080", "chofu",
                              catalogue | BIT(LIBRARY_LOANS) | BIT(FACILITY_BOOKING)),
        "capabilities: the adapter does not report FACILITY_BOOKING, LIBRARY_LOANS (expected at "
        "registration; it reports FACILITY_CATALOGUE, FACILITY_AVAILABILITY)");
    d.n_capabilities = 0;
    assert_string_equal(rk_federation_verdict(arena, &d, SERVING, "132080", "chofu", catalogue),
                        "capabilities: the adapter does not report FACILITY_CATALOGUE (expected "
                        "at registration; it reports none)");

    d = describe(&m);
    assert_string_equal(rk_federation_verdict(arena, &d, NOT_SERVING, "132080", "chofu", 0),
                        "health: the adapter reports NOT_SERVING, not SERVING");
    d.contract_version = "renkei.v2";
    assert_string_equal(rk_federation_verdict(arena, &d, SERVING, "132080", "chofu", 0),
                        "contract_version: the adapter speaks renkei.v2, this hub renkei.v1");
    d.contract_version = "";
    assert_null(rk_federation_verdict(arena, &d, SERVING, "132080", "chofu", 0));
    rk_arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(endpoints_accepted),
        cmocka_unit_test(endpoints_refused),
        cmocka_unit_test(pins),
        cmocka_unit_test(ca_pems),
        cmocka_unit_test(capabilities),
        cmocka_unit_test(registrations),
        cmocka_unit_test(verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
