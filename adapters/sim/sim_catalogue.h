/*
 * sim_catalogue.h — the simulated owner's facility catalogue: generated from a seed, or read
 * from a municipality's 公共施設一覧 open-data CSV, and changed over time for incremental sync.
 *
 * Generation is deterministic: facility i of a catalogue is a function of (seed, i) only, so
 * the same seed gives the same facilities (kinds, names in ja/en/kana, coordinates around the
 * city centre, capacities, fee schedules for residents and non-residents, opening hours). A
 * CSV import keeps the rows whose 名称 names a sports facility (taxonomy of proto/README.md)
 * and makes them bookable; their fees and hours come from the kind's defaults.
 *
 * The catalogue has a version. sim_catalogue_churn() makes one change (a new facility, a fee
 * change, or the removal of a facility churn added earlier) and bumps it; each facility
 * remembers the version of its last change, and removed ones stay listed as removed, so
 * ListFacilities can answer "what changed since version N". Facilities and their protobuf
 * messages live in the catalogue's arena until sim_catalogue_free(). Pure: no event loop.
 */
#ifndef SIM_CATALOGUE_H
#define SIM_CATALOGUE_H

#include "core/mem.h"
#include "facility_csv.h"
#include "renkei/v1/facility.pb-c.h"

#include <stddef.h>
#include <stdint.h>

/** What the sim knows about a kind: names, slot length, hours, typical capacity and fee. */
typedef struct sim_kind_info {
    Renkei__V1__FacilityKind kind;
    const char *ja, *en, *kana;
    int sports;       /* counted as a sports facility (bookable when imported from CSV) */
    int indoor;       /* accessibility features of a building */
    int slot_minutes; /* one bookable slot */
    int open_minute, close_minute; /* Japan local minutes of the day */
    int capacity_min, capacity_max;
    int resident_fee; /* yen per slot on weekdays, before variation */
} sim_kind_info_t;

typedef struct sim_facility {
    Renkei__V1__Facility pb; /* what ListFacilities sends; strings in the catalogue arena */
    int index;               /* creation number: the seed of everything random about it */
    const sim_kind_info_t *kind;
    int slot_minutes, open_minute, close_minute;
    int closed_weekday; /* 0 = Sunday … 6 = Saturday; -1 = open every day */
    int residents_only;
    int from_churn; /* added by sim_catalogue_churn(): the only ones churn removes */
    int64_t resident_fee, non_resident_fee;                 /* per slot, weekdays */
    int64_t weekend_resident_fee, weekend_non_resident_fee; /* Saturdays, Sundays */
    uint64_t version; /* catalogue version of its last change */
    int removed;
    void *bookings; /* sim_facility.c's list of this facility's bookings; freed there */
} sim_facility_t;

typedef struct sim_catalogue_options {
    const char *code, *slug;                   /* the municipality */
    const char *name_ja, *name_en, *name_kana; /* may be empty */
    uint64_t seed;
    double latitude, longitude; /* centre; 0, 0 = look the slug up, else central Tokyo */
} sim_catalogue_options_t;

typedef struct sim_catalogue {
    rk_arena_t *arena;
    sim_facility_t **facilities; /* creation order, removed ones included */
    size_t n, cap;
    uint64_t version;
    uint64_t seed;
    uint64_t churn_ticks;
    int next_index;
    const char *code, *slug, *name_ja, *name_en, *name_kana;
    double latitude, longitude;
} sim_catalogue_t;

sim_catalogue_t *sim_catalogue_new(const sim_catalogue_options_t *options);
void sim_catalogue_free(sim_catalogue_t *cat);
/** Adds count generated facilities. */
void sim_catalogue_generate(sim_catalogue_t *cat, int count);
/**
 * Adds the sports rows of a read 公共施設一覧 file (facility_csv.h: both layouts, normalised) as
 * bookable facilities; their fees and hours come from the kind. Returns the number added, or
 * -1 with "line N: …" in why when a sports row has no ID or one already taken.
 */
int sim_catalogue_import(sim_catalogue_t *cat, const rk_facility_csv_t *csv, char *why,
                         size_t why_len);
/** A facility that is not removed, by owner id; NULL if none. */
sim_facility_t *sim_catalogue_find(const sim_catalogue_t *cat, const char *id);
/** One change to the data; bumps the version. */
void sim_catalogue_churn(sim_catalogue_t *cat);

/** The sim's table entry for a kind (OTHER's for unknown kinds); never NULL. */
const sim_kind_info_t *sim_kind_info(Renkei__V1__FacilityKind kind);

#endif
