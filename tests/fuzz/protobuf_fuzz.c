/*
 * protobuf_fuzz.c — libFuzzer target for the protobuf decoding path of every message the
 * contract's services take or return: hostile bytes decoded by protobuf-c (as rpc.c and
 * rpc_client.c decode what arrives), then, when they decode, written again and turned into
 * proto3 JSON (as Connect JSON answers them). Found by it, left to protobuf-c: a message with
 * an unknown field numbered 0 is accepted and written back as bytes protobuf-c itself refuses.
 *
 * The first two bytes pick a service and a method of the contract (and whether its request or
 * its response type); the rest is the message.
 */
#include "grpc/health/v1/health.pb-c.h"
#include "net/json_transcode.h"
#include "renkei/v1/adapter.pb-c.h"
#include "renkei/v1/admin.pb-c.h"
#include "renkei/v1/exchange.pb-c.h"
#include "renkei/v1/facility.pb-c.h"
#include "renkei/v1/library.pb-c.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

static const ProtobufCServiceDescriptor *const services[] = {
    &renkei__v1__adapter_service__descriptor,  &renkei__v1__admin_service__descriptor,
    &renkei__v1__exchange_service__descriptor, &renkei__v1__facility_service__descriptor,
    &renkei__v1__library_service__descriptor,  &grpc__health__v1__health__descriptor,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const ProtobufCServiceDescriptor *service =
        services[data[0] % (sizeof(services) / sizeof(services[0]))];
    const ProtobufCMethodDescriptor *method =
        &service->methods[(data[1] >> 1) % service->n_methods];
    const ProtobufCMessageDescriptor *type = data[1] & 1 ? method->output : method->input;
    ProtobufCMessage *message = protobuf_c_message_unpack(type, NULL, size - 2, data + 2);
    if (!message)
        return 0;
    size_t len = protobuf_c_message_get_packed_size(message);
    uint8_t *packed = malloc(len ? len : 1);
    protobuf_c_message_pack(message, packed);
    json_t *json = rk_json_from_message(message); /* NULL is allowed: text that is not UTF-8 */
    json_decref(json);
    free(packed);
    protobuf_c_message_free_unpacked(message, NULL);
    return 0;
}
