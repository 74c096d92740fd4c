/* util: allocation that cannot fail, timestamps, small formatting helpers. */
#ifndef GEN_UTIL_H
#define GEN_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define PROG "marketing-demo-gen"

/* A timestamp: microseconds since the Unix epoch, UTC. 0 stands for NULL
 * (no generated event happens at 1970-01-01). */
typedef int64_t ts_t;
#define TS_SEC INT64_C(1000000)
#define TS_MIN (60 * TS_SEC)
#define TS_HOUR (60 * TS_MIN)
#define TS_DAY (24 * TS_HOUR)

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* a copy of s with every occurrence of token replaced by value */
char *str_replace(const char *s, const char *token, const char *value);

/* days since 1970-01-01 <-> proleptic Gregorian dates */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);
/* "2025-06-01 09:30:00+00" (with ".123456" when there are microseconds);
 * returns the length; buf needs 32 bytes */
size_t ts_format(char *buf, ts_t t);
/* "2025-06-01"; buf needs 11 bytes */
void date_format(char *buf, int64_t day);
int64_t ts_day(ts_t t);
/* parse "YYYY-MM-DD[( |T)HH:MM[:SS]][Z|+00[:00]]" (UTC) or a number of
 * seconds since the epoch; 0 on success */
int ts_parse(const char *s, ts_t *out);

/* "1,234,567"; buf needs 32 bytes */
const char *fmt_count(char *buf, uint64_t n);
/* "2 h 05 min", "41 min", "35 s"; buf needs 32 bytes */
const char *fmt_duration(char *buf, int64_t seconds);

/* monotonic seconds, for elapsed times */
double now_seconds(void);

/* a progress line on stderr ("marketing-demo-gen: [ 1.2 s] ..."), unless
 * progress_quiet; times count from progress_t0 */
extern int progress_quiet;
extern double progress_t0;
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
