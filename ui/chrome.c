#include "chrome.h"

#include "acks.h"
#include "campform.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "curs.h"
#include "format.h"
#include "poller.h"
#include "sanitize.h"

void chrome_message(struct ui *ui, const char *msg)
{
    snprintf(ui->message, sizeof ui->message, "%s", msg);
    ui->dirty = true;
}

void chrome_draw_header(struct ui *ui, const struct pane_data *d)
{
    const struct rect r = ui->layout.header;
    const struct ui_ctx *ctx = &ui->ctx;
    const char *env = ui->cfg->environment;
    /* production looks different everywhere it shows: the whole header */
    bool prod = env && strcmp(env, "production") == 0;
    enum role head = prod ? ROLE_PRODUCTION : ROLE_HEADER;
    draw_blank(ctx, r.y, r.x, r.w, head);
    int x = r.x;
    x += draw_text(ctx, r.y, x, r.w < 11 ? r.w : 11, " marketing ", false, head);
    /* the tab bar: every pane with its number and a badge */
    /* every tab, the focused one always: full, then without badges, then
     * numbers alone, whatever fits */
    char tabs[UI_PANES][96];
    int env_w = env && *env ? san_width(env, (size_t)-1, ctx->san) + 4 : 0;
    if (env_w > 32)
        env_w = 32;
    for (int form = 0; form < 3; form++) {
        int total = x;
        for (int i = 0; i < UI_PANES; i++) {
            char badge[32] = "";
            ui->panes[i].ops->badge(ui->panes[i].st, d, badge, sizeof badge);
            if (form == 0 && badge[0])
                snprintf(tabs[i], sizeof tabs[i], " %d %s (%s) ", i + 1, ui->panes[i].ops->title, badge);
            else if (form <= 1)
                snprintf(tabs[i], sizeof tabs[i], " %d %s ", i + 1, ui->panes[i].ops->title);
            else
                snprintf(tabs[i], sizeof tabs[i], " %d ", i + 1);
            total += san_width(tabs[i], (size_t)-1, ctx->san);
        }
        if (total + env_w <= r.w || form == 2)
            break;
    }
    for (int i = 0; i <= UI_PANES; i++)
        ui->tab_x[i] = r.w;
    for (int i = 0; i < UI_PANES && x < r.w; i++) {
        ui->tab_x[i] = x;
        enum role role = i == ui->focus ? ROLE_TAB_ACTIVE : prod ? ROLE_PRODUCTION : ROLE_TAB;
        int w = san_width(tabs[i], (size_t)-1, ctx->san);
        x += draw_text(ctx, r.y, x, w < r.w - x ? w : r.w - x, tabs[i], false, role);
    }
    if (env && *env) {
        char e[80];
        snprintf(e, sizeof e, " [%s] ", env);
        int w = env_w;
        if (x + w <= r.w)
            draw_text(ctx, r.y, r.w - w, w, e, false, prod ? ROLE_PRODUCTION : ROLE_ACCENT);
    }
}

void chrome_draw_separator(struct ui *ui)
{
    const char *bar = ui->ctx.san ? "|" : "\xE2\x94\x82"; /* │ */
    attrset(ui->ctx.attr[ROLE_DIM]);
    for (int y = ui->layout.pane[0].y; y < ui->layout.hint.y; y++)
        mvaddstr(y, ui->layout.vsep_x, bar);
    attrset(A_NORMAL);
}

void chrome_draw_hint(struct ui *ui)
{
    const struct rect r = ui->layout.hint;
    const struct ui_ctx *ctx = &ui->ctx;
    char line[CMDLINE_MAX + 64];
    if (ui->mode == MODE_FILTER || ui->mode == MODE_COMMAND) {
        /* the end of what is typed stays in view */
        const char *in = ui->input;
        int room = r.w - 2 - (ui->completions[0] ? 24 : 0);
        while (*in && san_width(in, (size_t)-1, ctx->san) > room)
            in++;
        snprintf(line, sizeof line, "%s%s", ui->mode == MODE_FILTER ? "/" : ":", in);
        int w = draw_text(ctx, r.y, r.x, r.w, line, false, ROLE_NORMAL);
        if (ui->completions[0] && w + 3 < r.w)
            draw_text(ctx, r.y, w + 3, r.w - w - 3, ui->completions, false, ROLE_DIM);
        ui->cursor_y = r.y; /* where typing goes; placed last, before doupdate */
        ui->cursor_x = w < r.w ? w : r.w - 1;
        return;
    }
    if (ui->message[0]) {
        draw_text(ctx, r.y, r.x, r.w, ui->message, false, ROLE_WARN);
        return;
    }
    if (ui->mode == MODE_MODAL) { /* its keys are its own: it shows them */
        draw_blank(ctx, r.y, r.x, r.w, ROLE_HINT);
        return;
    }
    char hint[256];
    const struct pane *p = &ui->panes[ui->focus];
    keymap_hint(&ui->km, (action_filter_fn)p->ops->accepts, p->st, hint, sizeof hint, r.w - 1);
    snprintf(line, sizeof line, " %s", hint);
    draw_text(ctx, r.y, r.x, r.w, line, false, ROLE_HINT);
}

static void db_part(const struct ui *ui, char *buf, size_t n)
{
    const struct dbw_status *st = &ui->dbst;
    char age[32], retry[16];
    if (st->data_ms) {
        char a[16];
        fmt_age(a, sizeof a, clock_real_ms() - st->data_ms);
        snprintf(age, sizeof age, "data %s old", a);
    } else {
        snprintf(age, sizeof age, "no data yet");
    }
    switch (st->state) {
    case DBW_CONNECTING:
        snprintf(buf, n, "db: connecting");
        break;
    case DBW_CONNECTED:
        snprintf(buf, n, "db: ok, %s%s%s%s", age, st->live ? "" : ", no live updates",
                 st->error[0] ? " ! " : "", st->error);
        break;
    case DBW_RECONNECTING:
        fmt_age(retry, sizeof retry, st->retry_at_ms - clock_mono_ms() + 999);
        snprintf(buf, n, "db: reconnecting (attempt %d%s%s), %s: %s", st->attempt,
                 st->retry_at_ms ? ", next in " : "", st->retry_at_ms ? retry : "", age, st->error);
        break;
    }
}

static void endpoints_part(const struct ui *ui, char *buf, size_t n)
{
    buf[0] = '\0';
    const struct poll_snapshot *p = ui->poll;
    if (!ui->poller) {
        snprintf(buf, n, " | metrics: off");
        return;
    }
    if (!p) {
        snprintf(buf, n, " | metrics: waiting");
        return;
    }
    size_t used = 0;
    int64_t now = clock_real_ms();
    char age[16];
    if (p->n_targets) {
        size_t bad = 0;
        int64_t newest = 0;
        for (size_t i = 0; i < p->n_targets; i++) {
            bad += !p->targets[i].ok;
            if (p->targets[i].last_ok_ms > newest)
                newest = p->targets[i].last_ok_ms;
        }
        if (bad == 0) {
            fmt_age(age, sizeof age, now - newest);
            used += (size_t)snprintf(buf + used, n - used, " | metrics: ok %s", age);
        } else {
            for (size_t i = 0; i < p->n_targets; i++) {
                if (!p->targets[i].ok) {
                    used += (size_t)snprintf(buf + used, n - used, " | metrics: %s", p->targets[i].error);
                    break;
                }
            }
        }
    }
    if (used < n && p->health.ep.url && p->health.ep.url[0]) {
        if (p->health.ep.ok)
            snprintf(buf + used, n - used, " | health: %s", p->health.status ? p->health.status : "?");
        else
            snprintf(buf + used, n - used, " | health: %s", p->health.ep.error);
    }
}

void chrome_draw_status(struct ui *ui)
{
    const struct rect r = ui->layout.status;
    char db[700], ep[600], line[1600], clock[16];
    db_part(ui, db, sizeof db);
    endpoints_part(ui, ep, sizeof ep);
    const char *env = ui->cfg->environment;
    char ro[200] = "";
    if (ui->cfg->read_only)
        snprintf(ro, sizeof ro, "READ-ONLY | ");
    else if (ui->dbst.write_known && !ui->dbst.can_write)
        snprintf(ro, sizeof ro, "READ-ONLY (%s) | ", ui->dbst.write_reason);
    snprintf(line, sizeof line, " %s%s%s%s%s", env[0] ? env : "", env[0] ? " | " : "", ro, db, ep);
    time_t t = (time_t)(clock_real_ms() / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(clock, sizeof clock, " %H:%M:%S ", &tm);
    int cw = (int)strlen(clock);
    enum role role = ui->dbst.state == DBW_RECONNECTING ? ROLE_CRIT : ROLE_STATUS;
    draw_text(&ui->ctx, r.y, r.x, r.w - cw > 0 ? r.w - cw : 0, line, false, role);
    if (r.w >= cw)
        draw_text(&ui->ctx, r.y, r.w - cw, cw, clock, false, ROLE_STATUS);
}

void chrome_draw_help(struct ui *ui)
{
    static char lines[96][160];
    size_t n = keymap_help_lines(&ui->km, &lines[0][0], sizeof lines[0], 96);
    char down[32], up[32], head[160];
    keymap_keys(&ui->km, ACT_DOWN, down, sizeof down);
    keymap_keys(&ui->km, ACT_UP, up, sizeof up);
    snprintf(head, sizeof head, " Keys: any other key closes this screen; %s and %s scroll", down, up);
    draw_text(&ui->ctx, 0, 0, COLS, head, false, ROLE_HEADER);
    int rows = LINES - 2; /* the status line keeps the last row */
    if (ui->help_top + (size_t)rows > n)
        ui->help_top = n > (size_t)rows ? n - (size_t)rows : 0;
    bool more = ui->help_top + (size_t)rows < n;
    for (int i = 0; i < rows; i++) {
        size_t li = ui->help_top + (size_t)i;
        const char *text = li < n ? lines[li] : "";
        bool heading = li < n && text[0] != ' ';
        if (more && i == rows - 1) {
            draw_text(&ui->ctx, 1 + i, 0, COLS, " ... more below", false, ROLE_DIM);
            break;
        }
        draw_text(&ui->ctx, 1 + i, 0, COLS, text, false, heading ? ROLE_TITLE : ROLE_NORMAL);
    }
}

void chrome_draw_too_small(struct ui *ui)
{
    char msg[96];
    snprintf(msg, sizeof msg, "Terminal too small: %dx%d, need %dx%d", COLS, LINES, SCREEN_MIN_COLS,
             SCREEN_MIN_LINES);
    draw_text(&ui->ctx, 0, 0, COLS, msg, false, ROLE_NORMAL);
    if (LINES > 1)
        draw_text(&ui->ctx, 1, 0, COLS, "Enlarge it, or press q to quit.", false, ROLE_NORMAL);
}

static void run_command(struct ui *ui, bool *running)
{
    cmd_history_add(&ui->hist, ui->input);
    const char *arg;
    enum action_id a = cmdline_parse(ui->input, &arg);
    ui->mode = MODE_NORMAL;
    if (a == ACT_NONE) {
        char msg[300];
        const char *p = ui->input;
        while (*p == ' ')
            p++;
        snprintf(msg, sizeof msg, "%.200s: no such command (Tab completes; ? lists them)", p);
        if (*p)
            chrome_message(ui, msg);
        return;
    }
    if (a == ACT_FILTER && *arg) {
        ui_set_filter(ui, arg);
        return;
    }
    if ((a >= ACT_LAUNCH && a <= ACT_RETRY_FAILED) || a == ACT_STOP_ALL) {
        control_begin(ui, a, arg);
        return;
    }
    if (a == ACT_ACK || a == ACT_SNOOZE || a == ACT_UNACK) {
        acks_begin(ui, a, arg);
        return;
    }
    if ((a == ACT_TEST_SEND || a == ACT_PROMOTE || a == ACT_PREVIEW || a == ACT_CLONE) && *arg) {
        campform_command(ui, a, arg);
        return;
    }
    *running = ui_run_action(ui, a);
}

/* Appends the UTF-8 form of a typed character. */
static void input_append(char *buf, size_t n, int key)
{
    size_t len = strlen(buf);
    char enc[5];
    size_t k = 0;
    unsigned c = (unsigned)key;
    if (c < 0x80) {
        enc[k++] = (char)c;
    } else if (c < 0x800) {
        enc[k++] = (char)(0xC0 | (c >> 6));
        enc[k++] = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        enc[k++] = (char)(0xE0 | (c >> 12));
        enc[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
        enc[k++] = (char)(0x80 | (c & 0x3F));
    } else {
        enc[k++] = (char)(0xF0 | (c >> 18));
        enc[k++] = (char)(0x80 | ((c >> 12) & 0x3F));
        enc[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
        enc[k++] = (char)(0x80 | (c & 0x3F));
    }
    if (len + k + 1 <= n) {
        memcpy(buf + len, enc, k);
        buf[len + k] = '\0';
    }
}

static void input_backspace(char *buf)
{
    size_t len = strlen(buf);
    while (len > 0 && ((unsigned char)buf[len - 1] & 0xC0) == 0x80)
        len--; /* continuation bytes of the last character */
    if (len > 0)
        len--;
    buf[len] = '\0';
}

bool chrome_input_key(struct ui *ui, int key)
{
    bool running = true;
    bool filter = ui->mode == MODE_FILTER;
    ui->dirty = true;
    if (key != KEYC_TAB)
        ui->completions[0] = '\0';
    switch (key) {
    case KEYC_ESC:
        if (filter)
            ui_set_filter(ui, "");
        ui->mode = MODE_NORMAL;
        return true;
    case KEYC_ENTER:
        if (filter)
            ui->mode = MODE_NORMAL; /* the filter stays */
        else
            run_command(ui, &running);
        return running;
    case KEYC_BACKSPACE:
        if (!ui->input[0]) {
            ui->mode = MODE_NORMAL;
            return true;
        }
        input_backspace(ui->input);
        break;
    case KEYC_TAB:
        if (!filter) {
            size_t m = cmdline_complete(ui->input, sizeof ui->input, ui->completions,
                                        sizeof ui->completions);
            if (m < 2)
                ui->completions[0] = '\0'; /* one match was filled in; none: nothing to list */
        }
        return true;
    case KEYC_UP:
    case KEYC_DOWN:
        if (!filter && ui->hist.n) {
            if (key == KEYC_UP && ui->hist_pos > 0)
                ui->hist_pos--;
            else if (key == KEYC_DOWN && ui->hist_pos < ui->hist.n)
                ui->hist_pos++;
            snprintf(ui->input, sizeof ui->input, "%s",
                     ui->hist_pos < ui->hist.n ? ui->hist.line[ui->hist_pos] : "");
        }
        return true;
    default:
        if (key < ' ' || key >= KEYC_UP || key == 0x7f)
            return true;
        input_append(ui->input, sizeof ui->input, key);
        break;
    }
    if (filter)
        ui_set_filter(ui, ui->input);
    return true;
}
