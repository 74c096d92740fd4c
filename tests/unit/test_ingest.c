/* Scrapes into the store as Prometheus ingests them: job and instance on
 * every series, exported_ labels, timestamps honoured, up and the scrape
 * meta series, staleness for series that go and for a failed scrape. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest.h"

/* The samples of the one series with __name__ name (and, if given, label
 * l = v), into out; returns how many, -1 if not exactly one series. */
static long samples_of(struct tsdb *db, const char *name, const char *l, const char *v,
                       struct tsdb_sample *out, size_t max)
{
    struct tsdb_matcher m[2];
    char err[128];
    assert_int_equal(tsdb_matcher_init(&m[0], "__name__", TSDB_MATCH_EQ, name, err, sizeof err), 0);
    size_t nm = 1;
    if (l) {
        assert_int_equal(tsdb_matcher_init(&m[1], l, TSDB_MATCH_EQ, v, err, sizeof err), 0);
        nm = 2;
    }
    const struct tsdb_series **ss;
    long n = tsdb_select(db, m, nm, &ss);
    for (size_t i = 0; i < nm; i++)
        tsdb_matcher_free(&m[i]);
    if (n != 1) {
        free(ss);
        return -1;
    }
    size_t len = tsdb_series_len(ss[0]);
    for (size_t i = 0; i < len && i < max; i++)
        out[i] = tsdb_series_at(ss[0], i);
    free(ss);
    return (long)len;
}

static void test_instance_of(void **state)
{
    (void)state;
    char b[128];
    ingest_instance_of("http://127.0.0.1:9090/metrics", b, sizeof b);
    assert_string_equal(b, "127.0.0.1:9090");
    ingest_instance_of("https://api.example.com/metrics", b, sizeof b);
    assert_string_equal(b, "api.example.com:443");
    ingest_instance_of("http://user:pw@host/metrics?x=1", b, sizeof b);
    assert_string_equal(b, "host:80");
    ingest_instance_of("http://[::1]:8080/metrics", b, sizeof b);
    assert_string_equal(b, "[::1]:8080");
    ingest_instance_of("http://[::1]/metrics", b, sizeof b);
    assert_string_equal(b, "[::1]:80");
}

static void test_scrapes(void **state)
{
    (void)state;
    struct tsdb *db = tsdb_new(3600000, 100000);
    struct ingest_target t;
    assert_int_equal(ingest_target_init(&t, "marketing", "api-1:8080"), 0);
    const char *b1 = "# TYPE emails_sent_total counter\n"
                     "emails_sent_total{provider=\"a\"} 10\n"
                     "emails_sent_total{provider=\"b\"} 5\n"
                     "campaigns_active{job=\"theirs\",instance=\"x\"} 2\n"
                     "old_style 7 1000\n";
    assert_int_equal(ingest_scrape(db, &t, b1, strlen(b1), 15000, 12), 0);
    assert_int_equal(t.samples, 4);
    struct tsdb_sample s[8];
    assert_int_equal(samples_of(db, "emails_sent_total", "provider", "a", s, 8), 1);
    assert_true(s[0].t == 15000 && s[0].v == 10);
    /* the exposition's own job and instance are renamed, ours added */
    assert_int_equal(samples_of(db, "campaigns_active", "exported_job", "theirs", s, 8), 1);
    assert_int_equal(samples_of(db, "campaigns_active", "job", "marketing", s, 8), 1);
    assert_int_equal(samples_of(db, "campaigns_active", "exported_instance", "x", s, 8), 1);
    /* its own timestamp is honoured */
    assert_int_equal(samples_of(db, "old_style", NULL, NULL, s, 8), 1);
    assert_int_equal(s[0].t, 1000);
    assert_int_equal(samples_of(db, "up", "instance", "api-1:8080", s, 8), 1);
    assert_true(s[0].v == 1);
    assert_int_equal(samples_of(db, "scrape_samples_scraped", NULL, NULL, s, 8), 1);
    assert_true(s[0].v == 4);
    assert_int_equal(samples_of(db, "scrape_duration_seconds", NULL, NULL, s, 8), 1);
    assert_true(fabs(s[0].v - 0.012) < 1e-12);

    /* provider b goes: it gets a staleness marker; a stays */
    const char *b2 = "emails_sent_total{provider=\"a\"} 12\ncampaigns_active{job=\"theirs\",instance=\"x\"} 2\n"
                     "old_style 7 1000\n";
    assert_int_equal(ingest_scrape(db, &t, b2, strlen(b2), 30000, 10), 0);
    assert_int_equal(samples_of(db, "emails_sent_total", "provider", "b", s, 8), 2);
    assert_true(s[1].t == 30000 && tsdb_is_stale(s[1].v));
    assert_int_equal(samples_of(db, "emails_sent_total", "provider", "a", s, 8), 2);
    assert_true(s[1].v == 12);

    /* a body that fails to parse: nothing of it lands, everything is stale, up 0 */
    const char *bad = "emails_sent_total{provider=\"a\"} 13\nbroken{ 1\n";
    assert_int_equal(ingest_scrape(db, &t, bad, strlen(bad), 45000, 3), -1);
    assert_non_null(strstr(t.error, "line 2"));
    assert_int_equal(samples_of(db, "emails_sent_total", "provider", "a", s, 8), 3);
    assert_true(tsdb_is_stale(s[2].v));       /* not 13 */
    assert_int_equal(samples_of(db, "up", NULL, NULL, s, 8), 3);
    assert_true(s[2].v == 0);
    /* a series with its own timestamp never gets a marker */
    assert_int_equal(samples_of(db, "old_style", NULL, NULL, s, 8), 1);

    /* a failed request after a good scrape: the same */
    assert_int_equal(ingest_scrape(db, &t, b2, strlen(b2), 60000, 9), 0);
    ingest_failed(db, &t, 75000, 5000, "HTTP 503");
    assert_string_equal(t.error, "HTTP 503");
    assert_int_equal(samples_of(db, "emails_sent_total", "provider", "a", s, 8), 5);
    assert_true(s[3].v == 12 && tsdb_is_stale(s[4].v));
    assert_int_equal(samples_of(db, "up", NULL, NULL, s, 8), 5);
    assert_true(s[3].v == 1 && s[4].v == 0);
    ingest_target_free(&t);
    tsdb_free(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_instance_of),
        cmocka_unit_test(test_scrapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
