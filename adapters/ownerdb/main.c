/*
 * main.c — renkei-adapter-ownerdb: the facility methods of AdapterService in front of an
 * owner's reservation system that keeps its own PostgreSQL database (see ownerdb.h and
 * README.md). init reads the "ownerdb" section, makes the database ready (blocking, before the
 * port opens) and starts the asynchronous pool on the SDK's loop; every handler is one SQL
 * function call (ownerdb_call.c); health follows the pool.
 */
#include "ownerdb.h"

#include "core/log.h"
#include "core/mem.h"
#include "store/pool.h"

#include <jansson.h>
#include <stdlib.h>

#define HANDLER(name, Request)                                                                     \
    static void name(rk_adapter_call_t *call, const Renkei__V1__##Request *request)               \
    {                                                                                              \
        ownerdb_call(call, &request->base);                                                        \
    }
HANDLER(list_facilities, AdapterListFacilitiesRequest)
HANDLER(get_availability, AdapterGetAvailabilityRequest)
HANDLER(hold_slot, AdapterHoldSlotRequest)
HANDLER(confirm_booking, AdapterConfirmBookingRequest)
HANDLER(cancel_booking, AdapterCancelBookingRequest)
HANDLER(get_booking, AdapterGetBookingRequest)
#undef HANDLER

static void ownerdb_free(ownerdb_t *db)
{
    if (db->store)
        rk_store_free(db->store);
    ownerdb_config_free(&db->config);
    free(db);
}

static int ownerdb_init(rk_adapter_server_t *server, const json_t *section,
                        rk_adapter_handlers_t *handlers, char *why, size_t why_len)
{
    (void)handlers;
    ownerdb_t *db = rk_xcalloc(1, sizeof(*db));
    if (ownerdb_config_load(&db->config, section, why, why_len) != 0 ||
        ownerdb_setup(&db->config, why, why_len) != 0) {
        ownerdb_free(db);
        return -1;
    }
    rk_store_options_t options = {
        .conninfo = db->config.conninfo,
        .pool_size = db->config.pool_size,
        .pipeline_depth = 64,
        .reconnect_max_ms = 2000,
        .connect_timeout_ms = 3000,
    };
    db->store = rk_store_new(rk_adapter_base(server), &options);
    ownerdb_prepare(db->store);
    rk_store_start(db->store);
    rk_adapter_set_data(server, db);
    rk_log_info("ownerdb ready", "{s:s, s:i, s:i}", "municipality",
                rk_adapter_config(server)->municipality_slug, "hold_ttl_seconds",
                db->config.hold_ttl_seconds, "pool_size", db->config.pool_size);
    return 0;
}

static void ownerdb_fini(rk_adapter_server_t *server)
{
    ownerdb_t *db = rk_adapter_data(server);
    if (db)
        ownerdb_free(db);
    rk_adapter_set_data(server, NULL);
}

/* NOT_SERVING while no connection to the owner's database is up. */
static int ownerdb_serving(rk_adapter_server_t *server)
{
    ownerdb_t *db = rk_adapter_data(server);
    return db && rk_store_ready(db->store) > 0;
}

static const rk_adapter_t adapter = {
    .name = "ownerdb",
    .version = "0.1.0",
    .owner_system = "施設予約システム (the owner's PostgreSQL database, schema yoyaku)",
    .config_section = "ownerdb",
    .handlers =
        {
            .list_facilities = list_facilities,
            .get_availability = get_availability,
            .hold_slot = hold_slot,
            .confirm_booking = confirm_booking,
            .cancel_booking = cancel_booking,
            .get_booking = get_booking,
        },
    .init = ownerdb_init,
    .fini = ownerdb_fini,
    .serving = ownerdb_serving,
};

int main(int argc, char **argv)
{
    return rk_adapter_serve(&adapter, argc, argv);
}
