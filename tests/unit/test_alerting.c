/* Alert states step by step, each expectation worked out from
 * Prometheus's rules/alerting.go: pending, firing after `for`, resolved and
 * kept 15 minutes, keep_firing_for, a pending alert that goes away, one
 * that comes back, and "no data" freezing everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alerting.h"

#define MIN 60000

static char k_name[] = "__name__", v_name[] = "http_requests_total", k_inst[] = "instance",
            v_inst[] = "api-1", k_sev[] = "severity", v_sev_series[] = "from-series",
            v_sev_rule[] = "critical", k_sum[] = "summary", v_sum[] = "{{ $labels.instance }} at {{ $value }}";

static struct rule_pair series_labels[] = { { k_name, v_name }, { k_inst, v_inst }, { k_sev, v_sev_series } };
static struct rule_pair rule_labels[] = { { k_sev, v_sev_rule } };
static struct rule_pair rule_annots[] = { { k_sum, v_sum } };

static struct alert_rule make_rule(int64_t for_ms, int64_t keep_ms)
{
    static char name[] = "HighErrorRate", expr[] = "x > 0.05";
    struct alert_rule r = { .name = name, .expr = expr, .for_ms = for_ms, .keep_firing_for_ms = keep_ms,
                            .labels = rule_labels, .n_labels = 1, .annotations = rule_annots,
                            .n_annotations = 1 };
    return r;
}

static void eval(struct alert_rule_state *s, bool present, double v, int64_t t)
{
    struct alert_input in = { series_labels, 3, v };
    assert_int_equal(alert_update(s, present ? &in : NULL, present ? 1 : 0, t), 0);
}

static void test_pending_firing_resolved(void **state)
{
    (void)state;
    struct alert_rule r = make_rule(5 * MIN, 0);
    struct alert_rule_state s;
    alert_rule_state_init(&s, &r);
    eval(&s, true, 0.07, 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].state, ALERT_PENDING);
    assert_int_equal(s.v[0].active_at_ms, 0);
    /* labels: __name__ gone, the rule's severity over the series' one,
     * alertname added (as Prometheus does), sorted */
    assert_int_equal(s.v[0].n_labels, 3);
    assert_string_equal(s.v[0].labels[0].name, "alertname");
    assert_string_equal(s.v[0].labels[0].value, "HighErrorRate");
    assert_string_equal(s.v[0].labels[1].name, "instance");
    assert_string_equal(s.v[0].labels[2].value, "critical");
    assert_string_equal(s.v[0].summary, "api-1 at 0.07");
    eval(&s, true, 0.08, 4 * MIN);       /* 4m < 5m: still pending */
    assert_int_equal(s.v[0].state, ALERT_PENDING);
    eval(&s, true, 0.09, 5 * MIN);       /* 5m >= 5m: firing now */
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    assert_int_equal(s.v[0].fired_at_ms, 5 * MIN);
    assert_true(s.v[0].value == 0.09);
    assert_string_equal(s.v[0].summary, "api-1 at 0.09");
    assert_int_equal(alert_rule_overall(&s), ALERT_FIRING);
    eval(&s, false, 0, 6 * MIN);         /* gone: resolved at 6m, kept */
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].state, ALERT_INACTIVE);
    assert_int_equal(s.v[0].resolved_at_ms, 6 * MIN);
    assert_int_equal(alert_rule_overall(&s), ALERT_INACTIVE);
    eval(&s, false, 0, 21 * MIN);        /* 15m after: not more than the retention yet */
    assert_int_equal(s.n, 1);
    eval(&s, false, 0, 21 * MIN + 1);    /* now it is: dropped */
    assert_int_equal(s.n, 0);
    alert_rule_state_free(&s);
}

static void test_keep_firing_for(void **state)
{
    (void)state;
    struct alert_rule r = make_rule(0, 2 * MIN);
    struct alert_rule_state s;
    alert_rule_state_init(&s, &r);
    eval(&s, true, 1, 0);                /* for 0: firing at the first evaluation */
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    eval(&s, false, 0, 1 * MIN);         /* gone: keeps firing since 1m */
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    assert_int_equal(s.v[0].keep_firing_since_ms, 1 * MIN);
    eval(&s, false, 0, 2 * MIN);         /* 1m < 2m */
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    eval(&s, true, 1, 2 * MIN + 30000);  /* back: the clock restarts */
    assert_int_equal(s.v[0].keep_firing_since_ms, 0);
    eval(&s, false, 0, 3 * MIN);
    eval(&s, false, 0, 5 * MIN);         /* 2m since 3m: not < 2m, resolved */
    assert_int_equal(s.v[0].state, ALERT_INACTIVE);
    assert_int_equal(s.v[0].resolved_at_ms, 5 * MIN);
    alert_rule_state_free(&s);
}

static void test_pending_goes_and_comes_back(void **state)
{
    (void)state;
    struct alert_rule r = make_rule(5 * MIN, 0);
    struct alert_rule_state s;
    alert_rule_state_init(&s, &r);
    eval(&s, true, 1, 0);
    eval(&s, false, 0, 1 * MIN);         /* a pending alert that goes is dropped */
    assert_int_equal(s.n, 0);
    eval(&s, true, 1, 2 * MIN);          /* and starts over */
    assert_int_equal(s.v[0].active_at_ms, 2 * MIN);
    eval(&s, true, 1, 7 * MIN);
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    eval(&s, false, 0, 8 * MIN);         /* resolved */
    eval(&s, true, 1, 9 * MIN);          /* back after being resolved: pending again */
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].state, ALERT_PENDING);
    assert_int_equal(s.v[0].active_at_ms, 9 * MIN);
    assert_int_equal(s.v[0].resolved_at_ms, 0);
    alert_rule_state_free(&s);
}

static void test_no_data_freezes(void **state)
{
    (void)state;
    struct alert_rule r = make_rule(5 * MIN, 0);
    struct alert_rule_state s;
    alert_rule_state_init(&s, &r);
    eval(&s, true, 1, 0);
    eval(&s, true, 1, 5 * MIN);
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    alert_no_data(&s, "scrape of http://api-1/metrics failed: connection refused", 6 * MIN);
    assert_true(s.no_data);
    assert_int_equal(s.v[0].state, ALERT_FIRING);   /* not resolved by a dead target */
    assert_int_equal(s.last_eval_ms, 6 * MIN);
    assert_non_null(strstr(s.why, "connection refused"));
    eval(&s, true, 1, 7 * MIN);
    assert_false(s.no_data);
    assert_int_equal(s.v[0].fired_at_ms, 5 * MIN);  /* the same alert, still firing */
    alert_rule_state_free(&s);
}

static void test_two_series(void **state)
{
    (void)state;
    struct alert_rule r = make_rule(0, 0);
    struct alert_rule_state s;
    alert_rule_state_init(&s, &r);
    char i2[] = "api-2";
    struct rule_pair other[] = { { k_inst, i2 } };
    struct alert_input in[2] = { { series_labels, 3, 1 }, { other, 1, 2 } };
    assert_int_equal(alert_update(&s, in, 2, 0), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(alert_update(&s, &in[1], 1, MIN), 0); /* api-1 goes, api-2 stays */
    assert_int_equal(s.n, 2);
    int firing = 0, resolved = 0;
    for (size_t i = 0; i < s.n; i++) {
        firing += s.v[i].state == ALERT_FIRING;
        resolved += s.v[i].state == ALERT_INACTIVE;
    }
    assert_int_equal(firing, 1);
    assert_int_equal(resolved, 1);
    assert_string_equal(alert_state_name(ALERT_PENDING), "pending");
    alert_rule_state_free(&s);
}

/* ---- alert_update_partial: a scrape failed, the data is not whole ---- */

static void eval_partial(struct alert_rule_state *s, bool present, double v, int64_t t, const char *why)
{
    struct alert_input in = { series_labels, 3, v };
    assert_int_equal(alert_update_partial(s, present ? &in : NULL, present ? 1 : 0, t, why), 0);
}

static void test_partial_keeps_unseen_firing(void **state)
{
    (void)state;
    struct alert_rule r = make_rule(5 * MIN, 0);
    struct alert_rule_state s;
    alert_rule_state_init(&s, &r);
    eval(&s, true, 1, 0);
    eval(&s, true, 2, 5 * MIN);
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    /* unseen while the data is partial: neither resolved nor dropped */
    eval_partial(&s, false, 0, 6 * MIN, "scrape of api-1:80 failed: connection refused");
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    assert_int_equal(s.v[0].fired_at_ms, 5 * MIN);
    assert_int_equal(s.v[0].resolved_at_ms, 0);
    assert_true(s.v[0].value == 2);              /* the last value seen */
    assert_true(s.no_data);
    assert_string_equal(s.why, "scrape of api-1:80 failed: connection refused");
    assert_int_equal(s.last_eval_ms, 6 * MIN);
    assert_int_equal(alert_rule_overall(&s), ALERT_FIRING);
    /* long after the resolved retention: still not touched */
    eval_partial(&s, false, 0, 30 * MIN, NULL);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    assert_string_equal(s.why, "no data");       /* why NULL */
    /* whole data again, and it is gone: resolved now */
    eval(&s, false, 0, 31 * MIN);
    assert_false(s.no_data);
    assert_string_equal(s.why, "");
    assert_int_equal(s.v[0].state, ALERT_INACTIVE);
    assert_int_equal(s.v[0].resolved_at_ms, 31 * MIN);
    alert_rule_state_free(&s);
}

static void test_partial_seen_series_count(void **state)
{
    (void)state;
    struct alert_rule r = make_rule(2 * MIN, 0);
    struct alert_rule_state s;
    alert_rule_state_init(&s, &r);
    char i2[] = "api-2";
    struct rule_pair other[] = { { k_inst, i2 } };
    struct alert_input in2 = { other, 1, 3 };
    /* api-1 fires on whole data */
    eval(&s, true, 1, 0);
    eval(&s, true, 1, 2 * MIN);
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    /* api-1's target fails; api-2 appears: pending from now, as Prometheus */
    assert_int_equal(alert_update_partial(&s, &in2, 1, 3 * MIN, "partial"), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.v[1].state, ALERT_PENDING);
    assert_int_equal(s.v[1].active_at_ms, 3 * MIN);
    assert_true(s.v[1].value == 3);
    assert_string_equal(s.v[1].summary, "api-2 at 3");
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    /* still partial, and `for` has passed for api-2: it fires */
    in2.value = 4;
    assert_int_equal(alert_update_partial(&s, &in2, 1, 5 * MIN, "partial"), 0);
    assert_int_equal(s.v[1].state, ALERT_FIRING);
    assert_int_equal(s.v[1].fired_at_ms, 5 * MIN);
    assert_true(s.v[1].value == 4);
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    assert_int_equal(s.v[0].fired_at_ms, 2 * MIN);
    /* a seen firing alert keeps firing under partial data too */
    struct alert_input both[2] = { { series_labels, 3, 7 }, { other, 1, 5 } };
    assert_int_equal(alert_update_partial(&s, both, 2, 6 * MIN, "partial"), 0);
    assert_int_equal(s.n, 2);
    assert_true(s.v[0].value == 7);
    assert_int_equal(s.v[0].fired_at_ms, 2 * MIN);
    alert_rule_state_free(&s);
}

static void test_partial_keeps_resolved_and_keep_firing(void **state)
{
    (void)state;
    struct alert_rule r = make_rule(0, 2 * MIN);
    struct alert_rule_state s;
    alert_rule_state_init(&s, &r);
    eval(&s, true, 1, 0);
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    /* partial: keep_firing_for does not start counting on what is unseen */
    eval_partial(&s, false, 0, 1 * MIN, "partial");
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    assert_int_equal(s.v[0].keep_firing_since_ms, 0);
    /* whole: gone, keeps firing for 2m from 4m */
    eval(&s, false, 0, 4 * MIN);
    assert_int_equal(s.v[0].keep_firing_since_ms, 4 * MIN);
    eval(&s, false, 0, 6 * MIN);
    assert_int_equal(s.v[0].state, ALERT_INACTIVE);
    assert_int_equal(s.v[0].resolved_at_ms, 6 * MIN);
    /* a resolved alert unseen under partial data stays resolved, same time */
    eval_partial(&s, false, 0, 7 * MIN, "partial");
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].state, ALERT_INACTIVE);
    assert_int_equal(s.v[0].resolved_at_ms, 6 * MIN);
    /* back under partial data: pending again from now (for 0: firing) */
    eval_partial(&s, true, 1, 8 * MIN, "partial");
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].active_at_ms, 8 * MIN);
    assert_int_equal(s.v[0].resolved_at_ms, 0);
    assert_int_equal(s.v[0].state, ALERT_FIRING);
    alert_rule_state_free(&s);
}

/* An unseen pending alert keeps its state: pending. Nothing says its
 * condition still holds, so the clock alone must not make it fire. */
static void test_partial_unseen_pending_does_not_fire(void **state)
{
    (void)state;
    struct alert_rule r = make_rule(5 * MIN, 0);
    struct alert_rule_state s;
    alert_rule_state_init(&s, &r);
    eval(&s, true, 1, 0);
    assert_int_equal(s.v[0].state, ALERT_PENDING);
    eval_partial(&s, false, 0, 1 * MIN, "partial");
    assert_int_equal(s.n, 1);                   /* not dropped */
    assert_int_equal(s.v[0].state, ALERT_PENDING);
    eval_partial(&s, false, 0, 6 * MIN, "partial");   /* 6m >= for, but unseen */
    assert_int_equal(s.n, 1);
    if (s.v[0].state != ALERT_PENDING || s.v[0].fired_at_ms != 0) {
        enum alert_state st = s.v[0].state;
        long long fired = (long long)s.v[0].fired_at_ms;
        alert_rule_state_free(&s);
        fail_msg("unseen under partial data, the pending alert went %s at %lld ms", alert_state_name(st),
                 fired);
    }
    /* whole data, still gone: a pending alert is dropped */
    eval(&s, false, 0, 7 * MIN);
    assert_int_equal(s.n, 0);
    alert_rule_state_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pending_firing_resolved), cmocka_unit_test(test_keep_firing_for),
        cmocka_unit_test(test_pending_goes_and_comes_back), cmocka_unit_test(test_no_data_freezes),
        cmocka_unit_test(test_two_series), cmocka_unit_test(test_partial_keeps_unseen_firing),
        cmocka_unit_test(test_partial_seen_series_count),
        cmocka_unit_test(test_partial_keeps_resolved_and_keep_firing),
        cmocka_unit_test(test_partial_unseen_pending_does_not_fire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
