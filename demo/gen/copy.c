/* copy: see copy.h. */
#include "copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (1u << 20) /* hand to libpq once a row pushes past this */

int copy_begin(struct copy *c, PGconn *conn, const char *table, const char *columns, int freeze)
{
    memset(c, 0, sizeof *c);
    c->conn = conn;
    c->cap = CHUNK + (CHUNK >> 2);
    c->buf = xmalloc(c->cap);
    char sql[1024];
    snprintf(sql, sizeof sql, "COPY %s (%s) FROM STDIN%s", table, columns,
             freeze ? " WITH (FREEZE)" : "");
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        snprintf(c->err, sizeof c->err, "COPY %s: %s", table, PQerrorMessage(conn));
        c->failed = 1;
        c->conn = NULL; /* nothing to end */
        free(c->buf);
        c->buf = NULL;
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

static inline void reserve(struct copy *c, size_t n)
{
    if (c->len + n > c->cap) {
        while (c->len + n > c->cap)
            c->cap *= 2;
        c->buf = xrealloc(c->buf, c->cap);
    }
}

static inline void sep(struct copy *c)
{
    reserve(c, 1);
    if (c->col++)
        c->buf[c->len++] = '\t';
}

size_t copy_escape(char *out, const char *s, size_t n)
{
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        switch (ch) {
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        default: *o++ = ch; break;
        }
    }
    return (size_t)(o - out);
}

void copy_textn(struct copy *c, const char *s, size_t n)
{
    sep(c);
    reserve(c, 2 * n);
    /* most fields need no escaping: copy the clean prefix in one go */
    size_t clean = 0;
    while (clean < n && s[clean] != '\\' && s[clean] != '\t' && s[clean] != '\n' &&
           s[clean] != '\r')
        clean++;
    memcpy(c->buf + c->len, s, clean);
    c->len += clean;
    if (clean < n)
        c->len += copy_escape(c->buf + c->len, s + clean, n - clean);
}

void copy_text(struct copy *c, const char *s)
{
    if (!s)
        copy_null(c);
    else
        copy_textn(c, s, strlen(s));
}

void copy_null(struct copy *c)
{
    sep(c);
    reserve(c, 2);
    c->buf[c->len++] = '\\';
    c->buf[c->len++] = 'N';
}

void copy_raw(struct copy *c, const char *s, size_t n)
{
    sep(c);
    reserve(c, n);
    memcpy(c->buf + c->len, s, n);
    c->len += n;
}

void copy_int(struct copy *c, int64_t v)
{
    char tmp[24];
    int i = sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--i] = '-';
    copy_raw(c, tmp + i, sizeof tmp - (size_t)i);
}

void copy_int_or_null(struct copy *c, int64_t v, int is_null)
{
    if (is_null)
        copy_null(c);
    else
        copy_int(c, v);
}

void copy_ts(struct copy *c, ts_t t)
{
    if (!t) {
        copy_null(c);
        return;
    }
    char tmp[40];
    size_t n = ts_format(tmp, t);
    copy_raw(c, tmp, n);
}

void copy_money(struct copy *c, int64_t cents)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%lld.%02lld", (long long)(cents / 100),
                     (long long)(cents % 100));
    copy_raw(c, tmp, (size_t)n);
}

static void flush(struct copy *c)
{
    if (c->failed || !c->len)
        return;
    if (PQputCopyData(c->conn, c->buf, (int)c->len) != 1) {
        snprintf(c->err, sizeof c->err, "sending COPY data: %s", PQerrorMessage(c->conn));
        c->failed = 1;
    }
    c->len = 0;
}

void copy_row_end(struct copy *c)
{
    reserve(c, 1);
    c->buf[c->len++] = '\n';
    c->col = 0;
    c->rows++;
    if (c->len >= CHUNK)
        flush(c);
}

int copy_end(struct copy *c)
{
    int was_failed = c->failed;
    if (!c->failed)
        flush(c);
    if (c->conn && PQputCopyEnd(c->conn, c->failed ? "generator error" : NULL) != 1 && !c->failed) {
        snprintf(c->err, sizeof c->err, "ending COPY: %s", PQerrorMessage(c->conn));
        c->failed = 1;
    }
    PGresult *res;
    while (c->conn && (res = PQgetResult(c->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !was_failed && !c->failed) {
            snprintf(c->err, sizeof c->err, "%s", PQresultErrorMessage(res));
            c->failed = 1;
        }
        PQclear(res);
    }
    free(c->buf);
    c->buf = NULL;
    return c->failed ? -1 : 0;
}
