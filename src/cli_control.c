/* The campaign-control subcommands, for scripts and for people at a shell:
 * the same state machine, request ids, audit rows and exit codes as the
 * console's keys. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "campaign_detail.h"
#include "cli.h"
#include "control.h"
#include "db.h"
#include "oplog.h"
#include "preflight.h"
#include "sanitize.h"

#define TIMEOUT_MS 30000
#define VERIFY_TRIES 8

struct opts {
    const char *id;
    bool yes, json, csv;
    const char *note, *campaign, *user, *action;
    int to_revision, limit;
};

static int usage_error(const char *cmd, const char *what)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s (see marketing --help)", cmd, what);
    cli_say(msg);
    return EXIT_USAGE;
}

static bool parse_int(const char *s, int lo, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > 1000000000L)
        return false;
    *out = (int)v;
    return true;
}

/* Parses flags and at most one positional argument. Returns 0 or an exit code. */
static int parse(const char *cmd, int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < argc && argv[i]; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--yes") == 0 || strcmp(a, "-y") == 0) {
            o->yes = true;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--csv") == 0) {
            o->csv = true;
        } else if (strcmp(a, "--note") == 0 && next) {
            o->note = argv[++i];
        } else if (strcmp(a, "--campaign") == 0 && next) {
            o->campaign = argv[++i];
        } else if (strcmp(a, "--user") == 0 && next) {
            o->user = argv[++i];
        } else if (strcmp(a, "--action") == 0 && next) {
            o->action = argv[++i];
        } else if (strcmp(a, "--to-revision") == 0 && next) {
            if (!parse_int(argv[++i], 1, &o->to_revision))
                return usage_error(cmd, "--to-revision needs a revision number (1 or more)");
        } else if (strcmp(a, "--limit") == 0 && next) {
            if (!parse_int(argv[++i], 1, &o->limit))
                return usage_error(cmd, "--limit needs a number (1 or more)");
        } else if (a[0] == '-' || o->id) {
            char what[128];
            snprintf(what, sizeof what, "unexpected argument '%.64s'", a);
            return usage_error(cmd, what);
        } else {
            o->id = a;
        }
    }
    return 0;
}

/* Asks on the terminal. Returns true when the answer is exactly `expect`
 * (or y/yes when expect is NULL). */
static bool ask(const char *prompt, const char *expect)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty)
        return false;
    fputs(prompt, tty);
    fflush(tty);
    char line[512];
    bool ok = false;
    if (fgets(line, sizeof line, tty)) {
        line[strcspn(line, "\r\n")] = '\0';
        ok = expect ? strcmp(line, expect) == 0
                    : (strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 || strcmp(line, "yes") == 0);
    }
    fclose(tty);
    return ok;
}

static void print_preflight(const struct preflight *pf)
{
    static const char *const mark[] = { "ok  ", "warn", "FAIL" };
    for (size_t i = 0; i < pf->n; i++) {
        fprintf(stderr, "  %s  ", mark[pf->checks[i].level]);
        san_fputs(pf->checks[i].text, stderr, 0);
        fputc('\n', stderr);
    }
}

/* The campaign as the operator confirms it: name, status, version. */
/* Returns 0, EXIT_CONFLICT when there is no such campaign, or EXIT_ERROR;
 * err says why. */
static int read_campaign(PGconn *conn, const char *id, char *name, size_t nsz, char *status,
                         size_t ssz, int *version, char *err, size_t errsz)
{
    const char *p[1] = { id };
    PGresult *r = db_query(conn, "SELECT name, status, version FROM campaigns WHERE id = $1", 1, p,
                           TIMEOUT_MS, -1, err, errsz);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        if (r)
            db_error(err, errsz, "reading the campaign", conn, r);
        PQclear(r);
        return EXIT_ERROR;
    }
    if (PQntuples(r) != 1) {
        snprintf(err, errsz, "No campaign %.64s", id);
        PQclear(r);
        return EXIT_CONFLICT;
    }
    snprintf(name, nsz, "%s", PQgetvalue(r, 0, 0));
    snprintf(status, ssz, "%s", PQgetvalue(r, 0, 1));
    *version = (int)db_i64(r, 0, 2);
    PQclear(r);
    return EXIT_OK;
}

/* Settles an unknown outcome on new connections. Returns 0 when settled. */
static int verify(const struct config *cfg, const struct ctl_request *rq, struct ctl_result *res)
{
    int delay_ms = 500;
    for (int i = 0; i < VERIFY_TRIES; i++) {
        char err[512];
        PGconn *conn = db_connect(cfg->dsn, 10000, -1, err, sizeof err);
        if (conn) {
            int rc = ctl_verify(conn, rq, TIMEOUT_MS, -1, res);
            PQfinish(conn);
            if (rc == 0)
                return 0;
            snprintf(err, sizeof err, "%s", res->error);
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

static void print_result_json(const struct ctl_request *rq, const struct ctl_result *r,
                              const char *message)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "request_id", rq->request_id, "action",
                          ctl_action_name(rq->action), "outcome", ctl_outcome_name(r->outcome),
                          "campaign_id", r->campaign_id, "status", r->status);
    if (!o)
        return;
    json_object_set_new(o, "version", r->version ? json_integer(r->version) : json_null());
    json_object_set_new(o, "revision", r->revision ? json_integer(r->revision) : json_null());
    json_object_set_new(o, "changed_by", json_string(r->changed_by));
    json_object_set_new(o, "changed_at", json_string(r->changed_at));
    if (rq->action == CTL_LAUNCH && r->audience >= 0)
        json_object_set_new(o, "audience", json_integer(r->audience));
    if (rq->action == CTL_ROLLBACK && r->restored_from) {
        json_object_set_new(o, "restored_from", json_integer(r->restored_from));
        json_object_set_new(o, "recipients_of_other_content", json_integer(r->superseded));
    }
    if (rq->action == CTL_RETRY_FAILED)
        json_object_set_new(o, "requeued", json_integer(r->requeued));
    if (rq->action == CTL_STOP_ALL)
        json_object_set_new(o, "paused", json_integer((json_int_t)r->n_stopped));
    json_object_set_new(o, "message", json_string(message));
    /* values may not be valid UTF-8; a missing key beats no output */
    json_dumpf(o, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(o);
}

/* An action that was refused before it reached the database (read-only,
 * no such campaign, a failed pre-flight check, no connection): said on
 * stderr, written to the log, and in JSON for scripts. */
static int refuse(const struct opts *o, const struct ctl_request *rq, const struct ctl_identity *id,
                  const char *outcome, int code, const char *msg, const struct preflight *pf)
{
    cli_say(msg);
    json_t *ctx = json_pack("{s:s, s:s, s:s}", "action", ctl_action_name(rq->action), "campaign_id",
                            rq->campaign_id, "outcome", outcome);
    oplog_write(code == EXIT_ERROR ? "error" : "warn", rq->request_id, id->os_user, msg, ctx);
    if (!o->json)
        return code;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "request_id", rq->request_id, "action",
                          ctl_action_name(rq->action), "outcome", outcome, "campaign_id",
                          rq->campaign_id, "message", msg);
    if (j && pf) {
        static const char *const level[] = { "ok", "warn", "fail" };
        json_t *checks = json_array();
        for (size_t i = 0; i < pf->n; i++)
            json_array_append_new(checks, json_pack("{s:s, s:s}", "level", level[pf->checks[i].level],
                                                    "text", pf->checks[i].text));
        json_object_set_new(j, "preflight", checks);
    }
    if (j) {
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
    }
    return code;
}

static int report(const struct opts *o, const struct ctl_request *rq, const struct ctl_result *r,
                  const struct ctl_identity *id)
{
    char msg[1024];
    ctl_describe(rq, r, msg, sizeof msg);
    ctl_log(rq, r, id, msg);
    if (o->json) {
        print_result_json(rq, r, msg);
    } else if (ctl_succeeded(r->outcome)) {
        san_fputs(msg, stdout, 0);
        fputc('\n', stdout);
        if (rq->action == CTL_ROLLBACK && r->superseded > 0)
            printf("List them with: marketing recipients %s --csv > recipients.csv\n", rq->campaign_id);
    } else {
        cli_say(msg);
    }
    return exit_code(r->outcome);
}

/* launch, pause, resume, cancel, retry-failed, rollback, stop-all */
static int cmd_action(const struct config *cfg, const char *cmd, enum ctl_action act, int argc,
                      char **argv)
{
    struct opts o;
    int rc = parse(cmd, argc, argv, &o);
    if (rc)
        return rc;
    if (act == CTL_STOP_ALL && o.id)
        return usage_error(cmd, "takes no campaign: it pauses every active one");
    if (act != CTL_STOP_ALL && !o.id)
        return usage_error(cmd, "which campaign? (an id such as cmp_12)");
    if (o.to_revision && act != CTL_ROLLBACK)
        return usage_error(cmd, "--to-revision is for rollback only");
    if (!o.yes && !isatty(STDIN_FILENO))
        return usage_error(cmd, "asks for confirmation: run it from a terminal, or pass --yes");
    struct ctl_identity ident;
    ctl_identity_from_process(&ident);
    struct ctl_request rq;
    if (ctl_request_init(&rq, act, o.id, 0) != 0) {
        cli_say("no randomness for a request id (getrandom failed)");
        return EXIT_ERROR;
    }
    rq.to_revision = o.to_revision;
    if (o.note)
        snprintf(rq.note, sizeof rq.note, "%s", o.note);
    char msg[1024];
    if (cfg->read_only) {
        snprintf(msg, sizeof msg, "%s: read-only (read_only is set, by --read-only, "
                                  "MARKETING_READ_ONLY or marketing.conf): nothing was changed", cmd);
        return refuse(&o, &rq, &ident, "denied", EXIT_DENIED, msg, NULL);
    }

    char err[512];
    PGconn *conn = db_connect(cfg->dsn, 10000, -1, err, sizeof err);
    if (!conn) {
        snprintf(msg, sizeof msg, "%s: nothing was sent", err);
        return refuse(&o, &rq, &ident, "error", EXIT_ERROR, msg, NULL);
    }
    /* Read what the operator acts on: its version is the compare-and-set
     * token, so a change made while the prompt waits is caught. */
    if (act == CTL_LAUNCH) {
        struct preflight pf;
        rc = preflight_run(conn, o.id, TIMEOUT_MS, -1, &pf, err, sizeof err);
        if (rc != 0) {
            PQfinish(conn);
            return refuse(&o, &rq, &ident, strncmp(err, "No campaign", 11) == 0 ? "not_found" : "error",
                          EXIT_ERROR, err, NULL);
        }
        rq.expected_version = pf.version;
        /* the check goes to stderr, so it is seen even with --json */
        fprintf(stderr, "Pre-flight for %s \"", o.id);
        san_fputs(pf.name, stderr, 0);
        fprintf(stderr, "\" (%s, version %d):\n", pf.status, pf.version);
        print_preflight(&pf);
        if (pf.blocked && ctl_allowed(act, pf.status)) {
            snprintf(msg, sizeof msg, "launch %s: refused: a pre-flight check failed (above)", o.id);
            PQfinish(conn);
            return refuse(&o, &rq, &ident, "refused", EXIT_CONFLICT, msg, &pf);
        }
        if (!o.yes && ctl_allowed(act, pf.status)) {
            bool by_name = pf.reachable > cfg->confirm_name_above;
            char prompt[400];
            if (by_name)
                snprintf(prompt, sizeof prompt, "This sends to %lld people. Type the campaign's name to launch: ",
                         pf.reachable);
            else
                snprintf(prompt, sizeof prompt, "Launch %s to %lld people? [y/N] ", o.id, pf.reachable);
            if (!ask(prompt, by_name ? pf.name : NULL)) {
                fprintf(stderr, "Not launched.\n");
                PQfinish(conn);
                return EXIT_ERROR;
            }
        }
    } else if (act != CTL_STOP_ALL) {
        char name[256], status[32];
        int version;
        rc = read_campaign(conn, o.id, name, sizeof name, status, sizeof status, &version, err,
                           sizeof err);
        if (rc) {
            PQfinish(conn);
            return refuse(&o, &rq, &ident, rc == EXIT_CONFLICT ? "not_found" : "error", EXIT_ERROR,
                          err, NULL);
        }
        rq.expected_version = version;
        if (!o.yes && ctl_allowed(act, status)) {
            char prompt[600];
            char shown[200];
            san_fit(shown, sizeof shown, name, (size_t)-1, 60, 0);
            snprintf(prompt, sizeof prompt, "%s %s \"%s\" (%s, version %d)?%s [y/N] ",
                     act == CTL_RETRY_FAILED ? "Retry the failed deliveries of" :
                     act == CTL_ROLLBACK ? "Roll back" : act == CTL_PAUSE ? "Pause" :
                     act == CTL_RESUME ? "Resume" : "Cancel",
                     o.id, shown, status, version,
                     act == CTL_CANCEL ? " This cannot be undone." :
                     act == CTL_ROLLBACK ? " Sent mail cannot be recalled." : "");
            if (!ask(prompt, NULL)) {
                fprintf(stderr, "Nothing done.\n");
                PQfinish(conn);
                return EXIT_ERROR;
            }
        }
    } else if (!o.yes && !ask("Pause every active campaign? [y/N] ", NULL)) {
        fprintf(stderr, "Nothing done.\n");
        PQfinish(conn);
        return EXIT_ERROR;
    }

    struct ctl_result res;
    if (ctl_execute(conn, &rq, &ident, TIMEOUT_MS, -1, &res) != 0 && res.outcome == CTL_UNKNOWN) {
        ctl_describe(&rq, &res, msg, sizeof msg);
        ctl_log(&rq, &res, &ident, msg);
        cli_say(msg);
        PQfinish(conn);
        conn = NULL;
        verify(cfg, &rq, &res);
    }
    PQfinish(conn);
    return report(&o, &rq, &res, &ident);
}

static void field(const char *label, const char *value)
{
    printf("%-14s ", label);
    san_fputs(value, stdout, 0);
    fputc('\n', stdout);
}

static const char show_sql[] =
    "SELECT c.id, c.name, c.type, c.status, c.version, coalesce(c.current_revision, 0),"
    "       c.segment_id, s.name, c.rate_limit_per_minute, coalesce(c.audience, 0),"
    "       coalesce(to_char(c.send_at, 'YYYY-MM-DD HH24:MI:SS TZ'), ''), c.created_by,"
    "       to_char(c.updated_at, 'YYYY-MM-DD HH24:MI:SS TZ'), coalesce(r.from_address, ''),"
    "       coalesce(r.subject, ''), coalesce(st.queued, 0), coalesce(st.sent, 0),"
    "       coalesce(st.failed, 0), coalesce(st.bounced, 0), coalesce(st.opened, 0),"
    "       coalesce(st.clicked, 0)"
    "  FROM campaigns c JOIN segments s ON s.id = c.segment_id"
    "  LEFT JOIN campaign_revisions r ON r.campaign_id = c.id AND r.revision = c.current_revision"
    "  LEFT JOIN campaign_stats st ON st.campaign_id = c.id"
    " WHERE c.id = $1";

static int cmd_show(const struct config *cfg, int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "show") != 0)
        return usage_error("campaign", "usage: marketing campaign show ID [--json]");
    struct opts o;
    int rc = parse("campaign show", argc - 1, argv + 1, &o);
    if (rc)
        return rc;
    if (!o.id)
        return usage_error("campaign show", "which campaign? (an id such as cmp_12)");
    PGconn *conn = cli_connect(cfg);
    if (!conn)
        return EXIT_ERROR;
    char err[512];
    const char *p[1] = { o.id };
    PGresult *c = db_query(conn, show_sql, 1, p, TIMEOUT_MS, -1, err, sizeof err);
    PGresult *revs = c ? db_query(conn, campaign_revisions_query, 1, p, TIMEOUT_MS, -1, err, sizeof err) : NULL;
    struct audit_filter f = { .campaign_id = o.id, .limit = 20 };
    struct audit_list *al = revs ? audit_list_fetch(conn, &f, TIMEOUT_MS, -1, NULL, err, sizeof err) : NULL;
    rc = EXIT_OK;
    if (!c || !revs || !al || PQresultStatus(c) != PGRES_TUPLES_OK ||
        PQresultStatus(revs) != PGRES_TUPLES_OK) {
        if (c && PQresultStatus(c) != PGRES_TUPLES_OK)
            db_error(err, sizeof err, "reading the campaign", conn, c);
        else if (revs && PQresultStatus(revs) != PGRES_TUPLES_OK)
            db_error(err, sizeof err, "reading revisions", conn, revs);
        cli_say(err);
        rc = EXIT_ERROR;
    } else if (PQntuples(c) != 1) {
        snprintf(err, sizeof err, "No campaign %.64s", o.id);
        cli_say(err);
        rc = EXIT_ERROR;
    } else if (o.json) {
        static const char *const names[] = {
            "id", "name", "type", "status", "version", "current_revision", "segment_id", "segment",
            "rate_limit_per_minute", "audience", "send_at", "created_by", "updated_at",
            "from_address", "subject", "queued", "sent", "failed", "bounced", "opened", "clicked",
        };
        json_t *obj = json_object();
        for (int i = 0; i < PQnfields(c); i++) {
            const char *v = PQgetvalue(c, 0, i);
            bool num = (i >= 4 && i <= 5) || (i >= 8 && i <= 9) || i >= 15;
            json_t *sv = num ? json_integer(db_i64(c, 0, i)) : json_string(v);
            json_object_set_new(obj, names[i], sv ? sv : json_null());
        }
        json_t *ra = json_array();
        for (int i = 0; i < PQntuples(revs); i++)
            json_array_append_new(ra, json_pack("{s:I, s:I, s:s?, s:s?, s:s?, s:I}", "revision",
                                                db_i64(revs, i, 0), "restored_from", db_i64(revs, i, 1),
                                                "subject", PQgetvalue(revs, i, 2), "author",
                                                PQgetvalue(revs, i, 3), "variants",
                                                PQgetvalue(revs, i, 5), "deliveries", db_i64(revs, i, 7)));
        json_object_set_new(obj, "revisions", ra);
        json_t *aa = json_array();
        for (size_t i = 0; i < al->n; i++) {
            const struct audit_entry *e = &al->v[i];
            json_array_append_new(aa, json_pack("{s:I, s:s?, s:s?, s:s?, s:i, s:i, s:s?, s:s?}", "at_ms",
                                                (json_int_t)e->at_ms, "action", e->action, "from_status",
                                                e->from_status, "to_status", e->to_status,
                                                "from_version", e->from_version, "to_version",
                                                e->to_version, "db_user", e->db_user, "os_user",
                                                e->os_user));
        }
        json_object_set_new(obj, "audit", aa);
        json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(obj);
    } else {
        char buf[512];
        field("id", PQgetvalue(c, 0, 0));
        field("name", PQgetvalue(c, 0, 1));
        field("type", PQgetvalue(c, 0, 2));
        snprintf(buf, sizeof buf, "%s (version %s)", PQgetvalue(c, 0, 3), PQgetvalue(c, 0, 4));
        field("status", buf);
        snprintf(buf, sizeof buf, "%s %s", PQgetvalue(c, 0, 6), PQgetvalue(c, 0, 7));
        field("segment", buf);
        snprintf(buf, sizeof buf, "%s per minute", PQgetvalue(c, 0, 8));
        field("rate limit", buf);
        field("audience", PQgetvalue(c, 0, 9));
        field("send at", *PQgetvalue(c, 0, 10) ? PQgetvalue(c, 0, 10) : "-");
        field("created by", PQgetvalue(c, 0, 11));
        field("updated", PQgetvalue(c, 0, 12));
        snprintf(buf, sizeof buf, "%s", PQgetvalue(c, 0, 5));
        field("revision", buf);
        field("from", PQgetvalue(c, 0, 13));
        field("subject", PQgetvalue(c, 0, 14));
        snprintf(buf, sizeof buf, "%s sent, %s queued, %s failed, %s bounced, %s opened, %s clicked",
                 PQgetvalue(c, 0, 16), PQgetvalue(c, 0, 15), PQgetvalue(c, 0, 17),
                 PQgetvalue(c, 0, 18), PQgetvalue(c, 0, 19), PQgetvalue(c, 0, 20));
        field("deliveries", buf);
        printf("\nrevisions (newest first):\n");
        for (int i = 0; i < PQntuples(revs); i++) {
            snprintf(buf, sizeof buf, "  %3s %s by %s, %s deliveries%s%s: ", PQgetvalue(revs, i, 0),
                     db_i64(revs, i, 1) ? "(rollback)" : "", PQgetvalue(revs, i, 3),
                     PQgetvalue(revs, i, 7), *PQgetvalue(revs, i, 5) ? ", " : "", PQgetvalue(revs, i, 5));
            san_fputs(buf, stdout, 0);
            san_fputs(PQgetvalue(revs, i, 2), stdout, 0);
            fputc('\n', stdout);
        }
        printf("\naudit (newest first):\n");
        for (size_t i = 0; i < al->n; i++) {
            const struct audit_entry *e = &al->v[i];
            time_t t = (time_t)(e->at_ms / 1000);
            struct tm tm;
            localtime_r(&t, &tm);
            char when[32];
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
            snprintf(buf, sizeof buf, "  %s %-12s %s -> %s v%d -> v%d by %s%s%s%s", when, e->action,
                     e->from_status, e->to_status, e->from_version, e->to_version,
                     *e->os_user ? e->os_user : "", *e->os_user ? " as " : "", e->db_user,
                     *e->ssh_client ? " (ssh)" : "");
            san_fputs(buf, stdout, 0);
            fputc('\n', stdout);
        }
    }
    audit_list_free(&al);
    PQclear(c);
    PQclear(revs);
    PQfinish(conn);
    return rc;
}

static int cmd_audit(const struct config *cfg, int argc, char **argv)
{
    struct opts o;
    int rc = parse("audit", argc, argv, &o);
    if (rc)
        return rc;
    if (o.id)
        return usage_error("audit", "use --campaign ID to filter by campaign");
    PGconn *conn = cli_connect(cfg);
    if (!conn)
        return EXIT_ERROR;
    char err[512];
    struct audit_filter f = { .campaign_id = o.campaign, .user = o.user, .action = o.action,
                              .limit = o.limit };
    struct audit_list *l = audit_list_fetch(conn, &f, TIMEOUT_MS, -1, NULL, err, sizeof err);
    PQfinish(conn);
    if (!l) {
        cli_say(err);
        return EXIT_ERROR;
    }
    if (o.json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < l->n; i++) {
            const struct audit_entry *e = &l->v[i];
            json_t *x = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:s, "
                                  "s:s, s:s, s:s, s:s, s:s}",
                                  "id", (json_int_t)e->id, "at_ms", (json_int_t)e->at_ms,
                                  "action", e->action, "campaign_id", e->campaign_id,
                                  "from_status", e->from_status, "to_status", e->to_status,
                                  "from_version", e->from_version, "to_version", e->to_version,
                                  "revision", e->revision, "db_user", e->db_user,
                                  "application_name", e->app, "client_addr", e->client_addr,
                                  "os_user", e->os_user, "ssh_client", e->ssh_client, "tty", e->tty,
                                  "request_id", e->request_id, "note", e->note);
            if (x)
                json_array_append_new(arr, x);
        }
        json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(arr);
    } else {
        printf("%-19s %-12s %-9s %-21s %-11s %-28s %s\n", "TIME", "ACTION", "CAMPAIGN",
               "STATUS", "VERSION", "WHO (server)", "CLIENT (os user, ssh, tty)");
        for (size_t i = 0; i < l->n; i++) {
            const struct audit_entry *e = &l->v[i];
            time_t t = (time_t)(e->at_ms / 1000);
            struct tm tm;
            localtime_r(&t, &tm);
            char when[32], st[64], ver[32], who[160], client[400], line[800];
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
            snprintf(st, sizeof st, "%s>%s", e->from_status, e->to_status);
            snprintf(ver, sizeof ver, "%d>%d", e->from_version, e->to_version);
            snprintf(who, sizeof who, "%s@%s", e->db_user, e->client_addr);
            snprintf(client, sizeof client, "%s %s %s", *e->os_user ? e->os_user : "-",
                     *e->ssh_client ? e->ssh_client : "-", *e->tty ? e->tty : "-");
            snprintf(line, sizeof line, "%-19s %-12s %-9s %-21s %-11s %-28s %s", when, e->action,
                     *e->campaign_id ? e->campaign_id : "-", st, ver, who, client);
            san_fputs(line, stdout, 0);
            fputc('\n', stdout);
        }
    }
    audit_list_free(&l);
    return EXIT_OK;
}

/* A CSV field: quoted when it must be, and defused for spreadsheets (a
 * leading = + - @, tab or CR would start a formula). */
static void csv_field(const char *s, FILE *f, bool last)
{
    bool formula = s[0] && strchr("=+-@\t\r", s[0]);
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', f);
    if (formula)
        fputc('\'', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    if (quote)
        fputc('"', f);
    fputs(last ? "\r\n" : ",", f);
}

static int cmd_recipients(const struct config *cfg, int argc, char **argv)
{
    struct opts o;
    int rc = parse("recipients", argc, argv, &o);
    if (rc)
        return rc;
    if (!o.id)
        return usage_error("recipients", "which campaign? (an id such as cmp_12)");
    PGconn *conn = cli_connect(cfg);
    if (!conn)
        return EXIT_ERROR;
    char err[512];
    const char *p[1] = { o.id };
    char name[256], status[32];
    int version;
    rc = read_campaign(conn, o.id, name, sizeof name, status, sizeof status, &version, err, sizeof err);
    if (rc) {
        cli_say(err);
        PQfinish(conn);
        return EXIT_ERROR;
    }
    PGresult *r = db_query(conn,
                           "SELECT contact_id, email, revision, status,"
                           "       coalesce(to_char(sent_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF'), '')"
                           "  FROM campaign_superseded_recipients($1)",
                           1, p, TIMEOUT_MS, -1, err, sizeof err);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        if (r)
            db_error(err, sizeof err, "reading recipients", conn, r);
        cli_say(err);
        PQclear(r);
        PQfinish(conn);
        return EXIT_ERROR;
    }
    /* raw CSV only into a file or pipe: on a terminal, untrusted text is sanitized */
    bool raw = o.csv && !isatty(STDOUT_FILENO);
    if (o.csv) {
        fputs("contact_id,email,revision,status,sent_at\r\n", stdout);
        for (int i = 0; i < PQntuples(r); i++) {
            for (int col = 0; col < 5; col++) {
                if (raw) {
                    csv_field(PQgetvalue(r, i, col), stdout, col == 4);
                } else {
                    san_fputs(PQgetvalue(r, i, col), stdout, 0);
                    fputs(col == 4 ? "\n" : ",", stdout);
                }
            }
        }
    } else {
        printf("%d recipients of %s got content other than its current revision "
               "(sent mail cannot be recalled):\n", PQntuples(r), o.id);
        for (int i = 0; i < PQntuples(r); i++) {
            char line[600];
            snprintf(line, sizeof line, "  %-10s rev %-3s %-8s %s  %s", PQgetvalue(r, i, 0),
                     PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 1));
            san_fputs(line, stdout, 0);
            fputc('\n', stdout);
        }
    }
    PQclear(r);
    PQfinish(conn);
    return EXIT_OK;
}

int cli_control(const struct config *cfg, const char *name, int argc, char **argv)
{
    if (strcmp(name, "campaign") == 0)
        return cmd_show(cfg, argc, argv);
    if (strcmp(name, "audit") == 0)
        return cmd_audit(cfg, argc, argv);
    if (strcmp(name, "recipients") == 0)
        return cmd_recipients(cfg, argc, argv);
    int act = ctl_action_parse(name);
    if (act < 0)
        return -1;
    return cmd_action(cfg, name, (enum ctl_action)act, argc, argv);
}
