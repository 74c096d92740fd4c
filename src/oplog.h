/* The structured log: one JSON object per line, in the marketing system's
 * log format (timestamp, level, service, version, request_id, user_id,
 * message, context), appended to the file named by log_file. Every action
 * and every error the console meets goes here. Safe from any thread; each
 * line is one write(2) to a file opened O_APPEND, so lines from several
 * consoles sharing a file never interleave. */
#ifndef MARKETING_OPLOG_H
#define MARKETING_OPLOG_H

#include <stddef.h>

#include <jansson.h>

/* Opens (creating it 0600) the log file; "" or NULL: no log. Returns 0, or
 * -1 with a message naming the file and the reason. */
int oplog_open(const char *path, char *err, size_t errsz);

void oplog_close(void);

/* Writes one line. level: "error", "warn", "info" or "debug". request_id
 * and user_id may be NULL (written as null). context is taken (decref'd)
 * and may be NULL. Text that is not valid UTF-8 is written with U+FFFD in
 * its place, so a line is always valid JSON. */
void oplog_write(const char *level, const char *request_id, const char *user_id,
                 const char *message, json_t *context);

/* One line as oplog_write makes it, into a malloc'd string (for tests);
 * now_ms is the epoch time to stamp. */
char *oplog_format(long long now_ms, const char *level, const char *request_id,
                   const char *user_id, const char *message, json_t *context);

#endif
