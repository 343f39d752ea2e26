/*
 * ownerdb_call.c — one AdapterService call = one SQL function of the adapter's schema
 * renkei_link in the owner's database (see ownerdb.h, sql/link.sql and ../common/sql_call.h):
 * the three mutations also take the hold's TTL ($3).
 */
#include "ownerdb.h"

#include "sql_call.h"

#include <stdio.h>

static const rk_sql_method_t list[] = {
    {"ListFacilities", "ownerdb_list_facilities",
     "SELECT renkei_link.list_facilities($1::jsonb)::text", 1},
    {"GetAvailability", "ownerdb_get_availability",
     "SELECT renkei_link.get_availability($1::jsonb)::text", 1},
    {"HoldSlot", "ownerdb_hold_slot",
     "SELECT renkei_link.mutation('HoldSlot', $1::jsonb, $2, $3::int)::text", 3},
    {"ConfirmBooking", "ownerdb_confirm_booking",
     "SELECT renkei_link.mutation('ConfirmBooking', $1::jsonb, $2, $3::int)::text", 3},
    {"CancelBooking", "ownerdb_cancel_booking",
     "SELECT renkei_link.mutation('CancelBooking', $1::jsonb, $2, $3::int)::text", 3},
    {"GetBooking", "ownerdb_get_booking", "SELECT renkei_link.get_booking($1::jsonb)::text", 1},
};

static const rk_sql_methods_t methods = {
    list, sizeof(list) / sizeof(list[0]), "ERROR_REASON_OWNER_UNAVAILABLE",
    "the owner's reservation database is not reachable; try again"};

void ownerdb_prepare(struct rk_store *store)
{
    rk_sql_prepare(store, &methods);
}

void ownerdb_call(rk_adapter_call_t *call, const ProtobufCMessage *request)
{
    ownerdb_t *db = rk_adapter_call_data(call);
    char ttl[16];
    snprintf(ttl, sizeof(ttl), "%d", db->config.hold_ttl_seconds);
    rk_sql_call(call, db->store, &methods, request, ttl);
}
