/* The Prometheus API client against a real Prometheus server (T_PROM_URL,
 * started by promapi.sh with the shipped rules and two test alerts, under
 * the route prefix /prom) and against httpfaults.py's misbehaving API
 * (T_AUX_URL). What it reads from the real server is also written to files
 * in T_TMP, which promapi.sh compares with what curl and python read from
 * the same server at the same evaluation time (T_AT_MS). */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "clock.h"
#include "promapi.h"
#include "promql.h"

static const char *prom_url, *aux_url, *tmp, *target;
static int64_t at_ms;

static struct promapi *client_opts(const char *url, const char *token_file, int timeout_ms,
                                   size_t cap, const atomic_bool *cancel)
{
    char err[PROMAPI_ERR_MAX] = "";
    struct promapi_opts o = { .url = url, .token_file = token_file, .timeout_ms = timeout_ms,
                              .body_cap = cap, .cancel = cancel };
    struct promapi *c = promapi_new(&o, err, sizeof err);
    if (!c)
        fail_msg("promapi_new(%s): %s", url, err);
    return c;
}

static struct promapi *client(const char *url) { return client_opts(url, NULL, 5000, 0, NULL); }

/* A client of httpfaults.py under prefix how. */
static struct promapi *aux(const char *how, int timeout_ms, size_t cap)
{
    char url[512];
    snprintf(url, sizeof url, "%s/prom-%s", aux_url, how);
    return client_opts(url, NULL, timeout_ms, cap, NULL);
}

static FILE *out_file(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fail_msg("cannot write %s", path);
    return f;
}

static void assert_contains(const char *got, const char *want)
{
    if (!strstr(got, want))
        fail_msg("message '%s' lacks '%s'", got, want);
}

static void assert_printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p >= 0x7f)
            fail_msg("byte 0x%02x in message '%s'", *p, s);
}

static const struct promapi_alert *find_alert(const struct promapi_alert *a, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(promapi_kv_get(a[i].labels, a[i].n_labels, "alertname"), name) == 0)
            return &a[i];
    fail_msg("no alert %s", name);
    return NULL;
}

/* ---- the real server ---- */

static void test_alerts(void **state)
{
    (void)state;
    struct promapi *c = client(prom_url);
    struct promapi_alerts a;
    char err[PROMAPI_ERR_MAX] = "";
    if (promapi_alerts(c, &a, err, sizeof err) != 0)
        fail_msg("%s", err);
    int64_t now = clock_real_ms();
    const struct promapi_alert *up = find_alert(a.alerts, a.n, "TargetUp");
    assert_int_equal(up->state, PROMAPI_FIRING);
    assert_string_equal(promapi_kv_get(up->labels, up->n_labels, "instance"), target);
    assert_string_equal(promapi_kv_get(up->labels, up->n_labels, "job"), "marketing");
    assert_string_equal(promapi_kv_get(up->labels, up->n_labels, "severity"), "info");
    char summary[300];
    snprintf(summary, sizeof summary, "%s is up (1)", target);
    assert_string_equal(promapi_kv_get(up->annotations, up->n_annotations, "summary"), summary);
    assert_true(up->active_at_ms > now - 600000 && up->active_at_ms <= now);
    assert_true(up->value == 1.0);
    const struct promapi_alert *pend = find_alert(a.alerts, a.n, "TargetUpForAnHour");
    assert_int_equal(pend->state, PROMAPI_PENDING);
    assert_true(pend->value == 1.0);
    assert_int_equal(pend->active_at_ms, up->active_at_ms); /* the same evaluation made both */
    assert_string_equal(promapi_state_name(pend->state), "pending");
    FILE *f = out_file("c.alerts");
    for (size_t i = 0; i < a.n; i++) {
        char v[PROMQL_VALUE_MAX];
        promql_format_value(a.alerts[i].value, v, sizeof v);
        fprintf(f, "%s %s %lld %s\n", promapi_kv_get(a.alerts[i].labels, a.alerts[i].n_labels, "alertname"),
                promapi_state_name(a.alerts[i].state), (long long)a.alerts[i].active_at_ms, v);
    }
    fclose(f);
    promapi_alerts_free(&a);
    promapi_alerts_free(&a); /* a freed result may be freed again */
    promapi_free(&c);
    assert_null(c);
}

static const struct promapi_rule *find_rule(const struct promapi_group *g, const char *name)
{
    for (size_t i = 0; i < g->n_rules; i++)
        if (strcmp(g->rules[i].name, name) == 0)
            return &g->rules[i];
    fail_msg("no rule %s in %s", name, g->name);
    return NULL;
}

static int kv_cmp(const void *x, const void *y)
{
    const struct promapi_kv *a = x, *b = y;
    return strcmp(a->name, b->name);
}

static void write_labels(FILE *f, struct promapi_kv *kv, size_t n)
{
    if (n)
        qsort(kv, n, sizeof *kv, kv_cmp);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s=%s", i ? "," : "", kv[i].name, kv[i].value);
}

static void test_rules(void **state)
{
    (void)state;
    struct promapi *c = client(prom_url);
    struct promapi_rules r;
    char err[PROMAPI_ERR_MAX] = "";
    if (promapi_rules(c, &r, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(r.n, 2);
    /* the server orders groups its own way: find them by name */
    bool first = strcmp(r.groups[0].name, "marketing-system") == 0;
    const struct promapi_group *g = &r.groups[first ? 0 : 1], *t = &r.groups[first ? 1 : 0];
    assert_string_equal(g->name, "marketing-system");
    assert_non_null(strstr(g->file, "rules/marketing.rules.yml"));
    assert_int_equal(g->interval_ms, 15000);
    static const char *const names[] = { "HighErrorRate", "SlowResponseTime", "CampaignSendRateLow",
                                         "DatabaseConnectionPoolExhausted" };
    static const int64_t fors[] = { 300000, 600000, 900000, 300000 };
    static const char *const sev[] = { "critical", "warning", "warning", "critical" };
    assert_int_equal(g->n_rules, 4);
    for (size_t i = 0; i < 4; i++) {
        const struct promapi_rule *x = &g->rules[i];
        assert_string_equal(x->name, names[i]);
        assert_int_equal(x->type, PROMAPI_ALERTING);
        assert_int_equal(x->health, PROMAPI_HEALTH_OK);
        assert_string_equal(x->last_error, "");
        assert_int_equal(x->for_ms, fors[i]);
        assert_int_equal(x->keep_firing_for_ms, 0);
        assert_true(x->last_evaluation_ms > 0);
        assert_true(x->evaluation_s >= 0);
        assert_string_equal(promapi_kv_get(x->labels, x->n_labels, "severity"), sev[i]);
        assert_non_null(promapi_kv_get(x->annotations, x->n_annotations, "summary"));
    }
    const struct promapi_rule *low = find_rule(g, "CampaignSendRateLow");
    assert_string_equal(promapi_kv_get(low->annotations, low->n_annotations, "runbook"),
                        "campaign-not-sending");
    /* annotations of a rule are as written, not templated */
    assert_string_equal(promapi_kv_get(low->annotations, low->n_annotations, "description"),
                        "Only {{ $value }} emails/min while campaigns are active (expected: 1000+)");
    assert_non_null(strstr(low->query, "campaigns_active"));

    assert_string_equal(t->name, "promapi-test");
    assert_int_equal(t->interval_ms, 1000);
    const struct promapi_rule *up = find_rule(t, "TargetUp");
    assert_int_equal(up->state, PROMAPI_FIRING);
    assert_int_equal(up->for_ms, 0);
    assert_int_equal(up->keep_firing_for_ms, 30000);
    assert_string_equal(up->query, "up == 1");
    assert_int_equal(up->n_alerts, 1);
    assert_int_equal(up->alerts[0].state, PROMAPI_FIRING);
    assert_true(up->alerts[0].value == 1.0);
    const struct promapi_rule *hour = find_rule(t, "TargetUpForAnHour");
    assert_int_equal(hour->state, PROMAPI_PENDING);
    assert_int_equal(hour->for_ms, 3600000);
    assert_int_equal(hour->n_alerts, 1);
    assert_int_equal(hour->alerts[0].state, PROMAPI_PENDING);
    const struct promapi_rule *rec = find_rule(t, "job:up:sum");
    assert_int_equal(rec->type, PROMAPI_RECORDING);
    assert_int_equal(rec->health, PROMAPI_HEALTH_OK);
    assert_int_equal(rec->n_alerts, 0);

    FILE *f = out_file("c.rules");
    for (size_t i = 0; i < r.n; i++) {
        const struct promapi_group *x = &r.groups[i];
        fprintf(f, "group %s %s %lld\n", x->name, x->file, (long long)x->interval_ms);
        for (size_t k = 0; k < x->n_rules; k++) {
            struct promapi_rule *y = &x->rules[k];
            const char *health = y->health == PROMAPI_HEALTH_OK ? "ok" : y->health == PROMAPI_HEALTH_ERR ? "err" : "unknown";
            /* the shipped rules' states follow the demo's traffic: not compared */
            bool live = strcmp(x->name, "marketing-system") == 0;
            char n_alerts[32];
            snprintf(n_alerts, sizeof n_alerts, "%zu", y->n_alerts);
            if (y->type == PROMAPI_ALERTING)
                fprintf(f, "alerting %s %s %s %lld %lld %s ", y->name, health,
                        live ? "-" : promapi_state_name(y->state), (long long)y->for_ms,
                        (long long)y->keep_firing_for_ms, live ? "-" : n_alerts);
            else
                fprintf(f, "recording %s %s ", y->name, health);
            write_labels(f, y->labels, y->n_labels);
            fputc('\n', f);
        }
    }
    fclose(f);
    promapi_rules_free(&r);
    promapi_free(&c);
}

static int labels_cmp(const struct promql_sample *a, const struct promql_sample *b)
{
    for (size_t i = 0; i < a->n_labels && i < b->n_labels; i++) {
        int d = strcmp(a->labels[i].name, b->labels[i].name);
        if (d == 0)
            d = strcmp(a->labels[i].value, b->labels[i].value);
        if (d)
            return d;
    }
    return a->n_labels < b->n_labels ? -1 : a->n_labels > b->n_labels;
}

static const char *const exprs[] = {
    "up",
    "sum(rate(emails_sent_total[10s]))",
    "sum by (status) (rate(http_requests_total[10s]))",
    "scalar(count(up))",
    "1/0",
    "up{job=\"nothing\"}",
    "ALERTS{alertname=\"TargetUp\"}",
    "topk(3, http_requests_total)",
    "database_connections_active / database_connections_max",
};

static void test_query(void **state)
{
    (void)state;
    /* a trailing '/' on the base URL is fine */
    char url[512];
    snprintf(url, sizeof url, "%s/", prom_url);
    struct promapi *c = client(url);
    assert_string_equal(promapi_url(c), prom_url);
    FILE *list = out_file("c.exprs");
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        struct promql_result r;
        int64_t t = 0;
        char err[PROMAPI_ERR_MAX] = "", name[64];
        if (promapi_query(c, exprs[i], at_ms, &r, &t, err, sizeof err) != 0)
            fail_msg("%s: %s", exprs[i], err);
        assert_int_equal(t, at_ms);
        if (i == 0) {
            assert_int_equal(r.type, PROMQL_VECTOR);
            assert_int_equal(r.n, 1);
            assert_string_equal(promql_sample_label(&r.samples[0], "instance"), target);
            assert_string_equal(promql_sample_label(&r.samples[0], "__name__"), "up");
            assert_true(r.samples[0].v == 1.0);
        } else if (i == 3) {
            assert_int_equal(r.type, PROMQL_SCALAR);
            assert_true(r.scalar == 1.0);
        } else if (i == 4) {
            assert_true(isinf(r.scalar) && r.scalar > 0);
        } else if (i == 5) {
            assert_int_equal(r.type, PROMQL_VECTOR);
            assert_int_equal(r.n, 0);
        } else if (i == 6) {
            assert_int_equal(r.n, 1);
            assert_string_equal(promql_sample_label(&r.samples[0], "alertstate"), "firing");
        }
        for (size_t k = 1; k < r.n; k++) /* sorted by labels, as the engine's results */
            assert_true(labels_cmp(&r.samples[k - 1], &r.samples[k]) < 0);
        int len = promql_format_result(&r, t, NULL, 0);
        assert_true(len > 0);
        char *buf = malloc((size_t)len + 1);
        assert_non_null(buf);
        promql_format_result(&r, t, buf, (size_t)len + 1);
        snprintf(name, sizeof name, "c.query.%zu", i);
        FILE *f = out_file(name);
        fprintf(f, "%s\n", buf);
        fclose(f);
        fprintf(list, "%s\n", exprs[i]);
        free(buf);
        promql_result_free(&r);
    }
    fclose(list);
    promapi_free(&c);
}

static void test_query_range(void **state)
{
    (void)state;
    static const char *const rexprs[] = { "up", "sum(rate(emails_sent_total[10s]))",
                                          "sum by (status) (rate(http_requests_total[10s]))", "time()" };
    struct promapi *c = client(prom_url);
    FILE *list = out_file("c.rexprs");
    for (size_t i = 0; i < sizeof rexprs / sizeof rexprs[0]; i++) {
        struct promapi_matrix m;
        char err[PROMAPI_ERR_MAX] = "", name[64];
        if (promapi_query_range(c, rexprs[i], at_ms - 30000, at_ms, 2000, &m, err, sizeof err) != 0)
            fail_msg("%s: %s", rexprs[i], err);
        assert_true(m.n >= 1);
        json_t *o = json_object();
        for (size_t k = 0; k < m.n; k++) {
            const struct promapi_series *s = &m.series[k];
            assert_true(s->n_points >= 1 && s->n_points <= 16);
            json_t *labels = json_object(), *pts = json_array();
            for (size_t j = 0; j < s->n_labels; j++)
                json_object_set_new(labels, s->labels[j].name, json_string(s->labels[j].value));
            for (size_t j = 0; j < s->n_points; j++) {
                char v[PROMQL_VALUE_MAX];
                assert_int_equal((s->points[j].t_ms - (at_ms - 30000)) % 2000, 0);
                promql_format_value(s->points[j].v, v, sizeof v);
                json_array_append_new(pts, json_pack("[Is]", (json_int_t)s->points[j].t_ms, v));
            }
            char *key = json_dumps(labels, JSON_SORT_KEYS | JSON_COMPACT);
            json_object_set_new(o, key, pts);
            free(key);
            json_decref(labels);
        }
        if (i == 3) { /* a scalar: one series without labels, its value the time */
            assert_int_equal(m.n, 1);
            assert_int_equal(m.series[0].n_labels, 0);
            assert_int_equal(m.series[0].n_points, 16);
            assert_true(m.series[0].points[15].v * 1000 == (double)at_ms);
        }
        snprintf(name, sizeof name, "c.range.%zu", i);
        FILE *f = out_file(name);
        json_dumpf(o, f, JSON_COMPACT);
        fclose(f);
        json_decref(o);
        fprintf(list, "%s\n", rexprs[i]);
        promapi_matrix_free(&m);
    }
    fclose(list);
    promapi_free(&c);
}

static void test_real_errors(void **state)
{
    (void)state;
    struct promapi *c = client(prom_url);
    char err[PROMAPI_ERR_MAX] = "";
    struct promql_result r;
    struct promapi_matrix m;
    assert_int_equal(promapi_query(c, "sum(up", PROMAPI_NOW, &r, NULL, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/query: HTTP 400: bad_data: invalid parameter \"query\": "
                             "1:7: parse error: unclosed left parenthesis");
    assert_int_equal(r.n, 0);
    assert_int_equal(promapi_query(c, "up[1m]", PROMAPI_NOW, &r, NULL, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/query: the result is a range vector (matrix), not an instant "
                             "vector or a scalar");
    assert_int_equal(promapi_query_range(c, "up", at_ms - 1000, at_ms, 0, &m, err, sizeof err), -1);
    assert_contains(err, "/api/v1/query_range: HTTP 400: bad_data: ");
    assert_contains(err, "zero or negative query resolution step widths are not accepted");
    assert_null(m.series);
    promapi_free(&c);
    char url[512];
    snprintf(url, sizeof url, "%s/nope", prom_url);
    c = client(url);
    struct promapi_alerts a;
    assert_int_equal(promapi_alerts(c, &a, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/alerts: HTTP 404: 404 page not found");
    promapi_free(&c);
}

/* ---- misbehaving servers ---- */

static void test_bad_json(void **state)
{
    (void)state;
    struct promapi *c = aux("badjson", 5000, 0);
    char err[PROMAPI_ERR_MAX] = "";
    struct promql_result r;
    struct promapi_matrix m;
    struct promapi_alerts a;
    struct promapi_rules ru;
    assert_int_equal(promapi_query(c, "up", PROMAPI_NOW, &r, NULL, err, sizeof err), -1);
    assert_contains(err, "/api/v1/query: invalid JSON (line 1 column ");
    assert_int_equal(promapi_query_range(c, "up", 0, 1000, 1000, &m, err, sizeof err), -1);
    assert_contains(err, "/api/v1/query_range: invalid JSON (line 1 column ");
    assert_int_equal(promapi_alerts(c, &a, err, sizeof err), -1);
    assert_contains(err, "/api/v1/alerts: invalid JSON (line 1 column ");
    assert_int_equal(promapi_rules(c, &ru, err, sizeof err), -1);
    assert_contains(err, "/api/v1/rules: invalid JSON (line 1 column ");
    assert_null(ru.groups);
    promapi_free(&c);
}

static void test_wrong_shapes(void **state)
{
    (void)state;
    struct promapi *c = aux("shape", 5000, 0);
    char err[PROMAPI_ERR_MAX] = "";
    struct promql_result r;
    struct promapi_matrix m;
    struct promapi_alerts a;
    struct promapi_rules ru;
    assert_int_equal(promapi_alerts(c, &a, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/alerts: data.alerts[2].state is not a string");
    assert_null(a.alerts);
    assert_int_equal(promapi_rules(c, &ru, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/rules: data.groups[0].rules[1].health is missing");
    assert_int_equal(promapi_query(c, "up", PROMAPI_NOW, &r, NULL, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/query: data.result[0].value[1] is not a string");
    assert_int_equal(promapi_query_range(c, "up", 0, 1000, 1000, &m, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/query_range: data.result[0].values[1] is not after the point "
                             "before it");
    promapi_free(&c);
}

static void test_http_errors(void **state)
{
    (void)state;
    char err[PROMAPI_ERR_MAX] = "";
    struct promapi_alerts a;
    struct promapi_rules ru;
    struct promql_result r;
    struct promapi *c = aux("500", 5000, 0);
    assert_int_equal(promapi_alerts(c, &a, err, sizeof err), -1);
    /* Prometheus's text, its escape characters made visible */
    assert_string_equal(err, "/api/v1/alerts: HTTP 500: internal: something broke: "
                             "\\x1b]0;pwned\\x07disk full");
    assert_printable(err);
    promapi_free(&c);
    c = aux("503", 5000, 0);
    assert_int_equal(promapi_rules(c, &ru, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/rules: HTTP 503: unavailable: the server is shutting down");
    promapi_free(&c);
    c = aux("502", 5000, 0);
    assert_int_equal(promapi_query(c, "up", PROMAPI_NOW, &r, NULL, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/query: HTTP 502: <html><head><title>502 Bad Gateway</title>"
                             "</head></html>");
    promapi_free(&c);
}

static void test_hang(void **state)
{
    (void)state;
    struct promapi *c = aux("hang", 700, 0);
    char err[PROMAPI_ERR_MAX] = "";
    struct promapi_alerts a;
    assert_int_equal(promapi_alerts(c, &a, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/alerts: timeout after 700 ms");
    promapi_free(&c);
}

struct canceller {
    atomic_bool *flag;
};

static void *cancel_soon(void *arg)
{
    struct canceller *k = arg;
    struct timespec ts = { 0, 300 * 1000000L };
    nanosleep(&ts, NULL);
    atomic_store(k->flag, true);
    return NULL;
}

static void test_cancel(void **state)
{
    (void)state;
    atomic_bool flag = false;
    char url[512], err[PROMAPI_ERR_MAX] = "";
    snprintf(url, sizeof url, "%s/prom-hang", aux_url);
    /* a timeout far beyond the test's: only the flag can end it with this message */
    struct promapi *c = client_opts(url, NULL, 60000, 0, &flag);
    struct canceller k = { &flag };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_soon, &k), 0);
    struct promapi_alerts a;
    assert_int_equal(promapi_alerts(c, &a, err, sizeof err), -1);
    pthread_join(th, NULL);
    assert_string_equal(err, "/api/v1/alerts: cancelled");
    promapi_free(&c);
}

static void test_body_cap(void **state)
{
    (void)state;
    char err[PROMAPI_ERR_MAX] = "";
    struct promapi_alerts a;
    struct promapi *c = aux("huge", 5000, 1u << 20);
    assert_int_equal(promapi_alerts(c, &a, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/alerts: response larger than the 1 MiB cap");
    promapi_free(&c);
    c = aux("hugechunked", 5000, 1u << 20);
    assert_int_equal(promapi_alerts(c, &a, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/alerts: response larger than the 1 MiB cap");
    promapi_free(&c);
    /* under the default cap the same body is fine: the cap is what refused it */
    c = aux("hugechunked", 5000, 0);
    if (promapi_alerts(c, &a, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(a.n, 12000);
    assert_string_equal(promapi_kv_get(a.alerts[11999].labels, a.alerts[11999].n_labels, "alertname"),
                        "Huge11999");
    promapi_alerts_free(&a);
    promapi_free(&c);
}

static void write_file(const char *name, const char *text, mode_t mode, char *path, size_t sz)
{
    snprintf(path, sz, "%s/%s", tmp, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_token(void **state)
{
    (void)state;
    char url[512], path[1024], err[PROMAPI_ERR_MAX] = "";
    struct promapi_alerts a;
    snprintf(url, sizeof url, "%s/prom-auth", aux_url);
    struct promapi *c = client(url);
    assert_int_equal(promapi_alerts(c, &a, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/alerts: HTTP 401: Unauthorized");
    promapi_free(&c);
    write_file("token", "s3cret-token\n", 0600, path, sizeof path);
    c = client_opts(url, path, 5000, 0, NULL);
    if (promapi_alerts(c, &a, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(a.n, 1);
    assert_string_equal(promapi_kv_get(a.alerts[0].labels, a.alerts[0].n_labels, "alertname"), "Authorized");
    promapi_alerts_free(&a);
    /* loosened after the client was made: refused at the next request */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(promapi_alerts(c, &a, err, sizeof err), -1);
    assert_contains(err, "/api/v1/alerts: token file ");
    assert_contains(err, "lets group or others read it");
    promapi_free(&c);
    struct promapi_opts o = { .url = url, .token_file = path };
    assert_null(promapi_new(&o, err, sizeof err));
    assert_contains(err, "lets group or others read it");
}

static void test_urls(void **state)
{
    (void)state;
    char url[512], err[PROMAPI_ERR_MAX] = "";
    struct promapi_alerts a;
    snprintf(url, sizeof url, "%s/prom-tofile", aux_url);
    struct promapi *c = client(url);
    assert_int_equal(promapi_alerts(c, &a, err, sizeof err), -1);
    assert_contains(err, "/api/v1/alerts: ");
    assert_contains(err, "\"file\"");
    assert_contains(err, "(only http and https)");
    promapi_free(&c);
    static const char *const bad[] = { "ftp://example.com", "", "file:///etc/passwd",
                                       "http://h:9090/?x=1", "http://h:9090/#top" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct promapi_opts o = { .url = bad[i] };
        err[0] = '\0';
        assert_null(promapi_new(&o, err, sizeof err));
        assert_contains(err, "prometheus_url: ");
    }
}

static void test_values(void **state)
{
    (void)state;
    struct promapi *c = aux("values", 5000, 0);
    char err[PROMAPI_ERR_MAX] = "";
    struct promapi_alerts a;
    if (promapi_alerts(c, &a, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(a.n, 5);
    assert_true(isnan(find_alert(a.alerts, a.n, "Nan")->value));
    assert_true(isinf(find_alert(a.alerts, a.n, "Inf")->value) && find_alert(a.alerts, a.n, "Inf")->value > 0);
    assert_true(isinf(find_alert(a.alerts, a.n, "NegInf")->value) && find_alert(a.alerts, a.n, "NegInf")->value < 0);
    const struct promapi_alert *s = find_alert(a.alerts, a.n, "Small");
    assert_true(s->value == 1.5e-3);
    assert_int_equal(s->active_at_ms, INT64_C(1767319445500)); /* 03:04:05.5+01:00 */
    assert_int_equal(find_alert(a.alerts, a.n, "Nan")->active_at_ms, INT64_C(1767323045123));
    /* untrusted text is kept as sent: sanitizing is the drawing's job */
    const struct promapi_alert *e = find_alert(a.alerts, a.n, "Esc");
    assert_string_equal(promapi_kv_get(e->labels, e->n_labels, "x"), "\x1b[2J\x1b]0;pwned\x07\r\xe2\x80\xae");
    promapi_alerts_free(&a);

    struct promapi_rules r;
    if (promapi_rules(c, &r, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.groups[0].file, "/etc/prometheus/g.yml");
    assert_int_equal(r.groups[0].interval_ms, 15000);
    assert_int_equal(r.groups[0].n_rules, 2);
    assert_int_equal(r.groups[0].rules[0].last_evaluation_ms, INT64_C(1767323045500));
    assert_true(isnan(r.groups[0].rules[0].alerts[0].value));
    assert_int_equal(r.groups[0].rules[1].health, PROMAPI_HEALTH_ERR);
    assert_string_equal(r.groups[0].rules[1].last_error, "boom \x1b[2J");
    assert_int_equal(r.groups[0].rules[1].for_ms, 300000);
    promapi_rules_free(&r);

    struct promql_result q;
    int64_t t = 0;
    if (promapi_query(c, "m", PROMAPI_NOW, &q, &t, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(t, INT64_C(1700000000500));
    assert_int_equal(q.n, 2);
    /* sorted by labels: ESC sorts before "a" */
    assert_string_equal(promql_sample_label(&q.samples[0], "x"), "\x1b[2J\x1b]0;pwned\x07\r\xe2\x80\xae");
    assert_true(isnan(q.samples[0].v));
    assert_true(isinf(q.samples[1].v));
    char buf[1024];
    assert_true(promql_format_result(&q, t, buf, sizeof buf) > 0);
    assert_string_equal(buf, "[{\"metric\":{\"__name__\":\"m\",\"x\":\"\\u001b[2J\\u001b]0;pwned\\u0007\\u000d"
                             "\xe2\x80\xae\"},\"value\":[1700000000.5,\"NaN\"]},"
                             "{\"metric\":{\"__name__\":\"m\",\"x\":\"a\"},\"value\":[1700000000.5,\"+Inf\"]}]");
    promql_result_free(&q);

    struct promapi_matrix m;
    if (promapi_query_range(c, "x", 0, 1000, 1000, &m, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.series[0].n_points, 2);
    assert_int_equal(m.series[0].points[0].t_ms, INT64_C(1700000000000));
    assert_true(isinf(m.series[0].points[0].v) && m.series[0].points[0].v < 0);
    assert_int_equal(m.series[0].points[1].t_ms, INT64_C(1700000015250));
    assert_true(m.series[0].points[1].v == 40.0);
    promapi_matrix_free(&m);
    promapi_free(&c);
}

static void test_refused(void **state)
{
    (void)state;
    /* a port nothing listens on (promapi.sh's aux server holds its own) */
    struct promapi *c = client("http://127.0.0.1:1");
    char err[PROMAPI_ERR_MAX] = "";
    struct promql_result r;
    assert_int_equal(promapi_query(c, "up", PROMAPI_NOW, &r, NULL, err, sizeof err), -1);
    assert_contains(err, "/api/v1/query: ");
    assert_contains(err, "onnect");
    promapi_free(&c);
}

int main(void)
{
    prom_url = getenv("T_PROM_URL");
    aux_url = getenv("T_AUX_URL");
    tmp = getenv("T_TMP");
    target = getenv("T_TARGET");
    const char *at = getenv("T_AT_MS");
    if (!prom_url || !aux_url || !tmp || !target || !at) {
        fprintf(stderr, "test_promapi: run by tests/integration/promapi.sh\n");
        return 1;
    }
    at_ms = strtoll(at, NULL, 10);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alerts),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_query_range),
        cmocka_unit_test(test_real_errors),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_wrong_shapes),
        cmocka_unit_test(test_http_errors),
        cmocka_unit_test(test_hang),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
