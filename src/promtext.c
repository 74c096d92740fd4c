#include "promtext.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sanitize.h"

#define MAX_NUMBER 128   /* longest value token we read */
#define SCRATCH_SIZE (PROMTEXT_MAX_LINE + 8 * PROMTEXT_MAX_LABELS + 64)
#define CARRY_CAP (PROMTEXT_MAX_LINE + 1)  /* the longest line and its CR */
#define MSG_SIZE 256
#define EXEMPLAR_MAX_RUNES 128
#define LAST_NAME_MAX 128 /* longest sample name whose family is cached */

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

/* Powers of ten that a double holds exactly. */
static const double exact_pow10[23] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/* Clinger's fast path: when the significant digits make an integer m <=
 * 2^53 and the decimal exponent is within +-22, m and 10^|e| are exact
 * doubles and one IEEE multiplication or division rounds correctly, which is
 * what strtod does. The syntax was checked by the caller. Returns false when
 * strtod must decide. */
static bool fast_decimal(const char *s, size_t len, double *out)
{
    size_t i = 0;
    bool neg = false;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i++;
    }
    uint64_t m = 0;
    int digits = 0;   /* significant digits in m */
    int scale = 0;    /* digits after the point */
    bool point = false;
    for (; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            point = true;
            continue;
        }
        if (!is_digit(c))
            break;
        if (point)
            scale++;
        if (m == 0 && c == '0')
            continue;
        if (++digits > 19)
            return false;
        m = m * 10u + (uint64_t)(c - '0');
    }
    long exp = 0;
    if (i < len) {   /* the exponent */
        i++;
        bool eneg = false;
        if (s[i] == '+' || s[i] == '-') {
            eneg = s[i] == '-';
            i++;
        }
        if (len - i > 4)
            return false;
        for (; i < len; i++)
            exp = exp * 10 + (s[i] - '0');
        if (eneg)
            exp = -exp;
    }
    double v;
    if (m == 0) {
        v = 0.0;
    } else {
        long e10 = exp - scale;
        if (m > (UINT64_C(1) << 53) || e10 < -22 || e10 > 22)
            return false;
        v = e10 >= 0 ? (double)m * exact_pow10[e10] : (double)m / exact_pow10[-e10];
    }
    *out = neg ? -v : v;
    return true;
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
    if (i < len && !is_digit(s[i]) && s[i] != '.') {
        if (!sign && ci_equal(s, len, "nan")) {
            *out = NAN;
            return 0;
        }
        if (ci_equal(s + i, len - i, "inf") || ci_equal(s + i, len - i, "infinity")) {
            *out = neg ? -INFINITY : INFINITY;
            return 0;
        }
        return -1;
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
    if (fast_decimal(s, len, out))
        return 0;
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

/* OpenMetrics: seconds, maybe fractional, to milliseconds truncated toward
 * zero (Prometheus: int64(ts * 1000)). */
static int parse_seconds(const char *s, size_t n, int64_t *out)
{
    double v;
    if (promtext_parse_value(s, n, &v) != 0 || !isfinite(v))
        return -1;
    double ms = v * 1000.0;
    if (!(ms > -9.2e18 && ms < 9.2e18))
        return -1;
    *out = (int64_t)ms;
    return 0;
}

const char *promtext_type_name(enum promtext_type t)
{
    switch (t) {
    case PROMTEXT_COUNTER: return "counter";
    case PROMTEXT_GAUGE: return "gauge";
    case PROMTEXT_HISTOGRAM: return "histogram";
    case PROMTEXT_SUMMARY: return "summary";
    case PROMTEXT_GAUGEHISTOGRAM: return "gaugehistogram";
    case PROMTEXT_STATESET: return "stateset";
    case PROMTEXT_INFO: return "info";
    case PROMTEXT_UNTYPED: break;
    }
    return "untyped";
}

const char *promtext_format_name(enum promtext_format format)
{
    return format == PROMTEXT_FORMAT_OPENMETRICS ? "OpenMetrics 1.0" : "0.0.4";
}

enum promtext_format promtext_format_for_content_type(const char *content_type)
{
    if (!content_type)
        return PROMTEXT_FORMAT_TEXT;
    const char *s = content_type;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = 0;
    while (s[n] && s[n] != ';' && s[n] != ' ' && s[n] != '\t')
        n++;
    return ci_equal(s, n, "application/openmetrics-text") ? PROMTEXT_FORMAT_OPENMETRICS
                                                          : PROMTEXT_FORMAT_TEXT;
}

const char *promtext_label_value(const struct promtext_sample *s, const char *name)
{
    for (size_t i = 0; i < s->n_labels; i++)
        if (strcmp(s->labels[i].name, name) == 0)
            return s->labels[i].value;
    return NULL;
}

/* ---- characters ---- */

enum { C_NAME_START = 1, C_NAME = 2, C_LABEL_START = 4, C_LABEL = 8, C_BLANK = 16, C_VALUE_STOP = 32 };

/* The class of each byte: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label
 * names [a-zA-Z_][a-zA-Z0-9_]*, blanks ' ' and '\t', and what ends the
 * plain part of a label value: '"', '\\', NUL and bytes >= 0x80. */
static const unsigned char char_class[256] = {
    32,  0,  0,  0,  0,  0,  0,  0,  0, 16,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    16,  0, 32,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    10, 10, 10, 10, 10, 10, 10, 10, 10, 10,  3,  0,  0,  0,  0,  0,
     0, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  0, 32,  0,  0, 15,
     0, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  0,  0,  0,  0,  0,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
    32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
};

static bool is_class(char c, unsigned cls) { return (char_class[(unsigned char)c] & cls) != 0; }
static bool is_blank(char c) { return is_class(c, C_BLANK); }
static bool name_start(char c) { return is_class(c, C_NAME_START); }
static bool name_char(char c) { return is_class(c, C_NAME); }
static bool label_start(char c) { return is_class(c, C_LABEL_START); }
static bool label_char(char c) { return is_class(c, C_LABEL); }

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
        if (*p < 0x80) {
            p++;
            n--;
            continue;
        }
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

static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t step(uint64_t h, uint64_t w)
{
    return rotl(h ^ (w * 0x87c37b91114253d5ULL), 31) * 0x4cf5ad432745937fULL;
}

/* s[0..n) into h, eight bytes at a time; the last 1 to 7 as one word of
 * fixed-size loads that cover them (which, n being known to the caller's
 * hash, determine them). */
static uint64_t absorb(uint64_t h, const char *s, size_t n)
{
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = step(h, w);
        s += 8;
        n -= 8;
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        h = step(h, (uint64_t)a << 32 | b);
    } else if (n > 0) {
        const unsigned char *u = (const unsigned char *)s;
        h = step(h, (uint64_t)u[0] << 16 | (uint64_t)u[n / 2] << 8 | u[n - 1]);
    }
    return h;
}

/* The length and a seed go in first, so that strings cannot run into each
 * other. */
static uint64_t hash_bytes(const char *s, size_t n, uint64_t seed)
{
    return mix64(absorb(step(seed * 0x9e3779b97f4a7c15ULL, n), s, n));
}

/* ---- the tables ---- */

enum { FAM_TYPE = 1, FAM_HELP = 2, FAM_SAMPLES = 4, FAM_UNIT = 8 };

struct fam {              /* a metric name met in a metadata or sample line */
    uint64_t h;           /* 0: empty slot */
    size_t off;           /* the name is names[off .. off + len], NUL-terminated */
    size_t len;
    enum promtext_type type;
    unsigned flags;
    uint64_t *series;     /* hashes of the series of the samples this name is
                             the family of (0: an empty slot), probed on every
                             sample, and apart, only written and read for a
                             duplicate, the line of each: the hashes alone
                             are half the size and stay in the cache longer */
    uint64_t *lines;      /* series + scap: one allocation (table_alloc) */
    uint32_t scap, sn;
};

struct parsed {
    const char *name;     /* in the scratch buffer, NUL-terminated */
    size_t name_len;
    struct promtext_label *labels;
    size_t n_labels;
    uint64_t labels_hash; /* order-independent */
    struct fam *fam;      /* its family, NULL when out of memory */
    uint64_t series_hash;
    size_t line;
    double value;
    bool has_ts;
    int64_t ts;
};

struct promtext_stream {
    enum promtext_format format;
    promtext_fn fn;
    void *arg;
    size_t line;          /* lines begun */
    long count;
    bool failed;
    bool eof;             /* OpenMetrics: "# EOF" seen */
    char err[MSG_SIZE + 32];
    char *carry;          /* the unfinished line, CARRY_CAP bytes when allocated */
    size_t carry_len;
    /* A sample is taken (its duplicate check, its callback) only after the
     * next line is parsed, or before any other line, error or the end: the
     * duplicate table's load for it has then had a line's time to arrive.
     * Every check and callback still happens in the order of the lines, so
     * nothing but the timing of a callback shows. Hence two of each buffer:
     * [cur] for the line being parsed, the other for the pending sample. */
    char *scratch[2];     /* a line's names and unescaped values */
    struct promtext_label labels[2][PROMTEXT_MAX_LABELS];
    int cur;
    bool has_pending;
    struct parsed pending;
    struct promtext_label xlabels[PROMTEXT_MAX_LABELS]; /* an exemplar's */
    struct fam *fams;
    size_t fcap, fcount;
    char *names;          /* every name in fams, NUL-terminated */
    size_t names_len, names_cap;
    size_t last;          /* fams index + 1 of the last sample's family, 0: none */
    size_t last_len;      /* and the name it was for */
    uint64_t last_hash;   /* and that name's series hash seed */
    char last_name[LAST_NAME_MAX];
    bool ended;
};

static int fail(char *msg, size_t msgsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t msgsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msgsz, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
    va_end(ap);
    return -1;
}

static struct fam *fam_find_h(struct promtext_stream *p, const char *name, size_t len, uint64_t h)
{
    if (p->fcap == 0)
        return NULL;
    for (size_t i = h & (p->fcap - 1);; i = (i + 1) & (p->fcap - 1)) {
        struct fam *f = &p->fams[i];
        if (f->h == 0)
            return NULL;
        if (f->h == h && f->len == len && memcmp(p->names + f->off, name, len) == 0)
            return f;
    }
}

static uint64_t name_hash(const char *name, size_t len) { return hash_bytes(name, len, 0) | 1u; }

static struct fam *fam_find(struct promtext_stream *p, const char *name, size_t len)
{
    return fam_find_h(p, name, len, name_hash(name, len));
}

/* Adds a name that is not in the table; NULL when out of memory. */
static struct fam *fam_add(struct promtext_stream *p, const char *name, size_t len)
{
    if ((p->fcount + 1) * 2 > p->fcap) {
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
            if (p->has_pending && p->pending.fam == &p->fams[i])
                p->pending.fam = &nf[j];
        }
        free(p->fams);
        p->fams = nf;
        p->fcap = ncap;
        p->last = 0;   /* indices moved */
    }
    if (p->names_len + len + 1 > p->names_cap) {
        size_t ncap = p->names_cap ? p->names_cap : 1024;
        while (p->names_len + len + 1 > ncap)
            ncap *= 2;
        char *nn = realloc(p->names, ncap);
        if (!nn)
            return NULL;
        p->names = nn;
        p->names_cap = ncap;
    }
    size_t off = p->names_len;
    memcpy(p->names + off, name, len);
    p->names[off + len] = '\0';
    p->names_len += len + 1;
    uint64_t h = name_hash(name, len);
    size_t i = h & (p->fcap - 1);
    while (p->fams[i].h != 0)
        i = (i + 1) & (p->fcap - 1);
    p->fams[i] = (struct fam){ .h = h, .off = off, .len = len, .type = PROMTEXT_UNTYPED };
    p->fcount++;
    return &p->fams[i];
}

#define HUGE_PAGE (2u << 20)

/* Zeroed memory for a duplicate table. One of 2 MiB or more gets a mapping
 * of its own, aligned for and advised to use huge pages: the table is
 * probed at random, once per sample, and with 4 KiB pages every probe of a
 * large one also missed the TLB and every new page faulted. */
static void *table_alloc(size_t bytes)
{
    if (bytes < HUGE_PAGE)
        return calloc(1, bytes);
    size_t len = bytes + HUGE_PAGE;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    char *a = m + ((HUGE_PAGE - (uintptr_t)m % HUGE_PAGE) % HUGE_PAGE);
    if (a > m)
        munmap(m, (size_t)(a - m));
    if (m + len > a + bytes)
        munmap(a + bytes, (size_t)(m + len - (a + bytes)));
#ifdef MADV_HUGEPAGE
    madvise(a, bytes, MADV_HUGEPAGE); /* only advice: no huge pages is fine */
#endif
    return a;
}

static void table_free(void *t, size_t bytes)
{
    if (t && bytes < HUGE_PAGE)
        free(t);
    else if (t)
        munmap(t, bytes);
}

/* Bytes of a duplicate table of cap slots: a hash and a line each. */
static size_t table_bytes(uint32_t cap) { return (size_t)cap * 2u * sizeof(uint64_t); }

/* The line of an earlier series with hash h in f, 0 if none; the series is
 * then recorded. Returns UINT64_MAX when out of memory. Linear probing, at
 * most 70% full: probes stay within a cache line or two, and the table (and
 * the memory the kernel zeroes for it) is smaller than at half full. */
static uint64_t series_seen(struct fam *f, uint64_t h, uint64_t line)
{
    h |= 1u;
    if ((uint64_t)(f->sn + 1u) * 10u > (uint64_t)f->scap * 7u) {
        if (f->scap >= (UINT32_C(1) << 31))
            return UINT64_MAX;
        uint32_t ncap = f->scap ? f->scap * 2u : 8u;
        uint64_t *nh = table_alloc(table_bytes(ncap));
        if (!nh)
            return UINT64_MAX;
        uint64_t *nl = nh + ncap;
        for (uint32_t i = 0; i < f->scap; i++) {
            if (f->series[i] == 0)
                continue;
            uint32_t j = (uint32_t)f->series[i] & (ncap - 1u);
            while (nh[j] != 0)
                j = (j + 1u) & (ncap - 1u);
            nh[j] = f->series[i];
            nl[j] = f->lines[i];
        }
        table_free(f->series, table_bytes(f->scap));
        f->series = nh;
        f->lines = nl;
        f->scap = ncap;
    }
    uint32_t i = (uint32_t)h & (f->scap - 1u);
    for (; f->series[i] != 0; i = (i + 1u) & (f->scap - 1u))
        if (f->series[i] == h)
            return f->lines[i];
    f->series[i] = h;
    f->lines[i] = line;
    f->sn++;
    return 0;
}

/* ---- lines ---- */

static const char *skip_blanks(const char *q, const char *e)
{
    while (q < e && is_blank(*q))
        q++;
    return q;
}

/* One label, both lengths first: the pairs are summed, in any order. */
static uint64_t label_pair_hash(const char *name, size_t nlen, const char *value, size_t vlen)
{
    uint64_t h = step(step(0x2545f4914f6cdd1dULL, nlen), vlen);
    return mix64(absorb(absorb(h, name, nlen), value, vlen));
}

/* The label list after '{' up to and including '}', into labels[], the
 * strings into *outp. Sets *n and *hash (a sum: the same labels in another
 * order give the same hash); *runes counts the characters of names and
 * values. */
static int parse_labels(const char **qp, const char *e, char **outp, struct promtext_label *labels,
                        size_t *n, uint64_t *hash, size_t *runes, char *msg, size_t msgsz)
{
    const char *q = *qp;
    char *out = *outp;
    char d[32];
    uint64_t h = 0;
    size_t count = 0, chars = 0;
    size_t lens[PROMTEXT_MAX_LABELS];
    for (;;) {
        q = skip_blanks(q, e);
        if (q < e && *q == '}') {
            q++;
            break;
        }
        if (q == e || !label_start(*q))
            return fail(msg, msgsz, "expected a label name, found %s", describe(q, e, d, sizeof d));
        if (count == PROMTEXT_MAX_LABELS)
            return fail(msg, msgsz, "more than %d labels", PROMTEXT_MAX_LABELS);
        const char *l0 = q;
        while (q < e && label_char(*q))
            q++;
        char *lname = out;
        size_t lname_len = (size_t)(q - l0);
        memcpy(out, l0, lname_len);
        out += lname_len;
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
        /* the common case, in one pass: plain ASCII up to the closing quote */
        while (q < e && !is_class(*q, C_VALUE_STOP))
            *out++ = *q++;
        if (q < e && *q == '"') {
            q++;
            chars += (size_t)(out - val);
        } else {
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
                        return fail(msg, msgsz,
                                    "invalid escape (backslash and %s) in the value of label \"%.64s\"",
                                    describe(q - 1, e, d, sizeof d), lname);
                    }
                } else if (c == '\0') {
                    return fail(msg, msgsz, "NUL byte in the value of label \"%.64s\"", lname);
                } else {
                    *out++ = c;
                }
            }
            if (!utf8_valid(val, (size_t)(out - val)))
                return fail(msg, msgsz, "the value of label \"%.64s\" is not valid UTF-8", lname);
            for (const char *c = val; c < out; c++)
                chars += ((unsigned char)*c & 0xC0u) != 0x80u;
        }
        size_t vlen = (size_t)(out - val);
        *out++ = '\0';
        chars += lname_len;
        for (size_t i = 0; i < count; i++)
            if (lens[i] == lname_len && memcmp(labels[i].name, lname, lname_len) == 0)
                return fail(msg, msgsz, "duplicate label \"%.64s\"", lname);
        lens[count] = lname_len;
        labels[count].name = lname;
        labels[count].value = val;
        count++;
        h += label_pair_hash(lname, lname_len, val, vlen);
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
    *n = count;
    *hash = h;
    *runes = chars;
    return 0;
}

/* OpenMetrics: " # {labels} value [timestamp]" after a sample, q at '#'. */
static int parse_exemplar(struct promtext_stream *p, const char *q, const char *e, char *out, char *msg,
                          size_t msgsz)
{
    char d[32], t[48];
    q++;
    if (q == e || !is_blank(*q))
        return fail(msg, msgsz, "expected a blank after the '#' of an exemplar, found %s",
                    describe(q, e, d, sizeof d));
    q = skip_blanks(q, e);
    if (q == e || *q != '{')
        return fail(msg, msgsz, "expected '{' to open the labels of an exemplar, found %s",
                    describe(q, e, d, sizeof d));
    q++;
    size_t n, runes;
    uint64_t h;
    char inner[MSG_SIZE - 16];
    if (parse_labels(&q, e, &out, p->xlabels, &n, &h, &runes, inner, sizeof inner) != 0)
        return fail(msg, msgsz, "exemplar: %s", inner);
    if (runes > EXEMPLAR_MAX_RUNES)
        return fail(msg, msgsz, "exemplar labels longer than %d characters", EXEMPLAR_MAX_RUNES);
    if (q < e && !is_blank(*q))
        return fail(msg, msgsz, "unexpected %s after the labels of an exemplar", describe(q, e, d, sizeof d));
    q = skip_blanks(q, e);
    if (q == e)
        return fail(msg, msgsz, "expected a value after the labels of an exemplar");
    const char *v0 = q;
    while (q < e && !is_blank(*q))
        q++;
    double v;
    if (promtext_parse_value(v0, (size_t)(q - v0), &v) != 0)
        return fail(msg, msgsz, "invalid exemplar value%s", quote(v0, (size_t)(q - v0), t, sizeof t));
    q = skip_blanks(q, e);
    if (q < e) {
        const char *t0 = q;
        while (q < e && !is_blank(*q))
            q++;
        int64_t ts;
        if (parse_seconds(t0, (size_t)(q - t0), &ts) != 0)
            return fail(msg, msgsz, "invalid exemplar timestamp%s (expected seconds)",
                        quote(t0, (size_t)(q - t0), t, sizeof t));
        q = skip_blanks(q, e);
        if (q < e)
            return fail(msg, msgsz, "unexpected %s after the exemplar", describe(q, e, d, sizeof d));
    }
    return 0;
}

static struct fam *family_of(struct promtext_stream *p, const struct parsed *o);

/* The family and series hash of o, and a prefetch of the duplicate table's
 * slot for it: that load misses the cache on a large body, so it is started
 * before the value is read. */
static void locate_series(struct promtext_stream *p, struct parsed *o)
{
    o->fam = family_of(p, o);
    uint64_t nh = p->last ? p->last_hash : hash_bytes(o->name, o->name_len, 3);
    o->series_hash = mix64(nh + o->labels_hash) | 1u;
    if (o->fam && o->fam->scap > 0) {
        uint32_t i = (uint32_t)o->series_hash & (o->fam->scap - 1u);
        __builtin_prefetch(&o->fam->series[i]);
        __builtin_prefetch(&o->fam->lines[i], 1); /* written if new */
    }
}

/* A sample line s..e (no newline) into o. */
static int parse_sample(struct promtext_stream *p, const char *s, const char *e, struct parsed *o,
                        char *msg, size_t msgsz)
{
    char d[32], t[48];
    char *out = p->scratch[p->cur];
    bool om = p->format == PROMTEXT_FORMAT_OPENMETRICS;
    const char *q = skip_blanks(s, e);
    if (q == e || !name_start(*q))
        return fail(msg, msgsz, "expected a metric name, found %s", describe(q, e, d, sizeof d));
    const char *n0 = q;
    while (q < e && name_char(*q))
        q++;
    o->name_len = (size_t)(q - n0);
    memcpy(out, n0, o->name_len);
    o->name = out;
    out += o->name_len;
    *out++ = '\0';
    o->labels = p->labels[p->cur];
    o->n_labels = 0;
    o->labels_hash = 0;
    const char *after = "the metric name";
    if (q < e && *q == '{') {
        q++;
        size_t runes;
        if (parse_labels(&q, e, &out, p->labels[p->cur], &o->n_labels, &o->labels_hash, &runes, msg, msgsz) != 0)
            return -1;
        after = "the labels";
    } else if (q < e && !is_blank(*q)) {
        return fail(msg, msgsz, "unexpected %s after the metric name", describe(q, e, d, sizeof d));
    }
    q = skip_blanks(q, e);
    if (q == e)
        return fail(msg, msgsz, "expected a value after %s", after);
    locate_series(p, o);
    const char *v0 = q;
    while (q < e && !is_blank(*q))
        q++;
    if (promtext_parse_value(v0, (size_t)(q - v0), &o->value) != 0)
        return fail(msg, msgsz, "invalid value%s", quote(v0, (size_t)(q - v0), t, sizeof t));
    q = skip_blanks(q, e);
    o->has_ts = false;
    o->ts = 0;
    if (q < e && !(om && *q == '#')) {
        const char *t0 = q;
        while (q < e && !is_blank(*q))
            q++;
        if (om ? parse_seconds(t0, (size_t)(q - t0), &o->ts) != 0
               : parse_timestamp(t0, (size_t)(q - t0), &o->ts) != 0)
            return fail(msg, msgsz, "invalid timestamp%s (expected %s)", quote(t0, (size_t)(q - t0), t, sizeof t),
                        om ? "seconds" : "integer milliseconds");
        o->has_ts = true;
        q = skip_blanks(q, e);
    }
    if (q < e && om && *q == '#')
        return parse_exemplar(p, q, e, out, msg, msgsz);
    if (q < e) /* only after a timestamp: anything else after the value was one */
        return fail(msg, msgsz, "unexpected %s after the timestamp", describe(q, e, d, sizeof d));
    return 0;
}

/* ---- families ---- */

static const char *const sfx_histogram_004[] = { "_bucket", "_sum", "_count", NULL };
static const char *const sfx_summary_004[] = { "_sum", "_count", NULL };
static const char *const sfx_counter_om[] = { "_total", "_created", NULL };
static const char *const sfx_histogram_om[] = { "_bucket", "_count", "_sum", "_created", NULL };
static const char *const sfx_gaugehistogram_om[] = { "_bucket", "_gcount", "_gsum", NULL };
static const char *const sfx_summary_om[] = { "_count", "_sum", "_created", NULL };
static const char *const sfx_info_om[] = { "_info", NULL };
static const char *const sfx_all[] = { "_bucket", "_sum",  "_count", "_total",
                                       "_created", "_gsum", "_gcount", "_info" };

/* The suffixes a family of type t gives its samples' names, NULL-ended, or
 * NULL for none. */
static const char *const *suffixes_for(enum promtext_format format, enum promtext_type t)
{
    if (format == PROMTEXT_FORMAT_TEXT) {
        if (t == PROMTEXT_HISTOGRAM)
            return sfx_histogram_004;
        return t == PROMTEXT_SUMMARY ? sfx_summary_004 : NULL;
    }
    switch (t) {
    case PROMTEXT_COUNTER: return sfx_counter_om;
    case PROMTEXT_HISTOGRAM: return sfx_histogram_om;
    case PROMTEXT_GAUGEHISTOGRAM: return sfx_gaugehistogram_om;
    case PROMTEXT_SUMMARY: return sfx_summary_om;
    case PROMTEXT_INFO: return sfx_info_om;
    case PROMTEXT_UNTYPED:
    case PROMTEXT_GAUGE:
    case PROMTEXT_STATESET: break;
    }
    return NULL;
}

static bool in_list(const char *const *list, const char *s)
{
    for (; list && *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

static bool has_suffix(const char *name, size_t len, const char *suf)
{
    size_t n = strlen(suf);
    return len > n && memcmp(name + len - n, suf, n) == 0;
}

/* Whether a family named name[0..len) of type ty (entry f, maybe NULL) has
 * had samples: under its own name or one its type would give. */
static bool family_has_samples(struct promtext_stream *p, const char *name, size_t len,
                               enum promtext_type ty, const struct fam *f)
{
    if (f && (f->flags & FAM_SAMPLES))
        return true;
    char *key = p->scratch[p->cur];
    memcpy(key, name, len);
    for (const char *const *sfx = suffixes_for(p->format, ty); sfx && *sfx; sfx++) {
        size_t sl = strlen(*sfx);
        memcpy(key + len, *sfx, sl);
        const struct fam *g = fam_find(p, key, len + sl);
        if (g && (g->flags & FAM_SAMPLES))
            return true;
    }
    return false;
}

static bool parse_type(enum promtext_format format, const char *t, size_t n, enum promtext_type *out)
{
    static const enum promtext_type text[] = { PROMTEXT_COUNTER, PROMTEXT_GAUGE, PROMTEXT_HISTOGRAM,
                                               PROMTEXT_SUMMARY, PROMTEXT_UNTYPED };
    static const enum promtext_type om[] = { PROMTEXT_COUNTER,        PROMTEXT_GAUGE,    PROMTEXT_HISTOGRAM,
                                             PROMTEXT_GAUGEHISTOGRAM, PROMTEXT_SUMMARY,  PROMTEXT_INFO,
                                             PROMTEXT_STATESET };
    if (format == PROMTEXT_FORMAT_OPENMETRICS) {
        if (ci_equal(t, n, "unknown")) {
            *out = PROMTEXT_UNTYPED;
            return true;
        }
        for (size_t i = 0; i < sizeof om / sizeof om[0]; i++)
            if (ci_equal(t, n, promtext_type_name(om[i]))) {
                *out = om[i];
                return true;
            }
        return false;
    }
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        if (ci_equal(t, n, promtext_type_name(text[i]))) {
            *out = text[i];
            return true;
        }
    return false;
}

/* "# HELP name text", "# TYPE name type", "# UNIT name unit", "# EOF", or
 * another comment. */
static int parse_comment(struct promtext_stream *p, const char *s, const char *e, char *msg, size_t msgsz)
{
    char d[32], t[48];
    bool om = p->format == PROMTEXT_FORMAT_OPENMETRICS;
    const char *q = skip_blanks(s + 1, e);
    const char *k0 = q;
    while (q < e && !is_blank(*q))
        q++;
    size_t kn = (size_t)(q - k0);
    bool help = kn == 4 && memcmp(k0, "HELP", 4) == 0;
    bool type = kn == 4 && memcmp(k0, "TYPE", 4) == 0;
    bool unit = om && kn == 4 && memcmp(k0, "UNIT", 4) == 0;
    if (om && kn == 3 && memcmp(k0, "EOF", 3) == 0 && skip_blanks(q, e) == e) {
        p->eof = true;
        return 0;
    }
    if (!help && !type && !unit) {
        if (om)
            return fail(msg, msgsz, "unexpected comment (OpenMetrics allows only HELP, TYPE, UNIT and EOF)");
        return 0;
    }
    const char *kw = help ? "HELP" : type ? "TYPE" : "UNIT";
    q = skip_blanks(q, e);
    if (q == e && !om)
        return 0; /* "# HELP" alone is a comment, as in Prometheus */
    if (q == e || !name_start(*q))
        return fail(msg, msgsz, "expected a metric name after %s, found %s", kw, describe(q, e, d, sizeof d));
    const char *n0 = q;
    while (q < e && name_char(*q))
        q++;
    size_t len = (size_t)(q - n0);
    int shown = (int)(len > 64 ? 64 : len);
    if (q < e && !is_blank(*q))
        return fail(msg, msgsz, "unexpected %s after the metric name", describe(q, e, d, sizeof d));
    q = skip_blanks(q, e);
    if (help) {
        for (const char *c = q; c < e; c++) {
            if (*c != '\\')
                continue;
            if (c + 1 == e || (c[1] != '\\' && c[1] != 'n' && !(om && c[1] == '"')))
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
            return fail(msg, msgsz, "expected a type after TYPE %.*s", shown, n0);
        if (!parse_type(p->format, t0, tn, &ty))
            return fail(msg, msgsz, "unknown metric type%s", quote(t0, tn, t, sizeof t));
        q = skip_blanks(q, e);
        if (q < e)
            return fail(msg, msgsz, "unexpected %s after the type", describe(q, e, d, sizeof d));
    }
    if (unit) {
        const char *u0 = q;
        while (q < e && name_char(*q))
            q++;
        size_t un = (size_t)(q - u0);
        q = skip_blanks(q, e);
        if (q < e)
            return fail(msg, msgsz, "unexpected %s after the unit", describe(q, e, d, sizeof d));
        if (un > 0 && (len <= un || memcmp(n0 + len - un, u0, un) != 0 || n0[len - un - 1] != '_'))
            return fail(msg, msgsz, "unit%s is not a suffix of the metric name %.*s", quote(u0, un, t, sizeof t),
                        shown, n0);
    }
    struct fam *f = fam_find(p, n0, len);
    unsigned flag = type ? FAM_TYPE : help ? FAM_HELP : FAM_UNIT;
    if (f && (f->flags & flag))
        return fail(msg, msgsz, "second %s line for %.*s", kw, shown, n0);
    if (type && family_has_samples(p, n0, len, ty, f))
        return fail(msg, msgsz, "TYPE line for %.*s after its samples", shown, n0);
    if (unit && family_has_samples(p, n0, len, f ? f->type : PROMTEXT_UNTYPED, f))
        return fail(msg, msgsz, "UNIT line for %.*s after its samples", shown, n0);
    if (!f && !(f = fam_add(p, n0, len)))
        return fail(msg, msgsz, "out of memory");
    f->flags |= flag;
    if (type) {
        f->type = ty;
        p->last = 0;   /* how names map to families may have changed */
    }
    return 0;
}

/* The family of a sample name, created (untyped) if new; NULL when out of
 * memory. */
static struct fam *family_of(struct promtext_stream *p, const struct parsed *o)
{
    if (p->last && o->name_len == p->last_len && memcmp(p->last_name, o->name, o->name_len) == 0)
        return &p->fams[p->last - 1];
    p->last = 0;
    struct fam *f = fam_find(p, o->name, o->name_len);
    if (!f && !(f = fam_add(p, o->name, o->name_len)))
        return NULL;
    /* the name has samples, whichever family they count in: a TYPE line for
     * it is now too late (else its later samples would count in another
     * family, and the duplicate check, which is per family, miss them) */
    f->flags |= FAM_SAMPLES;
    struct fam *r = NULL;
    if (f->flags & FAM_TYPE)
        r = f;
    for (size_t i = 0; !r && i < sizeof sfx_all / sizeof sfx_all[0]; i++) {
        if (!has_suffix(o->name, o->name_len, sfx_all[i]))
            continue;
        struct fam *b = fam_find(p, o->name, o->name_len - strlen(sfx_all[i]));
        if (b && (b->flags & FAM_TYPE) && in_list(suffixes_for(p->format, b->type), sfx_all[i]))
            r = b;
    }
    if (!r)
        r = f;
    /* samples of a family come together: the next is likely the same name */
    if (o->name_len <= LAST_NAME_MAX) {
        p->last = (size_t)(r - p->fams) + 1;
        memcpy(p->last_name, o->name, o->name_len);
        p->last_len = o->name_len;
        p->last_hash = hash_bytes(o->name, o->name_len, 3);
    } else {
        p->last = 0;
    }
    return r;
}

/* Checks a sample against its family and calls fn. */
static int take_sample(struct promtext_stream *p, const struct parsed *o, char *msg, size_t msgsz)
{
    struct fam *f = o->fam;
    if (!f)
        return fail(msg, msgsz, "out of memory");
    f->flags |= FAM_SAMPLES;
    const char *family = p->names + f->off;
    struct promtext_sample s = {
        .name = o->name,
        .family = family,
        .type = f->type,
        .labels = o->labels,
        .n_labels = o->n_labels,
        .value = o->value,
        .has_timestamp = o->has_ts,
        .timestamp_ms = o->ts,
        .line = o->line,
    };
    const char *sfx = o->name + f->len; /* "" when the name is the family's */
    bool bare = o->name_len == f->len;
    double bound;
    const char *v;
    if (p->format == PROMTEXT_FORMAT_OPENMETRICS) {
        if (bare && (f->type == PROMTEXT_COUNTER || f->type == PROMTEXT_HISTOGRAM ||
                     f->type == PROMTEXT_GAUGEHISTOGRAM || f->type == PROMTEXT_INFO)) {
            char list[64] = "";
            for (const char *const *x = suffixes_for(p->format, f->type); *x; x++) {
                size_t n = strlen(list);
                snprintf(list + n, sizeof list - n, "%s%s", n ? " " : "", *x);
            }
            return fail(msg, msgsz, "%.64s is a %s: its samples need one of the suffixes %s", family,
                        promtext_type_name(f->type), list);
        }
        if (f->type == PROMTEXT_STATESET) {
            if (!promtext_label_value(&s, family))
                return fail(msg, msgsz, "stateset sample without a \"%.64s\" label", family);
            if (o->value != 0.0 && o->value != 1.0)
                return fail(msg, msgsz, "stateset value must be 0 or 1");
        }
        if (f->type == PROMTEXT_INFO && o->value != 1.0)
            return fail(msg, msgsz, "info value must be 1");
    }
    if ((f->type == PROMTEXT_HISTOGRAM || f->type == PROMTEXT_GAUGEHISTOGRAM) && strcmp(sfx, "_bucket") == 0) {
        if (!(v = promtext_label_value(&s, "le")))
            return fail(msg, msgsz, "histogram bucket without an \"le\" label");
        if (promtext_parse_value(v, strlen(v), &bound) != 0 || isnan(bound))
            return fail(msg, msgsz, "invalid \"le\" value on a histogram bucket");
    }
    if (f->type == PROMTEXT_SUMMARY && bare) {
        if (!(v = promtext_label_value(&s, "quantile")))
            return fail(msg, msgsz, "summary sample without a \"quantile\" label");
        if (promtext_parse_value(v, strlen(v), &bound) != 0 || isnan(bound))
            return fail(msg, msgsz, "invalid \"quantile\" value on a summary");
    }
    uint64_t first = series_seen(f, o->series_hash, o->line);
    if (first == UINT64_MAX)
        return fail(msg, msgsz, "out of memory");
    if (first)
        return fail(msg, msgsz, "duplicate series %.64s (first on line %llu)", o->name,
                    (unsigned long long)first);
    if (p->fn) {
        msg[0] = '\0';
        if (p->fn(p->arg, &s, msg, msgsz) != 0) {
            if (msg[0] == '\0')
                snprintf(msg, msgsz, "stopped");
            return -1;
        }
    }
    return 0;
}

/* ---- the stream ---- */

static void set_error(struct promtext_stream *p, size_t line, const char *msg)
{
    if (line > 0)
        snprintf(p->err, sizeof p->err, "line %zu: %s", line, msg);
    else
        snprintf(p->err, sizeof p->err, "%s", msg);
    p->failed = true;
}

/* Takes the pending sample, if any. On an error, the stream has failed
 * with it. */
static int flush(struct promtext_stream *p)
{
    if (!p->has_pending)
        return 0;
    char msg[MSG_SIZE];
    p->has_pending = false;
    if (take_sample(p, &p->pending, msg, sizeof msg) != 0) {
        set_error(p, p->pending.line, msg);
        return -1;
    }
    p->count++;
    return 0;
}

/* An error on line: the pending sample's comes first, being earlier. */
static void line_error(struct promtext_stream *p, size_t line, const char *msg)
{
    if (flush(p) == 0)
        set_error(p, line, msg);
}

/* One line s[0..len), its newline (if any) removed. newline false: the
 * last line of the body, which lacks one. */
static int process_line(struct promtext_stream *p, const char *s, size_t len, bool newline)
{
    char msg[MSG_SIZE];
    bool om = p->format == PROMTEXT_FORMAT_OPENMETRICS;
    int rc = 0;
    p->line++;
    const char *e = s + len;
    if (newline && len > 0 && e[-1] == '\r')
        e--;
    bool cut = !newline;
    const char *q = skip_blanks(s, e);
    bool sample = q < e && *q != '#' && !p->eof && (size_t)(e - s) <= PROMTEXT_MAX_LINE;
    if (!sample && flush(p) != 0)
        return -1;
    if (p->eof) {
        rc = fail(msg, sizeof msg, "content after \"# EOF\"");
    } else if ((size_t)(e - s) > PROMTEXT_MAX_LINE) {
        rc = fail(msg, sizeof msg, "longer than %d bytes", PROMTEXT_MAX_LINE);
    } else if (q == e) {
        if (om)
            rc = fail(msg, sizeof msg, "empty line (OpenMetrics allows none)");
        else if (cut)
            rc = fail(msg, sizeof msg, "no newline at the end of the body (cut short?)");
    } else if (*q == '#') {
        /* The last line must end with a newline: without one, the body
         * was probably cut short, and its last number may be too. The
         * line's own errors come first (garbage says more about itself).
         * OpenMetrics' "# EOF" may end the body without one. */
        rc = parse_comment(p, q, e, msg, sizeof msg);
        if (rc == 0 && cut && !p->eof)
            rc = fail(msg, sizeof msg, "no newline at the end of the body (cut short?)");
    } else if ((size_t)p->count + p->has_pending >= PROMTEXT_MAX_SAMPLES) {
        rc = fail(msg, sizeof msg, "more than %u samples", PROMTEXT_MAX_SAMPLES);
    } else {
        struct parsed o = { 0 };
        o.line = p->line;
        rc = parse_sample(p, s, e, &o, msg, sizeof msg);
        if (rc == 0 && cut)
            rc = fail(msg, sizeof msg, "no newline at the end of the body (cut short?)");
        if (rc == 0) {
            if (flush(p) != 0)
                return -1;
            p->pending = o;
            p->has_pending = true;
            p->cur ^= 1;
            return 0;
        }
    }
    if (rc != 0)
        line_error(p, p->line, msg);
    return rc;
}

/* Adds s[0..n) to the unfinished line. complete: a newline follows. Fails
 * as soon as the line is sure to be too long, as the whole line would. */
static int carry_add(struct promtext_stream *p, const char *s, size_t n, bool complete)
{
    char msg[MSG_SIZE];
    if (p->eof) {
        snprintf(msg, sizeof msg, "content after \"# EOF\"");
        line_error(p, p->line + 1, msg);
        return -1;
    }
    size_t total = p->carry_len + n;
    if (total > CARRY_CAP || (!complete && total == CARRY_CAP && s[n - 1] != '\r')) {
        /* longer than the limit even if a CR LF ends it */
        snprintf(msg, sizeof msg, "longer than %d bytes", PROMTEXT_MAX_LINE);
        line_error(p, p->line + 1, msg);
        return -1;
    }
    if (!p->carry && !(p->carry = malloc(CARRY_CAP))) {
        line_error(p, p->line + 1, "out of memory");
        return -1;
    }
    memcpy(p->carry + p->carry_len, s, n);
    p->carry_len = total;
    return 0;
}

struct promtext_stream *promtext_stream_new(enum promtext_format format, promtext_fn fn, void *arg)
{
    struct promtext_stream *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->format = format == PROMTEXT_FORMAT_OPENMETRICS ? PROMTEXT_FORMAT_OPENMETRICS : PROMTEXT_FORMAT_TEXT;
    p->fn = fn;
    p->arg = arg;
    if (!(p->scratch[0] = malloc(SCRATCH_SIZE)) || !(p->scratch[1] = malloc(SCRATCH_SIZE))) {
        free(p->scratch[0]);
        free(p);
        return NULL;
    }
    return p;
}

static void feed(struct promtext_stream *p, const char *c, size_t len)
{
    const char *end = c + len;
    if (p->carry_len > 0) {
        const char *nl = memchr(c, '\n', len);
        if (carry_add(p, c, nl ? (size_t)(nl - c) : len, nl != NULL) != 0 || !nl)
            return;
        int rc = process_line(p, p->carry, p->carry_len, true);
        p->carry_len = 0;
        if (rc != 0)
            return;
        c = nl + 1;
    }
    while (c < end) {
        const char *nl = memchr(c, '\n', (size_t)(end - c));
        if (!nl) {
            carry_add(p, c, (size_t)(end - c), false);
            return;
        }
        if (process_line(p, c, (size_t)(nl - c), true) != 0)
            return;
        c = nl + 1;
    }
}

static void copy_error(const struct promtext_stream *p, char *err, size_t errsz)
{
    if (err && errsz > 0)
        snprintf(err, errsz, "%s", p->err);
}

int promtext_stream_feed(struct promtext_stream *p, const char *chunk, size_t len, char *err, size_t errsz)
{
    if (!p->failed && len > 0 && p->ended)
        set_error(p, 0, "data fed after the end of the body");
    if (!p->failed && len > 0)
        feed(p, chunk, len);
    if (p->failed) {
        copy_error(p, err, errsz);
        return -1;
    }
    return 0;
}

long promtext_stream_end(struct promtext_stream *p, char *err, size_t errsz)
{
    if (!p->failed && !p->ended && p->carry_len > 0) {
        process_line(p, p->carry, p->carry_len, false);
        p->carry_len = 0;
    }
    if (!p->failed && !p->ended)
        flush(p);
    if (!p->failed && p->format == PROMTEXT_FORMAT_OPENMETRICS && !p->eof)
        set_error(p, p->line + 1, "the body ends without \"# EOF\" (cut short?)");
    p->ended = true;
    if (p->failed) {
        copy_error(p, err, errsz);
        return -1;
    }
    return p->count;
}

void promtext_stream_free(struct promtext_stream **pp)
{
    struct promtext_stream *p = *pp;
    if (!p)
        return;
    for (size_t i = 0; i < p->fcap; i++)
        table_free(p->fams[i].series, table_bytes(p->fams[i].scap));
    free(p->fams);
    free(p->names);
    free(p->carry);
    free(p->scratch[0]);
    free(p->scratch[1]);
    free(p);
    *pp = NULL;
}

long promtext_parse_format(enum promtext_format format, const char *buf, size_t len, promtext_fn fn,
                           void *arg, char *err, size_t errsz)
{
    struct promtext_stream *p = promtext_stream_new(format, fn, arg);
    if (!p) {
        if (err && errsz > 0)
            snprintf(err, errsz, "out of memory");
        return -1;
    }
    long n = promtext_stream_feed(p, buf, len, err, errsz) == 0 ? promtext_stream_end(p, err, errsz) : -1;
    promtext_stream_free(&p);
    return n;
}

long promtext_parse(const char *buf, size_t len, promtext_fn fn, void *arg, char *err, size_t errsz)
{
    return promtext_parse_format(PROMTEXT_FORMAT_TEXT, buf, len, fn, arg, err, errsz);
}
