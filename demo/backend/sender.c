/* sender: the set of active campaigns (kept sorted by id, synced from each
 * scan) and their token buckets. Each tick, every campaign holding a whole
 * token runs one batch of min(floor(tokens), --batch) messages. */
#include "sender.h"

#include "batch.h"
#include "campaign.h"
#include "health.h"
#include "log.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SENDER_RETRY_MS 2000

struct sender {
    struct batch_env env;
    struct campaign *items; /* sorted by id, byte order */
    size_t len;
    size_t cap;
};

struct sender *sender_new(const struct config *cfg, struct sink *sink, struct sim *sim, struct rng *rng)
{
    struct sender *s = calloc(1, sizeof *s);

    if (!s)
        return NULL;
    s->env.cfg = cfg;
    s->env.sink = sink;
    s->env.sim = sim;
    s->env.rng = rng;
    return s;
}

static void sender_campaign_free(struct campaign *c)
{
    batch_forget_content(c);
    free(c->id);
}

void sender_free(struct sender **sp)
{
    struct sender *s = *sp;
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->len; i++)
        sender_campaign_free(&s->items[i]);
    free(s->items);
    free(s);
    *sp = NULL;
}

size_t sender_count(const struct sender *s)
{
    return s->len;
}

/* index of id, or where it would go (with *found false) */
static size_t sender_find(const struct sender *s, const char *id, bool *found)
{
    size_t lo = 0, hi = s->len, mid;
    int cmp;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        cmp = strcmp(s->items[mid].id, id);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static void sender_remove(struct sender *s, size_t i)
{
    sender_campaign_free(&s->items[i]);
    memmove(&s->items[i], &s->items[i + 1], (s->len - i - 1) * sizeof *s->items);
    s->len--;
}

void sender_sync_begin(struct sender *s)
{
    size_t i;

    for (i = 0; i < s->len; i++)
        s->items[i].seen = false;
}

static uint64_t sender_hash(const char *str)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (; *str; str++)
        h = (h ^ (unsigned char)*str) * 0x100000001b3ULL;
    return h;
}

int sender_sync_active(struct sender *s, const char *id, int version, int rate_per_minute, int64_t now_ms)
{
    struct campaign *c;
    bool found;
    size_t i = sender_find(s, id, &found);

    if (!found) {
        if (s->len == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 16;
            void *p = realloc(s->items, cap * sizeof *s->items);
            if (!p)
                return -1;
            s->items = p;
            s->cap = cap;
        }
        memmove(&s->items[i + 1], &s->items[i], (s->len - i) * sizeof *s->items);
        c = &s->items[i];
        memset(c, 0, sizeof *c);
        c->id = strdup(id);
        if (!c->id) {
            memmove(&s->items[i], &s->items[i + 1], (s->len - i) * sizeof *s->items);
            return -1;
        }
        s->len++;
        c->id_hash = sender_hash(id);
        c->tokens = 1.0; /* the first message goes out at once */
        c->refill_ms = now_ms;
    }
    c = &s->items[i];
    c->seen = true;
    c->version = version;
    c->rate = rate_per_minute;
    return 0;
}

void sender_sync_end(struct sender *s)
{
    size_t i = 0;

    while (i < s->len) {
        if (!s->items[i].seen) {
            log_event(LOG_INFO, NULL, "campaign left the send set",
                      json_pack("{s:s, s:s}", "campaign_id", s->items[i].id, "status", "not active"));
            sender_remove(s, i);
        } else {
            i++;
        }
    }
}

void sender_hold(struct sender *s, int64_t now_ms)
{
    size_t i;

    for (i = 0; i < s->len; i++)
        s->items[i].refill_ms = now_ms;
}

static void sender_refill(const struct sender *s, struct campaign *c, int64_t now_ms)
{
    double per_ms = (double)c->rate / 60000.0;
    /* room for a second's worth (at least two ticks, at least one message) */
    double cap = fmax(1.0, fmax(per_ms * 1000.0, per_ms * 2.0 * s->env.cfg->tick_ms));

    if (now_ms > c->refill_ms)
        c->tokens = fmin(cap, c->tokens + per_ms * (double)(now_ms - c->refill_ms));
    c->refill_ms = now_ms;
}

int sender_tick(struct sender *s, struct db *db, int64_t now_ms, char *err, size_t errlen)
{
    struct campaign *c;
    enum batch_outcome out;
    size_t i = 0;
    int n;

    while (i < s->len) {
        c = &s->items[i];
        sender_refill(s, c, now_ms);
        if (c->blocked_version == c->version || now_ms < c->retry_ms || c->tokens < 1.0) {
            i++;
            continue;
        }
        n = c->tokens < (double)s->env.cfg->batch ? (int)c->tokens : s->env.cfg->batch;
        out = batch_run(&s->env, db, c, n, now_ms, err, errlen);
        if (out == BATCH_DROP) {
            sender_remove(s, i);
            continue;
        }
        if (out == BATCH_DB_ERROR) {
            if (!db_connected(db))
                return -1;
            log_event(LOG_WARN, NULL, "send batch failed; retrying the campaign shortly",
                      json_pack("{s:s, s:s}", "campaign_id", c->id, "error", err));
            c->retry_ms = now_ms + SENDER_RETRY_MS;
        } else if (out == BATCH_SINK_ERROR) {
            log_event(LOG_ERROR, NULL, "sink write failed; batch rolled back",
                      json_pack("{s:s, s:s}", "campaign_id", c->id, "error", err));
            health_sink_result(false);
            c->retry_ms = now_ms + SENDER_RETRY_MS;
        }
        i++;
    }
    return 0;
}
