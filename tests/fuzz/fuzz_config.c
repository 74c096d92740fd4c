/* libFuzzer target: marketing.conf and theme files, as text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct config cfg;
    struct config_errors errs = { 0 };
    config_init(&cfg);
    config_parse(&cfg, "fuzz.conf", text, &errs);
    config_errors_free(&errs);
    config_free(&cfg);
    struct theme t;
    char inherit[64];
    memset(&t, 0, sizeof t);
    theme_parse(&t, "fuzz.theme", text, inherit, sizeof inherit, &errs);
    config_errors_free(&errs);
    free(text);
    return 0;
}
