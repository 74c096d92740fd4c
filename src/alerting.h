/* Alert states, as Prometheus keeps them (rules/alerting.go): each output
 * series of a rule's expression is an alert, pending from its first
 * evaluation and firing once it has held for `for`; a firing alert that
 * goes away stays firing for keep_firing_for, then is resolved (kept 15
 * minutes to be shown so, as Prometheus keeps it for Alertmanager); a
 * pending one that goes away is dropped.
 *
 * One thing differs on purpose: an evaluation that could not look at whole
 * data (a scrape failed) resolves nothing: what it sees may still raise
 * and fire alerts, but an alert it does not see keeps its state, and the
 * rule says "no data"; one that could not run at all (no scrape yet, the
 * query failed) freezes every state. So a dead target never quietly
 * resolves an alert. */
#ifndef MARKETING_ALERTING_H
#define MARKETING_ALERTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

enum alert_state { ALERT_INACTIVE, ALERT_PENDING, ALERT_FIRING };

#define ALERT_RESOLVED_RETENTION_MS (15 * 60 * 1000)

/* One output series of the expression: its labels (without __name__) and
 * value. */
struct alert_input {
    const struct rule_pair *labels;
    size_t n_labels;
    double value;
};

struct alert {
    struct rule_pair *labels;   /* the series' labels and the rule's (which win), sorted by name */
    size_t n_labels;
    enum alert_state state;     /* INACTIVE here means resolved */
    double value;
    int64_t active_at_ms, fired_at_ms, resolved_at_ms, keep_firing_since_ms; /* 0: never */
    char *summary, *description; /* expanded annotations, or NULL */
};

struct alert_rule_state {
    const struct alert_rule *rule;
    struct alert *v;
    size_t n;
    int64_t last_eval_ms;       /* 0: never evaluated */
    bool no_data;               /* the last evaluation could not see fresh data */
    char why[256];              /* why not, or the expression's error */
};

void alert_rule_state_init(struct alert_rule_state *s, const struct alert_rule *rule);
void alert_rule_state_free(struct alert_rule_state *s);

/* An evaluation at now_ms that returned these series. Returns 0, or -1 when
 * memory ran out (the states are then as before). */
int alert_update(struct alert_rule_state *s, const struct alert_input *in, size_t n, int64_t now_ms);

/* An evaluation at now_ms over data that is not whole (a target's scrape
 * failed): the series it returned are applied as alert_update does (new
 * ones go pending, pending ones fire once `for` has passed), but an alert
 * it did not return keeps its state, neither resolved nor dropped, and the
 * rule says no data with why. */
int alert_update_partial(struct alert_rule_state *s, const struct alert_input *in, size_t n, int64_t now_ms,
                         const char *why);

/* An evaluation at now_ms that could not run on fresh data: every state
 * stays, marked no data, with why. */
void alert_no_data(struct alert_rule_state *s, const char *why, int64_t now_ms);

/* The rule's state: firing if any alert fires, else pending if any is
 * pending, else inactive. */
enum alert_state alert_rule_overall(const struct alert_rule_state *s);

const char *alert_state_name(enum alert_state st);

#endif
