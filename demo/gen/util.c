/* util: see util.h. */
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void die(const char *fmt, ...)
{
    va_list ap;
    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory (%zu bytes)", n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        die("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die("out of memory (%zu bytes)", n);
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    if (!fmt) /* never; tells the compiler (and UBSan's paths) so */
        return xstrdup("");
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
    va_end(ap);
    if (n < 0)
        die("bad format");
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
    va_end(ap);
    return s;
}

char *str_replace(const char *s, const char *token, const char *value)
{
    size_t tl = strlen(token), vl = strlen(value), n = 0;
    for (const char *p = strstr(s, token); p; p = strstr(p + tl, token))
        n++;
    char *out = xmalloc(strlen(s) + n * vl + 1), *o = out;
    while (*s) {
        if (strncmp(s, token, tl) == 0) {
            for (const char *v = value; *v; v++)
                *o++ = *v;
            s += tl;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

/* Howard Hinnant's civil calendar algorithms */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static inline char *put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

static char *put_date(char *p, int64_t day)
{
    int y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    unsigned uy = (unsigned)y;
    p = put2(p, uy / 100 % 100);
    p = put2(p, uy % 100);
    *p++ = '-';
    p = put2(p, m);
    *p++ = '-';
    return put2(p, d);
}

int64_t ts_day(ts_t t)
{
    int64_t s = t >= 0 ? t / TS_SEC : -((-t + TS_SEC - 1) / TS_SEC);
    return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

size_t ts_format(char *buf, ts_t t)
{
    int64_t day = ts_day(t);
    int64_t rest = t - day * TS_DAY; /* [0, TS_DAY) */
    unsigned secs = (unsigned)(rest / TS_SEC), us = (unsigned)(rest % TS_SEC);
    char *p = put_date(buf, day);
    *p++ = ' ';
    p = put2(p, secs / 3600);
    *p++ = ':';
    p = put2(p, secs / 60 % 60);
    *p++ = ':';
    p = put2(p, secs % 60);
    if (us) {
        *p++ = '.';
        for (int i = 5; i >= 0; i--) {
            p[i] = (char)('0' + us % 10);
            us /= 10;
        }
        p += 6;
    }
    memcpy(p, "+00", 4);
    return (size_t)(p + 3 - buf);
}

void date_format(char *buf, int64_t day)
{
    *put_date(buf, day) = '\0';
}

/* exactly n decimal digits at *p into *out, advancing *p; 0 on success */
static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int ts_parse(const char *s, ts_t *out)
{
    const char *p = s;
    int digits_only = *p != '\0';
    for (; *p; p++)
        if (!isdigit((unsigned char)*p))
            digits_only = 0;
    if (digits_only) {
        if (strlen(s) > 12)
            return -1;
        long long v = strtoll(s, NULL, 10);
        if (v <= 0 || v > 253402300799LL)
            return -1;
        *out = (ts_t)v * TS_SEC;
        return 0;
    }
    int y, mo, d, h, mi, sec = 0;
    p = s;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d))
        return -1;
    if (*p == '\0') {
        h = mi = 0; /* a date alone: its midnight */
    } else {
        if (*p != ' ' && *p != 'T' && *p != 't')
            return -1;
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
            return -1;
    }
    if (*p == ':') {
        p++;
        if (digits(&p, 2, &sec))
            return -1;
    }
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (strcmp(p, "+00") == 0 || strcmp(p, "+00:00") == 0 || strcmp(p, "+0000") == 0)
        p += strlen(p);
    if (*p || y < 1971 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
        return -1;
    int64_t day = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *out = day * TS_DAY + ((int64_t)h * 3600 + mi * 60 + sec) * TS_SEC;
    return 0;
}

const char *fmt_count(char *buf, uint64_t n)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)n);
    char *o = buf;
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            *o++ = ',';
        *o++ = tmp[i];
    }
    *o = '\0';
    return buf;
}

const char *fmt_duration(char *buf, int64_t seconds)
{
    if (seconds < 60)
        snprintf(buf, 32, "%d s", (int)seconds);
    else if (seconds < 3600)
        snprintf(buf, 32, "%d min", (int)(seconds / 60));
    else if (seconds < 86400 * 2)
        snprintf(buf, 32, "%d h %02d min", (int)(seconds / 3600), (int)(seconds / 60 % 60));
    else
        snprintf(buf, 32, "%d d %d h", (int)(seconds / 86400), (int)(seconds / 3600 % 24));
    return buf;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int progress_quiet;
double progress_t0;

void progress(const char *fmt, ...)
{
    if (progress_quiet)
        return;
    va_list ap;
    fprintf(stderr, PROG ": [%5.1f s] ", now_seconds() - progress_t0);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start is above
    va_end(ap);
    fputc('\n', stderr);
}
