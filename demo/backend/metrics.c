/* metrics: registry and exposition. Only fixed label values are ever used
 * (methods, the known paths plus "other", status codes), so cardinality is
 * bounded and no label escaping is needed. */
#include "metrics.h"

#include "proc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_BUCKETS 11
#define METRICS_STATUSES 16

static const double metrics_bounds[METRICS_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const char *const metrics_bound_names[METRICS_BUCKETS] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"};
static const char *const metrics_method_names[HM_COUNT] = {"GET", "HEAD", "POST", "other"};
static const char *const metrics_path_names[HP_COUNT] = {
    "/metrics", "/health", "/ready", "/control", "other"};

struct metrics_hist {
    uint64_t buckets[METRICS_BUCKETS]; /* not cumulative; summed when rendered */
    uint64_t count;
    double sum;
};

struct metrics_status {
    unsigned status;
    uint64_t count[HM_COUNT][HP_COUNT];
};

static struct {
    atomic_ullong email[EC_COUNT];
    double start_time;
    pthread_mutex_t lock;
    struct metrics_hist hist[HM_COUNT][HP_COUNT];
    struct metrics_status statuses[METRICS_STATUSES];
    size_t nstatuses;
    struct db_stats db;
    bool db_valid;
} metrics = {.lock = PTHREAD_MUTEX_INITIALIZER};

void metrics_init(double start_time)
{
    int i;

    for (i = 0; i < EC_COUNT; i++)
        atomic_store(&metrics.email[i], 0);
    metrics.start_time = start_time;
}

enum http_method metrics_method(const char *method)
{
    if (strcmp(method, "GET") == 0)
        return HM_GET;
    if (strcmp(method, "HEAD") == 0)
        return HM_HEAD;
    if (strcmp(method, "POST") == 0)
        return HM_POST;
    return HM_OTHER;
}

enum http_path metrics_path(const char *url)
{
    int i;

    for (i = 0; i < HP_OTHER; i++)
        if (strcmp(url, metrics_path_names[i]) == 0)
            return (enum http_path)i;
    return HP_OTHER;
}

void metrics_email_add(enum email_counter c, uint64_t n)
{
    if (n)
        atomic_fetch_add(&metrics.email[c], n);
}

uint64_t metrics_email_get(enum email_counter c)
{
    return atomic_load(&metrics.email[c]);
}

void metrics_http_observe(enum http_method m, enum http_path p, unsigned status, double seconds)
{
    struct metrics_hist *h;
    size_t i;
    int b;

    pthread_mutex_lock(&metrics.lock);
    h = &metrics.hist[m][p];
    for (b = 0; b < METRICS_BUCKETS; b++)
        if (seconds <= metrics_bounds[b]) {
            h->buckets[b]++;
            break;
        }
    h->count++;
    h->sum += seconds;
    for (i = 0; i < metrics.nstatuses; i++)
        if (metrics.statuses[i].status == status)
            break;
    if (i == metrics.nstatuses && i < METRICS_STATUSES) {
        metrics.nstatuses++;
        metrics.statuses[i].status = status;
    }
    if (i < METRICS_STATUSES) /* our handlers use a handful of codes; the table stays bounded */
        metrics.statuses[i].count[m][p]++;
    pthread_mutex_unlock(&metrics.lock);
}

void metrics_db_set(const struct db_stats *s)
{
    pthread_mutex_lock(&metrics.lock);
    metrics.db = *s;
    metrics.db_valid = true;
    pthread_mutex_unlock(&metrics.lock);
}

static void metrics_family(struct strbuf *out, const char *name, const char *type, const char *help)
{
    strbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* the shortest of %.15g and %.17g that reads back as the same value */
static void metrics_value(struct strbuf *out, double v)
{
    char buf[40];

    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%.17g", v);
    strbuf_puts(out, buf);
}

static void metrics_scalar(struct strbuf *out, const char *name, const char *type, const char *help,
                           double value, bool present)
{
    metrics_family(out, name, type, help);
    if (present) {
        strbuf_puts(out, name);
        strbuf_putc(out, ' ');
        metrics_value(out, value);
        strbuf_putc(out, '\n');
    }
}

static void metrics_render_http(struct strbuf *out)
{
    size_t i;
    int m, p, b;

    metrics_family(out, "http_requests_total", "counter",
                   "HTTP requests served, by method, path (unknown paths are \"other\") and status.");
    for (i = 0; i < metrics.nstatuses; i++)
        for (m = 0; m < HM_COUNT; m++)
            for (p = 0; p < HP_COUNT; p++)
                if (metrics.statuses[i].count[m][p])
                    strbuf_printf(out,
                                  "http_requests_total{method=\"%s\",path=\"%s\",status=\"%u\"} %llu\n",
                                  metrics_method_names[m], metrics_path_names[p],
                                  metrics.statuses[i].status,
                                  (unsigned long long)metrics.statuses[i].count[m][p]);

    metrics_family(out, "http_request_duration_seconds", "histogram",
                   "Time from the start of a request to the end of its response.");
    for (m = 0; m < HM_COUNT; m++)
        for (p = 0; p < HP_COUNT; p++) {
            const struct metrics_hist *h = &metrics.hist[m][p];
            const char *mn = metrics_method_names[m];
            const char *pn = metrics_path_names[p];
            uint64_t cum = 0;

            if (!h->count)
                continue;
            for (b = 0; b < METRICS_BUCKETS; b++) {
                cum += h->buckets[b];
                strbuf_printf(out,
                              "http_request_duration_seconds_bucket{method=\"%s\",path=\"%s\",le=\"%s\"} %llu\n",
                              mn, pn, metrics_bound_names[b], (unsigned long long)cum);
            }
            strbuf_printf(out,
                          "http_request_duration_seconds_bucket{method=\"%s\",path=\"%s\",le=\"+Inf\"} %llu\n",
                          mn, pn, (unsigned long long)h->count);
            strbuf_printf(out, "http_request_duration_seconds_sum{method=\"%s\",path=\"%s\"} ", mn, pn);
            metrics_value(out, h->sum);
            strbuf_putc(out, '\n');
            strbuf_printf(out, "http_request_duration_seconds_count{method=\"%s\",path=\"%s\"} %llu\n",
                          mn, pn, (unsigned long long)h->count);
        }
}

static void metrics_render_email(struct strbuf *out)
{
    static const struct {
        enum email_counter c;
        const char *name;
        const char *help;
    } counters[] = {
        {EC_SENT, "emails_sent_total", "Messages handed to the sink and recorded as sent."},
        {EC_OPENED, "emails_opened_total", "Sent messages recorded as opened (simulated)."},
        {EC_CLICKED, "emails_clicked_total", "Sent messages recorded as clicked (simulated)."},
        {EC_FAILED, "emails_failed_total", "Messages recorded as failed."},
        {EC_BOUNCED, "emails_bounced_total", "Messages recorded as bounced."},
        {EC_CONVERSIONS, "conversions_total", "Conversions recorded after a click (simulated)."},
        {EC_SIM_DROPPED, "simulation_events_dropped_total",
         "Open and click events dropped because the event queue was full."},
        {EC_TEST_SENT, "emails_test_sent_total",
         "Test sends handed to the sink (never counted as campaign sends)."},
    };
    size_t i;

    for (i = 0; i < sizeof counters / sizeof counters[0]; i++)
        metrics_scalar(out, counters[i].name, "counter", counters[i].help,
                       (double)metrics_email_get(counters[i].c), true);
}

bool metrics_render(struct strbuf *out)
{
    struct proc_stats ps;
    bool proc_ok = proc_sample(&ps);
    bool v;

    pthread_mutex_lock(&metrics.lock);
    metrics_render_http(out);
    v = metrics.db_valid;
    metrics_scalar(out, "campaigns_created_total", "counter", "Campaigns in the database.",
                   (double)metrics.db.campaigns, v);
    metrics_scalar(out, "campaigns_launched_total", "counter",
                   "Campaigns in the database that were ever launched.", (double)metrics.db.launched, v);
    metrics_scalar(out, "campaigns_active", "gauge", "Campaigns whose status is active.",
                   (double)metrics.db.active, v);
    metrics_scalar(out, "database_connections_active", "gauge",
                   "Connections to the marketing database (pg_stat_activity).",
                   (double)metrics.db.connections, v);
    metrics_scalar(out, "database_connections_max", "gauge", "The server's max_connections.",
                   (double)metrics.db.max_connections, v);
    pthread_mutex_unlock(&metrics.lock);

    metrics_render_email(out);

    metrics_scalar(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
                   ps.cpu_seconds, proc_ok);
    metrics_scalar(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                   ps.resident_bytes, proc_ok);
    metrics_scalar(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
                   ps.virtual_bytes, proc_ok);
    metrics_scalar(out, "process_open_fds", "gauge", "Number of open file descriptors.", ps.open_fds, true);
    metrics_scalar(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
                   ps.max_fds, ps.max_fds > 0);
    metrics_scalar(out, "process_start_time_seconds", "gauge",
                   "Start time of the process since unix epoch in seconds.", metrics.start_time, true);
    return !out->failed;
}
