#include "alerting.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *alert_state_name(enum alert_state st)
{
    return st == ALERT_FIRING ? "firing" : st == ALERT_PENDING ? "pending" : "inactive";
}

void alert_rule_state_init(struct alert_rule_state *s, const struct alert_rule *rule)
{
    memset(s, 0, sizeof *s);
    s->rule = rule;
}

static void free_alert(struct alert *a)
{
    for (size_t i = 0; i < a->n_labels; i++) {
        free(a->labels[i].name);
        free(a->labels[i].value);
    }
    free(a->labels);
    free(a->summary);
    free(a->description);
}

void alert_rule_state_free(struct alert_rule_state *s)
{
    for (size_t i = 0; i < s->n; i++)
        free_alert(&s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static int cmp_pair(const void *a, const void *b)
{
    return strcmp(((const struct rule_pair *)a)->name, ((const struct rule_pair *)b)->name);
}

/* The alert's label set: the series' labels, then the rule's over them. */
static int make_labels(const struct alert_rule *r, const struct alert_input *in, struct rule_pair **out,
                       size_t *n)
{
    size_t cap = in->n_labels + r->n_labels + 1;
    struct rule_pair *v = calloc(cap + 1, sizeof *v);
    if (!v)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < in->n_labels; i++) {
        if (strcmp(in->labels[i].name, "__name__") == 0)
            continue;
        bool overridden = strcmp(in->labels[i].name, "alertname") == 0;
        for (size_t j = 0; j < r->n_labels && !overridden; j++)
            overridden = strcmp(r->labels[j].name, in->labels[i].name) == 0;
        if (overridden)
            continue;
        v[k].name = strdup(in->labels[i].name);
        v[k].value = strdup(in->labels[i].value);
        k++;
    }
    /* the rule's labels, templated as its annotations are, then alertname */
    for (size_t j = 0; j < r->n_labels; j++, k++) {
        v[k].name = strdup(r->labels[j].name);
        v[k].value = rules_expand(r->labels[j].value, in->value, in->labels, in->n_labels);
    }
    v[k].name = strdup("alertname");
    v[k++].value = strdup(r->name);
    bool oom = false;
    for (size_t i = 0; i < k; i++)
        oom |= !v[i].name || !v[i].value;
    if (oom) {
        for (size_t i = 0; i < k; i++) {
            free(v[i].name);
            free(v[i].value);
        }
        free(v);
        return -1;
    }
    qsort(v, k, sizeof *v, cmp_pair);
    *out = v;
    *n = k;
    return 0;
}

static bool same_labels(const struct rule_pair *a, size_t na, const struct rule_pair *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i].name, b[i].name) != 0 || strcmp(a[i].value, b[i].value) != 0)
            return false;
    return true;
}

static void annotate(const struct alert_rule *r, struct alert *a, const struct alert_input *in)
{
    const char *sum = rule_annotation(r, "summary"), *desc = rule_annotation(r, "description");
    free(a->summary);
    free(a->description);
    /* templates see the series' own labels, as in Prometheus */
    a->summary = sum ? rules_expand(sum, in->value, in->labels, in->n_labels) : NULL;
    a->description = desc ? rules_expand(desc, in->value, in->labels, in->n_labels) : NULL;
}

static int update(struct alert_rule_state *s, const struct alert_input *in, size_t n, int64_t now_ms,
                  const char *stale_why);

int alert_update(struct alert_rule_state *s, const struct alert_input *in, size_t n, int64_t now_ms)
{
    return update(s, in, n, now_ms, NULL);
}

int alert_update_partial(struct alert_rule_state *s, const struct alert_input *in, size_t n, int64_t now_ms,
                         const char *why)
{
    return update(s, in, n, now_ms, why ? why : "no data");
}

static int update(struct alert_rule_state *s, const struct alert_input *in, size_t n, int64_t now_ms,
                  const char *stale_why)
{
    const struct alert_rule *r = s->rule;
    /* which alert each input is, making new ones as needed */
    bool *seen = calloc(s->n + n + 1, sizeof *seen);
    struct alert *g = realloc(s->v, (s->n + n + 1) * sizeof *g);
    if (!seen || !g) {
        free(seen);
        if (g)
            s->v = g;
        return -1;
    }
    s->v = g;
    for (size_t i = 0; i < n; i++) {
        struct rule_pair *labels;
        size_t nl;
        if (make_labels(r, &in[i], &labels, &nl) != 0) {
            free(seen);
            return -1;
        }
        size_t at = s->n;
        for (size_t k = 0; k < s->n; k++)
            if (same_labels(s->v[k].labels, s->v[k].n_labels, labels, nl))
                at = k;
        struct alert *a = &s->v[at];
        if (at < s->n && a->state != ALERT_INACTIVE) {
            for (size_t k = 0; k < nl; k++) {
                free(labels[k].name);
                free(labels[k].value);
            }
            free(labels);
        } else {
            /* new, or back after being resolved: pending from now */
            if (at < s->n)
                free_alert(a);
            else
                s->n++;
            memset(a, 0, sizeof *a);
            a->labels = labels;
            a->n_labels = nl;
            a->state = ALERT_PENDING;
            a->active_at_ms = now_ms;
        }
        a->value = in[i].value;
        annotate(r, a, &in[i]);
        seen[at] = true;
    }
    /* then every alert, as Prometheus walks its active set */
    size_t w = 0;
    for (size_t k = 0; k < s->n; k++) {
        struct alert *a = &s->v[k];
        bool drop = false;
        if (!seen[k] && stale_why) {
            /* not seen, but the data is not whole: it stays as it is */
        } else if (!seen[k]) {
            bool keep_firing = false;
            if (a->state == ALERT_FIRING && r->keep_firing_for_ms > 0) {
                if (!a->keep_firing_since_ms)
                    a->keep_firing_since_ms = now_ms;
                keep_firing = now_ms - a->keep_firing_since_ms < r->keep_firing_for_ms;
            }
            if (a->state == ALERT_PENDING ||
                (a->resolved_at_ms && now_ms - a->resolved_at_ms > ALERT_RESOLVED_RETENTION_MS))
                drop = true;
            if (a->state != ALERT_INACTIVE && !keep_firing) {
                a->state = ALERT_INACTIVE;
                a->resolved_at_ms = now_ms;
            }
        } else {
            a->keep_firing_since_ms = 0;
            a->resolved_at_ms = 0;
        }
        if (!drop && a->state == ALERT_PENDING && (seen[k] || !stale_why) &&
            now_ms - a->active_at_ms >= r->for_ms) {
            a->state = ALERT_FIRING;
            a->fired_at_ms = now_ms;
        }
        if (drop)
            free_alert(a);
        else
            s->v[w++] = *a;
    }
    s->n = w;
    free(seen);
    s->last_eval_ms = now_ms;
    s->no_data = stale_why != NULL;
    snprintf(s->why, sizeof s->why, "%s", stale_why ? stale_why : "");
    return 0;
}

void alert_no_data(struct alert_rule_state *s, const char *why, int64_t now_ms)
{
    s->no_data = true;
    s->last_eval_ms = now_ms;
    snprintf(s->why, sizeof s->why, "%s", why ? why : "no data");
}

enum alert_state alert_rule_overall(const struct alert_rule_state *s)
{
    enum alert_state st = ALERT_INACTIVE;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].state > st)
            st = s->v[i].state;
    return st;
}
