/*
 * json_transcode_fuzz.c — libFuzzer target for the proto3 JSON transcoder
 * (net/json_transcode.c), which reads every Connect JSON body a client sends.
 *
 * The first byte of an input picks a message type of the contract, the rest is JSON text.
 * Whatever the text, parsing must end in a message or an error, never a crash or leak; the
 * first half of the types parse with malloc, the second half with an arena, as the hub does.
 * A message that parses must also survive the round trip: its JSON parses again to the same
 * packed bytes.
 */
#include "core/mem.h"
#include "net/json_transcode.h"

#include "grpc/health/v1/health.pb-c.h"
#include "renkei/v1/admin.pb-c.h"
#include "renkei/v1/common.pb-c.h"
#include "renkei/v1/exchange.pb-c.h"
#include "renkei/v1/facility.pb-c.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const ProtobufCMessageDescriptor *const types[] = {
    &renkei__v1__search_facilities_request__descriptor,
    &renkei__v1__booking__descriptor,
    &renkei__v1__error_detail__descriptor,
    &renkei__v1__packed_detail__descriptor,
    &renkei__v1__feed_item__descriptor,
    &renkei__v1__register_adapter_request__descriptor,
    &renkei__v1__get_availability_response__descriptor,
    &grpc__health__v1__health_check_response__descriptor,
};
#define N_TYPES (sizeof(types) / sizeof(types[0]))

static void *arena_alloc_cb(void *arena, size_t size)
{
    return rk_arena_alloc(arena, size);
}

static void arena_free_cb(void *arena, void *pointer)
{
    (void)arena;
    (void)pointer;
}

/* Packed bytes of msg; the caller frees them. */
static uint8_t *packed(const ProtobufCMessage *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *bytes = rk_xmalloc(*len);
    protobuf_c_message_pack(msg, bytes);
    return bytes;
}

static void round_trip(const ProtobufCMessage *msg)
{
    json_t *json = rk_json_from_message(msg);
    if (json == NULL)
        abort(); /* a message parsed from JSON is always representable */
    char *text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    json = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    char err[256];
    ProtobufCMessage *again = rk_json_to_message(msg->descriptor, json, NULL, err, sizeof(err));
    json_decref(json);
    if (again == NULL)
        abort();
    size_t len, again_len;
    uint8_t *bytes = packed(msg, &len), *again_bytes = packed(again, &again_len);
    if (len != again_len || memcmp(bytes, again_bytes, len) != 0)
        abort();
    free(bytes);
    free(again_bytes);
    protobuf_c_message_free_unpacked(again, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t pick = data[0] % (2 * N_TYPES);
    json_t *json = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
    if (json == NULL)
        return 0;
    char err[256];
    if (pick < N_TYPES) {
        ProtobufCMessage *msg = rk_json_to_message(types[pick], json, NULL, err, sizeof(err));
        if (msg != NULL) {
            round_trip(msg);
            protobuf_c_message_free_unpacked(msg, NULL);
        }
    } else {
        rk_arena_t *arena = rk_arena_new();
        ProtobufCAllocator allocator = {arena_alloc_cb, arena_free_cb, arena};
        ProtobufCMessage *msg =
            rk_json_to_message(types[pick - N_TYPES], json, &allocator, err, sizeof(err));
        if (msg != NULL)
            round_trip(msg);
        rk_arena_free(arena);
    }
    json_decref(json);
    return 0;
}
