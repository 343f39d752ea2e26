/*
 * sim_idem.c — an open-addressing hash table of first answers (see sim_idem.h).
 */
#include "sim_idem.h"

#include "core/mem.h"
#include "sim_util.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    char *id; /* "method\nkey"; NULL = empty */
    uint64_t hash;
    uint8_t *request;
    size_t request_len;
    sim_idem_entry_t entry;
} slot_t;

struct sim_idem {
    slot_t *slots;
    size_t cap; /* a power of two */
    size_t n;
};

sim_idem_t *sim_idem_new(void)
{
    sim_idem_t *t = rk_xcalloc(1, sizeof(*t));
    t->cap = 256;
    t->slots = rk_xcalloc(t->cap, sizeof(*t->slots));
    return t;
}

void sim_idem_free(sim_idem_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->cap; i++) {
        slot_t *s = &t->slots[i];
        if (!s->id)
            continue;
        free(s->id);
        free(s->request);
        free(s->entry.reason);
        free(s->entry.message);
        free(s->entry.response);
    }
    free(t->slots);
    free(t);
}

static char *make_id(const char *method, const char *key)
{
    size_t m = strlen(method), k = strlen(key);
    char *id = rk_xmalloc(m + k + 2);
    memcpy(id, method, m);
    id[m] = '\n';
    memcpy(id + m + 1, key, k + 1);
    return id;
}

/* The slot holding id, or the empty slot where it would go. */
static slot_t *find(const sim_idem_t *t, const char *id, uint64_t hash)
{
    size_t mask = t->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        slot_t *s = &t->slots[i];
        if (!s->id || (s->hash == hash && strcmp(s->id, id) == 0))
            return s;
    }
}

sim_idem_outcome_t sim_idem_lookup(const sim_idem_t *t, const char *method, const char *key,
                                   const uint8_t *request, size_t request_len,
                                   const sim_idem_entry_t **entry)
{
    char *id = make_id(method, key);
    slot_t *s = find(t, id, sim_hash(id));
    free(id);
    *entry = NULL;
    if (!s->id)
        return SIM_IDEM_NEW;
    if (s->request_len != request_len ||
        (request_len && memcmp(s->request, request, request_len) != 0))
        return SIM_IDEM_CONFLICT;
    *entry = &s->entry;
    return SIM_IDEM_REPLAY;
}

static void grow(sim_idem_t *t)
{
    slot_t *old = t->slots;
    size_t old_cap = t->cap;
    t->cap *= 2;
    t->slots = rk_xcalloc(t->cap, sizeof(*t->slots));
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].id)
            *find(t, old[i].id, old[i].hash) = old[i];
    }
    free(old);
}

static void *copy(const void *data, size_t len)
{
    if (!len)
        return NULL;
    void *out = rk_xmalloc(len);
    memcpy(out, data, len);
    return out;
}

void sim_idem_store(sim_idem_t *t, const char *method, const char *key, const uint8_t *request,
                    size_t request_len, int code, const char *reason, const char *message,
                    const uint8_t *response, size_t response_len)
{
    if ((t->n + 1) * 4 > t->cap * 3)
        grow(t);
    char *id = make_id(method, key);
    uint64_t hash = sim_hash(id);
    slot_t *s = find(t, id, hash);
    if (s->id) {
        free(id);
        return;
    }
    s->id = id;
    s->hash = hash;
    s->request = copy(request, request_len);
    s->request_len = request_len;
    s->entry.code = code;
    s->entry.reason = reason ? rk_xstrdup(reason) : NULL;
    s->entry.message = message ? rk_xstrdup(message) : NULL;
    s->entry.response = copy(response, response_len);
    s->entry.response_len = response_len;
    t->n++;
}

size_t sim_idem_count(const sim_idem_t *t)
{
    return t->n;
}

int sim_idem_key_ok(const char *key)
{
    size_t len = strlen(key);
    return len >= 1 && len <= 128 &&
           strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == len;
}
