/* campaign: what happened to each campaign and when.
 *
 * Per campaign: its status, type, template, segment, rate limit, and a
 * history of operator actions (create, edit, launch, pause, resume,
 * rollback, complete, cancel) laid out in time so that it is consistent:
 * sending happens in windows at no more than the rate limit, a launched
 * campaign's audience is its segment's reachable members who existed at
 * launch, a completed one ends when the last of them had a delivery,
 * edits and rollbacks happen before launch or while paused, and the
 * version is 1 plus the number of recorded transitions. Texts (names,
 * subjects, bodies, revision notes) come later, in content.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexicon.h"
#include "model.h"
#include "rng.h"

static const int rates[] = {300, 600, 900, 1200, 1500, 2000, 2400, 3000, 4000, 5000, 6000};

struct event {
    ts_t at;
    int action;
    int op;
    int slot;     /* edits: 0 before launch, > 0 after some sending */
    int seq;      /* order of creation, to break ties in time */
    const char *note;
};

struct history {
    struct event ev[MAX_AUDIT];
    int n;
};

static void add_event(struct history *h, ts_t at, int action, int op, int slot, const char *note)
{
    if (h->n >= MAX_AUDIT)
        die("internal: too many events for one campaign");
    h->ev[h->n] = (struct event){at, action, op, slot, h->n, note};
    h->n++;
}

static int cmp_event(const void *a, const void *b)
{
    const struct event *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->seq - y->seq;
}

static int random_operator(struct rng *r, enum operator_role role)
{
    int idx[16] = {0}, n = 0;
    for (size_t i = 0; i < noperators && n < 16; i++)
        if (operators[i].role == role)
            idx[n++] = (int)i;
    return idx[rng_below(r, (uint64_t)n)];
}

/* extra revisions, spread over the given slots [lo, hi) */
struct slot {
    ts_t lo, hi;
};

static void add_edits(struct history *h, struct rng *r, int extra, const struct slot *slots,
                      int nslots, int owner)
{
    for (int k = 0; k < extra; k++) {
        int s = 0;
        if (nslots > 1 && !rng_chance(r, 0.55))
            s = 1 + (int)rng_below(r, (uint64_t)(nslots - 1));
        ts_t lo = slots[s].lo, hi = slots[s].hi;
        ts_t at = lo + (ts_t)(rng_uniform(r, 0.1, 0.9) * (double)(hi - lo));
        int op = rng_chance(r, 0.7) ? owner : random_operator(r, OP_MARKETER);
        add_event(h, at, A_EDIT, op, s, NULL);
    }
}

static ts_t quarter_hour_after(ts_t t)
{
    ts_t q = 15 * TS_MIN;
    return (t / q + 1) * q;
}

/* the sending plan of a launched campaign, given its launch time */
struct sendplan {
    double frac, u;
    int completed;
    int rate;
};

static uint64_t planned_count(const struct sendplan *p, uint64_t eligible)
{
    if (p->completed)
        return eligible;
    uint64_t n = (uint64_t)llround(p->frac * (double)eligible);
    return n > eligible ? eligible : n;
}

static ts_t send_duration(const struct sendplan *p, uint64_t n)
{
    double secs = (double)n * 60.0 * p->u / p->rate;
    ts_t d = (ts_t)(secs * TS_SEC);
    return d < TS_MIN ? TS_MIN : d;
}

static int fits(const struct model *m, const struct segment *s, const struct sendplan *p, ts_t L,
                ts_t gaps, ts_t end)
{
    uint64_t n = planned_count(p, segment_eligible(m, s, L));
    return L + send_duration(p, n) + gaps <= end;
}

/* the latest launch time from which the plan ends by 'end' */
static ts_t find_launch(const struct model *m, const struct segment *s, struct sendplan *p,
                        ts_t gaps, ts_t end)
{
    ts_t lo = s->created_at + TS_DAY, hi = end - gaps - 2 * TS_MIN;
    if (lo < end - 400 * TS_DAY)
        lo = end - 400 * TS_DAY;
    if (lo > hi)
        lo = hi - TS_HOUR;
    if (fits(m, s, p, hi, gaps, end))
        return hi;
    if (!fits(m, s, p, lo, gaps, end)) {
        /* even the earliest launch is too late at this rate: raise the rate */
        uint64_t n = planned_count(p, segment_eligible(m, s, lo));
        double avail = (double)(end - gaps - lo) / TS_SEC;
        double need = (double)n * 60.0 * p->u / (avail > 60 ? avail : 60);
        int rate = (int)(ceil(need / 100.0) * 100);
        p->rate = rate > 10000000 ? 10000000 : rate < p->rate ? p->rate : rate;
        return lo;
    }
    while (hi - lo > TS_SEC) {
        ts_t mid = lo + (hi - lo) / 2;
        if (fits(m, s, p, mid, gaps, end))
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

struct budget {
    double remaining;
    size_t left;
};

static int choose_segment(const struct model *m, struct rng *r, double frac, int launched,
                          struct budget *b)
{
    if (!launched)
        return (int)rng_below(r, m->nseg);
    double allowance = 2.5 * b->remaining / (double)(b->left ? b->left : 1);
    int cand[1024], nc = 0, best = 0;
    for (size_t k = 0; k < m->nseg; k++) {
        double est = frac * (double)m->segs[k].nreach;
        if (est <= allowance && nc < 1024)
            cand[nc++] = (int)k;
        if (m->segs[k].nreach < m->segs[best].nreach)
            best = (int)k;
    }
    int k = nc ? cand[rng_below(r, (uint64_t)nc)] : best;
    b->remaining -= frac * (double)m->segs[k].nreach;
    if (b->remaining < 0)
        b->remaining = 0;
    if (b->left)
        b->left--;
    return k;
}

static void plan_launched(struct model *m, struct campaign *c, struct rng *r, double frac,
                          int extra, struct history *h)
{
    const struct segment *s = &m->segs[c->seg];
    ts_t base = m->base;
    static const unsigned wc_completed[] = {60, 30, 10}, wc_active[] = {70, 25, 5},
                          wc_other[] = {75, 25};
    int nwin;
    int tail_pause = 0;
    ts_t end;
    switch (c->status) {
    case ST_COMPLETED:
        nwin = 1 + (int)rng_weighted(r, wc_completed, 3);
        end = base - rng_range(r, 3 * TS_HOUR, 330 * TS_DAY);
        break;
    case ST_ACTIVE:
        nwin = 1 + (int)rng_weighted(r, wc_active, 3);
        end = base;
        break;
    case ST_PAUSED:
        nwin = 1 + (int)rng_weighted(r, wc_other, 2);
        end = base - rng_range(r, 20 * TS_MIN, 4 * TS_DAY);
        tail_pause = 1;
        break;
    default: /* cancelled while sending */
        nwin = 1 + (int)rng_weighted(r, wc_other, 2);
        end = base - rng_range(r, 3 * TS_HOUR, 240 * TS_DAY);
        tail_pause = rng_chance(r, 0.5);
        break;
    }
    if (end < s->created_at + 3 * TS_DAY)
        end = s->created_at + 3 * TS_DAY < base ? s->created_at + 3 * TS_DAY : base;
    ts_t gap[MAX_WIN] = {0}, gaps = 0;
    for (int i = 0; i + 1 < nwin; i++)
        gaps += gap[i] = rng_range(r, 15 * TS_MIN, 30 * TS_HOUR);
    struct sendplan p = {.frac = frac, .u = rng_uniform(r, 1.0, 1.25),
                         .completed = c->status == ST_COMPLETED, .rate = c->rate};
    ts_t L = find_launch(m, s, &p, gaps, end);
    c->rate = p.rate;
    c->eligible = segment_eligible(m, s, L);
    c->planned = planned_count(&p, c->eligible);
    c->audience = (int64_t)c->eligible;
    ts_t D = send_duration(&p, c->planned);

    double share[MAX_WIN], total = 0;
    for (int i = 0; i < nwin; i++)
        total += share[i] = 0.3 + rng_unit(r);
    ts_t t = L, used = 0;
    for (int i = 0; i < nwin; i++) {
        ts_t len = i + 1 == nwin ? D - used : (ts_t)((double)D * share[i] / total);
        used += len;
        c->win[i].start = t;
        c->win[i].end = t + len;
        t = c->win[i].end + gap[i];
    }
    c->nwin = nwin;
    if (c->status == ST_ACTIVE)
        c->win[nwin - 1].end = base; /* still sending */
    ts_t last = c->win[nwin - 1].end;

    ts_t created = L - rng_range(r, 30 * TS_MIN, 14 * TS_DAY);
    if (created < s->created_at + TS_HOUR)
        created = s->created_at + TS_HOUR;
    if (created >= L)
        created = L - TS_MIN;
    c->created_at = created;
    c->launched_at = L;

    add_event(h, created, A_CREATE, c->owner, 0, NULL);
    add_event(h, L, A_LAUNCH, c->owner, 0, NULL);
    struct slot slots[MAX_WIN + 1];
    int nslots = 0;
    slots[nslots++] = (struct slot){created, L};
    for (int i = 0; i + 1 < nwin; i++) {
        int op = rng_chance(r, 0.6) ? c->owner : random_operator(r, OP_ONCALL);
        add_event(h, c->win[i].end, A_PAUSE, op, 0, pause_notes[rng_below(r, npause_notes)]);
        add_event(h, c->win[i + 1].start, A_RESUME, op, 0, resume_notes[rng_below(r, nresume_notes)]);
        slots[nslots++] = (struct slot){c->win[i].end, c->win[i + 1].start};
    }
    switch (c->status) {
    case ST_COMPLETED:
        c->completed_at = last + rng_range(r, TS_SEC, 90 * TS_SEC);
        add_event(h, c->completed_at, A_COMPLETE, OP_BACKEND, 0, NULL);
        break;
    case ST_PAUSED: {
        int op = rng_chance(r, 0.6) ? c->owner : random_operator(r, OP_ONCALL);
        add_event(h, last, A_PAUSE, op, 0, pause_notes[rng_below(r, npause_notes)]);
        slots[nslots++] = (struct slot){last, base};
        break;
    }
    case ST_CANCELLED: {
        int op = rng_chance(r, 0.7) ? c->owner : random_operator(r, OP_ONCALL);
        ts_t at = last;
        if (tail_pause) {
            add_event(h, last, A_PAUSE, op, 0, pause_notes[rng_below(r, npause_notes)]);
            at = last + rng_range(r, 10 * TS_MIN, 2 * TS_DAY);
            if (at > base - TS_MIN)
                at = base - TS_MIN > last ? base - TS_MIN : last + TS_SEC;
            slots[nslots++] = (struct slot){last, at};
        }
        c->cancelled_at = at;
        add_event(h, at, A_CANCEL, op, 0, cancel_notes[rng_below(r, ncancel_notes)]);
        break;
    }
    default:
        break;
    }
    add_edits(h, r, extra, slots, nslots, c->owner);
}

static void plan_unlaunched(struct model *m, struct campaign *c, struct rng *r, int extra,
                            int via_scheduled, struct history *h)
{
    const struct segment *s = &m->segs[c->seg];
    ts_t base = m->base, created, until, launch = 0;
    switch (c->status) {
    case ST_DRAFT:
        created = base - rng_range(r, 10 * TS_MIN, 45 * TS_DAY);
        until = base - TS_MIN;
        break;
    case ST_SCHEDULED:
        created = base - rng_range(r, 2 * TS_HOUR, 20 * TS_DAY);
        launch = created + (ts_t)(rng_uniform(r, 0.5, 0.95) * (double)(base - created));
        until = launch;
        c->send_at = quarter_hour_after(base + rng_range(r, 30 * TS_MIN, 14 * TS_DAY));
        break;
    default: { /* cancelled before sending */
        ts_t cancel = base - rng_range(r, TS_DAY, 240 * TS_DAY);
        created = cancel - rng_range(r, TS_HOUR, 20 * TS_DAY);
        if (created < s->created_at + TS_HOUR)
            created = s->created_at + TS_HOUR;
        if (cancel < created + 2 * TS_HOUR)
            cancel = created + 2 * TS_HOUR;
        if (cancel > base - TS_MIN)
            cancel = base - TS_MIN;
        until = cancel;
        if (via_scheduled) {
            launch = created + (ts_t)(rng_uniform(r, 0.3, 0.8) * (double)(cancel - created));
            until = launch;
            c->send_at = quarter_hour_after(cancel + rng_range(r, TS_HOUR, 7 * TS_DAY));
        }
        c->cancelled_at = cancel;
        int op = rng_chance(r, 0.8) ? c->owner : random_operator(r, OP_ONCALL);
        add_event(h, cancel, A_CANCEL, op, 0, cancel_notes[rng_below(r, ncancel_notes)]);
        break;
    }
    }
    if (created < s->created_at + TS_HOUR && c->status != ST_CANCELLED)
        created = s->created_at + TS_HOUR; /* only with very many segments */
    c->created_at = created;
    add_event(h, created, A_CREATE, c->owner, 0, NULL);
    if (launch) {
        c->eligible = segment_eligible(m, s, launch);
        c->audience = (int64_t)c->eligible;
        add_event(h, launch, A_LAUNCH, c->owner, 0, NULL);
    }
    struct slot slot = {created, until};
    add_edits(h, r, extra, &slot, 1, c->owner);
}

/* turn the sorted events into audit rows, revisions and the final state */
static void replay(struct campaign *c, struct rng *r, struct history *h)
{
    qsort(h->ev, (size_t)h->n, sizeof h->ev[0], cmp_event);
    int status = -1, version = 0, cur = 0;
    char buf[160], n1[32], n2[32];
    for (int i = 0; i < h->n; i++) {
        struct event *e = &h->ev[i];
        struct audit *a = &c->audit[c->naudit++];
        a->action = (uint8_t)e->action;
        a->op = e->op;
        a->at = e->at;
        a->from_status = (int8_t)status;
        a->from_version = version;
        rng_uuid(r, a->request_id);
        a->ssh_port = (uint16_t)rng_range(r, 40000, 65000);
        a->tty = (uint16_t)rng_range(r, 0, 14);
        if (e->note)
            a->note = xstrdup(e->note);
        switch (e->action) {
        case A_CREATE:
            status = ST_DRAFT;
            cur = 1;
            c->rev[0].created_at = e->at;
            c->rev[0].author = e->op;
            break;
        case A_EDIT: {
            struct revision *v = &c->rev[cur];
            v->created_at = e->at;
            v->author = e->op;
            double p = e->slot > 0 ? 0.5 : 0.15;
            if (cur >= 2 && rng_chance(r, p)) {
                a->action = A_ROLLBACK;
                v->restored_from = rng_chance(r, 0.7) ? cur - 1 : (int)rng_range(r, 1, cur - 1);
            }
            cur++;
            break;
        }
        case A_LAUNCH:
            status = c->status == ST_SCHEDULED || (c->status == ST_CANCELLED && c->send_at)
                         ? ST_SCHEDULED : ST_ACTIVE;
            if (status == ST_SCHEDULED) {
                char when[32];
                ts_format(when, c->send_at);
                when[16] = '\0';
                snprintf(buf, sizeof buf, "scheduled for %s UTC, audience %s", when,
                         fmt_count(n1, (uint64_t)c->audience));
            } else {
                int64_t eta = c->rate ? (int64_t)c->eligible * 60 / c->rate : 0;
                snprintf(buf, sizeof buf, "preflight ok: audience %s, %d/min, ETA %s",
                         fmt_count(n1, c->eligible), c->rate, fmt_duration(n2, eta));
            }
            a->note = xstrdup(buf);
            break;
        case A_PAUSE:
            status = ST_PAUSED;
            c->paused_at = e->at;
            break;
        case A_RESUME:
            status = ST_ACTIVE;
            break;
        case A_COMPLETE:
            status = ST_COMPLETED;
            snprintf(buf, sizeof buf, "every recipient has a delivery (%s)",
                     fmt_count(n1, c->planned));
            a->note = xstrdup(buf);
            break;
        case A_CANCEL:
            status = ST_CANCELLED;
            break;
        }
        a->to_status = (int8_t)status;
        a->to_version = ++version;
        a->revision = cur;
        if (a->action == A_CREATE)
            a->from_version = 0;
    }
    if (status != c->status)
        die("internal: campaign history ends in %s, not %s", campaign_status_names[status],
            campaign_status_names[c->status]);
    c->nrev = cur;
    c->version = version;
    c->updated_at = c->audit[c->naudit - 1].at;
    for (int w = 0; w < c->nwin; w++) {
        int rev = 1;
        for (int k = 1; k < c->nrev; k++)
            if (c->rev[k].created_at <= c->win[w].start)
                rev = k + 1;
        c->win[w].revision = rev;
    }
}

static int cmp_campaign(const void *a, const void *b)
{
    const struct campaign *x = a, *y = b;
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? -1 : 1;
    return (x->gen > y->gen) - (x->gen < y->gen);
}

void model_campaigns(struct model *m)
{
    size_t n = m->ncamp;
    m->camps = xcalloc(n ? n : 1, sizeof *m->camps);
    if (!n)
        return;
    struct rng pr;
    rng_seed(&pr, m->seed, STREAM_PLAN);

    /* statuses: every one at least once when there are six or more */
    static const unsigned status_w[ST_N] = {14, 10, 14, 8, 42, 12};
    int *status = xcalloc(n, sizeof *status);
    for (size_t i = 0; i < n; i++)
        status[i] = i < ST_N && n >= ST_N ? (int)i : (int)rng_weighted(&pr, status_w, ST_N);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)rng_below(&pr, i + 1);
        int t = status[i];
        status[i] = status[j];
        status[j] = t;
    }
    int *launched = xcalloc(n, sizeof *launched), *via_sched = xcalloc(n, sizeof *via_sched);
    struct budget b = {.remaining = 3.0 * (double)m->ncontacts};
    for (size_t i = 0; i < n; i++) {
        launched[i] = status[i] == ST_ACTIVE || status[i] == ST_PAUSED ||
                      status[i] == ST_COMPLETED ||
                      (status[i] == ST_CANCELLED && rng_chance(&pr, 0.55));
        via_sched[i] = status[i] == ST_CANCELLED && !launched[i] && rng_chance(&pr, 0.4);
        b.left += (size_t)launched[i];
    }

    static const unsigned type_w[] = {80, 12, 8}, extra_w[] = {40, 30, 20, 10};
    for (size_t g = 0; g < n; g++) {
        struct campaign *c = &m->camps[g];
        struct rng r;
        rng_seed(&r, m->seed, STREAM_CAMPAIGN + g);
        c->gen = (unsigned)g;
        c->status = status[g];
        c->audience = -1;
        c->type = (int)rng_weighted(&r, type_w, 3);
        int fit[64] = {0}, nfit = 0;
        for (size_t t = 0; t < ntemplates && nfit < 64; t++)
            if (templates[t].channels & (1u << c->type))
                fit[nfit++] = (int)t;
        c->tmpl = fit[rng_below(&r, (uint64_t)nfit)];
        c->rate = rates[rng_below(&r, sizeof rates / sizeof rates[0])];
        c->owner = random_operator(&r, OP_MARKETER);
        double frac = 0;
        switch (c->status) {
        case ST_COMPLETED: frac = 1.0; break;
        case ST_ACTIVE: frac = rng_uniform(&r, 0.08, 0.35); break;
        case ST_PAUSED: frac = rng_uniform(&r, 0.25, 0.85); break;
        case ST_CANCELLED: frac = rng_uniform(&r, 0.05, 0.6); break;
        default: break;
        }
        c->seg = choose_segment(m, &r, c->status == ST_COMPLETED ? 0.9 : frac, launched[g], &b);
        int extra = (int)rng_weighted(&r, extra_w, 4);
        c->open_rate = rng_uniform(&r, 0.20, 0.35);
        c->click_rate = rng_uniform(&r, 0.10, 0.20);
        c->bounce_rate = rng_uniform(&r, 0.005, 0.015);
        c->fail_rate = rng_uniform(&r, 0.002, 0.008);
        c->conv_rate = rng_uniform(&r, 0.05, 0.15);

        struct history h = {.n = 0};
        if (launched[g])
            plan_launched(m, c, &r, frac, extra, &h);
        else
            plan_unlaunched(m, c, &r, extra, via_sched[g], &h);
        replay(c, &r, &h);
        m->nrevisions += (uint64_t)c->nrev;
        m->naudit += (uint64_t)c->naudit;
    }
    free(status);
    free(launched);
    free(via_sched);

    qsort(m->camps, n, sizeof *m->camps, cmp_campaign);
    for (size_t i = 0; i < n; i++)
        m->camps[i].id = (int)i + 1;
}
