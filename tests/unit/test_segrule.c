/* The segment rule language: every construct, every error and its column,
 * the SQL and parameters it compiles to, and hostile input. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "segrule.h"

/* The canonical form of text, which must parse; the caller frees. */
static char *canon(const char *text)
{
    struct segrule_error e;
    struct segrule *r = segrule_parse(text, &e);
    if (!r)
        fail_msg("'%s' did not parse: %d:%d: %s", text, e.line, e.col, e.msg);
    char *c = segrule_canonical(r);
    assert_non_null(c);
    /* the canonical form is a fixed point */
    struct segrule *again = segrule_parse(c, &e);
    if (!again)
        fail_msg("canonical '%s' of '%s' did not parse: %s", c, text, e.msg);
    char *c2 = segrule_canonical(again);
    assert_string_equal(c2, c);
    free(c2);
    segrule_free(&again);
    assert_null(again);
    segrule_free(&r);
    return c;
}

static void check_canon(const char *text, const char *want)
{
    char *c = canon(text);
    assert_string_equal(c, want);
    free(c);
}

/* Compiles text with placeholders from first; checks the SQL and the
 * parameters (a NULL-terminated list). */
static void check_sql(const char *text, int first, const char *want_sql, ...)
{
    struct segrule_sql q;
    struct segrule_error e;
    if (segrule_to_sql(text, first, &q, &e) != 0)
        fail_msg("'%s' did not compile: %s", text, e.msg);
    assert_string_equal(q.where, want_sql);
    va_list ap;
    va_start(ap, want_sql);
    int i = 0;
    for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *), i++) {
        assert_true(i < q.nparams);
        assert_string_equal(q.params[i], p);
    }
    va_end(ap);
    assert_int_equal(q.nparams, i);
    assert_int_equal(q.first, first);
    segrule_sql_free(&q);
}

/* text must fail at line:col (display) with a message containing msg. */
static void check_error(const char *text, int line, int col, const char *msg)
{
    struct segrule_error e;
    struct segrule *r = segrule_parse(text, &e);
    if (r) {
        char *c = segrule_canonical(r);
        fail_msg("'%s' parsed as '%s'; want an error '%s'", text, c, msg);
    }
    if (e.line != line || e.col != col || !strstr(e.msg, msg))
        fail_msg("'%s': got %d:%d: %s; want %d:%d: ...%s...", text, e.line, e.col, e.msg, line, col, msg);
    /* segrule_to_sql says the same */
    struct segrule_sql q;
    struct segrule_error e2;
    assert_int_equal(segrule_to_sql(text, 1, &q, &e2), -1);
    assert_int_equal(e2.col, e.col);
    assert_string_equal(e2.msg, e.msg);
}

static void test_constructs(void **state)
{
    (void)state;
    check_canon("all", "all");
    check_canon("ALL", "all");
    check_canon("plan = \"pro\"", "plan = \"pro\"");
    check_canon("plan == 'pro'", "plan = \"pro\"");
    check_canon("plan <> \"pro\"", "plan != \"pro\"");
    check_canon("age<30", "age < 30");
    check_canon("age<=30 AND age>=-2 and age > +1.5", "age <= 30 and age >= -2 and age > +1.5");
    check_canon("a = 1 Or b = 2 OR c = 3", "a = 1 or b = 2 or c = 3");
    check_canon("a = 1 or b = 2 and c = 3", "a = 1 or b = 2 and c = 3");
    check_canon("(a = 1 or b = 2) and c = 3", "(a = 1 or b = 2) and c = 3");
    check_canon("((a = 1))", "a = 1");
    check_canon("a = 1 and (b = 2 and c = 3)", "a = 1 and b = 2 and c = 3");
    check_canon("NOT a = 1", "not a = 1");
    check_canon("not (a = 1 or b = 2)", "not (a = 1 or b = 2)");
    check_canon("not not a = 1", "not not a = 1");
    check_canon("country IN (\"DE\",'FR')", "country in (\"DE\", \"FR\")");
    check_canon("country NOT IN (\"DE\")", "country not in (\"DE\")");
    check_canon("age in (30, 40)", "age in (30, 40)");
    check_canon("email CONTAINS \"@example\"", "email contains \"@example\"");
    check_canon("name starts WITH \"An\"", "name starts with \"An\"");
    check_canon("phone is null and fax IS NOT NULL", "phone is null and fax is not null");
    check_canon("vip = TRUE and beta != false", "vip = true and beta != false");
    check_canon("last_opened_at > 30 days ago", "last_opened_at > 30 days ago");
    check_canon("last_open_at > 1 DAY ago", "last_opened_at > 1 day ago");
    check_canon("last_click_at >= 2 hour ago", "last_clicked_at >= 2 hours ago");
    check_canon("created_at < 3 weeks ago or updated_at > 90 minutes ago",
                "created_at < 3 weeks ago or updated_at > 90 minutes ago");
    check_canon("created_at >= \"2025-01-31\" and unsubscribed_at < '2025-02-01 12:30:05+02:00'",
                "created_at >= \"2025-01-31\" and unsubscribed_at < \"2025-02-01 12:30:05+02:00\"");
    check_canon("opened cmp_12 AND Clicked \"cmp_3\"", "opened cmp_12 and clicked cmp_3");
    check_canon("status = \"active\"", "status = \"active\"");
    check_canon("Email = \"a@b.c\"", "email = \"a@b.c\"");
    check_canon("attr(\"plan\") = \"pro\"", "plan = \"pro\"");
    check_canon("attr(\"status\") = \"gold\"", "attr(\"status\") = \"gold\"");
    check_canon("attr(\"and\") = 1", "attr(\"and\") = 1");
    check_canon("attr(\"with space\") = 'it\\'s'", "attr(\"with space\") = \"it's\"");
    check_canon("note = \"a\\\"b\\\\c\\nd\\te\\r\"", "note = \"a\\\"b\\\\c\\nd\\te\\r\"");
    check_canon(" \t\n plan = \"pro\" \n", "plan = \"pro\"");
    check_canon("city = \"東京\"", "city = \"東京\"");
}

/* Every rule the demo generator writes (demo/gen/lexicon.c and model.c,
 * with {date} filled in): each parses, and prints back as written. */
static void test_demo_rules(void **state)
{
    (void)state;
    static const char *const rules[] = {
        "all",
        "country = \"DE\"",
        "plan in (\"pro\", \"team\", \"enterprise\")",
        "age >= 30 and country = \"US\"",
        "plan = \"enterprise\"",
        "language = \"fr\"",
        "signup_date < \"2025-11-30\"",
        "country in (\"DE\", \"FR\", \"GB\", \"ES\", \"IT\", \"NL\", \"SE\", \"PL\", \"IE\", \"AT\") "
        "and plan = \"free\"",
        "age < 30 and country in (\"IN\", \"BR\")",
        "plan = \"free\" and not country = \"US\"",
        "country = \"JP\"",
        "plan = \"team\" and age < 40",
        "country in (\"GB\", \"IE\") and (plan = \"pro\" or plan = \"team\")",
        "language = \"es\"",
        "age >= 60",
        "country not in (\"DE\", \"FR\")",
        "country = \"FR\" and plan = \"pro\" and age >= 30",
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        check_canon(rules[i], rules[i]);
}

static void test_sql(void **state)
{
    (void)state;
    check_sql("all", 1, "true", NULL);
    check_sql("plan = \"pro\"", 1, "(((c.attributes->>$1::text) = $2::text) IS TRUE)", "plan", "pro", NULL);
    /* the caller's own parameters come first */
    check_sql("plan = \"pro\"", 3, "(((c.attributes->>$3::text) = $4::text) IS TRUE)", "plan", "pro", NULL);
    check_sql("signup_date < \"2025-01-01\"", 1,
              "(((c.attributes->>$1::text) COLLATE \"C\" < $2::text) IS TRUE)", "signup_date",
              "2025-01-01", NULL);
    check_sql("age >= 30", 1,
              "(((CASE WHEN jsonb_typeof(c.attributes->$1::text) = 'number' OR "
              "(c.attributes->>$1::text) ~ '^[-+]?[0-9]{1,30}([.][0-9]{1,30})?$' "
              "THEN (c.attributes->>$1::text)::numeric END) >= $2::numeric) IS TRUE)",
              "age", "30", NULL);
    check_sql("vip = true", 1, "(((c.attributes->$1::text) = $2::jsonb) IS TRUE)", "vip", "true", NULL);
    check_sql("country not in (\"DE\", \"FR\")", 1,
              "(NOT (((c.attributes->>$1::text) IN ($2::text, $3::text)) IS TRUE))", "country", "DE",
              "FR", NULL);
    check_sql("a = \"x\" and (b = \"y\" or not c = \"z\")", 1,
              "((((c.attributes->>$1::text) = $2::text) IS TRUE) AND "
              "((((c.attributes->>$3::text) = $4::text) IS TRUE) OR "
              "(NOT (((c.attributes->>$5::text) = $6::text) IS TRUE))))",
              "a", "x", "b", "y", "c", "z", NULL);
    /* a parenthesized chain of the same kind is the same tree: the
     * canonical form (which drops the parentheses) compiles the same */
    check_sql("a = \"x\" or (b = \"y\" or c = \"z\")", 1,
              "((((c.attributes->>$1::text) = $2::text) IS TRUE) OR "
              "(((c.attributes->>$3::text) = $4::text) IS TRUE) OR "
              "(((c.attributes->>$5::text) = $6::text) IS TRUE))",
              "a", "x", "b", "y", "c", "z", NULL);
    check_sql("last_open_at > 30 days ago", 1,
              "((c.last_opened_at > (now() - $1::interval)) IS TRUE)", "30 days", NULL);
    check_sql("created_at < \"2025-01-31\"", 1, "((c.created_at < $1::timestamptz) IS TRUE)",
              "2025-01-31", NULL);
    check_sql("last_clicked_at is null", 1, "(c.last_clicked_at IS NULL)", NULL);
    check_sql("x is not null", 1, "((c.attributes->>$1::text) IS NOT NULL)", "x", NULL);
    check_sql("email = \"A@B.example\"", 1, "((lower(c.email) = lower($1::text)) IS TRUE)",
              "A@B.example", NULL);
    check_sql("email contains \"gmail\"", 1,
              "((strpos(lower(c.email), lower($1::text)) > 0) IS TRUE)", "gmail", NULL);
    check_sql("name starts with \"An\"", 1,
              "((starts_with(lower((c.attributes->>$1::text)), lower($2::text))) IS TRUE)", "name",
              "An", NULL);
    check_sql("status in (\"bounced\", \"blocklisted\")", 1,
              "((c.status IN ($1::text, $2::text)) IS TRUE)", "bounced", "blocklisted", NULL);
    check_sql("opened cmp_12", 1,
              "(EXISTS (SELECT 1 FROM deliveries d WHERE d.contact_id = c.id AND d.campaign_id = "
              "$1::text AND d.opened_at IS NOT NULL))", "cmp_12", NULL);
    check_sql("clicked 'cmp_7'", 2,
              "(EXISTS (SELECT 1 FROM deliveries d WHERE d.contact_id = c.id AND d.campaign_id = "
              "$2::text AND d.clicked_at IS NOT NULL))", "cmp_7", NULL);
}

static void test_errors(void **state)
{
    (void)state;
    check_error("", 1, 1, "expected a condition (a rule that selects everyone is 'all'), found end of rule");
    check_error("   ", 1, 4, "found end of rule");
    check_error("country = ", 1, 11, "expected a value after '=', found end of rule");
    check_error("plan = \"pro\" and age >=", 1, 24, "expected a value after '>=', found end of rule");
    check_error("plan \"pro\"", 1, 6, "expected an operator");
    check_error("plan = \"pro\" plan", 1, 14, "expected 'and', 'or' or the end of the rule, found 'plan'");
    check_error("plan = \"pro\" and", 1, 17, "expected a condition after 'and', found end of rule");
    check_error("(plan = \"pro\"", 1, 14, "expected ')' to close the '(' at column 1, found end of rule");
    check_error("plan = \"pro\")", 1, 13, "unexpected ')': no '(' is open");
    check_error("plan = \"pro", 1, 8, "unterminated string: no closing \"");
    check_error("plan = 'pro", 1, 8, "unterminated string: no closing '");
    check_error("plan = \"a\\qb\"", 1, 10, "unknown escape '\\q'");
    check_error("plan = \"pro\" -- comment", 1, 14, "unexpected '--': rules have no comments");
    check_error("plan = \"pro\" /* x */", 1, 14, "unexpected '/*': rules have no comments");
    check_error("plan = \"pro\"; DROP TABLE contacts", 1, 13, "unexpected ';'");
    check_error("plan = pro", 1, 8, "expected a value after '=', found 'pro'");
    check_error("age = 12abc", 1, 7, "bad number");
    check_error("age = 1234567890123456789012345678901", 1, 7, "more than 30 digits");
    check_error("age @ 3", 1, 5, "unexpected character '@'");
    check_error("age = \x01", 1, 7, "unexpected byte 0x01");
    check_error("and = 1", 1, 1, "'and' is a keyword: for an attribute of that name write attr(\"and\")");
    check_error("country nat in (\"DE\")", 1, 9, "expected an operator");
    check_error("country not (\"DE\")", 1, 13, "expected 'in' after 'not'");
    check_error("country in \"DE\"", 1, 12, "expected '(' after 'in'");
    check_error("country in (\"DE\" \"FR\")", 1, 18, "expected ',' or ')' in the IN list");
    check_error("country in ()", 1, 13, "expected a value after '('");
    check_error("country in (\"DE\", 3)", 1, 19, "an IN list takes values of one kind");
    check_error("vip in (true)", 1, 9, "IN lists take strings or numbers");
    check_error("vip > true", 1, 7, "true and false take only = and !=");
    check_error("email = true", 1, 9, "true and false apply to attributes only");
    check_error("email = 3", 1, 9, "expected a \"string\", found the number 3");
    check_error("status = \"gone\"", 1, 10, "status is one of");
    check_error("last_opened_at > 30", 1, 20, "expected a unit (minutes, hours, days, weeks) after 30");
    check_error("last_opened_at > 30 days", 1, 25, "expected 'ago' after the time window, found end of rule");
    check_error("last_opened_at > 1.5 days ago", 1, 18, "a time window takes a whole number");
    check_error("last_opened_at > \"yesterday\"", 1, 18, "expected a time such as");
    check_error("created_at > \"2025-02-29\"", 1, 14, "expected a time such as");
    check_error("created_at > \"2025-01-01 25:00\"", 1, 14, "expected a time such as");
    check_error("age > 30 days ago", 1, 7, "a time window ('30 ... ago') applies to a time column");
    check_error("created_at in (\"2025-01-01\")", 1, 1, "IN does not apply to a time column");
    check_error("created_at contains \"2025\"", 1, 12, "contains does not apply to a time column");
    check_error("name starts \"A\"", 1, 13, "expected 'with' after 'starts'");
    check_error("name contains 3", 1, 15, "expected a \"string\" after 'contains'");
    check_error("name is", 1, 8, "expected 'null' or 'not null' after 'is'");
    check_error("name is not", 1, 12, "expected 'null' after 'is not'");
    check_error("opened", 1, 7, "expected a campaign id such as cmp_12 after 'opened'");
    check_error("clicked seg_1", 1, 9, "expected a campaign id such as cmp_12 after 'clicked'");
    check_error("opened \"cmp_1; drop\"", 1, 8, "expected a campaign id");
    check_error("attr(plan) = 1", 1, 6, "expected an attribute name in quotes");
    check_error("attr(\"\") = 1", 1, 6, "an attribute name cannot be empty");
    check_error("attr(\"plan\" = 1", 1, 13, "expected ')' after the attribute name");
    check_error("3 = age", 1, 1, "expected a condition");
    /* lines and display columns */
    check_error("plan = \"pro\"\nand age >=", 2, 11, "expected a value after '>='");
    check_error("city = \"東京\" and age >", 1, 24, "expected a value after '>'");
    check_error("city = \"東京\" @", 1, 15, "unexpected character '@'");
}

static void test_error_columns(void **state)
{
    (void)state;
    struct segrule_error e;
    /* 東京 is 6 bytes and 4 columns */
    assert_null(segrule_parse("city = \"東京\" @", &e));
    assert_int_equal(e.offset, 16);
    assert_int_equal(e.byte_col, 17);
    assert_int_equal(e.col, 15);
    char buf[200];
    segrule_error_format(&e, buf, sizeof buf);
    assert_string_equal(buf, "1:15: unexpected character '@'");
    assert_null(segrule_parse("country = ", &e));
    segrule_error_format(&e, buf, sizeof buf);
    assert_string_equal(buf, "1:11: expected a value after '=', found end of rule");
}

static void test_caret(void **state)
{
    (void)state;
    struct segrule_error e;
    char buf[400];
    const char *rule = "country = \"FR\" and age >=";
    assert_null(segrule_parse(rule, &e));
    assert_string_equal(segrule_caret(rule, &e, -1, 0, buf, sizeof buf),
                        "country = \"FR\" and age >=\n"
                        "                         ^\n");
    /* the line of the error, and the caret under its display column */
    rule = "city = \"東京\"\n  and @";
    assert_null(segrule_parse(rule, &e));
    assert_string_equal(segrule_caret(rule, &e, -1, 0, buf, sizeof buf), "  and @\n      ^\n");
    rule = "city = \"東京\" @";
    assert_null(segrule_parse(rule, &e));
    assert_string_equal(segrule_caret(rule, &e, -1, 0, buf, sizeof buf),
                        "city = \"東京\" @\n              ^\n");
    /* a control character in the rule is shown escaped, and the caret follows */
    rule = "a = \"\x1b[2J\" @";
    assert_null(segrule_parse(rule, &e));
    assert_string_equal(segrule_caret(rule, &e, -1, 0, buf, sizeof buf), "a = \"^[[2J\" @\n            ^\n");
    /* a long line is shown from later on, the caret still under the error */
    char longrule[300];
    memset(longrule, 0, sizeof longrule);
    strcpy(longrule, "a = 1");
    for (int i = 0; i < 20; i++)
        strcat(longrule, " and a = 1");
    strcat(longrule, " @");
    assert_null(segrule_parse(longrule, &e));
    segrule_caret(longrule, &e, 40, 0, buf, sizeof buf);
    char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    assert_true(strncmp(buf, "...", 3) == 0);
    assert_true(nl - buf <= 40);
    const char *caret = strchr(nl + 1, '^');
    assert_non_null(caret);
    assert_int_equal(buf[caret - (nl + 1)], '@');
}

static void test_hostile(void **state)
{
    (void)state;
    static const char *const evil[] = {
        "'; DROP TABLE contacts; --",
        "\"; DROP TABLE contacts; --",
        "x' OR '1'='1",
        "a\\b",
        "/* c */ -- d",
        "$1",
        "'); SELECT pg_sleep(10); --",
    };
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        /* as a value and as an attribute key, written with escapes */
        char rule[300], esc[200];
        size_t o = 0;
        for (const char *p = evil[i]; *p && o + 2 < sizeof esc; p++) {
            if (*p == '"' || *p == '\\')
                esc[o++] = '\\';
            esc[o++] = *p;
        }
        esc[o] = '\0';
        snprintf(rule, sizeof rule, "attr(\"%s\") = \"%s\" or name in (\"%s\")", esc, esc, esc);
        struct segrule_sql q;
        struct segrule_error e;
        if (segrule_to_sql(rule, 1, &q, &e) != 0)
            fail_msg("'%s': %s", rule, e.msg);
        assert_string_equal(q.where,
                            "((((c.attributes->>$1::text) = $2::text) IS TRUE) OR "
                            "(((c.attributes->>$3::text) IN ($4::text)) IS TRUE))");
        assert_int_equal(q.nparams, 4);
        assert_string_equal(q.params[0], evil[i]);
        assert_string_equal(q.params[1], evil[i]);
        assert_string_equal(q.params[2], "name");
        assert_string_equal(q.params[3], evil[i]);
        segrule_sql_free(&q);
        /* and stored as the canonical text, they come back the same */
        char *c = canon(rule);
        free(c);
    }
    /* SQL outside quotes is no rule at all */
    check_error("plan = \"pro\" OR 1=1", 1, 17, "expected a condition");
    check_error("plan = \"pro\"' OR '1'='1", 1, 13, "expected 'and', 'or' or the end of the rule, found a string");
    check_error("plan = \"pro\" UNION SELECT 1", 1, 14, "expected 'and', 'or' or the end of the rule");
}

static void test_bounds(void **state)
{
    (void)state;
    struct segrule_error e;
    /* rule length */
    char *big = malloc(SEGRULE_MAX_LEN + 2);
    assert_non_null(big);
    memset(big, ' ', SEGRULE_MAX_LEN + 1);
    memcpy(big, "all", 3);
    big[SEGRULE_MAX_LEN] = '\0';
    struct segrule *r = segrule_parse(big, &e);
    assert_non_null(r);
    segrule_free(&r);
    big[SEGRULE_MAX_LEN] = ' ';
    big[SEGRULE_MAX_LEN + 1] = '\0';
    assert_null(segrule_parse(big, &e));
    assert_int_equal(e.col, SEGRULE_MAX_LEN + 1);
    assert_non_null(strstr(e.msg, "longer than 4096 bytes"));
    free(big);

    /* nesting: parentheses and NOTs */
    char deep[400] = "";
    for (int i = 0; i < SEGRULE_MAX_DEPTH; i++)
        strcat(deep, "(");
    strcat(deep, "a = 1");
    for (int i = 0; i < SEGRULE_MAX_DEPTH; i++)
        strcat(deep, ")");
    r = segrule_parse(deep, &e);
    assert_non_null(r);
    segrule_free(&r);
    memmove(deep + 1, deep, strlen(deep) + 1);
    deep[0] = '(';
    strcat(deep, ")");
    assert_null(segrule_parse(deep, &e));
    assert_int_equal(e.col, SEGRULE_MAX_DEPTH + 1);
    assert_non_null(strstr(e.msg, "nested more than 32 deep"));
    char nots[400] = "";
    for (int i = 0; i < SEGRULE_MAX_DEPTH + 1; i++)
        strcat(nots, "not ");
    strcat(nots, "a = 1");
    assert_null(segrule_parse(nots, &e));
    assert_non_null(strstr(e.msg, "nested more than"));

    /* IN list length */
    char in[4096] = "a in (1";
    for (int i = 1; i < SEGRULE_MAX_IN; i++)
        strcat(in, ",1");
    strcat(in, ")");
    r = segrule_parse(in, &e);
    assert_non_null(r);
    segrule_free(&r);
    in[strlen(in) - 1] = '\0';
    strcat(in, ",2)");
    assert_null(segrule_parse(in, &e));
    assert_int_equal(e.col, (int)strlen(in) - 1);
    assert_non_null(strstr(e.msg, "more than 256 values in one IN list"));

    /* parameters: 300 conditions of two parameters each */
    char *many = malloc(SEGRULE_MAX_LEN + 1);
    assert_non_null(many);
    strcpy(many, "a=1");
    for (int i = 1; i < 300 && strlen(many) + 8 < SEGRULE_MAX_LEN; i++)
        strcat(many, " or a=1");
    struct segrule_sql q;
    assert_int_equal(segrule_to_sql(many, 1, &q, &e), -1);
    assert_non_null(strstr(e.msg, "more than 512 values"));
    assert_int_equal(e.line, 1);
    assert_true(e.col > 1);
    assert_null(q.where);
    free(many);
    /* long chains are flat, not deep */
    char chain[SEGRULE_MAX_LEN + 1] = "a = 1";
    while (strlen(chain) + 10 < SEGRULE_MAX_LEN)
        strcat(chain, " and all");
    r = segrule_parse(chain, &e);
    if (!r)
        fail_msg("a long chain: %s", e.msg);
    segrule_free(&r);
}

int main(void)
{
    setlocale(LC_CTYPE, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constructs),
        cmocka_unit_test(test_demo_rules),
        cmocka_unit_test(test_sql),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_columns),
        cmocka_unit_test(test_caret),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
