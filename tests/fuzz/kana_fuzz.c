/*
 * kana_fuzz.c — libFuzzer target for the free text a resident sends SearchFacilities:
 * normalisation and keys (hub/core/kana.c, romaji included) and the query reader with the
 * facilities' name keys (hub/facility/kinds.c).
 *
 * The first byte of an input picks the routine, the rest is its text, passed with its exact
 * length (no NUL added) so that a read past it is caught. Every input must end in a result or
 * an error: no crash, no read past the bounds, and a result is valid UTF-8 inside its buffer.
 */
#include "core/error.h"
#include "core/kana.h"
#include "facility/kinds.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ustring.h>

/* Aborts unless out is NUL-terminated inside size and valid UTF-8. */
static void check_result(const char *what, const char *out, size_t size)
{
    size_t len = strnlen(out, size);
    UChar utf16[RK_KANA_OUT_MAX];
    int32_t n = 0;
    UErrorCode err = U_ZERO_ERROR;
    if (len < size)
        u_strFromUTF8(utf16, RK_KANA_OUT_MAX, &n, out, (int32_t)len, &err);
    if (len == size || U_FAILURE(err)) {
        fprintf(stderr, "%s: the result is not a valid string in its buffer\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4 * RK_KANA_TEXT_MAX)
        return 0;
    unsigned which = data[0] % 4;
    size_t len = size - 1;
    char *text = malloc(len ? len : 1); /* exactly len bytes: ASan sees a read past them */
    memcpy(text, data + 1, len);
    char out[RK_KANA_OUT_MAX];
    switch (which) {
    case 0:
        if (rk_kana_normalize(text, len, out, sizeof(out)) == RK_OK)
            check_result("rk_kana_normalize", out, sizeof(out));
        break;
    case 1:
    case 2: /* a small output buffer: results that do not fit must be refused */
        if (rk_kana_key(text, len, which == 1 ? RK_KANA_ROMAJI : 0, out,
                        which == 1 ? sizeof(out) : 16) == RK_OK)
            check_result("rk_kana_key", out, which == 1 ? sizeof(out) : 16);
        break;
    default: { /* a query and, as a facility's three names, the same text */
        char *query = malloc(len + 1);
        memcpy(query, text, len);
        query[len] = '\0';
        rk_facility_query_t *q = malloc(sizeof(*q));
        const char *why = NULL;
        if (rk_facility_kinds_for_query(query, q, &why) == RK_OK) {
            json_decref(rk_facility_query_json(q));
            for (size_t i = 0; i < q->n_words; i++)
                check_result("a query word", q->words[i].key, sizeof(q->words[i].key));
        } else if (!why) {
            fprintf(stderr, "a refused query without a reason\n");
            abort();
        }
        rk_facility_name_key(query, query, query, out, sizeof(out));
        check_result("rk_facility_name_key", out, sizeof(out));
        free(q);
        free(query);
        break;
    }
    }
    free(text);
    return 0;
}
