/* The UI's state, and what surrounds the panes: the header with its tab
 * bar, the hint line (or the filter and command prompts), the status line,
 * the help screen. */
#ifndef MARKETING_CHROME_H
#define MARKETING_CHROME_H

#include <stdbool.h>
#include <stdint.h>

#include "actions.h"
#include "cmdline.h"
#include "config.h"
#include "dbworker.h"
#include "draw.h"
#include "layout.h"
#include "pane.h"
#include "promsrv.h"
#include "series.h"

enum ui_mode { MODE_NORMAL, MODE_HELP, MODE_FILTER, MODE_COMMAND, MODE_CONFIRM, MODE_MODAL };

/* A screen that takes over the body and every key while it is open (the
 * campaign form, the segment editor): MODE_MODAL with ui->modal set. */
struct ui;
struct modal {
    /* a key (KEYC_* or a character); false closes the modal (close frees st) */
    bool (*key)(struct ui *ui, void *st, int key);
    /* draws in body (the panes' area); may place the cursor (ui->cursor_y/x) */
    void (*draw)(struct ui *ui, void *st, struct rect body);
    /* a finished database task of the modal's (kind >= DBW_TASK_MODAL) */
    void (*task)(struct ui *ui, void *st, struct dbw_task *t);
    /* called on every wake: new data (segments, campaigns) may matter */
    void (*news)(struct ui *ui, void *st);
    void (*close)(void *st);
    void *st;
    /* called every loop turn (may be NULL): does what is due (a debounced
     * query) and returns the ms until it next needs a turn, or -1 */
    int (*tick)(struct ui *ui, void *st);
};

/* Task kinds of modals start here; below are the UI's own. */
#define DBW_TASK_MODAL 100

/* Opens a modal (MODE_MODAL); an open one is closed first. */
void ui_modal_open(struct ui *ui, const struct modal *m);
void ui_modal_close(struct ui *ui);

/* The four panes of the grid, then the Audit log (a screen of its own). */
#define UI_PANES (SCREEN_PANES + 1)
#define PANE_AUDIT SCREEN_PANES

/* The confirm dialog of a campaign action. It holds no transaction and no
 * lock: only what the operator saw, whose version the action then checks. */
struct confirm {
    enum ctl_action act;
    char id[64], name[256], status[16];
    int version, revision, to_revision;
    long long reach;                  /* launch: reachable contacts (pre-flight) */
    size_t active;                    /* stop-all: active campaigns now */
    bool need_name;                   /* the name must be typed */
    char typed[256];
    bool pf_wait;                     /* launch: waiting for the pre-flight check */
    char pf_err[512];
    struct preflight pf;
};

struct pane {
    const struct pane_ops *ops;
    void *st;
};

struct ui {
    const struct config *cfg;
    struct ui_ctx ctx;
    struct keymap km;
    struct dbworker *db;
    struct poller *poller;            /* NULL when no endpoint is configured */
    int wake[2];
    struct campaign_list *camps;      /* the newest snapshots, ours */
    struct segment_list *segs;
    struct poll_snapshot *poll;
    struct promsrv *promsrv;          /* NULL unless prometheus_url is set */
    struct promsrv_snapshot *prom;    /* its newest snapshot, ours */
    struct alertack_list *acks;       /* the acks in force, ours */
    struct campaign_detail *detail;
    char *detail_wanted;              /* what the worker was last asked for (ours) */
    struct rate_tracker *rates;
    struct counter_series db_sent;
    struct dbw_status dbst;
    struct pane panes[UI_PANES];
    int focus;
    struct screen_layout layout;
    enum ui_mode mode;
    size_t help_top;
    char input[CMDLINE_MAX];          /* the filter or command being typed */
    struct cmd_history hist;
    size_t hist_pos;
    char message[1024];               /* a one-off message on the hint line */
    int tab_x[UI_PANES + 1];          /* where each tab starts on the header (mouse) */
    struct confirm confirm;           /* MODE_CONFIRM */
    struct modal modal;               /* MODE_MODAL */
    struct ctl_identity ident;        /* who we say we are in the audit log */
    struct audit_list *audit;         /* while the Audit log is shown */
    int prev_focus;                   /* where the audit key goes back to */
    char completions[256];            /* candidates after Tab on the command line */
    int cursor_y, cursor_x;           /* the visible cursor, or cursor_y < 0 */
    bool dirty;
};

void chrome_draw_header(struct ui *ui, const struct pane_data *d);
void chrome_draw_separator(struct ui *ui);
void chrome_draw_hint(struct ui *ui);
void chrome_draw_status(struct ui *ui);
void chrome_draw_help(struct ui *ui);
void chrome_draw_too_small(struct ui *ui);

/* Shows msg on the hint line until the next key. */
void chrome_message(struct ui *ui, const char *msg);

/* What the panes read, as of now (ui.c). */
struct pane_data pane_data_of(const struct ui *ui);

/* A key while the filter or command prompt is open. Returns false to quit. */
bool chrome_input_key(struct ui *ui, int key);

/* In control.c: a campaign action's key or command (arg: a campaign id, and
 * for rollback a revision, or ""). Opens the confirm dialog, or says why
 * not. */
void control_begin(struct ui *ui, enum action_id a, const char *arg);
/* A key while the confirm dialog is open. */
void control_key(struct ui *ui, int key);
/* Pre-flight answers and action outcomes from the worker. */
void control_take_news(struct ui *ui);
/* The dialog, over the panes. */
void control_draw(struct ui *ui);

/* In ui.c: runs an action as if its key was pressed; false means quit. */
bool ui_run_action(struct ui *ui, enum action_id a);
void ui_set_filter(struct ui *ui, const char *text);

#endif
