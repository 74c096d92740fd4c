/* The segment subcommands: create, refresh, preview, show. The same
 * calls the console makes (segments_db.h), with the exit codes of the
 * campaign actions: 0 done, 1 error, 2 usage (a bad rule too), 3 conflict
 * (another operator is refreshing), 4 read-only, 5 outcome unknown. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "control.h"
#include "db.h"
#include "oplog.h"
#include "sanitize.h"
#include "segments_db.h"
#include "segrule.h"

#define TIMEOUT_MS 30000
#define REFRESH_TIMEOUT_MS 600000

struct segopts {
    const char *id, *name, *rule;
    bool json;
    long timeout_ms; /* the preview's statement timeout */
};

static int usage_error(const char *cmd, const char *what)
{
    char msg[300];
    snprintf(msg, sizeof msg, "segment %s: %s (see marketing --help)", cmd, what);
    cli_say(msg);
    return EXIT_USAGE;
}

static int parse(const char *cmd, int argc, char **argv, struct segopts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = SEGDB_PREVIEW_TIMEOUT_MS;
    for (int i = 0; i < argc && argv[i]; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--name") == 0 && next) {
            o->name = argv[++i];
        } else if (strcmp(a, "--rule") == 0 && next) {
            o->rule = argv[++i];
        } else if (strcmp(a, "--timeout") == 0 && next) {
            o->timeout_ms = config_parse_duration(argv[++i]);
            if (o->timeout_ms <= 0 || o->timeout_ms > 600000)
                return usage_error(cmd, "--timeout needs a duration from 1ms to 10m, such as 2s or 500ms");
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

static void print_json(json_t *o)
{
    if (!o)
        return;
    json_dumpf(o, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(o);
}

/* A rule's error, with the rule's line and a caret under the column. */
static void say_rule_error(const char *cmd, const char *rule, const struct segrule_error *e)
{
    char where[300], msg[400];
    segrule_error_format(e, where, sizeof where);
    snprintf(msg, sizeof msg, "segment %s: %s", cmd, where);
    cli_say(msg);
    char caret[SEGRULE_MAX_LEN * 4 + 64];
    segrule_caret(rule, e, isatty(STDERR_FILENO) ? 100 : -1, 0, caret, sizeof caret);
    /* already sanitized: indent each line */
    for (char *line = caret, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            break;
        fprintf(stderr, "  %.*s\n", (int)(nl - line), line);
    }
}

/* The rule checked before anything touches the database. Returns 0 or EXIT_USAGE. */
static int check_rule(const char *cmd, const char *rule, bool json)
{
    struct segrule_sql q;
    struct segrule_error e;
    if (segrule_to_sql(rule, 1, &q, &e) == 0) {
        segrule_sql_free(&q);
        return 0;
    }
    say_rule_error(cmd, rule, &e);
    if (json) {
        char where[300];
        segrule_error_format(&e, where, sizeof where);
        print_json(json_pack("{s:s, s:s, s:i, s:i, s:i, s:s}", "outcome", "bad_rule", "error", e.msg,
                             "line", e.line, "column", e.col, "byte_column", e.byte_col, "message",
                             where));
    }
    return EXIT_USAGE;
}

static int exit_code(enum segdb_status s)
{
    switch (s) {
    case SEGDB_OK: return EXIT_OK;
    case SEGDB_BAD_RULE: case SEGDB_BAD_NAME: return EXIT_USAGE;
    case SEGDB_LOCKED: return EXIT_CONFLICT;
    case SEGDB_DENIED: return EXIT_DENIED;
    case SEGDB_UNKNOWN: return EXIT_UNKNOWN;
    case SEGDB_TIMEOUT: case SEGDB_NOT_FOUND: case SEGDB_ERROR: return EXIT_ERROR;
    }
    return EXIT_ERROR;
}

static void log_result(const char *action, const struct segdb_result *r, const struct ctl_identity *id)
{
    json_t *ctx = json_pack("{s:s, s:s, s:s}", "action", action, "segment_id", r->segment_id,
                            "outcome", segdb_status_name(r->status));
    oplog_write(r->status == SEGDB_OK ? "info" : r->status == SEGDB_ERROR ? "error" : "warn",
                r->request_id[0] ? r->request_id : NULL, id->os_user, r->message, ctx);
}

static int refuse_read_only(const char *cmd, const struct segopts *o, const struct ctl_identity *id)
{
    char msg[300];
    snprintf(msg, sizeof msg, "segment %s: read-only (read_only is set, by --read-only, "
                              "MARKETING_READ_ONLY or marketing.conf): nothing was changed", cmd);
    cli_say(msg);
    json_t *ctx = json_pack("{s:s, s:s}", "action", cmd, "outcome", "denied");
    oplog_write("warn", NULL, id->os_user, msg, ctx);
    if (o->json)
        print_json(json_pack("{s:s, s:s, s:s}", "action", cmd, "outcome", "denied", "message", msg));
    return EXIT_DENIED;
}

/* After the connection failed with a write in flight: one new connection
 * looks the request id up. */
static void verify(const struct config *cfg, struct segdb_result *r)
{
    char err[512], id[64];
    PGconn *conn = db_connect(cfg->dsn, 10000, -1, err, sizeof err);
    if (!conn)
        return;
    int found = segdb_lookup_request(conn, r->request_id, id, sizeof id, TIMEOUT_MS, err, sizeof err);
    PQfinish(conn);
    if (found == 1) {
        r->status = SEGDB_OK;
        if (!r->segment_id[0])
            snprintf(r->segment_id, sizeof r->segment_id, "%s", id);
        snprintf(r->message, sizeof r->message, "verified after a lost connection: request %s "
                 "was applied (%s)", r->request_id, r->segment_id);
    } else if (found == 0) {
        r->status = SEGDB_ERROR;
        snprintf(r->message, sizeof r->message, "verified after a lost connection: request %s "
                 "was not applied; nothing changed", r->request_id);
    }
}

static json_t *preview_json(const struct segdb_result *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "outcome", json_string(segdb_status_name(p->status)));
    json_object_set_new(o, "size", p->status == SEGDB_OK ? json_integer(p->size) : json_null());
    json_object_set_new(o, "reachable", p->status == SEGDB_OK ? json_integer(p->reachable) : json_null());
    json_object_set_new(o, "message", json_string(p->message));
    return o;
}

static int cmd_preview(const struct config *cfg, int argc, char **argv)
{
    struct segopts o;
    int rc = parse("preview", argc, argv, &o);
    if (rc)
        return rc;
    if (!o.rule || o.id || o.name)
        return usage_error("preview", "usage: marketing segment preview --rule RULE [--timeout TIME] [--json]");
    if ((rc = check_rule("preview", o.rule, o.json)))
        return rc;
    PGconn *conn = cli_connect(cfg);
    if (!conn)
        return EXIT_ERROR;
    struct segdb_result p;
    segdb_preview(conn, o.rule, (int)o.timeout_ms, TIMEOUT_MS, -1, &p);
    PQfinish(conn);
    if (o.json) {
        json_t *j = preview_json(&p);
        char *canon = NULL;
        struct segrule_error e;
        struct segrule *r = segrule_parse(o.rule, &e);
        if (r)
            canon = segrule_canonical(r);
        segrule_free(&r);
        json_object_set_new(j, "rule", json_string(o.rule));
        json_object_set_new(j, "canonical", canon ? json_string(canon) : json_null());
        free(canon);
        print_json(j);
    }
    if (p.status != SEGDB_OK) {
        char msg[900];
        snprintf(msg, sizeof msg, "segment preview: %s", p.message);
        cli_say(msg);
    } else if (!o.json) {
        printf("%lld contacts (%lld reachable)\n", p.size, p.reachable);
    }
    return exit_code(p.status);
}

static int cmd_create(const struct config *cfg, int argc, char **argv)
{
    struct segopts o;
    int rc = parse("create", argc, argv, &o);
    if (rc)
        return rc;
    if (!o.name || !o.rule || o.id)
        return usage_error("create", "usage: marketing segment create --name NAME --rule RULE [--timeout TIME] [--json]");
    if ((rc = check_rule("create", o.rule, o.json)))
        return rc;
    struct ctl_identity ident;
    ctl_identity_from_process(&ident);
    if (cfg->read_only)
        return refuse_read_only("create", &o, &ident);
    PGconn *conn = cli_connect(cfg);
    if (!conn)
        return EXIT_ERROR;
    /* the size first (read-only, bounded); a slow count does not stop the create */
    struct segdb_result p, r;
    if (segdb_preview(conn, o.rule, (int)o.timeout_ms, TIMEOUT_MS, -1, &p) != 0) {
        PQfinish(conn);
        char msg[900];
        snprintf(msg, sizeof msg, "segment create: %s: nothing was created", p.message);
        cli_say(msg);
        return EXIT_ERROR;
    }
    if (p.status != SEGDB_OK) {
        char msg[900];
        snprintf(msg, sizeof msg, "segment create: size unknown: %s", p.message);
        cli_say(msg);
    }
    if (segdb_create(conn, o.name, o.rule, &ident, TIMEOUT_MS, -1, &r) != 0) {
        PQfinish(conn);
        conn = NULL;
        if (r.status == SEGDB_UNKNOWN) {
            cli_say(r.message);
            verify(cfg, &r);
        }
    }
    PQfinish(conn);
    log_result("segment_create", &r, &ident);
    if (o.json) {
        json_t *j = json_pack("{s:s, s:s, s:s?}", "action", "segment_create", "outcome",
                              segdb_status_name(r.status), "request_id",
                              r.request_id[0] ? r.request_id : NULL);
        json_object_set_new(j, "segment_id", r.segment_id[0] ? json_string(r.segment_id) : json_null());
        json_object_set_new(j, "name", json_string(o.name));
        json_object_set_new(j, "rule", json_string(o.rule));
        json_object_set_new(j, "preview", preview_json(&p));
        json_object_set_new(j, "message", json_string(r.message));
        print_json(j);
    } else if (r.status == SEGDB_OK) {
        san_fputs(r.message, stdout, 0);
        if (p.status == SEGDB_OK)
            printf(", %lld contacts now (%lld reachable)", p.size, p.reachable);
        printf("\nIts members are materialized by: marketing segment refresh %s\n", r.segment_id);
    }
    if (r.status != SEGDB_OK) {
        char msg[900];
        snprintf(msg, sizeof msg, "segment create: %s", r.message);
        cli_say(msg);
    }
    return exit_code(r.status);
}

static int cmd_refresh(const struct config *cfg, int argc, char **argv)
{
    struct segopts o;
    int rc = parse("refresh", argc, argv, &o);
    if (rc)
        return rc;
    if (!o.id || o.name || o.rule)
        return usage_error("refresh", "which segment? (an id such as seg_4)");
    struct ctl_identity ident;
    ctl_identity_from_process(&ident);
    if (cfg->read_only)
        return refuse_read_only("refresh", &o, &ident);
    PGconn *conn = cli_connect(cfg);
    if (!conn)
        return EXIT_ERROR;
    struct segdb_result r;
    if (segdb_refresh(conn, o.id, &ident, REFRESH_TIMEOUT_MS, -1, &r) != 0) {
        PQfinish(conn);
        conn = NULL;
        if (r.status == SEGDB_UNKNOWN) {
            cli_say(r.message);
            verify(cfg, &r);
        }
    }
    PQfinish(conn);
    log_result("segment_refresh", &r, &ident);
    if (o.json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s?}", "action", "segment_refresh", "outcome",
                              segdb_status_name(r.status), "segment_id", o.id, "request_id",
                              r.request_id[0] ? r.request_id : NULL);
        if (r.status == SEGDB_OK) {
            json_object_set_new(j, "size", json_integer(r.size));
            json_object_set_new(j, "reachable", json_integer(r.reachable));
            json_object_set_new(j, "added", json_integer(r.added));
            json_object_set_new(j, "removed", json_integer(r.removed));
        }
        if (r.status == SEGDB_LOCKED) {
            const struct segdb_holder *h = &r.holder;
            json_object_set_new(j, "refreshing", h->pid ? json_pack("{s:s, s:s, s:s, s:I, s:I, s:i}",
                                "db_user", h->user, "application_name", h->app, "client_addr", h->addr,
                                "since_ms", (json_int_t)h->since_ms, "backend_start_ms",
                                (json_int_t)h->backend_start_ms, "pid", h->pid) : json_null());
        }
        json_object_set_new(j, "message", json_string(r.message));
        print_json(j);
    } else if (r.status == SEGDB_OK) {
        san_fputs(r.message, stdout, 0);
        fputc('\n', stdout);
    }
    if (r.status != SEGDB_OK) {
        if (r.status == SEGDB_BAD_RULE)
            r.status = SEGDB_ERROR; /* the stored rule, not the operator's input */
        char msg[900];
        snprintf(msg, sizeof msg, "segment refresh: %s", r.message);
        cli_say(msg);
    }
    return exit_code(r.status);
}

static void when(int64_t ms, char *buf, size_t n)
{
    if (ms <= 0) {
        snprintf(buf, n, "never");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static void pct(double r, char *buf, size_t n)
{
    if (r < 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.1f%%", r * 100.0);
}

static json_t *rate_json(double r) { return r < 0 ? json_null() : json_real(r); }

static int cmd_show(const struct config *cfg, int argc, char **argv)
{
    struct segopts o;
    int rc = parse("show", argc, argv, &o);
    if (rc)
        return rc;
    if (!o.id || o.name || o.rule)
        return usage_error("show", "which segment? (an id such as seg_4)");
    PGconn *conn = cli_connect(cfg);
    if (!conn)
        return EXIT_ERROR;
    struct segdb_result r;
    struct segdb_detail *d = segdb_show(conn, o.id, TIMEOUT_MS, -1, &r, NULL);
    PQfinish(conn);
    if (!d) {
        char msg[900];
        snprintf(msg, sizeof msg, "segment show: %s", r.message);
        cli_say(msg);
        return EXIT_ERROR;
    }
    if (o.json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s?}", "id", d->id, "name", d->name,
                              "rule", d->rule, "size", (json_int_t)d->size, "reachable",
                              (json_int_t)d->reachable, "refreshed_ms", (json_int_t)d->refreshed_ms,
                              "created_ms", (json_int_t)d->created_ms, "refreshed_by", d->refreshed_by);
        if (!j) /* text that is not valid UTF-8: say so rather than print half */
            j = json_pack("{s:s, s:s}", "id", o.id, "error", "the segment has text that is not valid UTF-8");
        json_t *perf = json_pack("{s:I, s:I, s:I}", "sent", (json_int_t)d->sent, "opened",
                                 (json_int_t)d->opened, "clicked", (json_int_t)d->clicked);
        json_object_set_new(perf, "open_rate", rate_json(d->open_rate));
        json_object_set_new(perf, "click_rate", rate_json(d->click_rate));
        json_t *arr = json_array();
        for (size_t i = 0; i < d->ncampaigns; i++) {
            const struct segdb_campaign *k = &d->campaigns[i];
            json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "id", k->id, "name", k->name,
                                  "status", k->status, "sent", (json_int_t)k->sent, "opened",
                                  (json_int_t)k->opened, "clicked", (json_int_t)k->clicked);
            if (!c)
                continue;
            json_object_set_new(c, "open_rate", rate_json(k->open_rate));
            json_object_set_new(c, "click_rate", rate_json(k->click_rate));
            json_array_append_new(arr, c);
        }
        json_object_set_new(perf, "campaigns", arr);
        json_object_set_new(j, "performance", perf);
        print_json(j);
    } else {
        char buf[700], t[40], o1[16], c1[16];
        struct { const char *label, *value; } rows[] = {
            { "id", d->id }, { "name", d->name }, { "rule", d->rule },
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            printf("%-14s ", rows[i].label);
            san_fputs(rows[i].value, stdout, 0);
            fputc('\n', stdout);
        }
        printf("%-14s %lld (%lld reachable)\n", "size", d->size, d->reachable);
        when(d->refreshed_ms, t, sizeof t);
        snprintf(buf, sizeof buf, "%s%s%s", t, d->refreshed_by ? " by " : "",
                 d->refreshed_by ? d->refreshed_by : "");
        printf("%-14s ", "refreshed");
        san_fputs(buf, stdout, 0);
        fputc('\n', stdout);
        pct(d->open_rate, o1, sizeof o1);
        pct(d->click_rate, c1, sizeof c1);
        printf("%-14s %zu campaigns, %lld sent, opened %s, clicked %s\n", "performance",
               d->ncampaigns, d->sent, o1, c1);
        if (d->ncampaigns)
            printf("\n%-9s %-32s %-10s %9s %7s %7s\n", "CAMPAIGN", "NAME", "STATUS", "SENT", "OPENED",
                   "CLICKED");
        for (size_t i = 0; i < d->ncampaigns; i++) {
            const struct segdb_campaign *k = &d->campaigns[i];
            char id[64], name[160], st[48];
            san_fit(id, sizeof id, k->id, (size_t)-1, 9, 0);
            struct san_result rn = san_fit(name, sizeof name, k->name, (size_t)-1, 32, 0);
            san_fit(st, sizeof st, k->status, (size_t)-1, 10, 0);
            pct(k->open_rate, o1, sizeof o1);
            pct(k->click_rate, c1, sizeof c1);
            printf("%-9s %s%*s %-10s %9lld %7s %7s\n", id, name, 32 - rn.cols, "", st, k->sent, o1, c1);
        }
    }
    segdb_detail_free(&d);
    return EXIT_OK;
}

int cli_segments(const struct config *cfg, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "create") == 0)
        return cmd_create(cfg, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "refresh") == 0)
        return cmd_refresh(cfg, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "preview") == 0)
        return cmd_preview(cfg, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "show") == 0)
        return cmd_show(cfg, argc - 1, argv + 1);
    cli_say("usage: marketing segment create|refresh|preview|show (see marketing --help)");
    return EXIT_USAGE;
}
