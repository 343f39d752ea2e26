/*
 * rpc.c — gRPC, gRPC-Web and Connect envelopes around protobuf-c messages (see rpc.h).
 *
 * Request messages are decoded with an allocator that takes from the request's arena, so a
 * handler frees nothing and a decoded message lives exactly as long as its request.
 */
#include "net/rpc.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "net/json_transcode.h"
#include "net/pb_arena.h"
#include "net/server.h"
#include "renkei/v1/common.pb-c.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum {
    PROTO_GRPC,
    PROTO_GRPC_WEB,
    PROTO_CONNECT,        /* unary, application/proto */
    PROTO_CONNECT_STREAM, /* streaming, application/connect+proto */
    PROTO_NONE
} rpc_protocol_t;

struct rk_rpc {
    rk_request_t *req;
    const rk_rpc_method_t *method;
    rpc_protocol_t protocol;
    int json;             /* Connect with the proto3 JSON mapping instead of binary protobuf */
    uint64_t deadline_ns; /* monotonic; 0 when none */
    struct event *deadline_timer;
    int answered; /* the client has its answer (possibly DEADLINE_EXCEEDED) */
};

static rk_rpc_guard_fn guard; /* see rk_rpc_set_guard() */

static const char *const code_names[] = {
    "ok",
    "canceled",
    "unknown",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal",
    "unavailable",
    "data_loss",
    "unauthenticated",
};

static const int code_http[] = {200, 499, 500, 400, 504, 404, 409, 403, 429,
                                400, 409, 400, 501, 500, 503, 500, 401};

const char *rk_rpc_code_name(rk_rpc_code_t code)
{
    return (unsigned)code < sizeof(code_names) / sizeof(code_names[0]) ? code_names[code]
                                                                       : "unknown";
}

int rk_rpc_code_http_status(rk_rpc_code_t code)
{
    return (unsigned)code < sizeof(code_http) / sizeof(code_http[0]) ? code_http[code] : 500;
}

int rk_rpc_parse_timeout(const char *text, uint64_t *ns)
{
    size_t len = strlen(text);
    if (len < 2 || len > 9)
        return RK_EINVAL;
    uint64_t value = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return RK_EINVAL;
        value = value * 10 + (uint64_t)(text[i] - '0');
    }
    uint64_t unit;
    switch (text[len - 1]) {
    case 'H':
        unit = 3600000000000ull;
        break;
    case 'M':
        unit = 60000000000ull;
        break;
    case 'S':
        unit = 1000000000ull;
        break;
    case 'm':
        unit = 1000000ull;
        break;
    case 'u':
        unit = 1000ull;
        break;
    case 'n':
        unit = 1ull;
        break;
    default:
        return RK_EINVAL;
    }
    /* 8 digits of hours overflow nothing below 2^64 ns only up to ~5,000 hours: clamp. */
    *ns = value > UINT64_MAX / unit ? UINT64_MAX : value * unit;
    return RK_OK;
}

char *rk_rpc_encode_message(rk_arena_t *arena, const char *message)
{
    size_t len = strlen(message);
    char *out = rk_arena_alloc(arena, len * 3 + 1);
    char *p = out;
    for (const unsigned char *s = (const unsigned char *)message; *s; s++) {
        if (*s >= 0x20 && *s <= 0x7e && *s != '%') {
            *p++ = (char)*s;
        } else {
            snprintf(p, 4, "%%%02X", *s);
            p += 3;
        }
    }
    *p = '\0';
    return out;
}

rk_request_t *rk_rpc_request(rk_rpc_t *rpc)
{
    return rpc->req;
}

uint64_t rk_rpc_deadline_ns(const rk_rpc_t *rpc)
{
    if (!rpc->deadline_ns)
        return UINT64_MAX;
    uint64_t now = rk_now_ns();
    return now >= rpc->deadline_ns ? 0 : rpc->deadline_ns - now;
}

/* --- protocol detection and framing ------------------------------------------------------ */

/* 1 if the content-type's media type (before any ";" parameters) is type, ignoring case. */
static int media_type_is(const char *content_type, const char *type)
{
    size_t len = strcspn(content_type, "; \t");
    return len == strlen(type) && strncasecmp(content_type, type, len) == 0;
}

static rpc_protocol_t detect_protocol(const rk_request_t *req, int *json)
{
    const char *ct = rk_request_header(req, "content-type");
    *json = 0;
    if (!ct || strcmp(req->method, "POST") != 0)
        return PROTO_NONE;
    if (media_type_is(ct, "application/grpc") || media_type_is(ct, "application/grpc+proto"))
        return PROTO_GRPC;
    if (media_type_is(ct, "application/grpc-web") ||
        media_type_is(ct, "application/grpc-web+proto"))
        return PROTO_GRPC_WEB;
    if (media_type_is(ct, "application/proto"))
        return PROTO_CONNECT;
    if (media_type_is(ct, "application/connect+proto"))
        return PROTO_CONNECT_STREAM;
    *json = 1;
    if (media_type_is(ct, "application/json"))
        return PROTO_CONNECT;
    if (media_type_is(ct, "application/connect+json"))
        return PROTO_CONNECT_STREAM;
    *json = 0;
    return PROTO_NONE;
}

static int is_connect(rpc_protocol_t protocol)
{
    return protocol == PROTO_CONNECT || protocol == PROTO_CONNECT_STREAM;
}

static const char *content_type(const rk_rpc_t *rpc)
{
    switch (rpc->protocol) {
    case PROTO_GRPC:
        return "application/grpc";
    case PROTO_GRPC_WEB:
        return "application/grpc-web+proto";
    case PROTO_CONNECT_STREAM:
        return rpc->json ? "application/connect+json" : "application/connect+proto";
    default:
        return rpc->json ? "application/json" : "application/proto";
    }
}

/*
 * A message in the call's codec: binary protobuf, or proto3 JSON for Connect JSON. Returns a
 * buffer in the request arena, or NULL when the message cannot be written as JSON (text that
 * is not UTF-8, from an adapter).
 */
static uint8_t *encode_message(rk_rpc_t *rpc, const ProtobufCMessage *message, size_t *len)
{
    rk_arena_t *arena = rpc->req->arena;
    if (!rpc->json) {
        *len = protobuf_c_message_get_packed_size(message);
        uint8_t *packed = rk_arena_alloc(arena, *len ? *len : 1);
        protobuf_c_message_pack(message, packed);
        return packed;
    }
    json_t *value = rk_json_from_message(message);
    if (!value)
        return NULL;
    char *text = json_dumps(value, JSON_COMPACT);
    json_decref(value);
    if (!text)
        return NULL;
    *len = strlen(text);
    uint8_t *copy = (uint8_t *)rk_arena_strndup(arena, text, *len);
    free(text);
    return copy;
}

static void add_frame(struct evbuffer *out, uint8_t flags, const void *data, size_t len)
{
    uint8_t prefix[5] = {flags, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                         (uint8_t)len};
    evbuffer_add(out, prefix, sizeof(prefix));
    if (len)
        evbuffer_add(out, data, len);
}

/* Writes status (and the message for the caller) in the protocol's own way. */
/* A typed error beyond code and message: its stable reason, and its detail (a message of the
 * contract) both packed as google.rpc.Status for gRPC and as JSON for Connect. */
typedef struct rpc_error_detail {
    const char *reason;
    const char *status_bin; /* base64 of RpcStatus{code, message, [detail]}, for gRPC */
    const char *type_name;  /* the detail's full protobuf name */
    const char *value_b64;  /* base64 of the packed detail, for Connect */
    json_t *debug;          /* the detail as proto3 JSON, for Connect (borrowed) */
} rpc_error_detail_t;

static json_t *connect_error(rk_rpc_code_t code, const char *message,
                             const rpc_error_detail_t *detail)
{
    json_t *err =
        json_pack("{s:s, s:s}", "code", rk_rpc_code_name(code), "message", message ? message : "");
    if (!err) /* the message quoted client bytes that are not UTF-8 */
        err = json_pack("{s:s, s:s}", "code", rk_rpc_code_name(code), "message",
                        "the request holds text that is not valid UTF-8");
    if (detail && detail->type_name) {
        json_t *item =
            json_pack("{s:s, s:s}", "type", detail->type_name, "value", detail->value_b64);
        if (detail->debug)
            json_object_set(item, "debug", detail->debug);
        json_object_set_new(err, "details", json_pack("[o]", item));
    }
    return err;
}

/* Writes status (and the message for the caller) in the protocol's own way. */
static void set_status_detail(rk_rpc_t *rpc, rk_rpc_code_t code, const char *message,
                              const rpc_error_detail_t *detail)
{
    rk_request_t *req = rpc->req;
    char code_text[8];
    snprintf(code_text, sizeof(code_text), "%d", (int)code);
    const char *encoded =
        code != RK_RPC_OK && message ? rk_rpc_encode_message(req->arena, message) : NULL;
    const char *reason = detail ? detail->reason : NULL;
    const char *status_bin = detail ? detail->status_bin : NULL;
    switch (rpc->protocol) {
    case PROTO_GRPC:
        req->status = 200;
        rk_response_trailer(req, "grpc-status", code_text);
        if (encoded)
            rk_response_trailer(req, "grpc-message", encoded);
        if (reason)
            rk_response_trailer(req, "renkei-error-reason", reason);
        if (status_bin)
            rk_response_trailer(req, "grpc-status-details-bin", status_bin);
        break;
    case PROTO_GRPC_WEB: {
        req->status = 200;
        char *trailer = rk_arena_printf(
            req->arena, "grpc-status:%s\r\n%s%s%s%s%s%s%s%s%s", code_text,
            encoded ? "grpc-message:" : "", encoded ? encoded : "", encoded ? "\r\n" : "",
            reason ? "renkei-error-reason:" : "", reason ? reason : "", reason ? "\r\n" : "",
            status_bin ? "grpc-status-details-bin:" : "", status_bin ? status_bin : "",
            status_bin ? "\r\n" : "");
        add_frame(req->response_body, 0x80, trailer, strlen(trailer));
        break;
    }
    case PROTO_CONNECT_STREAM: {
        req->status = 200;
        json_t *end = code == RK_RPC_OK
                          ? json_object()
                          : json_pack("{s:o}", "error", connect_error(code, message, detail));
        char *text = json_dumps(end, JSON_COMPACT);
        add_frame(req->response_body, 0x02, text, strlen(text));
        free(text);
        json_decref(end);
        break;
    }
    case PROTO_CONNECT:
    case PROTO_NONE: {
        json_t *err = connect_error(code, message, detail);
        char *text = json_dumps(err, JSON_COMPACT);
        rk_response_set(req, rk_rpc_code_http_status(code), "application/json", text, strlen(text));
        if (reason)
            rk_response_header(req, "renkei-error-reason", reason);
        free(text);
        json_decref(err);
        return; /* content-type set */
    }
    }
    rk_response_header(req, "content-type", content_type(rpc));
}

static void set_status(rk_rpc_t *rpc, rk_rpc_code_t code, const char *message)
{
    set_status_detail(rpc, code, message, NULL);
}

static void finish(rk_rpc_t *rpc)
{
    if (rpc->deadline_timer) {
        event_free(rpc->deadline_timer);
        rpc->deadline_timer = NULL;
    }
    rk_request_finish(rpc->req);
}

void rk_rpc_reply(rk_rpc_t *rpc, const ProtobufCMessage *response)
{
    if (rpc->answered) { /* the deadline answered already */
        finish(rpc);
        return;
    }
    rk_request_t *req = rpc->req;
    size_t len;
    uint8_t *encoded = encode_message(rpc, response, &len);
    if (!encoded) {
        rk_rpc_fail(rpc, RK_RPC_INTERNAL, "the answer cannot be written as JSON");
        return;
    }
    if (rpc->protocol == PROTO_CONNECT) {
        rk_response_set(req, 200, content_type(rpc), encoded, len);
    } else {
        add_frame(req->response_body, 0, encoded, len);
        set_status(rpc, RK_RPC_OK, NULL);
    }
    finish(rpc);
}

int rk_rpc_send(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    rk_request_t *req = rpc->req;
    if (rpc->answered || rk_request_client_gone(req))
        return RK_ESHUTDOWN;
    size_t len;
    uint8_t *encoded = encode_message(rpc, message, &len);
    if (!encoded)
        return RK_EINVAL;
    if (!req->streaming) {
        req->status = 200;
        rk_response_header(req, "content-type", content_type(rpc));
        rk_response_stream_begin(req);
    }
    add_frame(req->response_body, 0, encoded, len);
    rk_response_stream_flush(req);
    return RK_OK;
}

void rk_rpc_finish(rk_rpc_t *rpc)
{
    if (!rpc->answered)
        set_status(rpc, RK_RPC_OK, NULL);
    finish(rpc);
}

static char *base64(rk_arena_t *arena, const uint8_t *data, size_t len, int pad)
{
    char *out = rk_arena_alloc(arena, 4 * ((len + 2) / 3) + 1);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    while (!pad && n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    return out;
}

void rk_rpc_fail_detail(rk_rpc_t *rpc, rk_rpc_code_t code, const char *message, const char *reason,
                        const ProtobufCMessage *detail)
{
    if (rpc->answered) {
        finish(rpc);
        return;
    }
    rk_arena_t *arena = rpc->req->arena;
    rpc_error_detail_t ed = {.reason = reason && *reason ? reason : NULL};
    json_t *debug = NULL;
    if (detail) {
        size_t len = protobuf_c_message_get_packed_size(detail);
        uint8_t *bytes = rk_arena_alloc(arena, len + 1);
        protobuf_c_message_pack(detail, bytes);
        ed.type_name = detail->descriptor->name;
        ed.value_b64 = base64(arena, bytes, len, 0);
        debug = rk_json_from_message(detail);
        ed.debug = debug;
        Renkei__V1__PackedDetail packed = RENKEI__V1__PACKED_DETAIL__INIT;
        packed.type_url = rk_arena_printf(arena, "type.googleapis.com/%s", ed.type_name);
        packed.value.data = bytes;
        packed.value.len = len;
        Renkei__V1__PackedDetail *details[1] = {&packed};
        Renkei__V1__RpcStatus status = RENKEI__V1__RPC_STATUS__INIT;
        status.code = (int32_t)code;
        status.message = (char *)(message ? message : "");
        status.n_details = 1;
        status.details = details;
        size_t status_len = protobuf_c_message_get_packed_size(&status.base);
        uint8_t *status_bytes = rk_arena_alloc(arena, status_len + 1);
        protobuf_c_message_pack(&status.base, status_bytes);
        ed.status_bin = base64(arena, status_bytes, status_len, 0);
    }
    set_status_detail(rpc, code, message, &ed);
    json_decref(debug);
    finish(rpc);
}

void rk_rpc_fail(rk_rpc_t *rpc, rk_rpc_code_t code, const char *message)
{
    if (!rpc->answered)
        set_status(rpc, code, message);
    finish(rpc);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rk_rpc_t *rpc = arg;
    set_status(rpc, RK_RPC_DEADLINE_EXCEEDED, "the deadline passed before the answer");
    rpc->answered = 1;
    rk_request_send_early(rpc->req);
}

static int parse_timeout(rpc_protocol_t protocol, const char *text, uint64_t *ns)
{
    if (!is_connect(protocol))
        return rk_rpc_parse_timeout(text, ns);
    size_t len = strlen(text);
    if (len == 0 || len > 10 || strspn(text, "0123456789") != len)
        return RK_EINVAL;
    *ns = strtoull(text, NULL, 10) * 1000000ull;
    return RK_OK;
}

/* Extracts the one message of a gRPC or gRPC-Web body, or explains why not. */
static const char *unframe(const rk_request_t *req, const uint8_t **msg, size_t *msg_len,
                           rk_rpc_code_t *code)
{
    *code = RK_RPC_INVALID_ARGUMENT;
    if (req->body_len < 5)
        return "the request has no length-prefixed message";
    const uint8_t *b = req->body;
    if (b[0] & 0x01) {
        *code = RK_RPC_UNIMPLEMENTED;
        return "compressed messages are not supported (grpc-encoding identity only)";
    }
    if (b[0] != 0)
        return "unknown message flags";
    size_t len = ((size_t)b[1] << 24) | ((size_t)b[2] << 16) | ((size_t)b[3] << 8) | b[4];
    if (len != req->body_len - 5)
        return len > req->body_len - 5 ? "the message is shorter than its length prefix"
                                       : "unary calls take exactly one message";
    *msg = b + 5;
    *msg_len = len;
    return NULL;
}

/* The request message in the call's codec; on failure answers INVALID_ARGUMENT and NULL. */
static ProtobufCMessage *decode_request(rk_rpc_t *rpc, const uint8_t *msg, size_t len)
{
    rk_request_t *req = rpc->req;
    const ProtobufCMessageDescriptor *input = rpc->method->input;
    ProtobufCAllocator allocator = rk_pb_arena_allocator(req->arena);
    if (!rpc->json) {
        ProtobufCMessage *request = protobuf_c_message_unpack(input, &allocator, len, msg);
        if (!request)
            rk_rpc_fail(
                rpc, RK_RPC_INVALID_ARGUMENT,
                rk_arena_printf(req->arena, "the request is not a valid %s message", input->name));
        return request;
    }
    json_error_t jerr;
    json_t *value = json_loadb((const char *)msg, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!value) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    rk_arena_printf(req->arena, "the request is not JSON: line %d column %d: %s",
                                    jerr.line, jerr.column, jerr.text));
        return NULL;
    }
    char err[256] = "";
    ProtobufCMessage *request = rk_json_to_message(input, value, &allocator, err, sizeof(err));
    json_decref(value);
    if (!request)
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, rk_arena_strdup(req->arena, err));
    return request;
}

static const char *too_large_message(rk_request_t *req)
{
    return rk_arena_printf(req->arena, "the request message is larger than %d bytes",
                           req->server->cfg->message_bytes);
}

/* A body over the route's limit (the front end dropped it): RESOURCE_EXHAUSTED in the
 * caller's protocol, which every client understands (HTTP 413 gRPC-Web and Connect clients
 * read as "unknown"). The front end finishes the request. */
static void too_large(rk_request_t *req)
{
    rk_rpc_t *rpc = rk_arena_calloc(req->arena, 1, sizeof(*rpc));
    rpc->req = req;
    rpc->protocol = detect_protocol(req, &rpc->json);
    set_status(rpc, RK_RPC_RESOURCE_EXHAUSTED, too_large_message(req));
}

static void rpc_handler(rk_request_t *req)
{
    const rk_rpc_method_t *method = req->route->data;
    rk_rpc_t *rpc = rk_arena_calloc(req->arena, 1, sizeof(*rpc));
    rpc->req = req;
    rpc->method = method;
    rpc->protocol = detect_protocol(req, &rpc->json);
    if (rpc->protocol == PROTO_NONE) {
        const char *ct = rk_request_header(req, "content-type");
        rk_response_error(req, 415, "unsupported_media_type",
                          rk_arena_printf(req->arena,
                                          "content-type %s: an RPC takes application/grpc, "
                                          "application/grpc-web+proto, application/proto or "
                                          "application/json",
                                          ct ? ct : "(none)"));
        rk_request_finish(req);
        return;
    }
    const char *timeout =
        rk_request_header(req, is_connect(rpc->protocol) ? "connect-timeout-ms" : "grpc-timeout");
    if (timeout) {
        uint64_t ns;
        if (parse_timeout(rpc->protocol, timeout, &ns) != RK_OK) {
            rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                        is_connect(rpc->protocol)
                            ? "connect-timeout-ms: must be 1 to 10 digits of milliseconds"
                            : "grpc-timeout: must be 1 to 8 digits and a unit of H M S m u n");
            return;
        }
        rpc->deadline_ns = rk_now_ns() + ns;
        rpc->deadline_timer = evtimer_new(req->server->base, deadline_cb, rpc);
        struct timeval tv = {(time_t)(ns / 1000000000ull), (long)((ns % 1000000000ull) / 1000)};
        evtimer_add(rpc->deadline_timer, &tv);
    }
    if ((rpc->protocol == PROTO_CONNECT && method->server_streaming) ||
        (rpc->protocol == PROTO_CONNECT_STREAM && !method->server_streaming)) {
        rk_rpc_fail(rpc, RK_RPC_UNIMPLEMENTED,
                    method->server_streaming ? "a streaming method takes application/connect+proto"
                                             : "a unary method takes application/proto");
        return;
    }
    const uint8_t *msg = req->body;
    size_t msg_len = req->body_len;
    /* The route's body limit allows a 5-byte prefix that Connect's unary bodies do not have. */
    if (rpc->protocol == PROTO_CONNECT && msg_len > (size_t)req->server->cfg->message_bytes) {
        rk_rpc_fail(rpc, RK_RPC_RESOURCE_EXHAUSTED, too_large_message(req));
        return;
    }
    if (rpc->protocol != PROTO_CONNECT) {
        rk_rpc_code_t code;
        const char *why = unframe(req, &msg, &msg_len, &code);
        if (why) {
            rk_rpc_fail(rpc, code, why);
            return;
        }
    }
    ProtobufCMessage *request = decode_request(rpc, msg, msg_len);
    if (!request || (guard && !guard(rpc, method->path + 1, request)))
        return;
    method->handler(rpc, request);
}

static void fallback_handler(rk_request_t *req)
{
    rk_rpc_t *rpc = rk_arena_calloc(req->arena, 1, sizeof(*rpc));
    rpc->req = req;
    rpc->protocol = detect_protocol(req, &rpc->json);
    if (rpc->protocol == PROTO_NONE) {
        rk_response_error(req, 404, "not_found", "no such endpoint");
        rk_request_finish(req);
        return;
    }
    rk_rpc_fail(rpc, RK_RPC_UNIMPLEMENTED,
                rk_arena_printf(req->arena, "method %s is not implemented here", req->path));
}

void rk_rpc_register(rk_router_t *router, const rk_rpc_method_t *method)
{
    rk_router_add_data(router, "POST", method->path, rpc_handler, method, method->path + 1);
    rk_router_limit_body(router, RK_ROUTE_BODY_MESSAGE, too_large);
}

void rk_rpc_set_guard(rk_rpc_guard_fn fn)
{
    guard = fn;
}

void rk_rpc_register_fallback(rk_router_t *router)
{
    rk_router_add(router, "POST", "/{service}/{method}", fallback_handler, "rpc_unimplemented");
}
