/* A pane: a struct with a small ops table. Each pane is its own file. Key
 * handling returns what should happen next instead of drawing itself. */
#ifndef MARKETING_PANE_H
#define MARKETING_PANE_H

#include <stdbool.h>
#include <stddef.h>

#include "actions.h"
#include "alertack.h"
#include "alertview.h"
#include "audit.h"
#include "campaign_detail.h"
#include "campaigns.h"
#include "dbworker.h"
#include "draw.h"
#include "layout.h"
#include "segments.h"
#include "sendrate.h"
#include "series.h"

struct poll_snapshot;
struct promsrv_snapshot;

/* What the panes read: the newest snapshots, owned by the UI loop. */
struct pane_data {
    const struct campaign_list *camps;   /* NULL until the first read */
    const struct segment_list *segs;
    const struct rate_tracker *rates;
    const struct poll_snapshot *poll;    /* NULL when no metrics or health URL is set */
    const struct counter_series *db_sent; /* all campaigns' sent total over time (the ledger) */
    const struct campaign_detail *detail;  /* history of the campaign in detail view, or NULL */
    const struct dbw_status *dbst;         /* the database worker's state */
    const struct audit_list *audit;        /* the audit log, while it is shown; else NULL */
    /* the alert rules: read from the Prometheus server (prom) when
     * prometheus_url is set, else the console's own (poll) */
    const struct rule_view *rules;
    size_t n_rules;
    const struct promsrv_snapshot *prom;   /* NULL unless prometheus_url is set */
    const struct alertack_list *acks;      /* the acks in force, or NULL */
    bool metrics_configured, health_configured;
};

enum pane_result {
    PANE_IGNORED,   /* not ours: the loop may handle it */
    PANE_REDRAW,    /* handled, draw again */
};

struct pane_ops {
    const char *title;
    void *(*create)(void);
    void (*destroy)(void *st);
    /* new data arrived: keep the selection on the same item */
    void (*update)(void *st, const struct pane_data *d);
    void (*draw)(void *st, const struct pane_data *d, const struct ui_ctx *ctx, struct rect r,
                 bool focused);
    enum pane_result (*action)(void *st, const struct pane_data *d, enum action_id a);
    /* the list filter, or NULL for panes without one */
    void (*set_filter)(void *st, const struct pane_data *d, const char *text);
    /* a one-line summary for the tab bar ("24", "2 firing"), into buf */
    void (*badge)(void *st, const struct pane_data *d, char *buf, size_t n);
    /* the campaign whose details are shown (the loop asks the database for
     * its history), or NULL; NULL for panes without such details */
    const char *(*detail_id)(void *st, const struct pane_data *d);
    /* a click on line `row` of the pane (0 is its title): select what is there */
    void (*click)(void *st, const struct pane_data *d, int row);
    /* whether the pane, as it is now, takes an action that is not global
     * (the hint line and "not in this pane" come from this) */
    bool (*accepts)(void *st, enum action_id a);
    /* the campaign the pane has selected (the target of control keys), or
     * NULL; NULL for panes without campaigns */
    const struct campaign *(*selected)(void *st, const struct pane_data *d);
};

extern const struct pane_ops campaigns_pane;
/* Selects campaign id in the Campaigns pane (clearing a filter that hides it). */
void campaigns_pane_select(void *st, const struct pane_data *d, const char *id);
extern const struct pane_ops segments_pane;
struct segdb_detail;
/* Selects segment id (when a list with it arrives); closes details. */
void segments_pane_select(void *st, const char *id);
/* The selected segment's id, or NULL; the one whose details are open, or NULL. */
const char *segments_pane_selected_id(void *st, const struct pane_data *d);
const char *segments_pane_detail_id(void *st, const struct pane_data *d);
/* The performance of segment id is being read; it arrived (*det taken
 * when it is still wanted) or failed (det NULL, err why). */
void segments_pane_perf_wanted(void *st, const char *id);
void segments_pane_perf_arrived(void *st, const char *id, struct segdb_detail **det, const char *err);
extern const struct pane_ops rate_pane;
extern const struct pane_ops alerts_pane;
/* The name of the rule selected in the Alerts pane, or NULL. */
const char *alerts_pane_rule(void *st, const struct pane_data *d);
extern const struct pane_ops audit_pane;   /* not in the grid: a whole screen of its own */

#endif
