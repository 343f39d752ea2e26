/*
 * chain.h — recomputing a tenant's exchange-log chain, entry by entry.
 *
 * Each entry is its canonical JSON (canonical.h) with "sequence", "tenant" (the municipality
 * code), "kind" and "previous_hash" (hex SHA-256 of the previous entry's canonical JSON, 64
 * zeros for the first); its entry_hash is the SHA-256 of that text. Fed the entries in
 * sequence order, the check recomputes every hash from the text, never trusting a stored one
 * for the link, and stops at the first entry that fails, naming it and what failed. Changing
 * any byte of an entry therefore breaks it (its hash), and changing it together with its
 * stored hash breaks the next one (the link) or, for the head, its checkpoint.
 *
 * Pure; used by VerifyLogChain (service.c) and its unit test.
 */
#ifndef RK_EXCHANGE_CHAIN_H
#define RK_EXCHANGE_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#define RK_EXCHANGE_HASH_HEX 64
#define RK_EXCHANGE_GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"

typedef struct rk_exchange_chain_check {
    char tenant_code[8];
    int64_t next_sequence;                        /* what the next entry must be */
    char previous_hash[RK_EXCHANGE_HASH_HEX + 1]; /* recomputed; "" = take the entry's word */
    int64_t checked;                              /* entries that passed */
    int64_t first_broken;                         /* 0 while intact */
    char problem[256];                            /* what failed at first_broken */
} rk_exchange_chain_check_t;

/**
 * Starts a check of tenant_code's chain at from_sequence (1 = the start, whose previous hash
 * must be the genesis hash; later starts take the first entry's previous_hash as given).
 */
void rk_exchange_chain_check_start(rk_exchange_chain_check_t *check, const char *tenant_code,
                                   int64_t from_sequence);

/**
 * Checks the next entry: its stored sequence, kind and entry_hash columns and its canonical
 * text (len bytes). Returns 0 and sets hash_out to the recomputed hash when it holds; -1 when
 * it is broken (first_broken and problem set), or when the check had already failed.
 */
int rk_exchange_chain_check_entry(rk_exchange_chain_check_t *check, int64_t sequence,
                                  const char *kind, const char *entry_hash, const char *text,
                                  size_t len, char hash_out[RK_EXCHANGE_HASH_HEX + 1]);

/** Records that entry sequence is broken for a reason found outside (a checkpoint). */
void rk_exchange_chain_check_fail(rk_exchange_chain_check_t *check, int64_t sequence,
                                  const char *problem);

#endif
