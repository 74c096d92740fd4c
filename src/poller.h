/* The poller: a worker thread that scrapes the marketing system's Prometheus
 * /metrics targets and its /health and /ready JSON endpoints with libcurl,
 * and publishes immutable snapshots for the UI.
 *
 * Every endpoint is polled every interval_ms, each request bounded by
 * timeout_ms and body_cap. The metrics targets are scraped together in
 * rounds (the next round starts interval_ms after the previous one started,
 * or when its slowest request ends); /health and /ready keep their own
 * schedules, so one hung endpoint delays nothing else. A snapshot is
 * published, and wake_fd written one byte, whenever a request ends.
 *
 * Counters are summed across targets and rates follow Prometheus's counter
 * semantics per series: a series whose value went down was reset, so its
 * increase is its new value; a series that was not there before counts from
 * zero; the interval comes from the monotonic clock. A failed scrape keeps
 * the target's last good values in the sums, marked stale by its
 * endpoint_status (ok false, error set, last_ok_ms old); it never produces a
 * zero rate. NaN or infinite samples make the rates NAN, which the UI shows
 * as "n/a". */
#ifndef MARKETING_POLLER_H
#define MARKETING_POLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ruleng.h"
#include "scrape.h"

#define POLLER_MAX_TARGETS 8

struct poller_opts {
    const char *const *metrics_urls;     /* 0..POLLER_MAX_TARGETS targets, summed */
    size_t n_metrics;
    const char *health_url, *ready_url;  /* NULL or "" = not polled */
    const char *token_file;              /* NULL or "" = none; a bearer token, refused if
                                            group or world can read it; read again every
                                            round, so a rotated token is picked up */
    int interval_ms;                     /* <= 0: 1000 */
    int timeout_ms;                      /* per request; <= 0: 5000 */
    size_t body_cap;                     /* bytes, decoded; 0: 16 MiB */
    int history_s;                       /* rate history kept; <= 0: 1800 */
    struct ruleng *engine;               /* NULL, or a rule engine over metrics_urls (in that
                                            order), fed every scrape and evaluated after every
                                            round; the poller owns it from the call on, also
                                            when poller_start fails */
};

struct endpoint_status {
    char *url;
    bool ok;                  /* the last attempt succeeded */
    char error[256];          /* why it failed, one line; "" when ok or not tried yet */
    int64_t last_ok_ms;       /* epoch ms of the last success; 0: never */
    int64_t last_try_ms;      /* epoch ms the last attempt ended; 0: none yet */
    int http_status;          /* of the last attempt; 0: no response */
    uint64_t tries, oks;      /* attempts ended, and good ones, since start */
    int duration_ms;          /* of the last attempt */
};

struct health_info {
    struct endpoint_status ep;
    bool have;                /* a good document arrived at least once; the
                                 fields below are the last good one */
    char *status, *version;   /* version NULL when the document has none */
    int64_t uptime;           /* seconds; -1 when absent */
    size_t n_checks;
    char **check_names, **check_status;
    int64_t as_of_ms;         /* epoch ms of that document */
};

struct rate_point {
    int64_t t_ms;             /* epoch ms */
    double v;                 /* per second; NAN when unknown */
};

struct poll_snapshot {
    struct endpoint_status *targets;
    size_t n_targets;
    bool have_counters;       /* at least one good scrape */
    /* Sums over the targets' last good scrapes; NAN when no target has the
     * metric (or one of them reported NaN). */
    double sent, opened, clicked, failed, bounced;   /* emails_*_total */
    double http_requests, http_5xx;    /* http_requests_total, and those with status=~"5.." */
    double db_conn_active, db_conn_max; /* gauges: the largest over targets (every pod
                                           reports the same database) */
    /* Per second between each target's last two good scrapes, summed; NAN
     * when unknown (fewer than two good scrapes, NaN or Inf samples). */
    double sent_rate, opened_rate, clicked_rate, error_rate; /* error: of http_5xx */
    double failed_rate, bounced_rate, http_rate;
    struct rate_point *sent_hist;      /* oldest first: one point per scrape round with
                                          a good scrape, within history_s */
    size_t sent_hist_n;
    uint64_t rounds;                   /* metrics rounds ended since start */
    int64_t as_of_ms;                  /* epoch ms this snapshot was made */
    struct health_info health, ready;
    /* The rule engine's views (when the poller has one): every rule with its
     * alerts, and the extra queries, as of the last round. */
    bool have_rules;
    struct rule_view *rules;
    size_t n_rules;
    struct query_view *queries;
    size_t n_queries;
    size_t tsdb_series, tsdb_samples;  /* held by the series store */
};

struct poller;

/* Reads a bearer token file: 0 with *tok NULL when path is NULL or "";
 * -1 with a message naming the file when it is missing, unreadable, empty,
 * malformed, or readable by group or others (like libpq's password file).
 * The caller frees *tok. */
int poller_load_token(const char *path, char **tok, char *err, size_t errsz);

/* Starts the poller. Copies what it needs from o. Fails (NULL, a message in
 * err) on bad options or a token file that is missing, unreadable, empty,
 * malformed or readable by group or others. */
struct poller *poller_start(const struct poller_opts *o, int wake_fd, char *err, size_t errsz);

/* The newest snapshot since the last call (the caller owns it), or NULL. */
struct poll_snapshot *poller_take(struct poller *p);

void poll_snapshot_free(struct poll_snapshot **s);

/* Stops the poller and sets *p to NULL. Requests in flight are abandoned at
 * once (curl_multi_wakeup), so this returns within milliseconds even while
 * an endpoint hangs. Should the thread still not end within 900 ms (a
 * stuck name lookup), this returns false and the thread frees everything
 * when it does end: the caller must keep wake_fd open. True when the
 * poller has ended and is freed. */
bool poller_stop(struct poller **p);

#endif
