/* The pure parts of campaign control: names, the mirror table, messages,
 * placeholders for the pre-flight check, and the structured log's lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "control.h"
#include "oplog.h"
#include "preflight.h"

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(ctl_action_parse("pause"), CTL_PAUSE);
    assert_int_equal(ctl_action_parse("retry-failed"), CTL_RETRY_FAILED);
    assert_int_equal(ctl_action_parse("retry_failed"), CTL_RETRY_FAILED);
    assert_int_equal(ctl_action_parse("stop-all"), CTL_STOP_ALL);
    assert_int_equal(ctl_action_parse("roll-back"), CTL_ROLLBACK);
    assert_int_equal(ctl_action_parse("campaigns"), -1);
    assert_int_equal(ctl_action_parse(""), -1);
    assert_string_equal(ctl_allowed_from(CTL_CANCEL), "draft, scheduled, active, paused");
    assert_true(ctl_allowed(CTL_LAUNCH, "scheduled"));
    assert_false(ctl_allowed(CTL_LAUNCH, "paused"));
    assert_false(ctl_allowed(CTL_ROLLBACK, "cancelled"));
    assert_false(ctl_allowed(CTL_PAUSE, NULL));
}

static void test_request_ids(void **state)
{
    (void)state;
    struct ctl_request a, b;
    assert_int_equal(ctl_request_init(&a, CTL_PAUSE, "cmp_1", 3), 0);
    assert_int_equal(ctl_request_init(&b, CTL_PAUSE, "cmp_1", 3), 0);
    assert_int_equal(strlen(a.request_id), 36);
    assert_int_equal(a.request_id[14], '4'); /* version 4 */
    assert_non_null(strchr("89ab", a.request_id[19]));
    assert_string_not_equal(a.request_id, b.request_id);
    assert_int_equal(a.expected_version, 3);
}

static void test_describe(void **state)
{
    (void)state;
    struct ctl_request rq;
    ctl_request_init(&rq, CTL_PAUSE, "cmp_7", 4);
    struct ctl_result r = { .outcome = CTL_APPLIED, .campaign_id = "cmp_7", .status = "paused",
                            .version = 5, .audience = -1 };
    char msg[512];
    ctl_describe(&rq, &r, msg, sizeof msg);
    assert_string_equal(msg, "Campaign paused: cmp_7 is paused (version 5)");
    r.outcome = CTL_ALREADY;
    snprintf(r.changed_by, sizeof r.changed_by, "ann as ops");
    snprintf(r.changed_at, sizeof r.changed_at, "2026-11-29 10:00:00 UTC");
    ctl_describe(&rq, &r, msg, sizeof msg);
    assert_string_equal(msg, "cmp_7 is already paused: by ann as ops at 2026-11-29 10:00:00 UTC (version 5)");
    r.outcome = CTL_CONFLICT;
    ctl_describe(&rq, &r, msg, sizeof msg);
    assert_string_equal(msg, "Conflict: cmp_7 was changed by ann as ops at 2026-11-29 10:00:00 UTC; it is "
                             "now paused (version 5, you saw 4). Nothing was done");
    r.outcome = CTL_UNKNOWN;
    snprintf(r.error, sizeof r.error, "connection lost");
    ctl_describe(&rq, &r, msg, sizeof msg);
    assert_non_null(strstr(msg, "Outcome unknown: pause of cmp_7 was in flight"));
    assert_true(!ctl_succeeded(CTL_UNKNOWN) && !ctl_succeeded(CTL_CONFLICT) && ctl_succeeded(CTL_ALREADY));
    ctl_request_init(&rq, CTL_LAUNCH, "cmp_8", 1);
    struct ctl_result l = { .outcome = CTL_APPLIED, .campaign_id = "cmp_8", .status = "active",
                            .version = 2, .audience = 1531 };
    ctl_describe(&rq, &l, msg, sizeof msg);
    assert_string_equal(msg, "Campaign launched: cmp_8, audience 1531 (version 2)");
    assert_string_equal(ctl_outcome_name(CTL_NOT_APPLIED), "not_applied");
}

static void test_placeholders(void **state)
{
    (void)state;
    char keys[4][64], err[160];
    int n = preflight_placeholders("Hi {{ first_name }}, {{city}} and {{first_name}}", keys, 4, 0, err,
                                   sizeof err);
    assert_int_equal(n, 2);
    assert_string_equal(keys[0], "first_name");
    assert_string_equal(keys[1], "city");
    n = preflight_placeholders("more {{email}}", keys, 4, (size_t)n, err, sizeof err);
    assert_int_equal(n, 3);
    assert_int_equal(preflight_placeholders("no placeholders", keys, 4, 0, err, sizeof err), 0);
    assert_int_equal(preflight_placeholders("Hi {{first_name", keys, 4, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "not closed"));
    assert_int_equal(preflight_placeholders("{{ }}", keys, 4, 0, err, sizeof err), -1);
    assert_int_equal(preflight_placeholders("{{a'; DROP TABLE x; --}}", keys, 4, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "is not a placeholder name"));
}

static void test_log_line(void **state)
{
    (void)state;
    json_t *ctx = json_pack("{s:s}", "campaign_id", "cmp_789");
    char *line = oplog_format(1770793200123LL, "info", "0c1d", "user_456",
                              "Campaign launched successfully", ctx);
    assert_non_null(line);
    json_error_t e;
    json_t *o = json_loads(line, 0, &e);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "timestamp")), "2026-02-11T07:00:00.123Z");
    assert_string_equal(json_string_value(json_object_get(o, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(o, "service")), "marketing-console");
    assert_string_equal(json_string_value(json_object_get(o, "request_id")), "0c1d");
    assert_string_equal(json_string_value(json_object_get(o, "user_id")), "user_456");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "context"), "campaign_id")),
                        "cmp_789");
    assert_non_null(json_object_get(o, "version"));
    /* the seed's order of keys */
    assert_true(strstr(line, "\"timestamp\"") < strstr(line, "\"level\""));
    assert_true(strstr(line, "\"message\"") < strstr(line, "\"context\""));
    json_decref(o);
    free(line);
    /* invalid UTF-8 and control bytes still make one valid line */
    line = oplog_format(0, "error", NULL, NULL, "bad \xff\xfe byte\nand newline", NULL);
    assert_non_null(line);
    assert_null(strchr(line, '\n'));
    o = json_loads(line, 0, &e);
    assert_non_null(o);
    assert_true(json_is_null(json_object_get(o, "request_id")));
    assert_non_null(strstr(json_string_value(json_object_get(o, "message")), "\xef\xbf\xbd"));
    json_decref(o);
    free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),        cmocka_unit_test(test_request_ids),
        cmocka_unit_test(test_describe),     cmocka_unit_test(test_placeholders),
        cmocka_unit_test(test_log_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
