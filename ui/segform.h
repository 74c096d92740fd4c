/* The segment editor: a modal screen with a name and a rule, the rule's
 * errors as it is typed (no database), a live size preview (a read task
 * after a pause in typing, with a statement timeout) and saving (a write
 * task running segdb_create). */
#ifndef MARKETING_SEGFORM_H
#define MARKETING_SEGFORM_H

struct ui;

/* Opens the editor (n in the Segments pane), or says on the hint line why
 * not (out of memory). */
void segform_open(struct ui *ui);

#endif
