/*
 * opendata_unit_test.c — the pure parts of renkei-adapter-opendata: snapshots of 板橋区's real
 * 公共施設一覧 (adapters/sim/data) as catalogue-only Facility messages, ids derived from name and
 * address for files without an ID column, duplicate ids, and the versioned catalogue: what a
 * changed, removed, returning or untouched row does to versions and updated_at. Also the
 * sources' change detection on a real file in a temporary folder (stat signatures; a broken
 * replacement is not read twice).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "catalogue.h"
#include "sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FK(x) RENKEI__V1__FACILITY_KIND__FACILITY_KIND_##x

static const char itabashi_path[] = RENKEI_ADAPTER_DATA "/itabashi_public_facilities.csv";

/* The kinds the sim serves bookable for itabashi: the demo leaves them out. */
static const Renkei__V1__FacilityKind sports[] = {
    FK(BASEBALL_FIELD), FK(TENNIS_COURT),  FK(GYMNASIUM),    FK(POOL),
    FK(ATHLETIC_FIELD), FK(SOCCER_FIELD),  FK(FUTSAL),       FK(MARTIAL_ARTS_HALL),
    FK(ARCHERY_RANGE),  FK(SPORTS_GROUND), FK(TABLE_TENNIS), FK(TRAINING_ROOM),
    FK(GATEBALL),
};

static opendata_snapshot_t *snapshot_of(const char *data, size_t len, const opendata_terms_t *terms)
{
    char why[256] = "";
    rk_facility_csv_options_t options = {.file = "t.csv", .municipality_code = "131199"};
    rk_facility_csv_t *csv = rk_facility_csv_parse(data, len, &options, why, sizeof(why));
    if (!csv)
        fail_msg("%s", why);
    const char *path = "t.csv";
    opendata_snapshot_t *s = opendata_snapshot_build(&csv, &path, 1, terms);
    rk_facility_csv_free(csv);
    return s;
}

static const opendata_item_t *item(const opendata_snapshot_t *s, const char *id)
{
    for (size_t i = 0; i < s->n_items; i++) {
        if (strcmp(s->items[i].id, id) == 0)
            return &s->items[i];
    }
    return NULL;
}

static Renkei__V1__Facility *unpack(const uint8_t *packed, size_t len)
{
    Renkei__V1__Facility *f = (Renkei__V1__Facility *)protobuf_c_message_unpack(
        &renkei__v1__facility__descriptor, NULL, len, packed);
    assert_non_null(f);
    return f;
}

static void itabashi_catalogue_only(void **state)
{
    (void)state;
    char why[256] = "";
    rk_facility_csv_options_t options = {.municipality_code = "131199"};
    rk_facility_csv_t *csv = rk_facility_csv_load(itabashi_path, &options, why, sizeof(why));
    if (!csv)
        fail_msg("%s", why);
    opendata_terms_t terms = {.booking_url = "https://itabashi.example.jp/yoyaku?shisetsu={id}",
                              .exclude_kinds = sports,
                              .n_exclude_kinds = sizeof(sports) / sizeof(sports[0])};
    const char *path = itabashi_path;
    opendata_snapshot_t *s = opendata_snapshot_build(&csv, &path, 1, &terms);
    rk_facility_csv_free(csv);
    assert_int_equal(s->rows, 316);
    assert_int_equal(s->excluded, 44); /* the sim's sports rows */
    assert_int_equal(s->n_items, 272);
    assert_int_equal(s->n_problems, 0);
    for (size_t i = 1; i < s->n_items; i++) /* sorted by id: keyset paging relies on it */
        assert_true(strcmp(s->items[i - 1].id, s->items[i].id) < 0);
    assert_null(item(s, "131199000099")); /* 城北野球場Ｂ面: the sim's */
    const opendata_item_t *it = item(s, "131199000021");
    assert_non_null(it);
    Renkei__V1__Facility *f = unpack(it->packed, it->packed_len);
    assert_string_equal(f->name->ja, "仲宿地域センター");
    assert_int_equal(f->kind, FK(MEETING_ROOM));
    assert_false(f->bookable_via_hub);
    assert_string_equal(f->booking_url, "https://itabashi.example.jp/yoyaku?shisetsu=131199000021");
    assert_string_equal(f->address->postal_code, "173-0013");
    assert_non_null(f->location);
    assert_string_equal(f->owner_facility_id, "131199000021");
    assert_string_equal(f->updated_at, ""); /* set when listed, not part of the hash */
    protobuf_c_message_free_unpacked(&f->base, NULL);
    /* Without a configured page, the row's own URL is the booking page. */
    opendata_terms_t own = {0};
    static const char one[] = "ID,名称,URL\n5,中央公民館,https://example.jp/k\n";
    opendata_snapshot_t *t = snapshot_of(one, sizeof(one) - 1, &own);
    f = unpack(t->items[0].packed, t->items[0].packed_len);
    assert_string_equal(f->booking_url, "https://example.jp/k");
    assert_string_equal(f->website_url, "https://example.jp/k");
    protobuf_c_message_free_unpacked(&f->base, NULL);
    opendata_snapshot_free(t);
    opendata_snapshot_free(s);
}

static void ids_without_an_id_column(void **state)
{
    (void)state;
    opendata_terms_t terms = {0};
    static const char data[] = "名称,住所\n"
                               "中央公民館,清瀬市元町1-1-1\n"
                               "中央公民館,清瀬市元町１－１－１\n" /* the same after normalising */
                               "野塩集会所,清瀬市野塩1-1\n";
    opendata_snapshot_t *a = snapshot_of(data, sizeof(data) - 1, &terms);
    opendata_snapshot_t *b = snapshot_of(data, sizeof(data) - 1, &terms);
    assert_int_equal(a->n_items, 2);
    assert_int_equal(a->skipped, 1);
    for (size_t i = 0; i < a->n_items; i++) {
        assert_int_equal(strlen(a->items[i].id), 18);
        assert_memory_equal(a->items[i].id, "h-", 2);
        assert_string_equal(a->items[i].id, b->items[i].id); /* stable */
    }
    assert_int_equal(a->n_problems, 1);
    assert_non_null(strstr(a->problems[0], "t.csv:3: ID h-"));
    assert_non_null(strstr(a->problems[0], ": already used on t.csv:2; row skipped"));
    opendata_snapshot_free(a);
    opendata_snapshot_free(b);
}

static const opendata_entry_t *entry(const opendata_catalogue_t *cat, const char *id)
{
    size_t i = opendata_catalogue_after(cat, id);
    assert_true(i > 0);
    assert_string_equal(cat->entries[i - 1].id, id);
    return &cat->entries[i - 1];
}

static void versions_follow_changes(void **state)
{
    (void)state;
    opendata_terms_t terms = {0};
    static const char v1[] =
        "ID,名称,電話番号\n1,甲集会所,03-1111-1111\n2,乙集会所,\n3,丙集会所,\n";
    static const char v2[] =
        "ID,名称,電話番号\n1,甲集会所,03-1111-2222\n3,丙集会所,\n4,丁集会所,\n";
    opendata_catalogue_t *cat = opendata_catalogue_new();
    opendata_snapshot_t *s = snapshot_of(v1, sizeof(v1) - 1, &terms);
    opendata_changes_t c = opendata_catalogue_apply(cat, s, 1000);
    opendata_snapshot_free(s);
    assert_int_equal(c.added, 3);
    assert_int_equal(cat->version, 1);
    assert_string_equal(entry(cat, "3")->updated_at, "1970-01-01T00:16:40Z");
    /* The same files again: nothing changes, not even the version. */
    s = snapshot_of(v1, sizeof(v1) - 1, &terms);
    c = opendata_catalogue_apply(cat, s, 2000);
    opendata_snapshot_free(s);
    assert_int_equal(c.unchanged, 3);
    assert_int_equal(c.added + c.changed + c.removed, 0);
    assert_int_equal(cat->version, 1);
    /* One edited, one gone, one new, one untouched. */
    s = snapshot_of(v2, sizeof(v2) - 1, &terms);
    c = opendata_catalogue_apply(cat, s, 3000);
    opendata_snapshot_free(s);
    assert_int_equal(c.changed, 1);
    assert_int_equal(c.removed, 1);
    assert_int_equal(c.added, 1);
    assert_int_equal(c.unchanged, 1);
    assert_int_equal(cat->version, 2);
    assert_int_equal(cat->live, 3);
    assert_int_equal(entry(cat, "1")->version, 2);
    assert_true(entry(cat, "2")->removed);
    assert_int_equal(entry(cat, "2")->version, 2);
    assert_null(entry(cat, "2")->packed);
    assert_int_equal(entry(cat, "3")->version, 1);
    assert_string_equal(entry(cat, "3")->updated_at, "1970-01-01T00:16:40Z");
    assert_int_equal(entry(cat, "4")->version, 2);
    /* The removed one comes back. */
    s = snapshot_of(v1, sizeof(v1) - 1, &terms);
    c = opendata_catalogue_apply(cat, s, 4000);
    opendata_snapshot_free(s);
    assert_int_equal(cat->version, 3);
    assert_false(entry(cat, "2")->removed);
    assert_true(entry(cat, "4")->removed);
    assert_int_equal(opendata_catalogue_after(cat, ""), 0);
    assert_int_equal(opendata_catalogue_after(cat, "2"), 2);
    assert_int_equal(opendata_catalogue_after(cat, "9"), 4);
    opendata_catalogue_free(cat);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void sources_notice_a_replaced_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/opendata_unit_XXXXXX", path[128], next[160];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/list.csv", dir);
    snprintf(next, sizeof(next), "%s/list.csv.new", dir);
    write_file(path, "ID,名称\n1,甲集会所\n");
    opendata_sources_t sources = {.n_paths = 1, .municipality_code = "131199"};
    sources.paths[0] = path;
    opendata_check_job_t job = {0};
    opendata_sources_check(&sources, &job);
    assert_int_equal(job.result, OPENDATA_LOADED);
    assert_int_equal(job.snapshot->n_items, 1);
    opendata_snapshot_free(job.snapshot);
    job.snapshot = NULL;
    opendata_sources_check(&sources, &job);
    assert_int_equal(job.result, OPENDATA_UNCHANGED);
    /* An operator drops a broken file: refused with its line, and not read again. */
    write_file(next, "ID,名称\n1,甲集会所\n2,\"乙\n");
    assert_int_equal(rename(next, path), 0);
    opendata_sources_check(&sources, &job);
    assert_int_equal(job.result, OPENDATA_FAILED);
    assert_non_null(strstr(job.why, "list.csv: line 3: "));
    opendata_sources_check(&sources, &job);
    assert_int_equal(job.result, OPENDATA_UNCHANGED);
    /* Then a good one. */
    write_file(next, "ID,名称\n1,甲集会所\n2,乙集会所\n");
    assert_int_equal(rename(next, path), 0);
    opendata_sources_check(&sources, &job);
    assert_int_equal(job.result, OPENDATA_LOADED);
    assert_int_equal(job.snapshot->n_items, 2);
    opendata_snapshot_free(job.snapshot);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(itabashi_catalogue_only),
        cmocka_unit_test(ids_without_an_id_column),
        cmocka_unit_test(versions_follow_changes),
        cmocka_unit_test(sources_notice_a_replaced_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
