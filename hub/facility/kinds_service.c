/*
 * kinds_service.c — FacilityService.ListFacilityKinds (see kinds_service.h).
 *
 * The response message points into kinds.c's table (static, never freed) and is built once,
 * at the first registration; every call answers the same message.
 */
#include "facility/kinds_service.h"

#include "facility/kinds.h"
#include "net/rpc.h"

#include <pthread.h>

static Renkei__V1__FacilityKindInfo infos[RK_FACILITY_KIND_COUNT];
static Renkei__V1__FacilityKindInfo *info_list[RK_FACILITY_KIND_COUNT];
static Renkei__V1__LocalizedText names[RK_FACILITY_KIND_COUNT];
static Renkei__V1__ListFacilityKindsResponse answer =
    RENKEI__V1__LIST_FACILITY_KINDS_RESPONSE__INIT;
static pthread_once_t answer_once = PTHREAD_ONCE_INIT;

static void build_answer(void)
{
    const rk_facility_kind_info_t *kinds = rk_facility_kinds();
    for (size_t k = 0; k < RK_FACILITY_KIND_COUNT; k++) {
        const rk_facility_kind_info_t *kind = &kinds[k];
        names[k] = (Renkei__V1__LocalizedText)RENKEI__V1__LOCALIZED_TEXT__INIT;
        names[k].ja = (char *)kind->ja;
        names[k].en = (char *)kind->en;
        names[k].kana = (char *)kind->kana;
        infos[k] = (Renkei__V1__FacilityKindInfo)RENKEI__V1__FACILITY_KIND_INFO__INIT;
        infos[k].kind = kind->kind;
        infos[k].name = &names[k];
        infos[k].synonyms = (char **)kind->synonyms;
        while (kind->synonyms[infos[k].n_synonyms])
            infos[k].n_synonyms++;
        info_list[k] = &infos[k];
    }
    answer.kinds = info_list;
    answer.n_kinds = RK_FACILITY_KIND_COUNT;
}

static void list_facility_kinds(rk_rpc_t *rpc, const ProtobufCMessage *request)
{
    (void)request;
    rk_response_header(rk_rpc_request(rpc), "cache-control", "public, max-age=86400");
    rk_rpc_reply(rpc, &answer.base);
}

static const rk_rpc_method_t method = {"/renkei.v1.FacilityService/ListFacilityKinds",
                                       &renkei__v1__list_facility_kinds_request__descriptor,
                                       &renkei__v1__list_facility_kinds_response__descriptor,
                                       list_facility_kinds, 0};

void rk_facility_kinds_register(rk_facility_t *facility, rk_router_t *router)
{
    (void)facility;
    pthread_once(&answer_once, build_answer);
    rk_rpc_register(router, &method);
}
