#include "migrate.h"

#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* A fixed key for pg_advisory_lock: "mktmigr" in ASCII. */
#define MIGRATE_LOCK_KEY "31079806313264498"

static const char create_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

int migrate_current(PGconn *conn, char *err, size_t errsz)
{
    PGresult *res = PQexec(conn,
        "SELECT coalesce(max(version), 0) FROM schema_migrations");
    int v = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        v = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    } else if (strcmp(db_sqlstate(res), "42P01") == 0) {
        v = 0; /* undefined_table: nothing applied yet */
    } else {
        db_error(err, errsz, "reading the schema version", conn, res);
    }
    PQclear(res);
    return v;
}

static int apply_one(PGconn *conn, const struct migration *m, char *err, size_t errsz)
{
    char ver[16];
    const char *params[2] = { ver, m->name };
    snprintf(ver, sizeof ver, "%d", m->version);

    if (db_exec(conn, "BEGIN", err, errsz) != 0)
        return -1;
    PGresult *res = PQexec(conn, m->sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        char what[96];
        snprintf(what, sizeof what, "migration %03d_%s", m->version, m->name);
        db_error(err, errsz, what, conn, res);
        PQclear(res);
        db_exec(conn, "ROLLBACK", NULL, 0);
        return -1;
    }
    PQclear(res);
    res = PQexecParams(conn, "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)",
                       2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        db_error(err, errsz, "recording a migration", conn, res);
        PQclear(res);
        db_exec(conn, "ROLLBACK", NULL, 0);
        return -1;
    }
    PQclear(res);
    return db_exec(conn, "COMMIT", err, errsz);
}

int migrate_apply(PGconn *conn, struct migrate_report *rep, char *err, size_t errsz)
{
    rep->applied = 0;
    rep->current = 0;
    if (db_exec(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err, errsz) != 0)
        return -1;
    int rc = -1;
    if (db_exec(conn, create_table_sql, err, errsz) != 0)
        goto out;
    int cur = migrate_current(conn, err, errsz);
    if (cur < 0)
        goto out;
    /* by the versions recorded, not the highest: a database that has 005
     * from a branch still gets 003 and 004 when they come */
    for (size_t i = 0; i < migrations_count; i++) {
        char ver[16];
        const char *params[1] = { ver };
        snprintf(ver, sizeof ver, "%d", migrations[i].version);
        PGresult *res = PQexecParams(conn, "SELECT 1 FROM schema_migrations WHERE version = $1::int", 1, NULL,
                                     params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            db_error(err, errsz, "reading the migrations applied", conn, res);
            PQclear(res);
            goto out;
        }
        bool have = PQntuples(res) > 0;
        PQclear(res);
        if (have)
            continue;
        if (apply_one(conn, &migrations[i], err, errsz) != 0)
            goto out;
        if (migrations[i].version > cur)
            cur = migrations[i].version;
        rep->applied++;
    }
    rep->current = cur;
    rc = 0;
out:
    db_exec(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", NULL, 0);
    return rc;
}
