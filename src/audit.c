#include "audit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"

const char audit_list_query[] =
    "SELECT a.id, (extract(epoch FROM a.created_at) * 1000)::bigint,"
    "       coalesce(a.from_version, 0), coalesce(a.to_version, 0), coalesce(a.revision, 0),"
    "       a.action, coalesce(a.campaign_id, ''), coalesce(a.from_status, ''),"
    "       coalesce(a.to_status, ''), a.db_user, a.application_name,"
    "       coalesce(host(a.client_addr), 'local'), coalesce(a.os_user, ''),"
    "       coalesce(a.ssh_client, ''), coalesce(a.tty, ''), a.request_id::text,"
    "       coalesce(a.note, ''), coalesce(a.details::text, '')"
    "  FROM audit_log a"
    " WHERE ($1::text IS NULL OR a.campaign_id = $1)"
    "   AND ($2::text IS NULL OR a.os_user = $2 OR a.db_user = $2)"
    "   AND ($3::text IS NULL OR a.action = $3)"
    " ORDER BY a.created_at DESC, a.id DESC"
    " LIMIT $4::int";

#define NCOLS 18

void audit_list_free(struct audit_list **lp)
{
    struct audit_list *l = *lp;
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        struct audit_entry *e = &l->v[i];
        char **s[] = { &e->action, &e->campaign_id, &e->from_status, &e->to_status, &e->db_user,
                       &e->app, &e->client_addr, &e->os_user, &e->ssh_client, &e->tty,
                       &e->request_id, &e->note, &e->details };
        for (size_t k = 0; k < sizeof s / sizeof s[0]; k++)
            free(*s[k]);
    }
    free(l->v);
    free(l);
    *lp = NULL;
}

struct audit_list *audit_list_from_result(const PGresult *res, char *err, size_t errsz)
{
    if (PQnfields(res) != NCOLS) {
        snprintf(err, errsz, "audit log: unexpected columns");
        return NULL;
    }
    int n = PQntuples(res);
    struct audit_list *l = calloc(1, sizeof *l);
    if (l)
        l->v = calloc((size_t)n + 1, sizeof *l->v);
    if (!l || !l->v) {
        free(l);
        snprintf(err, errsz, "audit log: out of memory");
        return NULL;
    }
    l->fetched_ms = clock_real_ms();
    for (int i = 0; i < n; i++) {
        struct audit_entry *e = &l->v[l->n++];
        e->id = db_i64(res, i, 0);
        e->at_ms = db_i64(res, i, 1);
        e->from_version = (int)db_i64(res, i, 2);
        e->to_version = (int)db_i64(res, i, 3);
        e->revision = (int)db_i64(res, i, 4);
        char **s[] = { &e->action, &e->campaign_id, &e->from_status, &e->to_status, &e->db_user,
                       &e->app, &e->client_addr, &e->os_user, &e->ssh_client, &e->tty,
                       &e->request_id, &e->note, &e->details };
        bool oom = false;
        for (size_t k = 0; k < sizeof s / sizeof s[0]; k++) {
            *s[k] = db_text(res, i, 5 + (int)k);
            oom |= *s[k] == NULL;
        }
        if (oom) {
            audit_list_free(&l);
            snprintf(err, errsz, "audit log: out of memory");
            return NULL;
        }
    }
    return l;
}

struct audit_list *audit_list_fetch(PGconn *conn, const struct audit_filter *f, int timeout_ms,
                                    int cancel_fd, int *lost, char *err, size_t errsz)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%d", f && f->limit > 0 ? f->limit : 500);
    const char *p[4] = { f ? f->campaign_id : NULL, f ? f->user : NULL, f ? f->action : NULL, limit };
    if (lost)
        *lost = 0;
    PGresult *res = db_query(conn, audit_list_query, 4, p, timeout_ms, cancel_fd, err, errsz);
    if (!res) {
        if (lost)
            *lost = 1;
        return NULL;
    }
    struct audit_list *l = NULL;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        db_error(err, errsz, "reading the audit log", conn, res);
    else
        l = audit_list_from_result(res, err, errsz);
    PQclear(res);
    return l;
}
