/* Segment rules: the lexer and the recursive-descent parser to a tree
 * (segrule_ast.h). See segrule.h for the grammar. */
#include "segrule.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sanitize.h"
#include "segrule_ast.h"

/* ---- the tables ------------------------------------------------------ */

const struct segrule_column segrule_columns[] = {
    { "email", "c.email", FT_EMAIL },
    { "status", "c.status", FT_STATUS },
    { "created_at", "c.created_at", FT_TIME },
    { "updated_at", "c.updated_at", FT_TIME },
    { "unsubscribed_at", "c.unsubscribed_at", FT_TIME },
    { "last_opened_at", "c.last_opened_at", FT_TIME },
    { "last_clicked_at", "c.last_clicked_at", FT_TIME },
};
const size_t segrule_ncolumns = sizeof segrule_columns / sizeof segrule_columns[0];

const struct segrule_alias segrule_aliases[] = {
    { "last_open_at", "last_opened_at" },
    { "last_click_at", "last_clicked_at" },
};
const size_t segrule_naliases = sizeof segrule_aliases / sizeof segrule_aliases[0];

const struct segrule_unit segrule_units[] = {
    { "minute", "minutes" }, { "hour", "hours" }, { "day", "days" }, { "week", "weeks" },
};

const char *const segrule_op_text[] = { "=", "!=", "<", "<=", ">", ">=" };

static const char *const keywords[] = {
    "and", "or", "not", "in", "is", "null", "all", "opened", "clicked", "contains", "starts",
    "with", "true", "false", "attr",
};

static const char *const statuses[] = { "active", "unsubscribed", "bounced", "blocklisted" };

/* ---- tokens ---------------------------------------------------------- */

enum tok {
    T_END, T_IDENT, T_STRING, T_NUMBER, T_LPAREN, T_RPAREN, T_COMMA,
    T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_ERROR
};

struct token {
    enum tok kind;
    size_t pos, len;   /* where in the text */
    char *str;         /* T_STRING: the decoded value (malloc'd) */
};

/* ---- parser state ---------------------------------------------------- */

struct parser {
    const char *text;
    size_t len;
    size_t p;               /* lexer position */
    struct token tok;       /* the current token */
    int depth;
    bool failed;
    struct segrule_error *err;
};

void segrule_locate(const char *text, size_t offset, struct segrule_error *e)
{
    size_t line_start = 0;
    int line = 1;
    for (size_t i = 0; i < offset && text[i]; i++) {
        if (text[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    }
    e->offset = offset;
    e->line = line;
    e->byte_col = (int)(offset - line_start) + 1;
    e->col = san_width(text + line_start, offset - line_start, 0) + 1;
}

static void fail_at(struct parser *ps, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail_at(struct parser *ps, size_t pos, const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err->msg, sizeof ps->err->msg, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
    va_end(ap);
    segrule_locate(ps->text, pos, ps->err);
}

static void oom(struct parser *ps) { fail_at(ps, 0, "out of memory"); }

/* ---- lexer ----------------------------------------------------------- */

bool segrule_ident_start(int c) { return isalpha(c) || c == '_'; }
bool segrule_ident_char(int c) { return isalnum(c) || c == '_'; }

/* A short description of the current token for messages: "end of rule",
 * "'and'", "'('", "a string", "the number 5". */
static void describe(const struct parser *ps, char *buf, size_t n)
{
    const struct token *t = &ps->tok;
    switch (t->kind) {
    case T_END:
        snprintf(buf, n, "end of rule");
        return;
    case T_STRING:
        snprintf(buf, n, "a string");
        return;
    case T_NUMBER:
        snprintf(buf, n, "the number %.*s", t->len > 20 ? 20 : (int)t->len, ps->text + t->pos);
        return;
    case T_IDENT: {
        /* identifiers are ASCII: safe to quote; long ones are cut */
        int len = t->len > 40 ? 40 : (int)t->len;
        snprintf(buf, n, "'%.*s%s'", len, ps->text + t->pos, t->len > 40 ? "..." : "");
        return;
    }
    default:
        snprintf(buf, n, "'%.*s'", (int)t->len, ps->text + t->pos);
        return;
    }
}

static void lex_string(struct parser *ps)
{
    const char *s = ps->text;
    char quote = s[ps->p];
    size_t start = ps->p, i = ps->p + 1;
    char *buf = malloc(ps->len - start + 1);
    if (!buf) {
        oom(ps);
        ps->tok.kind = T_ERROR;
        return;
    }
    size_t o = 0;
    while (i < ps->len && s[i] != quote) {
        if (s[i] == '\\') {
            char c = i + 1 < ps->len ? s[i + 1] : '\0';
            switch (c) {
            case '"': case '\'': case '\\': buf[o++] = c; break;
            case 'n': buf[o++] = '\n'; break;
            case 't': buf[o++] = '\t'; break;
            case 'r': buf[o++] = '\r'; break;
            default:
                free(buf);
                if (c == '\0')
                    fail_at(ps, start, "unterminated string: no closing %c", quote);
                else if (isprint((unsigned char)c))
                    fail_at(ps, i, "unknown escape '\\%c' in a string (use \\\" \\' \\\\ \\n \\t \\r)", c);
                else
                    fail_at(ps, i, "unknown escape in a string (use \\\" \\' \\\\ \\n \\t \\r)");
                ps->tok.kind = T_ERROR;
                return;
            }
            i += 2;
        } else {
            buf[o++] = s[i++];
        }
    }
    if (i >= ps->len) {
        free(buf);
        fail_at(ps, start, "unterminated string: no closing %c", quote);
        ps->tok.kind = T_ERROR;
        return;
    }
    buf[o] = '\0';
    ps->tok.kind = T_STRING;
    ps->tok.str = buf;
    ps->tok.len = i + 1 - start;
    ps->p = i + 1;
}

static void lex_number(struct parser *ps)
{
    const char *s = ps->text;
    size_t start = ps->p, i = ps->p;
    if (s[i] == '-' || s[i] == '+')
        i++;
    size_t digits = 0;
    while (isdigit((unsigned char)s[i])) {
        i++;
        digits++;
    }
    if (s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
        i++;
        while (isdigit((unsigned char)s[i])) {
            i++;
            digits++;
        }
    }
    if (segrule_ident_char((unsigned char)s[i]) || s[i] == '.') {
        fail_at(ps, start, "bad number '%.*s'", (int)(i - start + 1 > 20 ? 20 : i - start + 1), s + start);
        ps->tok.kind = T_ERROR;
        return;
    }
    if (digits > 30) {
        fail_at(ps, start, "number with more than 30 digits");
        ps->tok.kind = T_ERROR;
        return;
    }
    ps->tok.kind = T_NUMBER;
    ps->tok.len = i - start;
    ps->p = i;
}

/* Reads the next token into ps->tok (freeing the previous one's string). */
static void next(struct parser *ps)
{
    free(ps->tok.str);
    ps->tok.str = NULL;
    if (ps->failed) {
        ps->tok.kind = T_ERROR;
        return;
    }
    const char *s = ps->text;
    while (ps->p < ps->len && (s[ps->p] == ' ' || s[ps->p] == '\t' || s[ps->p] == '\n' ||
                               s[ps->p] == '\r'))
        ps->p++;
    ps->tok.pos = ps->p;
    ps->tok.len = 1;
    if (ps->p >= ps->len) {
        ps->tok.kind = T_END;
        ps->tok.len = 0;
        return;
    }
    unsigned char c = (unsigned char)s[ps->p];
    unsigned char d = ps->p + 1 < ps->len ? (unsigned char)s[ps->p + 1] : 0;
    if (segrule_ident_start(c)) {
        size_t i = ps->p;
        while (i < ps->len && segrule_ident_char((unsigned char)s[i]))
            i++;
        ps->tok.kind = T_IDENT;
        ps->tok.len = i - ps->p;
        ps->p = i;
        return;
    }
    if (isdigit(c) || ((c == '-' || c == '+') && isdigit(d))) {
        lex_number(ps);
        return;
    }
    if (c == '"' || c == '\'') {
        lex_string(ps);
        return;
    }
    enum tok k = T_ERROR;
    size_t len = 1;
    switch (c) {
    case '(': k = T_LPAREN; break;
    case ')': k = T_RPAREN; break;
    case ',': k = T_COMMA; break;
    case '=': k = T_EQ; len = d == '=' ? 2 : 1; break;
    case '!': if (d == '=') { k = T_NE; len = 2; } break;
    case '<':
        if (d == '=') { k = T_LE; len = 2; }
        else if (d == '>') { k = T_NE; len = 2; }
        else k = T_LT;
        break;
    case '>':
        if (d == '=') { k = T_GE; len = 2; }
        else k = T_GT;
        break;
    default: break;
    }
    if (k == T_ERROR) {
        if (c == '-' && d == '-')
            fail_at(ps, ps->p, "unexpected '--': rules have no comments");
        else if (c == '/' && d == '*')
            fail_at(ps, ps->p, "unexpected '/*': rules have no comments");
        else if (c == ';')
            fail_at(ps, ps->p, "unexpected ';': a rule is one expression");
        else if (c >= 0x21 && c < 0x7F)
            fail_at(ps, ps->p, "unexpected character '%c'", c);
        else
            fail_at(ps, ps->p, "unexpected byte 0x%02X (write text inside quotes)", c);
        ps->tok.kind = T_ERROR;
        return;
    }
    ps->tok.kind = k;
    ps->tok.len = len;
    ps->p += len;
}

/* ---- parser ---------------------------------------------------------- */

static bool is_word(const struct parser *ps, const char *w)
{
    return ps->tok.kind == T_IDENT && ps->tok.len == strlen(w) &&
           strncasecmp(ps->text + ps->tok.pos, w, ps->tok.len) == 0;
}

static bool accept_word(struct parser *ps, const char *w)
{
    if (!is_word(ps, w))
        return false;
    next(ps);
    return true;
}

bool segrule_is_keyword(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen(keywords[i]) == len && strncasecmp(s, keywords[i], len) == 0)
            return true;
    return false;
}

static void expected(struct parser *ps, const char *what)
{
    char found[80];
    describe(ps, found, sizeof found);
    fail_at(ps, ps->tok.pos, "expected %s, found %s", what, found);
}

static struct node *node_new(struct parser *ps, enum nkind kind, size_t pos)
{
    struct node *n = calloc(1, sizeof *n);
    if (!n) {
        oom(ps);
        return NULL;
    }
    n->kind = kind;
    n->pos = pos;
    n->column = -1;
    return n;
}

static void node_free(struct node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    for (size_t i = 0; i < n->nvals; i++)
        free(n->vals[i].text);
    free(n->vals);
    free(n->key);
    free(n);
}

static bool add_kid(struct parser *ps, struct node *n, struct node *kid)
{
    struct node **k = realloc(n->kids, (n->nkids + 1) * sizeof(struct node *));
    if (!k) {
        node_free(kid);
        oom(ps);
        return false;
    }
    n->kids = k;
    n->kids[n->nkids++] = kid;
    return true;
}

/* Adds kid to the chain n; a parenthesized chain of the same kind is
 * spliced in, so "a or (b or c)" is the tree of "a or b or c". */
static bool add_flat(struct parser *ps, struct node *n, struct node *kid)
{
    if (kid->kind != n->kind)
        return add_kid(ps, n, kid);
    bool ok = true;
    for (size_t i = 0; i < kid->nkids; i++) {
        if (ok && add_kid(ps, n, kid->kids[i])) {
            kid->kids[i] = NULL;
        } else if (ok) {
            kid->kids[i] = NULL; /* add_kid freed it */
            ok = false;
        }
    }
    node_free(kid);
    return ok;
}

static struct node *parse_expr(struct parser *ps);

static const char *ftype_values(enum ftype t)
{
    switch (t) {
    case FT_TIME: return "a time (30 days ago, or \"2025-01-31\")";
    case FT_STATUS: return "a status (\"active\", \"unsubscribed\", \"bounced\" or \"blocklisted\")";
    default: return "a \"string\"";
    }
}

/* "2025-01-31", optionally with " 12:30" or "T12:30:45", and "Z" or an
 * offset: what PostgreSQL reads as timestamptz without surprises. */
static bool valid_time(const char *s)
{
    int y, mo, d;
    if (strlen(s) < 10)
        return false;
    for (int i = 0; i < 10; i++)
        if ((i == 4 || i == 7) ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return false;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    mo = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return false;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return false;
    s += 10;
    if (!*s)
        return true;
    if (*s != ' ' && *s != 'T')
        return false;
    s++;
    for (int i = 0; i < 5; i++)
        if (i == 2 ? s[i] != ':' : !isdigit((unsigned char)s[i]))
            return false;
    if ((s[0] - '0') * 10 + (s[1] - '0') > 23 || (s[3] - '0') * 10 + (s[4] - '0') > 59)
        return false;
    s += 5;
    if (s[0] == ':') {
        if (!isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]) || (s[1] - '0') > 5)
            return false;
        s += 3;
    }
    if (!*s || strcmp(s, "Z") == 0)
        return true;
    if ((s[0] != '+' && s[0] != '-') || !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]))
        return false;
    s += 3;
    if (!*s)
        return true;
    return s[0] == ':' && isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) && !s[3];
}

/* A value for a field of type t into *v. */
static void parse_value(struct parser *ps, enum ftype t, const char *after, struct value *v)
{
    char what[120];
    size_t pos = ps->tok.pos;
    if (ps->tok.kind == T_STRING) {
        if (t == FT_TIME && !valid_time(ps->tok.str)) {
            fail_at(ps, pos, "expected a time such as \"2025-01-31\" or \"2025-01-31 12:00\"");
            return;
        }
        if (t == FT_STATUS) {
            bool ok = false;
            for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
                ok |= strcmp(ps->tok.str, statuses[i]) == 0;
            if (!ok) {
                fail_at(ps, pos, "status is one of \"active\", \"unsubscribed\", \"bounced\", \"blocklisted\"");
                return;
            }
        }
        v->kind = V_STR;
        v->text = ps->tok.str;
        ps->tok.str = NULL;
        next(ps);
        return;
    }
    if (ps->tok.kind == T_NUMBER) {
        char num[40];
        snprintf(num, sizeof num, "%.*s", (int)ps->tok.len, ps->text + pos);
        next(ps);
        if (is_word(ps, "minute") || is_word(ps, "minutes") || is_word(ps, "hour") ||
            is_word(ps, "hours") || is_word(ps, "day") || is_word(ps, "days") ||
            is_word(ps, "week") || is_word(ps, "weeks")) {
            if (t != FT_TIME) {
                fail_at(ps, pos, "a time window ('%s ... ago') applies to a time column "
                                 "(created_at, updated_at, unsubscribed_at, last_opened_at, last_clicked_at)", num);
                return;
            }
            char *end;
            long amount = strtol(num, &end, 10);
            if (*end || amount < 0 || amount > 100000) {
                fail_at(ps, pos, "a time window takes a whole number from 0 to 100000");
                return;
            }
            int unit = 0;
            for (int u = 0; u < 4; u++)
                if (is_word(ps, segrule_units[u].one) || is_word(ps, segrule_units[u].many))
                    unit = u;
            next(ps);
            if (!accept_word(ps, "ago")) {
                expected(ps, "'ago' after the time window");
                return;
            }
            v->kind = V_AGO;
            v->amount = amount;
            v->unit = unit;
            return;
        }
        if (t == FT_TIME) {
            fail_at(ps, ps->tok.pos, "expected a unit (minutes, hours, days, weeks) after %s", num);
            return;
        }
        if (t != FT_ATTR) {
            fail_at(ps, pos, "expected %s, found the number %s", ftype_values(t), num);
            return;
        }
        v->kind = V_NUM;
        v->text = strdup(num);
        if (!v->text)
            oom(ps);
        return;
    }
    if (is_word(ps, "true") || is_word(ps, "false")) {
        if (t != FT_ATTR) {
            fail_at(ps, pos, "true and false apply to attributes only");
            return;
        }
        v->kind = V_BOOL;
        v->text = strdup(is_word(ps, "true") ? "true" : "false");
        if (!v->text)
            oom(ps);
        next(ps);
        return;
    }
    if (ps->tok.kind == T_ERROR)
        return;
    snprintf(what, sizeof what, "a value after %s", after);
    expected(ps, what);
}

/* field [NOT] IN ( value, ... ) */
static void parse_in(struct parser *ps, struct node *n, enum ftype t)
{
    n->kind = N_IN;
    if (t == FT_TIME) {
        fail_at(ps, n->pos, "IN does not apply to a time column: compare with < or >");
        return;
    }
    if (ps->tok.kind != T_LPAREN) {
        expected(ps, "'(' after 'in'");
        return;
    }
    next(ps);
    size_t cap = 0;
    for (;;) {
        if (n->nvals == SEGRULE_MAX_IN) {
            fail_at(ps, ps->tok.pos, "more than %d values in one IN list", SEGRULE_MAX_IN);
            return;
        }
        if (n->nvals == cap) {
            cap = cap ? cap * 2 : 4;
            struct value *v = realloc(n->vals, cap * sizeof *v);
            if (!v) {
                oom(ps);
                return;
            }
            n->vals = v;
        }
        size_t vpos = ps->tok.pos;
        struct value *v = &n->vals[n->nvals];
        memset(v, 0, sizeof *v);
        parse_value(ps, t, n->nvals ? "','" : "'('", v);
        if (ps->failed) {
            free(v->text);
            return;
        }
        n->nvals++;
        if (v->kind == V_BOOL) {
            fail_at(ps, vpos, "IN lists take strings or numbers");
            return;
        }
        if (v->kind != n->vals[0].kind) {
            fail_at(ps, vpos, "an IN list takes values of one kind: all strings or all numbers");
            return;
        }
        if (ps->tok.kind == T_COMMA) {
            next(ps);
            continue;
        }
        if (ps->tok.kind == T_RPAREN) {
            next(ps);
            return;
        }
        expected(ps, "',' or ')' in the IN list");
        return;
    }
}

/* The field at the current token; sets n->column or n->key. Returns its type. */
static enum ftype parse_field(struct parser *ps, struct node *n)
{
    if (is_word(ps, "attr")) {
        next(ps);
        if (ps->tok.kind != T_LPAREN) {
            expected(ps, "'(' after 'attr'");
            return FT_ATTR;
        }
        next(ps);
        if (ps->tok.kind != T_STRING) {
            expected(ps, "an attribute name in quotes, as in attr(\"plan\")");
            return FT_ATTR;
        }
        if (!*ps->tok.str) {
            fail_at(ps, ps->tok.pos, "an attribute name cannot be empty");
            return FT_ATTR;
        }
        n->key = ps->tok.str;
        ps->tok.str = NULL;
        next(ps);
        if (ps->tok.kind != T_RPAREN)
            expected(ps, "')' after the attribute name");
        else
            next(ps);
        return FT_ATTR;
    }
    if (ps->tok.kind != T_IDENT) {
        expected(ps, "a condition (a column or attribute, 'not', 'all', 'opened', 'clicked' or '(')");
        return FT_ATTR;
    }
    const char *w = ps->text + ps->tok.pos;
    size_t len = ps->tok.len;
    if (segrule_is_keyword(w, len)) {
        fail_at(ps, ps->tok.pos, "'%.*s' is a keyword: for an attribute of that name write attr(\"%.*s\")",
                (int)len, w, (int)len, w);
        return FT_ATTR;
    }
    for (size_t i = 0; i < segrule_naliases; i++) {
        if (strlen(segrule_aliases[i].alias) == len && strncasecmp(w, segrule_aliases[i].alias, len) == 0) {
            w = segrule_aliases[i].column;
            len = strlen(w);
        }
    }
    for (size_t i = 0; i < segrule_ncolumns; i++) {
        if (strlen(segrule_columns[i].name) == len && strncasecmp(w, segrule_columns[i].name, len) == 0) {
            n->column = (int)i;
            next(ps);
            return segrule_columns[i].type;
        }
    }
    n->key = strndup(w, len);
    if (!n->key)
        oom(ps);
    next(ps);
    return FT_ATTR;
}

static struct node *parse_cond(struct parser *ps)
{
    struct node *n = node_new(ps, N_CMP, ps->tok.pos);
    if (!n)
        return NULL;
    enum ftype t = parse_field(ps, n);
    if (ps->failed)
        return n;
    char after[80];
    if (n->column >= 0)
        snprintf(after, sizeof after, "'%s'", segrule_columns[n->column].name);
    else
        snprintf(after, sizeof after, "the attribute");
    size_t oppos = ps->tok.pos;
    if (accept_word(ps, "not")) {
        if (!accept_word(ps, "in")) {
            expected(ps, "'in' after 'not'");
            return n;
        }
        n->negated = true;
        parse_in(ps, n, t);
        return n;
    }
    if (accept_word(ps, "in")) {
        parse_in(ps, n, t);
        return n;
    }
    if (accept_word(ps, "is")) {
        n->kind = N_ISNULL;
        n->negated = accept_word(ps, "not");
        if (!accept_word(ps, "null"))
            expected(ps, n->negated ? "'null' after 'is not'" : "'null' or 'not null' after 'is'");
        return n;
    }
    bool contains = is_word(ps, "contains");
    if (contains || is_word(ps, "starts")) {
        n->kind = contains ? N_CONTAINS : N_STARTS;
        next(ps);
        if (!contains && !accept_word(ps, "with")) {
            expected(ps, "'with' after 'starts'");
            return n;
        }
        if (t == FT_TIME) {
            fail_at(ps, oppos, "%s does not apply to a time column", contains ? "contains" : "starts with");
            return n;
        }
        if (ps->tok.kind != T_STRING) {
            expected(ps, contains ? "a \"string\" after 'contains'" : "a \"string\" after 'starts with'");
            return n;
        }
        n->vals = calloc(1, sizeof *n->vals);
        if (!n->vals) {
            oom(ps);
            return n;
        }
        n->nvals = 1;
        n->vals[0].kind = V_STR;
        n->vals[0].text = ps->tok.str;
        ps->tok.str = NULL;
        next(ps);
        return n;
    }
    switch (ps->tok.kind) {
    case T_EQ: n->op = OP_EQ; break;
    case T_NE: n->op = OP_NE; break;
    case T_LT: n->op = OP_LT; break;
    case T_LE: n->op = OP_LE; break;
    case T_GT: n->op = OP_GT; break;
    case T_GE: n->op = OP_GE; break;
    default:
        if (ps->tok.kind != T_ERROR) {
            char what[140];
            snprintf(what, sizeof what, "an operator (= != < <= > >= in, contains, starts with, is) after %s",
                     after);
            expected(ps, what);
        }
        return n;
    }
    char opq[8];
    snprintf(opq, sizeof opq, "'%.*s'", (int)ps->tok.len, ps->text + ps->tok.pos);
    next(ps);
    n->vals = calloc(1, sizeof *n->vals);
    if (!n->vals) {
        oom(ps);
        return n;
    }
    size_t vpos = ps->tok.pos;
    parse_value(ps, t, opq, &n->vals[0]);
    if (ps->failed) {
        free(n->vals[0].text);
        n->vals[0].text = NULL;
        return n;
    }
    n->nvals = 1;
    if (n->vals[0].kind == V_BOOL && n->op != OP_EQ && n->op != OP_NE)
        fail_at(ps, vpos, "true and false take only = and !=");
    return n;
}

static bool valid_campaign_id(const char *s, size_t len)
{
    if (len < 5 || len > 60 || strncmp(s, "cmp_", 4) != 0)
        return false;
    for (size_t i = 4; i < len; i++)
        if (!segrule_ident_char((unsigned char)s[i]))
            return false;
    return true;
}

static struct node *parse_factor(struct parser *ps)
{
    size_t pos = ps->tok.pos;
    if (ps->depth >= SEGRULE_MAX_DEPTH && (is_word(ps, "not") || ps->tok.kind == T_LPAREN)) {
        fail_at(ps, pos, "nested more than %d deep", SEGRULE_MAX_DEPTH);
        return NULL;
    }
    if (accept_word(ps, "not")) {
        struct node *n = node_new(ps, N_NOT, pos);
        if (!n)
            return NULL;
        ps->depth++;
        struct node *k = parse_factor(ps);
        ps->depth--;
        if (k && !add_kid(ps, n, k))
            return n;
        if (!k && !ps->failed)
            oom(ps);
        return n;
    }
    if (ps->tok.kind == T_LPAREN) {
        next(ps);
        ps->depth++;
        struct node *n = parse_expr(ps);
        ps->depth--;
        if (ps->failed)
            return n;
        if (ps->tok.kind != T_RPAREN) {
            char found[80];
            describe(ps, found, sizeof found);
            fail_at(ps, ps->tok.pos, "expected ')' to close the '(' at column %d, found %s",
                    (int)(pos + 1), found);
            return n;
        }
        next(ps);
        return n;
    }
    if (accept_word(ps, "all"))
        return node_new(ps, N_ALL, pos);
    bool opened = is_word(ps, "opened");
    if (opened || is_word(ps, "clicked")) {
        struct node *n = node_new(ps, opened ? N_OPENED : N_CLICKED, pos);
        if (!n)
            return NULL;
        next(ps);
        const char *s = ps->text + ps->tok.pos;
        if (ps->tok.kind == T_IDENT && valid_campaign_id(s, ps->tok.len)) {
            n->key = strndup(s, ps->tok.len);
        } else if (ps->tok.kind == T_STRING && valid_campaign_id(ps->tok.str, strlen(ps->tok.str))) {
            n->key = ps->tok.str;
            ps->tok.str = NULL;
        } else {
            expected(ps, opened ? "a campaign id such as cmp_12 after 'opened'"
                                : "a campaign id such as cmp_12 after 'clicked'");
            return n;
        }
        if (!n->key)
            oom(ps);
        next(ps);
        return n;
    }
    return parse_cond(ps);
}

/* term { AND term } or factor { OR factor }: n-ary, so long chains are
 * not deep trees. */
static struct node *parse_chain(struct parser *ps, enum nkind kind)
{
    size_t pos = ps->tok.pos;
    struct node *first = kind == N_OR ? parse_chain(ps, N_AND) : parse_factor(ps);
    const char *word = kind == N_OR ? "or" : "and";
    if (ps->failed || !is_word(ps, word))
        return first;
    struct node *n = node_new(ps, kind, pos);
    if (!n) {
        node_free(first);
        return NULL;
    }
    if (!add_flat(ps, n, first))
        return n;
    while (!ps->failed && accept_word(ps, word)) {
        if (ps->tok.kind == T_END) {
            char what[40];
            snprintf(what, sizeof what, "a condition after '%s'", word);
            expected(ps, what);
            break;
        }
        struct node *k = kind == N_OR ? parse_chain(ps, N_AND) : parse_factor(ps);
        if (k && !add_flat(ps, n, k))
            break;
    }
    return n;
}

static struct node *parse_expr(struct parser *ps) { return parse_chain(ps, N_OR); }

struct segrule *segrule_parse(const char *text, struct segrule_error *err)
{
    memset(err, 0, sizeof *err);
    if (!text)
        text = "";
    size_t len = strlen(text);
    if (len > SEGRULE_MAX_LEN) {
        snprintf(err->msg, sizeof err->msg, "the rule is longer than %d bytes", SEGRULE_MAX_LEN);
        segrule_locate(text, SEGRULE_MAX_LEN, err);
        return NULL;
    }
    struct parser ps = { .text = text, .len = len, .err = err };
    next(&ps);
    struct node *root = NULL;
    if (ps.tok.kind == T_END)
        expected(&ps, "a condition (a rule that selects everyone is 'all')");
    else
        root = parse_expr(&ps);
    if (!ps.failed && ps.tok.kind != T_END) {
        char found[80];
        describe(&ps, found, sizeof found);
        if (ps.tok.kind == T_RPAREN)
            fail_at(&ps, ps.tok.pos, "unexpected ')': no '(' is open");
        else
            fail_at(&ps, ps.tok.pos, "expected 'and', 'or' or the end of the rule, found %s", found);
    }
    free(ps.tok.str);
    struct segrule *r = NULL;
    if (!ps.failed && root) {
        r = malloc(sizeof *r);
        if (!r)
            oom(&ps);
    }
    if (ps.failed || !r) {
        if (!ps.failed)
            oom(&ps);
        node_free(root);
        free(r);
        return NULL;
    }
    r->root = root;
    return r;
}

void segrule_free(struct segrule **r)
{
    if (!r || !*r)
        return;
    node_free((*r)->root);
    free(*r);
    *r = NULL;
}
