#include "alertack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "clock.h"
#include "db.h"
#include "oplog.h"
#include "sanitize.h"

#define MAX_TRIES 4
#define OLD_SCHEMA "the schema is older than this console (run marketing db migrate)"

const char *alertack_op_name(enum alertack_op op)
{
    return op == ALERTACK_OP_SNOOZE ? "snooze" : op == ALERTACK_OP_UNACK ? "unack" : "ack";
}

const char *alertack_kind_name(enum alertack_kind k)
{
    return k == ALERTACK_SNOOZE ? "snooze" : "ack";
}

int alertack_request_init(struct alertack_request *rq, enum alertack_op op)
{
    memset(rq, 0, sizeof *rq);
    /* the same random UUID as a campaign action's */
    struct ctl_request c;
    if (ctl_request_init(&c, CTL_PAUSE, "", 0) != 0)
        return -1;
    memcpy(rq->request_id, c.request_id, sizeof rq->request_id);
    rq->op = op;
    rq->for_s = op == ALERTACK_OP_ACK ? ALERTACK_DEFAULT_FOR_S : 0;
    return 0;
}

/* A Prometheus label name: [A-Za-z_][A-Za-z0-9_]*. */
static bool label_name_ok(const char *s)
{
    if (!s || !*s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (const char *p = s + 1; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

/* An alert name as Prometheus allows it: a metric name. */
static bool rule_name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > ALERTACK_RULE_MAX)
        return false;
    for (const char *p = s; *p; p++) {
        bool alpha = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_' || *p == ':';
        if (!alpha && !(p > s && *p >= '0' && *p <= '9'))
            return false;
    }
    return true;
}

/* Characters of valid UTF-8, or -1 when it is not. */
static long utf8_chars(const char *s)
{
    size_t len = strlen(s);
    long n = 0;
    for (size_t i = 0; i < len;) {
        long cp;
        int used = san_decode((const unsigned char *)s + i, len - i, &cp);
        if (cp < 0)
            return -1;
        i += (size_t)used;
        n++;
    }
    return n;
}

int alertack_request_add_label(struct alertack_request *rq, const char *name, const char *value,
                               char *err, size_t errsz)
{
    if (!label_name_ok(name) || strlen(name) > ALERTACK_NAME_MAX) {
        snprintf(err, errsz, "'%.64s' is not a label name (letters, digits and _, at most %d)",
                 name ? name : "", ALERTACK_NAME_MAX);
        return -1;
    }
    if (strcmp(name, "alertname") == 0) {
        snprintf(err, errsz, "alertname is the rule, not a label: name the rule instead");
        return -1;
    }
    if (!value || !*value || strlen(value) > ALERTACK_VALUE_MAX || utf8_chars(value) < 0) {
        snprintf(err, errsz, "the value of label %s must be 1 to %d bytes of UTF-8", name,
                 ALERTACK_VALUE_MAX);
        return -1;
    }
    size_t at = 0;
    while (at < rq->n_labels && strcmp(rq->labels[at].name, name) < 0)
        at++;
    if (at < rq->n_labels && strcmp(rq->labels[at].name, name) == 0) {
        snprintf(err, errsz, "label %s is given twice", name);
        return -1;
    }
    if (rq->n_labels >= ALERTACK_MAX_LABELS) {
        snprintf(err, errsz, "at most %d labels", ALERTACK_MAX_LABELS);
        return -1;
    }
    /* kept sorted by name: one canonical form for display and tests */
    memmove(&rq->labels[at + 1], &rq->labels[at], (rq->n_labels - at) * sizeof rq->labels[0]);
    snprintf(rq->labels[at].name, sizeof rq->labels[at].name, "%s", name);
    snprintf(rq->labels[at].value, sizeof rq->labels[at].value, "%s", value);
    rq->n_labels++;
    return 0;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (!strchr(" \t\r\n\f\v", *s))
            return false;
    return true;
}

int alertack_request_check(const struct alertack_request *rq, char *err, size_t errsz)
{
    long chars = utf8_chars(rq->comment);
    if (chars < 0) {
        snprintf(err, errsz, "the comment is not valid UTF-8");
        return -1;
    }
    if (chars > ALERTACK_COMMENT_MAX) {
        snprintf(err, errsz, "the comment is %ld characters long; at most %d", chars,
                 ALERTACK_COMMENT_MAX);
        return -1;
    }
    if (rq->op == ALERTACK_OP_UNACK) {
        if (rq->ack_id <= 0) {
            snprintf(err, errsz, "which ack? (its id, a number from 'marketing alerts acks')");
            return -1;
        }
        return 0;
    }
    if (!rule_name_ok(rq->rule)) {
        snprintf(err, errsz, "'%.64s' is not an alert name (letters, digits, _ and :)", rq->rule);
        return -1;
    }
    if (blank(rq->comment)) {
        snprintf(err, errsz, "a comment is required (--comment TEXT): say why");
        return -1;
    }
    if (rq->for_s <= 0) {
        snprintf(err, errsz, "the expiry must be in the future (--for DURATION, such as 4h)");
        return -1;
    }
    if (rq->for_s > ALERTACK_MAX_FOR_S) {
        snprintf(err, errsz, "the expiry is beyond the bound: at most 30 days (720h)");
        return -1;
    }
    return 0;
}

int alertack_parse_duration(const char *s, int64_t *secs)
{
    if (!s || !*s)
        return -1;
    int64_t total = 0;
    const char *p = s;
    while (*p) {
        if (*p < '0' || *p > '9')
            return -1;
        errno = 0;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (errno || v < 0 || v > 100000000LL)
            return -1;
        int64_t mult;
        switch (*end) {
        case 's': mult = 1; break;
        case 'm': mult = 60; break;
        case 'h': mult = 3600; break;
        case 'd': mult = 86400; break;
        case 'w': mult = 7 * 86400; break;
        default: return -1;
        }
        total += v * mult;
        if (total > 100LL * 365 * 86400)
            return -1;
        p = end + 1;
    }
    *secs = total;
    return 0;
}

/* rule{a="b", c="d"} */
static void target(char *buf, size_t n, const char *rule, const struct alertack_request *rq)
{
    size_t used = (size_t)snprintf(buf, n, "%s", rule);
    for (size_t i = 0; rq && i < rq->n_labels && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s=\"%s\"", i ? ", " : "{",
                                 rq->labels[i].name, rq->labels[i].value);
    if (rq && rq->n_labels && used < n)
        snprintf(buf + used, n - used, "}");
}

static void when(char *buf, size_t n, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !localtime_r(&t, &tm) || strftime(buf, n, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
        snprintf(buf, n, "an unknown time");
}

static char *labels_json(const struct alertack_request *rq)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < rq->n_labels; i++)
        json_object_set_new(o, rq->labels[i].name, json_string(rq->labels[i].value));
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

static const char ack_sql[] =
    "SELECT outcome, id, kind, (extract(epoch FROM created_at) * 1000)::bigint,"
    "       (extract(epoch FROM expires_at) * 1000)::bigint, who, array_to_string(superseded, ',')"
    "  FROM alert_ack($1::uuid, $2, $3, $4::jsonb, $5, $6::interval, $7, $8, $9)";

static const char unack_sql[] =
    "SELECT outcome, id, coalesce(rule, ''), coalesce(kind, ''),"
    "       coalesce((extract(epoch FROM expires_at) * 1000)::bigint, 0), coalesce(cleared_by, ''),"
    "       coalesce(cleared_reason, '')"
    "  FROM alert_unack($1::uuid, $2::bigint, $3, $4, $5, $6)";

static enum ctl_outcome outcome_parse(const char *s)
{
    static const struct { const char *name; enum ctl_outcome o; } map[] = {
        { "applied", CTL_APPLIED }, { "replayed", CTL_REPLAYED }, { "already", CTL_ALREADY },
        { "not_found", CTL_NOT_FOUND },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(s, map[i].name) == 0)
            return map[i].o;
    return CTL_ERROR;
}

static void copy_col(char *dst, size_t n, const PGresult *res, int row, int col)
{
    snprintf(dst, n, "%s", PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

static void parse_superseded(struct alertack_result *out, const char *list)
{
    const char *p = list;
    while (*p && out->n_superseded < sizeof out->superseded / sizeof out->superseded[0]) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p)
            break;
        out->superseded[out->n_superseded++] = v;
        p = *end == ',' ? end + 1 : end;
    }
}

static void read_answer(const struct alertack_request *rq, const PGresult *res,
                        struct alertack_result *out)
{
    bool unack = rq->op == ALERTACK_OP_UNACK;
    if (PQntuples(res) != 1 || PQnfields(res) != 7) {
        out->outcome = CTL_ERROR;
        snprintf(out->error, sizeof out->error, "unexpected answer from %s()",
                 unack ? "alert_unack" : "alert_ack");
        return;
    }
    out->outcome = outcome_parse(PQgetvalue(res, 0, 0));
    out->ack_id = db_i64(res, 0, 1);
    if (unack) {
        copy_col(out->rule, sizeof out->rule, res, 0, 2);
        copy_col(out->kind, sizeof out->kind, res, 0, 3);
        out->expires_ms = db_i64(res, 0, 4);
        copy_col(out->who, sizeof out->who, res, 0, 5);
        copy_col(out->cleared_reason, sizeof out->cleared_reason, res, 0, 6);
    } else {
        copy_col(out->kind, sizeof out->kind, res, 0, 2);
        out->created_ms = db_i64(res, 0, 3);
        out->expires_ms = db_i64(res, 0, 4);
        copy_col(out->who, sizeof out->who, res, 0, 5);
        parse_superseded(out, PQgetvalue(res, 0, 6));
    }
}

static void result_init(const struct alertack_request *rq, struct alertack_result *out)
{
    memset(out, 0, sizeof *out);
    out->ack_id = rq->ack_id;
    snprintf(out->rule, sizeof out->rule, "%s", rq->rule);
    if (rq->op != ALERTACK_OP_UNACK)
        snprintf(out->kind, sizeof out->kind, "%s", alertack_op_name(rq->op));
}

int alertack_execute(PGconn *conn, const struct alertack_request *rq, const struct ctl_identity *id,
                     int timeout_ms, int cancel_fd, struct alertack_result *out)
{
    result_init(rq, out);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        out->outcome = CTL_ERROR;
        snprintf(out->error, sizeof out->error, "not connected to the database: nothing was sent");
        return -1;
    }
    out->backend_pid = PQbackendPID(conn);
    bool unack = rq->op == ALERTACK_OP_UNACK;
    char *labels = unack ? NULL : labels_json(rq);
    if (!unack && !labels) {
        out->outcome = CTL_ERROR;
        snprintf(out->error, sizeof out->error, "out of memory");
        return 0;
    }
    char for_s[32], ack_id[24];
    snprintf(for_s, sizeof for_s, "%lld seconds", (long long)rq->for_s);
    snprintf(ack_id, sizeof ack_id, "%lld", (long long)rq->ack_id);
    const char *comment = rq->comment[0] ? rq->comment : NULL;
    const char *os = id && id->os_user[0] ? id->os_user : NULL;
    const char *ssh = id && id->ssh_client[0] ? id->ssh_client : NULL;
    const char *tty = id && id->tty[0] ? id->tty : NULL;
    const char *p_ack[9] = { rq->request_id, alertack_op_name(rq->op), rq->rule, labels,
                             comment, for_s, os, ssh, tty };
    const char *p_unack[6] = { rq->request_id, ack_id, comment, os, ssh, tty };

    for (int attempt = 1;; attempt++) {
        char err[512];
        PGresult *res = unack
                            ? db_query(conn, unack_sql, 6, p_unack, timeout_ms, cancel_fd, err, sizeof err)
                            : db_query(conn, ack_sql, 9, p_ack, timeout_ms, cancel_fd, err, sizeof err);
        if (!res) {
            /* it may have committed: only the request id can tell */
            out->outcome = CTL_UNKNOWN;
            snprintf(out->error, sizeof out->error, "%s", err);
            free(labels);
            return -1;
        }
        if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            read_answer(rq, res, out);
            PQclear(res);
            free(labels);
            return 0;
        }
        const char *state = db_sqlstate(res);
        if ((strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) && attempt < MAX_TRIES) {
            /* rolled back whole: sending it again is safe */
            PQclear(res);
            struct timespec ts = { 0, 20000000L * attempt };
            nanosleep(&ts, NULL);
            continue;
        }
        if (strcmp(state, "42501") == 0 || strcmp(state, "25006") == 0)
            out->outcome = CTL_DENIED;
        else if (strncmp(state, "22", 2) == 0 || strcmp(state, "23514") == 0)
            out->outcome = CTL_INVALID; /* the input, refused by the server's checks */
        else
            out->outcome = CTL_ERROR;
        if (out->outcome == CTL_INVALID)
            db_oneline(out->error, sizeof out->error, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
        else if (strcmp(state, "42883") == 0) /* undefined_function */
            snprintf(out->error, sizeof out->error, "%s", OLD_SCHEMA);
        else
            db_error(out->error, sizeof out->error, alertack_op_name(rq->op), conn, res);
        PQclear(res);
        free(labels);
        return 0;
    }
}

int alertack_verify(PGconn *conn, const struct alertack_request *rq, int timeout_ms, int cancel_fd,
                    struct alertack_result *out)
{
    char err[512], pid[16];
    snprintf(pid, sizeof pid, "%d", out->backend_pid);
    /* the old session may still be alive and could yet commit: end it */
    const char *p1[1] = { pid };
    PGresult *res = db_query(conn,
                             "SELECT count(*) FILTER (WHERE NOT pg_terminate_backend(pid, 5000))"
                             "  FROM pg_stat_activity WHERE pid = $1::int AND pid <> pg_backend_pid()",
                             1, p1, timeout_ms, cancel_fd, err, sizeof err);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || db_i64(res, 0, 0) != 0) {
        if (res)
            db_error(err, sizeof err, "ending the old session", conn, res);
        snprintf(out->error, sizeof out->error, "the old session (pid %d) may still be running: %s",
                 out->backend_pid, err);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    const char *p2[1] = { rq->request_id };
    res = db_query(conn,
                   "SELECT (l.details ->> 'ack_id')::bigint, coalesce(a.kind, ''), coalesce(a.rule, ''),"
                   "       coalesce((extract(epoch FROM a.created_at) * 1000)::bigint, 0),"
                   "       coalesce((extract(epoch FROM a.expires_at) * 1000)::bigint, 0),"
                   "       CASE WHEN l.action = 'alert.unack' THEN audit_who(l) ELSE alert_ack_who(a) END"
                   "  FROM audit_log l LEFT JOIN alert_acks a ON a.id = (l.details ->> 'ack_id')::bigint"
                   " WHERE l.request_id = $1::uuid AND l.campaign_id IS NULL AND l.action LIKE 'alert.%'",
                   1, p2, timeout_ms, cancel_fd, err, sizeof err);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        if (res)
            db_error(err, sizeof err, "reading the audit log", conn, res);
        snprintf(out->error, sizeof out->error, "%s", err);
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) == 0) {
        out->outcome = CTL_NOT_APPLIED;
    } else {
        out->outcome = CTL_APPLIED;
        out->ack_id = db_i64(res, 0, 0);
        copy_col(out->kind, sizeof out->kind, res, 0, 1);
        copy_col(out->rule, sizeof out->rule, res, 0, 2);
        out->created_ms = db_i64(res, 0, 3);
        out->expires_ms = db_i64(res, 0, 4);
        copy_col(out->who, sizeof out->who, res, 0, 5);
        if (rq->op == ALERTACK_OP_UNACK)
            snprintf(out->cleared_reason, sizeof out->cleared_reason, "unack");
    }
    out->error[0] = '\0';
    out->verified = true;
    PQclear(res);
    return 0;
}

static void describe_applied(const struct alertack_request *rq, const struct alertack_result *r,
                             char *buf, size_t n, const char *how)
{
    char tgt[1024], until[64];
    when(until, sizeof until, r->expires_ms);
    if (rq->op == ALERTACK_OP_UNACK) {
        snprintf(buf, n, "Ack %lld cleared%s: %s %s no longer applies (it would have expired at %s)",
                 (long long)r->ack_id, how, r->kind[0] ? r->kind : "ack",
                 r->rule[0] ? r->rule : "of an alert", until);
        return;
    }
    target(tgt, sizeof tgt, rq->rule, rq);
    size_t used = (size_t)snprintf(buf, n, "Alert %s%s: %s until %s (ack %lld)",
                                   rq->op == ALERTACK_OP_SNOOZE ? "snoozed" : "acknowledged", how, tgt,
                                   until, (long long)r->ack_id);
    for (size_t i = 0; i < r->n_superseded && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", i ? ", " : "; it replaces ack ",
                                 (long long)r->superseded[i]);
}

void alertack_describe(const struct alertack_request *rq, const struct alertack_result *r,
                       char *buf, size_t n)
{
    char tgt[1024], at[64];
    if (rq->op == ALERTACK_OP_UNACK)
        snprintf(tgt, sizeof tgt, "ack %lld", (long long)rq->ack_id);
    else
        target(tgt, sizeof tgt, rq->rule, rq);
    const char *verb = rq->op == ALERTACK_OP_UNACK ? "clear" : alertack_op_name(rq->op);
    switch (r->outcome) {
    case CTL_APPLIED:
        describe_applied(rq, r, buf, n, r->verified ? " (verified after the connection failed)" : "");
        break;
    case CTL_REPLAYED:
        describe_applied(rq, r, buf, n, " (this request was applied before)");
        break;
    case CTL_ALREADY:
        when(at, sizeof at, r->expires_ms);
        if (r->cleared_reason[0])
            snprintf(buf, n, "Ack %lld was already cleared (%s) by %s", (long long)rq->ack_id,
                     strcmp(r->cleared_reason, "superseded") == 0 ? "replaced by a newer ack" : "unack",
                     r->who[0] ? r->who : "someone");
        else
            snprintf(buf, n, "Ack %lld had already expired at %s", (long long)rq->ack_id, at);
        break;
    case CTL_NOT_FOUND:
        snprintf(buf, n, "No alert acknowledgement %lld (see marketing alerts acks)",
                 (long long)rq->ack_id);
        break;
    case CTL_CONFLICT:
    case CTL_INVALID:
        snprintf(buf, n, "Cannot %s %s: %s", verb, tgt, r->error);
        break;
    case CTL_DENIED:
        snprintf(buf, n, "Not permitted to %s %s: %s", verb, tgt, r->error);
        break;
    case CTL_ERROR:
        snprintf(buf, n, "Failed to %s %s: %s", verb, tgt, r->error);
        break;
    case CTL_UNKNOWN:
        snprintf(buf, n, "Outcome unknown: %s of %s was in flight when the connection failed; "
                         "verifying by request id %.8s (%.80s)",
                 verb, tgt, rq->request_id, r->error);
        break;
    case CTL_NOT_APPLIED:
        snprintf(buf, n, "Not applied: the connection failed before %s of %s committed; "
                         "nothing changed (verified by request id %.8s)",
                 verb, tgt, rq->request_id);
        break;
    }
}

void alertack_log(const struct alertack_request *rq, const struct alertack_result *r,
                  const struct ctl_identity *id, const char *message)
{
    const char *level = ctl_succeeded(r->outcome) ? "info"
                        : r->outcome == CTL_ERROR || r->outcome == CTL_UNKNOWN ? "error"
                                                                                 : "warn";
    char action[16];
    snprintf(action, sizeof action, "alert.%s", alertack_op_name(rq->op));
    json_t *ctx = json_pack("{s:s, s:s, s:s?, s:s?}", "action", action, "outcome",
                            ctl_outcome_name(r->outcome), "ssh_client",
                            id && id->ssh_client[0] ? id->ssh_client : NULL, "tty",
                            id && id->tty[0] ? id->tty : NULL);
    if (ctx) {
        if (rq->op != ALERTACK_OP_UNACK) {
            json_object_set_new(ctx, "rule", json_string(rq->rule));
            json_t *l = json_object();
            for (size_t i = 0; l && i < rq->n_labels; i++)
                json_object_set_new(l, rq->labels[i].name, json_string(rq->labels[i].value));
            json_object_set_new(ctx, "labels", l ? l : json_null());
            json_object_set_new(ctx, "for_s", json_integer(rq->for_s));
        }
        if (r->ack_id)
            json_object_set_new(ctx, "ack_id", json_integer(r->ack_id));
        if (r->error[0])
            json_object_set_new(ctx, "error", json_string(r->error));
        if (r->backend_pid)
            json_object_set_new(ctx, "backend_pid", json_integer(r->backend_pid));
    }
    oplog_write(level, rq->request_id, id ? id->os_user : NULL, message, ctx);
}

const char alertack_list_query[] =
    "SELECT id, rule, labels::text, kind, comment,"
    "       (extract(epoch FROM created_at) * 1000)::bigint,"
    "       (extract(epoch FROM expires_at) * 1000)::bigint, who, coalesce(os_user, ''), db_user,"
    "       greatest(0, (extract(epoch FROM expires_at - now()) * 1000)::bigint)"
    "  FROM alert_acks_in_force"
    " ORDER BY created_at DESC, id DESC";

#define NCOLS 11

static void ack_free(struct alertack *a)
{
    for (size_t k = 0; k < a->n_labels; k++) {
        free((char *)a->labels[k].name);
        free((char *)a->labels[k].value);
    }
    free(a->labels);
    free(a->rule);
    free(a->comment);
    free(a->who);
    free(a->os_user);
    free(a->db_user);
}

void alertack_list_free(struct alertack_list **lp)
{
    struct alertack_list *l = *lp;
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        ack_free(&l->v[i]);
    free(l->v);
    free(l);
    *lp = NULL;
}

static int label_cmp(const void *a, const void *b)
{
    return strcmp(((const struct alertack_label *)a)->name, ((const struct alertack_label *)b)->name);
}

/* The labels object, sorted by name. Returns 0, or -1 (bad JSON or memory). */
static int parse_labels(struct alertack *a, const char *text)
{
    json_t *o = json_loads(text, 0, NULL);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    size_t n = json_object_size(o);
    a->labels = calloc(n + 1, sizeof *a->labels);
    if (!a->labels) {
        json_decref(o);
        return -1;
    }
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach(o, k, v) {
        char *name = strdup(k);
        char *value = strdup(json_is_string(v) ? json_string_value(v) : "");
        a->labels[a->n_labels].name = name;
        a->labels[a->n_labels].value = value;
        a->n_labels++;
        if (!name || !value)
            rc = -1;
    }
    json_decref(o);
    if (rc == 0)
        qsort(a->labels, a->n_labels, sizeof *a->labels, label_cmp);
    return rc;
}

struct alertack_list *alertack_list_from_result(const PGresult *res, char *err, size_t errsz)
{
    if (PQnfields(res) != NCOLS) {
        snprintf(err, errsz, "alert acks: unexpected columns");
        return NULL;
    }
    int n = PQntuples(res);
    struct alertack_list *l = calloc(1, sizeof *l);
    if (l)
        l->v = calloc((size_t)n + 1, sizeof *l->v);
    if (!l || !l->v) {
        free(l);
        snprintf(err, errsz, "alert acks: out of memory");
        return NULL;
    }
    l->fetched_ms = clock_real_ms();
    l->next_expiry_in_ms = -1;
    for (int i = 0; i < n; i++) {
        struct alertack *a = &l->v[l->n++];
        a->id = db_i64(res, i, 0);
        a->kind = strcmp(PQgetvalue(res, i, 3), "snooze") == 0 ? ALERTACK_SNOOZE : ALERTACK_ACK;
        a->created_ms = db_i64(res, i, 5);
        a->expires_ms = db_i64(res, i, 6);
        int64_t left = db_i64(res, i, 10);
        if (l->next_expiry_in_ms < 0 || left < l->next_expiry_in_ms)
            l->next_expiry_in_ms = left;
        a->rule = db_text(res, i, 1);
        a->comment = db_text(res, i, 4);
        a->who = db_text(res, i, 7);
        a->os_user = db_text(res, i, 8);
        a->db_user = db_text(res, i, 9);
        int bad = parse_labels(a, PQgetvalue(res, i, 2));
        if (bad || !a->rule || !a->comment || !a->who || !a->os_user || !a->db_user) {
            alertack_list_free(&l);
            snprintf(err, errsz, "alert acks: %s", bad ? "labels are not a JSON object" : "out of memory");
            return NULL;
        }
    }
    return l;
}

struct alertack_list *alertack_list_fetch(PGconn *conn, int timeout_ms, int cancel_fd, int *lost,
                                          char *err, size_t errsz)
{
    if (lost)
        *lost = 0;
    PGresult *res = db_query(conn, alertack_list_query, 0, NULL, timeout_ms, cancel_fd, err, errsz);
    if (!res) {
        if (lost)
            *lost = 1;
        return NULL;
    }
    struct alertack_list *l = NULL;
    if (strcmp(db_sqlstate(res), "42P01") == 0) /* undefined_table */
        snprintf(err, errsz, "reading alert acks: %s", OLD_SCHEMA);
    else if (PQresultStatus(res) != PGRES_TUPLES_OK)
        db_error(err, errsz, "reading alert acks", conn, res);
    else
        l = alertack_list_from_result(res, err, errsz);
    PQclear(res);
    return l;
}

static const char *label_of(const struct alertack_label *labels, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (labels[i].name && strcmp(labels[i].name, name) == 0)
            return labels[i].value;
    return NULL;
}

static bool covers(const struct alertack *a, const char *rule, const struct alertack_label *labels,
                   size_t n, int64_t active_since_ms, int64_t now_ms)
{
    if (!a->rule || strcmp(a->rule, rule) != 0)
        return false;
    if (now_ms > 0 && a->expires_ms <= now_ms)
        return false;
    if (a->kind == ALERTACK_ACK && active_since_ms > 0 && active_since_ms > a->created_ms)
        return false; /* fired again after a resolve: a new occurrence */
    for (size_t k = 0; k < a->n_labels; k++) {
        const char *v = label_of(labels, n, a->labels[k].name);
        if (!v || strcmp(v, a->labels[k].value) != 0)
            return false;
    }
    return true;
}

const struct alertack *alertack_match(const struct alertack_list *l, const char *rule,
                                      const struct alertack_label *labels, size_t n_labels,
                                      int64_t active_since_ms, int64_t now_ms)
{
    if (!l || !rule)
        return NULL;
    const struct alertack *best = NULL;
    for (size_t i = 0; i < l->n; i++) {
        const struct alertack *a = &l->v[i];
        if (!covers(a, rule, labels, n_labels, active_since_ms, now_ms))
            continue;
        if (!best || a->n_labels > best->n_labels ||
            (a->n_labels == best->n_labels &&
             (a->created_ms > best->created_ms ||
              (a->created_ms == best->created_ms && a->id > best->id))))
            best = a;
    }
    return best;
}
