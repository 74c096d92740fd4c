/* Prometheus API responses on their own (no network; promapi.sh runs the
 * client against real servers): RFC 3339 times as Prometheus writes them,
 * the envelope's errors, and the field paths a strict parse names. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "promapi.h"

static char err[PROMAPI_ERR_MAX];

static void test_times(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t ms;
    } good[] = {
        { "1970-01-01T00:00:00Z", 0 },
        { "0001-01-01T00:00:00Z", 0 },            /* Go's zero time: never */
        { "1970-01-01T00:00:01.5Z", 1500 },
        { "2026-11-29T23:44:32.11983645Z", INT64_C(1795995872119) },
        { "2026-01-02T03:04:05.5+01:00", INT64_C(1767319445500) },
        { "2026-01-02T03:04:05-00:30", INT64_C(1767324845000) },
        { "2000-02-29T12:00:00Z", INT64_C(951825600000) },
        { "1969-12-31T23:59:59Z", -1000 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ms = 42;
        if (promapi_parse_time(good[i].s, &ms) != 0 || ms != good[i].ms)
            fail_msg("%s: got %lld, want %lld", good[i].s, (long long)ms, (long long)good[i].ms);
    }
    static const char *const bad[] = { "", "2026-01-02", "2026-01-02T03:04:05", "2026-13-02T03:04:05Z",
                                       "2026-01-02T24:00:00Z", "2026-01-02T03:04:05.Z",
                                       "2026-01-02T03:04:05Zjunk", "2026-01-02 03:04:05Z",
                                       "2026-01-02T03:04:05+0100", "1795995872" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms;
        if (promapi_parse_time(bad[i], &ms) != -1)
            fail_msg("%s was accepted", bad[i]);
    }
}

static void expect_alerts_error(const char *body, int status, const char *want)
{
    struct promapi_alerts a;
    err[0] = '\0';
    int rc = promapi_parse_alerts(body, strlen(body), status, &a, err, sizeof err);
    if (rc != -1 || strcmp(err, want) != 0)
        fail_msg("body %s\n  got %d, \"%s\"\n want -1, \"%s\"", body, rc, err, want);
    assert_null(a.alerts);
    assert_int_equal(a.n, 0);
}

#define ALERT(state, active, value) \
    "{\"labels\":{\"alertname\":\"A\"},\"annotations\":{},\"state\":" state ",\"activeAt\":" active \
    ",\"value\":" value "}"

static void test_alert_fields(void **state)
{
    (void)state;
    const char *good = "{\"status\":\"success\",\"data\":{\"alerts\":[" ALERT("\"firing\"",
                       "\"2026-01-02T03:04:05Z\"", "\"1e+00\"") "]}}";
    struct promapi_alerts a;
    assert_int_equal(promapi_parse_alerts(good, strlen(good), 200, &a, err, sizeof err), 0);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.alerts[0].state, PROMAPI_FIRING);
    assert_true(a.alerts[0].value == 1.0);
    assert_int_equal(a.alerts[0].n_annotations, 0);
    promapi_alerts_free(&a);

    expect_alerts_error("{\"status\":\"success\",\"data\":{\"alerts\":[" ALERT("\"firing\"",
                        "\"2026-01-02T03:04:05Z\"", "1") "]}}", 200,
                        "/api/v1/alerts: data.alerts[0].value is not a string");
    expect_alerts_error("{\"status\":\"success\",\"data\":{\"alerts\":[" ALERT("\"firing\"",
                        "\"2026-01-02T03:04:05Z\"", "\"0x10\"") "]}}", 200,
                        "/api/v1/alerts: data.alerts[0].value is not a number: \"0x10\"");
    expect_alerts_error("{\"status\":\"success\",\"data\":{\"alerts\":[" ALERT("\"resolved\"",
                        "\"2026-01-02T03:04:05Z\"", "\"1\"") "]}}", 200,
                        "/api/v1/alerts: data.alerts[0].state is \"resolved\", not inactive, pending "
                        "or firing");
    expect_alerts_error("{\"status\":\"success\",\"data\":{\"alerts\":[" ALERT("\"firing\"",
                        "\"yesterday\"", "\"1\"") "]}}", 200,
                        "/api/v1/alerts: data.alerts[0].activeAt is not an RFC 3339 time: \"yesterday\"");
    expect_alerts_error("{\"status\":\"success\",\"data\":{\"alerts\":[{\"labels\":{\"a\":1}}]}}", 200,
                        "/api/v1/alerts: data.alerts[0].labels.a is not a string");
    expect_alerts_error("{\"status\":\"success\",\"data\":{\"alerts\":[{\"labels\":{\"a\":\"x\\u0000y\"}}]}}",
                        200, "/api/v1/alerts: invalid JSON (line 1 column 63: \\u0000 is not allowed "
                        "without JSON_ALLOW_NUL near '\"x\\u0000y\"')");
    /* a name from the server is escaped in the message, as its values are */
    expect_alerts_error("{\"status\":\"success\",\"data\":{\"alerts\":[{\"labels\":{\"\\u001b[2J\":1}}]}}",
                        200, "/api/v1/alerts: data.alerts[0].labels.\\x1b[2J is not a string");
    expect_alerts_error("{\"status\":\"success\",\"data\":{\"alerts\":{}}}", 200,
                        "/api/v1/alerts: data.alerts is not an array");
}

static void test_envelope(void **state)
{
    (void)state;
    expect_alerts_error("", 200, "/api/v1/alerts: invalid JSON (line 1 column 0: '[' or '{' expected near end of file)");
    expect_alerts_error("[]", 200, "/api/v1/alerts: the response is not a JSON object");
    expect_alerts_error("{}", 200, "/api/v1/alerts: status is missing");
    expect_alerts_error("{\"status\":1}", 200, "/api/v1/alerts: status is not a string");
    expect_alerts_error("{\"status\":\"maybe\"}", 200,
                        "/api/v1/alerts: status is \"maybe\", not \"success\" or \"error\"");
    expect_alerts_error("{\"status\":\"success\"}", 200, "/api/v1/alerts: data is missing");
    expect_alerts_error("{\"status\":\"success\",\"data\":[]}", 200, "/api/v1/alerts: data is not an object");
    expect_alerts_error("{\"status\":\"success\",\"status\":\"error\",\"data\":{}}", 200,
                        "/api/v1/alerts: invalid JSON (line 1 column 28: duplicate object key near "
                        "'\"status\"')");
    /* Prometheus's error, with or without an HTTP error status */
    expect_alerts_error("{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"query timed out\"}", 200,
                        "/api/v1/alerts: timeout: query timed out");
    expect_alerts_error("{\"status\":\"error\",\"errorType\":\"execution\",\"error\":\"many-to-many\"}", 422,
                        "/api/v1/alerts: HTTP 422: execution: many-to-many");
    expect_alerts_error("{\"status\":\"error\"}", 500, "/api/v1/alerts: HTTP 500: error with no message");
    expect_alerts_error("{\"status\":\"success\",\"data\":{\"alerts\":[]}}", 503, "/api/v1/alerts: HTTP 503");
    expect_alerts_error("Service Unavailable\r\nmore", 503, "/api/v1/alerts: HTTP 503: Service Unavailable");
    /* a body is not NUL-terminated: a first line that runs to its end is
     * read to its length, not past it (the fuzzer found this) */
    const char text[] = "Bad Gateway";
    char *exact = malloc(sizeof text - 1);
    assert_non_null(exact);
    memcpy(exact, text, sizeof text - 1);
    struct promapi_alerts a;
    assert_int_equal(promapi_parse_alerts(exact, sizeof text - 1, 502, &a, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/alerts: HTTP 502: Bad Gateway");
    free(exact);
}

static void test_query_shapes(void **state)
{
    (void)state;
    struct promql_result r;
    int64_t t = 7;
    const char *scalar = "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[12.25,\"-Inf\"]}}";
    assert_int_equal(promapi_parse_query(scalar, strlen(scalar), 200, &r, &t, err, sizeof err), 0);
    assert_int_equal(r.type, PROMQL_SCALAR);
    assert_true(isinf(r.scalar) && r.scalar < 0);
    assert_int_equal(t, 12250);
    promql_result_free(&r);
    const char *empty = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";
    t = 7;
    assert_int_equal(promapi_parse_query(empty, strlen(empty), 200, &r, &t, err, sizeof err), 0);
    assert_int_equal(r.n, 0);
    assert_int_equal(t, 7); /* no point: left as it was */
    promql_result_free(&r);
    static const struct {
        const char *body, *want;
    } bad[] = {
        { "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\"}}",
          "/api/v1/query: data.result is missing" },
        { "{\"status\":\"success\",\"data\":{\"resultType\":3,\"result\":[]}}",
          "/api/v1/query: data.resultType is not a string" },
        { "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"value\":[1,\"1\"]}]}}",
          "/api/v1/query: data.result[0].metric is missing" },
        { "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
          "\"histogram\":[1,{}]}]}}",
          "/api/v1/query: data.result[0].value is missing" },
        { "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
          "\"value\":[1]}]}}",
          "/api/v1/query: data.result[0].value is not a [time, \"value\"] pair" },
        { "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
          "\"value\":[\"1\",\"1\"]}]}}",
          "/api/v1/query: data.result[0].value[0] is not a number" },
        { "{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[1,\"x\"]}}",
          "/api/v1/query: the result is a string, not an instant vector or a scalar" },
        { "{\"status\":\"success\",\"data\":{\"resultType\":\"histogram\",\"result\":[]}}",
          "/api/v1/query: data.resultType is \"histogram\", not vector, scalar, matrix or string" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = promapi_parse_query(bad[i].body, strlen(bad[i].body), 200, &r, NULL, err, sizeof err);
        if (rc != -1 || strcmp(err, bad[i].want) != 0)
            fail_msg("body %s\n  got %d, \"%s\"\n want \"%s\"", bad[i].body, rc, err, bad[i].want);
        assert_null(r.samples);
    }
}

static void test_rule_fields(void **state)
{
    (void)state;
    struct promapi_rules r;
    /* a recording rule has no labels, state, for or alerts: that is fine */
    const char *rec = "{\"status\":\"success\",\"data\":{\"groups\":[{\"name\":\"g\",\"file\":\"f\","
                      "\"interval\":0.5,\"rules\":[{\"name\":\"x:sum\",\"query\":\"sum(x)\",\"health\":"
                      "\"unknown\",\"evaluationTime\":0,\"lastEvaluation\":\"0001-01-01T00:00:00Z\","
                      "\"type\":\"recording\"}]}]}}";
    assert_int_equal(promapi_parse_rules(rec, strlen(rec), 200, &r, err, sizeof err), 0);
    assert_int_equal(r.groups[0].interval_ms, 500);
    assert_int_equal(r.groups[0].rules[0].type, PROMAPI_RECORDING);
    assert_int_equal(r.groups[0].rules[0].health, PROMAPI_HEALTH_UNKNOWN);
    assert_int_equal(r.groups[0].rules[0].last_evaluation_ms, 0);
    assert_string_equal(r.groups[0].rules[0].last_error, "");
    promapi_rules_free(&r);
    promapi_rules_free(&r);
    /* an alerting rule must have them */
    const char *alert = "{\"status\":\"success\",\"data\":{\"groups\":[{\"name\":\"g\",\"file\":\"f\","
                        "\"interval\":1,\"rules\":[{\"name\":\"A\",\"query\":\"up\",\"health\":\"ok\","
                        "\"evaluationTime\":0,\"lastEvaluation\":\"0001-01-01T00:00:00Z\","
                        "\"type\":\"alerting\",\"labels\":{},\"state\":\"inactive\",\"duration\":\"5m\"}]}]}}";
    assert_int_equal(promapi_parse_rules(alert, strlen(alert), 200, &r, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/rules: data.groups[0].rules[0].duration is not a number");
    assert_null(r.groups);
    const char *nofile = "{\"status\":\"success\",\"data\":{\"groups\":[{\"name\":\"g\",\"interval\":1,"
                         "\"rules\":[]}]}}";
    assert_int_equal(promapi_parse_rules(nofile, strlen(nofile), 200, &r, err, sizeof err), -1);
    assert_string_equal(err, "/api/v1/rules: data.groups[0].file is missing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_alert_fields),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_query_shapes),
        cmocka_unit_test(test_rule_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
