/* Scrapes: the counters and gauges of one /metrics body, and the rates
 * between two of them, by Prometheus's counter rules. */
#include "scrape.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"


struct poll_series {
    enum poll_counter counter;
    char *key;          /* the labels sorted by name: name NUL value NUL ... */
    size_t keylen;
    double v;
};

static const char *const counter_names[POLL_NCOUNTERS] = {
    [POLL_SENT] = "emails_sent_total",     [POLL_OPENED] = "emails_opened_total",
    [POLL_CLICKED] = "emails_clicked_total", [POLL_FAILED] = "emails_failed_total",
    [POLL_BOUNCED] = "emails_bounced_total", [POLL_HTTP] = "http_requests_total",
    [POLL_HTTP_5XX] = NULL, /* derived from POLL_HTTP */
};

static const char *const gauge_names[POLL_NGAUGES] = {
    [POLL_DB_ACTIVE] = "database_connections_active",
    [POLL_DB_MAX] = "database_connections_max",
};

struct collect {
    struct poll_scrape *s;
    size_t cap;
    bool gauge_seen[POLL_NGAUGES];
};

double poll_increase(double prev, double cur)
{
    if (!isfinite(prev) || !isfinite(cur))
        return NAN;
    return cur < prev ? cur : cur - prev;
}

/* status=~"5..": Prometheus anchors the regex, and '.' is any character
 * but a newline. */
static bool status_5xx(const char *v)
{
    if (!v || v[0] != '5')
        return false;
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)v + 1; *c; c++) {
        if (*c == '\n')
            return false;
        if ((*c & 0xC0) != 0x80)
            n++;
    }
    return n == 2;
}

static char *series_key(const struct promtext_sample *s, size_t *len)
{
    size_t idx[PROMTEXT_MAX_LABELS];
    size_t n = s->n_labels, total = 0;
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
        total += strlen(s->labels[i].name) + strlen(s->labels[i].value) + 2;
        for (size_t j = i; j > 0 && strcmp(s->labels[idx[j - 1]].name, s->labels[idx[j]].name) > 0; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    }
    char *k = malloc(total ? total : 1);
    if (!k)
        return NULL;
    char *w = k;
    for (size_t i = 0; i < n; i++) {
        const struct promtext_label *l = &s->labels[idx[i]];
        size_t a = strlen(l->name) + 1, b = strlen(l->value) + 1;
        memcpy(w, l->name, a);
        memcpy(w + a, l->value, b);
        w += a + b;
    }
    *len = total;
    return k;
}

static int add_series(struct collect *c, enum poll_counter ctr, const struct promtext_sample *s)
{
    struct poll_scrape *sc = c->s;
    if (sc->n_series == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 32;
        struct poll_series *ns = realloc(sc->series, ncap * sizeof *ns);
        if (!ns)
            return -1;
        sc->series = ns;
        c->cap = ncap;
    }
    struct poll_series *e = &sc->series[sc->n_series];
    e->key = series_key(s, &e->keylen);
    if (!e->key)
        return -1;
    e->counter = ctr;
    e->v = s->value;
    sc->n_series++;
    return 0;
}

static int collect_sample(void *arg, const struct promtext_sample *s, char *msg, size_t msgsz)
{
    struct collect *c = arg;
    struct poll_scrape *sc = c->s;
    for (int k = 0; k < POLL_NCOUNTERS; k++) {
        if (!counter_names[k] || strcmp(s->name, counter_names[k]) != 0)
            continue;
        sc->present[k] = true;
        sc->total[k] += s->value;
        if (add_series(c, (enum poll_counter)k, s) != 0)
            goto oom;
        if (k == POLL_HTTP) {
            sc->present[POLL_HTTP_5XX] = true;
            if (status_5xx(promtext_label_value(s, "status"))) {
                sc->total[POLL_HTTP_5XX] += s->value;
                if (add_series(c, POLL_HTTP_5XX, s) != 0)
                    goto oom;
            }
        }
        return 0;
    }
    for (int g = 0; g < POLL_NGAUGES; g++) {
        if (strcmp(s->name, gauge_names[g]) != 0)
            continue;
        if (!c->gauge_seen[g])
            sc->gauge[g] = 0.0;
        c->gauge_seen[g] = true;
        sc->gauge[g] += s->value; /* labelled parts of one figure add up */
        return 0;
    }
    return 0;
oom:
    snprintf(msg, msgsz, "out of memory");
    return -1;
}

static int series_cmp(const struct poll_series *a, const struct poll_series *b)
{
    if (a->counter != b->counter)
        return a->counter < b->counter ? -1 : 1;
    size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
    int c = memcmp(a->key, b->key, n);
    if (c != 0)
        return c;
    return a->keylen < b->keylen ? -1 : a->keylen > b->keylen;
}

static int series_qcmp(const void *a, const void *b) { return series_cmp(a, b); }

void poll_scrape_free(struct poll_scrape **sp)
{
    struct poll_scrape *s = *sp;
    if (!s)
        return;
    for (size_t i = 0; i < s->n_series; i++)
        free(s->series[i].key);
    free(s->series);
    free(s);
    *sp = NULL;
}

struct poll_scrape *poll_scrape_parse(const char *body, size_t len, char *err, size_t errsz)
{
    return poll_scrape_parse_as(PROMTEXT_FORMAT_TEXT, body, len, err, errsz);
}

struct poll_scrape *poll_scrape_parse_as(enum promtext_format fmt, const char *body, size_t len, char *err,
                                         size_t errsz)
{
    struct poll_scrape *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    for (int g = 0; g < POLL_NGAUGES; g++)
        s->gauge[g] = NAN;
    struct collect c = { .s = s };
    if (promtext_parse_format(fmt, body, len, collect_sample, &c, err, errsz) < 0) {
        poll_scrape_free(&s);
        return NULL;
    }
    for (int k = 0; k < POLL_NCOUNTERS; k++)
        if (!s->present[k])
            s->total[k] = NAN;
    if (s->n_series > 1)
        qsort(s->series, s->n_series, sizeof *s->series, series_qcmp);
    return s;
}

void poll_scrape_rates(const struct poll_scrape *prev, const struct poll_scrape *cur, int64_t dt_ms,
                       double rate[POLL_NCOUNTERS])
{
    for (int k = 0; k < POLL_NCOUNTERS; k++)
        rate[k] = NAN;
    if (!prev || !cur || dt_ms <= 0)
        return;
    double inc[POLL_NCOUNTERS] = { 0 };
    size_t i = 0;
    for (size_t j = 0; j < cur->n_series; j++) {
        const struct poll_series *b = &cur->series[j];
        while (i < prev->n_series && series_cmp(&prev->series[i], b) < 0)
            i++;
        if (i < prev->n_series && series_cmp(&prev->series[i], b) == 0)
            inc[b->counter] += poll_increase(prev->series[i].v, b->v);
        else
            inc[b->counter] += poll_increase(0.0, b->v); /* new: from zero */
    }
    for (int k = 0; k < POLL_NCOUNTERS; k++)
        if (cur->present[k])
            rate[k] = inc[k] / ((double)dt_ms / 1000.0);
}

