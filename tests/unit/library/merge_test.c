/*
 * merge_test.c — unit tests for hub/library/merge.c: records of several cities merged into
 * works by ISBN-13 (ISBN-10 and hyphenated forms meeting it), records without ISBN grouped by
 * folded title + author + year (Japanese titles with 中黒, full-width spaces, full-width
 * letters), invalid ISBNs never merged, conflicting metadata (the first city wins, gaps filled
 * from the others), availability per city with counts, the order of works, work ids parsed
 * back, and the search answer's shape (the first holdings; each library and branch named once).
 */
#include "core/error.h"
#include "core/mem.h"
#include "library/merge.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define HS(x) RENKEI__V1__HOLDING_STATUS__HOLDING_STATUS_##x

static rk_arena_t *arena;

static int setup(void **state)
{
    (void)state;
    arena = rk_arena_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rk_arena_free(arena);
    return 0;
}

static Renkei__V1__LocalizedText *text(const char *ja, const char *en, const char *kana)
{
    Renkei__V1__LocalizedText *t = rk_arena_alloc(arena, sizeof(*t));
    renkei__v1__localized_text__init(t);
    t->ja = (char *)ja;
    t->en = (char *)en;
    t->kana = (char *)kana;
    return t;
}

/* A record with a work and holdings of the given statuses (terminated by 0). */
static Renkei__V1__CatalogueRecord *record(const char *id, const char *isbn, const char *title,
                                           const char *author, int year, const char *publisher, ...)
{
    Renkei__V1__Work *w = rk_arena_alloc(arena, sizeof(*w));
    renkei__v1__work__init(w);
    w->isbn13 = (char *)isbn;
    w->title = text(title, "", "");
    if (*author) {
        Renkei__V1__Contributor *c = rk_arena_alloc(arena, sizeof(*c));
        renkei__v1__contributor__init(c);
        c->name = text(author, "", "");
        w->authors = rk_arena_alloc(arena, sizeof(*w->authors));
        w->authors[0] = c;
        w->n_authors = 1;
    }
    w->year = year;
    w->publisher = (char *)publisher;
    w->format = RENKEI__V1__WORK_FORMAT__WORK_FORMAT_PRINT;
    Renkei__V1__CatalogueRecord *r = rk_arena_alloc(arena, sizeof(*r));
    renkei__v1__catalogue_record__init(r);
    r->record_id = (char *)id;
    r->work = w;
    r->holdings = rk_arena_calloc(arena, 8, sizeof(*r->holdings));
    va_list ap;
    va_start(ap, publisher);
    for (int status; (status = va_arg(ap, int)) != 0 && r->n_holdings < 8;) {
        Renkei__V1__Holding *h = rk_arena_alloc(arena, sizeof(*h));
        renkei__v1__holding__init(h);
        h->branch_id = rk_arena_printf(arena, "b%zu", r->n_holdings);
        h->status = (Renkei__V1__HoldingStatus)status;
        r->holdings[r->n_holdings++] = h;
    }
    va_end(ap);
    return r;
}

static rk_library_city_t city(const char *code, int may_borrow, size_t n, ...)
{
    Renkei__V1__MunicipalityRef *ref = rk_arena_alloc(arena, sizeof(*ref));
    renkei__v1__municipality_ref__init(ref);
    ref->code = (char *)code;
    rk_library_city_t c = {.library = ref,
                           .may_borrow = may_borrow,
                           .status = RENKEI__V1__ANSWER_STATUS__ANSWER_STATUS_OK,
                           .n_records = n};
    c.records = rk_arena_calloc(arena, n ? n : 1, sizeof(*c.records));
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        c.records[i] = va_arg(ap, Renkei__V1__CatalogueRecord *);
    va_end(ap);
    return c;
}

static void isbn_forms_merge_into_one_work(void **state)
{
    (void)state;
    rk_library_city_t cities[] = {
        city("132217", 1, 1,
             record("k1", "9784101010014", "こころ", "夏目漱石", 2004, "新潮社", HS(ON_LOAN), 0)),
        city("132110", 1, 1,
             record("d1", "978-4-10-101001-4", "こころ", "夏目漱石", 2004, "新潮社", HS(AVAILABLE),
                    HS(AVAILABLE), HS(ON_LOAN), 0)),
        city("132136", 0, 1,
             record("h1", "4-10-101001-3", "こころ", "夏目漱石", 2004, "新潮社", HS(AVAILABLE),
                    HS(NOT_HELD), 0)),
    };
    cities[2].restriction = text("利用できません", "not for you", "");
    Renkei__V1__WorkResult **works;
    size_t n;
    rk_library_merge(arena, cities, 3, RK_LIBRARY_FULL_SHAPE, &works, &n);
    assert_int_equal(n, 1);
    assert_string_equal(works[0]->work->id, "isbn:9784101010014");
    assert_string_equal(works[0]->work->isbn13, "9784101010014");
    assert_int_equal(works[0]->n_availability, 3);
    const Renkei__V1__LibraryAvailability *const *a =
        (const Renkei__V1__LibraryAvailability *const *)works[0]->availability;
    assert_string_equal(a[0]->library->code, "132217"); /* the order given: home first */
    assert_string_equal(a[1]->library->code, "132110");
    assert_string_equal(a[2]->library->code, "132136");
    assert_string_equal(a[1]->record_id, "d1");
    assert_int_equal(a[0]->available_count, 0);
    assert_int_equal(a[0]->total_count, 1);
    assert_int_equal(a[1]->available_count, 2);
    assert_int_equal(a[1]->total_count, 3);
    assert_int_equal(a[2]->available_count, 1);
    assert_int_equal(a[2]->total_count, 1); /* NOT_HELD is not an item held */
    assert_int_equal(a[1]->n_holdings, 3);
    assert_string_equal(a[1]->holdings[0]->library->code, "132110");
    assert_string_equal(a[1]->holdings[0]->record_id, "d1");
    assert_true(a[0]->may_borrow);
    assert_false(a[2]->may_borrow);
    assert_string_equal(a[2]->restriction->en, "not for you");
}

static void japanese_titles_group_without_isbn(void **state)
{
    (void)state;
    rk_library_city_t cities[] = {
        city("132217", 1, 2, record("k1", "", "羅生門・鼻", "芥川龍之介", 2005, "新潮社", 0),
             record("k2", "", "ＡＢＣ殺人事件", "クリスティ", 2003, "早川書房", 0)),
        city("132110", 1, 2, record("d1", "", "羅生門　鼻", "芥川 龍之介", 2005, "", 0),
             record("d2", "", "abc殺人事件", "クリスティ", 2003, "", 0)),
        city("132136", 1, 2, record("h1", "", "「羅生門」 鼻", "芥川龍之介", 2005, "", 0),
             record("h2", "", "羅生門・鼻", "芥川龍之介", 1990, "", 0)), /* another year */
    };
    Renkei__V1__WorkResult **works;
    size_t n;
    rk_library_merge(arena, cities, 3, RK_LIBRARY_FULL_SHAPE, &works, &n);
    assert_int_equal(n, 3);
    assert_int_equal(works[0]->n_availability, 3); /* 羅生門・鼻 2005 in every city */
    assert_int_equal(strncmp(works[0]->work->id, "tay:", 4), 0);
    assert_string_equal(works[0]->work->isbn13, "");
    assert_string_equal(works[0]->work->title->ja, "羅生門・鼻"); /* the first city's text */
    assert_int_equal(works[1]->n_availability, 2);                /* ＡＢＣ and abc */
    assert_string_equal(works[1]->availability[1]->record_id, "d2");
    assert_int_equal(works[2]->n_availability, 1); /* 1990 is another work */
    assert_int_equal(works[2]->work->year, 1990);
    assert_string_equal(works[2]->availability[0]->record_id, "h2");

    rk_library_work_ref_t ref;
    assert_int_equal(rk_library_work_ref_parse(arena, works[0]->work->id, &ref), RK_OK);
    assert_int_equal(ref.kind, 't');
    assert_string_equal(ref.title, "羅生門 鼻");
    assert_string_equal(ref.title_word, "羅生門");
    assert_string_equal(ref.author, "芥川龍之介");
    assert_string_equal(ref.author_word, "芥川龍之介");
    assert_int_equal(ref.year, 2005);
    assert_int_equal(ref.format, RENKEI__V1__WORK_FORMAT__WORK_FORMAT_PRINT);
    assert_true(rk_library_same_key(ref.title, "羅生門鼻"));
    assert_false(rk_library_same_key(ref.title, "羅生門"));
}

static void invalid_isbns_are_not_merged(void **state)
{
    (void)state;
    rk_library_city_t cities[] = {
        city("132217", 1, 1, record("k1", "9784101010015", "こころ", "夏目漱石", 2004, "", 0)),
        city("132110", 1, 1, record("d1", "9784101010015", "こころ", "夏目漱石", 2004, "", 0)),
    };
    Renkei__V1__WorkResult **works;
    size_t n;
    rk_library_merge(arena, cities, 2, RK_LIBRARY_FULL_SHAPE, &works, &n);
    assert_int_equal(n, 2);
    assert_string_equal(works[0]->work->id, "rec:132217:6b31");
    assert_string_equal(works[1]->work->id, "rec:132110:6431");
    assert_string_equal(works[0]->work->isbn13, "");
    rk_library_work_ref_t ref;
    assert_int_equal(rk_library_work_ref_parse(arena, works[1]->work->id, &ref), RK_OK);
    assert_int_equal(ref.kind, 'r');
    assert_string_equal(ref.code, "132110");
    assert_string_equal(ref.record_id, "d1");
}

static void conflicting_metadata_first_city_wins(void **state)
{
    (void)state;
    Renkei__V1__CatalogueRecord *home =
        record("k1", "9784101010014", "こころ", "", 2004, "新潮社", 0);
    Renkei__V1__CatalogueRecord *other =
        record("d1", "9784101010014", "こゝろ", "夏目漱石", 2003, "岩波書店", 0);
    other->work->ndc = "913.6";
    other->work->title->kana = "ココロ";
    other->work->subjects = rk_arena_alloc(arena, sizeof(char *));
    other->work->subjects[0] = "日本文学";
    other->work->n_subjects = 1;
    rk_library_city_t cities[] = {city("132217", 1, 1, home), city("132110", 1, 1, other)};
    Renkei__V1__WorkResult **works;
    size_t n;
    rk_library_merge(arena, cities, 2, RK_LIBRARY_FULL_SHAPE, &works, &n);
    assert_int_equal(n, 1);
    const Renkei__V1__Work *w = works[0]->work;
    assert_string_equal(w->title->ja, "こころ");   /* the first city's */
    assert_string_equal(w->title->kana, "ココロ"); /* filled from the other */
    assert_string_equal(w->publisher, "新潮社");
    assert_int_equal(w->year, 2004);
    assert_string_equal(w->ndc, "913.6");
    assert_int_equal(w->n_authors, 1);
    assert_string_equal(w->authors[0]->name->ja, "夏目漱石");
    assert_int_equal(w->n_subjects, 1);
    assert_string_equal(home->work->ndc, ""); /* the owners' records are left as they were */
    assert_string_equal(home->work->title->kana, "");
}

static void works_ordered_by_best_position_then_cities(void **state)
{
    (void)state;
    rk_library_city_t cities[] = {
        city("1", 1, 3, record("a", "9784101010014", "A", "", 0, "", 0),
             record("b", "9780306406157", "B", "", 0, "", 0),
             record("c", "9780804429573", "C", "", 0, "", 0)),
        city("2", 1, 2, record("c2", "9780804429573", "C", "", 0, "", 0),
             record("b2", "9780306406157", "B", "", 0, "", 0)),
    };
    Renkei__V1__WorkResult **works;
    size_t n;
    rk_library_merge(arena, cities, 2, RK_LIBRARY_FULL_SHAPE, &works, &n);
    assert_int_equal(n, 3);
    /* A and C are first somewhere; C is held by two cities, A by one. B is second at best. */
    assert_string_equal(works[0]->work->id, "isbn:9780804429573");
    assert_string_equal(works[1]->work->id, "isbn:9784101010014");
    assert_string_equal(works[2]->work->id, "isbn:9780306406157");
}

static void search_shape_names_each_branch_once(void **state)
{
    (void)state;
    Renkei__V1__CatalogueRecord *a =
        record("k1", "9784101010014", "こころ", "", 0, "", HS(AVAILABLE), HS(ON_LOAN), HS(ON_LOAN),
               HS(ON_LOAN), HS(ON_LOAN), HS(ON_LOAN), HS(ON_LOAN), HS(NOT_HELD), 0);
    Renkei__V1__CatalogueRecord *b = record("k2", "4-10-101001-3", "こころ", "", 0, "", HS(ON_LOAN),
                                            HS(ON_LOAN), HS(AVAILABLE), HS(AVAILABLE), 0);
    for (size_t i = 0; i < a->n_holdings; i++)
        a->holdings[i]->branch_name = text(rk_arena_printf(arena, "館%zu", i), "", "");
    for (size_t i = 0; i < b->n_holdings; i++)
        b->holdings[i]->branch_name = text(rk_arena_printf(arena, "館%zu", i), "", "");
    Renkei__V1__CatalogueRecord *c =
        record("d1", "9784101010014", "こころ", "", 0, "", HS(ON_LOAN), 0);
    c->holdings[0]->branch_name = text("中央図書館", "", "");
    a->holdings[0]->shelf_location = text("開架", "Open shelves", "カイカ");
    a->holdings[1]->shelf_location = text("書庫", "Stacks", "ショコ");
    c->holdings[0]->shelf_location = text("開架", "Open shelves", "カイカ");
    rk_library_city_t cities[] = {city("132217", 1, 2, a, b), city("132110", 1, 1, c)};
    cities[0].library->name = text("小平市", "Kodaira", "こだいらし");
    Renkei__V1__WorkResult **works;
    size_t n;
    rk_library_merge(arena, cities, 2, RK_LIBRARY_SEARCH_SHAPE, &works, &n);
    assert_int_equal(n, 1);
    const Renkei__V1__LibraryAvailability *av = works[0]->availability[0];
    assert_int_equal(av->holdings_total, 12);
    assert_int_equal(av->n_holdings, 10);     /* the first 10: k1's 8, then k2's first 2 */
    assert_int_equal(av->available_count, 3); /* counted over all 12 */
    assert_int_equal(av->total_count, 11);
    assert_string_equal(av->holdings[0]->record_id, ""); /* the availability's record_id */
    assert_string_equal(av->holdings[9]->record_id, "k2");
    assert_string_equal(av->library->code, "132217"); /* by code and slug: the names are */
    assert_null(av->library->name);                   /* in the statuses */
    assert_string_equal(av->holdings[9]->branch_id, "b1");
    for (size_t i = 0; i < av->n_holdings; i++)
        assert_null(av->holdings[i]->library);
    rk_library_names_t names;
    rk_library_names_once(arena, works, n, &names);
    Renkei__V1__Branch **branches = names.branches;
    size_t n_branches = names.n_branches;
    assert_int_equal(n_branches, 9); /* b0..b7 (k2's b0 and b1 named already), 132110's b0 */
    assert_string_equal(branches[8]->municipality->code, "132110");
    assert_string_equal(branches[8]->branch_id, "b0");
    assert_string_equal(branches[8]->name->ja, "中央図書館");
    for (size_t i = 0; i < 8; i++) {
        assert_string_equal(branches[i]->municipality->code, "132217");
        assert_string_equal(branches[i]->branch_id, rk_arena_printf(arena, "b%zu", i));
        assert_string_equal(branches[i]->name->ja, rk_arena_printf(arena, "館%zu", i));
    }
    for (size_t i = 0; i < av->n_holdings; i++)
        assert_null(av->holdings[i]->branch_name);
    assert_int_equal(names.n_shelf_locations, 2); /* 開架 in two cities, once */
    assert_string_equal(names.shelf_locations[0]->ja, "開架");
    assert_string_equal(names.shelf_locations[1]->en, "Stacks");
    assert_int_equal(av->holdings[0]->shelf_location_ref, 1);
    assert_int_equal(av->holdings[1]->shelf_location_ref, 2);
    assert_int_equal(av->holdings[2]->shelf_location_ref, 0); /* none */
    assert_int_equal(works[0]->availability[1]->holdings[0]->shelf_location_ref, 1);
    assert_null(av->holdings[0]->shelf_location);
    assert_non_null(a->holdings[0]->branch_name); /* the owners' records are left as they were */

    rk_library_merge(arena, cities, 2, RK_LIBRARY_FULL_SHAPE, &works, &n);
    av = works[0]->availability[0];
    assert_int_equal(av->n_holdings, 12);
    assert_int_equal(av->holdings_total, 12);
    assert_string_equal(av->holdings[11]->library->name->ja, "小平市");
    assert_string_equal(av->holdings[0]->record_id, "k1");
    assert_string_equal(av->holdings[11]->branch_name->ja, "館3");
}

static void text_folding_and_ids(void **state)
{
    (void)state;
    char out[64];
    rk_library_text_fold("  Ｎｏｒｗｅｇｉａｎ　Ｗｏｏｄ：上 ", out, sizeof(out));
    assert_string_equal(out, "norwegian wood 上");
    rk_library_text_fold("『銀河鉄道の夜』", out, sizeof(out));
    assert_string_equal(out, "銀河鉄道の夜");
    rk_library_text_fold("\xff\xfe坊っちゃん", out, sizeof(out)); /* bytes that are not UTF-8 */
    assert_string_equal(out, "坊っちゃん");
    rk_library_text_fold("銀河鉄道の夜", out, 10); /* cut at a character boundary */
    assert_string_equal(out, "銀河鉄");
    rk_library_longest_word("羅生門 鼻", out, sizeof(out));
    assert_string_equal(out, "羅生門");

    rk_library_work_ref_t ref;
    assert_int_equal(rk_library_work_ref_parse(arena, "isbn:9784101010014", &ref), RK_OK);
    assert_string_equal(ref.isbn13, "9784101010014");
    assert_int_equal(rk_library_work_ref_parse(arena, "isbn:9784101010015", &ref), RK_EINVAL);
    assert_int_equal(rk_library_work_ref_parse(arena, "isbn:4101010013", &ref), RK_EINVAL);
    assert_int_equal(rk_library_work_ref_parse(arena, "tay:zz", &ref), RK_EINVAL);
    assert_int_equal(rk_library_work_ref_parse(arena, "tay:41", &ref), RK_EINVAL);
    assert_int_equal(rk_library_work_ref_parse(arena, "rec:13a:41", &ref), RK_EINVAL);
    assert_int_equal(rk_library_work_ref_parse(arena, "rec:132110:", &ref), RK_EINVAL);
    assert_int_equal(rk_library_work_ref_parse(arena, "rec:132110:4100", &ref), RK_EINVAL);
    assert_int_equal(rk_library_work_ref_parse(arena, "", &ref), RK_EINVAL);
    assert_int_equal(rk_library_work_ref_parse(arena, "work:1", &ref), RK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(isbn_forms_merge_into_one_work, setup, teardown),
        cmocka_unit_test_setup_teardown(japanese_titles_group_without_isbn, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_isbns_are_not_merged, setup, teardown),
        cmocka_unit_test_setup_teardown(conflicting_metadata_first_city_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(works_ordered_by_best_position_then_cities, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(search_shape_names_each_branch_once, setup, teardown),
        cmocka_unit_test_setup_teardown(text_folding_and_ids, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
