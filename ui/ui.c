/* The console's event loop: one thread owns curses. It blocks in poll() on
 * stdin and the workers' wake pipe, with a timeout to the next clock tick,
 * and ends every turn that changed something in one doupdate(). Keys become
 * actions through the keymap; the focused pane gets them first. */
#include "ui.h"

#include <errno.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "chrome.h"
#include "clock.h"
#include "curs.h"
#include "dbworker.h"
#include "oplog.h"
#include "pane.h"
#include "poller.h"
#include "ruleng.h"
#include "acks.h"
#include "campform.h"
#include "segacts.h"
#include "sanitize.h"
#include "term_guard.h"
#include "wakepipe.h"

#define RATE_WINDOW_MS 30000
#define STALL_MS 30000
#define HISTORY_MS (30 * 60 * 1000)
#define UI_LOG_ENDPOINTS 10

static volatile sig_atomic_t quit_signal;

static void on_quit_signal(int sig) { quit_signal = sig; }

static const struct pane_ops *const pane_table[UI_PANES] = {
    &campaigns_pane, &segments_pane, &rate_pane, &alerts_pane, &audit_pane,
};

/* Curses' key codes as ours. */
static int translate_key(int ret, wint_t wch)
{
    if (ret == KEY_CODE_YES) {
        switch (wch) {
        case KEY_UP: return KEYC_UP;
        case KEY_DOWN: return KEYC_DOWN;
        case KEY_LEFT: return KEYC_LEFT;
        case KEY_RIGHT: return KEYC_RIGHT;
        case KEY_PPAGE: return KEYC_PGUP;
        case KEY_NPAGE: return KEYC_PGDN;
        case KEY_HOME: return KEYC_HOME;
        case KEY_END: return KEYC_END;
        case KEY_ENTER: return KEYC_ENTER;
        case KEY_BTAB: return KEYC_BTAB;
        case KEY_BACKSPACE: return KEYC_BACKSPACE;
        case KEY_F(1): return KEYC_F1;
        case KEY_F(2): return KEYC_F2;
        case KEY_DC: return KEYC_DELETE;
        case KEY_RESIZE: return -2;
        case KEY_MOUSE: return -3;
        default: return -1;
        }
    }
    switch (wch) {
    case 27: return KEYC_ESC;
    case '\r': case '\n': return KEYC_ENTER;
    case '\t': return KEYC_TAB;
    case 127: case 8: return KEYC_BACKSPACE;
    default: return (int)wch;
    }
}

struct pane_data pane_data_of(const struct ui *ui)
{
    struct pane_data d = {
        .camps = ui->camps, .segs = ui->segs, .rates = ui->rates, .poll = ui->poll,
        .db_sent = &ui->db_sent, .detail = ui->detail, .dbst = &ui->dbst, .audit = ui->audit,
        .metrics_configured = ui->cfg->metrics_url[0] != '\0',
        .health_configured = ui->cfg->health_url[0] != '\0',
        .prom = ui->prom, .acks = ui->acks,
    };
    if (ui->prom) {
        d.rules = ui->prom->rules;
        d.n_rules = ui->prom->n_rules;
    } else if (ui->poll) {
        d.rules = ui->poll->rules;
        d.n_rules = ui->poll->n_rules;
    }
    return d;
}

/* A URL for the log: any user:password@ part becomes ***@. */
static void url_redacted(const char *url, char *out, size_t n)
{
    const char *scheme = url ? strstr(url, "://") : NULL;
    const char *host = scheme ? scheme + 3 : NULL;
    const char *at = host ? strchr(host, '@') : NULL;
    const char *slash = host ? strchr(host, '/') : NULL;
    if (at && (!slash || at < slash))
        snprintf(out, n, "%.*s***%s", (int)(host - url), url, at);
    else
        snprintf(out, n, "%s", url ? url : "");
}

/* Errors go to the structured log once each, when they first show. */
static void log_errors(struct ui *ui)
{
    static char last_db[512], last_ep[UI_LOG_ENDPOINTS][256];
    if (ui->dbst.error[0] && strcmp(ui->dbst.error, last_db) != 0)
        oplog_write("error", NULL, ui->ident.os_user, ui->dbst.error,
                    json_pack("{s:s, s:i}", "component", "database", "attempt", ui->dbst.attempt));
    snprintf(last_db, sizeof last_db, "%s", ui->dbst.error);
    const struct poll_snapshot *p = ui->poll;
    if (!p)
        return;
    const struct endpoint_status *eps[UI_LOG_ENDPOINTS];
    size_t n = 0;
    for (size_t i = 0; i < p->n_targets && n < UI_LOG_ENDPOINTS - 2; i++)
        eps[n++] = &p->targets[i];
    eps[n++] = &p->health.ep;
    eps[n++] = &p->ready.ep;
    for (size_t i = 0; i < n; i++) {
        const char *e = eps[i]->error;
        if (e[0] && strcmp(e, last_ep[i]) != 0) {
            char url[1024];
            url_redacted(eps[i]->url, url, sizeof url);
            oplog_write("error", NULL, ui->ident.os_user, e,
                        json_pack("{s:s, s:s}", "component", "endpoint", "url", url));
        }
        snprintf(last_ep[i], sizeof last_ep[i], "%s", e);
    }
}

static void take_news(struct ui *ui)
{
    wakepipe_drain(ui->wake[0]);
    struct campaign_list *l = dbworker_take_campaigns(ui->db);
    struct segment_list *sg = dbworker_take_segments(ui->db);
    if (l) {
        campaign_list_free(&ui->camps);
        ui->camps = l;
        rate_tracker_update(ui->rates, l);
        double total = 0;
        for (size_t i = 0; i < l->n; i++)
            total += (double)(l->v[i].sent + l->v[i].failed + l->v[i].bounced);
        counter_series_add(&ui->db_sent, l->fetched_mono_ms, total);
    }
    if (sg) {
        segment_list_free(&ui->segs);
        ui->segs = sg;
    }
    struct campaign_detail *det = dbworker_take_detail(ui->db);
    if (det) {
        campaign_detail_free(&ui->detail);
        ui->detail = det;
    }
    if (ui->poller) {
        struct poll_snapshot *p = poller_take(ui->poller);
        if (p) {
            poll_snapshot_free(&ui->poll);
            ui->poll = p;
        }
    }
    if (ui->promsrv) {
        struct promsrv_snapshot *ps = promsrv_take(ui->promsrv);
        if (ps) {
            promsrv_snapshot_free(&ui->prom);
            ui->prom = ps;
        }
    }
    struct alertack_list *acks = dbworker_take_acks(ui->db);
    if (acks) {
        alertack_list_free(&ui->acks);
        ui->acks = acks;
    }
    struct audit_list *al = dbworker_take_audit(ui->db);
    if (al) {
        audit_list_free(&ui->audit);
        ui->audit = al;
    }
    if (l || sg || al) {
        struct pane_data d = pane_data_of(ui);
        for (int i = 0; i < UI_PANES; i++)
            ui->panes[i].ops->update(ui->panes[i].st, &d);
    }
    dbworker_status(ui->db, &ui->dbst);
    log_errors(ui);
    control_take_news(ui);
    acks_take_news(ui);
    struct dbw_task t;
    while (dbworker_take_task(ui->db, &t)) {
        if (ui->mode == MODE_MODAL && t.kind >= DBW_TASK_MODAL && ui->modal.task)
            ui->modal.task(ui, ui->modal.st, &t);
        else if (t.kind >= SEGACTS_TASK_FIRST && t.kind <= SEGACTS_TASK_LAST)
            segacts_task(ui, &t);
        else if (t.kind >= DBW_TASK_CAMP && t.kind < DBW_TASK_MODAL)
            campform_task(ui, &t);
        else if (t.free_arg)
            t.free_arg(t.arg); /* its modal is gone */
    }
    if (ui->mode == MODE_MODAL && ui->modal.news)
        ui->modal.news(ui, ui->modal.st);
    ui->dirty = true;
}

void ui_modal_open(struct ui *ui, const struct modal *m)
{
    if (ui->mode == MODE_MODAL)
        ui_modal_close(ui);
    ui->modal = *m;
    ui->mode = MODE_MODAL;
    ui->dirty = true;
}

void ui_modal_close(struct ui *ui)
{
    if (ui->mode != MODE_MODAL)
        return;
    if (ui->modal.close)
        ui->modal.close(ui->modal.st);
    memset(&ui->modal, 0, sizeof ui->modal);
    ui->mode = MODE_NORMAL;
    ui->dirty = true;
}

static void draw(struct ui *ui)
{
    layout_screen(COLS, LINES, &ui->layout);
    ui->cursor_y = -1;
    erase();
    if (ui->layout.mode == SCREEN_TOO_SMALL) {
        chrome_draw_too_small(ui);
    } else if (ui->mode == MODE_HELP) {
        chrome_draw_help(ui);
        chrome_draw_status(ui); /* the status line stays on every screen */
    } else {
        struct pane_data d = pane_data_of(ui);
        chrome_draw_header(ui, &d);
        if (ui->mode == MODE_MODAL) {
            const struct rect *p0 = &ui->layout.pane[0];
            struct rect body = { p0->y, 0, ui->layout.hint.y - p0->y, COLS };
            ui->modal.draw(ui, ui->modal.st, body);
        } else if (ui->focus == PANE_AUDIT) {
            /* a screen of its own, in the grid's whole area */
            const struct rect *p0 = &ui->layout.pane[0];
            struct rect body = { p0->y, 0, ui->layout.hint.y - p0->y, COLS };
            ui->panes[PANE_AUDIT].ops->draw(ui->panes[PANE_AUDIT].st, &d, &ui->ctx, body, true);
        } else {
            for (int i = 0; i < SCREEN_PANES; i++) {
                if (ui->layout.mode == SCREEN_TABS && i != ui->focus)
                    continue;
                ui->panes[i].ops->draw(ui->panes[i].st, &d, &ui->ctx, ui->layout.pane[i],
                                       i == ui->focus);
            }
            if (ui->layout.vsep_x >= 0)
                chrome_draw_separator(ui);
        }
        chrome_draw_hint(ui);
        chrome_draw_status(ui);
        if (ui->mode == MODE_CONFIRM)
            control_draw(ui);
    }
    /* the cursor last: only a prompt shows it, where typing goes */
    if (ui->cursor_y >= 0) {
        move(ui->cursor_y, ui->cursor_x);
        curs_set(1);
    } else {
        curs_set(0);
    }
    wnoutrefresh(stdscr);
    doupdate();
}

/* Runs an action that no pane took. Returns false to quit. */
static bool global_action(struct ui *ui, enum action_id a)
{
    switch (a) {
    case ACT_QUIT: return false;
    case ACT_HELP: ui->mode = MODE_HELP; ui->help_top = 0; break;
    case ACT_NEXT_PANE: ui->focus = (ui->focus + 1) % UI_PANES; break;
    case ACT_PREV_PANE: ui->focus = (ui->focus + UI_PANES - 1) % UI_PANES; break;
    case ACT_PANE_1: case ACT_PANE_2: case ACT_PANE_3: case ACT_PANE_4:
        ui->focus = a - ACT_PANE_1;
        break;
    case ACT_AUDIT:
        if (ui->focus == PANE_AUDIT) {
            ui->focus = ui->prev_focus;
        } else {
            ui->prev_focus = ui->focus;
            ui->focus = PANE_AUDIT;
        }
        break;
    case ACT_JUMP: {
        struct pane *p = &ui->panes[ui->focus];
        struct pane_data d = pane_data_of(ui);
        const struct campaign *c = p->ops == &alerts_pane ? p->ops->selected(p->st, &d) : NULL;
        if (!c) {
            chrome_message(ui, p->ops == &alerts_pane
                                   ? "This alert names no campaign here (no campaign_id or campaign label "
                                     "that matches one)."
                                   : "Jumping to a campaign works from an alert, in the Alerts pane.");
            break;
        }
        campaigns_pane_select(ui->panes[0].st, &d, c->id);
        ui->focus = 0;
        break;
    }
    case ACT_ACK: case ACT_SNOOZE: case ACT_UNACK:
        acks_begin(ui, a, NULL);
        break;
    case ACT_NEW: case ACT_EDIT: case ACT_CLONE: case ACT_PREVIEW: case ACT_TEST_SEND: case ACT_PROMOTE: {
        struct pane *p = &ui->panes[ui->focus];
        if (p->ops != &campaigns_pane) {
            if (a == ACT_NEW)
                chrome_message(ui, "New campaigns in the Campaigns pane (1), new segments in Segments (2).");
            break;
        }
        struct pane_data d = pane_data_of(ui);
        campform_action(ui, a, p->ops->selected ? p->ops->selected(p->st, &d) : NULL);
        break;
    }
    case ACT_LAUNCH: case ACT_PAUSE: case ACT_RESUME: case ACT_CANCEL: case ACT_ROLLBACK:
    case ACT_RETRY_FAILED: case ACT_STOP_ALL:
        control_begin(ui, a, "");
        break;
    case ACT_FILTER:
        if (!ui->panes[ui->focus].ops->set_filter) {
            chrome_message(ui, "This pane has no filter.");
            break;
        }
        ui->mode = MODE_FILTER;
        ui->input[0] = '\0';
        break;
    case ACT_COMMAND:
        ui->mode = MODE_COMMAND;
        ui->input[0] = '\0';
        ui->hist_pos = ui->hist.n;
        break;
    case ACT_REFRESH:
        dbworker_refresh(ui->db);
        clearok(curscr, TRUE); /* C-l: also repaint the whole screen once */
        break;
    default: return true;
    }
    ui->dirty = true;
    return true;
}

bool ui_run_action(struct ui *ui, enum action_id a)
{
    if (segacts_action(ui, a))
        return true;
    struct pane_data d = pane_data_of(ui);
    struct pane *p = &ui->panes[ui->focus];
    if (p->ops->action(p->st, &d, a) == PANE_REDRAW) {
        ui->dirty = true;
        return true;
    }
    return global_action(ui, a);
}

void ui_set_filter(struct ui *ui, const char *text)
{
    struct pane_data d = pane_data_of(ui);
    struct pane *p = &ui->panes[ui->focus];
    if (p->ops->set_filter)
        p->ops->set_filter(p->st, &d, text);
    ui->dirty = true;
}

/* Tells the worker which campaign's history to read, when that changes. */
static void want_detail(struct ui *ui)
{
    struct pane_data d = pane_data_of(ui);
    const char *id = NULL;
    for (int i = 0; i < SCREEN_PANES && !id; i++)
        if (ui->panes[i].ops->detail_id)
            id = ui->panes[i].ops->detail_id(ui->panes[i].st, &d);
    if ((id == NULL) != (ui->detail_wanted == NULL) || (id && strcmp(id, ui->detail_wanted) != 0)) {
        free(ui->detail_wanted);
        ui->detail_wanted = id ? strdup(id) : NULL;
        dbworker_want_detail(ui->db, id);
    }
}

/* A click picks a tab, a pane and a row; the wheel moves the selection. */
static void on_mouse(struct ui *ui)
{
    MEVENT ev;
    if (getmouse(&ev) != OK || ui->mode != MODE_NORMAL || ui->layout.mode == SCREEN_TOO_SMALL)
        return;
    ui->dirty = true;
    if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
        for (int i = 0; i < 3; i++)
            ui_run_action(ui, ev.bstate & BUTTON4_PRESSED ? ACT_UP : ACT_DOWN);
        return;
    }
    if (!(ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)))
        return;
    if (ev.y == ui->layout.header.y) {
        for (int i = 0; i < UI_PANES; i++)
            if (ev.x >= ui->tab_x[i] && ev.x < ui->tab_x[i + 1])
                ui->focus = i;
        return;
    }
    for (int i = 0; i < SCREEN_PANES && ui->focus != PANE_AUDIT; i++) {
        const struct rect *r = &ui->layout.pane[i];
        if (ui->layout.mode == SCREEN_TABS && i != ui->focus)
            continue;
        if (ev.y >= r->y && ev.y < r->y + r->h && ev.x >= r->x && ev.x < r->x + r->w) {
            ui->focus = i;
            struct pane_data d = pane_data_of(ui);
            if (ui->panes[i].ops->click)
                ui->panes[i].ops->click(ui->panes[i].st, &d, ev.y - r->y);
            return;
        }
    }
}

/* Returns false when the user asked to quit. */
static bool on_key(struct ui *ui, int key)
{
    if (key == -2) { /* resize */
        ui->dirty = true;
        return true;
    }
    if (key == -3) {
        on_mouse(ui);
        return true;
    }
    if (key < 0)
        return true;
    if (ui->layout.mode == SCREEN_TOO_SMALL) {
        /* nothing is shown but the message: only quitting means anything */
        ui->mode = MODE_NORMAL;
        return keymap_lookup(&ui->km, key) != ACT_QUIT;
    }
    if (ui->mode == MODE_FILTER || ui->mode == MODE_COMMAND)
        return chrome_input_key(ui, key);
    if (ui->mode == MODE_CONFIRM) {
        control_key(ui, key);
        return true;
    }
    if (ui->mode == MODE_MODAL) {
        if (!ui->modal.key(ui, ui->modal.st, key))
            ui_modal_close(ui);
        ui->dirty = true;
        return true;
    }
    if (ui->mode == MODE_HELP) {
        enum action_id a = keymap_lookup(&ui->km, key);
        if (a == ACT_DOWN || a == ACT_PAGE_DOWN)
            ui->help_top += a == ACT_DOWN ? 1 : 10;
        else if (a == ACT_UP || a == ACT_PAGE_UP)
            ui->help_top = ui->help_top > (a == ACT_UP ? 1 : 10) ? ui->help_top - (a == ACT_UP ? 1 : 10) : 0;
        else if (a == ACT_QUIT && key != 'q')
            return false;
        else
            ui->mode = MODE_NORMAL; /* any other key closes help */
        ui->dirty = true;
        return true;
    }
    ui->message[0] = '\0';
    enum action_id a = keymap_lookup(&ui->km, key);
    const struct pane *p = &ui->panes[ui->focus];
    if (a != ACT_NONE && action_defs[a].scope != SCOPE_GLOBAL && a != ACT_BACK &&
        !p->ops->accepts(p->st, a)) {
        char k[16], msg[96];
        snprintf(msg, sizeof msg, "%s (%s): not in this pane", keyc_name(key, k, sizeof k),
                 action_defs[a].name);
        chrome_message(ui, msg);
        return true;
    }
    if (a == ACT_NONE) {
        char k[16];
        char msg[64];
        snprintf(msg, sizeof msg, "%s: no action (? lists the keys)", keyc_name(key, k, sizeof k));
        chrome_message(ui, msg);
        return true;
    }
    return ui_run_action(ui, a);
}

static int ui_init(struct ui *ui, const struct config *cfg, char *err, size_t errsz)
{
    memset(ui, 0, sizeof *ui);
    ui->cfg = cfg;
    ui->wake[0] = ui->wake[1] = -1;
    const char *cs = nl_langinfo(CODESET);
    draw_ctx_init(&ui->ctx, cfg->ascii || !cs || strcmp(cs, "UTF-8") != 0 ? SAN_ASCII : 0);
    keymap_init(&ui->km);
    for (size_t i = 0; i < cfg->n_bind; i++)
        if (keymap_bind(&ui->km, cfg->bind_action[i], cfg->bind_keys[i], err, errsz) != 0)
            return -1;
    ui->rates = rate_tracker_new(RATE_WINDOW_MS, STALL_MS);
    counter_series_init(&ui->db_sent, HISTORY_MS);
    ctl_identity_from_process(&ui->ident);
    for (int i = 0; i < UI_PANES; i++) {
        ui->panes[i].ops = pane_table[i];
        ui->panes[i].st = pane_table[i]->create();
        if (!ui->panes[i].st || !ui->rates) {
            snprintf(err, errsz, "out of memory");
            return -1;
        }
    }
    return 0;
}

static void ui_free(struct ui *ui)
{
    for (int i = 0; i < UI_PANES; i++)
        if (ui->panes[i].st)
            ui->panes[i].ops->destroy(ui->panes[i].st);
    audit_list_free(&ui->audit);
    campaign_list_free(&ui->camps);
    segment_list_free(&ui->segs);
    campaign_detail_free(&ui->detail);
    free(ui->detail_wanted);
    ui->detail_wanted = NULL;
    poll_snapshot_free(&ui->poll);
    promsrv_snapshot_free(&ui->prom);
    alertack_list_free(&ui->acks);
    rate_tracker_free(&ui->rates);
    counter_series_free(&ui->db_sent);
}

static int start_workers(struct ui *ui, struct ruleng *engine, char *err, size_t errsz)
{
    const struct config *cfg = ui->cfg;
    ui->db = dbworker_start(cfg->dsn, cfg->refresh_ms, ui->wake[1], err, errsz);
    if (!ui->db) {
        ruleng_free(&engine);
        return -1;
    }
    if (cfg->read_only)
        dbworker_set_read_only(ui->db, "read_only is set (--read-only, MARKETING_READ_ONLY or marketing.conf)");
    if (cfg->prometheus_url[0]) {
        struct promsrv_opts po = {
            .url = cfg->prometheus_url, .token_file = cfg->token_file,
            .interval_ms = cfg->scrape_ms > 5000 ? cfg->scrape_ms : 5000,
            .timeout_ms = cfg->scrape_timeout_ms,
        };
        ui->promsrv = promsrv_start(&po, ui->wake[1], err, errsz);
        if (!ui->promsrv) {
            ruleng_free(&engine);
            return -1;
        }
    }
    static char bufs[8][1024];
    static const char *urls[8];
    size_t n = config_split_list(cfg->metrics_url, bufs, urls, 8);
    if (n == 0 && !cfg->health_url[0] && !cfg->ready_url[0])
        return 0;
    struct poller_opts o = {
        .metrics_urls = urls, .n_metrics = n,
        .health_url = cfg->health_url, .ready_url = cfg->ready_url,
        .token_file = cfg->token_file,
        .interval_ms = cfg->scrape_ms, .timeout_ms = cfg->scrape_timeout_ms,
        .body_cap = 16u << 20, .history_s = 1800,
        .engine = engine,
    };
    ui->poller = poller_start(&o, ui->wake[1], err, errsz);
    return ui->poller ? 0 : -1;
}

int ui_run(const struct config *cfg)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "marketing: the console needs a terminal; for scripts use "
                        "'marketing campaigns --json' (see marketing --help)\n");
        return 2;
    }
    static struct ui ui;
    char err[512];
    if (ui_init(&ui, cfg, err, sizeof err) != 0) {
        ui_free(&ui);
        fprintf(stderr, "marketing: %s\n", err);
        return 2;
    }
    struct theme theme;
    struct config_errors terrs = { 0 };
    const char *no_color = getenv("NO_COLOR"); /* no-color.org: set and not empty */
    bool color = !cfg->no_color && !(no_color && *no_color);
    if (color && theme_load(cfg->theme, &theme, &terrs) != 0) {
        for (size_t i = 0; i < terrs.n; i++) {
            fputs("marketing: ", stderr);
            san_fputs(terrs.msg[i], stderr, 0);
            fputc('\n', stderr);
        }
        config_errors_free(&terrs);
        ui_free(&ui);
        return 2;
    }
    /* the rules are checked before the screen is taken, so their errors are read */
    struct ruleng *engine = NULL;
    if (cfg->metrics_url[0] && !cfg->prometheus_url[0]) {
        engine = ruleng_from_config(cfg, NULL, 0, &terrs);
        if (!engine) {
            for (size_t i = 0; i < terrs.n; i++) {
                fputs("marketing: ", stderr);
                san_fputs(terrs.msg[i], stderr, 0);
                fputc('\n', stderr);
            }
            config_errors_free(&terrs);
            ui_free(&ui);
            return 2;
        }
    }
    if (term_guard_start(err, sizeof err) != 0) {
        ruleng_free(&engine);
        ui_free(&ui);
        fprintf(stderr, "marketing: %s\n", err);
        return 2;
    }
    if (color)
        draw_ctx_apply_theme(&ui.ctx, &theme, true);
    bool piped = wakepipe_open(ui.wake) == 0;
    if (!piped)
        ruleng_free(&engine);
    if (!piped || start_workers(&ui, engine, err, sizeof err) != 0) {
        if (ui.wake[0] < 0)
            snprintf(err, sizeof err, "pipe: %s", strerror(errno));
        term_guard_end();
        dbworker_stop(&ui.db);
        promsrv_stop(&ui.promsrv);
        ui_free(&ui);
        fprintf(stderr, "marketing: %s\n", err);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_quit_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    nodelay(stdscr, TRUE);
    if (cfg->mouse) {
        mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
        mouseinterval(0);
    }
    ui.dirty = true;
    int64_t last_sec = -1;
    bool running = true;
    while (running && !quit_signal) {
        int64_t now = clock_real_ms();
        if (now / 1000 != last_sec) {
            last_sec = now / 1000;
            dbworker_status(ui.db, &ui.dbst);
            ui.dirty = true; /* the clock and data ages tick */
        }
        int due = ui.mode == MODE_MODAL && ui.modal.tick ? ui.modal.tick(&ui, ui.modal.st) : -1;
        if (ui.dirty) {
            draw(&ui);
            ui.dirty = false;
        }
        struct pollfd pfd[2] = {
            { .fd = STDIN_FILENO, .events = POLLIN },
            { .fd = ui.wake[0], .events = POLLIN },
        };
        int timeout = (int)(1000 - clock_real_ms() % 1000) + 1;
        if (due >= 0 && due < timeout)
            timeout = due;
        int n = poll(pfd, 2, timeout);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (pfd[1].revents & POLLIN))
            take_news(&ui);
        if (n > 0 && (pfd[0].revents & (POLLHUP | POLLERR)))
            break; /* the terminal is gone */
        wint_t wch;
        int ret;
        while (running && (ret = get_wch(&wch)) != ERR)
            running = on_key(&ui, translate_key(ret, wch));
        want_detail(&ui);
        dbworker_want_audit(ui.db, ui.focus == PANE_AUDIT);
        if (n < 0) /* a signal, perhaps SIGWINCH: get_wch above saw KEY_RESIZE */
            ui.dirty = true;
    }
    ui_modal_close(&ui);
    term_guard_end();
    bool joined = dbworker_stop(&ui.db);
    joined &= poller_stop(&ui.poller);
    joined &= promsrv_stop(&ui.promsrv);
    ui_free(&ui);
    if (joined) { /* else a worker may still write to it */
        close(ui.wake[0]);
        close(ui.wake[1]);
    }
    return quit_signal && quit_signal != SIGINT ? 128 + quit_signal : 0;
}
