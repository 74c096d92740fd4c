/* The Send rate pane: emails sent per second over the last 15 minutes, the
 * rate the active campaigns' limits allow, and each active campaign's rate,
 * state and ETA. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "format.h"
#include "graph.h"
#include "listview.h"
#include "pane.h"
#include "promsrv.h"
#include "poller.h"

#define GRAPH_SPAN_MS (15 * 60 * 1000)
#define GRAPH_MAX_W 512
#define ACTIVE_MAX 4096 /* active campaigns listed; more are counted in the graph */

struct rate_state {
    struct listview lv;
    size_t page;
};

static void *create(void) { return calloc(1, sizeof(struct rate_state)); }
static void destroy(void *st) { free(st); }
static void update(void *st, const struct pane_data *d) { (void)st; (void)d; }

/* The ledger's rate over the 10 s before its newest sample; n/a once that
 * sample is older than 15 s (the database is gone): never a frozen rate. */
static double ledger_rate_now(const struct pane_data *d)
{
    double v = NAN;
    if (!d->db_sent || d->db_sent->n < 2)
        return v;
    int64_t last = d->db_sent->t[d->db_sent->n - 1];
    if (clock_mono_ms() - last <= 15000)
        counter_series_rates(d->db_sent, last, 10000, 1, &v);
    return v;
}

static double expected_per_s(const struct pane_data *d)
{
    double sum = 0;
    for (size_t i = 0; d->camps && i < d->camps->n; i++)
        if (strcmp(d->camps->v[i].status, "active") == 0)
            sum += d->camps->v[i].rate_limit;
    return sum / 60.0;
}

static void fmt_rate(char *buf, size_t n, double v)
{
    if (isnan(v) || isinf(v))
        snprintf(buf, n, "n/a");
    else if (v < 10)
        snprintf(buf, n, "%.1f/s", v);
    else
        snprintf(buf, n, "%.0f/s", v);
}

/* Points still unknown (NAN: before the console started) get the server's
 * rate at the end of their slice of the span, when it has one near. */
static void fill_from_server(const struct promsrv_snapshot *ps, size_t points, double *vals)
{
    if (points == 0)
        return;
    int64_t now = clock_real_ms(), slice = GRAPH_SPAN_MS / (int64_t)points;
    size_t k = 0;
    for (size_t i = 0; i < points; i++) {
        if (!isnan(vals[i]))
            continue;
        int64_t t = now - GRAPH_SPAN_MS + (int64_t)(i + 1) * slice;
        while (k + 1 < ps->n_hist && ps->hist[k + 1].t_ms <= t)
            k++;
        const struct promsrv_point *h = &ps->hist[k];
        int64_t gap = t - h->t_ms;
        if (h->t_ms <= t && gap <= 30000 && !isnan(h->v))
            vals[i] = h->v;
    }
}

static void draw(void *st, const struct pane_data *d, const struct ui_ctx *ctx, struct rect r,
                 bool focused)
{
    struct rate_state *s = st;
    double expect = expected_per_s(d);
    /* the newest rate from the ledger: the last 10 s */
    double now_db = ledger_rate_now(d);
    char a[24], b[24], c[24], extra[160];
    fmt_rate(a, sizeof a, now_db);
    fmt_rate(c, sizeof c, expect);
    if (d->poll && d->poll->have_counters)
        fmt_rate(b, sizeof b, d->poll->sent_rate);
    else
        snprintf(b, sizeof b, "%s", d->metrics_configured ? "no data" : "not configured");
    snprintf(extra, sizeof extra, "now %s (ledger), %s (metrics); limits allow %s %s", a, b, c,
             ctx->san ? "(- -)" : "(\xE2\xA0\x89\xE2\xA0\x89)"); /* the reference line's look */
    draw_title(ctx, r, "Send rate", extra, focused);

    /* the graph: about 60% of the pane, at least 3 rows */
    int gh = (r.h - 2) * 3 / 5;
    if (gh < 3)
        gh = r.h >= 8 ? 3 : 0;
    int label_w = 8, gw = r.w - label_w;
    if (gw > GRAPH_MAX_W)
        gw = GRAPH_MAX_W;
    if (gh > 0 && gw > 4) {
        enum graph_style style = ctx->san ? GRAPH_ASCII : GRAPH_BRAILLE;
        size_t points = (size_t)gw * (style == GRAPH_BRAILLE ? 2 : 1);
        double vals[GRAPH_MAX_W * 2];
        for (size_t i = 0; i < points; i++)
            vals[i] = NAN;
        if (d->db_sent && d->db_sent->n >= 2)
            counter_series_rates(d->db_sent, clock_mono_ms(), GRAPH_SPAN_MS, points, vals);
        /* before the console's own data: the Prometheus server's history */
        if (d->prom && d->prom->n_hist)
            fill_from_server(d->prom, points, vals);
        char rowbuf[64][GRAPH_MAX_W * 3 + 1];
        char *rows[64];
        if (gh > 64)
            gh = 64;
        for (int i = 0; i < gh; i++)
            rows[i] = rowbuf[i];
        double ymax = graph_render(vals, points, 0, expect > 0 ? expect : -1, gw, gh, style, rows);
        for (int i = 0; i < gh; i++) {
            char lab[16] = "";
            if (i == 0)
                fmt_rate(lab, sizeof lab, ymax);
            else if (i == gh - 1)
                snprintf(lab, sizeof lab, "0");
            draw_text(ctx, r.y + 1 + i, r.x, label_w - 1, lab, true, ROLE_DIM);
            draw_blank(ctx, r.y + 1 + i, r.x + label_w - 1, 1, ROLE_NORMAL);
            /* graph rows are our own glyphs; still drawn through the sanitizer */
            draw_text(ctx, r.y + 1 + i, r.x + label_w, gw, rows[i], false, ROLE_GRAPH);
        }
        char axis[GRAPH_MAX_W + 8];
        snprintf(axis, sizeof axis, "-15m%*snow", gw - 7 > 0 ? gw - 7 : 0, "");
        draw_text(ctx, r.y + 1 + gh, r.x + label_w, gw, axis, false, ROLE_DIM);
        draw_blank(ctx, r.y + 1 + gh, r.x, label_w, ROLE_NORMAL);
        gh++;
    }
    /* the active campaigns */
    int ty = r.y + 1 + gh, th = r.h - 1 - gh;
    if (th < 2)
        return;
    static const struct col_spec cols[] = {
        { "ID", 6, 8, 0, 1 }, { "NAME", 10, 24, 1, 0 }, { "RATE/m", 7, 7, 0, 2 },
        { "LIMIT/m", 7, 7, 0, 3 }, { "STATE", 9, 9, 0, 0 }, { "ETA", 6, 6, 0, 4 },
    };
    enum { NC = sizeof cols / sizeof cols[0] };
    int w[NC];
    layout_columns(cols, NC, r.w - 1, w);
    table_header(ctx, ty, r, cols, NC, w, (1u << 2) | (1u << 3) | (1u << 5));
    static size_t idx[ACTIVE_MAX];
    size_t n = 0;
    for (size_t i = 0; d->camps && i < d->camps->n && n < ACTIVE_MAX; i++)
        if (strcmp(d->camps->v[i].status, "active") == 0)
            idx[n++] = i;
    s->page = (size_t)(th - 1);
    listview_fit(&s->lv, n, s->page);
    for (int i = 0; i < th - 1; i++) {
        int y = ty + 1 + i;
        size_t vi = s->lv.top + (size_t)i;
        if (vi >= n) {
            draw_text(ctx, y, r.x, r.w, i == 0 && n == 0 ? "  No campaign is active." : "", false, ROLE_DIM);
            continue;
        }
        const struct campaign *cp = &d->camps->v[idx[vi]];
        struct campaign_rate rt = rate_tracker_get(d->rates, cp, clock_mono_ms());
        bool sel = vi == s->lv.sel;
        bool bad = rt.state == SEND_STALLED || rt.state == SEND_ERRORING;
        enum role role = sel && focused ? ROLE_SELECTION : ROLE_NORMAL;
        struct table_row t;
        table_row_begin(&t, ctx, y, r, sel, role);
        char buf[32];
        table_cell(&t, w[0], cp->id, false);
        table_cell(&t, w[1], cp->name, false);
        if (isnan(rt.per_min))
            snprintf(buf, sizeof buf, "-");
        else
            fmt_count(buf, sizeof buf, (int64_t)llround(rt.per_min));
        table_cell(&t, w[2], buf, true);
        fmt_count(buf, sizeof buf, cp->rate_limit);
        table_cell(&t, w[3], buf, true);
        t.role = bad && !(sel && focused) ? ROLE_CRIT : role; /* a word, and its role */
        table_cell(&t, w[4], send_state_name(rt.state), false);
        t.role = role;
        if (isnan(rt.eta_s))
            snprintf(buf, sizeof buf, "-");
        else
            fmt_age(buf, sizeof buf, (int64_t)(rt.eta_s * 1000));
        table_cell(&t, w[5], buf, true);
        table_row_end(&t);
    }
}

static enum pane_result action(void *st, const struct pane_data *d, enum action_id a)
{
    struct rate_state *s = st;
    size_t n = 0;
    for (size_t i = 0; d->camps && i < d->camps->n && n < ACTIVE_MAX; i++)
        n += strcmp(d->camps->v[i].status, "active") == 0;
    return listview_move(&s->lv, a, n, s->page) ? PANE_REDRAW : PANE_IGNORED;
}

static void badge(void *st, const struct pane_data *d, char *buf, size_t n)
{
    (void)st;
    double v = ledger_rate_now(d);
    fmt_rate(buf, n, v);
}

static bool accepts(void *st, enum action_id a)
{
    (void)st;
    return a == ACT_DOWN || a == ACT_UP || a == ACT_PAGE_DOWN || a == ACT_PAGE_UP || a == ACT_TOP || a == ACT_BOTTOM;
}

const struct pane_ops rate_pane = {
    "Send rate", create, destroy, update, draw, action, NULL, badge, NULL, NULL, accepts,
};
