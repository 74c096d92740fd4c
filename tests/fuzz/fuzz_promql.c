/* libFuzzer target: the PromQL parser, and on success the evaluator over a
 * small fixed store (counters, a histogram, a stale series). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "promql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put(struct tsdb *db, const char *name, const char *k, const char *v, int64_t t,
                double x)
{
    char err[64];
    struct tsdb_label l[] = {{"__name__", name}, {k, v}};
    tsdb_append(db, l, 2, t, x, err, sizeof err);
}

static struct tsdb *fixture(void)
{
    struct tsdb *db = tsdb_new(3600000, 10000);
    if (!db)
        return NULL;
    static const char *const les[] = {"0.1", "0.5", "1", "+Inf"};
    for (int i = 0; i <= 40; i++) {
        int64_t t = (int64_t)i * 15000;
        put(db, "http_requests_total", "status", "500", t, i * 1.5);
        put(db, "http_requests_total", "status", "200", t, i < 20 ? i * 10.0 : (i - 20) * 3.0);
        for (int b = 0; b < 4; b++)
            put(db, "h_bucket", "le", les[b], t, i * (b + 1.0));
        put(db, "g", "job", "a", t, i % 7 - 3.0);
    }
    put(db, "g", "job", "b", 0, 1);
    char err[64];
    struct tsdb_label l[] = {{"__name__", "g"}, {"job", "b"}};
    tsdb_append_stale(db, l, 2, 300000, err, sizeof err);
    return db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *q = malloc(size + 1);
    if (!q)
        return 0;
    memcpy(q, data, size);
    q[size] = '\0';
    char err[256];
    struct promql_expr *e = promql_parse(q, err, sizeof err);
    free(q);
    if (!e)
        return 0;
    struct tsdb *db = fixture();
    struct promql_result r;
    if (db && promql_eval(e, db, 600000, NULL, &r, err, sizeof err) == 0) {
        char out[4096];
        promql_format_result(&r, 600000, out, sizeof out);
        promql_result_free(&r);
    }
    tsdb_free(&db);
    promql_free(&e);
    return 0;
}
