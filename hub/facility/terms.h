/*
 * terms.h — a caller's terms at a facility (ResidentTerms) from one row of the SQL function
 * rk_resident_terms (migration 0011, the one place agreements become terms) and the
 * facility's own windows, and the resident-readable reason when they may not book there.
 * Shared by SearchFacilities / GetFacility (search.c), GetAvailability (availability.c) and
 * HoldSlot's refusal (booking.c).
 */
#ifndef RK_FACILITY_TERMS_H
#define RK_FACILITY_TERMS_H

#include "core/mem.h"
#include "net/rpc.h"
#include "renkei/v1/adapter.pb-c.h"
#include "renkei/v1/facility.pb-c.h"

/* What the SQL answered for the caller at the facility's owner, as text columns. */
typedef struct rk_facility_terms_row {
    const char *residency_class;   /* resident | partner_area | outsider | … */
    const char *eligible;          /* "t" | "f" */
    const char *hourly_fee;        /* lowest yen per hour on the caller's side; "" = unknown */
    const char *opens_days;        /* rk_facility_opens_days for the caller */
    const char *lottery;           /* "t" | "f" */
    const char *agreement_id;      /* "" for none */
    const char *agreement_version; /* "" for none */
    const char *owner_ja, *owner_en;
} rk_facility_terms_row_t;

/* The ResidentTerms of row, in the arena. */
Renkei__V1__ResidentTerms *rk_facility_terms_new(rk_arena_t *arena,
                                                 const rk_facility_terms_row_t *row);

/* The reason a resident of another city may not book the owner's facilities, in ja and en. */
void rk_facility_ineligible_text(rk_arena_t *arena, const char *owner_ja, const char *owner_en,
                                 char **ja, char **en);

/* The ResidencyClass of its SQL name (resident, worker, student, partner_area, outsider);
 * UNSPECIFIED for anything else. */
Renkei__V1__ResidencyClass rk_facility_residency_class(const char *name);

/**
 * Fills *out (with *home and *agreement, the caller's storage) as the owner gets it for a
 * booking row: the resident's pairwise id, home municipality code, and the class, side of the
 * fee schedule and agreement (id "" = none) the booking was made on. Every call under one
 * booking's key — HoldSlot, ConfirmBooking, CancelBooking, and their resumption by the recovery
 * sweep — therefore carries the same context. The strings are borrowed.
 */
void rk_facility_resident_context(Renkei__V1__ResidentContext *out,
                                  Renkei__V1__MunicipalityRef *home,
                                  Renkei__V1__AgreementRef *agreement, const char *pairwise_id,
                                  const char *home_code, const char *residency_class,
                                  const char *fee_basis, const char *agreement_id,
                                  const char *agreement_version);

/**
 * The caller of a public method from an optional resident's access token: 0 with *home (the
 * home municipality code) and *grant (the token's grant, whose account rk_caller_terms of
 * migration 0021 reads for 在勤・在学), both NULL without an Authorization header; or -1 after
 * answering UNAUTHENTICATED — a token that does not verify is an error, never an anonymous call.
 */
int rk_facility_caller(rk_rpc_t *rpc, const char **home, const char **grant);

/** rk_facility_caller() for those that need the home municipality only. */
int rk_facility_caller_home(rk_rpc_t *rpc, const char **home);

#endif
