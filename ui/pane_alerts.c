/* The Alerts pane: for now the system's own health (/health, /ready, each
 * check) and the scrape status of every metrics target. Rule evaluation
 * comes later behind the same snapshot. Nothing here resolves by itself:
 * a failed request shows its error and the age of the last good answer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "format.h"
#include "listview.h"
#include "pane.h"
#include "poller.h"

struct alerts_state {
    struct listview lv;
    size_t page;
};

struct line {
    char text[600];
    enum role role;
};

static void *create(void) { return calloc(1, sizeof(struct alerts_state)); }
static void destroy(void *st) { free(st); }
static void update(void *st, const struct pane_data *d) { (void)st; (void)d; }

static enum role status_role(const char *status)
{
    if (!status)
        return ROLE_WARN;
    if (strcmp(status, "healthy") == 0 || strcmp(status, "ready") == 0 || strcmp(status, "ok") == 0)
        return ROLE_OK;
    if (strcmp(status, "degraded") == 0)
        return ROLE_WARN;
    return ROLE_CRIT;
}

/* A word for the state, so that it never rests on colour alone. */
static const char *mark(enum role r, bool ascii)
{
    if (r == ROLE_OK)
        return ascii ? "[ok]  " : "\xE2\x9C\x93 ok  ";    /* ✓ */
    if (r == ROLE_WARN)
        return ascii ? "[warn]" : "! warn";
    return ascii ? "[CRIT]" : "\xE2\x9C\x97 CRIT";         /* ✗ */
}

static void endpoint_lines(const struct endpoint_status *ep, const char *what, bool have,
                           struct line *out, size_t *n, size_t max, bool ascii)
{
    char age[16];
    if (*n >= max)
        return;
    struct line *l = &out[(*n)++];
    int64_t now = clock_real_ms();
    if (ep->ok) {
        fmt_age(age, sizeof age, now - ep->last_ok_ms);
        snprintf(l->text, sizeof l->text, "%s %-8s %s  answered %s ago", mark(ROLE_OK, ascii), what,
                 ep->url, age);
        l->role = ROLE_OK;
    } else if (ep->last_try_ms == 0) {
        snprintf(l->text, sizeof l->text, "%s %-8s %s  waiting for the first answer", mark(ROLE_WARN, ascii),
                 what, ep->url);
        l->role = ROLE_WARN;
    } else {
        if (have && ep->last_ok_ms)
            fmt_age(age, sizeof age, now - ep->last_ok_ms);
        else
            snprintf(age, sizeof age, "never");
        snprintf(l->text, sizeof l->text, "%s %-8s %s  %s; last good answer: %s%s", mark(ROLE_CRIT, ascii),
                 what, ep->url, ep->error, age, have && ep->last_ok_ms ? " ago (shown below, stale)" : "");
        l->role = ROLE_CRIT;
    }
}

static void health_lines(const struct health_info *h, const char *what, struct line *out, size_t *n,
                         size_t max, bool ascii)
{
    endpoint_lines(&h->ep, what, h->have, out, n, max, ascii);
    if (!h->have || *n >= max)
        return;
    struct line *l = &out[(*n)++];
    char up[16] = "?";
    if (h->uptime >= 0)
        fmt_age(up, sizeof up, h->uptime * 1000);
    enum role r = status_role(h->status);
    snprintf(l->text, sizeof l->text, "    %s status %s, version %s, up %s", mark(r, ascii),
             h->status ? h->status : "?", h->version ? h->version : "?", up);
    l->role = r;
    for (size_t i = 0; i < h->n_checks && *n < max; i++) {
        l = &out[(*n)++];
        r = status_role(h->check_status[i]);
        snprintf(l->text, sizeof l->text, "    %s %-16s %s", mark(r, ascii), h->check_names[i],
                 h->check_status[i]);
        l->role = r;
    }
}

/* The database, first: the status line has room for little of its error. */
static void database_line(const struct pane_data *d, struct line *out, size_t *n, bool ascii)
{
    const struct dbw_status *st = d->dbst;
    if (!st)
        return;
    char age[16] = "none";
    if (st->data_ms)
        fmt_age(age, sizeof age, clock_real_ms() - st->data_ms);
    struct line *l = &out[(*n)++];
    if (st->state == DBW_CONNECTED) {
        l->role = st->error[0] ? ROLE_WARN : st->live ? ROLE_OK : ROLE_WARN;
        snprintf(l->text, sizeof l->text, "%s database connected, data %s old%s%s%s", mark(l->role, ascii), age,
                 st->live ? "" : ", no live updates (the listening connection is down)",
                 st->error[0] ? ": " : "", st->error);
    } else {
        l->role = ROLE_CRIT;
        snprintf(l->text, sizeof l->text, "%s database %s (attempt %d), data %s old: %s", mark(ROLE_CRIT, ascii),
                 st->state == DBW_CONNECTING ? "connecting" : "reconnecting", st->attempt, age,
                 st->error[0] ? st->error : "...");
    }
}

static size_t build(const struct pane_data *d, struct line *out, size_t max, bool ascii)
{
    size_t n = 0;
    database_line(d, out, &n, ascii);
    if (!d->poll) {
        snprintf(out[n].text, sizeof out[n].text, "No metrics or health endpoint is configured: set "
                 "metrics_url and health_url (marketing.conf, MARKETING_METRICS_URL, --metrics-url).");
        out[n++].role = ROLE_DIM;
        return n;
    }
    const struct poll_snapshot *p = d->poll;
    if (d->health_configured)
        health_lines(&p->health, "health", out, &n, max, ascii);
    if (p->ready.ep.url && *p->ready.ep.url)
        health_lines(&p->ready, "ready", out, &n, max, ascii);
    for (size_t i = 0; i < p->n_targets && n < max; i++)
        endpoint_lines(&p->targets[i], "metrics", p->have_counters, out, &n, max, ascii);
    if (p->have_counters && n < max && isfinite(p->db_conn_active) && isfinite(p->db_conn_max)) {
        char a[32];
        snprintf(a, sizeof a, "%.1f", p->db_conn_max > 0 ? 100.0 * p->db_conn_active / p->db_conn_max : 0.0);
        snprintf(out[n].text, sizeof out[n].text, "    database connections %.0f of %.0f (%s%%)",
                 p->db_conn_active, p->db_conn_max, a);
        out[n++].role = ROLE_NORMAL;
    }
    return n;
}

static void draw(void *st, const struct pane_data *d, const struct ui_ctx *ctx, struct rect r,
                 bool focused)
{
    struct alerts_state *s = st;
    static struct line lines[128];
    size_t n = build(d, lines, 128, ctx->san != 0);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += lines[i].role == ROLE_CRIT;
    char extra[64];
    snprintf(extra, sizeof extra, "%zu problem%s", bad, bad == 1 ? "" : "s");
    draw_title(ctx, r, "Alerts and health", extra, focused);
    s->page = r.h > 1 ? (size_t)(r.h - 1) : 1;
    listview_fit(&s->lv, n, s->page);
    for (int i = 0; i < r.h - 1; i++) {
        size_t li = s->lv.top + (size_t)i;
        if (li >= n) {
            draw_blank(ctx, r.y + 1 + i, r.x, r.w, ROLE_NORMAL);
            continue;
        }
        enum role role = li == s->lv.sel && focused ? ROLE_SELECTION : lines[li].role;
        draw_text(ctx, r.y + 1 + i, r.x, r.w, lines[li].text, false, role);
    }
}

static enum pane_result action(void *st, const struct pane_data *d, enum action_id a)
{
    struct alerts_state *s = st;
    static struct line lines[128];
    size_t n = build(d, lines, 128, true);
    return listview_move(&s->lv, a, n, s->page) ? PANE_REDRAW : PANE_IGNORED;
}

static void badge(void *st, const struct pane_data *d, char *buf, size_t n)
{
    (void)st;
    if (!d->poll && !d->metrics_configured && !d->health_configured &&
        (!d->dbst || d->dbst->state == DBW_CONNECTED)) {
        snprintf(buf, n, "off");
        return;
    }
    static struct line lines[128];
    size_t k = build(d, lines, 128, true), bad = 0;
    for (size_t i = 0; i < k; i++)
        bad += lines[i].role == ROLE_CRIT;
    if (bad)
        snprintf(buf, n, "%zu!", bad);
    else
        snprintf(buf, n, "ok");
}

static bool accepts(void *st, enum action_id a)
{
    (void)st;
    return a == ACT_DOWN || a == ACT_UP || a == ACT_PAGE_DOWN || a == ACT_PAGE_UP || a == ACT_TOP || a == ACT_BOTTOM;
}

const struct pane_ops alerts_pane = {
    "Alerts", create, destroy, update, draw, action, NULL, badge, NULL, NULL, accepts,
};
