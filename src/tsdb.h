/* An in-memory time-series store for evaluating Prometheus rules from raw
 * scrapes: no I/O, no threads (the caller serialises access).
 *
 * A series is a label set (sorted by name, including __name__; labels with
 * an empty value are dropped, as Prometheus treats them as absent) and its
 * samples (int64 ms, double) in strictly increasing time order, kept in a
 * ring buffer. The store owns copies of every string.
 *
 * Bounds:
 *   - retention: on every append, samples of that series older than
 *     retention_ms before the newest timestamp the store has seen are
 *     dropped; tsdb_compact() applies the same rule to every series and
 *     removes series left empty.
 *   - max_samples: the store never holds more samples than this. When an
 *     append would exceed it, the oldest sample of the series holding the
 *     most samples is dropped first (ties: the series created first).
 *
 * Staleness: tsdb_append_stale() writes Prometheus's staleness marker, a
 * NaN with the bit pattern 0x7ff0000000000002 (TSDB_STALE_NAN_BITS). Readers
 * test with tsdb_is_stale(); an ordinary NaN is not a marker.
 *
 * Matchers: = != =~ !~. A missing label matches as the empty string. Regexes
 * are fully anchored like Prometheus's: "re" is compiled as POSIX extended
 * "^(re)$" (<regex.h>, REG_EXTENDED). RE2-only syntax (\d, \w, (?:...),
 * (?i), non-greedy quantifiers, character classes like [[:^alpha:]]) is
 * not supported: it fails to compile or means something else. To bound
 * time and memory (glibc copies the operand of + and {m,n}), patterns
 * longer than TSDB_MAX_REGEX bytes, back references (\1...), repeat counts
 * above TSDB_MAX_REPEAT, stacked repetitions (a++, a*+; RE2 refuses these
 * too) and nestings of repeats that would expand past a few thousand
 * nodes are refused. */
#ifndef MARKETING_TSDB_H
#define MARKETING_TSDB_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSDB_STALE_NAN_BITS UINT64_C(0x7ff0000000000002)
#define TSDB_MAX_LABELS 64
#define TSDB_MAX_REGEX 1024
#define TSDB_MAX_REPEAT 100

struct tsdb_label {
    const char *name;
    const char *value;
};

struct tsdb_sample {
    int64_t t;   /* ms */
    double v;    /* may be a staleness marker */
};

struct tsdb;
struct tsdb_series;

/* A new empty store, or NULL when out of memory. max_samples 0 means 1. */
struct tsdb *tsdb_new(int64_t retention_ms, size_t max_samples);
/* Which series keep history: a series for which keep() is false when it is
 * created keeps only its latest sample (enough for an instant query of its
 * value now); the others keep everything within retention. keep sees the
 * series' labels sorted by name, __name__ included. Without one (the
 * default) every series keeps history. Applies to series created later. */
typedef bool (*tsdb_keep_fn)(void *arg, const struct tsdb_label *labels, size_t n);
void tsdb_set_keep(struct tsdb *db, tsdb_keep_fn keep, void *arg);

/* Frees the store and everything it owns; sets *db to NULL. */
void tsdb_free(struct tsdb **db);

/* Appends (t_ms, v) to the series with these labels, creating it. labels
 * need not be sorted and are copied. Returns 0, or -1 with a message in
 * err: a timestamp not newer than the series' last sample, a bad or
 * duplicate label name, more than TSDB_MAX_LABELS labels, no __name__, out
 * of memory. */
int tsdb_append(struct tsdb *db, const struct tsdb_label *labels, size_t n, int64_t t_ms,
                double v, char *err, size_t errsz);
/* Appends a staleness marker at t_ms (as tsdb_append). */
int tsdb_append_stale(struct tsdb *db, const struct tsdb_label *labels, size_t n, int64_t t_ms,
                      char *err, size_t errsz);

/* Prometheus's staleness marker, and the test for it. */
double tsdb_stale_nan(void);
bool tsdb_is_stale(double v);

/* Drops samples past retention from every series and removes empty series. */
void tsdb_compact(struct tsdb *db);

size_t tsdb_total_samples(const struct tsdb *db);
size_t tsdb_series_total(const struct tsdb *db);

/* ---- matchers and lookup ---- */

enum tsdb_match_op { TSDB_MATCH_EQ, TSDB_MATCH_NEQ, TSDB_MATCH_RE, TSDB_MATCH_NRE };

struct tsdb_matcher {
    enum tsdb_match_op op;
    char *name;       /* owned */
    char *value;      /* owned: the literal or the pattern as written */
    regex_t re;       /* compiled for RE and NRE */
    bool compiled;
};

/* Fills m (copying name and value, compiling a regex). Returns 0, or -1
 * with a message in err ("invalid regular expression ..."). */
int tsdb_matcher_init(struct tsdb_matcher *m, const char *name, enum tsdb_match_op op,
                      const char *value, char *err, size_t errsz);
void tsdb_matcher_free(struct tsdb_matcher *m);
/* Does label value v (NULL: the label is missing) satisfy m? */
bool tsdb_matcher_matches(const struct tsdb_matcher *m, const char *v);

/* The series satisfying every matcher, in creation order, into a new
 * array *out (caller frees the array, not the series). Returns the count,
 * or -1 when out of memory. An __name__ equality matcher uses the index. */
long tsdb_select(const struct tsdb *db, const struct tsdb_matcher *ms, size_t n,
                 const struct tsdb_series ***out);

/* The series' labels, sorted by name; valid until the series is removed. */
const struct tsdb_label *tsdb_series_labels(const struct tsdb_series *s, size_t *n);
/* The value of label name, or NULL. */
const char *tsdb_series_label(const struct tsdb_series *s, const char *name);
size_t tsdb_series_len(const struct tsdb_series *s);
/* Sample i, oldest first (i < tsdb_series_len). */
struct tsdb_sample tsdb_series_at(const struct tsdb_series *s, size_t i);
/* Index of the first sample with t >= t_ms (tsdb_series_len when none). */
size_t tsdb_series_seek(const struct tsdb_series *s, int64_t t_ms);

/* Is name a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)? */
bool tsdb_valid_label_name(const char *name);

#endif
