/* The keys every list pane shares: movement, opening and closing details,
 * clearing the filter, clicks, and what a list pane takes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "listview.h"

static void test_keys(void **state)
{
    (void)state;
    struct listview lv = { 0, 0 };
    bool detail = false;
    assert_int_equal(listview_keys(&lv, ACT_DOWN, 3, 10, &detail, false), LIST_MOVED);
    assert_int_equal(lv.sel, 1);
    assert_int_equal(listview_keys(&lv, ACT_BOTTOM, 3, 10, &detail, false), LIST_MOVED);
    assert_int_equal(lv.sel, 2);
    assert_int_equal(listview_keys(&lv, ACT_OPEN, 3, 10, &detail, false), LIST_MOVED);
    assert_true(detail);
    /* in the details only Esc counts, and it closes them */
    assert_int_equal(listview_keys(&lv, ACT_DOWN, 3, 10, &detail, false), LIST_IGNORED);
    assert_int_equal(lv.sel, 2);
    assert_int_equal(listview_keys(&lv, ACT_BACK, 3, 10, &detail, true), LIST_REDRAW);
    assert_false(detail);
    /* Esc in the list clears a filter, or is not ours */
    assert_int_equal(listview_keys(&lv, ACT_BACK, 3, 10, &detail, true), LIST_CLEAR_FILTER);
    assert_int_equal(listview_keys(&lv, ACT_BACK, 3, 10, &detail, false), LIST_IGNORED);
    /* nothing to open in an empty list */
    struct listview empty = { 0, 0 };
    assert_int_equal(listview_keys(&empty, ACT_OPEN, 0, 10, &detail, false), LIST_IGNORED);
    assert_false(detail);
    assert_int_equal(listview_keys(&lv, ACT_SORT, 3, 10, &detail, false), LIST_IGNORED);
}

static void test_click_and_accepts(void **state)
{
    (void)state;
    struct listview lv = { 0, 5 };
    assert_false(listview_click(&lv, 1, 20));   /* the column titles */
    assert_true(listview_click(&lv, 4, 20));    /* third row shown: 5 + 2 */
    assert_int_equal(lv.sel, 7);
    assert_false(listview_click(&lv, 30, 20));  /* below the last row */
    assert_int_equal(lv.sel, 7);
    assert_true(listview_accepts(ACT_FILTER, false));
    assert_false(listview_accepts(ACT_FILTER, true));
    assert_true(listview_accepts(ACT_BACK, true));
    assert_false(listview_accepts(ACT_SORT, false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_click_and_accepts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
