/* The Audit log: every campaign action, newest first, with who made it as
 * the server saw the session (role, address, application) and as the
 * client reported itself (OS user, SSH client, tty). The filter takes
 * words that match anywhere, and campaign:ID user:NAME action:NAME terms
 * that match one field exactly. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "audit.h"
#include "clock.h"
#include "listview.h"
#include "pane.h"
#include "textmatch.h"

struct audit_state {
    struct listview lv;
    size_t *view, nview, capview;
    char filter[128];
    int64_t sel_id;        /* the selected entry, kept across updates */
    bool detail;
    size_t page;
};

/* One filter term against an entry. */
static bool term_matches(const struct audit_entry *e, const char *t)
{
    static const struct { const char *key; size_t off; } fields[] = {
        { "campaign:", offsetof(struct audit_entry, campaign_id) },
        { "action:", offsetof(struct audit_entry, action) },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        size_t k = strlen(fields[i].key);
        if (strncasecmp(t, fields[i].key, k) == 0) {
            const char *v = *(char *const *)((const char *)e + fields[i].off);
            return strcasecmp(v, t + k) == 0;
        }
    }
    if (strncasecmp(t, "user:", 5) == 0)
        return strcasecmp(e->os_user, t + 5) == 0 || strcasecmp(e->db_user, t + 5) == 0;
    const char *any[] = { e->action, e->campaign_id, e->from_status, e->to_status, e->db_user,
                          e->os_user, e->client_addr, e->ssh_client, e->tty, e->app, e->note,
                          e->request_id };
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++)
        if (text_contains(any[i], t))
            return true;
    return false;
}

static bool matches(const struct audit_entry *e, const char *filter)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", filter);
    char *save = NULL;
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
        if (!term_matches(e, t))
            return false;
    return true;
}

static void remember(struct audit_state *s, const struct pane_data *d)
{
    if (s->lv.sel < s->nview && d->audit)
        s->sel_id = d->audit->v[s->view[s->lv.sel]].id;
}

static void rebuild(struct audit_state *s, const struct pane_data *d)
{
    size_t n = d->audit ? d->audit->n : 0;
    s->nview = 0;
    if (n > s->capview) {
        size_t *g = realloc(s->view, n * sizeof *g);
        if (!g)
            return;
        s->view = g;
        s->capview = n;
    }
    for (size_t i = 0; i < n; i++)
        if (matches(&d->audit->v[i], s->filter))
            s->view[s->nview++] = i;
    for (size_t i = 0; s->sel_id && i < s->nview; i++) {
        if (d->audit->v[s->view[i]].id == s->sel_id) {
            s->lv.sel = i;
            return;
        }
    }
    listview_fit(&s->lv, s->nview, s->page);
    remember(s, d);
}

static void *create(void) { return calloc(1, sizeof(struct audit_state)); }

static void destroy(void *st)
{
    struct audit_state *s = st;
    free(s->view);
    free(s);
}

static void update(void *st, const struct pane_data *d) { rebuild(st, d); }

enum { A_TIME, A_ACTION, A_CAMPAIGN, A_STATUS, A_VERSION, A_SERVER, A_CLIENT, A_NOTE, A_N };
static const struct col_spec cols[A_N] = {
    [A_TIME] = { "TIME", 8, 19, 0, 0 },
    [A_ACTION] = { "ACTION", 6, 12, 0, 1 },
    [A_CAMPAIGN] = { "CAMPAIGN", 8, 9, 0, 2 },
    [A_STATUS] = { "STATUS", 10, 19, 0, 3 },
    [A_VERSION] = { "VERSION", 5, 7, 0, 6 },
    [A_SERVER] = { "SERVER SAW", 12, 28, 2, 4 },
    [A_CLIENT] = { "CLIENT SAID", 12, 30, 2, 5 },
    [A_NOTE] = { "NOTE", 8, 20, 3, 7 },
};

static void when(int64_t ms, bool full, char *buf, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, n, full ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
}

static void draw_detail(struct audit_state *s, const struct pane_data *d, const struct ui_ctx *ctx,
                        struct rect r)
{
    if (s->lv.sel >= s->nview || !d->audit) {
        s->detail = false;
        return;
    }
    const struct audit_entry *e = &d->audit->v[s->view[s->lv.sel]];
    char lines[16][400], t[32];
    int n = 0;
    when(e->at_ms, true, t, sizeof t);
    snprintf(lines[n++], 400, "When        %s", t);
    snprintf(lines[n++], 400, "Action      %s", e->action);
    snprintf(lines[n++], 400, "Campaign    %s", *e->campaign_id ? e->campaign_id : "-");
    snprintf(lines[n++], 400, "Status      %s -> %s", *e->from_status ? e->from_status : "-",
             *e->to_status ? e->to_status : "-");
    snprintf(lines[n++], 400, "Version     %d -> %d", e->from_version, e->to_version);
    if (e->revision)
        snprintf(lines[n++], 400, "Revision    %d", e->revision);
    snprintf(lines[n++], 400, "Server saw  role %s, application %s, from %s", e->db_user, e->app,
             e->client_addr);
    snprintf(lines[n++], 400, "Client said OS user %s, SSH %s, tty %s", *e->os_user ? e->os_user : "-",
             *e->ssh_client ? e->ssh_client : "-", *e->tty ? e->tty : "-");
    snprintf(lines[n++], 400, "Request id  %s", e->request_id);
    snprintf(lines[n++], 400, "Note        %s", *e->note ? e->note : "-");
    if (*e->details)
        snprintf(lines[n++], 400, "Details     %s", e->details);
    draw_title(ctx, r, "Audit entry", "Esc back", true);
    for (int i = 0; i < r.h - 1; i++)
        draw_text(ctx, r.y + 1 + i, r.x, r.w, i < n ? lines[i] : "", false, ROLE_NORMAL);
}

static void draw(void *st, const struct pane_data *d, const struct ui_ctx *ctx, struct rect r,
                 bool focused)
{
    struct audit_state *s = st;
    if (s->detail) {
        draw_detail(s, d, ctx, r);
        if (s->detail)
            return;
    }
    char extra[200];
    if (s->filter[0])
        snprintf(extra, sizeof extra, "%zu of %zu  filter: %s", s->nview, d->audit ? d->audit->n : 0,
                 s->filter);
    else
        snprintf(extra, sizeof extra, "newest %zu  (/ filters: words, campaign:ID user:NAME action:NAME)",
                 s->nview);
    draw_title(ctx, r, "Audit log", extra, focused);
    int w[A_N];
    layout_columns(cols, A_N, r.w - 1, w);
    table_header(ctx, r.y + 1, r, cols, A_N, w, 0);
    int rows = r.h - 2;
    s->page = rows > 0 ? (size_t)rows : 1;
    listview_fit(&s->lv, s->nview, s->page);
    for (int i = 0; i < rows; i++) {
        int y = r.y + 2 + i;
        size_t vi = s->lv.top + (size_t)i;
        if (vi >= s->nview || !d->audit) {
            const char *msg = !d->audit ? "Loading the audit log..." : "No entries.";
            draw_text(ctx, y, r.x, r.w, i == 0 && s->nview == 0 ? msg : "", false, ROLE_DIM);
            continue;
        }
        const struct audit_entry *e = &d->audit->v[s->view[vi]];
        bool sel = vi == s->lv.sel;
        struct table_row t;
        table_row_begin(&t, ctx, y, r, sel, sel && focused ? ROLE_SELECTION : ROLE_NORMAL);
        char buf[400];
        when(e->at_ms, w[A_TIME] >= 19, buf, sizeof buf);
        table_cell(&t, w[A_TIME], buf, false);
        table_cell(&t, w[A_ACTION], e->action, false);
        table_cell(&t, w[A_CAMPAIGN], *e->campaign_id ? e->campaign_id : "-", false);
        if (*e->from_status || *e->to_status)
            snprintf(buf, sizeof buf, "%s>%s", e->from_status, e->to_status);
        else
            snprintf(buf, sizeof buf, "-");
        table_cell(&t, w[A_STATUS], buf, false);
        if (e->to_version)
            snprintf(buf, sizeof buf, "%d>%d", e->from_version, e->to_version);
        else
            snprintf(buf, sizeof buf, "-");
        table_cell(&t, w[A_VERSION], buf, false);
        snprintf(buf, sizeof buf, "%s@%s", e->db_user, e->client_addr);
        table_cell(&t, w[A_SERVER], buf, false);
        snprintf(buf, sizeof buf, "%s %s %s", *e->os_user ? e->os_user : "-",
                 *e->ssh_client ? e->ssh_client : "-", *e->tty ? e->tty : "-");
        table_cell(&t, w[A_CLIENT], buf, false);
        table_cell(&t, w[A_NOTE], e->note, false);
        table_row_end(&t);
    }
}

static enum pane_result action(void *st, const struct pane_data *d, enum action_id a)
{
    struct audit_state *s = st;
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
    struct audit_state *s = st;
    snprintf(s->filter, sizeof s->filter, "%s", text);
    rebuild(s, d);
}

static void badge(void *st, const struct pane_data *d, char *buf, size_t n)
{
    (void)st;
    /* the entries are read only while the screen is shown */
    if (d->audit)
        snprintf(buf, n, "%zu", d->audit->n);
    else if (n)
        buf[0] = '\0';
}

static void click(void *st, const struct pane_data *d, int row)
{
    struct audit_state *s = st;
    if (!s->detail && listview_click(&s->lv, row, s->nview))
        remember(s, d);
}

static bool accepts(void *st, enum action_id a)
{
    const struct audit_state *s = st;
    return listview_accepts(a, s->detail);
}

const struct pane_ops audit_pane = {
    "Audit", create, destroy, update, draw, action, set_filter, badge, NULL, click, accepts, NULL,
};
