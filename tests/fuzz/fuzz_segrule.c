/* libFuzzer target: segment rules. Parse and compile never crash; what
 * compiles has balanced parentheses and, outside its $n placeholders,
 * only the words, literals and punctuation of a fixed list (so nothing
 * from the rule reached the SQL as text); the canonical form parses to
 * the same canonical form and compiles to the same SQL. */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "segrule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const words[] = {
    "c.attributes", "c.email", "c.status", "c.created_at", "c.updated_at", "c.unsubscribed_at",
    "c.last_opened_at", "c.last_clicked_at", "c.id", "d.contact_id", "d.campaign_id", "d.opened_at",
    "d.clicked_at", "deliveries", "d", "CASE", "WHEN", "THEN", "END", "OR", "AND", "NOT", "IS",
    "TRUE", "NULL", "IN", "EXISTS", "SELECT", "FROM", "WHERE", "COLLATE", "lower", "strpos",
    "starts_with", "jsonb_typeof", "now", "numeric", "text", "jsonb", "timestamptz", "interval",
    "true", "0", "1",
};
static const char *const literals[] = {
    "'number'", "'^[-+]?[0-9]{1,30}([.][0-9]{1,30})?$'", "\"C\"",
};
static const char *const puncts[] = { "->>", "->", "::", "!=", "<=", ">=", "(", ")", ",", "=", "<",
                                      ">", "~", "-" };

static bool in_list(const char *s, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == n && memcmp(list[i], s, n) == 0)
            return true;
    return false;
}

static void check_sql(const struct segrule_sql *q)
{
    const char *s = q->where;
    int depth = 0, maxph = 0;
    while (*s) {
        if (*s == ' ') {
            s++;
        } else if (*s == '$') {
            char *end;
            long n = strtol(s + 1, &end, 10);
            if (end == s + 1 || n < q->first || n >= q->first + q->nparams)
                abort();
            if (n > maxph)
                maxph = (int)n;
            s = end;
        } else if (*s == '\'' || *s == '"') {
            const char *e = strchr(s + 1, *s);
            if (!e || !in_list(s, (size_t)(e + 1 - s), literals, sizeof literals / sizeof literals[0]))
                abort();
            s = e + 1;
        } else if (isalnum((unsigned char)*s) || *s == '_') {
            size_t n = 0;
            while (isalnum((unsigned char)s[n]) || s[n] == '_' || s[n] == '.')
                n++;
            if (!in_list(s, n, words, sizeof words / sizeof words[0]))
                abort();
            s += n;
        } else {
            size_t i;
            for (i = 0; i < sizeof puncts / sizeof puncts[0]; i++)
                if (strncmp(s, puncts[i], strlen(puncts[i])) == 0)
                    break;
            if (i == sizeof puncts / sizeof puncts[0])
                abort();
            depth += *s == '(' ? 1 : *s == ')' ? -1 : 0;
            if (depth < 0)
                abort();
            s += strlen(puncts[i]);
        }
    }
    /* every parameter is used */
    if (depth != 0 || (q->nparams && maxph != q->first + q->nparams - 1))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct segrule_error e;
    struct segrule *r = segrule_parse(text, &e);
    if (!r) {
        char buf[SEGRULE_MAX_LEN * 4 + 64];
        if (e.line < 1 || e.col < 1 || e.byte_col < 1 || e.offset > strlen(text) || !e.msg[0])
            abort();
        segrule_caret(text, &e, 80, 0, buf, sizeof buf);
        segrule_caret(text, &e, -1, 0, buf, sizeof buf);
        free(text);
        return 0;
    }
    int first = (int)(size % 3) + 1;
    struct segrule_sql q;
    if (segrule_compile(r, first, &q, &e) == 0) {
        check_sql(&q);
        char *c = segrule_canonical(r);
        struct segrule *again = c ? segrule_parse(c, &e) : NULL;
        if (c && !again)
            abort();
        if (again) {
            char *c2 = segrule_canonical(again);
            struct segrule_sql q2;
            if (!c2 || strcmp(c, c2) != 0 || segrule_compile(again, first, &q2, &e) != 0 ||
                strcmp(q.where, q2.where) != 0 || q.nparams != q2.nparams)
                abort();
            for (int i = 0; i < q.nparams; i++)
                if (strcmp(q.params[i], q2.params[i]) != 0)
                    abort();
            segrule_sql_free(&q2);
            free(c2);
            segrule_free(&again);
        }
        free(c);
        segrule_sql_free(&q);
    }
    segrule_free(&r);
    free(text);
    return 0;
}
