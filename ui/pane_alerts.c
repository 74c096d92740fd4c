/* The Alerts pane: every alert rule with its state (most severe first),
 * then the system's own health (/health, /ready, each check), the database
 * and the scrape status of every metrics target. Enter shows a rule whole:
 * its alerts, labels, annotations and runbook. Nothing here resolves by
 * itself: a failed scrape freezes the rules and says "no data", a failed
 * request shows its error and the age of the last good answer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertack.h"
#include "alertview.h"
#include "clock.h"
#include "format.h"
#include "listview.h"
#include "pane.h"
#include "poller.h"
#include "sanitize.h"

struct alerts_state {
    struct listview lv;
    size_t page;
    bool detail;
    char *detail_rule;        /* the rule shown in detail (ours) */
    struct listview dlv;      /* scrolling in the detail */
    size_t dpage;
};

struct line {
    char text[600];
    enum role role;
    int rule;                 /* index into poll->rules, or -1 */
};

static void *create(void) { return calloc(1, sizeof(struct alerts_state)); }
static void destroy(void *st)
{
    struct alerts_state *s = st;
    free(s->detail_rule);
    free(s);
}
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

/* ---- rules ---- */

/* Most severe first: firing, errors, no data, pending, then the rest. */
static int severity(const struct rule_view *r)
{
    if (r->state == ALERT_FIRING)
        return 0;
    if (r->error)
        return 1;
    if (r->no_data)
        return 2;
    return r->state == ALERT_PENDING ? 3 : 4;
}

static void value_text(double v, char *buf, size_t n)
{
    if (isnan(v))
        snprintf(buf, n, "NaN");
    else if (isinf(v))
        snprintf(buf, n, "%sInf", v > 0 ? "+" : "-");
    else if (v != 0 && (fabs(v) >= 1e6 || fabs(v) < 1e-3))
        snprintf(buf, n, "%.3g", v);
    else
        snprintf(buf, n, "%.4g", v);
}

/* The alert that speaks for the rule: the longest firing, else the longest
 * pending; NULL when none is active. */
static const struct alert_view *lead_alert(const struct rule_view *r)
{
    const struct alert_view *best = NULL;
    for (size_t i = 0; i < r->n_alerts; i++) {
        const struct alert_view *a = &r->alerts[i];
        if (a->state == ALERT_INACTIVE)
            continue;
        if (!best || a->state > best->state ||
            (a->state == best->state && a->active_at_ms < best->active_at_ms))
            best = a;
    }
    return best;
}

/* The ack or snooze in force on an alert (or, with a NULL alert, on the
 * whole rule), or NULL. */
static const struct alertack *ack_of(const struct pane_data *d, const struct rule_view *r,
                                     const struct alert_view *a, int64_t now)
{
    if (!d->acks)
        return NULL;
    struct alertack_label l[64];
    size_t n = 0;
    for (size_t i = 0; a && i < a->n_labels && n < 64; i++)
        l[n++] = (struct alertack_label){ a->labels[i].name, a->labels[i].value };
    return alertack_match(d->acks, r->name, l, n, a ? a->active_at_ms : 0, now);
}

static void until_text(int64_t ms, char *buf, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, n, "%H:%M", &tm);
}

static void rule_line(const struct pane_data *d, const struct rule_view *r, int idx, struct line *l, bool ascii,
                      int64_t now, int nw)
{
    const char *sev = NULL;
    for (size_t i = 0; i < r->n_labels && !sev; i++)
        if (strcmp(r->labels[i].name, "severity") == 0)
            sev = r->labels[i].value;
    char state[40], val[64], when[64], age[16], src[64];
    const struct alert_view *a = lead_alert(r);
    size_t active = 0;
    for (size_t i = 0; i < r->n_alerts; i++)
        active += r->alerts[i].state != ALERT_INACTIVE;
    if (r->error) {
        l->role = ROLE_CRIT;
        snprintf(state, sizeof state, "%s", ascii ? "[ERR] ERROR  " : "\xE2\x9C\x97 ERROR    ");
    } else if (r->no_data) {
        l->role = ROLE_WARN;
        snprintf(state, sizeof state, "%s", ascii ? "[?]  NO DATA" : "? NO DATA  ");
    } else if (r->state == ALERT_FIRING) {
        l->role = ROLE_CRIT;
        snprintf(state, sizeof state, "%s", ascii ? "[!!] FIRING " : "\xE2\x9C\x97 FIRING   ");
    } else if (r->state == ALERT_PENDING) {
        l->role = ROLE_WARN;
        snprintf(state, sizeof state, "%s", ascii ? "[..] pending" : "! pending  ");
    } else {
        l->role = ROLE_OK;
        snprintf(state, sizeof state, "%s", ascii ? "[ok] ok     " : "\xE2\x9C\x93 ok       ");
    }
    char v[32];
    if (a) {
        value_text(a->value, v, sizeof v);
        if (active > 1)
            snprintf(val, sizeof val, "%s (%zu alerts)", v, active);
        else
            snprintf(val, sizeof val, "%s", v);
    } else if (r->source && strcmp(r->source, "prometheus") == 0) {
        snprintf(val, sizeof val, "-");
    } else if (r->n_current) {
        value_text(r->current, v, sizeof v);
        snprintf(val, sizeof val, "%s, fires %s", v, r->threshold ? r->threshold : "?");
    } else {
        snprintf(val, sizeof val, "no series");
    }
    when[0] = '\0';
    if (a) {
        char f[16];
        fmt_age(age, sizeof age, now - a->active_at_ms);
        if (a->state == ALERT_FIRING) {
            snprintf(when, sizeof when, "for %s", age);
        } else {
            fmt_age(f, sizeof f, r->for_ms);
            snprintf(when, sizeof when, "%s of %s", age, f);
        }
    }
    if (r->data_ms > 0)
        fmt_age(age, sizeof age, now - r->data_ms);
    else
        snprintf(age, sizeof age, "-");
    snprintf(src, sizeof src, "%s, data %s", r->source ? r->source : "here", age);
    if ((r->no_data || r->error) && r->why) {
        snprintf(l->text, sizeof l->text, "%s %-*s %-8s frozen %s: %s", state, nw, r->name, sev ? sev : "",
                 alert_state_name(r->state), r->why);
    } else {
        snprintf(l->text, sizeof l->text, "%s %-*s %-8s %-24s %-14s %s", state, nw, r->name,
                 sev ? sev : "", val, when, src);
    }
    /* acknowledged or snoozed: said first, the state still shown */
    const struct alertack *k = ack_of(d, r, a, now);
    if (k) {
        /* what was said of it matters more than the when and where */
        char until[16];
        until_text(k->expires_ms, until, sizeof until);
        snprintf(l->text, sizeof l->text, "%s %-*s %-8s %-24s [%s by %s until %s: %s]", state, nw, r->name,
                 sev ? sev : "", (r->no_data || r->error) ? "no data" : val,
                 k->kind == ALERTACK_SNOOZE ? "snoozed" : "acked",
                 k->os_user && *k->os_user ? k->os_user : k->db_user, until, k->comment);
        if (l->role == ROLE_CRIT || l->role == ROLE_WARN)
            l->role = k->kind == ALERTACK_SNOOZE ? ROLE_DIM : ROLE_WARN;
    }
    l->rule = idx;
}

static void rule_lines(const struct pane_data *d, struct line *out, size_t *n, size_t max, bool ascii)
{
    int64_t now = clock_real_ms();
    int nw = 12;
    for (size_t i = 0; i < d->n_rules; i++) {
        int w = san_width(d->rules[i].name, strlen(d->rules[i].name), ascii ? SAN_ASCII : 0);
        if (w > nw)
            nw = w > 40 ? 40 : w;
    }
    for (int sev = 0; sev <= 4; sev++)
        for (size_t i = 0; i < d->n_rules && *n < max; i++)
            if (severity(&d->rules[i]) == sev)
                rule_line(d, &d->rules[i], (int)i, &out[(*n)++], ascii, now, nw);
}

static size_t build(const struct pane_data *d, struct line *out, size_t max, bool ascii)
{
    size_t n = 0;
    for (size_t i = 0; i < max; i++)
        out[i].rule = -1;
    if (d->n_rules)
        rule_lines(d, out, &n, max, ascii);
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
    if (p->have_rules && n < max) {
        char se[32], sa[32];
        fmt_count(se, sizeof se, (int64_t)p->tsdb_series);
        fmt_count(sa, sizeof sa, (int64_t)p->tsdb_samples);
        snprintf(out[n].text, sizeof out[n].text, "    series store: %s series, %s samples (rules evaluated here)",
                 se, sa);
        out[n++].role = ROLE_DIM;
    }
    return n;
}

/* ---- one rule, whole ---- */

static const struct rule_view *find_rule(const struct pane_data *d, const char *name)
{
    for (size_t i = 0; name && i < d->n_rules; i++)
        if (strcmp(d->rules[i].name, name) == 0)
            return &d->rules[i];
    return NULL;
}

#define DETAIL_MAX 400

struct dtext {
    char (*v)[600];
    enum role *role;
    size_t n;
    int width;
};

/* One line of the detail, formatted as snprintf does. */
#define dadd(t, r, ...)                                                      \
    do {                                                                     \
        if ((t)->n < DETAIL_MAX) {                                           \
            snprintf((t)->v[(t)->n], sizeof (t)->v[0], __VA_ARGS__);          \
            (t)->role[(t)->n++] = (r);                                       \
        }                                                                    \
    } while (0)

/* A long text (a description, a runbook) as lines of at most width bytes,
 * broken at spaces where it can be; each of its own lines kept. */
static void dwrap(struct dtext *t, enum role role, const char *indent, const char *text)
{
    size_t w = t->width > 20 ? (size_t)t->width - strlen(indent) : 20;
    while (*text) {
        size_t len = strcspn(text, "\n");
        const char *p = text;
        do {
            size_t take = len;
            if (take > w) {
                take = w;
                while (take > w / 2 && p[take] != ' ')
                    take--;
                if (p[take] != ' ')
                    take = w;
            }
            dadd(t, role, "%s%.*s", indent, (int)take, p);
            p += take;
            len -= take;
            while (len && *p == ' ') {
                p++;
                len--;
            }
        } while (len);
        text = p;
        if (*text == '\n')
            text++;
    }
}

static void when_text(int64_t ms, int64_t now, char *buf, size_t n)
{
    if (!ms) {
        snprintf(buf, n, "-");
        return;
    }
    char age[16], clock[16];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(clock, sizeof clock, "%H:%M:%S", &tm);
    fmt_age(age, sizeof age, now - ms);
    snprintf(buf, n, "%s (%s ago)", clock, age);
}

static void labels_text(const struct rule_pair *l, size_t n, char *buf, size_t sz)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < sz; i++)
        used += (size_t)snprintf(buf + used, sz - used, "%s%s=\"%s\"", i ? ", " : "", l[i].name, l[i].value);
    if (!n)
        snprintf(buf, sz, "(none)");
}

static size_t detail_lines(const struct rule_view *r, const struct alertack_list *d_acks, struct dtext *t)
{
    int64_t now = clock_real_ms();
    char a[128], b[128], c[128], v[32];
    t->n = 0;
    enum role top = r->state == ALERT_FIRING || r->error ? ROLE_CRIT
                    : r->state == ALERT_PENDING || r->no_data ? ROLE_WARN : ROLE_OK;
    dadd(t, top, "State       %s%s%s%s", r->error ? "error, " : r->no_data ? "NO DATA, frozen as " : "",
         alert_state_name(r->state), r->why ? ": " : "", r->why ? r->why : "");
    when_text(r->last_eval_ms, now, a, sizeof a);
    if (r->data_ms)
        fmt_age(b, sizeof b, now - r->data_ms);
    else
        snprintf(b, sizeof b, "unknown");
    dadd(t, ROLE_NORMAL, "Source      %s; evaluated %s; data %s old",
         strcmp(r->source ? r->source : "here", "here") == 0 ? "evaluated here, by this console"
                                                             : "read from the Prometheus server",
         a, b);
    size_t at = t->n;
    dwrap(t, ROLE_NORMAL, "            ", r->expr);
    if (at < t->n)
        memcpy(t->v[at], "Expression", 10);
    fmt_age(a, sizeof a, r->for_ms);
    fmt_age(b, sizeof b, r->keep_firing_for_ms);
    fmt_age(c, sizeof c, r->interval_ms);
    dadd(t, ROLE_NORMAL, "For         %s, keep firing for %s, every %s (group %s)", a, b, c, r->group);
    if (r->n_current) {
        value_text(r->current, v, sizeof v);
        dadd(t, ROLE_NORMAL, "Value now   %s%s%s (largest of %zu series)", v, r->threshold ? ", fires " : "",
             r->threshold ? r->threshold : "", r->n_current);
    }
    char lab[600];
    labels_text(r->labels, r->n_labels, lab, sizeof lab);
    dadd(t, ROLE_NORMAL, "Labels      %s", lab);
    for (size_t i = 0; i < r->n_annotations; i++)
        if (strcmp(r->annotations[i].name, "runbook") != 0)
            dadd(t, ROLE_DIM, "%-11.11s %s", r->annotations[i].name, r->annotations[i].value);
    dadd(t, ROLE_NORMAL, " ");
    dadd(t, ROLE_HEADER, "Alerts (%zu)", r->n_alerts);
    if (!r->n_alerts)
        dadd(t, ROLE_DIM, "  none: the expression returns no series");
    for (size_t i = 0; i < r->n_alerts; i++) {
        const struct alert_view *al = &r->alerts[i];
        enum role role = al->state == ALERT_FIRING ? ROLE_CRIT : al->state == ALERT_PENDING ? ROLE_WARN : ROLE_DIM;
        value_text(al->value, v, sizeof v);
        when_text(al->active_at_ms, now, a, sizeof a);
        if (al->state == ALERT_INACTIVE)
            when_text(al->resolved_at_ms, now, a, sizeof a);
        dadd(t, role, "  %-8s value %s, %s %s", al->state == ALERT_INACTIVE ? "resolved" : alert_state_name(al->state),
             v, al->state == ALERT_INACTIVE ? "at" : "since", a);
        labels_text(al->labels, al->n_labels, lab, sizeof lab);
        dwrap(t, ROLE_NORMAL, "    ", lab);
        if (al->summary)
            dwrap(t, ROLE_NORMAL, "    ", al->summary);
        if (al->description)
            dwrap(t, ROLE_NORMAL, "    ", al->description);
    }
    for (size_t i = 0; d_acks && i < d_acks->n; i++) {
        const struct alertack *k = &d_acks->v[i];
        if (strcmp(k->rule, r->name) != 0)
            continue;
        char until[16];
        until_text(k->expires_ms, until, sizeof until);
        dadd(t, ROLE_WARN, "%s %lld by %s until %s%s: %s", k->kind == ALERTACK_SNOOZE ? "Snoozed" : "Acked  ",
             (long long)k->id, k->who, until, k->n_labels ? " (some of its alerts)" : "", k->comment);
    }
    if (r->runbook) {
        dadd(t, ROLE_NORMAL, " ");
        dadd(t, ROLE_HEADER, "Runbook %s", r->runbook);
        if (r->runbook_text)
            dwrap(t, ROLE_NORMAL, "  ", r->runbook_text);
        else
            dadd(t, ROLE_DIM, "  (no text for it here: not shipped, and no runbooks/%s.md beside the rule file)",
                 r->runbook);
    }
    return t->n;
}

static char detail_buf[DETAIL_MAX][600];
static enum role detail_role[DETAIL_MAX];

static void draw_detail(struct alerts_state *s, const struct pane_data *d, const struct ui_ctx *ctx,
                        struct rect r)
{
    const struct rule_view *rv = find_rule(d, s->detail_rule);
    if (!rv) {
        s->detail = false;
        return;
    }
    struct dtext t = { detail_buf, detail_role, 0, r.w };
    size_t n = detail_lines(rv, d->acks, &t);
    draw_title(ctx, r, rv->name, "Esc back", true);
    s->dpage = r.h > 1 ? (size_t)(r.h - 1) : 1;
    /* the detail scrolls by its top line */
    if (n <= s->dpage)
        s->dlv.top = 0;
    else if (s->dlv.top > n - s->dpage)
        s->dlv.top = n - s->dpage;
    for (int i = 0; i < r.h - 1; i++) {
        size_t li = s->dlv.top + (size_t)i;
        draw_text(ctx, r.y + 1 + i, r.x, r.w, li < n ? detail_buf[li] : "", false,
                  li < n ? detail_role[li] : ROLE_NORMAL);
    }
}

static struct line lines[128];

static void draw(void *st, const struct pane_data *d, const struct ui_ctx *ctx, struct rect r,
                 bool focused)
{
    struct alerts_state *s = st;
    if (s->detail) {
        draw_detail(s, d, ctx, r);
        if (s->detail)
            return;
    }
    size_t n = build(d, lines, 128, ctx->san != 0);
    size_t bad = 0, firing = 0;
    for (size_t i = 0; i < n; i++) {
        bad += lines[i].role == ROLE_CRIT && lines[i].rule < 0;
        firing += lines[i].rule >= 0 && d->rules[lines[i].rule].state == ALERT_FIRING;
    }
    char extra[64];
    snprintf(extra, sizeof extra, "%zu firing, %zu problem%s", firing, bad, bad == 1 ? "" : "s");
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

/* The rule on the selected line, or NULL. */
static const struct rule_view *selected_rule(const struct alerts_state *s, const struct pane_data *d)
{
    size_t n = build(d, lines, 128, true);
    if (s->lv.sel >= n || lines[s->lv.sel].rule < 0)
        return NULL;
    return &d->rules[lines[s->lv.sel].rule];
}

static enum pane_result action(void *st, const struct pane_data *d, enum action_id a)
{
    struct alerts_state *s = st;
    if (s->detail) {
        if (a == ACT_BACK) {
            s->detail = false;
            return PANE_REDRAW;
        }
        size_t top = s->dlv.top;
        if (a == ACT_DOWN)
            s->dlv.top++;
        else if (a == ACT_UP && top)
            s->dlv.top--;
        else if (a == ACT_PAGE_DOWN)
            s->dlv.top += s->dpage;
        else if (a == ACT_PAGE_UP)
            s->dlv.top = top > s->dpage ? top - s->dpage : 0;
        else if (a == ACT_TOP)
            s->dlv.top = 0;
        else if (a == ACT_BOTTOM)
            s->dlv.top = (size_t)DETAIL_MAX;
        else
            return PANE_IGNORED; /* jump, ack and snooze work here too */
        return PANE_REDRAW;
    }
    if (a == ACT_OPEN) {
        const struct rule_view *r = selected_rule(s, d);
        if (!r)
            return PANE_IGNORED;
        free(s->detail_rule);
        s->detail_rule = strdup(r->name);
        s->detail = s->detail_rule != NULL;
        s->dlv.top = 0;
        return PANE_REDRAW;
    }
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
    size_t k = build(d, lines, 128, true), bad = 0, firing = 0, nodata = 0;
    for (size_t i = 0; i < k; i++) {
        if (lines[i].rule >= 0) {
            const struct rule_view *r = &d->rules[lines[i].rule];
            firing += r->state == ALERT_FIRING;
            nodata += r->no_data || r->error;
        } else {
            bad += lines[i].role == ROLE_CRIT;
        }
    }
    if (firing)
        snprintf(buf, n, "%zu firing", firing);
    else if (bad)
        snprintf(buf, n, "%zu!", bad);
    else if (nodata)
        snprintf(buf, n, "no data");
    else
        snprintf(buf, n, "ok");
}

static void click(void *st, const struct pane_data *d, int row)
{
    struct alerts_state *s = st;
    if (s->detail || row < 1)
        return;
    size_t n = build(d, lines, 128, true);
    size_t at = s->lv.top + (size_t)(row - 1);
    if (at < n)
        s->lv.sel = at;
}

static bool accepts(void *st, enum action_id a)
{
    const struct alerts_state *s = st;
    if (a == ACT_JUMP || a == ACT_ACK || a == ACT_SNOOZE || a == ACT_UNACK)
        return true;
    if (s->detail)
        return a == ACT_BACK || a == ACT_DOWN || a == ACT_UP || a == ACT_PAGE_DOWN || a == ACT_PAGE_UP ||
               a == ACT_TOP || a == ACT_BOTTOM;
    return a == ACT_DOWN || a == ACT_UP || a == ACT_PAGE_DOWN || a == ACT_PAGE_UP || a == ACT_TOP ||
           a == ACT_BOTTOM || a == ACT_OPEN;
}

/* The campaign the selected alert names (a campaign_id or campaign label
 * on the alert, or on the rule), among the campaigns known; NULL if none. */
static const struct campaign *selected(void *st, const struct pane_data *d)
{
    const struct alerts_state *s = st;
    const struct rule_view *r = s->detail ? find_rule(d, s->detail_rule) : selected_rule(s, d);
    if (!r || !d->camps)
        return NULL;
    const char *id = NULL;
    const struct alert_view *a = lead_alert(r);
    for (size_t i = 0; !a && i < r->n_alerts; i++)
        a = &r->alerts[i];
    static const char *const names[] = { "campaign_id", "campaign" };
    for (size_t k = 0; k < 2 && !id; k++) {
        if (a)
            id = alert_view_label(a, names[k]);
        for (size_t i = 0; !id && i < r->n_labels; i++)
            if (strcmp(r->labels[i].name, names[k]) == 0)
                id = r->labels[i].value;
    }
    for (size_t i = 0; id && i < d->camps->n; i++)
        if (strcmp(d->camps->v[i].id, id) == 0 || strcmp(d->camps->v[i].name, id) == 0)
            return &d->camps->v[i];
    return NULL;
}

const struct pane_ops alerts_pane = {
    "Alerts", create, destroy, update, draw, action, NULL, badge, NULL, click, accepts, selected,
};

const char *alerts_pane_rule(void *st, const struct pane_data *d)
{
    const struct alerts_state *s = st;
    const struct rule_view *r = s->detail ? find_rule(d, s->detail_rule) : selected_rule(s, d);
    return r ? r->name : NULL;
}
