#include "tsdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tsdb_series {
    struct tsdb_label *labels;   /* sorted by name; strings in `strings` */
    size_t n_labels;
    char *strings;
    uint64_t hash;
    struct tsdb_sample *ring;    /* capacity a power of two */
    size_t cap, head, len;
    bool brief;                  /* keeps its latest sample only */
};

/* The series sharing one metric name, in creation order. */
struct family {
    const char *name;            /* the first series' __name__ value */
    struct tsdb_series **series;
    size_t n, cap;
};

struct tsdb {
    int64_t retention_ms;
    size_t max_samples, total;
    int64_t newest;
    bool any;
    struct tsdb_series **all;    /* creation order */
    size_t n_all, cap_all;
    struct family *fams;         /* sorted by name */
    size_t n_fams, cap_fams;
    tsdb_keep_fn keep;           /* NULL: every series keeps history */
    void *keep_arg;
};

static void set_err(char *err, size_t errsz, const char *msg)
{
    if (err && errsz)
        snprintf(err, errsz, "%s", msg);
}

/* ---- staleness ---- */

double tsdb_stale_nan(void)
{
    uint64_t bits = TSDB_STALE_NAN_BITS;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

bool tsdb_is_stale(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits == TSDB_STALE_NAN_BITS;
}

/* ---- series ---- */

static void series_free(struct tsdb_series *s)
{
    if (!s)
        return;
    free(s->labels);
    free(s->strings);
    free(s->ring);
    free(s);
}

static uint64_t labels_hash(const struct tsdb_label *l, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < n; i++) {
        for (const char *p = l[i].name; *p; p++)
            h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
        h = (h ^ 0xff) * UINT64_C(1099511628211);
        for (const char *p = l[i].value; *p; p++)
            h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
        h = (h ^ 0xfe) * UINT64_C(1099511628211);
    }
    return h;
}

static bool labels_equal(const struct tsdb_series *s, const struct tsdb_label *l, size_t n)
{
    if (s->n_labels != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->labels[i].name, l[i].name) != 0 || strcmp(s->labels[i].value, l[i].value) != 0)
            return false;
    return true;
}

/* A new series owning copies of the sorted labels l[0..n). */
static struct tsdb_series *series_new(const struct tsdb_label *l, size_t n, uint64_t hash)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += strlen(l[i].name) + strlen(l[i].value) + 2;
    struct tsdb_series *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->labels = calloc(n ? n : 1, sizeof *s->labels);
    s->strings = malloc(bytes ? bytes : 1);
    if (!s->labels || !s->strings) {
        series_free(s);
        return NULL;
    }
    char *p = s->strings;
    for (size_t i = 0; i < n; i++) {
        size_t a = strlen(l[i].name) + 1, b = strlen(l[i].value) + 1;
        memcpy(p, l[i].name, a);
        s->labels[i].name = p;
        p += a;
        memcpy(p, l[i].value, b);
        s->labels[i].value = p;
        p += b;
    }
    s->n_labels = n;
    s->hash = hash;
    return s;
}

static struct tsdb_sample *ring_at(const struct tsdb_series *s, size_t i)
{
    return &s->ring[(s->head + i) & (s->cap - 1)];
}

static int ring_push(struct tsdb_series *s, struct tsdb_sample x)
{
    if (s->len == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct tsdb_sample *r = malloc(cap * sizeof *r);
        if (!r)
            return -1;
        for (size_t i = 0; i < s->len; i++)
            r[i] = *ring_at(s, i);
        free(s->ring);
        s->ring = r;
        s->cap = cap;
        s->head = 0;
    }
    s->ring[(s->head + s->len) & (s->cap - 1)] = x;
    s->len++;
    return 0;
}

static void ring_drop_front(struct tsdb_series *s, size_t k)
{
    if (k > s->len)
        k = s->len;
    if (s->cap)
        s->head = (s->head + k) & (s->cap - 1);
    s->len -= k;
}

const struct tsdb_label *tsdb_series_labels(const struct tsdb_series *s, size_t *n)
{
    *n = s->n_labels;
    return s->labels;
}

const char *tsdb_series_label(const struct tsdb_series *s, const char *name)
{
    for (size_t i = 0; i < s->n_labels; i++)
        if (!strcmp(s->labels[i].name, name))
            return s->labels[i].value;
    return NULL;
}

size_t tsdb_series_len(const struct tsdb_series *s) { return s->len; }

struct tsdb_sample tsdb_series_at(const struct tsdb_series *s, size_t i)
{
    return *ring_at(s, i);
}

size_t tsdb_series_seek(const struct tsdb_series *s, int64_t t_ms)
{
    size_t lo = 0, hi = s->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ring_at(s, mid)->t < t_ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- the store ---- */

struct tsdb *tsdb_new(int64_t retention_ms, size_t max_samples)
{
    struct tsdb *db = calloc(1, sizeof *db);
    if (!db)
        return NULL;
    db->retention_ms = retention_ms;
    db->max_samples = max_samples ? max_samples : 1;
    return db;
}

void tsdb_set_keep(struct tsdb *db, tsdb_keep_fn keep, void *arg)
{
    db->keep = keep;
    db->keep_arg = arg;
}

void tsdb_free(struct tsdb **pdb)
{
    struct tsdb *db = *pdb;
    if (!db)
        return;
    for (size_t i = 0; i < db->n_all; i++)
        series_free(db->all[i]);
    for (size_t i = 0; i < db->n_fams; i++)
        free(db->fams[i].series);
    free(db->all);
    free(db->fams);
    free(db);
    *pdb = NULL;
}

size_t tsdb_total_samples(const struct tsdb *db) { return db->total; }
size_t tsdb_series_total(const struct tsdb *db) { return db->n_all; }

/* The index of the family called name, or where it would go (*found false). */
static size_t family_find(const struct tsdb *db, const char *name, bool *found)
{
    size_t lo = 0, hi = db->n_fams;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(db->fams[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 8;
    while (c < need)
        c *= 2;
    void *p = realloc(*arr, c * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = c;
    return 0;
}

/* Registers a new series in `all` and its family. */
static int db_add_series(struct tsdb *db, struct tsdb_series *s, const char *name)
{
    if (grow((void **)&db->all, &db->cap_all, db->n_all + 1, sizeof *db->all)) // NOLINT(bugprone-sizeof-expression): an array of pointers
        return -1;
    bool found;
    size_t at = family_find(db, name, &found);
    if (!found) {
        if (grow((void **)&db->fams, &db->cap_fams, db->n_fams + 1, sizeof *db->fams))
            return -1;
        memmove(db->fams + at + 1, db->fams + at, (db->n_fams - at) * sizeof *db->fams);
        memset(&db->fams[at], 0, sizeof db->fams[at]);
        db->fams[at].name = tsdb_series_label(s, "__name__");
        db->n_fams++;
    }
    struct family *f = &db->fams[at];
    if (grow((void **)&f->series, &f->cap, f->n + 1, sizeof *f->series)) { // NOLINT(bugprone-sizeof-expression): an array of pointers
        if (f->n == 0) {
            memmove(db->fams + at, db->fams + at + 1, (db->n_fams - at - 1) * sizeof *db->fams);
            db->n_fams--;
        }
        return -1;
    }
    f->series[f->n++] = s;
    db->all[db->n_all++] = s;
    return 0;
}

bool tsdb_valid_label_name(const char *name)
{
    if (!name || !((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') || *name == '_'))
        return false;
    for (const char *p = name + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

static int label_cmp(const void *a, const void *b)
{
    return strcmp(((const struct tsdb_label *)a)->name, ((const struct tsdb_label *)b)->name);
}

/* Copies labels into out sorted, without empty values; checks names.
 * Returns the count or -1. */
static long normalise_labels(const struct tsdb_label *in, size_t n, struct tsdb_label *out,
                             char *err, size_t errsz)
{
    if (n > TSDB_MAX_LABELS) {
        set_err(err, errsz, "too many labels");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in[i].name || !in[i].value || !tsdb_valid_label_name(in[i].name)) {
            set_err(err, errsz, "invalid label name");
            return -1;
        }
        if (in[i].value[0])
            out[k++] = in[i];
    }
    qsort(out, k, sizeof *out, label_cmp);
    bool named = false;
    for (size_t i = 0; i < k; i++) {
        if (i && !strcmp(out[i].name, out[i - 1].name)) {
            set_err(err, errsz, "duplicate label name");
            return -1;
        }
        named = named || !strcmp(out[i].name, "__name__");
    }
    if (!named) {
        set_err(err, errsz, "series without __name__");
        return -1;
    }
    return (long)k;
}

static struct tsdb_series *find_series(const struct tsdb *db, const struct tsdb_label *l,
                                       size_t n, uint64_t hash)
{
    const char *name = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i].name, "__name__"))
            name = l[i].value;
    bool found;
    size_t at = family_find(db, name, &found);
    if (!found)
        return NULL;
    const struct family *f = &db->fams[at];
    for (size_t i = 0; i < f->n; i++)
        if (f->series[i]->hash == hash && labels_equal(f->series[i], l, n))
            return f->series[i];
    return NULL;
}

static void prune_retention(struct tsdb *db, struct tsdb_series *s)
{
    int64_t cutoff = db->newest - db->retention_ms;
    size_t k = 0;
    while (k < s->len && ring_at(s, k)->t < cutoff)
        k++;
    ring_drop_front(s, k);
    db->total -= k;
}

/* Drops the oldest sample of the series holding the most samples. */
static void evict_one(struct tsdb *db)
{
    struct tsdb_series *big = NULL;
    for (size_t i = 0; i < db->n_all; i++)
        if (!big || db->all[i]->len > big->len)
            big = db->all[i];
    if (big && big->len) {
        ring_drop_front(big, 1);
        db->total--;
    }
}

int tsdb_append(struct tsdb *db, const struct tsdb_label *labels, size_t n, int64_t t_ms,
                double v, char *err, size_t errsz)
{
    struct tsdb_label sorted[TSDB_MAX_LABELS];
    long k = normalise_labels(labels, n, sorted, err, errsz);
    if (k < 0)
        return -1;
    uint64_t hash = labels_hash(sorted, (size_t)k);
    struct tsdb_series *s = find_series(db, sorted, (size_t)k, hash);
    if (s && s->len && ring_at(s, s->len - 1)->t >= t_ms) {
        set_err(err, errsz, "out of order sample");
        return -1;
    }
    if (!s) {
        s = series_new(sorted, (size_t)k, hash);
        if (!s || db_add_series(db, s, tsdb_series_label(s, "__name__"))) {
            series_free(s);
            set_err(err, errsz, "out of memory");
            return -1;
        }
        s->brief = db->keep && !db->keep(db->keep_arg, s->labels, s->n_labels);
    }
    if (ring_push(s, (struct tsdb_sample){t_ms, v})) {
        set_err(err, errsz, "out of memory");
        return -1;
    }
    db->total++;
    if (s->brief && s->len > 1) {
        db->total -= s->len - 1;
        ring_drop_front(s, s->len - 1);
    }
    if (!db->any || t_ms > db->newest)
        db->newest = t_ms;
    db->any = true;
    prune_retention(db, s);
    while (db->total > db->max_samples)
        evict_one(db);
    return 0;
}

int tsdb_append_stale(struct tsdb *db, const struct tsdb_label *labels, size_t n, int64_t t_ms,
                      char *err, size_t errsz)
{
    return tsdb_append(db, labels, n, t_ms, tsdb_stale_nan(), err, errsz);
}

static void family_remove(struct tsdb *db, const struct tsdb_series *s)
{
    bool found;
    size_t at = family_find(db, tsdb_series_label(s, "__name__"), &found);
    if (!found)
        return;
    struct family *f = &db->fams[at];
    size_t j = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->series[i] != s)
            f->series[j++] = f->series[i];
    f->n = j;
    if (f->n == 0) {
        free(f->series);
        memmove(db->fams + at, db->fams + at + 1, (db->n_fams - at - 1) * sizeof *db->fams);
        db->n_fams--;
    } else {
        /* the family's name may have pointed into the removed series */
        f->name = tsdb_series_label(f->series[0], "__name__");
    }
}

void tsdb_compact(struct tsdb *db)
{
    size_t j = 0;
    for (size_t i = 0; i < db->n_all; i++) {
        struct tsdb_series *s = db->all[i];
        prune_retention(db, s);
        if (s->len == 0) {
            family_remove(db, s);
            series_free(s);
        } else {
            db->all[j++] = s;
        }
    }
    db->n_all = j;
}

/* ---- matchers ---- */

/* The end of the bracket expression opened at p ('['), or p + 1 when it
 * does not close (regcomp then reports the error). */
static const char *skip_bracket(const char *p)
{
    const char *q = p + 1;
    if (*q == '^')
        q++;
    if (*q == ']')
        q++;
    for (; *q && *q != ']'; q++) {
        if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
            const char *close = strchr(q + 2, q[1]);
            if (!close || close[1] != ']')
                return p + 1;
            q = close + 1;
        }
    }
    return *q ? q + 1 : p + 1;
}

/* Reads {m}, {m,} or {m,n} at p: the largest copy count, or -1 when above
 * TSDB_MAX_REPEAT; *end is past the '}'. 0 when it is not a repeat. */
static long repeat_count(const char *p, const char **end)
{
    long m = 0, n = -1, *cur = &m;
    const char *q = p + 1;
    for (; *q && *q != '}'; q++) {
        if (*q >= '0' && *q <= '9') {
            *cur = (*cur < 0 ? 0 : *cur) * 10 + (*q - '0');
            if (*cur > TSDB_MAX_REPEAT)
                return -1;
        } else if (*q == ',' && cur == &m) {
            cur = &n;
        } else {
            return 0;
        }
    }
    if (!*q)
        return 0;
    *end = q + 1;
    return (n > m ? n : m) + 1;
}

/* Refuses patterns that could make regcomp or regexec blow up: glibc
 * copies the operand of + and {m,n}, so nested repeats grow
 * exponentially. The copies are counted and capped. */
#define REGEX_MAX_COST 4096
#define REGEX_MAX_DEPTH 32
static const char *regex_refusal(const char *re)
{
    if (strlen(re) > TSDB_MAX_REGEX)
        return "regular expression too long";
    size_t cost[REGEX_MAX_DEPTH + 1] = {0}, last[REGEX_MAX_DEPTH + 1] = {0};
    int depth = 0;
    bool quantified = false;
    for (const char *p = re; *p;) {
        bool q = false;
        size_t atom = 0;
        const char *end = p + 1;
        long count = 0;
        if (*p == '\\' && p[1] >= '0' && p[1] <= '9')
            return "back references are not supported";
        if (*p == '\\') {
            atom = 1;
            end = p[1] ? p + 2 : p + 1;
        } else if (*p == '[') {
            atom = 1;
            end = skip_bracket(p);
        } else if (*p == '(') {
            if (++depth > REGEX_MAX_DEPTH)
                return "regular expression nested too deeply";
            cost[depth] = last[depth] = 0;
        } else if (*p == ')' && depth > 0) {
            atom = cost[depth--] + 1;
        } else if (*p == '|') {
            last[depth] = 0;
        } else if (*p == '*' || *p == '?' || *p == '+' ||
                   (*p == '{' && (count = repeat_count(p, &end)) != 0)) {
            if (quantified)
                return "stacked repetition operators are not supported";
            if (*p == '{' && count < 0)
                return "repeat count too large";
            size_t times = *p == '+' ? 2 : *p == '{' ? (size_t)count : 1;
            cost[depth] += last[depth] * (times - 1);
            last[depth] *= times;
            q = true;
        } else {
            atom = 1;
        }
        if (atom) {
            cost[depth] += atom;
            last[depth] = atom;
        }
        if (cost[depth] > REGEX_MAX_COST)
            return "regular expression too complex";
        quantified = q;
        p = end;
    }
    return NULL;
}

int tsdb_matcher_init(struct tsdb_matcher *m, const char *name, enum tsdb_match_op op,
                      const char *value, char *err, size_t errsz)
{
    memset(m, 0, sizeof *m);
    m->op = op;
    m->name = strdup(name);
    m->value = strdup(value);
    if (!m->name || !m->value) {
        tsdb_matcher_free(m);
        set_err(err, errsz, "out of memory");
        return -1;
    }
    if (op != TSDB_MATCH_RE && op != TSDB_MATCH_NRE)
        return 0;
    const char *why = regex_refusal(value);
    if (why) {
        if (err && errsz)
            snprintf(err, errsz, "invalid regular expression: %s", why);
        tsdb_matcher_free(m);
        return -1;
    }
    size_t len = strlen(value) + 5;
    char *anchored = malloc(len);
    if (!anchored) {
        tsdb_matcher_free(m);
        set_err(err, errsz, "out of memory");
        return -1;
    }
    snprintf(anchored, len, "^(%s)$", value);
    int rc = regcomp(&m->re, anchored, REG_EXTENDED | REG_NOSUB);
    free(anchored);
    if (rc != 0) {
        char why_re[128];
        regerror(rc, &m->re, why_re, sizeof why_re);
        if (err && errsz)
            snprintf(err, errsz, "invalid regular expression: %s", why_re);
        tsdb_matcher_free(m);
        return -1;
    }
    m->compiled = true;
    return 0;
}

void tsdb_matcher_free(struct tsdb_matcher *m)
{
    if (m->compiled)
        regfree(&m->re);
    free(m->name);
    free(m->value);
    memset(m, 0, sizeof *m);
}

bool tsdb_matcher_matches(const struct tsdb_matcher *m, const char *v)
{
    if (!v)
        v = "";
    switch (m->op) {
    case TSDB_MATCH_EQ:
        return strcmp(v, m->value) == 0;
    case TSDB_MATCH_NEQ:
        return strcmp(v, m->value) != 0;
    case TSDB_MATCH_RE:
        return m->compiled && regexec(&m->re, v, 0, NULL, 0) == 0;
    case TSDB_MATCH_NRE:
        return m->compiled && regexec(&m->re, v, 0, NULL, 0) != 0;
    }
    return false;
}

static bool series_matches(const struct tsdb_series *s, const struct tsdb_matcher *ms, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!tsdb_matcher_matches(&ms[i], tsdb_series_label(s, ms[i].name)))
            return false;
    return true;
}

long tsdb_select(const struct tsdb *db, const struct tsdb_matcher *ms, size_t n,
                 const struct tsdb_series ***out)
{
    struct tsdb_series *const *cand = db->all;
    size_t n_cand = db->n_all;
    for (size_t i = 0; i < n; i++) {
        if (ms[i].op == TSDB_MATCH_EQ && !strcmp(ms[i].name, "__name__")) {
            bool found;
            size_t at = family_find(db, ms[i].value, &found);
            cand = found ? db->fams[at].series : NULL;
            n_cand = found ? db->fams[at].n : 0;
            break;
        }
    }
    *out = malloc((n_cand ? n_cand : 1) * sizeof **out); // NOLINT(bugprone-sizeof-expression): an array of pointers
    if (!*out)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n_cand; i++)
        if (cand[i]->len && series_matches(cand[i], ms, n))
            (*out)[k++] = cand[i];
    return (long)k;
}
