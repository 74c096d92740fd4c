/* Alert acknowledgements: ack or snooze an alert (a rule, and the labels
 * of the series it targets) until an expiry, with a required comment;
 * clear one early; list the ones in force; and decide which of them
 * applies to an alert. The rules live in the database
 * (sql/003_alert_acks.sql: alert_ack(), alert_unack(), the view
 * alert_acks_in_force); this module calls them, one parameterized
 * statement and so one short transaction per change, keyed by a request id
 * as campaign actions are (control.h), and shares their outcomes. */
#ifndef MARKETING_ALERTACK_H
#define MARKETING_ALERTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "control.h"

#define ALERTACK_MAX_LABELS 16
#define ALERTACK_NAME_MAX 64       /* bytes of a label name */
#define ALERTACK_VALUE_MAX 256     /* bytes of a label value */
#define ALERTACK_RULE_MAX 200      /* bytes of a rule (alert) name */
#define ALERTACK_COMMENT_MAX 500   /* characters of a comment, as the database counts */
#define ALERTACK_MAX_FOR_S (30LL * 86400)  /* the longest expiry: 30 days */
#define ALERTACK_DEFAULT_FOR_S (4LL * 3600) /* an ack's expiry when none is given */

enum alertack_kind { ALERTACK_ACK, ALERTACK_SNOOZE };

enum alertack_op { ALERTACK_OP_ACK, ALERTACK_OP_SNOOZE, ALERTACK_OP_UNACK };

/* A label, name and value. In a list, owned by it. */
struct alertack_label {
    const char *name, *value;
};

/* An ack in force. All text is untrusted: sanitize before drawing. */
struct alertack {
    int64_t id;
    enum alertack_kind kind;
    char *rule;
    struct alertack_label *labels; /* sorted by name (bytes); n_labels 0: the whole rule */
    size_t n_labels;
    char *comment;
    char *who;                     /* "alice as ops from 10.0.0.5 (ssh 10.1.2.3)" */
    char *os_user, *db_user;
    int64_t created_ms, expires_ms; /* epoch ms, the server's clock */
};

struct alertack_list {
    struct alertack *v;  /* newest first */
    size_t n;
    int64_t fetched_ms;  /* epoch ms, this machine's clock */
    int64_t next_expiry_in_ms; /* from the read, by the server's clock, until the first expiry; -1: none */
};

/* A change, as the CLI and the UI make it. Plain data: copied by value. */
struct alertack_request {
    char request_id[37];
    enum alertack_op op;
    /* ack, snooze */
    char rule[ALERTACK_RULE_MAX + 1];
    size_t n_labels;
    struct {
        char name[ALERTACK_NAME_MAX + 1];
        char value[ALERTACK_VALUE_MAX + 1];
    } labels[ALERTACK_MAX_LABELS];
    int64_t for_s;          /* expiry, seconds from the server's now */
    /* all; optional for unack */
    char comment[ALERTACK_COMMENT_MAX * 4 + 1];
    /* unack */
    int64_t ack_id;
};

/* What came back. Outcomes are control.h's: CTL_APPLIED, CTL_REPLAYED,
 * CTL_ALREADY (unack: cleared or expired already), CTL_NOT_FOUND (unack:
 * no such ack), CTL_INVALID (the database refused the input), CTL_DENIED
 * (read-only), CTL_ERROR, CTL_UNKNOWN and CTL_NOT_APPLIED as for campaign
 * actions. */
struct alertack_result {
    enum ctl_outcome outcome;
    int64_t ack_id;
    char kind[8];                  /* "ack", "snooze" */
    char rule[ALERTACK_RULE_MAX + 1];
    int64_t created_ms, expires_ms;
    char who[192];                 /* ack: who made it; unack: who cleared it */
    char cleared_reason[16];       /* unack: "unack" or "superseded" */
    size_t n_superseded;           /* ack: the acks of the same target it replaced */
    int64_t superseded[8];
    int backend_pid;
    bool verified;
    char error[512];               /* CTL_INVALID, CTL_DENIED, CTL_ERROR, CTL_UNKNOWN: why */
};

/* "ack", "snooze", "unack". */
const char *alertack_op_name(enum alertack_op op);
/* "ack", "snooze". */
const char *alertack_kind_name(enum alertack_kind k);

/* Starts a request with a new random request id. Returns 0, or -1 if no
 * randomness was available. */
int alertack_request_init(struct alertack_request *rq, enum alertack_op op);

/* Adds a label to an ack or snooze. Returns 0, or -1 with the problem in
 * err (bad name, value too long or empty, duplicate, too many). */
int alertack_request_add_label(struct alertack_request *rq, const char *name, const char *value,
                               char *err, size_t errsz);

/* Checks a request before it is sent: the rule, the comment (required for
 * ack and snooze, at most ALERTACK_COMMENT_MAX characters of valid UTF-8),
 * the expiry (1 s to 30 days), the id of an unack. Returns 0, or -1 with
 * the problem in err. */
int alertack_request_check(const struct alertack_request *rq, char *err, size_t errsz);

/* Parses a duration: a number and a unit (s, m, h, d, w), several summed:
 * "90s", "45m", "4h", "1h30m", "2d". Returns 0 with *secs set, or -1. */
int alertack_parse_duration(const char *s, int64_t *secs);

/* Runs the request: the same contract as ctl_execute (0: out->outcome is
 * settled; -1: the connection failed, CTL_UNKNOWN if the request may have
 * reached the server, else CTL_ERROR). id: what the client says of itself. */
int alertack_execute(PGconn *conn, const struct alertack_request *rq, const struct ctl_identity *id,
                     int timeout_ms, int cancel_fd, struct alertack_result *out);

/* Settles an unknown outcome on a new connection, as ctl_verify does: ends
 * the old session if it still runs, then looks the request id up. */
int alertack_verify(PGconn *conn, const struct alertack_request *rq, int timeout_ms, int cancel_fd,
                    struct alertack_result *out);

/* One sentence for the operator (untrusted text in it: sanitize). */
void alertack_describe(const struct alertack_request *rq, const struct alertack_result *r,
                       char *buf, size_t n);

/* The change and its outcome to the structured log (oplog). */
void alertack_log(const struct alertack_request *rq, const struct alertack_result *r,
                  const struct ctl_identity *id, const char *message);

/* The acks in force, newest first. */
extern const char alertack_list_query[];

/* Reads the acks in force. NULL with a message in err on failure; *lost
 * (may be NULL) is set when the connection failed. */
struct alertack_list *alertack_list_fetch(PGconn *conn, int timeout_ms, int cancel_fd, int *lost,
                                          char *err, size_t errsz);
struct alertack_list *alertack_list_from_result(const PGresult *res, char *err, size_t errsz);
void alertack_list_free(struct alertack_list **l);

/* The ack that applies to an alert of rule with the given labels (its
 * whole label set, any order; alertname, if present, is ignored), or NULL.
 * An ack applies when its rule is the alert's, every one of its labels is
 * among the alert's with the same value, and it has not expired by now_ms
 * (epoch ms; 0: do not check). A kind "ack" also needs the alert to have
 * been active already when the ack was made: active_since_ms (epoch ms;
 * 0: unknown, taken as covered) after created_ms is a new firing, after a
 * resolve, which the ack does not cover. A snooze covers whatever fires.
 * Of several, the most specific (most labels) wins, then the newest, then
 * the highest id. */
const struct alertack *alertack_match(const struct alertack_list *l, const char *rule,
                                      const struct alertack_label *labels, size_t n_labels,
                                      int64_t active_since_ms, int64_t now_ms);

#endif
