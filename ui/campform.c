#include "campform.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authoring.h"
#include "campaigns.h"
#include "chrome.h"
#include "clock.h"
#include "control.h"
#include "lineedit.h"
#include "curs.h"
#include "pane.h"
#include "sanitize.h"
#include "segments.h"

#define LINE_MAX_BYTES 1024
#define TASK_TIMEOUT_MS 15000

enum task_kind {
    TK_CLONE = DBW_TASK_CAMP, TK_TEST_SEND, TK_PROMOTE,
    TK_LOAD = DBW_TASK_MODAL, TK_SAVE, TK_VERIFY, TK_PREVIEW,
};

/* ---------------------------------------------------------------------- */
/* Tasks: what runs on the worker's connection                             */

struct task {
    struct authoring_request rq;
    struct authoring_result res;
    struct authoring_draft draft;        /* load: filled; save, preview: a copy */
    struct authoring_problems problems;  /* save: what the database found first */
    char id[64];
    int version;
    char status[32];
    char email[321];                     /* preview: a chosen contact, or "" */
    char *contact, *attrs;               /* preview: who, and their attributes */
    struct ctl_identity who;             /* what the console says of itself in the audit log */
    int load_rc;
    bool validated;
};

static void task_free(void *arg)
{
    struct task *t = arg;
    if (!t)
        return;
    authoring_draft_free(&t->draft);
    free(t->contact);
    free(t->attrs);
    free(t);
}

static struct task *task_new(void)
{
    struct task *t = calloc(1, sizeof *t);
    if (t)
        authoring_draft_init(&t->draft);
    return t;
}

static int lost_or(PGconn *conn, int rc)
{
    return PQstatus(conn) == CONNECTION_BAD ? -2 : rc;
}

static int run_load(PGconn *conn, void *arg, int cancel_fd, char *err, size_t errsz)
{
    struct task *t = arg;
    t->load_rc = authoring_load(conn, t->id, TASK_TIMEOUT_MS, cancel_fd, &t->draft, &t->version, t->status,
                                sizeof t->status, err, errsz);
    return lost_or(conn, t->load_rc < 0 ? -1 : 0);
}

static int run_save(PGconn *conn, void *arg, int cancel_fd, char *err, size_t errsz)
{
    struct task *t = arg;
    /* what only the database knows (the segment, every placeholder) first */
    int n = authoring_validate_db(conn, &t->draft, TASK_TIMEOUT_MS, cancel_fd, &t->problems, err, errsz);
    if (n < 0)
        return lost_or(conn, -1);
    t->validated = true;
    if (n > 0)
        return 0;
    t->rq.draft = &t->draft;
    if (authoring_execute(conn, &t->rq, &t->who, TASK_TIMEOUT_MS, cancel_fd, &t->res) != 0) {
        snprintf(err, errsz, "%s", t->res.r.outcome == CTL_UNKNOWN ? "the connection failed mid-save" : "failed");
        return t->res.r.outcome == CTL_UNKNOWN ? -2 : lost_or(conn, -1);
    }
    return 0;
}

static int run_verify(PGconn *conn, void *arg, int cancel_fd, char *err, size_t errsz)
{
    struct task *t = arg;
    t->rq.draft = &t->draft;
    if (authoring_verify(conn, &t->rq, TASK_TIMEOUT_MS, cancel_fd, &t->res) != 0) {
        snprintf(err, errsz, "still cannot tell whether it was applied");
        return lost_or(conn, -1);
    }
    return 0;
}

static int run_write(PGconn *conn, void *arg, int cancel_fd, char *err, size_t errsz)
{
    struct task *t = arg;
    if (authoring_execute(conn, &t->rq, &t->who, TASK_TIMEOUT_MS, cancel_fd, &t->res) != 0) {
        snprintf(err, errsz, "%s", t->res.r.outcome == CTL_UNKNOWN ? "the connection failed mid-write" : "failed");
        return t->res.r.outcome == CTL_UNKNOWN ? -2 : lost_or(conn, -1);
    }
    return 0;
}

static int run_preview(PGconn *conn, void *arg, int cancel_fd, char *err, size_t errsz)
{
    struct task *t = arg;
    if (t->id[0] && !t->draft.subject) {
        t->load_rc = authoring_load(conn, t->id, TASK_TIMEOUT_MS, cancel_fd, &t->draft, &t->version, t->status,
                                    sizeof t->status, err, errsz);
        if (t->load_rc != 0)
            return lost_or(conn, -1);
    }
    int rc = authoring_preview_contact(conn, t->draft.segment_id, t->email[0] ? t->email : NULL, TASK_TIMEOUT_MS,
                                       cancel_fd, &t->contact, &t->attrs, err, errsz);
    return lost_or(conn, rc < 0 ? -1 : 0);
}

static bool submit(struct ui *ui, enum task_kind kind, struct task *t, bool write,
                   int (*fn)(PGconn *, void *, int, char *, size_t))
{
    t->who = ui->ident;
    struct dbw_task dt = { .fn = fn, .arg = t, .free_arg = task_free, .write = write, .kind = (int)kind };
    char why[300];
    if (!dbworker_run_task(ui->db, &dt, why, sizeof why)) {
        chrome_message(ui, why);
        task_free(t);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------------- */
/* Text editing                                                            */

static void set_int(struct lineedit *e, int v)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%d", v);
    lineedit_set(e, buf);
}

/* A whole file, its last newlines trimmed (editors add one); NULL when it
 * is larger than max (*too_big) or memory runs out. */
static char *read_all(FILE *f, size_t max, bool *too_big)
{
    size_t cap = 4096, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (;;) {
        if (n + 1 >= cap) {
            char *g = cap < max ? realloc(out, cap * 2) : NULL;
            if (!g) {
                *too_big = cap >= max;
                free(out);
                return NULL;
            }
            out = g;
            cap *= 2;
        }
        size_t r = fread(out + n, 1, cap - n - 1, f);
        if (r == 0)
            break;
        n += r;
    }
    while (n > 0 && out[n - 1] == '\n')
        n--;
    out[n] = '\0';
    return out;
}

/* Long text in $VISUAL or $EDITOR (else vi), as git commit does: the
 * screen is given back while it runs. Returns the new text (malloc'd), or
 * NULL with a message when the editor failed (the text is then unchanged). */
static char *edit_text(const char *text, char *msg, size_t msgsz)
{
    char path[] = "/tmp/marketing-edit-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(msg, msgsz, "cannot make a file to edit in: %s", strerror(errno));
        return NULL;
    }
    size_t len = text ? strlen(text) : 0;
    bool ok = len == 0 || write(fd, text, len) == (ssize_t)len;
    close(fd);
    if (!ok) {
        snprintf(msg, msgsz, "cannot write %s: %s", path, strerror(errno));
        unlink(path);
        return NULL;
    }
    const char *ed = getenv("VISUAL");
    if (!ed || !*ed)
        ed = getenv("EDITOR");
    if (!ed || !*ed)
        ed = "vi";
    def_prog_mode();
    endwin();
    pid_t pid = fork();
    if (pid == 0) {
        /* the editor may have arguments: the shell reads them, as git does */
        execl("/bin/sh", "sh", "-c", "exec $0 \"$1\"", ed, path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    reset_prog_mode();
    clearok(curscr, TRUE);
    refresh();
    char *out = NULL;
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(msg, msgsz, "the editor (%.60s) failed (status %d): the text is unchanged", ed,
                 pid < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    } else {
        FILE *f = fopen(path, "r");
        if (f) {
            bool too_big = false;
            out = read_all(f, 1u << 20, &too_big);
            if (!out)
                snprintf(msg, msgsz, "%s", too_big ? "the text is larger than 1 MiB: unchanged" : "out of memory");
            fclose(f);
        } else {
            snprintf(msg, msgsz, "cannot read %s back: %s", path, strerror(errno));
        }
    }
    unlink(path);
    return out;
}

/* ---------------------------------------------------------------------- */
/* The form                                                                */

enum fkind { F_LINE, F_TYPE, F_SEGMENT, F_TEXT };

struct field {
    const char *label;
    const char *key;        /* the authoring problem's field name */
    enum fkind kind;
    struct lineedit ed;     /* F_LINE, F_TYPE, F_SEGMENT */
    char *text;             /* F_TEXT */
    int variant;            /* -1, or which variant's subject/body */
};

#define MAX_FIELDS 20

struct form {
    bool editing;           /* an edit of id, else a new campaign */
    char id[64];
    int version;
    char status[32];
    bool loading;
    struct field f[MAX_FIELDS];
    size_t nf, cur;
    bool dirty, confirm_discard;
    bool picking;           /* the segment picker is open */
    size_t pick;
    struct authoring_problems problems;
    bool saving;
    char message[600];
};

static const char *const types[] = { "email", "sms", "push" };

static struct field *add_field(struct form *fm, const char *label, const char *key, enum fkind kind, int variant)
{
    struct field *f = &fm->f[fm->nf++];
    memset(f, 0, sizeof *f);
    f->label = label;
    f->key = key;
    f->kind = kind;
    f->variant = variant;
    return f;
}

static const char *const vsub_keys[] = { "variants[0].subject", "variants[1].subject", "variants[2].subject",
                                         "variants[3].subject" };
static const char *const vbody_keys[] = { "variants[0].body", "variants[1].body", "variants[2].body",
                                          "variants[3].body" };
static const char *const vsub_labels[] = { "Variant A subject", "Variant B subject", "Variant C subject",
                                           "Variant D subject" };
static const char *const vbody_labels[] = { "Variant A body", "Variant B body", "Variant C body",
                                            "Variant D body" };

/* The fields, with the variants' own fields after "Variants" for each
 * letter the variants line names. */
static void layout_fields(struct form *fm, const struct authoring_draft *d)
{
    /* keep what was typed across a re-layout */
    char keep_vs[4][LINE_MAX_BYTES] = { { 0 } };
    char *keep_vb[4] = { 0 };
    for (size_t i = 0; i < fm->nf; i++) {
        struct field *f = &fm->f[i];
        if (f->variant >= 0 && f->kind == F_LINE)
            snprintf(keep_vs[f->variant], sizeof keep_vs[0], "%s", f->ed.buf);
        if (f->variant >= 0 && f->kind == F_TEXT) {
            keep_vb[f->variant] = f->text;
            f->text = NULL;
        }
    }
    char saved[MAX_FIELDS][LINE_MAX_BYTES];
    char *saved_text[MAX_FIELDS] = { 0 };
    size_t old = fm->nf;
    for (size_t i = 0; i < old; i++) {
        snprintf(saved[i], sizeof saved[i], "%s", fm->f[i].ed.buf);
        saved_text[i] = fm->f[i].variant < 0 ? fm->f[i].text : NULL;
    }
    fm->nf = 0;
    add_field(fm, "Name", "name", F_LINE, -1);
    add_field(fm, "Type", "type", F_TYPE, -1);
    add_field(fm, "Segment", "segment_id", F_SEGMENT, -1);
    add_field(fm, "From", "from", F_LINE, -1);
    add_field(fm, "Subject", "subject", F_LINE, -1);
    add_field(fm, "Body", "body", F_TEXT, -1);
    add_field(fm, "Variants", "variants", F_LINE, -1);
    size_t fixed = fm->nf;
    if (old >= fixed) {
        for (size_t i = 0; i < fixed; i++) {
            lineedit_set(&fm->f[i].ed, saved[i]);
            fm->f[i].text = saved_text[i];
            saved_text[i] = NULL;
        }
    } else if (d) {
        lineedit_set(&fm->f[0].ed, d->name ? d->name : "");
        lineedit_set(&fm->f[1].ed, d->type ? d->type : "email");
        lineedit_set(&fm->f[2].ed, d->segment_id ? d->segment_id : "");
        lineedit_set(&fm->f[3].ed, d->from ? d->from : "");
        lineedit_set(&fm->f[4].ed, d->subject ? d->subject : "");
        fm->f[5].text = strdup(d->body ? d->body : "");
        size_t used = 0;
        char vl[LINE_MAX_BYTES] = "";
        for (size_t i = 0; i < d->nvariants && used < sizeof vl; i++) {
            used += (size_t)snprintf(vl + used, sizeof vl - used, "%s%s %d", i ? ", " : "",
                                     d->variants[i].letter, d->variants[i].split);
            lineedit_set(&fm->f[6].ed, vl);
            snprintf(keep_vs[i], sizeof keep_vs[0], "%s", d->variants[i].subject ? d->variants[i].subject : "");
            free(keep_vb[i]);
            keep_vb[i] = d->variants[i].body ? strdup(d->variants[i].body) : NULL;
        }
    } else {
        lineedit_set(&fm->f[1].ed, "email");
    }
    /* the variants' letters, in the order written */
    const char *p = fm->f[6].ed.buf;
    for (; *p; p++) {
        if (*p >= 'A' && *p <= 'D' && (p == fm->f[6].ed.buf || p[-1] == ' ' || p[-1] == ',')) {
            int v = *p - 'A';
            bool dup = false;
            for (size_t i = fixed; i < fm->nf; i++)
                dup |= fm->f[i].variant == v;
            if (dup || fm->nf + 2 > MAX_FIELDS - 3)
                continue;
            struct field *s = add_field(fm, vsub_labels[v], vsub_keys[v], F_LINE, v);
            lineedit_set(&s->ed, keep_vs[v]);
            struct field *b = add_field(fm, vbody_labels[v], vbody_keys[v], F_TEXT, v);
            b->text = keep_vb[v];
            keep_vb[v] = NULL;
        }
    }
    for (int v = 0; v < 4; v++)
        free(keep_vb[v]);
    struct field *rl = add_field(fm, "Rate limit /min", "rate_limit_per_minute", F_LINE, -1);
    struct field *sa = add_field(fm, "Send at", "send_at", F_LINE, -1);
    struct field *no = add_field(fm, "Note", "note", F_LINE, -1);
    if (old >= fixed) {
        /* the three last fields were the last three of before */
        lineedit_set(&rl->ed, saved[old - 3]);
        lineedit_set(&sa->ed, saved[old - 2]);
        lineedit_set(&no->ed, saved[old - 1]);
    } else if (d) {
        if (d->rate_limit)
            set_int(&rl->ed, d->rate_limit);
        lineedit_set(&sa->ed, d->send_at ? d->send_at : "");
    } else {
        set_int(&rl->ed, AUTHORING_RATE_DEFAULT);
    }
    for (size_t i = 0; i < old; i++)
        free(saved_text[i]);
    if (fm->cur >= fm->nf)
        fm->cur = fm->nf - 1;
}

static char *dup_nonempty(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* The form as a draft (for validation, saving and preview). */
static void to_draft(const struct form *fm, struct authoring_draft *d)
{
    authoring_draft_init(d);
    d->name = dup_nonempty(fm->f[0].ed.buf);
    d->type = dup_nonempty(fm->f[1].ed.buf);
    d->segment_id = dup_nonempty(fm->f[2].ed.buf);
    d->from = dup_nonempty(fm->f[3].ed.buf);
    d->subject = dup_nonempty(fm->f[4].ed.buf);
    d->body = dup_nonempty(fm->f[5].text);
    /* "A 50, B 50" */
    const char *p = fm->f[6].ed.buf;
    while (*p && d->nvariants < AUTHORING_MAX_VARIANTS) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        struct authoring_variant *v = &d->variants[d->nvariants++];
        v->letter[0] = *p++;
        v->letter[1] = '\0';
        char *end;
        long split = strtol(p, &end, 10);
        v->split = end != p && split >= 0 && split <= 100 ? (int)split : 0;
        p = end;
        while (*p && *p != ',')
            p++;
        for (size_t i = 7; i < fm->nf; i++) {
            if (fm->f[i].variant != v->letter[0] - 'A')
                continue;
            if (fm->f[i].kind == F_LINE && !v->subject)
                v->subject = dup_nonempty(fm->f[i].ed.buf);
            else if (fm->f[i].kind == F_TEXT && !v->body)
                v->body = dup_nonempty(fm->f[i].text);
        }
    }
    for (size_t i = 7; i < fm->nf; i++) {
        const char *k = fm->f[i].key;
        char *end;
        if (strcmp(k, "rate_limit_per_minute") == 0) {
            long r = strtol(fm->f[i].ed.buf, &end, 10);
            d->rate_limit = end != fm->f[i].ed.buf && !*end && r > 0 && r <= AUTHORING_RATE_MAX ? (int)r : -1;
            if (!fm->f[i].ed.buf[0])
                d->rate_limit = 0;
        } else if (strcmp(k, "send_at") == 0 && !d->send_at) {
            d->send_at = dup_nonempty(fm->f[i].ed.buf);
        } else if (strcmp(k, "note") == 0 && !d->note) {
            d->note = dup_nonempty(fm->f[i].ed.buf);
        }
    }
    d->version = fm->editing ? fm->version : 0;
}

static void revalidate(struct form *fm)
{
    struct authoring_draft d;
    to_draft(fm, &d);
    fm->problems.n = 0;
    authoring_validate(&d, &fm->problems);
    if (d.rate_limit < 0)
        authoring_problem_add(&fm->problems, "rate_limit_per_minute", "a whole number from 1 to %d",
                              AUTHORING_RATE_MAX);
    authoring_draft_free(&d);
}

/* The first problem of a field (its key, or a key below it). */
static const char *problem_of(const struct form *fm, const struct field *f)
{
    size_t kl = strlen(f->key);
    for (size_t i = 0; i < fm->problems.n; i++) {
        const char *pk = fm->problems.v[i].field;
        if (strcmp(pk, f->key) == 0 ||
            (f->variant < 0 && strncmp(pk, f->key, kl) == 0 && pk[kl] == '[' && strcmp(f->key, "variants") == 0))
            return fm->problems.v[i].text;
    }
    return NULL;
}

static void form_free(void *st)
{
    struct form *fm = st;
    for (size_t i = 0; i < fm->nf; i++)
        free(fm->f[i].text);
    free(fm);
}

static const struct segment *segment_at(const struct ui *ui, size_t i)
{
    return ui->segs && i < ui->segs->n ? &ui->segs->v[i] : NULL;
}

static void start_save(struct ui *ui, struct form *fm)
{
    revalidate(fm);
    if (fm->problems.n) {
        snprintf(fm->message, sizeof fm->message, "Not saved: %zu problem%s, marked below. %s", fm->problems.n,
                 fm->problems.n == 1 ? "" : "s", fm->problems.v[0].text);
        return;
    }
    char why[200];
    if (!ui->dbst.can_write && ui->dbst.state == DBW_CONNECTED) {
        snprintf(why, sizeof why, "Not saved: read-only (%s).", ui->dbst.write_reason);
        snprintf(fm->message, sizeof fm->message, "%s", why);
        return;
    }
    if (ui->cfg->read_only) {
        snprintf(fm->message, sizeof fm->message,
                 "Not saved: read-only (read_only is set: --read-only, MARKETING_READ_ONLY or marketing.conf).");
        return;
    }
    struct task *t = task_new();
    if (!t || authoring_request_init(&t->rq, fm->editing ? AU_EDIT : AU_CREATE, fm->editing ? fm->id : "",
                                     fm->editing ? fm->version : 0) != 0) {
        task_free(t);
        snprintf(fm->message, sizeof fm->message, "Not saved: out of memory or randomness.");
        return;
    }
    to_draft(fm, &t->draft);
    const struct field *note = &fm->f[fm->nf - 1];
    snprintf(t->rq.note, sizeof t->rq.note, "%s", note->ed.buf);
    if (submit(ui, TK_SAVE, t, true, run_save)) {
        fm->saving = true;
        snprintf(fm->message, sizeof fm->message, "Checking and saving...");
    }
}

static bool form_key(struct ui *ui, void *st, int key)
{
    struct form *fm = st;
    if (fm->loading)
        return key != KEYC_ESC;
    if (fm->confirm_discard) {
        fm->confirm_discard = false;
        if (key == 'y' || key == 'Y')
            return false;
        snprintf(fm->message, sizeof fm->message, "Kept editing.");
        return true;
    }
    struct field *f = &fm->f[fm->cur];
    if (fm->picking) {
        size_t n = ui->segs ? ui->segs->n : 0;
        if (key == KEYC_DOWN || key == 'j')
            fm->pick = fm->pick + 1 < n ? fm->pick + 1 : fm->pick;
        else if (key == KEYC_UP || key == 'k')
            fm->pick = fm->pick ? fm->pick - 1 : 0;
        else if (key == KEYC_ENTER && segment_at(ui, fm->pick)) {
            lineedit_set(&f->ed, segment_at(ui, fm->pick)->id);
            fm->picking = false;
            fm->dirty = true;
            revalidate(fm);
        } else if (key == KEYC_ESC) {
            fm->picking = false;
        }
        return true;
    }
    fm->message[0] = '\0';
    switch (key) {
    case KEYC_ESC:
        if (fm->dirty) {
            fm->confirm_discard = true;
            snprintf(fm->message, sizeof fm->message, "Discard what you typed? y discards, any other key keeps editing.");
            return true;
        }
        return false;
    case KEYC_TAB: case KEYC_DOWN:
        fm->cur = (fm->cur + 1) % fm->nf;
        return true;
    case KEYC_BTAB: case KEYC_UP:
        fm->cur = (fm->cur + fm->nf - 1) % fm->nf;
        return true;
    case KEYC_CTRL('s'): case KEYC_F2: case KEYC_CTRL('g'):
        if (!fm->saving)
            start_save(ui, fm);
        return true;
    case KEYC_ENTER:
        if (f->kind == F_SEGMENT) {
            fm->picking = true;
            fm->pick = 0;
            for (size_t i = 0; ui->segs && i < ui->segs->n; i++)
                if (strcmp(ui->segs->v[i].id, f->ed.buf) == 0)
                    fm->pick = i;
        } else if (f->kind == F_TEXT) {
            char msg[300] = "";
            char *t = edit_text(f->text, msg, sizeof msg);
            if (t) {
                free(f->text);
                f->text = t;
                fm->dirty = true;
                revalidate(fm);
            } else {
                snprintf(fm->message, sizeof fm->message, "%s", msg);
            }
        } else {
            fm->cur = (fm->cur + 1) % fm->nf;
        }
        return true;
    case KEYC_BACKSPACE:
        if ((f->kind == F_LINE || f->kind == F_SEGMENT) && lineedit_key(&f->ed, key) == LINEEDIT_CHANGED)
            fm->dirty = true;
        break;
    case ' ':
        if (f->kind == F_TYPE) {
            size_t i = 0;
            while (i < 3 && strcmp(types[i], f->ed.buf) != 0)
                i++;
            lineedit_set(&f->ed, types[(i + 1) % 3]);
            fm->dirty = true;
            break;
        }
        /* fall through */
    default:
        if (f->kind != F_LINE && f->kind != F_SEGMENT)
            return true;
        if (lineedit_key(&f->ed, key) != LINEEDIT_CHANGED)
            return true; /* the cursor moved, or not a key of ours */
        fm->dirty = true;
    }
    if (fm->cur == 6) /* the variants line decides which variant fields there are */
        layout_fields(fm, NULL);
    revalidate(fm);
    return true;
}

static void form_draw(struct ui *ui, void *st, struct rect r)
{
    struct form *fm = st;
    char title[200];
    if (fm->editing)
        snprintf(title, sizeof title, "Edit %s (%s, version %d): saving makes a new revision", fm->id, fm->status,
                 fm->version);
    else
        snprintf(title, sizeof title, "New campaign");
    draw_title(&ui->ctx, r, title, "F2 save  Esc cancel", true);
    int y = r.y + 1, lw = 20;
    if (fm->loading) {
        draw_text(&ui->ctx, y, r.x, r.w, "Loading...", false, ROLE_DIM);
        return;
    }
    for (size_t i = 0; i < fm->nf && y < r.y + r.h - 3; i++, y++) {
        const struct field *f = &fm->f[i];
        bool sel = i == fm->cur;
        const char *prob = problem_of(fm, f);
        char label[40];
        snprintf(label, sizeof label, "%s%s", sel ? "> " : "  ", f->label);
        draw_text(&ui->ctx, y, r.x, lw, label, false, sel ? ROLE_SELECTION : ROLE_NORMAL);
        char val[LINE_MAX_BYTES + 80];
        if (f->kind == F_TEXT) {
            size_t len = f->text ? strlen(f->text) : 0, lines = 0;
            for (size_t k = 0; k < len; k++)
                lines += f->text[k] == '\n';
            if (len)
                snprintf(val, sizeof val, "%.60s%s  (%zu line%s; Enter edits in $EDITOR)",
                         f->text, strcspn(f->text, "\n") < len ? "..." : "", lines + 1, lines ? "s" : "");
            else
                snprintf(val, sizeof val, "(empty; Enter edits in $EDITOR)");
            for (char *c = val; *c; c++)
                if (*c == '\n')
                    *c = ' ';
        } else if (f->kind == F_TYPE) {
            snprintf(val, sizeof val, "%s  (Space: email, sms, push)", f->ed.buf);
        } else if (f->kind == F_SEGMENT) {
            const struct segment *sg = NULL;
            for (size_t k = 0; ui->segs && k < ui->segs->n; k++)
                if (strcmp(ui->segs->v[k].id, f->ed.buf) == 0)
                    sg = &ui->segs->v[k];
            if (sg)
                snprintf(val, sizeof val, "%s  %s, %lld reachable  (Enter picks)", f->ed.buf, sg->name,
                         (long long)sg->reachable);
            else
                snprintf(val, sizeof val, "%s  (Enter picks a segment)", f->ed.buf);
        } else if (i == 6) {
            snprintf(val, sizeof val, "%s  (e.g. A 50, B 50; empty: no A/B test)", f->ed.buf);
        } else {
            snprintf(val, sizeof val, "%s", f->ed.buf);
        }
        int pw = prob ? (r.w - lw) / 2 : 0;
        draw_text(&ui->ctx, y, r.x + lw, r.w - lw - pw, val, false, ROLE_NORMAL);
        if (prob)
            draw_text(&ui->ctx, y, r.x + r.w - pw, pw, prob, false, ROLE_CRIT);
        if (sel && (f->kind == F_LINE || f->kind == F_SEGMENT)) {
            int w = san_width(f->ed.buf, f->ed.cur, ui->ctx.san);
            ui->cursor_y = y;
            ui->cursor_x = r.x + lw + (w < r.w - lw - 1 ? w : r.w - lw - 1);
        }
    }
    y++;
    if (fm->picking) {
        ui->cursor_y = -1;
        draw_text(&ui->ctx, y++, r.x, r.w, "Pick a segment (Enter chooses, Esc closes):", false, ROLE_HEADER);
        size_t n = ui->segs ? ui->segs->n : 0, rows = (size_t)(r.y + r.h - y);
        size_t top = fm->pick >= rows ? fm->pick - rows + 1 : 0;
        for (size_t i = top; i < n && y < r.y + r.h; i++, y++) {
            const struct segment *sg = &ui->segs->v[i];
            char line[600];
            snprintf(line, sizeof line, "%s %-8s %-30.30s %8lld members, %8lld reachable  %s", i == fm->pick ? ">" : " ",
                     sg->id, sg->name, (long long)sg->size, (long long)sg->reachable, sg->rule);
            draw_text(&ui->ctx, y, r.x, r.w, line, false, i == fm->pick ? ROLE_SELECTION : ROLE_NORMAL);
        }
        return;
    }
    if (fm->message[0])
        draw_text(&ui->ctx, y++, r.x, r.w, fm->message, false, ROLE_WARN);
    else if (fm->problems.n)
        draw_text(&ui->ctx, y++, r.x, r.w, "Problems are marked beside their fields; F2 checks again and saves.",
                  false, ROLE_DIM);
    else
        draw_text(&ui->ctx, y++, r.x, r.w, "Ready: F2 (or C-g) saves, checking the segment and every {{placeholder}} "
                  "against its members.", false, ROLE_OK);
}

static void form_task(struct ui *ui, void *st, struct dbw_task *dt)
{
    struct form *fm = st;
    struct task *t = dt->arg;
    if (dt->kind == TK_LOAD) {
        fm->loading = false;
        if (dt->rc != 0 || t->load_rc != 0) {
            snprintf(fm->message, sizeof fm->message, "Cannot load %s: %s", fm->id,
                     t->load_rc == 1 ? "no such campaign" : dt->err);
        } else if (strcmp(t->status, "active") == 0) {
            /* it started sending meanwhile: pause first, with its confirm */
            char id[64];
            snprintf(id, sizeof id, "%s", fm->id);
            task_free(t);
            ui_modal_close(ui); /* frees fm */
            chrome_message(ui, "It is sending: pause it first (confirm below), then press e again.");
            control_begin(ui, ACT_PAUSE, id);
            return;
        } else {
            fm->version = t->version;
            snprintf(fm->status, sizeof fm->status, "%s", t->status);
            fm->nf = 0;
            layout_fields(fm, &t->draft);
            revalidate(fm);
        }
    } else if (dt->kind == TK_SAVE || dt->kind == TK_VERIFY) {
        fm->saving = false;
        if (dt->rc == -2) {
            /* the write may have reached the server: ask it by request id, never resend */
            struct task *v = task_new();
            if (v) {
                v->rq = t->rq;
                authoring_draft_copy(&v->draft, &t->draft);
            }
            snprintf(fm->message, sizeof fm->message, "Outcome unknown (%s): verifying by request id...", dt->err);
            if (v && submit(ui, TK_VERIFY, v, false, run_verify))
                fm->saving = true;
        } else if (dt->rc != 0) {
            snprintf(fm->message, sizeof fm->message, "Not saved: %s", dt->err);
        } else if (dt->kind == TK_SAVE && t->problems.n) {
            fm->problems = t->problems;
            snprintf(fm->message, sizeof fm->message, "Not saved: %s", t->problems.v[0].text);
        } else if (t->res.r.outcome == CTL_INVALID && t->res.problems.n) {
            fm->problems = t->res.problems;
            snprintf(fm->message, sizeof fm->message, "Not saved: %s", t->res.problems.v[0].text);
        } else {
            char msg[1024];
            authoring_describe(&t->rq, &t->res, msg, sizeof msg);
            if (ctl_succeeded(t->res.r.outcome)) {
                chrome_message(ui, msg);
                dbworker_refresh(ui->db);
                ui_modal_close(ui); /* frees fm: nothing of it after this */
                task_free(t);
                return;
            }
            snprintf(fm->message, sizeof fm->message, "%s", msg);
        }
    }
    task_free(t);
}

static void open_form(struct ui *ui, struct form *fm)
{
    struct modal m = { .key = form_key, .draw = form_draw, .task = form_task, .close = form_free, .st = fm };
    ui_modal_open(ui, &m);
}

void campform_new(struct ui *ui)
{
    struct form *fm = calloc(1, sizeof *fm);
    if (!fm) {
        chrome_message(ui, "Out of memory.");
        return;
    }
    layout_fields(fm, NULL);
    revalidate(fm);
    fm->problems.n = 0; /* not before anything is typed */
    open_form(ui, fm);
}

static void open_edit(struct ui *ui, const struct campaign *c)
{
    struct form *fm = calloc(1, sizeof *fm);
    struct task *t = task_new();
    if (!fm || !t) {
        free(fm);
        task_free(t);
        chrome_message(ui, "Out of memory.");
        return;
    }
    fm->editing = true;
    fm->loading = true;
    snprintf(fm->id, sizeof fm->id, "%s", c->id);
    snprintf(t->id, sizeof t->id, "%s", c->id);
    open_form(ui, fm);
    submit(ui, TK_LOAD, t, false, run_load);
}

/* ---------------------------------------------------------------------- */
/* Preview                                                                 */

struct preview {
    char id[64];
    bool loading;
    char error[600];
    struct task *t;          /* the answer: draft, contact, attributes */
    size_t top;
};

static void preview_free(void *st)
{
    struct preview *pv = st;
    task_free(pv->t);
    free(pv);
}

static bool preview_key(struct ui *ui, void *st, int key)
{
    (void)ui;
    struct preview *pv = st;
    if (key == KEYC_DOWN || key == 'j')
        pv->top++;
    else if ((key == KEYC_UP || key == 'k') && pv->top)
        pv->top--;
    else if (key == KEYC_PGDN || key == ' ')
        pv->top += 10;
    else if (key == KEYC_PGUP)
        pv->top = pv->top > 10 ? pv->top - 10 : 0;
    else if (key == KEYC_ESC || key == 'q' || key == KEYC_ENTER)
        return false;
    return true;
}

/* Lines of rendered text, each at most w bytes. */
static size_t wrap_lines(const char *text, int w, char out[][400], size_t max)
{
    size_t n = 0;
    if (w < 10)
        w = 10;
    if (w > 399)
        w = 399;
    const char *p = text ? text : "";
    while (*p && n < max) {
        size_t len = strcspn(p, "\n");
        if ((int)len > w) {
            size_t k = (size_t)w;
            while (k > (size_t)w / 2 && p[k] != ' ')
                k--;
            len = p[k] == ' ' ? k : (size_t)w;
        }
        snprintf(out[n++], 400, "%.*s", (int)len, p);
        p += len;
        if (*p == '\n' || *p == ' ')
            p++;
    }
    return n;
}

static void preview_draw(struct ui *ui, void *st, struct rect r)
{
    struct preview *pv = st;
    char title[200];
    snprintf(title, sizeof title, "Preview of %s", pv->id);
    draw_title(&ui->ctx, r, title, "Esc back", true);
    int y = r.y + 1;
    if (pv->loading || !pv->t) {
        draw_text(&ui->ctx, y, r.x, r.w, pv->error[0] ? pv->error : "Loading...", false,
                  pv->error[0] ? ROLE_CRIT : ROLE_DIM);
        return;
    }
    const struct authoring_draft *d = &pv->t->draft;
    char line[800];
    snprintf(line, sizeof line, "For %s (the segment's first reachable member; `:preview %s EMAIL` picks another)",
             pv->t->contact ? pv->t->contact : "a stranger (no attributes)", pv->id);
    draw_text(&ui->ctx, y++, r.x, r.w, line, false, ROLE_DIM);
    /* the base content, then each variant, side by side when there is room */
    size_t cols = d->nvariants ? d->nvariants : 1;
    int cw = (r.w - (int)(cols - 1) * 2) / (int)cols;
    if (cw < 24) {
        cols = 1;
        cw = r.w;
    }
    static char body[4][200][400];
    size_t nb[4] = { 0 };
    char subj[4][800];
    for (size_t c = 0; c < (d->nvariants ? d->nvariants : 1) && c < 4; c++) {
        const struct authoring_variant *v = d->nvariants ? &d->variants[c] : NULL;
        const char *s = v && v->subject ? v->subject : d->subject;
        const char *b = v && v->body ? v->body : d->body;
        char *rs = authoring_render(s ? s : "", pv->t->attrs, pv->t->contact);
        char *rb = authoring_render(b ? b : "", pv->t->attrs, pv->t->contact);
        if (v)
            snprintf(subj[c], sizeof subj[c], "Variant %s (%d%%): %s", v->letter, v->split, rs ? rs : "");
        else
            snprintf(subj[c], sizeof subj[c], "Subject: %s", rs ? rs : "");
        nb[c] = wrap_lines(rb, cw, body[c], 200);
        free(rs);
        free(rb);
    }
    size_t shown = d->nvariants ? d->nvariants : 1;
    if (shown > 4)
        shown = 4;
    if (cols == 1) {
        /* stacked */
        size_t row = 0;
        for (size_t c = 0; c < shown; c++) {
            size_t total = nb[c] + 2;
            for (size_t i = 0; i < total; i++, row++) {
                if (row < pv->top || y >= r.y + r.h)
                    continue;
                const char *t = i == 0 ? subj[c] : i - 1 < nb[c] ? body[c][i - 1] : "";
                draw_text(&ui->ctx, y++, r.x, r.w, t, false, i == 0 ? ROLE_HEADER : ROLE_NORMAL);
            }
        }
        return;
    }
    for (size_t c = 0; c < shown; c++)
        draw_text(&ui->ctx, y, r.x + (int)c * (cw + 2), cw, subj[c], false, ROLE_HEADER);
    y++;
    for (size_t i = pv->top; y < r.y + r.h; i++, y++)
        for (size_t c = 0; c < shown; c++)
            draw_text(&ui->ctx, y, r.x + (int)c * (cw + 2), cw, i < nb[c] ? body[c][i] : "", false, ROLE_NORMAL);
}

static void preview_task(struct ui *ui, void *st, struct dbw_task *dt)
{
    (void)ui;
    struct preview *pv = st;
    pv->loading = false;
    if (dt->rc != 0) {
        snprintf(pv->error, sizeof pv->error, "Cannot preview: %s", dt->err);
        task_free(dt->arg);
        return;
    }
    task_free(pv->t);
    pv->t = dt->arg;
}

static void open_preview(struct ui *ui, const char *id, const char *email)
{
    struct preview *pv = calloc(1, sizeof *pv);
    struct task *t = task_new();
    if (!pv || !t) {
        free(pv);
        task_free(t);
        return;
    }
    snprintf(pv->id, sizeof pv->id, "%s", id);
    snprintf(t->id, sizeof t->id, "%s", id);
    snprintf(t->email, sizeof t->email, "%s", email ? email : "");
    pv->loading = true;
    struct modal m = { .key = preview_key, .draw = preview_draw, .task = preview_task, .close = preview_free,
                       .st = pv };
    ui_modal_open(ui, &m);
    submit(ui, TK_PREVIEW, t, false, run_preview);
}

/* ---------------------------------------------------------------------- */
/* Clone, test send, promote                                               */

static void write_request(struct ui *ui, enum task_kind kind, enum authoring_op op, const char *id, int version,
                          const char *address, const char *variant)
{
    struct task *t = task_new();
    if (!t || authoring_request_init(&t->rq, op, id, version) != 0) {
        task_free(t);
        chrome_message(ui, "Out of memory or randomness: nothing was sent.");
        return;
    }
    if (address)
        snprintf(t->rq.address, sizeof t->rq.address, "%s", address);
    if (variant)
        snprintf(t->rq.variant, sizeof t->rq.variant, "%s", variant);
    if (submit(ui, kind, t, true, run_write))
        chrome_message(ui, op == AU_TEST_SEND ? "Sending a test..." : op == AU_CLONE ? "Cloning..." : "Promoting...");
}

void campform_task(struct ui *ui, struct dbw_task *dt)
{
    struct task *t = dt->arg;
    char msg[1024];
    if (dt->rc == -2)
        snprintf(msg, sizeof msg, "Outcome unknown (%s): see `marketing audit` for request %s", dt->err,
                 t->rq.request_id);
    else if (dt->rc != 0)
        snprintf(msg, sizeof msg, "Not done: %s", dt->err);
    else
        authoring_describe(&t->rq, &t->res, msg, sizeof msg);
    chrome_message(ui, msg);
    if (dt->rc == 0)
        dbworker_refresh(ui->db);
    task_free(t);
}

void campform_command(struct ui *ui, enum action_id a, const char *arg)
{
    char id[64] = "", w2[330] = "", w3[8] = "";
    const char *p = arg ? arg : "";
    int n = 0;
    for (char *out[] = { id, w2, w3 }; n < 3 && *p; n++) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        size_t cap = n == 0 ? sizeof id : n == 1 ? sizeof w2 : sizeof w3;
        snprintf(out[n], cap, "%.*s", (int)len, p);
        p += len;
        while (*p == ' ')
            p++;
    }
    if (a == ACT_TEST_SEND) {
        if (!id[0] || !strchr(w2, '@')) {
            chrome_message(ui, "test-send: ID ADDRESS [VARIANT], e.g. :test-send cmp_12 me@example.com B");
            return;
        }
        write_request(ui, TK_TEST_SEND, AU_TEST_SEND, id, 0, w2, w3[0] ? w3 : NULL);
    } else if (a == ACT_PROMOTE) {
        if (!id[0] || strlen(w2) != 1 || w2[0] < 'A' || w2[0] > 'D') {
            chrome_message(ui, "promote: ID VARIANT, e.g. :promote cmp_12 B (the campaign's details show the A/B results)");
            return;
        }
        int version = 0;
        for (size_t i = 0; ui->camps && i < ui->camps->n; i++)
            if (strcmp(ui->camps->v[i].id, id) == 0)
                version = ui->camps->v[i].version;
        write_request(ui, TK_PROMOTE, AU_PROMOTE, id, version, NULL, w2);
    } else if (a == ACT_PREVIEW) {
        if (!id[0]) {
            chrome_message(ui, "preview: ID [EMAIL], e.g. :preview cmp_12 ana@example.com");
            return;
        }
        open_preview(ui, id, w2[0] ? w2 : NULL);
    } else if (a == ACT_CLONE && id[0]) {
        write_request(ui, TK_CLONE, AU_CLONE, id, 0, NULL, NULL);
    }
}

void campform_action(struct ui *ui, enum action_id a, const struct campaign *c)
{
    if (a == ACT_NEW) {
        campform_new(ui);
        return;
    }
    if (!c) {
        chrome_message(ui, "No campaign selected.");
        return;
    }
    switch (a) {
    case ACT_EDIT:
        /* an active one is found so when it loads (the list may lag): the
         * pause confirm comes then */
        if (strcmp(c->status, "completed") == 0 || strcmp(c->status, "cancelled") == 0) {
            char msg[200];
            snprintf(msg, sizeof msg, "%s is %s: only draft, scheduled and paused campaigns can be edited "
                     "(C clones it as a new draft).", c->id, c->status);
            chrome_message(ui, msg);
            return;
        }
        open_edit(ui, c);
        return;
    case ACT_CLONE:
        write_request(ui, TK_CLONE, AU_CLONE, c->id, 0, NULL, NULL);
        return;
    case ACT_PREVIEW:
        open_preview(ui, c->id, NULL);
        return;
    case ACT_TEST_SEND:
    case ACT_PROMOTE:
        ui->mode = MODE_COMMAND;
        ui->hist_pos = ui->hist.n;
        snprintf(ui->input, sizeof ui->input, "%s %s ", a == ACT_TEST_SEND ? "test-send" : "promote", c->id);
        ui->dirty = true;
        return;
    default:
        return;
    }
}
