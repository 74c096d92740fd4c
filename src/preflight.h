/* The pre-flight check before a launch: who will get it after suppression,
 * whether the content renders for them, the rate limit and the time it
 * gives, whether the A/B split is sane, and (added by the caller, who
 * watches the endpoints) what is firing now. Reads only, in autocommit: no
 * transaction or lock is held while the operator looks at the answer. */
#ifndef MARKETING_PREFLIGHT_H
#define MARKETING_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

enum pf_level { PF_OK, PF_WARN, PF_FAIL };

#define PF_MAX_CHECKS 10

struct pf_check {
    enum pf_level level;
    char text[240];          /* untrusted parts (placeholder names) sanitize on drawing */
};

struct preflight {
    char id[64];
    char name[256];          /* untrusted */
    char status[16];
    int version, revision, rate_limit;
    char segment_id[64], segment_name[256];
    long long members, reachable, unsubscribed, bounced, blocklisted;
    bool scheduled;          /* send_at is in the future: a launch schedules it */
    char send_at[40];
    struct pf_check checks[PF_MAX_CHECKS];
    size_t n;
    bool blocked;            /* a check failed: the launch is refused */
};

/* Runs the checks for campaign id. Returns 0, 1 when a query failed or the
 * campaign does not exist (err says which), or -1 when the connection
 * failed (err says how). */
int preflight_run(PGconn *conn, const char *id, int timeout_ms, int cancel_fd,
                  struct preflight *out, char *err, size_t errsz);

/* Adds a check; a PF_FAIL blocks the launch. */
void preflight_add(struct preflight *pf, enum pf_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The placeholders of a template ("Hi {{ first_name }}"), each once, into
 * keys (n slots of 64 bytes). Returns how many, or -1 with a message in
 * err when a placeholder is unclosed or is not a name ([A-Za-z0-9_.-]). */
int preflight_placeholders(const char *tmpl, char keys[][64], size_t max, size_t have,
                           char *err, size_t errsz);

#endif
