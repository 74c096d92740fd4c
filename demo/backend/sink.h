/* sink: where sent messages go. "null" drops them; "maildir:DIR" writes one
 * file per message into DIR/tmp and, once the ledger transaction committed,
 * renames it into DIR/new (aborted batches leave nothing behind). */
#ifndef BACKEND_SINK_H
#define BACKEND_SINK_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

struct sink;

int sink_open(const struct config *cfg, struct sink **out, char *err, size_t errlen);
void sink_close(struct sink **s);
/* false for the null sink: no need to compose messages */
bool sink_wants_content(const struct sink *s);
/* write one message to tmp/; it is staged until commit or abort */
int sink_stage(struct sink *s, const char *msg, size_t len, char *err, size_t errlen);
/* move every staged message into new/; -1 with a message if any rename failed */
int sink_commit(struct sink *s, char *err, size_t errlen);
/* delete every staged message */
void sink_abort(struct sink *s);

#endif
