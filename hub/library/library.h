/*
 * library.h — the library module: LibraryService over the owners' library adapters — one
 * catalogue search across every city (catalogue.c), patron links (patron.c), holds (hold.c,
 * hold_owner.c, hold_sweep.c) —
 * and what its units share: the module's state, the fan-out's breakers, typed errors and the
 * checks every resident-facing call makes.
 *
 * main.c registers the module after the federation and facility modules and frees it first
 * at exit, before the store: callbacks still in flight then (store, adapter calls) find it
 * closing and do no further work; the last of them frees it.
 */
#ifndef RK_LIBRARY_LIBRARY_H
#define RK_LIBRARY_LIBRARY_H

#include "app.h"
#include "federation/federation.h"
#include "identity/resident_token.h"
#include "net/router.h"
#include "net/rpc.h"
#include "net/rpc_client.h"
#include "renkei/v1/common.pb-c.h"
#include "store/pool.h"

struct rk_library_owner;
struct rk_library_sweep;
struct rk_library_sweep;

typedef struct rk_library {
    rk_app_t *app;
    struct rk_library_owner **owners; /* one breaker per adapter called (fanout.c) */
    size_t n_owners, owners_cap;
    uint64_t timeout_ns, margin_ns; /* adapter calls' budget (facility.availability_*) */
    struct rk_library_sweep *sweep; /* the holds' recovery sweep (worker 0), or NULL */
    int busy;                       /* fan-outs and sweeps not yet finished */
    int closing;                    /* rk_library_free() was called: no new work */
} rk_library_t;

/** Sets up the module (app->library): its statements and every LibraryService method. */
void rk_library_register(rk_app_t *app, rk_router_t *router);

/** Stops the module; work in flight ends quietly and the last of it frees the module. NULL is
 * allowed. */
void rk_library_free(rk_library_t *library);

/** A unit's work has ended (busy was raised for it): frees a closing module when it was the
 * last. */
void rk_library_release(rk_library_t *library);

/* --- for the module's units --------------------------------------------------------------- */

/**
 * Fails rpc with a typed reason: a LibraryError name (or ERROR_REASON_LOGIN_REQUIRED,
 * _IDEMPOTENCY_KEY_REUSED, _NOT_FOUND) with its status code, the resident-readable text ja / en
 * (NULL: the reason's own), message for the developer in English (NULL: the English text), and
 * the hold's id as metadata when hold_id is non-empty.
 */
void rk_library_fail(rk_rpc_t *rpc, const char *reason, const char *message, const char *ja,
                     const char *en, const char *hold_id);

/** The resident-readable ja and en texts of a LibraryError name, or NULL when not one. */
int rk_library_reason_text(const char *reason, const char **ja, const char **en);

/** The LibraryError name of an owner's typed refusal ("renkei-error-reason"), or NULL when the
 * owner was not reached or answered otherwise (the outcome is then not known). */
const char *rk_library_owner_refusal(const rk_rpc_result_t *result);

/** The renkei-error-reason trailer of an adapter's answer, or "". */
const char *rk_library_trailer_reason(const rk_rpc_result_t *result);

/**
 * The caller's resident token (Authorization: Bearer) verified into resident: 0, or -1 after
 * answering UNAUTHENTICATED (ERROR_REASON_LOGIN_REQUIRED).
 */
int rk_library_resident(rk_rpc_t *rpc, rk_identity_resident_t *resident);

/** A pupil's age band as rk_identity_age_band() names it (the pupils migration); UNSPECIFIED for
 * "" (not a pupil: not disclosed). */
Renkei__V1__AgeBand rk_library_age_band(const char *name);

/** The SHA-256 of message (packed) in hex, in arena: binds keys and page tokens to a request. */
char *rk_library_request_hash(rk_arena_t *arena, const ProtobufCMessage *message);

/** A listing's page: its size, its offset, and the request's digest its tokens are bound to. */
typedef struct rk_library_page {
    size_t size, offset;
    const char *filters; /* 16 hex digits */
    char prefix;         /* the method's letter in its tokens */
} rk_library_page_t;

/**
 * Reads page (NULL: the first page of default_size) of a listing whose filters are the request
 * without its page: the size (0 = default_size, at most max_size) and the offset of a token this
 * listing issued ("<prefix>1.<filters>.<offset>"). 0, or -1 after answering INVALID_ARGUMENT
 * naming page.page_size or page.page_token.
 */
int rk_library_page_read(rk_rpc_t *rpc, const Renkei__V1__PageRequest *page,
                         const ProtobufCMessage *filters, char prefix, size_t default_size,
                         size_t max_size, rk_library_page_t *out);

/** The token of the page that starts at offset, in arena. */
char *rk_library_page_token(rk_arena_t *arena, const rk_library_page_t *page, size_t offset);

/**
 * Answers the store's failure res (NULL: the statement was not sent): the exchange log's
 * fail-closed refusal as UNAVAILABLE, EXCHANGE_ANCHORING_OVERDUE (rk_exchange_record, migration
 * 0017's triggers); INTERNAL (logged) for another bad statement; else UNAVAILABLE.
 */
void rk_library_fail_store(rk_rpc_t *rpc, const char *what, const rk_store_result_t *res);

/** A new row id: prefix ("lh_", "ll_", at most 7 bytes) and 32 random hex digits, into out.
 * RK_OK, or RK_EIO without randomness. */
int rk_library_new_id(const char *prefix, char out[40]);

/** Whether name can be a municipality's slug or code: [a-z0-9-]{1,31}. */
int rk_library_name_ok(const char *name);

/** The active adapter with id, or NULL. */
const rk_federation_adapter_t *rk_library_adapter(const rk_library_t *library, int64_t id);

/** An active adapter of tenant (its code) with capability (an AdapterCapability value), or
 * NULL. */
const rk_federation_adapter_t *rk_library_adapter_of(const rk_library_t *library, const char *code,
                                                     int capability);

#endif
