/* The PromQL lexer and recursive-descent parser (see promql.h). */
#include "promql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"

enum tok {
    T_EOF, T_IDENT, T_NUMBER, T_DURATION, T_STRING,
    T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE, T_LBRACKET, T_RBRACKET, T_COMMA, T_COLON, T_AT,
    T_ADD, T_SUB, T_MUL, T_DIV, T_MOD, T_POW,
    T_EQLC, T_NEQ, T_GTR, T_LSS, T_GTE, T_LTE, T_ASSIGN, T_EQL_RE, T_NEQ_RE,
};

struct token {
    enum tok kind;
    size_t pos, len;
    char *text;       /* T_STRING: unquoted (owned); others: NULL */
    double num;       /* T_NUMBER */
    int64_t dur;      /* T_DURATION, ms */
};

struct parser {
    const char *q;
    size_t len, at;
    struct token tok;  /* the current token */
    int depth;
    char *err;
    size_t errsz;
    bool failed;
};

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Records the first error, prefixed with LINE:COL of byte offset pos. */
__attribute__((format(printf, 3, 4)))
static void fail(struct parser *p, size_t pos, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < p->len; i++) {
        if (p->q[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
    va_end(ap);
    if (p->err && p->errsz)
        snprintf(p->err, p->errsz, "%zu:%zu: %s", line, col, msg);
}

/* ---- lexer ---- */

static bool word_is(const struct token *t, const char *q, const char *w)
{
    size_t n = strlen(w);
    if (t->kind != T_IDENT || t->len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = q[t->pos + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != w[i])
            return false;
    }
    return true;
}

/* A duration: [0-9]+ unit, repeated, units y w d h m s ms in that order,
 * each at most once. Returns 0 and *ms, or -1. */
static int parse_duration(const char *s, size_t n, int64_t *ms)
{
    static const struct { const char *unit; int64_t ms; } units[] = {
        {"y", 365LL * 86400000}, {"w", 7LL * 86400000}, {"d", 86400000}, {"h", 3600000},
        {"m", 60000}, {"s", 1000}, {"ms", 1},
    };
    size_t i = 0, next_unit = 0;
    int64_t total = 0;
    if (n == 0)
        return -1;
    while (i < n) {
        int64_t num = 0;
        size_t digits = 0;
        while (i < n && is_digit(s[i])) {
            if (num > INT64_MAX / 10 / 1000)
                return -1;
            num = num * 10 + (s[i++] - '0');
            digits++;
        }
        size_t u0 = i;
        while (i < n && is_alpha(s[i]))
            i++;
        size_t ulen = i - u0, k = next_unit;
        while (k < sizeof units / sizeof units[0] &&
               !(strlen(units[k].unit) == ulen && !strncmp(units[k].unit, s + u0, ulen)))
            k++;
        if (!digits || k == sizeof units / sizeof units[0] || num > INT64_MAX / units[k].ms ||
            total > INT64_MAX - num * units[k].ms)
            return -1;
        total += num * units[k].ms;
        next_unit = k + 1;
    }
    *ms = total;
    return 0;
}

/* Appends the UTF-8 encoding of code point cp. */
static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Reads `n` hex digits at s into *cp. */
static bool read_hex(const char *s, size_t avail, size_t n, unsigned long *cp)
{
    if (avail < n)
        return false;
    *cp = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_hex(s[i]))
            return false;
        char c = s[i];
        int d = is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
        *cp = *cp * 16 + (unsigned long)d;
    }
    return true;
}

/* One escape after a backslash at q[*i] (the char after '\'); writes to o. */
static bool lex_escape(struct parser *p, size_t *i, char quote, char *o, size_t *k)
{
    char c = p->q[*i];
    static const char from[] = "abfnrtv\\", to[] = "\a\b\f\n\r\t\v\\";
    const char *f = c ? strchr(from, c) : NULL;
    unsigned long cp;
    if (f) {
        o[(*k)++] = to[f - from];
        (*i)++;
    } else if (c == quote) {
        o[(*k)++] = c;
        (*i)++;
    } else if (c == 'x' && read_hex(p->q + *i + 1, p->len - *i - 1, 2, &cp) && cp) {
        o[(*k)++] = (char)cp;
        *i += 3;
    } else if ((c == 'u' || c == 'U') &&
               read_hex(p->q + *i + 1, p->len - *i - 1, c == 'u' ? 4 : 8, &cp) && cp &&
               cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
        *k += put_utf8(o + *k, cp);
        *i += c == 'u' ? 5 : 9;
    } else if (c >= '0' && c <= '7' && *i + 2 < p->len && p->q[*i + 1] >= '0' &&
               p->q[*i + 1] <= '7' && p->q[*i + 2] >= '0' && p->q[*i + 2] <= '7') {
        unsigned v = (unsigned)((c - '0') * 64 + (p->q[*i + 1] - '0') * 8 + (p->q[*i + 2] - '0'));
        if (v == 0 || v > 255)
            return false;
        o[(*k)++] = (char)v;
        *i += 3;
    } else {
        return false;
    }
    return true;
}

static void lex_string(struct parser *p, struct token *t)
{
    char quote = p->q[p->at];
    size_t i = p->at + 1, k = 0;
    char *o = malloc(p->len - p->at + 4);
    if (!o) {
        fail(p, t->pos, "out of memory");
        return;
    }
    for (;;) {
        if (i >= p->len || (quote != '`' && p->q[i] == '\n')) {
            fail(p, t->pos, "unterminated quoted string");
            free(o);
            return;
        }
        char c = p->q[i];
        if (c == quote)
            break;
        if (c == '\\' && quote != '`') {
            i++;
            if (!lex_escape(p, &i, quote, o, &k)) {
                fail(p, i - 1, "unknown escape sequence");
                free(o);
                return;
            }
            continue;
        }
        o[k++] = c;
        i++;
    }
    o[k] = '\0';
    t->kind = T_STRING;
    t->text = o;
    p->at = i + 1;
}

/* A number or a duration starting at a digit or '.'. */
static void lex_number(struct parser *p, struct token *t)
{
    size_t i = p->at;
    const char *q = p->q;
    if (q[i] == '0' && (q[i + 1] == 'x' || q[i + 1] == 'X') && is_hex(q[i + 2])) {
        unsigned long long v = 0;
        bool overflow = false;
        for (i += 2; is_hex(q[i]); i++) {
            unsigned long d;
            read_hex(q + i, 1, 1, &d);
            overflow = overflow || v > (~0ULL >> 4);
            v = v * 16 + d;
        }
        if (is_alnum(q[i]) || overflow) {
            fail(p, t->pos, "bad number syntax");
            return;
        }
        t->kind = T_NUMBER;
        t->num = (double)v;
        p->at = i;
        return;
    }
    bool plain = true;
    while (is_digit(q[i]))
        i++;
    if (q[i] == '.') {
        plain = false;
        for (i++; is_digit(q[i]); i++) {
        }
    }
    if ((q[i] == 'e' || q[i] == 'E') &&
        (is_digit(q[i + 1]) || ((q[i + 1] == '+' || q[i + 1] == '-') && is_digit(q[i + 2])))) {
        plain = false;
        for (i += 2; is_digit(q[i]); i++) {
        }
    }
    if (is_alnum(q[i])) {
        size_t j = i;
        while (is_alnum(q[j]))
            j++;
        if (!plain || parse_duration(q + p->at, j - p->at, &t->dur)) {
            fail(p, t->pos, "bad number or duration syntax: \"%.*s\"", (int)(j - p->at > 40 ? 40 : j - p->at),
                 q + p->at);
            return;
        }
        t->kind = T_DURATION;
        p->at = j;
        return;
    }
    if (promtext_parse_value(q + p->at, i - p->at, &t->num)) {
        fail(p, t->pos, "bad number syntax");
        return;
    }
    t->kind = T_NUMBER;
    p->at = i;
}

/* Operators and punctuation; returns false if q[at] starts none. */
static bool lex_punct(struct parser *p, struct token *t)
{
    static const struct { const char *s; enum tok k; } ops[] = {
        {"==", T_EQLC}, {"!=", T_NEQ}, {">=", T_GTE}, {"<=", T_LTE}, {"=~", T_EQL_RE},
        {"!~", T_NEQ_RE}, {"(", T_LPAREN}, {")", T_RPAREN}, {"{", T_LBRACE}, {"}", T_RBRACE},
        {"[", T_LBRACKET}, {"]", T_RBRACKET}, {",", T_COMMA}, {":", T_COLON}, {"@", T_AT},
        {"+", T_ADD}, {"-", T_SUB}, {"*", T_MUL}, {"/", T_DIV}, {"%", T_MOD}, {"^", T_POW},
        {">", T_GTR}, {"<", T_LSS}, {"=", T_ASSIGN},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].s);
        if (!strncmp(p->q + p->at, ops[i].s, n)) {
            t->kind = ops[i].k;
            p->at += n;
            return true;
        }
    }
    return false;
}

static void skip_space(struct parser *p)
{
    for (;;) {
        char c = p->q[p->at];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            p->at++;
        } else if (c == '#') {
            while (p->at < p->len && p->q[p->at] != '\n')
                p->at++;
        } else {
            return;
        }
    }
}

/* Moves to the next token (freeing the current one's text). */
static void next(struct parser *p)
{
    free(p->tok.text);
    memset(&p->tok, 0, sizeof p->tok);
    if (p->failed) {
        p->tok.kind = T_EOF;
        return;
    }
    skip_space(p);
    struct token *t = &p->tok;
    t->pos = p->at;
    char c = p->q[p->at];
    if (p->at >= p->len) {
        t->kind = T_EOF;
    } else if (is_alpha(c) || c == ':') {
        while (is_alnum(p->q[p->at]) || p->q[p->at] == ':')
            p->at++;
        t->kind = T_IDENT;
        t->len = p->at - t->pos;
        if ((word_is(t, p->q, "nan") || word_is(t, p->q, "inf")) &&
            promtext_parse_value(p->q + t->pos, t->len, &t->num) == 0)
            t->kind = T_NUMBER;
    } else if (is_digit(c) || (c == '.' && is_digit(p->q[p->at + 1]))) {
        lex_number(p, t);
    } else if (c == '"' || c == '\'' || c == '`') {
        lex_string(p, t);
    } else if (!lex_punct(p, t)) {
        if (c >= 0x20 && c < 0x7f)
            fail(p, t->pos, "unexpected character '%c'", c);
        else
            fail(p, t->pos, "unexpected byte 0x%02X", (unsigned)(unsigned char)c);
    }
    if (p->failed)
        t->kind = T_EOF;
    t->len = p->at - t->pos;
}

/* A short description of the current token for "unexpected ..." errors. */
static void unexpected(struct parser *p, const char *context)
{
    const struct token *t = &p->tok;
    char what[80];
    if (t->kind == T_EOF)
        snprintf(what, sizeof what, "end of input");
    else if (t->kind == T_STRING)
        snprintf(what, sizeof what, "string");
    else if (t->len <= 1)
        snprintf(what, sizeof what, "'%.*s'", (int)t->len, p->q + t->pos);
    else
        snprintf(what, sizeof what, "\"%.*s\"", (int)(t->len > 40 ? 40 : t->len), p->q + t->pos);
    if (context)
        fail(p, t->pos, "unexpected %s %s", what, context);
    else
        fail(p, t->pos, "unexpected %s", what);
}

static bool expect(struct parser *p, enum tok k, const char *context)
{
    if (p->tok.kind != k) {
        unexpected(p, context);
        return false;
    }
    next(p);
    return true;
}

/* ---- tree ---- */

void promql_free(struct promql_expr **pe)
{
    struct promql_expr *e = *pe;
    if (!e)
        return;
    free(e->str);
    for (size_t i = 0; i < e->n_matchers; i++)
        tsdb_matcher_free(&e->matchers[i]);
    free(e->matchers);
    promql_free(&e->lhs);
    promql_free(&e->rhs);
    for (size_t i = 0; i < e->n_labels; i++)
        free(e->labels[i]);
    free(e->labels);
    for (size_t i = 0; i < e->n_args; i++)
        promql_free(&e->args[i]);
    free(e);
    *pe = NULL;
}

static struct promql_expr *node(struct parser *p, enum promql_kind kind, size_t pos)
{
    struct promql_expr *e = calloc(1, sizeof *e);
    if (!e) {
        fail(p, pos, "out of memory");
        return NULL;
    }
    e->kind = kind;
    e->pos = pos;
    return e;
}

static const char *type_name(enum promql_type t)
{
    switch (t) {
    case PROMQL_SCALAR: return "scalar";
    case PROMQL_VECTOR: return "instant vector";
    case PROMQL_MATRIX: return "range vector";
    case PROMQL_STRING: return "string";
    }
    return "?";
}

static struct promql_expr *parse_expr(struct parser *p, int min_prec);

/* A label name (identifiers and keywords alike), copied. */
static char *label_name(struct parser *p, const char *context)
{
    if (p->tok.kind != T_IDENT || memchr(p->q + p->tok.pos, ':', p->tok.len)) {
        unexpected(p, context);
        return NULL;
    }
    char *s = strndup(p->q + p->tok.pos, p->tok.len);
    if (!s)
        fail(p, p->tok.pos, "out of memory");
    else
        next(p);
    return s;
}

/* ( l1, l2, ... ) into e->labels. */
static bool parse_label_list(struct parser *p, struct promql_expr *e)
{
    if (!expect(p, T_LPAREN, "in grouping opts, expected '('"))
        return false;
    while (p->tok.kind != T_RPAREN) {
        if (e->n_labels >= TSDB_MAX_LABELS) {
            fail(p, p->tok.pos, "too many labels");
            return false;
        }
        char **l = realloc(e->labels, (e->n_labels + 1) * sizeof *l);
        if (!l) {
            fail(p, p->tok.pos, "out of memory");
            return false;
        }
        e->labels = l;
        e->labels[e->n_labels] = label_name(p, "in grouping opts, expected label");
        if (!e->labels[e->n_labels])
            return false;
        e->n_labels++;
        if (p->tok.kind != T_COMMA)
            break;
        next(p);
    }
    return expect(p, T_RPAREN, "in grouping opts, expected ')' or ','");
}

static bool add_matcher(struct parser *p, struct promql_expr *e, const char *name,
                        enum tsdb_match_op op, const char *value, size_t pos)
{
    if (e->n_matchers >= TSDB_MAX_LABELS) {
        fail(p, pos, "too many label matchers");
        return false;
    }
    struct tsdb_matcher *m = realloc(e->matchers, (e->n_matchers + 1) * sizeof *m);
    if (!m) {
        fail(p, pos, "out of memory");
        return false;
    }
    e->matchers = m;
    char why[160];
    if (tsdb_matcher_init(&e->matchers[e->n_matchers], name, op, value, why, sizeof why)) {
        fail(p, pos, "%s", why);
        return false;
    }
    e->n_matchers++;
    return true;
}

/* { name op "value", ... } appended to e's matchers. */
static bool parse_matchers(struct parser *p, struct promql_expr *e)
{
    next(p); /* '{' */
    while (p->tok.kind != T_RBRACE) {
        size_t pos = p->tok.pos;
        char *name = label_name(p, "in label matching, expected label");
        if (!name)
            return false;
        enum tsdb_match_op op;
        switch (p->tok.kind) {
        case T_ASSIGN: op = TSDB_MATCH_EQ; break;
        case T_NEQ: op = TSDB_MATCH_NEQ; break;
        case T_EQL_RE: op = TSDB_MATCH_RE; break;
        case T_NEQ_RE: op = TSDB_MATCH_NRE; break;
        default:
            unexpected(p, "in label matching, expected one of \"=\", \"!=\", \"=~\" or \"!~\"");
            free(name);
            return false;
        }
        next(p);
        if (p->tok.kind != T_STRING) {
            unexpected(p, "in label matching, expected string");
            free(name);
            return false;
        }
        bool ok = add_matcher(p, e, name, op, p->tok.text, pos);
        free(name);
        if (!ok)
            return false;
        next(p);
        if (p->tok.kind != T_COMMA)
            break;
        next(p);
    }
    return expect(p, T_RBRACE, "in label matching, expected ',' or '}'");
}

/* name, name{...} or {...}; the current token is the name or '{'. */
static struct promql_expr *parse_selector(struct parser *p)
{
    size_t pos = p->tok.pos;
    struct promql_expr *e = node(p, PQ_SELECTOR, pos);
    if (!e)
        return NULL;
    e->type = PROMQL_VECTOR;
    if (p->tok.kind == T_IDENT) {
        char *name = strndup(p->q + p->tok.pos, p->tok.len);
        bool ok = name && add_matcher(p, e, "__name__", TSDB_MATCH_EQ, name, pos);
        free(name);
        if (!ok) {
            fail(p, pos, "out of memory");
            promql_free(&e);
            return NULL;
        }
        next(p);
    }
    size_t named = e->n_matchers;
    if (p->tok.kind == T_LBRACE && !parse_matchers(p, e)) {
        promql_free(&e);
        return NULL;
    }
    bool nonempty = false;
    for (size_t i = 0; i < e->n_matchers; i++) {
        if (named && i >= named && !strcmp(e->matchers[i].name, "__name__")) {
            fail(p, pos, "metric name must not be set twice");
            promql_free(&e);
            return NULL;
        }
        nonempty = nonempty || !tsdb_matcher_matches(&e->matchers[i], "");
    }
    if (!nonempty) {
        fail(p, pos, "vector selector must contain at least one non-empty matcher");
        promql_free(&e);
        return NULL;
    }
    return e;
}

static const struct { const char *name; enum promql_agg agg; } aggs[] = {
    {"sum", PQ_SUM}, {"avg", PQ_AVG}, {"min", PQ_MIN}, {"max", PQ_MAX},
    {"count", PQ_COUNT}, {"group", PQ_GROUP},
};
static const char *const unsupported_aggs[] = {
    "topk", "bottomk", "quantile", "count_values", "stddev", "stdvar",
};

/* by (...) or without (...) if present. */
static bool parse_grouping(struct parser *p, struct promql_expr *e, bool *seen)
{
    bool by = word_is(&p->tok, p->q, "by"), without = word_is(&p->tok, p->q, "without");
    if (!by && !without)
        return true;
    if (*seen) {
        unexpected(p, "in aggregation");
        return false;
    }
    *seen = true;
    e->without = without;
    next(p);
    return parse_label_list(p, e);
}

static struct promql_expr *parse_aggregation(struct parser *p, enum promql_agg agg)
{
    struct promql_expr *e = node(p, PQ_AGG, p->tok.pos);
    if (!e)
        return NULL;
    e->agg = agg;
    e->type = PROMQL_VECTOR;
    next(p);
    bool grouped = false;
    if (!parse_grouping(p, e, &grouped) || !expect(p, T_LPAREN, "in aggregation, expected '('"))
        goto bad;
    e->lhs = parse_expr(p, 0);
    if (!e->lhs)
        goto bad;
    if (e->lhs->type != PROMQL_VECTOR) {
        fail(p, e->lhs->pos, "expected type instant vector in aggregation expression, got %s",
             type_name(e->lhs->type));
        goto bad;
    }
    if (p->tok.kind == T_COMMA) {
        fail(p, p->tok.pos, "aggregation takes one argument");
        goto bad;
    }
    if (!expect(p, T_RPAREN, "in aggregation, expected ')'") || !parse_grouping(p, e, &grouped))
        goto bad;
    return e;
bad:
    promql_free(&e);
    return NULL;
}

static bool check_arg(struct parser *p, const struct promql_func *f, size_t i,
                      const struct promql_expr *a)
{
    if (a->type == f->args[i])
        return true;
    fail(p, a->pos, "expected type %s in call to function \"%s\", got %s", type_name(f->args[i]),
         f->name, type_name(a->type));
    return false;
}

static struct promql_expr *parse_call(struct parser *p, const struct promql_func *f)
{
    struct promql_expr *e = node(p, PQ_CALL, p->tok.pos);
    if (!e)
        return NULL;
    e->func = f;
    e->type = f->ret;
    next(p); /* name */
    next(p); /* '(' */
    while (p->tok.kind != T_RPAREN && !p->failed) {
        if (e->n_args == f->n_args) {
            fail(p, p->tok.pos, "too many arguments to function \"%s\": expected %zu", f->name,
                 f->n_args);
            goto bad;
        }
        struct promql_expr *a = parse_expr(p, 0);
        if (!a)
            goto bad;
        e->args[e->n_args++] = a;
        if (!check_arg(p, f, e->n_args - 1, a))
            goto bad;
        if (p->tok.kind != T_COMMA)
            break;
        next(p);
    }
    if (!expect(p, T_RPAREN, "in function call, expected ')' or ','"))
        goto bad;
    if (e->n_args != f->n_args) {
        fail(p, e->pos, "expected %zu argument(s) in call to \"%s\", got %zu", f->n_args, f->name,
             e->n_args);
        goto bad;
    }
    return e;
bad:
    promql_free(&e);
    return NULL;
}

/* An identifier in expression position. */
static struct promql_expr *parse_ident(struct parser *p)
{
    for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++)
        if (word_is(&p->tok, p->q, aggs[i].name))
            return parse_aggregation(p, aggs[i].agg);
    for (size_t i = 0; i < sizeof unsupported_aggs / sizeof unsupported_aggs[0]; i++)
        if (word_is(&p->tok, p->q, unsupported_aggs[i])) {
            fail(p, p->tok.pos, "aggregation \"%s\" is not supported", unsupported_aggs[i]);
            return NULL;
        }
    static const char *const keywords[] = {
        "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
        "group_right", "bool", "offset", "atan2",
    };
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (word_is(&p->tok, p->q, keywords[i])) {
            unexpected(p, NULL);
            return NULL;
        }
    size_t save = p->at;
    skip_space(p);
    bool call = p->q[p->at] == '(';
    p->at = save;
    if (!call)
        return parse_selector(p);
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(p->tok.len < 63 ? p->tok.len : 63), p->q + p->tok.pos);
    const struct promql_func *f = p->tok.len < 63 ? promql_func_find(name) : NULL;
    if (!f) {
        fail(p, p->tok.pos, "unknown function with name \"%s\"", name);
        return NULL;
    }
    return parse_call(p, f);
}

static struct promql_expr *parse_primary(struct parser *p)
{
    struct promql_expr *e = NULL;
    switch (p->tok.kind) {
    case T_NUMBER:
        e = node(p, PQ_NUMBER, p->tok.pos);
        if (e) {
            e->num = p->tok.num;
            e->type = PROMQL_SCALAR;
            next(p);
        }
        return e;
    case T_STRING:
        e = node(p, PQ_STRING, p->tok.pos);
        if (e) {
            e->str = p->tok.text;
            p->tok.text = NULL;
            e->type = PROMQL_STRING;
            next(p);
        }
        return e;
    case T_LPAREN:
        e = node(p, PQ_PAREN, p->tok.pos);
        if (!e)
            return NULL;
        next(p);
        e->lhs = parse_expr(p, 0);
        if (!e->lhs || !expect(p, T_RPAREN, "in parenthesized expression, expected ')'")) {
            promql_free(&e);
            return NULL;
        }
        e->type = e->lhs->type;
        return e;
    case T_LBRACE:
        return parse_selector(p);
    case T_IDENT:
        return parse_ident(p);
    default:
        unexpected(p, NULL);
        return NULL;
    }
}

/* [range] and offset after a selector. */
static bool parse_postfix(struct parser *p, struct promql_expr *e)
{
    for (;;) {
        size_t pos = p->tok.pos;
        if (p->tok.kind == T_LBRACKET) {
            if (e->kind != PQ_SELECTOR || e->range_ms) {
                fail(p, pos, "ranges only allowed for vector selectors");
                return false;
            }
            if (e->offset_ms) {
                fail(p, pos, "no offset modifiers allowed before range");
                return false;
            }
            next(p);
            if (p->tok.kind != T_DURATION) {
                unexpected(p, "in range, expected duration");
                return false;
            }
            e->range_ms = p->tok.dur;
            if (e->range_ms <= 0) {
                fail(p, p->tok.pos, "range must be greater than 0");
                return false;
            }
            next(p);
            if (p->tok.kind == T_COLON || (p->tok.kind == T_IDENT && p->q[p->tok.pos] == ':')) {
                fail(p, p->tok.pos, "subqueries are not supported");
                return false;
            }
            if (!expect(p, T_RBRACKET, "in range, expected ']'"))
                return false;
            e->type = PROMQL_MATRIX;
        } else if (word_is(&p->tok, p->q, "offset")) {
            if (e->kind != PQ_SELECTOR || e->offset_ms) {
                fail(p, pos, "offset modifier must be preceded by an instant vector selector "
                             "or range vector selector");
                return false;
            }
            next(p);
            bool neg = p->tok.kind == T_SUB;
            if (neg || p->tok.kind == T_ADD)
                next(p);
            if (p->tok.kind != T_DURATION) {
                unexpected(p, "in offset, expected duration");
                return false;
            }
            e->offset_ms = neg ? -p->tok.dur : p->tok.dur;
            next(p);
        } else if (p->tok.kind == T_AT) {
            fail(p, pos, "the @ modifier is not supported");
            return false;
        } else {
            return true;
        }
    }
}

static struct promql_expr *parse_unary(struct parser *p)
{
    if (++p->depth > PROMQL_MAX_DEPTH) {
        fail(p, p->tok.pos, "expression nested too deeply");
        return NULL;
    }
    struct promql_expr *e;
    if (p->tok.kind == T_SUB || p->tok.kind == T_ADD) {
        e = node(p, PQ_UNARY, p->tok.pos);
        if (!e)
            return NULL;
        e->op = p->tok.kind == T_SUB ? PQ_SUB : PQ_ADD;
        next(p);
        e->lhs = parse_expr(p, 6); /* binds looser than ^ only */
        if (!e->lhs) {
            promql_free(&e);
            return NULL;
        }
        if (e->lhs->type != PROMQL_SCALAR && e->lhs->type != PROMQL_VECTOR) {
            fail(p, e->pos, "unary expression only allowed on expressions of type scalar or "
                            "instant vector, got %s", type_name(e->lhs->type));
            promql_free(&e);
            return NULL;
        }
        e->type = e->lhs->type;
    } else {
        e = parse_primary(p);
        if (e && !parse_postfix(p, e))
            promql_free(&e);
    }
    p->depth--;
    return e;
}

/* The binary operator of the current token: its precedence (0: none). */
static int binop(const struct parser *p, enum promql_op *op)
{
    static const struct { enum tok t; enum promql_op op; int prec; } ops[] = {
        {T_POW, PQ_POW, 6}, {T_MUL, PQ_MUL, 5}, {T_DIV, PQ_DIV, 5}, {T_MOD, PQ_MOD, 5},
        {T_ADD, PQ_ADD, 4}, {T_SUB, PQ_SUB, 4}, {T_EQLC, PQ_EQ, 3}, {T_NEQ, PQ_NE, 3},
        {T_GTR, PQ_GT, 3}, {T_LSS, PQ_LT, 3}, {T_GTE, PQ_GE, 3}, {T_LTE, PQ_LE, 3},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (p->tok.kind == ops[i].t) {
            *op = ops[i].op;
            return ops[i].prec;
        }
    if (word_is(&p->tok, p->q, "and") || word_is(&p->tok, p->q, "unless")) {
        *op = word_is(&p->tok, p->q, "and") ? PQ_AND : PQ_UNLESS;
        return 2;
    }
    if (word_is(&p->tok, p->q, "or")) {
        *op = PQ_OR;
        return 1;
    }
    if (word_is(&p->tok, p->q, "atan2")) {
        *op = PQ_POW;
        return -1;
    }
    return 0;
}

static bool is_comparison(enum promql_op op) { return op >= PQ_EQ && op <= PQ_LE; }
static bool is_set_op(enum promql_op op) { return op >= PQ_AND; }

/* bool, on(...)/ignoring(...), group_left/right after an operator. */
static bool parse_bin_modifiers(struct parser *p, struct promql_expr *e)
{
    if (word_is(&p->tok, p->q, "bool")) {
        if (!is_comparison(e->op)) {
            fail(p, p->tok.pos, "bool modifier can only be used on comparison operators");
            return false;
        }
        e->return_bool = true;
        next(p);
    }
    if (word_is(&p->tok, p->q, "on") || word_is(&p->tok, p->q, "ignoring")) {
        e->matching = true;
        e->on = word_is(&p->tok, p->q, "on");
        next(p);
        if (!parse_label_list(p, e))
            return false;
    }
    if (word_is(&p->tok, p->q, "group_left") || word_is(&p->tok, p->q, "group_right")) {
        fail(p, p->tok.pos, "%.*s is not supported", (int)p->tok.len, p->q + p->tok.pos);
        return false;
    }
    return true;
}

/* Prometheus's parse-time type checks of a binary expression. */
static bool check_binary(struct parser *p, struct promql_expr *e)
{
    enum promql_type l = e->lhs->type, r = e->rhs->type;
    if ((l != PROMQL_SCALAR && l != PROMQL_VECTOR) || (r != PROMQL_SCALAR && r != PROMQL_VECTOR)) {
        fail(p, e->pos, "binary expression must contain only scalar and instant vector types");
        return false;
    }
    if (is_set_op(e->op) && (l != PROMQL_VECTOR || r != PROMQL_VECTOR)) {
        fail(p, e->pos, "set operator not allowed in binary scalar expression");
        return false;
    }
    if (is_comparison(e->op) && !e->return_bool && l == PROMQL_SCALAR && r == PROMQL_SCALAR) {
        fail(p, e->pos, "comparisons between scalars must use BOOL modifier");
        return false;
    }
    if (e->matching && (l != PROMQL_VECTOR || r != PROMQL_VECTOR)) {
        fail(p, e->pos, "vector matching only allowed between instant vectors");
        return false;
    }
    e->type = l == PROMQL_VECTOR || r == PROMQL_VECTOR ? PROMQL_VECTOR : PROMQL_SCALAR;
    return true;
}

static struct promql_expr *parse_expr(struct parser *p, int min_prec)
{
    struct promql_expr *lhs = parse_unary(p);
    while (lhs) {
        enum promql_op op;
        size_t pos = p->tok.pos;
        int prec = binop(p, &op);
        if (prec < 0) {
            fail(p, pos, "atan2 is not supported");
            promql_free(&lhs);
            return NULL;
        }
        if (prec == 0 || prec < min_prec)
            break;
        struct promql_expr *e = node(p, PQ_BINARY, pos);
        if (!e) {
            promql_free(&lhs);
            return NULL;
        }
        e->op = op;
        e->lhs = lhs;
        next(p);
        if (!parse_bin_modifiers(p, e)) {
            promql_free(&e);
            return NULL;
        }
        if (++p->depth > PROMQL_MAX_DEPTH) {
            fail(p, p->tok.pos, "expression nested too deeply");
            promql_free(&e);
            return NULL;
        }
        e->rhs = parse_expr(p, op == PQ_POW ? prec : prec + 1);
        p->depth--;
        if (!e->rhs || !check_binary(p, e)) {
            promql_free(&e);
            return NULL;
        }
        lhs = e;
    }
    return lhs;
}

struct promql_expr *promql_parse(const char *query, char *err, size_t errsz)
{
    struct parser p = {.q = query, .len = strlen(query), .err = err, .errsz = errsz};
    if (p.len > PROMQL_MAX_QUERY) {
        fail(&p, 0, "query too long");
        return NULL;
    }
    next(&p);
    struct promql_expr *e = parse_expr(&p, 0);
    if (e && p.tok.kind != T_EOF)
        unexpected(&p, NULL);
    if (e && !p.failed && e->type != PROMQL_SCALAR && e->type != PROMQL_VECTOR)
        fail(&p, e->pos, "expression must evaluate to a scalar or an instant vector, got %s",
             type_name(e->type));
    free(p.tok.text);
    if (p.failed) {
        promql_free(&e);
        return NULL;
    }
    return e;
}
