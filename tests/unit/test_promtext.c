/* The Prometheus text format parser: RELIABILITY.md checklist items 6 and 7
 * (every malformed input is an error naming its line; NaN, Inf, duplicate
 * series, TYPE after samples have a defined behaviour), escapes,
 * timestamps, bounds, and numbers read the same under a German LC_NUMERIC;
 * the stream (any chunk split gives the whole body's samples and error),
 * OpenMetrics 1.0, and the fast number path against strtod. */
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
static struct got got2;
static char err2[512];

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
    assert_string_equal(got.labels[0], "le=1;");
    assert_true(got.value[0] == 1.0 && got.value[1] == 1.0);
    assert_string_equal(got.name[1], "h_count");
    /* a counter lower than before is no error here: a reset, for the query
     * layer (RELIABILITY.md); the two series are told apart by their labels */
    assert_int_equal(parse("# TYPE c counter\nc{i=\"a\"} 10 1000\nc{i=\"b\"} 3 2000\n"), 2);
    assert_true(got.value[0] == 10.0 && got.value[1] == 3.0);
    assert_true(got.ts[0] == 1000 && got.ts[1] == 2000);
    expect_error("# TYPE h histogram\nh_bucket 1\n", "line 2: histogram bucket without an \"le\" label");
    expect_error("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", "line 2: invalid \"le\" value on a histogram bucket");
    expect_error("# TYPE s summary\ns 1\n", "line 2: summary sample without a \"quantile\" label");
    /* a name's samples stay in one family: no TYPE for it after them */
    expect_error("# TYPE x histogram\nx_count 1\n# TYPE x_count gauge\nx_count 2\n",
                 "line 3: TYPE line for x_count after its samples");
    expect_error("# TYPE x histogram\nx_count 1\n# TYPE x_count2 gauge\nx_count 2\n",
                 "line 4: duplicate series x_count (first on line 2)");
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

/* ---- the stream: any split gives the whole body's result ---- */

/* Feeds text in the chunks that cuts[] (ascending offsets) make, into got2
 * and err2. */
static long parse_chunked(enum promtext_format format, const char *text, size_t len, const size_t *cuts,
                          size_t ncuts)
{
    memset(&got2, 0, sizeof got2);
    err2[0] = '\0';
    struct promtext_stream *st = promtext_stream_new(format, record, &got2);
    assert_non_null(st);
    size_t at = 0;
    long n = 0;
    for (size_t i = 0; i <= ncuts && n == 0; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        if (promtext_stream_feed(st, text + at, to - at, err2, sizeof err2) != 0)
            n = -1;
        at = to;
    }
    if (n == 0)
        n = promtext_stream_end(st, err2, sizeof err2);
    promtext_stream_free(&st);
    assert_null(st);
    return n;
}

static void expect_same(enum promtext_format format, const char *text, size_t len, const size_t *cuts,
                        size_t ncuts, long whole)
{
    long n = parse_chunked(format, text, len, cuts, ncuts);
    if (n != whole || strcmp(err, err2) != 0 || memcmp(&got, &got2, sizeof got) != 0)
        fail_msg("input %.*s (%zu bytes)\n  cut at %zu (+%zu more): got %ld \"%s\", whole body %ld \"%s\"", (int)(len > 60 ? 60 : len), text, len,
                 ncuts ? cuts[0] : 0, ncuts ? ncuts - 1 : 0, n, err2, whole, err);
}

/* Every single split, every pair of splits, and one byte at a time. */
static void check_all_splits(enum promtext_format format, const char *text, size_t len)
{
    memset(&got, 0, sizeof got);
    err[0] = '\0';
    long whole = promtext_parse_format(format, text, len, record, &got, err, sizeof err);
    size_t cuts[2];
    for (size_t i = 0; i <= len; i++) {
        cuts[0] = i;
        expect_same(format, text, len, cuts, 1, whole);
        for (size_t j = i; j <= len; j += len > 100 ? 7 : 1) {
            cuts[1] = j;
            expect_same(format, text, len, cuts, 2, whole);
        }
    }
    size_t *each = malloc((len + 1) * sizeof *each);
    assert_non_null(each);
    for (size_t i = 0; i < len; i++)
        each[i] = i + 1;
    expect_same(format, text, len, each, len, whole);
    free(each);
}

static void test_chunks_give_the_whole_body_result(void **state)
{
    (void)state;
    static const char *const text[] = {
        "# HELP a caf\xc3\xa9 \\\\ \\n\n# TYPE a counter\na{x=\"\xc3\xa9\\\"\\n\\\\\",y=\"\xf0\x9f\x98\x80\"} 1.5 -17\r\n"
        "b NaN\r\nb{c=\"d\"} -Inf\n\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_count 3\n",
        "a 1\r\nb 2\r", /* a CR, then the end: not a line end */
        "a 1\na{x=\"1\"} 2\na 3\n",           /* duplicate series */
        "a{x=\"\xc3\"} 1\n",                  /* a UTF-8 sequence cut short */
        "a{x=\"\\t\"} 1\n",
        "a 1\nb 2",                            /* no newline at the end */
        "a 1\n# TYPE a gauge\n",
        "a 1\n\x1b[2J\n",
    };
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        check_all_splits(PROMTEXT_FORMAT_TEXT, text[i], strlen(text[i]));
    static const char *const om[] = {
        "# TYPE a counter\n# UNIT a_seconds seconds\na_total{x=\"\xc3\xa9\"} 1 1.5 # {id=\"x\"} 2 3.25\n"
        "a_created 17\n# EOF",
        "# TYPE a counter\na_total 1\n# EOF\n",
        "a 1\n# EOF\n\n",           /* content after # EOF */
        "a 1\n",                   /* no # EOF */
        "a 1\n\n# EOF\n",          /* an empty line */
        "a 1 # {x=\"y\" 2\n# EOF\n", /* a broken exemplar */
    };
    for (size_t i = 0; i < sizeof om / sizeof om[0]; i++)
        check_all_splits(PROMTEXT_FORMAT_OPENMETRICS, om[i], strlen(om[i]));
}

/* A line at the length limit, with CR LF, split around the CR; and one byte
 * more, which fails as soon as the stream can tell. */
static void test_chunks_at_the_line_limit(void **state)
{
    (void)state;
    size_t cap = PROMTEXT_MAX_LINE + 64;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t len = (size_t)snprintf(text, cap, "ok 1\nm{a=\"");
    size_t fill = PROMTEXT_MAX_LINE - strlen("m{a=\"\"} 1");
    memset(text + len, 'x', fill);
    len += fill;
    len += (size_t)snprintf(text + len, cap - len, "\"} 1\r\nz 2\n");
    size_t cr = len - strlen("\r\nz 2\n");
    for (int extra = 0; extra < 2; extra++) {
        memset(&got, 0, sizeof got);
        err[0] = '\0';
        long whole = promtext_parse(text, len, record, &got, err, sizeof err);
        assert_int_equal(whole, extra ? -1 : 3);
        if (extra)
            assert_string_equal(err, "line 2: longer than 65536 bytes");
        size_t cuts[][2] = { { 5, cr }, { 5, cr + 1 }, { 100, cr + 2 }, { cr - 1, cr }, { cr, cr + 1 } };
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
            expect_same(PROMTEXT_FORMAT_TEXT, text, len, cuts[i], 2, whole);
        /* one byte more in the value */
        memmove(text + 11, text + 10, len - 10);
        text[10] = 'y';
        len++;
        cr++;
    }
    free(text);
}

static void test_stream_api(void **state)
{
    (void)state;
    struct promtext_stream *none = NULL;
    promtext_stream_free(&none);
    struct promtext_stream *st = promtext_stream_new(PROMTEXT_FORMAT_TEXT, NULL, NULL);
    assert_non_null(st);
    assert_int_equal(promtext_stream_feed(st, "a 1\nb", 5, err, sizeof err), 0);
    assert_int_equal(promtext_stream_feed(st, NULL, 0, err, sizeof err), 0);
    assert_int_equal(promtext_stream_feed(st, " 2\n", 3, err, sizeof err), 0);
    assert_int_equal(promtext_stream_end(st, err, sizeof err), 2);
    assert_int_equal(promtext_stream_end(st, err, sizeof err), 2);
    assert_int_equal(promtext_stream_feed(st, "c 3\n", 4, err, sizeof err), -1);
    assert_string_equal(err, "data fed after the end of the body");
    promtext_stream_free(&st);
    assert_null(st);

    /* an error sticks: every later call repeats it */
    st = promtext_stream_new(PROMTEXT_FORMAT_TEXT, NULL, NULL);
    assert_non_null(st);
    assert_int_equal(promtext_stream_feed(st, "a 1\nb x\nc 3\n", 12, err, sizeof err), -1);
    assert_string_equal(err, "line 2: invalid value \"x\"");
    err[0] = '\0';
    assert_int_equal(promtext_stream_feed(st, "d 4\n", 4, err, sizeof err), -1);
    assert_string_equal(err, "line 2: invalid value \"x\"");
    assert_int_equal(promtext_stream_end(st, err, sizeof err), -1);
    assert_string_equal(err, "line 2: invalid value \"x\"");
    promtext_stream_free(&st);
}

/* ---- numbers: the fast path is strtod, bit for bit ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_values_match_strtod(void **state)
{
    (void)state;
    setlocale(LC_NUMERIC, "C");
    char buf[64];
    size_t fast_shaped = 0;
    for (int iter = 0; iter < 300000; iter++) {
        size_t n = 0;
        uint64_t r = rng();
        if (r & 1)
            buf[n++] = (r & 2) ? '-' : '+';
        int whole = (int)((r >> 2) % 21);    /* 0..20 digits */
        int frac = (int)((r >> 8) % 18);     /* 0..17 digits */
        bool point = whole == 0 || ((r >> 13) & 3) != 0;
        if (whole == 0 && frac == 0)
            frac = 1;
        for (int i = 0; i < whole; i++)
            buf[n++] = (char)('0' + (i == 0 && whole > 1 && ((r >> 15) & 1) ? 0 : rng() % 10));
        if (point) {
            buf[n++] = '.';
            for (int i = 0; i < frac; i++)
                buf[n++] = (char)('0' + rng() % 10);
        }
        if (((r >> 16) & 3) == 0)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "e%s%d", (r >> 18) & 1 ? "-" : "",
                                  (int)((r >> 19) % 40));
        buf[n] = '\0';
        fast_shaped += whole + (point ? frac : 0) <= 15;
        double ours, want = strtod(buf, NULL);
        if (promtext_parse_value(buf, n, &ours) != 0)
            fail_msg("'%s' refused, strtod reads %.17g", buf, want);
        if (memcmp(&ours, &want, sizeof want) != 0)
            fail_msg("'%s': %.17g, strtod %.17g", buf, ours, want);
    }
    assert_true(fast_shaped > 50000); /* the fast path was exercised */
    /* the edges of the fast path, and just past them */
    static const char *const edge[] = { "9007199254740992", "9007199254740993", "9007199254740991.5",
                                        "1e22", "1e23", "1e-22", "1e-23", "123456789012345678e-22",
                                        "0.1", "0.3", "-0", "-0.0e5", "0e999", "4.9e-324", "1.7976931348623157e308",
                                        "00000000000000000000001", "1.00000000000000000000", ".000001" };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        double ours, want = strtod(edge[i], NULL);
        assert_int_equal(promtext_parse_value(edge[i], strlen(edge[i]), &ours), 0);
        if (memcmp(&ours, &want, sizeof want) != 0)
            fail_msg("'%s': %.17g, strtod %.17g", edge[i], ours, want);
    }
}

/* ---- OpenMetrics ---- */

static long parse_om(const char *text)
{
    memset(&got, 0, sizeof got);
    err[0] = '\0';
    return promtext_parse_format(PROMTEXT_FORMAT_OPENMETRICS, text, strlen(text), record, &got, err, sizeof err);
}

static void expect_om_error(const char *text, const char *want)
{
    long n = parse_om(text);
    if (n != -1 || strcmp(err, want) != 0)
        fail_msg("input %s\n  got %ld, \"%s\"\n want -1, \"%s\"", text, n, err, want);
}

static void test_openmetrics(void **state)
{
    (void)state;
    const char *text = "# TYPE req counter\n"
                       "# UNIT req_seconds seconds\n"
                       "# HELP req Requests, \\\"quoted\\\".\n"
                       "req_total{code=\"200\"} 10 1700000000.123 # {trace_id=\"abc\"} 1 1700000000\n"
                       "req_created{code=\"200\"} 1600000000\n"
                       "# TYPE lat histogram\n"
                       "lat_bucket{le=\"0.5\"} 1 # {id=\"a\"} 0.4\n"
                       "lat_bucket{le=\"+Inf\"} 2\n"
                       "lat_count 2\n"
                       "lat_sum 0.9\n"
                       "lat_created 1.5\n"
                       "# TYPE q gaugehistogram\n"
                       "q_bucket{le=\"+Inf\"} 4\n"
                       "q_gcount 4\n"
                       "q_gsum 2\n"
                       "# TYPE build info\n"
                       "build_info{version=\"1.2\"} 1\n"
                       "# TYPE state stateset\n"
                       "state{state=\"on\"} 1\n"
                       "state{state=\"off\"} 0\n"
                       "# TYPE s summary\n"
                       "s{quantile=\"0.5\"} NaN\n"
                       "s_count -Inf\n"
                       "# TYPE u unknown\n"
                       "u -1.5 -0.5\n"
                       "# EOF\n";
    assert_int_equal(parse_om(text), 16);
    assert_string_equal(got.name[0], "req_total");
    assert_string_equal(got.family[0], "req");
    assert_int_equal(got.type[0], PROMTEXT_COUNTER);
    assert_true(got.has_ts[0] && got.ts[0] == INT64_C(1700000000123));
    assert_string_equal(got.labels[0], "code=200;");
    assert_string_equal(got.family[1], "req");
    assert_true(got.value[1] == 1600000000.0 && !got.has_ts[1]);
    for (int i = 2; i <= 6; i++) {
        assert_string_equal(got.family[i], "lat");
        assert_int_equal(got.type[i], PROMTEXT_HISTOGRAM);
    }
    assert_string_equal(got.family[8], "q");
    assert_int_equal(got.type[8], PROMTEXT_GAUGEHISTOGRAM);
    assert_string_equal(got.family[10], "build");
    assert_int_equal(got.type[10], PROMTEXT_INFO);
    assert_int_equal(got.type[11], PROMTEXT_STATESET);
    assert_string_equal(got.family[12], "state");
    assert_true(isnan(got.value[13]) && got.type[13] == PROMTEXT_SUMMARY);
    assert_true(isinf(got.value[14]) && got.value[14] < 0);
    assert_int_equal(got.type[15], PROMTEXT_UNTYPED);
    assert_true(got.ts[15] == -500);
    /* # EOF may end the body without a newline */
    assert_int_equal(parse_om("a 1\n# EOF"), 1);
    assert_int_equal(parse_om("# EOF\n"), 0);

    expect_om_error("a 1\n", "line 2: the body ends without \"# EOF\" (cut short?)");
    expect_om_error("", "line 1: the body ends without \"# EOF\" (cut short?)");
    expect_om_error("a 1\n# EOF\nb 2\n", "line 3: content after \"# EOF\"");
    expect_om_error("a 1\n# EOF\n\n", "line 3: content after \"# EOF\"");
    expect_om_error("a 1\n\n# EOF\n", "line 2: empty line (OpenMetrics allows none)");
    expect_om_error("# a comment\n# EOF\n", "line 1: unexpected comment (OpenMetrics allows only HELP, TYPE, UNIT and EOF)");
    expect_om_error("a 1\nb 2", "line 2: no newline at the end of the body (cut short?)");
    expect_om_error("# HELP\n# EOF\n", "line 1: expected a metric name after HELP, found the end of the line");
    expect_om_error("# TYPE a untyped\n# EOF\n", "line 1: unknown metric type \"untyped\"");
    expect_om_error("# UNIT a_bytes seconds\n# EOF\n", "line 1: unit \"seconds\" is not a suffix of the metric name a_bytes");
    expect_om_error("# UNIT a_seconds seconds\n# UNIT a_seconds seconds\n# EOF\n", "line 2: second UNIT line for a_seconds");
    expect_om_error("a_seconds 1\n# UNIT a_seconds seconds\n# EOF\n", "line 2: UNIT line for a_seconds after its samples");
    expect_om_error("a_total 1\n# TYPE a counter\n# EOF\n", "line 2: TYPE line for a after its samples");
    expect_om_error("# TYPE a counter\na 1\n# EOF\n", "line 2: a is a counter: its samples need one of the suffixes _total _created");
    expect_om_error("# TYPE h histogram\nh 1\n# EOF\n", "line 2: h is a histogram: its samples need one of the suffixes _bucket _count _sum _created");
    expect_om_error("# TYPE h gaugehistogram\nh_bucket 1\n# EOF\n", "line 2: histogram bucket without an \"le\" label");
    expect_om_error("# TYPE i info\ni_info 2\n# EOF\n", "line 2: info value must be 1");
    expect_om_error("# TYPE s stateset\ns{s=\"a\"} 0.5\n# EOF\n", "line 2: stateset value must be 0 or 1");
    expect_om_error("# TYPE s stateset\ns{x=\"a\"} 1\n# EOF\n", "line 2: stateset sample without a \"s\" label");
    expect_om_error("a_total 1 12ms\n# EOF\n", "line 1: invalid timestamp \"12ms\" (expected seconds)");
    expect_om_error("a_total 1 NaN\n# EOF\n", "line 1: invalid timestamp \"NaN\" (expected seconds)");
    expect_om_error("a{x=\"1\"} 1\na{x=\"1\"} 2\n# EOF\n", "line 2: duplicate series a (first on line 1)");
    /* exemplars: checked for shape, then skipped */
    expect_om_error("a 1 #{x=\"y\"} 1\n# EOF\n", "line 1: expected a blank after the '#' of an exemplar, found '{'");
    expect_om_error("a 1 # x 1\n# EOF\n", "line 1: expected '{' to open the labels of an exemplar, found 'x'");
    expect_om_error("a 1 # {x=\"y\"}\n# EOF\n", "line 1: expected a value after the labels of an exemplar");
    expect_om_error("a 1 # {x=\"y\"} z\n# EOF\n", "line 1: invalid exemplar value \"z\"");
    expect_om_error("a 1 # {x=\"y\"} 1 z\n# EOF\n", "line 1: invalid exemplar timestamp \"z\" (expected seconds)");
    expect_om_error("a 1 # {x=\"y\"} 1 2 3\n# EOF\n", "line 1: unexpected '3' after the exemplar");
    expect_om_error("a 1 # {x=y} 1\n# EOF\n", "line 1: exemplar: expected '\"' to open the value of label \"x\", found 'y'");
    char longx[300];
    snprintf(longx, sizeof longx, "a 1 # {x=\"%0129d\"} 1\n# EOF\n", 0);
    expect_om_error(longx, "line 1: exemplar labels longer than 128 characters");
    snprintf(longx, sizeof longx, "a 1 # {x=\"%0127d\"} 1\n# EOF\n", 0);
    assert_int_equal(parse_om(longx), 1);
    /* the 0.0.4 format knows none of this */
    expect_error("# TYPE a gaugehistogram\n", "line 1: unknown metric type \"gaugehistogram\"");
    expect_error("a 1 # {x=\"y\"} 1\n", "line 1: invalid timestamp \"#\" (expected integer milliseconds)");
    assert_int_equal(parse("# UNIT a b\n# a comment\n\na 1\n# EOF\n"), 1);
}

static void test_content_type(void **state)
{
    (void)state;
    assert_int_equal(promtext_format_for_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
                     PROMTEXT_FORMAT_OPENMETRICS);
    assert_int_equal(promtext_format_for_content_type("  Application/OpenMetrics-Text"), PROMTEXT_FORMAT_OPENMETRICS);
    assert_int_equal(promtext_format_for_content_type("text/plain; version=0.0.4; charset=utf-8"), PROMTEXT_FORMAT_TEXT);
    assert_int_equal(promtext_format_for_content_type(NULL), PROMTEXT_FORMAT_TEXT);
    assert_int_equal(promtext_format_for_content_type(""), PROMTEXT_FORMAT_TEXT);
    assert_int_equal(promtext_format_for_content_type("application/json"), PROMTEXT_FORMAT_TEXT);
    assert_int_equal(promtext_format_for_content_type("application/openmetrics-textual"), PROMTEXT_FORMAT_TEXT);
    assert_string_equal(promtext_format_name(PROMTEXT_FORMAT_OPENMETRICS), "OpenMetrics 1.0");
    assert_string_equal(promtext_type_name(PROMTEXT_GAUGEHISTOGRAM), "gaugehistogram");
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
        cmocka_unit_test(test_chunks_give_the_whole_body_result),
        cmocka_unit_test(test_chunks_at_the_line_limit),
        cmocka_unit_test(test_stream_api),
        cmocka_unit_test(test_values_match_strtod),
        cmocka_unit_test(test_openmetrics),
        cmocka_unit_test(test_content_type),
    };
    return cmocka_run_group_tests_name("promtext", tests, NULL, NULL);
}
