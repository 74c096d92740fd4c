/* The Segments pane: each segment's rule, size, reach and engagement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "format.h"
#include "listview.h"
#include "pane.h"
#include "textmatch.h"

struct segments_state {
    struct listview lv;
    size_t *view, nview, capview;
    char filter[128];
    char *sel_id;          /* the selected segment, kept across updates (ours) */
    bool detail;
    size_t page;
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
    draw_title(ctx, r, "Segment details", "Esc back", true);
    for (int i = 0; i < r.h - 1; i++)
        draw_text(ctx, r.y + 1 + i, r.x, r.w, i < n ? lines[i] : "", false, ROLE_NORMAL);
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
    return listview_accepts(a, s->detail);
}

const struct pane_ops segments_pane = {
    "Segments", create, destroy, update, draw, action, set_filter, badge, NULL, click, accepts,
};
