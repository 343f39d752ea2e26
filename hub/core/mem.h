/*
 * mem.h — allocation that never returns NULL, and a per-request arena.
 *
 * Allocation failure is not a condition callers can do anything useful about in a server, so
 * every allocation goes through these wrappers, which abort with a message on failure:
 * callers never test for NULL.
 *
 * The arena hands out memory that lives until rk_arena_free(); each request or stream owns
 * one. Resources that are not arena memory (PGresult, cjose objects, SSL) are registered as
 * cleanups and released, last registered first, when the arena is freed.
 */
#ifndef RK_CORE_MEM_H
#define RK_CORE_MEM_H

#include <stddef.h>

void *rk_xmalloc(size_t size);
void *rk_xcalloc(size_t count, size_t size);
void *rk_xrealloc(void *ptr, size_t size);
/** Copy of a NUL-terminated string; the caller frees it with free(). */
char *rk_xstrdup(const char *s);
/** Copy of len bytes plus a terminating NUL; the caller frees it with free(). */
char *rk_xstrndup(const char *s, size_t len);

typedef struct rk_arena rk_arena_t;
typedef void (*rk_cleanup_cb)(void *data);

/** A new empty arena; free it with rk_arena_free(). */
rk_arena_t *rk_arena_new(void);
/** Runs the cleanups (last first) and frees every block. NULL is allowed. */
void rk_arena_free(rk_arena_t *arena);
/** size bytes, aligned for any type, valid until the arena is freed. */
void *rk_arena_alloc(rk_arena_t *arena, size_t size);
/** Zeroed memory. */
void *rk_arena_calloc(rk_arena_t *arena, size_t count, size_t size);
/** Copies of strings into the arena. */
char *rk_arena_strdup(rk_arena_t *arena, const char *s);
char *rk_arena_strndup(rk_arena_t *arena, const char *s, size_t len);
/** printf into the arena. */
char *rk_arena_printf(rk_arena_t *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Calls cb(data) when the arena is freed. */
void rk_arena_on_free(rk_arena_t *arena, rk_cleanup_cb cb, void *data);

#endif
