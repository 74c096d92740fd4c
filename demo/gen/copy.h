/* copy: streaming rows into COPY ... FROM STDIN (text format).
 *
 * Rows are built field by field in a buffer that is handed to
 * PQputCopyData in large chunks. Text fields are escaped as COPY's text
 * format requires: backslash, tab, newline and carriage return become \\,
 * \t, \n and \r; NULL is \N. A failure is remembered and reported by
 * copy_end(), so callers need not check every field. */
#ifndef GEN_COPY_H
#define GEN_COPY_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct copy {
    PGconn *conn;
    char *buf;
    size_t len, cap;
    int col;          /* fields written in the current row */
    uint64_t rows;
    int failed;
    char err[512];
};

/* starts "COPY <table> (<columns>) FROM STDIN", WITH (FREEZE) if freeze;
 * 0 on success */
int copy_begin(struct copy *c, PGconn *conn, const char *table, const char *columns, int freeze);
void copy_text(struct copy *c, const char *s);          /* NULL: \N */
void copy_textn(struct copy *c, const char *s, size_t n);
void copy_null(struct copy *c);
void copy_int(struct copy *c, int64_t v);
void copy_int_or_null(struct copy *c, int64_t v, int is_null);
void copy_ts(struct copy *c, ts_t t);                   /* 0: \N */
void copy_money(struct copy *c, int64_t cents);         /* 12.34 */
/* a field that needs no escaping (digits, known ASCII words) */
void copy_raw(struct copy *c, const char *s, size_t n);
void copy_row_end(struct copy *c);
/* finishes the COPY; returns 0, or -1 with the message in c->err */
int copy_end(struct copy *c);

/* escapes s (n bytes) for COPY text format into out, which needs 2n bytes;
 * returns the length written. Exposed for tests. */
size_t copy_escape(char *out, const char *s, size_t n);

#endif
