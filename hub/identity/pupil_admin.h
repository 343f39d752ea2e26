/*
 * pupil_admin.h — pupil IDs (the 江東区 model) issued by a city's tenant-admin through the
 * admin API: POST /admin/v1/realms/{slug}/pupils.
 */
#ifndef RK_IDENTITY_PUPIL_ADMIN_H
#define RK_IDENTITY_PUPIL_ADMIN_H

#include "identity/identity.h"
#include "net/router.h"

/**
 * School grades as a pupil ID counts them: the overall grade 1–9 (小1–小6 = 1–6, 中1–中3 =
 * 7–9) of grade year `grade` at a school named `school`, whose name's ending says its kind
 * (…小学校 grades 1–6, …中学校 1–3, …義務教育学校 1–9). Returns the overall grade, or 0 with
 * *why naming the field ("school: …" / "grade: …").
 */
int rk_identity_pupil_grade(const char *school, long grade, const char **why);

/** Prepares the statement and adds POST /admin/v1/realms/{slug}/pupils. */
void rk_identity_pupil_admin_register(rk_identity_t *identity, rk_router_t *router);

#endif
