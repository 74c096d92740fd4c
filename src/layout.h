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



/* The screen: a 2x2 dashboard of the four panes when there is room, one
 * pane with a tab bar otherwise, and a message below the minimum. */
enum screen_mode { SCREEN_TOO_SMALL, SCREEN_TABS, SCREEN_GRID };

#define SCREEN_MIN_COLS 40
#define SCREEN_MIN_LINES 10
#define SCREEN_GRID_COLS 150
#define SCREEN_GRID_LINES 40
#define SCREEN_PANES 4

struct rect {
    int y, x, h, w;
};

struct screen_layout {
    enum screen_mode mode;
    struct rect header;               /* title, tab bar, environment */
    struct rect pane[SCREEN_PANES];   /* each pane's area (all the same in TABS) */
    int vsep_x;                       /* GRID: the column between left and right, else -1 */
    struct rect hint;                 /* the key hint line */
    struct rect status;               /* the status line */
};

/* A pure function of the terminal's size. */
void layout_screen(int cols, int lines, struct screen_layout *out);
#endif
