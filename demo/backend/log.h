/* log: one JSON object per line on stderr, in the seed's structured format
 * (timestamp, level, service, version, request_id, user_id, message, context). */
#ifndef BACKEND_LOG_H
#define BACKEND_LOG_H

#include <jansson.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Writes one line. request_id may be NULL; context (may be NULL) is taken
 * over and released. Safe from any thread. */
void log_event(enum log_level level, const char *request_id, const char *message, json_t *context);

#endif
