/* The option table: parsing, errors with file:line, precedence, redaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

static void test_defaults(void **state)
{
    (void)state;
    struct config c;
    config_init(&c);
    assert_string_equal(c.dsn, "");
    assert_int_equal(c.refresh_ms, 2000);
    assert_string_equal(c.environment, "");
    config_free(&c);
    assert_null(c.dsn);
}

static void test_parse_good_file(void **state)
{
    (void)state;
    struct config c;
    struct config_errors e = { 0 };
    config_init(&c);
    const char *text = "# a comment\n"
                       "\n"
                       "dsn = host=db1 dbname=marketing\n"
                       "  refresh=500ms  \r\n"
                       "environment = \"prod \\\"eu\\\"\"\n";
    assert_int_equal(config_parse(&c, "t.conf", text, &e), 0);
    assert_int_equal(e.n, 0);
    assert_string_equal(c.dsn, "host=db1 dbname=marketing");
    assert_int_equal(c.refresh_ms, 500);
    assert_string_equal(c.environment, "prod \"eu\"");
    assert_string_equal(c.source[1], "t.conf:4");
    config_free(&c);
}

static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    struct config c;
    struct config_errors e = { 0 };
    config_init(&c);
    const char *text = "refresh = 2s\n"
                       "nonsense\n"
                       "colour = red\n"
                       "refresh = soon\n"
                       "refresh = 10ms\n"
                       "environment = \"open\n"
                       "environment = staging\n";
    assert_int_equal(config_parse(&c, "m.conf", text, &e), 5);
    assert_int_equal(e.n, 5);
    assert_string_equal(e.msg[0], "m.conf:2: expected 'name = value'");
    assert_string_equal(e.msg[1], "m.conf:3: unknown option 'colour'");
    assert_string_equal(e.msg[2], "m.conf:4: refresh: 'soon' is not a duration (like 500ms, 2s or 1m)");
    assert_string_equal(e.msg[3], "m.conf:5: refresh: 10ms is out of range (100ms to 1h)");
    assert_string_equal(e.msg[4], "m.conf:6: environment: unterminated quoted value");
    /* loading goes on past errors: the good lines still count */
    assert_string_equal(c.environment, "staging");
    assert_int_equal(c.refresh_ms, 2000);
    config_errors_free(&e);
    config_free(&c);
}

static void test_env_overrides_file(void **state)
{
    (void)state;
    struct config c;
    struct config_errors e = { 0 };
    config_init(&c);
    assert_int_equal(config_parse(&c, "f", "refresh = 5s\nenvironment = a\n", &e), 0);
    char e0[] = "HOME=/x", e1[] = "MARKETING_REFRESH=1s", e2[] = "MARKETING_ENVIRONMENTX=no";
    char *envp[] = { e0, e1, e2, NULL };
    assert_int_equal(config_load_env(&c, envp, &e), 0);
    assert_int_equal(c.refresh_ms, 1000);
    assert_string_equal(c.source[1], "MARKETING_REFRESH");
    assert_string_equal(c.environment, "a");
    char b0[] = "MARKETING_REFRESH=fast";
    char *bad[] = { b0, NULL };
    assert_int_equal(config_load_env(&c, bad, &e), 1);
    assert_string_equal(e.msg[0], "MARKETING_REFRESH: refresh: 'fast' is not a duration (like 500ms, 2s or 1m)");
    config_errors_free(&e);
    config_free(&c);
}

static void test_missing_explicit_file(void **state)
{
    (void)state;
    struct config c;
    struct config_errors e = { 0 };
    const char *used = "x";
    config_init(&c);
    assert_int_equal(config_load_file(&c, "/nonexistent/marketing.conf", &used, &e), 1);
    assert_null(used);
    assert_string_equal(e.msg[0], "/nonexistent/marketing.conf: No such file or directory");
    config_errors_free(&e);
    config_free(&c);
}

static void test_durations(void **state)
{
    (void)state;
    assert_int_equal(config_parse_duration("2s"), 2000);
    assert_int_equal(config_parse_duration("1.5s"), 1500);
    assert_int_equal(config_parse_duration("250ms"), 250);
    assert_int_equal(config_parse_duration("1m"), 60000);
    assert_int_equal(config_parse_duration("1h"), 3600000);
    assert_int_equal(config_parse_duration("2"), -1);
    assert_int_equal(config_parse_duration("-1s"), -1);
    assert_int_equal(config_parse_duration("s"), -1);
    assert_int_equal(config_parse_duration("nans"), -1);
    assert_int_equal(config_parse_duration(""), -1);
}

static void test_find_by_flag_spelling(void **state)
{
    (void)state;
    assert_non_null(config_find("refresh"));
    assert_null(config_find("refres"));
    assert_null(config_find("refreshx"));
}

static void test_redact(void **state)
{
    (void)state;
    char *r = config_redact_dsn("host=db password=hunter2 dbname=m");
    assert_null(strstr(r, "hunter2"));
    assert_non_null(strstr(r, "password=***"));
    free(r);
    r = config_redact_dsn("postgresql://u:hunter2@db/m");
    assert_null(strstr(r, "hunter2"));
    free(r);
    r = config_redact_dsn("host=db dbname=m");
    assert_string_equal(r, "host=db dbname=m");
    free(r);
}

static void test_dump_and_sample(void **state)
{
    (void)state;
    struct config c;
    config_init(&c);
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    config_dump(&c, f);
    config_print_sample(f);
    config_print_man(f);
    fclose(f);
    for (size_t i = 0; i < config_options_count; i++) {
        char want[128];
        snprintf(want, sizeof want, "# %s = ", config_options[i].name);
        assert_non_null(strstr(buf, want));
        snprintf(want, sizeof want, "\\fB%s\\fR = ", config_options[i].name);
        assert_non_null(strstr(buf, want));
    }
    assert_non_null(strstr(buf, "refresh = 2s  # default"));
    free(buf);
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_parse_good_file),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_env_overrides_file),
        cmocka_unit_test(test_missing_explicit_file),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_find_by_flag_spelling),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_dump_and_sample),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
