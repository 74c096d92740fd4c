/* The in-memory series store: appends, order, retention, the sample cap,
 * staleness markers and label matchers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tsdb.h"

static int add(struct tsdb *db, const char *name, const char *job, int64_t t, double v)
{
    char err[128];
    struct tsdb_label l[] = {{"job", job}, {"__name__", name}};
    return tsdb_append(db, l, job ? 2 : 1, t, v, err, sizeof err);
}

static const struct tsdb_series *only(const struct tsdb *db, const char *name)
{
    struct tsdb_matcher m;
    assert_int_equal(tsdb_matcher_init(&m, "__name__", TSDB_MATCH_EQ, name, NULL, 0), 0);
    const struct tsdb_series **out;
    long n = tsdb_select(db, &m, 1, &out);
    assert_int_equal(n, 1);
    const struct tsdb_series *s = out[0];
    free(out);
    tsdb_matcher_free(&m);
    return s;
}

static void test_append_sorted_labels_and_order(void **state)
{
    (void)state;
    struct tsdb *db = tsdb_new(3600000, 1000);
    char err[128];
    assert_int_equal(add(db, "up", "api", 1000, 1), 0);
    assert_int_equal(add(db, "up", "api", 2000, 0), 0);
    /* not newer than the last sample: refused, nothing changes */
    assert_int_equal(add(db, "up", "api", 2000, 5), -1);
    assert_int_equal(add(db, "up", "api", 1500, 5), -1);
    const struct tsdb_series *s = only(db, "up");
    size_t n;
    const struct tsdb_label *l = tsdb_series_labels(s, &n);
    assert_int_equal(n, 2);
    assert_string_equal(l[0].name, "__name__");   /* sorted by name */
    assert_string_equal(l[1].name, "job");
    assert_int_equal(tsdb_series_len(s), 2);
    assert_true(tsdb_series_at(s, 1).v == 0);
    assert_int_equal(tsdb_series_seek(s, 1500), 1);
    assert_int_equal(tsdb_series_seek(s, 9999), 2);
    /* empty values are dropped: {job=""} is the series without job */
    struct tsdb_label e[] = {{"__name__", "up"}, {"job", ""}};
    assert_int_equal(tsdb_append(db, e, 2, 5000, 1, err, sizeof err), 0);
    assert_int_equal(tsdb_series_total(db), 2);
    /* bad input */
    struct tsdb_label bad[] = {{"__name__", "up"}, {"1x", "a"}};
    assert_int_equal(tsdb_append(db, bad, 2, 6000, 1, err, sizeof err), -1);
    struct tsdb_label dup[] = {{"__name__", "up"}, {"a", "1"}, {"a", "2"}};
    assert_int_equal(tsdb_append(db, dup, 3, 6000, 1, err, sizeof err), -1);
    assert_string_equal(err, "duplicate label name");
    struct tsdb_label noname[] = {{"a", "1"}};
    assert_int_equal(tsdb_append(db, noname, 1, 6000, 1, err, sizeof err), -1);
    tsdb_free(&db);
    assert_null(db);
}

static void test_retention(void **state)
{
    (void)state;
    struct tsdb *db = tsdb_new(10000, 1000);
    for (int i = 0; i <= 20; i++)
        assert_int_equal(add(db, "a", "x", i * 1000, i), 0);
    /* newest 20000: kept t >= 10000, i.e. 11 samples */
    const struct tsdb_series *s = only(db, "a");
    assert_int_equal(tsdb_series_len(s), 11);
    assert_int_equal(tsdb_series_at(s, 0).t, 10000);
    /* another series moves the clock on; compact prunes the old one */
    assert_int_equal(add(db, "b", "x", 100000, 1), 0);
    tsdb_compact(db);
    assert_int_equal(tsdb_series_total(db), 1);
    assert_int_equal(tsdb_total_samples(db), 1);
    tsdb_free(&db);
}

static void test_sample_cap_evicts_from_biggest(void **state)
{
    (void)state;
    struct tsdb *db = tsdb_new(INT64_MAX / 2, 10);
    for (int i = 0; i < 8; i++)
        assert_int_equal(add(db, "big", "x", i * 1000, i), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(add(db, "small", "x", i * 1000, i), 0);
    /* 12 appended, cap 10: the two oldest samples of "big" went */
    assert_int_equal(tsdb_total_samples(db), 10);
    const struct tsdb_series *big = only(db, "big"), *small = only(db, "small");
    assert_int_equal(tsdb_series_len(big), 6);
    assert_int_equal(tsdb_series_at(big, 0).t, 2000);
    assert_int_equal(tsdb_series_len(small), 4);
    /* the ring keeps order across wrap-around and growth */
    for (int i = 8; i < 100; i++)
        assert_int_equal(add(db, "big", "x", i * 1000, i), 0);
    big = only(db, "big");
    for (size_t i = 1; i < tsdb_series_len(big); i++)
        assert_true(tsdb_series_at(big, i).t == tsdb_series_at(big, i - 1).t + 1000);
    assert_int_equal(tsdb_total_samples(db), 10);
    tsdb_free(&db);
}

static void test_stale_marker(void **state)
{
    (void)state;
    double stale = tsdb_stale_nan();
    assert_true(isnan(stale));
    assert_true(tsdb_is_stale(stale));
    assert_false(tsdb_is_stale(NAN));
    assert_false(tsdb_is_stale(1.0));
    uint64_t bits;
    memcpy(&bits, &stale, sizeof bits);
    assert_true(bits == UINT64_C(0x7ff0000000000002));
    struct tsdb *db = tsdb_new(3600000, 100);
    char err[64];
    struct tsdb_label l[] = {{"__name__", "m"}};
    assert_int_equal(tsdb_append(db, l, 1, 1000, 1, err, sizeof err), 0);
    assert_int_equal(tsdb_append_stale(db, l, 1, 2000, err, sizeof err), 0);
    assert_true(tsdb_is_stale(tsdb_series_at(only(db, "m"), 1).v));
    tsdb_free(&db);
}

static bool matches(enum tsdb_match_op op, const char *pattern, const char *v)
{
    struct tsdb_matcher m;
    char err[128];
    assert_int_equal(tsdb_matcher_init(&m, "l", op, pattern, err, sizeof err), 0);
    bool r = tsdb_matcher_matches(&m, v);
    tsdb_matcher_free(&m);
    return r;
}

static void test_matchers(void **state)
{
    (void)state;
    assert_true(matches(TSDB_MATCH_EQ, "a", "a"));
    assert_false(matches(TSDB_MATCH_EQ, "a", NULL));
    assert_true(matches(TSDB_MATCH_EQ, "", NULL));     /* missing label == "" */
    assert_true(matches(TSDB_MATCH_NEQ, "a", NULL));
    /* regexes are fully anchored */
    assert_true(matches(TSDB_MATCH_RE, "5..", "503"));
    assert_false(matches(TSDB_MATCH_RE, "5..", "5030"));
    assert_false(matches(TSDB_MATCH_RE, "5..", "1503"));
    assert_true(matches(TSDB_MATCH_RE, "a|b", "b"));   /* alternation inside the anchors */
    assert_false(matches(TSDB_MATCH_RE, "a|b", "ab"));
    assert_true(matches(TSDB_MATCH_RE, ".*", NULL));
    assert_true(matches(TSDB_MATCH_NRE, "4..", "503"));
    assert_false(matches(TSDB_MATCH_NRE, "4..|5..", "503"));
    /* refused: RE2-only syntax, back references, huge repeats */
    struct tsdb_matcher m;
    char err[128];
    assert_int_equal(tsdb_matcher_init(&m, "l", TSDB_MATCH_RE, "(?:a)", err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid regular expression"));
    assert_int_equal(tsdb_matcher_init(&m, "l", TSDB_MATCH_RE, "(a)\\1", err, sizeof err), -1);
    assert_int_equal(tsdb_matcher_init(&m, "l", TSDB_MATCH_RE, "a{1000}", err, sizeof err), -1);
    /* glibc copies the operand of + and {m,n}: stacked and deeply nested
     * repeats would take exponential memory (RE2 refuses a++ too) */
    assert_int_equal(tsdb_matcher_init(&m, "l", TSDB_MATCH_RE, "a++", err, sizeof err), -1);
    assert_string_equal(err, "invalid regular expression: stacked repetition operators are not "
                             "supported");
    assert_int_equal(tsdb_matcher_init(&m, "l", TSDB_MATCH_RE, "((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+",
                                       err, sizeof err), -1);
    assert_string_equal(err, "invalid regular expression: regular expression too complex");
    assert_int_equal(tsdb_matcher_init(&m, "l", TSDB_MATCH_RE, "((a{100}){100})", err, sizeof err),
                     -1);
    /* ordinary patterns pass */
    assert_true(matches(TSDB_MATCH_RE, "(ab+|c{2,3})[]x-z]*", "abbb]y"));
    assert_true(matches(TSDB_MATCH_RE, "[[:digit:]]+\\.[0-9]{1,3}", "12.345"));
}

static void test_select(void **state)
{
    (void)state;
    struct tsdb *db = tsdb_new(3600000, 100);
    add(db, "req", "api", 1000, 1);
    add(db, "req", "web", 1000, 2);
    add(db, "other", "api", 1000, 3);
    struct tsdb_matcher m[2];
    assert_int_equal(tsdb_matcher_init(&m[0], "job", TSDB_MATCH_EQ, "api", NULL, 0), 0);
    assert_int_equal(tsdb_matcher_init(&m[1], "__name__", TSDB_MATCH_RE, "req|other", NULL, 0), 0);
    const struct tsdb_series **out;
    assert_int_equal(tsdb_select(db, m, 2, &out), 2);
    free(out);
    tsdb_matcher_free(&m[1]);
    assert_int_equal(tsdb_matcher_init(&m[1], "__name__", TSDB_MATCH_EQ, "req", NULL, 0), 0);
    assert_int_equal(tsdb_select(db, m, 2, &out), 1);
    assert_string_equal(tsdb_series_label(out[0], "job"), "api");
    free(out);
    assert_int_equal(tsdb_select(db, &m[1], 1, &out), 2);
    free(out);
    tsdb_matcher_free(&m[0]);
    tsdb_matcher_free(&m[1]);
    tsdb_free(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_sorted_labels_and_order),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_sample_cap_evicts_from_biggest),
        cmocka_unit_test(test_stale_marker),
        cmocka_unit_test(test_matchers),
        cmocka_unit_test(test_select),
    };
    return cmocka_run_group_tests_name("tsdb", tests, NULL, NULL);
}
