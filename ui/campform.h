/* Authoring campaigns in the console: the campaign form (new, edit), clone,
 * preview for a contact (variants side by side), test sends and promoting
 * an A/B winner. The writes go through the database worker's tasks to the
 * authoring functions (src/authoring.h): one short transaction each, with
 * a version check, an audit row and a NOTIFY. */
#ifndef MARKETING_UI_CAMPFORM_H
#define MARKETING_UI_CAMPFORM_H

#include "actions.h"
#include "dbworker.h"

struct ui;
struct campaign;

/* Task kinds of the authoring work that outlives no modal (clone, test
 * send, promote), handled by campform_task. */
#define DBW_TASK_CAMP 50

/* n in Campaigns: the form for a new campaign. */
void campform_new(struct ui *ui);

/* e, C, v, t, W on campaign c (NULL: none selected). */
void campform_action(struct ui *ui, enum action_id a, const struct campaign *c);

/* The command line's ":test-send ID ADDRESS [VARIANT]" and ":promote ID VARIANT". */
void campform_command(struct ui *ui, enum action_id a, const char *arg);

/* A finished task of kind DBW_TASK_CAMP..DBW_TASK_MODAL-1. */
void campform_task(struct ui *ui, struct dbw_task *t);

#endif
