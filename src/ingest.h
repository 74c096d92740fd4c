/* One scrape target's samples into the series store, as Prometheus ingests
 * them: every series gets the target's job and instance labels (a series'
 * own job or instance label becomes exported_job or exported_instance, as
 * with honor_labels: false); timestamps in the exposition are honoured;
 * each scrape also writes up, scrape_duration_seconds and
 * scrape_samples_scraped; a series that was in the last scrape and is not
 * in this one, and every series of a failed scrape, gets a staleness
 * marker, so it drops out of instant queries at once. */
#ifndef MARKETING_INGEST_H
#define MARKETING_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "promtext.h"
#include "tsdb.h"

struct ingest_series;

struct ingest_target {
    char *job, *instance;
    struct ingest_series *last;   /* the series of the last good scrape */
    size_t n_last;
    long samples;                 /* of the last good scrape */
    long dropped;                 /* samples the store refused (out of order, caps) */
    char error[256];              /* of the last scrape, or "" */
};

/* job and instance are copied. Returns 0, or -1 when out of memory. */
int ingest_target_init(struct ingest_target *t, const char *job, const char *instance);
void ingest_target_free(struct ingest_target *t);

/* The instance label Prometheus gives a target URL: host:port, with the
 * scheme's default port when the URL has none. */
void ingest_instance_of(const char *url, char *out, size_t n);

/* A scrape that returned a body at t_ms, taking duration_ms. Parses it
 * (Prometheus text format 0.0.4); on success appends every sample and
 * returns 0. On a parse error appends nothing of it, marks the target's
 * series stale, writes up 0, and returns -1 with the error ("line 3: ...")
 * in t->error. */
int ingest_scrape(struct tsdb *db, struct ingest_target *t, const char *body, size_t len,
                  int64_t t_ms, int duration_ms);

/* The same for a body in the given format (OpenMetrics when the target
 * answered with application/openmetrics-text). */
int ingest_scrape_as(struct tsdb *db, struct ingest_target *t, enum promtext_format fmt, const char *body,
                     size_t len, int64_t t_ms, int duration_ms);

/* A scrape that failed before a body (connection, timeout, HTTP status):
 * the target's series go stale and up is 0. why goes to t->error. */
void ingest_failed(struct tsdb *db, struct ingest_target *t, int64_t t_ms, int duration_ms,
                   const char *why);

#endif
