/* Rule files and annotation templates: the shipped rule file reads, every
 * kind of mistake is named with its line and column, durations read as
 * Prometheus reads them, and templates expand as Prometheus writes them. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules.h"

static void test_shipped_file(void **state)
{
    (void)state;
    struct rule_set rs;
    struct config_errors errs = { 0 };
    assert_int_equal(rules_parse("marketing.rules.yml", builtin_rules, strlen(builtin_rules), 60000, &rs,
                                 &errs), 0);
    assert_int_equal(rs.n, 4);
    assert_int_equal(rs.n_groups, 1);
    assert_string_equal(rs.v[0].name, "HighErrorRate");
    assert_string_equal(rs.v[0].group, "marketing-system");
    assert_int_equal(rs.v[0].interval_ms, 15000);
    assert_int_equal(rs.v[0].for_ms, 5 * 60000);
    assert_int_equal(rs.v[2].for_ms, 15 * 60000);
    assert_non_null(strstr(rs.v[2].expr, "and on() max(campaigns_active) > 0"));
    assert_string_equal(rule_annotation(&rs.v[2], "runbook"), "campaign-not-sending");
    assert_string_equal(rule_annotation(&rs.v[0], "summary"), "High error rate detected");
    assert_null(rule_annotation(&rs.v[0], "runbook"));
    /* every runbook a rule names ships */
    for (size_t i = 0; i < rs.n; i++) {
        const char *rb = rule_annotation(&rs.v[i], "runbook");
        if (rb && !rules_runbook(rb))
            fail_msg("%s names runbook %s, which does not ship", rs.v[i].name, rb);
    }
    assert_non_null(strstr(rules_runbook("campaign-not-sending"), "# Campaign Not Sending"));
    assert_int_equal(rs.v[1].n_labels, 1);
    assert_string_equal(rs.v[1].labels[0].name, "severity");
    assert_string_equal(rs.v[1].labels[0].value, "warning");
    rule_set_free(&rs);
    config_errors_free(&errs);
}

static void expect_error(const char *text, const char *want)
{
    struct rule_set rs;
    struct config_errors errs = { 0 };
    int n = rules_parse("r.yml", text, strlen(text), 60000, &rs, &errs);
    if (n == 0)
        fail_msg("accepted: %s", text);
    bool found = false;
    for (size_t i = 0; i < errs.n; i++)
        found |= strstr(errs.msg[i], want) != NULL;
    if (!found)
        fail_msg("wanted '%s', got '%s'", want, errs.msg[0]);
    assert_int_equal(rs.n, 0);
    config_errors_free(&errs);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: 5 minutes\n",
                 "r.yml:6:14: 'for' is not a duration (like 5m or 1h30m): 5 minutes");
    expect_error("groups:\n  - name: g\n    rules:\n      - alert: A\n", "r.yml:4:9: rule A has no 'expr'");
    expect_error("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x\n        labels:\n          bad-name: v\n",
                 "'bad-name' is not a label name");
    expect_error("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x\n        severity: critical\n",
                 "unknown field 'severity' in a rule");
    expect_error("groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n", "group 'g' is named twice");
    expect_error("groups:\n  - name: g\n    interval: often\n", "interval is not a duration");
    expect_error("groups: [\n", "r.yml:2:1");
    expect_error("", "the file is empty");
    expect_error("rules: []\n", "unknown field 'rules' (only 'groups')");
    expect_error("groups:\n  - name: g\n    rules:\n      - alert: A\n        record: b\n        expr: x\n",
                 "either 'alert' or 'record'");
}

static void test_recording_rules_counted(void **state)
{
    (void)state;
    const char *t = "groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum(up)\n"
                    "      - alert: Down\n        expr: up == 0\n        keep_firing_for: 10m\n";
    struct rule_set rs;
    struct config_errors errs = { 0 };
    assert_int_equal(rules_parse("r.yml", t, strlen(t), 60000, &rs, &errs), 0);
    assert_int_equal(rs.n, 1);
    assert_int_equal(rs.n_recording, 1);
    assert_int_equal(rs.v[0].interval_ms, 60000);
    assert_int_equal(rs.v[0].keep_firing_for_ms, 600000);
    assert_int_equal(rs.v[0].for_ms, 0);
    rule_set_free(&rs);
}

static void test_durations(void **state)
{
    (void)state;
    assert_int_equal(rules_parse_duration("5m"), 300000);
    assert_int_equal(rules_parse_duration("1h30m"), 5400000);
    assert_int_equal(rules_parse_duration("1d"), 86400000);
    assert_int_equal(rules_parse_duration("1w"), 604800000);
    assert_int_equal(rules_parse_duration("1y"), 31536000000LL);
    assert_int_equal(rules_parse_duration("500ms"), 500);
    assert_int_equal(rules_parse_duration("1s500ms"), 1500);
    assert_int_equal(rules_parse_duration("0"), 0);
    assert_int_equal(rules_parse_duration("30m1h"), -1);  /* largest unit first */
    assert_int_equal(rules_parse_duration("5m5m"), -1);
    assert_int_equal(rules_parse_duration("1.5h"), -1);
    assert_int_equal(rules_parse_duration("m"), -1);
    assert_int_equal(rules_parse_duration(""), -1);
    assert_int_equal(rules_parse_duration("5"), -1);
}

static void test_values_as_go_prints_them(void **state)
{
    (void)state;
    char b[64];
    struct { double v; const char *want; } cases[] = {
        { 1.0 / 15, "0.06666666666666667" }, { 0.05, "0.05" }, { 123.5, "123.5" }, { 100000, "100000" },
        { 1e6, "1e+06" }, { 1234567, "1.234567e+06" }, { 0.0001, "0.0001" }, { 0.00001, "1e-05" },
        { 9.223372036854776e18, "9.223372036854776e+18" }, { -2.5, "-2.5" }, { 0, "0" },
        { NAN, "NaN" }, { INFINITY, "+Inf" }, { -INFINITY, "-Inf" }, { 3, "3" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rules_format_value(b, sizeof b, cases[i].v);
        assert_string_equal(b, cases[i].want);
    }
}

static void test_templates(void **state)
{
    (void)state;
    char n1[] = "instance", v1[] = "api-1:8080", n2[] = "status", v2[] = "503";
    struct rule_pair labels[] = { { n1, v1 }, { n2, v2 } };
    char *s = rules_expand("Error rate is {{ $value }} (threshold: 0.05)", 1.0 / 15, labels, 2);
    assert_string_equal(s, "Error rate is 0.06666666666666667 (threshold: 0.05)");
    free(s);
    s = rules_expand("{{$labels.instance}} returns {{ .Labels.status }}{{ $labels.missing }}!", 0, labels, 2);
    assert_string_equal(s, "api-1:8080 returns 503!");
    free(s);
    s = rules_expand("{{ $value | humanize }}/min, {{ humanize $value }}", 1234567, labels, 2);
    assert_string_equal(s, "1.235M/min, 1.235M");
    free(s);
    s = rules_expand("{{ $value | humanizePercentage }} used", 0.934, labels, 2);
    assert_string_equal(s, "93.4% used");
    free(s);
    s = rules_expand("{{ printf \"%.2f\" $value }}s", 0.51234, labels, 2);
    assert_string_equal(s, "0.51s");
    free(s);
    s = rules_expand("kept {{ if gt $value 1.0 }}as written{{ end }} and {{ unclosed", 2, labels, 2);
    assert_string_equal(s, "kept {{ if gt $value 1.0 }}as written{{ end }} and {{ unclosed");
    free(s);
    s = rules_expand("", 1, NULL, 0);
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_file), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_recording_rules_counted), cmocka_unit_test(test_durations),
        cmocka_unit_test(test_values_as_go_prints_them), cmocka_unit_test(test_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
