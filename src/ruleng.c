#include "ruleng.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alerting.h"
#include "ingest.h"
#include "promql.h"
#include "rules.h"
#include "tsdb.h"

#define DEFAULT_HISTORY_MS (3600 * 1000)
#define DEFAULT_MAX_SAMPLES (2u << 20)
#define RULE_FILE_MAX (4u << 20)
#define RUNBOOK_MAX (256u << 10)

struct target {
    struct ingest_target in;
    char *url;
    bool tried, ok;
    int64_t last_ok_ms;           /* 0: never */
    char why[300];
};

struct rule {
    struct alert_rule_state st;
    struct promql_expr *expr;     /* the whole expression */
    const struct promql_expr *probe; /* its value before the threshold, or NULL */
    char *threshold;
    int64_t next_eval_ms;
    bool error;
    double current;
    size_t n_current;
    int64_t data_ms;
    char *runbook_text;
};

struct query {
    struct query_view v;
    struct promql_expr *expr;
};

struct ruleng {
    struct tsdb *db;
    struct rule_set set;
    struct rule *rules;
    struct target *targets;
    size_t n_targets;
    struct query *queries;
    size_t n_queries;
    bool every_round;
};

/* ---- which series keep history: those a rule or query selects ---- */

static bool selector_matches(const struct promql_expr *s, const struct tsdb_label *l, size_t n)
{
    for (size_t m = 0; m < s->n_matchers; m++) {
        const char *v = NULL;
        for (size_t i = 0; i < n && !v; i++)
            if (strcmp(l[i].name, s->matchers[m].name) == 0)
                v = l[i].value;
        if (!tsdb_matcher_matches(&s->matchers[m], v))
            return false;
    }
    return true;
}

static bool expr_selects(const struct promql_expr *e, const struct tsdb_label *l, size_t n)
{
    if (!e)
        return false;
    if (e->kind == PQ_SELECTOR)
        return selector_matches(e, l, n);
    const struct promql_expr *kids[] = { e->lhs, e->rhs, e->args[0], e->args[1], e->args[2] };
    for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++)
        if (expr_selects(kids[i], l, n))
            return true;
    return false;
}

static bool keep_history(void *arg, const struct tsdb_label *l, size_t n)
{
    const struct ruleng *e = arg;
    for (size_t i = 0; i < e->set.n; i++)
        if (expr_selects(e->rules[i].expr, l, n))
            return true;
    for (size_t i = 0; i < e->n_queries; i++)
        if (expr_selects(e->queries[i].expr, l, n))
            return true;
    return false;
}

/* ---- the value before the threshold ---- */

static bool is_comparison(enum promql_op op)
{
    return op == PQ_EQ || op == PQ_NE || op == PQ_GT || op == PQ_LT || op == PQ_GE || op == PQ_LE;
}

static const char *op_text(enum promql_op op)
{
    static const char *const t[] = { [PQ_EQ] = "==", [PQ_NE] = "!=", [PQ_GT] = ">",
                                     [PQ_LT] = "<", [PQ_GE] = ">=", [PQ_LE] = "<=" };
    return t[op];
}

/* For "x > 0.05" (also inside "... and on() ..." and parentheses): x, and
 * the threshold "> 0.05". An alert expression filters; what it filtered
 * tells an operator how close it is to firing. */
static const struct promql_expr *find_probe(const struct promql_expr *e, char *thr, size_t n)
{
    while (e && (e->kind == PQ_PAREN || (e->kind == PQ_BINARY && (e->op == PQ_AND || e->op == PQ_UNLESS))))
        e = e->lhs;
    if (!e || e->kind != PQ_BINARY || !is_comparison(e->op) || e->return_bool)
        return NULL;
    const struct promql_expr *r = e->rhs;
    while (r && r->kind == PQ_PAREN)
        r = r->lhs;
    if (!r || r->kind != PQ_NUMBER || e->lhs->type != PROMQL_VECTOR)
        return NULL;
    char v[PROMQL_VALUE_MAX];
    promql_format_value(r->num, v, sizeof v);
    snprintf(thr, n, "%s %s", op_text(e->op), v);
    return e->lhs;
}

/* ---- setup ---- */

static char *read_small_file(const char *path, size_t cap, size_t *len, char *err, size_t errsz)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((size_t)st.st_size > cap) {
        snprintf(err, errsz, "%s: larger than %zu KiB", path, cap >> 10);
        close(fd);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = 0;
    while (buf && n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (!buf) {
        snprintf(err, errsz, "%s: out of memory", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int ruleng_read_rules(const char *path, char **text, size_t *len, char *dir, size_t dirsz,
                      char *err, size_t errsz)
{
    if (!path || !*path) {
        *text = strdup(builtin_rules);
        *len = *text ? strlen(*text) : 0;
        if (dir && dirsz)
            dir[0] = '\0';
        if (!*text)
            snprintf(err, errsz, "out of memory");
        return *text ? 0 : -1;
    }
    *text = read_small_file(path, RULE_FILE_MAX, len, err, errsz);
    if (!*text)
        return -1;
    if (dir && dirsz) {
        const char *slash = strrchr(path, '/');
        if (slash)
            snprintf(dir, dirsz, "%.*s/runbooks", (int)(slash - path), path);
        else
            snprintf(dir, dirsz, "runbooks");
    }
    return 0;
}

/* The runbook an alert names: shipped, or NAME.md in dir. Only a plain name
 * is looked up (a URL or a path is shown as it is). */
static char *find_runbook(const char *name, const char *dir)
{
    if (!name || !*name)
        return NULL;
    const char *text = rules_runbook(name);
    if (text)
        return strdup(text);
    if (!dir || !*dir || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
                             strlen(name) || name[0] == '.')
        return NULL;
    char path[1200], err[300];
    size_t len;
    snprintf(path, sizeof path, "%s/%s.md", dir, name);
    return read_small_file(path, RUNBOOK_MAX, &len, err, sizeof err);
}

struct ruleng *ruleng_new(const struct ruleng_opts *o, struct config_errors *errs)
{
    struct ruleng *e = calloc(1, sizeof *e);
    if (!e) {
        config_errors_add(errs, "out of memory");
        return NULL;
    }
    int64_t history = o->history_ms > 0 ? o->history_ms : DEFAULT_HISTORY_MS;
    e->db = tsdb_new(history, o->max_samples ? o->max_samples : DEFAULT_MAX_SAMPLES);
    const char *text = o->rules_text ? o->rules_text : builtin_rules;
    size_t len = o->rules_text ? o->rules_len : strlen(builtin_rules);
    const char *name = o->rules_name ? o->rules_name : "marketing.rules.yml (shipped)";
    size_t before = errs->n;
    if (!e->db || rules_parse(name, text, len, 15000, &e->set, errs) != 0)
        goto fail;
    e->rules = calloc(e->set.n + 1, sizeof *e->rules);
    e->targets = calloc(o->n_urls + 1, sizeof *e->targets);
    e->queries = calloc(o->n_queries + 1, sizeof *e->queries);
    if (!e->rules || !e->targets || !e->queries) {
        config_errors_add(errs, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < e->set.n; i++) {
        struct rule *r = &e->rules[i];
        const struct alert_rule *ar = &e->set.v[i];
        char err[512], msg[900], thr[PROMQL_VALUE_MAX + 8];
        alert_rule_state_init(&r->st, ar);
        r->current = NAN;
        r->expr = promql_parse(ar->expr, err, sizeof err);
        if (!r->expr) {
            snprintf(msg, sizeof msg, "%s:%zu: alert %s: expr: %s", name, ar->line, ar->name, err);
            config_errors_add(errs, msg);
            continue;
        }
        if (r->expr->type != PROMQL_VECTOR) {
            snprintf(msg, sizeof msg, "%s:%zu: alert %s: expr must be a vector expression", name,
                     ar->line, ar->name);
            config_errors_add(errs, msg);
            continue;
        }
        r->probe = find_probe(r->expr, thr, sizeof thr);
        r->threshold = r->probe ? strdup(thr) : NULL;
        r->runbook_text = find_runbook(rule_annotation(ar, "runbook"), o->runbook_dir);
    }
    e->n_queries = o->n_queries;
    for (size_t i = 0; i < o->n_queries; i++) {
        struct query *q = &e->queries[i];
        char err[512], msg[900];
        q->v.expr = strdup(o->queries[i]);
        q->v.value = NAN;
        q->expr = promql_parse(o->queries[i], err, sizeof err);
        if (!q->expr) {
            snprintf(msg, sizeof msg, "query %zu (%.200s): %s", i + 1, o->queries[i], err);
            config_errors_add(errs, msg);
        }
    }
    e->n_targets = o->n_urls;
    for (size_t i = 0; i < o->n_urls; i++) {
        char inst[512];
        ingest_instance_of(o->urls[i], inst, sizeof inst);
        e->targets[i].url = strdup(o->urls[i]);
        if (ingest_target_init(&e->targets[i].in, o->job ? o->job : RULENG_JOB, inst) != 0 ||
            !e->targets[i].url) {
            config_errors_add(errs, "out of memory");
            goto fail;
        }
    }
    if (errs->n > before)
        goto fail;
    tsdb_set_keep(e->db, keep_history, e);
    return e;
fail:
    if (errs->n == before)
        config_errors_add(errs, "out of memory");
    ruleng_free(&e);
    return NULL;
}

void ruleng_free(struct ruleng **pe)
{
    struct ruleng *e = *pe;
    if (!e)
        return;
    for (size_t i = 0; e->rules && i < e->set.n; i++) {
        alert_rule_state_free(&e->rules[i].st);
        promql_free(&e->rules[i].expr);
        free(e->rules[i].threshold);
        free(e->rules[i].runbook_text);
    }
    free(e->rules);
    for (size_t i = 0; e->targets && i < e->n_targets; i++) {
        ingest_target_free(&e->targets[i].in);
        free(e->targets[i].url);
    }
    free(e->targets);
    for (size_t i = 0; e->queries && i < e->n_queries; i++) {
        promql_free(&e->queries[i].expr);
        free(e->queries[i].v.expr);
        free(e->queries[i].v.error);
    }
    free(e->queries);
    rule_set_free(&e->set);
    tsdb_free(&e->db);
    free(e);
    *pe = NULL;
}

/* ---- scrapes ---- */

void ruleng_scraped(struct ruleng *e, size_t i, const char *body, size_t len, int64_t t_ms,
                    int duration_ms)
{
    ruleng_scraped_as(e, i, PROMTEXT_FORMAT_TEXT, body, len, t_ms, duration_ms);
}

void ruleng_scraped_as(struct ruleng *e, size_t i, enum promtext_format fmt, const char *body, size_t len,
                       int64_t t_ms, int duration_ms)
{
    if (i >= e->n_targets)
        return;
    struct target *t = &e->targets[i];
    t->tried = true;
    if (ingest_scrape_as(e->db, &t->in, fmt, body, len, t_ms, duration_ms) == 0) {
        t->ok = true;
        t->last_ok_ms = t_ms;
        t->why[0] = '\0';
    } else {
        t->ok = false;
        snprintf(t->why, sizeof t->why, "%s", t->in.error);
    }
}

void ruleng_scrape_failed(struct ruleng *e, size_t i, const char *why, int64_t t_ms, int duration_ms)
{
    if (i >= e->n_targets)
        return;
    struct target *t = &e->targets[i];
    t->tried = true;
    t->ok = false;
    snprintf(t->why, sizeof t->why, "%s", why ? why : "failed");
    ingest_failed(e->db, &t->in, t_ms, duration_ms, t->why);
}

/* ---- evaluation ---- */

/* Why the data is not fresh enough to judge by, or NULL when it is. */
static const char *stale_reason(const struct ruleng *e, char *buf, size_t n, int64_t *data_ms)
{
    *data_ms = 0;
    if (e->n_targets == 0) {
        snprintf(buf, n, "no metrics targets are configured");
        return buf;
    }
    for (size_t i = 0; i < e->n_targets; i++) {
        const struct target *t = &e->targets[i];
        if (!t->last_ok_ms) {
            *data_ms = 0;
            if (!t->tried)
                snprintf(buf, n, "waiting for the first scrape of %s", t->in.instance);
            else
                snprintf(buf, n, "no good scrape of %s yet: %s", t->in.instance, t->why);
            return buf;
        }
        if (*data_ms == 0 || t->last_ok_ms < *data_ms)
            *data_ms = t->last_ok_ms;
    }
    for (size_t i = 0; i < e->n_targets; i++)
        if (!e->targets[i].ok) {
            snprintf(buf, n, "scrape of %s failed: %s", e->targets[i].in.instance, e->targets[i].why);
            return buf;
        }
    return NULL;
}

static void eval_rule(struct ruleng *e, struct rule *r, int64_t now_ms, const char *stale, int64_t data_ms)
{
    const struct alert_rule *ar = r->st.rule;
    if (r->st.last_eval_ms && now_ms < r->next_eval_ms && !e->every_round)
        return;
    /* keep the group's phase, unless it fell a whole interval behind */
    if (!e->every_round && r->next_eval_ms && now_ms - r->next_eval_ms < ar->interval_ms)
        r->next_eval_ms += ar->interval_ms;
    else
        r->next_eval_ms = now_ms + ar->interval_ms;
    if (stale && !data_ms) {
        /* nothing to look at yet */
        alert_no_data(&r->st, stale, now_ms);
        return;
    }
    char err[512];
    struct promql_result res;
    if (promql_eval(r->expr, e->db, now_ms, NULL, &res, err, sizeof err) != 0) {
        r->error = true;
        alert_no_data(&r->st, err, now_ms);
        return;
    }
    r->error = false;
    r->data_ms = data_ms;
    struct alert_input *in = calloc(res.n + 1, sizeof *in);
    struct rule_pair *pairs = NULL;
    size_t total = 0;
    for (size_t i = 0; i < res.n; i++)
        total += res.samples[i].n_labels;
    pairs = calloc(total + 1, sizeof *pairs);
    if (!in || !pairs) {
        free(in);
        free(pairs);
        promql_result_free(&res);
        alert_no_data(&r->st, "out of memory", now_ms);
        return;
    }
    size_t at = 0;
    bool oom = false;
    for (size_t i = 0; i < res.n; i++) {
        const struct promql_sample *s = &res.samples[i];
        in[i].labels = pairs + at;
        in[i].n_labels = s->n_labels;
        in[i].value = s->v;
        for (size_t k = 0; k < s->n_labels; k++, at++) {
            pairs[at].name = strdup(s->labels[k].name);
            pairs[at].value = strdup(s->labels[k].value);
            oom |= !pairs[at].name || !pairs[at].value;
        }
    }
    if (oom || (stale ? alert_update_partial(&r->st, in, res.n, now_ms, stale)
                      : alert_update(&r->st, in, res.n, now_ms)) != 0)
        alert_no_data(&r->st, "out of memory", now_ms);
    for (size_t k = 0; k < at; k++) {
        free(pairs[k].name);
        free(pairs[k].value);
    }
    free(in);
    free(pairs);
    promql_result_free(&res);
    r->current = NAN;
    r->n_current = 0;
    if (r->probe && promql_eval(r->probe, e->db, now_ms, NULL, &res, err, sizeof err) == 0) {
        for (size_t i = 0; i < res.n; i++)
            if (r->n_current++ == 0 || res.samples[i].v > r->current || isnan(r->current))
                r->current = res.samples[i].v;
        promql_result_free(&res);
    }
}

static void eval_query(struct ruleng *e, struct query *q, int64_t now_ms)
{
    if (!q->expr)
        return;
    char err[512];
    struct promql_result res;
    q->v.at_ms = now_ms;
    free(q->v.error);
    q->v.error = NULL;
    if (promql_eval(q->expr, e->db, now_ms, NULL, &res, err, sizeof err) != 0) {
        q->v.ok = false;
        q->v.error = strdup(err);
        q->v.value = NAN;
        q->v.n_series = 0;
        return;
    }
    q->v.ok = true;
    if (res.type == PROMQL_SCALAR) {
        q->v.value = res.scalar;
        q->v.n_series = 0;
    } else {
        q->v.value = res.n ? res.samples[0].v : NAN;
        q->v.n_series = res.n;
    }
    promql_result_free(&res);
}

void ruleng_eval(struct ruleng *e, int64_t now_ms)
{
    char why[400];
    int64_t data_ms;
    const char *stale = stale_reason(e, why, sizeof why, &data_ms);
    for (size_t i = 0; i < e->set.n; i++)
        if (e->rules[i].expr)
            eval_rule(e, &e->rules[i], now_ms, stale, data_ms);
    for (size_t i = 0; i < e->n_queries; i++)
        eval_query(e, &e->queries[i], now_ms);
    tsdb_compact(e->db);
}

void ruleng_set_every_round(struct ruleng *e, bool on) { e->every_round = on; }

/* ---- views ---- */

static int fill_view(const struct ruleng *e, const struct rule *r, struct rule_view *v)
{
    const struct alert_rule *ar = r->st.rule;
    struct rule_view t = { 0 };
    t.name = ar->name;
    t.group = ar->group;
    t.expr = ar->expr;
    t.source = "here";
    t.for_ms = ar->for_ms;
    t.keep_firing_for_ms = ar->keep_firing_for_ms;
    t.interval_ms = ar->interval_ms;
    t.state = alert_rule_overall(&r->st);
    t.no_data = r->st.no_data && !r->error;
    t.error = r->error;

    t.last_eval_ms = r->st.last_eval_ms;
    t.data_ms = r->data_ms;
    t.current = r->current;
    t.n_current = r->n_current;
    t.threshold = r->threshold;
    t.labels = ar->labels;
    t.n_labels = ar->n_labels;
    t.annotations = ar->annotations;
    t.n_annotations = ar->n_annotations;

    t.runbook_text = r->runbook_text;
    struct alert_view *alerts = r->st.n ? calloc(r->st.n, sizeof *alerts) : NULL;
    if (r->st.n && !alerts)
        return -1;
    for (size_t i = 0; i < r->st.n; i++) {
        const struct alert *a = &r->st.v[i];
        alerts[i] = (struct alert_view){
            .labels = a->labels, .n_labels = a->n_labels, .state = a->state, .value = a->value,
            .active_at_ms = a->active_at_ms, .fired_at_ms = a->fired_at_ms,
            .resolved_at_ms = a->resolved_at_ms, .summary = a->summary, .description = a->description,
        };
    }
    t.alerts = alerts;
    t.n_alerts = r->st.n;
    (void)e;
    /* t borrows everything; the copy owns it */
    struct rule_view *c = rule_views_copy(&t, 1);
    free(alerts);
    if (!c)
        return -1;
    const char *rb = rule_annotation(ar, "runbook");
    c->why = r->st.why[0] ? strdup(r->st.why) : NULL;
    c->runbook = rb ? strdup(rb) : NULL;
    if ((r->st.why[0] && !c->why) || (rb && !c->runbook)) {
        size_t one = 1;
        rule_views_free(&c, &one);
        return -1;
    }
    *v = *c;
    free(c);
    return 0;
}

int ruleng_views(const struct ruleng *e, struct rule_view **rules, size_t *n_rules,
                 struct query_view **queries, size_t *n_queries)
{
    *rules = NULL;
    *n_rules = 0;
    *queries = NULL;
    *n_queries = 0;
    if (e->set.n) {
        *rules = calloc(e->set.n, sizeof **rules);
        if (!*rules)
            return -1;
        for (size_t i = 0; i < e->set.n; i++) {
            if (!e->rules[i].expr)
                continue;
            if (fill_view(e, &e->rules[i], &(*rules)[*n_rules]) != 0) {
                rule_views_free(rules, n_rules);
                return -1;
            }
            (*n_rules)++;
        }
    }
    if (e->n_queries) {
        *queries = calloc(e->n_queries, sizeof **queries);
        if (!*queries) {
            rule_views_free(rules, n_rules);
            return -1;
        }
        *n_queries = e->n_queries;
        bool oom = false;
        for (size_t i = 0; i < e->n_queries; i++) {
            (*queries)[i] = e->queries[i].v;
            (*queries)[i].expr = strdup(e->queries[i].v.expr ? e->queries[i].v.expr : "");
            (*queries)[i].error = e->queries[i].v.error ? strdup(e->queries[i].v.error) : NULL;
            oom |= !(*queries)[i].expr || (e->queries[i].v.error && !(*queries)[i].error);
        }
        if (oom) {
            rule_views_free(rules, n_rules);
            query_views_free(queries, n_queries);
            return -1;
        }
    }
    return 0;
}

void query_views_free(struct query_view **v, size_t *n)
{
    for (size_t i = 0; *v && i < *n; i++) {
        free((*v)[i].expr);
        free((*v)[i].error);
    }
    free(*v);
    *v = NULL;
    *n = 0;
}

void ruleng_usage(const struct ruleng *e, size_t *series, size_t *samples)
{
    *series = tsdb_series_total(e->db);
    *samples = tsdb_total_samples(e->db);
}

struct ruleng *ruleng_from_config(const struct config *cfg, const char *const *queries, size_t n_queries,
                                  struct config_errors *errs)
{
    char bufs[8][1024], dir[1100], err[1300];
    const char *urls[8];
    size_t n = config_split_list(cfg->metrics_url, bufs, urls, 8);
    if (n == 0) {
        config_errors_add(errs, "no metrics_url is configured: the rules have nothing to evaluate "
                                "(see marketing.conf(5))");
        return NULL;
    }
    char *text;
    size_t len;
    if (ruleng_read_rules(cfg->rule_file, &text, &len, dir, sizeof dir, err, sizeof err) != 0) {
        char msg[1400];
        snprintf(msg, sizeof msg, "rule_file %s", err);
        config_errors_add(errs, msg);
        return NULL;
    }
    bool shipped = !cfg->rule_file || !*cfg->rule_file;
    struct ruleng_opts o = {
        .urls = urls, .n_urls = n,
        .rules_name = shipped ? NULL : cfg->rule_file,
        .rules_text = shipped ? NULL : text, .rules_len = len,
        .runbook_dir = dir,
        .queries = queries, .n_queries = n_queries,
        .history_ms = cfg->series_history_ms,
        .max_samples = cfg->series_max_samples > 0 ? (size_t)cfg->series_max_samples : 0,
    };
    struct ruleng *e = ruleng_new(&o, errs);
    free(text);
    return e;
}
