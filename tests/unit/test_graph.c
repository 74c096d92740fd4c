/* Text graphs: scaling, the newest value at the right, braille and ASCII. */
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "graph.h"

static char buf[8][256];
static char *rows[8] = { buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], buf[6], buf[7] };

static void test_nice_max(void **state)
{
    (void)state;
    assert_true(graph_nice_max(0) == 1.0);
    assert_true(graph_nice_max(NAN) == 1.0);
    assert_true(graph_nice_max(7) == 10.0);
    assert_true(graph_nice_max(1.5) == 2.0);
    assert_true(graph_nice_max(2.2) == 2.5);
    assert_true(graph_nice_max(420) == 500.0);
    assert_true(graph_nice_max(1000) == 1000.0);
}

static void test_ascii(void **state)
{
    (void)state;
    /* three rows: 0, half, full height; newest at the right edge */
    double v[] = { 0, 5, 10, 15, 20, 30 };
    double y = graph_render(v, 6, 30, -1, 6, 3, GRAPH_ASCII, rows);
    assert_true(y == 30);
    /* in half-rows the values reach 0 1 2 3 4 6 of 6 */
    assert_string_equal(rows[0], "     :");
    assert_string_equal(rows[1], "   .:|");
    assert_string_equal(rows[2], " .:|||");
    /* fewer values than columns: blank on the left */
    double one[] = { 30 };
    graph_render(one, 1, 30, -1, 4, 2, GRAPH_ASCII, rows);
    assert_string_equal(rows[0], "   :");
    assert_string_equal(rows[1], "   |");
}

static void test_reference_line_and_nan(void **state)
{
    (void)state;
    double v[] = { NAN, NAN, NAN, NAN };
    graph_render(v, 4, 10, 5, 4, 2, GRAPH_ASCII, rows);
    assert_string_equal(rows[0], "    ");
    assert_string_equal(rows[1], "- - ");
}

static void test_braille(void **state)
{
    (void)state;
    /* one row, two values per cell: full left, empty right = dots 1,2,3,7 */
    double v[] = { 4, 0 };
    graph_render(v, 2, 4, -1, 1, 1, GRAPH_BRAILLE, rows);
    assert_string_equal(rows[0], "\xE2\xA1\x87"); /* U+2847 */
    double w[] = { 4, 4 };
    graph_render(w, 2, 4, -1, 1, 1, GRAPH_BRAILLE, rows);
    assert_string_equal(rows[0], "\xE2\xA3\xBF"); /* U+28FF: all eight */
    /* auto scale is above the data */
    double big[] = { 1, 2, 420 };
    double y = graph_render(big, 3, 0, -1, 2, 2, GRAPH_BRAILLE, rows);
    assert_true(y == 500.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nice_max),
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_reference_line_and_nan),
        cmocka_unit_test(test_braille),
    };
    return cmocka_run_group_tests_name("graph", tests, NULL, NULL);
}
