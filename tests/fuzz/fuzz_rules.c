/* libFuzzer target: rule files (YAML), and the annotation templates of
 * whatever rules they hold, expanded with labels and odd values. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rule_set rs;
    struct config_errors errs = { 0 };
    if (rules_parse("fuzz.yml", (const char *)data, size, 60000, &rs, &errs) == 0) {
        for (size_t i = 0; i < rs.n; i++) {
            for (size_t k = 0; k < rs.v[i].n_annotations; k++) {
                const double values[] = { 0.05, NAN, -INFINITY, 1e300 };
                for (size_t v = 0; v < sizeof values / sizeof values[0]; v++)
                    free(rules_expand(rs.v[i].annotations[k].value, values[v], rs.v[i].labels,
                                      rs.v[i].n_labels));
            }
            (void)rules_parse_duration(rs.v[i].expr);
        }
        rule_set_free(&rs);
    }
    config_errors_free(&errs);
    /* the text as a template too */
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
        free(rules_expand(text, 1.5, NULL, 0));
        free(text);
    }
    return 0;
}
