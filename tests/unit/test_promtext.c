/* The Prometheus text format parser: RELIABILITY.md checklist items 6 and 7
 * (every malformed input is an error naming its line; NaN, Inf, duplicate
 * series, TYPE after samples have a defined behaviour), escapes,
 * timestamps, bounds, and numbers read the same under a German LC_NUMERIC. */
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "promtext.h"

#define MAXS 64

struct got {
    size_t n;
    char name[MAXS][128];
    char family[MAXS][128];
    enum promtext_type type[MAXS];
    double value[MAXS];
    bool has_ts[MAXS];
    int64_t ts[MAXS];
    size_t line[MAXS];
    size_t n_labels[MAXS];
    char labels[MAXS][512]; /* name=value;... in order */
};

static int record(void *arg, const struct promtext_sample *s, char *msg, size_t msgsz)
{
    (void)msg;
    (void)msgsz;
    struct got *g = arg;
    if (g->n == MAXS)
        return 0;
    size_t i = g->n++;
    snprintf(g->name[i], sizeof g->name[i], "%s", s->name);
    snprintf(g->family[i], sizeof g->family[i], "%s", s->family);
    g->type[i] = s->type;
    g->value[i] = s->value;
    g->has_ts[i] = s->has_timestamp;
    g->ts[i] = s->timestamp_ms;
    g->line[i] = s->line;
    g->n_labels[i] = s->n_labels;
    g->labels[i][0] = '\0';
    for (size_t k = 0; k < s->n_labels; k++) {
        size_t len = strlen(g->labels[i]);
        snprintf(g->labels[i] + len, sizeof g->labels[i] - len, "%s=%s;", s->labels[k].name,
                 s->labels[k].value);
    }
    return 0;
}

static struct got got;
static char err[512];

static long parse(const char *text)
{
    memset(&got, 0, sizeof got);
    err[0] = '\0';
    return promtext_parse(text, strlen(text), record, &got, err, sizeof err);
}

/* The parse fails with exactly this message. */
static void expect_error(const char *text, const char *want)
{
    long n = parse(text);
    if (n != -1 || strcmp(err, want) != 0)
        fail_msg("input %s\n  got %ld, \"%s\"\n want -1, \"%s\"", text, n, err, want);
}

static void test_samples(void **state)
{
    (void)state;
    const char *text = "# HELP emails_sent_total Messages sent.\n"
                       "# TYPE emails_sent_total counter\n"
                       "emails_sent_total 1027\n"
                       "\n"
                       "   # just a comment\n"
                       "http_requests_total{method=\"GET\",path=\"/metrics\",status=\"200\"} 5 1700000000000\n"
                       "http_requests_total{ method = \"POST\" , status=\"500\" , } 2\t-1700\n"
                       "no_labels{} 3e2\n"
                       "x:colon_name 0.5\r\n"
                       "  indented 7\n";
    assert_int_equal(parse(text), 6);
    assert_string_equal(got.name[0], "emails_sent_total");
    assert_int_equal(got.type[0], PROMTEXT_COUNTER);
    assert_true(got.value[0] == 1027.0);
    assert_false(got.has_ts[0]);
    assert_int_equal(got.line[0], 3);
    assert_string_equal(got.labels[1], "method=GET;path=/metrics;status=200;");
    assert_true(got.has_ts[1]);
    assert_true(got.ts[1] == INT64_C(1700000000000));
    assert_int_equal(got.type[1], PROMTEXT_UNTYPED);
    assert_string_equal(got.labels[2], "method=POST;status=500;");
    assert_true(got.ts[2] == -1700);
    assert_int_equal(got.line[2], 7);
    assert_int_equal(got.n_labels[3], 0);
    assert_true(got.value[3] == 300.0);
    assert_string_equal(got.name[4], "x:colon_name");
    assert_true(got.value[4] == 0.5);
    assert_string_equal(got.name[5], "indented");
}

static void test_special_values(void **state)
{
    (void)state;
    const char *text = "a NaN\n"
                       "b +Inf\n"
                       "c -Inf\n"
                       "d Inf\n"
                       "e nan\n"
                       "f -0\n"
                       "g 1.5e-3\n"
                       "h .5\n"
                       "i 5.\n"
                       "j -1E+2\n"
                       "k 1e-400\n";
    assert_int_equal(parse(text), 11);
    assert_true(isnan(got.value[0]));
    assert_true(isinf(got.value[1]) && got.value[1] > 0);
    assert_true(isinf(got.value[2]) && got.value[2] < 0);
    assert_true(isinf(got.value[3]) && got.value[3] > 0);
    assert_true(isnan(got.value[4]));
    assert_true(got.value[5] == 0.0 && signbit(got.value[5]));
    assert_true(got.value[6] == 1.5e-3);
    assert_true(got.value[7] == 0.5);
    assert_true(got.value[8] == 5.0);
    assert_true(got.value[9] == -100.0);
    assert_true(got.value[10] == 0.0); /* underflow is zero, not an error */

    double v;
    assert_int_equal(promtext_parse_value("12", 2, &v), 0);
    assert_true(v == 12.0);
    const char *bad[] = { "", "abc", "1,5", "0x10", "nan(1)", "--1", "1e", ".", "+NaN", "1e999",
                          "-1e999", "1.2.3", "infinite", " 1", "1 " };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (promtext_parse_value(bad[i], strlen(bad[i]), &v) != -1)
            fail_msg("'%s' was accepted as %g", bad[i], v);
}

static void test_escapes(void **state)
{
    (void)state;
    assert_int_equal(parse("m{a=\"back\\\\slash\",b=\"quote\\\"d\",c=\"new\\nline\",d=\"\",e=\"caf\xc3\xa9 {x=\\\"1\\\"} #\"} 1\n"),
                     1);
    assert_string_equal(got.labels[0], "a=back\\slash;b=quote\"d;c=new\nline;d=;e=caf\xc3\xa9 {x=\"1\"} #;");
    /* HELP allows \\ and \n, and anything else unescaped */
    assert_int_equal(parse("# HELP m a \\\\ b \\n c \"quoted\" {x}\nm 1\n"), 1);
    expect_error("# HELP m bad \\t escape\n", "line 1: invalid escape (backslash and 't') in HELP");
    expect_error("m{a=\"x\\t\"} 1\n", "line 1: invalid escape (backslash and 't') in the value of label \"a\"");
    expect_error("m{a=\"x\\", "line 1: unterminated value of label \"a\"");
    expect_error("m{a=\"x\\\n", "line 1: unterminated value of label \"a\"");
    expect_error("m{a=\"x} 1\n", "line 1: unterminated value of label \"a\"");
    expect_error("m{a=\"\xc0\xaf\"} 1\n", "line 1: the value of label \"a\" is not valid UTF-8");
    expect_error("m{a=\"\xed\xa0\x80\"} 1\n", "line 1: the value of label \"a\" is not valid UTF-8");
    const char nul[] = "m{a=\"x\0y\"} 1\n";
    memset(&got, 0, sizeof got);
    assert_int_equal(promtext_parse(nul, sizeof nul - 1, record, &got, err, sizeof err), -1);
    assert_string_equal(err, "line 1: NUL byte in the value of label \"a\"");
}

static void test_timestamps(void **state)
{
    (void)state;
    assert_int_equal(parse("a 1 -9223372036854775808\nb 2 9223372036854775807\nc 3 +5\nd 4 0\n"), 4);
    assert_true(got.ts[0] == INT64_MIN);
    assert_true(got.ts[1] == INT64_MAX);
    assert_true(got.ts[2] == 5);
    assert_true(got.has_ts[3] && got.ts[3] == 0);
    expect_error("a 1\nb 1 9223372036854775808\n",
                 "line 2: invalid timestamp \"9223372036854775808\" (expected integer milliseconds)");
    expect_error("a 1 1.5\n", "line 1: invalid timestamp \"1.5\" (expected integer milliseconds)");
    expect_error("a 1 -\n", "line 1: invalid timestamp \"-\" (expected integer milliseconds)");
    expect_error("a 1 100 extra\n", "line 1: unexpected 'e' after the timestamp");
}

static void test_syntax_errors_name_the_line(void **state)
{
    (void)state;
    expect_error("a 1\nb 2\nc{x=\"1\"}\n", "line 3: expected a value after the labels");
    expect_error("a 1\nb\n", "line 2: expected a value after the metric name");
    expect_error("a 1\nb   \n", "line 2: expected a value after the metric name");
    expect_error("a abc\n", "line 1: invalid value \"abc\"");
    expect_error("a 1,5\n", "line 1: invalid value \"1,5\"");
    expect_error("a \x01\x02\n", "line 1: invalid value");
    expect_error("a-b 1\n", "line 1: unexpected '-' after the metric name");
    expect_error("1a 1\n", "line 1: expected a metric name, found '1'");
    expect_error("\x1b[2J 1\n", "line 1: expected a metric name, found byte 0x1B");
    expect_error("a{1=\"x\"} 1\n", "line 1: expected a label name, found '1'");
    expect_error("a{b:c=\"x\"} 1\n", "line 1: expected '=' after label \"b\", found ':'");
    expect_error("a{b\"x\"} 1\n", "line 1: expected '=' after label \"b\", found '\"'");
    expect_error("a{b=x} 1\n", "line 1: expected '\"' to open the value of label \"b\", found 'x'");
    expect_error("a{b=\"x\" c=\"y\"} 1\n", "line 1: expected ',' or '}' after the value of label \"b\", found 'c'");
    expect_error("a{b=\"x\",,} 1\n", "line 1: expected a label name, found ','");
    expect_error("a{b=\"x\"\n", "line 1: expected ',' or '}' after the value of label \"b\", found the end of the line");
    expect_error("a{b=\"1\",b=\"2\"} 1\n", "line 1: duplicate label \"b\"");
    expect_error("a{} 1 2 3\n", "line 1: unexpected '3' after the timestamp");
    /* a body cut short: its last line lacks the newline. When what is
     * there is malformed anyway, that error is the one shown. */
    expect_error("ok 1\nlast 2", "line 2: no newline at the end of the body (cut short?)");
    expect_error("ok 1\nlast 2 ", "line 2: no newline at the end of the body (cut short?)");
    expect_error("ok 1\nlast", "line 2: expected a value after the metric name");
    /* the garbage the demo backend serves */
    char garbage[] = "\x1b[2J\xc0\xaf\x80\x00# TYPE {\"";
    assert_int_equal(promtext_parse(garbage, sizeof garbage - 1, NULL, NULL, err, sizeof err), -1);
    assert_string_equal(err, "line 1: expected a metric name, found byte 0x1B");
}

static void test_metadata(void **state)
{
    (void)state;
    expect_error("# TYPE a counter\n# TYPE a gauge\n", "line 2: second TYPE line for a");
    expect_error("# HELP a x\n# HELP a y\n", "line 2: second HELP line for a");
    expect_error("a 1\n# TYPE a counter\n", "line 2: TYPE line for a after its samples");
    expect_error("h_bucket{le=\"1\"} 1\n# TYPE h histogram\n", "line 2: TYPE line for h after its samples");
    expect_error("# TYPE a countr\n", "line 1: unknown metric type \"countr\"");
    expect_error("# TYPE a\n", "line 1: expected a type after TYPE a");
    expect_error("# TYPE a counter extra\n", "line 1: unexpected 'e' after the type");
    expect_error("# TYPE 1a counter\n", "line 1: expected a metric name after TYPE, found '1'");
    /* HELP after samples is fine, as is a lone "# HELP", and types ignore case */
    assert_int_equal(parse("a 1\n# HELP a late help\n# HELP\n# TYPE b GAUGE\nb 2\n# EOF\n"), 2);
    assert_int_equal(got.type[1], PROMTEXT_GAUGE);

    const char *hist = "# TYPE h histogram\n"
                       "h_bucket{le=\"0.5\"} 1\n"
                       "h_bucket{le=\"+Inf\"} 2\n"
                       "h_sum 0.7\n"
                       "h_count 2\n"
                       "# TYPE s summary\n"
                       "s{quantile=\"0.9\"} 0.1\n"
                       "s_sum 1\n"
                       "s_count 3\n"
                       "s_bucket 4\n";
    assert_int_equal(parse(hist), 8);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(got.family[i], "h");
        assert_int_equal(got.type[i], PROMTEXT_HISTOGRAM);
    }
    assert_string_equal(got.family[4], "s");
    assert_string_equal(got.family[6], "s");
    assert_int_equal(got.type[6], PROMTEXT_SUMMARY);
    assert_string_equal(got.family[7], "s_bucket"); /* summaries have no buckets */
    assert_int_equal(got.type[7], PROMTEXT_UNTYPED);
    /* a histogram without a +Inf bucket parses: what it means is for the
     * query layer (histogram_quantile gives NaN) */
    assert_int_equal(parse("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n"), 2);
    expect_error("# TYPE h histogram\nh_bucket 1\n", "line 2: histogram bucket without an \"le\" label");
    expect_error("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", "line 2: invalid \"le\" value on a histogram bucket");
    expect_error("# TYPE s summary\ns 1\n", "line 2: summary sample without a \"quantile\" label");
}

static void test_duplicate_series(void **state)
{
    (void)state;
    expect_error("a{x=\"1\",y=\"2\"} 1\nb 1\na{y=\"2\",x=\"1\"} 2\n", "line 3: duplicate series a (first on line 1)");
    expect_error("a 1\na 2 1000\n", "line 2: duplicate series a (first on line 1)");
    /* not duplicates: a label more, another value, another name */
    assert_int_equal(parse("a 1\na{x=\"1\"} 1\na{x=\"2\"} 1\na{x=\"1\",y=\"\"} 1\nb{x=\"1\"} 1\n"), 5);

    /* many series: every one distinct, then one repeated at the end */
    size_t n = 50000;
    size_t cap = n * 40 + 64;
    char *big = malloc(cap);
    assert_non_null(big);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(big + len, cap - len, "m{i=\"%zu\",j=\"%zu\"} %zu\n", i, i % 7, i);
    assert_int_equal(promtext_parse(big, len, NULL, NULL, err, sizeof err), (long)n);
    len += (size_t)snprintf(big + len, cap - len, "m{j=\"2\",i=\"1234\"} 0\n");
    assert_int_equal(promtext_parse(big, len, NULL, NULL, err, sizeof err), -1);
    assert_string_equal(err, "line 50001: duplicate series m (first on line 1235)");
    free(big);
}

static void test_bounds(void **state)
{
    (void)state;
    /* a line of exactly PROMTEXT_MAX_LINE bytes is fine, one more is not */
    size_t cap = PROMTEXT_MAX_LINE + 64;
    char *line = malloc(cap);
    assert_non_null(line);
    size_t len = (size_t)snprintf(line, cap, "ok 1\nm{a=\"");
    size_t fill = PROMTEXT_MAX_LINE - strlen("m{a=\"\"} 1");
    memset(line + len, 'x', fill);
    len += fill;
    len += (size_t)snprintf(line + len, cap - len, "\"} 1\n");
    assert_int_equal(promtext_parse(line, len, NULL, NULL, err, sizeof err), 2);
    memmove(line + 11, line + 10, len - 10);
    line[10] = 'y';
    len++;
    assert_int_equal(promtext_parse(line, len, NULL, NULL, err, sizeof err), -1);
    assert_string_equal(err, "line 2: longer than 65536 bytes");
    free(line);

    char labels[PROMTEXT_MAX_LABELS * 16 + 64];
    len = (size_t)snprintf(labels, sizeof labels, "m{");
    for (int i = 0; i < PROMTEXT_MAX_LABELS; i++)
        len += (size_t)snprintf(labels + len, sizeof labels - len, "l%d=\"v\",", i);
    snprintf(labels + len, sizeof labels - len, "} 1\n");
    assert_int_equal(parse(labels), 1);
    assert_int_equal(got.n_labels[0], PROMTEXT_MAX_LABELS);
    snprintf(labels + len, sizeof labels - len, "extra=\"v\"} 1\n");
    expect_error(labels, "line 1: more than 64 labels");

    /* a huge line, with or without its newline: one error, quickly */
    size_t hn = 4u << 20;
    char *huge = malloc(hn);
    assert_non_null(huge);
    memset(huge, 'a', hn);
    assert_int_equal(promtext_parse(huge, hn, NULL, NULL, err, sizeof err), -1);
    assert_string_equal(err, "line 1: longer than 65536 bytes");
    huge[hn - 1] = '\n';
    assert_int_equal(promtext_parse(huge, hn, NULL, NULL, err, sizeof err), -1);
    assert_string_equal(err, "line 1: longer than 65536 bytes");
    free(huge);

    /* empty and blank bodies have no samples and no error */
    assert_int_equal(promtext_parse("", 0, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(promtext_parse(NULL, 0, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(parse("\n\n  \n# only comments\n"), 0);
}

static int stop_at_b(void *arg, const struct promtext_sample *s, char *msg, size_t msgsz)
{
    (void)arg;
    if (strcmp(s->name, "b") == 0) {
        snprintf(msg, msgsz, "no b wanted");
        return -1;
    }
    if (strcmp(s->name, "c") == 0)
        return 1;
    return 0;
}

static void test_callback_stops(void **state)
{
    (void)state;
    assert_int_equal(promtext_parse("a 1\nb 2\n", 8, stop_at_b, NULL, err, sizeof err), -1);
    assert_string_equal(err, "line 2: no b wanted");
    assert_int_equal(promtext_parse("a 1\nc 2\n", 8, stop_at_b, NULL, err, sizeof err), -1);
    assert_string_equal(err, "line 2: stopped");
}

static void test_german_numeric_locale(void **state)
{
    (void)state;
    if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") && !setlocale(LC_NUMERIC, "de_DE.utf8")) {
        print_message("de_DE.UTF-8 is not installed: the locale part is skipped\n");
        skip();
    }
    /* the locale is really in force: strtod stops at the '.' */
    assert_true(strtod("1.5", NULL) == 1.0);
    assert_int_equal(parse("a 1.5\nb 2.25e1\n# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\n"), 3);
    assert_true(got.value[0] == 1.5);
    assert_true(got.value[1] == 22.5);
    expect_error("a 1,5\n", "line 1: invalid value \"1,5\"");
    double v;
    assert_int_equal(promtext_parse_value("0.25", 4, &v), 0);
    assert_true(v == 0.25);
    setlocale(LC_NUMERIC, "C");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_syntax_errors_name_the_line),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_duplicate_series),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_german_numeric_locale),
    };
    return cmocka_run_group_tests_name("promtext", tests, NULL, NULL);
}
