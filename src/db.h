/* PostgreSQL connections as the console makes them: keepalives, timeouts,
 * application_name, and errors turned into one-line messages. */
#ifndef MARKETING_DB_H
#define MARKETING_DB_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/* Connects to dsn (a conninfo string or URI; NULL or "" uses libpq's PG*
 * variables and service files). Waits at most timeout_ms; returns early,
 * with err "cancelled", when cancel_fd (if >= 0) becomes readable. Returns
 * the connection, or NULL with a message in err. */
PGconn *db_connect(const char *dsn, int timeout_ms, int cancel_fd, char *err, size_t errsz);

/* Runs a statement without parameters whose result is discarded. err may
 * be NULL. Returns 0 or -1. */
int db_exec(PGconn *conn, const char *sql, char *err, size_t errsz);

/* "what: message (SQLSTATE)" from a result or, without one, the connection. */
void db_error(char *err, size_t errsz, const char *what, PGconn *conn, const PGresult *res);

/* The result's SQLSTATE, or "" when there is none. */
const char *db_sqlstate(const PGresult *res);

/* A result's text value, copied, at most one byte longer than the
 * sanitizer looks at (so that it still sees, and marks, a longer value as
 * cut); NULL if memory runs out. The caller frees. */
char *db_text(const PGresult *res, int row, int col);

/* A result's integer value; 0 for NULL. */
int64_t db_i64(const PGresult *res, int row, int col);

/* Copies src into dst, a one-line message: newlines become spaces, and
 * trailing whitespace goes. */
void db_oneline(char *dst, size_t dstsz, const char *src);



/* Runs one parameterized statement without blocking the caller beyond
 * timeout_ms, returning early ("cancelled") when cancel_fd becomes
 * readable. Returns the result (the caller PQclears it; its status may be
 * an error), or NULL with a message when the connection failed, timed out
 * or was cancelled: the caller then drops the connection. */
PGresult *db_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   int timeout_ms, int cancel_fd, char *err, size_t errsz);
#endif
