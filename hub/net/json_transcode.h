/*
 * json_transcode.h — the proto3 JSON mapping for protobuf-c messages, driven by descriptors.
 *
 * One transcoder serves every message of the contract: it walks a message's
 * ProtobufCMessageDescriptor, so a new .proto needs no code here. The Connect protocol's JSON
 * bodies (net/rpc.c) and the "debug" copy of error details are made and read with it.
 *
 * The mapping is https://protobuf.dev/programming-guides/json/ without the well-known types
 * (the contract has none): lowerCamelCase names out, both names in; 64-bit integers as decimal
 * strings; float/double as numbers or "NaN"/"Infinity"/"-Infinity"; bytes as standard base64
 * out, standard or URL-safe, padded or not, in; enums by value name (the number when the value
 * has no name), name or number in; repeated fields as arrays; map fields (protobuf-c sees them
 * as repeated nested *Entry messages) as objects; only the set member of a oneof; fields with
 * presence (oneof members, proto2 `optional`) whenever present, other scalars only when not
 * zero/empty. JSON null for a field means its default.
 *
 * jansson holds what crosses this interface. Load request bodies with json_loadb(...,
 * JSON_REJECT_DUPLICATES, ...) and without JSON_DECODE_INT_AS_REAL: jansson then refuses
 * invalid UTF-8 and U+0000 in strings, and keeps integers exact (a uint64 above 2^63 - 1 must
 * arrive as a string: jansson refuses such a bare number).
 */
#ifndef RK_NET_JSON_TRANSCODE_H
#define RK_NET_JSON_TRANSCODE_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/** Messages may nest this many levels (the top-level message is level 1), in both directions. */
#define RK_JSON_MAX_DEPTH 64

/**
 * The proto3 JSON of msg, fields in field-number order: a new reference, the caller
 * json_decref()s it. NULL when msg cannot be represented: a string field holding invalid UTF-8
 * (protobuf-c's unpack does not check it), messages nested deeper than RK_JSON_MAX_DEPTH, or a
 * bytes field longer than 1.5 GiB.
 */
json_t *rk_json_from_message(const ProtobufCMessage *msg);

/**
 * Parses proto3 JSON into a new message of type desc. Every allocation, the message itself
 * included, goes through allocator (NULL: malloc, aborting when it fails); the allocator must
 * not return NULL (an rk_arena allocator never does). On success the message belongs to the
 * caller, who frees it with protobuf_c_message_free_unpacked(msg, allocator) — or just frees
 * the arena. On error NULL is returned and nothing is left allocated: the partial message is
 * freed with protobuf_c_message_free_unpacked() through the same allocator.
 *
 * err (when not NULL and err_len > 0) receives the JSON path of the offending value and the
 * rule it breaks, truncated to err_len, e.g. "$.timeRange.start: must be a string",
 * "$.kinds[2]: unknown value \"POOL\" of renkei.v1.FacilityKind", "$.colour: unknown field".
 * Paths name object keys as the client spelled them.
 */
ProtobufCMessage *rk_json_to_message(const ProtobufCMessageDescriptor *desc, const json_t *json,
                                     ProtobufCAllocator *allocator, char *err, size_t err_len);

#endif
