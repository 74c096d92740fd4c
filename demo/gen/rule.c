/* rule: recursive-descent parser and tree evaluator for segment rules. */
#include "rule.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum node_kind { N_ALL, N_AND, N_OR, N_NOT, N_CMP, N_IN };
enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

struct node {
    enum node_kind kind;
    enum cmp_op op;
    enum rule_field field;
    struct node *a, *b;
    size_t n;       /* literals in an "in" list (1 for a comparison) */
    char **strs;    /* string literals, for string fields */
    long *nums;     /* integer literals, for age */
};

struct rule {
    struct node *root;
};

static const char *const field_names[RF_NFIELDS] = {
    "country", "plan", "language", "first_name", "last_name", "signup_date", "age",
};

struct parser {
    const char *text;
    const char *p;
    char *err;
    size_t errlen;
    int failed;
};

static void node_free(struct node *n)
{
    if (!n)
        return;
    node_free(n->a);
    node_free(n->b);
    if (n->strs) {
        for (size_t i = 0; i < n->n; i++)
            free(n->strs[i]);
        free(n->strs);
    }
    free(n->nums);
    free(n);
}

static void fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct parser *ps, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = 1;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
    va_end(ap);
    snprintf(ps->err, ps->errlen, "%s at offset %d", msg, (int)(ps->p - ps->text));
}

static struct node *node_new(enum node_kind kind)
{
    struct node *n = calloc(1, sizeof *n);
    if (!n) {
        fputs("out of memory\n", stderr);
        exit(1);
    }
    n->kind = kind;
    return n;
}

static void skip_space(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

/* the identifier or keyword at p, without consuming it; its length */
static size_t peek_word(struct parser *ps)
{
    skip_space(ps);
    size_t n = 0;
    while (isalpha((unsigned char)ps->p[n]) || ps->p[n] == '_' ||
           (n > 0 && isdigit((unsigned char)ps->p[n])))
        n++;
    return n;
}

static int accept_keyword(struct parser *ps, const char *kw)
{
    size_t n = peek_word(ps);
    if (n == strlen(kw) && strncasecmp(ps->p, kw, n) == 0) {
        ps->p += n;
        return 1;
    }
    return 0;
}

static int accept_char(struct parser *ps, char c)
{
    skip_space(ps);
    if (*ps->p == c) {
        ps->p++;
        return 1;
    }
    return 0;
}

static struct node *parse_expr(struct parser *ps);

/* a literal of the field's type into slot i of n */
static void parse_literal(struct parser *ps, struct node *n, size_t i)
{
    skip_space(ps);
    if (n->field == RF_AGE) {
        const char *s = ps->p;
        if (*s == '-' || *s == '+')
            s++;
        if (!isdigit((unsigned char)*s)) {
            fail(ps, "%s takes a number", field_names[n->field]);
            return;
        }
        errno = 0;
        char *end;
        long v = strtol(ps->p, &end, 10);
        if (errno == ERANGE || isalpha((unsigned char)*end)) {
            fail(ps, "bad number");
            return;
        }
        n->nums[i] = v;
        ps->p = end;
        return;
    }
    if (*ps->p != '"') {
        fail(ps, "%s takes a \"string\"", field_names[n->field]);
        return;
    }
    const char *s = ps->p + 1;
    size_t cap = strlen(s) + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fputs("out of memory\n", stderr);
        exit(1);
    }
    while (*s && *s != '"') {
        if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
            s++;
        buf[len++] = *s++;
    }
    buf[len] = '\0';
    if (*s != '"') {
        free(buf);
        fail(ps, "unterminated string");
        return;
    }
    n->strs[i] = buf;
    ps->p = s + 1;
}

static void alloc_literals(struct node *n, size_t count)
{
    n->n = count;
    if (n->field == RF_AGE)
        n->nums = calloc(count, sizeof *n->nums);
    else
        n->strs = calloc(count, sizeof *n->strs);
    if (!n->nums && !n->strs) {
        fputs("out of memory\n", stderr);
        exit(1);
    }
}

static struct node *parse_cond(struct parser *ps)
{
    size_t len = peek_word(ps);
    int field = -1;
    for (int f = 0; f < RF_NFIELDS; f++)
        if (strlen(field_names[f]) == len && strncmp(ps->p, field_names[f], len) == 0)
            field = f;
    if (len == 0) {
        fail(ps, "expected a field, \"not\", \"all\" or \"(\"");
        return NULL;
    }
    if (field < 0) {
        fail(ps, "unknown field '%.*s' (fields: country, plan, language, first_name, last_name, "
                 "signup_date, age)", (int)len, ps->p);
        return NULL;
    }
    ps->p += len;
    struct node *n = node_new(N_CMP);
    n->field = (enum rule_field)field;

    int negated = 0;
    if (accept_keyword(ps, "not")) {
        negated = 1;
        if (!accept_keyword(ps, "in")) {
            fail(ps, "expected \"in\" after \"not\"");
            return n;
        }
    }
    if (negated || accept_keyword(ps, "in")) {
        n->kind = N_IN;
        if (!accept_char(ps, '(')) {
            fail(ps, "expected \"(\" after \"in\"");
            return n;
        }
        /* count the items first: literals never contain an unquoted ')' */
        size_t count = 1;
        int quoted = 0;
        for (const char *s = ps->p; *s && (quoted || *s != ')'); s++) {
            if (quoted && *s == '\\' && s[1])
                s++;
            else if (*s == '"')
                quoted = !quoted;
            else if (!quoted && *s == ',')
                count++;
        }
        alloc_literals(n, count);
        for (size_t i = 0; i < count && !ps->failed; i++) {
            parse_literal(ps, n, i);
            if (i + 1 < count && !ps->failed && !accept_char(ps, ','))
                fail(ps, "expected \",\"");
        }
        if (!ps->failed && !accept_char(ps, ')'))
            fail(ps, "expected \")\"");
        if (negated) {
            struct node *not = node_new(N_NOT);
            not->a = n;
            return not;
        }
        return n;
    }

    skip_space(ps);
    static const struct { const char *s; enum cmp_op op; } ops[] = {
        {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE}, {"=", OP_EQ}, {"<", OP_LT}, {">", OP_GT},
    };
    size_t i;
    for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strncmp(ps->p, ops[i].s, strlen(ops[i].s)) == 0)
            break;
    if (i == sizeof ops / sizeof ops[0]) {
        fail(ps, "expected an operator (= != < <= > >= in) after %s", field_names[field]);
        return n;
    }
    n->op = ops[i].op;
    ps->p += strlen(ops[i].s);
    alloc_literals(n, 1);
    parse_literal(ps, n, 0);
    return n;
}

static struct node *parse_factor(struct parser *ps)
{
    if (accept_keyword(ps, "not")) {
        struct node *n = node_new(N_NOT);
        n->a = parse_factor(ps);
        return n;
    }
    if (accept_char(ps, '(')) {
        struct node *n = parse_expr(ps);
        if (!ps->failed && !accept_char(ps, ')'))
            fail(ps, "expected \")\"");
        return n;
    }
    if (accept_keyword(ps, "all"))
        return node_new(N_ALL);
    return parse_cond(ps);
}

static struct node *parse_term(struct parser *ps)
{
    struct node *left = parse_factor(ps);
    while (!ps->failed && accept_keyword(ps, "and")) {
        struct node *n = node_new(N_AND);
        n->a = left;
        n->b = parse_factor(ps);
        left = n;
    }
    return left;
}

static struct node *parse_expr(struct parser *ps)
{
    struct node *left = parse_term(ps);
    while (!ps->failed && accept_keyword(ps, "or")) {
        struct node *n = node_new(N_OR);
        n->a = left;
        n->b = parse_term(ps);
        left = n;
    }
    return left;
}

int rule_parse(const char *text, struct rule **out, char *err, size_t errlen)
{
    struct parser ps = {.text = text, .p = text, .err = err, .errlen = errlen};
    struct node *root = parse_expr(&ps);
    skip_space(&ps);
    if (!ps.failed && *ps.p)
        fail(&ps, "unexpected '%c'", *ps.p);
    if (ps.failed) {
        node_free(root);
        return -1;
    }
    struct rule *r = malloc(sizeof *r);
    if (!r) {
        node_free(root);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->root = root;
    *out = r;
    return 0;
}

static int compare(const struct node *n, const struct rule_subject *s, size_t i)
{
    if (n->field == RF_AGE)
        return (s->age > n->nums[i]) - (s->age < n->nums[i]);
    int c = strcmp(s->str[n->field], n->strs[i]);
    return (c > 0) - (c < 0);
}

static int eval(const struct node *n, const struct rule_subject *s)
{
    switch (n->kind) {
    case N_ALL:
        return 1;
    case N_AND:
        return eval(n->a, s) && eval(n->b, s);
    case N_OR:
        return eval(n->a, s) || eval(n->b, s);
    case N_NOT:
        return !eval(n->a, s);
    case N_IN:
        for (size_t i = 0; i < n->n; i++)
            if (compare(n, s, i) == 0)
                return 1;
        return 0;
    case N_CMP: {
        int c = compare(n, s, 0);
        switch (n->op) {
        case OP_EQ: return c == 0;
        case OP_NE: return c != 0;
        case OP_LT: return c < 0;
        case OP_LE: return c <= 0;
        case OP_GT: return c > 0;
        case OP_GE: return c >= 0;
        }
    }
    }
    return 0;
}

int rule_eval(const struct rule *r, const struct rule_subject *s)
{
    return eval(r->root, s);
}

void rule_free(struct rule *r)
{
    if (!r)
        return;
    node_free(r->root);
    free(r);
}
