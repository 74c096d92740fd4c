#include "dbworker.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "listener.h"
#include "oplog.h"
#include "threadwait.h"
#include "wakepipe.h"

#define QUERY_TIMEOUT_MS 20000
#define CONNECT_TIMEOUT_MS 10000
#define NOTIFY_SETTLE_MS 200
#define STOP_WAIT_MS 1500
#define ENGAGEMENT_EVERY_MS 60000
#define ACTION_TIMEOUT_MS 30000
#define VERIFY_RETRY_MS 2000
#define ACK_EXPIRY_SLACK_MS 100
#define LISTEN_CHANNELS "marketing_campaign,alert_acks,marketing_segment"

struct dbworker {
    pthread_t thread;
    struct listener *listener; /* its own connection, LISTENing */
    PGresult *engagement;  /* the worker's: the last engagement figures */
    int64_t engagement_due;
    int64_t acks_due;      /* the worker's: when the first ack in force expires (monotonic); 0: none */
    bool acks_schema;      /* the worker's: the database has alert_acks_in_force */
    char *dsn;
    int refresh_ms;
    int wake_fd;
    int stop_pipe[2];      /* closing [1] (or a byte) stops the thread */
    int kick_pipe[2];      /* a byte asks for a refresh */
    int task_pipe[2];      /* a byte says a task is queued */

    pthread_mutex_t lock;  /* guards the fields below */
    pthread_cond_t done_cond;
    bool done;             /* the thread has left run() */
    struct campaign_list *pending;
    struct segment_list *pending_segs;
    struct campaign_detail *pending_detail;
    char *detail_want;     /* the campaign whose details the UI shows, or NULL */
    struct dbw_status status;
    /* actions: at most one in flight, a campaign action or an alert ack */
    bool act_pending;      /* submitted, not yet sent */
    bool act_verify;       /* sent, outcome unknown: settle on a connection */
    bool act_is_ack;       /* the one in flight is ack_rq, not act_rq */
    struct ctl_request act_rq;
    struct ctl_identity act_id;
    struct ctl_result act_res;   /* the unknown outcome (its backend pid) */
    bool res_ready;        /* an outcome for the UI */
    struct ctl_request res_rq;
    struct ctl_result res;
    struct alertack_request ack_rq;
    struct alertack_result ack_unknown; /* the unknown outcome (its backend pid) */
    bool ack_res_ready;    /* an ack outcome for the UI */
    struct alertack_request ack_res_rq;
    struct alertack_result ack_res;
    char read_only[160];   /* the console is read-only: why; "": it is not */
    struct alertack_list *pending_acks;
    bool connected;        /* serve() has a connection */
    /* pre-flight */
    char *pf_want;
    bool pf_ready;
    struct preflight pf;
    char pf_err[512];
    /* the audit log, while shown */
    bool audit_on;
    struct audit_list *pending_audit;
    /* tasks: queued, and done for the UI to take */
    struct dbw_task tasks[DBW_MAX_TASKS];
    size_t n_tasks;
    struct dbw_task done_tasks[DBW_MAX_TASKS];
    size_t n_done;
};

int dbworker_backoff_ms(int attempt, double r01)
{
    double ms = 500.0;
    for (int i = 1; i < attempt && ms < 30000.0; i++)
        ms *= 2.0;
    if (ms > 30000.0)
        ms = 30000.0;
    return (int)(ms * (0.5 + 0.5 * r01));
}

static void wake(struct dbworker *w) { wakepipe_signal(w->wake_fd); }

static void set_status(struct dbworker *w, enum dbw_state st, int attempt, int64_t retry_at,
                       const char *error)
{
    pthread_mutex_lock(&w->lock);
    w->status.state = st;
    w->status.attempt = attempt;
    w->status.retry_at_ms = retry_at;
    snprintf(w->status.error, sizeof w->status.error, "%s", error ? error : "");
    pthread_mutex_unlock(&w->lock);
    wake(w);
}

static void publish(struct dbworker *w, struct campaign_list *camps, struct segment_list *segs)
{
    pthread_mutex_lock(&w->lock);
    /* snapshots the UI never took (it was busy) are replaced */
    struct campaign_list *old_c = w->pending;
    struct segment_list *old_s = w->pending_segs;
    w->pending = camps;
    w->pending_segs = segs;
    w->status.data_ms = camps->fetched_ms;
    w->status.error[0] = '\0';
    pthread_mutex_unlock(&w->lock);
    /* outside the lock: the UI never waits for a free */
    campaign_list_free(&old_c);
    segment_list_free(&old_s);
    wake(w);
}

/* Runs one read. Returns 0 with *out set, 1 when the query failed (the
 * status says why; the connection is fine), or -1 when the connection must
 * be dropped. */
static int read_query(struct dbworker *w, PGconn *conn, const char *sql, const char *what,
                      PGresult **out)
{
    char err[512];
    const char *params[1] = { NULL };
    *out = NULL;
    PGresult *res = db_query(conn, sql, strchr(sql, '$') ? 1 : 0, params, QUERY_TIMEOUT_MS,
                             w->stop_pipe[0], err, sizeof err);
    if (!res) {
        set_status(w, DBW_RECONNECTING, 1, clock_mono_ms(), err);
        return -1;
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_error(err, sizeof err, what, conn, res);
        PQclear(res);
        set_status(w, DBW_CONNECTED, 0, 0, err);
        return 1;
    }
    *out = res;
    return 0;
}

/* The details of the campaign the UI shows, if it shows one. */
static int refresh_detail(struct dbworker *w, PGconn *conn)
{
    pthread_mutex_lock(&w->lock);
    char *id = w->detail_want ? strdup(w->detail_want) : NULL;
    pthread_mutex_unlock(&w->lock);
    if (!id)
        return 0;
    char err[512];
    const char *params[1] = { id };
    PGresult *revs = db_query(conn, campaign_revisions_query, 1, params, QUERY_TIMEOUT_MS,
                              w->stop_pipe[0], err, sizeof err);
    PGresult *audit = revs ? db_query(conn, campaign_audit_query, 1, params, QUERY_TIMEOUT_MS,
                                      w->stop_pipe[0], err, sizeof err)
                           : NULL;
    PGresult *sup = audit ? db_query(conn, campaign_superseded_query, 1, params, QUERY_TIMEOUT_MS,
                                     w->stop_pipe[0], err, sizeof err)
                          : NULL;
    if (!revs || !audit || !sup) {
        PQclear(revs);
        PQclear(audit);
        free(id);
        set_status(w, DBW_RECONNECTING, 1, clock_mono_ms(), err);
        return -1;
    }
    struct campaign_detail *d = NULL;
    if (PQresultStatus(revs) != PGRES_TUPLES_OK)
        db_error(err, sizeof err, "reading revisions", conn, revs);
    else if (PQresultStatus(audit) != PGRES_TUPLES_OK)
        db_error(err, sizeof err, "reading the audit log", conn, audit);
    else
        d = campaign_detail_from_results(id, revs, audit,
                                         PQresultStatus(sup) == PGRES_TUPLES_OK ? sup : NULL, err,
                                         sizeof err);
    PQclear(revs);
    PQclear(audit);
    PQclear(sup);
    if (d) {
        /* the A/B results, for a campaign with variants */
        struct authoring_ab ab;
        char aberr[256];
        if (authoring_ab_fetch(conn, id, QUERY_TIMEOUT_MS, w->stop_pipe[0], &ab, aberr, sizeof aberr) == 0) {
            authoring_ab_analyze(&ab);
            d->have_ab = ab.leader >= 0;
            d->ab = ab;
        } else if (PQstatus(conn) == CONNECTION_BAD) {
            campaign_detail_free(&d);
            free(id);
            set_status(w, DBW_RECONNECTING, 1, clock_mono_ms(), aberr);
            return -1;
        }
    }
    free(id);
    if (!d) {
        set_status(w, DBW_CONNECTED, 0, 0, err);
        return 0;
    }
    pthread_mutex_lock(&w->lock);
    struct campaign_detail *old = w->pending_detail;
    w->pending_detail = d;
    pthread_mutex_unlock(&w->lock);
    campaign_detail_free(&old);
    wake(w);
    return 0;
}

/* The audit log, when the UI shows it. */
static int refresh_audit(struct dbworker *w, PGconn *conn)
{
    pthread_mutex_lock(&w->lock);
    bool on = w->audit_on;
    pthread_mutex_unlock(&w->lock);
    if (!on)
        return 0;
    char err[512];
    int lost = 0;
    struct audit_filter f = { .limit = 500 };
    struct audit_list *l = audit_list_fetch(conn, &f, QUERY_TIMEOUT_MS, w->stop_pipe[0], &lost, err,
                                            sizeof err);
    if (!l) {
        set_status(w, lost ? DBW_RECONNECTING : DBW_CONNECTED, lost, lost ? clock_mono_ms() : 0, err);
        return lost ? -1 : 0;
    }
    pthread_mutex_lock(&w->lock);
    struct audit_list *old = w->pending_audit;
    w->pending_audit = l;
    pthread_mutex_unlock(&w->lock);
    audit_list_free(&old);
    wake(w);
    return 0;
}

/* The acks in force; and when the first of them expires, a read again. */
static int refresh_acks(struct dbworker *w, PGconn *conn)
{
    if (!w->acks_schema)
        return 0; /* an older schema: check_writable says so */
    char err[512];
    int lost = 0;
    struct alertack_list *l = alertack_list_fetch(conn, QUERY_TIMEOUT_MS, w->stop_pipe[0], &lost, err,
                                                  sizeof err);
    if (!l) {
        w->acks_due = 0;
        set_status(w, lost ? DBW_RECONNECTING : DBW_CONNECTED, lost, lost ? clock_mono_ms() : 0, err);
        return lost ? -1 : 0;
    }
    /* by the server's clock: how long from the read until the first expiry */
    w->acks_due = l->next_expiry_in_ms >= 0
                      ? clock_mono_ms() + l->next_expiry_in_ms + ACK_EXPIRY_SLACK_MS
                      : 0;
    pthread_mutex_lock(&w->lock);
    struct alertack_list *old = w->pending_acks;
    w->pending_acks = l;
    pthread_mutex_unlock(&w->lock);
    alertack_list_free(&old);
    wake(w);
    return 0;
}

/* What this connection may do: campaign_act must exist and be ours to
 * run, the role must be able to write, and the server must be a primary
 * with writable sessions; the same for alert_ack and alert_unack. Returns
 * -1 when the connection failed. */
static int check_writable(struct dbworker *w, PGconn *conn)
{
    static const char sql[] =
        "SELECT to_regprocedure('campaign_act(uuid,text,text,integer,integer,text,text,text,text)')"
        "         IS NOT NULL,"
        "       coalesce(has_function_privilege(to_regprocedure("
        "           'campaign_act(uuid,text,text,integer,integer,text,text,text,text)'), 'EXECUTE'), false)"
        "       AND has_table_privilege('campaigns', 'UPDATE')"
        "       AND has_table_privilege('audit_log', 'INSERT'),"
        "       pg_is_in_recovery(), current_setting('default_transaction_read_only') = 'on',"
        "       current_user,"
        "       to_regprocedure('alert_ack(uuid,text,text,jsonb,text,interval,text,text,text)') IS NOT NULL"
        "         AND to_regprocedure('alert_unack(uuid,bigint,text,text,text,text)') IS NOT NULL"
        "         AND to_regclass('alert_acks_in_force') IS NOT NULL,"
        "       coalesce(has_function_privilege(to_regprocedure("
        "           'alert_ack(uuid,text,text,jsonb,text,interval,text,text,text)'), 'EXECUTE'), false)"
        "       AND coalesce(has_function_privilege(to_regprocedure("
        "           'alert_unack(uuid,bigint,text,text,text,text)'), 'EXECUTE'), false)"
        "       AND coalesce(has_table_privilege(to_regclass('alert_acks'), 'INSERT'), false)"
        "       AND coalesce(has_table_privilege(to_regclass('alert_acks'), 'UPDATE'), false)"
        "       AND has_table_privilege('audit_log', 'INSERT')";
    char err[512];
    PGresult *r = db_query(conn, sql, 0, NULL, QUERY_TIMEOUT_MS, w->stop_pipe[0], err, sizeof err);
    if (!r)
        return -1;
    char reason[160] = "", ack_reason[160] = "";
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        db_error(reason, sizeof reason, "checking write rights", conn, r);
    else if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
        snprintf(reason, sizeof reason, "the schema is older than this console (run marketing db migrate)");
    else if (strcmp(PQgetvalue(r, 0, 2), "t") == 0)
        snprintf(reason, sizeof reason, "the server is a standby");
    else if (strcmp(PQgetvalue(r, 0, 3), "t") == 0)
        snprintf(reason, sizeof reason, "the server makes sessions read-only (default_transaction_read_only)");
    else if (strcmp(PQgetvalue(r, 0, 1), "t") != 0)
        snprintf(reason, sizeof reason, "database role %.60s may not change campaigns",
                 PQgetvalue(r, 0, 4));
    bool acks_schema = ok && strcmp(PQgetvalue(r, 0, 5), "t") == 0;
    bool server_ro = ok && (strcmp(PQgetvalue(r, 0, 2), "t") == 0 || strcmp(PQgetvalue(r, 0, 3), "t") == 0);
    if (!ok || server_ro)
        snprintf(ack_reason, sizeof ack_reason, "%s", reason); /* the server's, said above */
    else if (!acks_schema)
        snprintf(ack_reason, sizeof ack_reason,
                 "the schema has no alert acks yet (run marketing db migrate)");
    else if (strcmp(PQgetvalue(r, 0, 6), "t") != 0)
        snprintf(ack_reason, sizeof ack_reason, "database role %.60s may not acknowledge alerts",
                 PQgetvalue(r, 0, 4));
    PQclear(r);
    w->acks_schema = acks_schema;
    pthread_mutex_lock(&w->lock);
    w->status.write_known = true;
    w->status.can_write = reason[0] == '\0';
    snprintf(w->status.write_reason, sizeof w->status.write_reason, "%s", reason);
    w->status.can_ack = ack_reason[0] == '\0';
    snprintf(w->status.ack_reason, sizeof w->status.ack_reason, "%s", ack_reason);
    pthread_mutex_unlock(&w->lock);
    wake(w);
    return 0;
}

static void publish_result(struct dbworker *w, const struct ctl_request *rq,
                           const struct ctl_result *res)
{
    char msg[1024];
    ctl_describe(rq, res, msg, sizeof msg);
    ctl_log(rq, res, &w->act_id, msg);
    pthread_mutex_lock(&w->lock);
    w->res_rq = *rq;
    w->res = *res;
    w->res_ready = true;
    if (res->outcome == CTL_UNKNOWN) {
        w->act_verify = true;
        w->act_res = *res;
    } else {
        w->act_verify = false;
        w->status.action_busy = false;
    }
    pthread_mutex_unlock(&w->lock);
    wake(w);
}

static void publish_ack_result(struct dbworker *w, const struct alertack_request *rq,
                               const struct alertack_result *res)
{
    char msg[1024];
    alertack_describe(rq, res, msg, sizeof msg);
    alertack_log(rq, res, &w->act_id, msg);
    pthread_mutex_lock(&w->lock);
    w->ack_res_rq = *rq;
    w->ack_res = *res;
    w->ack_res_ready = true;
    if (res->outcome == CTL_UNKNOWN) {
        w->act_verify = true;
        w->ack_unknown = *res;
    } else {
        w->act_verify = false;
        w->status.action_busy = false;
    }
    pthread_mutex_unlock(&w->lock);
    wake(w);
}

/* The submitted ack, snooze or unack; as run_action. */
static int run_ack(struct dbworker *w, PGconn *conn)
{
    struct alertack_request *rq = malloc(sizeof *rq);
    struct alertack_result *res = malloc(sizeof *res);
    struct ctl_identity id;
    pthread_mutex_lock(&w->lock);
    if (rq)
        *rq = w->ack_rq;
    id = w->act_id;
    pthread_mutex_unlock(&w->lock);
    if (!rq || !res) {
        free(rq);
        free(res);
        struct alertack_result oom = { .outcome = CTL_ERROR };
        snprintf(oom.error, sizeof oom.error, "out of memory: nothing was sent");
        publish_ack_result(w, &w->ack_rq, &oom); /* ack_rq is only written while not busy */
        return 0;
    }
    int rc = alertack_execute(conn, rq, &id, ACTION_TIMEOUT_MS, w->stop_pipe[0], res);
    publish_ack_result(w, rq, res);
    if (rc < 0)
        set_status(w, DBW_RECONNECTING, 1, clock_mono_ms(), res->error);
    free(rq);
    free(res);
    return rc < 0 ? -1 : 0;
}

/* Sends the submitted action. Returns -1 when the connection failed (the
 * outcome is then unknown until verified on the next connection). */
static int run_action(struct dbworker *w, PGconn *conn)
{
    pthread_mutex_lock(&w->lock);
    bool go = w->act_pending;
    bool ack = w->act_is_ack;
    struct ctl_request rq = w->act_rq;
    struct ctl_identity id = w->act_id;
    w->act_pending = false;
    pthread_mutex_unlock(&w->lock);
    if (!go)
        return 0;
    if (ack)
        return run_ack(w, conn);
    struct ctl_result res;
    int rc = ctl_execute(conn, &rq, &id, ACTION_TIMEOUT_MS, w->stop_pipe[0], &res);
    publish_result(w, &rq, &res);
    if (rc < 0) {
        set_status(w, DBW_RECONNECTING, 1, clock_mono_ms(), res.error);
        return -1;
    }
    return 0;
}

/* Settles an unknown outcome. Returns -1 when the connection failed; a
 * check that cannot tell yet is tried again later. */
static int run_verify_ack(struct dbworker *w, PGconn *conn)
{
    struct alertack_request *rq = malloc(sizeof *rq);
    struct alertack_result *res = malloc(sizeof *res);
    if (!rq || !res) {
        free(rq);
        free(res);
        return 0; /* tried again later */
    }
    pthread_mutex_lock(&w->lock);
    *rq = w->ack_rq;
    *res = w->ack_unknown;
    pthread_mutex_unlock(&w->lock);
    int rc = 0;
    if (alertack_verify(conn, rq, ACTION_TIMEOUT_MS, w->stop_pipe[0], res) == 0) {
        publish_ack_result(w, rq, res);
    } else {
        char msg[700];
        snprintf(msg, sizeof msg, "outcome of %.8s still unknown: %s", rq->request_id, res->error);
        set_status(w, DBW_CONNECTED, 0, 0, msg);
        rc = PQstatus(conn) == CONNECTION_OK ? 0 : -1;
    }
    free(rq);
    free(res);
    return rc;
}

static int run_verify(struct dbworker *w, PGconn *conn)
{
    pthread_mutex_lock(&w->lock);
    bool go = w->act_verify;
    bool ack = w->act_is_ack;
    struct ctl_request rq = w->act_rq;
    struct ctl_result res = w->act_res;
    pthread_mutex_unlock(&w->lock);
    if (!go)
        return 0;
    if (ack)
        return run_verify_ack(w, conn);
    if (ctl_verify(conn, &rq, ACTION_TIMEOUT_MS, w->stop_pipe[0], &res) == 0) {
        publish_result(w, &rq, &res);
        return 0;
    }
    char msg[700];
    snprintf(msg, sizeof msg, "outcome of %.8s still unknown: %s", rq.request_id, res.error);
    set_status(w, DBW_CONNECTED, 0, 0, msg);
    return PQstatus(conn) == CONNECTION_OK ? 0 : -1;
}

static int run_preflight(struct dbworker *w, PGconn *conn)
{
    pthread_mutex_lock(&w->lock);
    char *id = w->pf_want;
    w->pf_want = NULL;
    pthread_mutex_unlock(&w->lock);
    if (!id)
        return 0;
    struct preflight *pf = malloc(sizeof *pf);
    char err[512] = "";
    int rc = pf ? preflight_run(conn, id, QUERY_TIMEOUT_MS, w->stop_pipe[0], pf, err, sizeof err) : 1;
    if (!pf)
        snprintf(err, sizeof err, "out of memory");
    pthread_mutex_lock(&w->lock);
    if (rc == 0)
        w->pf = *pf;
    snprintf(w->pf.id, sizeof w->pf.id, "%s", id); /* whose answer this is, even a failed one */
    snprintf(w->pf_err, sizeof w->pf_err, "%s", rc == 0 ? "" : err);
    w->pf_ready = true;
    pthread_mutex_unlock(&w->lock);
    free(id);
    free(pf);
    wake(w);
    if (rc < 0) {
        set_status(w, DBW_RECONNECTING, 1, clock_mono_ms(), err);
        return -1;
    }
    return 0;
}

/* One refresh: 0 on success (or a failed query, reported in the status),
 * -1 when the connection must be dropped. */
/* Runs the queued tasks, oldest first. -1 when the connection was lost
 * (the task that lost it is done with rc -2). */
static int run_tasks(struct dbworker *w, PGconn *conn)
{
    for (;;) {
        /* stopping: the rest wait (their args are freed at the stop) */
        struct pollfd sp = { .fd = w->stop_pipe[0], .events = POLLIN };
        if (poll(&sp, 1, 0) > 0)
            return 0;
        pthread_mutex_lock(&w->lock);
        if (w->n_tasks == 0) {
            pthread_mutex_unlock(&w->lock);
            return 0;
        }
        struct dbw_task t = w->tasks[0];
        memmove(w->tasks, w->tasks + 1, (w->n_tasks - 1) * sizeof *w->tasks);
        w->n_tasks--;
        bool refused = t.write && (w->read_only[0] || !w->status.can_write);
        if (refused)
            snprintf(t.err, sizeof t.err, "read-only (%s): nothing was sent",
                     w->read_only[0] ? w->read_only : w->status.write_reason);
        pthread_mutex_unlock(&w->lock);
        if (refused) {
            t.rc = -1;
        } else {
            t.err[0] = '\0';
            t.rc = t.fn(conn, t.arg, w->stop_pipe[0], t.err, sizeof t.err);
            if (t.rc == -2 || PQstatus(conn) == CONNECTION_BAD) {
                t.rc = -2;
                if (!t.err[0])
                    snprintf(t.err, sizeof t.err, "the connection was lost");
            }
        }
        pthread_mutex_lock(&w->lock);
        if (w->n_done == DBW_MAX_TASKS) {
            /* the UI has not taken them: the oldest goes (its arg with it) */
            if (w->done_tasks[0].free_arg)
                w->done_tasks[0].free_arg(w->done_tasks[0].arg);
            memmove(w->done_tasks, w->done_tasks + 1, (DBW_MAX_TASKS - 1) * sizeof *w->done_tasks);
            w->n_done--;
        }
        w->done_tasks[w->n_done++] = t;
        pthread_mutex_unlock(&w->lock);
        wake(w);
        if (t.rc == -2)
            return -1;
    }
}

static int refresh(struct dbworker *w, PGconn *conn)
{
    char err[512];
    PGresult *res;
    int rc = read_query(w, conn, campaign_list_query, "reading campaigns", &res);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    struct campaign_list *camps = campaign_list_from_result(res, err, sizeof err);
    PQclear(res);
    if (!camps) {
        set_status(w, DBW_CONNECTED, 0, 0, err);
        return 0;
    }

    rc = read_query(w, conn, segment_list_query, "reading segments", &res);
    if (rc != 0) {
        campaign_list_free(&camps);
        return rc < 0 ? -1 : 0;
    }
    struct segment_list *segs = segment_list_from_result(res, err, sizeof err);
    PQclear(res);
    if (!segs) {
        campaign_list_free(&camps);
        set_status(w, DBW_CONNECTED, 0, 0, err);
        return 0;
    }
    /* engagement reads every membership: now and then, not every refresh */
    int64_t now = clock_mono_ms();
    if (!w->engagement || now >= w->engagement_due) {
        rc = read_query(w, conn, segment_engagement_query, "reading segment engagement", &res);
        if (rc < 0) {
            campaign_list_free(&camps);
            segment_list_free(&segs);
            return -1;
        }
        if (rc == 0) {
            PQclear(w->engagement);
            w->engagement = res;
        }
        w->engagement_due = now + ENGAGEMENT_EVERY_MS;
    }
    if (w->engagement)
        segment_list_apply_engagement(segs, w->engagement);
    publish(w, camps, segs);
    if (refresh_acks(w, conn) != 0 || refresh_audit(w, conn) != 0)
        return -1;
    return refresh_detail(w, conn);
}

/* Serves one connection until it fails or we are stopped. Returns
 * SERVE_STOP when stopped, else SERVE_FRESH if it ever published data on
 * this connection, or SERVE_LOST if it did not. Notifications come from
 * the listener's own connection as bytes on the kick pipe, like the user's
 * "refresh now". */
enum { SERVE_STOP, SERVE_FRESH, SERVE_LOST };

static int serve(struct dbworker *w, PGconn *conn)
{
    set_status(w, DBW_CONNECTED, 0, 0, NULL);
    if (check_writable(w, conn) != 0)
        return SERVE_LOST;
    pthread_mutex_lock(&w->lock);
    w->connected = true;
    pthread_mutex_unlock(&w->lock);
    int64_t next = 0, earliest = 0, verify_at = 0;
    bool dirty = true, fresh = false;
    for (;;) {
        /* an unknown outcome is settled before anything else */
        if (clock_mono_ms() >= verify_at) {
            if (run_verify(w, conn) != 0)
                return fresh ? SERVE_FRESH : SERVE_LOST;
            pthread_mutex_lock(&w->lock);
            bool still = w->act_verify;
            pthread_mutex_unlock(&w->lock);
            verify_at = still ? clock_mono_ms() + VERIFY_RETRY_MS : 0;
        }
        if (run_action(w, conn) != 0 || run_preflight(w, conn) != 0 || run_tasks(w, conn) != 0)
            return fresh ? SERVE_FRESH : SERVE_LOST;
        int64_t now = clock_mono_ms();
        if (w->acks_due && now >= w->acks_due) {
            /* an ack expired: only the acks need reading again */
            if (refresh_acks(w, conn) != 0)
                return fresh ? SERVE_FRESH : SERVE_LOST;
            continue;
        }
        if ((dirty && now >= earliest) || now >= next) {
            wakepipe_drain(w->kick_pipe[0]);
            if (refresh(w, conn) != 0)
                return fresh ? SERVE_FRESH : SERVE_LOST;
            fresh = true;
            dirty = false;
            now = clock_mono_ms();
            /* a burst of changes settles for a moment before the next read */
            earliest = now + NOTIFY_SETTLE_MS;
            next = now + w->refresh_ms;
            continue;
        }
        int64_t until = dirty ? earliest : next;
        if (verify_at && verify_at < until)
            until = verify_at;
        if (w->acks_due && w->acks_due < until)
            until = w->acks_due;
        struct pollfd pfd[4] = {
            { .fd = w->stop_pipe[0], .events = POLLIN },
            { .fd = PQsocket(conn), .events = POLLIN },
            { .fd = w->kick_pipe[0], .events = POLLIN },
            { .fd = w->task_pipe[0], .events = POLLIN },
        };
        int n = poll(pfd, 4, (int)(until - now));
        if (n < 0 && errno != EINTR)
            return fresh ? SERVE_FRESH : SERVE_LOST;
        if (pfd[0].revents)
            return SERVE_STOP;
        if (pfd[2].revents) {
            dirty = true;
            wakepipe_drain(w->kick_pipe[0]);
        }
        if (pfd[3].revents)
            wakepipe_drain(w->task_pipe[0]);
        /* an idle connection says something only when it fails */
        if (pfd[1].revents && (!PQconsumeInput(conn) || PQstatus(conn) == CONNECTION_BAD)) {
            char err[512];
            db_error(err, sizeof err, "connection lost", conn, NULL);
            set_status(w, DBW_RECONNECTING, 1, clock_mono_ms(), err);
            return fresh ? SERVE_FRESH : SERVE_LOST;
        }
    }
}

/* Changes the state and keeps the last error, which says why we retry. */
static void set_state(struct dbworker *w, enum dbw_state st, int attempt, int64_t retry_at)
{
    pthread_mutex_lock(&w->lock);
    w->status.state = st;
    w->status.attempt = attempt;
    w->status.retry_at_ms = retry_at;
    pthread_mutex_unlock(&w->lock);
    wake(w);
}

static void *run(void *arg)
{
    struct dbworker *w = arg;
    unsigned seed = (unsigned)clock_mono_ms() ^ (unsigned)getpid();
    int attempt = 0;
    for (;;) {
        char err[512];
        set_state(w, attempt ? DBW_RECONNECTING : DBW_CONNECTING, attempt, 0);
        PGconn *conn = db_connect(w->dsn, CONNECT_TIMEOUT_MS, w->stop_pipe[0], err, sizeof err);
        if (conn) {
            int how = serve(w, conn);
            pthread_mutex_lock(&w->lock);
            w->connected = false;
            w->status.write_known = false;
            pthread_mutex_unlock(&w->lock);
            w->acks_due = 0;
            PQfinish(conn);
            if (how == SERVE_STOP)
                break;
            /* a connection that dies before delivering anything (a standby
             * refusing LISTEN, a server killing new sessions) must not
             * make us reconnect in a tight loop */
            attempt = how == SERVE_FRESH ? 1 : attempt + 1;
        } else {
            if (strcmp(err, "cancelled") == 0)
                break;
            attempt++;
            pthread_mutex_lock(&w->lock);
            snprintf(w->status.error, sizeof w->status.error, "%s", err);
            pthread_mutex_unlock(&w->lock);
        }
        int delay = dbworker_backoff_ms(attempt, (double)rand_r(&seed) / ((double)RAND_MAX + 1.0));
        set_state(w, DBW_RECONNECTING, attempt, clock_mono_ms() + delay);
        struct pollfd pfd = { .fd = w->stop_pipe[0], .events = POLLIN };
        if (poll(&pfd, 1, delay) > 0)
            break;
    }
    pthread_mutex_lock(&w->lock);
    w->done = true;
    pthread_cond_signal(&w->done_cond);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

struct dbworker *dbworker_start(const char *dsn, int refresh_ms, int wake_fd,
                                char *err, size_t errsz)
{
    struct dbworker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    w->dsn = strdup(dsn ? dsn : "");
    w->refresh_ms = refresh_ms;
    w->wake_fd = wake_fd;
    w->stop_pipe[0] = w->stop_pipe[1] = w->kick_pipe[0] = w->kick_pipe[1] = -1;
    w->task_pipe[0] = w->task_pipe[1] = -1;
    if (!w->dsn || wakepipe_open(w->stop_pipe) != 0 || wakepipe_open(w->kick_pipe) != 0 ||
        wakepipe_open(w->task_pipe) != 0) {
        snprintf(err, errsz, "cannot start the database worker: %s", strerror(errno));
        goto fail;
    }
    pthread_mutex_init(&w->lock, NULL);
    threadwait_cond_init(&w->done_cond);
    int rc = threadwait_spawn(&w->thread, run, w);
    if (rc != 0) {
        snprintf(err, errsz, "cannot start the database worker: %s", strerror(rc));
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->done_cond);
        goto fail;
    }
    w->listener = listener_start(w->dsn, LISTEN_CHANNELS, w->kick_pipe[1], err, errsz);
    if (!w->listener) {
        char keep[512];
        snprintf(keep, sizeof keep, "%s", err);
        dbworker_stop(&w);
        snprintf(err, errsz, "%s", keep);
        return NULL;
    }
    return w;
fail:
    for (int i = 0; i < 2; i++) {
        if (w->stop_pipe[i] >= 0)
            close(w->stop_pipe[i]);
        if (w->kick_pipe[i] >= 0)
            close(w->kick_pipe[i]);
        if (w->task_pipe[i] >= 0)
            close(w->task_pipe[i]);
    }
    free(w->dsn);
    free(w);
    return NULL;
}

bool dbworker_stop(struct dbworker **wp)
{
    struct dbworker *w = *wp;
    if (!w)
        return true;
    *wp = NULL;
    wakepipe_signal(w->stop_pipe[1]);
    /* the listener writes to our kick pipe: it must end before we free it */
    if (!listener_stop(&w->listener))
        return false; /* still running: keep everything */
    /* The worker watches the stop pipe in all its I/O, but a DNS lookup
     * inside libpq cannot be interrupted: wait a bounded time, and if it
     * is still busy let it go (the process is exiting). */
    bool done = threadwait(&w->lock, &w->done_cond, &w->done, STOP_WAIT_MS);
    if (!done) {
        pthread_detach(w->thread);
        return false; /* w stays allocated: the thread still uses it */
    }
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->done_cond);
    campaign_list_free(&w->pending);
    segment_list_free(&w->pending_segs);
    campaign_detail_free(&w->pending_detail);
    audit_list_free(&w->pending_audit);
    alertack_list_free(&w->pending_acks);
    for (size_t i = 0; i < w->n_tasks; i++)
        if (w->tasks[i].free_arg)
            w->tasks[i].free_arg(w->tasks[i].arg);
    for (size_t i = 0; i < w->n_done; i++)
        if (w->done_tasks[i].free_arg)
            w->done_tasks[i].free_arg(w->done_tasks[i].arg);
    free(w->pf_want);
    free(w->detail_want);
    PQclear(w->engagement);
    for (int i = 0; i < 2; i++) {
        close(w->stop_pipe[i]);
        close(w->kick_pipe[i]);
        close(w->task_pipe[i]);
    }
    free(w->dsn);
    free(w);
    return true;
}

struct campaign_list *dbworker_take_campaigns(struct dbworker *w)
{
    pthread_mutex_lock(&w->lock);
    struct campaign_list *l = w->pending;
    w->pending = NULL;
    pthread_mutex_unlock(&w->lock);
    return l;
}

struct segment_list *dbworker_take_segments(struct dbworker *w)
{
    pthread_mutex_lock(&w->lock);
    struct segment_list *l = w->pending_segs;
    w->pending_segs = NULL;
    pthread_mutex_unlock(&w->lock);
    return l;
}

void dbworker_want_detail(struct dbworker *w, const char *id)
{
    char *want = id && *id ? strdup(id) : NULL;
    pthread_mutex_lock(&w->lock);
    bool changed = (want == NULL) != (w->detail_want == NULL) ||
                   (want && strcmp(want, w->detail_want) != 0);
    free(w->detail_want);
    w->detail_want = want;
    pthread_mutex_unlock(&w->lock);
    if (changed && id && *id)
        wakepipe_signal(w->kick_pipe[1]);
}

struct campaign_detail *dbworker_take_detail(struct dbworker *w)
{
    pthread_mutex_lock(&w->lock);
    struct campaign_detail *d = w->pending_detail;
    w->pending_detail = NULL;
    pthread_mutex_unlock(&w->lock);
    return d;
}

void dbworker_status(struct dbworker *w, struct dbw_status *out)
{
    pthread_mutex_lock(&w->lock);
    *out = w->status;
    pthread_mutex_unlock(&w->lock);
    out->live = listener_live(w->listener);
}

void dbworker_refresh(struct dbworker *w)
{
    wakepipe_signal(w->kick_pipe[1]);
}

bool dbworker_submit(struct dbworker *w, const struct ctl_request *rq, const struct ctl_identity *id,
                     char *why, size_t whysz)
{
    pthread_mutex_lock(&w->lock);
    bool ok = false;
    if (w->read_only[0])
        snprintf(why, whysz, "read-only (%s): nothing was sent", w->read_only);
    else if (w->status.action_busy)
        snprintf(why, whysz, "another action is still in flight: wait for its outcome");
    else if (!w->connected)
        snprintf(why, whysz, "not connected to the database: nothing was sent");
    else {
        w->act_rq = *rq;
        w->act_id = *id;
        w->act_is_ack = false;
        w->act_pending = true;
        w->status.action_busy = true;
        ok = true;
    }
    pthread_mutex_unlock(&w->lock);
    if (ok)
        wakepipe_signal(w->kick_pipe[1]);
    return ok;
}

bool dbworker_take_result(struct dbworker *w, struct ctl_request *rq, struct ctl_result *res)
{
    pthread_mutex_lock(&w->lock);
    bool got = w->res_ready;
    if (got) {
        *rq = w->res_rq;
        *res = w->res;
        w->res_ready = false;
    }
    pthread_mutex_unlock(&w->lock);
    return got;
}

void dbworker_want_preflight(struct dbworker *w, const char *id)
{
    char *want = id && *id ? strdup(id) : NULL;
    pthread_mutex_lock(&w->lock);
    free(w->pf_want);
    w->pf_want = want;
    w->pf_ready = false;
    pthread_mutex_unlock(&w->lock);
    if (want)
        wakepipe_signal(w->kick_pipe[1]);
}

bool dbworker_take_preflight(struct dbworker *w, struct preflight *out, char *err, size_t errsz)
{
    pthread_mutex_lock(&w->lock);
    bool got = w->pf_ready;
    if (got) {
        *out = w->pf;
        snprintf(err, errsz, "%s", w->pf_err);
        w->pf_ready = false;
    }
    pthread_mutex_unlock(&w->lock);
    return got;
}

void dbworker_want_audit(struct dbworker *w, bool on)
{
    pthread_mutex_lock(&w->lock);
    bool changed = w->audit_on != on;
    w->audit_on = on;
    pthread_mutex_unlock(&w->lock);
    if (changed && on)
        wakepipe_signal(w->kick_pipe[1]);
}

struct audit_list *dbworker_take_audit(struct dbworker *w)
{
    pthread_mutex_lock(&w->lock);
    struct audit_list *l = w->pending_audit;
    w->pending_audit = NULL;
    pthread_mutex_unlock(&w->lock);
    return l;
}

bool dbworker_submit_ack(struct dbworker *w, const struct alertack_request *rq,
                         const struct ctl_identity *id, char *why, size_t whysz)
{
    pthread_mutex_lock(&w->lock);
    bool ok = false;
    if (w->read_only[0])
        snprintf(why, whysz, "read-only (%s): nothing was sent", w->read_only);
    else if (w->status.action_busy)
        snprintf(why, whysz, "another action is still in flight: wait for its outcome");
    else if (!w->connected)
        snprintf(why, whysz, "not connected to the database: nothing was sent");
    else if (w->status.write_known && !w->status.can_ack)
        snprintf(why, whysz, "read-only (%s): nothing was sent", w->status.ack_reason);
    else {
        w->ack_rq = *rq;
        w->act_id = *id;
        w->act_is_ack = true;
        w->act_pending = true;
        w->status.action_busy = true;
        ok = true;
    }
    pthread_mutex_unlock(&w->lock);
    if (ok)
        wakepipe_signal(w->kick_pipe[1]);
    return ok;
}

bool dbworker_take_ack_result(struct dbworker *w, struct alertack_request *rq,
                              struct alertack_result *res)
{
    pthread_mutex_lock(&w->lock);
    bool got = w->ack_res_ready;
    if (got) {
        *rq = w->ack_res_rq;
        *res = w->ack_res;
        w->ack_res_ready = false;
    }
    pthread_mutex_unlock(&w->lock);
    return got;
}

struct alertack_list *dbworker_take_acks(struct dbworker *w)
{
    pthread_mutex_lock(&w->lock);
    struct alertack_list *l = w->pending_acks;
    w->pending_acks = NULL;
    pthread_mutex_unlock(&w->lock);
    return l;
}

void dbworker_set_read_only(struct dbworker *w, const char *reason)
{
    pthread_mutex_lock(&w->lock);
    snprintf(w->read_only, sizeof w->read_only, "%s",
             reason && *reason ? reason : reason ? "read_only is set" : "");
    pthread_mutex_unlock(&w->lock);
}

bool dbworker_run_task(struct dbworker *w, const struct dbw_task *t, char *why, size_t whysz)
{
    pthread_mutex_lock(&w->lock);
    bool ok = w->n_tasks < DBW_MAX_TASKS;
    if (ok)
        w->tasks[w->n_tasks++] = *t;
    else
        snprintf(why, whysz, "the database worker is busy: %d tasks wait", DBW_MAX_TASKS);
    pthread_mutex_unlock(&w->lock);
    if (ok)
        wakepipe_signal(w->task_pipe[1]);
    return ok;
}

bool dbworker_take_task(struct dbworker *w, struct dbw_task *out)
{
    pthread_mutex_lock(&w->lock);
    bool have = w->n_done > 0;
    if (have) {
        *out = w->done_tasks[0];
        memmove(w->done_tasks, w->done_tasks + 1, (w->n_done - 1) * sizeof *w->done_tasks);
        w->n_done--;
    }
    pthread_mutex_unlock(&w->lock);
    return have;
}
