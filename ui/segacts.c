#include "segacts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chrome.h"
#include "format.h"
#include "pane.h"
#include "segform.h"
#include "segments_db.h"

#define TASK_REFRESH SEGACTS_TASK_FIRST
#define TASK_SHOW (SEGACTS_TASK_FIRST + 1)
#define REFRESH_TIMEOUT_MS 120000
#define SHOW_TIMEOUT_MS 15000

struct refresh_arg {
    char id[64];
    struct ctl_identity who;
    struct segdb_result res;
};

struct show_arg {
    char id[64];
    struct segdb_detail *det;
    struct segdb_result res;
};

static void refresh_free(void *p) { free(p); }

static void show_free(void *p)
{
    struct show_arg *a = p;
    if (a)
        segdb_detail_free(&a->det);
    free(a);
}

/* On the worker's thread. */
static int run_refresh(PGconn *conn, void *arg, int cancel_fd, char *err, size_t errsz)
{
    struct refresh_arg *a = arg;
    if (segdb_refresh(conn, a->id, &a->who, REFRESH_TIMEOUT_MS, cancel_fd, &a->res) != 0) {
        snprintf(err, errsz, "%s", a->res.message);
        return -2;
    }
    return 0;
}

static int run_show(PGconn *conn, void *arg, int cancel_fd, char *err, size_t errsz)
{
    struct show_arg *a = arg;
    int lost = 0;
    a->det = segdb_show(conn, a->id, SHOW_TIMEOUT_MS, cancel_fd, &a->res, &lost);
    if (!a->det)
        snprintf(err, errsz, "%s", a->res.message);
    return lost ? -2 : 0;
}

static struct pane *segments_of(struct ui *ui)
{
    for (int i = 0; i < UI_PANES; i++)
        if (ui->panes[i].ops == &segments_pane)
            return &ui->panes[i];
    return NULL;
}

static void want_perf(struct ui *ui, const char *id)
{
    struct pane *p = segments_of(ui);
    struct show_arg *a = calloc(1, sizeof *a);
    if (!p || !a) {
        free(a);
        return;
    }
    snprintf(a->id, sizeof a->id, "%s", id);
    struct dbw_task t = { .fn = run_show, .arg = a, .free_arg = show_free, .kind = TASK_SHOW };
    char why[200];
    segments_pane_perf_wanted(p->st, id);
    if (!dbworker_run_task(ui->db, &t, why, sizeof why)) {
        show_free(a);
        segments_pane_perf_arrived(p->st, id, NULL, why);
    }
}

static void refresh(struct ui *ui, const char *id)
{
    char msg[400];
    if (ui->cfg->read_only || (ui->dbst.write_known && !ui->dbst.can_write)) {
        snprintf(msg, sizeof msg, "Read-only: %s. Nothing was changed.",
                 ui->cfg->read_only ? "read_only is set (--read-only, MARKETING_READ_ONLY or marketing.conf)"
                                    : ui->dbst.write_reason);
        chrome_message(ui, msg);
        return;
    }
    struct refresh_arg *a = calloc(1, sizeof *a);
    if (!a) {
        chrome_message(ui, "Out of memory: nothing was sent.");
        return;
    }
    snprintf(a->id, sizeof a->id, "%s", id);
    a->who = ui->ident;
    struct dbw_task t = { .fn = run_refresh, .arg = a, .free_arg = refresh_free, .write = true,
                          .kind = TASK_REFRESH };
    char why[200];
    if (!dbworker_run_task(ui->db, &t, why, sizeof why)) {
        free(a);
        snprintf(msg, sizeof msg, "Not sent: %s", why);
        chrome_message(ui, msg);
        return;
    }
    snprintf(msg, sizeof msg, "Refreshing %.64s...", id);
    chrome_message(ui, msg);
}

bool segacts_action(struct ui *ui, enum action_id a)
{
    struct pane *p = segments_of(ui);
    struct pane_data d = pane_data_of(ui);
    if (!p || &ui->panes[ui->focus] != p)
        return false;
    switch (a) {
    case ACT_NEW:
        if (!p->ops->accepts(p->st, a))
            return false;
        segform_open(ui);
        return true;
    case ACT_SEG_REFRESH: {
        const char *id = segments_pane_selected_id(p->st, &d);
        if (!id) {
            chrome_message(ui, "Select a segment first.");
            return true;
        }
        refresh(ui, id);
        return true;
    }
    case ACT_OPEN: {
        bool was = segments_pane_detail_id(p->st, &d) != NULL;
        if (p->ops->action(p->st, &d, a) != PANE_REDRAW)
            return false;
        const char *id = segments_pane_detail_id(p->st, &d);
        if (!was && id)
            want_perf(ui, id);
        ui->dirty = true;
        return true;
    }
    default:
        return false;
    }
}

static void refreshed(struct ui *ui, const struct dbw_task *t)
{
    const struct refresh_arg *a = t->arg;
    const struct segdb_result *r = &a->res;
    char msg[1024], n[32], add[32], rem[32];
    if (t->rc == -1) {
        snprintf(msg, sizeof msg, "%.64s not refreshed: %s", a->id, t->err); /* refused: read-only */
    } else if (t->rc == -2) {
        snprintf(msg, sizeof msg, "%s", r->status == SEGDB_UNKNOWN ? r->message : t->err);
    } else if (r->status == SEGDB_OK) {
        fmt_grouped(n, sizeof n, r->size);
        fmt_grouped(add, sizeof add, r->added);
        fmt_grouped(rem, sizeof rem, r->removed);
        snprintf(msg, sizeof msg, "%.64s refreshed: %s members (+%s -%s)", a->id, n, add, rem);
    } else if (r->status == SEGDB_LOCKED) {
        snprintf(msg, sizeof msg, "%s", r->message);
    } else {
        snprintf(msg, sizeof msg, "%.64s not refreshed: %s", a->id, r->message);
    }
    chrome_message(ui, msg);
    if (t->rc != 0 || r->status != SEGDB_OK)
        return;
    dbworker_refresh(ui->db);
    struct pane *p = segments_of(ui);
    struct pane_data d = pane_data_of(ui);
    const char *open = p ? segments_pane_detail_id(p->st, &d) : NULL;
    if (open && strcmp(open, a->id) == 0)
        want_perf(ui, a->id);
}

void segacts_task(struct ui *ui, struct dbw_task *t)
{
    if (t->kind == TASK_REFRESH) {
        refreshed(ui, t);
    } else if (t->kind == TASK_SHOW) {
        struct show_arg *a = t->arg;
        struct pane *p = segments_of(ui);
        if (p)
            segments_pane_perf_arrived(p->st, a->id, &a->det, t->err[0] ? t->err : a->res.message);
    }
    if (t->free_arg)
        t->free_arg(t->arg);
    ui->dirty = true;
}
