#include "promtext.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

#define MAX_NUMBER 128   /* longest value token we read */
#define SCRATCH_EXTRA (4 * PROMTEXT_MAX_LABELS + 16)

/* ---- numbers, in the C locale whatever LC_NUMERIC says ---- */

static locale_t c_numeric;
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;

static void c_numeric_init(void) { c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool ci_equal(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    for (; i < n && word[i]; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return false;
    }
    return i == n && word[i] == '\0';
}

int promtext_parse_value(const char *s, size_t len, double *out)
{
    if (len == 0 || len > MAX_NUMBER)
        return -1;
    size_t i = 0;
    bool neg = false, sign = false;
    if (s[0] == '+' || s[0] == '-') {
        sign = true;
        neg = s[0] == '-';
        i++;
    }
    if (!sign && ci_equal(s, len, "nan")) {
        *out = NAN;
        return 0;
    }
    if (ci_equal(s + i, len - i, "inf") || ci_equal(s + i, len - i, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return 0;
    }
    /* digits [. digits] or . digits, then an optional exponent: checked here
     * so that strtod's extras (hex, "nan(...)") are not accepted */
    size_t whole = 0, frac = 0;
    while (i < len && is_digit(s[i])) {
        i++;
        whole++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && is_digit(s[i])) {
            i++;
            frac++;
        }
    }
    if (whole + frac == 0)
        return -1;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp = 0;
        while (i < len && is_digit(s[i])) {
            i++;
            exp++;
        }
        if (exp == 0)
            return -1;
    }
    if (i != len)
        return -1;
    char tmp[MAX_NUMBER + 1];
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    pthread_once(&c_numeric_once, c_numeric_init);
    locale_t old = c_numeric ? uselocale(c_numeric) : (locale_t)0;
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    int e = errno;
    if (old)
        uselocale(old);
    if (end != tmp + len || (e == ERANGE && isinf(v)))
        return -1;
    *out = v;
    return 0;
}

static int parse_timestamp(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return -1;
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (lim - d) / 10u)
            return -1;
        v = v * 10u + d;
    }
    if (!neg)
        *out = (int64_t)v;
    else if (v == (uint64_t)INT64_MAX + 1u)
        *out = INT64_MIN;
    else
        *out = -(int64_t)v;
    return 0;
}

const char *promtext_type_name(enum promtext_type t)
{
    switch (t) {
    case PROMTEXT_COUNTER: return "counter";
    case PROMTEXT_GAUGE: return "gauge";
    case PROMTEXT_HISTOGRAM: return "histogram";
    case PROMTEXT_SUMMARY: return "summary";
    case PROMTEXT_UNTYPED: break;
    }
    return "untyped";
}

const char *promtext_label_value(const struct promtext_sample *s, const char *name)
{
    for (size_t i = 0; i < s->n_labels; i++)
        if (strcmp(s->labels[i].name, name) == 0)
            return s->labels[i].value;
    return NULL;
}

/* ---- characters ---- */

static bool is_blank(char c) { return c == ' ' || c == '\t'; }
static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
static bool name_char(char c) { return name_start(c) || is_digit(c); }
static bool label_start(char c) { return name_start(c) && c != ':'; }
static bool label_char(char c) { return name_char(c) && c != ':'; }

/* How a byte is named in a message: never the byte itself unless it is
 * printable ASCII. */
static const char *describe(const char *q, const char *e, char *buf, size_t n)
{
    if (q >= e)
        snprintf(buf, n, "the end of the line");
    else if (*q == ' ' || *q == '\t')
        snprintf(buf, n, "a blank");
    else if ((unsigned char)*q > 0x20 && (unsigned char)*q < 0x7F)
        snprintf(buf, n, "'%c'", *q);
    else
        snprintf(buf, n, "byte 0x%02X", (unsigned char)*q);
    return buf;
}

/* A token quoted for a message if it is short printable ASCII, else "". */
static const char *quote(const char *s, size_t n, char *buf, size_t bufsz)
{
    bool ok = n > 0 && n <= 40;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7F;
    if (ok)
        snprintf(buf, bufsz, " \"%.*s\"", (int)n, s);
    else
        buf[0] = '\0';
    return buf;
}

static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    while (n > 0) {
        long cp;
        int k = san_decode(p, n, &cp);
        if (cp < 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* ---- hashing ---- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint64_t hash_bytes(const char *s, size_t n, uint64_t seed)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return mix64(h ^ n);
}

/* ---- the parser ---- */

enum { FAM_TYPE = 1, FAM_HELP = 2, FAM_SAMPLES = 4 };

struct fam {              /* a metric name met in a TYPE, HELP or sample line */
    uint64_t h;           /* 0: empty slot */
    size_t off;           /* the name is buf[off .. off + len) */
    size_t len;
    enum promtext_type type;
    unsigned flags;
};

struct ser {              /* a series met, for the duplicate check */
    uint64_t h;           /* 0: empty slot */
    size_t off;           /* its line starts at buf + off */
    size_t line;
};

struct parsed {
    size_t name_off, name_len;
    const char *name;
    struct promtext_label *labels;
    size_t n_labels;
    double value;
    bool has_ts;
    int64_t ts;
};

struct parser {
    const char *buf;
    size_t len;
    size_t line;
    char *scratch[2];     /* [0] the current line, [1] an earlier one */
    size_t scratch_cap;
    char *family;         /* the current sample's family name */
    struct promtext_label labels[2][PROMTEXT_MAX_LABELS];
    struct fam *fams;
    size_t fcap, fn;
    struct ser *sers;
    size_t scap, sn;
};

static struct fam *fam_find(struct parser *p, const char *name, size_t len)
{
    if (p->fcap == 0)
        return NULL;
    uint64_t h = hash_bytes(name, len, 0) | 1u;
    for (size_t i = h & (p->fcap - 1);; i = (i + 1) & (p->fcap - 1)) {
        struct fam *f = &p->fams[i];
        if (f->h == 0)
            return NULL;
        if (f->h == h && f->len == len && memcmp(p->buf + f->off, name, len) == 0)
            return f;
    }
}

/* Adds a name that is not in the table; NULL when out of memory. */
static struct fam *fam_add(struct parser *p, size_t off, size_t len)
{
    if ((p->fn + 1) * 2 > p->fcap) {
        size_t ncap = p->fcap ? p->fcap * 2 : 64;
        struct fam *nf = calloc(ncap, sizeof *nf);
        if (!nf)
            return NULL;
        for (size_t i = 0; i < p->fcap; i++) {
            if (p->fams[i].h == 0)
                continue;
            size_t j = p->fams[i].h & (ncap - 1);
            while (nf[j].h != 0)
                j = (j + 1) & (ncap - 1);
            nf[j] = p->fams[i];
        }
        free(p->fams);
        p->fams = nf;
        p->fcap = ncap;
    }
    uint64_t h = hash_bytes(p->buf + off, len, 0) | 1u;
    size_t i = h & (p->fcap - 1);
    while (p->fams[i].h != 0)
        i = (i + 1) & (p->fcap - 1);
    p->fams[i] = (struct fam){ .h = h, .off = off, .len = len, .type = PROMTEXT_UNTYPED };
    p->fn++;
    return &p->fams[i];
}

static int fail(char *msg, size_t msgsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t msgsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msgsz, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
    va_end(ap);
    return -1;
}

static const char *skip_blanks(const char *q, const char *e)
{
    while (q < e && is_blank(*q))
        q++;
    return q;
}

/* The label list after '{' up to and including '}'. */
static int parse_labels(const char **qp, const char *e, char **outp, struct parsed *o, char *msg,
                        size_t msgsz)
{
    const char *q = *qp;
    char *out = *outp;
    char d[32];
    for (;;) {
        q = skip_blanks(q, e);
        if (q < e && *q == '}') {
            q++;
            break;
        }
        if (q == e || !label_start(*q))
            return fail(msg, msgsz, "expected a label name, found %s", describe(q, e, d, sizeof d));
        if (o->n_labels == PROMTEXT_MAX_LABELS)
            return fail(msg, msgsz, "more than %d labels", PROMTEXT_MAX_LABELS);
        const char *l0 = q;
        while (q < e && label_char(*q))
            q++;
        char *lname = out;
        memcpy(out, l0, (size_t)(q - l0));
        out += q - l0;
        *out++ = '\0';
        q = skip_blanks(q, e);
        if (q == e || *q != '=')
            return fail(msg, msgsz, "expected '=' after label \"%.64s\", found %s", lname,
                        describe(q, e, d, sizeof d));
        q = skip_blanks(q + 1, e);
        if (q == e || *q != '"')
            return fail(msg, msgsz, "expected '\"' to open the value of label \"%.64s\", found %s",
                        lname, describe(q, e, d, sizeof d));
        q++;
        char *val = out;
        for (;;) {
            if (q == e)
                return fail(msg, msgsz, "unterminated value of label \"%.64s\"", lname);
            char c = *q++;
            if (c == '"')
                break;
            if (c == '\\') {
                if (q == e)
                    return fail(msg, msgsz, "unterminated value of label \"%.64s\"", lname);
                char x = *q++;
                if (x == '\\' || x == '"') {
                    *out++ = x;
                } else if (x == 'n') {
                    *out++ = '\n';
                } else {
                    return fail(msg, msgsz, "invalid escape (backslash and %s) in the value of label \"%.64s\"",
                                describe(q - 1, e, d, sizeof d), lname);
                }
            } else if (c == '\0') {
                return fail(msg, msgsz, "NUL byte in the value of label \"%.64s\"", lname);
            } else {
                *out++ = c;
            }
        }
        *out = '\0';
        if (!utf8_valid(val, (size_t)(out - val)))
            return fail(msg, msgsz, "the value of label \"%.64s\" is not valid UTF-8", lname);
        out++;
        for (size_t i = 0; i < o->n_labels; i++)
            if (strcmp(o->labels[i].name, lname) == 0)
                return fail(msg, msgsz, "duplicate label \"%.64s\"", lname);
        o->labels[o->n_labels].name = lname;
        o->labels[o->n_labels].value = val;
        o->n_labels++;
        q = skip_blanks(q, e);
        if (q < e && *q == ',') {
            q++;
            continue;   /* a trailing comma before '}' is allowed */
        }
        if (q < e && *q == '}') {
            q++;
            break;
        }
        return fail(msg, msgsz, "expected ',' or '}' after the value of label \"%.64s\", found %s",
                    lname, describe(q, e, d, sizeof d));
    }
    *qp = q;
    *outp = out;
    return 0;
}

/* A sample line s..e (no newline) into o, using scratch k. */
static int parse_sample(struct parser *p, const char *s, const char *e, int k, struct parsed *o,
                        char *msg, size_t msgsz)
{
    char d[32], t[48];
    char *out = p->scratch[k];
    const char *q = skip_blanks(s, e);
    if (q == e || !name_start(*q))
        return fail(msg, msgsz, "expected a metric name, found %s", describe(q, e, d, sizeof d));
    const char *n0 = q;
    while (q < e && name_char(*q))
        q++;
    o->name_off = (size_t)(n0 - p->buf);
    o->name_len = (size_t)(q - n0);
    memcpy(out, n0, o->name_len);
    o->name = out;
    out += o->name_len;
    *out++ = '\0';
    o->labels = p->labels[k];
    o->n_labels = 0;
    const char *after = "the metric name";
    if (q < e && *q == '{') {
        q++;
        if (parse_labels(&q, e, &out, o, msg, msgsz) != 0)
            return -1;
        after = "the labels";
    } else if (q < e && !is_blank(*q)) {
        return fail(msg, msgsz, "unexpected %s after the metric name", describe(q, e, d, sizeof d));
    }
    q = skip_blanks(q, e);
    if (q == e)
        return fail(msg, msgsz, "expected a value after %s", after);
    const char *v0 = q;
    while (q < e && !is_blank(*q))
        q++;
    if (promtext_parse_value(v0, (size_t)(q - v0), &o->value) != 0)
        return fail(msg, msgsz, "invalid value%s", quote(v0, (size_t)(q - v0), t, sizeof t));
    q = skip_blanks(q, e);
    o->has_ts = false;
    o->ts = 0;
    if (q < e) {
        const char *t0 = q;
        while (q < e && !is_blank(*q))
            q++;
        if (parse_timestamp(t0, (size_t)(q - t0), &o->ts) != 0)
            return fail(msg, msgsz, "invalid timestamp%s (expected integer milliseconds)",
                        quote(t0, (size_t)(q - t0), t, sizeof t));
        o->has_ts = true;
        q = skip_blanks(q, e);
        if (q < e)
            return fail(msg, msgsz, "unexpected %s after the timestamp", describe(q, e, d, sizeof d));
    }
    return 0;
}

static const char *const suffixes[3] = { "_bucket", "_sum", "_count" };

static bool has_suffix(const char *name, size_t len, const char *suf)
{
    size_t n = strlen(suf);
    return len > n && memcmp(name + len - n, suf, n) == 0;
}

/* "# HELP name text", "# TYPE name type", or another comment. */
static int parse_comment(struct parser *p, const char *s, const char *e, char *msg, size_t msgsz)
{
    char d[32], t[48];
    const char *q = skip_blanks(s + 1, e);
    const char *k0 = q;
    while (q < e && !is_blank(*q))
        q++;
    bool help = q - k0 == 4 && memcmp(k0, "HELP", 4) == 0;
    bool type = q - k0 == 4 && memcmp(k0, "TYPE", 4) == 0;
    if (!help && !type)
        return 0;
    q = skip_blanks(q, e);
    if (q == e)
        return 0; /* "# HELP" alone is a comment, as in Prometheus */
    const char *kw = help ? "HELP" : "TYPE";
    if (!name_start(*q))
        return fail(msg, msgsz, "expected a metric name after %s, found %s", kw, describe(q, e, d, sizeof d));
    const char *n0 = q;
    while (q < e && name_char(*q))
        q++;
    size_t off = (size_t)(n0 - p->buf), len = (size_t)(q - n0);
    if (q < e && !is_blank(*q))
        return fail(msg, msgsz, "unexpected %s after the metric name", describe(q, e, d, sizeof d));
    q = skip_blanks(q, e);
    if (help) {
        for (const char *c = q; c < e; c++) {
            if (*c != '\\')
                continue;
            if (c + 1 == e || (c[1] != '\\' && c[1] != 'n'))
                return fail(msg, msgsz, "invalid escape (backslash and %s) in HELP",
                            describe(c + 1, e, d, sizeof d));
            c++;
        }
    }
    enum promtext_type ty = PROMTEXT_UNTYPED;
    if (type) {
        const char *t0 = q;
        while (q < e && !is_blank(*q))
            q++;
        size_t tn = (size_t)(q - t0);
        if (tn == 0)
            return fail(msg, msgsz, "expected a type after TYPE %.*s", (int)(len > 64 ? 64 : len), n0);
        static const enum promtext_type all[] = { PROMTEXT_COUNTER, PROMTEXT_GAUGE, PROMTEXT_HISTOGRAM,
                                                  PROMTEXT_SUMMARY, PROMTEXT_UNTYPED };
        size_t i = 0;
        while (i < sizeof all / sizeof all[0] && !ci_equal(t0, tn, promtext_type_name(all[i])))
            i++;
        if (i == sizeof all / sizeof all[0])
            return fail(msg, msgsz, "unknown metric type%s", quote(t0, tn, t, sizeof t));
        ty = all[i];
        q = skip_blanks(q, e);
        if (q < e)
            return fail(msg, msgsz, "unexpected %s after the type", describe(q, e, d, sizeof d));
    }
    struct fam *f = fam_find(p, n0, len);
    if (type && f && (f->flags & FAM_TYPE))
        return fail(msg, msgsz, "second TYPE line for %.*s", (int)(len > 64 ? 64 : len), n0);
    if (help && f && (f->flags & FAM_HELP))
        return fail(msg, msgsz, "second HELP line for %.*s", (int)(len > 64 ? 64 : len), n0);
    if (type) {
        bool seen = f && (f->flags & FAM_SAMPLES);
        if (!seen && (ty == PROMTEXT_HISTOGRAM || ty == PROMTEXT_SUMMARY)) {
            char *key = p->scratch[0];
            memcpy(key, n0, len);
            for (int i = 0; i < 3 && !seen; i++) {
                size_t sl = strlen(suffixes[i]);
                memcpy(key + len, suffixes[i], sl);
                const struct fam *g = fam_find(p, key, len + sl);
                seen = g && (g->flags & FAM_SAMPLES);
            }
        }
        if (seen)
            return fail(msg, msgsz, "TYPE line for %.*s after its samples", (int)(len > 64 ? 64 : len), n0);
    }
    if (!f && !(f = fam_add(p, off, len)))
        return fail(msg, msgsz, "out of memory");
    if (type) {
        f->type = ty;
        f->flags |= FAM_TYPE;
    } else {
        f->flags |= FAM_HELP;
    }
    return 0;
}

/* The family of a sample name, created (untyped) if new; NULL when out of
 * memory. */
static struct fam *family_of(struct parser *p, const struct parsed *o)
{
    struct fam *f = fam_find(p, o->name, o->name_len);
    if (f && (f->flags & FAM_TYPE))
        return f;
    for (int i = 0; i < 3; i++) {
        if (!has_suffix(o->name, o->name_len, suffixes[i]))
            continue;
        struct fam *b = fam_find(p, o->name, o->name_len - strlen(suffixes[i]));
        if (b && (b->flags & FAM_TYPE) &&
            (b->type == PROMTEXT_HISTOGRAM || (b->type == PROMTEXT_SUMMARY && i > 0)))
            return b;
    }
    return f ? f : fam_add(p, o->name_off, o->name_len);
}

static uint64_t series_hash(const struct parsed *o)
{
    uint64_t h = hash_bytes(o->name, o->name_len, 0);
    for (size_t i = 0; i < o->n_labels; i++) {
        const struct promtext_label *l = &o->labels[i];
        /* a sum: the same labels in another order give the same hash */
        h += mix64(hash_bytes(l->name, strlen(l->name), 1) ^
                   (hash_bytes(l->value, strlen(l->value), 2) * 31u));
    }
    return h | 1u;
}

static bool same_series(const struct parsed *a, const struct parsed *b)
{
    if (a->n_labels != b->n_labels || strcmp(a->name, b->name) != 0)
        return false;
    for (size_t i = 0; i < a->n_labels; i++) {
        size_t j = 0;
        while (j < b->n_labels && strcmp(a->labels[i].name, b->labels[j].name) != 0)
            j++;
        if (j == b->n_labels || strcmp(a->labels[i].value, b->labels[j].value) != 0)
            return false;
    }
    return true;
}

/* The line number of an earlier identical series, 0 if none; the series is
 * then recorded. Returns (size_t)-1 when out of memory. */
static size_t series_seen(struct parser *p, const struct parsed *o, size_t line_off)
{
    if ((p->sn + 1) * 2 > p->scap) {
        size_t ncap = p->scap ? p->scap * 2 : 256;
        struct ser *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return (size_t)-1;
        for (size_t i = 0; i < p->scap; i++) {
            if (p->sers[i].h == 0)
                continue;
            size_t j = p->sers[i].h & (ncap - 1);
            while (ns[j].h != 0)
                j = (j + 1) & (ncap - 1);
            ns[j] = p->sers[i];
        }
        free(p->sers);
        p->sers = ns;
        p->scap = ncap;
    }
    uint64_t h = series_hash(o);
    size_t i = h & (p->scap - 1);
    for (; p->sers[i].h != 0; i = (i + 1) & (p->scap - 1)) {
        if (p->sers[i].h != h)
            continue;
        /* same hash: read the earlier line again to compare exactly */
        const char *s = p->buf + p->sers[i].off;
        const char *e = memchr(s, '\n', p->len - p->sers[i].off);
        if (e > s && e[-1] == '\r')
            e--;
        struct parsed old = { 0 };
        char msg[8];
        if (parse_sample(p, s, e, 1, &old, msg, sizeof msg) == 0 && same_series(o, &old))
            return p->sers[i].line;
    }
    p->sers[i] = (struct ser){ .h = h, .off = line_off, .line = p->line };
    p->sn++;
    return 0;
}

/* Checks a sample against its family and calls fn. */
static int take_sample(struct parser *p, const struct parsed *o, size_t line_off, promtext_fn fn,
                       void *arg, char *msg, size_t msgsz)
{
    struct fam *f = family_of(p, o);
    if (!f)
        return fail(msg, msgsz, "out of memory");
    f->flags |= FAM_SAMPLES;
    struct promtext_sample s = {
        .name = o->name,
        .family = o->name,
        .type = f->type,
        .labels = o->labels,
        .n_labels = o->n_labels,
        .value = o->value,
        .has_timestamp = o->has_ts,
        .timestamp_ms = o->ts,
        .line = p->line,
    };
    if (f->len != o->name_len) {
        memcpy(p->family, p->buf + f->off, f->len);
        p->family[f->len] = '\0';
        s.family = p->family;
    }
    double bound;
    const char *v;
    if (f->type == PROMTEXT_HISTOGRAM && has_suffix(o->name, o->name_len, "_bucket") &&
        f->len + strlen("_bucket") == o->name_len) {
        if (!(v = promtext_label_value(&s, "le")))
            return fail(msg, msgsz, "histogram bucket without an \"le\" label");
        if (promtext_parse_value(v, strlen(v), &bound) != 0 || isnan(bound))
            return fail(msg, msgsz, "invalid \"le\" value on a histogram bucket");
    }
    if (f->type == PROMTEXT_SUMMARY && f->len == o->name_len) {
        if (!(v = promtext_label_value(&s, "quantile")))
            return fail(msg, msgsz, "summary sample without a \"quantile\" label");
        if (promtext_parse_value(v, strlen(v), &bound) != 0 || isnan(bound))
            return fail(msg, msgsz, "invalid \"quantile\" value on a summary");
    }
    size_t first = series_seen(p, o, line_off);
    if (first == (size_t)-1)
        return fail(msg, msgsz, "out of memory");
    if (first)
        return fail(msg, msgsz, "duplicate series %.64s (first on line %zu)", o->name, first);
    if (fn) {
        msg[0] = '\0';
        if (fn(arg, &s, msg, msgsz) != 0) {
            if (msg[0] == '\0')
                snprintf(msg, msgsz, "stopped");
            return -1;
        }
    }
    return 0;
}

long promtext_parse(const char *buf, size_t len, promtext_fn fn, void *arg, char *err, size_t errsz)
{
    struct parser p = { .buf = buf, .len = len };
    char msg[256];
    long count = 0;
    int rc = 0;
    size_t longest = len < PROMTEXT_MAX_LINE ? len : PROMTEXT_MAX_LINE;
    p.scratch_cap = longest + SCRATCH_EXTRA;
    p.scratch[0] = malloc(p.scratch_cap);
    p.scratch[1] = malloc(p.scratch_cap);
    p.family = malloc(p.scratch_cap);
    if (!p.scratch[0] || !p.scratch[1] || !p.family) {
        snprintf(msg, sizeof msg, "out of memory");
        rc = -1;
    }
    size_t pos = 0;
    while (rc == 0 && pos < len) {
        p.line++;
        const char *s = buf + pos;
        const char *nl = memchr(s, '\n', len - pos);
        /* The last line must end with a newline: without one, the body was
         * probably cut short, and its last number may be too. The line's
         * own errors come first (garbage says more about itself). */
        bool cut = nl == NULL;
        size_t line_off = pos;
        const char *e = cut ? buf + len : nl;
        pos = (size_t)(e - buf) + 1;
        if (!cut && e > s && e[-1] == '\r')
            e--;
        if ((size_t)(e - s) > PROMTEXT_MAX_LINE) {
            rc = fail(msg, sizeof msg, "longer than %d bytes", PROMTEXT_MAX_LINE);
            break;
        }
        const char *q = skip_blanks(s, e);
        if (q == e) {
            if (cut)
                rc = fail(msg, sizeof msg, "no newline at the end of the body (cut short?)");
            continue;
        }
        if (*q == '#') {
            rc = parse_comment(&p, q, e, msg, sizeof msg);
            if (rc == 0 && cut)
                rc = fail(msg, sizeof msg, "no newline at the end of the body (cut short?)");
            continue;
        }
        if ((size_t)count >= PROMTEXT_MAX_SAMPLES) {
            rc = fail(msg, sizeof msg, "more than %u samples", PROMTEXT_MAX_SAMPLES);
            break;
        }
        struct parsed o = { 0 };
        rc = parse_sample(&p, s, e, 0, &o, msg, sizeof msg);
        if (rc == 0 && cut)
            rc = fail(msg, sizeof msg, "no newline at the end of the body (cut short?)");
        if (rc == 0)
            rc = take_sample(&p, &o, line_off, fn, arg, msg, sizeof msg);
        if (rc == 0)
            count++;
    }
    if (rc != 0) {
        if (p.line > 0)
            snprintf(err, errsz, "line %zu: %s", p.line, msg);
        else
            snprintf(err, errsz, "%s", msg);
    }
    free(p.scratch[0]);
    free(p.scratch[1]);
    free(p.family);
    free(p.fams);
    free(p.sers);
    return rc == 0 ? count : -1;
}
