/* A client of a Prometheus server's HTTP API (v1): instant and range
 * queries, the alerts and the rules it evaluates. Blocking, on libcurl easy
 * handles: call it from worker threads, never from the thread that draws.
 *
 * Threads: a struct promapi is read-only once made, and every call makes its
 * own curl handle, so any number of threads may call any function on the
 * same client at once. curl_global_init() must have run before the first
 * thread started (main.c does it). promapi_free() must not race a call.
 *
 * Ownership: every result belongs to the caller, owns all its strings (no
 * pointer into the client or a response body survives the call), and is
 * freed by its own free function, which also accepts a zeroed or already
 * freed result. A failed call leaves its result zeroed.
 *
 * Untrusted text: every string in a result comes from the server as it sent
 * it (valid UTF-8 by JSON's rules, but any control, bidi or escape
 * character included). Sanitize before it reaches a terminal (sanitize.h).
 * Error messages are one line of printable ASCII: the server's own error
 * text is cut and escaped into them.
 *
 * Requests: TLS verification is on; http and https only, redirects (at most
 * 3) only to those; a connect timeout, a total timeout and a low-speed
 * limit; the body is capped as it arrives (chunked and compressed bodies
 * too). The bearer token file is read on every request, so a rotated token
 * is picked up; it is refused if group or others may read it.
 *
 * Parsing is strict: a missing or mistyped field is an error naming the
 * endpoint and the field ("/api/v1/alerts: data.alerts[2].state is not a
 * string"), never a zero. A Prometheus error ("status":"error") becomes
 * "/api/v1/query: bad_data: <Prometheus's error text>" (with "HTTP 400"
 * when the status said so); an HTTP error with no such body names the
 * status. */
#ifndef MARKETING_PROMAPI_H
#define MARKETING_PROMAPI_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promql.h"

#define PROMAPI_DEFAULT_TIMEOUT_MS 10000
#define PROMAPI_DEFAULT_BODY_CAP (16u << 20)
#define PROMAPI_ERR_MAX 512        /* an error buffer of this size holds any message */
#define PROMAPI_NOW INT64_MIN      /* as an evaluation time: the server's now */

struct promapi_opts {
    const char *url;               /* base URL, http(s)://host:port[/prefix]; a trailing
                                      '/' is ignored. /api/v1/... is appended. */
    const char *token_file;        /* NULL or "": no token (see poller_load_token) */
    int connect_timeout_ms;        /* <= 0: the total timeout */
    int timeout_ms;                /* the whole request; <= 0: PROMAPI_DEFAULT_TIMEOUT_MS */
    size_t body_cap;               /* bytes, decoded; 0: PROMAPI_DEFAULT_BODY_CAP */
    const atomic_bool *cancel;     /* NULL, or a flag another thread sets to abandon the
                                      requests in flight (they end within about a second,
                                      with the error "cancelled") */
};

struct promapi;

/* A client for o->url (copied, with everything else in o). NULL with a
 * message when the URL is not http(s) or the token file is refused. */
struct promapi *promapi_new(const struct promapi_opts *o, char *err, size_t errsz);
/* Frees the client and sets *c to NULL. */
void promapi_free(struct promapi **c);
/* The base URL as given (without a trailing '/'). */
const char *promapi_url(const struct promapi *c);

/* ---- /api/v1/query ---- */

/* Evaluates expr at at_ms (epoch ms; PROMAPI_NOW: the server's now).
 * Fills *out exactly as promql_eval does (free with promql_result_free;
 * samples sorted by labels; every label string owned by its sample), so
 * promql_format_result() prints it. *t_ms (may be NULL) gets the evaluation
 * time the server reported, or at_ms when the answer has no point (an
 * empty vector; the client's clock for PROMAPI_NOW). A range vector
 * ("matrix") or string answer is an error that says so. Returns 0, or -1
 * with a message. */
int promapi_query(const struct promapi *c, const char *expr, int64_t at_ms, struct promql_result *out,
                  int64_t *t_ms, char *err, size_t errsz);

/* ---- /api/v1/query_range ---- */

struct promapi_point {
    int64_t t_ms;                  /* epoch ms */
    double v;                      /* NaN and +-Inf as the server sent them */
};

struct promapi_series {
    struct tsdb_label *labels;     /* sorted by name; __name__ included when the server
                                      kept it; strings owned by the series */
    size_t n_labels;
    struct promapi_point *points;  /* oldest first */
    size_t n_points;
    char *strings;                 /* the block that holds the label strings */
};

struct promapi_matrix {
    struct promapi_series *series; /* sorted by labels */
    size_t n;
};

/* Evaluates expr at start_ms, start_ms + step_ms, ... up to end_ms (the
 * server's rules: step_ms > 0, at most 11,000 points per series). Returns 0
 * and fills *out (free with promapi_matrix_free), or -1 with a message. A
 * scalar expression comes back as one series with no labels. */
int promapi_query_range(const struct promapi *c, const char *expr, int64_t start_ms, int64_t end_ms,
                        int64_t step_ms, struct promapi_matrix *out, char *err, size_t errsz);
void promapi_matrix_free(struct promapi_matrix *m);

/* ---- /api/v1/alerts and /api/v1/rules ---- */

struct promapi_kv {
    char *name, *value;
};

enum promapi_alert_state { PROMAPI_INACTIVE, PROMAPI_PENDING, PROMAPI_FIRING };

struct promapi_alert {
    struct promapi_kv *labels;     /* in the server's order (by name); alertname included */
    size_t n_labels;
    struct promapi_kv *annotations;/* templated by the server */
    size_t n_annotations;
    enum promapi_alert_state state;/* pending or firing */
    int64_t active_at_ms;          /* epoch ms since it has been pending or firing; 0: none */
    double value;                  /* the expression's value; NaN and +-Inf possible */
};

struct promapi_alerts {
    struct promapi_alert *alerts;
    size_t n;
};

/* The server's active alerts. Returns 0 and fills *out (free with
 * promapi_alerts_free), or -1 with a message. */
int promapi_alerts(const struct promapi *c, struct promapi_alerts *out, char *err, size_t errsz);
void promapi_alerts_free(struct promapi_alerts *a);

enum promapi_rule_type { PROMAPI_ALERTING, PROMAPI_RECORDING };
enum promapi_health { PROMAPI_HEALTH_UNKNOWN, PROMAPI_HEALTH_OK, PROMAPI_HEALTH_ERR };

struct promapi_rule {
    enum promapi_rule_type type;
    char *name;                    /* the alert's name, or the recorded series' */
    char *query;                   /* the expression, as the server prints it */
    struct promapi_kv *labels;
    size_t n_labels;
    enum promapi_health health;
    char *last_error;              /* "" when none */
    double evaluation_s;           /* how long its last evaluation took */
    int64_t last_evaluation_ms;    /* epoch ms; 0: not evaluated yet */
    /* alerting rules only (zero/NULL for recording rules) */
    enum promapi_alert_state state;
    int64_t for_ms;                /* `for` */
    int64_t keep_firing_for_ms;    /* `keep_firing_for`; 0 when absent */
    struct promapi_kv *annotations;/* as written in the rule file (not templated) */
    size_t n_annotations;
    struct promapi_alert *alerts;  /* its pending and firing alerts */
    size_t n_alerts;
};

struct promapi_group {
    char *name, *file;
    int64_t interval_ms;
    struct promapi_rule *rules;    /* in file order */
    size_t n_rules;
};

struct promapi_rules {
    struct promapi_group *groups;
    size_t n;
};

/* The server's rule groups with every rule's state. Returns 0 and fills
 * *out (free with promapi_rules_free), or -1 with a message. */
int promapi_rules(const struct promapi *c, struct promapi_rules *out, char *err, size_t errsz);
void promapi_rules_free(struct promapi_rules *r);

/* "inactive", "pending", "firing". */
const char *promapi_state_name(enum promapi_alert_state s);

/* The value of label (or annotation) name in kv[0..n), or NULL. */
const char *promapi_kv_get(const struct promapi_kv *kv, size_t n, const char *name);

/* ---- pieces, exposed for tests and fuzzing ---- */

/* Parse a response body as the calls above do: 0, or -1 with a message
 * (the result then zeroed). http_status is the response's (200 for a body
 * known good). promapi_parse_query sets *t_ms (may be NULL) only when the
 * answer has a point. */
int promapi_parse_query(const char *body, size_t len, int http_status, struct promql_result *out,
                        int64_t *t_ms, char *err, size_t errsz);
int promapi_parse_query_range(const char *body, size_t len, int http_status,
                              struct promapi_matrix *out, char *err, size_t errsz);
int promapi_parse_alerts(const char *body, size_t len, int http_status, struct promapi_alerts *out,
                         char *err, size_t errsz);
int promapi_parse_rules(const char *body, size_t len, int http_status, struct promapi_rules *out,
                        char *err, size_t errsz);

/* An RFC 3339 time as Prometheus writes it ("2026-11-29T23:44:32.11983645Z",
 * or with an offset +01:00) as epoch ms (truncated); Go's zero time
 * "0001-01-01T00:00:00Z" is 0. Returns 0, or -1 when malformed. */
int promapi_parse_time(const char *s, int64_t *ms);

#endif
