#include "segments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "sanitize.h"

const char segment_list_query[] =
    "SELECT s.id, s.name, s.rule, s.size, s.reachable,"
    "       coalesce((extract(epoch FROM s.refreshed_at) * 1000)::bigint, 0),"
    "       (SELECT count(*) FROM campaigns c WHERE c.segment_id = s.id)"
    "  FROM segments s"
    " ORDER BY length(s.id), s.id";

/* Heavier (it reads every membership): run less often than the list. */
const char segment_engagement_query[] =
    "SELECT m.segment_id,"
    "       count(*) FILTER (WHERE c.last_opened_at > now() - interval '30 days'),"
    "       count(*) FILTER (WHERE c.last_clicked_at > now() - interval '30 days')"
    "  FROM segment_members m JOIN contacts c ON c.id = m.contact_id"
    " GROUP BY m.segment_id";

struct segment_list *segment_list_from_result(const PGresult *res, char *err, size_t errsz)
{
    if (PQnfields(res) != 7) {
        snprintf(err, errsz, "segments: expected 7 columns, got %d", PQnfields(res));
        return NULL;
    }
    struct segment_list *l = calloc(1, sizeof *l);
    int n = PQntuples(res);
    if (l && n > 0)
        l->v = calloc((size_t)n, sizeof *l->v);
    if (!l || (n > 0 && !l->v)) {
        free(l);
        snprintf(err, errsz, "segments: out of memory");
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        struct segment *s = &l->v[i];
        s->id = db_text(res, i, 0);
        s->name = db_text(res, i, 1);
        s->rule = db_text(res, i, 2);
        l->n++;
        if (!s->id || !s->name || !s->rule) {
            segment_list_free(&l);
            snprintf(err, errsz, "segments: out of memory");
            return NULL;
        }
        s->size = db_i64(res, i, 3);
        s->reachable = db_i64(res, i, 4);
        s->refreshed_ms = db_i64(res, i, 5);
        s->campaigns = db_i64(res, i, 6);
        s->opened_30d = s->clicked_30d = -1;
    }
    l->fetched_ms = clock_real_ms();
    return l;
}

void segment_list_apply_engagement(struct segment_list *l, const PGresult *res)
{
    for (int r = 0; r < PQntuples(res); r++) {
        const char *id = PQgetvalue(res, r, 0);
        for (size_t i = 0; i < l->n; i++) {
            if (strcmp(l->v[i].id, id) == 0) {
                l->v[i].opened_30d = db_i64(res, r, 1);
                l->v[i].clicked_30d = db_i64(res, r, 2);
                break;
            }
        }
    }
    /* segments without members have no row: nobody engaged */
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].opened_30d < 0) {
            l->v[i].opened_30d = 0;
            l->v[i].clicked_30d = 0;
        }
    }
}

void segment_list_keep_engagement(struct segment_list *l, const struct segment_list *old)
{
    if (!old)
        return;
    for (size_t i = 0; i < l->n; i++) {
        for (size_t j = 0; j < old->n; j++) {
            if (strcmp(l->v[i].id, old->v[j].id) == 0) {
                l->v[i].opened_30d = old->v[j].opened_30d;
                l->v[i].clicked_30d = old->v[j].clicked_30d;
                break;
            }
        }
    }
}

void segment_list_free(struct segment_list **l)
{
    if (!l || !*l)
        return;
    for (size_t i = 0; i < (*l)->n; i++) {
        free((*l)->v[i].id);
        free((*l)->v[i].name);
        free((*l)->v[i].rule);
    }
    free((*l)->v);
    free(*l);
    *l = NULL;
}
