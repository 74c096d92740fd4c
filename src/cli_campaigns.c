/* The authoring subcommands: marketing campaign create|edit|clone|preview|
 * test-send|ab|promote. Writes go through src/authoring.c (one statement,
 * one short transaction, a request id, an audit row); the exit codes and
 * the read-only refusal are the control actions'. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "authoring.h"
#include "cli.h"
#include "control.h"
#include "db.h"
#include "oplog.h"
#include "sanitize.h"

#define TIMEOUT_MS 30000
#define VERIFY_TRIES 8
#define FILE_MAX (4 * 1024 * 1024)

struct opts {
    const char *cmd;            /* "campaign create", for messages */
    const char *id, *file, *name, *contact, *variant, *to, *note;
    bool yes, json;
};

static int usage_error(const struct opts *o, const char *what)
{
    char msg[400];
    snprintf(msg, sizeof msg, "%s: %s (see marketing --help)", o->cmd, what);
    cli_say(msg);
    return EXIT_USAGE;
}

static int parse(struct opts *o, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = NULL;
        if (strcmp(a, "--yes") == 0 || strcmp(a, "-y") == 0) {
            o->yes = true;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(a, "--from-file") == 0)
            slot = &o->file;
        else if (strcmp(a, "--name") == 0)
            slot = &o->name;
        else if (strcmp(a, "--contact") == 0)
            slot = &o->contact;
        else if (strcmp(a, "--variant") == 0)
            slot = &o->variant;
        else if (strcmp(a, "--to") == 0)
            slot = &o->to;
        else if (strcmp(a, "--note") == 0)
            slot = &o->note;
        if (slot && next) {
            *slot = next;
            i++;
        } else if (slot || a[0] == '-' || o->id) {
            char what[128];
            snprintf(what, sizeof what, slot ? "%.64s needs a value" : "unexpected argument '%.64s'", a);
            return usage_error(o, what);
        } else {
            o->id = a;
        }
    }
    if (o->variant && (strlen(o->variant) != 1 || o->variant[0] < 'A' || o->variant[0] > 'Z'))
        return usage_error(o, "--variant takes a letter such as A");
    return 0;
}

static int exit_code(enum ctl_outcome o)
{
    switch (o) {
    case CTL_APPLIED: case CTL_REPLAYED: case CTL_ALREADY: return EXIT_OK;
    case CTL_CONFLICT: case CTL_INVALID: return EXIT_CONFLICT;
    case CTL_DENIED: return EXIT_DENIED;
    case CTL_UNKNOWN: return EXIT_UNKNOWN;
    case CTL_NOT_FOUND: case CTL_ERROR: case CTL_NOT_APPLIED: return EXIT_ERROR;
    }
    return EXIT_ERROR;
}

static void print_json(json_t *o)
{
    /* ASCII only: nothing in it can act on a terminal */
    json_dumpf(o, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
}

static json_t *problems_json(const struct authoring_problems *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "field", p->v[i].field, "message", p->v[i].text));
    return a;
}

static void log_line(const struct authoring_request *rq, const struct ctl_identity *id, const char *outcome,
                     const char *level, const char *msg, const struct authoring_result *r)
{
    json_t *ctx = json_pack("{s:s, s:s, s:s}", "action", authoring_op_name(rq->op), "campaign_id",
                            r && r->r.campaign_id[0] ? r->r.campaign_id : rq->campaign_id, "outcome", outcome);
    if (ctx && r) {
        if (r->r.version)
            json_object_set_new(ctx, "version", json_integer(r->r.version));
        if (r->r.revision)
            json_object_set_new(ctx, "revision", json_integer(r->r.revision));
        if (rq->expected_version)
            json_object_set_new(ctx, "expected_version", json_integer(rq->expected_version));
        if (r->r.error[0])
            json_object_set_new(ctx, "error", json_string(r->r.error));
    }
    oplog_write(level, rq->request_id, id->os_user, msg, ctx);
}

/* Refused before the database (read-only, a bad file, no connection):
 * said on stderr, logged, and in JSON for scripts. */
static int refuse(const struct opts *o, const struct authoring_request *rq, const struct ctl_identity *id,
                  const char *outcome, int code, const char *msg, const struct authoring_problems *p)
{
    cli_say(msg);
    for (size_t i = 0; p && i < p->n; i++) {
        fputs("  ", stderr);
        san_fputs(p->v[i].text, stderr, 0);
        fputc('\n', stderr);
    }
    log_line(rq, id, outcome, code == EXIT_ERROR ? "error" : "warn", msg, NULL);
    if (o->json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "request_id", rq->request_id, "action",
                              authoring_op_name(rq->op), "outcome", outcome, "campaign_id", rq->campaign_id,
                              "message", msg);
        if (j && p)
            json_object_set_new(j, "problems", problems_json(p));
        if (j)
            print_json(j);
        json_decref(j);
    }
    return code;
}

static int verify(const struct config *cfg, const struct authoring_request *rq, struct authoring_result *res)
{
    int delay_ms = 500;
    for (int i = 0; i < VERIFY_TRIES; i++) {
        char err[512];
        PGconn *conn = db_connect(cfg->dsn, 10000, -1, err, sizeof err);
        if (conn) {
            int rc = authoring_verify(conn, rq, TIMEOUT_MS, -1, res);
            PQfinish(conn);
            if (rc == 0)
                return 0;
            snprintf(err, sizeof err, "%s", res->r.error);
        }
        char msg[700];
        snprintf(msg, sizeof msg, "still verifying (%s); next try in %d ms", err, delay_ms);
        cli_say(msg);
        struct timespec ts = { delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        if (delay_ms < 8000)
            delay_ms *= 2;
    }
    return -1;
}

/* Runs a write on conn (which it closes), settles an unknown outcome, and
 * reports. */
static int execute(const struct config *cfg, const struct opts *o, PGconn *conn, struct authoring_request *rq,
                   const struct ctl_identity *id)
{
    struct authoring_result res;
    char msg[1024];
    if (authoring_execute(conn, rq, id, TIMEOUT_MS, -1, &res) != 0 && res.r.outcome == CTL_UNKNOWN) {
        authoring_describe(rq, &res, msg, sizeof msg);
        log_line(rq, id, "unknown", "error", msg, &res);
        cli_say(msg);
        PQfinish(conn);
        conn = NULL;
        verify(cfg, rq, &res);
    }
    PQfinish(conn);
    authoring_describe(rq, &res, msg, sizeof msg);
    bool ok = ctl_succeeded(res.r.outcome);
    log_line(rq, id, ctl_outcome_name(res.r.outcome),
             ok ? "info" : res.r.outcome == CTL_ERROR || res.r.outcome == CTL_UNKNOWN ? "error" : "warn", msg,
             &res);
    if (o->json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "request_id", rq->request_id, "action",
                              authoring_op_name(rq->op), "outcome", ctl_outcome_name(res.r.outcome),
                              "campaign_id", res.r.campaign_id, "status", res.r.status);
        if (j) {
            json_object_set_new(j, "version", res.r.version ? json_integer(res.r.version) : json_null());
            json_object_set_new(j, "revision", res.r.revision ? json_integer(res.r.revision) : json_null());
            json_object_set_new(j, "changed_by", json_string(res.r.changed_by));
            json_object_set_new(j, "changed_at", json_string(res.r.changed_at));
            if (rq->op == AU_EDIT || rq->op == AU_PROMOTE)
                json_object_set_new(j, "previous_revision",
                                    res.previous_revision ? json_integer(res.previous_revision) : json_null());
            if (rq->op == AU_EDIT) {
                /* "body, subject" as ["body", "subject"] */
                json_t *arr = json_array();
                for (const char *c = res.changed; *c;) {
                    size_t n = strcspn(c, ",");
                    json_array_append_new(arr, json_stringn(c, n));
                    c += n;
                    c += strspn(c, ", ");
                }
                json_object_set_new(j, "changed", arr);
            }
            if (rq->op == AU_CLONE)
                json_object_set_new(j, "cloned_from", json_string(res.cloned_from));
            if (rq->op == AU_TEST_SEND) {
                json_object_set_new(j, "test_delivery_id",
                                    res.test_delivery_id ? json_integer(res.test_delivery_id) : json_null());
                json_object_set_new(j, "address", json_string(rq->address));
            }
            if (res.problems.n)
                json_object_set_new(j, "problems", problems_json(&res.problems));
            json_object_set_new(j, "message", json_string(msg));
            print_json(j);
            json_decref(j);
        }
    } else if (ok) {
        san_fputs(msg, stdout, 0);
        fputc('\n', stdout);
    } else {
        cli_say(msg);
        for (size_t i = 1; i < res.problems.n; i++) {
            fputs("  ", stderr);
            san_fputs(res.problems.v[i].text, stderr, 0);
            fputc('\n', stderr);
        }
    }
    return exit_code(res.r.outcome);
}

/* The file's text; NULL with err. "-" reads stdin. */
static char *read_file(const char *path, char *err, size_t errsz)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errsz, "cannot read %.200s: %m", path);
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            if (cap >= FILE_MAX) {
                snprintf(err, errsz, "%.200s is larger than %d MiB", path, FILE_MAX >> 20);
                free(buf);
                buf = NULL;
                break;
            }
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                snprintf(err, errsz, "cannot read %.200s", path);
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (buf)
        buf[len] = '\0';
    else if (!err[0])
        snprintf(err, errsz, "out of memory reading %.200s", path);
    if (f != stdin)
        fclose(f);
    return buf;
}

/* Refusal for read-only configurations: before any connection. */
static int read_only(const struct config *cfg, const struct opts *o, const struct authoring_request *rq,
                     const struct ctl_identity *id)
{
    if (!cfg->read_only)
        return 0;
    char msg[300];
    snprintf(msg, sizeof msg, "%s: read-only (read_only is set, by --read-only, MARKETING_READ_ONLY or "
                              "marketing.conf): nothing was changed", o->cmd);
    return refuse(o, rq, id, "denied", EXIT_DENIED, msg, NULL);
}

/* create and edit */
static int cmd_save(const struct config *cfg, struct opts *o, bool create)
{
    if (!o->file)
        return usage_error(o, "--from-file FILE is needed (the format is in marketing(1))");
    if (!create && !o->id)
        return usage_error(o, "which campaign? (an id such as cmp_12)");
    if (create && o->id)
        return usage_error(o, "takes no campaign id: the database gives the new campaign one");
    struct ctl_identity ident;
    ctl_identity_from_process(&ident);
    struct authoring_request rq;
    if (authoring_request_init(&rq, create ? AU_CREATE : AU_EDIT, o->id, 0) != 0) {
        cli_say("no randomness for a request id (getrandom failed)");
        return EXIT_ERROR;
    }
    if (o->note)
        snprintf(rq.note, sizeof rq.note, "%s", o->note);
    int rc = read_only(cfg, o, &rq, &ident);
    if (rc)
        return rc;
    char err[512] = "", msg[800];
    char *text = read_file(o->file, err, sizeof err);
    if (!text)
        return refuse(o, &rq, &ident, "invalid", EXIT_USAGE, err, NULL);
    PGconn *conn = db_connect(cfg->dsn, 10000, -1, err, sizeof err);
    if (!conn) {
        free(text);
        snprintf(msg, sizeof msg, "%s: nothing was sent", err);
        return refuse(o, &rq, &ident, "error", EXIT_ERROR, msg, NULL);
    }
    struct authoring_draft d;
    authoring_draft_init(&d);
    int current = 0;
    char status[32] = "";
    if (!create) {
        rc = authoring_load(conn, o->id, TIMEOUT_MS, -1, &d, &current, status, sizeof status, err, sizeof err);
        if (rc != 0) {
            free(text);
            PQfinish(conn);
            return refuse(o, &rq, &ident, rc > 0 ? "not_found" : "error", EXIT_ERROR, err, NULL);
        }
    }
    struct authoring_problems probs = { .n = 0 };
    d.version = 0;
    authoring_draft_parse(&d, text, &probs);
    free(text);
    if (create && d.version)
        authoring_problem_add(&probs, "version", "only for edit: a new campaign starts at version 1");
    if (!probs.n)
        authoring_validate(&d, &probs);
    if (!probs.n && authoring_validate_db(conn, &d, TIMEOUT_MS, -1, &probs, err, sizeof err) < 0) {
        authoring_draft_free(&d);
        PQfinish(conn);
        return refuse(o, &rq, &ident, "error", EXIT_ERROR, err, NULL);
    }
    if (probs.n) {
        snprintf(msg, sizeof msg, "%s: %.200s: %zu problem%s, nothing was saved:", o->cmd, o->file, probs.n,
                 probs.n == 1 ? "" : "s");
        authoring_draft_free(&d);
        PQfinish(conn);
        return refuse(o, &rq, &ident, "invalid", EXIT_USAGE, msg, &probs);
    }
    if (!create) {
        if (d.version) {
            rq.expected_version = d.version;
        } else {
            rq.expected_version = current;
            snprintf(msg, sizeof msg,
                     "%.200s has no \"version\": saving over version %d of %s (%s) as it is now; add "
                     "\"version\" to be told when someone changed it since you looked",
                     o->file, current, o->id, status);
            cli_say(msg);
        }
    }
    rq.draft = &d;
    rc = execute(cfg, o, conn, &rq, &ident);
    authoring_draft_free(&d);
    return rc;
}

static int cmd_clone(const struct config *cfg, struct opts *o)
{
    if (!o->id)
        return usage_error(o, "which campaign? (an id such as cmp_12)");
    struct ctl_identity ident;
    ctl_identity_from_process(&ident);
    struct authoring_request rq;
    if (authoring_request_init(&rq, AU_CLONE, o->id, 0) != 0) {
        cli_say("no randomness for a request id (getrandom failed)");
        return EXIT_ERROR;
    }
    if (o->note)
        snprintf(rq.note, sizeof rq.note, "%s", o->note);
    if (o->name) {
        if (strlen(o->name) >= sizeof rq.name)
            return usage_error(o, "--name is too long (at most 200 characters)");
        snprintf(rq.name, sizeof rq.name, "%s", o->name);
    }
    int rc = read_only(cfg, o, &rq, &ident);
    if (rc)
        return rc;
    char err[512], msg[800];
    PGconn *conn = db_connect(cfg->dsn, 10000, -1, err, sizeof err);
    if (!conn) {
        snprintf(msg, sizeof msg, "%s: nothing was sent", err);
        return refuse(o, &rq, &ident, "error", EXIT_ERROR, msg, NULL);
    }
    return execute(cfg, o, conn, &rq, &ident);
}

static int cmd_test_send(const struct config *cfg, struct opts *o)
{
    if (!o->id)
        return usage_error(o, "which campaign? (an id such as cmp_12)");
    if (!o->to)
        return usage_error(o, "--to ADDRESS is needed");
    struct ctl_identity ident;
    ctl_identity_from_process(&ident);
    struct authoring_request rq;
    if (authoring_request_init(&rq, AU_TEST_SEND, o->id, 0) != 0) {
        cli_say("no randomness for a request id (getrandom failed)");
        return EXIT_ERROR;
    }
    if (strlen(o->to) >= sizeof rq.address)
        return usage_error(o, "--to is too long for an address");
    snprintf(rq.address, sizeof rq.address, "%s", o->to);
    if (o->variant)
        snprintf(rq.variant, sizeof rq.variant, "%s", o->variant);
    if (o->note)
        snprintf(rq.note, sizeof rq.note, "%s", o->note);
    int rc = read_only(cfg, o, &rq, &ident);
    if (rc)
        return rc;
    char err[512], msg[800];
    PGconn *conn = db_connect(cfg->dsn, 10000, -1, err, sizeof err);
    if (!conn) {
        snprintf(msg, sizeof msg, "%s: nothing was sent", err);
        return refuse(o, &rq, &ident, "error", EXIT_ERROR, msg, NULL);
    }
    return execute(cfg, o, conn, &rq, &ident);
}

/* Asks on the terminal; true for y or yes. */
static bool ask(const char *prompt)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty)
        return false;
    fputs(prompt, tty);
    fflush(tty);
    char line[64];
    bool ok = false;
    if (fgets(line, sizeof line, tty)) {
        line[strcspn(line, "\r\n")] = '\0';
        ok = strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 || strcmp(line, "yes") == 0;
    }
    fclose(tty);
    return ok;
}

static int cmd_promote(const struct config *cfg, struct opts *o)
{
    if (!o->id)
        return usage_error(o, "which campaign? (an id such as cmp_12)");
    if (!o->variant)
        return usage_error(o, "--variant X names the winner");
    if (!o->yes && !isatty(STDIN_FILENO))
        return usage_error(o, "asks for confirmation: run it from a terminal, or pass --yes");
    struct ctl_identity ident;
    ctl_identity_from_process(&ident);
    struct authoring_request rq;
    if (authoring_request_init(&rq, AU_PROMOTE, o->id, 0) != 0) {
        cli_say("no randomness for a request id (getrandom failed)");
        return EXIT_ERROR;
    }
    snprintf(rq.variant, sizeof rq.variant, "%s", o->variant);
    if (o->note)
        snprintf(rq.note, sizeof rq.note, "%s", o->note);
    int rc = read_only(cfg, o, &rq, &ident);
    if (rc)
        return rc;
    char err[512], msg[800];
    PGconn *conn = db_connect(cfg->dsn, 10000, -1, err, sizeof err);
    if (!conn) {
        snprintf(msg, sizeof msg, "%s: nothing was sent", err);
        return refuse(o, &rq, &ident, "error", EXIT_ERROR, msg, NULL);
    }
    /* the version the operator confirms is the compare-and-set token */
    const char *p[1] = { o->id };
    PGresult *r = db_query(conn, "SELECT name, status, version FROM campaigns WHERE id = $1", 1, p, TIMEOUT_MS,
                           -1, err, sizeof err);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        bool missing = r && PQresultStatus(r) == PGRES_TUPLES_OK;
        if (missing)
            snprintf(err, sizeof err, "No campaign %.64s", o->id);
        else if (r)
            db_error(err, sizeof err, "reading the campaign", conn, r);
        PQclear(r);
        PQfinish(conn);
        return refuse(o, &rq, &ident, missing ? "not_found" : "error", EXIT_ERROR, err, NULL);
    }
    rq.expected_version = (int)db_i64(r, 0, 2);
    if (!o->yes) {
        char shown[200], prompt[500];
        san_fit(shown, sizeof shown, PQgetvalue(r, 0, 0), (size_t)-1, 60, 0);
        snprintf(prompt, sizeof prompt,
                 "Promote variant %s of %s \"%s\" (%s, version %d): the rest of its audience gets it? [y/N] ",
                 o->variant, o->id, shown, PQgetvalue(r, 0, 1), rq.expected_version);
        if (!ask(prompt)) {
            fprintf(stderr, "Nothing done.\n");
            PQclear(r);
            PQfinish(conn);
            return EXIT_ERROR;
        }
    }
    PQclear(r);
    return execute(cfg, o, conn, &rq, &ident);
}

/* ---- reads ---- */

static void print_block(const char *label, const char *text)
{
    if (label) {
        printf("%-9s", label);
        san_fputs(text, stdout, 0);
        fputc('\n', stdout);
        return;
    }
    /* line by line: the sanitizer shows a newline as ^J */
    const char *p = text;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, n);
        if (line) {
            if (n && line[n - 1] == '\r')
                line[n - 1] = '\0';
            if (line[0])
                fputs("  ", stdout);
            san_fputs(line, stdout, 0);
            fputc('\n', stdout);
            free(line);
        }
        if (!nl)
            break;
        p = nl + 1;
    }
}

static int cmd_preview(const struct config *cfg, struct opts *o)
{
    if (!o->id)
        return usage_error(o, "which campaign? (an id such as cmp_12)");
    PGconn *conn = cli_connect(cfg);
    if (!conn)
        return EXIT_ERROR;
    char err[512], status[32];
    struct authoring_draft d;
    authoring_draft_init(&d);
    int version = 0;
    int rc = authoring_load(conn, o->id, TIMEOUT_MS, -1, &d, &version, status, sizeof status, err, sizeof err);
    if (rc != 0) {
        cli_say(err);
        PQfinish(conn);
        return EXIT_ERROR;
    }
    /* the contact: the one named, else the segment's first reachable member */
    char *email = NULL, *attrs = NULL;
    rc = authoring_preview_contact(conn, d.segment_id, o->contact, TIMEOUT_MS, -1, &email, &attrs, err, sizeof err);
    PQfinish(conn);
    if (rc < 0) {
        cli_say(err);
        authoring_draft_free(&d);
        return EXIT_ERROR;
    }
    char head[600];
    snprintf(head, sizeof head, "Preview of %s \"%.200s\" (%s, version %d) for %s", o->id, d.name, status, version,
             !email   ? "nobody: the segment has no reachable member; empty attributes"
             : rc > 0 ? "an address that is no contact; empty attributes:"
                      : "the contact");
    san_fputs(head, stdout, 0);
    if (email) {
        fputs(" ", stdout);
        san_fputs(email, stdout, 0);
    }
    fputc('\n', stdout);
    bool found = !o->variant;
    size_t nv = d.nvariants ? d.nvariants : 1;
    for (size_t i = 0; i < nv; i++) {
        const struct authoring_variant *v = d.nvariants ? &d.variants[i] : NULL;
        if (o->variant && (!v || strcmp(v->letter, o->variant) != 0))
            continue;
        found = true;
        if (v)
            printf("\n--- variant %s (%d%%) ---\n", v->letter, v->split);
        else
            fputc('\n', stdout);
        char *subject = authoring_render(v && v->subject ? v->subject : d.subject, attrs, email);
        char *body = authoring_render(v && v->body ? v->body : d.body, attrs, email);
        print_block("From:", d.from ? d.from : "");
        print_block("To:", email ? email : "");
        print_block("Subject:", subject ? subject : "");
        fputc('\n', stdout);
        print_block(NULL, body ? body : "");
        free(subject);
        free(body);
    }
    free(email);
    free(attrs);
    authoring_draft_free(&d);
    if (!found) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s has no variant %s", o->id, o->variant);
        cli_say(msg);
        return EXIT_ERROR;
    }
    return EXIT_OK;
}

static double pct(long long x, long long n)
{
    return n > 0 ? 100.0 * (double)x / (double)n : 0.0;
}

static int cmd_ab(const struct config *cfg, struct opts *o)
{
    if (!o->id)
        return usage_error(o, "which campaign? (an id such as cmp_12)");
    PGconn *conn = cli_connect(cfg);
    if (!conn)
        return EXIT_ERROR;
    char err[512];
    const char *p[1] = { o->id };
    PGresult *r = db_query(conn, "SELECT 1 FROM campaigns WHERE id = $1", 1, p, TIMEOUT_MS, -1, err, sizeof err);
    bool exists = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (r && PQresultStatus(r) != PGRES_TUPLES_OK)
        db_error(err, sizeof err, "reading the campaign", conn, r);
    else if (r && !exists)
        snprintf(err, sizeof err, "No campaign %.64s", o->id);
    PQclear(r);
    struct authoring_ab ab;
    if (!exists || authoring_ab_fetch(conn, o->id, TIMEOUT_MS, -1, &ab, err, sizeof err) != 0) {
        cli_say(err);
        PQfinish(conn);
        return EXIT_ERROR;
    }
    PQfinish(conn);
    if (o->json) {
        json_t *j = json_pack("{s:s}", "campaign_id", o->id);
        json_t *arr = json_array();
        for (size_t i = 0; i < ab.n; i++) {
            const struct authoring_ab_row *v = &ab.v[i];
            json_t *x = json_pack("{s:s?, s:I, s:I, s:I, s:f, s:f, s:b, s:b}", "variant",
                                  v->variant[0] ? v->variant : NULL, "sent", (json_int_t)v->sent, "opened",
                                  (json_int_t)v->opened, "clicked", (json_int_t)v->clicked, "open_rate",
                                  v->sent ? (double)v->opened / (double)v->sent : 0.0, "click_rate",
                                  v->sent ? (double)v->clicked / (double)v->sent : 0.0, "leader",
                                  (int)i == ab.leader, "tested", v->tested);
            if (x && v->tested) {
                json_object_set_new(x, "z_open", json_real(v->z_open));
                json_object_set_new(x, "p_open", json_real(v->p_open));
                json_object_set_new(x, "z_click", json_real(v->z_click));
                json_object_set_new(x, "p_click", json_real(v->p_click));
            } else if (x && v->why[0]) {
                json_object_set_new(x, "why", json_string(v->why));
            }
            json_array_append_new(arr, x);
        }
        json_object_set_new(j, "variants", arr);
        json_object_set_new(j, "leader", ab.leader >= 0 ? json_string(ab.v[ab.leader].variant) : json_null());
        json_object_set_new(j, "significant", json_boolean(ab.significant));
        json_object_set_new(j, "verdict", json_string(ab.verdict));
        print_json(j);
        json_decref(j);
        return EXIT_OK;
    }
    printf("A/B results of %s (clicks and opens against the leader; pooled two-proportion z-test)\n", o->id);
    printf("%-8s %9s %9s %9s %10s %10s %8s %10s\n", "VARIANT", "SENT", "OPEN", "CLICK", "Z(OPEN)", "P(OPEN)",
           "Z(CLICK)", "P(CLICK)");
    for (size_t i = 0; i < ab.n; i++) {
        const struct authoring_ab_row *v = &ab.v[i];
        char line[300];
        int n = snprintf(line, sizeof line, "%-8s %9lld %8.2f%% %8.2f%% ", v->variant[0] ? v->variant : "(none)",
                         v->sent, pct(v->opened, v->sent), pct(v->clicked, v->sent));
        if ((int)i == ab.leader)
            snprintf(line + n, sizeof line - (size_t)n, "%10s", "leader");
        else if (v->tested)
            snprintf(line + n, sizeof line - (size_t)n, "%10.3f %10.4f %8.3f %10.4f", v->z_open, v->p_open,
                     v->z_click, v->p_click);
        else if (v->variant[0])
            snprintf(line + n, sizeof line - (size_t)n, "%s", v->why);
        san_fputs(line, stdout, 0);
        fputc('\n', stdout);
    }
    fputs("verdict: ", stdout);
    san_fputs(ab.verdict, stdout, 0);
    fputc('\n', stdout);
    return EXIT_OK;
}

int cli_campaigns(const struct config *cfg, int argc, char **argv)
{
    if (argc < 1)
        return -1;
    static const char *const subs[] = { "create", "edit", "clone", "preview", "test-send", "ab", "promote" };
    size_t which = 0;
    while (which < sizeof subs / sizeof subs[0] && strcmp(argv[0], subs[which]) != 0)
        which++;
    if (which == sizeof subs / sizeof subs[0])
        return -1;
    char cmd[40];
    snprintf(cmd, sizeof cmd, "campaign %s", subs[which]);
    struct opts o;
    memset(&o, 0, sizeof o);
    o.cmd = cmd;
    int rc = parse(&o, argc - 1, argv + 1);
    if (rc)
        return rc;
    switch (which) {
    case 0: return cmd_save(cfg, &o, true);
    case 1: return cmd_save(cfg, &o, false);
    case 2: return cmd_clone(cfg, &o);
    case 3: return cmd_preview(cfg, &o);
    case 4: return cmd_test_send(cfg, &o);
    case 5: return cmd_ab(cfg, &o);
    default: return cmd_promote(cfg, &o);
    }
}
