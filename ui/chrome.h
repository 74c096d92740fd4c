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
#include "series.h"

enum ui_mode { MODE_NORMAL, MODE_HELP, MODE_FILTER, MODE_COMMAND };

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
    struct campaign_detail *detail;
    char *detail_wanted;              /* what the worker was last asked for (ours) */
    struct rate_tracker *rates;
    struct counter_series db_sent;
    struct dbw_status dbst;
    struct pane panes[SCREEN_PANES];
    int focus;
    struct screen_layout layout;
    enum ui_mode mode;
    size_t help_top;
    char input[CMDLINE_MAX];          /* the filter or command being typed */
    struct cmd_history hist;
    size_t hist_pos;
    char message[256];                /* a one-off message on the hint line */
    int tab_x[SCREEN_PANES + 1];      /* where each tab starts on the header (mouse) */
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

/* A key while the filter or command prompt is open. Returns false to quit. */
bool chrome_input_key(struct ui *ui, int key);

/* In ui.c: runs an action as if its key was pressed; false means quit. */
bool ui_run_action(struct ui *ui, enum action_id a);
void ui_set_filter(struct ui *ui, const char *text);

#endif
