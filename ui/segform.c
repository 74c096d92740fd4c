/* The segment editor. It holds no transaction: the preview counts in a
 * read-only transaction of its own on the database worker, and saving is
 * one segdb_create there. Answers carry the id of the rule's version they
 * counted; only the newest one is shown. */
#include "segform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chrome.h"
#include "clock.h"
#include "format.h"
#include "lineedit.h"
#include "sanitize.h"
#include "segments_db.h"
#include "segrule.h"

#define PREVIEW_DELAY_MS 300     /* a pause in typing before the size is counted */
#define PREVIEW_CLIENT_MS 10000  /* the client's wait for a preview (the server stops at 2 s) */
#define CREATE_TIMEOUT_MS 30000
#define NAME_MAX_BYTES 800       /* 200 characters of up to four bytes */

#define TASK_PREVIEW (DBW_TASK_MODAL + 20)
#define TASK_CREATE (DBW_TASK_MODAL + 21)

enum field { F_NAME, F_RULE, F_COUNT };

struct segform {
    struct lineedit f[F_COUNT];
    enum field at;
    bool asking_discard;
    /* the rule as typed: parsed at once */
    bool rule_ok;
    struct segrule_error err;
    /* the size preview */
    unsigned long gen;           /* the id of the rule's newest version */
    int64_t due_ms;              /* monotonic time to count it; 0: nothing due */
    bool in_flight;              /* a preview is on the worker */
    bool have_size;              /* size below is for version gen */
    struct segdb_result size;
    char size_err[512];          /* the newest version's count failed: why */
    /* saving */
    unsigned long save_id;       /* the create in flight, or 0 */
    char note[768];              /* what the form says below the size (saving, refusals) */
};

struct preview_arg {
    char *rule;
    struct segdb_result res;
};

struct create_arg {
    char *name, *rule;
    struct ctl_identity who;
    struct segdb_result res;
};

static unsigned long task_ids; /* ids of this module's tasks; only the UI thread counts */

static void preview_free(void *p)
{
    struct preview_arg *a = p;
    if (a)
        free(a->rule);
    free(a);
}

static void create_free(void *p)
{
    struct create_arg *a = p;
    if (a) {
        free(a->name);
        free(a->rule);
    }
    free(a);
}

/* On the worker's thread. */
static int run_preview(PGconn *conn, void *arg, int cancel_fd, char *err, size_t errsz)
{
    struct preview_arg *a = arg;
    if (segdb_preview(conn, a->rule, SEGDB_PREVIEW_TIMEOUT_MS, PREVIEW_CLIENT_MS, cancel_fd, &a->res) != 0) {
        snprintf(err, errsz, "%s", a->res.message);
        return -2;
    }
    return 0;
}

static int run_create(PGconn *conn, void *arg, int cancel_fd, char *err, size_t errsz)
{
    struct create_arg *a = arg;
    if (segdb_create(conn, a->name, a->rule, &a->who, CREATE_TIMEOUT_MS, cancel_fd, &a->res) != 0) {
        snprintf(err, errsz, "%s", a->res.message);
        return -2;
    }
    return 0;
}

/* Why nothing may be written now, or NULL (as control.c says it). */
static const char *read_only_reason(const struct ui *ui)
{
    if (ui->cfg->read_only)
        return "read_only is set (--read-only, MARKETING_READ_ONLY or marketing.conf)";
    if (ui->dbst.write_known && !ui->dbst.can_write)
        return ui->dbst.write_reason;
    return NULL;
}

static bool typed(const struct segform *s) { return s->f[F_NAME].len || s->f[F_RULE].len; }

/* The rule changed: parse it now; count it after a pause. */
static void rule_changed(struct segform *s)
{
    s->gen = ++task_ids;
    s->have_size = false;
    s->size_err[0] = '\0';
    s->due_ms = 0;
    if (!s->f[F_RULE].len) {
        s->rule_ok = false;
        return;
    }
    struct segrule *r = segrule_parse(s->f[F_RULE].buf, &s->err);
    s->rule_ok = r != NULL;
    segrule_free(&r);
    if (s->rule_ok)
        s->due_ms = clock_mono_ms() + PREVIEW_DELAY_MS;
}

static void send_preview(struct ui *ui, struct segform *s)
{
    struct preview_arg *a = calloc(1, sizeof *a);
    if (a)
        a->rule = strdup(s->f[F_RULE].buf);
    if (!a || !a->rule) {
        preview_free(a);
        snprintf(s->size_err, sizeof s->size_err, "out of memory");
        return;
    }
    struct dbw_task t = { .fn = run_preview, .arg = a, .free_arg = preview_free, .write = false,
                          .kind = TASK_PREVIEW, .id = s->gen };
    char why[200];
    if (!dbworker_run_task(ui->db, &t, why, sizeof why)) {
        preview_free(a);
        s->due_ms = clock_mono_ms() + PREVIEW_DELAY_MS; /* the queue is full: later */
        return;
    }
    s->in_flight = true;
}

static void save(struct ui *ui, struct segform *s)
{
    const char *ro = read_only_reason(ui);
    if (s->save_id) {
        snprintf(s->note, sizeof s->note, "Saving: wait for the database's answer.");
        return;
    }
    if (!s->f[F_NAME].len) {
        s->at = F_NAME;
        snprintf(s->note, sizeof s->note, "Give the segment a name (1 to 200 characters).");
        return;
    }
    if (!s->f[F_RULE].len || !s->rule_ok) {
        s->at = F_RULE;
        snprintf(s->note, sizeof s->note, "%s", s->f[F_RULE].len ? "The rule has an error (shown under it): fix it first."
                                                                 : "Type the rule that picks the segment's contacts.");
        return;
    }
    if (ro) {
        snprintf(s->note, sizeof s->note, "Read-only: %s. Nothing was saved.", ro);
        return;
    }
    struct create_arg *a = calloc(1, sizeof *a);
    if (a) {
        a->name = strdup(s->f[F_NAME].buf);
        a->rule = strdup(s->f[F_RULE].buf);
        a->who = ui->ident;
    }
    if (!a || !a->name || !a->rule) {
        create_free(a);
        snprintf(s->note, sizeof s->note, "Out of memory: nothing was saved.");
        return;
    }
    struct dbw_task t = { .fn = run_create, .arg = a, .free_arg = create_free, .write = true,
                          .kind = TASK_CREATE, .id = ++task_ids };
    char why[200];
    if (!dbworker_run_task(ui->db, &t, why, sizeof why)) {
        create_free(a);
        snprintf(s->note, sizeof s->note, "Not saved: %s.", why);
        return;
    }
    s->save_id = t.id;
    snprintf(s->note, sizeof s->note, "Saving...");
}

/* The create's answer: closes the editor when it worked. Returns false
 * when the editor is to close. */
static bool saved(struct ui *ui, struct segform *s, const struct dbw_task *t)
{
    const struct create_arg *a = t->arg;
    s->save_id = 0;
    if (t->rc == 0 && a->res.status == SEGDB_OK) {
        char msg[1024], n[32] = "", r[32] = "", size[96] = "";
        if (s->have_size && s->size.status == SEGDB_OK) {
            fmt_grouped(n, sizeof n, s->size.size);
            fmt_grouped(r, sizeof r, s->size.reachable);
            snprintf(size, sizeof size, ", %s contacts (%s reachable)", n, r);
        }
        snprintf(msg, sizeof msg, "Segment %s created: %.400s%s; f materializes its members",
                 a->res.segment_id, a->name, size);
        chrome_message(ui, msg);
        for (int i = 0; i < UI_PANES; i++)
            if (ui->panes[i].ops == &segments_pane)
                segments_pane_select(ui->panes[i].st, a->res.segment_id);
        dbworker_refresh(ui->db);
        return false;
    }
    if (t->rc == -1 && !t->err[0])
        snprintf(s->note, sizeof s->note, "Not saved.");
    else if (t->rc == -1)
        snprintf(s->note, sizeof s->note, "Not saved: %s", t->err); /* refused: read-only */
    else if (a->res.status == SEGDB_UNKNOWN)
        snprintf(s->note, sizeof s->note, "%s; the Segments list shows it if it was.", a->res.message);
    else
        snprintf(s->note, sizeof s->note, "Not saved: %s", t->rc == -2 ? t->err : a->res.message);
    return true;
}

static void on_task(struct ui *ui, void *st, struct dbw_task *t)
{
    struct segform *s = st;
    if (t->kind == TASK_PREVIEW) {
        const struct preview_arg *a = t->arg;
        s->in_flight = false;
        if (t->id == s->gen) { /* else a newer keystroke made it stale */
            if (t->rc == 0 && a->res.status == SEGDB_OK) {
                s->size = a->res;
                s->have_size = true;
            } else {
                snprintf(s->size_err, sizeof s->size_err, "%s",
                         t->rc == 0 ? a->res.message : t->err[0] ? t->err : "the count failed");
            }
        }
        preview_free(t->arg);
    } else if (t->kind == TASK_CREATE && t->id == s->save_id) {
        bool open = saved(ui, s, t);
        create_free(t->arg);
        if (!open)
            ui_modal_close(ui); /* frees s */
        return;
    } else if (t->free_arg) {
        t->free_arg(t->arg); /* not ours */
    }
    ui->dirty = true;
}

static int tick(struct ui *ui, void *st)
{
    struct segform *s = st;
    if (!s->due_ms || s->in_flight)
        return -1; /* an answer on the way wakes the loop */
    int64_t now = clock_mono_ms();
    if (now < s->due_ms)
        return (int)(s->due_ms - now);
    s->due_ms = 0;
    send_preview(ui, s);
    ui->dirty = true;
    return s->due_ms ? PREVIEW_DELAY_MS : -1;
}

static bool on_key(struct ui *ui, void *st, int key)
{
    struct segform *s = st;
    if (s->asking_discard) {
        s->asking_discard = false;
        s->note[0] = '\0';
        return !(key == 'y' || key == 'Y');
    }
    switch (key) {
    case KEYC_ESC:
        if (s->save_id) {
            snprintf(s->note, sizeof s->note, "Saving: wait for the database's answer.");
            return true;
        }
        if (!typed(s))
            return false;
        s->asking_discard = true;
        snprintf(s->note, sizeof s->note, "Discard this segment? y/n");
        return true;
    case KEYC_TAB: case KEYC_BTAB: case KEYC_UP: case KEYC_DOWN:
        s->at = s->at == F_NAME ? F_RULE : F_NAME;
        return true;
    case KEYC_ENTER: case KEYC_CTRL('s'):
        save(ui, s);
        return true;
    default:
        break;
    }
    if (s->save_id)
        return true; /* no edits while saving what is shown */
    if (lineedit_key(&s->f[s->at], key) == LINEEDIT_CHANGED) {
        s->note[0] = '\0';
        if (s->at == F_RULE)
            rule_changed(s);
    }
    return true;
}

/* One field: "> Name  text", the focused one marked and highlighted, the
 * cursor placed in it. */
static void draw_field(struct ui *ui, struct segform *s, enum field f, int y, struct rect r)
{
    const struct ui_ctx *ctx = &ui->ctx;
    bool on = s->at == f;
    draw_text(ctx, y, r.x, 8, on ? "> " : "  ", false, ROLE_TITLE);
    draw_text(ctx, y, r.x + 2, 6, f == F_NAME ? "Name" : "Rule", false, on ? ROLE_TITLE : ROLE_NORMAL);
    int fx = r.x + 8, fw = r.w - 9;
    if (fw < 2)
        return;
    int col;
    size_t start = lineedit_view(&s->f[f], fw, ctx->san, &col);
    draw_text(ctx, y, fx, fw, s->f[f].buf + start, false, on ? ROLE_SELECTION : ROLE_COLUMN);
    if (on && !s->asking_discard) {
        ui->cursor_y = y;
        ui->cursor_x = fx + col;
    }
}

static const char *const help[] = {
    "Rules pick contacts by their columns and attributes, for example:",
    "  country = \"FR\" and plan = \"pro\" and age >= 30",
    "  plan in (\"pro\", \"team\") and not country = \"US\"",
    "  last_opened_at > 30 days ago or clicked cmp_12",
    "  email contains \"@example.com\" and status = \"active\"",
    "  attr(\"first name\") starts with \"An\" and vip = true and phone is not null",
    "and or not ( )  = != < <= > >=  in (...)  contains  starts with  is [not] null",
    "30 days ago (minutes hours weeks)  opened cmp_12  clicked cmp_12  all",
    "Other names are attributes; attr(\"any key\") reaches the rest.",
    "Tab field  Left Right Home End  Backspace Delete  Enter/C-s save  Esc cancel",
};

static void on_draw(struct ui *ui, void *st, struct rect r)
{
    struct segform *s = st;
    const struct ui_ctx *ctx = &ui->ctx;
    draw_title(ctx, r, "New segment", "Enter save  Tab field  Esc cancel", true);
    int y = r.y + 2, bottom = r.y + r.h;
    char line[1024], n1[32], n2[32];
    if (y < bottom)
        draw_field(ui, s, F_NAME, y++, r);
    y++;
    if (y < bottom)
        draw_field(ui, s, F_RULE, y++, r);
    int fx = r.x + 8, fw = r.w - 9 > 1 ? r.w - 9 : 1;
    /* the rule's error, with the caret under where it went wrong */
    if (s->f[F_RULE].len && !s->rule_ok && y + 2 < bottom) {
        char where[300], caret[SEGRULE_MAX_LEN * 4 + 64];
        segrule_error_format(&s->err, where, sizeof where);
        segrule_caret(s->f[F_RULE].buf, &s->err, fw, ctx->san, caret, sizeof caret);
        char *nl = strchr(caret, '\n');
        if (nl)
            *nl = '\0';
        char *second = nl ? nl + 1 : caret + strlen(caret);
        char *nl2 = strchr(second, '\n');
        if (nl2)
            *nl2 = '\0';
        draw_text(ctx, y++, fx, fw, caret, false, ROLE_NORMAL);
        draw_text(ctx, y++, fx, fw, second, false, ROLE_CRIT);
        snprintf(line, sizeof line, "Error %s", where);
        draw_text(ctx, y++, r.x + 2, r.w - 2, line, false, ROLE_CRIT);
    } else {
        y += 3;
    }
    /* the size */
    enum role role = ROLE_NORMAL;
    if (!s->f[F_RULE].len) {
        snprintf(line, sizeof line, "Size  type a rule to see how many contacts it picks");
        role = ROLE_DIM;
    } else if (!s->rule_ok) {
        snprintf(line, sizeof line, "Size  - (the rule has an error)");
        role = ROLE_DIM;
    } else if (s->have_size) {
        fmt_grouped(n1, sizeof n1, s->size.size);
        fmt_grouped(n2, sizeof n2, s->size.reachable);
        snprintf(line, sizeof line, "Size  %s contacts (%s reachable)", n1, n2);
        role = ROLE_OK;
    } else if (s->size_err[0]) {
        snprintf(line, sizeof line, "Size  unknown: %s", s->size_err);
        role = ROLE_WARN;
    } else {
        snprintf(line, sizeof line, "Size  counting...%s",
                 ui->dbst.state == DBW_CONNECTED ? "" : " (waiting for the database)");
        role = ROLE_DIM;
    }
    if (y < bottom)
        draw_text(ctx, y++, r.x + 2, r.w - 2, line, false, role);
    if (y < bottom)
        draw_text(ctx, y++, r.x + 2, r.w - 2, s->note, false, ROLE_WARN);
    y++;
    for (size_t i = 0; i < sizeof help / sizeof help[0] && y < bottom; i++)
        draw_text(ctx, y++, r.x + 2, r.w - 2, help[i], false, i == 0 ? ROLE_TITLE : ROLE_DIM);
}

static void on_close(void *st) { free(st); }

void segform_open(struct ui *ui)
{
    struct segform *s = calloc(1, sizeof *s);
    if (!s) {
        chrome_message(ui, "Out of memory: the segment editor did not open.");
        return;
    }
    lineedit_init(&s->f[F_NAME], NAME_MAX_BYTES);
    lineedit_init(&s->f[F_RULE], SEGRULE_MAX_LEN);
    struct modal m = { .key = on_key, .draw = on_draw, .task = on_task, .news = NULL,
                       .close = on_close, .st = s, .tick = tick };
    ui_modal_open(ui, &m);
    const char *ro = read_only_reason(ui);
    if (ro)
        snprintf(s->note, sizeof s->note, "Read-only: nothing can be saved (%s).", ro);
}
