#include "ingest.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"

/* A series of the last scrape: its labels, owned, as one block. */
struct ingest_series {
    struct tsdb_label *labels;
    size_t n;
    char *text;        /* the strings the labels point into */
    uint64_t hash;     /* of the label set, whatever the order */
    bool seen;         /* in the scrape being ingested */
    bool timestamped;  /* had its own timestamp: no staleness (as Prometheus) */
};

int ingest_target_init(struct ingest_target *t, const char *job, const char *instance)
{
    memset(t, 0, sizeof *t);
    t->job = strdup(job);
    t->instance = strdup(instance);
    if (!t->job || !t->instance) {
        ingest_target_free(t);
        return -1;
    }
    return 0;
}

static void free_series(struct ingest_series *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].labels);
        free(v[i].text);
    }
    free(v);
}

void ingest_target_free(struct ingest_target *t)
{
    free(t->job);
    free(t->instance);
    free_series(t->last, t->n_last);
    memset(t, 0, sizeof *t);
}

void ingest_instance_of(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://");
    bool https = p && p - url == 5 && strncmp(url, "https", 5) == 0;
    const char *host = p ? p + 3 : url;
    const char *at = strchr(host, '@'), *slash = strchr(host, '/');
    if (at && (!slash || at < slash))
        host = at + 1;
    size_t len = strcspn(host, "/?#");
    /* a port is there when the last ':' comes after any ']' (IPv6) */
    const char *colon = NULL, *bracket = NULL;
    for (const char *c = host; c < host + len; c++) {
        if (*c == ':')
            colon = c;
        if (*c == ']')
            bracket = c;
    }
    if (colon && (!bracket || colon > bracket))
        snprintf(out, n, "%.*s", (int)len, host);
    else
        snprintf(out, n, "%.*s:%s", (int)len, host, https ? "443" : "80");
}

static uint64_t fnv(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The same for the same labels in any order: a sum of per-label hashes. */
static uint64_t set_hash(const struct tsdb_label *l, size_t n)
{
    uint64_t h = 0;
    for (size_t i = 0; i < n; i++)
        h += fnv(l[i].value, fnv("=", fnv(l[i].name, 14695981039346656037ULL)));
    return h;
}

static int by_hash(const void *a, const void *b)
{
    uint64_t x = ((const struct ingest_series *)a)->hash, y = ((const struct ingest_series *)b)->hash;
    return x < y ? -1 : x > y;
}

/* Copies labels into one owned block. */
static int keep_series(struct ingest_series *s, const struct tsdb_label *labels, size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += strlen(labels[i].name) + strlen(labels[i].value) + 2;
    s->labels = calloc(n + 1, sizeof *s->labels);
    s->text = malloc(bytes + 1);
    if (!s->labels || !s->text) {
        free(s->labels);
        free(s->text);
        return -1;
    }
    char *w = s->text;
    for (size_t i = 0; i < n; i++) {
        size_t a = strlen(labels[i].name) + 1, b = strlen(labels[i].value) + 1;
        memcpy(w, labels[i].name, a);
        s->labels[i].name = w;
        w += a;
        memcpy(w, labels[i].value, b);
        s->labels[i].value = w;
        w += b;
    }
    s->n = n;
    s->hash = set_hash(labels, n);
    return 0;
}

static bool same(const struct tsdb_label *a, size_t na, const struct tsdb_label *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        bool found = false;
        for (size_t j = 0; j < nb && !found; j++)
            found = strcmp(a[i].name, b[j].name) == 0 && strcmp(a[i].value, b[j].value) == 0;
        if (!found)
            return false;
    }
    return true;
}

struct pass {
    struct tsdb *db;
    struct ingest_target *t;
    int64_t t_ms;
    struct ingest_series *now;    /* this scrape's series */
    size_t n_now, cap_now;
    long dropped;
    bool oom;
};

static int on_sample(void *arg, const struct promtext_sample *s, char *msg, size_t msgsz)
{
    struct pass *p = arg;
    struct tsdb_label labels[TSDB_MAX_LABELS];
    char renamed[2][64];
    size_t n = 0;
    labels[n++] = (struct tsdb_label){ "__name__", s->name };
    for (size_t i = 0; i < s->n_labels && n < TSDB_MAX_LABELS - 2; i++) {
        const char *name = s->labels[i].name;
        if (strcmp(name, "job") == 0 || strcmp(name, "instance") == 0) {
            char *r = renamed[name[0] == 'j' ? 0 : 1];
            snprintf(r, 64, "exported_%s", name);
            name = r;
        }
        labels[n++] = (struct tsdb_label){ name, s->labels[i].value };
    }
    labels[n++] = (struct tsdb_label){ "job", p->t->job };
    labels[n++] = (struct tsdb_label){ "instance", p->t->instance };
    char err[160];
    int64_t t = s->has_timestamp ? s->timestamp_ms : p->t_ms;
    if (tsdb_append(p->db, labels, n, t, s->value, err, sizeof err) != 0)
        p->dropped++; /* out of order or over a cap: Prometheus drops it too */
    if (p->n_now == p->cap_now) {
        size_t cap = p->cap_now ? p->cap_now * 2 : 64;
        struct ingest_series *g = realloc(p->now, cap * sizeof *g);
        if (!g) {
            p->oom = true;
            snprintf(msg, msgsz, "out of memory");
            return -1;
        }
        p->now = g;
        p->cap_now = cap;
    }
    struct ingest_series *k = &p->now[p->n_now];
    memset(k, 0, sizeof *k);
    if (keep_series(k, labels, n) != 0) {
        p->oom = true;
        snprintf(msg, msgsz, "out of memory");
        return -1;
    }
    k->timestamped = s->has_timestamp;
    p->n_now++;
    return 0;
}

static void put_meta(struct tsdb *db, struct ingest_target *t, const char *name, int64_t t_ms, double v)
{
    struct tsdb_label l[3] = { { "__name__", name }, { "job", t->job }, { "instance", t->instance } };
    char err[160];
    (void)tsdb_append(db, l, 3, t_ms, v, err, sizeof err);
}

/* Staleness markers for the last scrape's series that are not marked seen. */
static void mark_gone(struct tsdb *db, struct ingest_target *t, int64_t t_ms)
{
    char err[160];
    for (size_t i = 0; i < t->n_last; i++)
        if (!t->last[i].seen && !t->last[i].timestamped)
            (void)tsdb_append_stale(db, t->last[i].labels, t->last[i].n, t_ms, err, sizeof err);
}

void ingest_failed(struct tsdb *db, struct ingest_target *t, int64_t t_ms, int duration_ms,
                   const char *why)
{
    for (size_t i = 0; i < t->n_last; i++)
        t->last[i].seen = false;
    mark_gone(db, t, t_ms);
    free_series(t->last, t->n_last);
    t->last = NULL;
    t->n_last = 0;
    put_meta(db, t, "up", t_ms, 0);
    put_meta(db, t, "scrape_duration_seconds", t_ms, duration_ms / 1000.0);
    put_meta(db, t, "scrape_samples_scraped", t_ms, 0);
    snprintf(t->error, sizeof t->error, "%s", why ? why : "failed");
}

int ingest_scrape(struct tsdb *db, struct ingest_target *t, const char *body, size_t len,
                  int64_t t_ms, int duration_ms)
{
    return ingest_scrape_as(db, t, PROMTEXT_FORMAT_TEXT, body, len, t_ms, duration_ms);
}

int ingest_scrape_as(struct tsdb *db, struct ingest_target *t, enum promtext_format fmt, const char *body,
                     size_t len, int64_t t_ms, int duration_ms)
{
    /* validate first: a body that fails half way must not leave half a scrape */
    char err[256];
    if (promtext_parse_format(fmt, body, len, NULL, NULL, err, sizeof err) < 0) {
        ingest_failed(db, t, t_ms, duration_ms, err);
        return -1;
    }
    struct pass p = { .db = db, .t = t, .t_ms = t_ms };
    long n = promtext_parse_format(fmt, body, len, on_sample, &p, err, sizeof err);
    if (n < 0) {
        free_series(p.now, p.n_now);
        ingest_failed(db, t, t_ms, duration_ms, err);
        return -1;
    }
    /* series gone since the last scrape: matched by hash, then by labels */
    if (p.n_now)
        qsort(p.now, p.n_now, sizeof *p.now, by_hash);
    for (size_t i = 0; i < t->n_last; i++) {
        struct ingest_series *l = &t->last[i];
        l->seen = false;
        size_t lo = 0, hi = p.n_now;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (p.now[mid].hash < l->hash)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t j = lo; j < p.n_now && p.now[j].hash == l->hash && !l->seen; j++)
            l->seen = same(l->labels, l->n, p.now[j].labels, p.now[j].n);
    }
    mark_gone(db, t, t_ms);
    free_series(t->last, t->n_last);
    t->last = p.now;
    t->n_last = p.n_now;
    t->samples = n;
    t->dropped = p.dropped;
    t->error[0] = '\0';
    put_meta(db, t, "up", t_ms, 1);
    put_meta(db, t, "scrape_duration_seconds", t_ms, duration_ms / 1000.0);
    put_meta(db, t, "scrape_samples_scraped", t_ms, (double)n);
    return 0;
}
