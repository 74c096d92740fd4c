/* Per-campaign rates, ETAs and derived states from snapshots. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sendrate.h"

static char id1[] = "cmp_1", st_active[] = "active", st_paused[] = "paused";

static struct campaign camp(int64_t sent, int64_t bad, int64_t audience, int limit, char *status)
{
    struct campaign c;
    memset(&c, 0, sizeof c);
    c.id = id1;
    c.status = status;
    c.sent = sent;
    c.failed = bad;
    c.audience = audience;
    c.rate_limit = limit;
    return c;
}

static int64_t last_t; /* "now" for the lookups: the newest snapshot */

static void feed(struct rate_tracker *t, struct campaign c, int64_t t_ms)
{
    struct campaign_list l = { &c, 1, 0, t_ms };
    rate_tracker_update(t, &l);
    last_t = t_ms;
}

static void test_rate_eta_and_throttled(void **state)
{
    (void)state;
    struct rate_tracker *t = rate_tracker_new(30000, 30000);
    struct campaign c = camp(0, 0, 10000, 600, st_active);
    assert_int_equal(rate_tracker_get(t, &c, last_t).state, SEND_UNKNOWN);
    /* 10 per second = 600 per minute, exactly the limit */
    for (int s = 0; s <= 20; s++) {
        c = camp(s * 10, 0, 10000, 600, st_active);
        feed(t, c, 1000000 + s * 1000);
    }
    struct campaign_rate r = rate_tracker_get(t, &c, last_t);
    assert_true(fabs(r.per_min - 600.0) < 1e-9);
    assert_int_equal(r.state, SEND_THROTTLED);
    assert_true(fabs(r.eta_s - (10000 - 200) / 10.0) < 1e-9);
    /* the same limit but half the pace: sending, not throttled */
    struct campaign c2 = camp(200, 0, 10000, 1200, st_active);
    assert_int_equal(rate_tracker_get(t, &c2, last_t).state, SEND_SENDING);
    rate_tracker_free(&t);
    assert_null(t);
}

static void test_window_uses_recent_samples(void **state)
{
    (void)state;
    struct rate_tracker *t = rate_tracker_new(10000, 60000);
    /* fast for 30 s, then slow: the 10 s window sees only the slow part */
    int64_t sent = 0;
    struct campaign c;
    for (int s = 0; s <= 40; s++) {
        sent += s <= 30 ? 100 : 1;
        c = camp(sent, 0, 1000000, 100000, st_active);
        feed(t, c, s * 1000);
    }
    struct campaign_rate r = rate_tracker_get(t, &c, last_t);
    assert_true(fabs(r.per_min - 60.0) < 1e-9);
    rate_tracker_free(&t);
}

static void test_stalled_and_erroring(void **state)
{
    (void)state;
    struct rate_tracker *t = rate_tracker_new(30000, 20000);
    struct campaign c;
    for (int s = 0; s <= 25; s++) {
        c = camp(500, 0, 1000, 600, st_active);
        feed(t, c, s * 1000);
    }
    struct campaign_rate r = rate_tracker_get(t, &c, last_t);
    assert_int_equal(r.state, SEND_STALLED);
    assert_true(r.per_min == 0.0);
    assert_true(isnan(r.eta_s));
    rate_tracker_free(&t);

    t = rate_tracker_new(30000, 20000);
    for (int s = 0; s <= 10; s++) {
        c = camp(500 + s * 90, s * 10, 100000, 60000, st_active); /* 10% bad */
        feed(t, c, s * 1000);
    }
    assert_int_equal(rate_tracker_get(t, &c, last_t).state, SEND_ERRORING);
    rate_tracker_free(&t);
}

static void test_not_active_and_forgetting(void **state)
{
    (void)state;
    struct rate_tracker *t = rate_tracker_new(30000, 30000);
    struct campaign c = camp(10, 0, 100, 60, st_active);
    feed(t, c, 0);
    c = camp(20, 0, 100, 60, st_active);
    feed(t, c, 5000);
    c = camp(20, 0, 100, 60, st_paused);
    feed(t, c, 6000);
    struct campaign_rate r = rate_tracker_get(t, &c, last_t);
    assert_int_equal(r.state, SEND_IDLE);
    assert_true(isnan(r.per_min));
    /* active again: history starts afresh */
    c = camp(20, 0, 100, 60, st_active);
    feed(t, c, 7000);
    assert_int_equal(rate_tracker_get(t, &c, last_t).state, SEND_UNKNOWN);
    /* counters that go back give no rate, never a negative one */
    c = camp(5, 0, 100, 60, st_active);
    feed(t, c, 9000);
    r = rate_tracker_get(t, &c, last_t);
    assert_true(isnan(r.per_min));
    assert_string_equal(send_state_name(SEND_THROTTLED), "throttled");
    /* no new data for longer than the window: no rate, not a frozen one */
    c = camp(30, 0, 100, 60, st_active);
    feed(t, c, 12000);
    assert_false(isnan(rate_tracker_get(t, &c, 12000).per_min));
    assert_true(isnan(rate_tracker_get(t, &c, 12000 + 31000).per_min));
    rate_tracker_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_eta_and_throttled),
        cmocka_unit_test(test_window_uses_recent_samples),
        cmocka_unit_test(test_stalled_and_erroring),
        cmocka_unit_test(test_not_active_and_forgetting),
    };
    return cmocka_run_group_tests_name("sendrate", tests, NULL, NULL);
}
