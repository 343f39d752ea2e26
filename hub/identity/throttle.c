/*
 * throttle.c — failed-login counters in a bounded hash table with an LRU list (see
 * throttle.h for the rules).
 *
 * A counter is known by the SHA-256 of (random table key, kind, account, peer or device),
 * lengths included so that no two inputs share an encoding; the digest alone is kept, so the
 * table holds no usernames or addresses. Buckets are chained; every entry is also on one
 * doubly linked list, newest touched first, so both finding the entry to forget and moving a
 * touched entry to the front are O(1). Entries are allocated as counters appear, up to
 * max_entries, and an entry past its decay or reset by a success is freed.
 */
#include "identity/throttle.h"

#include "core/mem.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_LEN 32
#define BUCKETS_MAX ((size_t)1 << 24)

typedef enum { KIND_ACCOUNT = 1, KIND_PEER, KIND_DEVICE } kind_t;

typedef struct rule {
    uint32_t free;
    uint64_t cap_ms;
} rule_t;

static const rule_t account_rule = {RK_IDENTITY_THROTTLE_ACCOUNT_FREE,
                                    RK_IDENTITY_THROTTLE_ACCOUNT_CAP_MS};
static const rule_t peer_rule = {RK_IDENTITY_THROTTLE_PEER_FREE, RK_IDENTITY_THROTTLE_PEER_CAP_MS};

typedef struct entry {
    unsigned char digest[DIGEST_LEN];
    struct entry *chain;         /* next in the bucket */
    struct entry *newer, *older; /* the LRU list */
    uint32_t failures;
    uint64_t last_failure_ms;
} entry_t;

struct rk_identity_throttle {
    unsigned char key[DIGEST_LEN];
    EVP_MD_CTX *md;
    entry_t **buckets;
    size_t mask;
    size_t n, max;
    entry_t *newest, *oldest;
};

rk_identity_throttle_t *rk_identity_throttle_new(size_t max_entries)
{
    if (max_entries == 0)
        return NULL;
    rk_identity_throttle_t *t = rk_xcalloc(1, sizeof(*t));
    t->md = EVP_MD_CTX_new();
    if (!t->md || RAND_bytes(t->key, sizeof(t->key)) != 1) {
        EVP_MD_CTX_free(t->md);
        free(t);
        return NULL;
    }
    size_t buckets = 1;
    while (buckets < max_entries && buckets < BUCKETS_MAX)
        buckets <<= 1;
    t->buckets = rk_xcalloc(buckets, sizeof(*t->buckets));
    t->mask = buckets - 1;
    t->max = max_entries;
    return t;
}

void rk_identity_throttle_free(rk_identity_throttle_t *t)
{
    if (!t)
        return;
    for (entry_t *e = t->newest, *older; e; e = older) {
        older = e->older;
        free(e);
    }
    free(t->buckets);
    EVP_MD_CTX_free(t->md);
    OPENSSL_cleanse(t->key, sizeof(t->key));
    free(t);
}

size_t rk_identity_throttle_size(const rk_identity_throttle_t *t)
{
    return t->n;
}

static void digest_string(EVP_MD_CTX *md, const char *s)
{
    uint64_t len = strlen(s);
    EVP_DigestUpdate(md, &len, sizeof(len));
    EVP_DigestUpdate(md, s, len);
}

static void key_digest(rk_identity_throttle_t *t, kind_t kind, const char *a, const char *b,
                       unsigned char out[DIGEST_LEN])
{
    unsigned char k = (unsigned char)kind;
    memset(out, 0, DIGEST_LEN);
    EVP_DigestInit_ex(t->md, EVP_sha256(), NULL);
    EVP_DigestUpdate(t->md, t->key, sizeof(t->key));
    EVP_DigestUpdate(t->md, &k, 1);
    digest_string(t->md, a);
    if (b)
        digest_string(t->md, b);
    EVP_DigestFinal_ex(t->md, out, NULL);
}

static entry_t **bucket_of(rk_identity_throttle_t *t, const unsigned char digest[DIGEST_LEN])
{
    size_t h;
    memcpy(&h, digest, sizeof(h));
    return &t->buckets[h & t->mask];
}

static void lru_unlink(rk_identity_throttle_t *t, entry_t *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        t->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        t->oldest = e->newer;
}

static void lru_push_newest(rk_identity_throttle_t *t, entry_t *e)
{
    e->newer = NULL;
    e->older = t->newest;
    if (t->newest)
        t->newest->newer = e;
    else
        t->oldest = e;
    t->newest = e;
}

/* Takes e out of its bucket and the LRU list; the caller frees or reuses it. */
static void detach(rk_identity_throttle_t *t, entry_t *e)
{
    entry_t **link = bucket_of(t, e->digest);
    while (*link != e)
        link = &(*link)->chain;
    *link = e->chain;
    lru_unlink(t, e);
    t->n--;
}

static entry_t *find(rk_identity_throttle_t *t, const unsigned char digest[DIGEST_LEN])
{
    for (entry_t *e = *bucket_of(t, digest); e; e = e->chain) {
        if (memcmp(e->digest, digest, DIGEST_LEN) == 0)
            return e;
    }
    return NULL;
}

static int decayed(const entry_t *e, uint64_t now_ms)
{
    return now_ms >= e->last_failure_ms &&
           now_ms - e->last_failure_ms >= RK_IDENTITY_THROTTLE_DECAY_MS;
}

static void attach(rk_identity_throttle_t *t, entry_t *e)
{
    entry_t **bucket = bucket_of(t, e->digest);
    e->chain = *bucket;
    *bucket = e;
    lru_push_newest(t, e);
    t->n++;
}

static void touch(rk_identity_throttle_t *t, entry_t *e)
{
    lru_unlink(t, e);
    lru_push_newest(t, e);
}

/* The live counter for the key, touched; NULL when there is none (a decayed one is freed). */
static entry_t *lookup(rk_identity_throttle_t *t, const unsigned char digest[DIGEST_LEN],
                       uint64_t now_ms)
{
    entry_t *e = find(t, digest);
    if (!e)
        return NULL;
    if (decayed(e, now_ms)) {
        detach(t, e);
        free(e);
        return NULL;
    }
    touch(t, e);
    return e;
}

/* Milliseconds before the counter lets another attempt through. */
static uint64_t counter_wait(rk_identity_throttle_t *t, const rule_t *rule, kind_t kind,
                             const char *a, const char *b, uint64_t now_ms)
{
    unsigned char digest[DIGEST_LEN];
    key_digest(t, kind, a, b, digest);
    const entry_t *e = lookup(t, digest, now_ms);
    if (!e || e->failures <= rule->free)
        return 0;
    uint32_t doublings = e->failures - rule->free - 1;
    uint64_t delay = rule->cap_ms;
    if (doublings < 32 && ((uint64_t)RK_IDENTITY_THROTTLE_FIRST_WAIT_MS << doublings) < delay)
        delay = (uint64_t)RK_IDENTITY_THROTTLE_FIRST_WAIT_MS << doublings;
    uint64_t until = e->last_failure_ms + delay;
    if (now_ms >= until)
        return 0;
    /* now_ms before the last failure (a caller's clock stepped back): still at most delay. */
    return until - now_ms < delay ? until - now_ms : delay;
}

static void counter_failed(rk_identity_throttle_t *t, kind_t kind, const char *a, const char *b,
                           uint64_t now_ms)
{
    unsigned char digest[DIGEST_LEN];
    key_digest(t, kind, a, b, digest);
    entry_t *e = lookup(t, digest, now_ms);
    if (!e) {
        if (t->n == t->max) {
            e = t->oldest;
            detach(t, e);
        } else {
            e = rk_xmalloc(sizeof(*e));
        }
        memcpy(e->digest, digest, DIGEST_LEN);
        e->failures = 0;
        attach(t, e);
    }
    if (e->failures < UINT32_MAX)
        e->failures++;
    e->last_failure_ms = now_ms;
}

static void counter_reset(rk_identity_throttle_t *t, kind_t kind, const char *a, const char *b)
{
    unsigned char digest[DIGEST_LEN];
    key_digest(t, kind, a, b, digest);
    entry_t *e = find(t, digest);
    if (e) {
        detach(t, e);
        free(e);
    }
}

uint64_t rk_identity_throttle_wait(rk_identity_throttle_t *t, const char *account, const char *peer,
                                   const char *device, uint64_t now_ms)
{
    uint64_t by_peer = counter_wait(t, &peer_rule, KIND_PEER, peer, NULL, now_ms);
    uint64_t by_account = device
                              ? counter_wait(t, &account_rule, KIND_DEVICE, account, device, now_ms)
                              : counter_wait(t, &account_rule, KIND_ACCOUNT, account, NULL, now_ms);
    return by_peer > by_account ? by_peer : by_account;
}

void rk_identity_throttle_failed(rk_identity_throttle_t *t, const char *account, const char *peer,
                                 const char *device, uint64_t now_ms)
{
    counter_failed(t, KIND_PEER, peer, NULL, now_ms);
    if (device)
        counter_failed(t, KIND_DEVICE, account, device, now_ms);
    else
        counter_failed(t, KIND_ACCOUNT, account, NULL, now_ms);
}

void rk_identity_throttle_succeeded(rk_identity_throttle_t *t, const char *account,
                                    const char *peer, const char *device, uint64_t now_ms)
{
    (void)peer;
    (void)now_ms;
    counter_reset(t, KIND_ACCOUNT, account, NULL);
    if (device)
        counter_reset(t, KIND_DEVICE, account, device);
}
