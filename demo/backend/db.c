/* db: connection set-up with PQconnectStartParams/PQconnectPoll under our
 * own deadline (connect_timeout does not apply to the polling interface),
 * and statement helpers that turn errors into messages. */
#include "db.h"

#include "log.h"
#include "util.h"

#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_CONNECT_TIMEOUT_MS 10000

/* bounded statements, lock waits and forgotten transactions */
static const char db_server_options[] =
    "-c statement_timeout=15000 -c lock_timeout=5000 -c idle_in_transaction_session_timeout=60000";

void db_init(struct db *db)
{
    db->conn = NULL;
    db->cancel = NULL;
    pthread_mutex_init(&db->cancel_lock, NULL);
}

void db_destroy(struct db *db)
{
    db_disconnect(db);
    pthread_mutex_destroy(&db->cancel_lock);
}

static void db_message(PGconn *conn, const PGresult *res, const char *what, char *err, size_t errlen)
{
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    if (!msg || !*msg)
        msg = conn ? PQerrorMessage(conn) : "out of memory";
    if (!msg || !*msg)
        msg = "unknown error";
    if (state)
        snprintf(err, errlen, "%s: %s (SQLSTATE %s)", what, msg, state);
    else
        snprintf(err, errlen, "%s: %s", what, msg);
    str_oneline(err); /* libpq messages end in newlines; keep the log one line */
}

/* server notices (and errors that arrive while idle) go to the log, not raw to stderr */
static void db_notice(void *arg, const char *message)
{
    char buf[512];

    (void)arg;
    str_copy(buf, sizeof buf, message);
    log_event(LOG_WARN, NULL, "database notice", json_pack("{s:s}", "detail", str_oneline(buf)));
}

static int db_wait(int fd, short events, int64_t deadline, const atomic_bool *stop)
{
    struct pollfd p;
    int64_t left;
    int rc;

    for (;;) {
        if (stop && atomic_load(stop))
            return -1;
        left = deadline - clock_mono_ms();
        if (left <= 0)
            return -2;
        p.fd = fd;
        p.events = events;
        p.revents = 0;
        rc = poll(&p, 1, left > 100 ? 100 : (int)left);
        if (rc > 0)
            return 0;
    }
}

int db_connect(struct db *db, const char *dsn, const atomic_bool *stop, char *err, size_t errlen)
{
    /* our defaults first; the DSN (expanded from dbname) comes last and wins */
    const char *keys[] = {"application_name", "keepalives", "keepalives_idle", "keepalives_interval",
                          "keepalives_count", "tcp_user_timeout", "options", "dbname", NULL};
    const char *vals[] = {BACKEND_NAME, "1", "10", "5", "3", "10000", db_server_options, dsn, NULL};
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    int64_t deadline = clock_mono_ms() + DB_CONNECT_TIMEOUT_MS;
    PGconn *conn;
    PGcancel *cancel;
    int rc;

    db_disconnect(db);
    if (!dsn || !*dsn)
        keys[7] = NULL; /* libpq defaults and PG* variables */
    conn = PQconnectStartParams(keys, vals, 1);
    if (!conn) {
        snprintf(err, errlen, "connect: out of memory");
        return -1;
    }
    if (PQstatus(conn) == CONNECTION_BAD) {
        db_message(conn, NULL, "connect", err, errlen);
        PQfinish(conn);
        return -1;
    }
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) {
            db_message(conn, NULL, "connect", err, errlen);
            PQfinish(conn);
            return -1;
        }
        rc = db_wait(PQsocket(conn), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline, stop);
        if (rc < 0) {
            snprintf(err, errlen, "connect: %s", rc == -1 ? "interrupted by shutdown" : "timed out after 10 s");
            PQfinish(conn);
            return -1;
        }
        st = PQconnectPoll(conn);
    }
    if (PQsetClientEncoding(conn, "UTF8") != 0) {
        db_message(conn, NULL, "connect", err, errlen);
        PQfinish(conn);
        return -1;
    }
    PQsetNoticeProcessor(conn, db_notice, NULL);
    cancel = PQgetCancel(conn);
    pthread_mutex_lock(&db->cancel_lock);
    db->conn = conn;
    db->cancel = cancel;
    pthread_mutex_unlock(&db->cancel_lock);
    return 0;
}

void db_disconnect(struct db *db)
{
    PGconn *conn;
    PGcancel *cancel;

    pthread_mutex_lock(&db->cancel_lock);
    conn = db->conn;
    cancel = db->cancel;
    db->conn = NULL;
    db->cancel = NULL;
    pthread_mutex_unlock(&db->cancel_lock);
    if (cancel)
        PQfreeCancel(cancel);
    if (conn)
        PQfinish(conn);
}

bool db_connected(const struct db *db)
{
    return db->conn && PQstatus(db->conn) == CONNECTION_OK;
}

void db_cancel(struct db *db)
{
    char buf[256];

    pthread_mutex_lock(&db->cancel_lock);
    if (db->cancel)
        PQcancel(db->cancel, buf, sizeof buf);
    pthread_mutex_unlock(&db->cancel_lock);
}

PGresult *db_exec(struct db *db, const char *sql, int nparams, const char *const *params, char *err,
                  size_t errlen)
{
    PGresult *res;
    ExecStatusType st;

    if (!db->conn) {
        snprintf(err, errlen, "not connected");
        return NULL;
    }
    res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    db_message(db->conn, res, "query", err, errlen);
    PQclear(res);
    return NULL;
}

int db_run(struct db *db, const char *sql, int nparams, const char *const *params, char *err, size_t errlen)
{
    PGresult *res = db_exec(db, sql, nparams, params, err, errlen);

    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

int db_int(const PGresult *res, int row, int col)
{
    long v = strtol(PQgetvalue(res, row, col), NULL, 10);

    return v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
}

long long db_ll(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

void db_rollback(struct db *db)
{
    PGresult *res;

    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK)
        return;
    if (PQtransactionStatus(db->conn) == PQTRANS_IDLE)
        return;
    res = PQexec(db->conn, "ROLLBACK");
    PQclear(res);
}
