/*
 * json_transcode.c — proto3 JSON to and from protobuf-c messages (see json_transcode.h).
 *
 * Both directions walk the descriptor field by field, and one function per direction converts
 * a single value (a singular field, an element of a repeated field, a map key or value) by its
 * ProtobufCType. Integer types are described once, in integer_types[], by width and range.
 *
 * Parsing builds the message the way protobuf-c's own unpack does, so that
 * protobuf_c_message_free_unpacked() can free it at any point: every block comes from the
 * caller's allocator and is stored in the message as soon as it is allocated, arrays are zeroed
 * before their count is set, and a oneof's case is set before its member is filled. An error
 * anywhere therefore only has to free the top-level message.
 *
 * The JSON path of the value being parsed is kept as a stack of frames (object key, array
 * index, map key) pointing into the input; it is printed only when something is wrong.
 *
 * Interface routines: rk_json_from_message(), rk_json_to_message(). Called by net/rpc.c for
 * Connect's JSON bodies.
 */
#include "net/json_transcode.h"

#include "core/error.h"
#include "core/mem.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMBER(msg, offset) ((void *)((char *)(msg) + (offset)))
#define CONST_MEMBER(msg, offset) ((const void *)((const char *)(msg) + (offset)))

/* "-9223372036854775808" and its NUL. */
#define INTEGER_TEXT_MAX 24

/* ---------------------------------------------------------------------------------------------
 * Names and types
 * ------------------------------------------------------------------------------------------- */

/* One character of protoc's name conversions: ASCII lower case is raised after an '_'. */
static char name_char(char c, int upper)
{
    return upper && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* protoc's ToJsonName ("time_range" → "timeRange"); the caller frees the result. */
static char *json_name_dup(const char *proto_name)
{
    char *json_name = rk_xmalloc(strlen(proto_name) + 1), *out = json_name;
    int upper = 0;
    for (const char *p = proto_name; *p; p++) {
        if (*p == '_') {
            upper = 1;
            continue;
        }
        *out++ = name_char(*p, upper);
        upper = 0;
    }
    *out = '\0';
    return json_name;
}

/* Whether key is proto_name's JSON name, compared without building it. */
static int is_json_name(const char *proto_name, const char *key)
{
    int upper = 0;
    for (const char *p = proto_name; *p; p++) {
        if (*p == '_') {
            upper = 1;
            continue;
        }
        if (*key++ != name_char(*p, upper))
            return 0;
        upper = 0;
    }
    return *key == '\0';
}

/*
 * protobuf-c 1.4 does not mark map entries, so recognise the type protoc synthesizes for
 * map<K, V> foo_bar: a message nested in the field's own message, named by MapEntryName
 * ("FooBarEntry"), whose fields are exactly key = 1 and value = 2.
 */
static int is_map_field(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return 0;
    const ProtobufCMessageDescriptor *entry = f->descriptor;
    if (entry->n_fields != 2 || entry->fields[0].id != 1 || strcmp(entry->fields[0].name, "key") ||
        entry->fields[1].id != 2 || strcmp(entry->fields[1].name, "value"))
        return 0;
    size_t parent_len = strlen(parent->name);
    if (strncmp(entry->name, parent->name, parent_len) != 0 || entry->name[parent_len] != '.')
        return 0;
    const char *short_name = entry->name + parent_len + 1;
    int upper = 1;
    for (const char *p = f->name; *p; p++) {
        if (*p == '_') {
            upper = 1;
            continue;
        }
        if (*short_name++ != name_char(*p, upper))
            return 0;
        upper = 0;
    }
    return strcmp(short_name, "Entry") == 0;
}

/* The ten integer types: storage width, the largest magnitude of each sign, the input rule. */
typedef struct {
    unsigned width; /* bytes: 4 or 8; 0 in integer_types[] for the other types */
    uint64_t max_positive, max_negative;
    const char *rule;
} integer_type_t;

#define RULE_INT32 "must be an integer between -2147483648 and 2147483647"
#define RULE_UINT32 "must be an integer between 0 and 4294967295"
#define RULE_INT64 "must be an integer between -9223372036854775808 and 9223372036854775807"
#define RULE_UINT64 "must be an integer between 0 and 18446744073709551615"

static const integer_type_t integer_types[] = {
    [PROTOBUF_C_TYPE_INT32] = {4, INT32_MAX, (uint64_t)INT32_MAX + 1, RULE_INT32},
    [PROTOBUF_C_TYPE_SINT32] = {4, INT32_MAX, (uint64_t)INT32_MAX + 1, RULE_INT32},
    [PROTOBUF_C_TYPE_SFIXED32] = {4, INT32_MAX, (uint64_t)INT32_MAX + 1, RULE_INT32},
    [PROTOBUF_C_TYPE_INT64] = {8, INT64_MAX, (uint64_t)INT64_MAX + 1, RULE_INT64},
    [PROTOBUF_C_TYPE_SINT64] = {8, INT64_MAX, (uint64_t)INT64_MAX + 1, RULE_INT64},
    [PROTOBUF_C_TYPE_SFIXED64] = {8, INT64_MAX, (uint64_t)INT64_MAX + 1, RULE_INT64},
    [PROTOBUF_C_TYPE_UINT32] = {4, UINT32_MAX, 0, RULE_UINT32},
    [PROTOBUF_C_TYPE_FIXED32] = {4, UINT32_MAX, 0, RULE_UINT32},
    [PROTOBUF_C_TYPE_UINT64] = {8, UINT64_MAX, 0, RULE_UINT64},
    [PROTOBUF_C_TYPE_FIXED64] = {8, UINT64_MAX, 0, RULE_UINT64},
};

/* NULL for a type that is not an integer type. */
static const integer_type_t *integer_type(ProtobufCType type)
{
    if ((size_t)type >= sizeof(integer_types) / sizeof(integer_types[0]) ||
        integer_types[type].width == 0)
        return NULL;
    return &integer_types[type];
}

/* Bytes one element of a repeated field of type takes in its array. */
static size_t element_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return integer_type(type)->width;
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int); /* protobuf-c forces every generated enum to int size */
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Message → JSON
 * ------------------------------------------------------------------------------------------- */

static json_t *message_to_json(const ProtobufCMessage *msg, int depth);

/* Decimal text of the integer at member; buf holds INTEGER_TEXT_MAX bytes. */
static const char *integer_text(const integer_type_t *t, const void *member, char *buf)
{
    if (t->width == 4 && t->max_negative)
        snprintf(buf, INTEGER_TEXT_MAX, "%" PRId32, *(const int32_t *)member);
    else if (t->width == 4)
        snprintf(buf, INTEGER_TEXT_MAX, "%" PRIu32, *(const uint32_t *)member);
    else if (t->max_negative)
        snprintf(buf, INTEGER_TEXT_MAX, "%" PRId64, *(const int64_t *)member);
    else
        snprintf(buf, INTEGER_TEXT_MAX, "%" PRIu64, *(const uint64_t *)member);
    return buf;
}

static json_t *floating_to_json(double v)
{
    if (isnan(v))
        return json_string("NaN");
    if (isinf(v))
        return json_string(v > 0 ? "Infinity" : "-Infinity");
    return json_real(v);
}

/* Standard base64 with padding. EVP_EncodeBlock counts in int, hence the 1.5 GiB bound. */
static json_t *bytes_to_json(const ProtobufCBinaryData *bytes)
{
    if (bytes->len > (size_t)INT_MAX / 4 * 3)
        return NULL;
    size_t text_len = (bytes->len + 2) / 3 * 4;
    char *text = rk_xmalloc(text_len + 1);
    EVP_EncodeBlock((unsigned char *)text, bytes->data, (int)bytes->len);
    json_t *json = json_stringn_nocheck(text, text_len);
    free(text);
    return json;
}

/* The JSON of one value of type stored at member, inside a message at depth. */
static json_t *value_to_json(ProtobufCType type, const void *type_desc, const void *member,
                             int depth)
{
    char buf[INTEGER_TEXT_MAX];
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)member);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)member);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return json_string(integer_text(integer_type(type), member, buf));
    case PROTOBUF_C_TYPE_FLOAT:
        return floating_to_json(*(const float *)member);
    case PROTOBUF_C_TYPE_DOUBLE:
        return floating_to_json(*(const double *)member);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)member);
    case PROTOBUF_C_TYPE_ENUM: {
        int number = *(const int *)member;
        const ProtobufCEnumValue *value = protobuf_c_enum_descriptor_get_value(type_desc, number);
        return value ? json_string(value->name) : json_integer(number);
    }
    case PROTOBUF_C_TYPE_STRING:
        return json_string(*(char *const *)member); /* NULL for invalid UTF-8 */
    case PROTOBUF_C_TYPE_BYTES:
        return bytes_to_json(member);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)member;
        /* a oneof member or map value may be set to a message left NULL: its default, {} */
        return sub ? message_to_json(sub, depth + 1) : json_object();
    }
    }
    return NULL;
}

/* Whether a proto3 field without presence holds its type's default. */
static int is_default(ProtobufCType type, const void *member)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return *(const uint32_t *)member == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *)member == 0;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)member == 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)member == 0;
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)member == 0;
    case PROTOBUF_C_TYPE_ENUM:
        return *(const int *)member == 0;
    case PROTOBUF_C_TYPE_STRING:
        return **(char *const *)member == '\0';
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)member)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)member == NULL;
    }
    return 1;
}

/* Whether a singular field is output: as protobuf-c decides whether to pack it, except that a
 * set oneof member is output even when it holds its default (the JSON mapping keeps it). */
static int is_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    const void *member = CONST_MEMBER(msg, f->offset);
    if (f->type == PROTOBUF_C_TYPE_STRING && *(char *const *)member == NULL)
        return 0;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)CONST_MEMBER(msg, f->quantifier_offset) == f->id;
    if (f->label == PROTOBUF_C_LABEL_REQUIRED)
        return 1;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
        if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
            const void *value = *(const void *const *)member;
            return value != NULL && value != f->default_value;
        }
        return *(const protobuf_c_boolean *)CONST_MEMBER(msg, f->quantifier_offset);
    }
    return !is_default(f->type, member);
}

static json_t *array_to_json(const ProtobufCFieldDescriptor *f, const char *array, size_t n,
                             int depth)
{
    size_t size = element_size(f->type);
    json_t *json = json_array();
    for (size_t i = 0; i < n; i++) {
        if (json_array_append_new(
                json, value_to_json(f->type, f->descriptor, array + i * size, depth)) != 0) {
            json_decref(json);
            return NULL;
        }
    }
    return json;
}

/* Map entries as one object; a key repeated among the entries keeps its last value, as in a
 * protobuf map. */
static json_t *map_to_json(const ProtobufCFieldDescriptor *f, ProtobufCMessage *const *entries,
                           size_t n, int depth)
{
    const ProtobufCMessageDescriptor *entry_desc = f->descriptor;
    const ProtobufCFieldDescriptor *key_field = &entry_desc->fields[0];
    const ProtobufCFieldDescriptor *value_field = &entry_desc->fields[1];
    json_t *json = json_object();
    for (size_t i = 0; i < n; i++) {
        const void *key_member = CONST_MEMBER(entries[i], key_field->offset);
        char buf[INTEGER_TEXT_MAX];
        const char *key;
        if (key_field->type == PROTOBUF_C_TYPE_STRING)
            key = *(char *const *)key_member;
        else if (key_field->type == PROTOBUF_C_TYPE_BOOL)
            key = *(const protobuf_c_boolean *)key_member ? "true" : "false";
        else
            key = integer_text(integer_type(key_field->type), key_member, buf);
        /* json_object_set_new() refuses a NULL or non-UTF-8 key and a NULL value */
        if (key == NULL ||
            json_object_set_new(json, key,
                                value_to_json(value_field->type, value_field->descriptor,
                                              CONST_MEMBER(entries[i], value_field->offset),
                                              depth)) != 0) {
            json_decref(json);
            return NULL;
        }
    }
    return json;
}

static json_t *message_to_json(const ProtobufCMessage *msg, int depth)
{
    if (depth > RK_JSON_MAX_DEPTH)
        return NULL;
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    json_t *json = json_object();
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        const void *member = CONST_MEMBER(msg, f->offset);
        json_t *value;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)CONST_MEMBER(msg, f->quantifier_offset);
            if (n == 0)
                continue;
            const void *array = *(const void *const *)member;
            value = is_map_field(desc, f) ? map_to_json(f, array, n, depth)
                                          : array_to_json(f, array, n, depth);
        } else {
            if (!is_present(msg, f))
                continue;
            value = value_to_json(f->type, f->descriptor, member, depth);
        }
        char *name = json_name_dup(f->name);
        int rc = json_object_set_new(json, name, value);
        free(name);
        if (rc != 0) {
            json_decref(json);
            return NULL;
        }
    }
    return json;
}

json_t *rk_json_from_message(const ProtobufCMessage *msg)
{
    return message_to_json(msg, 1);
}

/* ---------------------------------------------------------------------------------------------
 * JSON → message
 * ------------------------------------------------------------------------------------------- */

typedef enum { FRAME_KEY, FRAME_INDEX, FRAME_MAP_KEY } frame_kind_t;

typedef struct {
    frame_kind_t kind;
    const char *key; /* FRAME_KEY, FRAME_MAP_KEY: points into the input */
    size_t index;    /* FRAME_INDEX */
} path_frame_t;

/* Each message level adds at most two frames: a field, then an element or map key of it. */
#define MAX_FRAMES (2 * RK_JSON_MAX_DEPTH + 2)

typedef struct {
    ProtobufCAllocator *allocator;
    int depth; /* messages being parsed, the current one included */
    path_frame_t frames[MAX_FRAMES];
    size_t n_frames; /* frames pushed; only the first MAX_FRAMES are kept */
    char *err;
    size_t err_len;
} parser_t;

static void *xmalloc_cb(void *allocator_data, size_t size)
{
    (void)allocator_data;
    return rk_xmalloc(size);
}

static void free_cb(void *allocator_data, void *pointer)
{
    (void)allocator_data;
    free(pointer);
}

/* Memory protobuf_c_message_free_unpacked(msg, NULL) can free: it calls free() too. */
static ProtobufCAllocator xmalloc_allocator = {xmalloc_cb, free_cb, NULL};

static void *allocate(parser_t *p, size_t size)
{
    void *block = p->allocator->alloc(p->allocator->allocator_data, size);
    if (block == NULL)
        abort(); /* as with rk_xmalloc(), running out of memory is not recoverable */
    return block;
}

static void push_frame(parser_t *p, frame_kind_t kind, const char *key, size_t index)
{
    if (p->n_frames < MAX_FRAMES)
        p->frames[p->n_frames] = (path_frame_t){kind, key, index};
    p->n_frames++;
}

static void pop_frame(parser_t *p)
{
    p->n_frames--;
}

/* Appends to err what fits; returns the new length. */
static size_t append(char *err, size_t err_len, size_t used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t append(char *err, size_t err_len, size_t used, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err + used, err_len - used, fmt, ap);
    va_end(ap);
    if (n < 0)
        return used;
    return used + (size_t)n < err_len ? used + (size_t)n : err_len - 1;
}

/* Writes "<path>: <rule>" to the caller's err; returns RK_EINVAL. */
static int fail(parser_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser_t *p, const char *fmt, ...)
{
    if (p->err == NULL || p->err_len == 0)
        return RK_EINVAL;
    size_t used = append(p->err, p->err_len, 0, "$");
    size_t n_frames = p->n_frames < MAX_FRAMES ? p->n_frames : MAX_FRAMES;
    for (size_t i = 0; i < n_frames; i++) {
        const path_frame_t *frame = &p->frames[i];
        if (frame->kind == FRAME_KEY)
            used = append(p->err, p->err_len, used, ".%s", frame->key);
        else if (frame->kind == FRAME_INDEX)
            used = append(p->err, p->err_len, used, "[%zu]", frame->index);
        else
            used = append(p->err, p->err_len, used, "[\"%s\"]", frame->key);
    }
    used = append(p->err, p->err_len, used, ": ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + used, p->err_len - used, fmt, ap);
    va_end(ap);
    return RK_EINVAL;
}

/* The text of a JSON string, or NULL when it is not a string or holds U+0000 (possible only
 * when the caller let jansson accept it): protobuf-c strings end at the first NUL. */
static const char *string_text(const json_t *json, size_t *len)
{
    if (!json_is_string(json))
        return NULL;
    const char *text = json_string_value(json);
    *len = json_string_length(json);
    return memchr(text, '\0', *len) ? NULL : text;
}

/* An integer read from JSON, before its type's range is applied. */
typedef struct {
    int negative; /* never set for zero */
    uint64_t magnitude;
} integer_t;

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Whether text is a number in JSON's grammar (RFC 8259, section 6), so that strtod() meets no
 * hex, "inf" or white space; *integral tells whether it has neither fraction nor exponent. */
static int is_json_number(const char *text, int *integral)
{
    const char *p = text;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (is_digit(*p))
        while (is_digit(*p))
            p++;
    else
        return 0;
    *integral = 1;
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return 0;
        while (is_digit(*p))
            p++;
        *integral = 0;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return 0;
        while (is_digit(*p))
            p++;
        *integral = 0;
    }
    return *p == '\0';
}

/* A double that must hold an integer: no fraction, and a magnitude below 2^64. Converting
 * the magnitude to uint64_t and back loses nothing exactly when it has no fraction. */
static int integer_from_double(double v, integer_t *out)
{
    if (!isfinite(v) || fabs(v) >= 18446744073709551616.0)
        return RK_EINVAL;
    out->magnitude = (uint64_t)fabs(v);
    if ((double)out->magnitude != fabs(v))
        return RK_EINVAL;
    out->negative = v < 0 && out->magnitude != 0;
    return RK_OK;
}

/* Decimal digits are read exactly (all 64 bits); "1e3" and "2.0" go through a double.
 * strtod() reads '.' as the decimal point because the hub never calls setlocale(). */
static int integer_from_text(const char *text, integer_t *out)
{
    int integral;
    if (!is_json_number(text, &integral))
        return RK_EINVAL;
    if (!integral)
        return integer_from_double(strtod(text, NULL), out);
    const char *p = text + (text[0] == '-');
    out->magnitude = 0;
    for (; *p; p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (out->magnitude > (UINT64_MAX - digit) / 10)
            return RK_EINVAL;
        out->magnitude = out->magnitude * 10 + digit;
    }
    out->negative = text[0] == '-' && out->magnitude != 0;
    return RK_OK;
}

/* A JSON integer, a number with an integral value, or a string holding either. */
static int integer_from_json(const json_t *json, integer_t *out)
{
    size_t len;
    const char *text;
    if (json_is_integer(json)) {
        json_int_t v = json_integer_value(json);
        out->negative = v < 0;
        out->magnitude = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        return RK_OK;
    }
    if (json_is_real(json))
        return integer_from_double(json_real_value(json), out);
    if ((text = string_text(json, &len)) != NULL)
        return integer_from_text(text, out);
    return RK_EINVAL;
}

/* Stores n at member if it is in t's range. Signed and unsigned types of one width share a
 * store: the two's complement bits are the value (C11 6.5p7 lets either type access them). */
static int store_integer(const integer_type_t *t, const integer_t *n, void *member)
{
    if (n->magnitude > (n->negative ? t->max_negative : t->max_positive))
        return RK_EINVAL;
    uint64_t bits = n->negative ? (uint64_t)0 - n->magnitude : n->magnitude;
    if (t->width == 4)
        *(uint32_t *)member = (uint32_t)bits;
    else
        *(uint64_t *)member = bits;
    return RK_OK;
}

/* A number, or one of the strings "NaN", "Infinity", "-Infinity", or a string holding a number. */
static int double_from_json(const json_t *json, double *out)
{
    size_t len;
    const char *text;
    int integral;
    if (json_is_number(json)) {
        *out = json_number_value(json);
        return RK_OK;
    }
    if ((text = string_text(json, &len)) == NULL)
        return RK_EINVAL;
    if (strcmp(text, "NaN") == 0) {
        *out = NAN;
        return RK_OK;
    }
    if (strcmp(text, "Infinity") == 0 || strcmp(text, "-Infinity") == 0) {
        *out = text[0] == '-' ? -INFINITY : INFINITY;
        return RK_OK;
    }
    if (!is_json_number(text, &integral))
        return RK_EINVAL;
    *out = strtod(text, NULL);
    return isfinite(*out) ? RK_OK : RK_EINVAL; /* "1e999" overflows to HUGE_VAL */
}

#define RULE_FLOATING "must be a number, \"NaN\", \"Infinity\" or \"-Infinity\""
#define RULE_BASE64 "must be a base64 string"

static int parse_message(parser_t *p, const ProtobufCMessageDescriptor *desc, const json_t *json,
                         ProtobufCMessage **out);

static int parse_string(parser_t *p, const json_t *json, char **member)
{
    size_t len;
    const char *text = string_text(json, &len);
    if (text == NULL)
        return fail(p, json_is_string(json) ? "must not contain U+0000" : "must be a string");
    char *copy = allocate(p, len + 1);
    memcpy(copy, text, len + 1);
    *member = copy;
    return RK_OK;
}

static int is_base64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '+' ||
           c == '/' || c == '-' || c == '_';
}

/*
 * Standard or URL-safe base64, padded or not. The text is checked here (EVP_DecodeBlock()
 * tolerates white space and misplaced '='), then decoded by EVP_DecodeBlock() a chunk at a
 * time with the URL-safe characters mapped to standard ones and the last group padded.
 */
static int parse_bytes(parser_t *p, const json_t *json, ProtobufCBinaryData *member)
{
    size_t len;
    const char *text = string_text(json, &len);
    if (text == NULL)
        return fail(p, RULE_BASE64);
    size_t padding = 0;
    while (padding < 2 && padding < len && text[len - 1 - padding] == '=')
        padding++;
    size_t body = len - padding;
    if ((padding > 0 && len % 4 != 0) || body % 4 == 1)
        return fail(p, RULE_BASE64);
    for (size_t i = 0; i < body; i++)
        if (!is_base64_char(text[i]))
            return fail(p, RULE_BASE64);
    if (body == 0)
        return RK_OK;
    /* EVP_DecodeBlock() writes three bytes for every group of four, padding included */
    unsigned char *data = allocate(p, (body + 3) / 4 * 3);
    member->data = data;
    member->len = body / 4 * 3 + (body % 4 ? body % 4 - 1 : 0);
    unsigned char chunk[256];
    for (size_t at = 0; at < body; at += sizeof(chunk)) {
        size_t n = body - at < sizeof(chunk) ? body - at : sizeof(chunk);
        for (size_t i = 0; i < n; i++) {
            char c = text[at + i];
            chunk[i] = (unsigned char)(c == '-' ? '+' : c == '_' ? '/' : c);
        }
        while (n % 4)
            chunk[n++] = '=';
        if (EVP_DecodeBlock(data + at / 4 * 3, chunk, (int)n) < 0)
            return fail(p, RULE_BASE64);
    }
    return RK_OK;
}

static int parse_enum(parser_t *p, const ProtobufCEnumDescriptor *desc, const json_t *json,
                      int *member)
{
    size_t len;
    const char *name = string_text(json, &len);
    if (name != NULL) {
        const ProtobufCEnumValue *value = protobuf_c_enum_descriptor_get_value_by_name(desc, name);
        if (value == NULL)
            return fail(p, "unknown value \"%s\" of %s", name, desc->name);
        *member = value->value;
        return RK_OK;
    }
    /* proto3 enums are open: any int32 is kept, named or not */
    integer_t n;
    if (!json_is_number(json) || integer_from_json(json, &n) != RK_OK ||
        store_integer(&integer_types[PROTOBUF_C_TYPE_INT32], &n, member) != RK_OK)
        return fail(p, "must be a value name of %s or an integer", desc->name);
    return RK_OK;
}

/* One value of type from json into member (a field, an array element or a map value). */
static int parse_value(parser_t *p, ProtobufCType type, const void *type_desc, const json_t *json,
                       void *member)
{
    integer_t n;
    double v;
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (integer_from_json(json, &n) != RK_OK ||
            store_integer(integer_type(type), &n, member) != RK_OK)
            return fail(p, "%s", integer_type(type)->rule);
        return RK_OK;
    case PROTOBUF_C_TYPE_FLOAT:
        if (double_from_json(json, &v) != RK_OK)
            return fail(p, RULE_FLOATING);
        if (isfinite(v) && fabs(v) > FLT_MAX)
            return fail(p, "must be within the range of a float (±3.4028235e38)");
        *(float *)member = (float)v;
        return RK_OK;
    case PROTOBUF_C_TYPE_DOUBLE:
        if (double_from_json(json, &v) != RK_OK)
            return fail(p, RULE_FLOATING);
        *(double *)member = v;
        return RK_OK;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(json))
            return fail(p, "must be true or false");
        *(protobuf_c_boolean *)member = json_is_true(json);
        return RK_OK;
    case PROTOBUF_C_TYPE_ENUM:
        return parse_enum(p, type_desc, json, member);
    case PROTOBUF_C_TYPE_STRING:
        return parse_string(p, json, member);
    case PROTOBUF_C_TYPE_BYTES:
        return parse_bytes(p, json, member);
    case PROTOBUF_C_TYPE_MESSAGE:
        return parse_message(p, type_desc, json, member);
    }
    return fail(p, "has a type this transcoder does not know");
}

/* The array is stored, zeroed, before its elements are parsed (see the file comment). */
static int parse_array(parser_t *p, const ProtobufCFieldDescriptor *f, const json_t *json,
                       ProtobufCMessage *msg)
{
    if (!json_is_array(json))
        return fail(p, "must be an array");
    size_t n = json_array_size(json);
    if (n == 0)
        return RK_OK;
    /* cannot overflow: elements take at most 16 bytes, and jansson already holds n pointers */
    size_t size = element_size(f->type);
    char *array = allocate(p, n * size);
    memset(array, 0, n * size);
    *(void **)MEMBER(msg, f->offset) = array;
    *(size_t *)MEMBER(msg, f->quantifier_offset) = n;
    for (size_t i = 0; i < n; i++) {
        push_frame(p, FRAME_INDEX, NULL, i);
        int rc = parse_value(p, f->type, f->descriptor, json_array_get(json, i), array + i * size);
        if (rc != RK_OK)
            return rc;
        pop_frame(p);
    }
    return RK_OK;
}

/* A map key, always a JSON object key, into the entry's key field. */
static int parse_map_key(parser_t *p, const ProtobufCFieldDescriptor *key_field, const char *key,
                         void *member)
{
    integer_t n;
    switch (key_field->type) {
    case PROTOBUF_C_TYPE_STRING: {
        size_t len = strlen(key);
        char *copy = allocate(p, len + 1);
        memcpy(copy, key, len + 1);
        *(char **)member = copy;
        return RK_OK;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (strcmp(key, "true") != 0 && strcmp(key, "false") != 0)
            return fail(p, "map key must be \"true\" or \"false\"");
        *(protobuf_c_boolean *)member = key[0] == 't';
        return RK_OK;
    default: /* protoc allows only integer types besides */
        if (integer_from_text(key, &n) != RK_OK ||
            store_integer(integer_type(key_field->type), &n, member) != RK_OK)
            return fail(p, "map key %s", integer_type(key_field->type)->rule);
        return RK_OK;
    }
}

static int parse_map(parser_t *p, const ProtobufCFieldDescriptor *f, const json_t *json,
                     ProtobufCMessage *msg)
{
    if (!json_is_object(json))
        return fail(p, "must be an object");
    size_t n = json_object_size(json);
    if (n == 0)
        return RK_OK;
    const ProtobufCMessageDescriptor *entry_desc = f->descriptor;
    const ProtobufCFieldDescriptor *key_field = &entry_desc->fields[0];
    const ProtobufCFieldDescriptor *value_field = &entry_desc->fields[1];
    ProtobufCMessage **entries = allocate(p, n * sizeof(*entries));
    memset(entries, 0, n * sizeof(*entries));
    *(ProtobufCMessage ***)MEMBER(msg, f->offset) = entries;
    *(size_t *)MEMBER(msg, f->quantifier_offset) = n;
    size_t i = 0;
    const char *key;
    json_t *value;
    /* jansson's iteration takes a non-const object; it does not change it */
    json_object_foreach((json_t *)json, key, value)
    {
        push_frame(p, FRAME_MAP_KEY, key, 0);
        ProtobufCMessage *entry = allocate(p, entry_desc->sizeof_message);
        entry_desc->message_init(entry);
        entries[i++] = entry;
        if (json_is_null(value))
            return fail(p, "must not be null");
        int rc = parse_map_key(p, key_field, key, MEMBER(entry, key_field->offset));
        if (rc == RK_OK)
            rc = parse_value(p, value_field->type, value_field->descriptor, value,
                             MEMBER(entry, value_field->offset));
        if (rc != RK_OK)
            return rc;
        pop_frame(p);
    }
    return RK_OK;
}

/* The field key names: its proto name first (a binary search), then its JSON name. */
static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *desc,
                                                  const char *key)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, key);
    for (unsigned i = 0; f == NULL && i < desc->n_fields; i++)
        if (is_json_name(desc->fields[i].name, key))
            f = &desc->fields[i];
    return f;
}

static int parse_member(parser_t *p, const ProtobufCMessageDescriptor *desc, const json_t *json,
                        const char *key, const json_t *value, ProtobufCMessage *msg)
{
    const ProtobufCFieldDescriptor *f = find_field(desc, key);
    if (f == NULL)
        return fail(p, "unknown field");
    if (strcmp(key, f->name) != 0 && json_object_get(json, f->name) != NULL)
        return fail(p, "given twice, as \"%s\" and as \"%s\"", f->name, key);
    if (json_is_null(value))
        return RK_OK;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *which = MEMBER(msg, f->quantifier_offset);
        if (*which != 0) {
            char *other =
                json_name_dup(protobuf_c_message_descriptor_get_field(desc, *which)->name);
            fail(p, "cannot be set with \"%s\": both belong to one oneof", other);
            free(other);
            return RK_EINVAL;
        }
        *which = f->id;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return is_map_field(desc, f) ? parse_map(p, f, value, msg) : parse_array(p, f, value, msg);
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
        f->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *)MEMBER(msg, f->quantifier_offset) = 1;
    return parse_value(p, f->type, f->descriptor, value, MEMBER(msg, f->offset));
}

/* Allocates the message and stores it at *out before filling it (see the file comment). */
static int parse_message(parser_t *p, const ProtobufCMessageDescriptor *desc, const json_t *json,
                         ProtobufCMessage **out)
{
    if (!json_is_object(json))
        return fail(p, "must be an object");
    if (p->depth == RK_JSON_MAX_DEPTH)
        return fail(p, "nests messages deeper than %d levels", RK_JSON_MAX_DEPTH);
    ProtobufCMessage *msg = allocate(p, desc->sizeof_message);
    desc->message_init(msg);
    *out = msg;
    p->depth++;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)json, key, value)
    {
        push_frame(p, FRAME_KEY, key, 0);
        int rc = parse_member(p, desc, json, key, value, msg);
        if (rc != RK_OK)
            return rc;
        pop_frame(p);
    }
    p->depth--;
    return RK_OK;
}

ProtobufCMessage *rk_json_to_message(const ProtobufCMessageDescriptor *desc, const json_t *json,
                                     ProtobufCAllocator *allocator, char *err, size_t err_len)
{
    parser_t p = {
        .allocator = allocator ? allocator : &xmalloc_allocator,
        .err = err,
        .err_len = err_len,
    };
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    ProtobufCMessage *msg = NULL;
    if (parse_message(&p, desc, json, &msg) != RK_OK) {
        protobuf_c_message_free_unpacked(msg, p.allocator);
        return NULL;
    }
    return msg;
}
