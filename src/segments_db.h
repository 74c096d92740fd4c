/* Segments in the database: the size preview of a rule, creating a
 * segment, refreshing its members, and its performance. Every call takes a
 * PGconn that the caller owns and that is idle (no transaction open); no
 * call keeps state between calls or touches a global, so the UI may run
 * them on its database worker thread (one PGconn per thread, as libpq
 * wants). Every statement is parameterized; rules are compiled by
 * segrule.h. Results are plain structs the caller owns. Text in them that
 * came from the database or the operator (names, rules, user names) is
 * untrusted: sanitize it before it is shown.
 *
 * Return value of the calls: 0 when the connection is still usable
 * (whatever out->status says), -1 when it failed, timed out or was
 * cancelled (cancel_fd became readable, as in db_query): the caller then
 * drops the connection, and for a write the outcome may be unknown
 * (SEGDB_UNKNOWN: look its request id up with segdb_lookup_request on a
 * new connection). */
#ifndef MARKETING_SEGMENTS_DB_H
#define MARKETING_SEGMENTS_DB_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "control.h"
#include "segrule.h"

#define SEGDB_PREVIEW_TIMEOUT_MS 2000 /* statement_timeout of a preview */

enum segdb_status {
    SEGDB_OK,
    SEGDB_BAD_RULE,   /* the rule does not parse or compile: rule_error says where */
    SEGDB_BAD_NAME,   /* empty, or longer than 200 characters */
    SEGDB_TIMEOUT,    /* the count took longer than the statement timeout */
    SEGDB_LOCKED,     /* another session is refreshing the segment: holder says who */
    SEGDB_NOT_FOUND,  /* no such segment */
    SEGDB_DENIED,     /* a read-only role, transaction or standby */
    SEGDB_ERROR,      /* failed, and rolled back */
    SEGDB_UNKNOWN,    /* the connection failed with a write in flight */
};

/* The session that holds a segment's refresh lock. */
struct segdb_holder {
    char user[64];          /* database role */
    char app[64];           /* its application_name */
    char addr[64];          /* client address, "local" for a unix socket */
    int64_t since_ms;       /* when its transaction began (epoch ms; 0 unknown) */
    int64_t backend_start_ms;
    int pid;                /* 0: it let go before we could look */
};

struct segdb_result {
    enum segdb_status status;
    char message[768];        /* one sentence for the operator (quotes untrusted text) */
    struct segrule_error rule_error; /* SEGDB_BAD_RULE */
    char request_id[37];      /* create, refresh: the audit row's request id */
    char segment_id[64];
    long long size, reachable;       /* preview: the count; refresh: the new size */
    long long added, removed;        /* refresh */
    long long elapsed_ms;            /* preview: how long the count took */
    struct segdb_holder holder;      /* SEGDB_LOCKED */
};

/* The advisory lock key of a segment's refresh, as SQL over $1 (the id):
 * pg_try_advisory_xact_lock(SEGDB_LOCK_KEY). */
#define SEGDB_LOCK_KEY "hashtext('marketing.segment_refresh'), hashtext($1)"

/* Counts the contacts a rule selects (out->size) and the active ones among
 * them (out->reachable), in a read-only transaction whose statement
 * timeout is statement_timeout_ms (SEGDB_PREVIEW_TIMEOUT_MS if <= 0). A
 * slower count gives SEGDB_TIMEOUT and a message saying so. */
int segdb_preview(PGconn *conn, const char *rule, int statement_timeout_ms, int timeout_ms,
                  int cancel_fd, struct segdb_result *out);

/* Creates a segment with name and rule stored as given (the rule must
 * compile), with an audit row (action segment_create) under a new request
 * id; the trigger of sql/005 NOTIFYs 'marketing_segment'. Its members are
 * not materialized: refresh it. out->segment_id is the new id. */
int segdb_create(PGconn *conn, const char *name, const char *rule, const struct ctl_identity *who,
                 int timeout_ms, int cancel_fd, struct segdb_result *out);

/* Materializes the segment's members from its stored rule, and its size,
 * reachable and refreshed_at, in one transaction under the segment's
 * advisory lock, with an audit row (segment_refresh). When another session
 * holds the lock, returns at once with SEGDB_LOCKED and who it is. */
int segdb_refresh(PGconn *conn, const char *segment_id, const struct ctl_identity *who,
                  int timeout_ms, int cancel_fd, struct segdb_result *out);

/* After SEGDB_UNKNOWN, on a new connection: whether the request committed.
 * Returns 1 (it did; *segment_id filled), 0 (it did not), -1 (cannot tell). */
int segdb_lookup_request(PGconn *conn, const char *request_id, char *segment_id, size_t idsz,
                         int timeout_ms, char *err, size_t errsz);

/* "seg_4 is being refreshed by alice@10.0.0.5 (marketing, since 12:01:02)" */
void segdb_holder_describe(const char *segment_id, const struct segdb_holder *h, char *buf, size_t n);

/* A campaign sent to a segment, and how it did (from campaign_stats). */
struct segdb_campaign {
    char *id, *name, *status;   /* untrusted */
    long long sent, opened, clicked;
    double open_rate, click_rate; /* opened / sent, clicked / sent; -1 when nothing was sent */
    int64_t launched_ms;          /* 0: never launched */
};

/* A segment with its performance: the campaigns that target it, newest
 * first, and their totals. Owned by the caller: segdb_detail_free. */
struct segdb_detail {
    char *id, *name, *rule;     /* untrusted */
    long long size, reachable;
    int64_t refreshed_ms, created_ms; /* epoch ms; refreshed 0: never */
    struct segdb_campaign *campaigns;
    size_t ncampaigns;
    long long sent, opened, clicked;
    double open_rate, click_rate;     /* over every campaign; -1 when nothing was sent */
    char *refreshed_by;               /* the last segment_refresh audit row's who, or NULL */
};

/* Reads a segment and its performance. NULL with out->status and message
 * (SEGDB_NOT_FOUND, SEGDB_ERROR) otherwise; *lost is set (when not NULL)
 * when the connection failed and must be dropped. */
struct segdb_detail *segdb_show(PGconn *conn, const char *segment_id, int timeout_ms, int cancel_fd,
                                struct segdb_result *out, int *lost);

void segdb_detail_free(struct segdb_detail **d);

/* "ok", "bad_rule", "timeout", "locked", ...: for JSON and logs. */
const char *segdb_status_name(enum segdb_status s);

#endif
