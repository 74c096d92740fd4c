/* Which ack applies to an alert, requests checked before they are sent,
 * durations, and the list as it is read from a result. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "alertack.h"

#define L(n, v) { (n), (v) }

/* A list built by hand: acks in force as the database would give them. */
struct fixture {
    struct alertack_list l;
    struct alertack v[8];
    struct alertack_label lab[8][4];
};

static void add(struct fixture *f, int64_t id, const char *rule, enum alertack_kind kind,
                int64_t created_ms, int64_t expires_ms, size_t n, const struct alertack_label *labels)
{
    struct alertack *a = &f->v[f->l.n];
    memset(a, 0, sizeof *a);
    a->id = id;
    a->rule = (char *)rule;
    a->kind = kind;
    a->created_ms = created_ms;
    a->expires_ms = expires_ms;
    for (size_t i = 0; i < n; i++)
        f->lab[f->l.n][i] = labels[i];
    a->labels = f->lab[f->l.n];
    a->n_labels = n;
    f->l.n++;
    f->l.v = f->v;
}

static const struct alertack_label alert[] = {
    L("alertname", "HighErrorRate"), L("severity", "critical"), L("instance", "db1:9187"),
    L("job", "marketing"),
};
#define NALERT (sizeof alert / sizeof alert[0])

static void test_match_by_labels(void **state)
{
    (void)state;
    struct fixture f = { 0 };
    const struct alertack_label inst[] = { L("instance", "db1:9187") };
    const struct alertack_label other[] = { L("instance", "db2:9187") };
    const struct alertack_label missing[] = { L("instance", "db1:9187"), L("team", "mail") };
    add(&f, 1, "HighErrorRate", ALERTACK_ACK, 1000, 100000, 1, other);
    add(&f, 2, "HighErrorRate", ALERTACK_ACK, 1000, 100000, 2, missing);
    add(&f, 3, "DatabaseSlow", ALERTACK_ACK, 1000, 100000, 1, inst);
    /* none applies: another instance, a label the alert lacks, another rule */
    assert_null(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 500, 2000));
    add(&f, 4, "HighErrorRate", ALERTACK_ACK, 1000, 100000, 1, inst);
    const struct alertack *m = alertack_match(&f.l, "HighErrorRate", alert, NALERT, 500, 2000);
    assert_non_null(m);
    assert_int_equal(m->id, 4);
    /* rule names are compared whole and exactly */
    assert_null(alertack_match(&f.l, "HighErrorRat", alert, NALERT, 500, 2000));
    assert_null(alertack_match(&f.l, "higherrorrate", alert, NALERT, 500, 2000));
    /* the alert's labels in any order; a value must match exactly */
    const struct alertack_label shuffled[] = { L("job", "marketing"), L("instance", "db1:9187") };
    assert_int_equal(alertack_match(&f.l, "HighErrorRate", shuffled, 2, 500, 2000)->id, 4);
    const struct alertack_label prefix[] = { L("instance", "db1:918") };
    assert_null(alertack_match(&f.l, "HighErrorRate", prefix, 1, 500, 2000));
    assert_null(alertack_match(NULL, "HighErrorRate", alert, NALERT, 500, 2000));
}

static void test_whole_rule_and_most_specific(void **state)
{
    (void)state;
    struct fixture f = { 0 };
    const struct alertack_label inst[] = { L("instance", "db1:9187") };
    const struct alertack_label two[] = { L("instance", "db1:9187"), L("severity", "critical") };
    /* the whole rule, made last: newest, but least specific */
    add(&f, 7, "HighErrorRate", ALERTACK_SNOOZE, 5000, 100000, 0, NULL);
    assert_int_equal(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 500, 6000)->id, 7);
    assert_int_equal(alertack_match(&f.l, "HighErrorRate", NULL, 0, 500, 6000)->id, 7);
    add(&f, 5, "HighErrorRate", ALERTACK_ACK, 3000, 100000, 1, inst);
    assert_int_equal(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 500, 6000)->id, 5);
    add(&f, 6, "HighErrorRate", ALERTACK_ACK, 2000, 100000, 2, two);
    assert_int_equal(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 500, 6000)->id, 6);
    /* an alert of another instance still gets the whole-rule snooze */
    const struct alertack_label db2[] = { L("instance", "db2:9187"), L("severity", "critical") };
    assert_int_equal(alertack_match(&f.l, "HighErrorRate", db2, 2, 500, 6000)->id, 7);
}

static void test_newest_then_highest_id(void **state)
{
    (void)state;
    struct fixture f = { 0 };
    const struct alertack_label inst[] = { L("instance", "db1:9187") };
    const struct alertack_label sev[] = { L("severity", "critical") };
    add(&f, 10, "HighErrorRate", ALERTACK_ACK, 2000, 100000, 1, inst);
    add(&f, 11, "HighErrorRate", ALERTACK_ACK, 3000, 100000, 1, sev);
    add(&f, 9, "HighErrorRate", ALERTACK_ACK, 1000, 100000, 1, inst);
    assert_int_equal(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 500, 4000)->id, 11);
    add(&f, 12, "HighErrorRate", ALERTACK_ACK, 3000, 100000, 1, inst);
    assert_int_equal(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 500, 4000)->id, 12);
}

static void test_expiry_and_resolve(void **state)
{
    (void)state;
    struct fixture f = { 0 };
    add(&f, 1, "HighErrorRate", ALERTACK_ACK, 1000, 10000, 0, NULL);
    /* in force until its expiry, by the caller's clock */
    assert_non_null(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 900, 9999));
    assert_null(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 900, 10000));
    assert_non_null(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 900, 0));
    /* an ack covers the firing it was made during, not one after a resolve */
    assert_non_null(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 1000, 5000));
    assert_null(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 1001, 5000));
    assert_non_null(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 0, 5000));
    /* a snooze covers whatever fires until it expires */
    add(&f, 2, "HighErrorRate", ALERTACK_SNOOZE, 1000, 10000, 0, NULL);
    assert_int_equal(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 4000, 5000)->id, 2);
    /* an expired specific ack does not hide a whole-rule one in force */
    const struct alertack_label inst[] = { L("instance", "db1:9187") };
    add(&f, 3, "HighErrorRate", ALERTACK_ACK, 1000, 3000, 1, inst);
    assert_int_equal(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 500, 5000)->id, 2);
    assert_int_equal(alertack_match(&f.l, "HighErrorRate", alert, NALERT, 500, 2000)->id, 3);
}

static void test_durations(void **state)
{
    (void)state;
    int64_t s = -1;
    assert_int_equal(alertack_parse_duration("90s", &s), 0);
    assert_int_equal(s, 90);
    assert_int_equal(alertack_parse_duration("45m", &s), 0);
    assert_int_equal(s, 2700);
    assert_int_equal(alertack_parse_duration("4h", &s), 0);
    assert_int_equal(s, 14400);
    assert_int_equal(alertack_parse_duration("1h30m", &s), 0);
    assert_int_equal(s, 5400);
    assert_int_equal(alertack_parse_duration("2d", &s), 0);
    assert_int_equal(s, 172800);
    assert_int_equal(alertack_parse_duration("1w", &s), 0);
    assert_int_equal(s, 604800);
    const char *bad[] = { "", "4", "h", "4x", "-4h", "4h ", " 4h", "1.5h", "4hh", "99999999999h" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = 7;
        assert_int_equal(alertack_parse_duration(bad[i], &s), -1);
        assert_int_equal(s, 7);
    }
    assert_int_equal(alertack_parse_duration(NULL, &s), -1);
}

static void test_request_labels(void **state)
{
    (void)state;
    struct alertack_request rq;
    char err[256];
    assert_int_equal(alertack_request_init(&rq, ALERTACK_OP_ACK), 0);
    assert_int_equal(strlen(rq.request_id), 36);
    assert_int_equal(rq.for_s, ALERTACK_DEFAULT_FOR_S);
    assert_int_equal(alertack_request_add_label(&rq, "severity", "critical", err, sizeof err), 0);
    assert_int_equal(alertack_request_add_label(&rq, "instance", "db1", err, sizeof err), 0);
    assert_int_equal(alertack_request_add_label(&rq, "job", "m", err, sizeof err), 0);
    /* kept sorted */
    assert_int_equal(rq.n_labels, 3);
    assert_string_equal(rq.labels[0].name, "instance");
    assert_string_equal(rq.labels[1].name, "job");
    assert_string_equal(rq.labels[2].name, "severity");
    assert_string_equal(rq.labels[2].value, "critical");
    assert_int_equal(alertack_request_add_label(&rq, "job", "again", err, sizeof err), -1);
    assert_non_null(strstr(err, "twice"));
    assert_int_equal(alertack_request_add_label(&rq, "alertname", "X", err, sizeof err), -1);
    assert_non_null(strstr(err, "alertname is the rule"));
    assert_int_equal(alertack_request_add_label(&rq, "9lives", "x", err, sizeof err), -1);
    assert_non_null(strstr(err, "not a label name"));
    assert_int_equal(alertack_request_add_label(&rq, "a-b", "x", err, sizeof err), -1);
    assert_int_equal(alertack_request_add_label(&rq, "empty", "", err, sizeof err), -1);
    assert_int_equal(alertack_request_add_label(&rq, "bad", "\xc3(", err, sizeof err), -1);
    char big[ALERTACK_VALUE_MAX + 2];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(alertack_request_add_label(&rq, "big", big, err, sizeof err), -1);
    big[ALERTACK_VALUE_MAX] = '\0';
    assert_int_equal(alertack_request_add_label(&rq, "big", big, err, sizeof err), 0);
    assert_int_equal(rq.n_labels, 4);
    for (int i = (int)rq.n_labels; i < ALERTACK_MAX_LABELS; i++) {
        char name[8];
        snprintf(name, sizeof name, "l%02d", i);
        assert_int_equal(alertack_request_add_label(&rq, name, "x", err, sizeof err), 0);
    }
    assert_int_equal(alertack_request_add_label(&rq, "zz", "x", err, sizeof err), -1);
    assert_non_null(strstr(err, "at most 16"));
    /* two requests never share an id */
    struct alertack_request other;
    assert_int_equal(alertack_request_init(&other, ALERTACK_OP_UNACK), 0);
    assert_string_not_equal(rq.request_id, other.request_id);
    assert_int_equal(other.for_s, 0);
}

static void test_request_check(void **state)
{
    (void)state;
    struct alertack_request rq;
    char err[256];
    assert_int_equal(alertack_request_init(&rq, ALERTACK_OP_SNOOZE), 0);
    snprintf(rq.rule, sizeof rq.rule, "HighErrorRate");
    rq.for_s = 3600;
    assert_int_equal(alertack_request_check(&rq, err, sizeof err), -1);
    assert_non_null(strstr(err, "a comment is required"));
    snprintf(rq.comment, sizeof rq.comment, " \t\n ");
    assert_int_equal(alertack_request_check(&rq, err, sizeof err), -1);
    assert_non_null(strstr(err, "a comment is required"));
    snprintf(rq.comment, sizeof rq.comment, "deploy in progress");
    assert_int_equal(alertack_request_check(&rq, err, sizeof err), 0);
    rq.for_s = 0;
    assert_int_equal(alertack_request_check(&rq, err, sizeof err), -1);
    assert_non_null(strstr(err, "in the future"));
    rq.for_s = ALERTACK_MAX_FOR_S + 1;
    assert_int_equal(alertack_request_check(&rq, err, sizeof err), -1);
    assert_non_null(strstr(err, "beyond the bound"));
    rq.for_s = ALERTACK_MAX_FOR_S;
    assert_int_equal(alertack_request_check(&rq, err, sizeof err), 0);
    /* 500 characters is the bound, counted as characters, not bytes */
    memset(rq.comment, 0, sizeof rq.comment);
    for (int i = 0; i < ALERTACK_COMMENT_MAX; i++)
        memcpy(rq.comment + 2 * i, "\xc3\xa9", 2);
    assert_int_equal(alertack_request_check(&rq, err, sizeof err), 0);
    memcpy(rq.comment + 2 * ALERTACK_COMMENT_MAX, "x", 2);
    assert_int_equal(alertack_request_check(&rq, err, sizeof err), -1);
    assert_non_null(strstr(err, "501 characters"));
    snprintf(rq.comment, sizeof rq.comment, "bad \xff byte");
    assert_int_equal(alertack_request_check(&rq, err, sizeof err), -1);
    assert_non_null(strstr(err, "not valid UTF-8"));
    snprintf(rq.comment, sizeof rq.comment, "ok");
    const char *bad_rules[] = { "", "High Error", "9Rule", "rule{x}", "r\x1b[2J" };
    for (size_t i = 0; i < sizeof bad_rules / sizeof bad_rules[0]; i++) {
        snprintf(rq.rule, sizeof rq.rule, "%s", bad_rules[i]);
        assert_int_equal(alertack_request_check(&rq, err, sizeof err), -1);
        assert_non_null(strstr(err, "is not an alert name"));
    }
    snprintf(rq.rule, sizeof rq.rule, "job:rate_5m:HighErrors");
    assert_int_equal(alertack_request_check(&rq, err, sizeof err), 0);

    struct alertack_request un;
    assert_int_equal(alertack_request_init(&un, ALERTACK_OP_UNACK), 0);
    assert_int_equal(alertack_request_check(&un, err, sizeof err), -1);
    assert_non_null(strstr(err, "which ack"));
    un.ack_id = 12;
    assert_int_equal(alertack_request_check(&un, err, sizeof err), 0); /* no comment needed */
}

static void test_describe(void **state)
{
    (void)state;
    struct alertack_request rq;
    struct alertack_result r;
    char err[128], msg[1024];
    assert_int_equal(alertack_request_init(&rq, ALERTACK_OP_SNOOZE), 0);
    snprintf(rq.rule, sizeof rq.rule, "HighErrorRate");
    assert_int_equal(alertack_request_add_label(&rq, "severity", "critical", err, sizeof err), 0);
    assert_int_equal(alertack_request_add_label(&rq, "instance", "db1", err, sizeof err), 0);
    memset(&r, 0, sizeof r);
    r.outcome = CTL_APPLIED;
    r.ack_id = 42;
    r.expires_ms = 1700000000000LL;
    r.n_superseded = 2;
    r.superseded[0] = 7;
    r.superseded[1] = 9;
    alertack_describe(&rq, &r, msg, sizeof msg);
    assert_non_null(strstr(msg, "Alert snoozed: HighErrorRate{instance=\"db1\", severity=\"critical\"} until "));
    assert_non_null(strstr(msg, "(ack 42); it replaces ack 7, 9"));
    r.outcome = CTL_INVALID;
    snprintf(r.error, sizeof r.error, "a comment is required");
    alertack_describe(&rq, &r, msg, sizeof msg);
    assert_string_equal(msg, "Cannot snooze HighErrorRate{instance=\"db1\", severity=\"critical\"}: "
                             "a comment is required");
    struct alertack_request un;
    assert_int_equal(alertack_request_init(&un, ALERTACK_OP_UNACK), 0);
    un.ack_id = 5;
    memset(&r, 0, sizeof r);
    r.outcome = CTL_NOT_FOUND;
    alertack_describe(&un, &r, msg, sizeof msg);
    assert_string_equal(msg, "No alert acknowledgement 5 (see marketing alerts acks)");
    r.outcome = CTL_ALREADY;
    snprintf(r.cleared_reason, sizeof r.cleared_reason, "unack");
    snprintf(r.who, sizeof r.who, "alice as ops");
    alertack_describe(&un, &r, msg, sizeof msg);
    assert_string_equal(msg, "Ack 5 was already cleared (unack) by alice as ops");
}

/* A result as libpq would hand it over, built with libpq's own calls. */
static PGresult *make_result(int rows, const char *const *vals)
{
    static const char *const names[11] = { "id", "rule", "labels", "kind", "comment", "c", "e",
                                           "who", "os", "db", "left" };
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc att[11];
    memset(att, 0, sizeof att);
    for (int i = 0; i < 11; i++) {
        att[i].name = (char *)names[i];
        att[i].format = 0;
        att[i].typid = 25;
        att[i].typlen = -1;
        att[i].atttypmod = -1;
    }
    assert_true(PQsetResultAttrs(res, 11, att));
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < 11; c++)
            assert_true(PQsetvalue(res, r, c, (char *)vals[r * 11 + c], (int)strlen(vals[r * 11 + c])));
    return res;
}

static void test_list_from_result(void **state)
{
    (void)state;
    const char *vals[] = {
        "12", "HighErrorRate", "{\"severity\": \"critical\", \"instance\": \"db1\"}", "snooze",
        "deploy \x1b[2J", "1700000000000", "1700003600000", "alice as ops", "alice", "ops", "3600000",
        "11", "DatabaseSlow", "{}", "ack", "looking", "1699999000000", "1700000500000", "bob as ops",
        "", "ops", "500",
    };
    PGresult *res = make_result(2, vals);
    char err[128];
    struct alertack_list *l = alertack_list_from_result(res, err, sizeof err);
    PQclear(res);
    assert_non_null(l);
    assert_int_equal(l->n, 2);
    assert_int_equal(l->next_expiry_in_ms, 500);
    const struct alertack *a = &l->v[0];
    assert_int_equal(a->id, 12);
    assert_int_equal(a->kind, ALERTACK_SNOOZE);
    assert_string_equal(a->rule, "HighErrorRate");
    assert_int_equal(a->n_labels, 2);
    assert_string_equal(a->labels[0].name, "instance");
    assert_string_equal(a->labels[0].value, "db1");
    assert_string_equal(a->labels[1].name, "severity");
    assert_string_equal(a->comment, "deploy \x1b[2J"); /* kept as it is: sanitized when shown */
    assert_int_equal(a->created_ms, 1700000000000LL);
    assert_int_equal(a->expires_ms, 1700003600000LL);
    assert_string_equal(a->who, "alice as ops");
    assert_int_equal(l->v[1].kind, ALERTACK_ACK);
    assert_int_equal(l->v[1].n_labels, 0);
    const struct alertack_label al[] = { L("instance", "db1"), L("severity", "critical") };
    assert_int_equal(alertack_match(l, "HighErrorRate", al, 2, 0, 1700000001000LL)->id, 12);
    assert_int_equal(alertack_match(l, "DatabaseSlow", al, 2, 1699998000000LL, 1700000001000LL)->id, 11);
    alertack_list_free(&l);
    assert_null(l);

    const char *broken[] = { "1", "R", "[1, 2]", "ack", "c", "1", "2", "w", "", "d", "0" };
    res = make_result(1, broken);
    assert_null(alertack_list_from_result(res, err, sizeof err));
    assert_non_null(strstr(err, "not a JSON object"));
    PQclear(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_by_labels),
        cmocka_unit_test(test_whole_rule_and_most_specific),
        cmocka_unit_test(test_newest_then_highest_id),
        cmocka_unit_test(test_expiry_and_resolve),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_request_labels),
        cmocka_unit_test(test_request_check),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_list_from_result),
    };
    return cmocka_run_group_tests_name("alertack", tests, NULL, NULL);
}
