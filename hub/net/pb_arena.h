/*
 * pb_arena.h — protobuf-c allocations in an rk_arena: messages unpacked or parsed from JSON
 * through this allocator live exactly as long as the arena (a request's, a call's) and are
 * never freed one by one.
 */
#ifndef RK_NET_PB_ARENA_H
#define RK_NET_PB_ARENA_H

#include "core/mem.h"

#include <protobuf-c/protobuf-c.h>

/* An allocator whose allocations come from arena (never NULL: the arena aborts on no memory). */
ProtobufCAllocator rk_pb_arena_allocator(rk_arena_t *arena);

#endif
