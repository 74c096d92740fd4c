#include "campaign_detail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "sanitize.h"

const char campaign_revisions_query[] =
    "SELECT r.revision, coalesce(r.restored_from, 0), r.subject, r.author, coalesce(r.note, ''),"
    "       coalesce((SELECT string_agg(v.variant || ' ' || v.split_percent || '%', ' / '"
    "                                   ORDER BY v.variant)"
    "                   FROM campaign_variants v"
    "                  WHERE v.campaign_id = r.campaign_id AND v.revision = r.revision), ''),"
    "       (extract(epoch FROM r.created_at) * 1000)::bigint,"
    "       (SELECT count(*) FROM deliveries d"
    "         WHERE d.campaign_id = r.campaign_id AND d.revision = r.revision"
    "           AND d.status IN ('sent', 'bounced'))"
    "  FROM campaign_revisions r"
    " WHERE r.campaign_id = $1"
    " ORDER BY r.revision DESC LIMIT 20";

const char campaign_audit_query[] =
    "SELECT (extract(epoch FROM a.created_at) * 1000)::bigint,"
    "       coalesce(a.from_version, 0), coalesce(a.to_version, 0), a.action,"
    "       coalesce(a.from_status, ''), coalesce(a.to_status, ''), a.db_user,"
    "       coalesce(a.os_user, ''), coalesce(a.note, '')"
    "  FROM audit_log a"
    " WHERE a.campaign_id = $1"
    " ORDER BY a.created_at DESC, a.id DESC LIMIT 20";

const char campaign_superseded_query[] =
    "SELECT count(*) OVER (), email, revision FROM campaign_superseded_recipients($1) LIMIT 8";

struct campaign_detail *campaign_detail_from_results(const char *id, const PGresult *revs,
                                                     const PGresult *audit, const PGresult *sup,
                                                     char *err, size_t errsz)
{
    if (PQnfields(revs) != 8 || PQnfields(audit) != 9) {
        snprintf(err, errsz, "campaign details: unexpected columns");
        return NULL;
    }
    struct campaign_detail *d = calloc(1, sizeof *d);
    int nr = PQntuples(revs), na = PQntuples(audit);
    if (d) {
        d->id = strdup(id);
        d->rev = calloc((size_t)nr + 1, sizeof *d->rev);
        d->audit = calloc((size_t)na + 1, sizeof *d->audit);
    }
    if (!d || !d->id || !d->rev || !d->audit) {
        campaign_detail_free(&d);
        snprintf(err, errsz, "campaign details: out of memory");
        return NULL;
    }
    for (int i = 0; i < nr; i++) {
        struct revision_row *v = &d->rev[d->nrev++];
        v->revision = (int)db_i64(revs, i, 0);
        v->restored_from = (int)db_i64(revs, i, 1);
        v->subject = db_text(revs, i, 2);
        v->author = db_text(revs, i, 3);
        v->note = db_text(revs, i, 4);
        v->variants = db_text(revs, i, 5);
        v->created_ms = db_i64(revs, i, 6);
        v->delivered = db_i64(revs, i, 7);
    }
    for (int i = 0; i < na; i++) {
        struct audit_row *a = &d->audit[d->naudit++];
        a->at_ms = db_i64(audit, i, 0);
        a->from_version = (int)db_i64(audit, i, 1);
        a->to_version = (int)db_i64(audit, i, 2);
        a->action = db_text(audit, i, 3);
        a->from_status = db_text(audit, i, 4);
        a->to_status = db_text(audit, i, 5);
        a->db_user = db_text(audit, i, 6);
        a->os_user = db_text(audit, i, 7);
        a->note = db_text(audit, i, 8);
    }
    for (int i = 0; sup && i < PQntuples(sup) && d->nsup < DETAIL_RECIPIENTS; i++) {
        d->superseded = db_i64(sup, i, 0);
        d->sup_email[d->nsup] = db_text(sup, i, 1);
        d->sup_rev[d->nsup] = (int)db_i64(sup, i, 2);
        if (d->sup_email[d->nsup])
            d->nsup++;
    }
    d->fetched_ms = clock_real_ms();
    return d;
}

void campaign_detail_free(struct campaign_detail **dp)
{
    struct campaign_detail *d = dp ? *dp : NULL;
    if (!d)
        return;
    for (size_t i = 0; i < d->nrev; i++) {
        free(d->rev[i].subject);
        free(d->rev[i].author);
        free(d->rev[i].note);
        free(d->rev[i].variants);
    }
    for (size_t i = 0; i < d->naudit; i++) {
        free(d->audit[i].action);
        free(d->audit[i].from_status);
        free(d->audit[i].to_status);
        free(d->audit[i].db_user);
        free(d->audit[i].os_user);
        free(d->audit[i].note);
    }
    for (size_t i = 0; i < d->nsup; i++)
        free(d->sup_email[i]);
    free(d->rev);
    free(d->audit);
    free(d->id);
    free(d);
    *dp = NULL;
}
