/*
 * pupil_grade_test.c — hub/identity/pupil_admin.c's school and grade rule: the school's name
 * says its kind (…小学校 1–6, …中学校 1–3, …義務教育学校 1–9) and the grade there becomes the
 * overall grade 1–9 a pupil ID's valid_until is computed from; anything else names the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "identity/pupil_admin.h"

#include <string.h>

static void grades_by_school_kind(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(rk_identity_pupil_grade("江東区立第二亀戸小学校", 1, &why), 1);
    assert_int_equal(rk_identity_pupil_grade("江東区立第二亀戸小学校", 6, &why), 6);
    assert_int_equal(rk_identity_pupil_grade("江東区立深川第一中学校", 1, &why), 7);
    assert_int_equal(rk_identity_pupil_grade("江東区立深川第一中学校", 3, &why), 9);
    assert_int_equal(rk_identity_pupil_grade("品川区立品川学園義務教育学校", 9, &why), 9);
    assert_int_equal(rk_identity_pupil_grade("品川区立品川学園義務教育学校", 7, &why), 7);
}

static void refuses_naming_the_field(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_int_equal(rk_identity_pupil_grade("江東区立第二亀戸小学校", 7, &why), 0);
    assert_string_equal(why, "grade: a 小学校 has grades 1 to 6");
    assert_int_equal(rk_identity_pupil_grade("江東区立深川第一中学校", 4, &why), 0);
    assert_string_equal(why, "grade: a 中学校 has grades 1 to 3");
    assert_int_equal(rk_identity_pupil_grade("品川区立品川学園義務教育学校", 0, &why), 0);
    assert_string_equal(why, "grade: a 義務教育学校 has grades 1 to 9");
    assert_int_equal(rk_identity_pupil_grade("江東区立第二亀戸小学校", -1, &why), 0);
    assert_int_equal(rk_identity_pupil_grade("江東区立図書館", 1, &why), 0);
    assert_int_equal(strncmp(why, "school: must be", 15), 0);
    assert_int_equal(rk_identity_pupil_grade("小学校", 1, &why), 0); /* the kind alone names none */
    assert_int_equal(strncmp(why, "school: must be", 15), 0);
    assert_int_equal(rk_identity_pupil_grade("", 1, &why), 0);
    assert_int_equal(strncmp(why, "school: is required", 19), 0);
    assert_int_equal(rk_identity_pupil_grade(NULL, 1, &why), 0);
    assert_int_equal(rk_identity_pupil_grade("第一\n小学校", 1, &why), 0); /* control character */
    assert_int_equal(strncmp(why, "school: is required", 19), 0);
    char long_name[400];
    memset(long_name, 'a', 300);
    strcpy(long_name + 300, "小学校");
    assert_int_equal(rk_identity_pupil_grade(long_name, 1, &why), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grades_by_school_kind),
        cmocka_unit_test(refuses_naming_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
