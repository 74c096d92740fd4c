/* Prometheus rule files, as the console reads them: the same YAML file a
 * Prometheus server loads (groups with a name and an interval, each with
 * alerting rules: alert, expr, for, keep_firing_for, labels, annotations),
 * and the annotation templates ({{ $value }}, {{ $labels.name }}, ...).
 *
 * Recording rules are read and counted but not evaluated. Errors name the
 * file, line and column: "rules.yml:12:9: 'for' is not a duration: 5 minutes".
 * Expressions are stored as text; the caller parses them with promql. */
#ifndef MARKETING_RULES_H
#define MARKETING_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct rule_pair {
    char *name, *value;
};

struct alert_rule {
    char *group;
    int64_t interval_ms;        /* the group's, or the default */
    char *name;                 /* alert */
    char *expr;
    int64_t for_ms, keep_firing_for_ms;
    struct rule_pair *labels;
    size_t n_labels;
    struct rule_pair *annotations;
    size_t n_annotations;
    size_t line;                /* where the rule starts in its file */
};

struct rule_set {
    struct alert_rule *v;
    size_t n;
    size_t n_recording;         /* read, not evaluated */
    size_t n_groups;
};

/* Parses a rule file's text (name is used in messages). Appends every
 * error to errs and returns their number; on 0, out holds the rules (free
 * with rule_set_free). default_interval_ms applies to groups without one. */
int rules_parse(const char *name, const char *text, size_t len, int64_t default_interval_ms,
                struct rule_set *out, struct config_errors *errs);

void rule_set_free(struct rule_set *s);

/* A Prometheus duration: 1y 1w 1d 1h 1m 1s 1ms, combined largest first
 * ("1h30m"), or "0". Returns milliseconds, or -1. */
int64_t rules_parse_duration(const char *s);

/* The annotation value of a rule, or NULL. */
const char *rule_annotation(const struct alert_rule *r, const char *name);

/* Expands an annotation template for one alert: {{ $value }} (and
 * {{ .Value }}), {{ $labels.NAME }} (and {{ .Labels.NAME }}), and the
 * filters humanize, humanizePercentage and printf "%.Nf" on $value, as
 * Prometheus writes them. labels are the alert's. Returns a malloc'd
 * string, or NULL when memory runs out. An unknown action is copied as it
 * is, so the text still says something. */
char *rules_expand(const char *tmpl, double value, const struct rule_pair *labels, size_t n);

/* A float as Go's %v writes it, which is how {{ $value }} looks: the
 * shortest digits that read back the same, as an exponent below 1e-4 and
 * from 1e6 (1e+06, 1.234567e+06), else fixed (0.06666666666666667). */
void rules_format_value(char *buf, size_t n, double v);

/* The shipped rule file (rules/marketing.rules.yml) and runbooks
 * (rules/runbooks/NAME.md), compiled in. */
struct runbook {
    const char *name, *text;
};
extern const char builtin_rules[];
extern const struct runbook builtin_runbooks[];
extern const size_t builtin_runbooks_count;

/* The runbook of that name, or NULL. */
const char *rules_runbook(const char *name);

#endif
