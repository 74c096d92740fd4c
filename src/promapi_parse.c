/* Prometheus HTTP API responses (JSON, jansson) into promapi.h's structs,
 * strictly: every field the API documents is checked for presence and type,
 * and an error names the endpoint and the field's path. No I/O. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "promapi.h"
#include "promtext.h"

#define EP_QUERY "/api/v1/query"
#define EP_RANGE "/api/v1/query_range"
#define EP_ALERTS "/api/v1/alerts"
#define EP_RULES "/api/v1/rules"

/* Where an error happens: the endpoint and the caller's buffer. */
struct jp {
    const char *ep;
    char *err;
    size_t errsz;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct jp *j, const char *fmt, ...)
{
    char msg[PROMAPI_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
    va_end(ap);
    if (j->err && j->errsz)
        snprintf(j->err, j->errsz, "%s: %s", j->ep, msg);
    return -1;
}

/* Copies at most max bytes of src into dst as one line of printable ASCII
 * (other bytes as \xNN), cut to dstsz. */
static void escape_ascii(char *dst, size_t dstsz, const char *src, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; src && i < max && src[i] && n + 5 < dstsz; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c >= 0x20 && c < 0x7f) {
            dst[n++] = (char)c;
        } else {
            snprintf(dst + n, dstsz - n, "\\x%02x", c);
            n += 4;
        }
    }
    if (dstsz)
        dst[n < dstsz ? n : dstsz - 1] = '\0';
}

static const char *type_name(json_type t)
{
    switch (t) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

static bool is_type(const json_t *v, json_type t)
{
    if (t == JSON_REAL || t == JSON_INTEGER)
        return json_is_number(v);
    return v && json_typeof(v) == t;
}

/* obj[key], which must be of type t; path names obj ("" for the root). NULL
 * after an error, or (optional) NULL without one when it is absent. */
static json_t *field(struct jp *j, json_t *obj, const char *path, const char *key, json_type t,
                     bool optional)
{
    json_t *v = json_object_get(obj, key);
    const char *dot = path[0] ? "." : "";
    if (!v) {
        if (!optional)
            fail(j, "%s%s%s is missing", path, dot, key);
        return NULL;
    }
    if (!is_type(v, t)) {
        fail(j, "%s%s%s is not %s", path, dot, key, type_name(t));
        return NULL;
    }
    return v;
}

/* A JSON string as a C string: one with a NUL inside is refused. */
static int str_ok(struct jp *j, const json_t *v, const char *path)
{
    if (strlen(json_string_value(v)) != json_string_length(v))
        return fail(j, "%s contains a NUL character", path);
    return 0;
}

static int get_str(struct jp *j, json_t *obj, const char *path, const char *key, bool optional,
                   const char **out)
{
    char p[256];
    json_t *v = field(j, obj, path, key, JSON_STRING, optional);
    *out = NULL;
    if (!v)
        return optional && !json_object_get(obj, key) ? 0 : -1;
    snprintf(p, sizeof p, "%s%s%s", path, path[0] ? "." : "", key);
    if (str_ok(j, v, p))
        return -1;
    *out = json_string_value(v);
    return 0;
}

static int dup_str(struct jp *j, json_t *obj, const char *path, const char *key, bool optional,
                   char **out)
{
    const char *s;
    *out = NULL;
    if (get_str(j, obj, path, key, optional, &s))
        return -1;
    *out = strdup(s ? s : "");
    return *out ? 0 : fail(j, "out of memory");
}

static int get_num(struct jp *j, json_t *obj, const char *path, const char *key, bool optional,
                   double *out)
{
    json_t *v = field(j, obj, path, key, JSON_REAL, optional);
    *out = 0;
    if (!v)
        return optional && !json_object_get(obj, key) ? 0 : -1;
    *out = json_number_value(v);
    return 0;
}

/* A sample value as the API writes it: a string, "NaN", "+Inf", "1e+00". */
static int value_of(struct jp *j, const json_t *v, const char *path, double *out)
{
    if (!json_is_string(v))
        return fail(j, "%s is not a string", path);
    const char *s = json_string_value(v);
    if (str_ok(j, v, path) || promtext_parse_value(s, strlen(s), out) != 0) {
        char shown[64];
        escape_ascii(shown, sizeof shown, s, 40);
        return fail(j, "%s is not a number: \"%s\"", path, shown);
    }
    return 0;
}

static int time_of(struct jp *j, json_t *obj, const char *path, const char *key, int64_t *ms)
{
    const char *s;
    if (get_str(j, obj, path, key, false, &s))
        return -1;
    if (promapi_parse_time(s, ms) != 0) {
        char shown[64];
        escape_ascii(shown, sizeof shown, s, 40);
        return fail(j, "%s.%s is not an RFC 3339 time: \"%s\"", path, key, shown);
    }
    return 0;
}

static int64_t secs_to_ms(double s) { return (int64_t)llround(s * 1000.0); }

/* ---- labels ---- */

static void kv_free(struct promapi_kv **kv, size_t *n)
{
    for (size_t i = 0; *kv && i < *n; i++) {
        free((*kv)[i].name);
        free((*kv)[i].value);
    }
    free(*kv);
    *kv = NULL;
    *n = 0;
}

/* An object of strings (labels, annotations) as name/value pairs. */
static int kv_of(struct jp *j, json_t *obj, const char *path, const char *key, bool optional,
                 struct promapi_kv **out, size_t *n)
{
    char p[256];
    *out = NULL;
    *n = 0;
    json_t *o = field(j, obj, path, key, JSON_OBJECT, optional);
    if (!o)
        return optional && !json_object_get(obj, key) ? 0 : -1;
    size_t size = json_object_size(o);
    if (size == 0)
        return 0;
    *out = calloc(size, sizeof **out);
    if (!*out)
        return fail(j, "out of memory");
    const char *name;
    json_t *v;
    json_object_foreach(o, name, v) {
        char shown[80]; /* a name from the server, shown escaped */
        escape_ascii(shown, sizeof shown, name, 60);
        snprintf(p, sizeof p, "%s%s%s.%s", path, path[0] ? "." : "", key, shown);
        if (!json_is_string(v) || str_ok(j, v, p)) {
            if (!json_is_string(v))
                fail(j, "%s is not a string", p);
            kv_free(out, n);
            return -1;
        }
        struct promapi_kv *e = &(*out)[(*n)++];
        e->name = strdup(name);
        e->value = strdup(json_string_value(v));
        if (!e->name || !e->value) {
            kv_free(out, n);
            return fail(j, "out of memory");
        }
    }
    return 0;
}

static int label_cmp(const void *x, const void *y)
{
    const struct tsdb_label *a = x, *b = y;
    return strcmp(a->name, b->name);
}

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

static int series_cmp(const void *x, const void *y)
{
    const struct promapi_series *a = x, *b = y;
    return labels_cmp(a->labels, a->n_labels, b->labels, b->n_labels);
}

/* A "metric" object as tsdb labels sorted by name, every string in one
 * block (*strings), as promql.c's results keep them. */
static int metric_of(struct jp *j, json_t *obj, const char *path, struct tsdb_label **labels,
                     size_t *n, char **strings)
{
    char p[256];
    *labels = NULL;
    *n = 0;
    *strings = NULL;
    json_t *m = field(j, obj, path, "metric", JSON_OBJECT, false);
    if (!m)
        return -1;
    size_t count = json_object_size(m), bytes = 1;
    const char *name;
    json_t *v;
    json_object_foreach(m, name, v) {
        char shown[80]; /* a name from the server, shown escaped */
        escape_ascii(shown, sizeof shown, name, 60);
        snprintf(p, sizeof p, "%s.metric.%s", path, shown);
        if (!json_is_string(v))
            return fail(j, "%s is not a string", p);
        if (str_ok(j, v, p))
            return -1;
        bytes += strlen(name) + json_string_length(v) + 2;
    }
    *labels = malloc((count ? count : 1) * sizeof **labels);
    *strings = malloc(bytes);
    if (!*labels || !*strings) {
        free(*labels);
        free(*strings);
        *labels = NULL;
        *strings = NULL;
        return fail(j, "out of memory");
    }
    char *at = *strings;
    json_object_foreach(m, name, v) {
        size_t a = strlen(name) + 1, b = json_string_length(v) + 1;
        memcpy(at, name, a);
        (*labels)[*n].name = at;
        at += a;
        memcpy(at, json_string_value(v), b);
        (*labels)[*n].value = at;
        at += b;
        (*n)++;
    }
    if (*n > 1)
        qsort(*labels, *n, sizeof **labels, label_cmp);
    return 0;
}

/* A [time, "value"] pair. */
static int point_of(struct jp *j, const json_t *pt, const char *path, int64_t *t_ms, double *v)
{
    char p[256];
    *t_ms = 0;
    *v = 0;
    if (!json_is_array(pt) || json_array_size(pt) != 2)
        return fail(j, "%s is not a [time, \"value\"] pair", path);
    if (!json_is_number(json_array_get(pt, 0)))
        return fail(j, "%s[0] is not a number", path);
    *t_ms = secs_to_ms(json_number_value(json_array_get(pt, 0)));
    snprintf(p, sizeof p, "%s[1]", path);
    return value_of(j, json_array_get(pt, 1), p, v);
}

/* ---- the envelope ---- */

/* The response's "data" (root in *root, to be released by the caller), or
 * NULL with a message: bad JSON, an HTTP error, a Prometheus error. */
static json_t *envelope(struct jp *j, const char *body, size_t len, int http_status, json_t **root)
{
    json_error_t je;
    bool http_ok = http_status >= 200 && http_status <= 299;
    *root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    const char *status = NULL;
    if (json_is_object(*root)) {
        json_t *s = json_object_get(*root, "status");
        status = json_is_string(s) ? json_string_value(s) : NULL;
    }
    if (status && strcmp(status, "error") == 0) {
        /* Prometheus's own words, whatever the HTTP status */
        json_t *et = json_object_get(*root, "errorType"), *e = json_object_get(*root, "error");
        char type[64] = "", text[300] = "", code[32] = "";
        if (json_is_string(et))
            escape_ascii(type, sizeof type, json_string_value(et), 48);
        if (json_is_string(e))
            escape_ascii(text, sizeof text, json_string_value(e), 260);
        if (!http_ok)
            snprintf(code, sizeof code, "HTTP %d: ", http_status);
        fail(j, "%s%s%s%s", code, type, type[0] ? ": " : "",
             text[0] ? text : "error with no message");
        goto bad;
    }
    if (!http_ok) {
        char snippet[160] = "";
        if (!*root && body && len) {
            /* the body's first line: it has no NUL at its end */
            size_t line = 0;
            while (line < len && body[line] != '\r' && body[line] != '\n')
                line++;
            escape_ascii(snippet, sizeof snippet, body, line);
        }
        fail(j, "HTTP %d%s%.120s", http_status, snippet[0] ? ": " : "", snippet);
        goto bad;
    }
    if (!*root) {
        fail(j, "invalid JSON (line %d column %d: %s)", je.line, je.column, je.text);
        goto bad;
    }
    if (!json_is_object(*root)) {
        fail(j, "the response is not a JSON object");
        goto bad;
    }
    if (!status) {
        if (field(j, *root, "", "status", JSON_STRING, false))
            fail(j, "status is not a string");
        goto bad;
    }
    if (strcmp(status, "success") != 0) {
        char shown[64];
        escape_ascii(shown, sizeof shown, status, 40);
        fail(j, "status is \"%s\", not \"success\" or \"error\"", shown);
        goto bad;
    }
    json_t *data = field(j, *root, "", "data", JSON_OBJECT, false);
    if (data)
        return data;
bad:
    json_decref(*root);
    *root = NULL;
    return NULL;
}

/* ---- /api/v1/query ---- */

int promapi_parse_query(const char *body, size_t len, int http_status, struct promql_result *out,
                        int64_t *t_ms, char *err, size_t errsz)
{
    struct jp j = { EP_QUERY, err, errsz };
    json_t *root;
    memset(out, 0, sizeof *out);
    json_t *data = envelope(&j, body, len, http_status, &root);
    if (!data)
        return -1;
    int rc = -1;
    const char *type;
    json_t *res = field(&j, data, "data", "result", JSON_ARRAY, false);
    if (get_str(&j, data, "data", "resultType", false, &type) || !res)
        goto out;
    int64_t t = 0;
    bool have_t = false;
    if (strcmp(type, "scalar") == 0) {
        out->type = PROMQL_SCALAR;
        if (point_of(&j, res, "data.result", &t, &out->scalar))
            goto out;
        have_t = true;
    } else if (strcmp(type, "vector") == 0) {
        size_t n = json_array_size(res);
        out->type = PROMQL_VECTOR;
        out->samples = calloc(n ? n : 1, sizeof *out->samples);
        if (!out->samples) {
            fail(&j, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            char p[64], pv[80];
            json_t *s = json_array_get(res, i);
            snprintf(p, sizeof p, "data.result[%zu]", i);
            snprintf(pv, sizeof pv, "%s.value", p);
            if (!json_is_object(s)) {
                fail(&j, "%s is not an object", p);
                goto out;
            }
            struct promql_sample *smp = &out->samples[out->n];
            if (metric_of(&j, s, p, &smp->labels, &smp->n_labels, &smp->strings))
                goto out;
            out->n++;
            int64_t ts;
            if (!field(&j, s, p, "value", JSON_ARRAY, false) ||
                point_of(&j, json_object_get(s, "value"), pv, &ts, &smp->v))
                goto out;
            if (!have_t)
                t = ts;
            have_t = true;
        }
        if (out->n > 1)
            qsort(out->samples, out->n, sizeof *out->samples, sample_cmp);
    } else if (strcmp(type, "matrix") == 0 || strcmp(type, "string") == 0) {
        fail(&j, "the result is %s, not an instant vector or a scalar",
             type[0] == 'm' ? "a range vector (matrix)" : "a string");
        goto out;
    } else {
        char shown[64];
        escape_ascii(shown, sizeof shown, type, 40);
        fail(&j, "data.resultType is \"%s\", not vector, scalar, matrix or string", shown);
        goto out;
    }
    if (t_ms && have_t)
        *t_ms = t;
    rc = 0;
out:
    json_decref(root);
    if (rc)
        promql_result_free(out);
    return rc;
}

/* ---- /api/v1/query_range ---- */

int promapi_parse_query_range(const char *body, size_t len, int http_status,
                              struct promapi_matrix *out, char *err, size_t errsz)
{
    struct jp j = { EP_RANGE, err, errsz };
    json_t *root;
    memset(out, 0, sizeof *out);
    json_t *data = envelope(&j, body, len, http_status, &root);
    if (!data)
        return -1;
    int rc = -1;
    const char *type;
    json_t *res = field(&j, data, "data", "result", JSON_ARRAY, false);
    if (get_str(&j, data, "data", "resultType", false, &type) || !res)
        goto out;
    if (strcmp(type, "matrix") != 0) {
        char shown[64];
        escape_ascii(shown, sizeof shown, type, 40);
        fail(&j, "data.resultType is \"%s\", not matrix", shown);
        goto out;
    }
    size_t n = json_array_size(res);
    out->series = calloc(n ? n : 1, sizeof *out->series);
    if (!out->series) {
        fail(&j, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        char p[64], pv[96];
        json_t *s = json_array_get(res, i);
        snprintf(p, sizeof p, "data.result[%zu]", i);
        if (!json_is_object(s)) {
            fail(&j, "%s is not an object", p);
            goto out;
        }
        struct promapi_series *se = &out->series[out->n];
        if (metric_of(&j, s, p, &se->labels, &se->n_labels, &se->strings))
            goto out;
        out->n++;
        json_t *vals = field(&j, s, p, "values", JSON_ARRAY, false);
        if (!vals)
            goto out;
        size_t m = json_array_size(vals);
        se->points = malloc((m ? m : 1) * sizeof *se->points);
        if (!se->points) {
            fail(&j, "out of memory");
            goto out;
        }
        for (size_t k = 0; k < m; k++) {
            struct promapi_point *pt = &se->points[k];
            snprintf(pv, sizeof pv, "%s.values[%zu]", p, k);
            if (point_of(&j, json_array_get(vals, k), pv, &pt->t_ms, &pt->v))
                goto out;
            if (k && pt->t_ms <= se->points[k - 1].t_ms) {
                fail(&j, "%s is not after the point before it", pv);
                goto out;
            }
            se->n_points++;
        }
    }
    if (out->n > 1)
        qsort(out->series, out->n, sizeof *out->series, series_cmp);
    rc = 0;
out:
    json_decref(root);
    if (rc)
        promapi_matrix_free(out);
    return rc;
}

void promapi_matrix_free(struct promapi_matrix *m)
{
    for (size_t i = 0; m->series && i < m->n; i++) {
        free(m->series[i].labels);
        free(m->series[i].points);
        free(m->series[i].strings);
    }
    free(m->series);
    memset(m, 0, sizeof *m);
}

/* ---- alerts ---- */

static int state_of(struct jp *j, json_t *obj, const char *path, enum promapi_alert_state *st)
{
    const char *s;
    if (get_str(j, obj, path, "state", false, &s))
        return -1;
    if (strcmp(s, "pending") == 0) {
        *st = PROMAPI_PENDING;
    } else if (strcmp(s, "firing") == 0) {
        *st = PROMAPI_FIRING;
    } else if (strcmp(s, "inactive") == 0) {
        *st = PROMAPI_INACTIVE;
    } else {
        char shown[64];
        escape_ascii(shown, sizeof shown, s, 40);
        return fail(j, "%s.state is \"%s\", not inactive, pending or firing", path, shown);
    }
    return 0;
}

static void alert_free(struct promapi_alert *a)
{
    kv_free(&a->labels, &a->n_labels);
    kv_free(&a->annotations, &a->n_annotations);
}

static int alert_of(struct jp *j, json_t *a, const char *path, struct promapi_alert *out)
{
    char pv[160];
    memset(out, 0, sizeof *out);
    if (!json_is_object(a))
        return fail(j, "%s is not an object", path);
    snprintf(pv, sizeof pv, "%s.value", path);
    if (kv_of(j, a, path, "labels", false, &out->labels, &out->n_labels) ||
        kv_of(j, a, path, "annotations", false, &out->annotations, &out->n_annotations) ||
        state_of(j, a, path, &out->state) || time_of(j, a, path, "activeAt", &out->active_at_ms) ||
        !field(j, a, path, "value", JSON_STRING, false) ||
        value_of(j, json_object_get(a, "value"), pv, &out->value)) {
        alert_free(out);
        return -1;
    }
    return 0;
}

/* An array of alerts at obj.key into *out. */
static int alerts_of(struct jp *j, json_t *obj, const char *path, const char *key,
                     struct promapi_alert **out, size_t *n)
{
    char p[160];
    *out = NULL;
    *n = 0;
    json_t *arr = field(j, obj, path, key, JSON_ARRAY, false);
    if (!arr)
        return -1;
    size_t m = json_array_size(arr);
    *out = calloc(m ? m : 1, sizeof **out);
    if (!*out)
        return fail(j, "out of memory");
    for (size_t i = 0; i < m; i++) {
        snprintf(p, sizeof p, "%s.%s[%zu]", path, key, i);
        if (alert_of(j, json_array_get(arr, i), p, &(*out)[i]))
            return -1;
        (*n)++;
    }
    return 0;
}

int promapi_parse_alerts(const char *body, size_t len, int http_status, struct promapi_alerts *out,
                         char *err, size_t errsz)
{
    struct jp j = { EP_ALERTS, err, errsz };
    json_t *root;
    memset(out, 0, sizeof *out);
    json_t *data = envelope(&j, body, len, http_status, &root);
    if (!data)
        return -1;
    int rc = alerts_of(&j, data, "data", "alerts", &out->alerts, &out->n);
    json_decref(root);
    if (rc)
        promapi_alerts_free(out);
    return rc;
}

void promapi_alerts_free(struct promapi_alerts *a)
{
    for (size_t i = 0; a->alerts && i < a->n; i++)
        alert_free(&a->alerts[i]);
    free(a->alerts);
    memset(a, 0, sizeof *a);
}

/* ---- rules ---- */

static void rule_free(struct promapi_rule *r)
{
    free(r->name);
    free(r->query);
    free(r->last_error);
    kv_free(&r->labels, &r->n_labels);
    kv_free(&r->annotations, &r->n_annotations);
    for (size_t i = 0; r->alerts && i < r->n_alerts; i++)
        alert_free(&r->alerts[i]);
    free(r->alerts);
    memset(r, 0, sizeof *r);
}

static int rule_of(struct jp *j, json_t *r, const char *path, struct promapi_rule *out)
{
    const char *type, *health;
    double eval_s = 0, for_s = 0, keep_s = 0;
    memset(out, 0, sizeof *out);
    if (!json_is_object(r))
        return fail(j, "%s is not an object", path);
    if (get_str(j, r, path, "type", false, &type))
        return -1;
    if (strcmp(type, "alerting") == 0) {
        out->type = PROMAPI_ALERTING;
    } else if (strcmp(type, "recording") == 0) {
        out->type = PROMAPI_RECORDING;
    } else {
        char shown[64];
        escape_ascii(shown, sizeof shown, type, 40);
        return fail(j, "%s.type is \"%s\", not alerting or recording", path, shown);
    }
    bool alerting = out->type == PROMAPI_ALERTING;
    if (dup_str(j, r, path, "name", false, &out->name) ||
        dup_str(j, r, path, "query", false, &out->query) ||
        get_str(j, r, path, "health", false, &health) ||
        dup_str(j, r, path, "lastError", true, &out->last_error) ||
        get_num(j, r, path, "evaluationTime", false, &eval_s) ||
        time_of(j, r, path, "lastEvaluation", &out->last_evaluation_ms) ||
        kv_of(j, r, path, "labels", !alerting, &out->labels, &out->n_labels))
        goto bad;
    out->evaluation_s = eval_s;
    if (strcmp(health, "ok") == 0) {
        out->health = PROMAPI_HEALTH_OK;
    } else if (strcmp(health, "err") == 0) {
        out->health = PROMAPI_HEALTH_ERR;
    } else if (strcmp(health, "unknown") == 0) {
        out->health = PROMAPI_HEALTH_UNKNOWN;
    } else {
        char shown[64];
        escape_ascii(shown, sizeof shown, health, 40);
        fail(j, "%s.health is \"%s\", not ok, err or unknown", path, shown);
        goto bad;
    }
    if (alerting) {
        if (state_of(j, r, path, &out->state) ||
            get_num(j, r, path, "duration", false, &for_s) ||
            get_num(j, r, path, "keepFiringFor", true, &keep_s) ||
            kv_of(j, r, path, "annotations", false, &out->annotations, &out->n_annotations) ||
            alerts_of(j, r, path, "alerts", &out->alerts, &out->n_alerts))
            goto bad;
        out->for_ms = secs_to_ms(for_s);
        out->keep_firing_for_ms = secs_to_ms(keep_s);
    }
    return 0;
bad:
    rule_free(out);
    return -1;
}

static void group_free(struct promapi_group *g)
{
    free(g->name);
    free(g->file);
    for (size_t i = 0; g->rules && i < g->n_rules; i++)
        rule_free(&g->rules[i]);
    free(g->rules);
    memset(g, 0, sizeof *g);
}

static int group_of(struct jp *j, json_t *g, const char *path, struct promapi_group *out)
{
    double interval = 0;
    memset(out, 0, sizeof *out);
    if (!json_is_object(g))
        return fail(j, "%s is not an object", path);
    json_t *rules = field(j, g, path, "rules", JSON_ARRAY, false);
    if (dup_str(j, g, path, "name", false, &out->name) ||
        dup_str(j, g, path, "file", false, &out->file) ||
        get_num(j, g, path, "interval", false, &interval) || !rules)
        goto bad;
    out->interval_ms = secs_to_ms(interval);
    size_t n = json_array_size(rules);
    out->rules = calloc(n ? n : 1, sizeof *out->rules);
    if (!out->rules) {
        fail(j, "out of memory");
        goto bad;
    }
    for (size_t i = 0; i < n; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s.rules[%zu]", path, i);
        if (rule_of(j, json_array_get(rules, i), p, &out->rules[i]))
            goto bad;
        out->n_rules++;
    }
    return 0;
bad:
    group_free(out);
    return -1;
}

int promapi_parse_rules(const char *body, size_t len, int http_status, struct promapi_rules *out,
                        char *err, size_t errsz)
{
    struct jp j = { EP_RULES, err, errsz };
    json_t *root;
    memset(out, 0, sizeof *out);
    json_t *data = envelope(&j, body, len, http_status, &root);
    if (!data)
        return -1;
    int rc = -1;
    json_t *groups = field(&j, data, "data", "groups", JSON_ARRAY, false);
    if (!groups)
        goto out;
    size_t n = json_array_size(groups);
    out->groups = calloc(n ? n : 1, sizeof *out->groups);
    if (!out->groups) {
        fail(&j, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        char p[64];
        snprintf(p, sizeof p, "data.groups[%zu]", i);
        if (group_of(&j, json_array_get(groups, i), p, &out->groups[i]))
            goto out;
        out->n++;
    }
    rc = 0;
out:
    json_decref(root);
    if (rc)
        promapi_rules_free(out);
    return rc;
}

void promapi_rules_free(struct promapi_rules *r)
{
    for (size_t i = 0; r->groups && i < r->n; i++)
        group_free(&r->groups[i]);
    free(r->groups);
    memset(r, 0, sizeof *r);
}

/* ---- small things ---- */

const char *promapi_state_name(enum promapi_alert_state s)
{
    switch (s) {
    case PROMAPI_PENDING: return "pending";
    case PROMAPI_FIRING: return "firing";
    case PROMAPI_INACTIVE: break;
    }
    return "inactive";
}

const char *promapi_kv_get(const struct promapi_kv *kv, size_t n, const char *name)
{
    for (size_t i = 0; kv && i < n; i++)
        if (strcmp(kv[i].name, name) == 0)
            return kv[i].value;
    return NULL;
}

/* n decimal digits at s into *v. */
static bool digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int promapi_parse_time(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, frac = 0, off = 0;
    if (!s || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        int nd = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, nd++)
            if (nd < 3)
                frac = frac * 10 + (*p - '0');
        if (nd == 0)
            return -1;
        for (; nd < 3; nd++)
            frac *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    if (y == 1 && mo == 1 && d == 1 && h == 0 && mi == 0 && sec == 0 && frac == 0 && off == 0) {
        *ms = 0; /* Go's zero time: never */
        return 0;
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    *ms = secs * 1000 + frac;
    return 0;
}
