/* The writes of campaign authoring: campaign_save, campaign_clone,
 * campaign_promote_winner and campaign_test_send (sql/004_authoring.sql),
 * each one statement and so one short transaction, retried whole after a
 * serialization failure or deadlock, settled by request id after a lost
 * connection; and the sentence that says what happened. */
#include "authoring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"

#define MAX_TRIES 4

const char *authoring_op_name(enum authoring_op op)
{
    static const char *const names[] = {
        [AU_CREATE] = "create", [AU_EDIT] = "edit", [AU_CLONE] = "clone", [AU_PROMOTE] = "promote",
        [AU_TEST_SEND] = "test_send",
    };
    return names[op];
}

int authoring_request_init(struct authoring_request *rq, enum authoring_op op, const char *campaign_id,
                           int expected_version)
{
    struct ctl_request c;
    memset(rq, 0, sizeof *rq);
    if (ctl_request_init(&c, CTL_PAUSE, campaign_id, expected_version) != 0)
        return -1;
    memcpy(rq->request_id, c.request_id, sizeof rq->request_id);
    rq->op = op;
    snprintf(rq->campaign_id, sizeof rq->campaign_id, "%s", campaign_id ? campaign_id : "");
    rq->expected_version = expected_version;
    return 0;
}

static const char save_sql[] =
    "SELECT outcome, campaign_id, status, version, revision, changed_by,"
    "       to_char(changed_at, 'YYYY-MM-DD HH24:MI:SS TZ'), detail::text"
    "  FROM campaign_save($1::uuid, $2, $3::int, $4::jsonb, $5, $6, $7, $8)";

static const char clone_sql[] =
    "SELECT outcome, campaign_id, status, version, revision, changed_by,"
    "       to_char(changed_at, 'YYYY-MM-DD HH24:MI:SS TZ'), detail::text"
    "  FROM campaign_clone($1::uuid, $2, $3, $4, $5, $6, $7)";

static const char promote_sql[] =
    "SELECT outcome, campaign_id, status, version, revision, changed_by,"
    "       to_char(changed_at, 'YYYY-MM-DD HH24:MI:SS TZ'), detail::text"
    "  FROM campaign_promote_winner($1::uuid, $2, $3::int, $4, $5, $6, $7, $8)";

static const char test_send_sql[] =
    "SELECT outcome, campaign_id, NULL::text, NULL::int, revision, NULL::text, NULL::text,"
    "       json_build_object('test_delivery_id', test_delivery_id, 'variant', variant,"
    "                         'reason', reason)::text"
    "  FROM campaign_test_send($1::uuid, $2, $3, $4, $5, $6, $7, $8)";

static enum ctl_outcome outcome_parse(const char *s)
{
    static const struct { const char *name; enum ctl_outcome o; } map[] = {
        { "applied", CTL_APPLIED }, { "replayed", CTL_REPLAYED }, { "conflict", CTL_CONFLICT },
        { "invalid", CTL_INVALID }, { "not_found", CTL_NOT_FOUND },
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

static void parse_detail(struct authoring_result *out, const char *text)
{
    json_t *o = json_loads(text, 0, NULL);
    if (!o)
        return;
    json_t *v;
    if ((v = json_object_get(o, "reason")) && json_is_string(v))
        snprintf(out->r.reason, sizeof out->r.reason, "%s", json_string_value(v));
    if ((v = json_object_get(o, "previous_revision")) && json_is_integer(v))
        out->previous_revision = (int)json_integer_value(v);
    if ((v = json_object_get(o, "cloned_from")) && json_is_string(v))
        snprintf(out->cloned_from, sizeof out->cloned_from, "%s", json_string_value(v));
    if ((v = json_object_get(o, "test_delivery_id")) && json_is_integer(v))
        out->test_delivery_id = json_integer_value(v);
    if ((v = json_object_get(o, "changed")) && json_is_array(v)) {
        size_t i, used = 0;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (json_is_string(x) && used < sizeof out->changed)
                used += (size_t)snprintf(out->changed + used, sizeof out->changed - used, "%s%s",
                                         used ? ", " : "", json_string_value(x));
        }
    }
    if ((v = json_object_get(o, "problems")) && json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (!json_is_string(x))
                continue;
            const char *t = json_string_value(x);
            const char *colon = strstr(t, ": ");
            char field[48];
            snprintf(field, sizeof field, "%.*s", colon ? (int)(colon - t) : 0, t);
            authoring_problem_add(&out->problems, field, "%s", colon ? colon + 2 : t);
        }
    }
    json_decref(o);
}

static void read_answer(const PGresult *res, struct authoring_result *out)
{
    if (PQntuples(res) != 1 || PQnfields(res) != 8) {
        out->r.outcome = CTL_ERROR;
        snprintf(out->r.error, sizeof out->r.error, "unexpected answer from the server");
        return;
    }
    out->r.outcome = outcome_parse(PQgetvalue(res, 0, 0));
    if (!PQgetisnull(res, 0, 1))
        copy_col(out->r.campaign_id, sizeof out->r.campaign_id, res, 0, 1);
    copy_col(out->r.status, sizeof out->r.status, res, 0, 2);
    out->r.version = (int)db_i64(res, 0, 3);
    out->r.revision = (int)db_i64(res, 0, 4);
    copy_col(out->r.changed_by, sizeof out->r.changed_by, res, 0, 5);
    copy_col(out->r.changed_at, sizeof out->r.changed_at, res, 0, 6);
    if (!PQgetisnull(res, 0, 7))
        parse_detail(out, PQgetvalue(res, 0, 7));
}

int authoring_execute(PGconn *conn, const struct authoring_request *rq, const struct ctl_identity *id,
                      int timeout_ms, int cancel_fd, struct authoring_result *out)
{
    memset(out, 0, sizeof *out);
    out->r.audience = -1;
    snprintf(out->r.campaign_id, sizeof out->r.campaign_id, "%s", rq->campaign_id);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        out->r.outcome = CTL_ERROR;
        snprintf(out->r.error, sizeof out->r.error, "not connected to the database: nothing was sent");
        return -1;
    }
    char *fields = NULL;
    if (rq->op == AU_CREATE || rq->op == AU_EDIT) {
        json_t *o = rq->draft ? authoring_draft_to_json(rq->draft) : NULL;
        fields = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!fields) {
            out->r.outcome = CTL_ERROR;
            snprintf(out->r.error, sizeof out->r.error, "no draft to save (or out of memory)");
            return 0;
        }
    }
    out->r.backend_pid = PQbackendPID(conn);
    char ver[16];
    snprintf(ver, sizeof ver, "%d", rq->expected_version);
    const char *vp = rq->expected_version > 0 ? ver : NULL;
    const char *cid = rq->campaign_id[0] ? rq->campaign_id : NULL;
    const char *note = rq->note[0] ? rq->note : (rq->draft && rq->draft->note ? rq->draft->note : NULL);
    const char *os = id->os_user[0] ? id->os_user : NULL;
    const char *ssh = id->ssh_client[0] ? id->ssh_client : NULL;
    const char *tty = id->tty[0] ? id->tty : NULL;
    const char *variant = rq->variant[0] ? rq->variant : NULL;
    const char *sql;
    const char *params[8];
    int np;
    switch (rq->op) {
    case AU_CLONE:
        sql = clone_sql;
        np = 7;
        params[0] = rq->request_id; params[1] = cid; params[2] = rq->name[0] ? rq->name : NULL;
        params[3] = os; params[4] = ssh; params[5] = tty; params[6] = note;
        break;
    case AU_PROMOTE:
        sql = promote_sql;
        np = 8;
        params[0] = rq->request_id; params[1] = cid; params[2] = vp; params[3] = variant;
        params[4] = os; params[5] = ssh; params[6] = tty; params[7] = note;
        break;
    case AU_TEST_SEND:
        sql = test_send_sql;
        np = 8;
        params[0] = rq->request_id; params[1] = cid; params[2] = rq->address; params[3] = variant;
        params[4] = os; params[5] = ssh; params[6] = tty; params[7] = note;
        break;
    default:
        sql = save_sql;
        np = 8;
        params[0] = rq->request_id; params[1] = rq->op == AU_CREATE ? NULL : cid; params[2] = vp;
        params[3] = fields; params[4] = os; params[5] = ssh; params[6] = tty; params[7] = note;
        break;
    }
    for (int attempt = 1;; attempt++) {
        char err[512];
        PGresult *res = db_query(conn, sql, np, params, timeout_ms, cancel_fd, err, sizeof err);
        if (!res) {
            out->r.outcome = CTL_UNKNOWN;
            snprintf(out->r.error, sizeof out->r.error, "%s", err);
            free(fields);
            return -1;
        }
        if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            read_answer(res, out);
            PQclear(res);
            free(fields);
            return 0;
        }
        const char *state = db_sqlstate(res);
        if (ctl_sqlstate_retryable(state) && attempt < MAX_TRIES) {
            PQclear(res);
            struct timespec ts = { 0, 20000000L * attempt };
            nanosleep(&ts, NULL);
            continue;
        }
        out->r.outcome = ctl_sqlstate_denied(state) ? CTL_DENIED : CTL_ERROR;
        db_error(out->r.error, sizeof out->r.error, authoring_op_name(rq->op), conn, res);
        PQclear(res);
        free(fields);
        return 0;
    }
}

int authoring_verify(PGconn *conn, const struct authoring_request *rq, int timeout_ms, int cancel_fd,
                     struct authoring_result *out)
{
    struct ctl_request c;
    memset(&c, 0, sizeof c);
    memcpy(c.request_id, rq->request_id, sizeof c.request_id);
    c.action = CTL_PAUSE; /* any action but stop-all: one row by request id */
    snprintf(c.campaign_id, sizeof c.campaign_id, "%s", rq->campaign_id);
    if (rq->op == AU_CREATE || rq->op == AU_CLONE)
        out->r.campaign_id[0] = '\0'; /* the new campaign's id comes from the audit row */
    return ctl_verify(conn, &c, timeout_ms, cancel_fd, &out->r);
}

void authoring_describe(const struct authoring_request *rq, const struct authoring_result *res, char *buf,
                        size_t n)
{
    const struct ctl_result *r = &res->r;
    const char *id = r->campaign_id[0] ? r->campaign_id : rq->campaign_id;
    const char *how = r->outcome == CTL_REPLAYED ? " (this request was applied before)"
                      : r->verified           ? " (verified after the connection failed)"
                                              : "";
    static const char *const verbs[] = {
        [AU_CREATE] = "create a campaign", [AU_EDIT] = "edit", [AU_CLONE] = "clone",
        [AU_PROMOTE] = "promote a variant of", [AU_TEST_SEND] = "test-send",
    };
    const char *verb = verbs[rq->op];
    switch (r->outcome) {
    case CTL_APPLIED:
    case CTL_REPLAYED:
    case CTL_ALREADY:
        switch (rq->op) {
        case AU_CREATE:
            snprintf(buf, n, "Campaign created%s: %s (draft, version %d, revision %d)", how, id, r->version,
                     r->revision);
            break;
        case AU_EDIT:
            snprintf(buf, n, "Campaign saved%s: %s has revision %d (version %d, %s); changed: %s", how, id,
                     r->revision, r->version, r->status, res->changed[0] ? res->changed : "nothing");
            break;
        case AU_CLONE:
            snprintf(buf, n, "Campaign cloned%s: %s is a new draft%s%s (version %d)", how, id,
                     res->cloned_from[0] ? " copied from " : "", res->cloned_from, r->version);
            break;
        case AU_PROMOTE:
            snprintf(buf, n,
                     "Variant %s promoted%s: %s has revision %d with its content for the rest of the audience "
                     "(version %d, %s). Deliveries already made keep their variant",
                     rq->variant, how, id, r->revision, r->version, r->status);
            break;
        case AU_TEST_SEND:
            snprintf(buf, n, "Test send queued%s: #%lld of %s revision %d%s%s to %s; it is not a campaign send",
                     how, res->test_delivery_id, id, r->revision, rq->variant[0] ? " variant " : "",
                     rq->variant, rq->address);
            break;
        }
        break;
    case CTL_CONFLICT:
        snprintf(buf, n, "Conflict: %s was changed by %s at %s; it is now %s (version %d, you saw %d). "
                         "Nothing was saved",
                 id, r->changed_by[0] ? r->changed_by : "someone (no audit row)",
                 r->changed_at[0] ? r->changed_at : "an unknown time", r->status, r->version,
                 rq->expected_version);
        break;
    case CTL_INVALID:
        if (res->problems.n > 1)
            snprintf(buf, n, "Cannot %s %s: %s (and %zu more)", verb, rq->op == AU_CREATE ? "" : id,
                     r->reason, res->problems.n - 1);
        else
            snprintf(buf, n, "Cannot %s %s: %s", verb, rq->op == AU_CREATE ? "" : id,
                     r->reason[0] ? r->reason : "not allowed");
        break;
    case CTL_NOT_FOUND:
        snprintf(buf, n, "No campaign %s", id);
        break;
    case CTL_DENIED:
        snprintf(buf, n, "Not permitted to %s %s: %s", verb, id, r->error);
        break;
    case CTL_ERROR:
        snprintf(buf, n, "Failed to %s %s: %s", verb, id, r->error);
        break;
    case CTL_UNKNOWN:
        snprintf(buf, n, "Outcome unknown: %s of %s was in flight when the connection failed; "
                         "verifying by request id %.8s (%.80s)",
                 authoring_op_name(rq->op), id[0] ? id : "a new campaign", rq->request_id, r->error);
        break;
    case CTL_NOT_APPLIED:
        snprintf(buf, n, "Not applied: the connection failed before %s of %s committed; nothing changed "
                         "(verified by request id %.8s)",
                 authoring_op_name(rq->op), id[0] ? id : "a new campaign", rq->request_id);
        break;
    }
}
