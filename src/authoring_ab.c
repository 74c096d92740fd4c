/* A/B results: sent, opened and clicked per variant, and whether the
 * leader's lead is more than chance (a pooled two-proportion z-test). */
#include "authoring.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "db.h"

#define MIN_GROUP 30     /* fewer in a group: too few to say anything */
#define MIN_EXPECTED 5.0 /* the normal approximation needs n*p and n*(1-p) of 5 or more */
#define ALPHA 0.05

int authoring_ztest(long long x1, long long n1, long long x2, long long n2, double *z, double *p, char *why,
                    size_t whysz)
{
    *z = 0;
    *p = 1;
    if (n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2) {
        snprintf(why, whysz, "no data");
        return -1;
    }
    if (n1 < MIN_GROUP || n2 < MIN_GROUP) {
        snprintf(why, whysz, "too few to tell: %lld and %lld sent (%d each at least)", n1, n2, MIN_GROUP);
        return -1;
    }
    double pooled = (double)(x1 + x2) / (double)(n1 + n2);
    if (pooled <= 0.0 || pooled >= 1.0) {
        snprintf(why, whysz, "no difference: both rates are %s", pooled <= 0.0 ? "0%" : "100%");
        return -1;
    }
    double e1 = fmin(n1 * pooled, n1 * (1 - pooled)), e2 = fmin(n2 * pooled, n2 * (1 - pooled));
    if (e1 < MIN_EXPECTED || e2 < MIN_EXPECTED) {
        snprintf(why, whysz, "too few to tell: under %.0f expected %s in a group", MIN_EXPECTED,
                 pooled < 0.5 ? "successes" : "failures");
        return -1;
    }
    double se = sqrt(pooled * (1 - pooled) * (1.0 / (double)n1 + 1.0 / (double)n2));
    *z = ((double)x1 / (double)n1 - (double)x2 / (double)n2) / se;
    *p = erfc(fabs(*z) / sqrt(2.0));
    return 0;
}

static double rate(long long x, long long n)
{
    return n > 0 ? (double)x / (double)n : 0.0;
}

void authoring_ab_analyze(struct authoring_ab *ab)
{
    ab->leader = -1;
    ab->significant = false;
    size_t lettered = 0;
    for (size_t i = 0; i < ab->n; i++) {
        struct authoring_ab_row *r = &ab->v[i];
        r->tested = false;
        r->why[0] = '\0';
        if (!r->variant[0])
            continue;
        lettered++;
        if (ab->leader < 0) {
            ab->leader = (int)i;
            continue;
        }
        const struct authoring_ab_row *l = &ab->v[ab->leader];
        double rc = rate(r->clicked, r->sent), lc = rate(l->clicked, l->sent);
        if (rc > lc || (rc == lc && rate(r->opened, r->sent) > rate(l->opened, l->sent))) // NOLINT
            ab->leader = (int)i;
    }
    if (lettered < 2) {
        ab->leader = -1;
        snprintf(ab->verdict, sizeof ab->verdict, "%s",
                 lettered ? "only one variant has deliveries: nothing to compare"
                          : "no A/B test: the campaign's deliveries have no variant");
        return;
    }
    const struct authoring_ab_row *l = &ab->v[ab->leader];
    bool all = true, any_untested = false;
    double worst_p = 0;
    for (size_t i = 0; i < ab->n; i++) {
        struct authoring_ab_row *r = &ab->v[i];
        if (!r->variant[0] || (int)i == ab->leader)
            continue;
        char why_o[120];
        int rc_o = authoring_ztest(l->opened, l->sent, r->opened, r->sent, &r->z_open, &r->p_open, why_o,
                                   sizeof why_o);
        int rc_c = authoring_ztest(l->clicked, l->sent, r->clicked, r->sent, &r->z_click, &r->p_click, r->why,
                                   sizeof r->why);
        if (rc_c != 0) {
            all = false;
            any_untested = true;
            continue;
        }
        if (rc_o != 0) {
            r->p_open = 1;
            r->z_open = 0;
        }
        r->tested = true;
        if (r->p_click >= ALPHA || r->z_click <= 0)
            all = false;
        if (r->p_click > worst_p)
            worst_p = r->p_click;
    }
    ab->significant = all;
    if (all)
        snprintf(ab->verdict, sizeof ab->verdict,
                 "%s wins: its click rate %.2f%% beats every other variant's (p = %.4f at most, under %.2f)",
                 l->variant, 100.0 * rate(l->clicked, l->sent), worst_p, ALPHA);
    else if (any_untested)
        snprintf(ab->verdict, sizeof ab->verdict, "%s leads on clicks (%.2f%%), but there are too few sends to tell yet",
                 l->variant, 100.0 * rate(l->clicked, l->sent));
    else
        snprintf(ab->verdict, sizeof ab->verdict,
                 "%s leads on clicks (%.2f%%), but not significantly (p = %.4f, needs under %.2f): keep testing",
                 l->variant, 100.0 * rate(l->clicked, l->sent), worst_p, ALPHA);
}

int authoring_ab_fetch(PGconn *conn, const char *id, int timeout_ms, int cancel_fd, struct authoring_ab *out,
                       char *err, size_t errsz)
{
    memset(out, 0, sizeof *out);
    out->leader = -1;
    const char *p[1] = { id };
    PGresult *r = db_query(conn, "SELECT coalesce(variant, ''), sent, opened, clicked FROM campaign_ab_results($1)",
                           1, p, timeout_ms, cancel_fd, err, errsz);
    if (!r)
        return -1;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        db_error(err, errsz, "reading A/B results", conn, r);
        PQclear(r);
        return -1;
    }
    for (int i = 0; i < PQntuples(r) && out->n < AUTHORING_MAX_VARIANTS + 1; i++) {
        struct authoring_ab_row *row = &out->v[out->n++];
        snprintf(row->variant, sizeof row->variant, "%s", PQgetvalue(r, i, 0));
        row->sent = db_i64(r, i, 1);
        row->opened = db_i64(r, i, 2);
        row->clicked = db_i64(r, i, 3);
    }
    PQclear(r);
    authoring_ab_analyze(out);
    return 0;
}
