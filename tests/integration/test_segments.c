/* The segments_db API against a real server (PGDSN, from segments.sh),
 * as the console's worker would call it: a preview on a thread of its own
 * with its own connection, cancellation, the refresh lock held by another
 * connection, refused names and rules, a read-only session, and request
 * ids looked up after the fact. */
#include <pthread.h>
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

#include "control.h"
#include "db.h"
#include "segments_db.h"

#define TMO 30000

static const char *dsn;

static PGconn *connect_db(void)
{
    char err[512];
    PGconn *c = db_connect(dsn, 10000, -1, err, sizeof err);
    if (!c)
        fail_msg("connect: %s", err);
    return c;
}

static long long count_sql(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    long long n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

struct job {
    const char *rule;
    struct segdb_result res;
    int rc;
};

static void *preview_thread(void *arg)
{
    struct job *j = arg;
    PGconn *c = connect_db();
    j->rc = segdb_preview(c, j->rule, 0, TMO, -1, &j->res);
    PQfinish(c);
    return NULL;
}

/* Two previews at once, each on its own thread and connection. */
static void test_preview_threads(void **state)
{
    (void)state;
    struct job a = { .rule = "plan = \"pro\"" }, b = { .rule = "plan != \"pro\" or plan is null" };
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, preview_thread, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, preview_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    assert_int_equal(a.res.status, SEGDB_OK);
    assert_int_equal(b.res.status, SEGDB_OK);
    PGconn *c = connect_db();
    assert_int_equal(a.res.size, count_sql(c, "SELECT count(*) FROM contacts WHERE attributes->>'plan' = 'pro'"));
    assert_int_equal(a.res.size + b.res.size, count_sql(c, "SELECT count(*) FROM contacts"));
    assert_int_equal(a.res.reachable,
                     count_sql(c, "SELECT count(*) FROM contacts WHERE attributes->>'plan' = 'pro' AND status = 'active'"));
    /* the connection is idle again and still usable */
    assert_int_equal(PQtransactionStatus(c), PQTRANS_IDLE);
    struct segdb_result r;
    assert_int_equal(segdb_preview(c, "all", 0, TMO, -1, &r), 0);
    assert_int_equal(PQtransactionStatus(c), PQTRANS_IDLE);
    PQfinish(c);
}

/* A preview the caller cancels: -1, and the caller drops the connection. */
static void test_preview_cancelled(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    PGconn *c = connect_db();
    struct segdb_result r;
    assert_int_equal(segdb_preview(c, "all", 0, TMO, p[0], &r), -1);
    assert_int_not_equal(r.status, SEGDB_OK);
    assert_non_null(strstr(r.message, "cancelled"));
    PQfinish(c);
    close(p[0]);
    close(p[1]);
}

/* Bad rules and names are refused before anything reaches the server. */
static void test_refused(void **state)
{
    (void)state;
    PGconn *c = connect_db();
    long long before = count_sql(c, "SELECT count(*) FROM segments");
    struct segdb_result r;
    assert_int_equal(segdb_preview(c, "age >=", 0, TMO, -1, &r), 0);
    assert_int_equal(r.status, SEGDB_BAD_RULE);
    assert_int_equal(r.rule_error.col, 7);
    assert_string_equal(r.message, "1:7: expected a value after '>=', found end of rule");
    assert_int_equal(segdb_create(c, "x", "plan = ", NULL, TMO, -1, &r), 0);
    assert_int_equal(r.status, SEGDB_BAD_RULE);
    assert_int_equal(segdb_create(c, "", "all", NULL, TMO, -1, &r), 0);
    assert_int_equal(r.status, SEGDB_BAD_NAME);
    char longname[260];
    memset(longname, 'n', 201);
    longname[201] = '\0';
    assert_int_equal(segdb_create(c, longname, "all", NULL, TMO, -1, &r), 0);
    assert_int_equal(r.status, SEGDB_BAD_NAME);
    assert_int_equal(segdb_create(c, "bad \xC3\x28 utf-8", "all", NULL, TMO, -1, &r), 0);
    assert_int_equal(r.status, SEGDB_BAD_NAME);
    /* 200 characters of two bytes each is a good name */
    char wide[420] = "";
    for (int i = 0; i < 200; i++)
        strcat(wide, "\xC3\xA9");
    assert_int_equal(segdb_create(c, wide, "all", NULL, TMO, -1, &r), 0);
    assert_int_equal(r.status, SEGDB_OK);
    assert_int_equal(count_sql(c, "SELECT count(*) FROM segments"), before + 1);
    PQfinish(c);
}

/* A read-only session: writes are denied and say so. */
static void test_read_only_session(void **state)
{
    (void)state;
    PGconn *c = connect_db();
    PQclear(PQexec(c, "SET default_transaction_read_only = on"));
    struct ctl_identity who = { .os_user = "tester" };
    struct segdb_result r;
    assert_int_equal(segdb_create(c, "ro", "all", &who, TMO, -1, &r), 0);
    assert_int_equal(r.status, SEGDB_DENIED);
    assert_int_equal(segdb_refresh(c, "seg_1", &who, TMO, -1, &r), 0);
    assert_int_equal(r.status, SEGDB_DENIED);
    assert_int_equal(PQtransactionStatus(c), PQTRANS_IDLE);
    /* a preview is a read */
    assert_int_equal(segdb_preview(c, "all", 0, TMO, -1, &r), 0);
    assert_int_equal(r.status, SEGDB_OK);
    PQfinish(c);
}

/* The refresh lock held by another connection: LOCKED at once, naming it. */
static void test_refresh_locked(void **state)
{
    (void)state;
    char err[512];
    char holder_dsn[600];
    snprintf(holder_dsn, sizeof holder_dsn, "%s application_name=holder", dsn);
    PGconn *h = db_connect(holder_dsn, 10000, -1, err, sizeof err);
    if (!h)
        fail_msg("connect: %s", err);
    PQclear(PQexec(h, "BEGIN"));
    const char *p[1] = { "seg_2" };
    PGresult *lr = PQexecParams(h, "SELECT pg_advisory_xact_lock(" SEGDB_LOCK_KEY ")", 1, NULL, p, NULL,
                                NULL, 0);
    assert_int_equal(PQresultStatus(lr), PGRES_TUPLES_OK);
    PQclear(lr);
    PGconn *c = connect_db();
    struct ctl_identity who = { .os_user = "tester" };
    struct segdb_result r;
    assert_int_equal(segdb_refresh(c, "seg_2", &who, TMO, -1, &r), 0);
    assert_int_equal(r.status, SEGDB_LOCKED);
    assert_int_equal(r.holder.pid, PQbackendPID(h));
    assert_string_equal(r.holder.app, "holder");
    assert_string_equal(r.holder.addr, "local");
    assert_true(r.holder.since_ms > 0);
    assert_non_null(strstr(r.message, "seg_2 is being refreshed by "));
    assert_non_null(strstr(r.message, "@local (holder, since "));
    assert_int_equal(PQtransactionStatus(c), PQTRANS_IDLE);
    /* once it lets go, the refresh goes through, and is audited */
    PQclear(PQexec(h, "COMMIT"));
    assert_int_equal(segdb_refresh(c, "seg_2", &who, TMO, -1, &r), 0);
    assert_int_equal(r.status, SEGDB_OK);
    char id[64];
    assert_int_equal(segdb_lookup_request(c, r.request_id, id, sizeof id, TMO, err, sizeof err), 1);
    assert_string_equal(id, "seg_2");
    assert_int_equal(count_sql(c, "SELECT count(*) FROM audit_log WHERE action = 'segment_refresh' "
                                  "AND segment_id = 'seg_2' AND os_user = 'tester'"), 1);
    assert_int_equal(segdb_lookup_request(c, "00000000-0000-4000-8000-000000000000", id, sizeof id,
                                          TMO, err, sizeof err), 0);
    /* no such segment */
    assert_int_equal(segdb_refresh(c, "seg_nope", &who, TMO, -1, &r), 0);
    assert_int_equal(r.status, SEGDB_NOT_FOUND);
    int lost = 0;
    assert_null(segdb_show(c, "seg_nope", TMO, -1, &r, &lost));
    assert_int_equal(r.status, SEGDB_NOT_FOUND);
    assert_int_equal(lost, 0);
    PQfinish(c);
    PQfinish(h);
}

/* Performance: the segment's campaigns and their rates, from campaign_stats. */
static void test_show(void **state)
{
    (void)state;
    PGconn *c = connect_db();
    PGresult *r0 = PQexec(c, "SELECT segment_id FROM campaigns GROUP BY segment_id "
                             "ORDER BY count(*) DESC, segment_id LIMIT 1");
    assert_int_equal(PQntuples(r0), 1);
    char seg[64];
    snprintf(seg, sizeof seg, "%s", PQgetvalue(r0, 0, 0));
    PQclear(r0);
    struct segdb_result r;
    struct segdb_detail *d = segdb_show(c, seg, TMO, -1, &r, NULL);
    assert_non_null(d);
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM campaigns WHERE segment_id = '%s'", seg);
    assert_int_equal((long long)d->ncampaigns, count_sql(c, sql));
    snprintf(sql, sizeof sql, "SELECT coalesce(sum(s.sent), 0) FROM campaign_stats s JOIN campaigns c "
                              "ON c.id = s.campaign_id WHERE c.segment_id = '%s'", seg);
    assert_int_equal(d->sent, count_sql(c, sql));
    long long sent = 0, opened = 0;
    for (size_t i = 0; i < d->ncampaigns; i++) {
        sent += d->campaigns[i].sent;
        opened += d->campaigns[i].opened;
        if (d->campaigns[i].sent > 0)
            assert_true(d->campaigns[i].open_rate >= 0 && d->campaigns[i].open_rate <= 1);
        else
            assert_true(d->campaigns[i].open_rate < 0);
    }
    assert_int_equal(sent, d->sent);
    assert_int_equal(opened, d->opened);
    if (d->sent > 0)
        assert_true(d->open_rate == (double)d->opened / (double)d->sent);
    segdb_detail_free(&d);
    assert_null(d);
    PQfinish(c);
}

int main(void)
{
    dsn = getenv("PGDSN");
    if (!dsn) {
        fprintf(stderr, "PGDSN is not set: run tests/integration/segments.sh\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preview_threads),
        cmocka_unit_test(test_preview_cancelled),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_read_only_session),
        cmocka_unit_test(test_refresh_locked),
        cmocka_unit_test(test_show),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
