/* libFuzzer target: Prometheus API response bodies, through all four
 * parsers (query, query_range, alerts, rules), with a good and an error
 * HTTP status; an answer that parses is formatted as the CLI does. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "promapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    char err[PROMAPI_ERR_MAX];
    static const int statuses[] = { 200, 503 };
    for (size_t s = 0; s < sizeof statuses / sizeof statuses[0]; s++) {
        struct promql_result r;
        int64_t t = 0;
        if (promapi_parse_query(body, size, statuses[s], &r, &t, err, sizeof err) == 0) {
            int len = promql_format_result(&r, t, NULL, 0);
            char *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
            if (buf)
                promql_format_result(&r, t, buf, (size_t)len + 1);
            free(buf);
        }
        promql_result_free(&r);
        struct promapi_matrix m;
        promapi_parse_query_range(body, size, statuses[s], &m, err, sizeof err);
        promapi_matrix_free(&m);
        struct promapi_alerts a;
        promapi_parse_alerts(body, size, statuses[s], &a, err, sizeof err);
        promapi_alerts_free(&a);
        struct promapi_rules ru;
        promapi_parse_rules(body, size, statuses[s], &ru, err, sizeof err);
        promapi_rules_free(&ru);
    }
    return 0;
}
