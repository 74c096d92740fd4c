/* The Prometheus text exposition format 0.0.4 and OpenMetrics 1.0 text,
 * parsed as a stream: the body arrives in chunks of any size, split
 * anywhere (inside a label value, a UTF-8 sequence, between CR and LF), and
 * the samples and the first error are exactly those of the whole body.
 * Sample lines `name{label="value",...} value [timestamp]`, `# HELP` and
 * `# TYPE` lines, other comments and blank lines (0.0.4 only).
 *
 * What it checks, as Prometheus does: metric and label names, label value
 * escapes (\\ \" \n) and UTF-8, values (decimal, NaN, +Inf, -Inf; read the
 * same whatever LC_NUMERIC says), timestamps (0.0.4: integer milliseconds,
 * may be negative), duplicate labels, duplicate series, a second TYPE or HELP
 * line for a name, TYPE after the family's samples, unknown types, `le` on
 * histogram buckets and `quantile` on summary quantiles, and that the body
 * ends with a newline (a missing one means it was cut short). A trailing CR
 * before a newline is tolerated.
 *
 * OpenMetrics 1.0 (application/openmetrics-text) adds: the body must end
 * with `# EOF` (an optional newline after it, nothing else); `# UNIT name
 * unit` (once, before the samples, a suffix of the name); no blank lines and
 * no comments but HELP, TYPE, UNIT and EOF; HELP may escape \" too; types
 * counter (samples name_total and name_created), gauge, histogram (_bucket,
 * _count, _sum, _created), gaugehistogram (_bucket, _gcount, _gsum),
 * summary (quantiles, _count, _sum, _created), info (name_info, value 1),
 * stateset (a label named as the family, value 0 or 1) and unknown (read as
 * PROMTEXT_UNTYPED); timestamps in seconds, possibly fractional, handed on
 * as milliseconds (truncated toward zero, as Prometheus does); exemplars
 * (`value [ts] # {labels} value [ts]`) are checked for shape (labels, at
 * most 128 characters of names and values, value, timestamp) and skipped.
 * Whitespace between tokens is read as in 0.0.4 (blanks and tabs).
 *
 * The duplicate-series check compares 64-bit hashes of each series'
 * canonical key (the name and the set of label pairs, in any order), one
 * table per family: a true duplicate is always reported, with the line of
 * its first occurrence. To hide that table's cache miss, a sample's checks
 * and callback run once the next line is parsed (or at the next comment,
 * error or the end): still in the order of the lines, so the first error
 * is the same, but a stream's callback for a line may come from a later
 * feed or from end. Two different series of one family whose hashes
 * collide would be reported as a duplicate too; for k series in a family
 * that has a probability of about k^2 / 2^65 (3e-8 at a million). The hash
 * is not keyed: an endpoint could craft such a pair and fail its own scrape.
 *
 * Errors name the line: "line 12: expected a value after the labels". They
 * never quote bytes that are not printable ASCII (those are shown as
 * "byte 0x1B"), so a message is always one short line.
 *
 * Bounded: a line longer than PROMTEXT_MAX_LINE, more than
 * PROMTEXT_MAX_LABELS labels on one sample or more than PROMTEXT_MAX_SAMPLES
 * samples in one body is an error. A stream holds the unfinished line (at
 * most PROMTEXT_MAX_LINE + 1 bytes, allocated when a chunk ends inside a
 * line), two line-sized scratch buffers, each metric name once, and for the
 * duplicate checks 16 bytes per slot (an 8-byte hash, an 8-byte line) in
 * per-family tables kept at most 70% full: from 23 to 46 bytes per sample
 * (69 while a table doubles);
 * bench/README.md measures it. Never the whole body. */
#ifndef MARKETING_PROMTEXT_H
#define MARKETING_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROMTEXT_MAX_LINE 65536            /* bytes, without the newline */
#define PROMTEXT_MAX_LABELS 64
#define PROMTEXT_MAX_SAMPLES (1u << 20)

enum promtext_format {
    PROMTEXT_FORMAT_TEXT,         /* text/plain; version=0.0.4 */
    PROMTEXT_FORMAT_OPENMETRICS,  /* application/openmetrics-text; version=1.0.0 */
};

enum promtext_type {
    PROMTEXT_UNTYPED,             /* untyped (0.0.4), unknown (OpenMetrics) */
    PROMTEXT_COUNTER,
    PROMTEXT_GAUGE,
    PROMTEXT_HISTOGRAM,
    PROMTEXT_SUMMARY,
    PROMTEXT_GAUGEHISTOGRAM,      /* OpenMetrics only, as are the two below */
    PROMTEXT_STATESET,
    PROMTEXT_INFO,
};
#define PROMTEXT_N_TYPES 8

struct promtext_label {
    const char *name;
    const char *value;   /* unescaped, valid UTF-8 without NUL */
};

/* One sample. Every pointer is valid only during the callback. */
struct promtext_sample {
    const char *name;                    /* the sample's metric name */
    const char *family;                  /* the family it belongs to: name less
                                            the suffix its family's TYPE line
                                            gives it (_bucket, _sum, _count;
                                            OpenMetrics also _total, _created,
                                            _gsum, _gcount, _info) */
    enum promtext_type type;             /* from the family's TYPE line, else untyped */
    const struct promtext_label *labels; /* in the order written */
    size_t n_labels;
    double value;                        /* may be NaN or +-Inf */
    bool has_timestamp;
    int64_t timestamp_ms;                /* OpenMetrics seconds are converted */
    size_t line;                         /* 1-based */
};

/* Called once per sample, in order. Returns 0 to go on; anything else stops
 * the parse, which then fails with "line N: " and the message the callback
 * wrote into msg (or "stopped" when it wrote none). */
typedef int (*promtext_fn)(void *arg, const struct promtext_sample *s, char *msg, size_t msgsz);

/* Parses buf[0..len) as text format 0.0.4 (no NUL terminator needed; NUL
 * bytes are errors where they appear). Returns the number of samples
 * (>= 0), or -1 with a message in err. fn may be NULL (validation only). */
long promtext_parse(const char *buf, size_t len, promtext_fn fn, void *arg, char *err, size_t errsz);

/* The same in either format. */
long promtext_parse_format(enum promtext_format format, const char *buf, size_t len, promtext_fn fn,
                           void *arg, char *err, size_t errsz);

/* The format of a response with this Content-Type: OpenMetrics for
 * application/openmetrics-text (any parameters), otherwise 0.0.4, for
 * text/plain and for a missing (NULL) or unknown type, as Prometheus falls
 * back. */
enum promtext_format promtext_format_for_content_type(const char *content_type);

/* "0.0.4" or "OpenMetrics 1.0". */
const char *promtext_format_name(enum promtext_format format);

/* The push parser. new returns NULL when out of memory. feed takes the next
 * chunk (any length, 0 too) and returns 0, or -1 with the message in err
 * once the input is known to be bad; after an error every call returns -1
 * with the same message. end says the body is complete: it parses the last
 * unfinished line and returns the number of samples, or -1 with a message.
 * fn is called from feed and end, in order. free takes NULL. */
struct promtext_stream;
struct promtext_stream *promtext_stream_new(enum promtext_format format, promtext_fn fn, void *arg);
int promtext_stream_feed(struct promtext_stream *st, const char *chunk, size_t len, char *err,
                         size_t errsz);
long promtext_stream_end(struct promtext_stream *st, char *err, size_t errsz);
void promtext_stream_free(struct promtext_stream **st);

/* The value of label name on s, or NULL. */
const char *promtext_label_value(const struct promtext_sample *s, const char *name);

/* Reads a sample value as the format writes it: a decimal number, NaN, Inf,
 * +Inf or -Inf (those three case-insensitive), independent of the locale.
 * Returns 0 and sets *out, or -1 (bad syntax or out of range). A decimal
 * whose significant digits make an integer of at most 2^53 and whose
 * decimal exponent is within +-22 is computed directly, with one correctly
 * rounded multiplication or division (bit for bit what strtod gives);
 * others go to strtod. */
int promtext_parse_value(const char *s, size_t len, double *out);

/* "counter", "gauge", ... ("untyped" for PROMTEXT_UNTYPED). */
const char *promtext_type_name(enum promtext_type t);

#endif
