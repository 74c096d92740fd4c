/* A subset of PromQL with the semantics of Prometheus 2.42, evaluated at one
 * instant over a tsdb store (see tsdb.h). Pure: no I/O, no threads.
 *
 * Language: number literals (decimal, hex, NaN, Inf), durations (5m, 1h30s,
 * 500ms; units y w d h m s ms), string literals, instant selectors
 * `name{l="v", l2=~"re"}` and `{__name__=~"..."}`, range selectors `[5m]`,
 * `offset` (also negative), parentheses, unary - and +, the binary
 * operators ^ * / % + - == != > < >= <= (with `bool`) and or unless with
 * Prometheus's precedence (^ is right-associative, unary minus binds
 * tighter than * but looser than ^: -2^2 is -4), one-to-one vector matching
 * with on(...) / ignoring(...), the aggregations sum avg min max count group
 * with by(...) / without(...) before or after the argument, and the
 * functions rate irate increase delta idelta avg_over_time min_over_time
 * max_over_time sum_over_time count_over_time last_over_time
 * histogram_quantile abs ceil floor exp ln log2 log10 sqrt clamp clamp_min
 * clamp_max scalar vector time.
 *
 * Not supported (a parse error says so): group_left / group_right,
 * subqueries `[5m:1m]`, the @ modifier, topk bottomk quantile count_values
 * stddev stdvar, atan2, every other function, native histograms. Regexes
 * are POSIX extended, not RE2 (see tsdb.h).
 *
 * Semantics, as Prometheus 2.42 (checked against its promtool):
 *   - an instant selector takes, per series, the newest sample at or before
 *     t - offset and no older than t - offset - lookback (the lookback
 *     window is closed: a sample exactly lookback old is still seen); if
 *     that sample is a staleness marker the series has no value;
 *   - a range selector takes the samples in [t - offset - range,
 *     t - offset], both ends included (Prometheus 3 made the left end
 *     open), skipping staleness markers;
 *   - rate/increase/delta extrapolate like Prometheus's extrapolatedRate,
 *     irate/idelta use the last two samples; functions, arithmetic, unary
 *     minus and `bool` comparisons drop the metric name (last_over_time
 *     keeps it); a comparison without bool filters and keeps the vector's
 *     value; a result with two equal label sets is the error "vector
 *     cannot contain metrics with the same labelset".
 *
 * Errors name the position: "1:15: unexpected ')'". */
#ifndef MARKETING_PROMQL_H
#define MARKETING_PROMQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tsdb.h"

#define PROMQL_DEFAULT_LOOKBACK_MS 300000   /* 5 minutes, as Prometheus */
#define PROMQL_MAX_DEPTH 128                /* nesting allowed in a query */
#define PROMQL_MAX_QUERY 65536              /* bytes */

enum promql_type { PROMQL_SCALAR, PROMQL_VECTOR, PROMQL_MATRIX, PROMQL_STRING };

/* ---- the parse tree (built by promql_parse, read by the evaluator) ---- */

enum promql_kind {
    PQ_NUMBER, PQ_STRING, PQ_SELECTOR, PQ_PAREN, PQ_UNARY, PQ_BINARY, PQ_AGG, PQ_CALL,
};

enum promql_op {
    PQ_ADD, PQ_SUB, PQ_MUL, PQ_DIV, PQ_MOD, PQ_POW,
    PQ_EQ, PQ_NE, PQ_GT, PQ_LT, PQ_GE, PQ_LE,
    PQ_AND, PQ_OR, PQ_UNLESS,
};

enum promql_agg { PQ_SUM, PQ_AVG, PQ_MIN, PQ_MAX, PQ_COUNT, PQ_GROUP };

/* Functions: what the parser checks and the evaluator dispatches on. */
enum promql_func_id {
    PF_RATE, PF_IRATE, PF_INCREASE, PF_DELTA, PF_IDELTA,
    PF_AVG_OT, PF_MIN_OT, PF_MAX_OT, PF_SUM_OT, PF_COUNT_OT, PF_LAST_OT,
    PF_HISTOGRAM_QUANTILE, PF_ABS, PF_CEIL, PF_FLOOR, PF_EXP, PF_LN, PF_LOG2, PF_LOG10,
    PF_SQRT, PF_CLAMP, PF_CLAMP_MIN, PF_CLAMP_MAX, PF_SCALAR, PF_VECTOR, PF_TIME,
};

struct promql_func {
    const char *name;
    enum promql_func_id id;
    enum promql_type args[3];
    size_t n_args;
    enum promql_type ret;
};

/* The function called name, or NULL. */
const struct promql_func *promql_func_find(const char *name);

struct promql_expr {
    enum promql_kind kind;
    enum promql_type type;           /* the value it evaluates to */
    size_t pos;                      /* byte offset in the query */
    double num;                      /* PQ_NUMBER */
    char *str;                       /* PQ_STRING */
    /* PQ_SELECTOR */
    struct tsdb_matcher *matchers;
    size_t n_matchers;
    int64_t range_ms;                /* > 0: a range selector */
    int64_t offset_ms;
    /* PQ_UNARY (op PQ_SUB or PQ_ADD, in lhs), PQ_BINARY, PQ_PAREN (lhs) */
    enum promql_op op;
    struct promql_expr *lhs, *rhs;
    bool return_bool;
    bool matching;                   /* on(...) or ignoring(...) was given */
    bool on;                         /* on rather than ignoring */
    bool without;                    /* PQ_AGG: without rather than by */
    char **labels;                   /* matching or grouping labels */
    size_t n_labels;
    /* PQ_AGG (argument in lhs) */
    enum promql_agg agg;
    /* PQ_CALL */
    const struct promql_func *func;
    struct promql_expr *args[3];
    size_t n_args;
};

/* Parses query (NUL-terminated). Returns the tree, or NULL with
 * "LINE:COL: message" in err. */
struct promql_expr *promql_parse(const char *query, char *err, size_t errsz);
void promql_free(struct promql_expr **e);

/* ---- evaluation ---- */

struct promql_sample {
    struct tsdb_label *labels;       /* sorted by name; strings owned by the result */
    size_t n_labels;
    double v;
    char *strings;                   /* NULL while evaluating (strings borrowed) */
};

struct promql_result {
    enum promql_type type;           /* PROMQL_SCALAR or PROMQL_VECTOR */
    double scalar;
    struct promql_sample *samples;   /* sorted by labels */
    size_t n;
};

struct promql_opts {
    int64_t lookback_ms;             /* 0: PROMQL_DEFAULT_LOOKBACK_MS */
};

/* Evaluates e at t_ms over db. opts may be NULL. Returns 0 and fills *out
 * (free with promql_result_free), or -1 with a message in err. The result
 * owns its strings: db may change afterwards. */
int promql_eval(const struct promql_expr *e, const struct tsdb *db, int64_t t_ms,
                const struct promql_opts *opts, struct promql_result *out, char *err,
                size_t errsz);
void promql_result_free(struct promql_result *r);

/* The value of label name on s, or NULL. */
const char *promql_sample_label(const struct promql_sample *s, const char *name);

/* A value as Prometheus's HTTP API writes it: shortest round-trip decimal
 * without exponent, "NaN", "+Inf", "-Inf". Returns the length that was
 * needed (as snprintf). buf of PROMQL_VALUE_MAX bytes always suffices. */
#define PROMQL_VALUE_MAX 400
int promql_format_value(double v, char *buf, size_t sz);

/* The result as the API's data.result JSON: a scalar as [t, "v"], a vector
 * as [{"metric":{...},"value":[t,"v"]},...]. Returns the length that was
 * needed (as snprintf), or -1 on an encoding error. */
int promql_format_result(const struct promql_result *r, int64_t t_ms, char *buf, size_t sz);

#endif
