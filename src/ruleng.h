/* The console's own rule engine: the scrapes of every metrics target go
 * into a series store (as Prometheus ingests them: job, instance, up,
 * staleness), and the alert rules of a Prometheus rule file are evaluated
 * over it at each group's interval, with Prometheus's pending/firing
 * states. Extra expressions (`marketing watch --query`) are evaluated at
 * every round.
 *
 * Honest about what it knows: while any target's last scrape failed, the
 * rules are evaluated on what there is (so an alert can still go pending
 * and fire, as in Prometheus), but nothing they do not see is resolved:
 * each rule says "no data" and why (alert_update_partial). Before every
 * target has answered once, nothing is evaluated. A rule whose expression
 * fails says so (health "err") and keeps its states. So a dead target
 * never quietly resolves an alert.
 *
 * Memory: series that a rule or query selects keep history_ms of samples;
 * the others keep their latest sample only; max_samples caps the total.
 *
 * Not thread-safe: one thread (the poller's) owns it. The views it gives
 * out are copies. */
#ifndef MARKETING_RULENG_H
#define MARKETING_RULENG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertview.h"
#include "config.h"
#include "promtext.h"

#define RULENG_JOB "marketing"

struct ruleng_opts {
    const char *const *urls;     /* the metrics targets, in order */
    size_t n_urls;
    const char *job;             /* NULL: RULENG_JOB */
    const char *rules_name;      /* for messages; NULL with rules_text NULL: the shipped file */
    const char *rules_text;      /* a rule file's text; NULL: the shipped rules */
    size_t rules_len;
    const char *runbook_dir;     /* where NAME.md runbooks beside the rule file are; NULL: none */
    const char *const *queries;  /* extra expressions evaluated every round */
    size_t n_queries;
    int64_t history_ms;          /* <= 0: one hour */
    size_t max_samples;          /* 0: 2 million */
};

struct query_view {
    char *expr;
    bool ok;
    char *error;                 /* when !ok */
    double value;                /* a scalar, or the first series' value; NAN when none */
    size_t n_series;             /* 0 for a scalar */
    int64_t at_ms;               /* when evaluated; 0: not yet */
};

struct ruleng;

/* Parses the rules and queries. NULL with every problem in errs when any is
 * wrong: "FILE:LINE:COL: ..." for the rule file, "FILE:LINE: alert NAME:
 * expr: 1:5: ..." for a rule's expression (LINE where the rule starts),
 * "query N (EXPR): 1:5: ..." for a query. The queries are checked once
 * the rule file reads. */
struct ruleng *ruleng_new(const struct ruleng_opts *o, struct config_errors *errs);
void ruleng_free(struct ruleng **e);

/* A scrape of target i that returned a body (ok) or failed (why). */
void ruleng_scraped(struct ruleng *e, size_t i, const char *body, size_t len, int64_t t_ms,
                    int duration_ms);
void ruleng_scraped_as(struct ruleng *e, size_t i, enum promtext_format fmt, const char *body, size_t len,
                       int64_t t_ms, int duration_ms);
void ruleng_scrape_failed(struct ruleng *e, size_t i, const char *why, int64_t t_ms,
                          int duration_ms);

/* Evaluates, at now_ms, the rules whose interval has come and every query.
 * Call after a round of scrapes. */
/* Every rule at every round, whatever its group's interval says (for a
 * one-shot `marketing alerts`, which cannot wait for the intervals). */
void ruleng_set_every_round(struct ruleng *e, bool on);
void ruleng_eval(struct ruleng *e, int64_t now_ms);

/* Copies of the current views; the caller frees them (rule_views_free,
 * query_views_free). 0 on success, -1 when out of memory. */
int ruleng_views(const struct ruleng *e, struct rule_view **rules, size_t *n_rules,
                 struct query_view **queries, size_t *n_queries);
void query_views_free(struct query_view **v, size_t *n);

/* The shipped rule file, or the file at path, into *text (malloc'd) and
 * *len; the runbook directory beside it into dir (a "runbooks" folder next
 * to the file; "" for the shipped rules). -1 with a message naming the file. */
int ruleng_read_rules(const char *path, char **text, size_t *len, char *dir, size_t dirsz,
                      char *err, size_t errsz);

/* The engine the configuration asks for: rule_file (or the shipped rules)
 * over metrics_url, with series_history and series_max_samples, plus the
 * queries. NULL with the problems in errs (a rule file that cannot be read
 * or has errors, no metrics_url). */
struct ruleng *ruleng_from_config(const struct config *cfg, const char *const *queries, size_t n_queries,
                                  struct config_errors *errs);

/* The number of series and samples held (for the Health screen). */
void ruleng_usage(const struct ruleng *e, size_t *series, size_t *samples);

#endif
