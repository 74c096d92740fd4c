#include "preflight.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "format.h"

#define MAX_KEYS 16

void preflight_add(struct preflight *pf, enum pf_level level, const char *fmt, ...)
{
    if (pf->n >= PF_MAX_CHECKS)
        return;
    struct pf_check *c = &pf->checks[pf->n++];
    c->level = level;
    va_list ap;
    va_start(ap, fmt);
    /* the analyzer loses va_start on this path; it is right above */
    vsnprintf(c->text, sizeof c->text, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    if (level == PF_FAIL)
        pf->blocked = true;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

int preflight_placeholders(const char *tmpl, char keys[][64], size_t max, size_t have,
                           char *err, size_t errsz)
{
    const char *p = tmpl;
    size_t n = have;
    while (p && (p = strstr(p, "{{")) != NULL) {
        const char *close = strstr(p + 2, "}}");
        if (!close) {
            snprintf(err, errsz, "a placeholder is not closed: \"%.20s\"", p);
            return -1;
        }
        const char *k = p + 2, *e = close;
        while (k < e && (*k == ' ' || *k == '\t'))
            k++;
        while (e > k && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        bool ok = e > k && e - k < 64;
        for (const char *q = k; ok && q < e; q++)
            ok = name_char(*q);
        if (!ok) {
            snprintf(err, errsz, "{{%.*s}} is not a placeholder name (letters, digits, _ . -)",
                     (int)(close - p - 2 > 40 ? 40 : close - p - 2), p + 2);
            return -1;
        }
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(e - k), k);
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = strcmp(keys[i], key) == 0;
        if (!seen && n < max)
            snprintf(keys[n++], 64, "%s", key);
        p = close + 2;
    }
    return (int)n;
}

static const char campaign_sql[] =
    "SELECT c.name, c.status, c.version, coalesce(c.current_revision, 0), c.rate_limit_per_minute,"
    "       coalesce(to_char(c.send_at, 'YYYY-MM-DD HH24:MI TZ'), ''), coalesce(c.send_at > now(), false),"
    "       c.segment_id, s.name, r.subject, r.body"
    "  FROM campaigns c JOIN segments s ON s.id = c.segment_id"
    "  LEFT JOIN campaign_revisions r ON r.campaign_id = c.id AND r.revision = c.current_revision"
    " WHERE c.id = $1";

static const char audience_sql[] =
    "SELECT count(*), count(*) FILTER (WHERE k.status = 'active'),"
    "       count(*) FILTER (WHERE k.status = 'unsubscribed'),"
    "       count(*) FILTER (WHERE k.status = 'bounced'),"
    "       count(*) FILTER (WHERE k.status = 'blocklisted')"
    "  FROM segment_members m JOIN contacts k ON k.id = m.contact_id"
    " WHERE m.segment_id = $1";

static const char variants_sql[] =
    "SELECT variant, split_percent, subject, body FROM campaign_variants"
    " WHERE campaign_id = $1 AND revision = $2::int ORDER BY variant";

/* For each placeholder, the reachable members without a value for it. */
static const char missing_sql[] =
    "SELECT key, count(*) FILTER (WHERE NOT (k.attributes ? key))"
    "  FROM unnest($2::text[]) AS key"
    " CROSS JOIN segment_members m JOIN contacts k ON k.id = m.contact_id"
    " WHERE m.segment_id = $1 AND k.status = 'active'"
    " GROUP BY key ORDER BY key";

/* Runs one read; 0, 1 (failed: err), -1 (connection: err). */
static int run(PGconn *conn, const char *sql, int np, const char *const *p, int timeout_ms,
               int cancel_fd, const char *what, PGresult **out, char *err, size_t errsz)
{
    *out = db_query(conn, sql, np, p, timeout_ms, cancel_fd, err, errsz);
    if (!*out)
        return -1;
    if (PQresultStatus(*out) != PGRES_TUPLES_OK) {
        db_error(err, errsz, what, conn, *out);
        PQclear(*out);
        *out = NULL;
        return 1;
    }
    return 0;
}

static void copy(char *dst, size_t n, const PGresult *r, int row, int col)
{
    snprintf(dst, n, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

static void check_audience(struct preflight *pf)
{
    char reach[16], all[16];
    fmt_count(reach, sizeof reach, pf->reachable);
    fmt_count(all, sizeof all, pf->members);
    if (pf->reachable == 0) {
        preflight_add(pf, PF_FAIL, "Audience: nobody reachable in %s (%s members)", pf->segment_id, all);
        return;
    }
    preflight_add(pf, PF_OK,
                  "Audience: %lld reachable of %lld in %s (suppressed: %lld unsubscribed, "
                  "%lld bounced, %lld blocklisted)",
                  pf->reachable, pf->members, pf->segment_id, pf->unsubscribed, pf->bounced,
                  pf->blocklisted);
}

static void check_rate(struct preflight *pf)
{
    if (pf->rate_limit <= 0 || pf->reachable <= 0)
        return;
    long long minutes = (pf->reachable + pf->rate_limit - 1) / pf->rate_limit;
    char eta[16];
    fmt_age(eta, sizeof eta, minutes * 60000LL);
    preflight_add(pf, minutes > 24 * 60 ? PF_WARN : PF_OK,
                  "Rate limit %d/min: sending to %lld takes about %s%s", pf->rate_limit,
                  pf->reachable, eta, minutes > 24 * 60 ? " (more than a day)" : "");
}

static void check_split(struct preflight *pf, const PGresult *v)
{
    int n = PQntuples(v);
    if (n == 0)
        return;
    int sum = 0, zero = 0;
    char text[120] = "";
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        int pct = (int)db_i64(v, i, 1);
        sum += pct;
        zero += pct == 0;
        used += (size_t)snprintf(text + used, used < sizeof text ? sizeof text - used : 0, "%s%s %d%%",
                                 i ? ", " : "", PQgetvalue(v, i, 0), pct);
        if (used >= sizeof text)
            used = sizeof text - 1;
    }
    if (n < 2 || n > 4)
        preflight_add(pf, PF_FAIL, "A/B split: %d variants (%s); a test needs 2 to 4", n, text);
    else if (sum != 100)
        preflight_add(pf, PF_FAIL, "A/B split: %s adds up to %d%%, not 100%%", text, sum);
    else if (zero)
        preflight_add(pf, PF_FAIL, "A/B split: %s gives a variant nothing", text);
    else
        preflight_add(pf, PF_OK, "A/B split: %s", text);
}

int preflight_run(PGconn *conn, const char *id, int timeout_ms, int cancel_fd,
                  struct preflight *pf, char *err, size_t errsz)
{
    memset(pf, 0, sizeof *pf);
    snprintf(pf->id, sizeof pf->id, "%s", id);
    const char *p1[1] = { id };
    PGresult *c;
    int rc = run(conn, campaign_sql, 1, p1, timeout_ms, cancel_fd, "reading the campaign", &c, err,
                 errsz);
    if (rc != 0)
        return rc;
    if (PQntuples(c) != 1) {
        snprintf(err, errsz, "No campaign %.60s", id);
        PQclear(c);
        return 1;
    }
    copy(pf->name, sizeof pf->name, c, 0, 0);
    copy(pf->status, sizeof pf->status, c, 0, 1);
    pf->version = (int)db_i64(c, 0, 2);
    pf->revision = (int)db_i64(c, 0, 3);
    pf->rate_limit = (int)db_i64(c, 0, 4);
    copy(pf->send_at, sizeof pf->send_at, c, 0, 5);
    pf->scheduled = strcmp(PQgetvalue(c, 0, 6), "t") == 0;
    copy(pf->segment_id, sizeof pf->segment_id, c, 0, 7);
    copy(pf->segment_name, sizeof pf->segment_name, c, 0, 8);

    const char *p2[1] = { pf->segment_id };
    PGresult *a;
    rc = run(conn, audience_sql, 1, p2, timeout_ms, cancel_fd, "counting the audience", &a, err, errsz);
    if (rc != 0) {
        PQclear(c);
        return rc;
    }
    pf->members = db_i64(a, 0, 0);
    pf->reachable = db_i64(a, 0, 1);
    pf->unsubscribed = db_i64(a, 0, 2);
    pf->bounced = db_i64(a, 0, 3);
    pf->blocklisted = db_i64(a, 0, 4);
    PQclear(a);
    check_audience(pf);

    /* content: every placeholder of the subject, body and variants */
    char keys[MAX_KEYS][64];
    int nkeys = 0;
    char perr[160] = "";
    PGresult *v = NULL;
    if (pf->revision == 0 || PQgetisnull(c, 0, 9)) {
        preflight_add(pf, PF_FAIL, "Content: the campaign has no revision yet");
    } else {
        char rev[16];
        snprintf(rev, sizeof rev, "%d", pf->revision);
        const char *p3[2] = { id, rev };
        rc = run(conn, variants_sql, 2, p3, timeout_ms, cancel_fd, "reading the variants", &v, err,
                 errsz);
        if (rc != 0) {
            PQclear(c);
            return rc;
        }
        if (!*PQgetvalue(c, 0, 9) || !*PQgetvalue(c, 0, 10))
            preflight_add(pf, PF_FAIL, "Content: the %s is empty", *PQgetvalue(c, 0, 9) ? "body" : "subject");
        nkeys = preflight_placeholders(PQgetvalue(c, 0, 9), keys, MAX_KEYS, 0, perr, sizeof perr);
        if (nkeys >= 0)
            nkeys = preflight_placeholders(PQgetvalue(c, 0, 10), keys, MAX_KEYS, (size_t)nkeys, perr,
                                           sizeof perr);
        for (int i = 0; nkeys >= 0 && i < PQntuples(v); i++)
            for (int col = 2; nkeys >= 0 && col <= 3; col++)
                nkeys = preflight_placeholders(PQgetvalue(v, i, col), keys, MAX_KEYS, (size_t)nkeys,
                                               perr, sizeof perr);
        if (nkeys < 0)
            preflight_add(pf, PF_FAIL, "Content does not render: %s", perr);
    }
    PQclear(c);
    if (nkeys > 0) {
        /* "email" always resolves; the rest come from the contact's attributes */
        char arr[MAX_KEYS * 70] = "{";
        size_t used = 1;
        int asked = 0;
        for (int i = 0; i < nkeys; i++) {
            if (strcmp(keys[i], "email") == 0)
                continue;
            /* names are [A-Za-z0-9_.-]: quoting them is enough */
            used += (size_t)snprintf(arr + used, sizeof arr - used, "%s\"%s\"", asked ? "," : "", keys[i]);
            asked++;
        }
        snprintf(arr + used, sizeof arr - used, "}");
        bool all_ok = true;
        if (asked && pf->reachable > 0) {
            const char *p4[2] = { pf->segment_id, arr };
            PGresult *m;
            rc = run(conn, missing_sql, 2, p4, timeout_ms, cancel_fd, "checking placeholders", &m,
                     err, errsz);
            if (rc != 0) {
                PQclear(v);
                return rc;
            }
            for (int i = 0; i < PQntuples(m); i++) {
                long long miss = db_i64(m, i, 1);
                if (miss == 0)
                    continue;
                all_ok = false;
                if (miss >= pf->reachable)
                    preflight_add(pf, PF_FAIL, "Content: no recipient has a value for {{%s}}",
                                  PQgetvalue(m, i, 0));
                else
                    preflight_add(pf, PF_WARN, "Content: {{%s}} is empty for %lld of %lld recipients",
                                  PQgetvalue(m, i, 0), miss, pf->reachable);
            }
            PQclear(m);
        }
        if (all_ok) {
            char list[200] = "";
            size_t u = 0;
            for (int i = 0; i < nkeys && u < sizeof list; i++)
                u += (size_t)snprintf(list + u, sizeof list - u, "%s{{%s}}", i ? " " : "", keys[i]);
            preflight_add(pf, PF_OK, "Content renders: %s %s for every recipient", list,
                          nkeys == 1 ? "resolves" : "resolve");
        }
    } else if (nkeys == 0) {
        preflight_add(pf, PF_OK, "Content renders: no placeholders");
    }
    if (v)
        check_split(pf, v);
    PQclear(v);
    check_rate(pf);
    if (pf->scheduled && strcmp(pf->status, "draft") == 0)
        preflight_add(pf, PF_OK, "Schedule: send_at is %s; launching schedules it", pf->send_at);
    return 0;
}
