/* Prometheus server mode: a worker thread that reads the alert rules (with
 * their alerts) from a Prometheus server's /api/v1/rules every interval,
 * and the send rate's recent history from /api/v1/query_range, and
 * publishes them as snapshots for the UI, as the poller does.
 *
 * The rules arrive as the console's own rule views (source "prometheus"),
 * so the Alerts pane shows them as it shows its own. When the server does
 * not answer, the last good views stay, each marked no data with the error
 * as why: an unreachable server never resolves an alert. */
#ifndef MARKETING_PROMSRV_H
#define MARKETING_PROMSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertview.h"

#define PROMSRV_RATE_EXPR "sum(rate(emails_sent_total[1m]))"

struct promsrv_opts {
    const char *url;             /* prometheus_url */
    const char *token_file;      /* NULL or "": none */
    int interval_ms;             /* rules; <= 0: 5000 */
    int timeout_ms;              /* per request; <= 0: 5000 */
    int64_t history_ms;          /* the send-rate history read; <= 0: 15 minutes */
    int history_points;          /* its resolution; <= 0: 180 */
};

struct promsrv_point {
    int64_t t_ms;                /* epoch ms */
    double v;                    /* emails per second */
};

struct promsrv_snapshot {
    char *url;
    bool ok;                     /* the last round answered */
    char error[512];             /* why not, one line */
    int64_t last_ok_ms;          /* epoch ms; 0: never */
    bool have_rules;             /* a good answer came at least once: rules below are the last */
    struct rule_view *rules;
    size_t n_rules;
    struct promsrv_point *hist;  /* PROMSRV_RATE_EXPR, oldest first; NAN where it had none */
    size_t n_hist;
    int64_t hist_ms;             /* when the history was read; 0: not yet */
};

struct promsrv;

/* Starts the thread (checking the options and the token file first). NULL
 * with a message on bad options. */
struct promsrv *promsrv_start(const struct promsrv_opts *o, int wake_fd, char *err, size_t errsz);

/* The newest snapshot since the last call (the caller owns it), or NULL. */
struct promsrv_snapshot *promsrv_take(struct promsrv *p);
void promsrv_snapshot_free(struct promsrv_snapshot **s);

/* Stops the thread: requests in flight are abandoned. True when it has
 * ended and everything is freed; false when it did not end within a
 * second (it then frees itself; keep wake_fd open). */
bool promsrv_stop(struct promsrv **p);

/* One round without a thread, for the command line: the rules as views
 * (source "prometheus"). 0, or -1 with a message. */
int promsrv_read_rules(const struct promsrv_opts *o, struct rule_view **rules, size_t *n, char *err,
                       size_t errsz);

#endif
