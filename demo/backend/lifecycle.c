/* lifecycle: promotion and completion statements. */
#include "lifecycle.h"

#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char lifecycle_promote_sql[] =
    "UPDATE campaigns SET status = 'active', launched_at = coalesce(launched_at, now()),"
    "       version = version + 1, updated_at = now()"
    " WHERE id = $1 AND status = 'scheduled' AND version = $2 AND send_at <= now()"
    " RETURNING version, current_revision";

/* never while a delivery waits in status 'queued' (retry_failed) */
static const char lifecycle_complete_sql[] =
    "UPDATE campaigns SET status = 'completed', completed_at = now(),"
    "       version = version + 1, updated_at = now()"
    " WHERE id = $1 AND status = 'active' AND version = $2"
    "   AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = $1 AND d.status = 'queued')"
    " RETURNING version";

static const char lifecycle_audit_sql[] =
    "INSERT INTO audit_log (request_id, action, campaign_id, from_status, to_status,"
    "                       from_version, to_version, revision, os_user, note)"
    " VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, '" BACKEND_NAME "', $8)"
    " RETURNING request_id";

static int lifecycle_audit(struct db *db, const char *action, const char *id, const char *from, const char *to,
                           const char *from_version, const char *to_version, const char *revision,
                           const char *note, char *request_id, char *err, size_t errlen)
{
    const char *params[8] = {action, id, from, to, from_version, to_version, revision, note};
    PGresult *res = db_exec(db, lifecycle_audit_sql, 8, params, err, errlen);

    if (!res)
        return -1;
    str_copy(request_id, 37, PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return 0;
}

enum lifecycle_result lifecycle_promote(struct db *db, const char *id, int version, char *err, size_t errlen)
{
    char ver[16], request_id[37];
    char *to_version = NULL, *revision = NULL;
    const char *params[2] = {id, ver};
    PGresult *res;
    enum lifecycle_result rc = LIFECYCLE_ERROR;

    snprintf(ver, sizeof ver, "%d", version);
    if (db_run(db, "BEGIN", 0, NULL, err, errlen) < 0)
        return LIFECYCLE_ERROR;
    res = db_exec(db, lifecycle_promote_sql, 2, params, err, errlen);
    if (!res)
        goto out;
    if (PQntuples(res) != 1) {
        PQclear(res);
        rc = LIFECYCLE_CONFLICT;
        goto out;
    }
    to_version = strdup(PQgetvalue(res, 0, 0));
    revision = PQgetisnull(res, 0, 1) ? NULL : strdup(PQgetvalue(res, 0, 1));
    PQclear(res);
    if (!to_version) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (lifecycle_audit(db, "launch", id, "scheduled", "active", ver, to_version, revision, "send_at reached",
                        request_id, err, errlen) < 0)
        goto out;
    if (db_run(db, "COMMIT", 0, NULL, err, errlen) < 0)
        goto out;
    log_event(LOG_INFO, request_id, "campaign promoted: send_at reached",
              json_pack("{s:s, s:s, s:s, s:i, s:s}", "campaign_id", id, "from_status", "scheduled",
                        "to_status", "active", "from_version", version, "to_version", to_version));
    rc = LIFECYCLE_DONE;
out:
    if (rc != LIFECYCLE_DONE)
        db_rollback(db);
    free(to_version);
    free(revision);
    return rc;
}

enum lifecycle_result lifecycle_complete(struct db *db, const char *id, int version, int revision,
                                         int *new_version, char *request_id, char *err, size_t errlen)
{
    char ver[16], rev[16];
    char *to_version;
    const char *params[2] = {id, ver};
    PGresult *res;
    int rc;

    snprintf(ver, sizeof ver, "%d", version);
    snprintf(rev, sizeof rev, "%d", revision);
    res = db_exec(db, lifecycle_complete_sql, 2, params, err, errlen);
    if (!res)
        return LIFECYCLE_ERROR;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return LIFECYCLE_CONFLICT;
    }
    to_version = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!to_version) {
        snprintf(err, errlen, "out of memory");
        return LIFECYCLE_ERROR;
    }
    *new_version = (int)strtol(to_version, NULL, 10);
    rc = lifecycle_audit(db, "complete", id, "active", "completed", ver, to_version, rev,
                         "every reachable member has a delivery, none queued", request_id, err, errlen);
    free(to_version);
    return rc < 0 ? LIFECYCLE_ERROR : LIFECYCLE_DONE;
}
