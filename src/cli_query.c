/* marketing query 'EXPR': a PromQL expression asked of the Prometheus
 * server at prometheus_url when one is configured (its /api/v1/query, at
 * the client's now), else evaluated on the console's own scrapes of
 * metrics_url (each target gets job "marketing" and its
 * instance label, as a Prometheus scrape config would give it). The
 * targets are scraped every scrape_interval for as long as the
 * expression's widest range needs, then it is evaluated at the last
 * scrape; a terminal sees a progress line meanwhile. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"
#include "clock.h"
#include "ingest.h"
#include "poller.h"
#include "promapi.h"
#include "promql.h"
#include "sanitize.h"

#define QUERY_BODY_CAP (16u << 20)
#define QUERY_MAX_TARGETS 8
#define QUERY_JOB "marketing"

struct body {
    char *p;
    size_t n, cap;
    bool too_big;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
    struct body *b = arg;
    size_t len = size * nmemb;
    if (b->n + len > QUERY_BODY_CAP) {
        b->too_big = true;
        return 0; /* stops the transfer */
    }
    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->n + len + 1) * 2;
        char *g = realloc(b->p, cap);
        if (!g)
            return 0;
        b->p = g;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    return len;
}

/* One scrape of one target into the store. */
static void scrape(struct tsdb *db, struct ingest_target *t, const char *url, const char *token,
                   int timeout_ms)
{
    int64_t start = clock_real_ms(), mono = clock_mono_ms();
    struct body b = { 0 };
    CURL *c = curl_easy_init();
    char err[CURL_ERROR_SIZE] = "", auth[1100];
    struct curl_slist *hdr = curl_slist_append(NULL, "Accept: application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1");
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth);
    }
    CURLcode rc = CURLE_FAILED_INIT;
    long code = 0;
    enum promtext_format fmt = PROMTEXT_FORMAT_TEXT;
    if (c) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        char *ct = NULL;
        if (rc == CURLE_OK && curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK)
            fmt = promtext_format_for_content_type(ct);
        curl_easy_cleanup(c);
    }
    curl_slist_free_all(hdr);
    int dur = (int)(clock_mono_ms() - mono);
    char why[300];
    if (b.too_big)
        snprintf(why, sizeof why, "body larger than %u MiB", QUERY_BODY_CAP >> 20);
    else if (rc != CURLE_OK)
        snprintf(why, sizeof why, "%s", err[0] ? err : curl_easy_strerror(rc));
    else if (code < 200 || code > 299)
        snprintf(why, sizeof why, "HTTP %ld", code);
    else
        why[0] = '\0';
    if (why[0])
        ingest_failed(db, t, start, dur, why);
    else
        ingest_scrape_as(db, t, fmt, b.p ? b.p : "", b.n, start, dur);
    free(b.p);
}

/* The widest range (with its offset) anywhere in the expression. */
static int64_t widest_range(const struct promql_expr *e)
{
    if (!e)
        return 0;
    int64_t w = e->kind == PQ_SELECTOR ? e->range_ms : 0;
    const struct promql_expr *kids[] = { e->lhs, e->rhs, e->args[0], e->args[1], e->args[2] };
    for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++) {
        int64_t k = widest_range(kids[i]);
        if (k > w)
            w = k;
    }
    return w;
}

/* Prints r as --json does: /api/v1/query's answer, and how many scrapes
 * the console made (0 when a server answered). */
static int print_json(const struct promql_result *r, int64_t at, int rounds)
{
    int len = promql_format_result(r, at, NULL, 0);
    char *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
    int rc = EXIT_ERROR;
    if (buf && promql_format_result(r, at, buf, (size_t)len + 1) >= 0) {
        printf("{\"status\":\"success\",\"data\":{\"resultType\":\"%s\",\"result\":%s},"
               "\"scrapes\":%d}\n",
               r->type == PROMQL_SCALAR ? "scalar" : "vector", buf, rounds);
        rc = EXIT_OK;
    }
    free(buf);
    return rc;
}

static void print_text(const struct promql_result *r)
{
    char v[PROMQL_VALUE_MAX];
    if (r->type == PROMQL_SCALAR) {
        promql_format_value(r->scalar, v, sizeof v);
        printf("scalar %s\n", v);
        return;
    }
    if (r->n == 0)
        printf("(no series)\n");
    for (size_t i = 0; i < r->n; i++) {
        const struct promql_sample *s = &r->samples[i];
        const char *name = promql_sample_label(s, "__name__");
        char line[4096];
        size_t used = (size_t)snprintf(line, sizeof line, "%s{", name ? name : "");
        bool first = true;
        for (size_t k = 0; k < s->n_labels && used < sizeof line; k++) {
            if (strcmp(s->labels[k].name, "__name__") == 0)
                continue;
            used += (size_t)snprintf(line + used, sizeof line - used, "%s%s=\"%s\"", first ? "" : ", ",
                                     s->labels[k].name, s->labels[k].value);
            first = false;
        }
        promql_format_value(s->v, v, sizeof v);
        if (used < sizeof line)
            snprintf(line + used, sizeof line - used, "} %s", v);
        san_fputs(line, stdout, 0);
        fputc('\n', stdout);
    }
}

/* The expression asked of the Prometheus server, at the client's now. Its
 * PromQL is the whole language; its errors are its own words. */
static int query_server(const struct config *cfg, const char *expr, bool json)
{
    char err[PROMAPI_ERR_MAX], msg[PROMAPI_ERR_MAX + 64];
    struct promapi_opts o = {
        .url = cfg->prometheus_url,
        .token_file = cfg->token_file,
        .timeout_ms = cfg->scrape_timeout_ms,
    };
    struct promapi *c = promapi_new(&o, err, sizeof err);
    if (!c) {
        cli_say(err);
        return EXIT_USAGE;
    }
    int64_t at = clock_real_ms(), t = at;
    struct promql_result r;
    int rc = EXIT_OK;
    if (promapi_query(c, expr, at, &r, &t, err, sizeof err) != 0) {
        snprintf(msg, sizeof msg, "query: %s: %s", promapi_url(c), err);
        cli_say(msg);
        rc = EXIT_ERROR;
    } else {
        if (json)
            rc = print_json(&r, t, 0);
        else
            print_text(&r);
        promql_result_free(&r);
    }
    promapi_free(&c);
    return rc;
}

int cli_query(const struct config *cfg, int argc, char **argv)
{
    const char *expr = NULL;
    bool json = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (!expr && argv[i][0] != '-') {
            expr = argv[i];
        } else {
            char msg[160];
            snprintf(msg, sizeof msg, "query: unexpected argument '%.64s' (see marketing --help)", argv[i]);
            cli_say(msg);
            return EXIT_USAGE;
        }
    }
    if (!expr) {
        cli_say("query: which expression? e.g. marketing query 'sum(rate(emails_sent_total[1m]))'");
        return EXIT_USAGE;
    }
    if (cfg->prometheus_url && cfg->prometheus_url[0])
        return query_server(cfg, expr, json);
    char err[512];
    struct promql_expr *e = promql_parse(expr, err, sizeof err);
    if (!e) {
        char msg[700];
        snprintf(msg, sizeof msg, "query: %s", err);
        cli_say(msg);
        return EXIT_USAGE;
    }
    char urls[QUERY_MAX_TARGETS][1024];
    const char *url_ptrs[QUERY_MAX_TARGETS];
    size_t n = config_split_list(cfg->metrics_url, urls, url_ptrs, QUERY_MAX_TARGETS);
    if (n == 0) {
        cli_say("query: no metrics_url is configured: nothing to scrape (see marketing.conf(5))");
        promql_free(&e);
        return EXIT_USAGE;
    }
    char *token = NULL;
    if (poller_load_token(cfg->token_file, &token, err, sizeof err) != 0) {
        cli_say(err);
        promql_free(&e);
        return EXIT_USAGE;
    }
    int64_t range = widest_range(e);
    int interval = cfg->scrape_ms;
    /* enough scrapes to fill the widest range, and at least two for rates */
    int64_t need = range + interval;
    struct tsdb *db = tsdb_new(range + 10 * 60000, 4u << 20);
    struct ingest_target t[QUERY_MAX_TARGETS];
    size_t nt = 0;
    int rc = db ? EXIT_OK : EXIT_ERROR;
    for (size_t i = 0; rc == EXIT_OK && i < n; i++) {
        char inst[512];
        ingest_instance_of(urls[i], inst, sizeof inst);
        if (ingest_target_init(&t[i], QUERY_JOB, inst) != 0)
            rc = EXIT_ERROR;
        else
            nt++;
    }
    bool tty = isatty(STDERR_FILENO);
    int64_t start = clock_mono_ms(), last = 0;
    int rounds = 0;
    while (rc == EXIT_OK) {
        int64_t round = clock_mono_ms();
        for (size_t i = 0; i < nt; i++)
            scrape(db, &t[i], urls[i], token, cfg->scrape_timeout_ms);
        last = clock_real_ms();
        rounds++;
        int64_t elapsed = clock_mono_ms() - start;
        if (elapsed >= need || range == 0)
            break;
        if (tty)
            fprintf(stderr, "\rscraping %zu target%s for the %llds the expression needs: %llds left ",
                    nt, nt == 1 ? "" : "s", (long long)(need / 1000),
                    (long long)((need - elapsed + 999) / 1000));
        int64_t wait = interval - (clock_mono_ms() - round);
        if (wait > 0) {
            struct timespec ts = { (time_t)(wait / 1000), (long)(wait % 1000) * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    if (tty && range > 0)
        fprintf(stderr, "\r%*s\r", 78, "");
    for (size_t i = 0; rc == EXIT_OK && i < nt; i++) {
        if (t[i].error[0]) {
            char msg[600];
            snprintf(msg, sizeof msg, "query: scrape of %.300s failed: %s", urls[i], t[i].error);
            cli_say(msg);
        }
    }
    struct promql_result r;
    if (rc == EXIT_OK) {
        /* evaluated at the last scrape, where its samples are */
        int64_t at = last;
        if (promql_eval(e, db, at, NULL, &r, err, sizeof err) != 0) {
            char msg[700];
            snprintf(msg, sizeof msg, "query: %s", err);
            cli_say(msg);
            rc = EXIT_ERROR;
        } else {
            if (json)
                rc = print_json(&r, at, rounds);
            else
                print_text(&r);
            promql_result_free(&r);
        }
    }
    for (size_t i = 0; i < nt; i++)
        ingest_target_free(&t[i]);
    tsdb_free(&db);
    free(token);
    promql_free(&e);
    return rc;
}
