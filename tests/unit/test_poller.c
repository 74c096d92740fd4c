/* The poller's arithmetic without a network: what a scrape yields, and
 * rates with Prometheus's counter semantics (resets, new series, NaN and
 * Inf, the interval). Also the options poller_start refuses. */
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

#include "poller.h"

#define assert_near(a, b)                                                                  \
    do {                                                                                   \
        double a_ = (a), b_ = (b);                                                         \
        if (!(fabs(a_ - b_) <= 1e-9 * fmax(1.0, fabs(b_))))                                \
            fail_msg("%s = %.17g, want %.17g", #a, a_, b_);                                \
    } while (0)

static char err[512];

static struct poll_scrape *scrape(const char *text)
{
    err[0] = '\0';
    struct poll_scrape *s = poll_scrape_parse(text, strlen(text), err, sizeof err);
    if (!s)
        fail_msg("parse failed: %s", err);
    return s;
}

static const char demo1[] =
    "# TYPE http_requests_total counter\n"
    "http_requests_total{method=\"GET\",path=\"/metrics\",status=\"200\"} 10\n"
    "http_requests_total{method=\"GET\",path=\"/health\",status=\"503\"} 2\n"
    "http_requests_total{method=\"GET\",path=\"other\",status=\"404\"} 1\n"
    "# TYPE http_request_duration_seconds histogram\n"
    "http_request_duration_seconds_bucket{method=\"GET\",path=\"/metrics\",le=\"+Inf\"} 10\n"
    "http_request_duration_seconds_sum{method=\"GET\",path=\"/metrics\"} 0.01\n"
    "http_request_duration_seconds_count{method=\"GET\",path=\"/metrics\"} 10\n"
    "database_connections_active 4\n"
    "database_connections_max 100\n"
    "emails_sent_total 1000\n"
    "emails_opened_total 300\n"
    "emails_clicked_total 45\n"
    "emails_failed_total 5\n"
    "emails_bounced_total 10\n";

static void test_increase(void **state)
{
    (void)state;
    assert_near(poll_increase(10, 15), 5);
    assert_near(poll_increase(10, 10), 0);
    assert_near(poll_increase(10, 3), 3);    /* reset: the new value, never negative */
    assert_near(poll_increase(10, 0), 0);
    assert_true(isnan(poll_increase(NAN, 5)));
    assert_true(isnan(poll_increase(5, NAN)));
    assert_true(isnan(poll_increase(INFINITY, INFINITY)));
    assert_true(isnan(poll_increase(5, -INFINITY)));
}

static void test_scrape_totals(void **state)
{
    (void)state;
    struct poll_scrape *s = scrape(demo1);
    assert_near(s->total[POLL_SENT], 1000);
    assert_near(s->total[POLL_OPENED], 300);
    assert_near(s->total[POLL_CLICKED], 45);
    assert_near(s->total[POLL_FAILED], 5);
    assert_near(s->total[POLL_BOUNCED], 10);
    assert_near(s->total[POLL_HTTP], 13);
    assert_near(s->total[POLL_HTTP_5XX], 2);
    assert_near(s->gauge[POLL_DB_ACTIVE], 4);
    assert_near(s->gauge[POLL_DB_MAX], 100);
    for (int k = 0; k < POLL_NCOUNTERS; k++)
        assert_true(s->present[k]);
    poll_scrape_free(&s);
    assert_null(s);

    /* absent metrics are NAN, not zero; no 5xx series with requests is zero */
    s = scrape("http_requests_total{status=\"200\"} 4\nunrelated 1\n");
    assert_false(s->present[POLL_SENT]);
    assert_true(isnan(s->total[POLL_SENT]));
    assert_true(isnan(s->gauge[POLL_DB_ACTIVE]));
    assert_true(s->present[POLL_HTTP_5XX]);
    assert_near(s->total[POLL_HTTP_5XX], 0);
    poll_scrape_free(&s);

    /* status=~"5..": exactly three characters starting with 5 */
    s = scrape("http_requests_total{status=\"500\"} 1\n"
               "http_requests_total{status=\"5xx\"} 2\n"
               "http_requests_total{status=\"50\"} 4\n"
               "http_requests_total{status=\"5000\"} 8\n"
               "http_requests_total{status=\"404\"} 16\n"
               "http_requests_total{code=\"500\"} 32\n"
               "http_requests_total{status=\"5\xc3\xa9x\"} 64\n");
    assert_near(s->total[POLL_HTTP_5XX], 1 + 2 + 64);
    assert_near(s->total[POLL_HTTP], 127);
    poll_scrape_free(&s);

    /* labelled gauges add up within a target */
    s = scrape("database_connections_active{pool=\"a\"} 3\ndatabase_connections_active{pool=\"b\"} 4\n");
    assert_near(s->gauge[POLL_DB_ACTIVE], 7);
    poll_scrape_free(&s);

    /* a malformed body names its line */
    err[0] = '\0';
    assert_null(poll_scrape_parse("emails_sent_total 1\nemails_opened_total\n", 40, err, sizeof err));
    assert_string_equal(err, "line 2: expected a value after the metric name");
}

static void test_rates(void **state)
{
    (void)state;
    struct poll_scrape *a = scrape(demo1);
    struct poll_scrape *b = scrape(
        "http_requests_total{method=\"GET\",path=\"/metrics\",status=\"200\"} 14\n"
        "http_requests_total{status=\"503\",path=\"/health\",method=\"GET\"} 6\n" /* labels reordered */
        "http_requests_total{method=\"GET\",path=\"other\",status=\"404\"} 1\n"
        "emails_sent_total 1200\n"
        "emails_opened_total 330\n"
        "emails_clicked_total 45\n"
        "emails_failed_total 5\n"
        "emails_bounced_total 2\n"); /* reset: 2 since the restart */
    double r[POLL_NCOUNTERS];
    poll_scrape_rates(a, b, 2000, r);
    assert_near(r[POLL_SENT], 100);
    assert_near(r[POLL_OPENED], 15);
    assert_near(r[POLL_CLICKED], 0);
    assert_near(r[POLL_FAILED], 0);
    assert_near(r[POLL_BOUNCED], 1);
    assert_near(r[POLL_HTTP], 4);
    assert_near(r[POLL_HTTP_5XX], 2);

    /* no previous scrape, no interval: unknown, never zero */
    poll_scrape_rates(NULL, b, 2000, r);
    for (int k = 0; k < POLL_NCOUNTERS; k++)
        assert_true(isnan(r[k]));
    poll_scrape_rates(a, b, 0, r);
    assert_true(isnan(r[POLL_SENT]));
    poll_scrape_rates(a, b, -5, r);
    assert_true(isnan(r[POLL_SENT]));
    poll_scrape_free(&a);
    poll_scrape_free(&b);
}

static void test_rates_per_series(void **state)
{
    (void)state;
    /* one series resets while another grows: the sum grows by less than the
     * true increase; per series it is right */
    struct poll_scrape *a = scrape("http_requests_total{status=\"500\",path=\"/a\"} 100\n"
                                   "http_requests_total{status=\"500\",path=\"/b\"} 10\n"
                                   "http_requests_total{status=\"200\",path=\"/gone\"} 50\n");
    struct poll_scrape *b = scrape("http_requests_total{status=\"500\",path=\"/a\"} 5\n"    /* reset: +5 */
                                   "http_requests_total{status=\"500\",path=\"/b\"} 110\n"  /* +100 */
                                   "http_requests_total{status=\"502\",path=\"/new\"} 7\n"); /* new: +7 */
    double r[POLL_NCOUNTERS];
    poll_scrape_rates(a, b, 1000, r);
    assert_near(r[POLL_HTTP_5XX], 112);
    assert_near(r[POLL_HTTP], 112); /* the vanished series adds nothing */
    /* the emails counters are in neither: unknown */
    assert_true(isnan(r[POLL_SENT]));
    poll_scrape_free(&a);
    poll_scrape_free(&b);

    /* a metric that appears counts from zero; one that goes is unknown */
    a = scrape("emails_opened_total 5\n");
    b = scrape("emails_sent_total 30\n");
    poll_scrape_rates(a, b, 3000, r);
    assert_near(r[POLL_SENT], 10);
    assert_true(isnan(r[POLL_OPENED]));
    poll_scrape_free(&a);
    poll_scrape_free(&b);
}

static void test_rates_nan_and_inf(void **state)
{
    (void)state;
    struct poll_scrape *a = scrape("emails_sent_total 10\nemails_opened_total NaN\nemails_clicked_total 1\n"
                                   "emails_failed_total +Inf\n");
    struct poll_scrape *b = scrape("emails_sent_total 20\nemails_opened_total 4\nemails_clicked_total NaN\n"
                                   "emails_failed_total +Inf\nemails_bounced_total -Inf\n");
    double r[POLL_NCOUNTERS];
    poll_scrape_rates(a, b, 1000, r);
    assert_near(r[POLL_SENT], 10);     /* the others do not spoil it */
    assert_true(isnan(r[POLL_OPENED]));
    assert_true(isnan(r[POLL_CLICKED]));
    assert_true(isnan(r[POLL_FAILED]));
    assert_true(isnan(r[POLL_BOUNCED])); /* new, but not a number */
    assert_true(isnan(b->total[POLL_CLICKED]));
    assert_true(isinf(b->total[POLL_FAILED]));
    poll_scrape_free(&a);
    poll_scrape_free(&b);
}

static void test_start_refuses_bad_options(void **state)
{
    (void)state;
    const char *urls[9] = { "http://a/", "http://b/", "http://c/", "http://d/", "http://e/",
                            "http://f/", "http://g/", "http://h/", "http://i/" };
    struct poller_opts o = { .metrics_urls = urls, .n_metrics = 9 };
    assert_null(poller_start(&o, -1, err, sizeof err));
    assert_string_equal(err, "at most 8 metrics targets (got 9)");
    const char *empty[2] = { "http://a/", "" };
    o = (struct poller_opts){ .metrics_urls = empty, .n_metrics = 2 };
    assert_null(poller_start(&o, -1, err, sizeof err));
    assert_string_equal(err, "metrics target 2 has no URL");
    o = (struct poller_opts){ .token_file = "/nonexistent/token" };
    assert_null(poller_start(&o, -1, err, sizeof err));
    assert_string_equal(err, "token file /nonexistent/token: No such file or directory");
}

/* Writes a token file of mode 0600 with these bytes; returns its path. */
static const char *token_file(const char *bytes, size_t n)
{
    static char path[] = "/tmp/test_poller_token.XXXXXX";
    strcpy(path + strlen(path) - 6, "XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, 0600), 0);
    assert_int_equal(write(fd, bytes, n), (ssize_t)n);
    close(fd);
    return path;
}

static void expect_token_refused(const char *bytes, size_t n, const char *why)
{
    const char *path = token_file(bytes, n);
    struct poller_opts o = { .token_file = path };
    assert_null(poller_start(&o, -1, err, sizeof err));
    char want[512];
    snprintf(want, sizeof want, "token file %s: %s", path, why);
    assert_string_equal(err, want);
    unlink(path);
}

static void test_token_file_checks(void **state)
{
    (void)state;
    expect_token_refused("", 0, "empty");
    expect_token_refused(" \n\n", 3, "empty");
    expect_token_refused("two words\n", 10, "the token has a space, a control character or a non-ASCII byte");
    expect_token_refused("a\nb\n", 4, "the token has a space, a control character or a non-ASCII byte");
    expect_token_refused("caf\xc3\xa9", 5, "the token has a space, a control character or a non-ASCII byte");
    static char big[16385];
    memset(big, 'x', sizeof big);
    expect_token_refused(big, sizeof big, "larger than 16 KiB");
    /* exactly 16 KiB is fine */
    const char *path = token_file(big, sizeof big - 1);
    struct poller_opts o = { .token_file = path };
    struct poller *p = poller_start(&o, -1, err, sizeof err);
    assert_non_null(p);
    assert_true(poller_stop(&p));
    unlink(path);

    /* a directory, and a loose mode: the message names the file */
    o = (struct poller_opts){ .token_file = "/tmp" };
    assert_null(poller_start(&o, -1, err, sizeof err));
    assert_string_equal(err, "token file /tmp: not a regular file");
    path = token_file("t0ken\n", 6);
    assert_int_equal(chmod(path, 0640), 0);
    o = (struct poller_opts){ .token_file = path };
    assert_null(poller_start(&o, -1, err, sizeof err));
    char want[512];
    snprintf(want, sizeof want, "token file %s: mode 0640 lets group or others read it; chmod 600 it", path);
    assert_string_equal(err, want);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_increase),
        cmocka_unit_test(test_scrape_totals),
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_rates_per_series),
        cmocka_unit_test(test_rates_nan_and_inf),
        cmocka_unit_test(test_start_refuses_bad_options),
        cmocka_unit_test(test_token_file_checks),
    };
    return cmocka_run_group_tests_name("poller", tests, NULL, NULL);
}
