/* The database worker: a thread that owns its PostgreSQL connection for
 * queries, and a listener thread with a second connection that LISTENs for
 * campaign changes and alert acks. It re-reads campaigns, segments and the
 * acks in force on a notification or every refresh interval (segment
 * engagement every minute; the acks also when one expires), and
 * publishes immutable snapshots for the UI. It reconnects by
 * itself with jittered exponential backoff. Nothing here ever blocks the
 * caller for longer than taking a mutex. */
#ifndef MARKETING_DBWORKER_H
#define MARKETING_DBWORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "alertack.h"
#include "audit.h"
#include "campaign_detail.h"
#include "campaigns.h"
#include "control.h"
#include "preflight.h"
#include "segments.h"

enum dbw_state { DBW_CONNECTING, DBW_CONNECTED, DBW_RECONNECTING };

struct dbw_status {
    enum dbw_state state;
    int attempt;            /* failed attempts since the last success */
    int64_t retry_at_ms;    /* monotonic time of the next attempt, when reconnecting */
    int64_t data_ms;        /* epoch ms of the newest data; 0: none yet */
    char error[512];        /* the last error, or "" */
    bool live;              /* the listening connection is up: changes show at once */
    bool write_known;       /* the checks below were made on this connection */
    bool can_write;         /* the role may change campaigns and the server is a primary */
    char write_reason[160]; /* why not, when it may not */
    bool action_busy;       /* an action is in flight or its outcome is being verified */
    bool can_ack;           /* the role may ack alerts and the server is a primary (write_known) */
    char ack_reason[160];   /* why not, when it may not */
};

struct dbworker;

/* Starts the worker. wake_fd is written one byte whenever there is news
 * (a snapshot or a status change); the UI polls it. Returns NULL with a
 * message on failure to start. */
struct dbworker *dbworker_start(const char *dsn, int refresh_ms, int wake_fd,
                                char *err, size_t errsz);

/* Stops the worker and sets *w to NULL. Its I/O watches a stop pipe, so it
 * stops at once; if it is stuck where that cannot reach it (a DNS lookup
 * inside libpq), this returns false after 1.5 s and leaves the thread to
 * finish on its own: the caller must then keep wake_fd open. Returns true
 * when the worker has ended and is freed. */
bool dbworker_stop(struct dbworker **w);

/* Takes the newest campaign snapshot if one arrived since the last call
 * (the caller owns it), else NULL. */
struct campaign_list *dbworker_take_campaigns(struct dbworker *w);

/* Takes the newest segment snapshot if one arrived since the last call
 * (the caller owns it), else NULL. */
struct segment_list *dbworker_take_segments(struct dbworker *w);

/* The campaign whose details the UI shows (NULL or "": none): read with
 * every refresh, at once when it changes. */
void dbworker_want_detail(struct dbworker *w, const char *id);

/* Takes the newest details if they arrived since the last call, else NULL. */
struct campaign_detail *dbworker_take_detail(struct dbworker *w);

/* Copies the current status. */
void dbworker_status(struct dbworker *w, struct dbw_status *out);

/* Sends a campaign action (one at a time). It runs on the query
 * connection as soon as the current read ends. Returns false, with a
 * reason in why, when it was not sent: another action is in flight, or
 * the database is not connected (a write is never queued for later). */
bool dbworker_submit(struct dbworker *w, const struct ctl_request *rq, const struct ctl_identity *id,
                     char *why, size_t whysz);

/* Sends an alert ack, snooze or unack, through the same one-at-a-time slot
 * as campaign actions (action_busy covers both). Returns false, with a
 * reason in why, when it was not sent: the console is read-only
 * (dbworker_set_read_only, or the role or server: status.can_ack), another
 * action is in flight, or the database is not connected. The request is
 * not checked here: alertack_request_check() first. */
bool dbworker_submit_ack(struct dbworker *w, const struct alertack_request *rq,
                         const struct ctl_identity *id, char *why, size_t whysz);

/* Takes the newest ack outcome, as dbworker_take_result does for campaign
 * actions (an unknown outcome first, then the verified one). */
bool dbworker_take_ack_result(struct dbworker *w, struct alertack_request *rq,
                              struct alertack_result *res);

/* Takes the newest list of acks in force if one arrived since the last
 * call (the caller owns it), else NULL. Read at connect, on every refresh
 * and notification, and when the first of them expires. */
struct alertack_list *dbworker_take_acks(struct dbworker *w);

/* The console is read-only (reason: why, as the status line says it; NULL:
 * it is not): every submit is refused with that reason. */
void dbworker_set_read_only(struct dbworker *w, const char *reason);

/* A piece of database work for the UI (authoring, segment previews): fn
 * runs on the worker's connection, in its thread, one task at a time in
 * the order given, while connected (queued ones wait for a connection).
 * fn returns 0, -1 with a message in err, or -2 when the connection was
 * lost (also taken as lost when the connection is bad afterwards). A task
 * marked write is refused (rc -1, err says why, fn not run) when the
 * console may not write. cancel_fd becomes readable when the worker stops.
 * The task comes back by dbworker_take_task with rc and err set; arg
 * belongs to the caller throughout (free_arg frees one the UI never took
 * back because more than DBW_MAX_TASKS finished meanwhile, or that were
 * still queued or not taken when the worker stopped). */
#define DBW_MAX_TASKS 8
struct dbw_task {
    int (*fn)(PGconn *conn, void *arg, int cancel_fd, char *err, size_t errsz);
    void *arg;
    void (*free_arg)(void *arg);
    bool write;
    int kind;                 /* the caller's tag */
    unsigned long id;         /* the caller's */
    int rc;                   /* 0, -1 (err), -2 (connection lost: a write's outcome is unknown) */
    char err[512];
};

/* Queues a task. False (why says so) when DBW_MAX_TASKS already wait. */
bool dbworker_run_task(struct dbworker *w, const struct dbw_task *t, char *why, size_t whysz);

/* A finished task, oldest first: true with *out filled. */
bool dbworker_take_task(struct dbworker *w, struct dbw_task *out);

/* Takes the newest action outcome, if one arrived since the last call:
 * true with *rq and *res filled. An unknown outcome comes first (the
 * connection failed mid-action), then, after reconnecting, the verified
 * one (CTL_APPLIED or CTL_NOT_APPLIED). */
bool dbworker_take_result(struct dbworker *w, struct ctl_request *rq, struct ctl_result *res);

/* The campaign whose pre-flight check the UI wants (NULL: none); it is run
 * once per call. */
void dbworker_want_preflight(struct dbworker *w, const char *id);

/* Takes the pre-flight result if it arrived (true), with *err set when it
 * failed. */
bool dbworker_take_preflight(struct dbworker *w, struct preflight *out, char *err, size_t errsz);

/* Whether the audit log is shown: then it is read with every refresh. */
void dbworker_want_audit(struct dbworker *w, bool on);

/* Takes the newest audit list if one arrived (the caller owns it). */
struct audit_list *dbworker_take_audit(struct dbworker *w);

/* Asks for a refresh now. */
void dbworker_refresh(struct dbworker *w);

/* The delay before reconnect attempt n (1, 2, ...): exponential from
 * 500 ms, capped at 30 s, with jitter in [50%, 100%]. r01 is a random
 * number in [0, 1). */
int dbworker_backoff_ms(int attempt, double r01);

#endif
