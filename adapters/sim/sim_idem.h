/*
 * sim_idem.h — the idempotency table: the first answer to each (method, key), for replay.
 *
 * adapter.proto: every mutating call carries an IdempotencyKey and idempotency is per
 * (method, key). The same key with the same request returns the first result — success or
 * refusal — byte for byte; the same key with a different request is ALREADY_EXISTS
 * (ERROR_REASON_IDEMPOTENCY_KEY_REUSED). "The same request" is compared on the request's
 * protobuf encoding. Entries live as long as the process (the sim keeps state in memory
 * only), which is more than the 24 hours the contract asks. Pure: no event loop.
 */
#ifndef SIM_IDEM_H
#define SIM_IDEM_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_idem sim_idem_t;

/** A remembered answer. code 0 = success with response bytes; else the error. */
typedef struct sim_idem_entry {
    int code;
    char *reason;  /* error reason name, or NULL */
    char *message; /* error message, or NULL */
    uint8_t *response;
    size_t response_len;
} sim_idem_entry_t;

typedef enum {
    SIM_IDEM_NEW = 0,  /* first time: do the work, then sim_idem_store() */
    SIM_IDEM_REPLAY,   /* seen with the same request: answer *entry again */
    SIM_IDEM_CONFLICT, /* seen with a different request: refuse */
} sim_idem_outcome_t;

sim_idem_t *sim_idem_new(void);
void sim_idem_free(sim_idem_t *t);
/** Looks (method, key) up against the request's bytes; *entry is set for REPLAY. */
sim_idem_outcome_t sim_idem_lookup(const sim_idem_t *t, const char *method, const char *key,
                                   const uint8_t *request, size_t request_len,
                                   const sim_idem_entry_t **entry);
/**
 * Remembers the first answer (copies everything). A second store for the same (method, key)
 * is ignored: the first answer stands.
 */
void sim_idem_store(sim_idem_t *t, const char *method, const char *key, const uint8_t *request,
                    size_t request_len, int code, const char *reason, const char *message,
                    const uint8_t *response, size_t response_len);
/** Entries held. */
size_t sim_idem_count(const sim_idem_t *t);
/** 1 when key is 1–128 characters of [A-Za-z0-9._:-] (common.proto, IdempotencyKey). */
int sim_idem_key_ok(const char *key);

#endif
