/* sim: the event heap and the statements that apply opens and clicks. */
#include "sim.h"

#include "metrics.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define SIM_APPLY_MAX 1000
#define SIM_CONVERSION_PROB 0.10

enum sim_kind { SIM_OPEN, SIM_CLICK };

struct sim_event {
    int64_t due_ms;
    int64_t delivery_id;
    int32_t revenue_cents; /* click: a conversion of this value, 0 for none */
    uint8_t kind;
    uint8_t will_click;    /* open: followed by a click */
};

struct sim {
    struct sim_event *heap;
    size_t len;
    size_t cap;
    double open_prob;
    double click_prob;
    struct rng *rng;
    struct sim_event batch[SIM_APPLY_MAX];
};

static const char sim_open_sql[] =
    "WITH d AS (UPDATE deliveries SET opened_at = now()"
    "            WHERE id = ANY($1::bigint[]) AND opened_at IS NULL AND sent_at IS NOT NULL"
    "            RETURNING id, contact_id),"
    "     c AS (UPDATE contacts SET last_opened_at = now() WHERE id IN (SELECT contact_id FROM d))"
    " SELECT id FROM d";

static const char sim_click_sql[] =
    "WITH d AS (UPDATE deliveries SET clicked_at = now(), opened_at = coalesce(opened_at, now())"
    "            WHERE id = ANY($1::bigint[]) AND clicked_at IS NULL AND sent_at IS NOT NULL"
    "            RETURNING id, contact_id, campaign_id),"
    "     c AS (UPDATE contacts SET last_clicked_at = now() WHERE id IN (SELECT contact_id FROM d)),"
    "     v AS (INSERT INTO conversions (contact_id, campaign_id, channel, revenue)"
    "           SELECT d.contact_id, d.campaign_id, 'email', r.revenue"
    "             FROM d JOIN unnest($2::bigint[], $3::numeric[]) AS r(id, revenue) ON r.id = d.id"
    "           RETURNING 1)"
    " SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM v)";

struct sim *sim_new(const struct config *cfg, struct rng *rng)
{
    struct sim *s = calloc(1, sizeof *s);

    if (!s)
        return NULL;
    s->cap = cfg->sim_capacity;
    s->open_prob = cfg->open_prob;
    s->click_prob = cfg->click_prob;
    s->rng = rng;
    return s;
}

void sim_free(struct sim **sp)
{
    if (!*sp)
        return;
    free((*sp)->heap);
    free(*sp);
    *sp = NULL;
}

size_t sim_pending(const struct sim *s)
{
    return s->len;
}

static void sim_push(struct sim *s, const struct sim_event *ev)
{
    size_t i, parent;
    struct sim_event tmp;

    if (s->len == s->cap) {
        metrics_email_add(EC_SIM_DROPPED, 1);
        return;
    }
    if (!s->heap) {
        s->heap = malloc(s->cap * sizeof *s->heap);
        if (!s->heap) {
            metrics_email_add(EC_SIM_DROPPED, 1);
            return;
        }
    }
    i = s->len++;
    s->heap[i] = *ev;
    while (i > 0) {
        parent = (i - 1) / 2;
        if (s->heap[parent].due_ms <= s->heap[i].due_ms)
            break;
        tmp = s->heap[parent];
        s->heap[parent] = s->heap[i];
        s->heap[i] = tmp;
        i = parent;
    }
}

static void sim_pop(struct sim *s, struct sim_event *out)
{
    size_t i = 0, l, r, m;
    struct sim_event tmp;

    *out = s->heap[0];
    s->heap[0] = s->heap[--s->len];
    for (;;) {
        l = 2 * i + 1;
        r = l + 1;
        m = i;
        if (l < s->len && s->heap[l].due_ms < s->heap[m].due_ms)
            m = l;
        if (r < s->len && s->heap[r].due_ms < s->heap[m].due_ms)
            m = r;
        if (m == i)
            break;
        tmp = s->heap[m];
        s->heap[m] = s->heap[i];
        s->heap[i] = tmp;
        i = m;
    }
}

void sim_on_sent(struct sim *s, int64_t delivery_id, int64_t now_ms)
{
    struct sim_event ev;

    if (rng_unit(s->rng) >= s->open_prob)
        return;
    memset(&ev, 0, sizeof ev);
    ev.kind = SIM_OPEN;
    ev.delivery_id = delivery_id;
    ev.due_ms = now_ms + rng_between(s->rng, 1000, 20000);
    ev.will_click = rng_unit(s->rng) < s->click_prob;
    sim_push(s, &ev);
}

/* "{1,2,3}" of the events of one kind; with revenue, only those that convert */
static void sim_ids(struct strbuf *out, const struct sim_event *evs, size_t n, uint8_t kind, bool converting)
{
    size_t i;
    bool first = true;

    strbuf_putc(out, '{');
    for (i = 0; i < n; i++) {
        if (evs[i].kind != kind || (converting && !evs[i].revenue_cents))
            continue;
        strbuf_printf(out, first ? "%lld" : ",%lld", (long long)evs[i].delivery_id);
        first = false;
    }
    strbuf_putc(out, '}');
}

static void sim_revenues(struct strbuf *out, const struct sim_event *evs, size_t n)
{
    size_t i;
    bool first = true;

    strbuf_putc(out, '{');
    for (i = 0; i < n; i++) {
        if (evs[i].kind != SIM_CLICK || !evs[i].revenue_cents)
            continue;
        strbuf_printf(out, "%s%d.%02d", first ? "" : ",", evs[i].revenue_cents / 100, evs[i].revenue_cents % 100);
        first = false;
    }
    strbuf_putc(out, '}');
}

static const struct sim_event *sim_find(const struct sim_event *evs, size_t n, int64_t id, uint8_t kind)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (evs[i].delivery_id == id && evs[i].kind == kind)
            return &evs[i];
    return NULL;
}

static int sim_apply_opens(struct sim *s, struct db *db, size_t n, int64_t now_ms, char *err, size_t errlen)
{
    struct strbuf ids;
    const char *params[1];
    PGresult *res;
    const struct sim_event *ev;
    struct sim_event click;
    int i, rows;

    strbuf_init(&ids);
    sim_ids(&ids, s->batch, n, SIM_OPEN, false);
    params[0] = strbuf_str(&ids);
    res = params[0] ? db_exec(db, sim_open_sql, 1, params, err, errlen) : NULL;
    strbuf_free(&ids);
    if (!res)
        return -1;
    rows = PQntuples(res);
    metrics_email_add(EC_OPENED, (uint64_t)rows);
    for (i = 0; i < rows; i++) {
        ev = sim_find(s->batch, n, db_ll(res, i, 0), SIM_OPEN);
        if (!ev || !ev->will_click)
            continue;
        memset(&click, 0, sizeof click);
        click.kind = SIM_CLICK;
        click.delivery_id = ev->delivery_id;
        click.due_ms = now_ms + rng_between(s->rng, 1000, 20000);
        if (rng_unit(s->rng) < SIM_CONVERSION_PROB)
            click.revenue_cents = (int32_t)rng_between(s->rng, 500, 20000);
        sim_push(s, &click);
    }
    PQclear(res);
    return 0;
}

static int sim_apply_clicks(struct sim *s, struct db *db, size_t n, char *err, size_t errlen)
{
    struct strbuf ids, conv, rev;
    const char *params[3];
    PGresult *res = NULL;

    strbuf_init(&ids);
    strbuf_init(&conv);
    strbuf_init(&rev);
    sim_ids(&ids, s->batch, n, SIM_CLICK, false);
    sim_ids(&conv, s->batch, n, SIM_CLICK, true);
    sim_revenues(&rev, s->batch, n);
    params[0] = strbuf_str(&ids);
    params[1] = strbuf_str(&conv);
    params[2] = strbuf_str(&rev);
    if (params[0] && params[1] && params[2])
        res = db_exec(db, sim_click_sql, 3, params, err, errlen);
    else
        snprintf(err, errlen, "out of memory");
    strbuf_free(&ids);
    strbuf_free(&conv);
    strbuf_free(&rev);
    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        metrics_email_add(EC_CLICKED, strtoull(PQgetvalue(res, 0, 0), NULL, 10));
        metrics_email_add(EC_CONVERSIONS, strtoull(PQgetvalue(res, 0, 1), NULL, 10));
    }
    PQclear(res);
    return 0;
}

int sim_apply(struct sim *s, struct db *db, int64_t now_ms, char *err, size_t errlen)
{
    size_t n = 0, i;
    bool opens = false, clicks = false;
    int rc = 0;

    while (n < SIM_APPLY_MAX && s->len && s->heap[0].due_ms <= now_ms) {
        sim_pop(s, &s->batch[n]);
        if (s->batch[n].kind == SIM_OPEN)
            opens = true;
        else
            clicks = true;
        n++;
    }
    if (!n)
        return 0;
    /* each statement commits on its own; both are idempotent (IS NULL guards) */
    if (clicks && sim_apply_clicks(s, db, n, err, errlen) < 0)
        rc = -1;
    if (rc == 0 && opens && sim_apply_opens(s, db, n, now_ms, err, errlen) < 0)
        rc = -1;
    if (rc < 0) /* put them back for after the reconnect */
        for (i = 0; i < n; i++)
            sim_push(s, &s->batch[i]);
    return rc;
}
