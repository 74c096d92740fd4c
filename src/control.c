#include "control.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "db.h"
#include "format.h"
#include "oplog.h"

#define MAX_TRIES 4

/* The mirror of campaign_actions (sql/002_control.sql). */
static const struct {
    const char *name, *past;
    const char *from[5];
} actions[CTL_ACTION_COUNT] = {
    [CTL_LAUNCH] = { "launch", "launched", { "draft", "scheduled" } },
    [CTL_PAUSE] = { "pause", "paused", { "active" } },
    [CTL_RESUME] = { "resume", "resumed", { "paused" } },
    [CTL_CANCEL] = { "cancel", "cancelled", { "draft", "scheduled", "active", "paused" } },
    [CTL_ROLLBACK] = { "rollback", "rolled back",
                       { "draft", "scheduled", "active", "paused", "completed" } },
    [CTL_RETRY_FAILED] = { "retry_failed", "requeued", { "active", "paused" } },
    [CTL_STOP_ALL] = { "stop_all", "stopped", { "active" } },
};

const char *ctl_action_name(enum ctl_action a) { return actions[a].name; }
const char *ctl_action_past(enum ctl_action a) { return actions[a].past; }

int ctl_action_parse(const char *name)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%s", name);
    for (char *p = buf; *p; p++)
        if (*p == '-')
            *p = '_';
    if (strcmp(buf, "roll_back") == 0)
        return CTL_ROLLBACK;
    for (int a = 0; a < CTL_ACTION_COUNT; a++)
        if (strcmp(buf, actions[a].name) == 0)
            return a;
    return -1;
}

bool ctl_allowed(enum ctl_action a, const char *status)
{
    for (size_t i = 0; i < 5 && actions[a].from[i]; i++)
        if (status && strcmp(status, actions[a].from[i]) == 0)
            return true;
    return false;
}

const char *ctl_allowed_from(enum ctl_action a)
{
    static char text[CTL_ACTION_COUNT][80];
    if (!text[a][0]) {
        size_t used = 0;
        for (size_t i = 0; i < 5 && actions[a].from[i]; i++)
            used += (size_t)snprintf(text[a] + used, sizeof text[a] - used, "%s%s", i ? ", " : "",
                                     actions[a].from[i]);
    }
    return text[a];
}

bool ctl_succeeded(enum ctl_outcome o)
{
    return o == CTL_APPLIED || o == CTL_REPLAYED || o == CTL_ALREADY;
}

const char *ctl_outcome_name(enum ctl_outcome o)
{
    static const char *const names[] = {
        [CTL_APPLIED] = "applied", [CTL_REPLAYED] = "replayed", [CTL_ALREADY] = "already",
        [CTL_CONFLICT] = "conflict", [CTL_INVALID] = "invalid", [CTL_NOT_FOUND] = "not_found",
        [CTL_DENIED] = "denied", [CTL_ERROR] = "error", [CTL_UNKNOWN] = "unknown",
        [CTL_NOT_APPLIED] = "not_applied",
    };
    return names[o];
}

void ctl_identity_from_process(struct ctl_identity *id)
{
    memset(id, 0, sizeof *id);
    struct passwd pw, *res = NULL;
    char buf[1024];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res)
        snprintf(id->os_user, sizeof id->os_user, "%s", pw.pw_name);
    else if (getenv("USER"))
        snprintf(id->os_user, sizeof id->os_user, "%s", getenv("USER"));
    else
        snprintf(id->os_user, sizeof id->os_user, "uid %u", (unsigned)geteuid());
    const char *ssh = getenv("SSH_CLIENT");
    if (ssh)
        snprintf(id->ssh_client, sizeof id->ssh_client, "%s", ssh);
    char tty[64];
    if (ttyname_r(STDIN_FILENO, tty, sizeof tty) == 0)
        snprintf(id->tty, sizeof id->tty, "%s", tty);
}

int ctl_request_init(struct ctl_request *rq, enum ctl_action a, const char *campaign_id,
                     int expected_version)
{
    memset(rq, 0, sizeof *rq);
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(rq->request_id, sizeof rq->request_id,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    rq->action = a;
    snprintf(rq->campaign_id, sizeof rq->campaign_id, "%s", campaign_id ? campaign_id : "");
    rq->expected_version = expected_version;
    return 0;
}

static enum ctl_outcome outcome_parse(const char *s)
{
    static const struct { const char *name; enum ctl_outcome o; } map[] = {
        { "applied", CTL_APPLIED }, { "replayed", CTL_REPLAYED }, { "already", CTL_ALREADY },
        { "conflict", CTL_CONFLICT }, { "invalid", CTL_INVALID }, { "not_found", CTL_NOT_FOUND },
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

/* The server's detail object: what the action found or did. */
static void parse_detail(struct ctl_result *out, const char *text)
{
    json_t *o = json_loads(text, 0, NULL);
    if (!o)
        return;
    json_t *v;
    if ((v = json_object_get(o, "audience")) && json_is_integer(v))
        out->audience = json_integer_value(v);
    if ((v = json_object_get(o, "restored_from")) && json_is_integer(v))
        out->restored_from = (int)json_integer_value(v);
    if ((v = json_object_get(o, "recipients_of_other_content")) && json_is_integer(v))
        out->superseded = json_integer_value(v);
    if ((v = json_object_get(o, "requeued")) && json_is_integer(v))
        out->requeued = json_integer_value(v);
    if ((v = json_object_get(o, "reason")) && json_is_string(v))
        snprintf(out->reason, sizeof out->reason, "%s", json_string_value(v));
    json_decref(o);
}

static const char act_sql[] =
    "SELECT outcome, campaign_id, status, version, revision, changed_by,"
    "       to_char(changed_at, 'YYYY-MM-DD HH24:MI:SS TZ'), detail::text"
    "  FROM campaign_act($1::uuid, $2, $3, $4::int, $5::int, $6, $7, $8, $9)";

static const char stop_sql[] =
    "SELECT outcome, campaign_id, status, version"
    "  FROM campaign_stop_all($1::uuid, $2, $3, $4, $5)";

static void read_act(const PGresult *res, struct ctl_result *out)
{
    if (PQntuples(res) != 1 || PQnfields(res) != 8) {
        out->outcome = CTL_ERROR;
        snprintf(out->error, sizeof out->error, "unexpected answer from campaign_act()");
        return;
    }
    out->outcome = outcome_parse(PQgetvalue(res, 0, 0));
    copy_col(out->campaign_id, sizeof out->campaign_id, res, 0, 1);
    copy_col(out->status, sizeof out->status, res, 0, 2);
    out->version = (int)db_i64(res, 0, 3);
    out->revision = (int)db_i64(res, 0, 4);
    copy_col(out->changed_by, sizeof out->changed_by, res, 0, 5);
    copy_col(out->changed_at, sizeof out->changed_at, res, 0, 6);
    if (!PQgetisnull(res, 0, 7))
        parse_detail(out, PQgetvalue(res, 0, 7));
}

static void read_stop(const PGresult *res, struct ctl_result *out)
{
    int n = PQntuples(res);
    out->outcome = CTL_APPLIED;
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(PQgetvalue(res, i, 0), "replayed") == 0)
            out->outcome = CTL_REPLAYED;
        if (PQgetisnull(res, i, 1))
            continue;
        out->n_stopped++;
        const char *id = PQgetvalue(res, i, 1);
        if (used + strlen(id) + 6 < sizeof out->stopped)
            used += (size_t)snprintf(out->stopped + used, sizeof out->stopped - used, "%s%s",
                                     used ? ", " : "", id);
        else if (used + 4 < sizeof out->stopped && !strstr(out->stopped, "..."))
            used += (size_t)snprintf(out->stopped + used, sizeof out->stopped - used, "...");
    }
}

bool ctl_sqlstate_retryable(const char *state)
{
    return strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0;
}

bool ctl_sqlstate_denied(const char *state)
{
    /* insufficient_privilege; read_only_sql_transaction (a standby, or
     * default_transaction_read_only) */
    return strcmp(state, "42501") == 0 || strcmp(state, "25006") == 0;
}

int ctl_execute(PGconn *conn, const struct ctl_request *rq, const struct ctl_identity *id,
                int timeout_ms, int cancel_fd, struct ctl_result *out)
{
    memset(out, 0, sizeof *out);
    out->audience = -1;
    snprintf(out->campaign_id, sizeof out->campaign_id, "%s", rq->campaign_id);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        out->outcome = CTL_ERROR;
        snprintf(out->error, sizeof out->error, "not connected to the database: nothing was sent");
        return -1;
    }
    out->backend_pid = PQbackendPID(conn);
    char ver[16], rev[16];
    snprintf(ver, sizeof ver, "%d", rq->expected_version);
    snprintf(rev, sizeof rev, "%d", rq->to_revision);
    const char *note = rq->note[0] ? rq->note : NULL;
    const char *os = id->os_user[0] ? id->os_user : NULL;
    const char *ssh = id->ssh_client[0] ? id->ssh_client : NULL;
    const char *tty = id->tty[0] ? id->tty : NULL;
    bool stop = rq->action == CTL_STOP_ALL;
    const char *p_act[9] = { rq->request_id, ctl_action_name(rq->action), rq->campaign_id,
                             rq->expected_version > 0 ? ver : NULL,
                             rq->to_revision > 0 ? rev : NULL, os, ssh, tty, note };
    const char *p_stop[5] = { rq->request_id, os, ssh, tty, note };

    for (int attempt = 1;; attempt++) {
        char err[512];
        PGresult *res = stop ? db_query(conn, stop_sql, 5, p_stop, timeout_ms, cancel_fd, err, sizeof err)
                             : db_query(conn, act_sql, 9, p_act, timeout_ms, cancel_fd, err, sizeof err);
        if (!res) {
            /* it may have committed: only the audit log can tell */
            out->outcome = CTL_UNKNOWN;
            snprintf(out->error, sizeof out->error, "%s", err);
            return -1;
        }
        if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            if (stop)
                read_stop(res, out);
            else
                read_act(res, out);
            PQclear(res);
            return 0;
        }
        const char *state = db_sqlstate(res);
        if (ctl_sqlstate_retryable(state) && attempt < MAX_TRIES) {
            /* rolled back whole: sending it again is safe */
            PQclear(res);
            struct timespec ts = { 0, 20000000L * attempt };
            nanosleep(&ts, NULL);
            continue;
        }
        out->outcome = ctl_sqlstate_denied(state) ? CTL_DENIED : CTL_ERROR;
        db_error(out->error, sizeof out->error, ctl_action_name(rq->action), conn, res);
        PQclear(res);
        return 0;
    }
}

int ctl_verify(PGconn *conn, const struct ctl_request *rq, int timeout_ms, int cancel_fd,
               struct ctl_result *out)
{
    char err[512], pid[16];
    snprintf(pid, sizeof pid, "%d", out->backend_pid);
    /* The old session may still be alive on the server (the network
     * failed, not the server) and could yet commit: end it first, waiting
     * up to 5 s for it to go. */
    const char *p1[1] = { pid };
    PGresult *res = db_query(conn,
                             "SELECT count(*) FILTER (WHERE NOT pg_terminate_backend(pid, 5000))"
                             "  FROM pg_stat_activity WHERE pid = $1::int AND pid <> pg_backend_pid()",
                             1, p1, timeout_ms, cancel_fd, err, sizeof err);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || db_i64(res, 0, 0) != 0) {
        if (res)
            db_error(err, sizeof err, "ending the old session", conn, res);
        snprintf(out->error, sizeof out->error,
                 "the old session (pid %d) may still be running: %s", out->backend_pid, err);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    const char *p2[1] = { rq->request_id };
    res = db_query(conn,
                   "SELECT campaign_id, to_status, to_version, revision, audit_who(a),"
                   "       to_char(created_at, 'YYYY-MM-DD HH24:MI:SS TZ'), details::text"
                   "  FROM audit_log a WHERE request_id = $1::uuid ORDER BY campaign_id",
                   1, p2, timeout_ms, cancel_fd, err, sizeof err);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        if (res)
            db_error(err, sizeof err, "reading the audit log", conn, res);
        snprintf(out->error, sizeof out->error, "%s", err);
        PQclear(res);
        return -1;
    }
    int n = PQntuples(res);
    if (n == 0) {
        out->outcome = CTL_NOT_APPLIED;
    } else {
        out->outcome = CTL_APPLIED;
        if (!out->campaign_id[0]) /* a request that made the campaign (create, clone) */
            copy_col(out->campaign_id, sizeof out->campaign_id, res, 0, 0);
        copy_col(out->status, sizeof out->status, res, 0, 1);
        out->version = (int)db_i64(res, 0, 2);
        out->revision = (int)db_i64(res, 0, 3);
        copy_col(out->changed_by, sizeof out->changed_by, res, 0, 4);
        copy_col(out->changed_at, sizeof out->changed_at, res, 0, 5);
        if (!PQgetisnull(res, 0, 6))
            parse_detail(out, PQgetvalue(res, 0, 6));
        if (rq->action == CTL_STOP_ALL) {
            out->n_stopped = 0;
            out->stopped[0] = '\0';
            for (int i = 0; i < n; i++)
                if (!PQgetisnull(res, i, 0))
                    out->n_stopped++;
        }
    }
    out->error[0] = '\0';
    out->verified = true;
    PQclear(res);
    return 0;
}

static void describe_applied(const struct ctl_request *rq, const struct ctl_result *r, char *buf,
                             size_t n, const char *how)
{
    char num[24];
    switch (rq->action) {
    case CTL_LAUNCH:
        if (strcmp(r->status, "scheduled") == 0) {
            snprintf(buf, n, "Campaign scheduled%s: %s waits for its send time (version %d)", how,
                     r->campaign_id, r->version);
        } else {
            snprintf(num, sizeof num, "%lld", r->audience);
            snprintf(buf, n, "Campaign launched%s: %s, audience %s (version %d)", how,
                     r->campaign_id, r->audience < 0 ? "unknown" : num, r->version);
        }
        break;
    case CTL_ROLLBACK:
        snprintf(buf, n,
                 "Campaign rolled back%s: %s now has revision %d, a copy of revision %d%s (version %d). "
                 "Sent mail cannot be recalled: %lld recipients got other content",
                 how, r->campaign_id, r->revision, r->restored_from,
                 strcmp(r->status, "paused") == 0 ? "; paused" : "", r->version, r->superseded);
        break;
    case CTL_RETRY_FAILED:
        snprintf(buf, n, "Failed deliveries requeued%s: %lld of %s will be sent again (version %d)",
                 how, r->requeued, r->campaign_id, r->version);
        break;
    case CTL_STOP_ALL:
        if (r->n_stopped == 0)
            snprintf(buf, n, "Stop all%s: no campaign was active", how);
        else
            snprintf(buf, n, "All sending stopped%s: %zu campaigns paused (%s)", how, r->n_stopped,
                     r->stopped[0] ? r->stopped : "see the audit log");
        break;
    default:
        snprintf(buf, n, "Campaign %s%s: %s is %s (version %d)", ctl_action_past(rq->action), how,
                 r->campaign_id, r->status, r->version);
        break;
    }
}

void ctl_describe(const struct ctl_request *rq, const struct ctl_result *r, char *buf, size_t n)
{
    const char *id = r->campaign_id[0] ? r->campaign_id : rq->campaign_id;
    const char *verb = ctl_action_name(rq->action);
    if (rq->action == CTL_RETRY_FAILED)
        verb = "retry the failed deliveries of";
    else if (rq->action == CTL_ROLLBACK)
        verb = "roll back";
    else if (rq->action == CTL_STOP_ALL)
        verb = "stop all sending";
    switch (r->outcome) {
    case CTL_APPLIED:
        describe_applied(rq, r, buf, n, r->verified ? " (verified after the connection failed)" : "");
        break;
    case CTL_REPLAYED:
        describe_applied(rq, r, buf, n, " (this request was applied before)");
        break;
    case CTL_ALREADY:
        snprintf(buf, n, "%s is already %s: by %s%s%s (version %d)", id, r->status,
                 r->changed_by[0] ? r->changed_by : "someone (no audit row)",
                 r->changed_at[0] ? " at " : "", r->changed_at, r->version);
        break;
    case CTL_CONFLICT:
        snprintf(buf, n, "Conflict: %s was changed by %s at %s; it is now %s (version %d, you saw %d). "
                         "Nothing was done",
                 id, r->changed_by[0] ? r->changed_by : "someone (no audit row)",
                 r->changed_at[0] ? r->changed_at : "an unknown time", r->status, r->version,
                 rq->expected_version);
        break;
    case CTL_INVALID:
        if (r->reason[0])
            snprintf(buf, n, "Cannot %s %s: %s", verb, id, r->reason);
        else
            snprintf(buf, n, "Cannot %s %s: it is %s (only %s can)", verb, id, r->status,
                     ctl_allowed_from(rq->action));
        break;
    case CTL_NOT_FOUND:
        snprintf(buf, n, "No campaign %s", id);
        break;
    case CTL_DENIED:
        snprintf(buf, n, "Not permitted to %s %s: %s", verb, rq->action == CTL_STOP_ALL ? "" : id,
                 r->error);
        break;
    case CTL_ERROR:
        snprintf(buf, n, "Failed to %s %s: %s", verb, rq->action == CTL_STOP_ALL ? "" : id, r->error);
        break;
    case CTL_UNKNOWN:
        /* what matters first: a long server message must not push it off the line */
        snprintf(buf, n, "Outcome unknown: %s of %s was in flight when the connection failed; "
                         "verifying by request id %.8s (%.80s)",
                 ctl_action_name(rq->action), rq->action == CTL_STOP_ALL ? "all" : id,
                 rq->request_id, r->error);
        break;
    case CTL_NOT_APPLIED:
        snprintf(buf, n, "Not applied: the connection failed before %s of %s committed; "
                         "nothing changed (verified by request id %.8s)",
                 ctl_action_name(rq->action), rq->action == CTL_STOP_ALL ? "all" : id,
                 rq->request_id);
        break;
    }
}

void ctl_log(const struct ctl_request *rq, const struct ctl_result *r,
             const struct ctl_identity *id, const char *message)
{
    const char *level = ctl_succeeded(r->outcome) ? "info"
                        : r->outcome == CTL_ERROR || r->outcome == CTL_UNKNOWN ? "error"
                                                                                 : "warn";
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?}", "action", ctl_action_name(rq->action),
                            "campaign_id", rq->campaign_id, "outcome", ctl_outcome_name(r->outcome),
                            "status", r->status[0] ? r->status : NULL,
                            "ssh_client", id->ssh_client[0] ? id->ssh_client : NULL,
                            "tty", id->tty[0] ? id->tty : NULL);
    if (ctx) {
        if (rq->expected_version)
            json_object_set_new(ctx, "expected_version", json_integer(rq->expected_version));
        if (r->version)
            json_object_set_new(ctx, "version", json_integer(r->version));
        if (r->revision)
            json_object_set_new(ctx, "revision", json_integer(r->revision));
        if (rq->action == CTL_LAUNCH && r->audience >= 0)
            json_object_set_new(ctx, "segment_size", json_integer(r->audience));
        if (r->error[0])
            json_object_set_new(ctx, "error", json_string(r->error));
        if (r->backend_pid)
            json_object_set_new(ctx, "backend_pid", json_integer(r->backend_pid));
    }
    oplog_write(level, rq->request_id, id->os_user, message, ctx);
}
