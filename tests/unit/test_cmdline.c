/* The command line: completion over the action names, parsing, history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cmdline.h"

static void test_complete(void **state)
{
    (void)state;
    char buf[64], c[256];
    strcpy(buf, "camp");
    assert_int_equal(cmdline_complete(buf, sizeof buf, c, sizeof c), 1);
    assert_string_equal(buf, "campaigns ");
    strcpy(buf, "p");
    assert_int_equal(cmdline_complete(buf, sizeof buf, c, sizeof c), 6);
    assert_string_equal(buf, "p");      /* prev-pane page-down page-up pause preview promote: common "p" */
    assert_string_equal(c, "prev-pane page-down page-up pause preview promote");
    strcpy(buf, "page");
    assert_int_equal(cmdline_complete(buf, sizeof buf, c, sizeof c), 2);
    assert_string_equal(buf, "page-");
    strcpy(buf, "zz");
    assert_int_equal(cmdline_complete(buf, sizeof buf, c, sizeof c), 0);
    assert_string_equal(c, "");
    strcpy(buf, "filter act");
    assert_int_equal(cmdline_complete(buf, sizeof buf, c, sizeof c), 0);
}

static void test_parse(void **state)
{
    (void)state;
    const char *arg;
    assert_int_equal(cmdline_parse("  segments", &arg), ACT_PANE_2);
    assert_string_equal(arg, "");
    assert_int_equal(cmdline_parse("filter  spring sale", &arg), ACT_FILTER);
    assert_string_equal(arg, "spring sale");
    assert_int_equal(cmdline_parse("q", &arg), ACT_QUIT);
    assert_int_equal(cmdline_parse("launch cmp_1", &arg), ACT_LAUNCH);
    assert_string_equal(arg, "cmp_1");
    assert_int_equal(cmdline_parse("rollback cmp_1 3", &arg), ACT_ROLLBACK);
    assert_string_equal(arg, "cmp_1 3");
    assert_int_equal(cmdline_parse("lunch cmp_1", &arg), ACT_NONE);
    assert_int_equal(cmdline_parse("", &arg), ACT_NONE);
}

static void test_history(void **state)
{
    (void)state;
    struct cmd_history h;
    memset(&h, 0, sizeof h);
    cmd_history_add(&h, "alerts");
    cmd_history_add(&h, "alerts");
    cmd_history_add(&h, "");
    assert_int_equal(h.n, 1);
    for (int i = 0; i < 40; i++) {
        char line[16];
        snprintf(line, sizeof line, "c%d", i);
        cmd_history_add(&h, line);
    }
    assert_int_equal(h.n, CMDLINE_HISTORY);
    assert_string_equal(h.line[CMDLINE_HISTORY - 1], "c39");
    assert_string_equal(h.line[0], "c8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_history),
    };
    return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
