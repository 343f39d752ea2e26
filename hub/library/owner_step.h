/*
 * owner_step.h — what the holds' and the loans' broker steps at the owner share (hold_owner.h,
 * loan_owner.h): a malloc'd step that reads its row, calls the owner, stores the outcome and
 * reports once to whoever started it — unless that caller's arena ("life") is freed first; the
 * step itself always finishes, and counts as the module's busy work while it runs.
 *
 * A unit embeds rk_library_step_t as the first member of its own step, fills in wanted and
 * call_owner, and starts it with rk_library_step_start(); call_owner's answer callback stores
 * with rk_library_step_store() or ends with rk_library_step_end().
 */
#ifndef RK_LIBRARY_OWNER_STEP_H
#define RK_LIBRARY_OWNER_STEP_H

#include "library/library.h"
#include "store/pool.h"

/**
 * The owner step ended: RK_OK (the owner answered; its outcome is stored, refusal names the
 * LibraryError when it refused, else NULL), RK_EUNAVAILABLE (not reached: the row is as it
 * was) or RK_EIO (the database failed).
 */
typedef void (*rk_library_step_cb)(int rc, const char *refusal, void *arg);

typedef struct rk_library_step rk_library_step_t;

struct rk_library_step {
    rk_library_t *lib;
    char id[40];
    const char *id_field; /* the logs' name of id: "hold_id", "loan_id" */
    uint64_t timeout_ns;
    rk_library_step_cb done;
    void *arg;
    const char *refusal; /* a LibraryError of the module's table (static) */
    char subject[44]; /* the resident's pairwise id towards the library, once call_owner made it */
    PGresult *row;    /* the row read, while the owner is asked */
    int refs;         /* the step itself, and life's cleanup while life lasts */
    /* whether row 0 of r needs the owner (else the step ends at once with RK_OK) */
    int (*wanted)(rk_library_step_t *s, const PGresult *r);
    /* asks the owner for s->row */
    void (*call_owner)(rk_library_step_t *s);
};

/**
 * Starts step s (malloc'd, zeroed, rk_library_step_t first; freed by the step): reads row id with
 * statement get (one parameter, the id), then, when wanted, call_owner with the row in s->row.
 */
void rk_library_step_start(rk_library_step_t *s, rk_library_t *library, const char *get,
                           const char *id, uint64_t timeout_ns, rk_arena_t *life,
                           rk_library_step_cb done, void *arg);

/** Ends the step with rc: done is told (with s->refusal), the step freed. */
void rk_library_step_end(rk_library_step_t *s, int rc);

/** Stores the owner's outcome with statement stmt, then ends the step (RK_OK, or RK_EIO). */
void rk_library_step_store(rk_library_step_t *s, const char *stmt, int n,
                           const char *const *values);

/**
 * The owner did not answer OK to method: logs it and sets s->refusal to its LibraryError
 * (not_found: the refusal an ERROR_REASON_NOT_FOUND stands for, or NULL). Without one the
 * outcome is not known: the step ends RK_EUNAVAILABLE and NULL is returned.
 */
const char *rk_library_step_refused(rk_library_step_t *s, const char *method,
                                    const rk_rpc_result_t *result, const char *not_found);

#endif
