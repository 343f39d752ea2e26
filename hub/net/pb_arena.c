/*
 * pb_arena.c — the protobuf-c allocator over an rk_arena (see pb_arena.h).
 */
#include "net/pb_arena.h"

static void *arena_alloc(void *arena, size_t size)
{
    return rk_arena_alloc(arena, size);
}

static void arena_free(void *arena, void *pointer)
{
    (void)arena;
    (void)pointer; /* freed with the arena */
}

ProtobufCAllocator rk_pb_arena_allocator(rk_arena_t *arena)
{
    return (ProtobufCAllocator){arena_alloc, arena_free, arena};
}
