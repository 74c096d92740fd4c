/* Campaign control: launch, pause, resume, cancel, roll back, retry the
 * failed deliveries, stop all sending. The state machine lives in the
 * database (sql/002_control.sql: campaign_actions and campaign_act()); this
 * module calls it, one statement and so one short transaction per action,
 * and turns what comes back into an outcome and a sentence. The table below
 * mirrors campaign_actions for the UI (which keys apply to a row); a test
 * compares the two.
 *
 * A request id, made here, names one operator action. The server keeps it
 * under a unique constraint in the audit log, so sending the same request
 * twice applies it once. When the connection fails while a request is in
 * flight the outcome is unknown: ctl_verify() settles it on a new
 * connection. Nothing here ever resends a write by itself except after a
 * serialization failure or deadlock, which the server rolled back whole. */
#ifndef MARKETING_CONTROL_H
#define MARKETING_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

enum ctl_action {
    CTL_LAUNCH, CTL_PAUSE, CTL_RESUME, CTL_CANCEL, CTL_ROLLBACK, CTL_RETRY_FAILED, CTL_STOP_ALL,
    CTL_ACTION_COUNT
};

enum ctl_outcome {
    CTL_APPLIED,      /* done now */
    CTL_REPLAYED,     /* this request was applied before: nothing done again */
    CTL_ALREADY,      /* the campaign already is where the action leads */
    CTL_CONFLICT,     /* the campaign changed since it was read */
    CTL_INVALID,      /* not allowed from its status (or no such revision) */
    CTL_NOT_FOUND,
    CTL_DENIED,       /* read-only: the console, the role, or the server */
    CTL_ERROR,        /* failed, and the server rolled it back */
    CTL_UNKNOWN,      /* the connection failed with the request in flight */
    CTL_NOT_APPLIED,  /* verified after an unknown outcome: it did not commit */
};

/* What the client says about itself, stored beside what the server sees. */
struct ctl_identity {
    char os_user[64];
    char ssh_client[128];  /* $SSH_CLIENT: "addr port port" */
    char tty[64];
};

struct ctl_request {
    char request_id[37];        /* a random UUID */
    enum ctl_action action;
    char campaign_id[64];       /* "" for stop-all */
    int expected_version;       /* the version the operator saw; 0: any */
    int to_revision;            /* rollback: 0 for the previous revision */
    char note[256];
};

struct ctl_result {
    enum ctl_outcome outcome;
    char campaign_id[64];
    char status[16];            /* the campaign's status after the call */
    int version, revision;
    char changed_by[192];       /* the last change, for conflicts and "already" */
    char changed_at[40];
    long long audience;         /* launch: reachable members; -1 unknown */
    int restored_from;          /* rollback */
    long long superseded;       /* rollback: recipients of other content */
    long long requeued;         /* retry-failed */
    char reason[160];           /* invalid: why */
    size_t n_stopped;           /* stop-all */
    char stopped[256];          /* stop-all: the ids, cut with "..." */
    int backend_pid;            /* the session the request went through */
    bool verified;              /* settled by ctl_verify after an unknown outcome */
    char error[512];            /* CTL_ERROR, CTL_DENIED, CTL_UNKNOWN: what failed */
};

/* "launch", "pause", ..., "retry_failed", "stop_all": the database's words. */
const char *ctl_action_name(enum ctl_action a);

/* Parses an action name ("retry-failed" or "retry_failed"); -1 if unknown. */
int ctl_action_parse(const char *name);

/* "launched", "paused", "rolled back", ... */
const char *ctl_action_past(enum ctl_action a);

/* Whether a campaign in status may take the action (mirror of the
 * database's campaign_actions). */
bool ctl_allowed(enum ctl_action a, const char *status);

/* The statuses an action applies to, "draft, scheduled". */
const char *ctl_allowed_from(enum ctl_action a);

/* Fills the client's identity from the process: user, $SSH_CLIENT, tty. */
void ctl_identity_from_process(struct ctl_identity *id);

/* Starts a request with a new random request id. Returns 0, or -1 if no
 * randomness was available. */
int ctl_request_init(struct ctl_request *rq, enum ctl_action a, const char *campaign_id,
                     int expected_version);

/* Runs the request. Retries, whole, after a serialization failure or a
 * deadlock. Returns 0 when out->outcome is settled, or -1 when the
 * connection failed: then out->outcome is CTL_UNKNOWN if the request may
 * have reached the server (settle it with ctl_verify on a new connection),
 * or CTL_ERROR if it surely did not. cancel_fd as in db_query. */
int ctl_execute(PGconn *conn, const struct ctl_request *rq, const struct ctl_identity *id,
                int timeout_ms, int cancel_fd, struct ctl_result *out);

/* Settles an unknown outcome on a new connection: ends the old session if
 * the server still runs it (so that it cannot commit later), then looks
 * for the request id in the audit log. Returns 0 with out->outcome
 * CTL_APPLIED (it committed) or CTL_NOT_APPLIED, or -1 when it still cannot
 * tell (out->error says why; the outcome stays CTL_UNKNOWN). */
int ctl_verify(PGconn *conn, const struct ctl_request *rq, int timeout_ms, int cancel_fd,
               struct ctl_result *out);

/* One sentence for the operator: "Campaign paused: cmp_12, version 7". */
void ctl_describe(const struct ctl_request *rq, const struct ctl_result *r, char *buf, size_t n);

/* Whether the outcome means the campaign is where the operator wanted it. */
bool ctl_succeeded(enum ctl_outcome o);

/* Writes the action and its outcome to the structured log (oplog), with
 * message as its message. */
void ctl_log(const struct ctl_request *rq, const struct ctl_result *r,
             const struct ctl_identity *id, const char *message);

/* Whether a failed statement's SQLSTATE means the server rolled it back
 * whole and it may be sent again (serialization failure, deadlock). */
bool ctl_sqlstate_retryable(const char *state);

/* Whether a SQLSTATE means "not permitted" (a role without the right, a
 * standby, default_transaction_read_only). */
bool ctl_sqlstate_denied(const char *state);

/* The outcome's name for JSON output and logs: "applied", "conflict", ... */
const char *ctl_outcome_name(enum ctl_outcome o);

#endif
