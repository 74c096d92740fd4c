/* Segment rules: the canonical printer, the compiler to parameterized
 * SQL, and error messages. The parser is segrule_parse.c. */
#include "segrule.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sanitize.h"
#include "segrule_ast.h"

/* ---- a growing string -------------------------------------------------- */

struct sb {
    char *s;
    size_t len, cap;
    bool oom;
};

static void sb_putn(struct sb *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_put(struct sb *b, const char *s) { sb_putn(b, s, strlen(s)); }

static char *sb_take(struct sb *b)
{
    if (b->oom || !b->s) {
        free(b->s);
        return b->oom ? NULL : strdup("");
    }
    return b->s;
}

/* ---- canonical form ------------------------------------------------------ */

static void put_string(struct sb *b, const char *s)
{
    sb_put(b, "\"");
    for (; *s; s++) {
        switch (*s) {
        case '"': sb_put(b, "\\\""); break;
        case '\\': sb_put(b, "\\\\"); break;
        case '\n': sb_put(b, "\\n"); break;
        case '\t': sb_put(b, "\\t"); break;
        case '\r': sb_put(b, "\\r"); break;
        default: sb_putn(b, s, 1); break;
        }
    }
    sb_put(b, "\"");
}

static void put_value(struct sb *b, const struct value *v)
{
    char buf[64];
    switch (v->kind) {
    case V_STR:
        put_string(b, v->text);
        break;
    case V_NUM:
    case V_BOOL:
        sb_put(b, v->text);
        break;
    case V_AGO:
        snprintf(buf, sizeof buf, "%ld %s ago", v->amount,
                 v->amount == 1 ? segrule_units[v->unit].one : segrule_units[v->unit].many);
        sb_put(b, buf);
        break;
    }
}

static bool bare_key(const char *k)
{
    size_t len = strlen(k);
    if (!segrule_ident_start((unsigned char)k[0]) || segrule_is_keyword(k, len))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!segrule_ident_char((unsigned char)k[i]))
            return false;
    for (size_t i = 0; i < segrule_ncolumns; i++)
        if (strcasecmp(k, segrule_columns[i].name) == 0)
            return false;
    for (size_t i = 0; i < segrule_naliases; i++)
        if (strcasecmp(k, segrule_aliases[i].alias) == 0)
            return false;
    return true;
}

static void print_node(struct sb *b, const struct node *n, int prec);

static void print_field(struct sb *b, const struct node *n)
{
    if (n->column >= 0) {
        sb_put(b, segrule_columns[n->column].name);
    } else if (bare_key(n->key)) {
        sb_put(b, n->key);
    } else {
        sb_put(b, "attr(");
        put_string(b, n->key);
        sb_put(b, ")");
    }
}

/* prec: 0 inside OR (or top), 1 inside AND, 2 under NOT */
static void print_node(struct sb *b, const struct node *n, int prec)
{
    switch (n->kind) {
    case N_ALL:
        sb_put(b, "all");
        return;
    case N_AND:
    case N_OR: {
        int mine = n->kind == N_OR ? 0 : 1;
        if (prec > mine)
            sb_put(b, "(");
        for (size_t i = 0; i < n->nkids; i++) {
            if (i)
                sb_put(b, n->kind == N_OR ? " or " : " and ");
            /* a chain inside one of the same kind reads the same flat */
            print_node(b, n->kids[i], mine);
        }
        if (prec > mine)
            sb_put(b, ")");
        return;
    }
    case N_NOT:
        sb_put(b, "not ");
        print_node(b, n->kids[0], 2);
        return;
    case N_OPENED:
    case N_CLICKED:
        sb_put(b, n->kind == N_OPENED ? "opened " : "clicked ");
        sb_put(b, n->key);
        return;
    case N_CMP:
        print_field(b, n);
        sb_put(b, " ");
        sb_put(b, segrule_op_text[n->op]);
        sb_put(b, " ");
        put_value(b, &n->vals[0]);
        return;
    case N_IN:
        print_field(b, n);
        sb_put(b, n->negated ? " not in (" : " in (");
        for (size_t i = 0; i < n->nvals; i++) {
            if (i)
                sb_put(b, ", ");
            put_value(b, &n->vals[i]);
        }
        sb_put(b, ")");
        return;
    case N_CONTAINS:
    case N_STARTS:
        print_field(b, n);
        sb_put(b, n->kind == N_CONTAINS ? " contains " : " starts with ");
        put_value(b, &n->vals[0]);
        return;
    case N_ISNULL:
        print_field(b, n);
        sb_put(b, n->negated ? " is not null" : " is null");
        return;
    }
}

char *segrule_canonical(const struct segrule *r)
{
    struct sb b = { 0 };
    print_node(&b, r->root, 0);
    return sb_take(&b);
}

/* ---- the compiler ---------------------------------------------------- */

struct compiler {
    struct sb sql;
    char **params;
    int nparams, first;
    bool failed;
    struct segrule_error *err;
};

/* Adds a parameter. Returns its placeholder number, or 0 on failure. */
static int add_param(struct compiler *c, const char *value)
{
    if (c->failed)
        return 0;
    if (c->nparams >= SEGRULE_MAX_PARAMS) {
        c->failed = true;
        snprintf(c->err->msg, sizeof c->err->msg, "the rule has more than %d values", SEGRULE_MAX_PARAMS);
        return 0;
    }
    char **p = realloc(c->params, (size_t)(c->nparams + 1) * sizeof *p);
    char *v = p ? strdup(value) : NULL;
    if (p)
        c->params = p;
    if (!v) {
        c->failed = true;
        snprintf(c->err->msg, sizeof c->err->msg, "out of memory");
        return 0;
    }
    c->params[c->nparams++] = v;
    return c->first + c->nparams - 1;
}

/* Adds a parameter and writes "$n" (and the cast, if any) into the SQL. */
static void param(struct compiler *c, const char *value, const char *cast)
{
    int n = add_param(c, value);
    if (!n)
        return;
    char ph[24];
    snprintf(ph, sizeof ph, "$%d", n);
    sb_put(&c->sql, ph);
    if (cast)
        sb_put(&c->sql, cast);
}

/* The field's SQL for a comparison with values of kind k. */
static void emit_field(struct compiler *c, const struct node *n, enum vkind k)
{
    if (n->column >= 0) {
        if (segrule_columns[n->column].type == FT_EMAIL)
            sb_put(&c->sql, "lower(c.email)");
        else
            sb_put(&c->sql, segrule_columns[n->column].sql);
        return;
    }
    switch (k) {
    case V_NUM: {
        /* A number, whether the attribute holds a JSON number or a
         * string of digits; NULL for anything else, so that a value that
         * is not a number never makes the query fail. The key is one
         * parameter, referenced three times. */
        int key = add_param(c, n->key);
        if (!key)
            return;
        char ph[24];
        snprintf(ph, sizeof ph, "$%d", key);
        sb_put(&c->sql, "(CASE WHEN jsonb_typeof(c.attributes->");
        sb_put(&c->sql, ph);
        sb_put(&c->sql, "::text) = 'number' OR (c.attributes->>");
        sb_put(&c->sql, ph);
        sb_put(&c->sql, "::text) ~ '^[-+]?[0-9]{1,30}([.][0-9]{1,30})?$' THEN (c.attributes->>");
        sb_put(&c->sql, ph);
        sb_put(&c->sql, "::text)::numeric END)");
        return;
    }
    case V_BOOL:
        sb_put(&c->sql, "(c.attributes->");
        param(c, n->key, "::text)");
        return;
    default:
        sb_put(&c->sql, "(c.attributes->>");
        param(c, n->key, "::text)");
        return;
    }
}

static void emit_value(struct compiler *c, const struct node *n, const struct value *v)
{
    char buf[64];
    bool email = n->column >= 0 && segrule_columns[n->column].type == FT_EMAIL;
    switch (v->kind) {
    case V_STR:
        if (email) {
            sb_put(&c->sql, "lower(");
            param(c, v->text, "::text)");
        } else if (n->column >= 0 && segrule_columns[n->column].type == FT_TIME) {
            param(c, v->text, "::timestamptz");
        } else {
            param(c, v->text, "::text");
        }
        return;
    case V_NUM:
        param(c, v->text, "::numeric");
        return;
    case V_BOOL:
        param(c, v->text, "::jsonb");
        return;
    case V_AGO:
        snprintf(buf, sizeof buf, "%ld %s", v->amount, segrule_units[v->unit].many);
        sb_put(&c->sql, "(now() - ");
        param(c, buf, "::interval)");
        return;
    }
}

static void compile_node(struct compiler *c, const struct node *n)
{
    if (c->failed)
        return;
    if (c->err->msg[0] == '\0')
        c->err->offset = n->pos;
    switch (n->kind) {
    case N_ALL:
        sb_put(&c->sql, "true");
        return;
    case N_AND:
    case N_OR:
        sb_put(&c->sql, "(");
        for (size_t i = 0; i < n->nkids; i++) {
            if (i)
                sb_put(&c->sql, n->kind == N_OR ? " OR " : " AND ");
            compile_node(c, n->kids[i]);
        }
        sb_put(&c->sql, ")");
        return;
    case N_NOT:
        sb_put(&c->sql, "(NOT ");
        compile_node(c, n->kids[0]);
        sb_put(&c->sql, ")");
        return;
    case N_OPENED:
    case N_CLICKED:
        sb_put(&c->sql, "(EXISTS (SELECT 1 FROM deliveries d WHERE d.contact_id = c.id AND d.campaign_id = ");
        param(c, n->key, "::text");
        sb_put(&c->sql, n->kind == N_OPENED ? " AND d.opened_at IS NOT NULL))"
                                            : " AND d.clicked_at IS NOT NULL))");
        return;
    case N_ISNULL:
        sb_put(&c->sql, "(");
        emit_field(c, n, V_STR);
        sb_put(&c->sql, n->negated ? " IS NOT NULL)" : " IS NULL)");
        return;
    case N_CMP: {
        const struct value *v = &n->vals[0];
        bool text = v->kind == V_STR && !(n->column >= 0 && segrule_columns[n->column].type == FT_TIME);
        sb_put(&c->sql, "((");
        emit_field(c, n, v->kind);
        /* text orders byte-wise, whatever the database's collation */
        if (text && n->op != OP_EQ && n->op != OP_NE)
            sb_put(&c->sql, " COLLATE \"C\"");
        sb_put(&c->sql, " ");
        sb_put(&c->sql, segrule_op_text[n->op]);
        sb_put(&c->sql, " ");
        emit_value(c, n, v);
        sb_put(&c->sql, ") IS TRUE)");
        return;
    }
    case N_IN:
        sb_put(&c->sql, n->negated ? "(NOT ((" : "((");
        emit_field(c, n, n->vals[0].kind);
        sb_put(&c->sql, " IN (");
        for (size_t i = 0; i < n->nvals; i++) {
            if (i)
                sb_put(&c->sql, ", ");
            emit_value(c, n, &n->vals[i]);
        }
        sb_put(&c->sql, n->negated ? ")) IS TRUE))" : ")) IS TRUE)");
        return;
    case N_CONTAINS:
    case N_STARTS:
        sb_put(&c->sql, n->kind == N_CONTAINS ? "((strpos(" : "((starts_with(");
        if (n->column < 0 || segrule_columns[n->column].type != FT_EMAIL)
            sb_put(&c->sql, "lower(");
        emit_field(c, n, V_STR);
        if (n->column < 0 || segrule_columns[n->column].type != FT_EMAIL)
            sb_put(&c->sql, ")");
        sb_put(&c->sql, ", lower(");
        param(c, n->vals[0].text, "::text");
        sb_put(&c->sql, n->kind == N_CONTAINS ? ")) > 0) IS TRUE)" : "))) IS TRUE)");
        return;
    }
}

void segrule_sql_free(struct segrule_sql *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nparams; i++)
        free(s->params[i]);
    free(s->params);
    free(s->where);
    memset(s, 0, sizeof *s);
}

int segrule_compile(const struct segrule *r, int first, struct segrule_sql *out, struct segrule_error *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    struct compiler c = { .first = first < 1 ? 1 : first, .err = err };
    compile_node(&c, r->root);
    if (c.sql.oom && !c.failed) {
        c.failed = true;
        snprintf(err->msg, sizeof err->msg, "out of memory");
    }
    if (c.failed) {
        for (int i = 0; i < c.nparams; i++)
            free(c.params[i]);
        free(c.params);
        free(c.sql.s);
        err->line = err->byte_col = err->col = 1;
        return -1;
    }
    out->where = sb_take(&c.sql);
    out->params = c.params;
    out->nparams = c.nparams;
    out->first = c.first;
    if (!out->where) {
        segrule_sql_free(out);
        snprintf(err->msg, sizeof err->msg, "out of memory");
        err->line = err->byte_col = err->col = 1;
        return -1;
    }
    return 0;
}

int segrule_to_sql(const char *text, int first, struct segrule_sql *out, struct segrule_error *err)
{
    memset(out, 0, sizeof *out);
    struct segrule *r = segrule_parse(text, err);
    if (!r)
        return -1;
    int rc = segrule_compile(r, first, out, err);
    if (rc != 0 && text)
        segrule_locate(text, err->offset, err);
    segrule_free(&r);
    return rc;
}

/* ---- messages ---------------------------------------------------------- */

void segrule_error_format(const struct segrule_error *e, char *buf, size_t n)
{
    snprintf(buf, n, "%d:%d: %s", e->line, e->col, e->msg);
}

char *segrule_caret(const char *text, const struct segrule_error *e, int maxcols, unsigned flags,
                    char *buf, size_t n)
{
    if (!n)
        return buf;
    buf[0] = '\0';
    if (!text)
        text = "";
    size_t len = strlen(text);
    size_t off = e->offset > len ? len : e->offset;
    size_t ls = off;
    while (ls > 0 && text[ls - 1] != '\n')
        ls--;
    size_t le = off;
    while (le < len && text[le] != '\n')
        le++;
    /* keep the caret on screen: start the shown line later when it is long */
    size_t start = ls;
    const char *marker = "";
    if (maxcols > 8) {
        while (san_width(text + start, off - start, flags) > maxcols / 2) {
            long cp;
            start += (size_t)san_decode((const unsigned char *)text + start, off - start, &cp);
            marker = "...";
        }
    }
    int mlen = (int)strlen(marker);
    int room = maxcols > 8 ? maxcols - mlen : -1;
    char line[SAN_MAX_INPUT * 4 + 16];
    san_fit(line, sizeof line, text + start, le - start, room, flags);
    int col = mlen + san_width(text + start, off - start, flags);
    if (maxcols > 0 && col >= maxcols)
        col = maxcols - 1;
    int w = snprintf(buf, n, "%s%s\n", marker, line);
    if (w < 0 || (size_t)w >= n)
        return buf;
    for (int i = 0; i < col && (size_t)w + 2 < n; i++)
        buf[w++] = ' ';
    if ((size_t)w + 2 < n) {
        buf[w++] = '^';
        buf[w++] = '\n';
    }
    buf[w] = '\0';
    return buf;
}
