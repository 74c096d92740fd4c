#include "series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void counter_series_init(struct counter_series *s, int64_t keep_ms)
{
    memset(s, 0, sizeof *s);
    s->keep_ms = keep_ms;
}

void counter_series_free(struct counter_series *s)
{
    free(s->t);
    free(s->v);
    memset(s, 0, sizeof *s);
}

void counter_series_add(struct counter_series *s, int64_t t_ms, double v)
{
    if (s->n && t_ms <= s->t[s->n - 1])
        return;
    /* drop what is too old (keep one sample before the horizon for interpolation) */
    size_t drop = 0;
    while (drop + 1 < s->n && s->t[drop + 1] < t_ms - s->keep_ms)
        drop++;
    if (drop) {
        memmove(s->t, s->t + drop, (s->n - drop) * sizeof *s->t);
        memmove(s->v, s->v + drop, (s->n - drop) * sizeof *s->v);
        s->n -= drop;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        int64_t *t = realloc(s->t, cap * sizeof *t);
        if (!t)
            return;
        s->t = t;
        double *vv = realloc(s->v, cap * sizeof *vv);
        if (!vv)
            return;
        s->v = vv;
        s->cap = cap;
    }
    s->t[s->n] = t_ms;
    s->v[s->n] = v;
    s->n++;
}

/* The counter at time t by linear interpolation; NAN outside the samples. */
static double value_at(const struct counter_series *s, int64_t t)
{
    if (s->n == 0 || t < s->t[0] || t > s->t[s->n - 1])
        return NAN;
    size_t lo = 0, hi = s->n - 1;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (s->t[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    if (s->t[hi] == s->t[lo])
        return s->v[lo];
    double f = (double)(t - s->t[lo]) / (double)(s->t[hi] - s->t[lo]);
    return s->v[lo] + f * (s->v[hi] - s->v[lo]);
}

void counter_series_rates(const struct counter_series *s, int64_t t_end, int64_t span_ms,
                          size_t points, double *out)
{
    if (points == 0)
        return;
    double step = (double)span_ms / (double)points;
    for (size_t i = 0; i < points; i++) {
        int64_t a = t_end - span_ms + (int64_t)llround(step * (double)i);
        int64_t b = t_end - span_ms + (int64_t)llround(step * (double)(i + 1));
        double va = value_at(s, a), vb = value_at(s, b);
        if (isnan(va) || isnan(vb) || vb < va || b <= a)
            out[i] = NAN;
        else
            out[i] = (vb - va) * 1000.0 / (double)(b - a);
    }
}
