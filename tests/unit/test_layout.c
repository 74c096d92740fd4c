/* Pure layout and formatting: column widths, counts, ages, backoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dbworker.h"
#include "format.h"
#include "layout.h"

static const struct col_spec cols[] = {
    { "ID", 6, 8, 0, 1 },
    { "NAME", 12, 24, 3, 0 },
    { "TYPE", 5, 5, 0, 6 },
    { "STATUS", 11, 11, 0, 0 },
    { "SEGMENT", 8, 14, 1, 5 },
    { "SENT", 11, 13, 0, 2 },
};
#define NCOLS (sizeof cols / sizeof cols[0])

static int used(const int *w, size_t n)
{
    int sum = 0, vis = 0;
    for (size_t i = 0; i < n; i++)
        if (w[i] > 0) {
            sum += w[i];
            vis++;
        }
    return sum + (vis > 1 ? vis - 1 : 0);
}

static void test_fits_exactly_when_wide(void **state)
{
    (void)state;
    int w[NCOLS];
    for (int width = 60; width <= 300; width += 7) {
        assert_int_equal(layout_columns(cols, NCOLS, width, w), (int)NCOLS);
        assert_int_equal(used(w, NCOLS), width); /* flex takes the rest */
        for (size_t i = 0; i < NCOLS; i++)
            assert_true(w[i] >= cols[i].min);
    }
}

static void test_hides_lowest_priority_first(void **state)
{
    (void)state;
    int w[NCOLS];
    /* minimums: 6+12+5+11+8+11 = 53, + 5 separators = 58 */
    assert_int_equal(layout_columns(cols, NCOLS, 58, w), 6);
    assert_int_equal(layout_columns(cols, NCOLS, 57, w), 5);
    assert_int_equal(w[2], 0); /* TYPE (priority 6) went first */
    /* then SEGMENT, then SENT: 6+12+11 and two separators fit in 40 */
    assert_int_equal(layout_columns(cols, NCOLS, 40, w), 3);
    assert_int_equal(w[4], 0);
    assert_int_equal(w[5], 0);
    assert_true(used(w, NCOLS) <= 40);
    assert_int_equal(layout_columns(cols, NCOLS, 5, w), 0);
}

static void test_grows_to_want_before_flex(void **state)
{
    (void)state;
    int w[NCOLS];
    layout_columns(cols, NCOLS, 80, w);
    assert_int_equal(w[0], 8);
    assert_int_equal(w[5], 13);
    assert_true(w[1] > w[4]); /* NAME has the larger flex share */
}

static void test_counts(void **state)
{
    (void)state;
    char b[16];
    fmt_count(b, sizeof b, 0); assert_string_equal(b, "0");
    fmt_count(b, sizeof b, 999); assert_string_equal(b, "999");
    fmt_count(b, sizeof b, 1000); assert_string_equal(b, "1.0k");
    fmt_count(b, sizeof b, 1234); assert_string_equal(b, "1.2k");
    fmt_count(b, sizeof b, 9960); assert_string_equal(b, "10k");
    fmt_count(b, sizeof b, 999499); assert_string_equal(b, "999k");
    fmt_count(b, sizeof b, 999999); assert_string_equal(b, "1.0M");
    fmt_count(b, sizeof b, 12345678); assert_string_equal(b, "12M");
    fmt_count(b, sizeof b, -5); assert_string_equal(b, "-");
    fmt_percent(b, sizeof b, 1, 3); assert_string_equal(b, "33.3%");
    fmt_percent(b, sizeof b, 1, 0); assert_string_equal(b, "-");
}

static void test_ages(void **state)
{
    (void)state;
    char b[16];
    fmt_age(b, sizeof b, -100); assert_string_equal(b, "0s");
    fmt_age(b, sizeof b, 42999); assert_string_equal(b, "42s");
    fmt_age(b, sizeof b, 300000); assert_string_equal(b, "5m");
    fmt_age(b, sizeof b, 3 * 3600000); assert_string_equal(b, "3h");
    fmt_age(b, sizeof b, 2 * 86400000LL); assert_string_equal(b, "2d");
}

static void test_backoff(void **state)
{
    (void)state;
    assert_int_equal(dbworker_backoff_ms(1, 0.0), 250);
    assert_int_equal(dbworker_backoff_ms(1, 0.999), 499);
    assert_int_equal(dbworker_backoff_ms(2, 0.0), 500);
    assert_int_equal(dbworker_backoff_ms(3, 0.999), 1999);
    /* capped at 30 s, however many attempts */
    assert_int_equal(dbworker_backoff_ms(50, 0.0), 15000);
    assert_true(dbworker_backoff_ms(1000, 0.999) <= 30000);
    for (int a = 1; a < 20; a++)
        assert_true(dbworker_backoff_ms(a + 1, 0.5) >= dbworker_backoff_ms(a, 0.5));
}

static void test_screen_modes(void **state)
{
    (void)state;
    struct screen_layout l;
    layout_screen(39, 24, &l);
    assert_int_equal(l.mode, SCREEN_TOO_SMALL);
    layout_screen(80, 9, &l);
    assert_int_equal(l.mode, SCREEN_TOO_SMALL);
    layout_screen(80, 24, &l);
    assert_int_equal(l.mode, SCREEN_TABS);
    assert_int_equal(l.vsep_x, -1);
    for (int i = 0; i < SCREEN_PANES; i++) {
        assert_int_equal(l.pane[i].y, 1);
        assert_int_equal(l.pane[i].h, 21);
        assert_int_equal(l.pane[i].w, 80);
    }
    assert_int_equal(l.hint.y, 22);
    assert_int_equal(l.status.y, 23);
    layout_screen(149, 50, &l);
    assert_int_equal(l.mode, SCREEN_TABS);
}

/* In the grid the four panes tile the body exactly: no overlap, no gap but
 * the separator column. */
static void test_grid_tiles_the_body(void **state)
{
    (void)state;
    for (int ncols = SCREEN_GRID_COLS; ncols < SCREEN_GRID_COLS + 60; ncols += 7) {
        for (int nlines = SCREEN_GRID_LINES; nlines < SCREEN_GRID_LINES + 30; nlines += 5) {
            struct screen_layout l;
            layout_screen(ncols, nlines, &l);
            assert_int_equal(l.mode, SCREEN_GRID);
            static unsigned char cover[200][300];
            memset(cover, 0, sizeof cover);
            for (int i = 0; i < SCREEN_PANES; i++) {
                const struct rect *r = &l.pane[i];
                assert_true(r->h >= 8 && r->w >= 60);
                for (int y = r->y; y < r->y + r->h; y++)
                    for (int x = r->x; x < r->x + r->w; x++)
                        cover[y][x]++;
            }
            for (int y = 1; y < nlines - 2; y++)
                for (int x = 0; x < ncols; x++)
                    assert_int_equal(cover[y][x], x == l.vsep_x ? 0 : 1);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fits_exactly_when_wide),
        cmocka_unit_test(test_hides_lowest_priority_first),
        cmocka_unit_test(test_grows_to_want_before_flex),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_ages),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_screen_modes),
        cmocka_unit_test(test_grid_tiles_the_body),
    };
    return cmocka_run_group_tests_name("layout", tests, NULL, NULL);
}
