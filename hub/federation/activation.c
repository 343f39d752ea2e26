/*
 * activation.c — probing an adapter before it is used (see activation.h).
 *
 * Both calls go out at once on one channel; each answer is copied into the probe's arena and
 * counted. The decision runs from an event of its own once both have answered, never inside
 * the channel's callbacks: deciding may free the channel, which must not happen while the
 * channel is delivering a result.
 */
#include "federation/activation.h"

#include "core/error.h"
#include "core/log.h"
#include "federation/adapter_rules.h"
#include "grpc/health/v1/health.pb-c.h"
#include "net/pb_arena.h"
#include "renkei/v1/adapter.pb-c.h"

#include <event2/event.h>
#include <string.h>

struct rk_federation_probe {
    rk_federation_probe_t *next; /* in federation->probes */
    rk_federation_t *federation;
    rk_arena_t *arena;
    rk_rpc_channel_t *channel;
    struct event *done;
    const char *endpoint;
    const char *tenant_code;
    const char *tenant_slug;
    uint32_t expected;
    uint64_t budget_ns;
    int pending; /* calls not answered yet */
    const char *setup_error;
    rk_rpc_code_t describe_code;
    const char *describe_message;
    Renkei__V1__AdapterDescribeResponse *describe; /* a copy, when describe_code is OK */
    rk_rpc_code_t health_code;
    const char *health_message;
    int serving_status;
    rk_federation_probe_cb cb;
    void *arg;
};

static void unlink_probe(rk_federation_probe_t *probe)
{
    for (rk_federation_probe_t **p = &probe->federation->probes; *p; p = &(*p)->next) {
        if (*p == probe) {
            *p = probe->next;
            return;
        }
    }
}

static void probe_free(rk_federation_probe_t *probe)
{
    rk_rpc_channel_free(probe->channel);
    event_free(probe->done);
    rk_arena_free(probe->arena);
}

static void answered(rk_federation_probe_t *probe)
{
    if (--probe->pending == 0)
        event_active(probe->done, EV_TIMEOUT, 0);
}

/* A call's failure as last_error: "Describe: unavailable: cannot reach …". */
static const char *call_error(rk_federation_probe_t *probe, const char *what, rk_rpc_code_t code,
                              const char *message)
{
    if (code == RK_RPC_DEADLINE_EXCEEDED)
        return rk_arena_printf(probe->arena,
                               "%s: deadline_exceeded: no answer from %s within %llu ms", what,
                               probe->endpoint, (unsigned long long)(probe->budget_ns / 1000000u));
    return rk_arena_printf(probe->arena, "%s: %s: %s", what, rk_rpc_code_name(code),
                           message && *message ? message : "(no message)");
}

static void describe_cb(const rk_rpc_result_t *result, void *arg)
{
    rk_federation_probe_t *probe = arg;
    probe->describe_code = result->code;
    probe->describe_message = rk_arena_strdup(probe->arena, result->message);
    if (result->code == RK_RPC_OK) {
        /* The response lives only during this callback: keep a copy in the probe's arena. */
        size_t len = protobuf_c_message_get_packed_size(result->response);
        uint8_t *bytes = rk_arena_alloc(probe->arena, len ? len : 1);
        protobuf_c_message_pack(result->response, bytes);
        ProtobufCAllocator allocator = rk_pb_arena_allocator(probe->arena);
        probe->describe = (Renkei__V1__AdapterDescribeResponse *)protobuf_c_message_unpack(
            &renkei__v1__adapter_describe_response__descriptor, &allocator, len, bytes);
    }
    answered(probe);
}

static void health_cb(const rk_rpc_result_t *result, void *arg)
{
    rk_federation_probe_t *probe = arg;
    probe->health_code = result->code;
    probe->health_message = rk_arena_strdup(probe->arena, result->message);
    if (result->code == RK_RPC_OK)
        probe->serving_status =
            ((const Grpc__Health__V1__HealthCheckResponse *)result->response)->status;
    answered(probe);
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_federation_probe_t *probe = arg;
    unlink_probe(probe);
    rk_federation_probe_result_t result = {
        .why = "", .adapter_version = "", .contract_version = "", .owner_system = ""};
    const Renkei__V1__AdapterDescribeResponse *d = probe->describe;
    if (d) {
        result.described = 1;
        result.capabilities = rk_federation_capability_bits(d->capabilities, d->n_capabilities);
        result.adapter_version = d->adapter_version;
        result.contract_version = d->contract_version;
        result.owner_system = d->owner_system;
    }
    if (probe->setup_error)
        result.why = probe->setup_error;
    else if (probe->describe_code != RK_RPC_OK)
        result.why = call_error(probe, "Describe", probe->describe_code, probe->describe_message);
    else if (!d)
        result.why = "Describe: the answer cannot be read";
    else if (probe->health_code != RK_RPC_OK)
        result.why = call_error(probe, "health", probe->health_code, probe->health_message);
    else {
        const char *why =
            rk_federation_verdict(probe->arena, d, probe->serving_status, probe->tenant_code,
                                  probe->tenant_slug, probe->expected);
        result.why = why ? why : "";
        result.accepted = why == NULL;
    }
    if (result.accepted) {
        result.channel = probe->channel;
        probe->channel = NULL;
    }
    probe->cb(&result, probe->arg);
    probe_free(probe);
}

void rk_federation_probe_start(rk_federation_t *federation, const rk_federation_adapter_t *adapter,
                               uint32_t expected, uint64_t budget_ns, rk_federation_probe_cb cb,
                               void *arg)
{
    rk_arena_t *arena = rk_arena_new();
    rk_federation_probe_t *probe = rk_arena_calloc(arena, 1, sizeof(*probe));
    probe->arena = arena;
    probe->federation = federation;
    probe->endpoint = rk_arena_strdup(arena, adapter->endpoint);
    probe->tenant_code = rk_arena_strdup(arena, adapter->tenant_code);
    probe->tenant_slug = rk_arena_strdup(arena, adapter->tenant_slug);
    probe->expected = expected;
    probe->budget_ns = budget_ns;
    probe->cb = cb;
    probe->arg = arg;
    probe->done = event_new(federation->app->base, -1, 0, done_cb, probe);
    probe->next = federation->probes;
    federation->probes = probe;

    char why[512] = "";
    int connect_ms = (int)(budget_ns / 1000000u);
    probe->channel = rk_federation_channel_new(federation, adapter, connect_ms > 0 ? connect_ms : 1,
                                               why, sizeof(why));
    if (!probe->channel) {
        probe->setup_error = rk_arena_strdup(arena, why);
        probe->pending = 1;
        answered(probe);
        return;
    }
    probe->pending = 2;
    Renkei__V1__AdapterDescribeRequest describe = RENKEI__V1__ADAPTER_DESCRIBE_REQUEST__INIT;
    rk_rpc_call(probe->channel, "/renkei.v1.AdapterService/Describe", &describe.base,
                &renkei__v1__adapter_describe_response__descriptor, budget_ns, NULL, 0, describe_cb,
                probe);
    Grpc__Health__V1__HealthCheckRequest check = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    rk_rpc_call(probe->channel, "/grpc.health.v1.Health/Check", &check.base,
                &grpc__health__v1__health_check_response__descriptor, budget_ns, NULL, 0, health_cb,
                probe);
}

void rk_federation_probe_free_all(rk_federation_t *federation)
{
    rk_federation_probe_t *probe;
    while ((probe = federation->probes)) {
        federation->probes = probe->next;
        /* Closing the channel fails its calls at once (they only count themselves answered). */
        probe_free(probe);
    }
}
