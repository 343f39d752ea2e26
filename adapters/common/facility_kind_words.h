/*
 * facility_kind_words.h — the FacilityKind a Japanese facility name says it is.
 *
 * Open data names a facility, it does not classify it: "赤塚体育館", "城北野球場Ｂ面",
 * "成増地域センター（アクトホール）". The words of the taxonomy (proto/renkei/v1/facility.proto,
 * proto/README.md) are looked for in the name, the most specific first (陸上競技場 before 競技場,
 * 庭球場 before 球場, a room word before the building it is in); community buildings whose rooms
 * are let (地域センター, 公民館, 生涯学習センター…) count as meeting rooms. Pure: no event loop.
 * Used by the sim's CSV import and the opendata adapter.
 */
#ifndef RK_FACILITY_KIND_WORDS_H
#define RK_FACILITY_KIND_WORDS_H

#include "renkei/v1/facility.pb-c.h"

/** The kind whose words appear in name_ja (UTF-8); FACILITY_KIND_OTHER if none. */
Renkei__V1__FacilityKind rk_facility_kind_of_name(const char *name_ja);

#endif
