#include "alertview.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "promql.h"

static char *dup_or(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

static void pairs_free(struct rule_pair *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
}

static struct rule_pair *pairs_copy(const struct rule_pair *p, size_t n, bool *oom)
{
    if (!n)
        return NULL;
    struct rule_pair *d = calloc(n, sizeof *d);
    if (!d) {
        *oom = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        d[i].name = dup_or(p[i].name, oom);
        d[i].value = dup_or(p[i].value, oom);
    }
    return d;
}

static void alert_view_clear(struct alert_view *a)
{
    pairs_free(a->labels, a->n_labels);
    free(a->summary);
    free(a->description);
    memset(a, 0, sizeof *a);
}

void rule_view_clear(struct rule_view *v)
{
    free(v->name);
    free(v->group);
    free(v->expr);
    free(v->why);
    free(v->threshold);
    free(v->runbook);
    free(v->runbook_text);
    pairs_free(v->labels, v->n_labels);
    pairs_free(v->annotations, v->n_annotations);
    for (size_t i = 0; v->alerts && i < v->n_alerts; i++)
        alert_view_clear(&v->alerts[i]);
    free(v->alerts);
    memset(v, 0, sizeof *v);
}

void rule_views_free(struct rule_view **v, size_t *n)
{
    for (size_t i = 0; *v && i < *n; i++)
        rule_view_clear(&(*v)[i]);
    free(*v);
    *v = NULL;
    *n = 0;
}

struct rule_view *rule_views_copy(const struct rule_view *v, size_t n)
{
    if (!n)
        return NULL;
    struct rule_view *d = calloc(n, sizeof *d);
    if (!d)
        return NULL;
    bool oom = false;
    for (size_t i = 0; i < n; i++) {
        const struct rule_view *s = &v[i];
        struct rule_view *t = &d[i];
        *t = *s;
        t->name = dup_or(s->name, &oom);
        t->group = dup_or(s->group, &oom);
        t->expr = dup_or(s->expr, &oom);
        t->why = dup_or(s->why, &oom);
        t->threshold = dup_or(s->threshold, &oom);
        t->runbook = dup_or(s->runbook, &oom);
        t->runbook_text = dup_or(s->runbook_text, &oom);
        t->labels = pairs_copy(s->labels, s->n_labels, &oom);
        t->annotations = pairs_copy(s->annotations, s->n_annotations, &oom);
        t->alerts = s->n_alerts ? calloc(s->n_alerts, sizeof *t->alerts) : NULL;
        if (s->n_alerts && !t->alerts) {
            oom = true;
            t->n_alerts = 0;
        }
        for (size_t k = 0; t->alerts && k < s->n_alerts; k++) {
            const struct alert_view *a = &s->alerts[k];
            struct alert_view *b = &t->alerts[k];
            *b = *a;
            b->labels = pairs_copy(a->labels, a->n_labels, &oom);
            b->summary = dup_or(a->summary, &oom);
            b->description = dup_or(a->description, &oom);
        }
    }
    if (oom) {
        size_t nn = n;
        rule_views_free(&d, &nn);
    }
    return d;
}

const char *alert_view_label(const struct alert_view *a, const char *name)
{
    for (size_t i = 0; i < a->n_labels; i++)
        if (strcmp(a->labels[i].name, name) == 0)
            return a->labels[i].value;
    return NULL;
}

/* ---- JSON ---- */

static json_t *pairs_json(const struct rule_pair *p, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        json_object_set_new(o, p[i].name, json_string(p[i].value));
    return o;
}

/* RFC 3339 in UTC with milliseconds, as Prometheus writes activeAt. */
static json_t *time_json(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char buf[40];
    if (!gmtime_r(&s, &tm))
        return json_null();
    size_t len = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + len, sizeof buf - len, ".%03dZ", (int)(ms % 1000));
    return json_string(buf);
}

static json_t *value_json(double v)
{
    char buf[PROMQL_VALUE_MAX];
    promql_format_value(v, buf, sizeof buf);
    return json_string(buf);
}

char *rule_views_json(const struct rule_view *v, size_t n, int64_t now_ms)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        const struct rule_view *r = &v[i];
        json_t *alerts = json_array();
        for (size_t k = 0; alerts && k < r->n_alerts; k++) {
            const struct alert_view *a = &r->alerts[k];
            json_t *ann = json_object();
            if (ann && a->summary)
                json_object_set_new(ann, "summary", json_string(a->summary));
            if (ann && a->description)
                json_object_set_new(ann, "description", json_string(a->description));
            json_array_append_new(alerts, json_pack("{s:o, s:o, s:s, s:o, s:o, s:o, s:o}",
                "labels", pairs_json(a->labels, a->n_labels),
                "annotations", ann ? ann : json_object(),
                "state", alert_state_name(a->state),
                "activeAt", time_json(a->active_at_ms),
                "firedAt", time_json(a->fired_at_ms),
                "resolvedAt", time_json(a->resolved_at_ms),
                "value", value_json(a->value)));
        }
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:s, s:o, s:o, s:o, s:b, s:s?, "
                              "s:o, s:o, s:o, s:s?, s:s?, s:o}",
            "name", r->name ? r->name : "",
            "group", r->group ? r->group : "",
            "query", r->expr ? r->expr : "",
            "source", r->source ? r->source : "here",
            "duration", (double)r->for_ms / 1000.0,
            "keepFiringFor", (double)r->keep_firing_for_ms / 1000.0,
            "interval", (double)r->interval_ms / 1000.0,
            "state", alert_state_name(r->state),
            "health", json_string(r->error ? "err" : r->last_eval_ms ? "ok" : "unknown"),
            "labels", pairs_json(r->labels, r->n_labels),
            "annotations", pairs_json(r->annotations, r->n_annotations),
            "noData", r->no_data,
            "why", r->why,
            "lastEvaluation", time_json(r->last_eval_ms),
            "dataAge", r->data_ms > 0 ? json_real((double)(now_ms - r->data_ms) / 1000.0) : json_null(),
            "current", r->n_current ? value_json(r->current) : json_null(),
            "threshold", r->threshold,
            "runbook", r->runbook,
            "alerts", alerts ? alerts : json_array());
        if (!o) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, o);
    }
    if (!arr)
        return NULL;
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s;
}
