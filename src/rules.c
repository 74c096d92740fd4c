#include "rules.h"

#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

int64_t rules_parse_duration(const char *s)
{
    static const struct { const char *unit; int64_t ms; } units[] = {
        { "ms", 1 }, { "y", 365LL * 86400000 }, { "w", 7LL * 86400000 }, { "d", 86400000 },
        { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
    };
    if (!s || !*s)
        return -1;
    if (strcmp(s, "0") == 0)
        return 0;
    int64_t total = 0;
    int last = -1; /* units must come largest first, each once */
    const char *p = s;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return -1;
        int64_t n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n > 1000000000000LL)
                return -1;
            n = n * 10 + (*p++ - '0');
        }
        int u = -1;
        for (int i = 0; i < (int)(sizeof units / sizeof units[0]) && u < 0; i++)
            if (strncmp(p, units[i].unit, strlen(units[i].unit)) == 0)
                u = i;
        if (u < 0)
            return -1;
        /* order: y w d h m s ms, i.e. indices 1..6 then 0 */
        int rank = u == 0 ? 7 : u;
        if (rank <= last)
            return -1;
        last = rank;
        total += n * units[u].ms;
        p += strlen(units[u].unit);
    }
    return total;
}

/* ---- YAML ---- */

struct reader {
    const char *name;
    yaml_document_t *doc;
    struct config_errors *errs;
    int n_err;
};

static void error_at(struct reader *r, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void error_at(struct reader *r, const yaml_node_t *node, const char *fmt, ...)
{
    char msg[512], text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
    va_end(ap);
    snprintf(msg, sizeof msg, "%s:%zu:%zu: %s", r->name, node ? node->start_mark.line + 1 : 0,
             node ? node->start_mark.column + 1 : 0, text);
    config_errors_add(r->errs, msg);
    r->n_err++;
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node(struct reader *r, int id) { return yaml_document_get_node(r->doc, id); }

/* A mapping's pairs as key text and value node; calls fn for each. */
typedef void (*pair_fn)(struct reader *r, void *ctx, const char *key, yaml_node_t *knode,
                        yaml_node_t *value);

static void each_pair(struct reader *r, yaml_node_t *map, void *ctx, pair_fn fn)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(r, p->key), *v = node(r, p->value);
        const char *key = scalar(k);
        if (!key) {
            error_at(r, k, "a key must be text");
            continue;
        }
        fn(r, ctx, key, k, v);
    }
}

static bool label_name_ok(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (const char *p = s + 1; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_'))
            return false;
    return true;
}

struct map_ctx {
    struct rule_pair **v;
    size_t *n;
    bool labels; /* names must be label names */
};

static void read_map_pair(struct reader *r, void *vctx, const char *key, yaml_node_t *knode,
                          yaml_node_t *value)
{
    struct map_ctx *m = vctx;
    const char *v = scalar(value);
    if (!v) {
        error_at(r, value, "%s: the value must be text", key);
        return;
    }
    if (m->labels && (!label_name_ok(key) || strncmp(key, "__", 2) == 0)) {
        error_at(r, knode, "'%s' is not a label name", key);
        return;
    }
    struct rule_pair *g = realloc(*m->v, (*m->n + 1) * sizeof **m->v);
    if (!g)
        return;
    *m->v = g;
    g[*m->n].name = strdup(key);
    g[*m->n].value = strdup(v);
    (*m->n)++;
}

struct rule_ctx {
    struct alert_rule *rule;
    const char *record;
    bool has_expr;
};

static void read_rule_pair(struct reader *r, void *vctx, const char *key, yaml_node_t *knode,
                           yaml_node_t *value)
{
    struct rule_ctx *c = vctx;
    struct alert_rule *a = c->rule;
    const char *v = scalar(value);
    if (strcmp(key, "labels") == 0 || strcmp(key, "annotations") == 0) {
        bool labels = key[0] == 'l';
        if (!value || value->type != YAML_MAPPING_NODE) {
            if (!(value && value->type == YAML_SCALAR_NODE && !*v)) /* "labels:" empty */
                error_at(r, value, "%s must be a mapping", key);
            return;
        }
        struct map_ctx m = { labels ? &a->labels : &a->annotations,
                             labels ? &a->n_labels : &a->n_annotations, labels };
        each_pair(r, value, &m, read_map_pair);
        return;
    }
    if (!v) {
        error_at(r, value, "%s: the value must be text", key);
        return;
    }
    if (strcmp(key, "alert") == 0) {
        free(a->name);
        a->name = strdup(v);
    } else if (strcmp(key, "record") == 0) {
        c->record = v;
    } else if (strcmp(key, "expr") == 0) {
        free(a->expr);
        a->expr = strdup(v);
        c->has_expr = true;
    } else if (strcmp(key, "for") == 0 || strcmp(key, "keep_firing_for") == 0) {
        int64_t ms = rules_parse_duration(v);
        if (ms < 0)
            error_at(r, value, "'%s' is not a duration (like 5m or 1h30m): %s", key, v);
        else if (key[0] == 'f')
            a->for_ms = ms;
        else
            a->keep_firing_for_ms = ms;
    } else {
        error_at(r, knode, "unknown field '%s' in a rule", key);
    }
}

static void free_pairs(struct rule_pair *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
}

static void free_rule(struct alert_rule *a)
{
    free(a->group);
    free(a->name);
    free(a->expr);
    free_pairs(a->labels, a->n_labels);
    free_pairs(a->annotations, a->n_annotations);
    memset(a, 0, sizeof *a);
}

static void read_rule(struct reader *r, struct rule_set *out, const char *group, int64_t interval,
                      yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE) {
        error_at(r, n, "a rule must be a mapping (alert, expr, for, labels, annotations)");
        return;
    }
    struct alert_rule a = { .interval_ms = interval, .line = n->start_mark.line + 1 };
    struct rule_ctx c = { .rule = &a };
    each_pair(r, n, &c, read_rule_pair);
    if (c.record && a.name) {
        error_at(r, n, "a rule is either 'alert' or 'record', not both");
    } else if (!c.has_expr || !a.expr || !*a.expr) {
        error_at(r, n, "rule %s has no 'expr'", a.name ? a.name : c.record ? c.record : "");
    } else if (c.record) {
        out->n_recording++;
    } else if (!a.name || !*a.name) {
        error_at(r, n, "a rule needs 'alert' (or 'record')");
    } else {
        struct alert_rule *g = realloc(out->v, (out->n + 1) * sizeof *out->v);
        if (g) {
            a.group = strdup(group);
            out->v = g;
            out->v[out->n++] = a;
            return;
        }
    }
    free_rule(&a);
}

struct group_ctx {
    const char *name;
    int64_t interval;
    yaml_node_t *rules;
};

static void read_group_pair(struct reader *r, void *vctx, const char *key, yaml_node_t *knode,
                            yaml_node_t *value)
{
    struct group_ctx *g = vctx;
    if (strcmp(key, "name") == 0) {
        g->name = scalar(value);
        if (!g->name || !*g->name)
            error_at(r, value, "a group name must be text");
    } else if (strcmp(key, "interval") == 0) {
        const char *v = scalar(value);
        int64_t ms = rules_parse_duration(v);
        if (ms <= 0)
            error_at(r, value, "interval is not a duration (like 15s or 1m): %s", v ? v : "");
        else
            g->interval = ms;
    } else if (strcmp(key, "rules") == 0) {
        if (value->type != YAML_SEQUENCE_NODE)
            error_at(r, value, "rules must be a list");
        else
            g->rules = value;
    } else if (strcmp(key, "limit") != 0 && strcmp(key, "query_offset") != 0) {
        error_at(r, knode, "unknown field '%s' in a group", key);
    }
}

int rules_parse(const char *name, const char *text, size_t len, int64_t default_interval_ms,
                struct rule_set *out, struct config_errors *errs)
{
    memset(out, 0, sizeof *out);
    yaml_parser_t parser;
    yaml_document_t doc;
    struct reader r = { .name = name, .doc = &doc, .errs = errs };
    if (!yaml_parser_initialize(&parser)) {
        error_at(&r, NULL, "out of memory");
        return r.n_err;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "invalid YAML");
        config_errors_add(errs, msg);
        yaml_parser_delete(&parser);
        return 1;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    yaml_node_t *groups = NULL;
    if (!root) {
        error_at(&r, NULL, "the file is empty: it needs 'groups:'");
    } else if (root->type != YAML_MAPPING_NODE) {
        error_at(&r, root, "the file must be a mapping with 'groups:'");
    } else {
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
            const char *key = scalar(node(&r, p->key));
            if (key && strcmp(key, "groups") == 0)
                groups = node(&r, p->value);
            else
                error_at(&r, node(&r, p->key), "unknown field '%s' (only 'groups')", key ? key : "?");
        }
        if (!groups || groups->type != YAML_SEQUENCE_NODE)
            error_at(&r, groups ? groups : root, "'groups' must be a list");
    }
    for (yaml_node_item_t *it = groups && groups->type == YAML_SEQUENCE_NODE ? groups->data.sequence.items.start : NULL;
         it && it < groups->data.sequence.items.top; it++) {
        yaml_node_t *g = node(&r, *it);
        if (g->type != YAML_MAPPING_NODE) {
            error_at(&r, g, "a group must be a mapping (name, interval, rules)");
            continue;
        }
        struct group_ctx gc = { .interval = default_interval_ms };
        each_pair(&r, g, &gc, read_group_pair);
        if (!gc.name) {
            error_at(&r, g, "a group needs a name");
            continue;
        }
        bool twice = false;
        for (yaml_node_item_t *o = groups->data.sequence.items.start; o < it && !twice; o++) {
            yaml_node_t *og = node(&r, *o);
            for (yaml_node_pair_t *q = og->type == YAML_MAPPING_NODE ? og->data.mapping.pairs.start : NULL;
                 q && q < og->data.mapping.pairs.top; q++) {
                const char *k = scalar(node(&r, q->key)), *v = scalar(node(&r, q->value));
                twice |= k && v && strcmp(k, "name") == 0 && strcmp(v, gc.name) == 0;
            }
        }
        if (twice)
            error_at(&r, g, "group '%s' is named twice", gc.name);
        out->n_groups++;
        for (yaml_node_item_t *ri = gc.rules ? gc.rules->data.sequence.items.start : NULL;
             ri && ri < gc.rules->data.sequence.items.top; ri++)
            read_rule(&r, out, gc.name, gc.interval, node(&r, *ri));
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (r.n_err)
        rule_set_free(out);
    return r.n_err;
}

void rule_set_free(struct rule_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free_rule(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

const char *rule_annotation(const struct alert_rule *r, const char *name)
{
    for (size_t i = 0; i < r->n_annotations; i++)
        if (strcmp(r->annotations[i].name, name) == 0)
            return r->annotations[i].value;
    return NULL;
}

/* ---- templates ---- */

void rules_format_value(char *buf, size_t n, double v)
{
    if (isnan(v)) {
        snprintf(buf, n, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, n, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == 0) {
        snprintf(buf, n, signbit(v) ? "-0" : "0");
        return;
    }
    /* the shortest %e that reads back the same */
    char e[40];
    int prec;
    for (prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, v);
        if (strtod(e, NULL) == v)
            break;
    }
    int exp = (int)strtol(strchr(e, 'e') + 1, NULL, 10);
    if (exp < -4 || exp >= 6) { /* Go's %v: 'g', shortest, decided with precision 6 */
        /* Go: 1e+06, 1.234567e+06: mantissa as %e, exponent at least two digits */
        char mant[32];
        snprintf(mant, sizeof mant, "%.*s", (int)(strchr(e, 'e') - e), e);
        snprintf(buf, n, "%se%c%02d", mant, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        return;
    }
    /* fixed: as many decimals as the shortest form has digits after the point */
    int decimals = prec - exp;
    snprintf(buf, n, "%.*f", decimals > 0 ? decimals : 0, v);
}

/* Go's humanize (Prometheus templates): SI prefixes, 4 significant digits. */
static void humanize(char *buf, size_t n, double v)
{
    if (v == 0 || isnan(v) || isinf(v)) {
        rules_format_value(buf, n, v);
        return;
    }
    static const char *const big[] = { "", "k", "M", "G", "T", "P", "E", "Z", "Y" };
    static const char *const small[] = { "", "m", "u", "n", "p", "f", "a", "z", "y" };
    double a = fabs(v);
    int i = 0;
    if (a >= 1) {
        while (a >= 1000 && i < 8) {
            a /= 1000;
            i++;
        }
        snprintf(buf, n, "%.4g%s", v < 0 ? -a : a, big[i]);
    } else {
        while (a < 1 && i < 8) {
            a *= 1000;
            i++;
        }
        snprintf(buf, n, "%.4g%s", v < 0 ? -a : a, small[i]);
    }
}

struct out {
    char *s;
    size_t len, cap;
    bool oom;
};

static void put(struct out *o, const char *s, size_t len)
{
    if (o->oom)
        return;
    if (o->len + len + 1 > o->cap || !o->s) {
        size_t cap = (o->len + len + 1) * 2;
        char *g = realloc(o->s, cap);
        if (!g) {
            o->oom = true;
            return;
        }
        o->s = g;
        o->cap = cap;
    }
    memcpy(o->s + o->len, s, len);
    o->len += len;
    o->s[o->len] = '\0';
}

/* One {{ action }}: its text without the braces and spaces. */
static void expand_action(struct out *o, const char *a, size_t len, double value,
                          const struct rule_pair *labels, size_t nl, const char *raw, size_t rawlen)
{
    char act[256], buf[128];
    snprintf(act, sizeof act, "%.*s", (int)(len < sizeof act ? len : sizeof act - 1), a);
    if (strcmp(act, "$value") == 0 || strcmp(act, ".Value") == 0) {
        rules_format_value(buf, sizeof buf, value);
        put(o, buf, strlen(buf));
        return;
    }
    if (strcmp(act, "$value | humanize") == 0 || strcmp(act, "humanize $value") == 0) {
        humanize(buf, sizeof buf, value);
        put(o, buf, strlen(buf));
        return;
    }
    if (strcmp(act, "$value | humanizePercentage") == 0 || strcmp(act, "humanizePercentage $value") == 0) {
        humanize(buf, sizeof buf, value * 100);
        put(o, buf, strlen(buf));
        put(o, "%", 1);
        return;
    }
    static const char pf[] = "printf \"%.";
    if (strncmp(act, pf, sizeof pf - 1) == 0) {
        char *end;
        long digits = strtol(act + sizeof pf - 1, &end, 10);
        if (end > act + sizeof pf - 1 && strcmp(end, "f\" $value") == 0 && digits >= 0 && digits < 20) {
            snprintf(buf, sizeof buf, "%.*f", (int)digits, value);
            put(o, buf, strlen(buf));
            return;
        }
    }
    const char *name = NULL;
    if (strncmp(act, "$labels.", 8) == 0 || strncmp(act, ".Labels.", 8) == 0)
        name = act + 8;
    if (name && label_name_ok(name)) {
        for (size_t i = 0; i < nl; i++)
            if (strcmp(labels[i].name, name) == 0)
                put(o, labels[i].value, strlen(labels[i].value));
        return; /* a missing label is empty, as in Prometheus */
    }
    put(o, raw, rawlen); /* not ours to interpret: shown as written */
}

char *rules_expand(const char *tmpl, double value, const struct rule_pair *labels, size_t n)
{
    struct out o = { 0 };
    put(&o, "", 0);
    const char *p = tmpl;
    while (*p) {
        const char *open = strstr(p, "{{");
        const char *close = open ? strstr(open + 2, "}}") : NULL;
        if (!open || !close) {
            put(&o, p, strlen(p));
            break;
        }
        put(&o, p, (size_t)(open - p));
        const char *a = open + 2, *e = close;
        if (*a == '-')
            a++; /* {{- trims in Go; the spaces here are ours to drop anyway */
        if (e > a && e[-1] == '-')
            e--;
        while (a < e && isspace((unsigned char)*a))
            a++;
        while (e > a && isspace((unsigned char)e[-1]))
            e--;
        expand_action(&o, a, (size_t)(e - a), value, labels, n, open, (size_t)(close + 2 - open));
        p = close + 2;
    }
    if (o.oom) {
        free(o.s);
        return NULL;
    }
    return o.s;
}

const char *rules_runbook(const char *name)
{
    for (size_t i = 0; name && i < builtin_runbooks_count; i++)
        if (strcmp(builtin_runbooks[i].name, name) == 0)
            return builtin_runbooks[i].text;
    return NULL;
}
