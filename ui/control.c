/* Campaign actions in the console: the key (or command), the checks that
 * need no database (read-only, the status allows it), the confirm dialog
 * with the pre-flight check for a launch, and the outcome on the hint
 * line. The write itself runs on the database worker; this file only asks
 * and tells. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chrome.h"
#include "curs.h"
#include "format.h"
#include "poller.h"

static enum ctl_action ctl_of(enum action_id a)
{
    switch (a) {
    case ACT_LAUNCH: return CTL_LAUNCH;
    case ACT_PAUSE: return CTL_PAUSE;
    case ACT_RESUME: return CTL_RESUME;
    case ACT_CANCEL: return CTL_CANCEL;
    case ACT_ROLLBACK: return CTL_ROLLBACK;
    case ACT_RETRY_FAILED: return CTL_RETRY_FAILED;
    default: return CTL_STOP_ALL;
    }
}

/* Why nothing may be written now, or NULL. */
static const char *read_only_reason(const struct ui *ui, char *buf, size_t n)
{
    if (ui->cfg->read_only) {
        snprintf(buf, n, "read_only is set (--read-only, MARKETING_READ_ONLY or marketing.conf)");
        return buf;
    }
    if (ui->dbst.write_known && !ui->dbst.can_write) {
        snprintf(buf, n, "%s", ui->dbst.write_reason);
        return buf;
    }
    return NULL;
}

static const struct campaign *find_campaign(const struct ui *ui, const char *id)
{
    for (size_t i = 0; ui->camps && i < ui->camps->n; i++)
        if (strcmp(ui->camps->v[i].id, id) == 0)
            return &ui->camps->v[i];
    return NULL;
}

void control_begin(struct ui *ui, enum action_id a, const char *arg)
{
    enum ctl_action act = ctl_of(a);
    char why[200], msg[512];
    if (read_only_reason(ui, why, sizeof why)) {
        snprintf(msg, sizeof msg, "Read-only: %s. Nothing was changed.", why);
        chrome_message(ui, msg);
        return;
    }
    if (ui->dbst.action_busy) {
        chrome_message(ui, "An action is still in flight: wait for its outcome.");
        return;
    }
    struct confirm *c = &ui->confirm;
    memset(c, 0, sizeof *c);
    c->act = act;
    if (act == CTL_STOP_ALL) {
        for (size_t i = 0; ui->camps && i < ui->camps->n; i++)
            c->active += strcmp(ui->camps->v[i].status, "active") == 0;
        ui->mode = MODE_CONFIRM;
        ui->dirty = true;
        return;
    }
    /* the campaign: named on the command line, else the selected row */
    char id[64] = "";
    int to_rev = 0;
    if (arg && *arg) {
        size_t len = strcspn(arg, " \t");
        snprintf(id, sizeof id, "%.*s", (int)(len < sizeof id ? len : sizeof id - 1), arg);
        const char *rev = arg + len;
        while (*rev == ' ' || *rev == '\t')
            rev++;
        if (*rev) {
            char *end;
            long v = strtol(rev, &end, 10);
            if (*end || v < 1 || v > 1000000) {
                snprintf(msg, sizeof msg, "'%.40s' is not a revision number.", rev);
                chrome_message(ui, msg);
                return;
            }
            to_rev = (int)v;
        }
    }
    const struct campaign *cp = NULL;
    if (id[0]) {
        cp = find_campaign(ui, id);
        if (!cp) {
            snprintf(msg, sizeof msg, "No campaign %s in the list.", id);
            chrome_message(ui, msg);
            return;
        }
    } else {
        struct pane_data d = { .camps = ui->camps };
        const struct pane *p = &ui->panes[0];
        cp = p->ops->selected ? p->ops->selected(p->st, &d) : NULL;
        if (!cp) {
            chrome_message(ui, "No campaign selected.");
            return;
        }
    }
    if (!ctl_allowed(act, cp->status)) {
        bool already = (act == CTL_PAUSE && strcmp(cp->status, "paused") == 0) ||
                       (act == CTL_RESUME && strcmp(cp->status, "active") == 0) ||
                       (act == CTL_CANCEL && strcmp(cp->status, "cancelled") == 0);
        if (already)
            snprintf(msg, sizeof msg, "%s is already %s.", cp->id, cp->status);
        else
            snprintf(msg, sizeof msg, "Cannot %s %s: it is %s (only %s can).",
                     act == CTL_RETRY_FAILED ? "retry the failed deliveries of" : ctl_action_name(act),
                     cp->id, cp->status, ctl_allowed_from(act));
        chrome_message(ui, msg);
        return;
    }
    snprintf(c->id, sizeof c->id, "%s", cp->id);
    snprintf(c->name, sizeof c->name, "%s", cp->name);
    snprintf(c->status, sizeof c->status, "%s", cp->status);
    c->version = cp->version;
    c->revision = cp->revision;
    if (act == CTL_ROLLBACK) {
        c->to_revision = to_rev > 0 ? to_rev : cp->revision - 1;
        if (c->to_revision < 1 || c->to_revision >= cp->revision) {
            snprintf(msg, sizeof msg, "Cannot roll back %s: %s.", cp->id,
                     cp->revision <= 1 ? "it has no earlier revision"
                                       : "pick a revision before the current one");
            chrome_message(ui, msg);
            return;
        }
    }
    if (act == CTL_LAUNCH) {
        c->pf_wait = true;
        dbworker_want_preflight(ui->db, c->id);
    }
    ui->mode = MODE_CONFIRM;
    ui->dirty = true;
}

static void submit(struct ui *ui)
{
    struct confirm *c = &ui->confirm;
    struct ctl_request rq;
    char why[200], msg[512];
    ui->mode = MODE_NORMAL;
    ui->dirty = true;
    if (ctl_request_init(&rq, c->act, c->act == CTL_STOP_ALL ? "" : c->id,
                         c->act == CTL_STOP_ALL ? 0 : c->version) != 0) {
        chrome_message(ui, "No randomness for a request id: nothing was sent.");
        return;
    }
    rq.to_revision = c->act == CTL_ROLLBACK ? c->to_revision : 0;
    if (!dbworker_submit(ui->db, &rq, &ui->ident, why, sizeof why)) {
        snprintf(msg, sizeof msg, "Not sent: %s.", why);
        chrome_message(ui, msg);
        return;
    }
    ui->dbst.action_busy = true;
    if (c->act == CTL_STOP_ALL)
        snprintf(msg, sizeof msg, "Stopping all sending...");
    else
        snprintf(msg, sizeof msg, "%s %s...", c->act == CTL_RETRY_FAILED ? "Requeueing failed deliveries of"
                                              : c->act == CTL_ROLLBACK ? "Rolling back" : ctl_action_name(c->act),
                 c->id);
    if (msg[0] >= 'a' && msg[0] <= 'z')
        msg[0] = (char)(msg[0] - 'a' + 'A');
    chrome_message(ui, msg);
}

void control_key(struct ui *ui, int key)
{
    struct confirm *c = &ui->confirm;
    ui->dirty = true;
    if (key == KEYC_ESC || (!c->need_name && (key == 'n' || key == 'N' || key == 'q'))) {
        ui->mode = MODE_NORMAL;
        if (c->act == CTL_LAUNCH)
            dbworker_want_preflight(ui->db, NULL);
        chrome_message(ui, "Nothing done.");
        return;
    }
    if (c->pf_wait || (c->act == CTL_LAUNCH && (c->pf_err[0] || c->pf.blocked)))
        return; /* only Esc: no answer yet, or the check failed */
    if (c->act == CTL_ROLLBACK && (key == '+' || key == '-')) {
        int r = c->to_revision + (key == '+' ? 1 : -1);
        if (r >= 1 && r < c->revision)
            c->to_revision = r;
        return;
    }
    if (c->need_name) {
        size_t len = strlen(c->typed);
        if (key == KEYC_BACKSPACE) {
            while (len > 0 && ((unsigned char)c->typed[len - 1] & 0xC0) == 0x80)
                len--;
            if (len > 0)
                len--;
            c->typed[len] = '\0';
        } else if (key == KEYC_ENTER) {
            if (strcmp(c->typed, c->name) == 0)
                submit(ui);
        } else if (key >= ' ' && key < 0x80 && key != 0x7f && len + 1 < sizeof c->typed) {
            c->typed[len] = (char)key;
            c->typed[len + 1] = '\0';
        } else if (key >= 0x80 && key < KEYC_UP && len + 4 < sizeof c->typed) {
            /* UTF-8 of a typed character */
            unsigned u = (unsigned)key;
            char *p = c->typed + len;
            if (u < 0x800) {
                *p++ = (char)(0xC0 | (u >> 6));
            } else if (u < 0x10000) {
                *p++ = (char)(0xE0 | (u >> 12));
                *p++ = (char)(0x80 | ((u >> 6) & 0x3F));
            } else {
                *p++ = (char)(0xF0 | (u >> 18));
                *p++ = (char)(0x80 | ((u >> 12) & 0x3F));
                *p++ = (char)(0x80 | ((u >> 6) & 0x3F));
            }
            *p++ = (char)(0x80 | (u & 0x3F));
            *p = '\0';
        }
        return;
    }
    if (key == 'y' || key == 'Y')
        submit(ui);
}

/* What is firing now, as far as this console knows (the health and
 * readiness checks and the scrapes), for the pre-flight. */
static void add_alerts(struct ui *ui, struct preflight *pf)
{
    const struct poll_snapshot *p = ui->poll;
    if (!p) {
        preflight_add(pf, PF_WARN, "Alerts: no health or metrics endpoint is configured: unknown");
        return;
    }
    char firing[200] = "";
    size_t used = 0;
    if (ui->cfg->health_url[0] && p->health.ep.last_try_ms &&
        (!p->health.ep.ok || !p->health.have || strcmp(p->health.status, "healthy") != 0))
        used += (size_t)snprintf(firing + used, sizeof firing - used, "health %s; ",
                                 p->health.ep.ok && p->health.have ? p->health.status : "unreachable");
    if (ui->cfg->ready_url[0] && p->ready.ep.last_try_ms && !p->ready.ep.ok && used < sizeof firing)
        used += (size_t)snprintf(firing + used, sizeof firing - used, "not ready; ");
    for (size_t i = 0; i < p->n_targets && used < sizeof firing; i++)
        if (!p->targets[i].ok)
            used += (size_t)snprintf(firing + used, sizeof firing - used, "scrape of target %zu failing; ", i + 1);
    /* the alert rules, the console's own or the server's */
    struct pane_data d = pane_data_of(ui);
    for (size_t i = 0; i < d.n_rules && used < sizeof firing; i++)
        if (d.rules[i].state == ALERT_FIRING)
            used += (size_t)snprintf(firing + used, sizeof firing - used, "%s firing; ", d.rules[i].name);
    if (used)
        preflight_add(pf, PF_WARN, "Alerts: %.*s", (int)(used > 2 ? used - 2 : used), firing);
    else
        preflight_add(pf, PF_OK, "Alerts: none firing (rules, health, readiness and scrapes are fine)");
}

void control_take_news(struct ui *ui)
{
    struct confirm *c = &ui->confirm;
    struct preflight pf;
    char pf_err[512];
    /* an answer for an earlier dialog (closed meanwhile) is not this one's */
    if (ui->mode == MODE_CONFIRM && c->pf_wait &&
        dbworker_take_preflight(ui->db, &pf, pf_err, sizeof pf_err) && strcmp(pf.id, c->id) == 0) {
        c->pf = pf;
        snprintf(c->pf_err, sizeof c->pf_err, "%s", pf_err);
        c->pf_wait = false;
        if (!c->pf_err[0]) {
            add_alerts(ui, &c->pf);
            c->reach = c->pf.reachable;
            /* the pre-flight read the row again: its version is what we confirm */
            c->version = c->pf.version;
            snprintf(c->status, sizeof c->status, "%s", c->pf.status);
            c->need_name = c->reach > ui->cfg->confirm_name_above;
        }
        ui->dirty = true;
    }
    struct ctl_request rq;
    struct ctl_result res;
    while (dbworker_take_result(ui->db, &rq, &res)) {
        char msg[1024];
        ctl_describe(&rq, &res, msg, sizeof msg);
        chrome_message(ui, msg);
        if (res.outcome != CTL_UNKNOWN)
            dbworker_refresh(ui->db);
    }
}

static int dialog_line(struct ui *ui, struct rect box, int *y, const char *text, enum role role)
{
    if (*y >= box.y + box.h - 1)
        return 0;
    draw_text(&ui->ctx, *y, box.x + 2, box.w - 4, text, false, role);
    (*y)++;
    return 1;
}

void control_draw(struct ui *ui)
{
    struct confirm *c = &ui->confirm;
    int w = COLS - 4 < 96 ? COLS - 4 : 96;
    int h = c->act == CTL_LAUNCH ? 16 : 9;
    if (h > LINES - 4)
        h = LINES - 4;
    struct rect box = { (LINES - h) / 2, (COLS - w) / 2, h, w };
    for (int y = box.y; y < box.y + box.h; y++)
        draw_blank(&ui->ctx, y, box.x, box.w, ROLE_NORMAL);
    /* a frame that needs no line-drawing characters */
    attrset(ui->ctx.attr[ROLE_TITLE]);
    for (int x = box.x; x < box.x + box.w; x++) {
        mvaddch(box.y, x, '-');
        mvaddch(box.y + box.h - 1, x, '-');
    }
    for (int y = box.y; y < box.y + box.h; y++) {
        mvaddch(y, box.x, '|');
        mvaddch(y, box.x + box.w - 1, '|');
    }
    attrset(A_NORMAL);
    char line[600];
    int y = box.y + 1;
    static const char *const verbs[] = {
        [CTL_LAUNCH] = "Launch", [CTL_PAUSE] = "Pause", [CTL_RESUME] = "Resume",
        [CTL_CANCEL] = "Cancel", [CTL_ROLLBACK] = "Roll back",
        [CTL_RETRY_FAILED] = "Retry the failed deliveries of", [CTL_STOP_ALL] = "Stop all sending",
    };
    if (c->act == CTL_STOP_ALL) {
        snprintf(line, sizeof line, "Stop all sending: pause every active campaign (%zu now)?", c->active);
        dialog_line(ui, box, &y, line, ROLE_TITLE);
        dialog_line(ui, box, &y, "One transaction, one audit row per campaign. Resume each one later.",
                    ROLE_NORMAL);
    } else {
        snprintf(line, sizeof line, "%s %s \"%s\"?", verbs[c->act], c->id, c->name);
        dialog_line(ui, box, &y, line, ROLE_TITLE);
        snprintf(line, sizeof line, "It is %s, version %d. The action applies only if nobody changes it first.",
                 c->status, c->version);
        dialog_line(ui, box, &y, line, ROLE_DIM);
    }
    if (c->act == CTL_CANCEL)
        dialog_line(ui, box, &y, "Cancelling is final: a cancelled campaign cannot be resumed.", ROLE_WARN);
    if (c->act == CTL_ROLLBACK) {
        snprintf(line, sizeof line, "To revision %d (now %d), as a new revision%s. +/- picks another.",
                 c->to_revision, c->revision,
                 strcmp(c->status, "active") == 0 ? "; the campaign is paused first" : "");
        dialog_line(ui, box, &y, line, ROLE_NORMAL);
        dialog_line(ui, box, &y, "Mail already sent cannot be recalled: the detail view lists who got it.",
                    ROLE_WARN);
    }
    if (c->act == CTL_LAUNCH) {
        if (c->pf_wait) {
            dialog_line(ui, box, &y, "Pre-flight check...", ROLE_DIM);
        } else if (c->pf_err[0]) {
            snprintf(line, sizeof line, "Pre-flight check failed: %s", c->pf_err);
            dialog_line(ui, box, &y, line, ROLE_CRIT);
        } else {
            static const char *const mark[] = { "ok  ", "warn", "FAIL" };
            static const enum role roles[] = { ROLE_NORMAL, ROLE_WARN, ROLE_CRIT };
            for (size_t i = 0; i < c->pf.n; i++) {
                snprintf(line, sizeof line, "%s %s", mark[c->pf.checks[i].level], c->pf.checks[i].text);
                dialog_line(ui, box, &y, line, roles[c->pf.checks[i].level]);
            }
        }
    }
    int ay = box.y + box.h - 2;
    if (c->act == CTL_LAUNCH && (c->pf_wait || c->pf_err[0] || c->pf.blocked)) {
        draw_text(&ui->ctx, ay, box.x + 2, box.w - 4,
                  c->pf_wait ? "Esc cancels" : "Launch refused: fix what failed. Esc closes.", false,
                  c->pf_wait ? ROLE_DIM : ROLE_CRIT);
    } else if (c->need_name) {
        snprintf(line, sizeof line, "%lld recipients: type the campaign's name, then Enter (Esc cancels): %s",
                 c->reach, c->typed);
        int used = draw_text(&ui->ctx, ay, box.x + 2, box.w - 4, line, false, ROLE_TITLE);
        ui->cursor_y = ay;
        ui->cursor_x = box.x + 2 + (used < box.w - 4 ? used : box.w - 5);
    } else {
        draw_text(&ui->ctx, ay, box.x + 2, box.w - 4, "y confirms, n or Esc cancels", false, ROLE_TITLE);
    }
}
