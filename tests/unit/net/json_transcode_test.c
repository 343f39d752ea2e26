/*
 * json_transcode_test.c — the proto3 JSON mapping (net/json_transcode.c) on messages of our
 * contract (renkei.v1, grpc.health.v1) and, for what the contract does not use (every integer
 * type, float, maps, proto2 `optional`, recursion deep enough to hit the bound), on a test-only
 * message whose protobuf-c descriptor is written out below as protoc-c would generate it.
 *
 * Round trips go message → JSON text → message and compare the packed bytes; errors are
 * checked by their full text, JSON path included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/mem.h"
#include "net/json_transcode.h"

#include "grpc/health/v1/health.pb-c.h"
#include "renkei/v1/admin.pb-c.h"
#include "renkei/v1/common.pb-c.h"
#include "renkei/v1/exchange.pb-c.h"
#include "renkei/v1/facility.pb-c.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * rk.test.Kinds: the message protoc-c would make of
 *
 *   syntax = "proto3";  // but opt_count and opt_note are proto2 `optional` (has_ / NULL)
 *   message Kinds {
 *     int32 i32 = 1; sint32 s32 = 2; sfixed32 sf32 = 3; int64 i64 = 4; sint64 s64 = 5;
 *     sfixed64 sf64 = 6; uint32 u32 = 7; fixed32 f32 = 8; uint64 u64 = 9; fixed64 f64 = 10;
 *     float fl = 11; double db = 12; bool flag = 13; renkei.v1.FacilityKind kind = 14;
 *     string text = 15; bytes blob = 16; Kinds child = 17;
 *     repeated int64 many = 18; repeated bytes blobs = 19;
 *     map<string, int64> labels = 20; map<int32, Kinds> children_by_id = 21;
 *     map<bool, string> flags = 22;
 *     optional int32 opt_count = 23; optional string opt_note = 24;
 *     oneof pick { string pick_text = 25; int32 pick_number = 26; Kinds pick_child = 27; }
 *     repeated renkei.v1.FacilityKind kinds = 28; repeated string texts = 29;
 *   }
 * ------------------------------------------------------------------------------------------- */

typedef struct Kinds Kinds;

typedef struct {
    ProtobufCMessage base;
    char *key;
    int64_t value;
} LabelsEntry;

typedef struct {
    ProtobufCMessage base;
    int32_t key;
    Kinds *value;
} ChildrenByIdEntry;

typedef struct {
    ProtobufCMessage base;
    protobuf_c_boolean key;
    char *value;
} FlagsEntry;

struct Kinds {
    ProtobufCMessage base;
    int32_t i32, s32, sf32;
    int64_t i64, s64, sf64;
    uint32_t u32, f32;
    uint64_t u64, f64;
    float fl;
    double db;
    protobuf_c_boolean flag;
    int kind;
    char *text;
    ProtobufCBinaryData blob;
    Kinds *child;
    size_t n_many;
    int64_t *many;
    size_t n_blobs;
    ProtobufCBinaryData *blobs;
    size_t n_labels;
    LabelsEntry **labels;
    size_t n_children_by_id;
    ChildrenByIdEntry **children_by_id;
    size_t n_flags;
    FlagsEntry **flags;
    protobuf_c_boolean has_opt_count;
    int32_t opt_count;
    char *opt_note;
    uint32_t pick_case;
    union {
        char *pick_text;
        int32_t pick_number;
        Kinds *pick_child;
    };
    size_t n_kinds;
    int *kinds;
    size_t n_texts;
    char **texts;
};

static const ProtobufCMessageDescriptor kinds_descriptor;
static const ProtobufCMessageDescriptor labels_entry_descriptor;
static const ProtobufCMessageDescriptor children_by_id_entry_descriptor;
static const ProtobufCMessageDescriptor flags_entry_descriptor;

static void kinds_init(ProtobufCMessage *m)
{
    memset(m, 0, sizeof(Kinds));
    m->descriptor = &kinds_descriptor;
    ((Kinds *)m)->text = (char *)protobuf_c_empty_string;
}

static void labels_entry_init(ProtobufCMessage *m)
{
    *(LabelsEntry *)m = (LabelsEntry){PROTOBUF_C_MESSAGE_INIT(&labels_entry_descriptor),
                                      (char *)protobuf_c_empty_string, 0};
}

static void children_by_id_entry_init(ProtobufCMessage *m)
{
    *(ChildrenByIdEntry *)m =
        (ChildrenByIdEntry){PROTOBUF_C_MESSAGE_INIT(&children_by_id_entry_descriptor), 0, NULL};
}

static void flags_entry_init(ProtobufCMessage *m)
{
    *(FlagsEntry *)m = (FlagsEntry){PROTOBUF_C_MESSAGE_INIT(&flags_entry_descriptor), 0,
                                    (char *)protobuf_c_empty_string};
}

#define FIELD(type_, name, id, label, kind, quantifier, member, desc, def, flags)                  \
    {                                                                                              \
        name, id, PROTOBUF_C_LABEL_##label, PROTOBUF_C_TYPE_##kind, quantifier,                    \
            offsetof(type_, member), desc, def, flags, 0, NULL, NULL                               \
    }
#define K(name, id, kind) FIELD(Kinds, #name, id, NONE, kind, 0, name, NULL, NULL, 0)
#define K_REPEATED(name, id, kind, desc)                                                           \
    FIELD(Kinds, #name, id, REPEATED, kind, offsetof(Kinds, n_##name), name, desc, NULL, 0)
#define K_ONEOF(name, id, kind, desc, def)                                                         \
    FIELD(Kinds, #name, id, NONE, kind, offsetof(Kinds, pick_case), name, desc, def,               \
          PROTOBUF_C_FIELD_FLAG_ONEOF)

static const ProtobufCFieldDescriptor kinds_fields[] = {
    K(i32, 1, INT32),
    K(s32, 2, SINT32),
    K(sf32, 3, SFIXED32),
    K(i64, 4, INT64),
    K(s64, 5, SINT64),
    K(sf64, 6, SFIXED64),
    K(u32, 7, UINT32),
    K(f32, 8, FIXED32),
    K(u64, 9, UINT64),
    K(f64, 10, FIXED64),
    K(fl, 11, FLOAT),
    K(db, 12, DOUBLE),
    K(flag, 13, BOOL),
    FIELD(Kinds, "kind", 14, NONE, ENUM, 0, kind, &renkei__v1__facility_kind__descriptor, NULL, 0),
    FIELD(Kinds, "text", 15, NONE, STRING, 0, text, NULL, &protobuf_c_empty_string, 0),
    K(blob, 16, BYTES),
    FIELD(Kinds, "child", 17, NONE, MESSAGE, 0, child, &kinds_descriptor, NULL, 0),
    K_REPEATED(many, 18, INT64, NULL),
    K_REPEATED(blobs, 19, BYTES, NULL),
    K_REPEATED(labels, 20, MESSAGE, &labels_entry_descriptor),
    K_REPEATED(children_by_id, 21, MESSAGE, &children_by_id_entry_descriptor),
    K_REPEATED(flags, 22, MESSAGE, &flags_entry_descriptor),
    FIELD(Kinds, "opt_count", 23, OPTIONAL, INT32, offsetof(Kinds, has_opt_count), opt_count, NULL,
          NULL, 0),
    FIELD(Kinds, "opt_note", 24, OPTIONAL, STRING, 0, opt_note, NULL, NULL, 0),
    K_ONEOF(pick_text, 25, STRING, NULL, &protobuf_c_empty_string),
    K_ONEOF(pick_number, 26, INT32, NULL, NULL),
    K_ONEOF(pick_child, 27, MESSAGE, &kinds_descriptor, NULL),
    K_REPEATED(kinds, 28, ENUM, &renkei__v1__facility_kind__descriptor),
    K_REPEATED(texts, 29, STRING, NULL),
};
#define N_KINDS_FIELDS (sizeof(kinds_fields) / sizeof(kinds_fields[0]))

static unsigned kinds_by_name[N_KINDS_FIELDS]; /* sorted in group_setup() */
static const ProtobufCIntRange kinds_ranges[] = {{1, 0}, {0, N_KINDS_FIELDS}};

static const ProtobufCFieldDescriptor labels_entry_fields[] = {
    FIELD(LabelsEntry, "key", 1, NONE, STRING, 0, key, NULL, &protobuf_c_empty_string, 0),
    FIELD(LabelsEntry, "value", 2, NONE, INT64, 0, value, NULL, NULL, 0),
};
static const ProtobufCFieldDescriptor children_by_id_entry_fields[] = {
    FIELD(ChildrenByIdEntry, "key", 1, NONE, INT32, 0, key, NULL, NULL, 0),
    FIELD(ChildrenByIdEntry, "value", 2, NONE, MESSAGE, 0, value, &kinds_descriptor, NULL, 0),
};
static const ProtobufCFieldDescriptor flags_entry_fields[] = {
    FIELD(FlagsEntry, "key", 1, NONE, BOOL, 0, key, NULL, NULL, 0),
    FIELD(FlagsEntry, "value", 2, NONE, STRING, 0, value, NULL, &protobuf_c_empty_string, 0),
};
static const unsigned entry_by_name[] = {0, 1};
static const ProtobufCIntRange entry_ranges[] = {{1, 0}, {0, 2}};

#define DESCRIPTOR(full_name, short_name, type_, fields, by_name, ranges, init)                    \
    {                                                                                              \
        PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, full_name, short_name, short_name, "rk.test",        \
            sizeof(type_), sizeof(fields) / sizeof(fields[0]), fields, by_name, 1, ranges, init,   \
            NULL, NULL, NULL                                                                       \
    }

static const ProtobufCMessageDescriptor kinds_descriptor = DESCRIPTOR(
    "rk.test.Kinds", "Kinds", Kinds, kinds_fields, kinds_by_name, kinds_ranges, kinds_init);
static const ProtobufCMessageDescriptor labels_entry_descriptor =
    DESCRIPTOR("rk.test.Kinds.LabelsEntry", "LabelsEntry", LabelsEntry, labels_entry_fields,
               entry_by_name, entry_ranges, labels_entry_init);
static const ProtobufCMessageDescriptor children_by_id_entry_descriptor =
    DESCRIPTOR("rk.test.Kinds.ChildrenByIdEntry", "ChildrenByIdEntry", ChildrenByIdEntry,
               children_by_id_entry_fields, entry_by_name, entry_ranges, children_by_id_entry_init);
static const ProtobufCMessageDescriptor flags_entry_descriptor =
    DESCRIPTOR("rk.test.Kinds.FlagsEntry", "FlagsEntry", FlagsEntry, flags_entry_fields,
               entry_by_name, entry_ranges, flags_entry_init);

static Kinds kinds_value(void)
{
    Kinds k;
    kinds_init(&k.base);
    return k;
}

static int by_name_cmp(const void *a, const void *b)
{
    return strcmp(kinds_fields[*(const unsigned *)a].name, kinds_fields[*(const unsigned *)b].name);
}

static int group_setup(void **state)
{
    (void)state;
    for (unsigned i = 0; i < N_KINDS_FIELDS; i++)
        kinds_by_name[i] = i;
    qsort(kinds_by_name, N_KINDS_FIELDS, sizeof(kinds_by_name[0]), by_name_cmp);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------------------------- */

static char err[2048];

static json_t *load(const char *text)
{
    json_error_t error;
    json_t *json = json_loads(text, JSON_REJECT_DUPLICATES, &error);
    if (json == NULL)
        fail_msg("test JSON does not load: %s: %s", error.text, text);
    return json;
}

/* Parses text with the default allocator; free the result with free_message(). */
static ProtobufCMessage *parse(const ProtobufCMessageDescriptor *desc, const char *text)
{
    json_t *json = load(text);
    ProtobufCMessage *msg = rk_json_to_message(desc, json, NULL, err, sizeof(err));
    json_decref(json);
    return msg;
}

static ProtobufCMessage *parse_ok(const ProtobufCMessageDescriptor *desc, const char *text)
{
    ProtobufCMessage *msg = parse(desc, text);
    if (msg == NULL)
        fail_msg("%s was refused: %s", text, err);
    return msg;
}

static void free_message(void *msg)
{
    protobuf_c_message_free_unpacked(msg, NULL);
}

static void assert_refused(const ProtobufCMessageDescriptor *desc, const char *text,
                           const char *expected)
{
    ProtobufCMessage *msg = parse(desc, text);
    if (msg != NULL) {
        free_message(msg);
        fail_msg("%s was accepted", text);
    }
    assert_string_equal(err, expected);
}

/* Compact JSON text of msg; the caller frees it. */
static char *dump(const void *msg)
{
    json_t *json = rk_json_from_message(msg);
    assert_non_null(json);
    char *text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    return text;
}

static void assert_json(const void *msg, const char *expected)
{
    char *text = dump(msg);
    assert_string_equal(text, expected);
    free(text);
}

static void assert_same_packed(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t len = protobuf_c_message_get_packed_size(a);
    assert_int_equal(len, protobuf_c_message_get_packed_size(b));
    uint8_t *packed_a = rk_xmalloc(len), *packed_b = rk_xmalloc(len);
    protobuf_c_message_pack(a, packed_a);
    protobuf_c_message_pack(b, packed_b);
    if (len > 0)
        assert_memory_equal(packed_a, packed_b, len);
    free(packed_a);
    free(packed_b);
}

/* message → JSON text → message: the same packed bytes, and the same JSON again. */
static void assert_round_trip(const void *msg)
{
    const ProtobufCMessage *original = msg;
    char *text = dump(original);
    ProtobufCMessage *back = parse_ok(original->descriptor, text);
    assert_same_packed(original, back);
    assert_json(back, text);
    free_message(back);
    free(text);
}

/* ---------------------------------------------------------------------------------------------
 * The contract
 * ------------------------------------------------------------------------------------------- */

static void contract_search_request(void **state)
{
    (void)state;
    Renkei__V1__SearchFacilitiesRequest req = RENKEI__V1__SEARCH_FACILITIES_REQUEST__INIT;
    Renkei__V1__FacilityKind kinds[] = {RENKEI__V1__FACILITY_KIND__FACILITY_KIND_POOL,
                                        RENKEI__V1__FACILITY_KIND__FACILITY_KIND_TENNIS_COURT};
    char *municipalities[] = {"chofu", "132080"};
    Renkei__V1__AccessibilityFeature features[] = {
        RENKEI__V1__ACCESSIBILITY_FEATURE__ACCESSIBILITY_FEATURE_WHEELCHAIR_ACCESSIBLE};
    Renkei__V1__GeoPoint near = RENKEI__V1__GEO_POINT__INIT;
    Renkei__V1__Yen fee = RENKEI__V1__YEN__INIT;
    Renkei__V1__TimeRange window = RENKEI__V1__TIME_RANGE__INIT;
    Renkei__V1__PageRequest page = RENKEI__V1__PAGE_REQUEST__INIT;
    req.n_kinds = 2;
    req.kinds = kinds;
    req.query = "やきゅう";
    req.n_municipalities = 2;
    req.municipalities = municipalities;
    near.latitude = 35.5;
    near.longitude = 139.5;
    req.near = &near;
    req.radius_meters = 2000;
    req.n_accessibility = 1;
    req.accessibility = features;
    fee.amount = 1200;
    req.max_hourly_fee = &fee;
    window.start = "2026-11-28T00:00:00Z";
    window.end = "2026-11-29T00:00:00Z";
    req.free_within = &window;
    req.sort = RENKEI__V1__FACILITY_SORT__FACILITY_SORT_DISTANCE;
    req.bookable_only = 1;
    page.page_size = 50;
    req.page = &page;
    assert_json(&req, "{\"kinds\":[\"FACILITY_KIND_POOL\",\"FACILITY_KIND_TENNIS_COURT\"],"
                      "\"query\":\"やきゅう\",\"municipalities\":[\"chofu\",\"132080\"],"
                      "\"near\":{\"latitude\":35.5,\"longitude\":139.5},\"radiusMeters\":2000,"
                      "\"accessibility\":[\"ACCESSIBILITY_FEATURE_WHEELCHAIR_ACCESSIBLE\"],"
                      "\"maxHourlyFee\":{\"amount\":\"1200\"},"
                      "\"freeWithin\":{\"start\":\"2026-11-28T00:00:00Z\","
                      "\"end\":\"2026-11-29T00:00:00Z\"},"
                      "\"sort\":\"FACILITY_SORT_DISTANCE\",\"bookableOnly\":true,"
                      "\"page\":{\"pageSize\":50}}");
    assert_round_trip(&req);

    /* proto names are accepted as well as JSON names, and enums by number */
    Renkei__V1__SearchFacilitiesRequest *parsed = (void *)parse_ok(
        &renkei__v1__search_facilities_request__descriptor,
        "{\"kinds\":[4,\"FACILITY_KIND_TENNIS_COURT\"],\"max_hourly_fee\":{\"amount\":1200},"
        "\"page\":{\"page_size\":\"50\",\"pageToken\":\"abc\"},\"bookable_only\":true}");
    assert_int_equal(parsed->n_kinds, 2);
    assert_int_equal(parsed->kinds[0], RENKEI__V1__FACILITY_KIND__FACILITY_KIND_POOL);
    assert_int_equal(parsed->kinds[1], RENKEI__V1__FACILITY_KIND__FACILITY_KIND_TENNIS_COURT);
    assert_int_equal(parsed->max_hourly_fee->amount, 1200);
    assert_int_equal(parsed->page->page_size, 50);
    assert_string_equal(parsed->page->page_token, "abc");
    assert_true(parsed->bookable_only);
    assert_string_equal(parsed->query, "");
    free_message(parsed);
}

static void contract_booking_and_errors(void **state)
{
    (void)state;
    Renkei__V1__Booking booking = RENKEI__V1__BOOKING__INIT;
    Renkei__V1__LocalizedText name = RENKEI__V1__LOCALIZED_TEXT__INIT;
    Renkei__V1__MunicipalityRef owner = RENKEI__V1__MUNICIPALITY_REF__INIT;
    Renkei__V1__TimeRange time = RENKEI__V1__TIME_RANGE__INIT;
    Renkei__V1__Yen fee = RENKEI__V1__YEN__INIT;
    Renkei__V1__AgreementRef agreement = RENKEI__V1__AGREEMENT_REF__INIT;
    booking.id = "bk_01";
    name.ja = "調布市民テニスコート";
    name.en = "Chofu Tennis Courts";
    booking.facility_name = &name;
    owner.code = "132080";
    owner.slug = "chofu";
    booking.owner = &owner;
    time.start = "2026-11-28T01:00:00Z";
    time.end = "2026-11-28T03:00:00Z";
    booking.time = &time;
    booking.state = RENKEI__V1__BOOKING_STATE__BOOKING_STATE_HELD;
    fee.amount = 0; /* free, yet present: a message field is output when set */
    booking.fee = &fee;
    agreement.agreement_id = "ag_tama";
    agreement.version = 2;
    booking.agreement = &agreement;
    booking.attendees = 4;
    assert_json(&booking, "{\"id\":\"bk_01\",\"facilityName\":{\"ja\":\"調布市民テニスコート\","
                          "\"en\":\"Chofu Tennis Courts\"},"
                          "\"owner\":{\"code\":\"132080\",\"slug\":\"chofu\"},"
                          "\"time\":{\"start\":\"2026-11-28T01:00:00Z\","
                          "\"end\":\"2026-11-28T03:00:00Z\"},"
                          "\"state\":\"BOOKING_STATE_HELD\",\"fee\":{},"
                          "\"agreement\":{\"agreementId\":\"ag_tama\",\"version\":2},"
                          "\"attendees\":4}");
    assert_round_trip(&booking);

    /* ErrorMetadata has key = 1 and value = 2 but is no map entry: it stays an array */
    Renkei__V1__ErrorDetail detail = RENKEI__V1__ERROR_DETAIL__INIT;
    Renkei__V1__FieldViolation violation = RENKEI__V1__FIELD_VIOLATION__INIT;
    Renkei__V1__FieldViolation *violations[] = {&violation};
    Renkei__V1__ErrorMetadata metadata = RENKEI__V1__ERROR_METADATA__INIT;
    Renkei__V1__ErrorMetadata *metadatas[] = {&metadata};
    detail.reason = "ERROR_REASON_FIELD_INVALID";
    violation.field = "time.start";
    violation.description = "must be RFC 3339";
    detail.n_field_violations = 1;
    detail.field_violations = violations;
    metadata.key = "method";
    metadata.value = "HoldSlot";
    detail.n_metadata = 1;
    detail.metadata = metadatas;
    assert_json(&detail, "{\"reason\":\"ERROR_REASON_FIELD_INVALID\","
                         "\"fieldViolations\":[{\"field\":\"time.start\","
                         "\"description\":\"must be RFC 3339\"}],"
                         "\"metadata\":[{\"key\":\"method\",\"value\":\"HoldSlot\"}]}");
    assert_round_trip(&detail);

    /* the Connect error detail: the packed ErrorDetail as base64 bytes */
    Renkei__V1__PackedDetail packed = RENKEI__V1__PACKED_DETAIL__INIT;
    packed.type_url = "type.googleapis.com/renkei.v1.ErrorDetail";
    packed.value.len = protobuf_c_message_get_packed_size(&detail.base);
    packed.value.data = rk_xmalloc(packed.value.len);
    protobuf_c_message_pack(&detail.base, packed.value.data);
    assert_round_trip(&packed);
    free(packed.value.data);

    Grpc__Health__V1__HealthCheckResponse health = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    health.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    assert_json(&health, "{\"status\":\"SERVING\"}");
    assert_round_trip(&health);
}

static void contract_oneofs(void **state)
{
    (void)state;
    Renkei__V1__FeedItem item = RENKEI__V1__FEED_ITEM__INIT;
    Renkei__V1__Booking booking = RENKEI__V1__BOOKING__INIT;
    item.id = "bk_01";
    item.modified = 9007199254740993; /* 2^53 + 1: exact only as a string */
    booking.id = "bk_01";
    item.data_case = RENKEI__V1__FEED_ITEM__DATA_BOOKING;
    item.booking = &booking;
    assert_json(&item, "{\"id\":\"bk_01\",\"modified\":\"9007199254740993\","
                       "\"booking\":{\"id\":\"bk_01\"}}");
    assert_round_trip(&item);

    Renkei__V1__RegisterAdapterRequest *req =
        (void *)parse_ok(&renkei__v1__register_adapter_request__descriptor,
                         "{\"tenant\":\"chofu\",\"pinnedCertSha256\":\"ab12\",\"caPem\":null}");
    assert_int_equal(req->trust_case,
                     RENKEI__V1__REGISTER_ADAPTER_REQUEST__TRUST_PINNED_CERT_SHA256);
    assert_string_equal(req->pinned_cert_sha256, "ab12");
    assert_json(req, "{\"tenant\":\"chofu\",\"pinnedCertSha256\":\"ab12\"}");
    assert_round_trip(req);
    free_message(req);

    assert_refused(&renkei__v1__register_adapter_request__descriptor,
                   "{\"ca_pem\":\"-----BEGIN CERTIFICATE-----\",\"pinnedCertSha256\":\"ab12\"}",
                   "$.pinnedCertSha256: cannot be set with \"caPem\": both belong to one oneof");
}

static void contract_errors_name_the_path(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *search = &renkei__v1__search_facilities_request__descriptor;
    assert_refused(search, "{\"freeWithin\":{\"start\":5}}",
                   "$.freeWithin.start: must be a string");
    assert_refused(search, "{\"free_within\":{\"end\":true}}",
                   "$.free_within.end: must be a string");
    assert_refused(search, "{\"page\":{\"pageSize\":2147483648}}",
                   "$.page.pageSize: must be an integer between -2147483648 and 2147483647");
    assert_refused(search, "{\"page\":{\"pageSize\":\"twenty\"}}",
                   "$.page.pageSize: must be an integer between -2147483648 and 2147483647");
    assert_refused(search, "{\"colour\":\"red\"}", "$.colour: unknown field");
    assert_refused(search, "{\"near\":{\"lat\":35.5}}", "$.near.lat: unknown field");
    assert_refused(search, "{\"near\":[35.5,139.5]}", "$.near: must be an object");
    assert_refused(search, "{\"bookableOnly\":\"yes\"}", "$.bookableOnly: must be true or false");
    assert_refused(search, "{\"municipalities\":\"chofu\"}", "$.municipalities: must be an array");
    assert_refused(search, "{\"municipalities\":[\"chofu\",7]}",
                   "$.municipalities[1]: must be a string");
    assert_refused(search, "{\"kinds\":[\"FACILITY_KIND_POOL\",\"POOL\"]}",
                   "$.kinds[1]: unknown value \"POOL\" of renkei.v1.FacilityKind");
    assert_refused(search, "{\"sort\":true}",
                   "$.sort: must be a value name of renkei.v1.FacilitySort or an integer");
    assert_refused(search, "{\"maxHourlyFee\":{\"amount\":\"12.5\"}}",
                   "$.maxHourlyFee.amount: must be an integer between -9223372036854775808 and "
                   "9223372036854775807");
    assert_refused(search, "{\"page_size\":1}", "$.page_size: unknown field");
    assert_refused(search, "{\"page\":{\"page_size\":1,\"pageSize\":2}}",
                   "$.page.pageSize: given twice, as \"page_size\" and as \"pageSize\"");
    assert_refused(search, "[]", "$: must be an object");
    assert_refused(&renkei__v1__error_detail__descriptor,
                   "{\"fieldViolations\":[{\"field\":\"a\"},{\"field\":\"b\",\"why\":\"c\"}]}",
                   "$.fieldViolations[1].why: unknown field");

    /* null means the default, for every kind of field */
    Renkei__V1__SearchFacilitiesRequest *req = (void *)parse_ok(
        search, "{\"kinds\":null,\"query\":null,\"near\":null,\"radiusMeters\":null,"
                "\"sort\":null,\"bookableOnly\":null}");
    assert_json(req, "{}");
    free_message(req);

    /* err may be NULL, and a short one is truncated, never overrun */
    json_t *json = load("{\"colour\":\"red\"}");
    assert_null(rk_json_to_message(search, json, NULL, NULL, 0));
    char small[8];
    assert_null(rk_json_to_message(search, json, NULL, small, sizeof(small)));
    assert_string_equal(small, "$.colou");
    json_decref(json);
}

static void japanese_text_intact(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *text = &renkei__v1__localized_text__descriptor;
    Renkei__V1__LocalizedText *parsed = (void *)parse_ok(
        text, "{\"ja\":\"東京都調布市小島町2-35-1\",\"en\":\"\\u8abf\\u5e03 Chofu\","
              "\"kana\":\"チョウフシ \\ud842\\udfb7\"}");
    assert_string_equal(parsed->ja, "東京都調布市小島町2-35-1");
    assert_string_equal(parsed->en, "調布 Chofu");
    assert_string_equal(parsed->kana, "チョウフシ 𠮷"); /* U+20BB7, outside the BMP */
    assert_json(parsed, "{\"ja\":\"東京都調布市小島町2-35-1\",\"en\":\"調布 Chofu\","
                        "\"kana\":\"チョウフシ 𠮷\"}");
    assert_round_trip(parsed);
    free_message(parsed);

    /* invalid UTF-8 never reaches us from jansson; a message holding it has no JSON */
    json_error_t error;
    assert_null(json_loads("{\"ja\":\"\xe8\xaa\"}", 0, &error));
    Renkei__V1__LocalizedText broken = RENKEI__V1__LOCALIZED_TEXT__INIT;
    broken.ja = "\xe8\xaa";
    assert_null(rk_json_from_message(&broken.base));

    /* U+0000 would cut a protobuf-c string short */
    json_t *json = json_pack("{s:s%}", "ja", "a\0b", (size_t)3);
    assert_null(rk_json_to_message(text, json, NULL, err, sizeof(err)));
    assert_string_equal(err, "$.ja: must not contain U+0000");
    json_decref(json);
}

/* ---------------------------------------------------------------------------------------------
 * Every kind of field (rk.test.Kinds)
 * ------------------------------------------------------------------------------------------- */

static void scalars_round_trip(void **state)
{
    (void)state;
    Kinds k = kinds_value();
    k.i32 = INT32_MIN;
    k.s32 = -7;
    k.sf32 = INT32_MAX;
    k.i64 = INT64_MIN;
    k.s64 = -1;
    k.sf64 = INT64_MAX;
    k.u32 = UINT32_MAX;
    k.f32 = 7;
    k.u64 = UINT64_MAX;
    k.f64 = UINT64_C(1) << 63;
    k.fl = 1.5f;
    k.db = -0.25;
    k.flag = 1;
    k.kind = RENKEI__V1__FACILITY_KIND__FACILITY_KIND_OTHER;
    k.text = "テキスト";
    uint8_t blob[] = {0xfb, 0xff, 0xfe, 0x00};
    k.blob = (ProtobufCBinaryData){sizeof(blob), blob};
    assert_json(&k, "{\"i32\":-2147483648,\"s32\":-7,\"sf32\":2147483647,"
                    "\"i64\":\"-9223372036854775808\",\"s64\":\"-1\","
                    "\"sf64\":\"9223372036854775807\",\"u32\":4294967295,\"f32\":7,"
                    "\"u64\":\"18446744073709551615\",\"f64\":\"9223372036854775808\","
                    "\"fl\":1.5,\"db\":-0.25,\"flag\":true,\"kind\":\"FACILITY_KIND_OTHER\","
                    "\"text\":\"テキスト\",\"blob\":\"+//+AA==\"}");
    assert_round_trip(&k);

    /* defaults are omitted; a message field set to an empty message is not */
    Kinds zero = kinds_value();
    assert_json(&zero, "{}");
    Kinds parent = kinds_value();
    parent.child = &zero;
    assert_json(&parent, "{\"child\":{}}");
    assert_round_trip(&parent);
}

static void integers_in(void **state)
{
    (void)state;
    Kinds *k = (void *)parse_ok(&kinds_descriptor,
                                "{\"i32\":\"-5\",\"s32\":1e2,\"sf32\":2.0,\"i64\":42,"
                                "\"s64\":\"-9223372036854775808\",\"sf64\":\"1E3\","
                                "\"u32\":\"4294967295\",\"f32\":-0,"
                                "\"u64\":\"18446744073709551615\",\"f64\":9007199254740992}");
    assert_int_equal(k->i32, -5);
    assert_int_equal(k->s32, 100);
    assert_int_equal(k->sf32, 2);
    assert_int_equal(k->i64, 42);
    assert_true(k->s64 == INT64_MIN);
    assert_int_equal(k->sf64, 1000);
    assert_int_equal(k->u32, UINT32_MAX);
    assert_int_equal(k->f32, 0);
    assert_true(k->u64 == UINT64_MAX);
    assert_true(k->f64 == UINT64_C(9007199254740992));
    free_message(k);

    const char *int32_rule = "must be an integer between -2147483648 and 2147483647";
    const char *uint32_rule = "must be an integer between 0 and 4294967295";
    const char *int64_rule =
        "must be an integer between -9223372036854775808 and 9223372036854775807";
    const char *uint64_rule = "must be an integer between 0 and 18446744073709551615";
    static const struct {
        const char *json, *path, *rule_for;
    } bad[] = {
        {"{\"i32\":-2147483649}", "$.i32", "i"},
        {"{\"s32\":1.5}", "$.s32", "i"},
        {"{\"sf32\":\"\"}", "$.sf32", "i"},
        {"{\"i32\":\" 1\"}", "$.i32", "i"},
        {"{\"i32\":\"0x10\"}", "$.i32", "i"},
        {"{\"i32\":\"+1\"}", "$.i32", "i"},
        {"{\"i32\":true}", "$.i32", "i"},
        {"{\"u32\":-1}", "$.u32", "u"},
        {"{\"f32\":4294967296}", "$.f32", "u"},
        {"{\"i64\":\"9223372036854775808\"}", "$.i64", "I"},
        {"{\"s64\":\"-9223372036854775809\"}", "$.s64", "I"},
        {"{\"sf64\":1e19}", "$.sf64", "I"},
        {"{\"u64\":\"18446744073709551616\"}", "$.u64", "U"},
        {"{\"u64\":\"-1\"}", "$.u64", "U"},
        {"{\"f64\":\"1e20\"}", "$.f64", "U"},
        {"{\"f64\":[1]}", "$.f64", "U"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *rule = bad[i].rule_for[0] == 'i'   ? int32_rule
                           : bad[i].rule_for[0] == 'u' ? uint32_rule
                           : bad[i].rule_for[0] == 'I' ? int64_rule
                                                       : uint64_rule;
        char expected[256];
        snprintf(expected, sizeof(expected), "%s: %s", bad[i].path, rule);
        assert_refused(&kinds_descriptor, bad[i].json, expected);
    }

    /* jansson itself refuses an integer beyond int64 as a bare number: send it as a string */
    json_error_t error;
    assert_null(json_loads("{\"u64\":18446744073709551615}", 0, &error));
}

static void floats_nan_infinity(void **state)
{
    (void)state;
    Kinds k = kinds_value();
    k.fl = INFINITY;
    k.db = NAN;
    assert_json(&k, "{\"fl\":\"Infinity\",\"db\":\"NaN\"}");
    k.fl = -INFINITY;
    k.db = -INFINITY;
    assert_json(&k, "{\"fl\":\"-Infinity\",\"db\":\"-Infinity\"}");
    assert_round_trip(&k);

    Kinds *parsed = (void *)parse_ok(&kinds_descriptor, "{\"fl\":\"NaN\",\"db\":\"Infinity\"}");
    assert_true(isnan(parsed->fl));
    assert_true(isinf(parsed->db) && parsed->db > 0);
    free_message(parsed);
    parsed = (void *)parse_ok(&kinds_descriptor, "{\"fl\":\"-2.5e1\",\"db\":3}");
    assert_true(parsed->fl == -25.0f);
    assert_true(parsed->db == 3.0);
    free_message(parsed);
    parsed = (void *)parse_ok(&kinds_descriptor, "{\"fl\":3.4028234663852886e38}");
    assert_true(parsed->fl == 3.4028234663852886e38f);
    free_message(parsed);

    const char *rule = "must be a number, \"NaN\", \"Infinity\" or \"-Infinity\"";
    char expected[256];
    snprintf(expected, sizeof(expected), "$.db: %s", rule);
    assert_refused(&kinds_descriptor, "{\"db\":\"nan\"}", expected);
    assert_refused(&kinds_descriptor, "{\"db\":\"1e999\"}", expected);
    assert_refused(&kinds_descriptor, "{\"db\":\"0x1p3\"}", expected);
    assert_refused(&kinds_descriptor, "{\"db\":false}", expected);
    assert_refused(&kinds_descriptor, "{\"fl\":1e39}",
                   "$.fl: must be within the range of a float (±3.4028235e38)");
}

static void bytes_base64(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *bytes;
        size_t len;
    } good[] = {
        {"\"+//+AA==\"", "\xfb\xff\xfe\x00", 4}, /* standard, padded */
        {"\"+//+AA\"", "\xfb\xff\xfe\x00", 4},   /* standard, unpadded */
        {"\"-__-AA==\"", "\xfb\xff\xfe\x00", 4}, /* URL-safe, padded */
        {"\"-__-AA\"", "\xfb\xff\xfe\x00", 4},   /* URL-safe, unpadded */
        {"\"QUI=\"", "AB", 2},
        {"\"QUI\"", "AB", 2},
        {"\"QUJD\"", "ABC", 3},
        {"\"\"", "", 0},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char text[64];
        snprintf(text, sizeof(text), "{\"blob\":%s}", good[i].json);
        Kinds *k = (void *)parse_ok(&kinds_descriptor, text);
        assert_int_equal(k->blob.len, good[i].len);
        if (good[i].len > 0)
            assert_memory_equal(k->blob.data, good[i].bytes, good[i].len);
        free_message(k);
    }
    static const char *bad[] = {
        "{\"blob\":\"Q\"}",        "{\"blob\":\"QUI==\"}",
        "{\"blob\":\"QQ=\"}",      "{\"blob\":\"Q===\"}",
        "{\"blob\":\"QQ==QQ==\"}", "{\"blob\":\"QU I=\"}",
        "{\"blob\":\"QU*I\"}",     "{\"blob\":7}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_refused(&kinds_descriptor, bad[i], "$.blob: must be a base64 string");

    /* longer than one decoding chunk, and in a repeated field */
    Kinds k = kinds_value();
    uint8_t big[1000], small[] = {1, 2};
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7 + 3);
    ProtobufCBinaryData blobs[] = {{sizeof(big), big}, {0, NULL}, {sizeof(small), small}};
    k.n_blobs = 3;
    k.blobs = blobs;
    assert_round_trip(&k);
    assert_refused(&kinds_descriptor, "{\"blobs\":[\"AQI=\",\"%%\"]}",
                   "$.blobs[1]: must be a base64 string");
}

static void enums_by_name_and_number(void **state)
{
    (void)state;
    Kinds k = kinds_value();
    int kinds[] = {RENKEI__V1__FACILITY_KIND__FACILITY_KIND_POOL, 77, 0};
    k.kind = 77; /* a number the enum does not name (proto3 enums are open) */
    k.n_kinds = 3;
    k.kinds = kinds;
    assert_json(&k, "{\"kind\":77,\"kinds\":[\"FACILITY_KIND_POOL\",77,"
                    "\"FACILITY_KIND_UNSPECIFIED\"]}");
    assert_round_trip(&k);

    Kinds *parsed =
        (void *)parse_ok(&kinds_descriptor, "{\"kind\":\"FACILITY_KIND_OTHER\",\"kinds\":[4,-3]}");
    assert_int_equal(parsed->kind, RENKEI__V1__FACILITY_KIND__FACILITY_KIND_OTHER);
    assert_int_equal(parsed->n_kinds, 2);
    assert_int_equal(parsed->kinds[0], RENKEI__V1__FACILITY_KIND__FACILITY_KIND_POOL);
    assert_int_equal(parsed->kinds[1], -3);
    free_message(parsed);
    assert_refused(&kinds_descriptor, "{\"kinds\":[\"4\"]}",
                   "$.kinds[0]: unknown value \"4\" of renkei.v1.FacilityKind");
    assert_refused(&kinds_descriptor, "{\"kind\":2147483648}",
                   "$.kind: must be a value name of renkei.v1.FacilityKind or an integer");
    assert_refused(&kinds_descriptor, "{\"kind\":1.5}",
                   "$.kind: must be a value name of renkei.v1.FacilityKind or an integer");
}

static void repeated_fields(void **state)
{
    (void)state;
    Kinds k = kinds_value();
    int64_t many[] = {1, -2, INT64_MAX};
    char *texts[] = {"a", "", "文字"};
    k.n_many = 3;
    k.many = many;
    k.n_texts = 3;
    k.texts = texts;
    assert_json(&k, "{\"many\":[\"1\",\"-2\",\"9223372036854775807\"],"
                    "\"texts\":[\"a\",\"\",\"文字\"]}");
    assert_round_trip(&k);

    Kinds *parsed = (void *)parse_ok(&kinds_descriptor, "{\"many\":[],\"texts\":null}");
    assert_int_equal(parsed->n_many, 0);
    assert_int_equal(parsed->n_texts, 0);
    assert_json(parsed, "{}");
    free_message(parsed);
    assert_refused(&kinds_descriptor, "{\"many\":[\"1\",null]}",
                   "$.many[1]: must be an integer between -9223372036854775808 and "
                   "9223372036854775807");
}

static void maps(void **state)
{
    (void)state;
    Kinds k = kinds_value(), child = kinds_value();
    LabelsEntry label_a = {PROTOBUF_C_MESSAGE_INIT(&labels_entry_descriptor), "a", 1};
    LabelsEntry label_b = {PROTOBUF_C_MESSAGE_INIT(&labels_entry_descriptor), "番号", -2};
    LabelsEntry *labels[] = {&label_a, &label_b};
    ChildrenByIdEntry by_id = {PROTOBUF_C_MESSAGE_INIT(&children_by_id_entry_descriptor), -7,
                               &child};
    ChildrenByIdEntry *children[] = {&by_id};
    FlagsEntry flag_on = {PROTOBUF_C_MESSAGE_INIT(&flags_entry_descriptor), 1, "yes"};
    FlagsEntry flag_off = {PROTOBUF_C_MESSAGE_INIT(&flags_entry_descriptor), 0, ""};
    FlagsEntry *flags[] = {&flag_on, &flag_off};
    child.text = "child";
    k.n_labels = 2;
    k.labels = labels;
    k.n_children_by_id = 1;
    k.children_by_id = children;
    k.n_flags = 2;
    k.flags = flags;
    assert_json(&k, "{\"labels\":{\"a\":\"1\",\"番号\":\"-2\"},"
                    "\"childrenById\":{\"-7\":{\"text\":\"child\"}},"
                    "\"flags\":{\"true\":\"yes\",\"false\":\"\"}}");
    assert_round_trip(&k);

    Kinds *parsed = (void *)parse_ok(&kinds_descriptor, "{\"children_by_id\":{\"3\":{}}}");
    assert_int_equal(parsed->n_children_by_id, 1);
    assert_int_equal(parsed->children_by_id[0]->key, 3);
    assert_non_null(parsed->children_by_id[0]->value);
    free_message(parsed);

    assert_refused(&kinds_descriptor, "{\"childrenById\":{\"x\":{}}}",
                   "$.childrenById[\"x\"]: map key must be an integer between -2147483648 and "
                   "2147483647");
    assert_refused(&kinds_descriptor, "{\"flags\":{\"yes\":\"a\"}}",
                   "$.flags[\"yes\"]: map key must be \"true\" or \"false\"");
    assert_refused(&kinds_descriptor, "{\"labels\":{\"a\":null}}",
                   "$.labels[\"a\"]: must not be null");
    assert_refused(&kinds_descriptor, "{\"labels\":[]}", "$.labels: must be an object");
    assert_refused(&kinds_descriptor, "{\"childrenById\":{\"1\":{\"i32\":\"x\"}}}",
                   "$.childrenById[\"1\"].i32: must be an integer between -2147483648 and "
                   "2147483647");
}

static void oneofs_and_presence(void **state)
{
    (void)state;
    Kinds k = kinds_value();
    k.pick_case = 26;
    k.pick_number = 0; /* set to its default: still output */
    k.has_opt_count = 1;
    k.opt_count = 0;
    k.opt_note = "";
    assert_json(&k, "{\"optCount\":0,\"optNote\":\"\",\"pickNumber\":0}");
    assert_round_trip(&k);

    Kinds child = kinds_value();
    child.i32 = 1;
    k = kinds_value();
    k.pick_case = 27;
    k.pick_child = &child;
    assert_json(&k, "{\"pickChild\":{\"i32\":1}}");
    assert_round_trip(&k);

    Kinds *parsed = (void *)parse_ok(&kinds_descriptor, "{\"pickText\":\"\",\"pick_number\":null}");
    assert_int_equal(parsed->pick_case, 25);
    assert_string_equal(parsed->pick_text, "");
    assert_false(parsed->has_opt_count);
    assert_null(parsed->opt_note);
    assert_json(parsed, "{\"pickText\":\"\"}");
    free_message(parsed);

    assert_refused(&kinds_descriptor, "{\"pickChild\":{\"text\":\"x\"},\"pickText\":\"y\"}",
                   "$.pickText: cannot be set with \"pickChild\": both belong to one oneof");
    assert_refused(&kinds_descriptor, "{\"pickNumber\":1,\"pick_child\":{}}",
                   "$.pick_child: cannot be set with \"pickNumber\": both belong to one oneof");
}

/* A chain of levels messages, each the child (or, with via_map, the map value) of the one
 * before: "{"child":{"child":{}}}" for 3. */
static char *nested_json(int levels, int via_map)
{
    const char *open = via_map ? "{\"childrenById\":{\"1\":" : "{\"child\":";
    const char *close = via_map ? "}}" : "}";
    size_t len = (size_t)levels * (strlen(open) + strlen(close)) + 1;
    char *text = rk_xmalloc(len), *p = text;
    for (int i = 1; i < levels; i++)
        p += sprintf(p, "%s", open);
    p += sprintf(p, "{}");
    for (int i = 1; i < levels; i++)
        p += sprintf(p, "%s", close);
    return text;
}

static void nesting_is_bounded(void **state)
{
    (void)state;
    for (int via_map = 0; via_map <= 1; via_map++) {
        char *text = nested_json(RK_JSON_MAX_DEPTH, via_map);
        free_message(parse_ok(&kinds_descriptor, text));
        free(text);
        text = nested_json(RK_JSON_MAX_DEPTH + 1, via_map);
        assert_null(parse(&kinds_descriptor, text));
        free(text);
        const char *step = via_map ? ".childrenById[\"1\"]" : ".child";
        const char *rule = ": nests messages deeper than 64 levels";
        assert_int_equal(strlen(err), 1 + RK_JSON_MAX_DEPTH * strlen(step) + strlen(rule));
        assert_memory_equal(err, "$", 1);
        for (int i = 0; i < RK_JSON_MAX_DEPTH; i++)
            assert_memory_equal(err + 1 + (size_t)i * strlen(step), step, strlen(step));
        assert_string_equal(err + 1 + RK_JSON_MAX_DEPTH * strlen(step), rule);
    }

    Kinds chain[RK_JSON_MAX_DEPTH + 1];
    for (int i = 0; i <= RK_JSON_MAX_DEPTH; i++) {
        chain[i] = kinds_value();
        if (i > 0)
            chain[i - 1].child = &chain[i];
    }
    assert_null(rk_json_from_message(&chain[0].base));
    json_t *json = rk_json_from_message(&chain[1].base);
    assert_non_null(json);
    json_decref(json);
}

/* ---------------------------------------------------------------------------------------------
 * Allocation
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    size_t allocs, frees;
} counts_t;

static void *counting_alloc_cb(void *data, size_t size)
{
    ((counts_t *)data)->allocs++;
    return rk_xmalloc(size);
}

static void counting_free_cb(void *data, void *pointer)
{
    ((counts_t *)data)->frees++;
    free(pointer);
}

static void *arena_alloc_cb(void *data, size_t size)
{
    return rk_arena_alloc(data, size);
}

static void arena_free_cb(void *data, void *pointer)
{
    (void)data;
    (void)pointer;
}

static const char *everything =
    "{\"text\":\"t\",\"blob\":\"AQI=\",\"child\":{\"texts\":[\"a\",\"b\"]},\"many\":[\"1\"],"
    "\"blobs\":[\"AQ\"],\"labels\":{\"k\":\"1\"},\"childrenById\":{\"2\":{\"text\":\"c\"}},"
    "\"flags\":{\"true\":\"f\"},\"optNote\":\"n\",\"pickChild\":{\"text\":\"p\"}";

static void allocator_owns_everything(void **state)
{
    (void)state;
    char text[1024];
    counts_t counts = {0, 0};
    ProtobufCAllocator counting = {counting_alloc_cb, counting_free_cb, &counts};

    snprintf(text, sizeof(text), "%s}", everything);
    json_t *json = load(text);
    ProtobufCMessage *msg = rk_json_to_message(&kinds_descriptor, json, &counting, err, 256);
    assert_non_null(msg);
    json_decref(json);
    assert_true(counts.allocs > 20);
    protobuf_c_message_free_unpacked(msg, &counting);
    assert_int_equal(counts.frees, counts.allocs);

    /* an error after everything else was built frees it all, through the same allocator */
    static const char *last_fields[] = {
        ",\"texts\":[\"a\",5]}", ",\"pickText\":\"x\"}",   ",\"colour\":1}",
        ",\"labels2\":{}}",      ",\"kinds\":[\"NOPE\"]}",
    };
    for (size_t i = 0; i < sizeof(last_fields) / sizeof(last_fields[0]); i++) {
        counts = (counts_t){0, 0};
        snprintf(text, sizeof(text), "%s%s", everything, last_fields[i]);
        json = load(text);
        assert_null(rk_json_to_message(&kinds_descriptor, json, &counting, err, 256));
        json_decref(json);
        assert_true(counts.allocs > 20);
        assert_int_equal(counts.frees, counts.allocs);
    }
    /* and with the default allocator (LeakSanitizer checks it) */
    json = load(text);
    assert_null(rk_json_to_message(&kinds_descriptor, json, NULL, err, 256));
    json_decref(json);

    /* the hub's arena: nothing to free but the arena */
    rk_arena_t *arena = rk_arena_new();
    ProtobufCAllocator in_arena = {arena_alloc_cb, arena_free_cb, arena};
    snprintf(text, sizeof(text), "%s}", everything);
    json = load(text);
    Kinds *k = (void *)rk_json_to_message(&kinds_descriptor, json, &in_arena, err, 256);
    assert_non_null(k);
    assert_string_equal(k->pick_child->text, "p");
    assert_string_equal(k->children_by_id[0]->value->text, "c");
    json_decref(json);
    json = load("{\"child\":{\"text\":\"t\",\"i32\":\"x\"}}");
    assert_null(rk_json_to_message(&kinds_descriptor, json, &in_arena, err, 256));
    json_decref(json);
    rk_arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(contract_search_request),
        cmocka_unit_test(contract_booking_and_errors),
        cmocka_unit_test(contract_oneofs),
        cmocka_unit_test(contract_errors_name_the_path),
        cmocka_unit_test(japanese_text_intact),
        cmocka_unit_test(scalars_round_trip),
        cmocka_unit_test(integers_in),
        cmocka_unit_test(floats_nan_infinity),
        cmocka_unit_test(bytes_base64),
        cmocka_unit_test(enums_by_name_and_number),
        cmocka_unit_test(repeated_fields),
        cmocka_unit_test(maps),
        cmocka_unit_test(oneofs_and_presence),
        cmocka_unit_test(nesting_is_bounded),
        cmocka_unit_test(allocator_owns_everything),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
