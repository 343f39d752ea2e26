/*
 * canonical.h — the canonical JSON that the exchange log hashes and receipts sign.
 *
 * RFC 8785 (JCS) restricted to what our payloads hold: objects, arrays, strings, integers of at
 * most 2^53 - 1 in magnitude, true, false, null. No whitespace; object keys sorted by their
 * UTF-8 bytes (code point order, which is JCS's UTF-16 order for the ASCII keys we use);
 * strings escaped only where JSON requires (\" \\ \b \f \n \r \t, other control characters as
 * lower-case \u00xx). PostgreSQL writes the same text (rk_canonical_json(), migration 0013),
 * so a text is canonical exactly when serialising its parse gives it back.
 *
 * jansson's own compact dump differs (upper-case \u001F), hence this small serialiser. Pure:
 * the hub's log verification and renkeictl use it.
 */
#ifndef RK_EXCHANGE_CANONICAL_H
#define RK_EXCHANGE_CANONICAL_H

#include <jansson.h>
#include <stddef.h>

/**
 * The canonical text of value: a string the caller free()s, or NULL with *why when value holds
 * a real number or an integer beyond 2^53 - 1.
 */
char *rk_exchange_canonical_json(const json_t *value, const char **why);

/**
 * Parses text (len bytes; duplicate keys refused) and checks that it is canonical. Returns the
 * parsed value (a new reference), or NULL with *why.
 */
json_t *rk_exchange_canonical_parse(const char *text, size_t len, const char **why);

#endif
