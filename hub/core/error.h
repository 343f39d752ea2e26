/*
 * error.h — the return codes every Renkei unit speaks.
 *
 * Functions that can fail return int: RK_OK (0) on success, RK_AGAIN when the work is pending
 * and a callback will deliver the outcome, or a negative RK_E* code. Detail for a person
 * travels beside the code (a `const char **why` or an error struct), never only in a log line.
 */
#ifndef RK_CORE_ERROR_H
#define RK_CORE_ERROR_H

enum {
    RK_OK = 0,
    RK_AGAIN = 1,         /* pending: the caller will be called back */
    RK_EINVAL = -1,       /* bad input; the detail names the field and the rule */
    RK_ENOTFOUND = -2,    /* no such object */
    RK_EUNAVAILABLE = -3, /* a dependency (PostgreSQL, an adapter) cannot be reached now */
    RK_ETIMEOUT = -4,     /* a deadline passed */
    RK_ETOOBIG = -5,      /* a bound was exceeded */
    RK_EIO = -6,          /* an operating-system or library call failed */
    RK_ECONFLICT = -7,    /* the object exists or changed under us */
    RK_EDENIED = -8,      /* not authenticated or not allowed */
    RK_ESHUTDOWN = -9,    /* the process is draining */
};

/** A short stable name for an RK_* code ("invalid", "unavailable", …); never NULL. */
const char *rk_error_name(int code);

#endif
