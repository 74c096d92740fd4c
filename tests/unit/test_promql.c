/* The PromQL subset: expected values worked out by hand from Prometheus
 * 2.42's rules (promql/functions.go, promql/quantile.go, promql/engine.go),
 * with the arithmetic in the comments. Times are in seconds unless said. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "promql.h"

/* ---- helpers ---- */

/* Adds a sample to the series spec "name{k=v,k2=v2}" (no quotes) at t_s. */
static void put(struct tsdb *db, const char *spec, double t_s, double v)
{
    char buf[256], err[128];
    struct tsdb_label l[9];
    size_t n = 0;
    snprintf(buf, sizeof buf, "%s", spec);
    char *brace = strchr(buf, '{');
    l[n++] = (struct tsdb_label){"__name__", buf};
    if (brace) {
        *brace = '\0';
        char *save = NULL;
        buf[strlen(spec) - 1] = '\0';   /* the closing brace */
        for (char *kv = strtok_r(brace + 1, ",", &save); kv && n < 9;
             kv = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(kv, '=');
            assert_non_null(eq);
            *eq = '\0';
            l[n++] = (struct tsdb_label){kv, eq + 1};
        }
    }
    int rc = tsdb_append(db, l, n, (int64_t)llround(t_s * 1000), v, err, sizeof err);
    if (rc)
        fail_msg("append %s: %s", spec, err);
}

static void put_stale(struct tsdb *db, const char *spec, double t_s)
{
    put(db, spec, t_s, tsdb_stale_nan());
}

/* A counter or gauge sampled every step_s from t0_s: v0, v0 + dv, ... */
static void put_line(struct tsdb *db, const char *spec, double t0_s, double step_s, int n,
                     double v0, double dv)
{
    for (int i = 0; i < n; i++)
        put(db, spec, t0_s + i * step_s, v0 + i * dv);
}

static struct promql_result run(const struct tsdb *db, const char *q, double t_s)
{
    char err[256];
    struct promql_expr *e = promql_parse(q, err, sizeof err);
    if (!e)
        fail_msg("parse %s: %s", q, err);
    struct promql_result r;
    if (promql_eval(e, db, (int64_t)llround(t_s * 1000), NULL, &r, err, sizeof err))
        fail_msg("eval %s: %s", q, err);
    promql_free(&e);
    return r;
}

/* {k="v",...} of a sample, as Prometheus prints label sets. */
static void labels_str(const struct promql_sample *s, char *buf, size_t sz)
{
    size_t at = (size_t)snprintf(buf, sz, "{");
    for (size_t i = 0; i < s->n_labels && at < sz; i++)
        at += (size_t)snprintf(buf + at, sz - at, "%s%s=\"%s\"", i ? ", " : "", s->labels[i].name,
                               s->labels[i].value);
    if (at < sz)
        snprintf(buf + at, sz - at, "}");
}

static bool close_to(double got, double want)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want) || want == 0)
        return got == want;
    return fabs(got - want) <= 1e-9 * fabs(want);
}

static const struct promql_sample *find(const struct promql_result *r, const char *labels)
{
    char buf[512];
    for (size_t i = 0; i < r->n; i++) {
        labels_str(&r->samples[i], buf, sizeof buf);
        if (!strcmp(buf, labels))
            return &r->samples[i];
    }
    return NULL;
}

/* The query gives a vector of n samples, one of them `labels` = want. */
static void expect_in(const struct tsdb *db, const char *q, double t_s, size_t n,
                      const char *labels, double want)
{
    struct promql_result r = run(db, q, t_s);
    if (r.type != PROMQL_VECTOR || r.n != n)
        fail_msg("%s: %zu samples, want %zu", q, r.n, n);
    const struct promql_sample *s = find(&r, labels);
    if (!s)
        fail_msg("%s: no %s", q, labels);
    if (!close_to(s->v, want))
        fail_msg("%s %s = %.17g, want %.17g", q, labels, s->v, want);
    promql_result_free(&r);
}

static void expect_one(const struct tsdb *db, const char *q, double t_s, const char *labels,
                       double want)
{
    expect_in(db, q, t_s, 1, labels, want);
}

static void expect_empty(const struct tsdb *db, const char *q, double t_s)
{
    struct promql_result r = run(db, q, t_s);
    if (r.type != PROMQL_VECTOR || r.n != 0)
        fail_msg("%s: %zu samples, want none", q, r.n);
    promql_result_free(&r);
}

static void expect_scalar(const struct tsdb *db, const char *q, double want)
{
    struct promql_result r = run(db, q, 1000);
    if (r.type != PROMQL_SCALAR || !close_to(r.scalar, want))
        fail_msg("%s = %.17g, want %.17g", q, r.scalar, want);
}

static void expect_parse_error(const char *q, const char *want)
{
    char err[256];
    struct promql_expr *e = promql_parse(q, err, sizeof err);
    if (e) {
        promql_free(&e);
        fail_msg("%s parsed", q);
    }
    if (strcmp(err, want))
        fail_msg("%s: got \"%s\", want \"%s\"", q, err, want);
}

static void expect_eval_error(const struct tsdb *db, const char *q, double t_s, const char *want)
{
    char err[256];
    struct promql_expr *e = promql_parse(q, err, sizeof err);
    if (!e)
        fail_msg("parse %s: %s", q, err);
    struct promql_result r;
    int rc = promql_eval(e, db, (int64_t)llround(t_s * 1000), NULL, &r, err, sizeof err);
    promql_free(&e);
    if (rc == 0) {
        promql_result_free(&r);
        fail_msg("%s evaluated", q);
    }
    if (!strstr(err, want))
        fail_msg("%s: got \"%s\", want \"%s\"", q, err, want);
}

static int setup(void **state)
{
    *state = tsdb_new(INT64_MAX / 4, 1000000);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    struct tsdb *db = *state;
    tsdb_free(&db);
    return 0;
}

/* ---- rate, increase, delta, irate ---- */

static void test_rate_unaligned_window(void **state)
{
    struct tsdb *db = *state;
    /* 1/s, sampled every 15 s at 5, 20, 35, 50, 65 s: 10, 25, 40, 55, 70 */
    put_line(db, "c{job=a}", 5, 15, 5, 10, 15);
    /* at 70 s over [10 s, 70 s]: samples at 20..65 (25, 40, 55, 70).
     * raw increase 70 - 25 = 45 over sampled 45 s, average step 15 s;
     * to start 20 - 10 = 10 s, to end 70 - 65 = 5 s, both < 1.1 * 15;
     * zero point 45 * 25/45 = 25 s away: no limit.
     * extrapolated: 45 * (45 + 10 + 5) / 45 = 60; rate 60 / 60 = 1 */
    expect_one(db, "rate(c[1m])", 70, "{job=\"a\"}", 1.0);
    expect_one(db, "increase(c[1m])", 70, "{job=\"a\"}", 60.0);
    /* fewer than two samples: no result */
    expect_empty(db, "rate(c[10s])", 70);
}

static void test_rate_counter_reset(void **state)
{
    struct tsdb *db = *state;
    /* 100, 115, reset, 5, 20, 35 at 0, 15, 30, 45, 60 s */
    double v[] = {100, 115, 5, 20, 35};
    for (int i = 0; i < 5; i++)
        put(db, "c{job=r}", i * 15, v[i]);
    /* at 60 s over [0, 60] (both ends included in Prometheus 2.x): all five.
     * 35 - 100 = -65, plus 115 for the drop to 5: 50.
     * to start 0, to end 0, zero point 60 * 100/50 = 120 s: no change.
     * increase 50 * 60/60 = 50; rate 50 / 60 */
    expect_one(db, "increase(c[1m])", 60, "{job=\"r\"}", 50.0);
    expect_one(db, "rate(c[1m])", 60, "{job=\"r\"}", 50.0 / 60);
    /* irate: last two 20 -> 35 over 15 s = 1 */
    expect_one(db, "irate(c[1m])", 60, "{job=\"r\"}", 1.0);
    /* irate right after the reset (at 30 s): 5 < 115, so 5 / 15 */
    expect_one(db, "irate(c[1m])", 30, "{job=\"r\"}", 5.0 / 15);
}

static void test_rate_series_starts_inside_window(void **state)
{
    struct tsdb *db = *state;
    /* 10, 20, 30 at 30, 40, 50 s; evaluated at 60 s over [0, 60] */
    put_line(db, "c{job=z}", 30, 10, 3, 10, 10);
    put_line(db, "g{job=z}", 30, 10, 3, 10, 10);
    /* counter: raw 20 over 20 s, average step 10 s, threshold 11 s.
     * to start 30 s, but the zero point is 20 * 10/20 = 10 s before the
     * first sample: to start = 10 < 11, extrapolated fully;
     * to end 10 < 11. increase 20 * (20 + 10 + 10) / 20 = 40 */
    expect_one(db, "increase(c[1m])", 60, "{job=\"z\"}", 40.0);
    expect_one(db, "rate(c[1m])", 60, "{job=\"z\"}", 40.0 / 60);
    /* gauge: no zero point; to start 30 >= 11: only half a step (5 s).
     * delta 20 * (20 + 5 + 10) / 20 = 35 */
    expect_one(db, "delta(g[1m])", 60, "{job=\"z\"}", 35.0);
}

static void test_rate_zero_start_and_cap(void **state)
{
    struct tsdb *db = *state;
    /* starts at 0 inside the window: 0, 10, 20 at 30, 40, 50 s */
    put_line(db, "c{job=0}", 30, 10, 3, 0, 10);
    /* zero point 20 * 0/20 = 0 s: to start 0; to end 10 < 11.
     * increase 20 * (20 + 0 + 10) / 20 = 30 */
    expect_one(db, "increase(c{job=\"0\"}[1m])", 60, "{job=\"0\"}", 30.0);
    /* at 90 s over [30, 90]: to end 40 s >= 11: half a step (5 s) instead.
     * increase 20 * (20 + 0 + 5) / 20 = 25 */
    expect_one(db, "increase(c{job=\"0\"}[1m])", 90, "{job=\"0\"}", 25.0);
}

static void test_delta_and_idelta_on_gauge(void **state)
{
    struct tsdb *db = *state;
    /* 10, 5, 20 at 10, 25, 40 s; at 60 s over [0, 60] */
    put(db, "temp", 10, 10);
    put(db, "temp", 25, 5);
    put(db, "temp", 40, 20);
    /* 20 - 10 = 10 over 30 s, step 15 s, threshold 16.5 s.
     * to start 10 < 16.5: +10; to end 20 >= 16.5: +7.5.
     * delta 10 * 47.5 / 30 = 15.8333... (a gauge drop is no reset) */
    expect_one(db, "delta(temp[1m])", 60, "{}", 10 * 47.5 / 30);
    /* idelta: 20 - 5 = 15 */
    expect_one(db, "idelta(temp[1m])", 60, "{}", 15.0);
    /* increase treats 10 -> 5 as a reset: 10 + 10 = 20; zero point
     * 30 * 10/20 = 15 s, more than to start: 20 * 47.5 / 30 */
    expect_one(db, "increase(temp[1m])", 60, "{}", 20 * 47.5 / 30);
}

/* ---- *_over_time ---- */

static void test_over_time(void **state)
{
    struct tsdb *db = *state;
    /* 4, 1, 7, 2 at 0, 20, 40, 60 s */
    double v[] = {4, 1, 7, 2};
    for (int i = 0; i < 4; i++)
        put(db, "g{job=o}", i * 20, v[i]);
    /* [0, 60] includes the sample at 0: 4 + 1 + 7 + 2 = 14 */
    expect_one(db, "sum_over_time(g[1m])", 60, "{job=\"o\"}", 14);
    expect_one(db, "count_over_time(g[1m])", 60, "{job=\"o\"}", 4);
    expect_one(db, "avg_over_time(g[1m])", 60, "{job=\"o\"}", 3.5);
    expect_one(db, "min_over_time(g[1m])", 60, "{job=\"o\"}", 1);
    expect_one(db, "max_over_time(g[1m])", 60, "{job=\"o\"}", 7);
    /* last_over_time keeps the metric name */
    expect_one(db, "last_over_time(g[1m])", 60, "{__name__=\"g\", job=\"o\"}", 2);
    /* offset 20s: [-20, 40]: 4, 1, 7 */
    expect_one(db, "sum_over_time(g[1m] offset 20s)", 60, "{job=\"o\"}", 12);
    /* [59.999, 60]: one sample */
    expect_one(db, "count_over_time(g[1ms])", 60, "{job=\"o\"}", 1);
}

/* ---- histogram_quantile ---- */

static void put_buckets(struct tsdb *db, const char *job, const char *const *le,
                        const double *count, int n)
{
    char spec[128];
    for (int i = 0; i < n; i++) {
        snprintf(spec, sizeof spec, "h_bucket{job=%s,le=%s}", job, le[i]);
        put(db, spec, 0, count[i]);
    }
}

static void test_histogram_quantile(void **state)
{
    struct tsdb *db = *state;
    const char *le[] = {"0.1", "0.5", "1", "+Inf"};
    put_buckets(db, "a", le, (double[]){10, 60, 90, 100}, 4);
    /* 0.5: rank 50; first bucket with count >= 50 is le=0.5 (60).
     * 0.1 + (0.5 - 0.1) * (50 - 10) / (60 - 10) = 0.1 + 0.4 * 0.8 = 0.42 */
    expect_one(db, "histogram_quantile(0.5, h_bucket)", 10, "{job=\"a\"}", 0.42);
    /* 0.05: rank 5 in the lowest bucket, which starts at 0: 0.1 * 5/10 */
    expect_one(db, "histogram_quantile(0.05, h_bucket)", 10, "{job=\"a\"}", 0.05);
    /* 0.95: rank 95 beyond every finite bucket (90): the highest finite bound */
    expect_one(db, "histogram_quantile(0.95, h_bucket)", 10, "{job=\"a\"}", 1);
    /* phi out of range */
    expect_one(db, "histogram_quantile(1.5, h_bucket)", 10, "{job=\"a\"}", INFINITY);
    expect_one(db, "histogram_quantile(-0.5, h_bucket)", 10, "{job=\"a\"}", -INFINITY);
    expect_one(db, "histogram_quantile(NaN, h_bucket)", 10, "{job=\"a\"}", NAN);
}

static void test_histogram_quantile_edges(void **state)
{
    struct tsdb *db = *state;
    /* no +Inf bucket: NaN */
    put_buckets(db, "noinf", (const char *[]){"0.1", "1"}, (double[]){1, 2}, 2);
    /* not monotonic: 30, 20, 80, 100 is read as 30, 30, 80, 100 */
    put_buckets(db, "mono", (const char *[]){"0.1", "0.5", "1", "+Inf"},
                (double[]){30, 20, 80, 100}, 4);
    /* a negative lowest bound is returned as is */
    put_buckets(db, "neg", (const char *[]){"-1", "+Inf"}, (double[]){5, 10}, 2);
    /* empty histogram: NaN */
    put_buckets(db, "zero", (const char *[]){"1", "+Inf"}, (double[]){0, 0}, 2);
    const char *q = "histogram_quantile(0.4, h_bucket)";
    expect_in(db, q, 10, 4, "{job=\"noinf\"}", NAN);
    /* rank 40: first count >= 40 is le=1 (80) after the fix.
     * 0.5 + (1 - 0.5) * (40 - 30) / (80 - 30) = 0.5 + 0.5 * 0.2 = 0.6
     * (without the fix it would be 0.5 + 0.5 * 20/60 = 0.667) */
    expect_in(db, q, 10, 4, "{job=\"mono\"}", 0.6);
    /* rank 4 <= 5 in the lowest bucket, whose bound -1 <= 0: -1 */
    expect_in(db, q, 10, 4, "{job=\"neg\"}", -1);
    expect_in(db, q, 10, 4, "{job=\"zero\"}", NAN);
}

/* ---- staleness and lookback ---- */

static void test_staleness(void **state)
{
    struct tsdb *db = *state;
    put(db, "up{job=s}", 0, 1);
    put(db, "up{job=s}", 15, 1);
    put_stale(db, "up{job=s}", 30);
    put(db, "up{job=t}", 0, 1);
    /* before the marker the series is seen */
    expect_in(db, "up", 20, 2, "{__name__=\"up\", job=\"s\"}", 1);
    /* after it, not (though a sample 15 s old is well within 5 m) */
    expect_one(db, "up", 40, "{__name__=\"up\", job=\"t\"}", 1);
    /* a range skips the marker: 0 and 15 in [-20, 40] */
    expect_in(db, "count_over_time(up[1m])", 40, 2, "{job=\"s\"}", 2);
    /* a new sample after the marker is seen again */
    put(db, "up{job=s}", 45, 0);
    expect_in(db, "up", 50, 2, "{__name__=\"up\", job=\"s\"}", 0);
}

static void test_lookback_boundary(void **state)
{
    struct tsdb *db = *state;
    put(db, "m", 100, 7);
    /* the window [t - 5m, t] is closed: 300 s after the sample it is seen */
    expect_one(db, "m", 400, "{__name__=\"m\"}", 7);
    expect_empty(db, "m", 400.001);
    /* and nothing before the sample */
    expect_empty(db, "m", 99.999);
    /* offset moves the window back */
    expect_one(db, "m offset 5m", 700, "{__name__=\"m\"}", 7);
    expect_empty(db, "m offset 1m", 150);
    /* a shorter configured lookback */
    char err[128];
    struct promql_expr *e = promql_parse("m", err, sizeof err);
    struct promql_opts o = {.lookback_ms = 60000};
    struct promql_result r;
    assert_int_equal(promql_eval(e, db, 200000, &o, &r, err, sizeof err), 0);
    assert_int_equal(r.n, 0);
    promql_result_free(&r);
    promql_free(&e);
}

/* ---- operators ---- */

static void test_precedence_and_scalars(void **state)
{
    struct tsdb *db = *state;
    /* ^ binds tightest and is right-associative: 3 ^ (2 ^ 2) = 81; 1 + 2 * 81 */
    expect_scalar(db, "1 + 2 * 3 ^ 2 ^ 2", 163);
    expect_scalar(db, "2 ^ 3 ^ 2", 512);
    expect_scalar(db, "10 - 2 - 3", 5);           /* left-associative */
    expect_scalar(db, "8 / 4 / 2", 1);
    expect_scalar(db, "-2 ^ 2", -4);              /* -(2 ^ 2) */
    expect_scalar(db, "2 * -3 + 1", -5);
    expect_scalar(db, "(1 + 2) * 3", 9);
    expect_scalar(db, "7 % 4", 3);
    expect_scalar(db, "-7 % 4", -3);              /* sign of the dividend, like fmod */
    expect_scalar(db, "1 + 2 > bool 2", 1);       /* comparison below + */
    expect_scalar(db, "0x10 + 1.5e1", 31);
    expect_scalar(db, "1 / 0", INFINITY);
    expect_scalar(db, "-1 / 0", -INFINITY);
    expect_scalar(db, "0 / 0", NAN);
    expect_scalar(db, "NaN == bool NaN", 0);
    expect_scalar(db, "Inf > bool 1e308", 1);
    expect_scalar(db, "time()", 1000);
    expect_scalar(db, "scalar(vector(4))", 4);
    expect_scalar(db, "scalar(nothing)", NAN);    /* not exactly one sample */
}

static void put_pair(struct tsdb *db)
{
    put(db, "a{job=x,inst=1}", 0, 10);
    put(db, "a{job=x,inst=2}", 0, 20);
    put(db, "a{job=y,inst=1}", 0, 30);
    put(db, "b{job=x}", 0, 2);
    put(db, "b{job=y}", 0, 5);
    put(db, "c{job=x,inst=1}", 0, 4);
    put(db, "c{job=x,inst=2}", 0, 0);
}

static void test_vector_matching(void **state)
{
    struct tsdb *db = *state;
    put_pair(db);
    /* default: all labels but the name must match */
    expect_in(db, "a / c", 1, 2, "{inst=\"1\", job=\"x\"}", 2.5);
    expect_in(db, "a / c", 1, 2, "{inst=\"2\", job=\"x\"}", INFINITY);  /* 20 / 0 */
    /* ignoring(inst): a{job=y} matches b{job=y}; a{job=x,*} both match b{job=x}
     * so one-to-one fails: restrict to job=y */
    expect_one(db, "a{job=\"y\"} * ignoring(inst) b", 1, "{job=\"y\"}", 150);
    /* on(job): the result keeps only the on labels */
    expect_one(db, "a{job=\"y\"} - on(job) b", 1, "{job=\"y\"}", 25);
    expect_eval_error(db, "a * ignoring(inst) b", 1, "many-to-one matching must be explicit");
    expect_eval_error(db, "b * on() a", 1, "many-to-many matching not allowed");
    /* dropping the name makes a{...} and a{...} * 1 collide? no: labels differ */
    expect_in(db, "a * 1", 1, 3, "{inst=\"2\", job=\"x\"}", 20);
    /* but two names with the same other labels do collide */
    put(db, "d{job=x}", 0, 1);
    expect_eval_error(db, "{__name__=~\"b|d\", job=\"x\"} * 2", 1,
                      "vector cannot contain metrics with the same labelset");
    expect_eval_error(db, "-{__name__=~\"b|d\", job=\"x\"}", 1, "same labelset");
}

static void test_comparisons(void **state)
{
    struct tsdb *db = *state;
    put_pair(db);
    /* a filter keeps the left value and the name */
    expect_in(db, "a > 15", 1, 2, "{__name__=\"a\", inst=\"2\", job=\"x\"}", 20);
    /* scalar on the left: still the vector's value is kept */
    expect_in(db, "15 < a", 1, 2, "{__name__=\"a\", inst=\"1\", job=\"y\"}", 30);
    /* bool: 0 or 1 for every sample, name dropped */
    expect_in(db, "a > bool 15", 1, 3, "{inst=\"1\", job=\"x\"}", 0);
    expect_in(db, "a > bool 15", 1, 3, "{inst=\"1\", job=\"y\"}", 1);
    /* vector to vector: filter on the left value */
    /* 10 > 4 and 20 > 0 */
    expect_in(db, "a > c", 1, 2, "{__name__=\"a\", inst=\"1\", job=\"x\"}", 10);
    expect_one(db, "c < a - 10", 1, "{__name__=\"c\", inst=\"2\", job=\"x\"}", 0);
    expect_in(db, "c >= bool a", 1, 2, "{inst=\"1\", job=\"x\"}", 0);
    expect_empty(db, "a == 11", 1);
}

static void test_set_operators(void **state)
{
    struct tsdb *db = *state;
    put_pair(db);
    /* and: left samples with a match (all labels but the name) on the right */
    expect_in(db, "a and c", 1, 2, "{__name__=\"a\", inst=\"1\", job=\"x\"}", 10);
    expect_one(db, "a and on(job) b{job=\"y\"}", 1, "{__name__=\"a\", inst=\"1\", job=\"y\"}", 30);
    /* or: all left, plus right samples without a match on the left */
    expect_in(db, "c or a", 1, 3, "{__name__=\"a\", inst=\"1\", job=\"y\"}", 30);
    expect_in(db, "c or a", 1, 3, "{__name__=\"c\", inst=\"2\", job=\"x\"}", 0);
    /* unless: left samples without a match */
    expect_one(db, "a unless c", 1, "{__name__=\"a\", inst=\"1\", job=\"y\"}", 30);
    expect_empty(db, "a unless on() b", 1);
    /* and binds tighter than or: a or (b and nothing) */
    expect_in(db, "b or b and nothing", 1, 2, "{__name__=\"b\", job=\"y\"}", 5);
}

/* ---- aggregation ---- */

static void test_aggregations(void **state)
{
    struct tsdb *db = *state;
    put_pair(db);
    /* sum by (job): x = 10 + 20, y = 30 */
    expect_in(db, "sum by (job) (a)", 1, 2, "{job=\"x\"}", 30);
    expect_in(db, "sum(a) by (job)", 1, 2, "{job=\"y\"}", 30);
    /* without (inst) drops inst and the name */
    expect_in(db, "sum without (inst) (a)", 1, 2, "{job=\"x\"}", 30);
    expect_one(db, "sum(a)", 1, "{}", 60);
    expect_one(db, "avg(a)", 1, "{}", 20);
    expect_one(db, "min(a)", 1, "{}", 10);
    expect_one(db, "max(a)", 1, "{}", 30);
    expect_one(db, "count(a)", 1, "{}", 3);
    expect_in(db, "count by (inst) (a)", 1, 2, "{inst=\"1\"}", 2);
    expect_one(db, "group(a)", 1, "{}", 1);
    /* by (__name__) keeps the name */
    expect_one(db, "max by (__name__) (a)", 1, "{__name__=\"a\"}", 30);
    /* aggregating nothing is nothing */
    expect_empty(db, "sum(nothing)", 1);
}

static void test_aggregation_nan_inf(void **state)
{
    struct tsdb *db = *state;
    put(db, "n{i=1}", 0, NAN);
    put(db, "n{i=2}", 0, 3);
    put(db, "n{i=3}", 0, 1);
    put(db, "f{i=1}", 0, INFINITY);
    put(db, "f{i=2}", 0, 5);
    put(db, "f{i=3}", 0, -INFINITY);
    /* NaN poisons sum and avg, counts as a sample, and is passed over by
     * min/max unless everything is NaN */
    expect_one(db, "sum(n)", 1, "{}", NAN);
    expect_one(db, "avg(n)", 1, "{}", NAN);
    expect_one(db, "count(n)", 1, "{}", 3);
    expect_one(db, "min(n)", 1, "{}", 1);
    expect_one(db, "max(n)", 1, "{}", 3);
    /* avg keeps an infinite mean while finite values come: Inf, Inf;
     * then -Inf: Inf + (-Inf/3 - Inf/3) = NaN */
    expect_one(db, "avg(f{i!=\"3\"})", 1, "{}", INFINITY);
    expect_one(db, "avg(f)", 1, "{}", NAN);
    expect_one(db, "sum(f{i!=\"3\"})", 1, "{}", INFINITY);
}

/* ---- functions on instant vectors ---- */

static void test_math_functions(void **state)
{
    struct tsdb *db = *state;
    put(db, "v{i=1}", 0, -2.5);
    expect_one(db, "abs(v)", 1, "{i=\"1\"}", 2.5);
    expect_one(db, "ceil(v)", 1, "{i=\"1\"}", -2);
    expect_one(db, "floor(v)", 1, "{i=\"1\"}", -3);
    expect_one(db, "clamp_min(v, 0)", 1, "{i=\"1\"}", 0);
    expect_one(db, "clamp_max(v, -3)", 1, "{i=\"1\"}", -3);
    expect_one(db, "clamp(v, -1, 1)", 1, "{i=\"1\"}", -1);
    expect_empty(db, "clamp(v, 1, -1)", 1);   /* max < min: nothing */
    expect_one(db, "sqrt(abs(v) * 10)", 1, "{i=\"1\"}", 5);
    expect_one(db, "vector(1) + 1", 1, "{}", 2);
}

/* ---- the seed's alert rules ---- */

static void test_seed_rules(void **state)
{
    struct tsdb *db = *state;
    /* counters sampled every 15 s from 0 to 600 s; at 600 s over [300, 600]
     * the first and last samples sit on the window's edges, so the rate is
     * the slope exactly */
    put_line(db, "http_requests_total{status=500,job=api}", 0, 15, 41, 0, 1.5);   /* 0.1/s */
    put_line(db, "http_requests_total{status=503,job=api}", 0, 15, 41, 0, 0.15);  /* 0.01/s */
    put_line(db, "http_requests_total{status=200,job=api}", 0, 15, 41, 0, 150);   /* 10/s */
    expect_one(db, "rate(http_requests_total{status=~\"5..\"}[5m]) > 0.05", 600,
               "{job=\"api\", status=\"500\"}", 0.1);

    /* buckets: +0.2/s, +0.6/s, +0.9/s, +1/s (le 0.1, 0.5, 1, +Inf).
     * 0.95: rank 0.95 > 0.9: the highest finite bound, 1 */
    const char *les[] = {"0.1", "0.5", "1", "+Inf"};
    const double per_s[] = {0.2, 0.6, 0.9, 1.0};
    for (int i = 0; i < 4; i++) {
        char spec[128];
        snprintf(spec, sizeof spec, "http_request_duration_seconds_bucket{job=api,le=%s}", les[i]);
        put_line(db, spec, 0, 15, 41, 0, per_s[i] * 15);
    }
    const char *hq = "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 0.5";
    expect_one(db, hq, 600, "{job=\"api\"}", 1);
    /* 0.5: rank 0.5 in (0.2, 0.6]: 0.1 + 0.4 * (0.5 - 0.2) / 0.4 = 0.4 */
    expect_one(db, "histogram_quantile(0.5, rate(http_request_duration_seconds_bucket[5m]))", 600,
               "{job=\"api\"}", 0.4);

    /* 10 emails/s = 600/min, not < 1000; with 15/min it is */
    put_line(db, "emails_sent_total{campaign=a}", 0, 15, 41, 0, 0.1 * 15);
    put_line(db, "emails_sent_total{campaign=b}", 0, 15, 41, 0, 0.15 * 15);
    put(db, "campaigns_active{shard=1}", 590, 2);
    put(db, "campaigns_active{shard=2}", 590, 0);
    /* sum: 0.25/s * 60 = 15 < 1000 kept; and on(): max(2, 0) = 2 > 0 exists */
    const char *mail = "sum(rate(emails_sent_total[5m])) * 60 < 1000 and on() max(campaigns_active) > 0";
    expect_one(db, mail, 600, "{}", 15);
    put(db, "campaigns_active{shard=1}", 595, 0);
    expect_empty(db, mail, 600);

    /* 95 / 100 = 0.95 > 0.9; 50 / 100 = 0.5 filtered */
    put(db, "database_connections_active{db=main}", 590, 95);
    put(db, "database_connections_max{db=main}", 590, 100);
    put(db, "database_connections_active{db=ro}", 590, 50);
    put(db, "database_connections_max{db=ro}", 590, 100);
    expect_one(db, "database_connections_active / database_connections_max > 0.9", 600,
               "{db=\"main\"}", 0.95);
}

/* ---- parsing ---- */

static void test_parse_errors(void **state)
{
    (void)state;
    expect_parse_error("sum(rate(x[5m])))", "1:17: unexpected ')'");
    expect_parse_error("sum(rate(x[5m])", "1:16: unexpected end of input in aggregation, "
                                          "expected ')'");
    expect_parse_error("foo{a=\"b\" + 1", "1:11: unexpected '+' in label matching, "
                                          "expected ',' or '}'");
    expect_parse_error("rate(x)", "1:6: expected type range vector in call to function \"rate\", "
                                  "got instant vector");
    expect_parse_error("x[5m:1m]", "1:5: subqueries are not supported");
    expect_parse_error("a * on(x) group_left b", "1:11: group_left is not supported");
    expect_parse_error("topk(3, x)", "1:1: aggregation \"topk\" is not supported");
    expect_parse_error("1 > 2", "1:3: comparisons between scalars must use BOOL modifier");
    expect_parse_error("{}", "1:1: vector selector must contain at least one non-empty matcher");
    expect_parse_error("x{a=~\"(?:b)\"}", "1:3: invalid regular expression: Invalid preceding "
                                          "regular expression");
    expect_parse_error("nofunc(x)", "1:1: unknown function with name \"nofunc\"");
    expect_parse_error("x\n  + * 2", "2:5: unexpected '*'");
    expect_parse_error("x[5x]", "1:3: bad number or duration syntax: \"5x\"");
    expect_parse_error("1 and 2", "1:3: set operator not allowed in binary scalar expression");
    expect_parse_error("x offset", "1:9: unexpected end of input in offset, expected duration");
    expect_parse_error("\"unterminated", "1:1: unterminated quoted string");
    expect_parse_error("sum(x[5m])", "1:5: expected type instant vector in aggregation "
                                     "expression, got range vector");
    char deep[600] = "";
    for (int i = 0; i < 200; i++)
        strcat(deep, "(");
    expect_parse_error(deep, "1:129: expression nested too deeply");
}

static void test_parse_forms(void **state)
{
    struct tsdb *db = *state;
    put(db, "x{a=1}", 0, 1);
    put(db, "x{a=2}", 0, 2);
    /* the name in the braces, several matchers, trailing comma, quotes */
    expect_one(db, "{__name__=\"x\", a!=\"1\",}", 1, "{__name__=\"x\", a=\"2\"}", 2);
    expect_one(db, "x{a=~'1|3'}", 1, "{__name__=\"x\", a=\"1\"}", 1);
    expect_one(db, "x{a=`2`}", 1, "{__name__=\"x\", a=\"2\"}", 2);
    expect_one(db, "x{a!~\"1\"} # a comment", 1, "{__name__=\"x\", a=\"2\"}", 2);
    expect_one(db, "SUM(x) BY (a) AND x{a=\"1\"}", 1, "{a=\"1\"}", 1);
    expect_in(db, "sum without () (x)", 1, 2, "{a=\"2\"}", 2);
    /* durations: 1h30s = 5430 s, 500ms; [0 - 5430, 0] holds both samples' one each */
    expect_in(db, "count_over_time(x[1h30s])", 1, 2, "{a=\"1\"}", 1);
    expect_in(db, "count_over_time(x[500ms] offset 500ms)", 1, 2, "{a=\"2\"}", 1);
    /* a duration is not a number in Prometheus 2.42 */
    expect_parse_error("5m + 1", "1:1: unexpected \"5m\"");
}

static void expect_format(double v, const char *want)
{
    char buf[PROMQL_VALUE_MAX];
    promql_format_value(v, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static void test_format(void **state)
{
    struct tsdb *db = *state;
    /* Go's strconv.FormatFloat(v, 'f', -1, 64), as the HTTP API writes values */
    expect_format(1, "1");
    expect_format(0.1 + 0.2, "0.30000000000000004");
    expect_format(1e-7, "0.0000001");
    expect_format(1.5e21, "1500000000000000000000");
    expect_format(-2.5, "-2.5");
    expect_format(NAN, "NaN");
    expect_format(INFINITY, "+Inf");
    expect_format(-INFINITY, "-Inf");
    put(db, "x{a=q\"}", 0, 1);
    struct promql_result r = run(db, "x", 1.5);
    char buf[256];
    promql_format_result(&r, 1500, buf, sizeof buf);
    assert_string_equal(buf, "[{\"metric\":{\"__name__\":\"x\",\"a\":\"q\\\"\"},"
                             "\"value\":[1.5,\"1\"]}]");
    /* too small a buffer: cut, and the needed length returned */
    int need = (int)strlen(buf);
    assert_int_equal(promql_format_result(&r, 1500, buf, 8), need);
    assert_string_equal(buf, "[{\"metr");
    promql_result_free(&r);
    r = run(db, "2 * 3", 1);
    promql_format_result(&r, 1000, buf, sizeof buf);
    assert_string_equal(buf, "[1,\"6\"]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rate_unaligned_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_counter_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_series_starts_inside_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_zero_start_and_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delta_and_idelta_on_gauge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_over_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_histogram_quantile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_histogram_quantile_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staleness, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookback_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence_and_scalars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vector_matching, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comparisons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_operators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aggregations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aggregation_nan_inf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_math_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format, setup, teardown),
    };
    return cmocka_run_group_tests_name("promql", tests, NULL, NULL);
}
