/*
 * feed.c — ExchangeService.ListFeed and Subscribe: a partner's change feed (see feed.h).
 *
 * Items are rows of rk_feed_item (migrations 0019, 0020, 0022), written by triggers in the
 * transaction of the change and ordered per tenant by `modified`, which becomes visible in order
 * (the tenant's feed head is held to commit). The cursor is the `modified` of the last item read,
 * as decimal text: "resume after this" is `modified > cursor`, so paging neither skips nor repeats.
 * Each item's data is the proto3 JSON stored with it.
 *
 * A subscription is kept in a list of the module: every NOTIFY on rk_feed (payload: the tenant
 * id) wakes the subscriptions of that tenant, which read what follows their cursor; the
 * heartbeat tick reads too (a NOTIFY lost while the listener reconnected). A subscription
 * lives on the heap, not in its request's arena: a read in flight when the client goes keeps
 * it until the read's callback frees it.
 */
#include "exchange/feed.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "exchange/partner.h"
#include "net/json_transcode.h"
#include "net/pb_arena.h"
#include "net/server.h"
#include "renkei/v1/exchange.pb-c.h"
#include "store/listen.h"

#include <ctype.h>
#include <event2/event.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTIFY_CHANNEL "rk_feed"
#define STMT_PAGE RK_EXCHANGE_FEED_STMT_PAGE
#define PAGE_SIZE_DEFAULT 100
#define PAGE_SIZE_MAX 1000
#define STREAM_BATCH 200
#define HEARTBEAT_DEFAULT_S 30
#define HEARTBEAT_MIN_S 5
#define HEARTBEAT_MAX_S 300
#define KIND_PREFIX "FEED_ITEM_KIND_"

static const char sql_page[] =
    "SELECT i.kind, i.item_id, i.modified::text, rk_booking_utc(i.modified_at), i.data::text"
    " FROM rk_feed_item i WHERE i.tenant_id = $1::bigint AND i.modified > $2::bigint"
    " AND ($3::text[] IS NULL OR i.kind = ANY ($3::text[])) ORDER BY i.modified LIMIT $4::int";

enum { COL_KIND, COL_ID, COL_MODIFIED, COL_MODIFIED_AT, COL_DATA };

typedef struct subscription {
    rk_exchange_feed_t *feed;
    rk_rpc_t *rpc; /* NULL once the request is gone */
    rk_exchange_partner_caller_t caller;
    char *kinds; /* the text[] literal, or NULL: all */
    long long cursor;
    int heartbeat_s;
    int reading;
    int read_again;
    int sent_since_tick;
    struct event *tick;
    struct subscription *next;
} subscription_t;

struct rk_exchange_feed {
    rk_exchange_t *exchange;
    subscription_t *subscriptions;
};

/* --- items --------------------------------------------------------------------------------- */

/* What each kind's data is; the last entry (facility) also serves unknown kinds. */
typedef struct feed_kind {
    Renkei__V1__FeedItemKind kind;
    const ProtobufCMessageDescriptor *data;
    Renkei__V1__FeedItem__DataCase data_case;
} feed_kind_t;

static const feed_kind_t feed_kinds[] = {
    {RENKEI__V1__FEED_ITEM_KIND__FEED_ITEM_KIND_BOOKING, &renkei__v1__booking__descriptor,
     RENKEI__V1__FEED_ITEM__DATA_BOOKING},
    {RENKEI__V1__FEED_ITEM_KIND__FEED_ITEM_KIND_HOLD, &renkei__v1__hold__descriptor,
     RENKEI__V1__FEED_ITEM__DATA_HOLD},
    {RENKEI__V1__FEED_ITEM_KIND__FEED_ITEM_KIND_LOAN, &renkei__v1__loan__descriptor,
     RENKEI__V1__FEED_ITEM__DATA_LOAN},
    {RENKEI__V1__FEED_ITEM_KIND__FEED_ITEM_KIND_FACILITY, &renkei__v1__facility__descriptor,
     RENKEI__V1__FEED_ITEM__DATA_FACILITY},
};

static const feed_kind_t *kind_of(Renkei__V1__FeedItemKind kind)
{
    size_t n = sizeof(feed_kinds) / sizeof(feed_kinds[0]);
    for (size_t i = 0; i + 1 < n; i++)
        if (feed_kinds[i].kind == kind)
            return &feed_kinds[i];
    return &feed_kinds[n - 1];
}

/* "booking" → FEED_ITEM_KIND_BOOKING. */
static int kind_value(const char *text)
{
    char name[48];
    size_t n = strlen(KIND_PREFIX), i = 0;
    memcpy(name, KIND_PREFIX, n);
    for (; text[i] && n + 1 < sizeof(name); i++)
        name[n++] = (char)toupper((unsigned char)text[i]);
    name[n] = '\0';
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value_by_name(&renkei__v1__feed_item_kind__descriptor, name);
    return v ? v->value : 0;
}

/*
 * The text[] literal of the asked kinds ("{booking,facility}"), NULL for all; sets *bad when a
 * value is not a kind.
 */
static char *kinds_literal(rk_arena_t *arena, const Renkei__V1__FeedItemKind *kinds, size_t n,
                           int *bad)
{
    *bad = 0;
    if (n == 0)
        return NULL;
    char *out = rk_arena_calloc(arena, n * 24 + 3, 1);
    size_t len = 0;
    out[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        const ProtobufCEnumValue *v =
            protobuf_c_enum_descriptor_get_value(&renkei__v1__feed_item_kind__descriptor, kinds[i]);
        if (!v || kinds[i] == RENKEI__V1__FEED_ITEM_KIND__FEED_ITEM_KIND_UNSPECIFIED) {
            *bad = 1;
            return NULL;
        }
        if (i)
            out[len++] = ',';
        for (const char *c = v->name + strlen(KIND_PREFIX); *c; c++)
            out[len++] = (char)tolower((unsigned char)*c);
    }
    out[len++] = '}';
    return out;
}

/* The FeedItem of row i, in arena; NULL when its stored data cannot be read back. */
static Renkei__V1__FeedItem *item_of(rk_arena_t *arena, const PGresult *r, int i)
{
    Renkei__V1__FeedItem *item = rk_arena_alloc(arena, sizeof(*item));
    *item = (Renkei__V1__FeedItem)RENKEI__V1__FEED_ITEM__INIT;
    item->id = rk_arena_strdup(arena, PQgetvalue(r, i, COL_ID));
    item->kind = (Renkei__V1__FeedItemKind)kind_value(PQgetvalue(r, i, COL_KIND));
    item->modified = strtoll(PQgetvalue(r, i, COL_MODIFIED), NULL, 10);
    item->modified_at = rk_arena_strdup(arena, PQgetvalue(r, i, COL_MODIFIED_AT));
    item->cursor = rk_arena_strdup(arena, PQgetvalue(r, i, COL_MODIFIED));
    if (PQgetisnull(r, i, COL_DATA)) {
        item->state = RENKEI__V1__FEED_ITEM_STATE__FEED_ITEM_STATE_DELETED;
        return item;
    }
    item->state = RENKEI__V1__FEED_ITEM_STATE__FEED_ITEM_STATE_UPDATED;
    const feed_kind_t *kind = kind_of(item->kind);
    const ProtobufCMessageDescriptor *desc = kind->data;
    json_t *data = json_loads(PQgetvalue(r, i, COL_DATA), 0, NULL);
    ProtobufCAllocator allocator = rk_pb_arena_allocator(arena);
    char err[256];
    ProtobufCMessage *msg =
        data ? rk_json_to_message(desc, data, &allocator, err, sizeof(err)) : NULL;
    json_decref(data);
    if (!msg) {
        rk_log_error("feed item unreadable", "{s:s, s:s}", "item", item->id, "error",
                     data ? err : "not JSON");
        return NULL;
    }
    item->data_case = kind->data_case;
    /* The oneof's members share one place in the message: set it through the descriptor. */
    const ProtobufCFieldDescriptor *field = protobuf_c_message_descriptor_get_field(
        &renkei__v1__feed_item__descriptor, kind->data_case);
    *(ProtobufCMessage **)((char *)item + field->offset) = msg;
    return item;
}

int rk_exchange_feed_items(rk_arena_t *arena, const PGresult *r, Renkei__V1__FeedItem ***items,
                           size_t *n)
{
    int rows = PQntuples(r);
    *items = rk_arena_calloc(arena, (size_t)rows + 1, sizeof(**items));
    *n = 0;
    for (int i = 0; i < rows; i++) {
        Renkei__V1__FeedItem *item = item_of(arena, r, i);
        if (!item)
            return RK_EINVAL;
        (*items)[(*n)++] = item;
    }
    return RK_OK;
}

static int cursor_parse(const char *text, long long *out)
{
    *out = 0;
    if (!text || !*text)
        return RK_OK;
    size_t len = strlen(text);
    if (len > 18 || strspn(text, "0123456789") != len)
        return RK_EINVAL;
    *out = strtoll(text, NULL, 10);
    return RK_OK;
}

/* The partner behind rpc, or PERMISSION_DENIED: the feed is a partner system's. */
static int partner_caller(rk_rpc_t *rpc, const char *method, rk_exchange_partner_caller_t *caller)
{
    if (rk_exchange_partner_caller(rpc, caller))
        return 1;
    rk_rpc_fail_detail(rpc, RK_RPC_PERMISSION_DENIED,
                       rk_arena_printf(rk_rpc_request(rpc)->arena,
                                       "renkei.v1.ExchangeService/%s: the feed is read by a "
                                       "partner system with its access token",
                                       method),
                       "ERROR_REASON_PARTNER_REQUIRED", NULL);
    return 0;
}

static void fail_store(rk_rpc_t *rpc, const rk_store_result_t *res)
{
    if (res && res->status == RK_EINVAL)
        rk_log_error("feed query failed", "{s:s}", "error", res->error);
    rk_rpc_fail(rpc, RK_RPC_UNAVAILABLE, "the database is not reachable now; retry later");
}

/* --- ListFeed ------------------------------------------------------------------------------ */

typedef struct page_call {
    rk_rpc_t *rpc;
    const char *cursor;
} page_call_t;

static void page_cb(const rk_store_result_t *res, void *arg)
{
    page_call_t *call = arg;
    rk_rpc_t *rpc = call->rpc;
    if (res->status != RK_OK) {
        fail_store(rpc, res);
        return;
    }
    rk_arena_t *arena = rk_rpc_request(rpc)->arena;
    Renkei__V1__ListFeedResponse out = RENKEI__V1__LIST_FEED_RESPONSE__INIT;
    if (rk_exchange_feed_items(arena, res->results[0], &out.items, &out.n_items) != RK_OK) {
        rk_rpc_fail(rpc, RK_RPC_INTERNAL, "a feed item could not be read; see the hub's log");
        return;
    }
    out.next_cursor = out.n_items ? out.items[out.n_items - 1]->cursor : (char *)call->cursor;
    rk_rpc_reply(rpc, &out.base);
}

static void list_feed(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__ListFeedRequest *in = (const Renkei__V1__ListFeedRequest *)message;
    rk_exchange_partner_caller_t caller;
    if (!partner_caller(rpc, "ListFeed", &caller))
        return;
    rk_arena_t *arena = rk_rpc_request(rpc)->arena;
    long long cursor;
    int bad_kind;
    if (cursor_parse(in->cursor, &cursor) != RK_OK) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "cursor: empty, or a next_cursor this feed gave (decimal digits)");
        return;
    }
    if (in->page_size < 0 || in->page_size > PAGE_SIZE_MAX) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, "page_size: 0 (100) to 1000");
        return;
    }
    char *kinds = kinds_literal(arena, in->kinds, in->n_kinds, &bad_kind);
    if (bad_kind) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, "kinds: each must be a FeedItemKind");
        return;
    }
    page_call_t *call = rk_arena_calloc(arena, 1, sizeof(*call));
    call->rpc = rpc;
    call->cursor = rk_arena_printf(arena, "%lld", cursor);
    const char *values[] = {
        caller.tenant_id, call->cursor, kinds,
        rk_arena_printf(arena, "%d", in->page_size ? in->page_size : PAGE_SIZE_DEFAULT)};
    if (rk_store_exec(rk_app(rk_rpc_request(rpc))->store, STMT_PAGE, 4, values, page_cb, call) !=
        RK_AGAIN)
        fail_store(rpc, NULL);
}

/* --- Subscribe ----------------------------------------------------------------------------- */

static void subscription_read(subscription_t *s);

static void subscription_unlink(subscription_t *s)
{
    for (subscription_t **p = &s->feed->subscriptions; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            return;
        }
}

static void subscription_free(subscription_t *s)
{
    if (s->tick)
        event_free(s->tick);
    free(s->kinds);
    free(s);
}

/* The request's arena is going: forget the call; a read in flight frees s when it returns. */
static void subscription_gone(void *data)
{
    subscription_t *s = data;
    s->rpc = NULL;
    evtimer_del(s->tick);
    subscription_unlink(s);
    if (!s->reading)
        subscription_free(s);
}

static void schedule_tick(subscription_t *s)
{
    struct timeval tv = {s->heartbeat_s, 0};
    evtimer_add(s->tick, &tv);
}

/* Ends the stream with OK (the client left, the hub drains) or with status on failure. */
static void subscription_end(subscription_t *s, rk_rpc_code_t code, const char *message)
{
    rk_rpc_t *rpc = s->rpc;
    evtimer_del(s->tick);
    subscription_unlink(s);
    s->rpc = NULL; /* subscription_gone, run as the request ends, frees s */
    if (code == RK_RPC_OK)
        rk_rpc_finish(rpc);
    else
        rk_rpc_fail(rpc, code, message);
}

static void read_cb(const rk_store_result_t *res, void *arg)
{
    subscription_t *s = arg;
    s->reading = 0;
    if (!s->rpc) {
        subscription_free(s);
        return;
    }
    if (res->status != RK_OK) {
        if (res->status == RK_EINVAL)
            rk_log_error("feed query failed", "{s:s}", "error", res->error);
        schedule_tick(s); /* the database is away: the next tick reads again */
        return;
    }
    rk_arena_t *arena = rk_arena_new();
    Renkei__V1__SubscribeResponse out = RENKEI__V1__SUBSCRIBE_RESPONSE__INIT;
    const PGresult *r = res->results[0];
    if (rk_exchange_feed_items(arena, r, &out.items, &out.n_items) != RK_OK) {
        rk_arena_free(arena);
        subscription_end(s, RK_RPC_INTERNAL, "a feed item could not be read; see the hub's log");
        return;
    }
    int rc = RK_OK;
    if (out.n_items) {
        s->cursor = out.items[out.n_items - 1]->modified;
        out.cursor = rk_arena_printf(arena, "%lld", s->cursor);
        rc = rk_rpc_send(s->rpc, &out.base);
        s->sent_since_tick = 1;
    }
    rk_arena_free(arena);
    if (rc != RK_OK) {
        subscription_end(s, RK_RPC_OK, NULL);
        return;
    }
    if (PQntuples(r) == STREAM_BATCH || s->read_again) {
        s->read_again = 0;
        subscription_read(s);
    }
}

static void subscription_read(subscription_t *s)
{
    if (s->reading) {
        s->read_again = 1;
        return;
    }
    char cursor[24], limit[16];
    snprintf(cursor, sizeof(cursor), "%lld", s->cursor);
    snprintf(limit, sizeof(limit), "%d", STREAM_BATCH);
    const char *values[] = {s->caller.tenant_id, cursor, s->kinds, limit};
    s->reading = 1;
    if (rk_store_exec(s->feed->exchange->app->store, STMT_PAGE, 4, values, read_cb, s) !=
        RK_AGAIN) {
        s->reading = 0;
        schedule_tick(s);
    }
}

/* Every heartbeat_seconds: an empty message when nothing was sent, and a read. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    subscription_t *s = arg;
    rk_request_t *req = rk_rpc_request(s->rpc);
    if (rk_request_client_gone(req) || s->feed->exchange->app->server->draining) {
        subscription_end(s, RK_RPC_OK, NULL);
        return;
    }
    if (!s->sent_since_tick) {
        Renkei__V1__SubscribeResponse beat = RENKEI__V1__SUBSCRIBE_RESPONSE__INIT;
        char cursor[24];
        snprintf(cursor, sizeof(cursor), "%lld", s->cursor);
        beat.cursor = cursor;
        if (rk_rpc_send(s->rpc, &beat.base) != RK_OK) {
            subscription_end(s, RK_RPC_OK, NULL);
            return;
        }
    }
    s->sent_since_tick = 0;
    schedule_tick(s);
    subscription_read(s);
}

static void subscribe(rk_rpc_t *rpc, const ProtobufCMessage *message)
{
    const Renkei__V1__SubscribeRequest *in = (const Renkei__V1__SubscribeRequest *)message;
    rk_exchange_partner_caller_t caller;
    if (!partner_caller(rpc, "Subscribe", &caller))
        return;
    rk_request_t *req = rk_rpc_request(rpc);
    long long cursor;
    int bad_kind;
    if (cursor_parse(in->cursor, &cursor) != RK_OK) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT,
                    "cursor: empty, or a cursor this feed gave (decimal digits)");
        return;
    }
    if (in->heartbeat_seconds != 0 &&
        (in->heartbeat_seconds < HEARTBEAT_MIN_S || in->heartbeat_seconds > HEARTBEAT_MAX_S)) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, "heartbeat_seconds: 0 (30) or 5 to 300");
        return;
    }
    char *kinds = kinds_literal(req->arena, in->kinds, in->n_kinds, &bad_kind);
    if (bad_kind) {
        rk_rpc_fail(rpc, RK_RPC_INVALID_ARGUMENT, "kinds: each must be a FeedItemKind");
        return;
    }
    rk_app_t *app = rk_app(req);
    subscription_t *s = rk_xcalloc(1, sizeof(*s));
    s->feed = app->exchange->feed;
    s->rpc = rpc;
    s->caller = caller;
    s->kinds = kinds ? rk_xstrdup(kinds) : NULL;
    s->cursor = cursor;
    s->heartbeat_s = in->heartbeat_seconds ? in->heartbeat_seconds : HEARTBEAT_DEFAULT_S;
    s->tick = evtimer_new(app->base, tick_cb, s);
    s->next = s->feed->subscriptions;
    s->feed->subscriptions = s;
    rk_arena_on_free(req->arena, subscription_gone, s);
    schedule_tick(s);
    subscription_read(s);
}

/* --- the module ---------------------------------------------------------------------------- */

static void changed_cb(const char *channel, const char *payload, void *arg)
{
    (void)channel;
    rk_exchange_feed_t *feed = arg;
    for (subscription_t *s = feed->subscriptions; s; s = s->next)
        if (strcmp(s->caller.tenant_id, payload) == 0)
            subscription_read(s);
}

static void listening_cb(const char *channel, void *arg)
{
    (void)channel;
    rk_exchange_feed_t *feed = arg;
    for (subscription_t *s = feed->subscriptions; s; s = s->next)
        subscription_read(s);
}

static const rk_rpc_method_t methods[] = {
    {"/renkei.v1.ExchangeService/ListFeed", &renkei__v1__list_feed_request__descriptor,
     &renkei__v1__list_feed_response__descriptor, list_feed, 0},
    {"/renkei.v1.ExchangeService/Subscribe", &renkei__v1__subscribe_request__descriptor,
     &renkei__v1__subscribe_response__descriptor, subscribe, 1},
};

rk_exchange_feed_t *rk_exchange_feed_new(rk_exchange_t *exchange, rk_router_t *router,
                                         rk_store_listener_t *listener)
{
    rk_exchange_feed_t *feed = rk_xcalloc(1, sizeof(*feed));
    feed->exchange = exchange;
    const rk_app_t *app = exchange->app;
    rk_store_prepare(app->store, STMT_PAGE, sql_page);
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        rk_rpc_register(router, &methods[i]);
    rk_store_listen(listener, NOTIFY_CHANNEL, changed_cb, listening_cb, feed);
    return feed;
}

void rk_exchange_feed_free(rk_exchange_feed_t *feed)
{
    free(feed);
}
