/* db: the worker's PostgreSQL connection. A PGconn belongs to the worker
 * thread alone; only db_cancel() may be called from another thread. */
#ifndef BACKEND_DB_H
#define BACKEND_DB_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct db {
    PGconn *conn;
    pthread_mutex_t cancel_lock;
    PGcancel *cancel;
};

void db_init(struct db *db);
void db_destroy(struct db *db);

/* Connect without blocking past stop or a 10 s deadline. Sets
 * application_name, keepalives, tcp_user_timeout and server-side timeouts
 * (any of which the DSN may override). */
int db_connect(struct db *db, const char *dsn, const atomic_bool *stop, char *err, size_t errlen);
void db_disconnect(struct db *db);
bool db_connected(const struct db *db);
/* cancel the query in flight, from any thread */
void db_cancel(struct db *db);

/* Run one parameterized statement. Returns the result (tuples or command
 * ok) or NULL with the server's message and SQLSTATE in err. */
PGresult *db_exec(struct db *db, const char *sql, int nparams, const char *const *params, char *err,
                  size_t errlen);
/* the same, for statements whose result is not needed */
int db_run(struct db *db, const char *sql, int nparams, const char *const *params, char *err, size_t errlen);
/* a column as a number (0 for NULL or junk) */
int db_int(const PGresult *res, int row, int col);
long long db_ll(const PGresult *res, int row, int col);
/* ROLLBACK, ignoring errors (for use after a failure) */
void db_rollback(struct db *db);

#endif
