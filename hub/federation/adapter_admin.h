/*
 * adapter_admin.h — AdminService's adapter methods, over rk_rpc (gRPC, gRPC-Web, Connect):
 *
 *   RegisterAdapter  validate, insert PENDING, probe (activation.h), store ACTIVE or FAILED
 *                    with the reason, answer with the Adapter — within the call; when the
 *                    caller's deadline comes first, the answer is the Adapter PENDING, 50 ms
 *                    before that deadline, and the outcome is stored after the call
 *   ListAdapters     the tenant's adapters by name, paged
 *   DisableAdapter   DISABLED: out of the registry, kept in the table
 *   EnableAdapter    PENDING, then the same probe as RegisterAdapter
 *   RemoveAdapter    deleted, out of the registry
 *
 * Every method needs the bootstrap admin token in the `authorization` metadata
 * ("Bearer …"); a missing or wrong one is UNAUTHENTICATED. Mutations honour
 * idempotency_key: the same key with the same request answers again with the adapter as it
 * is now (RemoveAdapter: empty), the same key with another request is ALREADY_EXISTS.
 */
#ifndef RK_FEDERATION_ADAPTER_ADMIN_H
#define RK_FEDERATION_ADAPTER_ADMIN_H

#include "federation/federation.h"
#include "net/router.h"

/** Prepares the statements and registers the methods on router. */
void rk_federation_admin_register(rk_federation_t *federation, rk_router_t *router);

/** Ends the activations still going on after their calls (module shutdown; the probes were
 * ended first). */
void rk_federation_admin_free(rk_federation_t *federation);

#endif
