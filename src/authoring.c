/* Campaign drafts: JSON in and out, validation, and the writes
 * (campaign_save, campaign_clone, campaign_promote_winner,
 * campaign_test_send in sql/004_authoring.sql). */
#include "authoring.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "preflight.h"

#define MAX_KEYS 32

void authoring_draft_init(struct authoring_draft *d)
{
    memset(d, 0, sizeof *d);
}

static void variant_free(struct authoring_variant *v)
{
    free(v->subject);
    free(v->body);
    memset(v, 0, sizeof *v);
}

void authoring_draft_free(struct authoring_draft *d)
{
    free(d->name);
    free(d->type);
    free(d->segment_id);
    free(d->from);
    free(d->subject);
    free(d->body);
    free(d->send_at);
    free(d->note);
    for (size_t i = 0; i < d->nvariants; i++)
        variant_free(&d->variants[i]);
    memset(d, 0, sizeof *d);
}

static int dup_field(char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return src && !*dst ? -1 : 0;
}

int authoring_draft_copy(struct authoring_draft *dst, const struct authoring_draft *src)
{
    authoring_draft_init(dst);
    int rc = dup_field(&dst->name, src->name) | dup_field(&dst->type, src->type) |
             dup_field(&dst->segment_id, src->segment_id) | dup_field(&dst->from, src->from) |
             dup_field(&dst->subject, src->subject) | dup_field(&dst->body, src->body) |
             dup_field(&dst->send_at, src->send_at) | dup_field(&dst->note, src->note);
    for (size_t i = 0; i < src->nvariants && i < AUTHORING_MAX_VARIANTS; i++) {
        struct authoring_variant *v = &dst->variants[i];
        memcpy(v->letter, src->variants[i].letter, sizeof v->letter);
        v->split = src->variants[i].split;
        rc |= dup_field(&v->subject, src->variants[i].subject) | dup_field(&v->body, src->variants[i].body);
        dst->nvariants = i + 1;
    }
    dst->rate_limit = src->rate_limit;
    dst->version = src->version;
    if (rc) {
        authoring_draft_free(dst);
        return -1;
    }
    return 0;
}

void authoring_problem_add(struct authoring_problems *p, const char *field, const char *fmt, ...)
{
    if (p->n >= AUTHORING_MAX_PROBLEMS)
        return;
    struct authoring_problem *e = &p->v[p->n++];
    snprintf(e->field, sizeof e->field, "%s", field);
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    snprintf(e->text, sizeof e->text, "%s: %s", field, msg);
}

/* ---- JSON ---- */

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "a number";
    case JSON_REAL: return "a number with a fraction";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

static void set_str(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? strdup(src) : NULL;
}

/* A string field: NULL (json null) clears it where allowed. Returns false
 * after adding a problem. */
static bool take_string(char **dst, const json_t *v, const char *field, bool nullable,
                        struct authoring_problems *p)
{
    if (json_is_null(v) && nullable) {
        set_str(dst, NULL);
        return true;
    }
    if (!json_is_string(v)) {
        authoring_problem_add(p, field, "must be a string, not %s", json_kind(v));
        return false;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        authoring_problem_add(p, field, "contains a NUL character");
        return false;
    }
    set_str(dst, json_string_value(v));
    return true;
}

static bool take_int(int *dst, const json_t *v, const char *field, long long lo, long long hi,
                     struct authoring_problems *p)
{
    if (!json_is_integer(v)) {
        authoring_problem_add(p, field, "must be a whole number, not %s", json_kind(v));
        return false;
    }
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi) {
        authoring_problem_add(p, field, "%lld is outside %lld to %lld", (long long)x, lo, hi);
        return false;
    }
    *dst = (int)x;
    return true;
}

static size_t apply_variants(struct authoring_draft *d, const json_t *arr, struct authoring_problems *p)
{
    size_t before = p->n;
    if (json_is_null(arr)) {
        for (size_t i = 0; i < d->nvariants; i++)
            variant_free(&d->variants[i]);
        d->nvariants = 0;
        return 0;
    }
    if (!json_is_array(arr)) {
        authoring_problem_add(p, "variants", "must be an array, not %s", json_kind(arr));
        return p->n - before;
    }
    if (json_array_size(arr) > AUTHORING_MAX_VARIANTS) {
        authoring_problem_add(p, "variants", "%zu given; an A/B test has 2 to 4 (or none)",
                              json_array_size(arr));
        return p->n - before;
    }
    struct authoring_variant nv[AUTHORING_MAX_VARIANTS];
    memset(nv, 0, sizeof nv);
    size_t n = json_array_size(arr);
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        char field[48];
        snprintf(field, sizeof field, "variants[%zu]", i);
        if (!json_is_object(o)) {
            authoring_problem_add(p, field, "must be an object, not %s", json_kind(o));
            continue;
        }
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)o, k, v) {
            snprintf(field, sizeof field, "variants[%zu].%.24s", i, k);
            if (strcmp(k, "variant") == 0) {
                char *letter = NULL;
                if (take_string(&letter, v, field, false, p)) {
                    if (strlen(letter) != 1 || letter[0] < 'A' || letter[0] > 'D')
                        authoring_problem_add(p, field, "must be one of \"A\" to \"D\"");
                    else
                        snprintf(nv[i].letter, sizeof nv[i].letter, "%s", letter);
                }
                free(letter);
            } else if (strcmp(k, "split_percent") == 0) {
                take_int(&nv[i].split, v, field, 1, 100, p);
            } else if (strcmp(k, "subject") == 0) {
                take_string(&nv[i].subject, v, field, true, p);
            } else if (strcmp(k, "body") == 0) {
                take_string(&nv[i].body, v, field, true, p);
            } else {
                authoring_problem_add(p, field, "unknown field (variant, split_percent, subject, body)");
            }
        }
        snprintf(field, sizeof field, "variants[%zu].variant", i);
        if (!json_object_get(o, "variant"))
            authoring_problem_add(p, field, "missing");
        snprintf(field, sizeof field, "variants[%zu].split_percent", i);
        if (!json_object_get(o, "split_percent"))
            authoring_problem_add(p, field, "missing");
    }
    if (p->n > before) {
        for (size_t i = 0; i < n; i++)
            variant_free(&nv[i]);
        return p->n - before;
    }
    for (size_t i = 0; i < d->nvariants; i++)
        variant_free(&d->variants[i]);
    memcpy(d->variants, nv, sizeof nv);
    d->nvariants = n;
    return 0;
}

size_t authoring_draft_apply_json(struct authoring_draft *d, const json_t *obj, struct authoring_problems *p)
{
    size_t before = p->n;
    if (!json_is_object(obj)) {
        authoring_problem_add(p, "file", "must be a JSON object, not %s", json_kind(obj));
        return p->n - before;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        char field[48];
        snprintf(field, sizeof field, "%.40s", k);
        if (strcmp(k, "name") == 0) {
            take_string(&d->name, v, field, false, p);
        } else if (strcmp(k, "type") == 0) {
            take_string(&d->type, v, field, false, p);
        } else if (strcmp(k, "segment_id") == 0) {
            take_string(&d->segment_id, v, field, false, p);
        } else if (strcmp(k, "from") == 0) {
            take_string(&d->from, v, field, false, p);
        } else if (strcmp(k, "subject") == 0) {
            take_string(&d->subject, v, field, false, p);
        } else if (strcmp(k, "body") == 0) {
            take_string(&d->body, v, field, false, p);
        } else if (strcmp(k, "send_at") == 0) {
            take_string(&d->send_at, v, field, true, p);
        } else if (strcmp(k, "note") == 0) {
            take_string(&d->note, v, field, true, p);
        } else if (strcmp(k, "rate_limit_per_minute") == 0) {
            take_int(&d->rate_limit, v, field, 1, AUTHORING_RATE_MAX, p);
        } else if (strcmp(k, "version") == 0) {
            take_int(&d->version, v, field, 1, 2000000000, p);
        } else if (strcmp(k, "variants") == 0) {
            apply_variants(d, v, p);
        } else {
            authoring_problem_add(p, field,
                                  "unknown field (name, type, segment_id, from, subject, body, variants, "
                                  "rate_limit_per_minute, send_at, note, version)");
        }
    }
    return p->n - before;
}

size_t authoring_draft_parse(struct authoring_draft *d, const char *text, struct authoring_problems *p)
{
    json_error_t e;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &e);
    if (!o) {
        authoring_problem_add(p, "file", "line %d, column %d: %s", e.line, e.column, e.text);
        return 1;
    }
    size_t n = authoring_draft_apply_json(d, o, p);
    json_decref(o);
    return n;
}

static json_t *str_or_null(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

json_t *authoring_draft_to_json(const struct authoring_draft *d)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "name", str_or_null(d->name));
    json_object_set_new(o, "type", json_string(d->type ? d->type : "email"));
    json_object_set_new(o, "segment_id", str_or_null(d->segment_id));
    json_object_set_new(o, "from", str_or_null(d->from));
    json_object_set_new(o, "subject", str_or_null(d->subject));
    json_object_set_new(o, "body", str_or_null(d->body));
    json_object_set_new(o, "rate_limit_per_minute",
                        json_integer(d->rate_limit > 0 ? d->rate_limit : AUTHORING_RATE_DEFAULT));
    json_object_set_new(o, "send_at", str_or_null(d->send_at));
    json_t *arr = json_array();
    for (size_t i = 0; i < d->nvariants; i++) {
        const struct authoring_variant *v = &d->variants[i];
        json_t *x = json_object();
        json_object_set_new(x, "variant", json_string(v->letter));
        json_object_set_new(x, "split_percent", json_integer(v->split));
        json_object_set_new(x, "subject", str_or_null(v->subject));
        json_object_set_new(x, "body", str_or_null(v->body));
        json_array_append_new(arr, x);
    }
    json_object_set_new(o, "variants", arr);
    return o;
}

/* ---- validation ---- */

static bool blank(const char *s)
{
    if (!s)
        return true;
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* Counts UTF-8 characters (as PostgreSQL's length() does). */
static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A time zone at the end: Z, +01, +0100, +01:00, " UTC" or " Area/City". */
static bool has_zone(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return false;
    if (s[n - 1] == 'Z' || s[n - 1] == 'z')
        return true;
    if (n > 4 && strcmp(s + n - 4, " UTC") == 0)
        return true;
    /* an offset: sign, two digits, optional [:]two digits */
    const char *e = s + n;
    int digits = 0;
    const char *q = e;
    while (q > s && ((q[-1] >= '0' && q[-1] <= '9') || q[-1] == ':')) {
        digits += q[-1] != ':';
        q--;
    }
    if (q > s && (q[-1] == '+' || q[-1] == '-') && (digits == 2 || digits == 4)) {
        /* after a time ("09:00+01", "09:00 -0500"), not a date's "-01" */
        const char *t = q - 1;
        while (t > s && t[-1] == ' ')
            t--;
        if (t > s && t[-1] >= '0' && t[-1] <= '9' && memchr(s, ':', (size_t)(t - s)))
            return true;
    }
    /* a zone name after the last space: letters, '_' and one or more '/' */
    const char *sp = strrchr(s, ' ');
    if (!sp || !strchr(sp, '/'))
        return false;
    for (const char *c = sp + 1; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || *c == '_' || *c == '/' ||
              *c == '+' || *c == '-'))
            return false;
    return true;
}

static void check_text(const char *field, const char *s, bool required, struct authoring_problems *p)
{
    char keys[MAX_KEYS][64], err[160];
    if (!s) {
        if (required)
            authoring_problem_add(p, field, "missing");
        return;
    }
    if (required && blank(s)) {
        authoring_problem_add(p, field, "empty");
        return;
    }
    if (preflight_placeholders(s, keys, MAX_KEYS, 0, err, sizeof err) < 0)
        authoring_problem_add(p, field, "%s", err);
}

size_t authoring_validate(const struct authoring_draft *d, struct authoring_problems *p)
{
    size_t before = p->n;
    const char *type = d->type ? d->type : "email";
    bool email = strcmp(type, "email") == 0;
    if (!d->name)
        authoring_problem_add(p, "name", "missing");
    else if (blank(d->name))
        authoring_problem_add(p, "name", "empty");
    else if (chars(d->name) > AUTHORING_NAME_MAX)
        authoring_problem_add(p, "name", "%zu characters, at most %d", chars(d->name), AUTHORING_NAME_MAX);
    if (strcmp(type, "email") != 0 && strcmp(type, "sms") != 0 && strcmp(type, "push") != 0)
        authoring_problem_add(p, "type", "\"%.32s\" is not email, sms or push", type);
    if (blank(d->segment_id))
        authoring_problem_add(p, "segment_id", d->segment_id ? "empty" : "missing");
    if (blank(d->from))
        authoring_problem_add(p, "from", d->from ? "empty" : "missing");
    check_text("subject", d->subject, email, p);
    check_text("body", d->body, true, p);
    if (d->rate_limit < 0 || d->rate_limit > AUTHORING_RATE_MAX)
        authoring_problem_add(p, "rate_limit_per_minute", "%d is outside 1 to %d", d->rate_limit,
                              AUTHORING_RATE_MAX);
    if (d->send_at && !has_zone(d->send_at))
        authoring_problem_add(p, "send_at",
                              "needs a time zone (\"2026-12-01 09:00 Europe/Berlin\", \"...+01:00\" or \"...Z\")");
    if (d->nvariants == 1 || d->nvariants > AUTHORING_MAX_VARIANTS)
        authoring_problem_add(p, "variants", "%zu given; an A/B test has 2 to 4 (or none)", d->nvariants);
    if (d->nvariants >= 2) {
        int sum = 0;
        for (size_t i = 0; i < d->nvariants; i++) {
            const struct authoring_variant *v = &d->variants[i];
            char field[48];
            snprintf(field, sizeof field, "variants[%zu].variant", i);
            if (strlen(v->letter) != 1 || v->letter[0] < 'A' || v->letter[0] > 'D')
                authoring_problem_add(p, field, "must be one of \"A\" to \"D\"");
            for (size_t j = 0; j < i; j++)
                if (v->letter[0] && strcmp(v->letter, d->variants[j].letter) == 0)
                    authoring_problem_add(p, field, "%s appears twice", v->letter);
            snprintf(field, sizeof field, "variants[%zu].split_percent", i);
            if (v->split < 1 || v->split > 100)
                authoring_problem_add(p, field, "%d is outside 1 to 100", v->split);
            sum += v->split;
            snprintf(field, sizeof field, "variants[%zu].subject", i);
            check_text(field, v->subject, false, p);
            snprintf(field, sizeof field, "variants[%zu].body", i);
            check_text(field, v->body, false, p);
        }
        if (sum != 100)
            authoring_problem_add(p, "variants", "splits add up to %d, not 100", sum);
    }
    return p->n - before;
}

/* ---- validation against the database ---- */

/* Edit distance counting a swap of two neighbours as one edit (optimal
 * string alignment): "frist" is one from "first". */
static size_t lev(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    unsigned char m[64][64];
    for (size_t i = 0; i <= la; i++)
        m[i][0] = (unsigned char)i;
    for (size_t j = 0; j <= lb; j++)
        m[0][j] = (unsigned char)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            unsigned best = m[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (m[i - 1][j] + 1u < best)
                best = m[i - 1][j] + 1u;
            if (m[i][j - 1] + 1u < best)
                best = m[i][j - 1] + 1u;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && m[i - 2][j - 2] + 1u < best)
                best = m[i - 2][j - 2] + 1u;
            m[i][j] = (unsigned char)best;
        }
    }
    return m[la][lb];
}

const char *authoring_suggest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3, len = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t dist = lev(word, cands[i]);
        if (dist < best_d && dist * 2 < len) {
            best = cands[i];
            best_d = dist;
        }
    }
    return best;
}

/* the placeholders of every text of the draft; -1 if one is malformed */
static int draft_keys(const struct authoring_draft *d, char keys[][64], size_t max)
{
    char err[160];
    const char *texts[2 + 2 * AUTHORING_MAX_VARIANTS];
    size_t nt = 0;
    texts[nt++] = d->subject;
    texts[nt++] = d->body;
    for (size_t i = 0; i < d->nvariants; i++) {
        texts[nt++] = d->variants[i].subject;
        texts[nt++] = d->variants[i].body;
    }
    int n = 0;
    for (size_t i = 0; i < nt && n >= 0; i++)
        if (texts[i])
            n = preflight_placeholders(texts[i], keys, max, (size_t)n, err, sizeof err);
    return n;
}

static bool uses(const char *text, const char *key)
{
    char keys[MAX_KEYS][64], err[160];
    int n = text ? preflight_placeholders(text, keys, MAX_KEYS, 0, err, sizeof err) : 0;
    for (int i = 0; i < n; i++)
        if (strcmp(keys[i], key) == 0)
            return true;
    return false;
}

/* the first field whose text has {{key}}: "subject", "body", "variants[1].body" */
static void field_of(const struct authoring_draft *d, const char *key, char *field, size_t n)
{
    snprintf(field, n, "%s", uses(d->subject, key) ? "subject" : "body");
    if (uses(d->subject, key) || uses(d->body, key))
        return;
    for (size_t i = 0; i < d->nvariants; i++) {
        if (uses(d->variants[i].subject, key)) {
            snprintf(field, n, "variants[%zu].subject", i);
            return;
        }
        if (uses(d->variants[i].body, key)) {
            snprintf(field, n, "variants[%zu].body", i);
            return;
        }
    }
}

/* every attribute name among the first members of the segment (for suggestions) */
static const char attr_keys_sql[] =
    "SELECT k FROM (SELECT c.attributes FROM segment_members m JOIN contacts c ON c.id = m.contact_id"
    "                WHERE m.segment_id = $1 LIMIT 2000) s, jsonb_object_keys(s.attributes) k"
    " GROUP BY k ORDER BY k LIMIT 200";

/* whether some member has each key (stops at the first that has it) */
static const char attr_has_sql[] =
    "SELECT key, EXISTS (SELECT 1 FROM segment_members m JOIN contacts c ON c.id = m.contact_id"
    "                     WHERE m.segment_id = $1 AND c.attributes ? key)"
    "  FROM unnest($2::text[]) AS key";

static PGresult *read_query(PGconn *conn, const char *sql, int np, const char *const *params, int timeout_ms,
                            int cancel_fd, const char *what, char *err, size_t errsz)
{
    PGresult *r = db_query(conn, sql, np, params, timeout_ms, cancel_fd, err, errsz);
    if (r && PQresultStatus(r) != PGRES_TUPLES_OK) {
        db_error(err, errsz, what, conn, r);
        PQclear(r);
        return NULL;
    }
    return r;
}

int authoring_validate_db(PGconn *conn, const struct authoring_draft *d, int timeout_ms, int cancel_fd,
                          struct authoring_problems *p, char *err, size_t errsz)
{
    size_t before = p->n;
    if (blank(d->segment_id))
        return 0;
    const char *p1[1] = { d->segment_id };
    PGresult *r = read_query(conn, "SELECT count(*) FROM segments WHERE id = $1", 1, p1, timeout_ms, cancel_fd,
                             "looking up the segment", err, errsz);
    if (!r)
        return -1;
    bool exists = db_i64(r, 0, 0) > 0;
    PQclear(r);
    if (!exists) {
        authoring_problem_add(p, "segment_id", "there is no segment %.64s", d->segment_id);
        return (int)(p->n - before);
    }
    char keys[MAX_KEYS][64];
    int nk = draft_keys(d, keys, MAX_KEYS);
    if (nk <= 0)
        return (int)(p->n - before);
    /* a text[] literal: names are [A-Za-z0-9_.-], quoting is enough */
    char arr[MAX_KEYS * 70] = "{";
    size_t used = 1;
    int asked = 0;
    for (int i = 0; i < nk; i++) {
        if (strcmp(keys[i], "email") == 0)
            continue;
        used += (size_t)snprintf(arr + used, sizeof arr - used, "%s\"%s\"", asked ? "," : "", keys[i]);
        asked++;
    }
    snprintf(arr + used, sizeof arr - used, "}");
    if (!asked)
        return (int)(p->n - before);
    const char *p2[2] = { d->segment_id, arr };
    PGresult *has = read_query(conn, attr_has_sql, 2, p2, timeout_ms, cancel_fd, "checking placeholders", err,
                               errsz);
    if (!has)
        return -1;
    PGresult *known = NULL;
    for (int i = 0; i < PQntuples(has); i++) {
        if (strcmp(PQgetvalue(has, i, 1), "t") == 0)
            continue;
        if (!known) {
            known = read_query(conn, attr_keys_sql, 1, p1, timeout_ms, cancel_fd, "reading attribute names", err,
                               errsz);
            if (!known) {
                PQclear(has);
                return -1;
            }
        }
        const char *cands[201];
        size_t nc = 0;
        for (int j = 0; j < PQntuples(known) && nc < 200; j++)
            cands[nc++] = PQgetvalue(known, j, 0);
        cands[nc++] = "email";
        const char *key = PQgetvalue(has, i, 0);
        const char *near = authoring_suggest(key, cands, nc);
        char field[48];
        field_of(d, key, field, sizeof field);
        if (near)
            authoring_problem_add(p, field, "{{%s}} is not an attribute of any recipient; did you mean %s?", key,
                                  near);
        else
            authoring_problem_add(p, field, "{{%s}} is not an attribute of any recipient", key);
    }
    PQclear(known);
    PQclear(has);
    return (int)(p->n - before);
}

int authoring_load(PGconn *conn, const char *id, int timeout_ms, int cancel_fd, struct authoring_draft *d,
                   int *version, char *status, size_t status_sz, char *err, size_t errsz)
{
    const char *p[1] = { id };
    PGresult *r = read_query(conn,
                             "SELECT campaign_fields(c.id)::text, c.version, c.status FROM campaigns c WHERE c.id = $1",
                             1, p, timeout_ms, cancel_fd, "reading the campaign", err, errsz);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        snprintf(err, errsz, "No campaign %.64s", id);
        PQclear(r);
        return 1;
    }
    struct authoring_problems probs = { .n = 0 };
    authoring_draft_free(d);
    authoring_draft_parse(d, PQgetvalue(r, 0, 0), &probs);
    if (version)
        *version = (int)db_i64(r, 0, 1);
    if (status)
        snprintf(status, status_sz, "%s", PQgetvalue(r, 0, 2));
    PQclear(r);
    if (probs.n) {
        snprintf(err, errsz, "reading the campaign: %s", probs.v[0].text);
        return -1;
    }
    return 0;
}

int authoring_preview_contact(PGconn *conn, const char *segment_id, const char *email, int timeout_ms,
                              int cancel_fd, char **email_out, char **attrs_out, char *err, size_t errsz)
{
    *email_out = *attrs_out = NULL;
    const char *p[1] = { email ? email : (segment_id ? segment_id : "") };
    PGresult *r = read_query(conn,
                             email ? "SELECT email, attributes::text FROM contacts WHERE lower(email) = lower($1)"
                                     " ORDER BY id LIMIT 1"
                                   : "SELECT k.email, k.attributes::text FROM segment_members m"
                                     "  JOIN contacts k ON k.id = m.contact_id"
                                     " WHERE m.segment_id = $1 AND k.status = 'active'"
                                     " ORDER BY m.contact_id LIMIT 1",
                             1, p, timeout_ms, cancel_fd, "reading the contact", err, errsz);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    *email_out = found ? strdup(PQgetvalue(r, 0, 0)) : email ? strdup(email) : NULL;
    *attrs_out = strdup(found ? PQgetvalue(r, 0, 1) : "{}");
    PQclear(r);
    if (!*attrs_out || (found && !*email_out)) {
        free(*email_out);
        free(*attrs_out);
        *email_out = *attrs_out = NULL;
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    return found ? 0 : 1;
}
