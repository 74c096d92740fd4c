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
