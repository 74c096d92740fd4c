/* deliver: see deliver.h; also the first pass and the conversions. */
#include "deliver.h"

#include <math.h>
#include <stdlib.h>

#include "lexicon.h"
#include "rng.h"

const char *const delivery_status_names[] = {"queued", "sent", "failed", "bounced"};

/* price per message in cents, by campaign type */
static const double unit_cost_cents[] = {0.09, 0.79, 0.01};

static int64_t revenue(struct rng *r, int plan)
{
    static const double lo[] = {9, 29, 99, 500}, hi[] = {49, 299, 999, 5000};
    double v = lo[plan] * pow(hi[plan] / lo[plan], rng_unit(r));
    return (int64_t)llround(v) * 100 - (rng_chance(r, 0.5) ? 1 : 0); /* $49.00 or $48.99 */
}

static ts_t delay(struct rng *r, double mean_s, double min_s)
{
    double d = rng_exp(r, mean_s);
    return (ts_t)((d < min_s ? min_s : d) * TS_SEC);
}

void deliveries_run(const struct model *m, const struct campaign *c, delivery_fn fn, void *ctx)
{
    if (!c->planned || !c->nwin)
        return;
    struct rng r;
    rng_seed(&r, m->seed, STREAM_DELIVERY + c->gen);
    const struct segment *s = &m->segs[c->seg];
    ts_t total = 0;
    for (int w = 0; w < c->nwin; w++)
        total += c->win[w].end - c->win[w].start;
    double step = (double)total / (double)c->planned;
    int w = 0;
    ts_t cum = 0;
    for (uint64_t j = 0; j < c->planned; j++) {
        struct delivery d = {.contact = s->reach[j]};
        ts_t pos = (ts_t)(((double)j + rng_unit(&r)) * step);
        while (w + 1 < c->nwin && pos >= cum + (c->win[w].end - c->win[w].start)) {
            cum += c->win[w].end - c->win[w].start;
            w++;
        }
        const struct window *win = &c->win[w];
        ts_t t = win->start + (pos - cum);
        if (t > win->end)
            t = win->end;
        d.revision = win->revision;
        const struct revision *rev = &c->rev[win->revision - 1];
        if (rev->nvariants)
            d.variant = rng_below(&r, 100) < (uint64_t)rev->v[0].split ? rev->v[0].letter
                                                                       : rev->v[1].letter;
        d.queued_at = t - rng_range(&r, 200 * 1000, 3 * TS_SEC);
        if (d.queued_at < win->start)
            d.queued_at = win->start;
        double u = rng_unit(&r);
        if (u < c->fail_rate) {
            d.status = DS_FAILED;
            d.error = fail_errors[c->type][rng_below(&r, 4)];
        } else if (u < c->fail_rate + c->bounce_rate) {
            d.status = DS_BOUNCED;
            d.sent_at = t;
            d.error = bounce_errors[c->type][rng_below(&r, 3)];
        } else {
            d.status = DS_SENT;
            d.sent_at = t;
            if (rng_chance(&r, c->open_rate)) {
                ts_t o = t + delay(&r, 5 * 3600.0, 20);
                if (o <= m->base) {
                    d.opened_at = o;
                    if (rng_chance(&r, c->click_rate)) {
                        ts_t k = o + delay(&r, 90, 3);
                        if (k <= m->base) {
                            d.clicked_at = k;
                            if (rng_chance(&r, c->conv_rate)) {
                                ts_t v = k + delay(&r, 8 * 3600.0, 60);
                                int64_t rev_c = revenue(&r, m->contacts[d.contact].plan);
                                if (v <= m->base) {
                                    d.converted_at = v;
                                    d.revenue_cents = rev_c;
                                }
                            }
                        }
                    }
                }
            }
        }
        fn(ctx, c, &d);
    }
}

static void add_conversion(struct model *m, const struct conversion *cv)
{
    if (m->nconv == m->conv_cap) {
        m->conv_cap = m->conv_cap ? m->conv_cap * 2 : 4096;
        m->conv = xrealloc(m->conv, m->conv_cap * sizeof *m->conv);
    }
    m->conv[m->nconv++] = *cv;
}

struct pass1 {
    struct model *m;
    int campaign;
};

static void count(void *ctx, const struct campaign *cc, const struct delivery *d)
{
    struct pass1 *p = ctx;
    struct campaign *c = &p->m->camps[p->campaign];
    (void)cc;
    struct contact *ct = &p->m->contacts[d->contact];
    switch (d->status) {
    case DS_SENT: c->sent++; break;
    case DS_BOUNCED: c->bounced++; break;
    case DS_FAILED: c->failed++; break;
    default: break;
    }
    if (d->opened_at) {
        c->opened++;
        if (d->opened_at > ct->last_opened_at)
            ct->last_opened_at = d->opened_at;
    }
    if (d->clicked_at) {
        c->clicked++;
        if (d->clicked_at > ct->last_clicked_at)
            ct->last_clicked_at = d->clicked_at;
    }
    if (d->converted_at) {
        c->converted++;
        struct conversion cv = {d->contact, p->campaign, (uint8_t)c->type, d->revenue_cents,
                                d->converted_at};
        add_conversion(p->m, &cv);
    }
    p->m->ndeliveries++;
}

static int cmp_conv(const void *a, const void *b)
{
    const struct conversion *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    if (x->contact != y->contact)
        return x->contact < y->contact ? -1 : 1;
    if (x->campaign != y->campaign)
        return x->campaign < y->campaign ? -1 : 1;
    if (x->channel != y->channel)
        return x->channel < y->channel ? -1 : 1;
    return (x->revenue_cents > y->revenue_cents) - (x->revenue_cents < y->revenue_cents);
}

void model_deliveries(struct model *m)
{
    for (size_t i = 0; i < m->ncamp; i++) {
        struct pass1 p = {m, (int)i};
        struct campaign *c = &m->camps[i];
        deliveries_run(m, c, count, &p);
        c->cost_cents = llround((double)(c->sent + c->bounced) * unit_cost_cents[c->type]);
    }
    /* purchases not attributed to a campaign */
    struct rng r;
    rng_seed(&r, m->seed, STREAM_ORGANIC);
    size_t n = m->ncontacts * 3 / 100;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = (uint32_t)rng_below(&r, m->ncontacts);
        const struct contact *ct = &m->contacts[k];
        struct conversion cv = {k, -1, rng_chance(&r, 0.65) ? 3 : 4, revenue(&r, ct->plan), 0};
        cv.at = ct->created_at + (ts_t)(rng_unit(&r) * (double)(m->base - ct->created_at));
        add_conversion(m, &cv);
    }
    if (m->nconv)
        qsort(m->conv, m->nconv, sizeof *m->conv, cmp_conv);
}
