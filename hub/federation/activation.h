/*
 * activation.h — the probe that decides whether a registered adapter may be used.
 *
 * A probe opens a fresh channel to the adapter (its endpoint, its registered trust, the hub's
 * client certificate) and calls AdapterService/Describe and grpc.health.v1.Health/Check at
 * once, both within one budget. The adapter is accepted when both answer, the health status
 * is SERVING, Describe names the tenant (code or slug), speaks renkei.v1 and reports every
 * capability expected at registration (adapter_rules.c decides). Otherwise the result says
 * exactly why, as the adapter's last_error: "Describe: unavailable: cannot reach …",
 * "municipality: the adapter serves 132217 (kiyose), not this tenant 132080 (chofu)".
 *
 * The accepted channel, already connected, is handed to the caller for the registry, so the
 * first real call does not pay for the TLS handshake again.
 *
 * Called by the admin handlers (RegisterAdapter, EnableAdapter).
 */
#ifndef RK_FEDERATION_ACTIVATION_H
#define RK_FEDERATION_ACTIVATION_H

#include "federation/federation.h"

typedef struct rk_federation_probe rk_federation_probe_t;

typedef struct rk_federation_probe_result {
    int accepted;          /* 1: activate */
    const char *why;       /* when not accepted: the reason, naming the rule; "" otherwise */
    int described;         /* Describe answered: the fields below are what it said */
    uint32_t capabilities; /* bit N = AdapterCapability N */
    const char *adapter_version;
    const char *contract_version;
    const char *owner_system;
    /* When accepted: the channel, which the callback takes (into the registry, or frees). */
    rk_rpc_channel_t *channel;
} rk_federation_probe_result_t;

/**
 * Called once from the loop with the outcome; the result's strings live until it returns.
 * Not called when the module is freed first (federation->closing).
 */
typedef void (*rk_federation_probe_cb)(const rk_federation_probe_result_t *result, void *arg);

/**
 * Probes adapter (its endpoint and trust, tenant_code, tenant_slug; copied) for the
 * capabilities in expected within budget_ns. cb is called later, exactly once, unless the
 * module is freed first.
 */
void rk_federation_probe_start(rk_federation_t *federation, const rk_federation_adapter_t *adapter,
                               uint32_t expected, uint64_t budget_ns, rk_federation_probe_cb cb,
                               void *arg);

/** Ends every probe in flight without calling back (module shutdown). */
void rk_federation_probe_free_all(rk_federation_t *federation);

#endif
