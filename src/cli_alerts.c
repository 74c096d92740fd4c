/* marketing alerts [--json] [--wait TIME] [--rules]: the alert rules and
 * their states, evaluated here on the console's own scrapes.
 *
 * marketing watch [--json] [--interval TIME] [--count N] [--query EXPR]...:
 * the console's engine (the same poller, series store and rule engine)
 * without the screen, printing one line per interval, as `top -b` does. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "alertview.h"
#include "cli.h"
#include "clock.h"
#include "poller.h"
#include "promapi.h"
#include "promql.h"
#include "promsrv.h"
#include "ruleng.h"
#include "sanitize.h"
#include "wakepipe.h"

#define WATCH_MAX_QUERIES 16

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
}

static void say_errors(const char *what, const struct config_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%s: %s", what, errs->msg[i]);
        cli_say(msg);
    }
}

/* The engine in a poller of its own. */
struct engine {
    struct poller *p;
    int wake[2];
    struct poll_snapshot *snap;   /* the newest */
};

static int engine_start(struct engine *g, const struct config *cfg, const char *what,
                        const char *const *queries, size_t nq, bool every_round)
{
    struct config_errors errs = { 0 };
    g->wake[0] = g->wake[1] = -1;
    g->snap = NULL;
    struct ruleng *e = ruleng_from_config(cfg, queries, nq, &errs);
    if (!e) {
        say_errors(what, &errs);
        config_errors_free(&errs);
        return EXIT_USAGE;
    }
    ruleng_set_every_round(e, every_round);
    if (wakepipe_open(g->wake) != 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s: pipe: %s", what, strerror(errno));
        cli_say(msg);
        ruleng_free(&e);
        return EXIT_ERROR;
    }
    char bufs[8][1024], err[512];
    const char *urls[8];
    size_t n = config_split_list(cfg->metrics_url, bufs, urls, 8);
    struct poller_opts o = {
        .metrics_urls = urls, .n_metrics = n,
        .token_file = cfg->token_file,
        .interval_ms = cfg->scrape_ms, .timeout_ms = cfg->scrape_timeout_ms,
        .engine = e,
    };
    g->p = poller_start(&o, g->wake[1], err, sizeof err);
    if (!g->p) {
        char msg[700];
        snprintf(msg, sizeof msg, "%s: %s", what, err);
        cli_say(msg);
        close(g->wake[0]);
        close(g->wake[1]);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Waits for news until deadline (monotonic ms); keeps the newest snapshot.
 * False when a signal came. */
static bool engine_wait(struct engine *g, int64_t deadline)
{
    for (;;) {
        if (stop_signal)
            return false;
        int64_t now = clock_mono_ms();
        if (now >= deadline)
            return true;
        struct pollfd pfd = { .fd = g->wake[0], .events = POLLIN };
        int r = poll(&pfd, 1, (int)(deadline - now));
        if (r > 0) {
            wakepipe_drain(g->wake[0]);
            struct poll_snapshot *s = poller_take(g->p);
            if (s) {
                poll_snapshot_free(&g->snap);
                g->snap = s;
            }
        }
    }
}

static void engine_stop(struct engine *g)
{
    bool joined = poller_stop(&g->p);
    poll_snapshot_free(&g->snap);
    if (joined) {
        close(g->wake[0]);
        close(g->wake[1]);
    }
}

static void iso_time(int64_t ms, char *buf, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t len = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + len, n - len, ".%03dZ", (int)(ms % 1000));
}

/* The rule's value: its leading active alert's, else the value before its
 * threshold; NAN when it has neither. */
static double rule_value(const struct rule_view *r)
{
    const struct alert_view *best = NULL;
    for (size_t i = 0; i < r->n_alerts; i++) {
        const struct alert_view *a = &r->alerts[i];
        if (a->state != ALERT_INACTIVE && (!best || a->state > best->state))
            best = a;
    }
    if (best)
        return best->value;
    return r->n_current ? r->current : NAN;
}

static const char *rule_state_word(const struct rule_view *r)
{
    if (r->error)
        return "error";
    if (r->no_data)
        return "nodata";
    return alert_state_name(r->state);
}

/* ---- alerts ---- */

static void print_rules_text(const struct rule_view *rules, size_t n_rules, int64_t now)
{
    printf("%-8s %-34s %-9s %-16s %-12s %s\n", "STATE", "RULE", "SEVERITY", "VALUE", "SINCE", "SUMMARY");
    for (size_t i = 0; i < n_rules; i++) {
        const struct rule_view *r = &rules[i];
        const char *sev = "";
        for (size_t k = 0; k < r->n_labels; k++)
            if (strcmp(r->labels[k].name, "severity") == 0)
                sev = r->labels[k].value;
        char v[PROMQL_VALUE_MAX] = "-", since[32] = "-";
        double val = rule_value(r);
        if (!isnan(val) || r->n_alerts)
            promql_format_value(val, v, sizeof v);
        const char *summary = "";
        for (size_t k = 0; k < r->n_alerts; k++)
            if (r->alerts[k].state != ALERT_INACTIVE) {
                if (r->alerts[k].active_at_ms)
                    snprintf(since, sizeof since, "%llds", (long long)((now - r->alerts[k].active_at_ms) / 1000));
                if (r->alerts[k].summary)
                    summary = r->alerts[k].summary;
                break;
            }
        char line[2048];
        if (r->no_data || r->error)
            snprintf(line, sizeof line, "%-8s %-34s %-9s %s", rule_state_word(r), r->name, sev,
                     r->why ? r->why : "");
        else
            snprintf(line, sizeof line, "%-8s %-34s %-9s %-16s %-12s %s", rule_state_word(r), r->name, sev, v,
                     since, summary);
        san_fputs(line, stdout, 0);
        fputc('\n', stdout);
    }
}

static int parse_ms(const char *flag, const char *v, long *out)
{
    long ms = v ? config_parse_duration(v) : -1;
    if (ms < 0 && v) {
        char *end;
        errno = 0;
        long secs = strtol(v, &end, 10);
        if (!errno && end != v && !*end && secs >= 0 && secs < 86400)
            ms = secs * 1000;
    }
    if (ms <= 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s needs a duration such as 2s, 500ms or 1m (got '%.40s')", flag, v ? v : "");
        cli_say(msg);
        return -1;
    }
    *out = ms;
    return 0;
}

static struct promsrv_opts server_opts(const struct config *cfg)
{
    struct promsrv_opts o = { .url = cfg->prometheus_url, .token_file = cfg->token_file,
                              .timeout_ms = cfg->scrape_timeout_ms };
    return o;
}

/* prometheus_url set: the server's rules and alerts, as they are now. */
static int alerts_from_server(const struct config *cfg, bool json)
{
    struct promsrv_opts o = server_opts(cfg);
    struct rule_view *rules = NULL;
    size_t n = 0;
    char err[600];
    if (promsrv_read_rules(&o, &rules, &n, err, sizeof err) != 0) {
        char msg[800];
        snprintf(msg, sizeof msg, "alerts: %s", err);
        cli_say(msg);
        return EXIT_ERROR;
    }
    int rc = EXIT_OK;
    int64_t now = clock_real_ms();
    if (json) {
        char *arr = rule_views_json(rules, n, now);
        if (arr)
            printf("{\"source\":\"prometheus\",\"rules\":%s}\n", arr);
        else
            rc = EXIT_ERROR;
        free(arr);
    } else {
        print_rules_text(rules, n, now);
    }
    rule_views_free(&rules, &n);
    return rc;
}

int cli_alerts(const struct config *cfg, int argc, char **argv)
{
    bool json = false, rules = false;
    long wait_ms = -1;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--rules") == 0) {
            rules = true;
        } else if (strcmp(argv[i], "--wait") == 0) {
            if (parse_ms("alerts: --wait", i + 1 < argc ? argv[++i] : NULL, &wait_ms) != 0)
                return EXIT_USAGE;
        } else {
            char msg[160];
            snprintf(msg, sizeof msg, "alerts: unexpected argument '%.64s' (see marketing --help)", argv[i]);
            cli_say(msg);
            return EXIT_USAGE;
        }
    }
    if (rules) {
        char *text, dir[1100], err[1300];
        size_t len;
        if (ruleng_read_rules(cfg->rule_file, &text, &len, dir, sizeof dir, err, sizeof err) != 0) {
            cli_say(err);
            return EXIT_USAGE;
        }
        fwrite(text, 1, len, stdout);
        free(text);
        return EXIT_OK;
    }
    if (cfg->prometheus_url[0])
        return alerts_from_server(cfg, json);
    catch_signals();
    struct engine g;
    int rc = engine_start(&g, cfg, "alerts", NULL, 0, true);
    if (rc != EXIT_OK)
        return rc;
    /* two rounds at least, so that rates have two samples */
    int64_t start = clock_mono_ms();
    int64_t until = start + (wait_ms > 0 ? wait_ms : 0);
    bool tty = isatty(STDERR_FILENO);
    while (!stop_signal && (!g.snap || g.snap->rounds < 2 || clock_mono_ms() < until)) {
        if (tty && wait_ms > 0)
            fprintf(stderr, "\rscraping for %lds: %llds left ", wait_ms / 1000,
                    (long long)((until - clock_mono_ms() + 999) / 1000));
        engine_wait(&g, clock_mono_ms() + 250);
    }
    if (tty && wait_ms > 0)
        fprintf(stderr, "\r%*s\r", 40, "");
    const struct poll_snapshot *s = g.snap;
    int64_t now = clock_real_ms();
    double observed = (double)(clock_mono_ms() - start) / 1000.0;
    if (stop_signal) {
        rc = 128 + (int)stop_signal;
    } else if (!s) {
        cli_say("alerts: no answer from the poller");
        rc = EXIT_ERROR;
    } else if (json) {
        char *arr = rule_views_json(s->rules, s->n_rules, now);
        if (!arr) {
            rc = EXIT_ERROR;
        } else {
            printf("{\"source\":\"here\",\"observedSeconds\":%.1f,\"rounds\":%llu,\"rules\":%s}\n", observed,
                   (unsigned long long)s->rounds, arr);
            free(arr);
        }
    } else {
        print_rules_text(s->rules, s->n_rules, now);
        fprintf(stderr, "evaluated here over %.0fs of scrapes (%llu rounds); a rule's 'for' may be longer: "
                        "the console and 'marketing watch' keep states as they go\n",
                observed, (unsigned long long)s->rounds);
    }
    for (size_t i = 0; rc == EXIT_OK && s && i < s->n_targets; i++)
        if (!s->targets[i].ok) {
            char msg[600];
            snprintf(msg, sizeof msg, "alerts: scrape of %.300s failed: %s", s->targets[i].url,
                     s->targets[i].error);
            cli_say(msg);
        }
    engine_stop(&g);
    return rc;
}

/* ---- watch ---- */

static void watch_json(const struct rule_view *rules, size_t n_rules, const struct query_view *queries,
                       size_t n_queries, int64_t now)
{
    json_t *o = json_object(), *qs = json_array(), *as = json_array();
    char t[40], v[PROMQL_VALUE_MAX];
    iso_time(now, t, sizeof t);
    json_object_set_new(o, "time", json_string(t));
    for (size_t i = 0; i < n_queries; i++) {
        const struct query_view *q = &queries[i];
        json_t *j = json_pack("{s:s}", "expr", q->expr);
        if (q->ok && (q->n_series || !isnan(q->value) || q->at_ms)) {
            promql_format_value(q->value, v, sizeof v);
            json_object_set_new(j, "value", q->n_series || !isnan(q->value) ? json_string(v) : json_null());
            json_object_set_new(j, "series", json_integer((json_int_t)q->n_series));
        } else {
            json_object_set_new(j, "value", json_null());
        }
        if (q->error)
            json_object_set_new(j, "error", json_string(q->error));
        if (q->at_ms) {
            iso_time(q->at_ms, t, sizeof t);
            json_object_set_new(j, "at", json_string(t));
        }
        json_array_append_new(qs, j);
    }
    for (size_t i = 0; i < n_rules; i++) {
        const struct rule_view *r = &rules[i];
        double val = rule_value(r);
        promql_format_value(val, v, sizeof v);
        json_t *j = json_pack("{s:s, s:s, s:o, s:b}", "name", r->name, "state", alert_state_name(r->state),
                              "value", isnan(val) && !r->n_alerts ? json_null() : json_string(v),
                              "noData", r->no_data || r->error);
        if (r->why)
            json_object_set_new(j, "why", json_string(r->why));
        json_array_append_new(as, j);
    }
    json_object_set_new(o, "queries", qs);
    json_object_set_new(o, "alerts", as);
    char *line = json_dumps(o, JSON_COMPACT);
    if (line)
        puts(line);
    free(line);
    json_decref(o);
}

static void watch_text(const struct rule_view *rules, size_t n_rules, const struct query_view *queries,
                       size_t n_queries, int64_t now)
{
    char t[40], v[PROMQL_VALUE_MAX], line[8192];
    iso_time(now, t, sizeof t);
    size_t used = (size_t)snprintf(line, sizeof line, "%s", t);
    for (size_t i = 0; i < n_queries && used < sizeof line; i++) {
        const struct query_view *q = &queries[i];
        if (!q->ok)
            snprintf(v, sizeof v, "error");
        else if (!q->n_series && isnan(q->value))
            snprintf(v, sizeof v, "-");
        else
            promql_format_value(q->value, v, sizeof v);
        used += (size_t)snprintf(line + used, sizeof line - used, "  %s = %s", q->expr, v);
    }
    for (size_t i = 0; i < n_rules && used < sizeof line; i++) {
        const struct rule_view *r = &rules[i];
        double val = rule_value(r);
        if (isnan(val) && !r->n_alerts)
            snprintf(v, sizeof v, "-");
        else
            promql_format_value(val, v, sizeof v);
        used += (size_t)snprintf(line + used, sizeof line - used, "  %s %s %s", r->name, rule_state_word(r), v);
    }
    san_fputs(line, stdout, 0);
    fputc('\n', stdout);
}

/* prometheus_url set: the server answers the queries and holds the rules;
 * one round of requests per interval. */
static int watch_server(const struct config *cfg, bool json, long interval, long count,
                        const char *const *queries, size_t nq)
{
    char err[PROMAPI_ERR_MAX];
    struct promapi_opts po = { .url = cfg->prometheus_url, .token_file = cfg->token_file,
                               .timeout_ms = cfg->scrape_timeout_ms };
    struct promapi *api = promapi_new(&po, err, sizeof err);
    if (!api) {
        char msg[700];
        snprintf(msg, sizeof msg, "watch: %s", err);
        cli_say(msg);
        return EXIT_USAGE;
    }
    struct promsrv_opts so = server_opts(cfg);
    struct query_view qv[WATCH_MAX_QUERIES];
    char qerr[WATCH_MAX_QUERIES][PROMAPI_ERR_MAX], *exprs[WATCH_MAX_QUERIES];
    bool oom = false;
    for (size_t i = 0; i < nq; i++)
        oom |= !(exprs[i] = strdup(queries[i]));
    int64_t next = clock_mono_ms();
    int rc = EXIT_OK;
    for (long printed = 0; !oom && !stop_signal && (count < 0 || printed < count); printed++) {
        int64_t wait = next - clock_mono_ms();
        if (wait > 0) {
            struct timespec ts = { (time_t)(wait / 1000), (long)(wait % 1000) * 1000000L };
            nanosleep(&ts, NULL);
        }
        if (stop_signal)
            break;
        for (size_t i = 0; i < nq; i++) {
            struct promql_result r;
            int64_t at;
            memset(&qv[i], 0, sizeof qv[i]);
            qv[i].expr = exprs[i];
            qv[i].value = NAN;
            if (promapi_query(api, queries[i], PROMAPI_NOW, &r, &at, qerr[i], sizeof qerr[i]) != 0) {
                qv[i].error = qerr[i];
                continue;
            }
            qv[i].ok = true;
            qv[i].at_ms = at;
            qv[i].value = r.type == PROMQL_SCALAR ? r.scalar : r.n ? r.samples[0].v : NAN;
            qv[i].n_series = r.type == PROMQL_SCALAR ? 0 : r.n;
            promql_result_free(&r);
        }
        struct rule_view *rules = NULL;
        size_t n = 0;
        if (promsrv_read_rules(&so, &rules, &n, err, sizeof err) != 0) {
            char msg[700];
            snprintf(msg, sizeof msg, "watch: %s", err);
            cli_say(msg);
        }
        if (json)
            watch_json(rules, n, qv, nq, clock_real_ms());
        else
            watch_text(rules, n, qv, nq, clock_real_ms());
        fflush(stdout);
        rule_views_free(&rules, &n);
        next += interval;
    }
    for (size_t i = 0; i < nq; i++)
        free(exprs[i]);
    if (oom) {
        cli_say("watch: out of memory");
        rc = EXIT_ERROR;
    }
    promapi_free(&api);
    return rc;
}

int cli_watch(const struct config *cfg, int argc, char **argv)
{
    bool json = false;
    long interval = -1, count = -1;
    const char *queries[WATCH_MAX_QUERIES];
    size_t nq = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--interval") == 0) {
            if (parse_ms("watch: --interval", i + 1 < argc ? argv[++i] : NULL, &interval) != 0)
                return EXIT_USAGE;
        } else if (strcmp(a, "--count") == 0) {
            char *end = NULL;
            const char *v = i + 1 < argc ? argv[++i] : "";
            errno = 0;
            count = strtol(v, &end, 10);
            if (errno || end == v || *end || count < 1) {
                char msg[160];
                snprintf(msg, sizeof msg, "watch: --count needs a whole number of lines, 1 or more (got '%.40s')", v);
                cli_say(msg);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--query") == 0) {
            if (i + 1 >= argc) {
                cli_say("watch: --query needs an expression, e.g. --query 'sum(rate(emails_sent_total[1m]))'");
                return EXIT_USAGE;
            }
            if (nq == WATCH_MAX_QUERIES) {
                cli_say("watch: at most 16 --query expressions");
                return EXIT_USAGE;
            }
            queries[nq++] = argv[++i];
        } else {
            char msg[160];
            snprintf(msg, sizeof msg, "watch: unexpected argument '%.64s' (see marketing --help)", a);
            cli_say(msg);
            return EXIT_USAGE;
        }
    }
    if (interval < 0)
        interval = cfg->scrape_ms > 1000 ? cfg->scrape_ms : 1000;
    catch_signals();
    if (cfg->prometheus_url[0])
        return watch_server(cfg, json, interval, count, queries, nq);
    struct engine g;
    int rc = engine_start(&g, cfg, "watch", queries, nq, false);
    if (rc != EXIT_OK)
        return rc;
    /* the first line once the first round is in */
    while (!stop_signal && (!g.snap || g.snap->rounds < 1))
        engine_wait(&g, clock_mono_ms() + 250);
    int64_t next = clock_mono_ms();
    for (long printed = 0; !stop_signal && (count < 0 || printed < count); printed++) {
        if (!engine_wait(&g, next))
            break;
        if (g.snap) {
            if (json)
                watch_json(g.snap->rules, g.snap->n_rules, g.snap->queries, g.snap->n_queries, clock_real_ms());
            else
                watch_text(g.snap->rules, g.snap->n_rules, g.snap->queries, g.snap->n_queries, clock_real_ms());
            fflush(stdout);
        }
        next += interval;
    }
    if (stop_signal && stop_signal != SIGPIPE && stop_signal != SIGINT)
        rc = 128 + (int)stop_signal;
    engine_stop(&g);
    return rc;
}
