/*
 * sim_catalogue.c — generated and imported facilities, and their changes (see sim_catalogue.h).
 */
#include "sim_catalogue.h"

#include "sim_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FK(x) RENKEI__V1__FACILITY_KIND__FACILITY_KIND_##x
#define AF(x) RENKEI__V1__ACCESSIBILITY_FEATURE__ACCESSIBILITY_FEATURE_##x
#define DT(x) RENKEI__V1__DAY_TYPE__DAY_TYPE_##x

/* kind, ja, en, kana, sports, indoor, slot, open, close, capacity min-max, resident fee */
static const sim_kind_info_t kinds[] = {
    {FK(BASEBALL_FIELD), "野球場", "Baseball field", "ヤキュウジョウ", 1, 0, 120, 360, 1140, 20, 40,
     2400},
    {FK(TENNIS_COURT), "テニスコート", "Tennis court", "テニスコート", 1, 0, 60, 420, 1260, 2, 8,
     800},
    {FK(GYMNASIUM), "体育館", "Gymnasium", "タイイクカン", 1, 1, 120, 540, 1260, 30, 200, 3000},
    {FK(POOL), "プール", "Swimming pool", "プール", 1, 1, 120, 540, 1260, 20, 120, 4000},
    {FK(MEETING_ROOM), "会議室", "Meeting room", "カイギシツ", 0, 1, 60, 540, 1320, 6, 60, 600},
    {FK(HALL), "ホール", "Hall", "ホール", 0, 1, 240, 540, 1320, 100, 800, 20000},
    {FK(MUSIC_STUDIO), "音楽室", "Music studio", "オンガクシツ", 0, 1, 60, 540, 1320, 4, 20, 900},
    {FK(ATHLETIC_FIELD), "陸上競技場", "Athletics stadium", "リクジョウキョウギジョウ", 1, 0, 240,
     540, 1020, 50, 500, 6000},
    {FK(SOCCER_FIELD), "サッカー場", "Football pitch", "サッカージョウ", 1, 0, 120, 420, 1140, 22,
     60, 3600},
    {FK(FUTSAL), "フットサル場", "Futsal court", "フットサルジョウ", 1, 0, 60, 540, 1320, 10, 20,
     2500},
    {FK(MARTIAL_ARTS_HALL), "武道場", "Martial arts hall", "ブドウジョウ", 1, 1, 120, 540, 1260, 10,
     60, 1800},
    {FK(ARCHERY_RANGE), "弓道場", "Archery range", "キュウドウジョウ", 1, 0, 120, 540, 1140, 4, 20,
     1000},
    {FK(MULTIPURPOSE_ROOM), "多目的室", "Multipurpose room", "タモクテキシツ", 0, 1, 60, 540, 1320,
     10, 60, 700},
    {FK(COOKING_ROOM), "調理室", "Cooking room", "チョウリシツ", 0, 1, 120, 540, 1260, 8, 30, 1200},
    {FK(JAPANESE_ROOM), "和室", "Japanese-style room", "ワシツ", 0, 1, 60, 540, 1320, 4, 30, 600},
    {FK(STUDIO), "スタジオ", "Studio", "スタジオ", 0, 1, 60, 540, 1320, 4, 30, 1000},
    {FK(PARK_BBQ), "バーベキュー場", "Barbecue area", "バーベキュージョウ", 0, 0, 180, 600, 1020,
     10, 40, 1500},
    {FK(CAMP_SITE), "キャンプ場", "Campsite", "キャンプジョウ", 0, 0, 1440, 0, 1440, 4, 12, 3000},
    {FK(SPORTS_GROUND), "運動場", "Sports ground", "ウンドウジョウ", 1, 0, 120, 420, 1140, 20, 100,
     2000},
    {FK(TABLE_TENNIS), "卓球場", "Table tennis room", "タッキュウジョウ", 1, 1, 60, 540, 1260, 4,
     24, 500},
    {FK(TRAINING_ROOM), "トレーニング室", "Training room", "トレーニングシツ", 1, 1, 60, 540, 1260,
     5, 30, 400},
    {FK(GATEBALL), "ゲートボール場", "Gateball field", "ゲートボールジョウ", 1, 0, 120, 480, 1020,
     10, 30, 600},
    {FK(EXHIBITION_ROOM), "展示室", "Exhibition room", "テンジシツ", 0, 1, 480, 540, 1140, 20, 150,
     5000},
    {FK(CHILDREN_ROOM), "児童室", "Children's room", "ジドウシツ", 0, 1, 60, 540, 1080, 5, 30, 300},
    {FK(OTHER), "施設", "Facility", "シセツ", 0, 1, 60, 540, 1260, 5, 50, 800},
};

#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

const sim_kind_info_t *sim_kind_info(Renkei__V1__FacilityKind kind)
{
    for (size_t i = 0; i < N_KINDS; i++) {
        if (kinds[i].kind == kind)
            return &kinds[i];
    }
    return &kinds[N_KINDS - 1];
}

/* Kinds a generated catalogue draws from, sports fields and community rooms alike. */
static const Renkei__V1__FacilityKind generated_kinds[] = {
    FK(BASEBALL_FIELD), FK(TENNIS_COURT),  FK(TENNIS_COURT),
    FK(GYMNASIUM),      FK(POOL),          FK(MEETING_ROOM),
    FK(MEETING_ROOM),   FK(HALL),          FK(MUSIC_STUDIO),
    FK(SOCCER_FIELD),   FK(FUTSAL),        FK(MARTIAL_ARTS_HALL),
    FK(ARCHERY_RANGE),  FK(SPORTS_GROUND), FK(MULTIPURPOSE_ROOM),
    FK(COOKING_ROOM),   FK(JAPANESE_ROOM), FK(STUDIO),
    FK(TABLE_TENNIS),   FK(TRAINING_ROOM), FK(GATEBALL),
    FK(PARK_BBQ),
};

/* Place names for generated sites: kanji, reading, romaji. */
static const struct {
    const char *ja, *kana, *en;
} places[] = {
    {"中央", "チュウオウ", "Chuo"},
    {"緑ヶ丘", "ミドリガオカ", "Midorigaoka"},
    {"桜台", "サクラダイ", "Sakuradai"},
    {"若葉", "ワカバ", "Wakaba"},
    {"富士見", "フジミ", "Fujimi"},
    {"川辺", "カワベ", "Kawabe"},
    {"青葉", "アオバ", "Aoba"},
    {"平和", "ヘイワ", "Heiwa"},
    {"旭", "アサヒ", "Asahi"},
    {"本町", "ホンチョウ", "Honcho"},
    {"泉", "イズミ", "Izumi"},
    {"宮前", "ミヤマエ", "Miyamae"},
    {"東", "ヒガシ", "Higashi"},
    {"西", "ニシ", "Nishi"},
    {"南", "ミナミ", "Minami"},
    {"北", "キタ", "Kita"},
    {"多摩川", "タマガワ", "Tamagawa"},
    {"けやき", "ケヤキ", "Keyaki"},
    {"深大寺", "ジンダイジ", "Jindaiji"},
    {"野川", "ノガワ", "Nogawa"},
};

#define N_PLACES (sizeof(places) / sizeof(places[0]))

/* Centres of the demo cities; others default to central Tokyo, offset by their code. */
static const struct {
    const char *slug;
    double latitude, longitude;
} centres[] = {
    {"chofu", 35.6518, 139.5407},           {"itabashi", 35.7512, 139.7093},
    {"kiyose", 35.7857, 139.5265},          {"higashimurayama", 35.7546, 139.4685},
    {"kodaira", 35.7285, 139.4774},         {"nishitokyo", 35.7256, 139.5383},
    {"higashikurume", 35.7586, 139.5295},   {"chiyoda", 35.6940, 139.7536},
    {"musashimurayama", 35.7547, 139.3876},
};

/* --- arena helpers ------------------------------------------------------------------------ */

static char *dup(sim_catalogue_t *cat, const char *s)
{
    return rk_arena_strdup(cat->arena, s ? s : "");
}

static Renkei__V1__LocalizedText *text(sim_catalogue_t *cat, const char *ja, const char *en,
                                       const char *kana)
{
    Renkei__V1__LocalizedText *t = rk_arena_calloc(cat->arena, 1, sizeof(*t));
    renkei__v1__localized_text__init(t);
    t->ja = dup(cat, ja);
    t->en = dup(cat, en);
    t->kana = dup(cat, kana);
    return t;
}

static Renkei__V1__Yen *yen(sim_catalogue_t *cat, int64_t amount)
{
    Renkei__V1__Yen *y = rk_arena_calloc(cat->arena, 1, sizeof(*y));
    renkei__v1__yen__init(y);
    y->amount = amount;
    return y;
}

static int64_t round100(double v)
{
    return (int64_t)(v / 100.0 + 0.5) * 100;
}

static void touch(sim_catalogue_t *cat, sim_facility_t *f)
{
    char now[32];
    sim_time_format(time(NULL), now, sizeof(now));
    f->version = cat->version;
    f->pb.updated_at = dup(cat, now);
}

/* --- catalogue ----------------------------------------------------------------------------- */

sim_catalogue_t *sim_catalogue_new(const sim_catalogue_options_t *o)
{
    sim_catalogue_t *cat = rk_xcalloc(1, sizeof(*cat));
    cat->arena = rk_arena_new();
    cat->version = 1;
    cat->seed = o->seed;
    cat->code = dup(cat, o->code);
    cat->slug = dup(cat, o->slug);
    cat->name_ja = dup(cat, o->name_ja);
    cat->name_en = dup(cat, o->name_en);
    cat->name_kana = dup(cat, o->name_kana);
    cat->latitude = o->latitude;
    cat->longitude = o->longitude;
    if (cat->latitude == 0 && cat->longitude == 0) {
        uint64_t h = sim_hash(cat->code);
        cat->latitude = 35.68 + (double)(h % 200) / 1000.0 - 0.1;
        cat->longitude = 139.69 + (double)((h >> 16) % 400) / 1000.0 - 0.3;
        for (size_t i = 0; i < sizeof(centres) / sizeof(centres[0]); i++) {
            if (strcmp(centres[i].slug, cat->slug) == 0) {
                cat->latitude = centres[i].latitude;
                cat->longitude = centres[i].longitude;
            }
        }
    }
    return cat;
}

void sim_catalogue_free(sim_catalogue_t *cat)
{
    if (!cat)
        return;
    rk_arena_free(cat->arena);
    free(cat->facilities);
    free(cat);
}

static sim_facility_t *add(sim_catalogue_t *cat)
{
    if (cat->n == cat->cap) {
        cat->cap = cat->cap ? cat->cap * 2 : 64;
        cat->facilities = rk_xrealloc(cat->facilities, cat->cap * sizeof(*cat->facilities));
    }
    sim_facility_t *f = rk_arena_calloc(cat->arena, 1, sizeof(*f));
    renkei__v1__facility__init(&f->pb);
    f->index = cat->next_index++;
    cat->facilities[cat->n++] = f;
    return f;
}

/* Fees, hours, window and rules from the kind, varied by the facility's own random stream. */
static void set_terms(sim_catalogue_t *cat, sim_facility_t *f, uint64_t *rng)
{
    const sim_kind_info_t *k = f->kind;
    f->slot_minutes = k->slot_minutes;
    f->open_minute = k->open_minute;
    f->close_minute = k->close_minute;
    f->closed_weekday = sim_below(rng, 3) == 0 ? -1 : 1 + (int)sim_below(rng, 2); /* Mon/Tue */
    f->residents_only = sim_below(rng, 10) == 0;
    double vary = 0.8 + 0.4 * sim_unit(rng);
    f->resident_fee = round100(k->resident_fee * vary);
    if (f->resident_fee < 100)
        f->resident_fee = 100;
    f->non_resident_fee = round100((double)f->resident_fee * (sim_below(rng, 2) ? 1.5 : 2.0));
    f->weekend_resident_fee = round100((double)f->resident_fee * 1.25);
    f->weekend_non_resident_fee = round100((double)f->non_resident_fee * 1.25);

    Renkei__V1__FeeSchedule *fees = rk_arena_calloc(cat->arena, 1, sizeof(*fees));
    renkei__v1__fee_schedule__init(fees);
    fees->n_rates = 2;
    fees->rates = rk_arena_calloc(cat->arena, 2, sizeof(*fees->rates));
    for (int i = 0; i < 2; i++) {
        Renkei__V1__FeeRate *r = rk_arena_calloc(cat->arena, 1, sizeof(*r));
        renkei__v1__fee_rate__init(r);
        r->unit_minutes = f->slot_minutes;
        r->resident_fee = yen(cat, i ? f->weekend_resident_fee : f->resident_fee);
        r->non_resident_fee = yen(cat, i ? f->weekend_non_resident_fee : f->non_resident_fee);
        r->n_day_types = i ? 3 : 1;
        r->day_types = rk_arena_calloc(cat->arena, 3, sizeof(*r->day_types));
        r->day_types[0] = i ? DT(SATURDAY) : DT(WEEKDAY);
        if (i) {
            r->day_types[1] = DT(SUNDAY);
            r->day_types[2] = DT(HOLIDAY);
        }
        r->label = i ? text(cat, "土日祝", "Weekends and holidays", "ドニチシュク")
                     : text(cat, "平日", "Weekdays", "ヘイジツ");
        fees->rates[i] = r;
    }
    fees->notes = text(cat, "照明料は別途", "Lighting is charged separately", "");
    f->pb.fees = fees;

    Renkei__V1__BookingWindow *w = rk_arena_calloc(cat->arena, 1, sizeof(*w));
    renkei__v1__booking_window__init(w);
    w->opens_days_before = 60;
    w->non_resident_opens_days_before = 30;
    w->closes_hours_before = 1;
    w->cancellation_closes_hours_before = 24;
    f->pb.booking_window = w;

    f->pb.lottery =
        (k->kind == FK(BASEBALL_FIELD) || k->kind == FK(SOCCER_FIELD)) && sim_below(rng, 4) == 0;
    if (f->pb.lottery)
        f->pb.lottery_notes = text(cat, "31日以降の枠は抽選です（毎月1日締切）",
                                   "Slots more than 30 days ahead are allocated by lottery", "");
    f->pb.bookable_via_hub = sim_below(rng, 20) != 0;
    f->pb.booking_url =
        rk_arena_printf(cat->arena, "https://%s.example.jp/yoyaku/%s", cat->slug, f->pb.id);
    static const char *const weekday_ja[] = {"日", "月", "火", "水", "木", "金", "土"};
    static const char *const weekday_en[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                             "Thursday", "Friday", "Saturday"};
    char hours_ja[128], hours_en[128];
    snprintf(hours_ja, sizeof(hours_ja), "%d:%02d〜%d:%02d%s%s%s", f->open_minute / 60,
             f->open_minute % 60, f->close_minute / 60, f->close_minute % 60,
             f->closed_weekday >= 0 ? "（毎週" : "",
             f->closed_weekday >= 0 ? weekday_ja[f->closed_weekday] : "",
             f->closed_weekday >= 0 ? "曜休館）" : "");
    snprintf(hours_en, sizeof(hours_en), "%d:%02d-%d:%02d%s%s", f->open_minute / 60,
             f->open_minute % 60, f->close_minute / 60, f->close_minute % 60,
             f->closed_weekday >= 0 ? ", closed on " : "",
             f->closed_weekday >= 0 ? weekday_en[f->closed_weekday] : "");
    f->pb.opening_hours = text(cat, hours_ja, hours_en, "");
    f->pb.usage_rules = f->residents_only
                            ? text(cat, "市内在住・在勤・在学の方のみ利用できます",
                                   "Only for people who live, work or study in the city", "")
                            : text(cat, "どなたでも利用できます（団体登録が必要）",
                                   "Open to everyone (group registration required)", "");
    if (k->capacity_max)
        f->pb.capacity = k->capacity_min +
                         (int32_t)sim_below(rng, (uint64_t)(k->capacity_max - k->capacity_min + 1));
    if (k->indoor) {
        static const Renkei__V1__AccessibilityFeature features[] = {
            AF(WHEELCHAIR_ACCESSIBLE), AF(ACCESSIBLE_TOILET), AF(STEP_FREE), AF(ELEVATOR),
            AF(PARKING)};
        f->pb.accessibility = rk_arena_calloc(cat->arena, 5, sizeof(*f->pb.accessibility));
        for (size_t i = 0; i < 5; i++) {
            if (sim_below(rng, 3) != 0)
                f->pb.accessibility[f->pb.n_accessibility++] = features[i];
        }
    }
}

static void generate_one(sim_catalogue_t *cat, int from_churn)
{
    sim_facility_t *f = add(cat);
    uint64_t rng = sim_mix(cat->seed ^ ((uint64_t)f->index * 0x9e3779b97f4a7c15ull));
    Renkei__V1__FacilityKind kind =
        generated_kinds[sim_below(&rng, sizeof(generated_kinds) / sizeof(generated_kinds[0]))];
    const sim_kind_info_t *k = sim_kind_info(kind);
    f->kind = k;
    f->from_churn = from_churn;
    size_t p = (size_t)sim_below(&rng, N_PLACES);
    const char *site_ja, *site_en, *site_kana;
    int site_type = k->sports ? (k->indoor ? 0 : 1) : 2;
    if (site_type == 0) {
        site_ja = "スポーツセンター";
        site_en = "Sports Centre";
        site_kana = "スポーツセンター";
    } else if (site_type == 1) {
        site_ja = "公園";
        site_en = "Park";
        site_kana = "コウエン";
    } else {
        site_ja = "地域センター";
        site_en = "Community Centre";
        site_kana = "チイキセンター";
    }
    char unit = (char)('A' + sim_below(&rng, 4));
    f->pb.id = rk_arena_printf(cat->arena, "%s-f%04d", cat->slug, f->index + 1);
    f->pb.owner_facility_id = f->pb.id;
    f->pb.kind = kind;
    char ja[256], en[256], kana[256];
    snprintf(ja, sizeof(ja), "%s%s %s%c", places[p].ja, site_ja, k->ja, unit);
    snprintf(en, sizeof(en), "%s %s %s %c", places[p].en, site_en, k->en, unit);
    snprintf(kana, sizeof(kana), "%s%s %s%c", places[p].kana, site_kana, k->kana, unit);
    f->pb.name = text(cat, ja, en, kana);
    snprintf(ja, sizeof(ja), "%s%s", places[p].ja, site_ja);
    snprintf(en, sizeof(en), "%s %s", places[p].en, site_en);
    snprintf(kana, sizeof(kana), "%s%s", places[p].kana, site_kana);
    f->pb.site_id = rk_arena_printf(cat->arena, "%s-s%02zu%d", cat->slug, p, site_type);
    f->pb.site_name = text(cat, ja, en, kana);
    f->pb.description = text(cat, "シミュレーションの施設です（renkei-adapter-sim）",
                             "A simulated facility (renkei-adapter-sim)", "");
    int block = 1 + (int)sim_below(&rng, 9), lot = 1 + (int)sim_below(&rng, 40);
    Renkei__V1__PostalAddress *a = rk_arena_calloc(cat->arena, 1, sizeof(*a));
    renkei__v1__postal_address__init(a);
    a->postal_code = rk_arena_printf(cat->arena, "1%02d-%04d", (int)(sim_hash(cat->code) % 100),
                                     (int)sim_below(&rng, 10000));
    snprintf(ja, sizeof(ja), "東京都%s%s%d-%d", cat->name_ja, places[p].ja, block, lot);
    snprintf(en, sizeof(en), "%d-%d %s, %s, Tokyo", block, lot, places[p].en, cat->name_en);
    a->text = text(cat, ja, en, "");
    f->pb.address = a;
    Renkei__V1__GeoPoint *g = rk_arena_calloc(cat->arena, 1, sizeof(*g));
    renkei__v1__geo_point__init(g);
    g->latitude = round((cat->latitude + (sim_unit(&rng) - 0.5) * 0.06) * 1e6) / 1e6;
    g->longitude = round((cat->longitude + (sim_unit(&rng) - 0.5) * 0.06) * 1e6) / 1e6;
    f->pb.location = g;
    f->pb.phone = rk_arena_printf(cat->arena, "042-%03d-%04d", (int)sim_below(&rng, 1000),
                                  (int)sim_below(&rng, 10000));
    f->pb.website_url =
        rk_arena_printf(cat->arena, "https://%s.example.jp/shisetsu/%s", cat->slug, f->pb.id);
    set_terms(cat, f, &rng);
    touch(cat, f);
}

void sim_catalogue_generate(sim_catalogue_t *cat, int count)
{
    for (int i = 0; i < count; i++)
        generate_one(cat, 0);
}

sim_facility_t *sim_catalogue_find(const sim_catalogue_t *cat, const char *id)
{
    for (size_t i = 0; i < cat->n; i++) {
        if (!cat->facilities[i]->removed && strcmp(cat->facilities[i]->pb.id, id) == 0)
            return cat->facilities[i];
    }
    return NULL;
}

void sim_catalogue_churn(sim_catalogue_t *cat)
{
    uint64_t tick = cat->churn_ticks++;
    uint64_t rng = sim_mix(cat->seed ^ 0x636875726eull ^ (tick * 0x9e3779b97f4a7c15ull));
    cat->version++;
    if (tick % 3 == 0) {
        generate_one(cat, 1);
        return;
    }
    if (tick % 3 == 2) {
        for (size_t i = 0; i < cat->n; i++) {
            sim_facility_t *f = cat->facilities[i];
            if (f->from_churn && !f->removed) {
                f->removed = 1;
                f->version = cat->version;
                return;
            }
        }
    }
    /* A fee change on a live facility (also when there was nothing to remove). */
    size_t live = 0;
    for (size_t i = 0; i < cat->n; i++)
        live += !cat->facilities[i]->removed;
    if (!live)
        return;
    size_t pick = (size_t)sim_below(&rng, live);
    for (size_t i = 0; i < cat->n; i++) {
        sim_facility_t *f = cat->facilities[i];
        if (f->removed || pick--)
            continue;
        f->resident_fee += 100;
        f->weekend_resident_fee += 100;
        f->pb.fees->rates[0]->resident_fee = yen(cat, f->resident_fee);
        f->pb.fees->rates[1]->resident_fee = yen(cat, f->weekend_resident_fee);
        touch(cat, f);
        return;
    }
}

/* --- 公共施設一覧 CSV ------------------------------------------------------------------------ */

int sim_catalogue_import(sim_catalogue_t *cat, const rk_facility_csv_t *csv, char *why,
                         size_t why_len)
{
    int added = 0;
    for (size_t i = 0; i < csv->n_records; i++) {
        const rk_facility_record_t *r = &csv->records[i];
        const sim_kind_info_t *k = sim_kind_info(r->kind);
        if (!k->sports)
            continue; /* offices, schools, nurseries: not bookable facilities */
        if (!*r->id) {
            snprintf(why, why_len, "line %zu: ID: required (the sim books by it)", r->line);
            return -1;
        }
        if (sim_catalogue_find(cat, r->id)) {
            snprintf(why, why_len, "line %zu: ID %s: appears twice", r->line, r->id);
            return -1;
        }
        sim_facility_t *f = add(cat);
        uint64_t rng = sim_mix(cat->seed ^ sim_hash(r->id));
        f->kind = k;
        f->pb.id = dup(cat, r->id);
        f->pb.owner_facility_id = f->pb.id;
        f->pb.kind = r->kind;
        f->pb.name = text(cat, r->name, r->name_en, r->name_kana);
        f->pb.description = text(cat, r->description, "", "");
        Renkei__V1__PostalAddress *a = rk_arena_calloc(cat->arena, 1, sizeof(*a));
        renkei__v1__postal_address__init(a);
        a->postal_code = dup(cat, r->postal_code);
        a->text = text(cat, r->address, "", "");
        f->pb.address = a;
        if (r->located) {
            Renkei__V1__GeoPoint *g = rk_arena_calloc(cat->arena, 1, sizeof(*g));
            renkei__v1__geo_point__init(g);
            g->latitude = r->latitude;
            g->longitude = r->longitude;
            f->pb.location = g;
        }
        f->pb.phone = dup(cat, r->phone);
        f->pb.website_url = dup(cat, r->url);
        set_terms(cat, f, &rng);
        f->pb.bookable_via_hub = 1; /* the sports rows are what the sim books */
        f->pb.n_accessibility = r->n_accessibility;
        f->pb.accessibility =
            rk_arena_calloc(cat->arena, r->n_accessibility + 1, sizeof(*f->pb.accessibility));
        memcpy(f->pb.accessibility, r->accessibility,
               r->n_accessibility * sizeof(*f->pb.accessibility));
        touch(cat, f);
        added++;
    }
    return added;
}
