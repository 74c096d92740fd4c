/* rule: the segment rule language, parsed once and evaluated per contact.
 *
 * A segment's rule is stored in segments.rule exactly as written here, and
 * its members are exactly the contacts for which rule_eval() is true: the
 * text is the predicate, there is no second definition.
 *
 *   rule     := "all" | expr
 *   expr     := term { "or" term }
 *   term     := factor { "and" factor }
 *   factor   := "not" factor | "(" expr ")" | "all" | cond
 *   cond     := field op literal
 *             | field [ "not" ] "in" "(" literal { "," literal } ")"
 *   op       := "=" | "!=" | "<" | "<=" | ">" | ">="
 *   field    := country | plan | language | first_name | last_name
 *             | signup_date | age
 *   literal  := "double-quoted string" (\" and \\ escape) | integer
 *
 * Keywords are case-insensitive; "and" binds tighter than "or". Fields are
 * the keys of contacts.attributes. age is a number and takes integers; the
 * others are strings and take strings, compared byte-wise (as PostgreSQL
 * compares text under the C collation; signup_date is "YYYY-MM-DD", so its
 * order is date order). In SQL a condition reads
 *   country = "DE"     attributes->>'country' = 'DE'
 *   age >= 30          (attributes->>'age')::int >= 30
 * and "all" is true. */
#ifndef GEN_RULE_H
#define GEN_RULE_H

#include <stddef.h>

enum rule_field {
    RF_COUNTRY,
    RF_PLAN,
    RF_LANGUAGE,
    RF_FIRST_NAME,
    RF_LAST_NAME,
    RF_SIGNUP_DATE,
    RF_AGE,
    RF_NFIELDS
};

/* one contact's attributes as the evaluator sees them */
struct rule_subject {
    const char *str[RF_NFIELDS]; /* string fields (NULL for age) */
    long age;
};

struct rule;

/* 0 and *out on success; -1 and a message in err (with the offset) on error */
int rule_parse(const char *text, struct rule **out, char *err, size_t errlen);
int rule_eval(const struct rule *r, const struct rule_subject *s);
void rule_free(struct rule *r);

#endif
