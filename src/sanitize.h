/* The one sanitizer: every string from the database, an endpoint or a file
 * passes through here before it is drawn or printed for a person.
 *
 * It decodes UTF-8 strictly (overlongs, surrogates, code points beyond
 * U+10FFFF and truncated sequences become U+FFFD), shows C0 controls and
 * DEL as caret escapes (^[ ^M ^?), C1 controls, bidi controls, zero-width
 * and other format characters as <U+XXXX>, and measures and cuts the result
 * by display columns without splitting a wide or combining character. What
 * comes out contains no byte that a terminal acts on. */
#ifndef MARKETING_SANITIZE_H
#define MARKETING_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SAN_ASCII 0x1u      /* 7-bit output only: non-ASCII becomes '?' */
#define SAN_MAX_INPUT 4096  /* bytes looked at; the rest counts as cut */

struct san_result {
    int cols;    /* display columns written */
    bool cut;    /* the text did not fit and ends with the marker */
};

/* Writes the sanitized form of in[0..inlen) into out (always
 * NUL-terminated), using at most maxcols display columns (maxcols < 0: no
 * limit but SAN_MAX_INPUT and outsz). Text that does not fit is cut and
 * ends with a marker ("…", or "~" with SAN_ASCII). inlen (size_t)-1 means
 * strlen(in); in may be NULL (empty). */
struct san_result san_fit(char *out, size_t outsz, const char *in, size_t inlen,
                          int maxcols, unsigned flags);

/* Writes the sanitized form of s (no column limit) to f: for messages and
 * tables printed by the command-line tools. */
void san_fputs(const char *s, FILE *f, unsigned flags);

/* The display columns the sanitized text would take, without a limit. */
int san_width(const char *in, size_t inlen, unsigned flags);

/* Decodes one code point strictly from s[0..len). Returns the bytes used
 * (>= 1) and sets *cp, or, for an invalid or truncated sequence, returns 1
 * and sets *cp to -1. */
int san_decode(const unsigned char *s, size_t len, long *cp);

#endif
