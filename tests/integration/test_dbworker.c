/* The database worker against a real server (PGDSN, from dbworker.sh):
 * snapshots, NOTIFY-driven refresh, losing and regaining the server, and a
 * prompt stop. Control of the server comes from the shell through files:
 * the test writes $T_CTL/req ("stop", "start", "kill") and waits for
 * $T_CTL/done. */
#include <fcntl.h>
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
        cmocka_unit_test(test_server_lost_and_back),
        cmocka_unit_test(test_unreachable_from_the_start),
    };
    return cmocka_run_group_tests_name("dbworker", tests, NULL, NULL);
}
