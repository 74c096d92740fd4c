/* The console's event loop: one thread owns curses. It blocks in poll() on
 * stdin and the workers' wake pipe, with a timeout to the next clock tick,
 * and ends every turn that changed something in one doupdate(). */
#include "ui.h"

#include <errno.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "campaigns.h"
#include "clock.h"
#include "curs.h"
#include "dbworker.h"
#include "format.h"
#include "layout.h"
#include "sanitize.h"
#include "term_guard.h"
#include "wakepipe.h"

#define MIN_COLS 40
#define MIN_LINES 8

static volatile sig_atomic_t quit_signal;

static void on_quit_signal(int sig) { quit_signal = sig; }

struct ui {
    const struct config *cfg;
    struct dbworker *db;
    int wake[2];
    struct campaign_list *camps;
    struct dbw_status dbst;
    size_t sel, top;
    unsigned san;          /* SAN_ASCII when the terminal is not UTF-8 */
    bool dirty;
};

enum { C_ID, C_NAME, C_TYPE, C_STATUS, C_SEGMENT, C_PROGRESS, C_OPENS, C_CLICKS, C_N };
static const struct col_spec columns[C_N] = {
    [C_ID] = { "ID", 6, 8, 0, 1 },
    [C_NAME] = { "NAME", 12, 24, 3, 0 },
    [C_TYPE] = { "TYPE", 5, 5, 0, 6 },
    [C_STATUS] = { "STATUS", 11, 11, 0, 0 },
    [C_SEGMENT] = { "SEGMENT", 8, 14, 1, 5 },
    [C_PROGRESS] = { "SENT/AUD", 11, 13, 0, 2 },
    [C_OPENS] = { "OPENS", 6, 6, 0, 3 },
    [C_CLICKS] = { "CLICKS", 6, 6, 0, 4 },
};

/* Draws untrusted text at the cursor in at most cols columns, padded;
 * right-aligned when right is set. */
static void put_text(const struct ui *ui, const char *s, int cols, bool right)
{
    char buf[SAN_MAX_INPUT * 3 + 16];
    struct san_result r = san_fit(buf, sizeof buf, s, (size_t)-1, cols, ui->san);
    if (right)
        printw("%*s", cols - r.cols, "");
    addstr(buf);
    if (!right)
        printw("%*s", cols - r.cols, "");
}

static void draw_header(const struct ui *ui)
{
    attrset(A_REVERSE | A_BOLD);
    move(0, 0);
    char title[128];
    snprintf(title, sizeof title, " marketing %s  Campaigns (%zu)", MARKETING_VERSION,
             ui->camps ? ui->camps->n : (size_t)0);
    put_text(ui, title, COLS, false);
    const char *env = ui->cfg->environment;
    if (env && *env) {
        char e[80];
        struct san_result r = san_fit(e, sizeof e, env, (size_t)-1, 30, ui->san);
        mvprintw(0, COLS - r.cols - 3, "[%s] ", e);
    }
    attrset(A_NORMAL);
}

static void draw_campaigns(struct ui *ui, int y0, int rows)
{
    int w[C_N];
    layout_columns(columns, C_N, COLS - 1, w);
    attrset(A_BOLD | A_UNDERLINE);
    move(y0, 0);
    addch(' ');
    for (int c = 0; c < C_N; c++) {
        if (!w[c])
            continue;
        put_text(ui, columns[c].title, w[c], c >= C_PROGRESS);
        if (c + 1 < C_N)
            addch(' ');
    }
    clrtoeol();
    attrset(A_NORMAL);
    y0++;
    rows--;
    size_t n = ui->camps ? ui->camps->n : 0;
    if (n == 0) {
        mvaddstr(y0 + 1, 2, ui->camps ? "No campaigns." : "Loading campaigns...");
        return;
    }
    if (ui->sel >= n)
        ui->sel = n - 1;
    if (ui->sel < ui->top)
        ui->top = ui->sel;
    if (rows > 0 && ui->sel >= ui->top + (size_t)rows)
        ui->top = ui->sel - (size_t)rows + 1;
    for (int r = 0; r < rows && ui->top + (size_t)r < n; r++) {
        const struct campaign *cp = &ui->camps->v[ui->top + (size_t)r];
        bool selected = ui->top + (size_t)r == ui->sel;
        attrset(selected ? A_REVERSE : A_NORMAL);
        move(y0 + r, 0);
        addch(selected ? '>' : ' ');
        char buf[64], a[16], b[16];
        for (int c = 0; c < C_N; c++) {
            if (!w[c])
                continue;
            switch (c) {
            case C_ID: put_text(ui, cp->id, w[c], false); break;
            case C_NAME: put_text(ui, cp->name, w[c], false); break;
            case C_TYPE: put_text(ui, cp->type, w[c], false); break;
            case C_STATUS:
                snprintf(buf, sizeof buf, "%s %s",
                         campaign_status_glyph(cp->status, ui->san & SAN_ASCII), cp->status);
                put_text(ui, buf, w[c], false);
                break;
            case C_SEGMENT: put_text(ui, cp->segment_name, w[c], false); break;
            case C_PROGRESS:
                fmt_count(a, sizeof a, cp->sent);
                fmt_count(b, sizeof b, cp->audience);
                snprintf(buf, sizeof buf, "%s/%s", a, b);
                put_text(ui, buf, w[c], true);
                break;
            case C_OPENS: fmt_count(a, sizeof a, cp->opened); put_text(ui, a, w[c], true); break;
            case C_CLICKS: fmt_count(a, sizeof a, cp->clicked); put_text(ui, a, w[c], true); break;
            }
            if (c + 1 < C_N)
                addch(' ');
        }
        clrtoeol();
    }
    attrset(A_NORMAL);
}

static void draw_status(const struct ui *ui)
{
    char line[1024], age[16], retry[16];
    const struct dbw_status *st = &ui->dbst;
    int64_t now = clock_real_ms();
    if (st->data_ms)
        fmt_age(age, sizeof age, now - st->data_ms);
    else
        snprintf(age, sizeof age, "none");
    switch (st->state) {
    case DBW_CONNECTING:
        snprintf(line, sizeof line, " db: connecting | data: %s", age);
        break;
    case DBW_CONNECTED:
        snprintf(line, sizeof line, " db: connected | data: %s old%s%s", age,
                 st->error[0] ? " | " : "", st->error);
        break;
    case DBW_RECONNECTING: {
        int64_t left = st->retry_at_ms - clock_mono_ms();
        fmt_age(retry, sizeof retry, left + 999);
        snprintf(line, sizeof line, " db: reconnecting (attempt %d%s%s) | data: %s old | %s",
                 st->attempt, st->retry_at_ms ? ", next in " : "", st->retry_at_ms ? retry : "",
                 age, st->error);
        break;
    }
    }
    char clock[16];
    time_t t = (time_t)(now / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(clock, sizeof clock, " %H:%M:%S ", &tm);
    int cw = (int)strlen(clock);
    attrset(A_REVERSE);
    move(LINES - 1, 0);
    put_text(ui, line, COLS - cw > 0 ? COLS - cw : 0, false);
    if (COLS >= cw)
        mvaddstr(LINES - 1, COLS - cw, clock);
    attrset(A_NORMAL);
}

static void draw(struct ui *ui)
{
    erase();
    if (COLS < MIN_COLS || LINES < MIN_LINES) {
        char msg[96];
        snprintf(msg, sizeof msg, "Terminal too small: %dx%d, need %dx%d", COLS, LINES,
                 MIN_COLS, MIN_LINES);
        mvaddnstr(0, 0, msg, COLS);
        if (LINES > 1)
            mvaddnstr(1, 0, "Enlarge it, or press q to quit.", COLS);
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    draw_header(ui);
    draw_campaigns(ui, 1, LINES - 3);
    attrset(A_DIM);
    mvaddnstr(LINES - 2, 0, " q quit  j/k move  g/G first/last  PgUp/PgDn page  r refresh", COLS);
    attrset(A_NORMAL);
    draw_status(ui);
    wnoutrefresh(stdscr);
    doupdate();
}

/* Returns false when the user asked to quit. */
static bool on_key(struct ui *ui, int ch)
{
    size_t n = ui->camps ? ui->camps->n : 0;
    size_t page = LINES > 4 ? (size_t)(LINES - 4) : 1;
    switch (ch) {
    case 'q': case 'Q': return false;
    case 'j': case KEY_DOWN: if (ui->sel + 1 < n) ui->sel++; break;
    case 'k': case KEY_UP: if (ui->sel > 0) ui->sel--; break;
    case 'g': case KEY_HOME: ui->sel = 0; break;
    case 'G': case KEY_END: if (n) ui->sel = n - 1; break;
    case KEY_NPAGE: ui->sel = ui->sel + page < n ? ui->sel + page : (n ? n - 1 : 0); break;
    case KEY_PPAGE: ui->sel = ui->sel > page ? ui->sel - page : 0; break;
    case 'r': dbworker_refresh(ui->db); break;
    case KEY_RESIZE: break;
    default: return true;
    }
    ui->dirty = true;
    return true;
}

static void take_news(struct ui *ui)
{
    wakepipe_drain(ui->wake[0]);
    struct campaign_list *l = dbworker_take_campaigns(ui->db);
    if (l) {
        /* keep the selection on the same campaign when the list changes */
        const char *cur = ui->camps && ui->sel < ui->camps->n ? ui->camps->v[ui->sel].id : NULL;
        if (cur) {
            for (size_t i = 0; i < l->n; i++) {
                if (strcmp(l->v[i].id, cur) == 0) {
                    ui->sel = i;
                    break;
                }
            }
        }
        campaign_list_free(&ui->camps);
        ui->camps = l;
    }
    dbworker_status(ui->db, &ui->dbst);
    ui->dirty = true;
}

int ui_run(const struct config *cfg)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "marketing: the console needs a terminal; for scripts use "
                        "'marketing campaigns --json' (see marketing --help)\n");
        return 2;
    }
    struct ui ui = { .cfg = cfg };
    const char *cs = nl_langinfo(CODESET);
    if (!cs || strcmp(cs, "UTF-8") != 0)
        ui.san = SAN_ASCII;
    char err[512];
    if (term_guard_start(err, sizeof err) != 0) {
        fprintf(stderr, "marketing: %s\n", err);
        return 2;
    }
    if (wakepipe_open(ui.wake) != 0) {
        term_guard_end();
        fprintf(stderr, "marketing: pipe: %s\n", strerror(errno));
        return 1;
    }
    ui.db = dbworker_start(cfg->dsn, cfg->refresh_ms, ui.wake[1], err, sizeof err);
    if (!ui.db) {
        term_guard_end();
        close(ui.wake[0]);
        close(ui.wake[1]);
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
        if (ui.dirty) {
            draw(&ui);
            ui.dirty = false;
        }
        struct pollfd pfd[2] = {
            { .fd = STDIN_FILENO, .events = POLLIN },
            { .fd = ui.wake[0], .events = POLLIN },
        };
        int timeout = (int)(1000 - clock_real_ms() % 1000) + 1;
        int n = poll(pfd, 2, timeout);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (pfd[1].revents & POLLIN))
            take_news(&ui);
        if (n > 0 && (pfd[0].revents & (POLLHUP | POLLERR)))
            break; /* the terminal is gone */
        int ch;
        while (running && (ch = getch()) != ERR)
            running = on_key(&ui, ch);
        if (n < 0) /* a signal, perhaps SIGWINCH: getch above saw KEY_RESIZE */
            ui.dirty = true;
    }
    term_guard_end();
    bool joined = dbworker_stop(&ui.db);
    campaign_list_free(&ui.camps);
    if (joined) { /* else the worker may still write to it */
        close(ui.wake[0]);
        close(ui.wake[1]);
    }
    return quit_signal && quit_signal != SIGINT ? 128 + quit_signal : 0;
}
