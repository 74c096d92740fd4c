/* Segment rules: a small language over contacts' columns and jsonb
 * attributes, parsed to a tree and compiled to a parameterized SQL WHERE
 * clause over `contacts c`. The language is documented in README.md
 * ("Segment rules") and marketing(1); in short:
 *
 *   rule     := expr
 *   expr     := term { OR term }
 *   term     := factor { AND factor }
 *   factor   := NOT factor | "(" expr ")" | ALL
 *             | (OPENED | CLICKED) campaign
 *             | field cond
 *   cond     := op value
 *             | [NOT] IN "(" value { "," value } ")"
 *             | CONTAINS string | STARTS WITH string
 *             | IS [NOT] NULL
 *   op       := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
 *   field    := a column (email status created_at updated_at unsubscribed_at
 *               last_opened_at last_clicked_at; aliases last_open_at,
 *               last_click_at) | an attribute key (any other identifier)
 *             | ATTR "(" string ")"
 *   value    := string | number | TRUE | FALSE | integer unit AGO
 *   unit     := minute(s) | hour(s) | day(s) | week(s)
 *   campaign := cmp_ID | string
 *
 * Keywords are case-insensitive. Strings take "double" or 'single' quotes
 * with \" \' \\ \n \t \r escapes.
 *
 * Nothing from the rule text is ever written into the SQL: values and
 * attribute keys become parameters ($n, text), and identifiers come from a
 * fixed table of columns. Parse and compile are pure functions with no
 * global state: safe from any thread. */
#ifndef MARKETING_SEGRULE_H
#define MARKETING_SEGRULE_H

#include <stddef.h>

#define SEGRULE_MAX_LEN 4096    /* bytes of rule text */
#define SEGRULE_MAX_DEPTH 32    /* nested parentheses and NOTs */
#define SEGRULE_MAX_IN 256      /* values in one IN list */
#define SEGRULE_MAX_PARAMS 512  /* parameters of one compiled rule */

/* Where and why a rule was refused. Columns are 1-based, in the line of
 * the rule that holds the error. */
struct segrule_error {
    size_t offset;  /* bytes from the start of the rule */
    int line;       /* 1-based */
    int byte_col;   /* 1-based byte column in that line */
    int col;        /* 1-based display column of that line as the sanitizer shows it */
    char msg[240];  /* "expected a value after '=', found end of rule" */
};

struct segrule;  /* the parsed rule (a tree); owned by the caller */

/* Parses text (NUL-terminated). Returns the tree, or NULL with err filled
 * (out of memory is an error too, at offset 0). */
struct segrule *segrule_parse(const char *text, struct segrule_error *err);

/* Frees the tree and NULLs the pointer; NULL is fine. */
void segrule_free(struct segrule **r);

/* The canonical text of a rule: lower-case keywords, double-quoted
 * strings, single spaces, parentheses only where needed. Parsing it again
 * gives the same tree. malloc'd (the caller frees), NULL if memory ran out. */
char *segrule_canonical(const struct segrule *r);

/* A compiled rule. `where` is a boolean SQL expression over `contacts c`
 * (it may also read `deliveries`), never NULL-valued, using placeholders
 * $first..$(first + nparams - 1); params[i] is the text of placeholder
 * $(first + i). All owned by the struct: free with segrule_sql_free. */
struct segrule_sql {
    char *where;
    char **params;
    int nparams;
    int first;
};

/* Compiles r with placeholders numbered from first (>= 1: the caller's own
 * parameters come before). Returns 0, or -1 with err (too many parameters,
 * out of memory); the tree does not keep the text, so err->offset says
 * where but line and columns are 1: segrule_to_sql fills them in. */
int segrule_compile(const struct segrule *r, int first, struct segrule_sql *out,
                    struct segrule_error *err);

/* Parse and compile in one step. Returns 0 or -1 with err. */
int segrule_to_sql(const char *text, int first, struct segrule_sql *out, struct segrule_error *err);

void segrule_sql_free(struct segrule_sql *s);

/* "1:14: expected a value after '=', found end of rule" */
void segrule_error_format(const struct segrule_error *e, char *buf, size_t n);

/* Two lines for a terminal, each ending in '\n': the rule's line that
 * holds the error, sanitized (san_fit with flags), and a caret under the
 * error's display column. Lines are cut to maxcols (< 0: no limit) around
 * the caret. Returns buf. */
char *segrule_caret(const char *text, const struct segrule_error *e, int maxcols, unsigned flags,
                    char *buf, size_t n);

#endif
