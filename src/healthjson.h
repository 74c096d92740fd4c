/* The marketing system's /health and /ready documents:
 *
 *   {"status": "healthy", "version": "1.2.3", "uptime": 3600,
 *    "checks": {"database": "healthy", "redis": "healthy", ...}}
 *
 * parsed with jansson, duplicate keys rejected, the size and the number of
 * checks capped. "status" is required; "version", "uptime" and "checks" may
 * be missing (a minimal /ready says only its status), but when present they
 * must have the right type. A check is a string, or an object with a string
 * "status" (the shape many health libraries use). Unknown fields are
 * ignored.
 *
 * Errors are one line and start with "invalid response (": jansson's own as
 * "invalid response (LINE:COL REASON)", a missing field as
 * "invalid response (no \"status\")". They may quote the body's text (jansson
 * does, in "near '...'"): draw them through the sanitizer. */
#ifndef MARKETING_HEALTHJSON_H
#define MARKETING_HEALTHJSON_H

#include <stddef.h>
#include <stdint.h>

#define HEALTHJSON_MAX_BYTES (1024 * 1024)
#define HEALTHJSON_MAX_CHECKS 64

struct healthjson {
    char *status;          /* never NULL after a successful parse */
    char *version;         /* NULL when absent */
    int64_t uptime;        /* seconds; -1 when absent */
    size_t n_checks;
    char **check_names;    /* n_checks each, in the document's order */
    char **check_status;
};

/* Parses body[0..len) into *out, which the caller frees with
 * healthjson_free. Returns 0, or -1 with a message in err and *out empty. */
int healthjson_parse(const char *body, size_t len, struct healthjson *out, char *err, size_t errsz);

/* Frees what *h holds and zeroes it. */
void healthjson_free(struct healthjson *h);

#endif
