/* libFuzzer target: the sanitizer. Whatever the bytes and the width, the
 * output is NUL-terminated, inert for a terminal, and no wider than asked. */
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        setlocale(LC_CTYPE, "C.UTF-8");
        init = 1;
    }
    if (size < 1)
        return 0;
    int cols = data[0] % 64;
    unsigned flags = (data[0] & 0x40) ? SAN_ASCII : 0;
    static char out[SAN_MAX_INPUT * 4 + 16];
    struct san_result r = san_fit(out, sizeof out, (const char *)data + 1, size - 1, cols, flags);
    if (r.cols > cols)
        abort();
    for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            abort();
        if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
            abort();
        if ((flags & SAN_ASCII) && *p >= 0x80)
            abort();
    }
    return 0;
}
