/* The Campaigns pane: a sortable, filterable list, and a detail view. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "format.h"
#include "listview.h"
#include "pane.h"
#include "textmatch.h"

enum sort_key { SORT_STATUS, SORT_NAME, SORT_PROGRESS, SORT_RATE, SORT_CHANGED, SORT_COUNT };
static const char *const sort_names[SORT_COUNT] = { "status", "name", "progress", "rate", "last change" };

struct campaigns_state {
    struct listview lv;
    size_t *view;          /* indices into camps, filtered and sorted */
    size_t nview, capview;
    char filter[128];
    enum sort_key sort;
    bool reverse, detail;
    char *sel_id;          /* the selected campaign, kept across updates (ours) */
    size_t page;
};

/* qsort has no context argument: the comparison reads these */
static const struct pane_data *sort_data;
static const struct campaigns_state *sort_state;
static int64_t sort_now;

static double progress(const struct campaign *c)
{
    return c->audience > 0 ? (double)c->sent / (double)c->audience : 0;
}

static int cmp_view(const void *a, const void *b)
{
    const struct campaign *x = &sort_data->camps->v[*(const size_t *)a];
    const struct campaign *y = &sort_data->camps->v[*(const size_t *)b];
    int r = 0;
    switch (sort_state->sort) {
    case SORT_STATUS: r = (int)(*(const size_t *)a) - (int)(*(const size_t *)b); break; /* the query's order */
    case SORT_NAME: r = strcasecmp(x->name, y->name); break;
    case SORT_PROGRESS: r = progress(x) < progress(y) ? 1 : progress(x) > progress(y) ? -1 : 0; break;
    case SORT_RATE: {
        struct campaign_rate rx = rate_tracker_get(sort_data->rates, x, sort_now);
        struct campaign_rate ry = rate_tracker_get(sort_data->rates, y, sort_now);
        double vx = isnan(rx.per_min) ? -1 : rx.per_min, vy = isnan(ry.per_min) ? -1 : ry.per_min;
        r = vx < vy ? 1 : vx > vy ? -1 : 0;
        break;
    }
    case SORT_CHANGED: r = x->updated_ms < y->updated_ms ? 1 : x->updated_ms > y->updated_ms ? -1 : 0; break;
    case SORT_COUNT: break;
    }
    if (r == 0)
        r = (int)(*(const size_t *)a) - (int)(*(const size_t *)b);
    return sort_state->reverse ? -r : r;
}

static bool matches(const struct campaign *c, const char *f)
{
    return !*f || text_contains(c->id, f) || text_contains(c->name, f) ||
           text_contains(c->segment_name, f) || text_contains(c->status, f) || text_contains(c->type, f);
}

static void remember_selection(struct campaigns_state *s, const struct pane_data *d)
{
    if (s->lv.sel >= s->nview || !d->camps)
        return;
    const char *id = d->camps->v[s->view[s->lv.sel]].id;
    if (s->sel_id && strcmp(s->sel_id, id) == 0)
        return;
    free(s->sel_id);
    s->sel_id = strdup(id);
}

/* Rebuilds the view and puts the selection back on sel_id. */
static void rebuild(struct campaigns_state *s, const struct pane_data *d)
{
    s->nview = 0;
    size_t n = d->camps ? d->camps->n : 0;
    if (n > s->capview) {
        size_t *g = realloc(s->view, n * sizeof *g);
        if (!g)
            return;
        s->view = g;
        s->capview = n;
    }
    for (size_t i = 0; i < n; i++)
        if (matches(&d->camps->v[i], s->filter))
            s->view[s->nview++] = i;
    sort_data = d;
    sort_state = s;
    sort_now = clock_mono_ms();
    if (s->nview > 1)
        qsort(s->view, s->nview, sizeof *s->view, cmp_view);
    if (s->sel_id) {
        for (size_t i = 0; i < s->nview; i++) {
            if (strcmp(d->camps->v[s->view[i]].id, s->sel_id) == 0) {
                s->lv.sel = i;
                return;
            }
        }
        /* gone (filtered out or deleted): details of a neighbour would lie */
        s->detail = false;
    }
    listview_fit(&s->lv, s->nview, s->page);
    remember_selection(s, d);
}

static void *create(void)
{
    return calloc(1, sizeof(struct campaigns_state));
}

static void destroy(void *st)
{
    struct campaigns_state *s = st;
    free(s->view);
    free(s->sel_id);
    free(s);
}

static void update(void *st, const struct pane_data *d)
{
    rebuild(st, d);
}

enum { C_ID, C_NAME, C_TYPE, C_STATUS, C_SEGMENT, C_PROGRESS, C_OPEN, C_CLICK, C_RATE, C_CHANGED, C_N };
static const struct col_spec cols[C_N] = {
    [C_ID] = { "ID", 6, 8, 0, 1 },
    [C_NAME] = { "NAME", 12, 22, 4, 0 },
    [C_TYPE] = { "TYPE", 5, 5, 0, 8 },
    [C_STATUS] = { "STATUS", 11, 11, 0, 0 },
    [C_SEGMENT] = { "SEGMENT", 8, 14, 1, 7 },
    [C_PROGRESS] = { "SENT/AUD", 11, 24, 1, 2 },
    [C_OPEN] = { "OPEN%", 6, 6, 0, 5 },
    [C_CLICK] = { "CLICK%", 6, 6, 0, 6 },
    [C_RATE] = { "RATE/m", 7, 7, 0, 3 },
    [C_CHANGED] = { "CHANGED", 7, 7, 0, 4 },
};

/* The history lines of a detail view: revisions, then recent audit entries. */
static int history_lines(const struct campaign_detail *h, char lines[][256], int max)
{
    int n = 0;
    char when[32], cnt[16];
    if (h->have_ab && n < max) {
        snprintf(lines[n++], 256, "A/B results: %s%s", h->ab.verdict,
                 h->ab.significant ? "  (W promotes the winner)" : "");
        for (size_t i = 0; i < h->ab.n && n < max; i++) {
            const struct authoring_ab_row *v = &h->ab.v[i];
            char sent[16], test[160];
            fmt_count(sent, sizeof sent, v->sent);
            if ((int)i == h->ab.leader)
                snprintf(test, sizeof test, "leader");
            else if (v->tested)
                snprintf(test, sizeof test, "clicks vs leader z=%.2f p=%.3f", v->z_click, v->p_click);
            else
                snprintf(test, sizeof test, "%s", v->why);
            snprintf(lines[n++], 256, "  %-2s sent %8s  open %5.1f%%  click %5.1f%%  %s", v->variant[0] ? v->variant : "-",
                     sent, v->sent ? 100.0 * (double)v->opened / (double)v->sent : 0.0,
                     v->sent ? 100.0 * (double)v->clicked / (double)v->sent : 0.0, test);
        }
    }
    if (n < max)
        snprintf(lines[n++], 256, "Revisions (newest first; sent mail cannot be recalled)");
    for (size_t i = 0; i < h->nrev && n < max; i++) {
        const struct revision_row *v = &h->rev[i];
        time_t t = (time_t)(v->created_ms / 1000);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        fmt_count(cnt, sizeof cnt, v->delivered);
        char restored[24] = "";
        if (v->restored_from)
            snprintf(restored, sizeof restored, " (restores r%d)", v->restored_from);
        snprintf(lines[n++], 256, "  r%-3d %s  %s, %s sent%s%s%s  \"%s\"%s%s", v->revision, when, v->author,
                 cnt, v->variants[0] ? ", A/B " : "", v->variants, restored, v->subject,
                 v->note[0] ? "  note: " : "", v->note);
    }
    if (h->superseded > 0 && n < max)
        snprintf(lines[n++], 256, "Recipients of other content: %lld (sent mail cannot be recalled; "
                                  "'marketing recipients %s --csv' lists them all)",
                 (long long)h->superseded, h->id);
    for (size_t i = 0; i < h->nsup && n < max; i++)
        snprintf(lines[n++], 256, "  %s (revision %d)", h->sup_email[i], h->sup_rev[i]);
    if (n < max)
        snprintf(lines[n++], 256, "Audit log (newest first)");
    if (h->naudit == 0 && n < max)
        snprintf(lines[n++], 256, "  (no entries)");
    for (size_t i = 0; i < h->naudit && n < max; i++) {
        const struct audit_row *a = &h->audit[i];
        time_t t = (time_t)(a->at_ms / 1000);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        snprintf(lines[n++], 256, "  %s  %-8s %s -> %s  v%d -> v%d  by %s%s%s%s%s%s", when, a->action,
                 a->from_status[0] ? a->from_status : "-", a->to_status[0] ? a->to_status : "-",
                 a->from_version, a->to_version, a->db_user, a->os_user[0] ? " (" : "", a->os_user,
                 a->os_user[0] ? ")" : "", a->note[0] ? "  " : "", a->note);
    }
    return n;
}

static void draw_detail(struct campaigns_state *s, const struct pane_data *d,
                        const struct ui_ctx *ctx, struct rect r)
{
    if (s->lv.sel >= s->nview) {
        s->detail = false;
        return;
    }
    const struct campaign *c = &d->camps->v[s->view[s->lv.sel]];
    struct campaign_rate rt = rate_tracker_get(d->rates, c, clock_mono_ms());
    static char lines[64][256];
    char a[16], b[16], e[16];
    int n = 0;
    snprintf(lines[n++], 256, "Campaign    %s", c->id);
    snprintf(lines[n++], 256, "Name        %s", c->name);
    snprintf(lines[n++], 256, "Type        %s", c->type);
    snprintf(lines[n++], 256, "Status      %s %s%s%s", campaign_status_glyph(c->status, ctx->san != 0),
             c->status, rt.state != SEND_IDLE ? ", " : "", send_state_name(rt.state));
    snprintf(lines[n++], 256, "Segment     %s (%s)", c->segment_name, c->segment_id);
    fmt_count(a, sizeof a, c->sent);
    fmt_count(b, sizeof b, c->audience);
    fmt_percent(e, sizeof e, c->sent, c->audience);
    snprintf(lines[n++], 256, "Sent        %s of %s (%s); %lld failed, %lld bounced", a, b, e,
             (long long)c->failed, (long long)c->bounced);
    fmt_percent(a, sizeof a, c->opened, c->sent);
    fmt_percent(b, sizeof b, c->clicked, c->sent);
    snprintf(lines[n++], 256, "Engagement  %lld opened (%s), %lld clicked (%s)", (long long)c->opened, a,
             (long long)c->clicked, b);
    if (isnan(rt.per_min))
        snprintf(a, sizeof a, "n/a");
    else
        snprintf(a, sizeof a, "%.0f/min", rt.per_min);
    char eta[32] = "";
    if (!isnan(rt.eta_s)) {
        fmt_age(e, sizeof e, (int64_t)(rt.eta_s * 1000));
        snprintf(eta, sizeof eta, ", done in %s", e);
    }
    snprintf(lines[n++], 256, "Rate        %s (limit %d/min)%s", a, c->rate_limit, eta);
    fmt_age(e, sizeof e, clock_real_ms() - c->updated_ms);
    snprintf(lines[n++], 256, "Changed     %s ago (version %d)", e, c->version);
    if (d->detail && strcmp(d->detail->id, c->id) == 0)
        n += history_lines(d->detail, lines + n, 64 - n);
    else
        snprintf(lines[n++], 256, "Reading its revisions and audit log...");
    draw_title(ctx, r, "Campaign details", "Esc back", true);
    for (int i = 0; i < r.h - 1; i++) {
        bool heading = i < n && (strncmp(lines[i], "Revisions", 9) == 0 || strncmp(lines[i], "Audit", 5) == 0 ||
                                 strncmp(lines[i], "Recipients", 10) == 0);
        draw_text(ctx, r.y + 1 + i, r.x, r.w, i < n ? lines[i] : "", false, heading ? ROLE_TITLE : ROLE_NORMAL);
    }
}

static void draw(void *st, const struct pane_data *d, const struct ui_ctx *ctx, struct rect r,
                 bool focused)
{
    struct campaigns_state *s = st;
    if (s->detail) {
        draw_detail(s, d, ctx, r);
        if (s->detail)
            return;
    }
    char extra[200];
    size_t total = d->camps ? d->camps->n : 0;
    snprintf(extra, sizeof extra, "%zu%s%zu  sort: %s%s%s%s", s->nview, s->filter[0] ? " of " : "",
             s->filter[0] ? total : (size_t)0, sort_names[s->sort], s->reverse ? " (reversed)" : "",
             s->filter[0] ? "  filter: " : "", s->filter);
    if (!s->filter[0])
        snprintf(extra, sizeof extra, "%zu  sort: %s%s", s->nview, sort_names[s->sort],
                 s->reverse ? " (reversed)" : "");
    draw_title(ctx, r, "Campaigns", extra, focused);
    int w[C_N];
    layout_columns(cols, C_N, r.w - 1, w);
    table_header(ctx, r.y + 1, r, cols, C_N, w, ~0u << C_PROGRESS);
    int rows = r.h - 2;
    s->page = rows > 0 ? (size_t)rows : 1;
    listview_fit(&s->lv, s->nview, s->page);
    if (s->nview == 0) {
        draw_text(ctx, r.y + 2, r.x + 2, r.w - 2,
                  !d->camps ? "Loading campaigns..." : s->filter[0] ? "No campaign matches the filter."
                                                                    : "No campaigns.",
                  false, ROLE_DIM);
        for (int i = 1; i < rows; i++)
            draw_blank(ctx, r.y + 2 + i, r.x, r.w, ROLE_NORMAL);
        return;
    }
    for (int i = 0; i < rows; i++) {
        int y = r.y + 2 + i;
        size_t vi = s->lv.top + (size_t)i;
        if (vi >= s->nview || !d->camps) {
            draw_blank(ctx, y, r.x, r.w, ROLE_NORMAL);
            continue;
        }
        const struct campaign *c = &d->camps->v[s->view[vi]];
        bool sel = vi == s->lv.sel;
        struct table_row t;
        table_row_begin(&t, ctx, y, r, sel, sel && focused ? ROLE_SELECTION : ROLE_NORMAL);
        char buf[96], a[16], b[16];
        struct campaign_rate rt = rate_tracker_get(d->rates, c, clock_mono_ms());
        snprintf(buf, sizeof buf, "%s %s", campaign_status_glyph(c->status, ctx->san != 0), c->status);
        table_cell(&t, w[C_ID], c->id, false);
        table_cell(&t, w[C_NAME], c->name, false);
        table_cell(&t, w[C_TYPE], c->type, false);
        table_cell(&t, w[C_STATUS], buf, false);
        table_cell(&t, w[C_SEGMENT], c->segment_name, false);
        fmt_count(a, sizeof a, c->sent);
        fmt_count(b, sizeof b, c->audience);
        snprintf(buf, sizeof buf, "%s/%s", a, b);
        table_bar_cell(&t, w[C_PROGRESS], (double)c->sent, (double)c->audience, buf);
        fmt_percent(buf, sizeof buf, c->opened, c->sent);
        table_cell(&t, w[C_OPEN], buf, true);
        fmt_percent(buf, sizeof buf, c->clicked, c->sent);
        table_cell(&t, w[C_CLICK], buf, true);
        if (isnan(rt.per_min))
            snprintf(buf, sizeof buf, "-");
        else
            fmt_count(buf, sizeof buf, (int64_t)llround(rt.per_min));
        table_cell(&t, w[C_RATE], buf, true);
        fmt_age(buf, sizeof buf, clock_real_ms() - c->updated_ms);
        table_cell(&t, w[C_CHANGED], buf, true);
        table_row_end(&t);
    }
}

static enum pane_result action(void *st, const struct pane_data *d, enum action_id a)
{
    struct campaigns_state *s = st;
    if (s->detail) {
        if (a == ACT_BACK) {
            s->detail = false;
            return PANE_REDRAW;
        }
        if (a == ACT_DOWN || a == ACT_UP) {
            listview_move(&s->lv, a, s->nview, s->page);
            remember_selection(s, d);
            return PANE_REDRAW;
        }
        return PANE_IGNORED;
    }
    if (listview_move(&s->lv, a, s->nview, s->page)) {
        remember_selection(s, d);
        return PANE_REDRAW;
    }
    switch (a) {
    case ACT_OPEN:
        if (s->lv.sel < s->nview) {
            remember_selection(s, d);
            s->detail = true;
        }
        return PANE_REDRAW;
    case ACT_BACK:
        if (!s->filter[0])
            return PANE_IGNORED;
        s->filter[0] = '\0';
        rebuild(s, d);
        return PANE_REDRAW;
    case ACT_SORT:
        s->sort = (enum sort_key)((s->sort + 1) % SORT_COUNT);
        rebuild(s, d);
        return PANE_REDRAW;
    case ACT_REVERSE:
        s->reverse = !s->reverse;
        rebuild(s, d);
        return PANE_REDRAW;
    default:
        return PANE_IGNORED;
    }
}

static void set_filter(void *st, const struct pane_data *d, const char *text)
{
    struct campaigns_state *s = st;
    snprintf(s->filter, sizeof s->filter, "%s", text);
    rebuild(s, d);
}

static void badge(void *st, const struct pane_data *d, char *buf, size_t n)
{
    (void)st;
    size_t active = 0;
    for (size_t i = 0; d->camps && i < d->camps->n; i++)
        active += strcmp(d->camps->v[i].status, "active") == 0;
    snprintf(buf, n, "%zu active", active);
}

static const char *detail_id(void *st, const struct pane_data *d)
{
    struct campaigns_state *s = st;
    if (!s->detail || s->lv.sel >= s->nview)
        return NULL;
    return d->camps->v[s->view[s->lv.sel]].id;
}

static void click(void *st, const struct pane_data *d, int row)
{
    struct campaigns_state *s = st;
    if (!s->detail && listview_click(&s->lv, row, s->nview))
        remember_selection(s, d);
}

static const struct campaign *selected(void *st, const struct pane_data *d)
{
    struct campaigns_state *s = st;
    if (s->lv.sel >= s->nview || !d->camps)
        return NULL;
    return &d->camps->v[s->view[s->lv.sel]];
}

static bool accepts(void *st, enum action_id a)
{
    const struct campaigns_state *s = st;
    if ((a >= ACT_LAUNCH && a <= ACT_RETRY_FAILED) || (a >= ACT_NEW && a <= ACT_PROMOTE))
        return true; /* in the list and in the details alike */
    if (s->detail) /* details: Esc, and Up/Down step through the campaigns */
        return a == ACT_BACK || a == ACT_DOWN || a == ACT_UP;
    return listview_accepts(a, false) || a == ACT_SORT || a == ACT_REVERSE;
}

const struct pane_ops campaigns_pane = {
    "Campaigns", create, destroy, update, draw, action, set_filter, badge, detail_id, click, accepts,
    selected,
};

void campaigns_pane_select(void *st, const struct pane_data *d, const char *id)
{
    struct campaigns_state *s = st;
    char *keep = strdup(id);
    if (!keep)
        return;
    free(s->sel_id);
    s->sel_id = keep;
    s->detail = false;
    rebuild(s, d);
    for (size_t i = 0; i < s->nview; i++)
        if (strcmp(d->camps->v[s->view[i]].id, id) == 0)
            return;
    /* the filter hides it: show everything */
    s->filter[0] = '\0';
    rebuild(s, d);
}
