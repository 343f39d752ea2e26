/*
 * form.c — form-encoded bodies and Basic credentials, strictly bounded (see form.h).
 */
#include "identity/form.h"

#include "core/error.h"
#include "identity/secret_text.h"

#include <openssl/crypto.h>
#include <string.h>
#include <strings.h>

#define DECODE_MALFORMED (-1)
#define DECODE_NUL (-2)

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Decodes s[0..len) ('+' is a space, %XY a byte) into a new arena string. Returns the decoded
 * length, DECODE_MALFORMED for a bad escape or DECODE_NUL for a NUL byte.
 */
static long decode(rk_arena_t *arena, const char *s, size_t len, char **out)
{
    char *d = rk_arena_alloc(arena, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len)
                return DECODE_MALFORMED;
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return DECODE_MALFORMED;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0')
            return DECODE_NUL;
        d[n++] = c;
    }
    d[n] = '\0';
    *out = d;
    return (long)n;
}

static int refuse(rk_arena_t *arena, const char **why, const char *name, const char *rule)
{
    *why = name ? rk_arena_printf(arena, "%s: %s", name, rule) : rule;
    return RK_EINVAL;
}

int rk_identity_form_parse(rk_arena_t *arena, const char *body, size_t len, size_t max_value,
                           rk_identity_form_t *form, const char **why)
{
    form->n = 0;
    const char *end = body + len;
    for (const char *pair = body; pair < end;) {
        const char *amp = memchr(pair, '&', (size_t)(end - pair));
        const char *pair_end = amp ? amp : end;
        if (pair_end == pair) {
            pair = pair_end + 1;
            continue;
        }
        const char *eq = memchr(pair, '=', (size_t)(pair_end - pair));
        const char *name_end = eq ? eq : pair_end;
        char *name, *value = "";
        long name_len = decode(arena, pair, (size_t)(name_end - pair), &name);
        if (name_len < 0)
            return refuse(arena, why, NULL, "a parameter name is not valid percent-encoding");
        if (name_len == 0)
            return refuse(arena, why, NULL, "a parameter has an empty name");
        if (name_len > RK_IDENTITY_FORM_MAX_NAME)
            return refuse(arena, why, NULL, "a parameter name is longer than 64 bytes");
        for (const char *c = name; *c; c++) {
            if (*c < 0x21 || *c > 0x7e)
                return refuse(arena, why, NULL, "a parameter name must be printable ASCII");
        }
        if (eq) {
            long value_len = decode(arena, eq + 1, (size_t)(pair_end - eq - 1), &value);
            if (value_len == DECODE_MALFORMED)
                return refuse(arena, why, name, "is not valid percent-encoding");
            if (value_len == DECODE_NUL)
                return refuse(arena, why, name, "must not contain a NUL byte");
            if ((size_t)value_len > max_value)
                return refuse(arena, why, name,
                              rk_arena_printf(arena, "must be at most %zu bytes", max_value));
        }
        for (size_t i = 0; i < form->n; i++) {
            if (strcmp(form->params[i].name, name) == 0)
                return refuse(arena, why, name, "must not be repeated");
        }
        if (form->n == RK_IDENTITY_FORM_MAX_PARAMS)
            return refuse(arena, why, NULL, "more than 32 parameters");
        form->params[form->n].name = name;
        form->params[form->n].value = value;
        form->n++;
        pair = pair_end + 1;
    }
    return RK_OK;
}

const char *rk_identity_form_get(const rk_identity_form_t *form, const char *name)
{
    for (size_t i = 0; i < form->n; i++) {
        if (strcmp(form->params[i].name, name) == 0)
            return *form->params[i].value ? form->params[i].value : NULL;
    }
    return NULL;
}

int rk_identity_basic_credentials(rk_arena_t *arena, const char *header, const char **client_id,
                                  const char **secret, const char **why)
{
    if (!header || strncasecmp(header, "Basic ", 6) != 0)
        return RK_ENOTFOUND;
    const char *encoded = header + 6;
    while (*encoded == ' ')
        encoded++;
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    if (!*encoded ||
        rk_identity_b64_decode(arena, encoded, strlen(encoded), 0, &raw, &raw_len) != RK_OK) {
        *why = "Authorization: Basic credentials are not valid base64";
        return RK_EINVAL;
    }
    int rc = RK_EINVAL;
    const unsigned char *colon = memchr(raw, ':', raw_len);
    char *id, *pass;
    *why = "Authorization: Basic credentials must be client_id:client_secret, each form-encoded";
    if (colon && colon != raw && decode(arena, (const char *)raw, (size_t)(colon - raw), &id) > 0 &&
        decode(arena, (const char *)colon + 1, raw_len - (size_t)(colon - raw) - 1, &pass) > 0) {
        *client_id = id;
        *secret = pass;
        rc = RK_OK;
    }
    OPENSSL_cleanse(raw, raw_len);
    return rc;
}

const char *rk_identity_cookie(rk_arena_t *arena, const char *header, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = header; p && *p;) {
        p += strspn(p, " ;");
        size_t len = strcspn(p, ";");
        if (len > n && p[n] == '=' && memcmp(p, name, n) == 0) {
            const char *value = p + n + 1;
            size_t value_len = len - n - 1;
            while (value_len && value[value_len - 1] == ' ')
                value_len--;
            if (value_len == 0 || value_len > RK_IDENTITY_COOKIE_MAX)
                return NULL;
            char *copy = rk_arena_alloc(arena, value_len + 1);
            memcpy(copy, value, value_len);
            copy[value_len] = '\0';
            return copy;
        }
        p += len;
    }
    return NULL;
}

char *rk_identity_url_encode(rk_arena_t *arena, const char *s)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t len = strlen(s);
    char *out = rk_arena_alloc(arena, 3 * len + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = digits[*p >> 4];
            *o++ = digits[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

long rk_identity_text_chars(const char *s)
{
    long n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return -1;
        n += (*p & 0xc0) != 0x80;
    }
    return n;
}
