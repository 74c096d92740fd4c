/* The console's own rule engine end to end: Prometheus text expositions in,
 * alert states out, with explicit timestamps (never the clock). Each
 * expectation is worked out by hand from Prometheus's rules/alerting.go and
 * promql/functions.go (extrapolatedRate), and from what ruleng.h promises
 * about failed scrapes: nothing unseen is resolved, the rule says "no data"
 * and why. Also the group interval, the extra queries, bad input with
 * file:line, which series keep history, the JSON of the views and the
 * runbooks. */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "alertview.h"
#include "config.h"
#include "ruleng.h"

#define SEC INT64_C(1000)
#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00.000Z */

#define URL_A "http://127.0.0.1:9100/metrics"
#define INST_A "127.0.0.1:9100"
#define URL_B "http://10.0.0.2:8080/metrics"
#define INST_B "10.0.0.2:8080"

static const char *const urls_a[] = { URL_A };
static const char *const urls_ab[] = { URL_A, URL_B };

/* ---- helpers ---- */

/* cmocka 1.1 has no assert_double_equal */
#define assert_near(got, want, eps) assert_near_at((got), (want), (eps), #got, __FILE__, __LINE__)

static void assert_near_at(double got, double want, double eps, const char *what, const char *file, int line)
{
    if (!(fabs(got - want) <= eps))
        fail_msg("%s:%d: %s is %.17g, want %.17g", file, line, what, got, want);
}

static struct ruleng *engine_q(const char *rules, const char *const *urls, size_t n_urls,
                               const char *const *queries, size_t n_queries, const char *runbook_dir)
{
    struct config_errors errs = { 0 };
    struct ruleng_opts o = {
        .urls = urls, .n_urls = n_urls, .rules_name = "t.yml", .rules_text = rules,
        .rules_len = strlen(rules), .runbook_dir = runbook_dir, .queries = queries,
        .n_queries = n_queries,
    };
    struct ruleng *e = ruleng_new(&o, &errs);
    if (!e)
        fail_msg("ruleng_new refused: %s", errs.n ? errs.msg[0] : "(no message)");
    assert_int_equal(errs.n, 0);
    config_errors_free(&errs);
    return e;
}

static struct ruleng *engine(const char *rules, const char *const *urls, size_t n_urls)
{
    return engine_q(rules, urls, n_urls, NULL, 0, NULL);
}

__attribute__((format(printf, 4, 5)))
static void scrape(struct ruleng *e, size_t target, int64_t t_ms, const char *fmt, ...)
{
    char body[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    ruleng_scraped(e, target, body, strlen(body), t_ms, 5);
}

/* One gauge, as a target exposes it. */
static void scrape_gauge(struct ruleng *e, size_t target, int64_t t_ms, double v)
{
    scrape(e, target, t_ms, "# TYPE up_metric gauge\nup_metric %.17g\n", v);
}

struct snap {
    struct rule_view *r;
    size_t nr;
    struct query_view *q;
    size_t nq;
};

static struct snap views(const struct ruleng *e)
{
    struct snap s;
    assert_int_equal(ruleng_views(e, &s.r, &s.nr, &s.q, &s.nq), 0);
    return s;
}

static void snap_free(struct snap *s)
{
    rule_views_free(&s->r, &s->nr);
    query_views_free(&s->q, &s->nq);
}

/* The view of rule name in s (it must be there). */
static const struct rule_view *rule_in(const struct snap *s, const char *name)
{
    for (size_t i = 0; i < s->nr; i++)
        if (strcmp(s->r[i].name, name) == 0)
            return &s->r[i];
    fail_msg("no rule %s among %zu", name, s->nr);
    return NULL;
}

/* The alert of rule v whose label name is value, or NULL. */
static const struct alert_view *alert_with(const struct rule_view *v, const char *name, const char *value)
{
    for (size_t i = 0; i < v->n_alerts; i++) {
        const char *x = alert_view_label(&v->alerts[i], name);
        if (x && strcmp(x, value) == 0)
            return &v->alerts[i];
    }
    return NULL;
}

static const char rules_up[] =
    "groups:\n"
    "  - name: g\n"
    "    interval: 1s\n"
    "    rules:\n"
    "      - alert: UpHigh\n"
    "        expr: up_metric > 5\n"
    "        for: 10s\n";

/* ---- 1. pending, firing at exactly t + for, resolved ---- */

static void test_pending_firing_resolved(void **state)
{
    (void)state;
    struct ruleng *e = engine(rules_up, urls_a, 1);
    const int64_t t = T0 + 10 * SEC;
    /* below the threshold: inactive, but it says how far it is */
    for (int64_t now = T0 + 8 * SEC; now < t; now += SEC) {
        scrape_gauge(e, 0, now, 3);
        ruleng_eval(e, now);
    }
    struct snap s = views(e);
    assert_int_equal(s.nr, 1);
    assert_int_equal(s.r[0].state, ALERT_INACTIVE);
    assert_int_equal(s.r[0].n_alerts, 0);
    assert_false(s.r[0].no_data);
    assert_false(s.r[0].error);
    assert_null(s.r[0].why);
    assert_int_equal(s.r[0].last_eval_ms, t - SEC);
    assert_int_equal(s.r[0].data_ms, t - SEC);
    assert_int_equal(s.r[0].n_current, 1);
    assert_true(s.r[0].current == 3);
    assert_string_equal(s.r[0].threshold, "> 5");
    assert_string_equal(s.r[0].source, "here");
    assert_int_equal(s.r[0].for_ms, 10 * SEC);
    assert_int_equal(s.r[0].interval_ms, SEC);
    snap_free(&s);

    /* above from t, rising by one a second: pending from the first
     * evaluation above, for 10 s */
    for (int k = 0; k <= 9; k++) {
        int64_t now = t + k * SEC;
        scrape_gauge(e, 0, now, 6 + k);
        ruleng_eval(e, now);
        s = views(e);
        assert_int_equal(s.r[0].n_alerts, 1);
        assert_int_equal(s.r[0].state, ALERT_PENDING);
        assert_int_equal(s.r[0].alerts[0].state, ALERT_PENDING);
        assert_int_equal(s.r[0].alerts[0].active_at_ms, t);
        assert_int_equal(s.r[0].alerts[0].fired_at_ms, 0);
        assert_true(s.r[0].alerts[0].value == 6 + k);
        snap_free(&s);
    }
    /* t + 10 s: 10 s >= for, firing now */
    scrape_gauge(e, 0, t + 10 * SEC, 16);
    ruleng_eval(e, t + 10 * SEC);
    s = views(e);
    assert_int_equal(s.r[0].state, ALERT_FIRING);
    assert_int_equal(s.r[0].n_alerts, 1);
    assert_int_equal(s.r[0].alerts[0].state, ALERT_FIRING);
    assert_int_equal(s.r[0].alerts[0].active_at_ms, t);
    assert_int_equal(s.r[0].alerts[0].fired_at_ms, t + 10 * SEC);
    assert_int_equal(s.r[0].alerts[0].resolved_at_ms, 0);
    assert_true(s.r[0].alerts[0].value == 16);
    assert_true(s.r[0].current == 16);
    snap_free(&s);
    scrape_gauge(e, 0, t + 11 * SEC, 17);
    ruleng_eval(e, t + 11 * SEC);
    s = views(e);
    assert_int_equal(s.r[0].alerts[0].fired_at_ms, t + 10 * SEC);  /* the same alert */
    assert_true(s.r[0].alerts[0].value == 17);
    snap_free(&s);
    /* drops below: resolved at once, kept to be shown */
    scrape_gauge(e, 0, t + 12 * SEC, 2);
    ruleng_eval(e, t + 12 * SEC);
    s = views(e);
    assert_int_equal(s.r[0].state, ALERT_INACTIVE);
    assert_int_equal(s.r[0].n_alerts, 1);
    assert_int_equal(s.r[0].alerts[0].state, ALERT_INACTIVE);
    assert_int_equal(s.r[0].alerts[0].resolved_at_ms, t + 12 * SEC);
    assert_int_equal(s.r[0].alerts[0].fired_at_ms, t + 10 * SEC);
    assert_true(s.r[0].current == 2);
    snap_free(&s);
    ruleng_free(&e);
    assert_null(e);
}

/* ---- 2. the group interval ---- */

static const char rules_two_groups[] =
    "groups:\n"
    "  - name: slow\n"
    "    interval: 15s\n"
    "    rules:\n"
    "      - alert: Slow\n"
    "        expr: up_metric > 5\n"
    "  - name: fast\n"
    "    interval: 1s\n"
    "    rules:\n"
    "      - alert: Fast\n"
    "        expr: up_metric > 5\n";

static int64_t last_eval_of(const struct ruleng *e, const char *name)
{
    struct snap s = views(e);
    int64_t t = rule_in(&s, name)->last_eval_ms;
    snap_free(&s);
    return t;
}

static void test_group_interval(void **state)
{
    (void)state;
    struct ruleng *e = engine(rules_two_groups, urls_a, 1);
    /* a round every second: the 15 s group at T0, T0+15s, T0+30s only */
    for (int k = 0; k <= 31; k++) {
        int64_t now = T0 + k * SEC;
        scrape_gauge(e, 0, now, 1);
        ruleng_eval(e, now);
        int64_t want = T0 + (k / 15) * 15 * SEC;
        if (last_eval_of(e, "Slow") != want)
            fail_msg("at T0+%ds: Slow last evaluated at T0%+" PRId64 "ms, want T0%+" PRId64 "ms", k,
                     last_eval_of(e, "Slow") - T0, want - T0);
        assert_int_equal(last_eval_of(e, "Fast"), now);
    }
    /* what the slow rule saw is what it saw then: the value went above 5 at
     * T0+32s, but it has not looked yet */
    scrape_gauge(e, 0, T0 + 32 * SEC, 9);
    ruleng_eval(e, T0 + 32 * SEC);
    struct snap s = views(e);
    assert_int_equal(rule_in(&s, "Slow")->n_alerts, 0);
    assert_int_equal(rule_in(&s, "Fast")->n_alerts, 1);
    snap_free(&s);
    /* every round: the slow one too */
    ruleng_set_every_round(e, true);
    for (int k = 33; k <= 35; k++) {
        scrape_gauge(e, 0, T0 + k * SEC, 9);
        ruleng_eval(e, T0 + k * SEC);
        assert_int_equal(last_eval_of(e, "Slow"), T0 + k * SEC);
    }
    s = views(e);
    assert_int_equal(rule_in(&s, "Slow")->n_alerts, 1);
    snap_free(&s);
    ruleng_free(&e);
}

/* Back to the interval after every round: the next evaluation comes at
 * most one interval after the last one, not one interval per round that
 * every_round was on. */
static void test_every_round_off_again(void **state)
{
    (void)state;
    struct ruleng *e = engine(rules_two_groups, urls_a, 1);
    scrape_gauge(e, 0, T0, 1);
    ruleng_eval(e, T0);
    ruleng_set_every_round(e, true);
    for (int k = 1; k <= 5; k++) {
        scrape_gauge(e, 0, T0 + k * SEC, 1);
        ruleng_eval(e, T0 + k * SEC);
    }
    assert_int_equal(last_eval_of(e, "Slow"), T0 + 5 * SEC);
    ruleng_set_every_round(e, false);
    for (int k = 6; k <= 20; k++) {
        scrape_gauge(e, 0, T0 + k * SEC, 1);
        ruleng_eval(e, T0 + k * SEC);
    }
    /* 15 s after the last evaluation (T0+5s) it must have looked again */
    int64_t last = last_eval_of(e, "Slow");
    ruleng_free(&e);
    if (last < T0 + 15 * SEC)
        fail_msg("15s group last evaluated at T0+%" PRId64 "ms, more than 15 s before T0+20s",
                 last - T0);
}

/* ---- 3. a failed scrape resolves nothing ---- */

static const char rules_up_for5[] =
    "groups:\n"
    "  - name: g\n"
    "    interval: 1s\n"
    "    rules:\n"
    "      - alert: UpHigh\n"
    "        expr: up_metric > 5\n"
    "        for: 5s\n";

static void test_failed_scrape(void **state)
{
    (void)state;
    struct ruleng *e = engine(rules_up_for5, urls_ab, 2);
    for (int k = 0; k <= 5; k++) {
        scrape_gauge(e, 0, T0 + k * SEC, 10);
        scrape_gauge(e, 1, T0 + k * SEC, 1);
        ruleng_eval(e, T0 + k * SEC);
    }
    struct snap s = views(e);
    assert_int_equal(s.r[0].state, ALERT_FIRING);
    assert_int_equal(s.r[0].n_alerts, 1);
    assert_string_equal(alert_view_label(&s.r[0].alerts[0], "instance"), INST_A);
    /* current: the largest of the two series */
    assert_int_equal(s.r[0].n_current, 2);
    assert_true(s.r[0].current == 10);
    snap_free(&s);

    /* A fails; B goes above the threshold */
    ruleng_scrape_failed(e, 0, "connection refused", T0 + 6 * SEC, 3);
    scrape_gauge(e, 1, T0 + 6 * SEC, 8);
    ruleng_eval(e, T0 + 6 * SEC);
    s = views(e);
    const struct rule_view *r = &s.r[0];
    assert_true(r->no_data);
    assert_false(r->error);
    assert_non_null(r->why);
    if (!strstr(r->why, INST_A) || !strstr(r->why, "connection refused"))
        fail_msg("why: %s", r->why);
    assert_int_equal(r->last_eval_ms, T0 + 6 * SEC);
    assert_int_equal(r->data_ms, T0 + 5 * SEC);   /* A's last good scrape */
    assert_int_equal(r->state, ALERT_FIRING);
    assert_int_equal(r->n_alerts, 2);
    const struct alert_view *a = alert_with(r, "instance", INST_A);
    const struct alert_view *b = alert_with(r, "instance", INST_B);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->state, ALERT_FIRING);      /* not resolved by a dead target */
    assert_int_equal(a->fired_at_ms, T0 + 5 * SEC);
    assert_int_equal(a->resolved_at_ms, 0);
    assert_int_equal(b->state, ALERT_PENDING);     /* what it sees still counts */
    assert_int_equal(b->active_at_ms, T0 + 6 * SEC);
    assert_true(b->value == 8);
    /* A's series went stale with its failed scrape: only B's is left */
    assert_int_equal(r->n_current, 1);
    assert_true(r->current == 8);
    snap_free(&s);

    /* still down: B fires 5 s later all the same */
    for (int k = 7; k <= 11; k++) {
        ruleng_scrape_failed(e, 0, "connection refused", T0 + k * SEC, 3);
        scrape_gauge(e, 1, T0 + k * SEC, 8);
        ruleng_eval(e, T0 + k * SEC);
    }
    s = views(e);
    r = &s.r[0];
    assert_true(r->no_data);
    b = alert_with(r, "instance", INST_B);
    assert_non_null(b);
    assert_int_equal(b->state, ALERT_FIRING);
    assert_int_equal(b->fired_at_ms, T0 + 11 * SEC);
    a = alert_with(r, "instance", INST_A);
    assert_non_null(a);
    assert_int_equal(a->state, ALERT_FIRING);
    snap_free(&s);

    /* A is back, below the threshold: now it resolves */
    scrape_gauge(e, 0, T0 + 12 * SEC, 1);
    scrape_gauge(e, 1, T0 + 12 * SEC, 8);
    ruleng_eval(e, T0 + 12 * SEC);
    s = views(e);
    r = &s.r[0];
    assert_false(r->no_data);
    assert_null(r->why);
    assert_int_equal(r->data_ms, T0 + 12 * SEC);
    a = alert_with(r, "instance", INST_A);
    assert_non_null(a);
    assert_int_equal(a->state, ALERT_INACTIVE);
    assert_int_equal(a->resolved_at_ms, T0 + 12 * SEC);
    b = alert_with(r, "instance", INST_B);
    assert_non_null(b);
    assert_int_equal(b->state, ALERT_FIRING);
    assert_int_equal(r->state, ALERT_FIRING);
    snap_free(&s);
    ruleng_free(&e);
}

/* A pending alert of a target that then fails keeps its state: pending.
 * It is not seen, so nothing says the condition still holds; it must not
 * fire on the strength of the clock alone. */
static void test_failed_scrape_pending_does_not_fire(void **state)
{
    (void)state;
    struct ruleng *e = engine(rules_up_for5, urls_ab, 2);
    scrape_gauge(e, 0, T0, 10);
    scrape_gauge(e, 1, T0, 1);
    ruleng_eval(e, T0);
    for (int k = 1; k <= 7; k++) {
        ruleng_scrape_failed(e, 0, "timeout", T0 + k * SEC, 3000);
        scrape_gauge(e, 1, T0 + k * SEC, 1);
        ruleng_eval(e, T0 + k * SEC);
    }
    struct snap s = views(e);
    assert_true(s.r[0].no_data);
    assert_int_equal(s.r[0].n_alerts, 1);
    enum alert_state st = s.r[0].alerts[0].state;
    int64_t fired = s.r[0].alerts[0].fired_at_ms;
    snap_free(&s);
    ruleng_free(&e);
    if (st != ALERT_PENDING || fired != 0)
        fail_msg("unseen for 7 s while its target was down, the alert went %s (fired at T0%+" PRId64
                 "ms); it should have stayed pending", alert_state_name(st), fired - T0);
}

/* ---- 4. before any scrape ---- */

static void test_before_first_scrape(void **state)
{
    (void)state;
    struct ruleng *e = engine(rules_up_for5, urls_ab, 2);
    ruleng_eval(e, T0);
    struct snap s = views(e);
    assert_int_equal(s.nr, 1);
    assert_true(s.r[0].no_data);
    assert_false(s.r[0].error);
    assert_string_equal(s.r[0].why, "waiting for the first scrape of " INST_A);
    assert_int_equal(s.r[0].n_alerts, 0);
    assert_int_equal(s.r[0].state, ALERT_INACTIVE);
    assert_int_equal(s.r[0].last_eval_ms, T0);
    assert_int_equal(s.r[0].data_ms, 0);
    assert_int_equal(s.r[0].n_current, 0);
    assert_true(isnan(s.r[0].current));
    snap_free(&s);
    /* A answers (above the threshold), B not yet: still nothing */
    scrape_gauge(e, 0, T0 + SEC, 10);
    ruleng_eval(e, T0 + SEC);
    s = views(e);
    assert_true(s.r[0].no_data);
    assert_string_equal(s.r[0].why, "waiting for the first scrape of " INST_B);
    assert_int_equal(s.r[0].n_alerts, 0);
    snap_free(&s);
    /* B fails its first scrape */
    scrape_gauge(e, 0, T0 + 2 * SEC, 10);
    ruleng_scrape_failed(e, 1, "timeout after 3s", T0 + 2 * SEC, 3000);
    ruleng_eval(e, T0 + 2 * SEC);
    s = views(e);
    assert_true(s.r[0].no_data);
    assert_string_equal(s.r[0].why, "no good scrape of " INST_B " yet: timeout after 3s");
    assert_int_equal(s.r[0].n_alerts, 0);
    snap_free(&s);
    /* B answers with something that is not an exposition */
    scrape_gauge(e, 0, T0 + 3 * SEC, 10);
    scrape(e, 1, T0 + 3 * SEC, "<html>502 Bad Gateway</html>\n");
    ruleng_eval(e, T0 + 3 * SEC);
    s = views(e);
    assert_true(s.r[0].no_data);
    assert_non_null(strstr(s.r[0].why, "no good scrape of " INST_B " yet: "));
    assert_int_equal(s.r[0].n_alerts, 0);
    snap_free(&s);
    /* both answer: evaluated */
    scrape_gauge(e, 0, T0 + 4 * SEC, 10);
    scrape_gauge(e, 1, T0 + 4 * SEC, 1);
    ruleng_eval(e, T0 + 4 * SEC);
    s = views(e);
    assert_false(s.r[0].no_data);
    assert_int_equal(s.r[0].n_alerts, 1);
    assert_int_equal(s.r[0].alerts[0].active_at_ms, T0 + 4 * SEC);
    snap_free(&s);
    ruleng_free(&e);

    /* no targets at all */
    e = engine(rules_up_for5, NULL, 0);
    ruleng_eval(e, T0);
    s = views(e);
    assert_true(s.r[0].no_data);
    assert_string_equal(s.r[0].why, "no metrics targets are configured");
    snap_free(&s);
    ruleng_free(&e);
}

/* ---- 5. rate, by hand ---- */

static const char rules_rate[] =
    "groups:\n"
    "  - name: g\n"
    "    interval: 1s\n"
    "    rules:\n"
    "      - alert: FastCounter\n"
    "        expr: rate(c_total[30s]) > 1\n"
    "        for: 0s\n";

static void scrape_counter(struct ruleng *e, int64_t t_ms, double v)
{
    scrape(e, 0, t_ms, "# TYPE c_total counter\nc_total %.17g\n", v);
}

static void test_rate(void **state)
{
    (void)state;
    struct ruleng *e = engine(rules_rate, urls_a, 1);
    /* every 5 s from T0: 0, 2, 4, ... 12 at T0+30s */
    for (int k = 0; k <= 6; k++)
        scrape_counter(e, T0 + k * 5 * SEC, 2 * k);
    /* at T0+30s the window [T0, T0+30s] (both ends in, Prometheus 2) holds
     * all 7 samples: durationToStart = durationToEnd = 0, sampledInterval =
     * 30 s, so no extrapolation (durationToZero = 30 * 0/12 = 0 is not
     * below durationToStart): rate = (12 - 0) / 30 = 0.4 */
    ruleng_eval(e, T0 + 30 * SEC);
    struct snap s = views(e);
    assert_int_equal(s.r[0].state, ALERT_INACTIVE);
    assert_int_equal(s.r[0].n_alerts, 0);
    assert_int_equal(s.r[0].n_current, 1);
    assert_near(s.r[0].current, 0.4, 1e-12);
    assert_string_equal(s.r[0].threshold, "> 1");
    snap_free(&s);

    /* then 10 per 5 s: 22 at T0+35s ... 82 at T0+65s */
    for (int k = 7; k <= 13; k++)
        scrape_counter(e, T0 + k * 5 * SEC, 12 + 10 * (k - 6));
    /* at T0+65s: samples at 35..65 s, 22..82, aligned again:
     * rate = 60 / 30 = 2; for 0s, so firing at once */
    ruleng_eval(e, T0 + 65 * SEC);
    s = views(e);
    assert_int_equal(s.r[0].state, ALERT_FIRING);
    assert_int_equal(s.r[0].n_alerts, 1);
    assert_int_equal(s.r[0].alerts[0].active_at_ms, T0 + 65 * SEC);
    assert_int_equal(s.r[0].alerts[0].fired_at_ms, T0 + 65 * SEC);
    assert_near(s.r[0].alerts[0].value, 2.0, 1e-12);
    assert_near(s.r[0].current, 2.0, 1e-12);
    /* rate() drops the name; the target's labels stay */
    assert_null(alert_view_label(&s.r[0].alerts[0], "__name__"));
    assert_string_equal(alert_view_label(&s.r[0].alerts[0], "instance"), INST_A);
    snap_free(&s);

    /* at T0+67s, window [37 s, 67 s]: samples at 40..65 s, 32..82.
     * delta 50, sampledInterval 25 s, 5 intervals so average 5 s and
     * threshold 5.5 s; durationToStart 3 s and durationToEnd 2 s are both
     * below it, so extrapolate to 25 + 3 + 2 = 30 s (durationToZero =
     * 25 * 32/50 = 16 s, not below 3 s): 50 * 30/25 = 60, / 30 s = 2 */
    ruleng_eval(e, T0 + 67 * SEC);
    s = views(e);
    assert_near(s.r[0].alerts[0].value, 2.0, 1e-12);
    snap_free(&s);

    /* at T0+73s with no scrape after 65 s, window [43 s, 73 s]: samples at
     * 45..65 s, 42..82. delta 40, sampledInterval 20 s, average 5 s,
     * threshold 5.5 s; durationToStart 2 s < 5.5: + 2; durationToEnd 8 s
     * >= 5.5: + average/2 = 2.5; so 24.5 s (durationToZero = 20 * 42/40 =
     * 21 s, not below 2 s): 40 * 24.5/20 = 49, / 30 s = 1.6333... */
    ruleng_eval(e, T0 + 73 * SEC);
    s = views(e);
    assert_int_equal(s.r[0].state, ALERT_FIRING);
    assert_near(s.r[0].alerts[0].value, 49.0 / 30.0, 1e-12);
    assert_near(s.r[0].current, 49.0 / 30.0, 1e-12);
    snap_free(&s);
    ruleng_free(&e);
}

/* ---- 6. labels and annotations ---- */

static const char rules_labels[] =
    "groups:\n"
    "  - name: g\n"
    "    interval: 1s\n"
    "    rules:\n"
    "      - alert: Labelled\n"
    "        expr: up_metric > 5\n"
    "        labels:\n"
    "          severity: page\n"
    "          team: growth\n"
    "        annotations:\n"
    "          summary: \"{{ $labels.instance }} is at {{ $value }}\"\n"
    "          description: \"job {{ $labels.job }}, severity {{ $labels.severity }}\"\n";

static void test_labels(void **state)
{
    (void)state;
    static const char *const urls[] = { URL_A, "https://mkt.example.com/metrics" };
    struct ruleng *e = engine(rules_labels, urls, 2);
    const char *body = "# TYPE up_metric gauge\n"
                       "up_metric{severity=\"low\",job=\"theirs\",region=\"eu\"} 7.5\n";
    ruleng_scraped(e, 0, body, strlen(body), T0, 5);
    scrape_gauge(e, 1, T0, 9);
    ruleng_eval(e, T0);
    struct snap s = views(e);
    const struct rule_view *r = &s.r[0];
    assert_int_equal(r->n_alerts, 2);
    assert_int_equal(r->state, ALERT_FIRING);   /* no for: firing at once */
    const struct alert_view *a = alert_with(r, "instance", INST_A);
    assert_non_null(a);
    /* sorted by name; no __name__; ours over the exposition's; alertname added */
    static const char *const want[][2] = {
        { "alertname", "Labelled" }, { "exported_job", "theirs" }, { "instance", INST_A }, { "job", "marketing" },
        { "region", "eu" }, { "severity", "page" }, { "team", "growth" },
    };
    assert_int_equal(a->n_labels, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < a->n_labels; i++) {
        assert_string_equal(a->labels[i].name, want[i][0]);
        assert_string_equal(a->labels[i].value, want[i][1]);
    }
    assert_true(a->value == 7.5);
    assert_string_equal(a->summary, INST_A " is at 7.5");
    /* templates see the series' labels, as in Prometheus */
    assert_string_equal(a->description, "job marketing, severity low");
    const struct alert_view *b = alert_with(r, "instance", "mkt.example.com:443");
    assert_non_null(b);
    assert_string_equal(alert_view_label(b, "job"), "marketing");
    assert_string_equal(alert_view_label(b, "severity"), "page");
    assert_null(alert_view_label(b, "region"));
    assert_null(alert_view_label(b, "exported_job"));
    assert_string_equal(b->summary, "mkt.example.com:443 is at 9");
    /* the rule's own labels and annotations are in the view */
    assert_int_equal(r->n_labels, 2);
    assert_int_equal(r->n_annotations, 2);
    assert_null(r->runbook);
    assert_null(r->runbook_text);
    snap_free(&s);
    ruleng_free(&e);

    /* another job name */
    struct config_errors errs = { 0 };
    struct ruleng_opts o = { .urls = urls_a, .n_urls = 1, .job = "mailer", .rules_text = rules_labels,
                             .rules_len = strlen(rules_labels) };
    e = ruleng_new(&o, &errs);
    assert_non_null(e);
    scrape_gauge(e, 0, T0, 9);
    ruleng_eval(e, T0);
    s = views(e);
    assert_int_equal(s.r[0].n_alerts, 1);
    assert_string_equal(alert_view_label(&s.r[0].alerts[0], "job"), "mailer");
    snap_free(&s);
    ruleng_free(&e);
    config_errors_free(&errs);
}

/* ---- 7. extra queries ---- */

static void test_queries(void **state)
{
    (void)state;
    static const char *const queries[] = {
        "1 + 2",
        "up_metric",
        "up_metric * on() up_metric",   /* two series match the empty group */
        "sum(up_metric)",
        "nothing_here",
    };
    struct ruleng *e = engine_q(rules_up, urls_ab, 2, queries, 5, NULL);
    struct snap s = views(e);
    assert_int_equal(s.nq, 5);
    for (size_t i = 0; i < s.nq; i++) {
        assert_string_equal(s.q[i].expr, queries[i]);
        assert_int_equal(s.q[i].at_ms, 0);          /* not yet */
        assert_true(isnan(s.q[i].value));
    }
    snap_free(&s);
    scrape_gauge(e, 0, T0, 10);
    scrape_gauge(e, 1, T0, 1);
    ruleng_eval(e, T0);
    s = views(e);
    assert_true(s.q[0].ok);
    assert_null(s.q[0].error);
    assert_true(s.q[0].value == 3);
    assert_int_equal(s.q[0].n_series, 0);
    assert_int_equal(s.q[0].at_ms, T0);
    assert_true(s.q[1].ok);
    assert_int_equal(s.q[1].n_series, 2);
    /* the first series by labels: instance 10.0.0.2:8080 sorts before
     * 127.0.0.1:9100 */
    assert_true(s.q[1].value == 1);
    assert_false(s.q[2].ok);
    assert_non_null(s.q[2].error);
    if (!strstr(s.q[2].error, "many-to-many matching not allowed"))
        fail_msg("error: %s", s.q[2].error);
    assert_true(isnan(s.q[2].value));
    assert_int_equal(s.q[2].n_series, 0);
    assert_int_equal(s.q[2].at_ms, T0);
    assert_true(s.q[3].ok);
    assert_int_equal(s.q[3].n_series, 1);
    assert_true(s.q[3].value == 11);
    assert_true(s.q[4].ok);                         /* an empty vector is no error */
    assert_int_equal(s.q[4].n_series, 0);
    assert_true(isnan(s.q[4].value));
    snap_free(&s);
    /* queries run every round, whatever a target does; with one series
     * left the failing one works and its error goes */
    ruleng_scrape_failed(e, 1, "connection refused", T0 + SEC, 3);
    scrape_gauge(e, 0, T0 + SEC, 12);
    ruleng_eval(e, T0 + SEC);
    s = views(e);
    assert_int_equal(s.q[1].at_ms, T0 + SEC);
    assert_int_equal(s.q[1].n_series, 1);
    assert_true(s.q[1].value == 12);
    assert_true(s.q[2].ok);
    assert_null(s.q[2].error);
    assert_true(s.q[2].value == 144);
    snap_free(&s);
    ruleng_free(&e);
}

/* ---- 8. bad input ---- */

static bool errs_have(const struct config_errors *errs, const char *want)
{
    for (size_t i = 0; i < errs->n; i++)
        if (strstr(errs->msg[i], want))
            return true;
    return false;
}

static void print_errs(const struct config_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        fprintf(stderr, "  errs[%zu]: %s\n", i, errs->msg[i]);
}

static void test_bad_input(void **state)
{
    (void)state;
    static const char text[] =
        "groups:\n"                                   /* 1 */
        "  - name: g\n"                               /* 2 */
        "    interval: 1s\n"                          /* 3 */
        "    rules:\n"                                /* 4 */
        "      - alert: Broken\n"                     /* 5 */
        "        expr: up_metric >\n"                 /* 6 */
        "      - alert: Scalar\n"                     /* 7 */
        "        expr: 1 > bool 0\n"                  /* 8 */
        "      - alert: Good\n"                       /* 9 */
        "        expr: up_metric > 5\n"               /* 10 */
        "      - alert: ScalarCompare\n"              /* 11 */
        "        expr: 1 > 0\n";                      /* 12 */
    static const char *const queries[] = { "up_metric", "sum(up_metric" };
    struct config_errors errs = { 0 };
    struct ruleng_opts o = { .urls = urls_a, .n_urls = 1, .rules_name = "bad.yml", .rules_text = text,
                             .rules_len = strlen(text), .queries = queries, .n_queries = 2 };
    struct ruleng *e = ruleng_new(&o, &errs);
    assert_null(e);
    bool ok = errs.n == 4 && errs_have(&errs, "bad.yml:5: alert Broken: expr: ") &&
              errs_have(&errs, "bad.yml:7: alert Scalar: expr must be a vector expression") &&
              errs_have(&errs, "bad.yml:11: alert ScalarCompare: expr: ") &&
              errs_have(&errs, "comparisons between scalars must use BOOL modifier") &&
              errs_have(&errs, "query 2 (sum(up_metric): 1:");
    if (!ok) {
        print_errs(&errs);
        fail_msg("not the four problems wanted (%zu)", errs.n);
    }
    for (size_t i = 0; i < errs.n; i++)
        assert_null(strstr(errs.msg[i], "Good"));
    config_errors_free(&errs);

    /* a mistake in the file itself: file:line:col */
    static const char text2[] =
        "groups:\n"
        "  - name: g\n"
        "    rules:\n"
        "      - alert: A\n"
        "        expr: up_metric > 5\n"
        "        for: soon\n";
    o = (struct ruleng_opts){ .urls = urls_a, .n_urls = 1, .rules_name = "bad2.yml", .rules_text = text2,
                              .rules_len = strlen(text2) };
    e = ruleng_new(&o, &errs);
    assert_null(e);
    if (!errs_have(&errs, "bad2.yml:6:14: 'for' is not a duration")) {
        print_errs(&errs);
        fail_msg("no bad2.yml:6:14");
    }
    config_errors_free(&errs);

    /* a bad query alone, with good rules */
    static const char *const q2[] = { "rate(up_metric)" };
    o = (struct ruleng_opts){ .urls = urls_a, .n_urls = 1, .rules_text = rules_up,
                              .rules_len = strlen(rules_up), .queries = q2, .n_queries = 1 };
    e = ruleng_new(&o, &errs);
    assert_null(e);
    assert_int_equal(errs.n, 1);
    assert_non_null(strstr(errs.msg[0], "query 1 (rate(up_metric)): 1:"));
    config_errors_free(&errs);
}

/* ---- 9. which series keep history ---- */

static void test_memory(void **state)
{
    (void)state;
    static const char *const queries[] = { "q_metric" };
    struct ruleng *e = engine_q(rules_up, urls_a, 1, queries, 1, NULL);
    const char *body = "up_metric 1\nother_metric 2\nq_metric 3\n";
    size_t series, samples, series1, samples1;
    ruleng_usage(e, &series, &samples);
    assert_int_equal(series, 0);
    assert_int_equal(samples, 0);
    ruleng_scraped(e, 0, body, strlen(body), T0, 5);
    ruleng_eval(e, T0);
    ruleng_usage(e, &series1, &samples1);
    /* three from the body and up, scrape_duration_seconds,
     * scrape_samples_scraped: one sample each */
    assert_int_equal(series1, 6);
    assert_int_equal(samples1, 6);
    for (int k = 1; k < 10; k++) {
        ruleng_scraped(e, 0, body, strlen(body), T0 + k * SEC, 5);
        ruleng_eval(e, T0 + k * SEC);
    }
    ruleng_usage(e, &series, &samples);
    assert_int_equal(series, 6);
    /* up_metric (the rule's) and q_metric (the query's) keep all 10; the
     * four others their latest only */
    assert_int_equal(samples, 2 * 10 + 4);
    ruleng_free(&e);

    /* a rule on up keeps up's history, and a regex selector counts */
    static const char rules_re[] =
        "groups:\n"
        "  - name: g\n"
        "    interval: 1s\n"
        "    rules:\n"
        "      - alert: Down\n"
        "        expr: max_over_time(up[1m]) == 0\n"
        "      - alert: Others\n"
        "        expr: sum({__name__=~\"other_.*\"}) > 5\n";
    e = engine(rules_re, urls_a, 1);
    for (int k = 0; k < 10; k++) {
        ruleng_scraped(e, 0, body, strlen(body), T0 + k * SEC, 5);
        ruleng_eval(e, T0 + k * SEC);
    }
    ruleng_usage(e, &series, &samples);
    assert_int_equal(series, 6);
    assert_int_equal(samples, 2 * 10 + 4);
    ruleng_free(&e);
}

/* ---- 10. JSON ---- */

static void test_json(void **state)
{
    (void)state;
    struct ruleng *e = engine(rules_labels, urls_a, 1);
    const char *body = "up_metric{severity=\"low\"} 7\n";
    ruleng_scraped(e, 0, body, strlen(body), T0 + 1500, 5);
    ruleng_eval(e, T0 + 2 * SEC);
    struct snap s = views(e);
    char *js = rule_views_json(s.r, s.nr, T0 + 4 * SEC);
    assert_non_null(js);
    json_error_t jerr;
    json_t *root = json_loads(js, 0, &jerr);
    if (!root)
        fail_msg("not JSON (%s): %s", jerr.text, js);
    assert_true(json_is_array(root));
    assert_int_equal(json_array_size(root), 1);
    json_t *r = json_array_get(root, 0);
    assert_string_equal(json_string_value(json_object_get(r, "name")), "Labelled");
    assert_string_equal(json_string_value(json_object_get(r, "group")), "g");
    assert_string_equal(json_string_value(json_object_get(r, "query")), "up_metric > 5");
    assert_string_equal(json_string_value(json_object_get(r, "source")), "here");
    assert_string_equal(json_string_value(json_object_get(r, "state")), "firing");
    assert_string_equal(json_string_value(json_object_get(r, "health")), "ok");
    assert_true(json_is_false(json_object_get(r, "noData")));
    assert_true(json_is_null(json_object_get(r, "why")) || !json_object_get(r, "why"));
    assert_near(json_number_value(json_object_get(r, "interval")), 1.0, 1e-9);
    assert_near(json_number_value(json_object_get(r, "duration")), 0.0, 1e-9);
    assert_string_equal(json_string_value(json_object_get(r, "lastEvaluation")), "2026-01-01T00:00:02.000Z");
    assert_near(json_number_value(json_object_get(r, "dataAge")), 2.5, 1e-9);
    assert_string_equal(json_string_value(json_object_get(r, "current")), "7");
    assert_string_equal(json_string_value(json_object_get(r, "threshold")), "> 5");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "labels"), "team")), "growth");
    json_t *alerts = json_object_get(r, "alerts");
    assert_int_equal(json_array_size(alerts), 1);
    json_t *a = json_array_get(alerts, 0);
    json_t *labels = json_object_get(a, "labels");
    assert_string_equal(json_string_value(json_object_get(labels, "severity")), "page");
    assert_string_equal(json_string_value(json_object_get(labels, "instance")), INST_A);
    assert_string_equal(json_string_value(json_object_get(labels, "job")), "marketing");
    assert_null(json_object_get(labels, "__name__"));
    assert_true(json_is_string(json_object_get(a, "value")));
    assert_string_equal(json_string_value(json_object_get(a, "value")), "7");
    assert_string_equal(json_string_value(json_object_get(a, "state")), "firing");
    assert_string_equal(json_string_value(json_object_get(a, "activeAt")), "2026-01-01T00:00:02.000Z");
    assert_true(json_is_null(json_object_get(a, "resolvedAt")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "annotations"), "summary")),
                        INST_A " is at 7");
    json_decref(root);
    free(js);
    snap_free(&s);

    /* the target fails: noData with its why, the alert still firing */
    ruleng_scrape_failed(e, 0, "connection refused", T0 + 3 * SEC, 3);
    ruleng_eval(e, T0 + 3 * SEC);
    s = views(e);
    js = rule_views_json(s.r, s.nr, T0 + 3 * SEC);
    root = json_loads(js, 0, &jerr);
    assert_non_null(root);
    r = json_array_get(root, 0);
    assert_true(json_is_true(json_object_get(r, "noData")));
    assert_string_equal(json_string_value(json_object_get(r, "why")),
                        "scrape of " INST_A " failed: connection refused");
    assert_string_equal(json_string_value(json_object_get(r, "state")), "firing");
    json_decref(root);
    free(js);
    snap_free(&s);
    ruleng_free(&e);

    /* never evaluated: health unknown, no current */
    e = engine(rules_labels, urls_a, 1);
    s = views(e);
    js = rule_views_json(s.r, s.nr, T0);
    root = json_loads(js, 0, &jerr);
    assert_non_null(root);
    r = json_array_get(root, 0);
    assert_string_equal(json_string_value(json_object_get(r, "health")), "unknown");
    assert_true(json_is_null(json_object_get(r, "current")));
    assert_true(json_is_null(json_object_get(r, "lastEvaluation")));
    assert_true(json_is_null(json_object_get(r, "dataAge")));
    json_decref(root);
    free(js);
    snap_free(&s);
    ruleng_free(&e);
}

/* rule_views_copy is deep: the copy outlives the original */
static void test_views_copy(void **state)
{
    (void)state;
    struct ruleng *e = engine(rules_labels, urls_a, 1);
    scrape_gauge(e, 0, T0, 9);
    ruleng_eval(e, T0);
    struct snap s = views(e);
    struct rule_view *c = rule_views_copy(s.r, s.nr);
    size_t nc = s.nr;
    assert_non_null(c);
    assert_ptr_not_equal(c[0].name, s.r[0].name);
    assert_ptr_not_equal(c[0].alerts, s.r[0].alerts);
    snap_free(&s);
    ruleng_free(&e);
    assert_string_equal(c[0].name, "Labelled");
    assert_int_equal(c[0].n_alerts, 1);
    assert_string_equal(alert_view_label(&c[0].alerts[0], "team"), "growth");
    assert_null(alert_view_label(&c[0].alerts[0], "nope"));
    assert_string_equal(c[0].alerts[0].summary, INST_A " is at 9");
    rule_views_free(&c, &nc);
    assert_null(c);
    assert_int_equal(nc, 0);
    assert_null(rule_views_copy(NULL, 0));
}

/* ---- 11. runbooks ---- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_runbooks(void **state)
{
    (void)state;
    char tmp_root[64];
    snprintf(tmp_root, sizeof tmp_root, "/tmp/test_ruleng.XXXXXX");
    assert_non_null(mkdtemp(tmp_root));
    char path[256], sub[200];
    snprintf(path, sizeof path, "%s/local-book.md", tmp_root);
    write_file(path, "# Local Book\nRestart the sender.\n");
    snprintf(path, sizeof path, "%s/.hidden.md", tmp_root);
    write_file(path, "# Hidden\n");
    snprintf(sub, sizeof sub, "%s/sub", tmp_root);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(path, sizeof path, "%s/sub/x.md", tmp_root);
    write_file(path, "# Sub\n");

    static const char text[] =
        "groups:\n"
        "  - name: g\n"
        "    interval: 1s\n"
        "    rules:\n"
        "      - alert: Shipped\n"
        "        expr: up_metric > 5\n"
        "        annotations:\n"
        "          runbook: campaign-not-sending\n"
        "      - alert: Local\n"
        "        expr: up_metric > 5\n"
        "        annotations:\n"
        "          runbook: local-book\n"
        "      - alert: Hidden\n"
        "        expr: up_metric > 5\n"
        "        annotations:\n"
        "          runbook: .hidden\n"
        "      - alert: Slash\n"
        "        expr: up_metric > 5\n"
        "        annotations:\n"
        "          runbook: sub/x\n"
        "      - alert: Url\n"
        "        expr: up_metric > 5\n"
        "        annotations:\n"
        "          runbook: https://wiki.example.com/runbooks/x\n"
        "      - alert: Missing\n"
        "        expr: up_metric > 5\n"
        "        annotations:\n"
        "          runbook: not-there\n";
    struct ruleng *e = engine_q(text, urls_a, 1, NULL, 0, tmp_root);
    struct snap s = views(e);
    assert_int_equal(s.nr, 6);
    const struct rule_view *r = rule_in(&s, "Shipped");
    assert_string_equal(r->runbook, "campaign-not-sending");
    assert_non_null(r->runbook_text);
    assert_non_null(strstr(r->runbook_text, "# Campaign Not Sending"));
    assert_non_null(strstr(r->runbook_text, "kubectl scale deployment campaign-worker --replicas=10"));
    r = rule_in(&s, "Local");
    assert_string_equal(r->runbook, "local-book");
    assert_string_equal(r->runbook_text, "# Local Book\nRestart the sender.\n");
    r = rule_in(&s, "Hidden");
    assert_string_equal(r->runbook, ".hidden");
    assert_null(r->runbook_text);
    r = rule_in(&s, "Slash");
    assert_string_equal(r->runbook, "sub/x");
    assert_null(r->runbook_text);
    r = rule_in(&s, "Url");
    assert_null(r->runbook_text);
    r = rule_in(&s, "Missing");
    assert_string_equal(r->runbook, "not-there");
    assert_null(r->runbook_text);
    /* and the JSON names it */
    char *js = rule_views_json(s.r, s.nr, T0);
    json_t *root = json_loads(js, 0, NULL);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(json_array_get(root, 1), "runbook")), "local-book");
    json_decref(root);
    free(js);
    snap_free(&s);
    ruleng_free(&e);

    /* without a runbook_dir only the shipped ones are found */
    e = engine_q(text, urls_a, 1, NULL, 0, NULL);
    s = views(e);
    assert_non_null(rule_in(&s, "Shipped")->runbook_text);
    assert_null(rule_in(&s, "Local")->runbook_text);
    snap_free(&s);
    ruleng_free(&e);

    snprintf(path, sizeof path, "%s/sub/x.md", tmp_root);
    unlink(path);
    rmdir(sub);
    snprintf(path, sizeof path, "%s/.hidden.md", tmp_root);
    unlink(path);
    snprintf(path, sizeof path, "%s/local-book.md", tmp_root);
    unlink(path);
    rmdir(tmp_root);
}

/* ---- ruleng_read_rules and ruleng_from_config ---- */

static void test_read_rules_and_config(void **state)
{
    (void)state;
    char root[64], path[256], rb[256], err[512], dir[512];
    snprintf(root, sizeof root, "/tmp/test_ruleng.XXXXXX");
    assert_non_null(mkdtemp(root));
    snprintf(path, sizeof path, "%s/runbooks", root);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(rb, sizeof rb, "%s/runbooks/my-book.md", root);
    write_file(rb, "# My Book\n");
    static const char text[] =
        "groups:\n"
        "  - name: g\n"
        "    interval: 1s\n"
        "    rules:\n"
        "      - alert: Mine\n"
        "        expr: up_metric > 5\n"
        "        annotations:\n"
        "          runbook: my-book\n";
    snprintf(path, sizeof path, "%s/my.rules.yml", root);
    write_file(path, text);

    char *t;
    size_t len;
    assert_int_equal(ruleng_read_rules(path, &t, &len, dir, sizeof dir, err, sizeof err), 0);
    assert_int_equal(len, strlen(text));
    assert_string_equal(t, text);
    char want_dir[300];
    snprintf(want_dir, sizeof want_dir, "%s/runbooks", root);
    assert_string_equal(dir, want_dir);
    free(t);
    assert_int_equal(ruleng_read_rules(NULL, &t, &len, dir, sizeof dir, err, sizeof err), 0);
    assert_string_equal(dir, "");
    assert_int_equal(len, strlen(t));
    assert_non_null(strstr(t, "groups:"));
    free(t);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/nope.yml", root);
    assert_int_equal(ruleng_read_rules(missing, &t, &len, dir, sizeof dir, err, sizeof err), -1);
    assert_non_null(strstr(err, missing));
    assert_int_equal(ruleng_read_rules(root, &t, &len, dir, sizeof dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a regular file"));

    struct config cfg;
    struct config_errors errs = { 0 };
    config_init(&cfg);
    /* no metrics_url: nothing to evaluate */
    assert_null(ruleng_from_config(&cfg, NULL, 0, &errs));
    assert_int_equal(errs.n, 1);
    assert_non_null(strstr(errs.msg[0], "no metrics_url"));
    config_errors_free(&errs);
    assert_int_equal(config_set(&cfg, config_find("metrics_url"), URL_A ", " URL_B, "test", err, sizeof err), 0);
    /* the shipped rules */
    struct ruleng *e = ruleng_from_config(&cfg, NULL, 0, &errs);
    assert_non_null(e);
    struct snap s = views(e);
    assert_int_equal(s.nr, 4);
    ruleng_eval(e, T0);
    snap_free(&s);
    s = views(e);
    assert_string_equal(s.r[0].why, "waiting for the first scrape of " INST_A);
    snap_free(&s);
    ruleng_free(&e);
    /* the file, and its runbook beside it */
    assert_int_equal(config_set(&cfg, config_find("rule_file"), path, "test", err, sizeof err), 0);
    static const char *const q[] = { "up_metric" };
    e = ruleng_from_config(&cfg, q, 1, &errs);
    assert_non_null(e);
    assert_int_equal(errs.n, 0);
    s = views(e);
    assert_int_equal(s.nr, 1);
    assert_int_equal(s.nq, 1);
    assert_string_equal(s.r[0].name, "Mine");
    assert_string_equal(s.r[0].runbook_text, "# My Book\n");
    snap_free(&s);
    scrape_gauge(e, 0, T0, 9);
    scrape_gauge(e, 1, T0, 9);
    ruleng_eval(e, T0);
    s = views(e);
    assert_int_equal(s.r[0].n_alerts, 2);
    snap_free(&s);
    ruleng_free(&e);
    /* a file that is not there */
    assert_int_equal(config_set(&cfg, config_find("rule_file"), missing, "test", err, sizeof err), 0);
    assert_null(ruleng_from_config(&cfg, NULL, 0, &errs));
    assert_int_equal(errs.n, 1);
    assert_non_null(strstr(errs.msg[0], "rule_file "));
    assert_non_null(strstr(errs.msg[0], missing));
    config_errors_free(&errs);
    config_free(&cfg);

    unlink(rb);
    unlink(path);
    snprintf(path, sizeof path, "%s/runbooks", root);
    rmdir(path);
    rmdir(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pending_firing_resolved),
        cmocka_unit_test(test_group_interval),
        cmocka_unit_test(test_every_round_off_again),
        cmocka_unit_test(test_failed_scrape),
        cmocka_unit_test(test_failed_scrape_pending_does_not_fire),
        cmocka_unit_test(test_before_first_scrape),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_queries),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_views_copy),
        cmocka_unit_test(test_runbooks),
        cmocka_unit_test(test_read_rules_and_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
