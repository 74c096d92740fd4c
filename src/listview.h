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

#endif
