/*
 * command.h — what every renkeictl command that talks to a hub shares: where the hub is and
 * how to print, calling the admin HTTP API (/admin/v1/…), and reporting problems the same way.
 *
 * The rules every command follows, so that scripts can rely on them: exit status 0 done,
 * 1 the hub refused or could not be reached, 2 usage; a problem always goes to stderr
 * ("renkeictl: …", with the HTTP status when the hub answered); with --json, stdout carries
 * exactly one JSON object — the hub's answer, or on failure an {"error","message"} object
 * (plus "status" when the hub answered).
 *
 * renkeictl.c fills the context from its options and environment; identity_commands.c and
 * renkeictl.c's own commands use the rest.
 */
#ifndef RK_CTL_COMMAND_H
#define RK_CTL_COMMAND_H

#include <jansson.h>

typedef struct rk_ctl {
    const char *hub;   /* base URL, without a trailing '/' */
    int json;          /* --json */
    const char *token; /* the admin bearer token (RENKEI_ADMIN_TOKEN); NULL when unset */
} rk_ctl_t;

/** Prints value on stdout as one compact JSON line. */
void rk_ctl_print_json(const json_t *value);

/**
 * Reports a failure that is not a usage error: message on stderr and, with --json, the object
 * {"error": code, "message": message} on stdout. Returns 1, the exit status.
 */
int rk_ctl_fail(const rk_ctl_t *ctl, const char *code, const char *message);

/**
 * Reports a usage error: "renkeictl: " and the formatted problem (which names the option), then
 * usage, on stderr. Returns 2, the exit status.
 */
int rk_ctl_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Calls the hub's admin API: method ("GET", "POST") on path (from "/admin/v1/"), with request
 * as the JSON body when not NULL (borrowed; its serialised copy is wiped after sending, as it
 * may carry a password). Returns the answer — a JSON object, owned by the caller — when the
 * hub answered 2xx; otherwise reports the failure (no token, no answer, the hub's status and
 * message, an answer that is not a JSON object), sets *rc to the exit status and returns NULL.
 */
json_t *rk_ctl_admin_call(const rk_ctl_t *ctl, const char *method, const char *path,
                          const json_t *request, int *rc);

/**
 * Calls the RPC service/method ("renkei.v1.ExchangeService", "VerifyLogChain") in the Connect
 * protocol with request as proto3 JSON (a reference is taken) and the admin token. Returns the
 * answer, or NULL after reporting the failure (a Connect error: printed with its code and
 * message; with --json also on stdout) with *rc set.
 */
json_t *rk_ctl_rpc(const rk_ctl_t *ctl, const char *service, const char *method, json_t *request,
                   int *rc);

#endif
