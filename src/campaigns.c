#include "campaigns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "sanitize.h"

const char campaign_list_query[] =
    "SELECT c.id, c.name, c.type, c.status, c.segment_id, s.name,"
    "       coalesce(c.audience, s.reachable),"
    "       coalesce(st.sent, 0), coalesce(st.failed, 0), coalesce(st.bounced, 0),"
    "       coalesce(st.opened, 0), coalesce(st.clicked, 0),"
    "       c.version, c.rate_limit_per_minute,"
    "       (extract(epoch FROM c.updated_at) * 1000)::bigint, coalesce(c.current_revision, 0)"
    "  FROM campaigns c"
    "  JOIN segments s ON s.id = c.segment_id"
    "  LEFT JOIN campaign_stats st ON st.campaign_id = c.id"
    " WHERE $1::text IS NULL OR c.status = $1::text"
    " ORDER BY array_position(ARRAY['active','paused','scheduled','draft','completed','cancelled'],"
    "                         c.status),"
    "          length(c.id), c.id";

enum { COL_ID, COL_NAME, COL_TYPE, COL_STATUS, COL_SEG, COL_SEGNAME, COL_AUD, COL_SENT,
       COL_FAILED, COL_BOUNCED, COL_OPENED, COL_CLICKED, COL_VERSION, COL_RATE, COL_UPDATED,
       COL_REVISION, COL_COUNT };

struct campaign_list *campaign_list_from_result(const PGresult *res, char *err, size_t errsz)
{
    if (PQnfields(res) != COL_COUNT) {
        snprintf(err, errsz, "campaigns: expected %d columns, got %d", COL_COUNT, PQnfields(res));
        return NULL;
    }
    struct campaign_list *list = calloc(1, sizeof *list);
    int n = PQntuples(res);
    if (list && n > 0)
        list->v = calloc((size_t)n, sizeof *list->v);
    if (!list || (n > 0 && !list->v)) {
        free(list);
        snprintf(err, errsz, "campaigns: out of memory");
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        struct campaign *c = &list->v[i];
        c->id = db_text(res, i, COL_ID);
        c->name = db_text(res, i, COL_NAME);
        c->type = db_text(res, i, COL_TYPE);
        c->status = db_text(res, i, COL_STATUS);
        c->segment_id = db_text(res, i, COL_SEG);
        c->segment_name = db_text(res, i, COL_SEGNAME);
        list->n++;
        if (!c->id || !c->name || !c->type || !c->status || !c->segment_id || !c->segment_name) {
            campaign_list_free(&list);
            snprintf(err, errsz, "campaigns: out of memory");
            return NULL;
        }
        c->audience = db_i64(res, i, COL_AUD);
        c->sent = db_i64(res, i, COL_SENT);
        c->failed = db_i64(res, i, COL_FAILED);
        c->bounced = db_i64(res, i, COL_BOUNCED);
        c->opened = db_i64(res, i, COL_OPENED);
        c->clicked = db_i64(res, i, COL_CLICKED);
        c->version = (int)db_i64(res, i, COL_VERSION);
        c->rate_limit = (int)db_i64(res, i, COL_RATE);
        c->updated_ms = db_i64(res, i, COL_UPDATED);
        c->revision = (int)db_i64(res, i, COL_REVISION);
    }
    list->fetched_ms = clock_real_ms();
    list->fetched_mono_ms = clock_mono_ms();
    return list;
}

struct campaign_list *campaign_list_fetch(PGconn *conn, const char *status_filter,
                                          char *err, size_t errsz)
{
    const char *params[1] = { status_filter };
    PGresult *res = PQexecParams(conn, campaign_list_query, 1, NULL, params, NULL, NULL, 0);
    struct campaign_list *list = NULL;
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        list = campaign_list_from_result(res, err, errsz);
    else
        db_error(err, errsz, "reading campaigns", conn, res);
    PQclear(res);
    return list;
}

void campaign_list_free(struct campaign_list **list)
{
    if (!list || !*list)
        return;
    for (size_t i = 0; i < (*list)->n; i++) {
        struct campaign *c = &(*list)->v[i];
        free(c->id);
        free(c->name);
        free(c->type);
        free(c->status);
        free(c->segment_id);
        free(c->segment_name);
    }
    free((*list)->v);
    free(*list);
    *list = NULL;
}

const char *campaign_status_glyph(const char *status, int ascii)
{
    static const struct { const char *status, *utf8, *ascii; } g[] = {
        { "draft", "\xE2\x97\x8B", "o" },       /* ○ */
        { "scheduled", "\xE2\x97\xB7", "@" },   /* ◷ */
        { "active", "\xE2\x96\xB6", ">" },      /* ▶ */
        { "paused", "\xE2\x80\x96", "=" },      /* ‖ */
        { "completed", "\xE2\x9C\x93", "+" },   /* ✓ */
        { "cancelled", "\xE2\x9C\x97", "x" },   /* ✗ */
    };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        if (strcmp(status, g[i].status) == 0)
            return ascii ? g[i].ascii : g[i].utf8;
    return "?";
}
