/* What the console shows of alert rules and their alerts, whoever evaluated
 * them: the console's own rule engine (source "here") or a Prometheus
 * server (source "prometheus"). Plain data, deep-copied into every
 * snapshot, so the UI and the command line own what they read. */
#ifndef MARKETING_ALERTVIEW_H
#define MARKETING_ALERTVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerting.h"
#include "rules.h"

struct alert_view {
    struct rule_pair *labels;   /* sorted by name; the rule's labels included */
    size_t n_labels;
    enum alert_state state;     /* INACTIVE: resolved (kept a while, as Prometheus does) */
    double value;
    int64_t active_at_ms, fired_at_ms, resolved_at_ms;   /* epoch ms; 0: not so */
    char *summary, *description;                          /* expanded, or NULL */
};

struct rule_view {
    char *name, *group, *expr;
    const char *source;         /* "here" or "prometheus" (static) */
    int64_t for_ms, keep_firing_for_ms, interval_ms;
    enum alert_state state;     /* the rule's: its most severe alert */
    bool no_data;               /* the last evaluation could not see fresh data: states frozen */
    bool error;                 /* the expression failed (why says how) */
    char *why;                  /* for no_data or error, else NULL */
    int64_t last_eval_ms;       /* 0: not evaluated yet */
    int64_t data_ms;            /* epoch ms of the oldest of the data the last evaluation
                                   used (the oldest target's last good scrape); 0: unknown */
    /* The expression's value before its threshold (for "x > 0.05", x), so an
     * inactive rule still says how far it is from firing. NAN when there is
     * none; n_current counts its series (current is their largest). */
    double current;
    size_t n_current;
    char *threshold;            /* the comparison as written, e.g. "> 0.05", or NULL */
    struct rule_pair *labels, *annotations;
    size_t n_labels, n_annotations;
    char *runbook;              /* the `runbook` annotation, or NULL */
    char *runbook_text;         /* its text (shipped, or a file beside the rule file), or NULL */
    struct alert_view *alerts;
    size_t n_alerts;
};

/* Deep copies; NULL (and *out 0) when out of memory or n is 0. */
struct rule_view *rule_views_copy(const struct rule_view *v, size_t n);
void rule_views_free(struct rule_view **v, size_t *n);
/* Frees the contents of one view (not the view itself). */
void rule_view_clear(struct rule_view *v);

/* The value of label name on a, or NULL. */
const char *alert_view_label(const struct alert_view *a, const char *name);

/* The views as JSON (an array), in the shape of Prometheus's /api/v1/rules
 * alerting rules, plus the console's own fields (source, noData, why,
 * dataAge, current, runbook). now_ms is for the ages. A malloc'd string,
 * or NULL when out of memory. */
char *rule_views_json(const struct rule_view *v, size_t n, int64_t now_ms);

#endif
