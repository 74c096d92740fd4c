/* marketing alerts ack|snooze|unack|acks: acknowledging and snoozing
 * alerts from a shell, with the same request ids, audit rows, refusals and
 * exit codes as campaign actions (cli_control.c). Everything else under
 * 'alerts' is cli_alerts(). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alertack.h"
#include "cli.h"
#include "clock.h"
#include "control.h"
#include "db.h"
#include "format.h"
#include "oplog.h"
#include "sanitize.h"

#define TIMEOUT_MS 30000
#define CONNECT_MS 10000
#define VERIFY_TRIES 8

struct opts {
    const char *pos;      /* RULE or ID */
    const char *comment;
    const char *for_text;
    bool json;
};

static int usage_error(const char *cmd, const char *what)
{
    char msg[512];
    snprintf(msg, sizeof msg, "alerts %s: %s (see marketing --help)", cmd, what);
    cli_say(msg);
    return EXIT_USAGE;
}

/* Flags and one positional argument; labels go straight into rq. Returns 0
 * or an exit code. */
static int parse(const char *cmd, int argc, char **argv, struct opts *o, struct alertack_request *rq)
{
    memset(o, 0, sizeof *o);
    bool takes_labels = rq->op != ALERTACK_OP_UNACK && strcmp(cmd, "acks") != 0;
    bool takes_for = takes_labels;
    bool takes_comment = strcmp(cmd, "acks") != 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        char what[400];
        bool valued = (takes_labels && strcmp(a, "--label") == 0) ||
                      (takes_comment && strcmp(a, "--comment") == 0) ||
                      (takes_for && strcmp(a, "--for") == 0);
        if (valued && !next) {
            snprintf(what, sizeof what, "%s needs a value", a);
            return usage_error(cmd, what);
        }
        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (valued && strcmp(a, "--comment") == 0) {
            o->comment = argv[++i];
        } else if (valued && strcmp(a, "--for") == 0) {
            o->for_text = argv[++i];
        } else if (valued) {
            const char *kv = argv[++i];
            const char *eq = strchr(kv, '=');
            if (!eq || eq == kv) {
                snprintf(what, sizeof what, "--label needs NAME=VALUE, not '%.64s'", kv);
                return usage_error(cmd, what);
            }
            if (eq - kv > ALERTACK_NAME_MAX) {
                snprintf(what, sizeof what, "a label name is at most %d bytes", ALERTACK_NAME_MAX);
                return usage_error(cmd, what);
            }
            char name[ALERTACK_NAME_MAX + 1], err[256];
            snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
            if (alertack_request_add_label(rq, name, eq + 1, err, sizeof err) != 0)
                return usage_error(cmd, err);
        } else if ((a[0] == '-' && a[1] != '\0') || o->pos) {
            snprintf(what, sizeof what, "unexpected argument '%.64s'", a);
            return usage_error(cmd, what);
        } else {
            o->pos = a;
        }
    }
    return 0;
}

/* Settles an unknown outcome on new connections. Returns 0 when settled. */
static int verify(const struct config *cfg, const struct alertack_request *rq,
                  struct alertack_result *res)
{
    int delay_ms = 500;
    for (int i = 0; i < VERIFY_TRIES; i++) {
        char err[512];
        PGconn *conn = db_connect(cfg->dsn, CONNECT_MS, -1, err, sizeof err);
        if (conn) {
            int rc = alertack_verify(conn, rq, TIMEOUT_MS, -1, res);
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
    case CTL_INVALID: return EXIT_USAGE;      /* the server's checks refused the input */
    case CTL_CONFLICT: return EXIT_CONFLICT;
    case CTL_DENIED: return EXIT_DENIED;
    case CTL_UNKNOWN: return EXIT_UNKNOWN;
    case CTL_NOT_FOUND: case CTL_ERROR: case CTL_NOT_APPLIED: return EXIT_ERROR;
    }
    return EXIT_ERROR;
}

static json_t *labels_json(const struct alertack_request *rq)
{
    json_t *l = json_object();
    for (size_t i = 0; l && i < rq->n_labels; i++)
        json_object_set_new(l, rq->labels[i].name, json_string(rq->labels[i].value));
    return l;
}

static void dump(json_t *o)
{
    /* ASCII-only output: nothing in it can act on a terminal */
    json_dumpf(o, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(o);
}

static json_t *base_json(const struct alertack_request *rq, const char *outcome)
{
    char action[16];
    snprintf(action, sizeof action, "alert.%s", alertack_op_name(rq->op));
    json_t *o = json_pack("{s:s, s:s, s:s}", "request_id", rq->request_id, "action", action,
                          "outcome", outcome);
    if (o && rq->op == ALERTACK_OP_UNACK) {
        json_object_set_new(o, "id", json_integer(rq->ack_id));
    } else if (o) {
        json_object_set_new(o, "rule", json_string(rq->rule));
        json_object_set_new(o, "labels", labels_json(rq));
    }
    return o;
}

/* A change refused before it reached the database (read-only, no
 * connection): said on stderr, logged, and in JSON for scripts. */
static int refuse(const struct opts *o, const struct alertack_request *rq,
                  const struct ctl_identity *id, const char *outcome, int code, const char *msg)
{
    cli_say(msg);
    char action[16];
    snprintf(action, sizeof action, "alert.%s", alertack_op_name(rq->op));
    oplog_write(code == EXIT_ERROR ? "error" : "warn", rq->request_id, id->os_user, msg,
                json_pack("{s:s, s:s}", "action", action, "outcome", outcome));
    if (o->json) {
        json_t *j = base_json(rq, outcome);
        if (j) {
            json_object_set_new(j, "message", json_string(msg));
            dump(j);
        }
    }
    return code;
}

static void print_result_json(const struct alertack_request *rq, const struct alertack_result *r,
                              const char *message)
{
    json_t *o = base_json(rq, ctl_outcome_name(r->outcome));
    if (!o)
        return;
    if (rq->op == ALERTACK_OP_UNACK) {
        json_object_set_new(o, "rule", r->rule[0] ? json_string(r->rule) : json_null());
        json_object_set_new(o, "kind", r->kind[0] ? json_string(r->kind) : json_null());
        json_object_set_new(o, "cleared_by", r->who[0] ? json_string(r->who) : json_null());
        json_object_set_new(o, "cleared_reason",
                            r->cleared_reason[0] ? json_string(r->cleared_reason) : json_null());
    } else {
        json_object_set_new(o, "id", r->ack_id ? json_integer(r->ack_id) : json_null());
        json_object_set_new(o, "kind", json_string(alertack_op_name(rq->op)));
        json_object_set_new(o, "comment", json_string(rq->comment));
        json_object_set_new(o, "created_at_ms", r->created_ms ? json_integer(r->created_ms) : json_null());
        json_object_set_new(o, "who", r->who[0] ? json_string(r->who) : json_null());
        json_t *sup = json_array();
        for (size_t i = 0; sup && i < r->n_superseded; i++)
            json_array_append_new(sup, json_integer(r->superseded[i]));
        json_object_set_new(o, "superseded", sup ? sup : json_null());
    }
    json_object_set_new(o, "expires_at_ms", r->expires_ms ? json_integer(r->expires_ms) : json_null());
    json_object_set_new(o, "message", json_string(message));
    dump(o);
}

/* ack, snooze, unack */
static int cmd_change(const struct config *cfg, const char *cmd, enum alertack_op op, int argc,
                      char **argv)
{
    struct alertack_request rq;
    if (alertack_request_init(&rq, op) != 0) {
        cli_say("no randomness for a request id (getrandom failed)");
        return EXIT_ERROR;
    }
    struct opts o;
    int rc = parse(cmd, argc, argv, &o, &rq);
    if (rc)
        return rc;
    char err[512];
    if (op == ALERTACK_OP_UNACK) {
        if (!o.pos)
            return usage_error(cmd, "which ack? (its id, a number from 'marketing alerts acks')");
        char *end;
        long long id = strtoll(o.pos, &end, 10);
        if (end == o.pos || *end || id <= 0) {
            snprintf(err, sizeof err, "'%.64s' is not an ack id (a number from 'marketing alerts acks')",
                     o.pos);
            return usage_error(cmd, err);
        }
        rq.ack_id = id;
    } else {
        if (!o.pos)
            return usage_error(cmd, "which alert? (a rule name such as HighErrorRate)");
        if (strlen(o.pos) > ALERTACK_RULE_MAX) {
            snprintf(err, sizeof err, "the rule name is longer than %d bytes", ALERTACK_RULE_MAX);
            return usage_error(cmd, err);
        }
        snprintf(rq.rule, sizeof rq.rule, "%s", o.pos);
        if (!o.comment)
            return usage_error(cmd, "a comment is required (--comment TEXT): say why");
        if (op == ALERTACK_OP_SNOOZE && !o.for_text)
            return usage_error(cmd, "how long? (--for DURATION, such as 30m, 4h or 2d)");
    }
    if (o.for_text && alertack_parse_duration(o.for_text, &rq.for_s) != 0) {
        snprintf(err, sizeof err, "--for: '%.64s' is not a duration (like 30m, 4h, 1h30m or 2d)",
                 o.for_text);
        return usage_error(cmd, err);
    }
    if (o.comment) {
        if (strlen(o.comment) >= sizeof rq.comment) {
            snprintf(err, sizeof err, "the comment is longer than %d characters", ALERTACK_COMMENT_MAX);
            return usage_error(cmd, err);
        }
        snprintf(rq.comment, sizeof rq.comment, "%s", o.comment);
    }
    if (alertack_request_check(&rq, err, sizeof err) != 0)
        return usage_error(cmd, err);

    struct ctl_identity ident;
    ctl_identity_from_process(&ident);
    char msg[1024];
    if (cfg->read_only) {
        snprintf(msg, sizeof msg, "alerts %s: read-only (read_only is set, by --read-only, "
                                  "MARKETING_READ_ONLY or marketing.conf): nothing was changed", cmd);
        return refuse(&o, &rq, &ident, "denied", EXIT_DENIED, msg);
    }
    PGconn *conn = db_connect(cfg->dsn, CONNECT_MS, -1, err, sizeof err);
    if (!conn) {
        snprintf(msg, sizeof msg, "%s: nothing was sent", err);
        return refuse(&o, &rq, &ident, "error", EXIT_ERROR, msg);
    }
    struct alertack_result res;
    if (alertack_execute(conn, &rq, &ident, TIMEOUT_MS, -1, &res) != 0 && res.outcome == CTL_UNKNOWN) {
        alertack_describe(&rq, &res, msg, sizeof msg);
        alertack_log(&rq, &res, &ident, msg);
        cli_say(msg);
        PQfinish(conn);
        conn = NULL;
        verify(cfg, &rq, &res);
    }
    PQfinish(conn);
    alertack_describe(&rq, &res, msg, sizeof msg);
    alertack_log(&rq, &res, &ident, msg);
    if (o.json) {
        print_result_json(&rq, &res, msg);
    } else if (ctl_succeeded(res.outcome)) {
        san_fputs(msg, stdout, 0);
        fputc('\n', stdout);
    } else {
        cli_say(msg);
    }
    return exit_code(res.outcome);
}

static void local_time(char *buf, size_t n, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm) || strftime(buf, n, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(buf, n, "?");
}

static int print_acks_json(const struct alertack_list *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < l->n; i++) {
        const struct alertack *a = &l->v[i];
        json_t *labels = json_object();
        for (size_t k = 0; labels && k < a->n_labels; k++)
            json_object_set_new(labels, a->labels[k].name, json_string(a->labels[k].value));
        json_t *o = json_pack("{s:I, s:s, s:o, s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "id",
                              (json_int_t)a->id, "rule", a->rule, "labels", labels ? labels : json_null(),
                              "kind", alertack_kind_name(a->kind), "comment", a->comment,
                              "created_at_ms", (json_int_t)a->created_ms, "expires_at_ms",
                              (json_int_t)a->expires_ms, "who", a->who, "os_user", a->os_user,
                              "db_user", a->db_user);
        if (!o) {
            char msg[160];
            snprintf(msg, sizeof msg, "alerts acks: ack %lld has text that is not valid UTF-8",
                     (long long)a->id);
            cli_say(msg);
            json_decref(arr);
            return -1;
        }
        json_array_append_new(arr, o);
    }
    if (!arr)
        return -1;
    dump(arr);
    return 0;
}

static void print_acks_table(const struct alertack_list *l)
{
    if (l->n == 0) {
        printf("No alert is acknowledged or snoozed.\n");
        return;
    }
    printf("%-6s %-6s %-40s %-16s %-5s %-24s %s\n", "ID", "KIND", "ALERT", "EXPIRES", "LEFT", "BY",
           "COMMENT");
    int64_t now = clock_real_ms();
    for (size_t i = 0; i < l->n; i++) {
        const struct alertack *a = &l->v[i];
        char target[4096];
        size_t used = (size_t)snprintf(target, sizeof target, "%s", a->rule);
        for (size_t k = 0; k < a->n_labels && used < sizeof target; k++)
            used += (size_t)snprintf(target + used, sizeof target - used, "%s%s=\"%s\"",
                                     k ? "," : "{", a->labels[k].name, a->labels[k].value);
        if (a->n_labels && used < sizeof target)
            snprintf(target + used, sizeof target - used, "}");
        char alert[256], who[128], when[32], left[16];
        struct san_result ra = san_fit(alert, sizeof alert, target, (size_t)-1, 40, 0);
        struct san_result rw = san_fit(who, sizeof who, a->who, (size_t)-1, 24, 0);
        local_time(when, sizeof when, a->expires_ms);
        fmt_age(left, sizeof left, a->expires_ms - now);
        /* pad by display columns, not bytes; the comment whole, sanitized */
        printf("%-6lld %-6s %s%*s %-16s %-5s %s%*s ", (long long)a->id, alertack_kind_name(a->kind),
               alert, 40 - ra.cols, "", when, left, who, 24 - rw.cols, "");
        san_fputs(a->comment, stdout, 0);
        fputc('\n', stdout);
    }
}

static int cmd_list(const struct config *cfg, int argc, char **argv)
{
    struct alertack_request none;
    memset(&none, 0, sizeof none);
    none.op = ALERTACK_OP_UNACK; /* takes no labels */
    struct opts o;
    int rc = parse("acks", argc, argv, &o, &none);
    if (rc)
        return rc;
    if (o.pos)
        return usage_error("acks", "takes no argument: it lists every ack in force");
    PGconn *conn = cli_connect(cfg);
    if (!conn)
        return EXIT_ERROR;
    char err[512];
    struct alertack_list *l = alertack_list_fetch(conn, TIMEOUT_MS, -1, NULL, err, sizeof err);
    PQfinish(conn);
    if (!l) {
        cli_say(err);
        return EXIT_ERROR;
    }
    rc = EXIT_OK;
    if (o.json)
        rc = print_acks_json(l) == 0 ? EXIT_OK : EXIT_ERROR;
    else
        print_acks_table(l);
    alertack_list_free(&l);
    return rc;
}

int cli_acks(const struct config *cfg, int argc, char **argv)
{
    if (argc < 1)
        return -1;
    if (strcmp(argv[0], "ack") == 0)
        return cmd_change(cfg, "ack", ALERTACK_OP_ACK, argc - 1, argv + 1);
    if (strcmp(argv[0], "snooze") == 0)
        return cmd_change(cfg, "snooze", ALERTACK_OP_SNOOZE, argc - 1, argv + 1);
    if (strcmp(argv[0], "unack") == 0)
        return cmd_change(cfg, "unack", ALERTACK_OP_UNACK, argc - 1, argv + 1);
    if (strcmp(argv[0], "acks") == 0)
        return cmd_list(cfg, argc - 1, argv + 1);
    return -1;
}
