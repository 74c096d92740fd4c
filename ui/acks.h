/* Acknowledging and snoozing alerts from the console: the a, z and u keys
 * of the Alerts pane and the :ack, :snooze and :unack commands. The change
 * goes to the database worker (one short transaction with an audit row and
 * a NOTIFY), so every console sees it. */
#ifndef MARKETING_UI_ACKS_H
#define MARKETING_UI_ACKS_H

#include "actions.h"

struct ui;

/* From a key (arg NULL): opens the command line on the selected rule, for
 * the operator to type the expiry and the comment. From the command line:
 * arg is "RULE [DURATION] COMMENT" (ack, snooze) or "RULE|ID [COMMENT]"
 * (unack), and the request is sent. */
void acks_begin(struct ui *ui, enum action_id a, const char *arg);

/* Shows the outcomes that arrived. */
void acks_take_news(struct ui *ui);

#endif
