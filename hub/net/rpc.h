/*
 * rpc.h — RPC methods, written once and served in three protocols.
 *
 * A method is a path ("/grpc.health.v1.Health/Check"), its protobuf-c request and response
 * descriptors and a handler. The same handler answers:
 *   - gRPC (application/grpc[+proto]) over HTTP/2: 5-byte length-prefixed messages, status in
 *     the grpc-status / grpc-message trailers (trailers-only when there is no message);
 *   - gRPC-Web (application/grpc-web[+proto]) over HTTP/1.1 or HTTP/2: the same framing, the
 *     trailers as a final frame in the body, for browsers;
 *   - Connect with application/proto or application/json (unary: the bare message, errors as
 *     {"code","message"} JSON with the matching HTTP status) or application/connect+proto or
 *     +json (server streaming: enveloped messages and an end-of-stream envelope), over either
 *     HTTP version. JSON follows the proto3 JSON mapping (json_transcode.h), so curl and a
 *     browser's fetch() can call any method.
 * The handler receives the decoded request (allocated in the request's arena) and answers
 * exactly once with rk_rpc_reply() or rk_rpc_fail(), now or from a later callback.
 *
 * grpc-timeout (and Connect's connect-timeout-ms) is honoured: when it passes first, the
 * client gets DEADLINE_EXCEEDED at once and the handler's later answer is dropped.
 * rk_rpc_deadline_ns() tells handlers what is left, to pass on to calls they make.
 */
#ifndef RK_NET_RPC_H
#define RK_NET_RPC_H

#include "net/router.h"

#include <protobuf-c/protobuf-c.h>

/** gRPC status codes (the numbers are the wire values). */
typedef enum {
    RK_RPC_OK = 0,
    RK_RPC_CANCELLED = 1,
    RK_RPC_UNKNOWN = 2,
    RK_RPC_INVALID_ARGUMENT = 3,
    RK_RPC_DEADLINE_EXCEEDED = 4,
    RK_RPC_NOT_FOUND = 5,
    RK_RPC_ALREADY_EXISTS = 6,
    RK_RPC_PERMISSION_DENIED = 7,
    RK_RPC_RESOURCE_EXHAUSTED = 8,
    RK_RPC_FAILED_PRECONDITION = 9,
    RK_RPC_ABORTED = 10,
    RK_RPC_OUT_OF_RANGE = 11,
    RK_RPC_UNIMPLEMENTED = 12,
    RK_RPC_INTERNAL = 13,
    RK_RPC_UNAVAILABLE = 14,
    RK_RPC_DATA_LOSS = 15,
    RK_RPC_UNAUTHENTICATED = 16,
} rk_rpc_code_t;

typedef struct rk_rpc rk_rpc_t;
typedef void (*rk_rpc_unary_fn)(rk_rpc_t *rpc, const ProtobufCMessage *request);

typedef struct rk_rpc_method {
    const char *path; /* "/package.Service/Method" */
    const ProtobufCMessageDescriptor *input;
    const ProtobufCMessageDescriptor *output;
    rk_rpc_unary_fn handler;
    int server_streaming; /* the handler answers with rk_rpc_send()… then rk_rpc_finish() */
} rk_rpc_method_t;

/**
 * Serves method (which must outlive the router) in every protocol above; a request carries
 * one message of at most limits.message_bytes.
 */
void rk_rpc_register(rk_router_t *router, const rk_rpc_method_t *method);
/**
 * Answers RPC-shaped requests to unknown methods with UNIMPLEMENTED in their protocol. Add
 * after every method; other requests to unknown paths still get 404.
 */
void rk_rpc_register_fallback(rk_router_t *router);

/**
 * A check every call passes after its request is decoded and before its handler runs (the
 * exchange module's partner grants): 1 to go on, or 0 after answering the call itself with
 * rk_rpc_fail…(). method is the path without its leading '/' ("renkei.v1.X/Y").
 */
typedef int (*rk_rpc_guard_fn)(rk_rpc_t *rpc, const char *method, const ProtobufCMessage *request);

/**
 * Installs the guard of every RPC served by this process (NULL: none): a hub process serves
 * one router. Set before serving.
 */
void rk_rpc_set_guard(rk_rpc_guard_fn guard);

/** The HTTP request behind the call: headers (metadata), arena, peer, server. */
rk_request_t *rk_rpc_request(rk_rpc_t *rpc);
/** Nanoseconds left before the client's deadline; UINT64_MAX when it set none. */
uint64_t rk_rpc_deadline_ns(const rk_rpc_t *rpc);
/** Sends the response message and status OK; finishes the call. */
void rk_rpc_reply(rk_rpc_t *rpc, const ProtobufCMessage *response);
/** Sends an error status with a message for the caller; finishes the call (or stream). */
void rk_rpc_fail(rk_rpc_t *rpc, rk_rpc_code_t code, const char *message);
/**
 * As rk_rpc_fail(), with a typed error: reason (a stable name such as
 * "BOOKING_ERROR_SLOT_FULL", sent as the renkei-error-reason trailer or header) and detail (a
 * message of the contract, usually renkei.v1.ErrorDetail, or NULL): for gRPC and gRPC-Web
 * packed into grpc-status-details-bin as google.rpc.Status, for Connect in its "details"
 * array with the detail's JSON as "debug". Stock clients' status-detail helpers read both.
 */
void rk_rpc_fail_detail(rk_rpc_t *rpc, rk_rpc_code_t code, const char *message, const char *reason,
                        const ProtobufCMessage *detail);
/**
 * Server streaming: sends one message now. RK_OK, or RK_ESHUTDOWN when the client is gone or
 * the deadline passed — stop producing and end with rk_rpc_finish() or rk_rpc_fail().
 */
int rk_rpc_send(rk_rpc_t *rpc, const ProtobufCMessage *message);
/** Server streaming: ends the stream with status OK. */
void rk_rpc_finish(rk_rpc_t *rpc);

/** Connect's name for a code ("not_found"); the HTTP status Connect maps it to. */
const char *rk_rpc_code_name(rk_rpc_code_t code);
int rk_rpc_code_http_status(rk_rpc_code_t code);
/**
 * Parses a grpc-timeout value ("100m", "5S", at most 8 digits and a unit of H M S m u n) into
 * nanoseconds. RK_OK or RK_EINVAL.
 */
int rk_rpc_parse_timeout(const char *text, uint64_t *ns);
/** Percent-encodes a grpc-message value into the arena (RFC 3986 unreserved kept as is). */
char *rk_rpc_encode_message(rk_arena_t *arena, const char *message);

#endif
