/* Themes: parsing, inheritance, errors with file:line, colour reduction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "theme.h"

static void test_parse_style(void **state)
{
    (void)state;
    struct style s;
    char err[256];
    assert_int_equal(theme_parse_style("bright-white on blue bold underline", &s, err, sizeof err), 0);
    assert_int_equal(s.fg.kind, COLOR_INDEX);
    assert_int_equal(s.fg.index, 15);
    assert_int_equal(s.bg.index, 4);
    assert_int_equal(s.attrs, THEME_BOLD | THEME_UNDERLINE);
    assert_int_equal(theme_parse_style("#ff8700 on color236", &s, err, sizeof err), 0);
    assert_int_equal(s.fg.kind, COLOR_RGB);
    assert_int_equal(s.fg.r, 255);
    assert_int_equal(s.fg.g, 0x87);
    assert_int_equal(s.bg.index, 236);
    assert_int_equal(theme_parse_style("reverse", &s, err, sizeof err), 0);
    assert_int_equal(s.fg.kind, COLOR_NONE);
    assert_int_equal(theme_parse_style("purple", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "'purple' is not a colour"));
    assert_int_equal(theme_parse_style("red on", &s, err, sizeof err), -1);
    assert_int_equal(theme_parse_style("red blue", &s, err, sizeof err), -1);
    assert_int_equal(theme_parse_style("color256", &s, err, sizeof err), -1);
    assert_int_equal(theme_parse_style("#12345", &s, err, sizeof err), -1);
}

static void test_builtin_themes_load_cleanly(void **state)
{
    (void)state;
    assert_true(builtin_themes_count >= 4);
    for (size_t i = 0; i < builtin_themes_count; i++) {
        struct theme t;
        struct config_errors e = { 0 };
        assert_int_equal(theme_load(builtin_themes[i].name, &t, &e), 0);
        assert_int_equal(e.n, 0);
        /* every theme sets the roles that carry state */
        assert_true(t.role[ROLE_SELECTION].set);
        assert_true(t.role[ROLE_CRIT].set);
        assert_true(t.role[ROLE_PRODUCTION].set);
    }
}

static void test_inherit_and_errors(void **state)
{
    (void)state;
    struct theme t;
    struct config_errors e = { 0 };
    /* high-contrast inherits dark: a role it does not set comes from dark */
    assert_int_equal(theme_load("high-contrast", &t, &e), 0);
    assert_true(t.role[ROLE_PRODUCTION].set);
    assert_int_equal(t.role[ROLE_PRODUCTION].bg.index, 1);
    assert_int_equal(theme_load("nonesuch", &t, &e), 1);
    assert_non_null(strstr(e.msg[0], "theme 'nonesuch' not found (built in: "));
    config_errors_free(&e);
    assert_int_equal(theme_load("../etc/x", &t, &e), 1);
    config_errors_free(&e);

    memset(&t, 0, sizeof t);
    char inherit[64];
    const char *text = "# comment\ninherit = dark\nheader = red\nbogus = red\nselection = red on\nnoequals\n";
    assert_int_equal(theme_parse(&t, "my.theme", text, inherit, sizeof inherit, &e), 3);
    assert_string_equal(inherit, "dark");
    assert_string_equal(e.msg[0], "my.theme:4: unknown role 'bogus'");
    assert_string_equal(e.msg[1], "my.theme:5: selection: 'on' needs a background colour after it");
    assert_string_equal(e.msg[2], "my.theme:6: expected 'role = colours'");
    assert_true(t.role[ROLE_HEADER].set);
    config_errors_free(&e);
}

static void test_color_reduction(void **state)
{
    (void)state;
    bool bold;
    struct color c = { COLOR_DEFAULT, 0, 0, 0, 0 };
    assert_int_equal(theme_color_number(&c, 256, &bold), -1);
    c = (struct color){ COLOR_INDEX, 208, 0, 0, 0 };
    assert_int_equal(theme_color_number(&c, 256, &bold), 208);
    /* orange (208 = #ff8700) on 16 colours: bright yellow is nearest... or red */
    int n16 = theme_color_number(&c, 16, &bold);
    assert_true(n16 == 9 || n16 == 11 || n16 == 3);
    /* bright white on 8 colours: white, made bright by bold */
    c = (struct color){ COLOR_INDEX, 15, 0, 0, 0 };
    assert_int_equal(theme_color_number(&c, 8, &bold), 7);
    assert_true(bold);
    /* RGB to the 256 cube, exactly */
    c = (struct color){ COLOR_RGB, 0, 0x5f, 0x87, 0xaf };
    assert_int_equal(theme_color_number(&c, 256, &bold), 16 + 1 * 36 + 2 * 6 + 3);
    assert_false(bold);
    /* pure red on 8 colours */
    c = (struct color){ COLOR_RGB, 0, 255, 0, 0 };
    assert_int_equal(theme_color_number(&c, 8, &bold), 1);
    /* a grey ramp entry on 16 colours lands on a grey */
    c = (struct color){ COLOR_INDEX, 244, 0, 0, 0 };
    n16 = theme_color_number(&c, 16, &bold);
    assert_true(n16 == 7 || n16 == 8);
}

int main(void)
{
    /* no user themes from the environment */
    setenv("XDG_CONFIG_HOME", "/nonexistent", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_style),
        cmocka_unit_test(test_builtin_themes_load_cleanly),
        cmocka_unit_test(test_inherit_and_errors),
        cmocka_unit_test(test_color_reduction),
    };
    return cmocka_run_group_tests_name("theme", tests, NULL, NULL);
}
