/* libFuzzer target: the /health and /ready document parser. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "healthjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct healthjson h;
    char err[256];
    memset(&h, 0, sizeof h);
    if (healthjson_parse((const char *)data, size, &h, err, sizeof err) == 0)
        healthjson_free(&h);
    return 0;
}
