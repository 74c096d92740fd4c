/* Table layout: a pure function from column specs and a width to column
 * widths. Unit-tested without a terminal. */
#ifndef MARKETING_LAYOUT_H
#define MARKETING_LAYOUT_H

#include <stddef.h>

struct col_spec {
    const char *title;
    int min;        /* narrowest useful width */
    int want;       /* natural width */
    int flex;       /* share of the room left over after 'want' (0: fixed) */
    int priority;   /* columns with the highest priority number go first when narrow */
};

/* Fills widths[i] for each column so that the sum of the visible widths
 * plus one separator between visible columns fits in width. A column that
 * does not fit even at its minimum is hidden (width 0), lowest priority
 * first. Returns the number of visible columns. */
int layout_columns(const struct col_spec *cols, size_t n, int width, int *widths);

#endif
