/*
 * rpc_client.h — calling gRPC methods on other servers (adapters, partner hubs) over HTTP/2.
 *
 * A channel is one endpoint ("http://host:port" for h2c with prior knowledge, or
 * "https://host:port" for TLS with ALPN h2, the server verified by the SHA-256 of its pinned
 * leaf certificate, by CA certificates given in memory, or by the shared CA store of an
 * rk_rpc_client_tls_t, which also holds our client certificate for mTLS). Making a channel
 * reads no file: TLS material is loaded once at start-up (rpc_client_tls.h), so channels can
 * be made on the loop at any time. It keeps a small pool of HTTP/2 connections and
 * multiplexes calls on them: a call goes to the least busy ready connection; a new connection
 * is opened only when all are at the server's stream limit. A connection that fails, times
 * out, or receives GOAWAY is replaced on the next call; calls waiting for a connection that
 * could not be made fail with UNAVAILABLE at once, so callers never hang on a dead owner.
 * Each connection sends a keepalive PING every keepalive_ms; one left unanswered until the
 * next closes the connection, failing its calls, so a silently dead peer is noticed.
 *
 * Every call has a deadline, sent as grpc-timeout and enforced locally: when it passes the
 * stream is reset and the callback gets DEADLINE_EXCEEDED. Pass rk_rpc_deadline_ns() of the
 * call being served to propagate the client's deadline.
 *
 * Callbacks run on the event loop, never from inside rk_rpc_call() itself.
 */
#ifndef RK_NET_RPC_CLIENT_H
#define RK_NET_RPC_CLIENT_H

#include "net/request.h"
#include "net/rpc.h"
#include "net/rpc_client_tls.h"

#include <protobuf-c/protobuf-c.h>

struct event_base;

typedef struct rk_rpc_channel rk_rpc_channel_t;

typedef struct rk_rpc_channel_options {
    const char *target; /* "http://host:port" or "https://host:port" */
    /* https: the shared CA store (used when neither ca_pem nor pinned_sha256 is given) and
     * our identity for mTLS (presented whenever it has one). The channel takes its own
     * references; NULL = none, and then the server needs ca_pem or a pin. */
    const rk_rpc_client_tls_t *tls;
    const char *ca_pem; /* https: PEM CA certificate(s) in memory; wins over tls's store */
    /* https: SHA-256 of the server's leaf certificate (DER). When set, the server is trusted
     * if and only if its leaf matches: no chain, name or date checks (a pinned certificate
     * may be self-signed). NULL = verify the chain and the name. Copied. */
    const unsigned char *pinned_sha256;
    const char *server_name;  /* https: SNI and the name verified; NULL = the target's host */
    int max_connections;      /* pool size; 0 = 4 */
    int connect_timeout_ms;   /* 0 = 3000 */
    size_t max_message_bytes; /* largest response accepted; 0 = 4 MiB */
    int keepalive_ms;         /* PING each connection this often; no answer by the next closes
                                 it (a dead peer or path); 0 = 30000 */
} rk_rpc_channel_options_t;

typedef struct rk_rpc_result {
    rk_rpc_code_t code;
    const char *message;              /* grpc-message, or why the call failed locally */
    const ProtobufCMessage *response; /* decoded when code == RK_RPC_OK; valid in the callback */
    const rk_header_t *trailers;      /* all response headers and trailers, names lower case */
    size_t n_trailers;
    void *keep; /* for rk_rpc_result_keep() */
} rk_rpc_result_t;

typedef void (*rk_rpc_client_cb)(const rk_rpc_result_t *result, void *arg);

/**
 * A channel to target, or NULL with why set (a bad target; for https, ca_pem without a
 * certificate, or no way to verify the server). Reads no file and connects to nothing yet.
 */
rk_rpc_channel_t *rk_rpc_channel_new(struct event_base *base,
                                     const rk_rpc_channel_options_t *options, char *why,
                                     size_t why_len);
/** Fails every call in flight with CANCELLED and closes the connections. */
void rk_rpc_channel_free(rk_rpc_channel_t *channel);
/** Connections open now (for tests and metrics). */
int rk_rpc_channel_connections(const rk_rpc_channel_t *channel);

/**
 * Calls path ("/renkei.v1.AdapterService/Describe") with request, expecting a response of
 * type response_type, within timeout_ns. metadata (names lower case) is sent as headers.
 * cb is called exactly once, later, from the loop.
 */
void rk_rpc_call(rk_rpc_channel_t *channel, const char *path, const ProtobufCMessage *request,
                 const ProtobufCMessageDescriptor *response_type, uint64_t timeout_ns,
                 const rk_header_t *metadata, size_t n_metadata, rk_rpc_client_cb cb, void *arg);

/**
 * From inside the callback, at most once: the arena that holds result->response and the
 * trailers, now the caller's (free it with rk_arena_free()), so the answer is used where it
 * was unpacked instead of being copied before the callback returns.
 */
rk_arena_t *rk_rpc_result_keep(const rk_rpc_result_t *result);

#endif
