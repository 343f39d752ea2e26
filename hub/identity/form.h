/*
 * form.h — the inputs of the OAuth endpoints: form-encoded bodies and Basic client credentials.
 *
 * OAuth 2.0 requests (token, introspection) are application/x-www-form-urlencoded bodies.
 * rk_identity_form_parse() decodes one with every bound the endpoints rely on: at most
 * RK_IDENTITY_FORM_MAX_PARAMS parameters, names of at most RK_IDENTITY_FORM_MAX_NAME bytes,
 * values of at most the caller's limit, no parameter twice (RFC 6749 §3.1), no NUL byte, and
 * percent-encoding that is well formed, names of printable ASCII. An empty value counts as
 * absent (RFC 6749 §3.1).
 *
 * client_secret_basic sends "Basic base64(id:secret)", where id and secret are themselves
 * form-encoded first (RFC 6749 §2.3.1): rk_identity_basic_credentials() undoes both.
 *
 * Cookies and query components are read and written here too.
 *
 * Pure functions over a request arena; used by oauth.c and authorize.c, tested by
 * tests/unit/identity.
 */
#ifndef RK_IDENTITY_FORM_H
#define RK_IDENTITY_FORM_H

#include "core/mem.h"

#include <stddef.h>

#define RK_IDENTITY_FORM_MAX_PARAMS 32
#define RK_IDENTITY_FORM_MAX_NAME 64

typedef struct rk_identity_form_param {
    const char *name;  /* decoded, NUL-terminated, in the arena */
    const char *value; /* decoded, NUL-terminated, in the arena; "" when sent empty */
} rk_identity_form_param_t;

typedef struct rk_identity_form {
    size_t n;
    rk_identity_form_param_t params[RK_IDENTITY_FORM_MAX_PARAMS];
} rk_identity_form_t;

/**
 * Decodes body (len bytes, not necessarily NUL-terminated) into form. Values longer than
 * max_value bytes once decoded are refused. RK_OK, or RK_EINVAL with *why (in the arena)
 * naming the parameter and the rule, e.g. "scope: must not be repeated".
 */
int rk_identity_form_parse(rk_arena_t *arena, const char *body, size_t len, size_t max_value,
                           rk_identity_form_t *form, const char **why);

/** The value of name, or NULL when it was not sent or sent empty. */
const char *rk_identity_form_get(const rk_identity_form_t *form, const char *name);

/**
 * Reads client_secret_basic credentials from an Authorization header value. RK_OK with
 * *client_id and *secret (in the arena); RK_ENOTFOUND when header is NULL or another scheme;
 * RK_EINVAL with *why when it is a Basic header that does not decode to "id:secret".
 */
int rk_identity_basic_credentials(rk_arena_t *arena, const char *header, const char **client_id,
                                  const char **secret, const char **why);

#define RK_IDENTITY_COOKIE_MAX 512

/**
 * The value of cookie name in a Cookie header (RFC 6265 §5.4), copied into the arena; NULL
 * when header is NULL, the cookie is absent or empty, or its value is longer than
 * RK_IDENTITY_COOKIE_MAX bytes.
 */
const char *rk_identity_cookie(rk_arena_t *arena, const char *header, const char *name);

/** s percent-encoded for a query component: everything but A-Z a-z 0-9 - . _ ~ (in the arena). */
char *rk_identity_url_encode(rk_arena_t *arena, const char *s);

/**
 * The characters (code points) of a UTF-8 text such as a name, or -1 when it holds a control
 * character: what the admin API counts for names' bounds.
 */
long rk_identity_text_chars(const char *s);

#endif
