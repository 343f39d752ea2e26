/*
 * canonical.c — canonical JSON (see canonical.h), written into an evbuffer.
 */
#include "exchange/canonical.h"

#include "core/mem.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CANONICAL_INTEGER_MAX 9007199254740991LL /* 2^53 - 1 */

static void write_string(struct evbuffer *out, const char *s, size_t len)
{
    evbuffer_add(out, "\"", 1);
    size_t run = 0; /* bytes copied as they are, flushed before each escape */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *escape = c == '"'    ? "\\\""
                             : c == '\\' ? "\\\\"
                             : c == '\b' ? "\\b"
                             : c == '\f' ? "\\f"
                             : c == '\n' ? "\\n"
                             : c == '\r' ? "\\r"
                             : c == '\t' ? "\\t"
                                         : NULL;
        if (!escape && c >= 0x20) {
            run++;
            continue;
        }
        evbuffer_add(out, s + i - run, run);
        run = 0;
        if (escape)
            evbuffer_add(out, escape, strlen(escape));
        else
            evbuffer_add_printf(out, "\\u%04x", c);
    }
    evbuffer_add(out, s + len - run, run);
    evbuffer_add(out, "\"", 1);
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int write_value(struct evbuffer *out, const json_t *value, const char **why)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(value), i = 0;
        const char **keys = rk_xcalloc(n ? n : 1, sizeof(*keys));
        const char *key;
        json_t *member;
        json_object_foreach((json_t *)value, key, member) keys[i++] = key;
        qsort(keys, n, sizeof(*keys), compare_keys);
        evbuffer_add(out, "{", 1);
        int rc = 0;
        for (i = 0; i < n && rc == 0; i++) {
            if (i)
                evbuffer_add(out, ",", 1);
            write_string(out, keys[i], strlen(keys[i]));
            evbuffer_add(out, ":", 1);
            rc = write_value(out, json_object_get(value, keys[i]), why);
        }
        free(keys);
        evbuffer_add(out, "}", 1);
        return rc;
    }
    case JSON_ARRAY:
        evbuffer_add(out, "[", 1);
        for (size_t i = 0; i < json_array_size(value); i++) {
            if (i)
                evbuffer_add(out, ",", 1);
            if (write_value(out, json_array_get(value, i), why) != 0)
                return -1;
        }
        evbuffer_add(out, "]", 1);
        return 0;
    case JSON_STRING:
        write_string(out, json_string_value(value), json_string_length(value));
        return 0;
    case JSON_INTEGER: {
        json_int_t v = json_integer_value(value);
        if (v > CANONICAL_INTEGER_MAX || v < -CANONICAL_INTEGER_MAX) {
            *why = "an integer beyond 2^53 - 1";
            return -1;
        }
        evbuffer_add_printf(out, "%" JSON_INTEGER_FORMAT, v);
        return 0;
    }
    case JSON_REAL:
        *why = "a number that is not an integer";
        return -1;
    case JSON_TRUE:
        evbuffer_add(out, "true", 4);
        return 0;
    case JSON_FALSE:
        evbuffer_add(out, "false", 5);
        return 0;
    case JSON_NULL:
        evbuffer_add(out, "null", 4);
        return 0;
    }
    *why = "an unknown JSON type";
    return -1;
}

char *rk_exchange_canonical_json(const json_t *value, const char **why)
{
    struct evbuffer *out = evbuffer_new();
    char *text = NULL;
    if (write_value(out, value, why) == 0) {
        size_t len = evbuffer_get_length(out);
        text = rk_xmalloc(len + 1);
        evbuffer_remove(out, text, len);
        text[len] = '\0';
    }
    evbuffer_free(out);
    return text;
}

json_t *rk_exchange_canonical_parse(const char *text, size_t len, const char **why)
{
    json_t *value = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    if (!value) {
        *why = "not JSON (or a key appears twice)";
        return NULL;
    }
    char *again = rk_exchange_canonical_json(value, why);
    if (!again || strlen(again) != len || memcmp(again, text, len) != 0) {
        if (again)
            *why = "not in canonical form";
        json_decref(value);
        value = NULL;
    }
    free(again);
    return value;
}
