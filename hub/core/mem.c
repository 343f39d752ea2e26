/*
 * mem.c — allocation wrappers that abort on failure, and the request arena.
 *
 * The arena is a chain of blocks; small requests are carved from the current block and large
 * ones get a block of their own, so an arena costs one allocation for a typical request.
 */
#include "core/mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory\",\"bytes\":%zu}\n", size);
    abort();
}

void *rk_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        out_of_memory(size);
    return p;
}

void *rk_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        out_of_memory(count * size);
    return p;
}

void *rk_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        out_of_memory(size);
    return p;
}

char *rk_xstrdup(const char *s)
{
    return rk_xstrndup(s, strlen(s));
}

char *rk_xstrndup(const char *s, size_t len)
{
    char *p = rk_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

#define ARENA_BLOCK_SIZE 4096
#define ARENA_ALIGN _Alignof(max_align_t)

typedef struct arena_block {
    struct arena_block *next;
    size_t used, size;
    _Alignas(max_align_t) unsigned char data[];
} arena_block_t;

typedef struct arena_cleanup {
    struct arena_cleanup *next;
    rk_cleanup_cb cb;
    void *data;
} arena_cleanup_t;

struct rk_arena {
    arena_block_t *blocks;
    arena_cleanup_t *cleanups;
};

rk_arena_t *rk_arena_new(void)
{
    return rk_xcalloc(1, sizeof(rk_arena_t));
}

void rk_arena_free(rk_arena_t *arena)
{
    if (!arena)
        return;
    for (arena_cleanup_t *c = arena->cleanups; c; c = c->next)
        c->cb(c->data);
    arena_block_t *b = arena->blocks;
    while (b) {
        arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    free(arena);
}

void *rk_arena_alloc(rk_arena_t *arena, size_t size)
{
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    arena_block_t *b = arena->blocks;
    if (b && b->size - b->used >= size) {
        void *p = b->data + b->used;
        b->used += size;
        return p;
    }
    if (size > ARENA_BLOCK_SIZE / 4) {
        /* A large piece gets its own block behind the current one, so the current block's
         * free space stays usable. */
        arena_block_t *big = rk_xmalloc(sizeof(*big) + size);
        big->size = big->used = size;
        if (b) {
            big->next = b->next;
            b->next = big;
        } else {
            big->next = NULL;
            arena->blocks = big;
        }
        return big->data;
    }
    arena_block_t *nb = rk_xmalloc(sizeof(*nb) + ARENA_BLOCK_SIZE);
    nb->size = ARENA_BLOCK_SIZE;
    nb->used = size;
    nb->next = b;
    arena->blocks = nb;
    return nb->data;
}

void *rk_arena_calloc(rk_arena_t *arena, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        out_of_memory(SIZE_MAX);
    void *p = rk_arena_alloc(arena, count * size);
    memset(p, 0, count * size);
    return p;
}

char *rk_arena_strndup(rk_arena_t *arena, const char *s, size_t len)
{
    char *p = rk_arena_alloc(arena, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *rk_arena_strdup(rk_arena_t *arena, const char *s)
{
    return rk_arena_strndup(arena, s, strlen(s));
}

char *rk_arena_printf(rk_arena_t *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *p = rk_arena_alloc(arena, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void rk_arena_on_free(rk_arena_t *arena, rk_cleanup_cb cb, void *data)
{
    arena_cleanup_t *c = rk_arena_alloc(arena, sizeof(*c));
    c->cb = cb;
    c->data = data;
    c->next = arena->cleanups;
    arena->cleanups = c;
}
