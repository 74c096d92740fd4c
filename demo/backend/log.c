/* log: structured JSON lines, serialized by a mutex so lines never interleave. */
#include "log.h"

#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *log_level_name(enum log_level level)
{
    switch (level) {
    case LOG_DEBUG: return "debug";
    case LOG_INFO: return "info";
    case LOG_WARN: return "warn";
    case LOG_ERROR: return "error";
    }
    return "info";
}

void log_event(enum log_level level, const char *request_id, const char *message, json_t *context)
{
    char ts[40];
    json_t *o;
    json_t *msg;
    char *line;

    clock_rfc3339(ts, sizeof ts);
    o = json_object();
    if (!o) {
        json_decref(context);
        return;
    }
    json_object_set_new(o, "timestamp", json_string(ts));
    json_object_set_new(o, "level", json_string(log_level_name(level)));
    json_object_set_new(o, "service", json_string(BACKEND_NAME));
    json_object_set_new(o, "version", json_string(MARKETING_VERSION));
    json_object_set_new(o, "request_id", request_id ? json_string(request_id) : json_null());
    json_object_set_new(o, "user_id", json_null());
    /* json_string refuses invalid UTF-8; libpq messages are UTF-8 here, but be safe */
    msg = json_string(message);
    json_object_set_new(o, "message", msg ? msg : json_string("(invalid UTF-8)"));
    json_object_set_new(o, "context", context ? context : json_object());
    line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!line)
        return;
    pthread_mutex_lock(&log_lock);
    fputs(line, stderr);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
    free(line);
}
