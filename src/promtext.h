/* The Prometheus text exposition format 0.0.4, parsed from a complete body
 * in memory: sample lines `name{label="value",...} value [timestamp]`,
 * `# HELP` and `# TYPE` lines, other comments and blank lines.
 *
 * What it checks, as Prometheus does: metric and label names, label value
 * escapes (\\ \" \n) and UTF-8, values (decimal, NaN, +Inf, -Inf; read the
 * same whatever LC_NUMERIC says), integer millisecond timestamps (may be
 * negative), duplicate labels, duplicate series, a second TYPE or HELP line
 * for a name, TYPE after the family's samples, unknown types, `le` on
 * histogram buckets and `quantile` on summary quantiles, and that the body
 * ends with a newline (a missing one means it was cut short). A trailing CR
 * before a newline is tolerated.
 *
 * Errors name the line: "line 12: expected a value after the labels". They
 * never quote bytes that are not printable ASCII (those are shown as
 * "byte 0x1B"), so a message is always one short line.
 *
 * Bounded: a line longer than PROMTEXT_MAX_LINE, more than
 * PROMTEXT_MAX_LABELS labels on one sample or more than PROMTEXT_MAX_SAMPLES
 * samples in one body is an error. Memory beyond the body is two line-sized
 * scratch buffers plus a table for the duplicate checks: 24-byte slots kept
 * at most half full, so about 50 bytes per sample (75 while it doubles), and
 * a little per metric name (bench/README.md measures it). */
#ifndef MARKETING_PROMTEXT_H
#define MARKETING_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROMTEXT_MAX_LINE 65536            /* bytes, without the newline */
#define PROMTEXT_MAX_LABELS 64
#define PROMTEXT_MAX_SAMPLES (1u << 20)

enum promtext_type {
    PROMTEXT_UNTYPED,
    PROMTEXT_COUNTER,
    PROMTEXT_GAUGE,
    PROMTEXT_HISTOGRAM,
    PROMTEXT_SUMMARY,
};

struct promtext_label {
    const char *name;
    const char *value;   /* unescaped, valid UTF-8 without NUL */
};

/* One sample. Every pointer is valid only during the callback. */
struct promtext_sample {
    const char *name;                    /* the sample's metric name */
    const char *family;                  /* the family it belongs to: name less
                                            _bucket/_sum/_count when a TYPE line
                                            made it a histogram or summary */
    enum promtext_type type;             /* from the family's TYPE line, else untyped */
    const struct promtext_label *labels; /* in the order written */
    size_t n_labels;
    double value;                        /* may be NaN or +-Inf */
    bool has_timestamp;
    int64_t timestamp_ms;
    size_t line;                         /* 1-based */
};

/* Called once per sample, in order. Returns 0 to go on; anything else stops
 * the parse, which then fails with "line N: " and the message the callback
 * wrote into msg (or "stopped" when it wrote none). */
typedef int (*promtext_fn)(void *arg, const struct promtext_sample *s, char *msg, size_t msgsz);

/* Parses buf[0..len) (no NUL terminator needed; NUL bytes are errors where
 * they appear). Returns the number of samples (>= 0), or -1 with a message
 * in err. fn may be NULL (validation only). */
long promtext_parse(const char *buf, size_t len, promtext_fn fn, void *arg, char *err, size_t errsz);

/* The value of label name on s, or NULL. */
const char *promtext_label_value(const struct promtext_sample *s, const char *name);

/* Reads a sample value as the format writes it: a decimal number, NaN, Inf,
 * +Inf or -Inf (those three case-insensitive), independent of the locale.
 * Returns 0 and sets *out, or -1 (bad syntax or out of range). */
int promtext_parse_value(const char *s, size_t len, double *out);

/* "counter", "gauge", ... */
const char *promtext_type_name(enum promtext_type t);

#endif
