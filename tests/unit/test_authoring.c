/* Campaign authoring without a database: the JSON format, validation, the
 * preview renderer, suggestions and the A/B significance test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "authoring.h"

static const char good[] =
    "{\"name\": \"Winter sale\", \"type\": \"email\", \"segment_id\": \"seg_1\","
    " \"from\": \"news@example.com\", \"subject\": \"Hi {{first_name}}\", \"body\": \"<p>Hello</p>\","
    " \"variants\": [{\"variant\": \"A\", \"split_percent\": 50},"
    "                {\"variant\": \"B\", \"split_percent\": 50, \"subject\": \"Sale!\"}],"
    " \"rate_limit_per_minute\": 1200, \"send_at\": \"2026-12-01 09:00 Europe/Berlin\","
    " \"note\": \"first go\", \"version\": 3}";

/* whether some problem's text is exactly want */
static bool has(const struct authoring_problems *p, const char *want)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].text, want) == 0)
            return true;
    for (size_t i = 0; i < p->n; i++)
        fprintf(stderr, "  problem: %s\n", p->v[i].text);
    return false;
}

static void test_parse_good(void **state)
{
    (void)state;
    struct authoring_draft d;
    struct authoring_problems p = { .n = 0 };
    authoring_draft_init(&d);
    assert_int_equal(authoring_draft_parse(&d, good, &p), 0);
    assert_string_equal(d.name, "Winter sale");
    assert_string_equal(d.segment_id, "seg_1");
    assert_int_equal(d.nvariants, 2);
    assert_string_equal(d.variants[1].letter, "B");
    assert_int_equal(d.variants[1].split, 50);
    assert_string_equal(d.variants[1].subject, "Sale!");
    assert_null(d.variants[0].subject);
    assert_int_equal(d.rate_limit, 1200);
    assert_int_equal(d.version, 3);
    assert_string_equal(d.note, "first go");
    assert_int_equal(authoring_validate(&d, &p), 0);

    /* and back: what campaign_save takes */
    json_t *o = authoring_draft_to_json(&d);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "from")), "news@example.com");
    assert_int_equal(json_integer_value(json_object_get(o, "rate_limit_per_minute")), 1200);
    assert_int_equal(json_array_size(json_object_get(o, "variants")), 2);
    assert_true(json_is_null(json_object_get(json_array_get(json_object_get(o, "variants"), 0), "subject")));
    assert_null(json_object_get(o, "note"));
    assert_null(json_object_get(o, "version"));
    json_decref(o);

    /* a deep copy for another thread */
    struct authoring_draft c;
    assert_int_equal(authoring_draft_copy(&c, &d), 0);
    assert_ptr_not_equal(c.name, d.name);
    assert_string_equal(c.name, d.name);
    assert_string_equal(c.variants[1].subject, "Sale!");
    assert_ptr_not_equal(c.variants[1].subject, d.variants[1].subject);
    assert_null(c.variants[0].subject);
    assert_int_equal(c.nvariants, 2);
    assert_int_equal(c.rate_limit, 1200);
    authoring_draft_free(&c);
    assert_null(c.name);

    /* an edit: fields given replace, the rest stay */
    assert_int_equal(authoring_draft_parse(&d, "{\"subject\": \"New\", \"variants\": null}", &p), 0);
    assert_string_equal(d.subject, "New");
    assert_string_equal(d.name, "Winter sale");
    assert_int_equal(d.nvariants, 0);
    authoring_draft_free(&d);
}

static void test_parse_strict(void **state)
{
    (void)state;
    struct authoring_draft d;
    struct authoring_problems p = { .n = 0 };
    authoring_draft_init(&d);
    assert_int_equal(authoring_draft_parse(&d, "{\"name\": \"x\", \"colour\": \"red\"}", &p), 1);
    assert_string_equal(p.v[0].field, "colour");
    assert_true(strncmp(p.v[0].text, "colour: unknown field", 21) == 0);

    p.n = 0;
    assert_int_equal(authoring_draft_parse(&d, "{\"rate_limit_per_minute\": \"fast\", \"name\": 7}", &p), 2);
    assert_true(has(&p, "rate_limit_per_minute: must be a whole number, not a string"));
    assert_true(has(&p, "name: must be a string, not a number"));

    p.n = 0;
    assert_int_equal(authoring_draft_parse(&d, "{\"variants\": [{\"variant\": \"E\", \"split_percent\": 50.5,"
                                               " \"colour\": 1}, 3]}", &p), 4);
    assert_true(has(&p, "variants[0].variant: must be one of \"A\" to \"D\""));
    assert_true(has(&p, "variants[0].split_percent: must be a whole number, not a number with a fraction"));
    assert_string_equal(p.v[2].field, "variants[0].colour");
    assert_true(has(&p, "variants[1]: must be an object, not a number"));
    assert_int_equal(d.nvariants, 0); /* nothing half-read */

    p.n = 0;
    assert_int_equal(authoring_draft_parse(&d, "{\"name\": \"x\",\n \"name\": \"y\"}", &p), 1);
    assert_string_equal(p.v[0].field, "file");
    assert_non_null(strstr(p.v[0].text, "line 2"));

    p.n = 0;
    assert_int_equal(authoring_draft_parse(&d, "[1, 2]", &p), 1);
    assert_string_equal(p.v[0].text, "file: must be a JSON object, not an array");

    p.n = 0;
    assert_int_equal(authoring_draft_parse(&d, "{\"body\": \"a\\u0000b\"}", &p), 1);
    assert_string_equal(p.v[0].field, "file");
    assert_non_null(strstr(p.v[0].text, "\\u0000 is not allowed"));
    authoring_draft_free(&d);
}

static void test_validate(void **state)
{
    (void)state;
    struct authoring_draft d;
    struct authoring_problems p = { .n = 0 };
    authoring_draft_init(&d);
    assert_int_equal(authoring_validate(&d, &p), 5);
    assert_true(has(&p, "name: missing"));
    assert_true(has(&p, "segment_id: missing"));
    assert_true(has(&p, "from: missing"));
    assert_true(has(&p, "subject: missing"));
    assert_true(has(&p, "body: missing"));

    p.n = 0;
    assert_int_equal(authoring_draft_parse(&d, good, &p), 0);
    free(d.subject);
    d.subject = strdup("  ");
    d.variants[1].split = 40;
    free(d.send_at);
    d.send_at = strdup("2026-12-01 09:00");
    assert_int_equal(authoring_validate(&d, &p), 3);
    assert_true(has(&p, "subject: empty"));
    assert_true(has(&p, "variants: splits add up to 90, not 100"));
    assert_true(has(&p, "send_at: needs a time zone (\"2026-12-01 09:00 Europe/Berlin\", \"...+01:00\" or \"...Z\")"));
    /* an sms needs no subject; a fax is no type */
    free(d.type);
    d.type = strdup("sms");
    p.n = 0;
    assert_int_equal(authoring_validate(&d, &p), 2);
    free(d.type);
    d.type = strdup("fax");
    p.n = 0;
    assert_int_equal(authoring_validate(&d, &p), 3);
    assert_true(has(&p, "type: \"fax\" is not email, sms or push"));
    free(d.type);
    d.type = strdup("email");

    /* zones that are fine */
    const char *zoned[] = { "2026-12-01T09:00:00Z", "2026-12-01 09:00+01:00", "2026-12-01 09:00 -0500",
                            "2026-12-01 09:00+01", "2026-12-01 09:00 UTC", "2026-12-01 09:00 America/New_York" };
    const char *unzoned[] = { "2026-12-01", "2026-12-01 09:00-", "12-01", "2026-12-01 09:00", "tomorrow", "2026-12-01 09:00 berlin" };
    for (size_t i = 0; i < sizeof zoned / sizeof zoned[0]; i++) {
        struct authoring_problems q = { .n = 0 };
        free(d.send_at);
        d.send_at = strdup(zoned[i]);
        authoring_validate(&d, &q);
        for (size_t j = 0; j < q.n; j++)
            assert_string_not_equal(q.v[j].field, "send_at");
    }
    for (size_t i = 0; i < sizeof unzoned / sizeof unzoned[0]; i++) {
        struct authoring_problems q = { .n = 0 };
        free(d.send_at);
        d.send_at = strdup(unzoned[i]);
        authoring_validate(&d, &q);
        bool found = false;
        for (size_t j = 0; j < q.n; j++)
            found |= strcmp(q.v[j].field, "send_at") == 0;
        assert_true(found);
    }

    /* one variant, a zero split, a letter twice, a broken placeholder, a long name */
    authoring_draft_free(&d);
    authoring_draft_init(&d);
    p.n = 0;
    assert_int_equal(authoring_draft_parse(&d, good, &p), 0);
    d.variants[1].letter[0] = 'A';
    free(d.body);
    d.body = strdup("Hello {{first name}}");
    char longname[260];
    memset(longname, 'x', 201);
    longname[201] = '\0';
    free(d.name);
    d.name = strdup(longname);
    assert_int_equal(authoring_validate(&d, &p), 3);
    assert_true(has(&p, "variants[1].variant: A appears twice"));
    assert_true(has(&p, "body: {{first name}} is not a placeholder name (letters, digits, _ . -)"));
    assert_true(has(&p, "name: 201 characters, at most 200"));
    p.n = 0;
    d.variants[1].letter[0] = 'B';
    free(d.name);
    d.name = strdup("Ünïcödé name");
    free(d.body);
    d.body = strdup("ok");
    d.nvariants = 1;
    assert_int_equal(authoring_validate(&d, &p), 1);
    assert_true(has(&p, "variants: 1 given; an A/B test has 2 to 4 (or none)"));
    d.nvariants = 2;
    p.n = 0;
    assert_int_equal(authoring_draft_parse(&d, "{\"variants\": [{\"variant\": \"A\", \"split_percent\": 0}]}", &p), 1);
    assert_true(has(&p, "variants[0].split_percent: 0 is outside 1 to 100"));
    authoring_draft_free(&d);
}

static void test_suggest(void **state)
{
    (void)state;
    const char *cands[] = { "city", "first_name", "last_name", "plan", "email" };
    assert_string_equal(authoring_suggest("frist_name", cands, 5), "first_name");
    assert_string_equal(authoring_suggest("first_nam", cands, 5), "first_name");
    assert_string_equal(authoring_suggest("emial", cands, 5), "email");
    assert_string_equal(authoring_suggest("plna", cands, 5), "plan");   /* a swap is one edit */
    assert_string_equal(authoring_suggest("last_nmae", cands, 5), "last_name");
    assert_string_equal(authoring_suggest("pan", cands, 5), "plan");
    assert_null(authoring_suggest("ab", cands, 5));      /* two letters: any edit is too many */
    assert_null(authoring_suggest("zip", cands, 5));     /* 3 letters: nothing is near enough */
    assert_null(authoring_suggest("company", cands, 5));
    assert_null(authoring_suggest("x", cands, 0));
}

static void test_render_template(void **state)
{
    (void)state;
    const char *attrs = "{\"first_name\": \"Ann\", \"age\": 41, \"score\": 2.5, \"vip\": true,"
                        " \"tags\": [1], \"email\": \"attr@example.com\"}";
    char *s = authoring_render_template("Hi {{first_name}}, {{ age }} {{\tscore\t}} {{vip}}!", attrs, "a@b.c");
    assert_string_equal(s, "Hi Ann, 41 2.5 true!");
    free(s);
    /* unknown keys and arrays render empty; email falls back to the address */
    s = authoring_render_template("[{{missing}}][{{tags}}][{{email}}]", "{}", "a@b.c");
    assert_string_equal(s, "[][][a@b.c]");
    free(s);
    s = authoring_render_template("{{email}}", attrs, "a@b.c");
    assert_string_equal(s, "attr@example.com"); /* an attribute wins, as in the backend */
    free(s);
    /* an unclosed placeholder stays; no attributes at all */
    s = authoring_render_template("Hi {{first_name}} {{oops", NULL, NULL);
    assert_string_equal(s, "Hi  {{oops");
    free(s);
    s = authoring_render_template("'; DROP TABLE contacts; -- {{x}}", "not json", NULL);
    assert_string_equal(s, "'; DROP TABLE contacts; -- ");
    free(s);
}

static void test_html(void **state)
{
    (void)state;
    assert_true(authoring_is_html("<p>Hi</p>"));
    assert_true(authoring_is_html("Hi<br>there"));
    assert_true(authoring_is_html("<A HREF='x'>x</A>"));
    assert_false(authoring_is_html("1 < 2 and 3 > 2"));
    assert_false(authoring_is_html("Dear <name>,"));
    assert_false(authoring_is_html(NULL));

    char *s = authoring_html_to_text(
        "<html><head><title>T</title><style>p { color: red }</style></head><body>\n"
        "<h1>Winter   sale</h1>\n"
        "<p>Hello&nbsp;Ann,<br>prices are &lt;50&euro; &amp; falling.</p>\n"
        "<!-- a comment -->"
        "<p>See <a href=\"https://example.com/sale?a=1&amp;b=2\">our offers</a> or "
        "<a href='https://example.com'>https://example.com</a>.</p>\n"
        "<ul><li>Coats</li><li>Boots <b>50%</b> off</li></ul>"
        "<script>alert(1)</script><p>Bye &#8212; &#x263A; &unknown; 1 < 2</p></body></html>");
    assert_string_equal(s, "Winter sale\n\n"
                           "Hello Ann,\nprices are <50\xe2\x82\xac & falling.\n\n"
                           "See our offers (https://example.com/sale?a=1&b=2) or https://example.com.\n\n"
                           "- Coats\n"
                           "- Boots 50% off\n\n"
                           "Bye \xe2\x80\x94 \xe2\x98\xba &unknown; 1 < 2");
    free(s);

    s = authoring_html_to_text("<div>a</div><div>b</div><p></p><p></p><p>c<br><br>d</p>"
                               "<ol><li>one<ul><li>sub</li></ul></li><li>two</li></ol>");
    assert_string_equal(s, "a\nb\n\nc\n\nd\n\n- one\n  - sub\n- two");
    free(s);

    /* rendering: placeholders first, then HTML as text; plain text as it is */
    s = authoring_render("<p>Hi {{first_name}}</p><p>{{email}}</p>", "{\"first_name\": \"<b>Ann</b>\"}",
                         "a@b.c");
    assert_string_equal(s, "Hi Ann\n\na@b.c");
    free(s);
    s = authoring_render("Hi {{first_name}},\n\n  spaced  text", "{\"first_name\": \"Ann\"}", NULL);
    assert_string_equal(s, "Hi Ann,\n\n  spaced  text");
    free(s);
    s = authoring_html_to_text("");
    assert_string_equal(s, "");
    free(s);
}

/* The hand computation the z-test must agree with (pooled, two-sided):
 *   A: 200 clicks of 1000 sent (20%), B: 250 of 1000 (25%)
 *   pooled p = (200 + 250) / (1000 + 1000) = 0.225
 *   p(1 - p) = 0.225 * 0.775 = 0.174375
 *   SE = sqrt(0.174375 * (1/1000 + 1/1000)) = sqrt(0.00034875) = 0.0186748...
 *   z = (0.20 - 0.25) / 0.0186748 = -2.67740
 *   p = 2 * (1 - Phi(2.67740)) = 2 * 0.0037098 = 0.0074196
 * and a small difference:
 *   A: 52 of 500 (10.4%), B: 48 of 500 (9.6%): pooled 0.1, p(1-p) = 0.09,
 *   SE = sqrt(0.09 * 0.004) = sqrt(0.00036) = 0.018974, z = 0.008 / 0.018974 = 0.42164,
 *   p = 2 * (1 - Phi(0.42164)) = 2 * 0.33665 = 0.67329 */
static void test_ztest(void **state)
{
    (void)state;
    double z, p;
    char why[120];
    assert_int_equal(authoring_ztest(200, 1000, 250, 1000, &z, &p, why, sizeof why), 0);
    assert_true(z > -2.67745 && z < -2.67735);
    assert_true(p > 0.007415 && p < 0.007425);
    assert_int_equal(authoring_ztest(250, 1000, 200, 1000, &z, &p, why, sizeof why), 0);
    assert_true(z > 2.67735 && z < 2.67745);
    assert_int_equal(authoring_ztest(52, 500, 48, 500, &z, &p, why, sizeof why), 0);
    assert_true(z > 0.4216 && z < 0.4217);
    assert_true(p > 0.6732 && p < 0.6734);

    /* refusals */
    assert_int_equal(authoring_ztest(5, 20, 10, 20, &z, &p, why, sizeof why), -1);
    assert_string_equal(why, "too few to tell: 20 and 20 sent (30 each at least)");
    assert_true(p == 1.0 && z == 0.0); // NOLINT: set exactly, not computed
    assert_int_equal(authoring_ztest(1, 100, 2, 100, &z, &p, why, sizeof why), -1);
    assert_string_equal(why, "too few to tell: under 5 expected successes in a group");
    assert_int_equal(authoring_ztest(0, 100, 0, 100, &z, &p, why, sizeof why), -1);
    assert_string_equal(why, "no difference: both rates are 0%");
    assert_int_equal(authoring_ztest(5, 0, 1, 10, &z, &p, why, sizeof why), -1);
    assert_int_equal(authoring_ztest(50, 40, 1, 40, &z, &p, why, sizeof why), -1);
}

static void test_ab_analyze(void **state)
{
    (void)state;
    struct authoring_ab ab = { .n = 3 };
    snprintf(ab.v[0].variant, 2, "A");
    ab.v[0].sent = 1000, ab.v[0].opened = 400, ab.v[0].clicked = 200;
    snprintf(ab.v[1].variant, 2, "B");
    ab.v[1].sent = 1000, ab.v[1].opened = 420, ab.v[1].clicked = 250;
    ab.v[2].sent = 10, ab.v[2].clicked = 9; /* no variant: not part of the test */
    authoring_ab_analyze(&ab);
    assert_int_equal(ab.leader, 1);
    assert_true(ab.significant);
    assert_true(ab.v[0].tested);
    assert_false(ab.v[1].tested); /* the leader itself */
    assert_false(ab.v[2].tested);
    assert_true(ab.v[0].p_click > 0.0074 && ab.v[0].p_click < 0.0075);
    assert_true(ab.v[0].z_click > 2.677 && ab.v[0].z_click < 2.678);
    assert_string_equal(ab.verdict, "B wins: its click rate 25.00% beats every other variant's (p = 0.0074 at most, under 0.05)");

    ab.v[1].clicked = 210;
    authoring_ab_analyze(&ab);
    assert_int_equal(ab.leader, 1);
    assert_false(ab.significant);
    assert_non_null(strstr(ab.verdict, "not significantly"));

    ab.v[0].sent = 20;
    ab.v[0].opened = ab.v[0].clicked = 2;
    authoring_ab_analyze(&ab);
    assert_false(ab.significant);
    assert_false(ab.v[0].tested);
    assert_non_null(strstr(ab.v[0].why, "too few to tell"));
    assert_non_null(strstr(ab.verdict, "too few sends"));

    ab.n = 1;
    authoring_ab_analyze(&ab);
    assert_int_equal(ab.leader, -1);
    assert_string_equal(ab.verdict, "only one variant has deliveries: nothing to compare");
}

static void test_describe(void **state)
{
    (void)state;
    struct authoring_request rq;
    assert_int_equal(authoring_request_init(&rq, AU_EDIT, "cmp_7", 4), 0);
    assert_int_equal(strlen(rq.request_id), 36);
    struct authoring_result r;
    memset(&r, 0, sizeof r);
    r.r.outcome = CTL_CONFLICT;
    snprintf(r.r.campaign_id, sizeof r.r.campaign_id, "cmp_7");
    snprintf(r.r.status, sizeof r.r.status, "paused");
    snprintf(r.r.changed_by, sizeof r.r.changed_by, "bob as ops");
    snprintf(r.r.changed_at, sizeof r.r.changed_at, "2026-11-29 10:00:00 UTC");
    r.r.version = 5;
    char msg[512];
    authoring_describe(&rq, &r, msg, sizeof msg);
    assert_string_equal(msg, "Conflict: cmp_7 was changed by bob as ops at 2026-11-29 10:00:00 UTC; it is now "
                             "paused (version 5, you saw 4). Nothing was saved");
    r.r.outcome = CTL_INVALID;
    snprintf(r.r.reason, sizeof r.r.reason, "it is active: pause it first");
    authoring_describe(&rq, &r, msg, sizeof msg);
    assert_string_equal(msg, "Cannot edit cmp_7: it is active: pause it first");
    r.r.outcome = CTL_APPLIED;
    r.r.revision = 3;
    r.r.version = 6;
    snprintf(r.changed, sizeof r.changed, "body, subject");
    authoring_describe(&rq, &r, msg, sizeof msg);
    assert_string_equal(msg, "Campaign saved: cmp_7 has revision 3 (version 6, paused); changed: body, subject");
    assert_string_equal(authoring_op_name(AU_TEST_SEND), "test_send");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),    cmocka_unit_test(test_parse_strict),
        cmocka_unit_test(test_validate),      cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_render_template), cmocka_unit_test(test_html),
        cmocka_unit_test(test_ztest),         cmocka_unit_test(test_ab_analyze),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
