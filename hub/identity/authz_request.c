/*
 * authz_request.c — authorization request parameters, rules and the signed tx (see
 * authz_request.h).
 */
#include "identity/authz_request.h"

#include "core/error.h"

#include <cjose/base64.h>
#include <cjose/util.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The parameters kept, by name and by where they live in the struct. */
#define FIELD(name)                                                                                \
    {                                                                                              \
#name, offsetof(rk_identity_authz_t, name)                                                 \
    }
static const struct {
    const char *name;
    size_t offset;
} fields[] = {
    FIELD(client_id),     FIELD(redirect_uri),   FIELD(response_type),
    FIELD(response_mode), FIELD(scope),          FIELD(state),
    FIELD(nonce),         FIELD(code_challenge), FIELD(code_challenge_method),
    FIELD(prompt),        FIELD(max_age),        FIELD(ui_locales),
    FIELD(acr_values),    FIELD(claims),         FIELD(login_hint),
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

/* Bounds per parameter; the others get RK_IDENTITY_AUTHZ_MAX_VALUE from the form parser. */
static const struct {
    const char *name;
    size_t max;
} bounds[] = {
    {"client_id", 255},    {"redirect_uri", 512},   {"response_type", 64},
    {"response_mode", 64}, {"scope", 1024},         {"state", 512},
    {"nonce", 255},        {"code_challenge", 128}, {"code_challenge_method", 16},
    {"prompt", 64},        {"max_age", 12},         {"ui_locales", 64},
    {"acr_values", 255},   {"login_hint", 255},
};

static const char **slot(rk_identity_authz_t *authz, size_t i)
{
    return (const char **)((char *)authz + fields[i].offset);
}

const char *rk_identity_loa_acr(rk_identity_loa_t loa)
{
    switch (loa) {
    case RK_IDENTITY_LOA_PASSWORD:
        return RK_IDENTITY_ACR_PASSWORD;
    case RK_IDENTITY_LOA_CERTIFICATE:
        return RK_IDENTITY_ACR_CERTIFICATE;
    default:
        return "";
    }
}

rk_identity_loa_t rk_identity_loa_of(const char *acr)
{
    if (acr && strcmp(acr, RK_IDENTITY_ACR_PASSWORD) == 0)
        return RK_IDENTITY_LOA_PASSWORD;
    if (acr && strcmp(acr, RK_IDENTITY_ACR_CERTIFICATE) == 0)
        return RK_IDENTITY_LOA_CERTIFICATE;
    return RK_IDENTITY_LOA_ANY;
}

int rk_identity_authz_parse(const rk_identity_form_t *form, rk_identity_authz_t *authz,
                            const char **why)
{
    memset(authz, 0, sizeof(*authz));
    for (size_t i = 0; i < N_FIELDS; i++)
        *slot(authz, i) = rk_identity_form_get(form, fields[i].name);
    for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
        const char *value = rk_identity_form_get(form, bounds[i].name);
        if (value && strlen(value) > bounds[i].max) {
            if (i < 2) { /* client_id, redirect_uri: not yet safe to redirect */
                *why = i == 0 ? "client_id: must be at most 255 bytes"
                              : "redirect_uri: must be at most 512 bytes";
                return RK_EINVAL;
            }
            authz->oversized = bounds[i].name;
        }
    }
    static const char *const unsupported[] = {"request", "request_uri", "registration"};
    for (size_t i = 0; i < 3; i++) {
        if (rk_identity_form_get(form, unsupported[i]))
            authz->unsupported = unsupported[i];
    }
    if (!authz->client_id) {
        *why = "client_id: is required";
        return RK_EINVAL;
    }
    if (!authz->redirect_uri) {
        *why = "redirect_uri: is required";
        return RK_EINVAL;
    }
    return RK_OK;
}

/* 1 if the space-separated list holds word. */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && memcmp(p, word, n) == 0)
            return 1;
        p += len;
        p += strspn(p, " ");
    }
    return 0;
}

/* The lowest supported level among space-separated acr values; ANY if none is supported. */
static rk_identity_loa_t lowest_loa(const char *list)
{
    rk_identity_loa_t lowest = RK_IDENTITY_LOA_ANY;
    if (has_word(list, RK_IDENTITY_ACR_CERTIFICATE))
        lowest = RK_IDENTITY_LOA_CERTIFICATE;
    if (has_word(list, RK_IDENTITY_ACR_PASSWORD))
        lowest = RK_IDENTITY_LOA_PASSWORD;
    return lowest;
}

static int fail(const char **error, const char **why, const char *code, const char *text)
{
    *error = code;
    *why = text;
    return RK_EINVAL;
}

static int parse_prompt(rk_identity_authz_t *authz, const char **error, const char **why)
{
    static const struct {
        const char *name;
        unsigned bit;
    } known[] = {{"none", RK_IDENTITY_PROMPT_NONE},
                 {"login", RK_IDENTITY_PROMPT_LOGIN},
                 {"consent", RK_IDENTITY_PROMPT_CONSENT},
                 {"select_account", RK_IDENTITY_PROMPT_SELECT_ACCOUNT}};
    for (const char *p = authz->prompt; p && *p;) {
        size_t len = strcspn(p, " "), k = 0;
        while (k < 4 && !(strlen(known[k].name) == len && memcmp(known[k].name, p, len) == 0))
            k++;
        if (k == 4)
            return fail(error, why, "invalid_request",
                        "prompt: must be none, login, consent or select_account");
        authz->prompts |= known[k].bit;
        p += len;
        p += strspn(p, " ");
    }
    if ((authz->prompts & RK_IDENTITY_PROMPT_NONE) && authz->prompts != RK_IDENTITY_PROMPT_NONE)
        return fail(error, why, "invalid_request",
                    "prompt: none must not be combined with other values");
    return RK_OK;
}

/* The claims parameter (§5.5): only id_token.acr (and userinfo.acr) change what happens. */
static int parse_claims(rk_identity_authz_t *authz, const char **error, const char **why)
{
    json_error_t jerr;
    json_t *claims = json_loads(authz->claims, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(claims)) {
        json_decref(claims);
        return fail(error, why, "invalid_request", "claims: must be a JSON object");
    }
    static const char *const members[] = {"id_token", "userinfo"};
    for (size_t m = 0; m < 2; m++) {
        json_t *acr = json_object_get(json_object_get(claims, members[m]), "acr");
        if (!json_is_object(acr) || !json_is_true(json_object_get(acr, "essential")))
            continue;
        authz->acr_essential = 1;
        rk_identity_loa_t loa = RK_IDENTITY_LOA_ANY;
        json_t *value = json_object_get(acr, "value"), *values = json_object_get(acr, "values");
        if (json_is_string(value))
            loa = rk_identity_loa_of(json_string_value(value));
        size_t i;
        json_t *v;
        json_array_foreach(values, i, v)
        {
            rk_identity_loa_t each = rk_identity_loa_of(json_string_value(v));
            if (each != RK_IDENTITY_LOA_ANY && (loa == RK_IDENTITY_LOA_ANY || each < loa))
                loa = each;
        }
        if (loa > authz->min_loa)
            authz->min_loa = loa;
    }
    json_decref(claims);
    return RK_OK;
}

static int challenge_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int rk_identity_authz_validate(rk_identity_authz_t *authz, int public_client, const char **error,
                               const char **why)
{
    authz->prompts = 0;
    authz->max_age_s = -1;
    authz->min_loa = RK_IDENTITY_LOA_ANY;
    authz->acr_essential = 0;
    if (authz->oversized)
        return fail(error, why, "invalid_request",
                    strcmp(authz->oversized, "state") == 0 ? "state: must be at most 512 bytes"
                    : strcmp(authz->oversized, "scope") == 0
                        ? "scope: must be at most 1024 bytes"
                        : "a parameter is longer than this provider accepts (nonce 255 bytes, "
                          "code_challenge 128, login_hint 255, acr_values 255, ui_locales 64)");
    for (size_t i = 0; i < N_FIELDS; i++) {
        /* Text that is not UTF-8 could not travel in the tx (JSON): refuse it here. */
        const char *value = *slot(authz, i);
        json_t *probe = value ? json_string(value) : NULL;
        if (value && !probe) {
            return fail(error, why, "invalid_request", "a parameter is not valid UTF-8 text");
        }
        json_decref(probe);
    }
    if (authz->unsupported) {
        *error = strcmp(authz->unsupported, "request") == 0       ? "request_not_supported"
                 : strcmp(authz->unsupported, "request_uri") == 0 ? "request_uri_not_supported"
                                                                  : "registration_not_supported";
        *why = "request objects and registration by request are not supported";
        return RK_EINVAL;
    }
    if (!authz->response_type)
        return fail(error, why, "invalid_request", "response_type: is required");
    if (strcmp(authz->response_type, "code") != 0)
        return fail(error, why, "unsupported_response_type",
                    "response_type: only code is supported");
    if (authz->response_mode && strcmp(authz->response_mode, "query") != 0)
        return fail(error, why, "invalid_request", "response_mode: only query is supported");
    if (!authz->scope || !has_word(authz->scope, "openid"))
        return fail(error, why, "invalid_scope", "scope: must include openid");
    if (authz->code_challenge_method && !authz->code_challenge)
        return fail(error, why, "invalid_request",
                    "code_challenge: is required with code_challenge_method");
    if (authz->code_challenge) {
        if (!authz->code_challenge_method || strcmp(authz->code_challenge_method, "S256") != 0)
            return fail(error, why, "invalid_request",
                        "code_challenge_method: must be S256 (plain is not accepted)");
        size_t len = strlen(authz->code_challenge);
        int ok = len == RK_IDENTITY_SHA256_TEXT_LEN;
        for (size_t i = 0; ok && i < len; i++)
            ok = challenge_char(authz->code_challenge[i]);
        if (!ok)
            return fail(error, why, "invalid_request",
                        "code_challenge: must be BASE64URL(SHA256(code_verifier)), 43 characters");
    } else if (public_client) {
        return fail(error, why, "invalid_request",
                    "code_challenge: is required for public clients (PKCE with S256)");
    }
    if (parse_prompt(authz, error, why) != RK_OK)
        return RK_EINVAL;
    if (authz->max_age) {
        char *end = NULL;
        long long v = strtoll(authz->max_age, &end, 10);
        if (*authz->max_age < '0' || *authz->max_age > '9' || *end || v > 1000000000LL)
            return fail(error, why, "invalid_request",
                        "max_age: must be a number of seconds, 0 to 1000000000");
        authz->max_age_s = v;
    }
    authz->min_loa = lowest_loa(authz->acr_values);
    if (authz->claims && parse_claims(authz, error, why) != RK_OK)
        return RK_EINVAL;
    return RK_OK;
}

char *rk_identity_authz_seal(rk_arena_t *arena, const rk_identity_authz_t *authz, const char *realm,
                             long long now, const unsigned char key[RK_IDENTITY_DERIVED_KEY_LEN])
{
    json_t *doc = json_pack("{s:s, s:I}", "realm", realm, "exp", now + RK_IDENTITY_TX_TTL);
    if (authz->account)
        json_object_set_new(doc, "account", json_true());
    for (size_t i = 0; i < N_FIELDS; i++) {
        const char *value = *slot((rk_identity_authz_t *)authz, i);
        if (value)
            json_object_set_new(doc, fields[i].name, json_string(value));
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    size_t len = strlen(text);
    char *tx = rk_arena_alloc(arena, RK_IDENTITY_B64_LEN(len) + RK_IDENTITY_SHA256_TEXT_LEN + 2);
    char *encoded = NULL;
    size_t encoded_len = 0;
    cjose_base64url_encode((const uint8_t *)text, len, &encoded, &encoded_len, NULL);
    free(text);
    memcpy(tx, encoded, encoded_len);
    cjose_get_dealloc()(encoded);
    tx[encoded_len] = '.';
    rk_identity_hmac_text(key, tx, encoded_len, tx + encoded_len + 1);
    return tx;
}

int rk_identity_authz_open(rk_arena_t *arena, const char *tx, const char *realm, long long now,
                           const unsigned char key[RK_IDENTITY_DERIVED_KEY_LEN],
                           rk_identity_authz_t *authz, const char **why)
{
    const char *dot = tx ? strchr(tx, '.') : NULL;
    char mac[RK_IDENTITY_SHA256_TEXT_LEN + 1];
    *why = "tx: not a login transaction of this realm";
    if (!dot || strlen(tx) > 8192)
        return RK_EINVAL;
    rk_identity_hmac_text(key, tx, (size_t)(dot - tx), mac);
    if (!rk_identity_text_equal(mac, dot + 1))
        return RK_EINVAL;
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    if (rk_identity_b64_decode(arena, tx, (size_t)(dot - tx), 1, &raw, &raw_len) != RK_OK)
        return RK_EINVAL;
    json_t *doc = json_loadb((const char *)raw, raw_len, 0, NULL);
    int rc = RK_EINVAL;
    if (!json_is_object(doc) || !json_is_string(json_object_get(doc, "realm")) ||
        strcmp(json_string_value(json_object_get(doc, "realm")), realm) != 0)
        goto out;
    if (json_integer_value(json_object_get(doc, "exp")) <= now) {
        *why = "tx: the login page has expired";
        goto out;
    }
    memset(authz, 0, sizeof(*authz));
    for (size_t i = 0; i < N_FIELDS; i++) {
        const char *value = json_string_value(json_object_get(doc, fields[i].name));
        if (value)
            *slot(authz, i) = rk_arena_strdup(arena, value);
    }
    const char *error = NULL;
    authz->account = json_is_true(json_object_get(doc, "account"));
    authz->max_age_s = -1;
    if (authz->account || (authz->client_id && authz->redirect_uri &&
                           rk_identity_authz_validate(authz, 0, &error, why) == RK_OK))
        rc = RK_OK;
out:
    json_decref(doc);
    return rc;
}
