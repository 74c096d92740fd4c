/* testsend: one transaction per batch of queued test deliveries:
 *   SELECT ... FOR UPDATE OF t SKIP LOCKED   (a second backend takes others)
 *   stage the messages in the sink; UPDATE them to sent; COMMIT; then move
 *   them into the maildir and count. */
#include "testsend.h"

#include "health.h"
#include "log.h"
#include "mail.h"
#include "metrics.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TESTSEND_BATCH 50

static const char testsend_pick_sql[] =
    "SELECT t.id, t.campaign_id, t.variant, t.address, r.from_address,"
    "       coalesce(v.subject, r.subject), coalesce(v.body, r.body), coalesce(k.attributes::text, '{}')"
    "  FROM test_deliveries t"
    "  JOIN campaign_revisions r ON r.campaign_id = t.campaign_id AND r.revision = t.revision"
    "  LEFT JOIN campaign_variants v ON v.campaign_id = t.campaign_id AND v.revision = t.revision"
    "                               AND v.variant = t.variant"
    "  LEFT JOIN LATERAL (SELECT c.attributes FROM contacts c WHERE lower(c.email) = lower(t.address)"
    "                      ORDER BY c.id LIMIT 1) k ON true"
    " WHERE t.status = 'queued'"
    " ORDER BY t.id LIMIT 50 FOR UPDATE OF t SKIP LOCKED"; /* TESTSEND_BATCH */

static const char testsend_mark_sql[] =
    "UPDATE test_deliveries SET status = 'sent', sent_at = now(), error = NULL"
    " WHERE id = ANY($1::bigint[]) AND status = 'queued'";

static int testsend_batch(struct db *db, struct sink *sink, char *err, size_t errlen)
{
    PGresult *res;
    struct strbuf msg, ids;
    struct mail_parts m;
    const char *params[1];
    int i, n, rc = -1;

    if (db_run(db, "BEGIN", 0, NULL, err, errlen) < 0)
        return -1;
    res = db_exec(db, testsend_pick_sql, 0, NULL, err, errlen);
    if (!res) {
        db_rollback(db);
        return -1;
    }
    n = PQntuples(res);
    if (n == 0) {
        PQclear(res);
        return db_run(db, "COMMIT", 0, NULL, err, errlen) < 0 ? -1 : 0;
    }
    strbuf_init(&msg);
    strbuf_init(&ids);
    strbuf_putc(&ids, '{');
    for (i = 0; i < n; i++) {
        strbuf_printf(&ids, i ? ",%s" : "%s", PQgetvalue(res, i, 0));
        if (!sink_wants_content(sink))
            continue;
        memset(&m, 0, sizeof m);
        m.from = PQgetvalue(res, i, 4);
        m.to = PQgetvalue(res, i, 3);
        m.subject = PQgetvalue(res, i, 5);
        m.body = PQgetvalue(res, i, 6);
        m.attributes = PQgetvalue(res, i, 7);
        m.campaign_id = PQgetvalue(res, i, 1);
        m.variant = PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
        m.delivery_id = db_ll(res, i, 0);
        m.test = true;
        strbuf_reset(&msg);
        mail_compose(&msg, &m);
        if (msg.failed) {
            snprintf(err, errlen, "out of memory composing a test message");
            goto fail;
        }
        if (sink_stage(sink, msg.data, msg.len, err, errlen) < 0)
            goto fail;
    }
    strbuf_putc(&ids, '}');
    params[0] = strbuf_str(&ids);
    if (!params[0]) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (db_run(db, testsend_mark_sql, 1, params, err, errlen) < 0 || db_run(db, "COMMIT", 0, NULL, err, errlen) < 0)
        goto fail;
    if (sink_wants_content(sink)) {
        char serr[256];
        bool ok = sink_commit(sink, serr, sizeof serr) == 0;
        if (!ok)
            log_event(LOG_ERROR, NULL, "sink write failed", json_pack("{s:s}", "detail", serr));
        health_sink_result(ok);
    }
    metrics_email_add(EC_TEST_SENT, (uint64_t)n);
    log_event(LOG_INFO, NULL, "test sends delivered",
              json_pack("{s:i, s:s, s:s}", "count", n, "first_id", PQgetvalue(res, 0, 0), "campaign_id",
                        PQgetvalue(res, 0, 1)));
    rc = n;
    goto done;
fail:
    db_rollback(db);
    sink_abort(sink);
done:
    PQclear(res);
    strbuf_free(&msg);
    strbuf_free(&ids);
    return rc;
}

int testsend_run(struct db *db, struct sink *sink, char *err, size_t errlen)
{
    int total = 0, n;

    do {
        n = testsend_batch(db, sink, err, errlen);
        if (n < 0)
            return -1;
        total += n;
    } while (n == TESTSEND_BATCH);
    return total;
}
