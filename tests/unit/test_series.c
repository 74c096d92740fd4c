/* Rates resampled from a cumulative counter. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "series.h"

static void test_steady_rate(void **state)
{
    (void)state;
    struct counter_series s;
    counter_series_init(&s, 3600000);
    /* 10 per second, sampled every 2 s for 100 s */
    for (int i = 0; i <= 50; i++)
        counter_series_add(&s, 1000000 + i * 2000, i * 20.0);
    double out[10];
    counter_series_rates(&s, 1100000, 50000, 10, out);
    for (int i = 0; i < 10; i++)
        assert_true(fabs(out[i] - 10.0) < 1e-9);
    /* before the first sample: no data, not zero */
    counter_series_rates(&s, 1010000, 20000, 4, out);
    assert_true(isnan(out[0]) && isnan(out[1]));
    assert_true(fabs(out[3] - 10.0) < 1e-9);
    counter_series_free(&s);
}

static void test_interpolates_between_sparse_samples(void **state)
{
    (void)state;
    struct counter_series s;
    counter_series_init(&s, 3600000);
    counter_series_add(&s, 0, 0);
    counter_series_add(&s, 10000, 100);   /* 10/s */
    counter_series_add(&s, 20000, 100);   /* paused: 0/s */
    counter_series_add(&s, 20000, 500);   /* not newer: ignored */
    double out[4];
    counter_series_rates(&s, 20000, 20000, 4, out);
    assert_true(fabs(out[0] - 10.0) < 1e-9 && fabs(out[1] - 10.0) < 1e-9);
    assert_true(out[2] == 0.0 && out[3] == 0.0);
    counter_series_free(&s);
}

static void test_decrease_and_pruning(void **state)
{
    (void)state;
    struct counter_series s;
    counter_series_init(&s, 10000);
    counter_series_add(&s, 0, 50);
    counter_series_add(&s, 5000, 10);     /* went down: no rate there */
    double out[1];
    counter_series_rates(&s, 5000, 5000, 1, out);
    assert_true(isnan(out[0]));
    for (int i = 2; i < 100; i++)
        counter_series_add(&s, i * 5000, 10.0 * i);
    assert_true(s.n <= 4); /* only ~10 s kept */
    counter_series_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steady_rate),
        cmocka_unit_test(test_interpolates_between_sparse_samples),
        cmocka_unit_test(test_decrease_and_pruning),
    };
    return cmocka_run_group_tests_name("series", tests, NULL, NULL);
}
