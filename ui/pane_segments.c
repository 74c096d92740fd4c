/* The Segments pane: each segment's rule, size, reach and engagement, and
 * in a segment's details its performance (the campaigns sent to it, read
 * when the details open: segacts.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "format.h"
#include "listview.h"
#include "pane.h"
#include "segments_db.h"
#include "textmatch.h"

struct segments_state {
    struct listview lv;
    size_t *view, nview, capview;
    char filter[128];
    char *sel_id;          /* the selected segment, kept across updates (ours) */
    bool detail;
    size_t page;
    /* the performance of the segment in details: asked for perf_id */
    char perf_id[64];
    bool perf_wait;
    struct segdb_detail *perf;   /* ours */
    char perf_err[300];
};

static void remember(struct segments_state *s, const struct pane_data *d)
{
    if (s->lv.sel >= s->nview || !d->segs)
        return;
    const char *id = d->segs->v[s->view[s->lv.sel]].id;
    if (s->sel_id && strcmp(s->sel_id, id) == 0)
        return;
    free(s->sel_id);
    s->sel_id = strdup(id);
}

static void rebuild(struct segments_state *s, const struct pane_data *d)
{
    size_t n = d->segs ? d->segs->n : 0;
    s->nview = 0;
    if (n > s->capview) {
        size_t *g = realloc(s->view, n * sizeof *g);
        if (!g)
            return;
        s->view = g;
        s->capview = n;
    }
    for (size_t i = 0; i < n; i++) {
        const struct segment *g = &d->segs->v[i];
        if (text_contains(g->id, s->filter) || text_contains(g->name, s->filter) ||
            text_contains(g->rule, s->filter))
            s->view[s->nview++] = i;
    }
    for (size_t i = 0; s->sel_id && i < s->nview; i++) {
        if (strcmp(d->segs->v[s->view[i]].id, s->sel_id) == 0) {
            s->lv.sel = i;
            return;
        }
    }
    if (s->sel_id)
        s->detail = false; /* gone: a neighbour's details would lie */
    listview_fit(&s->lv, s->nview, s->page);
    remember(s, d);
}

static void *create(void) { return calloc(1, sizeof(struct segments_state)); }

static void destroy(void *st)
{
    struct segments_state *s = st;
    free(s->view);
    free(s->sel_id);
    segdb_detail_free(&s->perf);
    free(s);
}

static void update(void *st, const struct pane_data *d) { rebuild(st, d); }

enum { S_ID, S_NAME, S_RULE, S_SIZE, S_REACH, S_CAMPS, S_OPEN, S_CLICK, S_REFRESHED, S_N };
static const struct col_spec cols[S_N] = {
    [S_ID] = { "ID", 6, 7, 0, 1 },
    [S_NAME] = { "NAME", 12, 22, 2, 0 },
    [S_RULE] = { "RULE", 10, 24, 3, 5 },
    [S_SIZE] = { "SIZE", 6, 7, 0, 2 },
    [S_REACH] = { "REACH%", 6, 6, 0, 6 },
    [S_CAMPS] = { "CAMPS", 5, 5, 0, 7 },
    [S_OPEN] = { "OPEN30d", 7, 7, 0, 3 },
    [S_CLICK] = { "CLICK30d", 8, 8, 0, 4 },
    [S_REFRESHED] = { "REFRESH", 7, 7, 0, 8 },
};

static void engagement(const struct segment *g, int64_t v, char *buf, size_t n)
{
    if (v < 0)
        snprintf(buf, n, "...");
    else
        fmt_percent(buf, n, v, g->size);
}

static void rate(double r, char *buf, size_t n)
{
    if (r < 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.1f%%", r * 100.0);
}

enum { P_ID, P_NAME, P_STATUS, P_SENT, P_OPEN, P_CLICK, P_N };
static const struct col_spec perf_cols[P_N] = {
    [P_ID] = { "CAMPAIGN", 8, 9, 0, 1 },
    [P_NAME] = { "NAME", 10, 28, 1, 0 },
    [P_STATUS] = { "STATUS", 6, 10, 0, 5 },
    [P_SENT] = { "SENT", 5, 9, 0, 2 },
    [P_OPEN] = { "OPEN", 5, 6, 0, 3 },
    [P_CLICK] = { "CLICK", 5, 6, 0, 4 },
};

/* The segment's performance from line y on: the totals, then each
 * campaign sent to it. Returns the next free line. */
static int draw_perf(const struct segments_state *s, const struct segment *g,
                     const struct ui_ctx *ctx, struct rect r, int y)
{
    int bottom = r.y + r.h;
    char line[300], a[32], b[16], c[16];
    const struct segdb_detail *p = s->perf && strcmp(s->perf->id, g->id) == 0 ? s->perf : NULL;
    if (!p) {
        bool mine = strcmp(s->perf_id, g->id) == 0;
        snprintf(line, sizeof line, "Performance %s",
                 mine && s->perf_err[0] ? s->perf_err : "reading the campaigns sent to it...");
        if (y < bottom)
            draw_text(ctx, y++, r.x, r.w, line, false, mine && s->perf_err[0] ? ROLE_WARN : ROLE_DIM);
        return y;
    }
    fmt_grouped(a, sizeof a, p->sent);
    rate(p->open_rate, b, sizeof b);
    rate(p->click_rate, c, sizeof c);
    snprintf(line, sizeof line, "Performance %zu campaign%s sent to it: %s sent, %s opened, %s clicked",
             p->ncampaigns, p->ncampaigns == 1 ? "" : "s", a, b, c);
    if (y < bottom)
        draw_text(ctx, y++, r.x, r.w, line, false, ROLE_NORMAL);
    if (p->refreshed_by && y < bottom) {
        snprintf(line, sizeof line, "Refreshed   last by %s", p->refreshed_by);
        draw_text(ctx, y++, r.x, r.w, line, false, ROLE_NORMAL);
    }
    if (!p->ncampaigns || y >= bottom)
        return y;
    int w[P_N];
    layout_columns(perf_cols, P_N, r.w - 1, w);
    table_header(ctx, y++, r, perf_cols, P_N, w, ~0u << P_SENT);
    for (size_t i = 0; i < p->ncampaigns && y < bottom; i++) {
        const struct segdb_campaign *k = &p->campaigns[i];
        struct table_row t;
        table_row_begin(&t, ctx, y++, r, false, ROLE_NORMAL);
        table_cell(&t, w[P_ID], k->id, false);
        table_cell(&t, w[P_NAME], k->name, false);
        table_cell(&t, w[P_STATUS], k->status, false);
        fmt_grouped(a, sizeof a, k->sent);
        table_cell(&t, w[P_SENT], a, true);
        rate(k->open_rate, b, sizeof b);
        table_cell(&t, w[P_OPEN], b, true);
        rate(k->click_rate, c, sizeof c);
        table_cell(&t, w[P_CLICK], c, true);
        table_row_end(&t);
    }
    return y;
}

static void draw_detail(struct segments_state *s, const struct pane_data *d,
                        const struct ui_ctx *ctx, struct rect r)
{
    if (s->lv.sel >= s->nview) {
        s->detail = false;
        return;
    }
    const struct segment *g = &d->segs->v[s->view[s->lv.sel]];
    char lines[12][300], a[16], b[16];
    int n = 0;
    snprintf(lines[n++], 300, "Segment     %s", g->id);
    snprintf(lines[n++], 300, "Name        %s", g->name);
    snprintf(lines[n++], 300, "Rule        %s", g->rule);
    fmt_count(a, sizeof a, g->size);
    fmt_count(b, sizeof b, g->reachable);
    snprintf(lines[n++], 300, "Members     %s, of whom %s reachable (not unsubscribed, bounced or blocklisted)", a, b);
    snprintf(lines[n++], 300, "Campaigns   %lld target it", (long long)g->campaigns);
    engagement(g, g->opened_30d, a, sizeof a);
    engagement(g, g->clicked_30d, b, sizeof b);
    snprintf(lines[n++], 300, "Engagement  %s opened and %s clicked something in the last 30 days", a, b);
    if (g->refreshed_ms) {
        fmt_age(a, sizeof a, clock_real_ms() - g->refreshed_ms);
        snprintf(lines[n++], 300, "Refreshed   %s ago", a);
    } else {
        snprintf(lines[n++], 300, "Refreshed   never");
    }
    draw_title(ctx, r, "Segment details", "f refresh  Esc back", true);
    int y = r.y + 1, bottom = r.y + r.h;
    for (int i = 0; i < n && y < bottom; i++)
        draw_text(ctx, y++, r.x, r.w, lines[i], false, ROLE_NORMAL);
    if (y < bottom)
        draw_blank(ctx, y++, r.x, r.w, ROLE_NORMAL);
    y = draw_perf(s, g, ctx, r, y);
    while (y < bottom)
        draw_blank(ctx, y++, r.x, r.w, ROLE_NORMAL);
}

static void draw(void *st, const struct pane_data *d, const struct ui_ctx *ctx, struct rect r,
                 bool focused)
{
    struct segments_state *s = st;
    if (s->detail) {
        draw_detail(s, d, ctx, r);
        if (s->detail)
            return;
    }
    char extra[200];
    if (s->filter[0])
        snprintf(extra, sizeof extra, "%zu of %zu  filter: %s", s->nview, d->segs ? d->segs->n : 0, s->filter);
    else
        snprintf(extra, sizeof extra, "%zu", s->nview);
    draw_title(ctx, r, "Segments", extra, focused);
    int w[S_N];
    layout_columns(cols, S_N, r.w - 1, w);
    table_header(ctx, r.y + 1, r, cols, S_N, w, ~0u << S_SIZE);
    int rows = r.h - 2;
    s->page = rows > 0 ? (size_t)rows : 1;
    listview_fit(&s->lv, s->nview, s->page);
    for (int i = 0; i < rows; i++) {
        int y = r.y + 2 + i;
        size_t vi = s->lv.top + (size_t)i;
        if (vi >= s->nview || !d->segs) {
            const char *msg = i == 0 ? (!d->segs ? "Loading segments..." : "No segments.") : "";
            draw_text(ctx, y, r.x, r.w, i == 0 && s->nview == 0 ? msg : "", false, ROLE_DIM);
            continue;
        }
        const struct segment *g = &d->segs->v[s->view[vi]];
        bool sel = vi == s->lv.sel;
        struct table_row t;
        table_row_begin(&t, ctx, y, r, sel, sel && focused ? ROLE_SELECTION : ROLE_NORMAL);
        char buf[32];
        table_cell(&t, w[S_ID], g->id, false);
        table_cell(&t, w[S_NAME], g->name, false);
        table_cell(&t, w[S_RULE], g->rule, false);
        fmt_count(buf, sizeof buf, g->size);
        table_cell(&t, w[S_SIZE], buf, true);
        fmt_percent(buf, sizeof buf, g->reachable, g->size);
        table_cell(&t, w[S_REACH], buf, true);
        fmt_count(buf, sizeof buf, g->campaigns);
        table_cell(&t, w[S_CAMPS], buf, true);
        engagement(g, g->opened_30d, buf, sizeof buf);
        table_cell(&t, w[S_OPEN], buf, true);
        engagement(g, g->clicked_30d, buf, sizeof buf);
        table_cell(&t, w[S_CLICK], buf, true);
        if (g->refreshed_ms)
            fmt_age(buf, sizeof buf, clock_real_ms() - g->refreshed_ms);
        else
            snprintf(buf, sizeof buf, "never");
        table_cell(&t, w[S_REFRESHED], buf, true);
        table_row_end(&t);
    }
}

static enum pane_result action(void *st, const struct pane_data *d, enum action_id a)
{
    struct segments_state *s = st;
    switch (listview_keys(&s->lv, a, s->nview, s->page, &s->detail, s->filter[0] != '\0')) {
    case LIST_MOVED:
        remember(s, d);
        return PANE_REDRAW;
    case LIST_CLEAR_FILTER:
        s->filter[0] = '\0';
        rebuild(s, d);
        return PANE_REDRAW;
    case LIST_REDRAW:
        return PANE_REDRAW;
    case LIST_IGNORED:
        break;
    }
    return PANE_IGNORED;
}

static void set_filter(void *st, const struct pane_data *d, const char *text)
{
    struct segments_state *s = st;
    snprintf(s->filter, sizeof s->filter, "%s", text);
    rebuild(s, d);
}

static void badge(void *st, const struct pane_data *d, char *buf, size_t n)
{
    (void)st;
    snprintf(buf, n, "%zu", d->segs ? d->segs->n : 0);
}

static void click(void *st, const struct pane_data *d, int row)
{
    struct segments_state *s = st;
    if (!s->detail && listview_click(&s->lv, row, s->nview))
        remember(s, d);
}

static bool accepts(void *st, enum action_id a)
{
    const struct segments_state *s = st;
    if (a == ACT_SEG_REFRESH)
        return s->nview > 0 || s->detail;
    if (a == ACT_NEW)
        return !s->detail;
    return listview_accepts(a, s->detail);
}

void segments_pane_select(void *st, const char *id)
{
    struct segments_state *s = st;
    free(s->sel_id);
    s->sel_id = strdup(id);
    s->detail = false;
}

const char *segments_pane_selected_id(void *st, const struct pane_data *d)
{
    const struct segments_state *s = st;
    if (s->lv.sel >= s->nview || !d->segs)
        return NULL;
    return d->segs->v[s->view[s->lv.sel]].id;
}

const char *segments_pane_detail_id(void *st, const struct pane_data *d)
{
    const struct segments_state *s = st;
    return s->detail ? segments_pane_selected_id(st, d) : NULL;
}

void segments_pane_perf_wanted(void *st, const char *id)
{
    struct segments_state *s = st;
    snprintf(s->perf_id, sizeof s->perf_id, "%s", id);
    s->perf_wait = true;
    s->perf_err[0] = '\0';
}

void segments_pane_perf_arrived(void *st, const char *id, struct segdb_detail **det, const char *err)
{
    struct segments_state *s = st;
    if (strcmp(s->perf_id, id) != 0)
        return; /* asked for another since: the caller frees it */
    s->perf_wait = false;
    if (det && *det) {
        segdb_detail_free(&s->perf);
        s->perf = *det;
        *det = NULL;
    } else {
        snprintf(s->perf_err, sizeof s->perf_err, "unknown: %s", err ? err : "the read failed");
    }
}

const struct pane_ops segments_pane = {
    "Segments", create, destroy, update, draw, action, set_filter, badge, NULL, click, accepts,
};
