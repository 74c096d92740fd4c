/* The action table: bindings, rebinding, help, hints, the man key table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actions.h"

static void test_defaults(void **state)
{
    (void)state;
    struct keymap km;
    keymap_init(&km);
    assert_int_equal(keymap_lookup(&km, 'q'), ACT_QUIT);
    assert_int_equal(keymap_lookup(&km, 'j'), ACT_DOWN);
    assert_int_equal(keymap_lookup(&km, KEYC_DOWN), ACT_DOWN);
    assert_int_equal(keymap_lookup(&km, KEYC_CTRL('f')), ACT_PAGE_DOWN);
    assert_int_equal(keymap_lookup(&km, '?'), ACT_HELP);
    assert_int_equal(keymap_lookup(&km, 'x'), ACT_NONE);
    /* no key is bound twice by default */
    for (int a = 1; a < ACT_COUNT; a++)
        for (int i = 0; i < ACTION_MAX_KEYS && km.keys[a][i]; i++)
            assert_int_equal(keymap_lookup(&km, km.keys[a][i]), a);
    /* every action has a name that finds it, and help */
    for (int a = 1; a < ACT_COUNT; a++) {
        assert_ptr_equal(action_find(action_defs[a].name), &action_defs[a]);
        assert_true(strlen(action_defs[a].help) > 3);
    }
}

static void test_key_names_round_trip(void **state)
{
    (void)state;
    const char *names[] = { "j", "G", "?", "Down", "PgUp", "Enter", "Esc", "Tab", "BTab", "C-f", "F1", "Space" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char buf[16];
        int c = keyc_parse(names[i]);
        assert_true(c > 0);
        assert_string_equal(keyc_name(c, buf, sizeof buf), names[i]);
    }
    assert_int_equal(keyc_parse("Dwn"), -1);
    assert_int_equal(keyc_parse("jj"), -1);
    assert_int_equal(keyc_parse("C-1"), -1);
}

static void test_rebind(void **state)
{
    (void)state;
    struct keymap km;
    char err[256], keys[64];
    keymap_init(&km);
    assert_int_equal(keymap_bind(&km, "down", "n Down", err, sizeof err), 0);
    assert_int_equal(keymap_lookup(&km, 'n'), ACT_DOWN);
    assert_int_equal(keymap_lookup(&km, 'j'), ACT_NONE);
    assert_string_equal(keymap_keys(&km, ACT_DOWN, keys, sizeof keys), "n Down");
    /* taking a key from another action takes it away there */
    assert_int_equal(keymap_bind(&km, "up", "k q", err, sizeof err), 0);
    assert_int_equal(keymap_lookup(&km, 'q'), ACT_UP);
    assert_string_equal(keymap_keys(&km, ACT_QUIT, keys, sizeof keys), "");
    assert_int_equal(keymap_bind(&km, "nonesuch", "x", err, sizeof err), -1);
    assert_string_equal(err, "key.nonesuch: no such action (see marketing --help keys)");
    assert_int_equal(keymap_bind(&km, "down", "j Dwn", err, sizeof err), -1);
    assert_string_equal(err, "key.down: 'Dwn' is not a key name (like j, C-f, Down, PgUp, Enter, F1)");
    assert_int_equal(keymap_bind(&km, "help", "", err, sizeof err), -1);
}

static bool only_list(void *arg, enum action_id a)
{
    (void)arg;
    return action_defs[a].scope == SCOPE_LIST;
}

static void test_help_and_hints(void **state)
{
    (void)state;
    struct keymap km;
    keymap_init(&km);
    char lines[64][128];
    size_t n = keymap_help_lines(&km, &lines[0][0], sizeof lines[0], 64);
    assert_true(n >= ACT_COUNT - 1);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (strstr(lines[i], "j Down") && strstr(lines[i], "next row"))
            found++;
    assert_int_equal(found, 1);
    char hint[256];
    keymap_hint(&km, NULL, NULL, hint, sizeof hint, 200);
    assert_string_equal(hint, "q quit  ? help  Tab pane  / filter  : cmd  Enter detail  s sort  L launch  "
                              "p pause  R resume  c campaign  a ack  z snooze  n new  e edit  f refresh");
    keymap_hint(&km, NULL, NULL, hint, sizeof hint, 20);
    assert_string_equal(hint, "q quit  ? help");
    keymap_hint(&km, only_list, NULL, hint, sizeof hint, 200);
    assert_string_equal(hint, "q quit  ? help  Tab pane  / filter  : cmd  Enter detail  n new");
    /* the hint follows a rebinding */
    char err[128];
    keymap_bind(&km, "quit", "x", err, sizeof err);
    keymap_hint(&km, NULL, NULL, hint, sizeof hint, 10);
    assert_string_equal(hint, "x quit");
}

static void test_man_table(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    keymap_print_man(f);
    fclose(f);
    assert_non_null(strstr(buf, ".TS\n"));
    assert_non_null(strstr(buf, "\\&j Down\tdown\tT{\nnext row\nT}\n"));
    assert_non_null(strstr(buf, "\\&PgDn C\\-f\tpage\\-down\t"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_key_names_round_trip),
        cmocka_unit_test(test_rebind),
        cmocka_unit_test(test_help_and_hints),
        cmocka_unit_test(test_man_table),
    };
    return cmocka_run_group_tests_name("actions", tests, NULL, NULL);
}
