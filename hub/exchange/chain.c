/*
 * chain.c — recomputing an exchange-log chain (see chain.h).
 */
#include "exchange/chain.h"

#include "exchange/canonical.h"
#include "identity/secret_text.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

void rk_exchange_chain_check_start(rk_exchange_chain_check_t *check, const char *tenant_code,
                                   int64_t from_sequence)
{
    memset(check, 0, sizeof(*check));
    snprintf(check->tenant_code, sizeof(check->tenant_code), "%s", tenant_code);
    check->next_sequence = from_sequence < 1 ? 1 : from_sequence;
    if (check->next_sequence == 1)
        memcpy(check->previous_hash, RK_EXCHANGE_GENESIS_HASH, RK_EXCHANGE_HASH_HEX + 1);
}

void rk_exchange_chain_check_fail(rk_exchange_chain_check_t *check, int64_t sequence,
                                  const char *problem)
{
    if (check->first_broken)
        return;
    check->first_broken = sequence;
    snprintf(check->problem, sizeof(check->problem), "%s", problem);
}

/* What is wrong with the entry's content, or NULL. */
static const char *entry_problem(const rk_exchange_chain_check_t *check, int64_t sequence,
                                 const char *kind, const json_t *entry)
{
    json_t *seq = json_object_get(entry, "sequence");
    const char *tenant = json_string_value(json_object_get(entry, "tenant"));
    const char *entry_kind = json_string_value(json_object_get(entry, "kind"));
    const char *previous = json_string_value(json_object_get(entry, "previous_hash"));
    if (!json_is_integer(seq) || json_integer_value(seq) != sequence)
        return "its sequence differs from its position in the chain";
    if (!tenant || strcmp(tenant, check->tenant_code) != 0)
        return "it names another tenant's chain";
    if (!entry_kind || strcmp(entry_kind, kind) != 0)
        return "its kind column differs from its canonical_json";
    if (!previous || strlen(previous) != RK_EXCHANGE_HASH_HEX)
        return "previous_hash is missing or not 64 hex digits";
    if (*check->previous_hash && strcmp(previous, check->previous_hash) != 0)
        return "previous_hash is not the hash of the entry before it (that entry or this link "
               "was changed)";
    return NULL;
}

int rk_exchange_chain_check_entry(rk_exchange_chain_check_t *check, int64_t sequence,
                                  const char *kind, const char *entry_hash, const char *text,
                                  size_t len, char hash_out[RK_EXCHANGE_HASH_HEX + 1])
{
    if (check->first_broken)
        return -1;
    if (sequence != check->next_sequence) {
        char problem[96];
        snprintf(problem, sizeof(problem), "entry %" PRId64 " is missing", check->next_sequence);
        rk_exchange_chain_check_fail(check, check->next_sequence, problem);
        return -1;
    }
    const char *why = NULL;
    rk_identity_sha256_hex(text, len, hash_out);
    json_t *entry = rk_exchange_canonical_parse(text, len, &why);
    char problem[160];
    if (!entry) {
        snprintf(problem, sizeof(problem), "canonical_json is %s", why);
        why = problem;
    } else if (!json_is_object(entry)) {
        why = "canonical_json is not an object";
    } else if (!(why = entry_problem(check, sequence, kind, entry)) &&
               strcmp(entry_hash, hash_out) != 0) {
        why = "entry_hash is not the SHA-256 of its canonical_json (the entry was changed)";
    }
    json_decref(entry);
    if (why) {
        rk_exchange_chain_check_fail(check, sequence, why);
        return -1;
    }
    memcpy(check->previous_hash, hash_out, RK_EXCHANGE_HASH_HEX + 1);
    check->next_sequence++;
    check->checked++;
    return 0;
}
