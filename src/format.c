#include "format.h"

#include <inttypes.h>
#include <stdio.h>

void fmt_count(char *buf, size_t n, int64_t v)
{
    static const char units[] = "kMGTP";
    if (v < 0) {
        snprintf(buf, n, "-");
        return;
    }
    if (v < 1000) {
        snprintf(buf, n, "%" PRId64, v);
        return;
    }
    double d = (double)v / 1000.0;
    int u = 0;
    while (d >= 999.95 && u < 4) {
        d /= 1000.0;
        u++;
    }
    /* below 10: one decimal, else whole numbers; never round up into 1000 */
    if (d < 9.95)
        snprintf(buf, n, "%.1f%c", d, units[u]);
    else
        snprintf(buf, n, "%.0f%c", d, units[u]);
}

void fmt_grouped(char *buf, size_t n, int64_t v)
{
    char digits[32], out[48];
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int len = snprintf(digits, sizeof digits, "%" PRIu64, u);
    size_t k = 0;
    if (v < 0)
        out[k++] = '-';
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = '\0';
    snprintf(buf, n, "%s", out);
}

void fmt_percent(char *buf, size_t n, int64_t part, int64_t whole)
{
    if (whole <= 0 || part < 0) {
        snprintf(buf, n, "-");
        return;
    }
    snprintf(buf, n, "%.1f%%", 100.0 * (double)part / (double)whole);
}

void fmt_age(char *buf, size_t n, int64_t ms)
{
    int64_t s = ms < 0 ? 0 : ms / 1000;
    if (s < 60)
        snprintf(buf, n, "%" PRId64 "s", s);
    else if (s < 3600)
        snprintf(buf, n, "%" PRId64 "m", s / 60);
    else if (s < 86400)
        snprintf(buf, n, "%" PRId64 "h", s / 3600);
    else
        snprintf(buf, n, "%" PRId64 "d", s / 86400);
}
