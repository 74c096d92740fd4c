/* The Segments pane's keys that need the database: n opens the segment
 * editor, f refreshes the selected segment (a write task), and opening a
 * segment's details reads its performance (a read task). */
#ifndef MARKETING_SEGACTS_H
#define MARKETING_SEGACTS_H

#include <stdbool.h>

#include "actions.h"
#include "dbworker.h"

struct ui;

/* Task kinds of this file: below DBW_TASK_MODAL, they outlive a modal. */
#define SEGACTS_TASK_FIRST 60
#define SEGACTS_TASK_LAST 61

/* An action in the Segments pane (in focus). True when it was handled
 * here; false leaves it to the pane and the loop. */
bool segacts_action(struct ui *ui, enum action_id a);

/* A finished task of kind SEGACTS_TASK_FIRST..LAST: its outcome on the
 * hint line or in the details. Frees its arg. */
void segacts_task(struct ui *ui, struct dbw_task *t);

#endif
