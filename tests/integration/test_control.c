/* The control module against a real server (PGDSN, from control_db.sh):
 * the C mirror of the state machine equals the database's table, every
 * outcome of ctl_execute, verification by request id, the pre-flight
 * check, and the database worker's action path with its write check. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "clock.h"
#include "control.h"
#include "db.h"
#include "dbworker.h"
#include "preflight.h"

static const char *dsn;
static PGconn *conn;

static PGresult *q(const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    return r;
}

static void exec_sql(const char *sql) { PQclear(q(sql)); }

static int setup(void **state)
{
    (void)state;
    conn = PQconnectdb(dsn);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    exec_sql("SET client_min_messages = warning");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    PQfinish(conn);
    return 0;
}

static const char *const statuses[] = { "draft", "scheduled", "active", "paused", "completed", "cancelled" };

/* The C table says what the SQL table says, for every action and status. */
static void test_mirror(void **state)
{
    (void)state;
    for (int a = 0; a < CTL_ACTION_COUNT; a++) {
        if (a == CTL_STOP_ALL)
            continue; /* not a campaign_actions row: its own function */
        for (size_t s = 0; s < 6; s++) {
            const char *p[2] = { ctl_action_name((enum ctl_action)a), statuses[s] };
            PGresult *r = PQexecParams(conn,
                                       "SELECT count(*) FROM campaign_actions WHERE action = $1 AND from_status = $2",
                                       2, NULL, p, NULL, NULL, 0);
            assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
            bool in_sql = strcmp(PQgetvalue(r, 0, 0), "1") == 0;
            PQclear(r);
            if (in_sql != ctl_allowed((enum ctl_action)a, statuses[s]))
                fail_msg("%s from %s: SQL says %d, C says %d", p[0], p[1], in_sql,
                         !in_sql);
        }
    }
    PGresult *r = q("SELECT count(DISTINCT action) FROM campaign_actions");
    assert_int_equal(atoi(PQgetvalue(r, 0, 0)), CTL_ACTION_COUNT - 1);
    PQclear(r);
}

static int version_of(const char *id)
{
    const char *p[1] = { id };
    PGresult *r = PQexecParams(conn, "SELECT version FROM campaigns WHERE id = $1", 1, NULL, p,
                               NULL, NULL, 0);
    int v = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return v;
}

static int audit_rows(const char *request_id)
{
    const char *p[1] = { request_id };
    PGresult *r = PQexecParams(conn, "SELECT count(*) FROM audit_log WHERE request_id = $1::uuid", 1,
                               NULL, p, NULL, NULL, 0);
    int n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

static struct ctl_identity ident = { "tester", "10.1.2.3 50000 22", "/dev/pts/9" };

static void run(struct ctl_request *rq, struct ctl_result *res)
{
    assert_int_equal(ctl_execute(conn, rq, &ident, 10000, -1, res), 0);
}

static void test_outcomes(void **state)
{
    (void)state;
    struct ctl_request rq;
    struct ctl_result res;
    int v = version_of("cmp_2");

    /* applied, then the same request again: replayed, nothing twice */
    assert_int_equal(ctl_request_init(&rq, CTL_PAUSE, "cmp_2", v), 0);
    run(&rq, &res);
    assert_int_equal(res.outcome, CTL_APPLIED);
    assert_string_equal(res.status, "paused");
    assert_int_equal(res.version, v + 1);
    run(&rq, &res);
    assert_int_equal(res.outcome, CTL_REPLAYED);
    assert_int_equal(version_of("cmp_2"), v + 1);
    assert_int_equal(audit_rows(rq.request_id), 1);

    /* a new request for the same stale version: already paused */
    struct ctl_request rq2;
    ctl_request_init(&rq2, CTL_PAUSE, "cmp_2", v);
    run(&rq2, &res);
    assert_int_equal(res.outcome, CTL_ALREADY);
    assert_true(ctl_succeeded(res.outcome));
    assert_non_null(strstr(res.changed_by, "tester as "));
    assert_non_null(strstr(res.changed_by, "(ssh 10.1.2.3)"));

    /* cancel with the stale version: a conflict naming who and what now */
    ctl_request_init(&rq2, CTL_CANCEL, "cmp_2", v);
    run(&rq2, &res);
    assert_int_equal(res.outcome, CTL_CONFLICT);
    assert_string_equal(res.status, "paused");
    char msg[1024];
    ctl_describe(&rq2, &res, msg, sizeof msg);
    assert_non_null(strstr(msg, "Conflict: cmp_2 was changed by tester as "));
    assert_non_null(strstr(msg, "now paused"));
    assert_int_equal(audit_rows(rq2.request_id), 0);

    /* a change by hand (no audit row) names nobody rather than the last
     * operator who did write one */
    exec_sql("UPDATE campaigns SET name = 'renamed by hand', version = version + 1 WHERE id = 'cmp_2'");
    ctl_request_init(&rq2, CTL_CANCEL, "cmp_2", v + 1);
    run(&rq2, &res);
    assert_int_equal(res.outcome, CTL_CONFLICT);
    assert_string_equal(res.changed_by, "");
    ctl_describe(&rq2, &res, msg, sizeof msg);
    assert_non_null(strstr(msg, "changed by someone (no audit row) at "));
    v++;

    /* not allowed from the status */
    ctl_request_init(&rq2, CTL_LAUNCH, "cmp_2", v + 1);
    run(&rq2, &res);
    assert_int_equal(res.outcome, CTL_INVALID);
    ctl_describe(&rq2, &res, msg, sizeof msg);
    assert_string_equal(msg, "Cannot launch cmp_2: it is paused (only draft, scheduled can)");

    ctl_request_init(&rq2, CTL_PAUSE, "cmp_nope", 0);
    run(&rq2, &res);
    assert_int_equal(res.outcome, CTL_NOT_FOUND);

    /* rollback to a revision that does not exist, then to one that does */
    ctl_request_init(&rq2, CTL_ROLLBACK, "cmp_2", 0);
    rq2.to_revision = 9;
    run(&rq2, &res);
    assert_int_equal(res.outcome, CTL_INVALID);
    assert_string_equal(res.reason, "there is no revision 9");
    ctl_request_init(&rq2, CTL_ROLLBACK, "cmp_2", 0);
    run(&rq2, &res);
    assert_int_equal(res.outcome, CTL_APPLIED);
    assert_int_equal(res.revision, 3);
    assert_int_equal(res.restored_from, 1);
    assert_int_equal(res.superseded, 3); /* the deliveries of revision 2 */

    /* launch: the audience after suppression */
    ctl_request_init(&rq2, CTL_LAUNCH, "cmp_1", version_of("cmp_1"));
    run(&rq2, &res);
    assert_int_equal(res.outcome, CTL_APPLIED);
    assert_string_equal(res.status, "active");
    assert_int_equal(res.audience, 4); /* 5 members, one unsubscribed */

    /* stop all: every active campaign, one audit row each */
    ctl_request_init(&rq2, CTL_STOP_ALL, "", 0);
    run(&rq2, &res);
    assert_int_equal(res.outcome, CTL_APPLIED);
    assert_int_equal(res.n_stopped, 1);
    assert_string_equal(res.stopped, "cmp_1");
    run(&rq2, &res);
    assert_int_equal(res.outcome, CTL_REPLAYED);
}

/* A role that may read but not write is told so, and nothing changes. */
static void test_denied(void **state)
{
    (void)state;
    exec_sql("DO $$ BEGIN CREATE ROLE reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
             "GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader");
    char rdsn[1024];
    snprintf(rdsn, sizeof rdsn, "%s user=reader", dsn);
    PGconn *rc = PQconnectdb(rdsn);
    assert_int_equal(PQstatus(rc), CONNECTION_OK);
    struct ctl_request rq;
    struct ctl_result res;
    int v = version_of("cmp_1");
    ctl_request_init(&rq, CTL_RESUME, "cmp_1", v);
    assert_int_equal(ctl_execute(rc, &rq, &ident, 10000, -1, &res), 0);
    assert_int_equal(res.outcome, CTL_DENIED);
    assert_non_null(strstr(res.error, "42501"));
    assert_int_equal(version_of("cmp_1"), v);
    PQfinish(rc);
}

/* Verification: an applied request is found by its id; one that never
 * committed is not, and is reported so. */
static void test_verify(void **state)
{
    (void)state;
    struct ctl_request rq;
    struct ctl_result res;
    ctl_request_init(&rq, CTL_RESUME, "cmp_1", version_of("cmp_1"));
    run(&rq, &res);
    assert_int_equal(res.outcome, CTL_APPLIED);
    struct ctl_result v = { .outcome = CTL_UNKNOWN, .backend_pid = 1 }; /* no such backend */
    assert_int_equal(ctl_verify(conn, &rq, 10000, -1, &v), 0);
    assert_int_equal(v.outcome, CTL_APPLIED);
    assert_true(v.verified);
    assert_string_equal(v.status, "active");

    struct ctl_request never;
    ctl_request_init(&never, CTL_PAUSE, "cmp_1", 1);
    struct ctl_result n = { .outcome = CTL_UNKNOWN, .backend_pid = 1 };
    assert_int_equal(ctl_verify(conn, &never, 10000, -1, &n), 0);
    assert_int_equal(n.outcome, CTL_NOT_APPLIED);
    char msg[512];
    ctl_describe(&never, &n, msg, sizeof msg);
    assert_non_null(strstr(msg, "Not applied"));

    /* a live old session is ended before the audit log is trusted */
    PGconn *old = PQconnectdb(dsn);
    assert_int_equal(PQstatus(old), CONNECTION_OK);
    struct ctl_result o = { .outcome = CTL_UNKNOWN, .backend_pid = PQbackendPID(old) };
    assert_int_equal(ctl_verify(conn, &never, 10000, -1, &o), 0);
    PGresult *r = PQexec(old, "SELECT 1");
    assert_int_not_equal(PQresultStatus(r), PGRES_TUPLES_OK); /* it was terminated */
    PQclear(r);
    PQfinish(old);
}

static void test_preflight(void **state)
{
    (void)state;
    struct preflight pf;
    char err[256];
    assert_int_equal(preflight_run(conn, "cmp_3", 10000, -1, &pf, err, sizeof err), 0);
    assert_int_equal(pf.members, 5);
    assert_int_equal(pf.reachable, 4);
    assert_int_equal(pf.unsubscribed, 1);
    /* {{first_name}} is missing for one recipient; {{nope}} for all; the
     * split adds to 90 */
    bool warn_first = false, fail_nope = false, fail_split = false;
    for (size_t i = 0; i < pf.n; i++) {
        warn_first |= pf.checks[i].level == PF_WARN && strstr(pf.checks[i].text, "{{first_name}} is empty for 1 of 4");
        fail_nope |= pf.checks[i].level == PF_FAIL && strstr(pf.checks[i].text, "{{nope}}");
        fail_split |= pf.checks[i].level == PF_FAIL && strstr(pf.checks[i].text, "adds up to 90%");
    }
    assert_true(warn_first);
    assert_true(fail_nope);
    assert_true(fail_split);
    assert_true(pf.blocked);
    assert_int_equal(preflight_run(conn, "cmp_none", 10000, -1, &pf, err, sizeof err), 1);
    assert_non_null(strstr(err, "No campaign"));
}

/* The worker: an action goes through, its outcome comes back, and a second
 * one is refused while the first is in flight. */
static void test_worker(void **state)
{
    (void)state;
    int wake[2];
    assert_int_equal(pipe(wake), 0);
    char err[512];
    struct dbworker *w = dbworker_start(dsn, 60000, wake[1], err, sizeof err);
    assert_non_null(w);
    struct dbw_status st;
    int64_t end = clock_mono_ms() + 20000;
    do {
        poll(NULL, 0, 50);
        dbworker_status(w, &st);
    } while (!st.write_known && clock_mono_ms() < end);
    assert_true(st.write_known);
    assert_true(st.can_write);
    struct ctl_request rq, got;
    struct ctl_result res;
    ctl_request_init(&rq, CTL_PAUSE, "cmp_1", version_of("cmp_1"));
    char why[200];
    assert_true(dbworker_submit(w, &rq, &ident, why, sizeof why));
    assert_false(dbworker_submit(w, &rq, &ident, why, sizeof why));
    assert_non_null(strstr(why, "in flight"));
    bool have = false;
    while (!have && clock_mono_ms() < end) {
        poll(NULL, 0, 50);
        have = dbworker_take_result(w, &got, &res);
    }
    assert_true(have);
    assert_string_equal(got.request_id, rq.request_id);
    assert_int_equal(res.outcome, CTL_APPLIED);
    dbworker_status(w, &st);
    assert_false(st.action_busy);
    assert_true(dbworker_stop(&w));
    close(wake[0]);
    close(wake[1]);
}

int main(void)
{
    dsn = getenv("PGDSN");
    if (!dsn)
        return 77;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mirror),     cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_denied),     cmocka_unit_test(test_verify),
        cmocka_unit_test(test_preflight),  cmocka_unit_test(test_worker),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
