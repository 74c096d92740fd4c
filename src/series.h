/* A cumulative counter sampled over time (the ledger's total of sent
 * messages), and its rate resampled into evenly spaced points for a graph. */
#ifndef MARKETING_SERIES_H
#define MARKETING_SERIES_H

#include <stddef.h>
#include <stdint.h>

struct counter_series {
    int64_t *t;      /* monotonic ms, ascending */
    double *v;       /* the counter's value then */
    size_t n, cap;
    int64_t keep_ms; /* samples older than this behind the newest are dropped */
};

void counter_series_init(struct counter_series *s, int64_t keep_ms);
void counter_series_free(struct counter_series *s);

/* Appends a sample; one not newer than the last is ignored. */
void counter_series_add(struct counter_series *s, int64_t t_ms, double v);

/* The per-second rate over each of `points` equal intervals ending at
 * t_end and spanning span_ms in all, oldest first, into out. An interval
 * the samples do not cover, or in which the counter went down, is NAN.
 * The counter is taken as linear between samples. */
void counter_series_rates(const struct counter_series *s, int64_t t_end, int64_t span_ms,
                          size_t points, double *out);

#endif
