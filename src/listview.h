/* Selection and scrolling of a list, shared by the list panes. */
#ifndef MARKETING_LISTVIEW_H
#define MARKETING_LISTVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "actions.h"

struct listview {
    size_t sel, top;
};

/* Applies a movement action for a list of n rows shown page rows at a
 * time. Returns true when it was a movement action. */
bool listview_move(struct listview *lv, enum action_id a, size_t n, size_t page);

/* Keeps sel inside [0, n) and visible in rows rows. */
void listview_fit(struct listview *lv, size_t n, size_t rows);

/* What the keys every list pane shares did (listview_keys). */
enum list_step {
    LIST_IGNORED,       /* not one of them */
    LIST_REDRAW,        /* handled: draw again */
    LIST_MOVED,         /* the selection moved or its details opened: remember it, draw */
    LIST_CLEAR_FILTER,  /* Esc with a filter set: clear it, rebuild, draw */
};

/* The keys of a list of n rows shown page at a time, with a detail view
 * (*detail) and a filter (filter_set): movement, Enter opening the
 * selected row's details, Esc closing them or clearing the filter. */
enum list_step listview_keys(struct listview *lv, enum action_id a, size_t n, size_t page,
                             bool *detail, bool filter_set);

/* A click on line row of the pane (0 is its title, 1 the column titles):
 * selects the row shown there. Returns whether it did. */
bool listview_click(struct listview *lv, int row, size_t n);

/* Whether a list pane takes a: in its details only Esc, in the list the
 * movements, Enter, Esc and the filter. */
bool listview_accepts(enum action_id a, bool detail);

#endif
