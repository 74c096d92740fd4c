/* The poller against the real demo backend and a misbehaving server (from
 * poller.sh): good scrapes with counters, rates and health; then each fault
 * of RELIABILITY.md checklist items 6, 8, 13 and 14 ends within its timeout
 * with its own message, keeps the last good values (stale, never zeroed)
 * and the next scrape happens; stopping during a hang is prompt.
 *
 * Environment: MARKETING_METRICS_URL, MARKETING_HEALTH_URL,
 * MARKETING_READY_URL, MARKETING_CONTROL_URL (the demo stack), T_AUX_URL
 * (httpfaults.py), T_CLOSED_URL (nothing listens there), T_TMP. */
#include <fcntl.h>
#include <math.h>
#include <poll.h>
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
#include <curl/curl.h>

#include "clock.h"
#include "poller.h"

static const char *metrics_url, *health_url, *ready_url, *control_url, *aux_url, *closed_url, *tmpdir;
static int wake[2];

/* what the newest snapshot with a good first target said */
static struct {
    bool have;
    double sent, sent_rate;
    int64_t last_ok_ms;
} good;

static void print_snapshot(const struct poll_snapshot *s)
{
    if (!s) {
        print_message("  (no snapshot)\n");
        return;
    }
    for (size_t i = 0; i < s->n_targets; i++)
        print_message("  target %zu %s: ok=%d http=%d tries=%llu error='%s'\n", i, s->targets[i].url,
                      s->targets[i].ok, s->targets[i].http_status, (unsigned long long)s->targets[i].tries,
                      s->targets[i].error);
    print_message("  have_counters=%d sent=%g sent_rate=%g error_rate=%g db_max=%g hist=%zu\n",
                  s->have_counters, s->sent, s->sent_rate, s->error_rate, s->db_conn_max, s->sent_hist_n);
    print_message("  health: have=%d status=%s ok=%d error='%s'\n", s->health.have,
                  s->health.status ? s->health.status : "-", s->health.ep.ok, s->health.ep.error);
    print_message("  ready: have=%d status=%s ok=%d error='%s'\n", s->ready.have,
                  s->ready.status ? s->ready.status : "-", s->ready.ep.ok, s->ready.ep.error);
}

typedef bool (*pred_fn)(const struct poll_snapshot *s, const void *arg);

/* Waits up to ms for a snapshot in which pred holds; returns it (the
 * caller frees it). Fails the test, showing the last snapshot, if none. */
static struct poll_snapshot *wait_for(struct poller *p, int ms, pred_fn pred, const void *arg, const char *what)
{
    struct poll_snapshot *last = NULL;
    int64_t end = clock_mono_ms() + ms;
    while (clock_mono_ms() < end) {
        struct pollfd pfd = { .fd = wake[0], .events = POLLIN };
        poll(&pfd, 1, 100);
        char buf[64];
        while (read(wake[0], buf, sizeof buf) > 0)
            ;
        struct poll_snapshot *s = poller_take(p);
        if (!s)
            continue;
        if (s->n_targets > 0 && s->targets[0].ok) {
            good.have = true;
            good.sent = s->sent;
            good.sent_rate = s->sent_rate;
            good.last_ok_ms = s->targets[0].last_ok_ms;
        }
        poll_snapshot_free(&last);
        if (pred(s, arg))
            return s;
        last = s;
    }
    print_message("never saw: %s; the last snapshot:\n", what);
    print_snapshot(last);
    poll_snapshot_free(&last);
    fail_msg("timed out waiting for %s", what);
    return NULL;
}

static bool all_good(const struct poll_snapshot *s, const void *arg)
{
    (void)arg;
    return s->have_counters && s->targets[0].ok && s->sent > 0 && s->http_requests > 0 &&
           s->db_conn_max > 0 && isfinite(s->sent_rate) && s->sent_hist_n > 0 && s->health.have &&
           s->health.ep.ok && strcmp(s->health.status, "healthy") == 0 && s->ready.have && s->ready.ep.ok;
}

static bool target_ok(const struct poll_snapshot *s, const void *arg)
{
    (void)arg;
    return s->targets[0].ok && (!s->health.ep.url || s->health.ep.ok);
}

/* the first target and the probes all failed with exactly this message */
static bool all_failed_with(const struct poll_snapshot *s, const void *arg)
{
    const char *want = arg;
    return strcmp(s->targets[0].error, want) == 0 && strcmp(s->health.ep.error, want) == 0 &&
           strcmp(s->ready.ep.error, want) == 0;
}

struct more_tries {
    uint64_t after;
    const char *error;
};

static bool tried_again(const struct poll_snapshot *s, const void *arg)
{
    const struct more_tries *m = arg;
    return s->targets[0].tries > m->after && strcmp(s->targets[0].error, m->error) == 0;
}

static bool every_target_tried(const struct poll_snapshot *s, const void *arg)
{
    (void)arg;
    for (size_t i = 0; i < s->n_targets; i++)
        if (s->targets[i].tries == 0)
            return false;
    return true;
}

static void control(const char *query)
{
    char url[1024];
    snprintf(url, sizeof url, "%s?%s", control_url, query);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 200);
    curl_easy_cleanup(c);
    fclose(devnull);
}

static struct poller *start(const char *const *urls, size_t n, bool probes, int timeout_ms, size_t cap,
                            const char *token_file)
{
    struct poller_opts o = {
        .metrics_urls = urls,
        .n_metrics = n,
        .health_url = probes ? health_url : NULL,
        .ready_url = probes ? ready_url : NULL,
        .token_file = token_file,
        .interval_ms = 300,
        .timeout_ms = timeout_ms,
        .body_cap = cap,
        .history_s = 60,
    };
    char err[512];
    struct poller *p = poller_start(&o, wake[1], err, sizeof err);
    if (!p)
        fail_msg("poller_start: %s", err);
    return p;
}

static void stop(struct poller **p)
{
    int64_t t0 = clock_mono_ms();
    assert_true(poller_stop(p));
    assert_null(*p);
    print_message("  poller_stop took %lld ms\n", (long long)(clock_mono_ms() - t0));
}

static void test_good_scrapes_and_health(void **state)
{
    (void)state;
    const char *urls[] = { metrics_url };
    struct poller *p = start(urls, 1, true, 5000, 16u << 20, NULL);
    struct poll_snapshot *s = wait_for(p, 20000, all_good, NULL, "counters, a rate and health");
    assert_int_equal(s->n_targets, 1);
    assert_string_equal(s->targets[0].url, metrics_url);
    assert_int_equal(s->targets[0].http_status, 200);
    assert_true(s->targets[0].last_ok_ms > 0);
    assert_string_equal(s->targets[0].error, "");
    assert_true(s->sent_rate >= 0);
    assert_true(isfinite(s->error_rate) && isfinite(s->opened_rate) && isfinite(s->http_rate));
    assert_true(s->db_conn_active >= 1 && s->db_conn_active <= s->db_conn_max);
    assert_true(s->rounds >= 2);
    for (size_t i = 1; i < s->sent_hist_n; i++)
        assert_true(s->sent_hist[i - 1].t_ms <= s->sent_hist[i].t_ms);
    assert_true(isfinite(s->sent_hist[s->sent_hist_n - 1].v));
    print_message("  sent=%g sent_rate=%.1f/s http=%g\n", s->sent, s->sent_rate, s->http_requests);

    assert_string_equal(s->health.status, "healthy");
    assert_non_null(s->health.version);
    assert_true(s->health.uptime >= 0);
    assert_int_equal(s->health.n_checks, 3);
    const char *names[] = { "database", "email_service", "campaign_worker" };
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(s->health.check_names[i], names[i]);
        assert_string_equal(s->health.check_status[i], "healthy");
    }
    assert_int_equal(s->health.ep.http_status, 200);
    assert_true(s->health.as_of_ms > 0);
    assert_string_equal(s->ready.status, "ready");
    assert_string_equal(s->ready.ep.url, ready_url);
    poll_snapshot_free(&s);
    stop(&p);
}

/* While an endpoint fails: the last good values stay, marked stale. */
static void assert_stale_not_zeroed(const struct poll_snapshot *s)
{
    assert_true(good.have);
    assert_true(s->have_counters);
    assert_false(s->targets[0].ok);
    assert_true(s->sent == good.sent);
    assert_true(s->sent_rate == good.sent_rate || (isnan(s->sent_rate) && isnan(good.sent_rate)));
    assert_true(s->targets[0].last_ok_ms == good.last_ok_ms);
    assert_true(s->targets[0].last_try_ms > s->targets[0].last_ok_ms);
    assert_true(s->health.have); /* the last good status, with its age */
    assert_string_equal(s->health.status, "healthy");
    assert_false(s->health.ep.ok);
}

static void test_http_500(void **state)
{
    (void)state;
    const char *urls[] = { metrics_url };
    struct poller *p = start(urls, 1, true, 5000, 16u << 20, NULL);
    struct poll_snapshot *s = wait_for(p, 20000, all_good, NULL, "good scrapes");
    poll_snapshot_free(&s);
    control("error_rate=1");
    s = wait_for(p, 10000, all_failed_with, "HTTP 500", "HTTP 500 everywhere");
    assert_int_equal(s->targets[0].http_status, 500);
    assert_stale_not_zeroed(s);
    struct more_tries m = { s->targets[0].tries, "HTTP 500" };
    poll_snapshot_free(&s);
    s = wait_for(p, 5000, tried_again, &m, "the next scrape");
    poll_snapshot_free(&s);
    control("error_rate=0");
    s = wait_for(p, 10000, target_ok, NULL, "recovery");
    poll_snapshot_free(&s);
    stop(&p);
}

static bool garbage_seen(const struct poll_snapshot *s, const void *arg)
{
    (void)arg;
    return strncmp(s->targets[0].error, "line ", 5) == 0 &&
           strncmp(s->health.ep.error, "invalid response (", 18) == 0 &&
           strncmp(s->ready.ep.error, "invalid response (", 18) == 0;
}

static void test_garbage(void **state)
{
    (void)state;
    const char *urls[] = { metrics_url };
    struct poller *p = start(urls, 1, true, 5000, 16u << 20, NULL);
    struct poll_snapshot *s = wait_for(p, 20000, all_good, NULL, "good scrapes");
    poll_snapshot_free(&s);
    control("garbage=1");
    s = wait_for(p, 10000, garbage_seen, NULL, "a parse error naming a line, and invalid JSON");
    print_message("  metrics: %s\n  health: %s\n", s->targets[0].error, s->health.ep.error);
    assert_non_null(strstr(s->targets[0].error, ": "));
    assert_int_equal(s->targets[0].http_status, 200);
    assert_stale_not_zeroed(s);
    /* one line of printable ASCII */
    for (const char *c = s->health.ep.error; *c; c++)
        assert_true(*c >= 0x20 && *c < 0x7F);
    struct more_tries m = { s->targets[0].tries, "" };
    poll_snapshot_free(&s);
    control("garbage=0");
    s = wait_for(p, 10000, target_ok, NULL, "recovery");
    assert_true(s->targets[0].tries > m.after);
    poll_snapshot_free(&s);
    stop(&p);
}

static void test_hang_and_prompt_stop(void **state)
{
    (void)state;
    const char *urls[] = { metrics_url };
    struct poller *p = start(urls, 1, true, 800, 16u << 20, NULL);
    struct poll_snapshot *s = wait_for(p, 20000, all_good, NULL, "good scrapes");
    poll_snapshot_free(&s);
    control("hang=1");
    s = wait_for(p, 10000, all_failed_with, "timeout after 800 ms", "timeouts everywhere");
    assert_int_equal(s->targets[0].http_status, 0);
    assert_stale_not_zeroed(s);
    struct more_tries m = { s->targets[0].tries + 1, "timeout after 800 ms" };
    poll_snapshot_free(&s);
    s = wait_for(p, 10000, tried_again, &m, "two more scrapes, each timing out");
    poll_snapshot_free(&s);
    /* a request is hanging now (the next starts as soon as one times out) */
    usleep(300000);
    int64_t t0 = clock_mono_ms();
    bool stopped = poller_stop(&p);
    int64_t took = clock_mono_ms() - t0;
    print_message("  poller_stop during a hang took %lld ms\n", (long long)took);
    assert_true(stopped);
    assert_true(took < 1000);
    control("hang=0");
}

static void test_two_targets_one_refused(void **state)
{
    (void)state;
    const char *urls[] = { metrics_url, closed_url };
    struct poller *p = start(urls, 2, false, 5000, 16u << 20, NULL);
    struct poll_snapshot *s = NULL;
    int64_t end = clock_mono_ms() + 20000;
    /* the sum is there, and the snapshot says which target is missing */
    for (;;) {
        s = wait_for(p, 20000, every_target_tried, NULL, "both targets tried");
        if (s->targets[0].ok && s->sent > 0)
            break;
        assert_true(clock_mono_ms() < end);
        poll_snapshot_free(&s);
    }
    assert_int_equal(s->n_targets, 2);
    assert_true(s->have_counters);
    assert_false(s->targets[1].ok);
    assert_string_equal(s->targets[1].error, "connection refused");
    assert_int_equal(s->targets[1].last_ok_ms, 0);
    assert_int_equal(s->targets[1].http_status, 0);
    poll_snapshot_free(&s);
    stop(&p);
}

static void test_misbehaving_bodies(void **state)
{
    (void)state;
    static const struct {
        const char *path, *want;
        bool prefix;
    } cases[] = {
        { "/big", "body larger than 1 MiB", false },
        { "/chunked", "body larger than 1 MiB", false },
        { "/bomb", "body larger than 1 MiB", false },
        { "/loop", "too many redirects (more than 3)", false },
        { "/tofile", "unsupported protocol \"file\" (only http and https)", false },
        { "/truncated", "truncated response", true },
        { "/nonl", "line 2: no newline at the end of the body (cut short?)", false },
        { "/empty", "empty reply", false },
    };
    enum { N = sizeof cases / sizeof cases[0] };
    char urls[N][512];
    const char *u[N];
    for (size_t i = 0; i < N; i++) {
        snprintf(urls[i], sizeof urls[i], "%s%s", aux_url, cases[i].path);
        u[i] = urls[i];
    }
    struct poller *p = start(u, N, false, 3000, 1u << 20, NULL);
    struct poll_snapshot *s = wait_for(p, 20000, every_target_tried, NULL, "every target tried");
    for (size_t i = 0; i < N; i++) {
        const char *got = s->targets[i].error;
        print_message("  %-10s %s\n", cases[i].path, got);
        bool match = cases[i].prefix ? strncmp(got, cases[i].want, strlen(cases[i].want)) == 0
                                     : strcmp(got, cases[i].want) == 0;
        if (!match)
            fail_msg("%s: got '%s', want '%s'", cases[i].path, got, cases[i].want);
        assert_false(s->targets[i].ok);
    }
    assert_false(s->have_counters);
    assert_true(isnan(s->sent) && isnan(s->sent_rate));
    poll_snapshot_free(&s);
    stop(&p);

    /* drip-fed: the timeout ends it */
    char drip[512];
    snprintf(drip, sizeof drip, "%s/drip", aux_url);
    const char *d[] = { drip };
    p = start(d, 1, false, 800, 1u << 20, NULL);
    s = wait_for(p, 10000, every_target_tried, NULL, "the drip target tried");
    assert_string_equal(s->targets[0].error, "timeout after 800 ms");
    assert_int_equal(s->targets[0].http_status, 200);
    poll_snapshot_free(&s);
    stop(&p);
}

static bool auth_ok(const struct poll_snapshot *s, const void *arg)
{
    (void)arg;
    return s->targets[0].ok && s->targets[1].ok && s->sent == 10;
}

static bool token_refused(const struct poll_snapshot *s, const void *arg)
{
    const char *path = arg;
    return strstr(s->targets[0].error, path) && strstr(s->targets[0].error, "mode 0644") &&
           strstr(s->targets[1].error, path);
}

static bool http_401(const struct poll_snapshot *s, const void *arg)
{
    (void)arg;
    return strcmp(s->targets[0].error, "HTTP 401") == 0;
}

static void test_token_file(void **state)
{
    (void)state;
    char path[512], auth[512], ok[512];
    snprintf(path, sizeof path, "%s/token", tmpdir);
    snprintf(auth, sizeof auth, "%s/auth", aux_url);
    snprintf(ok, sizeof ok, "%s/ok", aux_url);
    const char *urls[] = { auth, ok };

    /* without a token the endpoint says no */
    struct poller *p = start(urls, 1, false, 3000, 1u << 20, NULL);
    struct poll_snapshot *s = wait_for(p, 10000, http_401, NULL, "HTTP 401");
    poll_snapshot_free(&s);
    stop(&p);

    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("s3cret-token\n", f);
    fclose(f);
    assert_int_equal(chmod(path, 0644), 0);
    struct poller_opts o = { .metrics_urls = urls, .n_metrics = 2, .token_file = path };
    char err[512];
    assert_null(poller_start(&o, wake[1], err, sizeof err));
    print_message("  %s\n", err);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "mode 0644"));

    assert_int_equal(chmod(path, 0600), 0);
    p = start(urls, 2, false, 3000, 1u << 20, path);
    s = wait_for(p, 10000, auth_ok, NULL, "the token accepted");
    poll_snapshot_free(&s);
    /* loosened while running: refused at the next round, and no request
     * goes out without it */
    assert_int_equal(chmod(path, 0644), 0);
    s = wait_for(p, 10000, token_refused, path, "the loose token file refused");
    assert_int_equal(s->targets[0].http_status, 0);
    assert_true(s->sent == 10); /* stale, kept */
    poll_snapshot_free(&s);
    assert_int_equal(chmod(path, 0600), 0);
    s = wait_for(p, 10000, auth_ok, NULL, "the token accepted again");
    poll_snapshot_free(&s);
    stop(&p);
    unlink(path);
}

static bool probes_tried(const struct poll_snapshot *s, const void *arg)
{
    (void)arg;
    return s->health.ep.tries > 0 && s->ready.ep.tries > 0;
}

/* A 503 that carries a health document is an answer (the service says it
 * is unhealthy); a 503 without one is a failure. No metrics targets. */
static void test_unhealthy_503(void **state)
{
    (void)state;
    char unhealthy[512], down[512];
    snprintf(unhealthy, sizeof unhealthy, "%s/unhealthy", aux_url);
    snprintf(down, sizeof down, "%s/down", aux_url);
    struct poller_opts o = { .health_url = unhealthy, .ready_url = down, .interval_ms = 300, .timeout_ms = 3000 };
    char err[512];
    struct poller *p = poller_start(&o, wake[1], err, sizeof err);
    assert_non_null(p);
    struct poll_snapshot *s = wait_for(p, 10000, probes_tried, NULL, "both probes tried");
    assert_int_equal(s->n_targets, 0);
    assert_false(s->have_counters);
    assert_true(s->health.ep.ok);
    assert_int_equal(s->health.ep.http_status, 503);
    assert_string_equal(s->health.status, "unhealthy");
    assert_string_equal(s->health.version, "9.9.9");
    assert_true(s->health.uptime == 5);
    assert_int_equal(s->health.n_checks, 2);
    assert_string_equal(s->health.check_status[0], "unhealthy");
    assert_string_equal(s->health.check_names[1], "redis");
    assert_string_equal(s->health.check_status[1], "healthy");
    assert_false(s->ready.ep.ok);
    assert_false(s->ready.have);
    assert_string_equal(s->ready.ep.error, "HTTP 503");
    poll_snapshot_free(&s);
    stop(&p);
}

/* each test starts without faults, whatever the one before left */
static int reset_faults(void **state)
{
    (void)state;
    control("error_rate=0&garbage=0&hang=0");
    return 0;
}

int main(void)
{
    metrics_url = getenv("MARKETING_METRICS_URL");
    health_url = getenv("MARKETING_HEALTH_URL");
    ready_url = getenv("MARKETING_READY_URL");
    control_url = getenv("MARKETING_CONTROL_URL");
    aux_url = getenv("T_AUX_URL");
    closed_url = getenv("T_CLOSED_URL");
    tmpdir = getenv("T_TMP");
    if (!metrics_url || !health_url || !ready_url || !control_url || !aux_url || !closed_url || !tmpdir)
        return 77;
    if (pipe(wake) != 0)
        return 1;
    fcntl(wake[0], F_SETFL, O_NONBLOCK);
    fcntl(wake[1], F_SETFL, O_NONBLOCK);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_good_scrapes_and_health, reset_faults),
        cmocka_unit_test_setup(test_http_500, reset_faults),
        cmocka_unit_test_setup(test_garbage, reset_faults),
        cmocka_unit_test_setup(test_hang_and_prompt_stop, reset_faults),
        cmocka_unit_test_setup(test_two_targets_one_refused, reset_faults),
        cmocka_unit_test_setup(test_misbehaving_bodies, reset_faults),
        cmocka_unit_test_setup(test_token_file, reset_faults),
        cmocka_unit_test_setup(test_unhealthy_503, reset_faults),
    };
    int rc = cmocka_run_group_tests_name("poller", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
