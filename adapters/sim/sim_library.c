/*
 * sim_library.c — the library methods of the sim: a small catalogue with holdings per branch,
 * patrons, holds and loans, all in memory.
 *
 * The catalogue is the same list of classic Japanese works in every sim (so the hub can merge
 * them across cities by ISBN; the ISBNs are synthetic but valid ISBN-13s); how many copies each
 * branch holds and their shelf state come from (seed, work, branch). Three works also have an
 * e-book record lent through "e-library" licences.
 *
 * Patrons (VerifyPatron): a card number of 8–14 digits whose PIN is its last four digits is
 * accepted; a card starting with 9 is expired; certificate logins are issued a patron from the
 * resident's pairwise id. Holds are READY at once (the copy is set aside) when a copy is on the
 * shelf, else WAITING in a queue; Checkout lends a shelf copy or the patron's READY copy, or an
 * e-book licence; ReturnLoan hands the copy to the first waiting hold.
 */
#include "sim.h"
#include "sim_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HS(x) RENKEI__V1__HOLDING_STATUS__HOLDING_STATUS_##x
#define HOLD(x) RENKEI__V1__HOLD_STATE__HOLD_STATE_##x
#define LOAN(x) RENKEI__V1__LOAN_STATE__LOAN_STATE_##x
#define WF(x) RENKEI__V1__WORK_FORMAT__WORK_FORMAT_##x

typedef struct work_info {
    const char *title, *title_kana, *title_en;
    const char *author, *author_kana, *author_en;
    const char *publisher;
    int year;
    const char *ndc;
    const char *subject;
    int ebook; /* also an e-book record */
} work_info_t;

static const work_info_t works[] = {
    {"こころ", "ココロ", "Kokoro", "夏目漱石", "ナツメ ソウセキ", "Natsume, Soseki", "新潮社", 2004,
     "913.6", "日本文学", 0},
    {"吾輩は猫である", "ワガハイ ワ ネコ デ アル", "I Am a Cat", "夏目漱石", "ナツメ ソウセキ",
     "Natsume, Soseki", "岩波書店", 1990, "913.6", "日本文学", 0},
    {"坊っちゃん", "ボッチャン", "Botchan", "夏目漱石", "ナツメ ソウセキ", "Natsume, Soseki",
     "新潮社", 2003, "913.6", "日本文学", 1},
    {"羅生門・鼻", "ラショウモン ハナ", "Rashomon", "芥川龍之介", "アクタガワ リュウノスケ",
     "Akutagawa, Ryunosuke", "新潮社", 2005, "913.6", "日本文学", 0},
    {"銀河鉄道の夜", "ギンガ テツドウ ノ ヨル", "Night on the Galactic Railroad", "宮沢賢治",
     "ミヤザワ ケンジ", "Miyazawa, Kenji", "角川書店", 1996, "913.6", "童話", 1},
    {"注文の多い料理店", "チュウモン ノ オオイ リョウリテン", "The Restaurant of Many Orders",
     "宮沢賢治", "ミヤザワ ケンジ", "Miyazawa, Kenji", "新潮社", 1990, "913.8", "童話", 0},
    {"人間失格", "ニンゲン シッカク", "No Longer Human", "太宰治", "ダザイ オサム", "Dazai, Osamu",
     "新潮社", 2006, "913.6", "日本文学", 0},
    {"走れメロス", "ハシレ メロス", "Run, Melos!", "太宰治", "ダザイ オサム", "Dazai, Osamu",
     "新潮社", 2005, "913.6", "日本文学", 1},
    {"舞姫", "マイヒメ", "The Dancing Girl", "森鷗外", "モリ オウガイ", "Mori, Ogai", "集英社",
     1991, "913.6", "日本文学", 0},
    {"高瀬舟", "タカセブネ", "The Boat on the Takase", "森鷗外", "モリ オウガイ", "Mori, Ogai",
     "新潮社", 2006, "913.6", "日本文学", 0},
    {"学問のすすめ", "ガクモン ノ ススメ", "An Encouragement of Learning", "福沢諭吉",
     "フクザワ ユキチ", "Fukuzawa, Yukichi", "岩波書店", 1978, "370.4", "教育", 0},
    {"武士道", "ブシドウ", "Bushido", "新渡戸稲造", "ニトベ イナゾウ", "Nitobe, Inazo", "岩波書店",
     1974, "156", "武士道", 0},
    {"風立ちぬ", "カゼ タチヌ", "The Wind Has Risen", "堀辰雄", "ホリ タツオ", "Hori, Tatsuo",
     "新潮社", 1951, "913.6", "日本文学", 0},
    {"たけくらべ", "タケクラベ", "Child's Play", "樋口一葉", "ヒグチ イチヨウ", "Higuchi, Ichiyo",
     "岩波書店", 1999, "913.6", "日本文学", 0},
    {"枕草子", "マクラノソウシ", "The Pillow Book", "清少納言", "セイ ショウナゴン", "Sei Shonagon",
     "岩波書店", 1962, "914.3", "随筆", 0},
    {"地域防災ハンドブック", "チイキ ボウサイ ハンドブック", "Local Disaster Preparedness Handbook",
     "防災課", "ボウサイカ", "Disaster Prevention Section", "", 2024, "369.3", "防災", 0},
};

#define N_WORKS (sizeof(works) / sizeof(works[0]))
#define LOCAL_WORK (N_WORKS - 1) /* the city's own publication: reference only */
#define MAX_BRANCHES 9

typedef struct item {
    size_t work, branch;
    char id[48];
    Renkei__V1__HoldingStatus status;
    char due[11]; /* "YYYY-MM-DD" when ON_LOAN */
} item_t;

typedef struct record {
    char id[40];
    size_t work;
    int ebook;
    char isbn[14];
    int licences; /* e-book records */
} record_t;

typedef struct hold {
    char *reference, *key, *patron, *pickup_municipality, *pickup_branch;
    size_t record;
    Renkei__V1__HoldState state;
    item_t *item; /* set aside for a READY hold */
    time_t placed, expires;
} hold_t;

typedef struct loan {
    char *reference, *key, *patron;
    size_t record;
    item_t *item; /* NULL for e-books */
    Renkei__V1__LoanState state;
    time_t borrowed, due, returned;
    int renewals;
} loan_t;

struct sim_library {
    const sim_catalogue_t *cat;
    sim_library_options_t options;
    char **partners;
    struct {
        char id[16];
        char name_ja[128], name_en[128], name_kana[128];
        double latitude, longitude;
    } branches[MAX_BRANCHES];
    size_t n_branches;
    record_t records[2 * N_WORKS];
    size_t n_records;
    item_t *items;
    size_t n_items;
    char **patrons;
    size_t n_patrons, cap_patrons;
    hold_t **holds;
    size_t n_holds, cap_holds;
    loan_t **loans;
    size_t n_loans, cap_loans;
};

static const char *const branch_places[][3] = {
    {"中央", "Central", "チュウオウ"},
    {"東", "East", "ヒガシ"},
    {"西", "West", "ニシ"},
    {"南", "South", "ミナミ"},
    {"北", "North", "キタ"},
    {"駅前", "Station", "エキマエ"},
    {"緑", "Midori", "ミドリ"},
    {"若葉", "Wakaba", "ワカバ"},
    {"桜", "Sakura", "サクラ"},
};

/* A valid ISBN-13 for work i: 978-4 (Japan), synthetic, the same in every sim. */
static void make_isbn(size_t i, int ebook, char out[14])
{
    snprintf(out, 14, "9784%07zu%d", 9900000 + i * 10 + (size_t)ebook, 0);
    int sum = 0;
    for (int d = 0; d < 12; d++)
        sum += (out[d] - '0') * (d % 2 ? 3 : 1);
    out[12] = (char)('0' + (10 - sum % 10) % 10);
    out[13] = '\0';
}

sim_library_t *sim_library_new(const sim_catalogue_t *cat, const sim_library_options_t *o)
{
    sim_library_t *lib = rk_xcalloc(1, sizeof(*lib));
    lib->cat = cat;
    lib->options = *o;
    lib->partners = rk_xcalloc(o->n_pickup_partners + 1, sizeof(*lib->partners));
    for (size_t i = 0; i < o->n_pickup_partners; i++)
        lib->partners[i] = rk_xstrdup(o->pickup_partners[i]);
    lib->options.pickup_partners = NULL;
    lib->n_branches = (size_t)(o->branches < 1              ? 1
                               : o->branches > MAX_BRANCHES ? MAX_BRANCHES
                                                            : o->branches);
    for (size_t b = 0; b < lib->n_branches; b++) {
        snprintf(lib->branches[b].id, sizeof(lib->branches[b].id), b ? "b%zu" : "central", b + 1);
        snprintf(lib->branches[b].name_ja, sizeof(lib->branches[b].name_ja), "%s立%s図書館",
                 cat->name_ja, branch_places[b][0]);
        snprintf(lib->branches[b].name_en, sizeof(lib->branches[b].name_en), "%s %s Library",
                 cat->name_en, branch_places[b][1]);
        snprintf(lib->branches[b].name_kana, sizeof(lib->branches[b].name_kana),
                 "%sリツ%sトショカン", cat->name_kana, branch_places[b][2]);
        uint64_t rng = sim_mix(cat->seed ^ (0x6c6962ull + b));
        lib->branches[b].latitude = cat->latitude + (sim_unit(&rng) - 0.5) * 0.04;
        lib->branches[b].longitude = cat->longitude + (sim_unit(&rng) - 0.5) * 0.04;
    }
    size_t cap_items = N_WORKS * lib->n_branches * 3;
    lib->items = rk_xcalloc(cap_items, sizeof(*lib->items));
    char today[11];
    for (size_t w = 0; w < N_WORKS; w++) {
        record_t *r = &lib->records[lib->n_records++];
        snprintf(r->id, sizeof(r->id), "%s-R%04zu", cat->slug, w + 1);
        r->work = w;
        make_isbn(w, 0, r->isbn);
        if (w == LOCAL_WORK)
            r->isbn[0] = '\0'; /* a municipal publication without ISBN */
        for (size_t b = 0; b < lib->n_branches; b++) {
            uint64_t rng = sim_mix(cat->seed ^ (w * 131 + b * 7 + 1));
            size_t copies = (size_t)sim_below(&rng, 3) + (b == 0);
            for (size_t c = 0; c < copies && c < 3; c++) {
                item_t *it = &lib->items[lib->n_items++];
                it->work = w;
                it->branch = b;
                snprintf(it->id, sizeof(it->id), "%s-I%04zu%zu%zu", cat->slug, w + 1, b, c);
                uint64_t draw = sim_below(&rng, 100);
                if (w == LOCAL_WORK) {
                    it->status = HS(IN_LIBRARY_ONLY);
                } else if (draw < 60) {
                    it->status = HS(AVAILABLE);
                } else if (draw < 85) {
                    it->status = HS(ON_LOAN);
                    sim_date_format(time(NULL) + (time_t)(1 + sim_below(&rng, 14)) * 86400, today,
                                    sizeof(today));
                    memcpy(it->due, today, sizeof(it->due));
                } else if (draw < 93) {
                    it->status = HS(PREPARING);
                } else {
                    it->status = HS(IN_TRANSIT);
                }
            }
        }
        if (works[w].ebook) {
            record_t *e = &lib->records[lib->n_records++];
            snprintf(e->id, sizeof(e->id), "%s-E%04zu", cat->slug, w + 1);
            e->work = w;
            e->ebook = 1;
            make_isbn(w, 1, e->isbn);
            uint64_t rng = sim_mix(cat->seed ^ (0x65626f6f6bull + w));
            e->licences = 1 + (int)sim_below(&rng, 2);
        }
    }
    return lib;
}

void sim_library_free(sim_library_t *lib)
{
    if (!lib)
        return;
    for (size_t i = 0; lib->partners[i]; i++)
        free(lib->partners[i]);
    free(lib->partners);
    for (size_t i = 0; i < lib->n_patrons; i++)
        free(lib->patrons[i]);
    free(lib->patrons);
    for (size_t i = 0; i < lib->n_holds; i++) {
        hold_t *h = lib->holds[i];
        free(h->reference);
        free(h->key);
        free(h->patron);
        free(h->pickup_municipality);
        free(h->pickup_branch);
        free(h);
    }
    free(lib->holds);
    for (size_t i = 0; i < lib->n_loans; i++) {
        loan_t *l = lib->loans[i];
        free(l->reference);
        free(l->key);
        free(l->patron);
        free(l);
    }
    free(lib->loans);
    free(lib->items);
    free(lib);
}

/* --- messages ----------------------------------------------------------------------------- */

static sim_library_t *lib_of(rk_adapter_call_t *call)
{
    return ((sim_t *)rk_adapter_call_data(call))->library;
}

static Renkei__V1__LocalizedText *text(rk_adapter_call_t *call, const char *ja, const char *en,
                                       const char *kana)
{
    Renkei__V1__LocalizedText *t = rk_adapter_call_alloc(call, sizeof(*t));
    renkei__v1__localized_text__init(t);
    t->ja = (char *)ja;
    t->en = (char *)en;
    t->kana = (char *)kana;
    return t;
}

static Renkei__V1__MunicipalityRef *municipality(rk_adapter_call_t *call,
                                                 const sim_catalogue_t *cat)
{
    Renkei__V1__MunicipalityRef *m = rk_adapter_call_alloc(call, sizeof(*m));
    renkei__v1__municipality_ref__init(m);
    m->code = (char *)cat->code;
    m->slug = (char *)cat->slug;
    m->name = text(call, cat->name_ja, cat->name_en, cat->name_kana);
    return m;
}

void sim_library_describe(const sim_library_t *lib, rk_adapter_call_t *call,
                          Renkei__V1__AdapterDescribeResponse *out)
{
    out->n_branches = lib->n_branches;
    out->branches = rk_adapter_call_alloc(call, lib->n_branches * sizeof(*out->branches));
    for (size_t b = 0; b < lib->n_branches; b++) {
        Renkei__V1__Branch *br = rk_adapter_call_alloc(call, sizeof(*br));
        renkei__v1__branch__init(br);
        br->municipality = municipality(call, lib->cat);
        br->branch_id = (char *)lib->branches[b].id;
        br->name = text(call, lib->branches[b].name_ja, lib->branches[b].name_en,
                        lib->branches[b].name_kana);
        Renkei__V1__GeoPoint *g = rk_adapter_call_alloc(call, sizeof(*g));
        renkei__v1__geo_point__init(g);
        g->latitude = lib->branches[b].latitude;
        g->longitude = lib->branches[b].longitude;
        br->location = g;
        br->pickup_point = 1;
        out->branches[b] = br;
    }
}

static Renkei__V1__Work *work_message(rk_adapter_call_t *call, const sim_library_t *lib,
                                      const record_t *r)
{
    const work_info_t *w = &works[r->work];
    Renkei__V1__Work *m = rk_adapter_call_alloc(call, sizeof(*m));
    renkei__v1__work__init(m);
    m->isbn13 = (char *)r->isbn;
    m->title = text(call, w->title, w->title_en, w->title_kana);
    Renkei__V1__Contributor *c = rk_adapter_call_alloc(call, sizeof(*c));
    renkei__v1__contributor__init(c);
    if (r->work == LOCAL_WORK) {
        c->name = text(call, rk_adapter_call_printf(call, "%s%s", lib->cat->name_ja, w->author),
                       w->author_en, w->author_kana);
        m->publisher = (char *)lib->cat->name_ja;
    } else {
        c->name = text(call, w->author, w->author_en, w->author_kana);
        m->publisher = (char *)w->publisher;
    }
    c->role = "著";
    m->n_authors = 1;
    m->authors = rk_adapter_call_alloc(call, sizeof(*m->authors));
    m->authors[0] = c;
    m->year = w->year;
    m->ndc = (char *)w->ndc;
    m->format = r->ebook ? WF(EBOOK) : WF(PRINT);
    m->n_subjects = 1;
    m->subjects = rk_adapter_call_alloc(call, sizeof(*m->subjects));
    m->subjects[0] = (char *)w->subject;
    return m;
}

static size_t waiting_holds(const sim_library_t *lib, size_t record)
{
    size_t n = 0;
    for (size_t i = 0; i < lib->n_holds; i++)
        n += lib->holds[i]->record == record && lib->holds[i]->state == HOLD(WAITING);
    return n;
}

static Renkei__V1__CatalogueRecord *
record_message(rk_adapter_call_t *call, const sim_library_t *lib, size_t ri, int with_holdings)
{
    const record_t *r = &lib->records[ri];
    Renkei__V1__CatalogueRecord *m = rk_adapter_call_alloc(call, sizeof(*m));
    renkei__v1__catalogue_record__init(m);
    m->record_id = (char *)r->id;
    m->work = work_message(call, lib, r);
    if (!with_holdings || r->ebook)
        return m;
    m->holdings = rk_adapter_call_alloc(call, (lib->n_items + 1) * sizeof(*m->holdings));
    int queue = (int)waiting_holds(lib, ri);
    const work_info_t *w = &works[r->work];
    for (size_t i = 0; i < lib->n_items; i++) {
        const item_t *it = &lib->items[i];
        if (it->work != r->work)
            continue;
        Renkei__V1__Holding *h = rk_adapter_call_alloc(call, sizeof(*h));
        renkei__v1__holding__init(h);
        h->library = municipality(call, lib->cat);
        h->branch_id = (char *)lib->branches[it->branch].id;
        h->branch_name =
            text(call, lib->branches[it->branch].name_ja, lib->branches[it->branch].name_en, "");
        h->record_id = (char *)r->id;
        h->item_id = (char *)it->id;
        h->call_number = rk_adapter_call_printf(call, "%s/%.3s", w->ndc, w->author_kana);
        h->shelf_location = it->status == HS(IN_LIBRARY_ONLY)
                                ? text(call, "郷土資料", "Local collection", "キョウドシリョウ")
                                : text(call, "開架", "Open shelves", "カイカ");
        h->status = it->status;
        if (it->status == HS(ON_LOAN))
            h->due_date = (char *)it->due;
        h->hold_queue_length = queue;
        m->holdings[m->n_holdings++] = h;
    }
    return m;
}

/* --- catalogue ------------------------------------------------------------------------------ */

/* Case-insensitive (ASCII) substring; Japanese text compares byte for byte. */
static int contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (!n)
        return 1;
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

static int matches(const sim_library_t *lib, const record_t *r,
                   const Renkei__V1__AdapterSearchCatalogueRequest *q)
{
    const work_info_t *w = &works[r->work];
    if (*q->isbn && strcmp(q->isbn, r->isbn) != 0)
        return 0;
    if (*q->title && !contains(w->title, q->title) && !contains(w->title_kana, q->title) &&
        !contains(w->title_en, q->title))
        return 0;
    if (*q->author && !contains(w->author, q->author) && !contains(w->author_kana, q->author) &&
        !contains(w->author_en, q->author))
        return 0;
    if (*q->keyword && !contains(w->title, q->keyword) && !contains(w->title_kana, q->keyword) &&
        !contains(w->title_en, q->keyword) && !contains(w->author, q->keyword) &&
        !contains(w->author_en, q->keyword) && !contains(w->subject, q->keyword) &&
        !contains(w->publisher, q->keyword) &&
        !(r->work == LOCAL_WORK && contains(lib->cat->name_ja, q->keyword)))
        return 0;
    if (*q->subject && strncmp(w->ndc, q->subject, strlen(q->subject)) != 0 &&
        !contains(w->subject, q->subject))
        return 0;
    if (q->format != WF(UNSPECIFIED) && q->format != (r->ebook ? WF(EBOOK) : WF(PRINT)))
        return 0;
    return 1;
}

void sim_search_catalogue(rk_adapter_call_t *call,
                          const Renkei__V1__AdapterSearchCatalogueRequest *request)
{
    sim_library_t *lib = lib_of(call);
    if (!*request->isbn && !*request->title && !*request->author && !*request->keyword &&
        !*request->subject) {
        sim_fail_field(call, "keyword",
                       "give at least one of isbn, title, author, keyword, subject");
        return;
    }
    if (*request->isbn &&
        (strlen(request->isbn) != 13 || strspn(request->isbn, "0123456789") != 13)) {
        rk_adapter_fail(call, RK_ADAPTER_INVALID_ARGUMENT, "LIBRARY_ERROR_INVALID_ISBN",
                        "isbn: must be a normalized ISBN-13 (13 digits)");
        return;
    }
    int size = request->page ? request->page->page_size : 0;
    size = size <= 0 ? 20 : size > 100 ? 100 : size;
    size_t offset = 0;
    const char *token = request->page ? request->page->page_token : "";
    if (*token) {
        char *end;
        if (strncmp(token, "s1.", 3) != 0 || (offset = strtoul(token + 3, &end, 10), *end)) {
            sim_fail_field(call, "page.page_token", "not a token this adapter issued");
            return;
        }
    }
    Renkei__V1__AdapterSearchCatalogueResponse out =
        RENKEI__V1__ADAPTER_SEARCH_CATALOGUE_RESPONSE__INIT;
    out.records = rk_adapter_call_alloc(call, lib->n_records * sizeof(*out.records));
    size_t total = 0;
    for (size_t i = 0; i < lib->n_records; i++) {
        if (!matches(lib, &lib->records[i], request))
            continue;
        if (total >= offset && out.n_records < (size_t)size)
            out.records[out.n_records++] = record_message(call, lib, i, request->include_holdings);
        total++;
    }
    Renkei__V1__PageResponse page = RENKEI__V1__PAGE_RESPONSE__INIT;
    page.total_size = (int32_t)total;
    if (offset + out.n_records < total)
        page.next_page_token = rk_adapter_call_printf(call, "s1.%zu", offset + out.n_records);
    out.page = &page;
    rk_adapter_reply(call, &out.base);
}

static long find_record(const sim_library_t *lib, const char *id)
{
    for (size_t i = 0; i < lib->n_records; i++) {
        if (strcmp(lib->records[i].id, id) == 0)
            return (long)i;
    }
    return -1;
}

void sim_get_holdings(rk_adapter_call_t *call, const Renkei__V1__AdapterGetHoldingsRequest *request)
{
    sim_library_t *lib = lib_of(call);
    if ((request->n_record_ids == 0) == (*request->isbn == '\0') || request->n_record_ids > 50) {
        sim_fail_field(call, "record_ids", "give 1 to 50 record ids, or an isbn");
        return;
    }
    Renkei__V1__AdapterGetHoldingsResponse out = RENKEI__V1__ADAPTER_GET_HOLDINGS_RESPONSE__INIT;
    out.records = rk_adapter_call_alloc(call, (lib->n_records + 50) * sizeof(*out.records));
    for (size_t i = 0; i < lib->n_records; i++) {
        int want = *request->isbn && strcmp(lib->records[i].isbn, request->isbn) == 0;
        for (size_t k = 0; !want && k < request->n_record_ids; k++)
            want = strcmp(lib->records[i].id, request->record_ids[k]) == 0;
        if (want)
            out.records[out.n_records++] = record_message(call, lib, i, 1);
    }
    rk_adapter_reply(call, &out.base);
}

/* --- patrons ---------------------------------------------------------------------------------- */

static int patron_known(const sim_library_t *lib, const char *id)
{
    for (size_t i = 0; i < lib->n_patrons; i++) {
        if (strcmp(lib->patrons[i], id) == 0)
            return 1;
    }
    return 0;
}

static void remember_patron(sim_library_t *lib, const char *id)
{
    if (patron_known(lib, id))
        return;
    if (lib->n_patrons == lib->cap_patrons) {
        lib->cap_patrons = lib->cap_patrons ? lib->cap_patrons * 2 : 16;
        lib->patrons = rk_xrealloc(lib->patrons, lib->cap_patrons * sizeof(*lib->patrons));
    }
    lib->patrons[lib->n_patrons++] = rk_xstrdup(id);
}

void sim_verify_patron(rk_adapter_call_t *call,
                       const Renkei__V1__AdapterVerifyPatronRequest *request)
{
    sim_library_t *lib = lib_of(call);
    sim_mutation_t m;
    if (sim_mutation_begin(call, &m, request->idempotency_key, &request->base))
        return;
    const char *card = request->card_number;
    size_t len = strlen(card);
    const char *basis;
    switch (request->method) {
    case RENKEI__V1__PATRON_LINK_METHOD__PATRON_LINK_METHOD_CARD_AND_PIN:
        if (len < 8 || len > 14 || strspn(card, "0123456789") != len) {
            sim_fail_field(call, "card_number", "must be 8 to 14 digits");
            return;
        }
        /* The card and PIN are compared and forgotten; neither is logged nor stored. */
        if (strcmp(request->pin, card + len - 4) != 0) {
            sim_mutation_fail(call, &m, RK_ADAPTER_PERMISSION_DENIED,
                              "LIBRARY_ERROR_PATRON_REJECTED", "the card number or PIN is wrong");
            return;
        }
        if (card[0] == '9') {
            sim_mutation_fail(call, &m, RK_ADAPTER_PERMISSION_DENIED,
                              "LIBRARY_ERROR_PATRON_REJECTED", "the card has expired");
            return;
        }
        basis = card;
        break;
    case RENKEI__V1__PATRON_LINK_METHOD__PATRON_LINK_METHOD_CERTIFICATE:
        if (!request->resident || !*request->resident->pairwise_id) {
            sim_fail_field(call, "resident.pairwise_id", "required for CERTIFICATE");
            return;
        }
        basis = request->resident->pairwise_id;
        break;
    case RENKEI__V1__PATRON_LINK_METHOD__PATRON_LINK_METHOD_PUPIL_ID:
        if (len < 4 || len > 32) {
            sim_fail_field(call, "card_number", "the pupil id must be 4 to 32 characters");
            return;
        }
        basis = card;
        break;
    default:
        sim_fail_field(call, "method", "must be CARD_AND_PIN, CERTIFICATE or PUPIL_ID");
        return;
    }
    char patron[32];
    snprintf(patron, sizeof(patron), "P%012llx",
             (unsigned long long)(sim_mix(lib->cat->seed ^ sim_hash(basis)) & 0xffffffffffffull));
    remember_patron(lib, patron);
    Renkei__V1__AdapterVerifyPatronResponse out = RENKEI__V1__ADAPTER_VERIFY_PATRON_RESPONSE__INIT;
    out.patron_id = patron;
    if (request->method != RENKEI__V1__PATRON_LINK_METHOD__PATRON_LINK_METHOD_CERTIFICATE)
        out.card_number_masked = rk_adapter_call_printf(call, "******%s", card + len - 4);
    char expires[11];
    sim_date_format(time(NULL) + 3 * 365 * 86400, expires, sizeof(expires));
    out.expires_on = expires;
    out.loan_limit = lib->options.loan_limit;
    out.hold_limit = lib->options.hold_limit;
    sim_mutation_reply(call, &m, &out.base);
}

/* Answers FAILED_PRECONDITION unless the patron was verified here. */
static int check_patron(rk_adapter_call_t *call, sim_mutation_t *m, const sim_library_t *lib,
                        const char *patron)
{
    if (patron_known(lib, patron))
        return 0;
    if (m)
        sim_mutation_fail(call, m, RK_ADAPTER_FAILED_PRECONDITION,
                          "LIBRARY_ERROR_PATRON_NOT_LINKED", "unknown patron: verify it first");
    else
        rk_adapter_fail(call, RK_ADAPTER_FAILED_PRECONDITION, "LIBRARY_ERROR_PATRON_NOT_LINKED",
                        "unknown patron: verify it first");
    return -1;
}

/* --- holds ------------------------------------------------------------------------------------ */

static char *iso(rk_adapter_call_t *call, time_t t)
{
    char buf[32];
    sim_time_format(t, buf, sizeof(buf));
    return rk_adapter_call_strdup(call, buf);
}

static Renkei__V1__OwnerHold *hold_message(rk_adapter_call_t *call, const sim_library_t *lib,
                                           const hold_t *h)
{
    Renkei__V1__OwnerHold *m = rk_adapter_call_alloc(call, sizeof(*m));
    renkei__v1__owner_hold__init(m);
    m->owner_reference = h->reference;
    m->hold_key = h->key;
    m->record_id = (char *)lib->records[h->record].id;
    m->work = work_message(call, lib, &lib->records[h->record]);
    m->state = h->state;
    if (h->state == HOLD(WAITING)) {
        int pos = 1;
        for (size_t i = 0; i < lib->n_holds && lib->holds[i] != h; i++)
            pos += lib->holds[i]->record == h->record && lib->holds[i]->state == HOLD(WAITING);
        m->queue_position = pos;
    }
    m->pickup_municipality = h->pickup_municipality;
    m->pickup_branch_id = h->pickup_branch;
    if (h->state == HOLD(READY))
        m->expires_at = iso(call, h->expires);
    m->placed_at = iso(call, h->placed);
    return m;
}

static item_t *shelf_copy(sim_library_t *lib, size_t work)
{
    for (size_t i = 0; i < lib->n_items; i++) {
        if (lib->items[i].work == work && lib->items[i].status == HS(AVAILABLE))
            return &lib->items[i];
    }
    return NULL;
}

static hold_t *find_hold(sim_library_t *lib, const char *reference, const char *patron)
{
    for (size_t i = 0; i < lib->n_holds; i++) {
        if (strcmp(lib->holds[i]->reference, reference) == 0 &&
            strcmp(lib->holds[i]->patron, patron) == 0)
            return lib->holds[i];
    }
    return NULL;
}

void sim_place_hold(rk_adapter_call_t *call, const Renkei__V1__AdapterPlaceHoldRequest *request)
{
    sim_library_t *lib = lib_of(call);
    sim_mutation_t m;
    if (sim_mutation_begin(call, &m, request->idempotency_key, &request->base) ||
        check_patron(call, &m, lib, request->patron_id))
        return;
    long ri = find_record(lib, request->record_id);
    if (ri < 0) {
        sim_mutation_fail(call, &m, RK_ADAPTER_NOT_FOUND, "ERROR_REASON_NOT_FOUND",
                          "no such record");
        return;
    }
    const char *pickup =
        *request->pickup_municipality ? request->pickup_municipality : lib->cat->code;
    int own = strcmp(pickup, lib->cat->code) == 0;
    int partner = 0;
    for (size_t i = 0; lib->partners[i]; i++)
        partner |= strcmp(lib->partners[i], pickup) == 0;
    if (!own && !partner) {
        sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION,
                          "LIBRARY_ERROR_PICKUP_BRANCH_NOT_ALLOWED",
                          "pickup is possible here and at partner cities' libraries only");
        return;
    }
    int branch_ok = !own;
    for (size_t b = 0; own && b < lib->n_branches; b++)
        branch_ok |= strcmp(lib->branches[b].id, request->pickup_branch_id) == 0;
    if (!branch_ok) {
        rk_adapter_fail(call, RK_ADAPTER_INVALID_ARGUMENT, "LIBRARY_ERROR_UNKNOWN_BRANCH",
                        "pickup_branch_id: no such branch");
        return;
    }
    size_t active = 0;
    for (size_t i = 0; i < lib->n_holds; i++) {
        hold_t *h = lib->holds[i];
        int live = h->state == HOLD(WAITING) || h->state == HOLD(READY);
        if (live && strcmp(h->patron, request->patron_id) == 0) {
            active++;
            if (h->record == (size_t)ri) {
                sim_mutation_fail(call, &m, RK_ADAPTER_ALREADY_EXISTS, "LIBRARY_ERROR_ALREADY_HELD",
                                  "the patron holds it already");
                return;
            }
        }
    }
    if ((int)active >= lib->options.hold_limit) {
        sim_mutation_fail(
            call, &m, RK_ADAPTER_RESOURCE_EXHAUSTED, "LIBRARY_ERROR_HOLD_LIMIT_REACHED",
            rk_adapter_call_printf(call, "at most %d holds", lib->options.hold_limit));
        return;
    }
    if (lib->records[ri].work == LOCAL_WORK) {
        sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION, "LIBRARY_ERROR_NOT_HOLDABLE",
                          "reference only");
        return;
    }
    if (lib->n_holds == lib->cap_holds) {
        lib->cap_holds = lib->cap_holds ? lib->cap_holds * 2 : 16;
        lib->holds = rk_xrealloc(lib->holds, lib->cap_holds * sizeof(*lib->holds));
    }
    hold_t *h = rk_xcalloc(1, sizeof(*h));
    lib->holds[lib->n_holds++] = h;
    char ref[64];
    snprintf(ref, sizeof(ref), "%s-H%06zu", lib->cat->slug, lib->n_holds);
    h->reference = rk_xstrdup(ref);
    h->key = rk_xstrdup(request->idempotency_key->key);
    h->patron = rk_xstrdup(request->patron_id);
    h->pickup_municipality = rk_xstrdup(pickup);
    h->pickup_branch = rk_xstrdup(request->pickup_branch_id);
    h->record = (size_t)ri;
    h->placed = time(NULL);
    item_t *copy = lib->records[ri].ebook ? NULL : shelf_copy(lib, lib->records[ri].work);
    if (copy) {
        copy->status = HS(RESERVED);
        h->item = copy;
        h->state = HOLD(READY);
        h->expires = h->placed + 7 * 86400;
    } else {
        h->state = HOLD(WAITING);
    }
    Renkei__V1__AdapterPlaceHoldResponse out = RENKEI__V1__ADAPTER_PLACE_HOLD_RESPONSE__INIT;
    out.hold = hold_message(call, lib, h);
    sim_mutation_reply(call, &m, &out.base);
}

void sim_cancel_hold(rk_adapter_call_t *call, const Renkei__V1__AdapterCancelHoldRequest *request)
{
    sim_library_t *lib = lib_of(call);
    sim_mutation_t m;
    if (sim_mutation_begin(call, &m, request->idempotency_key, &request->base))
        return;
    hold_t *h = find_hold(lib, request->owner_reference, request->patron_id);
    if (!h) {
        sim_mutation_fail(call, &m, RK_ADAPTER_NOT_FOUND, "ERROR_REASON_NOT_FOUND", "no such hold");
        return;
    }
    if (h->state == HOLD(FULFILLED) || h->state == HOLD(EXPIRED)) {
        sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION,
                          "LIBRARY_ERROR_HOLD_NOT_CANCELLABLE", "the hold has ended");
        return;
    }
    if (h->item && h->item->status == HS(RESERVED))
        h->item->status = HS(AVAILABLE);
    h->item = NULL;
    h->state = HOLD(CANCELLED);
    Renkei__V1__AdapterCancelHoldResponse out = RENKEI__V1__ADAPTER_CANCEL_HOLD_RESPONSE__INIT;
    out.hold = hold_message(call, lib, h);
    sim_mutation_reply(call, &m, &out.base);
}

void sim_list_holds(rk_adapter_call_t *call, const Renkei__V1__AdapterListHoldsRequest *request)
{
    sim_library_t *lib = lib_of(call);
    if (check_patron(call, NULL, lib, request->patron_id))
        return;
    Renkei__V1__AdapterListHoldsResponse out = RENKEI__V1__ADAPTER_LIST_HOLDS_RESPONSE__INIT;
    out.holds = rk_adapter_call_alloc(call, (lib->n_holds + 1) * sizeof(*out.holds));
    for (size_t i = 0; i < lib->n_holds; i++) {
        hold_t *h = lib->holds[i];
        if (strcmp(h->patron, request->patron_id) == 0 &&
            (h->state == HOLD(WAITING) || h->state == HOLD(READY) || h->state == HOLD(IN_TRANSIT)))
            out.holds[out.n_holds++] = hold_message(call, lib, h);
    }
    rk_adapter_reply(call, &out.base);
}

/* --- loans ------------------------------------------------------------------------------------ */

static Renkei__V1__OwnerLoan *loan_message(rk_adapter_call_t *call, const sim_library_t *lib,
                                           const loan_t *l)
{
    Renkei__V1__OwnerLoan *m = rk_adapter_call_alloc(call, sizeof(*m));
    renkei__v1__owner_loan__init(m);
    const record_t *r = &lib->records[l->record];
    m->owner_reference = l->reference;
    m->loan_key = l->key;
    m->record_id = (char *)r->id;
    m->work = work_message(call, lib, r);
    if (l->item) {
        m->item_id = (char *)l->item->id;
        m->branch_id = (char *)lib->branches[l->item->branch].id;
    }
    time_t now = time(NULL);
    m->state =
        l->state == LOAN(ACTIVE) && sim_jst_day_start(now) > l->due ? LOAN(OVERDUE) : l->state;
    char date[11];
    sim_date_format(l->borrowed, date, sizeof(date));
    m->borrowed_on = rk_adapter_call_strdup(call, date);
    sim_date_format(l->due, date, sizeof(date));
    m->due_date = rk_adapter_call_strdup(call, date);
    m->renewals = l->renewals;
    m->max_renewals = 2;
    m->elibrary = r->ebook;
    if (r->ebook && l->state != LOAN(RETURNED))
        m->reader_url = rk_adapter_call_printf(call, "https://%s.example.jp/ebook/read/%s",
                                               lib->cat->slug, l->reference);
    if (l->state == LOAN(RETURNED))
        m->returned_at = iso(call, l->returned);
    return m;
}

static loan_t *find_loan(sim_library_t *lib, const char *reference, const char *patron)
{
    for (size_t i = 0; i < lib->n_loans; i++) {
        if (strcmp(lib->loans[i]->reference, reference) == 0 &&
            strcmp(lib->loans[i]->patron, patron) == 0)
            return lib->loans[i];
    }
    return NULL;
}

void sim_list_loans(rk_adapter_call_t *call, const Renkei__V1__AdapterListLoansRequest *request)
{
    sim_library_t *lib = lib_of(call);
    if (check_patron(call, NULL, lib, request->patron_id))
        return;
    Renkei__V1__AdapterListLoansResponse out = RENKEI__V1__ADAPTER_LIST_LOANS_RESPONSE__INIT;
    out.loans = rk_adapter_call_alloc(call, (lib->n_loans + 1) * sizeof(*out.loans));
    for (size_t i = 0; i < lib->n_loans; i++) {
        loan_t *l = lib->loans[i];
        if (strcmp(l->patron, request->patron_id) == 0 &&
            (l->state != LOAN(RETURNED) || request->include_returned))
            out.loans[out.n_loans++] = loan_message(call, lib, l);
    }
    rk_adapter_reply(call, &out.base);
}

void sim_checkout(rk_adapter_call_t *call, const Renkei__V1__AdapterCheckoutRequest *request)
{
    sim_library_t *lib = lib_of(call);
    sim_mutation_t m;
    if (sim_mutation_begin(call, &m, request->idempotency_key, &request->base) ||
        check_patron(call, &m, lib, request->patron_id))
        return;
    size_t active = 0;
    for (size_t i = 0; i < lib->n_loans; i++)
        active += lib->loans[i]->state != LOAN(RETURNED) &&
                  strcmp(lib->loans[i]->patron, request->patron_id) == 0;
    if ((int)active >= lib->options.loan_limit) {
        sim_mutation_fail(
            call, &m, RK_ADAPTER_RESOURCE_EXHAUSTED, "LIBRARY_ERROR_LOAN_LIMIT_REACHED",
            rk_adapter_call_printf(call, "at most %d loans", lib->options.loan_limit));
        return;
    }
    item_t *item = NULL;
    long ri;
    if (*request->item_id) {
        for (size_t i = 0; i < lib->n_items && !item; i++) {
            if (strcmp(lib->items[i].id, request->item_id) == 0)
                item = &lib->items[i];
        }
        if (!item || (*request->branch_id &&
                      strcmp(lib->branches[item->branch].id, request->branch_id) != 0)) {
            sim_mutation_fail(call, &m, RK_ADAPTER_NOT_FOUND, "ERROR_REASON_NOT_FOUND",
                              "no such item at that branch");
            return;
        }
        ri = (long)item->work; /* print records are numbered like the works */
        for (size_t i = 0; i < lib->n_records; i++) {
            if (!lib->records[i].ebook && lib->records[i].work == item->work)
                ri = (long)i;
        }
        hold_t *ready = NULL;
        for (size_t i = 0; i < lib->n_holds; i++) {
            hold_t *h = lib->holds[i];
            if (h->item == item && h->state == HOLD(READY) &&
                strcmp(h->patron, request->patron_id) == 0)
                ready = h;
        }
        if (item->status != HS(AVAILABLE) && !ready) {
            sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION,
                              "LIBRARY_ERROR_NOT_HOLDABLE", "the item is not on the shelf");
            return;
        }
        if (ready) {
            ready->state = HOLD(FULFILLED);
            ready->item = NULL;
        }
        item->status = HS(ON_LOAN);
    } else {
        ri = find_record(lib, request->record_id);
        if (ri < 0 || !lib->records[ri].ebook) {
            sim_fail_field(call, "record_id", "an e-book record id (or item_id for print)");
            return;
        }
        int lent = 0;
        for (size_t i = 0; i < lib->n_loans; i++)
            lent += lib->loans[i]->record == (size_t)ri && lib->loans[i]->state != LOAN(RETURNED);
        if (lent >= lib->records[ri].licences) {
            sim_mutation_fail(call, &m, RK_ADAPTER_RESOURCE_EXHAUSTED,
                              "LIBRARY_ERROR_NO_LICENCE_AVAILABLE",
                              "every licence is lent; place a hold instead");
            return;
        }
    }
    if (lib->n_loans == lib->cap_loans) {
        lib->cap_loans = lib->cap_loans ? lib->cap_loans * 2 : 16;
        lib->loans = rk_xrealloc(lib->loans, lib->cap_loans * sizeof(*lib->loans));
    }
    loan_t *l = rk_xcalloc(1, sizeof(*l));
    lib->loans[lib->n_loans++] = l;
    char ref[64];
    snprintf(ref, sizeof(ref), "%s-L%06zu", lib->cat->slug, lib->n_loans);
    l->reference = rk_xstrdup(ref);
    l->key = rk_xstrdup(request->idempotency_key->key);
    l->patron = rk_xstrdup(request->patron_id);
    l->record = (size_t)ri;
    l->item = item;
    l->state = LOAN(ACTIVE);
    l->borrowed = time(NULL);
    l->due = sim_jst_day_start(l->borrowed) + 14 * 86400;
    if (item)
        sim_date_format(l->due, item->due, sizeof(item->due));
    Renkei__V1__AdapterCheckoutResponse out = RENKEI__V1__ADAPTER_CHECKOUT_RESPONSE__INIT;
    out.loan = loan_message(call, lib, l);
    sim_mutation_reply(call, &m, &out.base);
}

void sim_renew(rk_adapter_call_t *call, const Renkei__V1__AdapterRenewRequest *request)
{
    sim_library_t *lib = lib_of(call);
    sim_mutation_t m;
    if (sim_mutation_begin(call, &m, request->idempotency_key, &request->base))
        return;
    loan_t *l = find_loan(lib, request->owner_reference, request->patron_id);
    if (!l) {
        sim_mutation_fail(call, &m, RK_ADAPTER_NOT_FOUND, "ERROR_REASON_NOT_FOUND", "no such loan");
        return;
    }
    const char *why = l->state == LOAN(RETURNED)      ? "the loan was returned"
                      : l->renewals >= 2              ? "renewed twice already"
                      : waiting_holds(lib, l->record) ? "others are waiting for it"
                                                      : NULL;
    if (why) {
        sim_mutation_fail(call, &m, RK_ADAPTER_FAILED_PRECONDITION, "LIBRARY_ERROR_RENEWAL_REFUSED",
                          why);
        return;
    }
    l->renewals++;
    l->due = sim_jst_day_start(time(NULL)) + 14 * 86400;
    if (l->item)
        sim_date_format(l->due, l->item->due, sizeof(l->item->due));
    Renkei__V1__AdapterRenewResponse out = RENKEI__V1__ADAPTER_RENEW_RESPONSE__INIT;
    out.loan = loan_message(call, lib, l);
    sim_mutation_reply(call, &m, &out.base);
}

void sim_return_loan(rk_adapter_call_t *call, const Renkei__V1__AdapterReturnLoanRequest *request)
{
    sim_library_t *lib = lib_of(call);
    sim_mutation_t m;
    if (sim_mutation_begin(call, &m, request->idempotency_key, &request->base))
        return;
    loan_t *l = find_loan(lib, request->owner_reference, request->patron_id);
    if (!l) {
        sim_mutation_fail(call, &m, RK_ADAPTER_NOT_FOUND, "ERROR_REASON_NOT_FOUND", "no such loan");
        return;
    }
    if (l->state != LOAN(RETURNED)) {
        l->state = LOAN(RETURNED);
        l->returned = time(NULL);
        if (l->item) {
            l->item->status = HS(AVAILABLE);
            l->item->due[0] = '\0';
            for (size_t i = 0; i < lib->n_holds; i++) {
                hold_t *h = lib->holds[i];
                if (h->record == l->record && h->state == HOLD(WAITING)) {
                    h->state = HOLD(READY);
                    h->item = l->item;
                    h->expires = l->returned + 7 * 86400;
                    l->item->status = HS(RESERVED);
                    break;
                }
            }
        }
    }
    Renkei__V1__AdapterReturnLoanResponse out = RENKEI__V1__ADAPTER_RETURN_LOAN_RESPONSE__INIT;
    out.loan = loan_message(call, lib, l);
    sim_mutation_reply(call, &m, &out.base);
}
