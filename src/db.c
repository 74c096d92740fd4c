#include "db.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "sanitize.h"

char *db_text(const PGresult *res, int row, int col)
{
    return strndup(PQgetvalue(res, row, col), SAN_MAX_INPUT + 1);
}

int64_t db_i64(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

void db_oneline(char *dst, size_t dstsz, const char *src)
{
    if (dstsz == 0)
        return;
    size_t n = 0;
    for (; src && *src && n + 1 < dstsz; src++)
        dst[n++] = (*src == '\n' || *src == '\r' || *src == '\t') ? ' ' : *src;
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
}

const char *db_sqlstate(const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

void db_error(char *err, size_t errsz, const char *what, PGconn *conn, const PGresult *res)
{
    if (!err || errsz == 0)
        return;
    char msg[512];
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (primary)
        db_oneline(msg, sizeof msg, primary);
    else
        db_oneline(msg, sizeof msg, conn ? PQerrorMessage(conn) : "no connection");
    if (msg[0] == '\0')
        snprintf(msg, sizeof msg, "unknown error");
    const char *state = db_sqlstate(res);
    if (*state)
        snprintf(err, errsz, "%s: %s (SQLSTATE %s)", what, msg, state);
    else
        snprintf(err, errsz, "%s: %s", what, msg);
}

int db_exec(PGconn *conn, const char *sql, char *err, size_t errsz)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : -1;
    if (rc != 0)
        db_error(err, errsz, "query failed", conn, res);
    PQclear(res);
    return rc;
}

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static const char server_limits[] =
    "-c statement_timeout=15000 -c lock_timeout=5000 -c idle_in_transaction_session_timeout=60000";

PGconn *db_connect(const char *dsn, int timeout_ms, int cancel_fd, char *err, size_t errsz)
{
    /* Ours first: a DSN that names its own values overrides them. The
     * server-side limits keep a stuck statement or an abandoned transaction
     * from holding locks; keepalives and tcp_user_timeout notice dead peers
     * (RELIABILITY.md: without them a query in flight can hang forever). */
    /* A malformed DSN: libpq's message quotes the offending text, which may
     * be a password. Say what is wrong without repeating it. */
    if (dsn && *dsn) {
        char *perr = NULL;
        PQconninfoOption *parsed = PQconninfoParse(dsn, &perr);
        if (!parsed) {
            snprintf(err, errsz, "cannot connect: the DSN is malformed (check its quoting, "
                                 "'key=value' pairs or URI syntax)");
            PQfreemem(perr);
            return NULL;
        }
        PQconninfoFree(parsed);
    }
    /* client_encoding comes after the DSN: the sanitizer and the JSON
     * output rely on UTF-8 whatever the DSN or PGCLIENTENCODING say */
    const char *keys[] = {
        "application_name", "keepalives", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "options", "dbname", "client_encoding", NULL,
    };
    const char *vals[] = {
        "marketing", "1", "10", "5", "3", "10000", server_limits,
        dsn && *dsn ? dsn : "", "UTF8", NULL,
    };
    PGconn *conn = PQconnectStartParams(keys, vals, 1);
    if (!conn) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    if (PQstatus(conn) == CONNECTION_BAD) {
        db_error(err, errsz, "cannot connect", conn, NULL);
        PQfinish(conn);
        return NULL;
    }
    /* libpq ignores connect_timeout in PQconnectPoll: keep our own deadline. */
    int64_t deadline = clock_mono_ms() + timeout_ms;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) {
            db_error(err, errsz, "cannot connect", conn, NULL);
            PQfinish(conn);
            return NULL;
        }
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0) {
            snprintf(err, errsz, "cannot connect: no answer within %d ms", timeout_ms);
            PQfinish(conn);
            return NULL;
        }
        struct pollfd pfd[2] = {
            { .fd = PQsocket(conn), .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT },
            { .fd = cancel_fd, .events = POLLIN },
        };
        int n = poll(pfd, cancel_fd >= 0 ? 2 : 1, (int)(left > 1000 ? 1000 : left));
        if (n < 0 && errno != EINTR) {
            snprintf(err, errsz, "cannot connect: poll: %s", strerror(errno));
            PQfinish(conn);
            return NULL;
        }
        if (cancel_fd >= 0 && n > 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            snprintf(err, errsz, "cancelled");
            PQfinish(conn);
            return NULL;
        }
        if (n > 0)
            st = PQconnectPoll(conn);
    }
    /* server NOTICEs ("already exists, skipping") are not for the operator */
    PQsetNoticeProcessor(conn, quiet_notice, NULL);
    /* so that sending never blocks: db_query waits in poll() instead */
    PQsetnonblocking(conn, 1);
    return conn;
}

/* Waits for the connection's socket (events) or cancel_fd, until deadline.
 * Returns 1 when the socket is ready, 0 on timeout, -1 when cancelled. */
static int wait_socket(PGconn *conn, short events, int cancel_fd, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd[2] = {
            { .fd = PQsocket(conn), .events = events },
            { .fd = cancel_fd, .events = POLLIN },
        };
        int n = poll(pfd, cancel_fd >= 0 ? 2 : 1, (int)(left > 1000 ? 1000 : left));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return 0;
        if (cancel_fd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
            return -1;
        if (n > 0)
            return 1;
    }
}

PGresult *db_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   int timeout_ms, int cancel_fd, char *err, size_t errsz)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;
    if (!PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)) {
        db_error(err, errsz, "connection lost", conn, NULL);
        return NULL;
    }
    int f;
    while ((f = PQflush(conn)) == 1) {
        int w = wait_socket(conn, POLLOUT | POLLIN, cancel_fd, deadline);
        if (w <= 0) {
            snprintf(err, errsz, w < 0 ? "cancelled" : "no answer within %d ms", timeout_ms);
            return NULL;
        }
        if (!PQconsumeInput(conn)) {
            db_error(err, errsz, "connection lost", conn, NULL);
            return NULL;
        }
    }
    if (f < 0) {
        db_error(err, errsz, "connection lost", conn, NULL);
        return NULL;
    }
    PGresult *last = NULL;
    for (;;) {
        while (PQisBusy(conn)) {
            int w = wait_socket(conn, POLLIN, cancel_fd, deadline);
            if (w <= 0) {
                PQclear(last);
                snprintf(err, errsz, w < 0 ? "cancelled" : "no answer within %d ms", timeout_ms);
                return NULL;
            }
            if (!PQconsumeInput(conn)) {
                PQclear(last);
                db_error(err, errsz, "connection lost", conn, NULL);
                return NULL;
            }
        }
        PGresult *r = PQgetResult(conn);
        if (!r)
            break;
        PQclear(last);
        last = r;
    }
    if (!last)
        db_error(err, errsz, "connection lost", conn, NULL);
    else if (PQstatus(conn) == CONNECTION_BAD) {
        db_error(err, errsz, "connection lost", conn, last);
        PQclear(last);
        last = NULL;
    }
    return last;
}
