/*
 * client_test.c — hub/identity/client.c: the create-client request (defaults, every field's
 * rule, unknown fields), generated credentials and the secret check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "identity/client.h"

#include <openssl/sha.h>
#include <string.h>

static const rk_identity_alg_t es_only[] = {RK_IDENTITY_ES256};
static const rk_identity_alg_t both[] = {RK_IDENTITY_ES256, RK_IDENTITY_RS256};

static int parse(const char *text, const rk_identity_alg_t *algs, size_t n_algs,
                 rk_identity_client_spec_t *spec, char *why, size_t why_len, json_t **body)
{
    *body = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(*body);
    return rk_identity_client_spec_parse(*body, algs, n_algs, spec, why, why_len);
}

static void accepts_and_defaults(void **state)
{
    (void)state;
    rk_identity_client_spec_t spec;
    char why[256] = "";
    json_t *body;
    assert_int_equal(parse("{\"name\": \"図書館システム\", \"scopes\": [\"library.read\"]}",
                           es_only, 1, &spec, why, sizeof(why), &body),
                     RK_OK);
    assert_string_equal(spec.name, "図書館システム");
    assert_int_equal(json_array_size(spec.scopes), 1);
    assert_null(spec.audience);
    assert_int_equal(spec.access_token_ttl, RK_IDENTITY_TOKEN_TTL_DEFAULT);
    assert_int_equal(spec.signing_alg, RK_IDENTITY_ES256);
    assert_int_equal(spec.grants, RK_IDENTITY_GRANT_CLIENT_CREDENTIALS);
    json_decref(spec.scopes);
    json_decref(body);

    assert_int_equal(parse("{\"name\": \"x\", \"scopes\": [], \"grant_types\": "
                           "[\"client_credentials\"], \"access_token_ttl\": 86400,"
                           " \"audience\": \"https://library.example/api\", \"signing_alg\": "
                           "\"RS256\"}",
                           both, 2, &spec, why, sizeof(why), &body),
                     RK_OK);
    assert_int_equal(spec.access_token_ttl, 86400);
    assert_string_equal(spec.audience, "https://library.example/api");
    assert_int_equal(spec.signing_alg, RK_IDENTITY_RS256);
    json_decref(spec.scopes);
    json_decref(body);

    /* A public client of the code flow: default OpenID scopes, pairwise, no secret. */
    assert_int_equal(parse("{\"name\": \"portal\", \"grant_types\": [\"authorization_code\", "
                           "\"refresh_token\"], \"token_endpoint_auth_method\": \"none\", "
                           "\"redirect_uris\": [\"https://portal.example/cb\", "
                           "\"http://127.0.0.1:8080/cb\"], \"first_party\": true, "
                           "\"service\": \"facility.booking\"}",
                           es_only, 1, &spec, why, sizeof(why), &body),
                     RK_OK);
    assert_int_equal(spec.grants,
                     RK_IDENTITY_GRANT_AUTHORIZATION_CODE | RK_IDENTITY_GRANT_REFRESH_TOKEN);
    assert_int_equal(spec.auth_method, RK_IDENTITY_AUTH_NONE);
    assert_int_equal(json_array_size(spec.scopes), 4);
    assert_string_equal(spec.subject_type, "pairwise");
    assert_true(spec.first_party);
    assert_string_equal(spec.service, "facility.booking");
    assert_int_equal(spec.refresh_token_ttl, RK_IDENTITY_REFRESH_TTL_DEFAULT);
    json_decref(spec.scopes);
    json_decref(body);
}

static void redirect_uris_match_exactly(void **state)
{
    (void)state;
    rk_identity_client_t client = {0};
    client.redirect_uris = json_pack("[s,s]", "https://a.example/cb", "http://127.0.0.1:9/cb");
    assert_true(rk_identity_client_redirect_ok(&client, "https://a.example/cb"));
    assert_true(rk_identity_client_redirect_ok(&client, "http://127.0.0.1:9/cb"));
    assert_false(rk_identity_client_redirect_ok(&client, "https://a.example/cb/"));
    assert_false(rk_identity_client_redirect_ok(&client, "https://a.example/cb?x=1"));
    assert_false(rk_identity_client_redirect_ok(&client, "https://A.example/cb"));
    assert_false(rk_identity_client_redirect_ok(&client, ""));
    json_decref(client.redirect_uris);
}

static void expect_refused(const char *text, const char *message)
{
    rk_identity_client_spec_t spec;
    char why[256] = "";
    json_t *body;
    assert_int_equal(parse(text, es_only, 1, &spec, why, sizeof(why), &body), RK_EINVAL);
    if (strcmp(why, message) != 0)
        fail_msg("for %s: expected '%s', got '%s'", text, message, why);
    json_decref(spec.scopes);
    json_decref(body);
}

static void refuses_bad_fields(void **state)
{
    (void)state;
    expect_refused("[]", "the body must be a JSON object");
    expect_refused("{\"name\": \"x\", \"scopes\": [], \"colour\": 1}", "colour: unknown field");
    expect_refused("{\"scopes\": []}",
                   "name: is required: 1 to 200 characters without control characters");
    expect_refused("{\"name\": \"a\\nb\", \"scopes\": []}",
                   "name: is required: 1 to 200 characters without control characters");
    expect_refused("{\"name\": \"x\"}", "scopes: is required: an array of scope strings");
    expect_refused("{\"name\": \"x\", \"scopes\": [\"a b\"]}",
                   "scopes[0]: must be a scope token: printable ASCII without space, '\"' and "
                   "'\\', at most 128 bytes");
    expect_refused("{\"name\": \"x\", \"scopes\": [\"a\", 1]}",
                   "scopes[1]: must be a scope token: printable ASCII without space, '\"' and "
                   "'\\', at most 128 bytes");
    expect_refused("{\"name\": \"x\", \"scopes\": [\"a\", \"a\"]}",
                   "scopes[1]: 'a' is listed twice");
    expect_refused("{\"name\": \"x\", \"scopes\": [], \"grant_types\": [\"implicit\"]}",
                   "grant_types: must be a non-empty array of distinct grants: authorization_code, "
                   "refresh_token, client_credentials");
    expect_refused("{\"name\": \"x\", \"grant_types\": [\"authorization_code\"]}",
                   "redirect_uris: is required with authorization_code");
    expect_refused("{\"name\": \"x\", \"grant_types\": [\"refresh_token\"], \"scopes\": []}",
                   "grant_types: refresh_token needs authorization_code: refresh tokens come from "
                   "it");
    expect_refused("{\"name\": \"x\", \"grant_types\": [\"authorization_code\"], "
                   "\"redirect_uris\": [\"http://evil.example/cb\"]}",
                   "redirect_uris[0]: must be an absolute https URI (http only on 127.0.0.1, "
                   "localhost or [::1]) of at most 512 bytes, without a fragment");
    expect_refused("{\"name\": \"x\", \"grant_types\": [\"authorization_code\"], "
                   "\"redirect_uris\": [\"https://a.example/cb#frag\"]}",
                   "redirect_uris[0]: must be an absolute https URI (http only on 127.0.0.1, "
                   "localhost or [::1]) of at most 512 bytes, without a fragment");
    expect_refused("{\"name\": \"x\", \"scopes\": [], \"token_endpoint_auth_method\": \"none\"}",
                   "token_endpoint_auth_method: none (a public client) cannot use "
                   "client_credentials");
    expect_refused("{\"name\": \"x\", \"scopes\": [], \"token_endpoint_auth_method\": \"tls\"}",
                   "token_endpoint_auth_method: must be one of: client_secret_basic "
                   "client_secret_post none");
    expect_refused("{\"name\": \"x\", \"scopes\": [], \"access_token_ttl\": 59}",
                   "access_token_ttl: must be an integer number of seconds between 60 and 86400");
    expect_refused("{\"name\": \"x\", \"scopes\": [], \"access_token_ttl\": \"300\"}",
                   "access_token_ttl: must be an integer number of seconds between 60 and 86400");
    expect_refused("{\"name\": \"x\", \"scopes\": [], \"audience\": \"has space\"}",
                   "audience: must be a string of 1 to 512 printable ASCII characters without "
                   "spaces (the resource server's identifier, usually its URL)");
    expect_refused("{\"name\": \"x\", \"scopes\": [], \"signing_alg\": \"RS256\"}",
                   "signing_alg: must be one of the realm's algorithms (identity.signing_algs): "
                   "ES256");
    expect_refused("{\"name\": \"x\", \"scopes\": [], \"signing_alg\": \"none\"}",
                   "signing_alg: must be one of the realm's algorithms (identity.signing_algs): "
                   "ES256");

    char big[300] = "{\"name\": \"";
    memset(big + strlen(big), 'n', 201);
    strcpy(big + strlen(big), "\", \"scopes\": []}");
    expect_refused(big, "name: is required: 1 to 200 characters without control characters");
}

static void credentials_and_secrets(void **state)
{
    (void)state;
    char id[RK_IDENTITY_CLIENT_ID_LEN + 1], secret[RK_IDENTITY_CLIENT_SECRET_LEN + 1];
    assert_int_equal(rk_identity_client_credentials_new(id, secret), RK_OK);
    assert_int_equal(strlen(id), RK_IDENTITY_CLIENT_ID_LEN);
    assert_int_equal(strlen(secret), RK_IDENTITY_CLIENT_SECRET_LEN);
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    assert_int_equal(strspn(secret, alphabet), RK_IDENTITY_CLIENT_SECRET_LEN);

    rk_identity_client_t client = {0};
    SHA256((const unsigned char *)secret, strlen(secret), client.secret_sha256);
    assert_true(rk_identity_client_secret_ok(&client, secret));
    secret[0] = secret[0] == 'A' ? 'B' : 'A';
    assert_false(rk_identity_client_secret_ok(&client, secret));
    assert_false(rk_identity_client_secret_ok(&client, ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_and_defaults),
        cmocka_unit_test(refuses_bad_fields),
        cmocka_unit_test(credentials_and_secrets),
        cmocka_unit_test(redirect_uris_match_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
