/* Text graphs: a series drawn into rows of characters, braille (2x4 dots a
 * cell) in UTF-8 or '.:|' in ASCII, with an optional dashed reference line
 * (the expected rate). A pure function: rows out, no terminal. */
#ifndef MARKETING_GRAPH_H
#define MARKETING_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

enum graph_style { GRAPH_BRAILLE, GRAPH_ASCII };

/* Draws vals[0..n) (oldest first; NAN = no data, left blank) scaled to
 * [0, ymax] into h rows of w cells. The newest value is at the right edge;
 * in braille each cell holds two values. ref >= 0 draws a reference line
 * where no dot is. rows[i] (i = 0 is the top row) must hold w*3+1 bytes.
 * Returns the y scale used (ymax, or a nice bound above the data when
 * ymax <= 0). */
double graph_render(const double *vals, size_t n, double ymax, double ref, int w, int h,
                    enum graph_style style, char **rows);

/* A "nice" upper bound for v: 1, 2, 2.5 or 5 times a power of ten. */
double graph_nice_max(double v);

#endif
