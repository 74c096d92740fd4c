/* Segments in the database: preview, create, refresh, show. */
#include "segments_db.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "clock.h"
#include "db.h"
#include "sanitize.h"

#define MAX_SQL_PARAMS (SEGRULE_MAX_PARAMS + 8)

const char *segdb_status_name(enum segdb_status s)
{
    static const char *const names[] = {
        [SEGDB_OK] = "ok", [SEGDB_BAD_RULE] = "bad_rule", [SEGDB_BAD_NAME] = "bad_name",
        [SEGDB_TIMEOUT] = "timeout", [SEGDB_LOCKED] = "locked", [SEGDB_NOT_FOUND] = "not_found",
        [SEGDB_DENIED] = "denied", [SEGDB_ERROR] = "error", [SEGDB_UNKNOWN] = "unknown",
    };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "error";
}

static void result_init(struct segdb_result *out)
{
    memset(out, 0, sizeof *out);
    out->size = out->reachable = -1;
}

static int request_id(char out[37])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

static bool denied(const char *state)
{
    /* insufficient_privilege; read_only_sql_transaction */
    return strcmp(state, "42501") == 0 || strcmp(state, "25006") == 0;
}

/* Runs one statement. Returns the result when it succeeded; otherwise
 * NULL, with out->status and message set, and *lost when the connection
 * must be dropped. */
static PGresult *run(PGconn *conn, const char *what, const char *sql, int n, const char *const *p,
                     int timeout_ms, int cancel_fd, struct segdb_result *out, bool *lost)
{
    char err[512];
    PGresult *r = db_query(conn, sql, n, p, timeout_ms, cancel_fd, err, sizeof err);
    if (!r) {
        *lost = true;
        out->status = SEGDB_ERROR;
        snprintf(out->message, sizeof out->message, "%s: %s", what, err);
        return NULL;
    }
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    const char *state = db_sqlstate(r);
    out->status = denied(state) ? SEGDB_DENIED : strcmp(state, "57014") == 0 ? SEGDB_TIMEOUT : SEGDB_ERROR;
    db_error(out->message, sizeof out->message, what, conn, r);
    PQclear(r);
    return NULL;
}

/* Runs a statement whose result is not needed. Returns 0 or -1 (as run). */
static int run_void(PGconn *conn, const char *what, const char *sql, int n, const char *const *p,
                    int timeout_ms, int cancel_fd, struct segdb_result *out, bool *lost)
{
    PGresult *r = run(conn, what, sql, n, p, timeout_ms, cancel_fd, out, lost);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

static void rollback(PGconn *conn, int timeout_ms, bool *lost)
{
    if (*lost)
        return;
    char err[256];
    PGresult *r = db_query(conn, "ROLLBACK", 0, NULL, timeout_ms, -1, err, sizeof err);
    if (!r)
        *lost = true;
    PQclear(r);
}

static void bad_rule(struct segdb_result *out, const struct segrule_error *e)
{
    out->status = SEGDB_BAD_RULE;
    out->rule_error = *e;
    char where[300];
    segrule_error_format(e, where, sizeof where);
    snprintf(out->message, sizeof out->message, "%s", where);
}

/* The SQL's parameters: the caller's (before), then the rule's. */
static int params_of(const struct segrule_sql *q, const char *const *before, int nbefore,
                     const char **p)
{
    int n = 0;
    for (int i = 0; i < nbefore; i++)
        p[n++] = before[i];
    for (int i = 0; i < q->nparams && n < MAX_SQL_PARAMS; i++)
        p[n++] = q->params[i];
    return n;
}

/* head, the compiled condition, tail: one malloc'd statement. */
static char *sql_join(const char *head, const char *where, const char *tail)
{
    size_t n = strlen(head) + strlen(where) + strlen(tail) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s", head, where, tail);
    return s;
}

int segdb_preview(PGconn *conn, const char *rule, int statement_timeout_ms, int timeout_ms,
                  int cancel_fd, struct segdb_result *out)
{
    result_init(out);
    struct segrule_sql q;
    struct segrule_error e;
    if (segrule_to_sql(rule, 1, &q, &e) != 0) {
        bad_rule(out, &e);
        return 0;
    }
    if (statement_timeout_ms <= 0)
        statement_timeout_ms = SEGDB_PREVIEW_TIMEOUT_MS;
    char *sql = sql_join("SELECT count(*), count(*) FILTER (WHERE c.status = 'active')"
                         "  FROM contacts c WHERE ", q.where, "");
    if (!sql) {
        segrule_sql_free(&q);
        out->status = SEGDB_ERROR;
        snprintf(out->message, sizeof out->message, "out of memory");
        return 0;
    }
    bool lost = false;
    char tmo[24];
    snprintf(tmo, sizeof tmo, "%d", statement_timeout_ms);
    const char *p[MAX_SQL_PARAMS];
    int n = params_of(&q, NULL, 0, p);
    const char *const one[1] = { tmo };
    int64_t t0 = clock_mono_ms();
    if (run_void(conn, "preview", "BEGIN READ ONLY", 0, NULL, timeout_ms, cancel_fd, out, &lost) == 0) {
        if (run_void(conn, "preview", "SELECT set_config('statement_timeout', $1, true)", 1, one,
                     timeout_ms, cancel_fd, out, &lost) == 0) {
            PGresult *r = run(conn, "counting the rule's contacts", sql, n, p, timeout_ms, cancel_fd,
                              out, &lost);
            if (r) {
                out->size = db_i64(r, 0, 0);
                out->reachable = db_i64(r, 0, 1);
                PQclear(r);
                out->elapsed_ms = clock_mono_ms() - t0;
                out->status = SEGDB_OK;
                snprintf(out->message, sizeof out->message, "%lld contacts, %lld of them reachable",
                         out->size, out->reachable);
            }
        }
        rollback(conn, timeout_ms, &lost);
    }
    if (out->status == SEGDB_TIMEOUT)
        snprintf(out->message, sizeof out->message,
                 "the rule took longer than %d ms to count, and was stopped: narrow it (fewer "
                 "'contains' or 'or', more '=' on columns) or try again when the database is quieter",
                 statement_timeout_ms);
    free(sql);
    segrule_sql_free(&q);
    return lost ? -1 : 0;
}

/* The number of characters of valid UTF-8, or -1 if it is not. */
static long utf8_chars(const char *s)
{
    long n = 0;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        long cp;
        int k = san_decode((const unsigned char *)s + i, len - i, &cp);
        if (cp < 0)
            return -1;
        i += (size_t)k;
        n++;
    }
    return n;
}

static const char create_sql[] =
    "WITH s AS (INSERT INTO segments (name, rule) VALUES ($1, $2) RETURNING id),"
    "     a AS (INSERT INTO audit_log (request_id, action, segment_id, os_user, ssh_client, tty,"
    "                                  details)"
    "           SELECT $3::uuid, 'segment_create', s.id, nullif($4, ''), nullif($5, ''),"
    "                  nullif($6, ''), jsonb_build_object('name', $1::text, 'rule', $2::text)"
    "             FROM s RETURNING 1)"
    " SELECT s.id FROM s, a";

int segdb_create(PGconn *conn, const char *name, const char *rule, const struct ctl_identity *who,
                 int timeout_ms, int cancel_fd, struct segdb_result *out)
{
    result_init(out);
    long chars = name ? utf8_chars(name) : 0;
    if (chars < 1 || chars > 200) {
        out->status = SEGDB_BAD_NAME;
        snprintf(out->message, sizeof out->message, "%s",
                 chars < 0 ? "the name is not valid UTF-8"
                           : "a segment's name takes 1 to 200 characters");
        return 0;
    }
    struct segrule_sql q;
    struct segrule_error e;
    if (segrule_to_sql(rule, 1, &q, &e) != 0) {
        bad_rule(out, &e);
        return 0;
    }
    segrule_sql_free(&q);
    if (request_id(out->request_id) != 0) {
        out->status = SEGDB_ERROR;
        snprintf(out->message, sizeof out->message, "no randomness for a request id");
        return 0;
    }
    const char *p[6] = { name, rule, out->request_id, who ? who->os_user : "",
                         who ? who->ssh_client : "", who ? who->tty : "" };
    bool lost = false;
    PGresult *r = run(conn, "creating the segment", create_sql, 6, p, timeout_ms, cancel_fd, out, &lost);
    if (!r) {
        if (lost) {
            out->status = SEGDB_UNKNOWN;
            snprintf(out->message, sizeof out->message,
                     "the connection failed while creating the segment: whether it was created is "
                     "unknown (request %s)", out->request_id);
        }
        return lost ? -1 : 0;
    }
    snprintf(out->segment_id, sizeof out->segment_id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    out->status = SEGDB_OK;
    snprintf(out->message, sizeof out->message, "Segment created: %s", out->segment_id);
    return 0;
}

void segdb_holder_describe(const char *segment_id, const struct segdb_holder *h, char *buf, size_t n)
{
    if (!h->pid) {
        snprintf(buf, n, "%s is being refreshed by another session (it may just have finished: "
                         "try again)", segment_id);
        return;
    }
    char since[16] = "?";
    if (h->since_ms > 0) {
        time_t t = (time_t)(h->since_ms / 1000);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(since, sizeof since, "%H:%M:%S", &tm);
    }
    snprintf(buf, n, "%s is being refreshed by %s@%s (%s, since %s)", segment_id,
             h->user[0] ? h->user : "?", h->addr[0] ? h->addr : "local", h->app[0] ? h->app : "-",
             since);
}

static const char holder_sql[] =
    "SELECT coalesce(a.usename::text, ''), coalesce(a.application_name, ''),"
    "       coalesce(host(a.client_addr), 'local'),"
    "       coalesce((extract(epoch FROM coalesce(a.xact_start, a.backend_start)) * 1000)::bigint, 0),"
    "       coalesce((extract(epoch FROM a.backend_start) * 1000)::bigint, 0), l.pid"
    "  FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
    "   AND l.classid = hashtext('marketing.segment_refresh')::oid AND l.objid = hashtext($1)::oid"
    "   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " LIMIT 1";

/* Who holds the refresh lock of id, into out->holder. */
static void find_holder(PGconn *conn, const char *id, int timeout_ms, int cancel_fd,
                        struct segdb_result *out, bool *lost)
{
    const char *p[1] = { id };
    struct segdb_result tmp;
    result_init(&tmp);
    PGresult *r = run(conn, "looking for the refresh", holder_sql, 1, p, timeout_ms, cancel_fd, &tmp, lost);
    if (r && PQntuples(r) == 1) {
        struct segdb_holder *h = &out->holder;
        snprintf(h->user, sizeof h->user, "%s", PQgetvalue(r, 0, 0));
        snprintf(h->app, sizeof h->app, "%s", PQgetvalue(r, 0, 1));
        snprintf(h->addr, sizeof h->addr, "%s", PQgetvalue(r, 0, 2));
        h->since_ms = db_i64(r, 0, 3);
        h->backend_start_ms = db_i64(r, 0, 4);
        h->pid = (int)db_i64(r, 0, 5);
    }
    PQclear(r);
}

static const char delete_head[] =
    "DELETE FROM segment_members m WHERE m.segment_id = $1"
    "   AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = m.contact_id AND ";
static const char insert_head[] =
    "INSERT INTO segment_members (segment_id, contact_id)"
    " SELECT $1, c.id FROM contacts c WHERE ";
static const char update_sql[] =
    "UPDATE segments s SET size = x.n, reachable = x.r, refreshed_at = now(), updated_at = now()"
    "  FROM (SELECT count(*) AS n, count(*) FILTER (WHERE k.status = 'active') AS r"
    "          FROM segment_members m JOIN contacts k ON k.id = m.contact_id"
    "         WHERE m.segment_id = $1) AS x"
    " WHERE s.id = $1 RETURNING s.size, s.reachable";
static const char audit_refresh_sql[] =
    "INSERT INTO audit_log (request_id, action, segment_id, os_user, ssh_client, tty, details)"
    " VALUES ($2::uuid, 'segment_refresh', $1, nullif($3, ''), nullif($4, ''), nullif($5, ''),"
    "         jsonb_build_object('size', $6::bigint, 'reachable', $7::bigint, 'added', $8::bigint,"
    "                            'removed', $9::bigint))";

/* The body of a refresh, inside its transaction. Returns 0 when it may commit. */
static int refresh_body(PGconn *conn, const char *id, const struct ctl_identity *who, int timeout_ms,
                        int cancel_fd, struct segdb_result *out, bool *lost)
{
    const char *p1[1] = { id };
    char tmo[24];
    snprintf(tmo, sizeof tmo, "%d", timeout_ms);
    const char *pt[1] = { tmo };
    /* the server gives up when the client does */
    if (run_void(conn, "refresh", "SELECT set_config('statement_timeout', $1, true)", 1, pt,
                 timeout_ms, cancel_fd, out, lost) != 0)
        return -1;
    PGresult *r = run(conn, "refresh", "SELECT pg_try_advisory_xact_lock(" SEGDB_LOCK_KEY ")", 1, p1,
                      timeout_ms, cancel_fd, out, lost);
    if (!r)
        return -1;
    bool got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!got) {
        find_holder(conn, id, timeout_ms, cancel_fd, out, lost);
        out->status = SEGDB_LOCKED;
        segdb_holder_describe(id, &out->holder, out->message, sizeof out->message);
        return -1;
    }
    r = run(conn, "reading the segment", "SELECT rule FROM segments WHERE id = $1 FOR UPDATE", 1, p1,
            timeout_ms, cancel_fd, out, lost);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        out->status = SEGDB_NOT_FOUND;
        snprintf(out->message, sizeof out->message, "No segment %.64s", id);
        return -1;
    }
    struct segrule_sql q;
    struct segrule_error e;
    int rc = segrule_to_sql(PQgetvalue(r, 0, 0), 2, &q, &e);
    PQclear(r);
    if (rc != 0) {
        bad_rule(out, &e);
        char where[300];
        segrule_error_format(&e, where, sizeof where);
        snprintf(out->message, sizeof out->message, "the stored rule of %.64s does not compile: %s", id, where);
        return -1;
    }
    const char *p[MAX_SQL_PARAMS];
    int n = params_of(&q, p1, 1, p);
    char *del = sql_join(delete_head, q.where, ")");
    char *ins = sql_join(insert_head, q.where, " ON CONFLICT DO NOTHING");
    rc = -1;
    if (!del || !ins) {
        out->status = SEGDB_ERROR;
        snprintf(out->message, sizeof out->message, "out of memory");
    } else if ((r = run(conn, "removing members", del, n, p, timeout_ms, cancel_fd, out, lost))) {
        out->removed = strtoll(PQcmdTuples(r), NULL, 10);
        PQclear(r);
        if ((r = run(conn, "adding members", ins, n, p, timeout_ms, cancel_fd, out, lost))) {
            out->added = strtoll(PQcmdTuples(r), NULL, 10);
            PQclear(r);
            rc = 0;
        }
    }
    free(del);
    free(ins);
    segrule_sql_free(&q);
    if (rc != 0)
        return -1;
    r = run(conn, "counting members", update_sql, 1, p1, timeout_ms, cancel_fd, out, lost);
    if (!r)
        return -1;
    out->size = db_i64(r, 0, 0);
    out->reachable = db_i64(r, 0, 1);
    PQclear(r);
    char size[24], reach[24], added[24], removed[24];
    snprintf(size, sizeof size, "%lld", out->size);
    snprintf(reach, sizeof reach, "%lld", out->reachable);
    snprintf(added, sizeof added, "%lld", out->added);
    snprintf(removed, sizeof removed, "%lld", out->removed);
    const char *pa[9] = { id, out->request_id, who ? who->os_user : "", who ? who->ssh_client : "",
                          who ? who->tty : "", size, reach, added, removed };
    return run_void(conn, "writing the audit row", audit_refresh_sql, 9, pa, timeout_ms, cancel_fd,
                    out, lost);
}

int segdb_refresh(PGconn *conn, const char *segment_id, const struct ctl_identity *who,
                  int timeout_ms, int cancel_fd, struct segdb_result *out)
{
    result_init(out);
    snprintf(out->segment_id, sizeof out->segment_id, "%s", segment_id);
    if (request_id(out->request_id) != 0) {
        out->status = SEGDB_ERROR;
        snprintf(out->message, sizeof out->message, "no randomness for a request id");
        return 0;
    }
    bool lost = false;
    if (run_void(conn, "refresh", "BEGIN", 0, NULL, timeout_ms, cancel_fd, out, &lost) != 0)
        return lost ? -1 : 0;
    if (refresh_body(conn, segment_id, who, timeout_ms, cancel_fd, out, &lost) != 0) {
        rollback(conn, timeout_ms, &lost);
        if (out->status == SEGDB_TIMEOUT)
            snprintf(out->message, sizeof out->message,
                     "refreshing %.64s took longer than %d ms and was stopped; nothing changed",
                     segment_id, timeout_ms);
        return lost ? -1 : 0;
    }
    if (run_void(conn, "refresh", "COMMIT", 0, NULL, timeout_ms, cancel_fd, out, &lost) != 0) {
        if (lost) {
            out->status = SEGDB_UNKNOWN;
            snprintf(out->message, sizeof out->message,
                     "the connection failed while committing the refresh of %.64s: whether it "
                     "was applied is unknown (request %s)", segment_id, out->request_id);
        }
        return lost ? -1 : 0;
    }
    out->status = SEGDB_OK;
    snprintf(out->message, sizeof out->message,
             "Segment refreshed: %.64s, %lld members (%lld reachable), %lld added, %lld removed",
             segment_id, out->size, out->reachable, out->added, out->removed);
    return 0;
}

int segdb_lookup_request(PGconn *conn, const char *request_id, char *segment_id, size_t idsz,
                         int timeout_ms, char *err, size_t errsz)
{
    const char *p[1] = { request_id };
    PGresult *r = db_query(conn, "SELECT coalesce(segment_id, '') FROM audit_log WHERE request_id = $1::uuid",
                           1, p, timeout_ms, -1, err, errsz);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        if (r)
            db_error(err, errsz, "looking the request up", conn, r);
        PQclear(r);
        return -1;
    }
    int found = PQntuples(r) > 0;
    if (found)
        snprintf(segment_id, idsz, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return found;
}

static const char show_segment_sql[] =
    "SELECT s.id, s.name, s.rule, s.size, s.reachable,"
    "       coalesce((extract(epoch FROM s.refreshed_at) * 1000)::bigint, 0),"
    "       (extract(epoch FROM s.created_at) * 1000)::bigint,"
    "       (SELECT audit_who(a) FROM audit_log a WHERE a.segment_id = s.id"
    "           AND a.action = 'segment_refresh' ORDER BY a.id DESC LIMIT 1)"
    "  FROM segments s WHERE s.id = $1";
static const char show_campaigns_sql[] =
    "SELECT c.id, c.name, c.status, coalesce(st.sent, 0), coalesce(st.opened, 0),"
    "       coalesce(st.clicked, 0), coalesce((extract(epoch FROM c.launched_at) * 1000)::bigint, 0)"
    "  FROM campaigns c LEFT JOIN campaign_stats st ON st.campaign_id = c.id"
    " WHERE c.segment_id = $1"
    " ORDER BY c.launched_at DESC NULLS LAST, c.created_at DESC, c.id";

static double rate(long long part, long long whole) { return whole > 0 ? (double)part / (double)whole : -1; }

void segdb_detail_free(struct segdb_detail **d)
{
    if (!d || !*d)
        return;
    for (size_t i = 0; i < (*d)->ncampaigns; i++) {
        free((*d)->campaigns[i].id);
        free((*d)->campaigns[i].name);
        free((*d)->campaigns[i].status);
    }
    free((*d)->campaigns);
    free((*d)->id);
    free((*d)->name);
    free((*d)->rule);
    free((*d)->refreshed_by);
    free(*d);
    *d = NULL;
}

struct segdb_detail *segdb_show(PGconn *conn, const char *segment_id, int timeout_ms, int cancel_fd,
                                struct segdb_result *out, int *lost)
{
    result_init(out);
    bool gone = false;
    const char *p[1] = { segment_id };
    struct segdb_detail *d = NULL;
    PGresult *s = run(conn, "reading the segment", show_segment_sql, 1, p, timeout_ms, cancel_fd, out, &gone);
    PGresult *c = s ? run(conn, "reading its campaigns", show_campaigns_sql, 1, p, timeout_ms,
                          cancel_fd, out, &gone) : NULL;
    if (lost)
        *lost = gone;
    if (!s || !c)
        goto done;
    if (PQntuples(s) != 1) {
        out->status = SEGDB_NOT_FOUND;
        snprintf(out->message, sizeof out->message, "No segment %.64s", segment_id);
        goto done;
    }
    d = calloc(1, sizeof *d);
    int n = PQntuples(c);
    if (d && n > 0)
        d->campaigns = calloc((size_t)n, sizeof *d->campaigns);
    if (!d || (n > 0 && !d->campaigns))
        goto oom;
    d->id = db_text(s, 0, 0);
    d->name = db_text(s, 0, 1);
    d->rule = db_text(s, 0, 2);
    if (!d->id || !d->name || !d->rule)
        goto oom;
    d->size = db_i64(s, 0, 3);
    d->reachable = db_i64(s, 0, 4);
    d->refreshed_ms = db_i64(s, 0, 5);
    d->created_ms = db_i64(s, 0, 6);
    if (!PQgetisnull(s, 0, 7) && !(d->refreshed_by = db_text(s, 0, 7)))
        goto oom;
    for (int i = 0; i < n; i++) {
        struct segdb_campaign *k = &d->campaigns[i];
        d->ncampaigns++;
        k->id = db_text(c, i, 0);
        k->name = db_text(c, i, 1);
        k->status = db_text(c, i, 2);
        if (!k->id || !k->name || !k->status)
            goto oom;
        k->sent = db_i64(c, i, 3);
        k->opened = db_i64(c, i, 4);
        k->clicked = db_i64(c, i, 5);
        k->launched_ms = db_i64(c, i, 6);
        k->open_rate = rate(k->opened, k->sent);
        k->click_rate = rate(k->clicked, k->sent);
        d->sent += k->sent;
        d->opened += k->opened;
        d->clicked += k->clicked;
    }
    d->open_rate = rate(d->opened, d->sent);
    d->click_rate = rate(d->clicked, d->sent);
    out->status = SEGDB_OK;
    goto done;
oom:
    segdb_detail_free(&d);
    out->status = SEGDB_ERROR;
    snprintf(out->message, sizeof out->message, "out of memory");
done:
    PQclear(s);
    PQclear(c);
    return d;
}
