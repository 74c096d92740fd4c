#include "promsrv.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "promapi.h"
#include "rules.h"
#include "threadwait.h"
#include "wakepipe.h"

#define DEFAULT_INTERVAL_MS 5000
#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_HISTORY_MS (15 * 60 * 1000)
#define DEFAULT_POINTS 180
#define HISTORY_EVERY_MS 15000
#define STOP_WAIT_MS 1200

struct promsrv {
    pthread_t thread;
    int wake_fd;
    struct promapi *api;
    int interval_ms;
    int64_t history_ms;
    int points;
    char *url;
    atomic_bool stop;

    /* the thread's own */
    struct rule_view *rules;
    size_t n_rules;
    bool have_rules, ok;
    char error[512];
    int64_t last_ok_ms;
    struct promsrv_point *hist;
    size_t n_hist;
    int64_t hist_ms, hist_next;

    pthread_mutex_t lock;        /* guards the fields below */
    pthread_cond_t cond;         /* done, or stop */
    bool done, orphaned;
    struct promsrv_snapshot *pending;
};

/* ---- rules from the server, as views ---- */

static char *dup_s(const char *s, bool *oom)
{
    char *d = strdup(s ? s : "");
    if (!d)
        *oom = true;
    return d;
}

static struct rule_pair *kv_pairs(const struct promapi_kv *kv, size_t n, bool *oom)
{
    if (!n)
        return NULL;
    struct rule_pair *p = calloc(n, sizeof *p);
    if (!p) {
        *oom = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        p[i].name = dup_s(kv[i].name, oom);
        p[i].value = dup_s(kv[i].value, oom);
    }
    return p;
}

static enum alert_state state_of(enum promapi_alert_state s)
{
    return s == PROMAPI_FIRING ? ALERT_FIRING : s == PROMAPI_PENDING ? ALERT_PENDING : ALERT_INACTIVE;
}

static int views_of(const struct promapi_rules *rs, struct rule_view **out, size_t *n_out)
{
    size_t n = 0;
    for (size_t g = 0; g < rs->n; g++)
        for (size_t i = 0; i < rs->groups[g].n_rules; i++)
            n += rs->groups[g].rules[i].type == PROMAPI_ALERTING;
    *out = NULL;
    *n_out = 0;
    if (!n)
        return 0;
    struct rule_view *v = calloc(n, sizeof *v);
    if (!v)
        return -1;
    bool oom = false;
    size_t k = 0;
    for (size_t g = 0; g < rs->n; g++) {
        const struct promapi_group *grp = &rs->groups[g];
        for (size_t i = 0; i < grp->n_rules; i++) {
            const struct promapi_rule *r = &grp->rules[i];
            if (r->type != PROMAPI_ALERTING)
                continue;
            struct rule_view *t = &v[k++];
            t->name = dup_s(r->name, &oom);
            t->group = dup_s(grp->name, &oom);
            t->expr = dup_s(r->query, &oom);
            t->source = "prometheus";
            t->for_ms = r->for_ms;
            t->keep_firing_for_ms = r->keep_firing_for_ms;
            t->interval_ms = grp->interval_ms;
            t->state = state_of(r->state);
            t->error = r->health == PROMAPI_HEALTH_ERR;
            if (t->error)
                t->why = dup_s(r->last_error && *r->last_error ? r->last_error : "the server reports an error",
                               &oom);
            t->last_eval_ms = r->last_evaluation_ms;
            t->data_ms = r->last_evaluation_ms;
            t->current = NAN;
            t->labels = kv_pairs(r->labels, r->n_labels, &oom);
            t->n_labels = r->n_labels;
            t->annotations = kv_pairs(r->annotations, r->n_annotations, &oom);
            t->n_annotations = r->n_annotations;
            const char *rb = promapi_kv_get(r->annotations, r->n_annotations, "runbook");
            if (rb) {
                t->runbook = dup_s(rb, &oom);
                const char *text = rules_runbook(rb);
                if (text)
                    t->runbook_text = dup_s(text, &oom);
            }
            if (r->n_alerts) {
                t->alerts = calloc(r->n_alerts, sizeof *t->alerts);
                if (!t->alerts) {
                    oom = true;
                    continue;
                }
                t->n_alerts = r->n_alerts;
            }
            for (size_t a = 0; a < r->n_alerts; a++) {
                const struct promapi_alert *pa = &r->alerts[a];
                struct alert_view *av = &t->alerts[a];
                av->labels = kv_pairs(pa->labels, pa->n_labels, &oom);
                av->n_labels = pa->n_labels;
                av->state = state_of(pa->state);
                av->value = pa->value;
                av->active_at_ms = pa->active_at_ms;
                const char *sum = promapi_kv_get(pa->annotations, pa->n_annotations, "summary");
                const char *desc = promapi_kv_get(pa->annotations, pa->n_annotations, "description");
                av->summary = sum ? dup_s(sum, &oom) : NULL;
                av->description = desc ? dup_s(desc, &oom) : NULL;
            }
        }
    }
    if (oom) {
        rule_views_free(&v, &k);
        return -1;
    }
    *out = v;
    *n_out = k;
    return 0;
}

static struct promapi *api_of(const struct promsrv_opts *o, const atomic_bool *cancel, char *err, size_t errsz)
{
    struct promapi_opts po = {
        .url = o->url, .token_file = o->token_file,
        .timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS,
        .cancel = cancel,
    };
    return promapi_new(&po, err, errsz);
}

int promsrv_read_rules(const struct promsrv_opts *o, struct rule_view **rules, size_t *n, char *err,
                       size_t errsz)
{
    struct promapi *api = api_of(o, NULL, err, errsz);
    if (!api)
        return -1;
    struct promapi_rules rs;
    int rc = promapi_rules(api, &rs, err, errsz);
    if (rc == 0) {
        rc = views_of(&rs, rules, n);
        if (rc != 0)
            snprintf(err, errsz, "out of memory");
        promapi_rules_free(&rs);
    }
    promapi_free(&api);
    return rc;
}

/* ---- the thread ---- */

static struct promsrv_snapshot *build(const struct promsrv *p)
{
    struct promsrv_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->url = strdup(p->url);
    s->ok = p->ok;
    snprintf(s->error, sizeof s->error, "%s", p->error);
    s->last_ok_ms = p->last_ok_ms;
    s->have_rules = p->have_rules;
    s->rules = rule_views_copy(p->rules, p->n_rules);
    s->n_rules = s->rules ? p->n_rules : 0;
    if (p->n_hist) {
        s->hist = malloc(p->n_hist * sizeof *s->hist);
        if (s->hist) {
            memcpy(s->hist, p->hist, p->n_hist * sizeof *s->hist);
            s->n_hist = p->n_hist;
        }
    }
    s->hist_ms = p->hist_ms;
    if (!s->url || (p->n_rules && !s->rules) || (p->n_hist && !s->hist))
        promsrv_snapshot_free(&s);
    return s;
}

static void publish(struct promsrv *p)
{
    struct promsrv_snapshot *s = build(p);
    if (!s)
        return;
    pthread_mutex_lock(&p->lock);
    struct promsrv_snapshot *old = p->pending;
    p->pending = s;
    pthread_mutex_unlock(&p->lock);
    promsrv_snapshot_free(&old);
    wakepipe_signal(p->wake_fd);
}

static void read_rules(struct promsrv *p)
{
    struct promapi_rules rs;
    char err[PROMAPI_ERR_MAX];
    struct rule_view *v = NULL;
    size_t n = 0;
    if (promapi_rules(p->api, &rs, err, sizeof err) == 0) {
        int rc = views_of(&rs, &v, &n);
        promapi_rules_free(&rs);
        if (rc == 0) {
            rule_views_free(&p->rules, &p->n_rules);
            p->rules = v;
            p->n_rules = n;
            p->have_rules = true;
            p->ok = true;
            p->error[0] = '\0';
            p->last_ok_ms = clock_real_ms();
            return;
        }
        snprintf(err, sizeof err, "out of memory");
    }
    /* keep what we had, frozen: nothing resolves for want of an answer */
    p->ok = false;
    snprintf(p->error, sizeof p->error, "%s", err);
    for (size_t i = 0; i < p->n_rules; i++) {
        free(p->rules[i].why);
        p->rules[i].why = strdup(err);
        p->rules[i].no_data = true;
    }
}

static void read_history(struct promsrv *p)
{
    int64_t now = clock_real_ms();
    int64_t step = p->history_ms / p->points;
    if (step < 1000)
        step = 1000;
    struct promapi_matrix m;
    char err[PROMAPI_ERR_MAX];
    if (promapi_query_range(p->api, PROMSRV_RATE_EXPR, now - p->history_ms, now, step, &m, err, sizeof err) != 0)
        return; /* the rules' error says the server is in trouble; the graph keeps its own data */
    size_t n = (size_t)(p->history_ms / step) + 1;
    struct promsrv_point *h = calloc(n, sizeof *h);
    if (h) {
        for (size_t i = 0; i < n; i++) {
            h[i].t_ms = now - p->history_ms + (int64_t)i * step;
            h[i].v = NAN;
        }
        /* one series (a sum); points fall on the steps asked for */
        for (size_t k = 0; m.n && k < m.series[0].n_points; k++) {
            const struct promapi_point *pt = &m.series[0].points[k];
            int64_t at = (pt->t_ms - (now - p->history_ms) + step / 2) / step;
            if (at >= 0 && (size_t)at < n)
                h[at].v = pt->v;
        }
        free(p->hist);
        p->hist = h;
        p->n_hist = n;
        p->hist_ms = now;
    }
    promapi_matrix_free(&m);
}

/* Frees p and everything it holds; the thread is gone, or is the caller. */
static void free_all(struct promsrv *p)
{
    promapi_free(&p->api);
    rule_views_free(&p->rules, &p->n_rules);
    free(p->hist);
    free(p->url);
    promsrv_snapshot_free(&p->pending);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p);
}

static void *run(void *arg)
{
    struct promsrv *p = arg;
    int64_t next = clock_mono_ms();
    while (!atomic_load(&p->stop)) {
        int64_t now = clock_mono_ms();
        if (now >= next) {
            read_rules(p);
            if (!atomic_load(&p->stop) && now >= p->hist_next) {
                read_history(p);
                p->hist_next = now + HISTORY_EVERY_MS;
            }
            publish(p);
            next = now + p->interval_ms;
        }
        pthread_mutex_lock(&p->lock);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t wait = next - clock_mono_ms();
        if (wait > 0 && !atomic_load(&p->stop)) {
            ts.tv_sec += (time_t)(wait / 1000);
            ts.tv_nsec += (long)(wait % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&p->cond, &p->lock, &ts);
        }
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_lock(&p->lock);
    p->done = true;
    bool orphan = p->orphaned;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    if (orphan)
        free_all(p);
    return NULL;
}

struct promsrv *promsrv_start(const struct promsrv_opts *o, int wake_fd, char *err, size_t errsz)
{
    struct promsrv *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    atomic_init(&p->stop, false);
    p->wake_fd = wake_fd;
    p->interval_ms = o->interval_ms > 0 ? o->interval_ms : DEFAULT_INTERVAL_MS;
    p->history_ms = o->history_ms > 0 ? o->history_ms : DEFAULT_HISTORY_MS;
    p->points = o->history_points > 0 ? o->history_points : DEFAULT_POINTS;
    p->url = strdup(o->url ? o->url : "");
    p->api = p->url ? api_of(o, &p->stop, err, errsz) : NULL;
    if (!p->api) {
        if (!p->url)
            snprintf(err, errsz, "out of memory");
        free(p->url);
        free(p);
        return NULL;
    }
    snprintf(p->error, sizeof p->error, "waiting for the first answer");
    pthread_mutex_init(&p->lock, NULL);
    threadwait_cond_init(&p->cond);
    int rc = threadwait_spawn(&p->thread, run, p);
    if (rc != 0) {
        snprintf(err, errsz, "cannot start the Prometheus reader: %s", strerror(rc));
        promapi_free(&p->api);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->cond);
        free(p->url);
        free(p);
        return NULL;
    }
    return p;
}

struct promsrv_snapshot *promsrv_take(struct promsrv *p)
{
    pthread_mutex_lock(&p->lock);
    struct promsrv_snapshot *s = p->pending;
    p->pending = NULL;
    pthread_mutex_unlock(&p->lock);
    return s;
}

void promsrv_snapshot_free(struct promsrv_snapshot **sp)
{
    struct promsrv_snapshot *s = *sp;
    if (!s)
        return;
    free(s->url);
    rule_views_free(&s->rules, &s->n_rules);
    free(s->hist);
    free(s);
    *sp = NULL;
}

bool promsrv_stop(struct promsrv **pp)
{
    struct promsrv *p = *pp;
    if (!p)
        return true;
    *pp = NULL;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    threadwait(&p->lock, &p->cond, &p->done, STOP_WAIT_MS);
    pthread_mutex_lock(&p->lock);
    bool done = p->done;
    if (!done)
        p->orphaned = true;
    pthread_mutex_unlock(&p->lock);
    if (!done) {
        pthread_detach(p->thread);
        return false;
    }
    pthread_join(p->thread, NULL);
    free_all(p);
    return true;
}
