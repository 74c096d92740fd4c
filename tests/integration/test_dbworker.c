/* The database worker against a real server (PGDSN, from dbworker.sh):
 * snapshots, NOTIFY-driven refresh, alert acks made through one worker and
 * seen by another, their expiry, read-only refusal, losing and regaining
 * the server, and a prompt stop. Control of the server comes from the shell through files:
 * the test writes $T_CTL/req ("stop", "start", "kill") and waits for
 * $T_CTL/done. */
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "clock.h"
#include "db.h"
#include "dbworker.h"

static const char *dsn;
static int wake[2];

/* Waits up to ms for a campaign snapshot in which pred holds; returns it. */
static struct campaign_list *wait_list(struct dbworker *w, int ms,
                                       int (*pred)(const struct campaign_list *))
{
    int64_t end = clock_mono_ms() + ms;
    while (clock_mono_ms() < end) {
        struct pollfd p = { .fd = wake[0], .events = POLLIN };
        poll(&p, 1, 100);
        char buf[64];
        while (read(wake[0], buf, sizeof buf) > 0)
            ;
        struct campaign_list *l = dbworker_take_campaigns(w);
        if (l && pred(l))
            return l;
        campaign_list_free(&l);
    }
    return NULL;
}

static int wait_state(struct dbworker *w, enum dbw_state st, int ms, struct dbw_status *out)
{
    int64_t end = clock_mono_ms() + ms;
    while (clock_mono_ms() < end) {
        dbworker_status(w, out);
        if (out->state == st)
            return 1;
        usleep(50000);
    }
    return 0;
}

static int any(const struct campaign_list *l) { return l->n == 2; }

static int renamed(const struct campaign_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, "renamed by another console") == 0)
            return 1;
    return 0;
}

static int renamed_again(const struct campaign_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, "renamed after the kill") == 0)
            return 1;
    return 0;
}

static void exec_sql(const char *sql)
{
    char err[512];
    PGconn *c = db_connect(dsn, 10000, -1, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(db_exec(c, sql, err, sizeof err), 0);
    PQfinish(c);
}

static void server(const char *what)
{
    const char *ctl = getenv("T_CTL");
    char path[512], done[512];
    snprintf(path, sizeof path, "%s/req", ctl);
    snprintf(done, sizeof done, "%s/done", ctl);
    unlink(done);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", what);
    fclose(f);
    for (int i = 0; i < 600 && access(done, F_OK) != 0; i++)
        usleep(100000);
    assert_int_equal(access(done, F_OK), 0);
}

static void test_snapshot_and_notify(void **state)
{
    (void)state;
    char err[512];
    /* a long refresh: only a notification can explain a quick update */
    struct dbworker *w = dbworker_start(dsn, 600000, wake[1], err, sizeof err);
    assert_non_null(w);
    struct campaign_list *l = wait_list(w, 10000, any);
    assert_non_null(l);
    assert_string_equal(l->v[0].id, "cmp_2"); /* active sorts first */
    assert_int_equal(l->v[0].sent, 3);
    assert_int_equal(l->v[1].audience, 5);
    campaign_list_free(&l);
    struct dbw_status st;
    dbworker_status(w, &st);
    assert_int_equal(st.state, DBW_CONNECTED);
    assert_true(st.data_ms > 0);
    /* segments come with the campaigns, engagement figures included */
    struct segment_list *segs = dbworker_take_segments(w);
    assert_non_null(segs);
    assert_int_equal(segs->n, 1);
    assert_string_equal(segs->v[0].name, "Everyone");
    assert_int_equal(segs->v[0].campaigns, 2);
    assert_int_equal(segs->v[0].opened_30d, 1);
    assert_int_equal(segs->v[0].clicked_30d, 0);
    segment_list_free(&segs);

    exec_sql("UPDATE campaigns SET name = 'renamed by another console', version = version + 1"
             " WHERE id = 'cmp_1'");
    l = wait_list(w, 3000, renamed);
    assert_non_null(l);
    campaign_list_free(&l);

    /* an explicit refresh also works */
    dbworker_refresh(w);
    l = wait_list(w, 3000, any);
    assert_non_null(l);
    campaign_list_free(&l);
    assert_true(dbworker_stop(&w));
    assert_null(w);
}

/* Waits up to ms for an ack list in which pred(list, arg) holds. */
static int wait_acks(struct dbworker *w, int ms, int (*pred)(const struct alertack_list *, int64_t),
                     int64_t arg)
{
    int64_t end = clock_mono_ms() + ms;
    while (clock_mono_ms() < end) {
        struct pollfd p = { .fd = wake[0], .events = POLLIN };
        poll(&p, 1, 100);
        char buf[64];
        while (read(wake[0], buf, sizeof buf) > 0)
            ;
        struct alertack_list *l = dbworker_take_acks(w);
        int ok = l && pred(l, arg);
        alertack_list_free(&l);
        if (ok)
            return 1;
    }
    return 0;
}

static const struct alertack *find_ack(const struct alertack_list *l, int64_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].id == id)
            return &l->v[i];
    return NULL;
}

static int has_ack(const struct alertack_list *l, int64_t id) { return find_ack(l, id) != NULL; }
static int lacks_ack(const struct alertack_list *l, int64_t id) { return find_ack(l, id) == NULL; }

/* Waits for the outcome of the ack in flight; fails the test without one. */
static void ack_result(struct dbworker *w, struct alertack_result *res)
{
    struct alertack_request rq;
    for (int i = 0; i < 100; i++) {
        if (dbworker_take_ack_result(w, &rq, res))
            return;
        usleep(100000);
    }
    fail_msg("no outcome for the ack within 10 s");
}

static struct dbworker *start_live(const char *conninfo)
{
    char err[512];
    /* a long refresh: only a notification can explain a quick update */
    struct dbworker *w = dbworker_start(conninfo, 600000, wake[1], err, sizeof err);
    assert_non_null(w);
    struct dbw_status st;
    assert_true(wait_state(w, DBW_CONNECTED, 10000, &st));
    for (int i = 0; i < 100 && !(st.live && st.write_known); i++) {
        usleep(100000);
        dbworker_status(w, &st);
    }
    assert_true(st.live);
    assert_true(st.write_known);
    return w;
}

static void test_acks_between_consoles(void **state)
{
    (void)state;
    struct dbworker *a = start_live(dsn), *b = start_live(dsn);
    struct dbw_status st;
    dbworker_status(a, &st);
    assert_true(st.can_ack);
    assert_string_equal(st.ack_reason, "");
    struct ctl_identity id = { .os_user = "tester", .ssh_client = "10.9.8.7 50000 22" };
    char why[256], err[256];

    /* an ack made through one console shows in the other's snapshot */
    struct alertack_request rq;
    assert_int_equal(alertack_request_init(&rq, ALERTACK_OP_ACK), 0);
    snprintf(rq.rule, sizeof rq.rule, "HighErrorRate");
    assert_int_equal(alertack_request_add_label(&rq, "instance", "db1:9187", err, sizeof err), 0);
    snprintf(rq.comment, sizeof rq.comment, "looking into it");
    assert_true(dbworker_submit_ack(a, &rq, &id, why, sizeof why));
    /* one write at a time, campaign action or ack */
    assert_false(dbworker_submit_ack(a, &rq, &id, why, sizeof why));
    assert_non_null(strstr(why, "in flight"));
    struct alertack_result res;
    ack_result(a, &res);
    assert_int_equal(res.outcome, CTL_APPLIED);
    int64_t acked = res.ack_id;
    assert_true(acked > 0);
    assert_non_null(strstr(res.who, "tester as "));
    assert_true(wait_acks(b, 3000, has_ack, acked));

    /* a snooze of a few seconds: there, then gone when it expires, with no
     * notification to say so */
    struct alertack_request sn;
    assert_int_equal(alertack_request_init(&sn, ALERTACK_OP_SNOOZE), 0);
    snprintf(sn.rule, sizeof sn.rule, "DatabaseSlow");
    snprintf(sn.comment, sizeof sn.comment, "maintenance window");
    sn.for_s = 2;
    assert_true(dbworker_submit_ack(a, &sn, &id, why, sizeof why));
    ack_result(a, &res);
    assert_int_equal(res.outcome, CTL_APPLIED);
    int64_t snoozed = res.ack_id;
    assert_true(wait_acks(b, 3000, has_ack, snoozed));
    assert_true(wait_acks(b, 8000, lacks_ack, snoozed));

    /* the server's checks hold for the worker's path too */
    struct alertack_request blank;
    assert_int_equal(alertack_request_init(&blank, ALERTACK_OP_ACK), 0);
    snprintf(blank.rule, sizeof blank.rule, "HighErrorRate");
    snprintf(blank.comment, sizeof blank.comment, "   ");
    assert_true(dbworker_submit_ack(b, &blank, &id, why, sizeof why));
    ack_result(b, &res);
    assert_int_equal(res.outcome, CTL_INVALID);
    assert_non_null(strstr(res.error, "a comment is required"));

    /* unack through the other console: gone from the first's snapshot */
    struct alertack_request un;
    assert_int_equal(alertack_request_init(&un, ALERTACK_OP_UNACK), 0);
    un.ack_id = acked;
    assert_true(dbworker_submit_ack(b, &un, &id, why, sizeof why));
    ack_result(b, &res);
    assert_int_equal(res.outcome, CTL_APPLIED);
    assert_true(wait_acks(a, 3000, lacks_ack, acked));
    assert_int_equal(alertack_request_init(&un, ALERTACK_OP_UNACK), 0);
    un.ack_id = acked;
    assert_true(dbworker_submit_ack(a, &un, &id, why, sizeof why));
    ack_result(a, &res);
    assert_int_equal(res.outcome, CTL_ALREADY);
    assert_int_equal(alertack_request_init(&un, ALERTACK_OP_UNACK), 0);
    un.ack_id = 987654321;
    assert_true(dbworker_submit_ack(a, &un, &id, why, sizeof why));
    ack_result(a, &res);
    assert_int_equal(res.outcome, CTL_NOT_FOUND);

    /* the console's own read-only mode refuses before anything is sent */
    dbworker_set_read_only(a, "read_only is set (--read-only)");
    assert_false(dbworker_submit_ack(a, &rq, &id, why, sizeof why));
    assert_non_null(strstr(why, "read-only (read_only is set (--read-only))"));
    struct ctl_request crq;
    assert_int_equal(ctl_request_init(&crq, CTL_PAUSE, "cmp_2", 0), 0);
    assert_false(dbworker_submit(a, &crq, &id, why, sizeof why));
    assert_non_null(strstr(why, "read-only"));
    dbworker_set_read_only(a, NULL);
    /* the first request sent again: applied once, its result again */
    assert_true(dbworker_submit_ack(a, &rq, &id, why, sizeof why));
    ack_result(a, &res);
    assert_int_equal(res.outcome, CTL_REPLAYED);
    assert_int_equal(res.ack_id, acked);
    assert_int_equal(alertack_request_init(&rq, ALERTACK_OP_ACK), 0);
    snprintf(rq.rule, sizeof rq.rule, "HighErrorRate");
    snprintf(rq.comment, sizeof rq.comment, "again, the whole rule");
    assert_true(dbworker_submit_ack(a, &rq, &id, why, sizeof why));
    ack_result(a, &res);
    assert_int_equal(res.outcome, CTL_APPLIED);
    assert_true(wait_acks(b, 3000, has_ack, res.ack_id));
    assert_true(dbworker_stop(&a));
    assert_true(dbworker_stop(&b));
}

/* A role that may read but not write: the acks show, an ack is refused
 * before it is sent, with the reason the status line gives. */
static void test_acks_read_only_role(void **state)
{
    (void)state;
    const char *ro = getenv("RO_DSN");
    if (!ro)
        skip();
    exec_sql("SELECT alert_ack(gen_random_uuid(), 'snooze', 'CampaignSendRateLow', '{}',"
             " 'seen by a read-only role', '1 hour', 'setup', NULL, NULL)");
    struct dbworker *w = start_live(ro);
    struct dbw_status st;
    dbworker_status(w, &st);
    assert_false(st.can_ack);
    assert_non_null(strstr(st.ack_reason, "may not acknowledge alerts"));
    assert_false(st.can_write);
    struct alertack_request rq;
    char why[256];
    assert_int_equal(alertack_request_init(&rq, ALERTACK_OP_ACK), 0);
    snprintf(rq.rule, sizeof rq.rule, "HighErrorRate");
    snprintf(rq.comment, sizeof rq.comment, "should not land");
    struct ctl_identity id = { .os_user = "tester" };
    assert_false(dbworker_submit_ack(w, &rq, &id, why, sizeof why));
    assert_non_null(strstr(why, "read-only (database role"));
    assert_non_null(strstr(why, "nothing was sent"));
    struct alertack_list *l = NULL;
    for (int i = 0; i < 50 && !l; i++) {
        usleep(100000);
        l = dbworker_take_acks(w);
    }
    assert_non_null(l);
    int seen = 0;
    for (size_t i = 0; i < l->n; i++)
        seen |= strcmp(l->v[i].rule, "CampaignSendRateLow") == 0;
    assert_true(seen);
    alertack_list_free(&l);
    assert_true(dbworker_stop(&w));
}

/* ---- tasks ---- */

struct sql_task {
    char sql[256];
    char answer[64];
};

static int run_sql_task(PGconn *conn, void *arg, int cancel_fd, char *err, size_t errsz)
{
    (void)cancel_fd;
    struct sql_task *t = arg;
    PGresult *res = PQexec(conn, t->sql);
    int rc = 0;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        snprintf(t->answer, sizeof t->answer, "%s", PQgetvalue(res, 0, 0));
    else if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(err, errsz, "%s", PQresultErrorMessage(res));
        rc = -1;
    }
    PQclear(res);
    return rc;
}

static bool take_task(struct dbworker *w, struct dbw_task *t, int ms)
{
    int64_t end = clock_mono_ms() + ms;
    while (clock_mono_ms() < end) {
        if (dbworker_take_task(w, t))
            return true;
        struct pollfd p = { .fd = wake[0], .events = POLLIN };
        poll(&p, 1, 100);
        char buf[64];
        while (read(wake[0], buf, sizeof buf) > 0)
            ;
    }
    return false;
}

static void test_tasks(void **state)
{
    (void)state;
    struct dbworker *w = start_live(dsn);
    struct sql_task a = { .sql = "SELECT 'first'" }, b = { .sql = "SELECT 2 + 2" }, c = { .sql = "SELECT nope" };
    char why[256];
    struct dbw_task ta = { .fn = run_sql_task, .arg = &a, .kind = 1 }, tb = ta, tc = ta;
    tb.arg = &b;
    tb.kind = 2;
    tc.arg = &c;
    tc.kind = 3;
    /* in order, each on the worker's connection; an error comes back as one */
    assert_true(dbworker_run_task(w, &ta, why, sizeof why));
    assert_true(dbworker_run_task(w, &tb, why, sizeof why));
    assert_true(dbworker_run_task(w, &tc, why, sizeof why));
    struct dbw_task got;
    assert_true(take_task(w, &got, 5000));
    assert_int_equal(got.kind, 1);
    assert_int_equal(got.rc, 0);
    assert_string_equal(a.answer, "first");
    assert_true(take_task(w, &got, 5000));
    assert_int_equal(got.kind, 2);
    assert_string_equal(b.answer, "4");
    assert_true(take_task(w, &got, 5000));
    assert_int_equal(got.kind, 3);
    assert_int_equal(got.rc, -1);
    assert_non_null(strstr(got.err, "nope"));
    /* a write on a read-only console is refused, and never runs */
    dbworker_set_read_only(w, "read_only is set");
    struct sql_task d = { .sql = "SELECT 'ran'" };
    struct dbw_task td = { .fn = run_sql_task, .arg = &d, .write = true, .kind = 4 };
    assert_true(dbworker_run_task(w, &td, why, sizeof why));
    assert_true(take_task(w, &got, 5000));
    assert_int_equal(got.kind, 4);
    assert_int_equal(got.rc, -1);
    assert_non_null(strstr(got.err, "read-only (read_only is set)"));
    assert_string_equal(d.answer, "");
    /* a read still runs */
    struct sql_task e = { .sql = "SELECT 'read'" };
    struct dbw_task te = { .fn = run_sql_task, .arg = &e, .kind = 5 };
    assert_true(dbworker_run_task(w, &te, why, sizeof why));
    assert_true(take_task(w, &got, 5000));
    assert_string_equal(e.answer, "read");
    /* the queue is bounded */
    size_t queued = 0;
    struct sql_task slow = { .sql = "SELECT pg_sleep(0.3)" };
    struct dbw_task ts = { .fn = run_sql_task, .arg = &slow, .kind = 6 };
    while (dbworker_run_task(w, &ts, why, sizeof why) && queued < 100)
        queued++;
    assert_true(queued <= DBW_MAX_TASKS + 1);
    assert_non_null(strstr(why, "busy"));
    assert_true(dbworker_stop(&w));
}

static void test_server_lost_and_back(void **state)
{
    (void)state;
    char err[512];
    struct dbworker *w = dbworker_start(dsn, 600000, wake[1], err, sizeof err);
    assert_non_null(w);
    struct campaign_list *l = wait_list(w, 10000, any);
    assert_non_null(l);
    campaign_list_free(&l);

    /* both of the console's connections are killed: it reconnects, re-reads
     * and listens again (only a notification explains a quick update: the
     * refresh interval is ten minutes) */
    struct dbw_status st;
    assert_true(wait_state(w, DBW_CONNECTED, 5000, &st));
    for (int i = 0; i < 50 && !st.live; i++) {
        usleep(100000);
        dbworker_status(w, &st);
    }
    assert_true(st.live);
    exec_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
             " WHERE application_name = 'marketing' AND pid <> pg_backend_pid()");
    l = wait_list(w, 10000, any);
    assert_non_null(l);
    campaign_list_free(&l);
    for (int i = 0; i < 100; i++) {
        dbworker_status(w, &st);
        if (st.live)
            break;
        usleep(100000);
    }
    assert_true(st.live);
    exec_sql("UPDATE campaigns SET name = 'renamed after the kill', version = version + 1"
             " WHERE id = 'cmp_1'");
    l = wait_list(w, 3000, renamed_again);
    assert_non_null(l);
    campaign_list_free(&l);

    /* the server stops: reconnecting, with attempts and a reason */
    server("stop");
    assert_true(wait_state(w, DBW_RECONNECTING, 10000, &st));
    int64_t t0 = clock_mono_ms();
    while (clock_mono_ms() - t0 < 3000) {
        dbworker_status(w, &st);
        if (st.attempt >= 2)
            break;
        usleep(50000);
    }
    assert_true(st.attempt >= 2);
    assert_true(st.error[0] != '\0');
    /* ... and back: connected and fresh data without being asked */
    server("start");
    l = wait_list(w, 40000, any);
    assert_non_null(l);
    campaign_list_free(&l);
    assert_true(wait_state(w, DBW_CONNECTED, 1000, &st));

    /* stopping while reconnecting is prompt */
    server("stop");
    assert_true(wait_state(w, DBW_RECONNECTING, 10000, &st));
    t0 = clock_mono_ms();
    assert_true(dbworker_stop(&w));
    assert_true(clock_mono_ms() - t0 < 5000);
    server("start");
}

static void test_unreachable_from_the_start(void **state)
{
    (void)state;
    char err[512];
    struct dbworker *w = dbworker_start("host=/nonexistent dbname=x", 1000, wake[1], err, sizeof err);
    assert_non_null(w);
    struct dbw_status st;
    assert_true(wait_state(w, DBW_RECONNECTING, 5000, &st));
    assert_non_null(strstr(st.error, "cannot connect"));
    assert_int_equal(st.data_ms, 0);
    assert_null(dbworker_take_campaigns(w));
    dbworker_stop(&w);
}

int main(void)
{
    dsn = getenv("PGDSN");
    if (!dsn || !getenv("T_CTL"))
        return 77;
    if (pipe(wake) != 0)
        return 1;
    fcntl(wake[0], F_SETFL, O_NONBLOCK);
    fcntl(wake[1], F_SETFL, O_NONBLOCK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_and_notify),
        cmocka_unit_test(test_acks_between_consoles),
        cmocka_unit_test(test_acks_read_only_role),
        cmocka_unit_test(test_tasks),
        cmocka_unit_test(test_server_lost_and_back),
        cmocka_unit_test(test_unreachable_from_the_start),
    };
    return cmocka_run_group_tests_name("dbworker", tests, NULL, NULL);
}
