/* batch: one send batch of one campaign, as one short transaction:
 *   SELECT ... FROM campaigns WHERE id = $1 FOR SHARE   (a pause waits for this batch; the next sees it)
 *   pick its deliveries in status 'queued' (requeued by retry_failed), ORDER BY contact_id LIMIT n
 *   UPDATE them in place ... WHERE status = 'queued' RETURNING ...
 *   with what is left of n: pick members with no delivery whose contact is active, ORDER BY contact_id
 *   INSERT INTO deliveries ... ON CONFLICT (campaign_id, contact_id) DO NOTHING RETURNING ...
 *   stage the messages in the sink; COMMIT; then move them into the maildir and count.
 * When no queued delivery and no eligible member is left the campaign is
 * completed in the same transaction. The ledger's unique key (and the
 * status = 'queued' condition of the update) makes a double send impossible
 * across pause, resume, restart and a second backend. */
#include "batch.h"

#include "health.h"
#include "lifecycle.h"
#include "log.h"
#include "mail.h"
#include "metrics.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the queued count comes from campaign_stats (kept by the ledger's triggers):
 * the ledger has no index on status = 'queued', so it is searched only when
 * the count says there is something, and once more before completing */
static const char batch_lock_sql[] =
    "SELECT status, current_revision, version, segment_id, rate_limit_per_minute,"
    "       (SELECT s.queued FROM campaign_stats s WHERE s.campaign_id = $1)"
    "  FROM campaigns WHERE id = $1 FOR SHARE";

static const char batch_revision_sql[] =
    "SELECT from_address, subject, body FROM campaign_revisions WHERE campaign_id = $1 AND revision = $2";

static const char batch_variants_sql[] =
    "SELECT variant, split_percent, subject, body FROM campaign_variants"
    " WHERE campaign_id = $1 AND revision = $2 ORDER BY variant";

static const char batch_pick_sql[] =
    "SELECT m.contact_id, c.email, c.attributes::text"
    "  FROM segment_members m JOIN contacts c ON c.id = m.contact_id"
    " WHERE m.segment_id = $1 AND m.contact_id > $2 AND c.status = 'active'"
    "   AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = $3 AND d.contact_id = m.contact_id)"
    " ORDER BY m.contact_id LIMIT $4";

/* the same first three columns as batch_pick_sql; suppressed contacts too,
 * so that their rows are settled (failed) rather than left queued */
static const char batch_queued_sql[] =
    "SELECT d.contact_id, c.email, c.attributes::text, d.variant, c.status"
    "  FROM deliveries d JOIN contacts c ON c.id = d.contact_id"
    " WHERE d.campaign_id = $1 AND d.status = 'queued'"
    " ORDER BY d.contact_id LIMIT $2";

static const char batch_insert_sql[] =
    "INSERT INTO deliveries (campaign_id, contact_id, revision, variant, status, sent_at, error)"
    " SELECT $1, u.contact_id, $2, u.variant, u.status,"
    "        CASE WHEN u.status = 'failed' THEN NULL ELSE now() END, u.error"
    "   FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[]) AS u(contact_id, variant, status, error)"
    " ON CONFLICT (campaign_id, contact_id) DO NOTHING"
    " RETURNING id, contact_id, status, variant";

/* a row another backend settled meanwhile no longer matches: not returned, not sent */
static const char batch_update_sql[] =
    "UPDATE deliveries d SET revision = $2, variant = u.variant, status = u.status,"
    "       sent_at = CASE WHEN u.status = 'failed' THEN NULL ELSE now() END, error = u.error"
    "  FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[]) AS u(contact_id, variant, status, error)"
    " WHERE d.campaign_id = $1 AND d.contact_id = u.contact_id AND d.status = 'queued'"
    " RETURNING d.id, d.contact_id, d.status, d.variant";

static const char batch_bounce_text[] = "550 5.1.1 mailbox unavailable (simulated bounce)";
static const char batch_fail_text[] = "421 4.7.0 temporary failure, giving up (simulated)";

void batch_forget_content(struct campaign *c)
{
    int i;

    free(c->from);
    free(c->subject);
    free(c->body);
    c->from = c->subject = c->body = NULL;
    for (i = 0; i < c->nvariants; i++) {
        free(c->variants[i].subject);
        free(c->variants[i].body);
    }
    c->nvariants = 0;
    c->content_revision = 0;
    c->content_version = 0;
}

static char *batch_dup(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : strdup(PQgetvalue(res, row, col));
}

static int batch_load_content(struct db *db, struct campaign *c, int revision, char *err, size_t errlen)
{
    char rev[16];
    const char *params[2] = {c->id, rev};
    PGresult *res;
    int i, n;

    batch_forget_content(c);
    snprintf(rev, sizeof rev, "%d", revision);
    res = db_exec(db, batch_revision_sql, 2, params, err, errlen);
    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        c->from = batch_dup(res, 0, 0);
        c->subject = batch_dup(res, 0, 1);
        c->body = batch_dup(res, 0, 2);
    }
    PQclear(res);
    res = db_exec(db, batch_variants_sql, 2, params, err, errlen);
    if (!res)
        return -1;
    n = PQntuples(res);
    for (i = 0; i < n && c->nvariants < CAMPAIGN_MAX_VARIANTS; i++) {
        struct campaign_variant *v = &c->variants[c->nvariants++];
        str_copy(v->letter, sizeof v->letter, PQgetvalue(res, i, 0));
        v->split = db_int(res, i, 1);
        v->subject = batch_dup(res, i, 2);
        v->body = batch_dup(res, i, 3);
    }
    PQclear(res);
    c->content_revision = revision;
    c->content_version = c->version;
    return 0;
}

/* the A/B variant of a contact: a stable hash of campaign and contact into
 * 0..99, against the cumulative split percentages; none past their sum */
static const struct campaign_variant *batch_variant(const struct campaign *c, long long contact_id)
{
    int bucket = (int)(rng_mix(c->id_hash ^ (uint64_t)contact_id) % 100);
    int i, cum = 0;

    for (i = 0; i < c->nvariants; i++) {
        cum += c->variants[i].split;
        if (bucket < cum)
            return &c->variants[i];
    }
    return NULL;
}

/* the variant of the current revision with this letter, if any */
static const struct campaign_variant *batch_variant_named(const struct campaign *c, const char *letter)
{
    int i;

    for (i = 0; i < c->nvariants; i++)
        if (strcmp(c->variants[i].letter, letter) == 0)
            return &c->variants[i];
    return NULL;
}

/* one element of a text[] literal: NULL or a double-quoted string */
static void batch_array_text(struct strbuf *b, const char *v, bool first)
{
    if (!first)
        strbuf_putc(b, ',');
    if (!v) {
        strbuf_puts(b, "NULL");
        return;
    }
    strbuf_putc(b, '"');
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            strbuf_putc(b, '\\');
        strbuf_putc(b, *v);
    }
    strbuf_putc(b, '"');
}

struct batch_rows {
    struct strbuf ids, variants, statuses, errors;
};

static void batch_rows_free(struct batch_rows *r)
{
    strbuf_free(&r->ids);
    strbuf_free(&r->variants);
    strbuf_free(&r->statuses);
    strbuf_free(&r->errors);
}

/* the outcome of each row of members (contact_id first). requeued: rows of
 * batch_queued_sql, which keep the variant they have (re-picked when it is
 * NULL or not in the current revision) and are not sent to a contact that
 * is no longer active. */
static void batch_rows_build(const struct batch_env *env, const struct campaign *c, const PGresult *members,
                              bool requeued, struct batch_rows *r)
{
    int i, n = PQntuples(members);
    double u;
    const char *status, *error;
    const struct campaign_variant *v;
    long long contact;
    char suppressed[96];

    strbuf_putc(&r->ids, '{');
    strbuf_putc(&r->variants, '{');
    strbuf_putc(&r->statuses, '{');
    strbuf_putc(&r->errors, '{');
    for (i = 0; i < n; i++) {
        contact = db_ll(members, i, 0);
        v = requeued && !PQgetisnull(members, i, 3) ? batch_variant_named(c, PQgetvalue(members, i, 3)) : NULL;
        if (!v)
            v = batch_variant(c, contact);
        u = rng_unit(env->rng);
        if (requeued && strcmp(PQgetvalue(members, i, 4), "active") != 0) {
            snprintf(suppressed, sizeof suppressed, "not retried: the contact is %.32s", PQgetvalue(members, i, 4));
            status = "failed";
            error = suppressed;
        } else if (u < env->cfg->fail_prob) {
            status = "failed";
            error = batch_fail_text;
        } else if (u < env->cfg->fail_prob + env->cfg->bounce_prob) {
            status = "bounced";
            error = batch_bounce_text;
        } else {
            status = "sent";
            error = NULL;
        }
        strbuf_printf(&r->ids, i ? ",%lld" : "%lld", contact);
        batch_array_text(&r->variants, v ? v->letter : NULL, i == 0);
        batch_array_text(&r->statuses, status, i == 0);
        batch_array_text(&r->errors, error, i == 0);
    }
    strbuf_putc(&r->ids, '}');
    strbuf_putc(&r->variants, '}');
    strbuf_putc(&r->statuses, '}');
    strbuf_putc(&r->errors, '}');
}

/* the member row of a contact (members are ordered by contact_id) */
static int batch_member_row(const PGresult *members, long long contact)
{
    int lo = 0, hi = PQntuples(members), mid;
    long long v;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        v = db_ll(members, mid, 0);
        if (v == contact)
            return mid;
        if (v < contact)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int batch_stage(const struct batch_env *env, const struct campaign *c, const PGresult *members,
                        const PGresult *ins, char *err, size_t errlen)
{
    struct strbuf msg;
    struct mail_parts m;
    const struct campaign_variant *v;
    int i, row, n = PQntuples(ins), rc = 0;

    strbuf_init(&msg);
    for (i = 0; i < n && rc == 0; i++) {
        if (strcmp(PQgetvalue(ins, i, 2), "sent") != 0)
            continue;
        row = batch_member_row(members, db_ll(ins, i, 1));
        if (row < 0)
            continue;
        v = PQgetisnull(ins, i, 3) ? NULL : batch_variant_named(c, PQgetvalue(ins, i, 3));
        memset(&m, 0, sizeof m);
        m.from = c->from ? c->from : "";
        m.to = PQgetvalue(members, row, 1);
        m.subject = v && v->subject ? v->subject : c->subject ? c->subject : "";
        m.body = v && v->body ? v->body : c->body ? c->body : "";
        m.attributes = PQgetvalue(members, row, 2);
        m.campaign_id = c->id;
        m.variant = v ? v->letter : NULL;
        m.delivery_id = db_ll(ins, i, 0);
        strbuf_reset(&msg);
        mail_compose(&msg, &m);
        if (msg.failed) {
            snprintf(err, errlen, "out of memory composing a message");
            rc = -1;
        } else {
            rc = sink_stage(env->sink, msg.data, msg.len, err, errlen);
        }
    }
    strbuf_free(&msg);
    return rc;
}


static void batch_count_sent(const struct batch_env *env, struct campaign *c, const PGresult *ins, int64_t now_ms)
{
    int i, n = PQntuples(ins);
    uint64_t sent = 0, failed = 0, bounced = 0;
    const char *status;

    for (i = 0; i < n; i++) {
        status = PQgetvalue(ins, i, 2);
        if (strcmp(status, "sent") == 0) {
            sent++;
            sim_on_sent(env->sim, db_ll(ins, i, 0), now_ms);
        } else if (strcmp(status, "bounced") == 0) {
            bounced++;
        } else {
            failed++;
        }
    }
    metrics_email_add(EC_SENT, sent);
    metrics_email_add(EC_BOUNCED, bounced);
    metrics_email_add(EC_FAILED, failed);
    c->tokens -= n;
    if (c->tokens < 0)
        c->tokens = 0;
}

static enum batch_outcome batch_complete(struct db *db, struct campaign *c, int revision, char *err,
                                           size_t errlen)
{
    char request_id[37] = "";
    int new_version = 0;
    enum lifecycle_result lr;

    lr = lifecycle_complete(db, c->id, c->version, revision, &new_version, request_id, err, errlen);
    if (lr == LIFECYCLE_ERROR) {
        db_rollback(db);
        return BATCH_DB_ERROR;
    }
    if (db_run(db, "COMMIT", 0, NULL, err, errlen) < 0)
        return BATCH_DB_ERROR;
    if (lr == LIFECYCLE_DONE)
        log_event(LOG_INFO, request_id, "campaign completed: no eligible member or queued delivery left",
                  json_pack("{s:s, s:s, s:s, s:i, s:i, s:i}", "campaign_id", c->id, "from_status", "active",
                            "to_status", "completed", "from_version", c->version, "to_version", new_version,
                            "revision", revision));
    return BATCH_DROP;
}

/* write rows (INSERT or UPDATE by sql) at revision rev; the RETURNING rows */
static PGresult *batch_write(struct db *db, const char *sql, const struct campaign *c, const char *rev,
                             struct batch_rows *rows, char *err, size_t errlen)
{
    const char *params[6];

    params[0] = c->id;
    params[1] = rev;
    params[2] = strbuf_str(&rows->ids);
    params[3] = strbuf_str(&rows->variants);
    params[4] = strbuf_str(&rows->statuses);
    params[5] = strbuf_str(&rows->errors);
    if (!params[2] || !params[3] || !params[4] || !params[5]) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return db_exec(db, sql, 6, params, err, errlen);
}

/* the campaign's queued deliveries, at most n */
static PGresult *batch_pick_queued(struct db *db, const struct campaign *c, int n, char *err, size_t errlen)
{
    char limit[16];
    const char *params[2] = {c->id, limit};

    snprintf(limit, sizeof limit, "%d", n);
    return db_exec(db, batch_queued_sql, 2, params, err, errlen);
}

static int batch_rows_of(const PGresult *res)
{
    return res ? PQntuples(res) : 0;
}

enum batch_outcome batch_run(const struct batch_env *env, struct db *db, struct campaign *c, int n,
                                        int64_t now_ms, char *err, size_t errlen)
{
    char cursor[24], limit[16], rev[16];
    const char *lock_params[1] = {c->id};
    const char *pick_params[4];
    PGresult *lock = NULL, *queued = NULL, *members = NULL, *upd = NULL, *ins = NULL;
    struct batch_rows rows, requeue;
    enum batch_outcome out = BATCH_DB_ERROR;
    int revision, nqueued;

    memset(&rows, 0, sizeof rows);
    memset(&requeue, 0, sizeof requeue);
    if (db_run(db, "BEGIN", 0, NULL, err, errlen) < 0)
        return BATCH_DB_ERROR;
    lock = db_exec(db, batch_lock_sql, 1, lock_params, err, errlen);
    if (!lock)
        goto fail;
    if (PQntuples(lock) != 1 || strcmp(PQgetvalue(lock, 0, 0), "active") != 0) {
        log_event(LOG_INFO, NULL, "campaign left the send set",
                  json_pack("{s:s, s:s}", "campaign_id", c->id, "status",
                            PQntuples(lock) == 1 ? PQgetvalue(lock, 0, 0) : "deleted"));
        out = db_run(db, "COMMIT", 0, NULL, err, errlen) < 0 ? BATCH_DB_ERROR : BATCH_DROP;
        goto done;
    }
    c->version = db_int(lock, 0, 2);
    c->rate = db_int(lock, 0, 4);
    if (PQgetisnull(lock, 0, 1)) {
        c->blocked_version = c->version;
        log_event(LOG_WARN, NULL, "active campaign has no current revision; not sending it",
                  json_pack("{s:s, s:i}", "campaign_id", c->id, "version", c->version));
        out = db_run(db, "COMMIT", 0, NULL, err, errlen) < 0 ? BATCH_DB_ERROR : BATCH_OK;
        goto done;
    }
    revision = db_int(lock, 0, 1);
    if ((c->content_revision != revision || c->content_version != c->version) &&
        batch_load_content(db, c, revision, err, errlen) < 0)
        goto fail;

    /* retried deliveries first, within the same budget */
    if (db_ll(lock, 0, 5) > 0 && !(queued = batch_pick_queued(db, c, n, err, errlen)))
        goto fail;
    nqueued = batch_rows_of(queued);

    if (nqueued < n) {
        snprintf(limit, sizeof limit, "%d", n - nqueued);
        pick_params[0] = PQgetvalue(lock, 0, 3);
        pick_params[1] = cursor;
        pick_params[2] = c->id;
        pick_params[3] = limit;
        for (;;) {
            snprintf(cursor, sizeof cursor, "%lld", c->cursor);
            members = db_exec(db, batch_pick_sql, 4, pick_params, err, errlen);
            if (!members)
                goto fail;
            if (PQntuples(members) > 0 || c->cursor == 0)
                break;
            /* nothing past the cursor: look once more from the start before completing */
            PQclear(members);
            members = NULL;
            c->cursor = 0;
        }
    }
    if (nqueued == 0 && batch_rows_of(members) == 0) {
        /* the counter may lag a writer that bypassed it: ask the ledger itself before completing */
        if (!queued) {
            queued = batch_pick_queued(db, c, n, err, errlen);
            if (!queued)
                goto fail;
            nqueued = batch_rows_of(queued);
        }
        if (nqueued == 0) {
            out = batch_complete(db, c, revision, err, errlen);
            goto done;
        }
    }

    snprintf(rev, sizeof rev, "%d", revision);
    if (nqueued > 0) {
        batch_rows_build(env, c, queued, true, &requeue);
        upd = batch_write(db, batch_update_sql, c, rev, &requeue, err, errlen);
        if (!upd)
            goto fail;
    }
    if (batch_rows_of(members) > 0) {
        batch_rows_build(env, c, members, false, &rows);
        ins = batch_write(db, batch_insert_sql, c, rev, &rows, err, errlen);
        if (!ins)
            goto fail;
    }
    if (sink_wants_content(env->sink) &&
        ((upd && batch_stage(env, c, queued, upd, err, errlen) < 0) ||
         (ins && batch_stage(env, c, members, ins, err, errlen) < 0))) {
        sink_abort(env->sink);
        db_rollback(db);
        out = BATCH_SINK_ERROR;
        goto done;
    }
    if (db_run(db, "COMMIT", 0, NULL, err, errlen) < 0) {
        sink_abort(env->sink);
        goto done;
    }
    if (sink_wants_content(env->sink)) {
        char serr[256];
        bool ok = sink_commit(env->sink, serr, sizeof serr) == 0;
        if (!ok)
            log_event(LOG_ERROR, NULL, "sink write failed", json_pack("{s:s}", "detail", serr));
        health_sink_result(ok);
    }
    if (batch_rows_of(members) > 0)
        c->cursor = db_ll(members, PQntuples(members) - 1, 0);
    if (upd)
        batch_count_sent(env, c, upd, now_ms);
    if (ins)
        batch_count_sent(env, c, ins, now_ms);
    out = BATCH_OK;
    goto done;
fail:
    db_rollback(db);
    out = BATCH_DB_ERROR;
done:
    PQclear(lock);
    PQclear(queued);
    PQclear(members);
    PQclear(upd);
    PQclear(ins);
    batch_rows_free(&rows);
    batch_rows_free(&requeue);
    return out;
}
