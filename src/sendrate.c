#include "sendrate.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLES 64

struct sample {
    int64_t t_ms, sent, bad;
};

struct track {
    char *id;
    struct sample s[SAMPLES]; /* ring */
    int head, n;
    int64_t last_progress_ms; /* when sent last changed */
    bool seen;                /* in the latest snapshot, active */
};

struct rate_tracker {
    int window_ms, stall_ms;
    struct track *v;
    size_t n, cap;
};

struct rate_tracker *rate_tracker_new(int window_ms, int stall_ms)
{
    struct rate_tracker *t = calloc(1, sizeof *t);
    if (t) {
        t->window_ms = window_ms;
        t->stall_ms = stall_ms;
    }
    return t;
}

void rate_tracker_free(struct rate_tracker **t)
{
    if (!t || !*t)
        return;
    for (size_t i = 0; i < (*t)->n; i++)
        free((*t)->v[i].id);
    free((*t)->v);
    free(*t);
    *t = NULL;
}

static int track_cmp(const void *a, const void *b)
{
    return strcmp(((const struct track *)a)->id, ((const struct track *)b)->id);
}

/* The tracks are kept sorted by id: a lookup is a binary search, so a
 * sort by rate over 100k campaigns stays cheap. */
static struct track *find(const struct rate_tracker *t, const char *id)
{
    struct track key = { .id = (char *)id }; /* only read by track_cmp */
    return t->n ? bsearch(&key, t->v, t->n, sizeof *t->v, track_cmp) : NULL;
}

static const struct sample *nth_newest(const struct track *k, int i)
{
    return &k->s[(k->head - 1 - i + SAMPLES) % SAMPLES];
}

void rate_tracker_update(struct rate_tracker *t, const struct campaign_list *l)
{
    for (size_t i = 0; i < t->n; i++)
        t->v[i].seen = false;
    size_t known = t->n; /* tracks found by bsearch: the sorted prefix */
    for (size_t j = 0; j < l->n; j++) {
        const struct campaign *c = &l->v[j];
        if (strcmp(c->status, "active") != 0)
            continue;
        struct track key = { .id = c->id }, *k;
        k = known ? bsearch(&key, t->v, known, sizeof *t->v, track_cmp) : NULL;
        if (!k) {
            if (t->n == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 16;
                struct track *g = realloc(t->v, cap * sizeof *g);
                if (!g)
                    continue;
                t->v = g;
                t->cap = cap;
            }
            k = &t->v[t->n];
            memset(k, 0, sizeof *k);
            k->id = strdup(c->id);
            if (!k->id)
                continue;
            t->n++;
            k->last_progress_ms = l->fetched_mono_ms;
        }
        k->seen = true;
        struct sample smp = { l->fetched_mono_ms, c->sent, c->failed + c->bounced };
        if (k->n > 0) {
            const struct sample *prev = nth_newest(k, 0);
            if (smp.t_ms <= prev->t_ms)
                continue; /* the same snapshot twice */
            if (smp.sent != prev->sent)
                k->last_progress_ms = smp.t_ms;
        }
        k->s[k->head] = smp;
        k->head = (k->head + 1) % SAMPLES;
        if (k->n < SAMPLES)
            k->n++;
    }
    /* forget campaigns that are no longer active, and sort again */
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].seen)
            t->v[w++] = t->v[i];
        else
            free(t->v[i].id);
    }
    t->n = w;
    if (t->n > 1)
        qsort(t->v, t->n, sizeof *t->v, track_cmp);
}

struct campaign_rate rate_tracker_get(const struct rate_tracker *t, const struct campaign *c,
                                      int64_t now_ms)
{
    struct campaign_rate r = { SEND_IDLE, NAN, NAN };
    if (strcmp(c->status, "active") != 0)
        return r;
    r.state = SEND_UNKNOWN;
    const struct track *k = find(t, c->id);
    if (!k || k->n < 2)
        return r;
    const struct sample *now = nth_newest(k, 0), *then = NULL;
    /* data older than the window says nothing about now (the database may
     * be gone): no rate rather than a frozen one */
    if (now_ms - now->t_ms > t->window_ms)
        return r;
    /* the oldest sample still inside the window */
    for (int i = 1; i < k->n; i++) {
        const struct sample *s = nth_newest(k, i);
        if (now->t_ms - s->t_ms > t->window_ms)
            break;
        then = s;
    }
    if (!then) /* snapshots further apart than the window: use the last two */
        then = nth_newest(k, 1);
    double secs = (double)(now->t_ms - then->t_ms) / 1000.0;
    if (secs < 1.0)
        return r;
    int64_t dsent = now->sent - then->sent, dbad = now->bad - then->bad;
    if (dsent < 0 || dbad < 0)
        return r; /* counters went back (a ledger cleanup): no rate */
    r.per_min = (double)dsent * 60.0 / secs;
    int64_t remaining = c->audience - c->sent - c->failed - c->bounced;
    if (r.per_min > 0)
        r.eta_s = remaining > 0 ? (double)remaining * 60.0 / r.per_min : 0.0;
    const struct sample *oldest = nth_newest(k, k->n - 1);
    if (now->t_ms - k->last_progress_ms >= t->stall_ms && now->t_ms - oldest->t_ms >= t->stall_ms)
        r.state = SEND_STALLED;
    else if (dsent + dbad >= 100 && (double)dbad > 0.05 * (double)(dsent + dbad))
        r.state = SEND_ERRORING;
    else if (c->rate_limit > 0 && r.per_min >= 0.9 * c->rate_limit)
        r.state = SEND_THROTTLED;
    else if (dsent > 0)
        r.state = SEND_SENDING;
    return r;
}

const char *send_state_name(enum send_state s)
{
    switch (s) {
    case SEND_IDLE: return "";
    case SEND_UNKNOWN: return "measuring";
    case SEND_SENDING: return "sending";
    case SEND_THROTTLED: return "throttled";
    case SEND_STALLED: return "stalled";
    case SEND_ERRORING: return "erroring";
    }
    return "";
}
