/* The PromQL evaluator (see promql.h); the parser is promql_parse.c.
 * Label strings are borrowed from the store and the tree while evaluating
 * and copied into the result at the end. */
#include "promql.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"

#define M PROMQL_MATRIX
#define V PROMQL_VECTOR
#define S PROMQL_SCALAR
static const struct promql_func funcs[] = {
    {"rate", PF_RATE, {M}, 1, V},
    {"irate", PF_IRATE, {M}, 1, V},
    {"increase", PF_INCREASE, {M}, 1, V},
    {"delta", PF_DELTA, {M}, 1, V},
    {"idelta", PF_IDELTA, {M}, 1, V},
    {"avg_over_time", PF_AVG_OT, {M}, 1, V},
    {"min_over_time", PF_MIN_OT, {M}, 1, V},
    {"max_over_time", PF_MAX_OT, {M}, 1, V},
    {"sum_over_time", PF_SUM_OT, {M}, 1, V},
    {"count_over_time", PF_COUNT_OT, {M}, 1, V},
    {"last_over_time", PF_LAST_OT, {M}, 1, V},
    {"histogram_quantile", PF_HISTOGRAM_QUANTILE, {S, V}, 2, V},
    {"abs", PF_ABS, {V}, 1, V},
    {"ceil", PF_CEIL, {V}, 1, V},
    {"floor", PF_FLOOR, {V}, 1, V},
    {"exp", PF_EXP, {V}, 1, V},
    {"ln", PF_LN, {V}, 1, V},
    {"log2", PF_LOG2, {V}, 1, V},
    {"log10", PF_LOG10, {V}, 1, V},
    {"sqrt", PF_SQRT, {V}, 1, V},
    {"clamp", PF_CLAMP, {V, S, S}, 3, V},
    {"clamp_min", PF_CLAMP_MIN, {V, S}, 2, V},
    {"clamp_max", PF_CLAMP_MAX, {V, S}, 2, V},
    {"scalar", PF_SCALAR, {V}, 1, S},
    {"vector", PF_VECTOR, {S}, 1, V},
    {"time", PF_TIME, {S}, 0, S},
};
#undef M
#undef V
#undef S

const struct promql_func *promql_func_find(const char *name)
{
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
        if (!strcmp(funcs[i].name, name))
            return &funcs[i];
    return NULL;
}

/* ---- vectors of samples with borrowed label strings ---- */

struct vec {
    struct promql_sample *s;
    size_t n, cap;
};

struct val {
    enum promql_type type;
    double scalar;
    struct vec v;
};

struct ctx {
    const struct tsdb *db;
    int64_t t, lookback;
    char *err;
    size_t errsz;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (c->err && c->errsz)
        vsnprintf(c->err, c->errsz, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
    va_end(ap);
    return -1;
}

static void sample_free(struct promql_sample *s)
{
    free(s->labels);
    free(s->strings);
    s->labels = NULL;
    s->strings = NULL;
}

static void vec_free(struct vec *v)
{
    for (size_t i = 0; i < v->n; i++)
        sample_free(&v->s[i]);
    free(v->s);
    memset(v, 0, sizeof *v);
}

/* Appends a sample taking ownership of labels (freed on failure). */
static int vec_push(struct ctx *c, struct vec *v, struct tsdb_label *labels, size_t n, double x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        struct promql_sample *s = realloc(v->s, cap * sizeof *s);
        if (!s) {
            free(labels);
            return fail(c, "out of memory");
        }
        v->s = s;
        v->cap = cap;
    }
    v->s[v->n++] = (struct promql_sample){.labels = labels, .n_labels = n, .v = x};
    return 0;
}

/* A copy of the label array (strings still borrowed), or NULL. */
static struct tsdb_label *labels_copy(const struct tsdb_label *l, size_t n)
{
    struct tsdb_label *out = malloc((n ? n : 1) * sizeof *out);
    if (out && n)
        memcpy(out, l, n * sizeof *out);
    return out;
}

static const char *label_get(const struct tsdb_label *l, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i].name, name))
            return l[i].value;
    return NULL;
}

/* Removes label name from l[0..*n) in place. */
static void label_del(struct tsdb_label *l, size_t *n, const char *name)
{
    size_t j = 0;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(l[i].name, name) != 0)
            l[j++] = l[i];
    *n = j;
}

static bool in_list(char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], name))
            return true;
    return false;
}

/* Prometheus's labels.Compare. */
static int labels_cmp(const struct tsdb_label *a, size_t na, const struct tsdb_label *b, size_t nb)
{
    for (size_t i = 0; i < na && i < nb; i++) {
        int d = strcmp(a[i].name, b[i].name);
        if (d)
            return d;
        d = strcmp(a[i].value, b[i].value);
        if (d)
            return d;
    }
    return na < nb ? -1 : na > nb;
}

static int sample_cmp(const void *x, const void *y)
{
    const struct promql_sample *a = x, *b = y;
    return labels_cmp(a->labels, a->n_labels, b->labels, b->n_labels);
}

static int sample_ptr_cmp(const void *x, const void *y)
{
    return sample_cmp(*(const struct promql_sample *const *)x,
                      *(const struct promql_sample *const *)y);
}

/* The error Prometheus raises when a result has two equal label sets. */
static int check_unique(struct ctx *c, const struct vec *v)
{
    if (v->n < 2)
        return 0;
    const struct promql_sample **idx = malloc(v->n * sizeof *idx); // NOLINT(bugprone-sizeof-expression): an array of pointers
    if (!idx)
        return fail(c, "out of memory");
    for (size_t i = 0; i < v->n; i++)
        idx[i] = &v->s[i];
    qsort(idx, v->n, sizeof *idx, sample_ptr_cmp); // NOLINT(bugprone-sizeof-expression): an array of pointers
    int rc = 0;
    for (size_t i = 1; i < v->n && rc == 0; i++)
        if (sample_ptr_cmp(&idx[i - 1], &idx[i]) == 0)
            rc = fail(c, "vector cannot contain metrics with the same labelset");
    free(idx);
    return rc;
}

/* ---- selectors ---- */

static int series_cmp(const void *x, const void *y)
{
    size_t na, nb;
    const struct tsdb_label *a = tsdb_series_labels(*(const struct tsdb_series *const *)x, &na);
    const struct tsdb_label *b = tsdb_series_labels(*(const struct tsdb_series *const *)y, &nb);
    return labels_cmp(a, na, b, nb);
}

/* The series e selects, sorted by labels as Prometheus's storage returns them. */
static long select_sorted(struct ctx *c, const struct promql_expr *e,
                          const struct tsdb_series ***out)
{
    long n = tsdb_select(c->db, e->matchers, e->n_matchers, out);
    if (n < 0)
        return fail(c, "out of memory");
    if (n > 1)
        qsort(*out, (size_t)n, sizeof **out, series_cmp); // NOLINT(bugprone-sizeof-expression): an array of pointers
    return n;
}

static int eval_selector(struct ctx *c, const struct promql_expr *e, struct vec *out)
{
    const struct tsdb_series **ss;
    long n = select_sorted(c, e, &ss);
    if (n < 0)
        return -1;
    int64_t ref = c->t - e->offset_ms;
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        size_t k = tsdb_series_seek(ss[i], ref == INT64_MAX ? ref : ref + 1);
        if (k == 0)
            continue;
        struct tsdb_sample x = tsdb_series_at(ss[i], k - 1);
        if (x.t < ref - c->lookback || tsdb_is_stale(x.v))
            continue;
        size_t nl;
        const struct tsdb_label *l = tsdb_series_labels(ss[i], &nl);
        struct tsdb_label *copy = labels_copy(l, nl);
        rc = copy ? vec_push(c, out, copy, nl, x.v) : fail(c, "out of memory");
    }
    free(ss);
    return rc;
}

/* ---- functions over a range ---- */

struct range {
    struct tsdb_sample *p;
    size_t n, cap;
    int64_t start, end;      /* the window, both ends included */
    double seconds;          /* its length */
};

/* The non-stale samples of s in [r->start, r->end]. */
static int range_fill(struct ctx *c, struct range *r, const struct tsdb_series *s)
{
    r->n = 0;
    size_t len = tsdb_series_len(s);
    for (size_t i = tsdb_series_seek(s, r->start); i < len; i++) {
        struct tsdb_sample x = tsdb_series_at(s, i);
        if (x.t > r->end)
            break;
        if (tsdb_is_stale(x.v))
            continue;
        if (r->n == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 64;
            struct tsdb_sample *p = realloc(r->p, cap * sizeof *p);
            if (!p)
                return fail(c, "out of memory");
            r->p = p;
            r->cap = cap;
        }
        r->p[r->n++] = x;
    }
    return 0;
}

/* Prometheus's extrapolatedRate (2.x): rate, increase, delta. */
static bool extrapolated_rate(const struct range *r, bool counter, bool is_rate, double *out)
{
    const struct tsdb_sample *p = r->p;
    size_t n = r->n;
    if (n < 2)
        return false;
    double result = p[n - 1].v - p[0].v;
    if (counter) {
        double last = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i].v < last)
                result += last;
            last = p[i].v;
        }
    }
    double to_start = (double)(p[0].t - r->start) / 1000;
    double to_end = (double)(r->end - p[n - 1].t) / 1000;
    double sampled = (double)(p[n - 1].t - p[0].t) / 1000;
    double avg_step = sampled / (double)(n - 1);
    if (counter && result > 0 && p[0].v >= 0) {
        /* a counter is not extrapolated below zero */
        double to_zero = sampled * (p[0].v / result);
        if (to_zero < to_start)
            to_start = to_zero;
    }
    double threshold = avg_step * 1.1, interval = sampled;
    interval += to_start < threshold ? to_start : avg_step / 2;
    interval += to_end < threshold ? to_end : avg_step / 2;
    result = result * (interval / sampled);
    if (is_rate)
        result /= r->seconds;
    *out = result;
    return true;
}

/* Prometheus's instantValue: irate and idelta. */
static bool instant_value(const struct range *r, bool is_rate, double *out)
{
    if (r->n < 2)
        return false;
    struct tsdb_sample last = r->p[r->n - 1], prev = r->p[r->n - 2];
    double result = is_rate && last.v < prev.v ? last.v : last.v - prev.v;
    int64_t dt = last.t - prev.t;
    if (dt == 0)
        return false;
    if (is_rate)
        result /= (double)dt / 1000;
    *out = result;
    return true;
}

/* The running mean Prometheus uses for avg and avg_over_time (2.42). */
static double mean_add(double mean, double count, double x)
{
    if (isinf(mean)) {
        if (isinf(x) && (mean > 0) == (x > 0))
            return mean;
        if (!isinf(x) && !isnan(x))
            return mean;
    }
    return mean + (x / count - mean / count);
}

static bool over_time(enum promql_func_id id, const struct range *r, double *out)
{
    if (r->n == 0)
        return false;
    double acc = r->p[0].v;
    for (size_t i = 1; i < r->n; i++) {
        double x = r->p[i].v;
        switch (id) {
        case PF_AVG_OT: acc = mean_add(acc, (double)(i + 1), x); break;
        case PF_SUM_OT: acc += x; break;
        case PF_MIN_OT: if (x < acc || isnan(acc)) acc = x; break;
        case PF_MAX_OT: if (x > acc || isnan(acc)) acc = x; break;
        default: break;
        }
    }
    if (id == PF_COUNT_OT)
        acc = (double)r->n;
    else if (id == PF_LAST_OT)
        acc = r->p[r->n - 1].v;
    *out = acc;
    return true;
}

static bool range_func(enum promql_func_id id, const struct range *r, double *out)
{
    switch (id) {
    case PF_RATE: return extrapolated_rate(r, true, true, out);
    case PF_INCREASE: return extrapolated_rate(r, true, false, out);
    case PF_DELTA: return extrapolated_rate(r, false, false, out);
    case PF_IRATE: return instant_value(r, true, out);
    case PF_IDELTA: return instant_value(r, false, out);
    default: return over_time(id, r, out);
    }
}

static int eval_range_call(struct ctx *c, const struct promql_expr *e, struct vec *out)
{
    const struct promql_expr *sel = e->args[0];
    const struct tsdb_series **ss;
    long n = select_sorted(c, sel, &ss);
    if (n < 0)
        return -1;
    struct range r = {.end = c->t - sel->offset_ms};
    r.start = r.end - sel->range_ms;
    r.seconds = (double)sel->range_ms / 1000;
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        double x;
        rc = range_fill(c, &r, ss[i]);
        if (rc || !range_func(e->func->id, &r, &x))
            continue;
        size_t nl;
        const struct tsdb_label *l = tsdb_series_labels(ss[i], &nl);
        struct tsdb_label *copy = labels_copy(l, nl);
        if (!copy) {
            rc = fail(c, "out of memory");
            break;
        }
        if (e->func->id != PF_LAST_OT)
            label_del(copy, &nl, "__name__");
        rc = vec_push(c, out, copy, nl, x);
    }
    free(ss);
    free(r.p);
    return rc ? rc : check_unique(c, out);
}

/* ---- histogram_quantile ---- */

struct bucket {
    double upper, count;
};

static int bucket_cmp(const void *x, const void *y)
{
    double a = ((const struct bucket *)x)->upper, b = ((const struct bucket *)y)->upper;
    if (isnan(a) || isnan(b))
        return isnan(a) - isnan(b);
    return (a > b) - (a < b);
}

/* Prometheus's bucketQuantile (2.42); sorts and coalesces b in place. */
static double bucket_quantile(double q, struct bucket *b, size_t n)
{
    if (isnan(q))
        return NAN;
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    qsort(b, n, sizeof *b, bucket_cmp);
    if (!(isinf(b[n - 1].upper) && b[n - 1].upper > 0))
        return NAN;
    size_t k = 0;   /* coalesce equal bounds */
    for (size_t i = 1; i < n; i++) {
        if (b[i].upper == b[k].upper)
            b[k].count += b[i].count;
        else
            b[++k] = b[i];
    }
    n = k + 1;
    double max = -INFINITY;   /* force monotonic counts */
    for (size_t i = 0; i < n; i++) {
        if (b[i].count > max)
            max = b[i].count;
        else if (b[i].count < max)
            b[i].count = max;
    }
    if (n < 2)
        return NAN;
    double observations = b[n - 1].count;
    if (observations == 0)
        return NAN;
    double rank = q * observations;
    size_t i = 0;   /* the first bucket with count >= rank, among the first n-1 */
    while (i < n - 1 && !(b[i].count >= rank))
        i++;
    if (i == n - 1)
        return b[n - 2].upper;
    if (i == 0 && b[0].upper <= 0)
        return b[0].upper;
    double start = 0, end = b[i].upper, count = b[i].count;
    if (i > 0) {
        start = b[i - 1].upper;
        count -= b[i - 1].count;
        rank -= b[i - 1].count;
    }
    return start + (end - start) * (rank / count);
}

struct hgroup {
    struct tsdb_label *labels;   /* the sample's labels less le (name kept) */
    size_t n_labels;
    struct bucket *b;
    size_t n, cap;
};

static int hgroup_add(struct hgroup *g, double upper, double count)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        struct bucket *b = realloc(g->b, cap * sizeof *b);
        if (!b)
            return -1;
        g->b = b;
        g->cap = cap;
    }
    g->b[g->n++] = (struct bucket){upper, count};
    return 0;
}

/* Groups the buckets of in by their labels less le; *groups is new. */
static int hgroups_build(struct ctx *c, const struct vec *in, struct hgroup **groups, size_t *ng)
{
    *groups = calloc(in->n ? in->n : 1, sizeof **groups);
    *ng = 0;
    if (!*groups)
        return fail(c, "out of memory");
    for (size_t i = 0; i < in->n; i++) {
        const struct promql_sample *s = &in->s[i];
        const char *le = label_get(s->labels, s->n_labels, "le");
        double upper;
        if (!le || promtext_parse_value(le, strlen(le), &upper))
            continue;   /* no or bad le: skipped, as Prometheus does */
        struct tsdb_label *key = labels_copy(s->labels, s->n_labels);
        if (!key)
            return fail(c, "out of memory");
        size_t nk = s->n_labels;
        label_del(key, &nk, "le");
        size_t g = 0;
        while (g < *ng && labels_cmp((*groups)[g].labels, (*groups)[g].n_labels, key, nk))
            g++;
        if (g == *ng) {
            (*groups)[g].labels = key;
            (*groups)[g].n_labels = nk;
            (*ng)++;
        } else {
            free(key);
        }
        if (hgroup_add(&(*groups)[g], upper, s->v))
            return fail(c, "out of memory");
    }
    return 0;
}

static int histogram_quantile(struct ctx *c, double q, const struct vec *in, struct vec *out)
{
    struct hgroup *groups;
    size_t ng;
    int rc = hgroups_build(c, in, &groups, &ng);
    for (size_t g = 0; g < ng; g++) {
        if (rc == 0) {
            double x = bucket_quantile(q, groups[g].b, groups[g].n);
            label_del(groups[g].labels, &groups[g].n_labels, "__name__");
            rc = vec_push(c, out, groups[g].labels, groups[g].n_labels, x);
        } else {
            free(groups[g].labels);
        }
        free(groups[g].b);
    }
    free(groups);
    return rc ? rc : check_unique(c, out);
}

/* ---- instant functions ---- */

/* Go's math.Max and math.Min, which differ from fmax/fmin on NaN. */
static double go_max(double x, double y)
{
    if ((isinf(x) && x > 0) || (isinf(y) && y > 0))
        return INFINITY;
    if (isnan(x) || isnan(y))
        return NAN;
    if (x == 0 && y == 0)
        return signbit(x) ? y : x;
    return x > y ? x : y;
}

static double go_min(double x, double y)
{
    if ((isinf(x) && x < 0) || (isinf(y) && y < 0))
        return -INFINITY;
    if (isnan(x) || isnan(y))
        return NAN;
    if (x == 0 && y == 0)
        return signbit(x) ? x : y;
    return x < y ? x : y;
}

static double math_func(enum promql_func_id id, double x, double a, double b)
{
    switch (id) {
    case PF_ABS: return fabs(x);
    case PF_CEIL: return ceil(x);
    case PF_FLOOR: return floor(x);
    case PF_EXP: return exp(x);
    case PF_LN: return log(x);
    case PF_LOG2: return log2(x);
    case PF_LOG10: return log10(x);
    case PF_SQRT: return sqrt(x);
    case PF_CLAMP: return go_max(a, go_min(b, x));
    case PF_CLAMP_MIN: return go_max(a, x);
    case PF_CLAMP_MAX: return go_min(a, x);
    default: return x;
    }
}

static int eval(struct ctx *c, const struct promql_expr *e, struct val *out);

static int eval_scalar_arg(struct ctx *c, const struct promql_expr *e, double *x)
{
    struct val v = {0};
    if (eval(c, e, &v))
        return -1;
    *x = v.scalar;
    return 0;
}

/* Functions on an instant vector: math, clamp, histogram_quantile, scalar. */
static int eval_vector_call(struct ctx *c, const struct promql_expr *e, struct val *out)
{
    enum promql_func_id id = e->func->id;
    double q = 0, a = 0, b = 0;
    const struct promql_expr *varg = id == PF_HISTOGRAM_QUANTILE ? e->args[1] : e->args[0];
    if ((id == PF_HISTOGRAM_QUANTILE && eval_scalar_arg(c, e->args[0], &q)) ||
        (e->n_args > 1 && id != PF_HISTOGRAM_QUANTILE && eval_scalar_arg(c, e->args[1], &a)) ||
        (e->n_args > 2 && eval_scalar_arg(c, e->args[2], &b)))
        return -1;
    struct val in = {0};
    if (eval(c, varg, &in))
        return -1;
    int rc = 0;
    if (id == PF_HISTOGRAM_QUANTILE) {
        rc = histogram_quantile(c, q, &in.v, &out->v);
    } else if (id == PF_SCALAR) {
        out->type = PROMQL_SCALAR;
        out->scalar = in.v.n == 1 ? in.v.s[0].v : NAN;
    } else if (!(id == PF_CLAMP && b < a)) {
        for (size_t i = 0; i < in.v.n; i++) {
            struct promql_sample *s = &in.v.s[i];
            label_del(s->labels, &s->n_labels, "__name__");
            s->v = math_func(id, s->v, a, b);
        }
        out->v = in.v;
        memset(&in.v, 0, sizeof in.v);
        rc = check_unique(c, &out->v);
    }
    vec_free(&in.v);
    return rc;
}

static int eval_call(struct ctx *c, const struct promql_expr *e, struct val *out)
{
    const struct promql_func *f = e->func;
    out->type = f->ret;
    if (f->args[0] == PROMQL_MATRIX && f->n_args == 1)
        return eval_range_call(c, e, &out->v);
    if (f->id == PF_TIME) {
        out->scalar = (double)c->t / 1000;
        return 0;
    }
    if (f->id == PF_VECTOR) {
        double x;
        if (eval_scalar_arg(c, e->args[0], &x))
            return -1;
        struct tsdb_label *none = labels_copy(NULL, 0);
        return none ? vec_push(c, &out->v, none, 0, x) : fail(c, "out of memory");
    }
    return eval_vector_call(c, e, out);
}

/* ---- aggregation ---- */

struct group {
    struct tsdb_label *labels;
    size_t n_labels;
    double value, mean, count;
};

/* The grouping labels of s for aggregation e (a new array). */
static struct tsdb_label *group_key(const struct promql_expr *e, const struct promql_sample *s,
                                    size_t *n)
{
    struct tsdb_label *k = labels_copy(s->labels, s->n_labels);
    if (!k)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < s->n_labels; i++) {
        bool listed = in_list(e->labels, e->n_labels, s->labels[i].name);
        bool keep = e->without ? !listed && strcmp(s->labels[i].name, "__name__") != 0 : listed;
        if (keep)
            k[j++] = s->labels[i];
    }
    *n = j;
    return k;
}

static void group_add(enum promql_agg agg, struct group *g, double x)
{
    g->count++;
    switch (agg) {
    case PQ_SUM: g->value += x; break;
    case PQ_AVG: g->mean = mean_add(g->mean, g->count, x); break;
    case PQ_MIN: if (g->value > x || isnan(g->value)) g->value = x; break;
    case PQ_MAX: if (g->value < x || isnan(g->value)) g->value = x; break;
    case PQ_COUNT: case PQ_GROUP: break;
    }
}

static double group_result(enum promql_agg agg, const struct group *g)
{
    switch (agg) {
    case PQ_AVG: return g->mean;
    case PQ_COUNT: return g->count;
    case PQ_GROUP: return 1;
    default: return g->value;
    }
}

static int aggregate(struct ctx *c, const struct promql_expr *e, const struct vec *in,
                     struct vec *out)
{
    struct group *gs = calloc(in->n ? in->n : 1, sizeof *gs);
    if (!gs)
        return fail(c, "out of memory");
    size_t ng = 0;
    int rc = 0;
    for (size_t i = 0; i < in->n && rc == 0; i++) {
        size_t nk;
        struct tsdb_label *k = group_key(e, &in->s[i], &nk);
        if (!k) {
            rc = fail(c, "out of memory");
            break;
        }
        size_t g = 0;
        while (g < ng && labels_cmp(gs[g].labels, gs[g].n_labels, k, nk))
            g++;
        if (g < ng) {
            free(k);
            group_add(e->agg, &gs[g], in->s[i].v);
            continue;
        }
        gs[ng++] = (struct group){k, nk, in->s[i].v, in->s[i].v, 1};
    }
    for (size_t g = 0; g < ng; g++) {
        if (rc == 0)
            rc = vec_push(c, out, gs[g].labels, gs[g].n_labels, group_result(e->agg, &gs[g]));
        else
            free(gs[g].labels);
    }
    free(gs);
    return rc;
}

/* ---- binary operators ---- */

static bool is_comparison(enum promql_op op) { return op >= PQ_EQ && op <= PQ_LE; }

/* Prometheus's vectorElemBinop: the value, and whether a comparison holds. */
static double elem_binop(enum promql_op op, double l, double r, bool *keep)
{
    *keep = true;
    switch (op) {
    case PQ_ADD: return l + r;
    case PQ_SUB: return l - r;
    case PQ_MUL: return l * r;
    case PQ_DIV: return l / r;
    case PQ_MOD: return fmod(l, r);
    case PQ_POW: return pow(l, r);
    case PQ_EQ: *keep = l == r; break;
    case PQ_NE: *keep = l != r; break;
    case PQ_GT: *keep = l > r; break;
    case PQ_LT: *keep = l < r; break;
    case PQ_GE: *keep = l >= r; break;
    case PQ_LE: *keep = l <= r; break;
    default: break;
    }
    return l;
}

/* Do a and b agree on the labels e matches on? */
static bool sig_equal(const struct promql_expr *e, const struct promql_sample *a,
                      const struct promql_sample *b)
{
    if (e->on) {
        for (size_t i = 0; i < e->n_labels; i++) {
            const char *x = label_get(a->labels, a->n_labels, e->labels[i]);
            const char *y = label_get(b->labels, b->n_labels, e->labels[i]);
            if (strcmp(x ? x : "", y ? y : "") != 0)
                return false;
        }
        return true;
    }
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a->n_labels && (!strcmp(a->labels[i].name, "__name__") ||
                                   in_list(e->labels, e->n_labels, a->labels[i].name)))
            i++;
        while (j < b->n_labels && (!strcmp(b->labels[j].name, "__name__") ||
                                   in_list(e->labels, e->n_labels, b->labels[j].name)))
            j++;
        if (i == a->n_labels || j == b->n_labels)
            return i == a->n_labels && j == b->n_labels;
        if (strcmp(a->labels[i].name, b->labels[j].name) != 0 ||
            strcmp(a->labels[i].value, b->labels[j].value) != 0)
            return false;
        i++;
        j++;
    }
}

static int push_copy(struct ctx *c, struct vec *out, const struct promql_sample *s)
{
    struct tsdb_label *l = labels_copy(s->labels, s->n_labels);
    return l ? vec_push(c, out, l, s->n_labels, s->v) : fail(c, "out of memory");
}

static bool has_match(const struct promql_expr *e, const struct promql_sample *s,
                      const struct vec *other)
{
    for (size_t i = 0; i < other->n; i++)
        if (sig_equal(e, s, &other->s[i]))
            return true;
    return false;
}

static int set_op(struct ctx *c, const struct promql_expr *e, const struct vec *l,
                  const struct vec *r, struct vec *out)
{
    int rc = 0;
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        bool m = e->op == PQ_OR || (has_match(e, &l->s[i], r) == (e->op == PQ_AND));
        if (m)
            rc = push_copy(c, out, &l->s[i]);
    }
    for (size_t i = 0; e->op == PQ_OR && i < r->n && rc == 0; i++)
        if (!has_match(e, &r->s[i], l))
            rc = push_copy(c, out, &r->s[i]);
    return rc;
}

/* The labels of a one-to-one result, from the left sample. */
static struct tsdb_label *result_labels(const struct promql_expr *e,
                                        const struct promql_sample *ls, size_t *n)
{
    struct tsdb_label *l = labels_copy(ls->labels, ls->n_labels);
    if (!l)
        return NULL;
    *n = ls->n_labels;
    if (!is_comparison(e->op) || e->return_bool)
        label_del(l, n, "__name__");
    size_t j = 0;
    for (size_t i = 0; i < *n; i++) {
        bool listed = in_list(e->labels, e->n_labels, l[i].name);
        if (e->on ? listed : !listed)
            l[j++] = l[i];
    }
    *n = j;
    return l;
}

static int vector_binop(struct ctx *c, const struct promql_expr *e, const struct vec *l,
                        const struct vec *r, struct vec *out)
{
    for (size_t i = 0; i < r->n; i++)
        for (size_t j = i + 1; j < r->n; j++)
            if (sig_equal(e, &r->s[i], &r->s[j]))
                return fail(c, "found duplicate series for the match group on the right hand-side "
                               "of the operation: many-to-many matching not allowed: matching "
                               "labels must be unique on one side");
    bool *used = calloc(r->n ? r->n : 1, sizeof *used);
    if (!used)
        return fail(c, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        size_t j = 0;
        while (j < r->n && !sig_equal(e, &l->s[i], &r->s[j]))
            j++;
        if (j == r->n)
            continue;
        bool keep;
        double x = elem_binop(e->op, l->s[i].v, r->s[j].v, &keep);
        if (e->return_bool)
            x = keep ? 1 : 0;
        else if (!keep)
            continue;
        if (used[j]) {
            rc = fail(c, "multiple matches for labels: many-to-one matching must be explicit "
                         "(group_left/group_right)");
            break;
        }
        used[j] = true;
        size_t nl;
        struct tsdb_label *labels = result_labels(e, &l->s[i], &nl);
        rc = labels ? vec_push(c, out, labels, nl, x) : fail(c, "out of memory");
    }
    free(used);
    return rc ? rc : check_unique(c, out);
}

/* vector op scalar (swap: scalar op vector); filters v in place into out. */
static int vector_scalar(struct ctx *c, const struct promql_expr *e, struct vec *v, double s,
                         bool swap, struct vec *out)
{
    size_t j = 0;
    for (size_t i = 0; i < v->n; i++) {
        struct promql_sample x = v->s[i];
        bool keep;
        double y = swap ? elem_binop(e->op, s, x.v, &keep) : elem_binop(e->op, x.v, s, &keep);
        if (is_comparison(e->op))
            y = x.v;
        if (e->return_bool)
            y = keep ? 1 : 0;
        else if (!keep) {
            sample_free(&x);
            continue;
        }
        if (!is_comparison(e->op) || e->return_bool)
            label_del(x.labels, &x.n_labels, "__name__");
        x.v = y;
        v->s[j++] = x;
    }
    v->n = j;
    *out = *v;
    memset(v, 0, sizeof *v);
    return check_unique(c, out);
}

static int eval_binary(struct ctx *c, const struct promql_expr *e, struct val *out)
{
    struct val l = {0}, r = {0};
    if (eval(c, e->lhs, &l))
        return -1;
    if (eval(c, e->rhs, &r)) {
        vec_free(&l.v);
        return -1;
    }
    int rc = 0;
    out->type = e->type;
    if (l.type == PROMQL_SCALAR && r.type == PROMQL_SCALAR) {
        bool keep;
        out->scalar = elem_binop(e->op, l.scalar, r.scalar, &keep);
        if (is_comparison(e->op))
            out->scalar = keep ? 1 : 0;
    } else if (l.type == PROMQL_SCALAR) {
        rc = vector_scalar(c, e, &r.v, l.scalar, true, &out->v);
    } else if (r.type == PROMQL_SCALAR) {
        rc = vector_scalar(c, e, &l.v, r.scalar, false, &out->v);
    } else if (e->op >= PQ_AND) {
        rc = set_op(c, e, &l.v, &r.v, &out->v);
    } else {
        rc = vector_binop(c, e, &l.v, &r.v, &out->v);
    }
    vec_free(&l.v);
    vec_free(&r.v);
    return rc;
}

static int eval_unary(struct ctx *c, const struct promql_expr *e, struct val *out)
{
    if (eval(c, e->lhs, out))
        return -1;
    if (e->op != PQ_SUB)
        return 0;
    out->scalar = -out->scalar;
    for (size_t i = 0; i < out->v.n; i++) {
        struct promql_sample *s = &out->v.s[i];
        label_del(s->labels, &s->n_labels, "__name__");
        s->v = -s->v;
    }
    return check_unique(c, &out->v);
}

static int eval(struct ctx *c, const struct promql_expr *e, struct val *out)
{
    memset(out, 0, sizeof *out);
    out->type = e->type;
    int rc = 0;
    switch (e->kind) {
    case PQ_NUMBER:
        out->scalar = e->num;
        break;
    case PQ_PAREN:
        rc = eval(c, e->lhs, out);
        break;
    case PQ_SELECTOR:
        rc = e->range_ms ? fail(c, "range vector not allowed here") : eval_selector(c, e, &out->v);
        break;
    case PQ_UNARY:
        rc = eval_unary(c, e, out);
        break;
    case PQ_BINARY:
        rc = eval_binary(c, e, out);
        break;
    case PQ_AGG: {
        struct val in;
        rc = eval(c, e->lhs, &in);
        if (rc == 0)
            rc = aggregate(c, e, &in.v, &out->v);
        vec_free(&in.v);
        break;
    }
    case PQ_CALL:
        rc = eval_call(c, e, out);
        break;
    case PQ_STRING:
        rc = fail(c, "string not allowed here");
        break;
    }
    if (rc)
        vec_free(&out->v);
    return rc;
}

/* ---- results ---- */

/* Gives s its own copy of its label strings. */
static int sample_own(struct promql_sample *s)
{
    size_t bytes = 1;
    for (size_t i = 0; i < s->n_labels; i++)
        bytes += strlen(s->labels[i].name) + strlen(s->labels[i].value) + 2;
    char *p = malloc(bytes);
    if (!p)
        return -1;
    s->strings = p;
    for (size_t i = 0; i < s->n_labels; i++) {
        size_t a = strlen(s->labels[i].name) + 1, b = strlen(s->labels[i].value) + 1;
        memcpy(p, s->labels[i].name, a);
        s->labels[i].name = p;
        p += a;
        memcpy(p, s->labels[i].value, b);
        s->labels[i].value = p;
        p += b;
    }
    return 0;
}

int promql_eval(const struct promql_expr *e, const struct tsdb *db, int64_t t_ms,
                const struct promql_opts *opts, struct promql_result *out, char *err,
                size_t errsz)
{
    memset(out, 0, sizeof *out);
    struct ctx c = {.db = db, .t = t_ms, .lookback = PROMQL_DEFAULT_LOOKBACK_MS,
                    .err = err, .errsz = errsz};
    if (opts && opts->lookback_ms > 0)
        c.lookback = opts->lookback_ms;
    struct val v;
    if (eval(&c, e, &v))
        return -1;
    for (size_t i = 0; i < v.v.n; i++) {
        if (sample_own(&v.v.s[i])) {
            vec_free(&v.v);
            return fail(&c, "out of memory");
        }
    }
    if (v.v.n)
        qsort(v.v.s, v.v.n, sizeof *v.v.s, sample_cmp);
    out->type = v.type;
    out->scalar = v.scalar;
    out->samples = v.v.s;
    out->n = v.v.n;
    return 0;
}

void promql_result_free(struct promql_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        sample_free(&r->samples[i]);
    free(r->samples);
    memset(r, 0, sizeof *r);
}

const char *promql_sample_label(const struct promql_sample *s, const char *name)
{
    return label_get(s->labels, s->n_labels, name);
}

/* ---- formatting as the HTTP API does ---- */

/* The shortest "%.Ne" rendering of v that reads back as v: its digits
 * (no point) into digits, and the decimal exponent. */
static void shortest_digits(double v, char *digits, size_t sz, int *exp10)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        char *e = strchr(tmp, 'e');
        double back;
        if (!e)
            continue;
        if (promtext_parse_value(tmp, strlen(tmp), &back) == 0 && back == v)
            break;
    }
    char *e = strchr(tmp, 'e');
    *exp10 = e ? (int)strtol(e + 1, NULL, 10) : 0;
    size_t k = 0;
    for (const char *p = tmp; *p && p != e && k + 1 < sz; p++)
        if (*p >= '0' && *p <= '9')
            digits[k++] = *p;
    digits[k] = '\0';
}

int promql_format_value(double v, char *buf, size_t sz)
{
    if (isnan(v))
        return snprintf(buf, sz, "NaN");
    if (isinf(v))
        return snprintf(buf, sz, v > 0 ? "+Inf" : "-Inf");
    char digits[24] = "", out[PROMQL_VALUE_MAX];
    int e10;
    shortest_digits(fabs(v), digits, sizeof digits, &e10);
    size_t nd = strlen(digits), k = 0;
    if (signbit(v))
        out[k++] = '-';
    if (e10 < 0) {
        out[k++] = '0';
        out[k++] = '.';
        for (int i = -1; i > e10; i--)
            out[k++] = '0';
        memcpy(out + k, digits, nd);
        k += nd;
    } else {
        for (size_t i = 0; i <= (size_t)e10; i++)
            out[k++] = i < nd ? digits[i] : '0';
        if (nd > (size_t)e10 + 1) {
            out[k++] = '.';
            memcpy(out + k, digits + e10 + 1, nd - (size_t)e10 - 1);
            k += nd - (size_t)e10 - 1;
        }
    }
    out[k] = '\0';
    return snprintf(buf, sz, "%s", out);
}

/* Appends to buf at *at (as snprintf, counting what would be needed). */
__attribute__((format(printf, 4, 5)))
static void put(char *buf, size_t sz, size_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is above
    int n = vsnprintf(*at < sz ? buf + *at : NULL, *at < sz ? sz - *at : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        *at += (size_t)n;
}

static void put_json_string(char *buf, size_t sz, size_t *at, const char *s)
{
    put(buf, sz, at, "\"");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            put(buf, sz, at, "\\%c", ch);
        else if (ch < 0x20)
            put(buf, sz, at, "\\u%04x", ch);
        else
            put(buf, sz, at, "%c", ch);
    }
    put(buf, sz, at, "\"");
}

static void put_point(char *buf, size_t sz, size_t *at, int64_t t_ms, double v)
{
    char ts[PROMQL_VALUE_MAX], val[PROMQL_VALUE_MAX];
    promql_format_value((double)t_ms / 1000, ts, sizeof ts);
    promql_format_value(v, val, sizeof val);
    put(buf, sz, at, "[%s,\"%s\"]", ts, val);
}

int promql_format_result(const struct promql_result *r, int64_t t_ms, char *buf, size_t sz)
{
    size_t at = 0;
    if (sz)
        buf[0] = '\0';
    if (r->type == PROMQL_SCALAR) {
        put_point(buf, sz, &at, t_ms, r->scalar);
        return (int)at;
    }
    put(buf, sz, &at, "[");
    for (size_t i = 0; i < r->n; i++) {
        const struct promql_sample *s = &r->samples[i];
        put(buf, sz, &at, "%s{\"metric\":{", i ? "," : "");
        for (size_t j = 0; j < s->n_labels; j++) {
            if (j)
                put(buf, sz, &at, ",");
            put_json_string(buf, sz, &at, s->labels[j].name);
            put(buf, sz, &at, ":");
            put_json_string(buf, sz, &at, s->labels[j].value);
        }
        put(buf, sz, &at, "},\"value\":");
        put_point(buf, sz, &at, t_ms, s->v);
        put(buf, sz, &at, "}");
    }
    put(buf, sz, &at, "]");
    return at > INT32_MAX ? -1 : (int)at;
}
