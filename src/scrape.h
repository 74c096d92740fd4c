/* Scrapes: what one /metrics body says about the counters and gauges the
 * console uses, and the per-second rates between two scrapes, following
 * Prometheus's counter semantics. No network: unit-tested on text. */
#ifndef MARKETING_SCRAPE_H
#define MARKETING_SCRAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promtext.h"

enum poll_counter {
    POLL_SENT, POLL_OPENED, POLL_CLICKED, POLL_FAILED, POLL_BOUNCED,
    POLL_HTTP, POLL_HTTP_5XX,
    POLL_NCOUNTERS
};
enum poll_gauge { POLL_DB_ACTIVE, POLL_DB_MAX, POLL_NGAUGES };

struct poll_series;           /* one series of a counter, by its labels */

/* What one good scrape of one target yields. */
struct poll_scrape {
    bool present[POLL_NCOUNTERS];     /* the target has the metric */
    double total[POLL_NCOUNTERS];     /* the sum of its series; NAN when absent */
    double gauge[POLL_NGAUGES];       /* NAN when absent */
    struct poll_series *series;       /* sorted by counter, then labels */
    size_t n_series;
};

/* Parses a /metrics body. NULL with a message ("line 3: ...") on error. */
struct poll_scrape *poll_scrape_parse(const char *body, size_t len, char *err, size_t errsz);
/* The same for a body in the given format. */
struct poll_scrape *poll_scrape_parse_as(enum promtext_format fmt, const char *body, size_t len, char *err,
                                         size_t errsz);
void poll_scrape_free(struct poll_scrape **s);

/* A counter's increase from prev to cur: cur - prev, or cur when it went
 * down (a reset). NAN when either is NaN or infinite. */
double poll_increase(double prev, double cur);

/* The per-second rate of every counter from prev to cur, taken dt_ms
 * apart: the sum of its series' increases (a series new in cur counts
 * from zero) over the interval. NAN for a counter cur lacks, or when prev
 * is NULL, dt_ms <= 0, or a value is NaN or infinite. */
void poll_scrape_rates(const struct poll_scrape *prev, const struct poll_scrape *cur, int64_t dt_ms,
                       double rate[POLL_NCOUNTERS]);

#endif
