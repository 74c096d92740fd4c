/* util: monotonic and wall clocks, RFC 3339 timestamps, and a growable
 * string buffer whose allocation failure is sticky (checked once at the end). */
#ifndef BACKEND_UTIL_H
#define BACKEND_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BACKEND_NAME "marketing-demo-backend"
#ifndef MARKETING_VERSION
#define MARKETING_VERSION "0.0.0"
#endif

#if defined(__GNUC__)
#define ATTR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ATTR_PRINTF(f, a)
#endif

int64_t clock_mono_ns(void);
int64_t clock_mono_ms(void);
double clock_real_s(void);
/* "2026-02-11T07:00:00.123Z" into out (at least 32 bytes) */
void clock_rfc3339(char *out, size_t size);

struct strbuf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
};

void strbuf_init(struct strbuf *b);
void strbuf_append(struct strbuf *b, const char *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_putc(struct strbuf *b, char c);
void strbuf_printf(struct strbuf *b, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* the NUL-terminated contents (never NULL unless failed) */
const char *strbuf_str(struct strbuf *b);
/* hand the buffer to the caller (free() it); NULL if any append failed */
char *strbuf_steal(struct strbuf *b, size_t *len);
void strbuf_reset(struct strbuf *b);
void strbuf_free(struct strbuf *b);

/* turn newlines and tabs into single spaces and trim the end, in place */
char *str_oneline(char *s);

/* copy src into dst (size > 0), always terminated; returns dst */
char *str_copy(char *dst, size_t size, const char *src);

#endif
