/* /health and /ready documents: RELIABILITY.md checklist item 8 (malformed,
 * deep, huge or duplicate-key JSON gives "invalid response (line:col
 * reason)"), missing and mistyped fields named, the checks capped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "healthjson.h"

static struct healthjson h;
static char err[512];

static int parse_n(const char *body, size_t len)
{
    err[0] = '\0';
    return healthjson_parse(body, len, &h, err, sizeof err);
}

static int parse(const char *body) { return parse_n(body, strlen(body)); }

static void expect_error(const char *body, const char *want)
{
    int rc = parse(body);
    if (rc != -1 || strcmp(err, want) != 0)
        fail_msg("input %s\n  got %d, \"%s\"\n want -1, \"%s\"", body, rc, err, want);
    /* a failed parse leaves nothing behind */
    assert_null(h.status);
    assert_int_equal(h.n_checks, 0);
    healthjson_free(&h);
}

static void test_the_seeds_document(void **state)
{
    (void)state;
    const char *doc = "{\n"
                      "  \"status\": \"healthy\",\n"
                      "  \"version\": \"1.2.3\",\n"
                      "  \"uptime\": 3600,\n"
                      "  \"checks\": {\n"
                      "    \"database\": \"healthy\",\n"
                      "    \"redis\": \"healthy\",\n"
                      "    \"kafka\": \"degraded\",\n"
                      "    \"email_service\": \"healthy\"\n"
                      "  },\n"
                      "  \"extra\": [1, 2, {\"ignored\": true}]\n"
                      "}\n";
    assert_int_equal(parse(doc), 0);
    assert_string_equal(h.status, "healthy");
    assert_string_equal(h.version, "1.2.3");
    assert_true(h.uptime == 3600);
    assert_int_equal(h.n_checks, 4);
    /* the document's order */
    assert_string_equal(h.check_names[0], "database");
    assert_string_equal(h.check_names[2], "kafka");
    assert_string_equal(h.check_status[2], "degraded");
    assert_string_equal(h.check_names[3], "email_service");
    healthjson_free(&h);
    assert_null(h.status);
    assert_true(h.uptime == -1);
}

static void test_minimal_and_other_shapes(void **state)
{
    (void)state;
    /* a minimal /ready: only the status */
    assert_int_equal(parse("{\"status\":\"ready\"}"), 0);
    assert_string_equal(h.status, "ready");
    assert_null(h.version);
    assert_true(h.uptime == -1);
    assert_int_equal(h.n_checks, 0);
    healthjson_free(&h);
    /* checks as objects with a status; a real uptime; empty checks */
    assert_int_equal(parse("{\"status\":\"ok\",\"uptime\":12.7,\"checks\":{\"db\":{\"status\":\"up\",\"ms\":3}}}"), 0);
    assert_true(h.uptime == 12);
    assert_int_equal(h.n_checks, 1);
    assert_string_equal(h.check_status[0], "up");
    healthjson_free(&h);
    assert_int_equal(parse("{\"status\":\"ok\",\"checks\":{}}"), 0);
    assert_int_equal(h.n_checks, 0);
    healthjson_free(&h);
    /* text that a terminal would act on is kept as it is: the UI sanitizes */
    assert_int_equal(parse("{\"status\":\"\\u001b[2Jx\"}"), 0);
    assert_string_equal(h.status, "\x1b[2Jx");
    healthjson_free(&h);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_error("", "invalid response (1:0 '[' or '{' expected near end of file)");
    expect_error("{\"status\": }", "invalid response (1:12 unexpected token near '}')");
    expect_error("{\"status\":\"x\"} junk", "invalid response (1:19 end of file expected near 'junk')");
    expect_error("{\n  \"status\": \"ok\",\n  \"checks\": {\"a\": \"b\"\n", "invalid response (4:0 '}' expected near end of file)");
    expect_error("<html>502 Bad Gateway</html>", "invalid response (1:1 '[' or '{' expected near '<')");
    expect_error("{\"status\":\"a\\u0000b\"}",
                 "invalid response (1:20 \\u0000 is not allowed without JSON_ALLOW_NUL near '\"a\\u0000b\"')");
    /* the demo backend's garbage: the message is one line of printable ASCII */
    const char garbage[] = "\x1b[2J\xc0\xaf\x80\x00# TYPE {\"";
    assert_int_equal(parse_n(garbage, sizeof garbage - 1), -1);
    assert_string_equal(err, "invalid response (1:1 '[' or '{' expected near '?')");
    assert_int_equal(parse("{\"status\":\"\xff\x1b\"}"), -1);
    assert_string_equal(err, "invalid response (1:11 unable to decode byte 0xff near '\"')");
    for (const char *c = err; *c; c++)
        assert_true(*c >= 0x20 && *c < 0x7F);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    expect_error("{\"status\":\"healthy\",\"status\":\"unhealthy\"}",
                 "invalid response (1:28 duplicate object key near '\"status\"')");
    expect_error("{\"status\":\"ok\",\"checks\":{\"db\":\"up\",\"db\":\"down\"}}",
                 "invalid response (1:39 duplicate object key near '\"db\"')");
}

static void test_deep_and_huge(void **state)
{
    (void)state;
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    assert_non_null(deep);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    assert_int_equal(parse_n(deep, 2 * depth), -1);
    assert_string_equal(err, "invalid response (1:2049 maximum parsing depth reached near '[')");
    free(deep);
    /* deep inside an otherwise good document */
    char nested[5000];
    size_t n = (size_t)snprintf(nested, sizeof nested, "{\"status\":\"ok\",\"x\":");
    for (int i = 0; i < 2100; i++)
        nested[n++] = '[';
    nested[n] = '\0';
    assert_int_equal(parse(nested), -1);
    assert_non_null(strstr(err, "maximum parsing depth reached"));
    assert_true(strncmp(err, "invalid response (1:", 20) == 0);

    /* over the cap: refused before jansson sees it */
    size_t big = HEALTHJSON_MAX_BYTES + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    static const char doc[] = "{\"status\":\"ok\"}";
    memset(huge, ' ', big);
    memcpy(huge, doc, sizeof doc - 1); /* no NUL: the rest is blanks */
    assert_int_equal(parse_n(huge, big), -1);
    assert_string_equal(err, "invalid response (larger than 1048576 bytes)");
    /* at the cap: fine (whitespace after the object) */
    assert_int_equal(parse_n(huge, big - 1), 0);
    healthjson_free(&h);
    free(huge);
}

static void test_missing_and_mistyped_fields(void **state)
{
    (void)state;
    expect_error("{}", "invalid response (no \"status\")");
    expect_error("{\"version\":\"1\",\"checks\":{}}", "invalid response (no \"status\")");
    expect_error("[{\"status\":\"ok\"}]", "invalid response (not a JSON object)");
    expect_error("\"healthy\"", "invalid response (1:9 '[' or '{' expected near '\"healthy\"')");
    expect_error("42", "invalid response (1:2 '[' or '{' expected near '42')");
    expect_error("{\"status\":null}", "invalid response (\"status\" is not a string)");
    expect_error("{\"status\":1}", "invalid response (\"status\" is not a string)");
    expect_error("{\"status\":\"ok\",\"version\":123}", "invalid response (\"version\" is not a string)");
    expect_error("{\"status\":\"ok\",\"uptime\":\"1h\"}", "invalid response (\"uptime\" is not a number)");
    expect_error("{\"status\":\"ok\",\"uptime\":-5}", "invalid response (\"uptime\" is negative)");
    expect_error("{\"status\":\"ok\",\"uptime\":1e300}", "invalid response (\"uptime\" is out of range)");
    expect_error("{\"status\":\"ok\",\"checks\":[\"db\"]}", "invalid response (\"checks\" is not an object)");
    expect_error("{\"status\":\"ok\",\"checks\":{\"db\":\"up\",\"cache\":true}}",
                 "invalid response (check \"cache\" is not a string)");
    expect_error("{\"status\":\"ok\",\"checks\":{\"db\":{\"latency\":3}}}",
                 "invalid response (check \"db\" is not a string)");
}

static void test_checks_capped(void **state)
{
    (void)state;
    char doc[8192];
    size_t n = (size_t)snprintf(doc, sizeof doc, "{\"status\":\"ok\",\"checks\":{");
    for (int i = 0; i < HEALTHJSON_MAX_CHECKS; i++)
        n += (size_t)snprintf(doc + n, sizeof doc - n, "%s\"c%d\":\"ok\"", i ? "," : "", i);
    snprintf(doc + n, sizeof doc - n, "}}");
    assert_int_equal(parse(doc), 0);
    assert_int_equal(h.n_checks, HEALTHJSON_MAX_CHECKS);
    healthjson_free(&h);
    snprintf(doc + n, sizeof doc - n, ",\"one_more\":\"ok\"}}");
    expect_error(doc, "invalid response (more than 64 checks)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_seeds_document),
        cmocka_unit_test(test_minimal_and_other_shapes),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_deep_and_huge),
        cmocka_unit_test(test_missing_and_mistyped_fields),
        cmocka_unit_test(test_checks_capped),
    };
    return cmocka_run_group_tests_name("healthjson", tests, NULL, NULL);
}
