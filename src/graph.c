#include "graph.h"

#include <math.h>
#include <string.h>

double graph_nice_max(double v)
{
    if (!(v > 0) || !isfinite(v))
        return 1.0;
    double p = pow(10.0, floor(log10(v)));
    static const double steps[] = { 1.0, 2.0, 2.5, 5.0, 10.0 };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (v <= steps[i] * p)
            return steps[i] * p;
    return 10.0 * p;
}

/* Dot height of a value: 0 (nothing) .. levels, where levels = rows * per-cell. */
static int level(double v, double ymax, int levels)
{
    if (isnan(v) || v <= 0)
        return 0;
    if (v >= ymax)
        return levels;
    int l = (int)ceil(v / ymax * levels);
    return l < 1 ? 1 : l;
}

/* Braille dot bits by (column 0/1, row 0..3 from the top). */
static const unsigned char dot_bit[2][4] = { { 0x01, 0x02, 0x04, 0x40 }, { 0x08, 0x10, 0x20, 0x80 } };

static size_t put_braille(char *p, unsigned bits)
{
    unsigned cp = 0x2800 + bits;
    p[0] = (char)(0xE0 | (cp >> 12));
    p[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    p[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

double graph_render(const double *vals, size_t n, double ymax, double ref, int w, int h,
                    enum graph_style style, char **rows)
{
    if (ymax <= 0) {
        double m = ref > 0 ? ref : 0;
        for (size_t i = 0; i < n; i++)
            if (isfinite(vals[i]) && vals[i] > m)
                m = vals[i];
        ymax = graph_nice_max(m * 1.1);
    }
    int per_cell_x = style == GRAPH_BRAILLE ? 2 : 1;
    int per_cell_y = style == GRAPH_BRAILLE ? 4 : 1;
    int levels = h * per_cell_y;
    int cols_of_data = w * per_cell_x;
    int ref_level = ref >= 0 ? level(ref, ymax, levels) : -1;
    if (ref == 0)
        ref_level = 0;
    for (int row = 0; row < h; row++) {
        char *p = rows[row];
        /* this row covers dot levels (from the bottom) lo+1 .. lo+per_cell_y */
        int lo = (h - 1 - row) * per_cell_y;
        for (int cx = 0; cx < w; cx++) {
            unsigned bits = 0;
            for (int sx = 0; sx < per_cell_x && style == GRAPH_BRAILLE; sx++) {
                /* the data column; the newest value sits at the right edge */
                long idx = (long)n - (long)cols_of_data + (long)(cx * per_cell_x + sx);
                double v = idx >= 0 ? vals[idx] : NAN;
                int lv = level(v, ymax, levels);
                for (int dy = 0; dy < per_cell_y; dy++) {
                    int dot_level = lo + (per_cell_y - dy); /* 1-based from the bottom */
                    if (lv >= dot_level)
                        bits |= dot_bit[sx][dy];
                }
            }
            bool on_ref = ref_level > lo && ref_level <= lo + per_cell_y;
            if (style == GRAPH_BRAILLE) {
                if (!bits && on_ref && cx % 2 == 0) {
                    int dy = per_cell_y - (ref_level - lo);
                    bits = dot_bit[0][dy] | dot_bit[1][dy];
                }
                if (bits)
                    p += put_braille(p, bits);
                else
                    *p++ = ' ';
            } else {
                /* half-row steps: '.' half, ':' full at the top, '|' below */
                long idx = (long)n - (long)w + cx;
                double v = idx >= 0 ? vals[idx] : NAN;
                int l2 = level(v, ymax, levels * 2), base = 2 * lo;
                if (l2 > base + 2)
                    *p++ = '|';
                else if (l2 == base + 2)
                    *p++ = ':';
                else if (l2 == base + 1)
                    *p++ = '.';
                else
                    *p++ = on_ref && cx % 2 == 0 ? '-' : ' ';
            }
        }
        *p = '\0';
    }
    return ymax;
}
