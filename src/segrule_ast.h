/* The tree of a parsed segment rule, shared by the parser
 * (segrule_parse.c) and the printer and compiler (segrule.c). Private to
 * those two files: the public API is segrule.h. */
#ifndef MARKETING_SEGRULE_AST_H
#define MARKETING_SEGRULE_AST_H

#include <stdbool.h>
#include <stddef.h>

#include "segrule.h"

enum ftype { FT_TEXT, FT_EMAIL, FT_STATUS, FT_TIME, FT_ATTR };

/* The columns a rule may name: the only identifiers that reach the SQL. */
struct segrule_column {
    const char *name, *sql;
    enum ftype type;
};
extern const struct segrule_column segrule_columns[];
extern const size_t segrule_ncolumns;

struct segrule_alias {
    const char *alias, *column;
};
extern const struct segrule_alias segrule_aliases[];
extern const size_t segrule_naliases;

struct segrule_unit {
    const char *one, *many;
};
extern const struct segrule_unit segrule_units[]; /* minute, hour, day, week */

enum vkind { V_STR, V_NUM, V_BOOL, V_AGO };

struct value {
    enum vkind kind;
    char *text;    /* V_STR: the string; V_NUM: the number as written; V_BOOL: "true"/"false" */
    long amount;   /* V_AGO */
    int unit;      /* V_AGO: index in segrule_units */
};

enum nkind { N_ALL, N_AND, N_OR, N_NOT, N_CMP, N_IN, N_CONTAINS, N_STARTS, N_ISNULL, N_OPENED,
             N_CLICKED };
enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
extern const char *const segrule_op_text[]; /* "=", "!=", ... by enum op */

struct node {
    enum nkind kind;
    size_t pos;               /* where it starts in the text */
    struct node **kids;       /* N_AND, N_OR: two or more; N_NOT: one */
    size_t nkids;
    int column;               /* index in segrule_columns, or -1: attribute */
    char *key;                /* attribute key; N_OPENED/N_CLICKED: the campaign id */
    enum op op;
    bool negated;             /* NOT IN, IS NOT NULL */
    struct value *vals;       /* N_CMP, N_CONTAINS, N_STARTS: one; N_IN: nvals */
    size_t nvals;
};

struct segrule {
    struct node *root;
};

bool segrule_ident_start(int c);
bool segrule_ident_char(int c);

/* Whether s[0..len) is a keyword (any case). */
bool segrule_is_keyword(const char *s, size_t len);

/* Fills e's offset, line and columns for offset in text. */
void segrule_locate(const char *text, size_t offset, struct segrule_error *e);

#endif
