/*
 * terms.c — ResidentTerms from rk_resident_terms' answer (see terms.h).
 */
#include "facility/terms.h"

#include "app.h"
#include "identity/resident_token.h"
#include "net/request.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    Renkei__V1__ResidencyClass value;
} classes[] = {
    {"resident", RENKEI__V1__RESIDENCY_CLASS__RESIDENCY_CLASS_RESIDENT},
    {"worker", RENKEI__V1__RESIDENCY_CLASS__RESIDENCY_CLASS_WORKER},
    {"student", RENKEI__V1__RESIDENCY_CLASS__RESIDENCY_CLASS_STUDENT},
    {"partner_area", RENKEI__V1__RESIDENCY_CLASS__RESIDENCY_CLASS_PARTNER_AREA},
    {"outsider", RENKEI__V1__RESIDENCY_CLASS__RESIDENCY_CLASS_OUTSIDER},
};

Renkei__V1__ResidencyClass rk_facility_residency_class(const char *name)
{
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        if (strcmp(classes[i].name, name) == 0)
            return classes[i].value;
    return RENKEI__V1__RESIDENCY_CLASS__RESIDENCY_CLASS_UNSPECIFIED;
}

void rk_facility_ineligible_text(rk_arena_t *arena, const char *owner_ja, const char *owner_en,
                                 char **ja, char **en)
{
    *ja = rk_arena_printf(arena,
                          "%sの施設は、%sにお住まいの方と、%sと協定を結んだ市区町村にお住まいの方が"
                          "予約できます。",
                          owner_ja, owner_ja, owner_ja);
    *en = rk_arena_printf(arena,
                          "Facilities of %s can be booked by residents of %s and of "
                          "municipalities with an agreement with it.",
                          owner_en, owner_en);
}

Renkei__V1__ResidentTerms *rk_facility_terms_new(rk_arena_t *arena,
                                                 const rk_facility_terms_row_t *row)
{
    Renkei__V1__ResidentTerms *t = rk_arena_alloc(arena, sizeof(*t));
    *t = (Renkei__V1__ResidentTerms)RENKEI__V1__RESIDENT_TERMS__INIT;
    t->residency_class = rk_facility_residency_class(row->residency_class);
    t->eligible = strcmp(row->eligible, "t") == 0;
    if (!t->eligible) {
        Renkei__V1__LocalizedText *reason = rk_arena_alloc(arena, sizeof(*reason));
        *reason = (Renkei__V1__LocalizedText)RENKEI__V1__LOCALIZED_TEXT__INIT;
        rk_facility_ineligible_text(arena, row->owner_ja, row->owner_en, &reason->ja,
                                    &reason->en);
        t->ineligible_reason = reason;
    }
    if (*row->hourly_fee) {
        Renkei__V1__Yen *fee = rk_arena_alloc(arena, sizeof(*fee));
        *fee = (Renkei__V1__Yen)RENKEI__V1__YEN__INIT;
        fee->amount = strtoll(row->hourly_fee, NULL, 10);
        t->hourly_fee_from = fee;
    }
    t->opens_days_before = (int32_t)strtol(row->opens_days, NULL, 10);
    t->may_enter_lottery = strcmp(row->lottery, "t") == 0;
    if (*row->agreement_id) {
        Renkei__V1__AgreementRef *a = rk_arena_alloc(arena, sizeof(*a));
        *a = (Renkei__V1__AgreementRef)RENKEI__V1__AGREEMENT_REF__INIT;
        a->agreement_id = rk_arena_strdup(arena, row->agreement_id);
        a->version = (int32_t)strtol(row->agreement_version, NULL, 10);
        t->agreement = a;
    }
    return t;
}

int rk_facility_caller(rk_rpc_t *rpc, const char **home, const char **grant)
{
    rk_request_t *req = rk_rpc_request(rpc);
    *home = NULL;
    *grant = NULL;
    const char *auth = rk_request_header(req, "authorization");
    if (!auth)
        return 0;
    rk_identity_resident_t resident;
    if (strncasecmp(auth, "Bearer ", 7) != 0 ||
        rk_identity_resident_verify(rk_app(req), auth + 7, &resident) != 0) {
        rk_rpc_fail(rpc, RK_RPC_UNAUTHENTICATED,
                    "authorization: not a valid resident access token of this hub (expired?); "
                    "send none to ask anonymously");
        return -1;
    }
    *home = rk_arena_strdup(req->arena, resident.home_municipality);
    *grant = rk_arena_strdup(req->arena, resident.grant_id);
    return 0;
}

void rk_facility_resident_context(Renkei__V1__ResidentContext *out,
                                  Renkei__V1__MunicipalityRef *home,
                                  Renkei__V1__AgreementRef *agreement, const char *pairwise_id,
                                  const char *home_code, const char *residency_class,
                                  const char *fee_basis, const char *agreement_id,
                                  const char *agreement_version)
{
    *home = (Renkei__V1__MunicipalityRef)RENKEI__V1__MUNICIPALITY_REF__INIT;
    home->code = (char *)home_code;
    *agreement = (Renkei__V1__AgreementRef)RENKEI__V1__AGREEMENT_REF__INIT;
    *out = (Renkei__V1__ResidentContext)RENKEI__V1__RESIDENT_CONTEXT__INIT;
    out->pairwise_id = (char *)pairwise_id;
    out->home_municipality = home;
    out->residency_class = rk_facility_residency_class(residency_class);
    out->fee_basis = strcmp(fee_basis, "resident_rate") == 0
                         ? RENKEI__V1__FEE_BASIS__FEE_BASIS_RESIDENT_RATE
                         : RENKEI__V1__FEE_BASIS__FEE_BASIS_NON_RESIDENT_RATE;
    if (*agreement_id) {
        agreement->agreement_id = (char *)agreement_id;
        agreement->version = (int32_t)strtol(agreement_version, NULL, 10);
        out->agreement = agreement;
    }
}

int rk_facility_caller_home(rk_rpc_t *rpc, const char **home)
{
    const char *grant;
    return rk_facility_caller(rpc, home, &grant);
}
