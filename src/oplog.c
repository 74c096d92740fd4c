#include "oplog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1;

int oplog_open(const char *path, char *err, size_t errsz)
{
    if (!path || !*path)
        return 0;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        snprintf(err, errsz, "log_file %s: %s", path, strerror(errno));
        return -1;
    }
    pthread_mutex_lock(&lock);
    if (log_fd >= 0)
        close(log_fd);
    log_fd = fd;
    pthread_mutex_unlock(&lock);
    return 0;
}

void oplog_close(void)
{
    pthread_mutex_lock(&lock);
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
    pthread_mutex_unlock(&lock);
}

/* A JSON string from text that may not be valid UTF-8: bad bytes become
 * U+FFFD. */
static json_t *text(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t n = strlen(s);
    char *fixed = malloc(n * 3 + 1);
    if (!fixed)
        return json_null();
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        char tmp[8];
        if (len > 0 && i + len <= n) {
            memcpy(tmp, s + i, len);
            tmp[len] = '\0';
            json_t *probe = json_string(tmp);
            if (probe) {
                json_decref(probe);
                memcpy(fixed + w, tmp, len);
                w += len;
                i += len;
                continue;
            }
        }
        memcpy(fixed + w, "\xef\xbf\xbd", 3);
        w += 3;
        i++;
    }
    fixed[w] = '\0';
    j = json_string(fixed);
    free(fixed);
    return j ? j : json_null();
}

char *oplog_format(long long now_ms, const char *level, const char *request_id,
                   const char *user_id, const char *message, json_t *context)
{
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[40];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(now_ms % 1000));
    json_t *o = json_object();
    json_object_set_new(o, "timestamp", json_string(ts));
    json_object_set_new(o, "level", text(level));
    json_object_set_new(o, "service", json_string("marketing-console"));
    json_object_set_new(o, "version", json_string(MARKETING_VERSION));
    json_object_set_new(o, "request_id", text(request_id));
    json_object_set_new(o, "user_id", text(user_id));
    json_object_set_new(o, "message", text(message));
    json_object_set_new(o, "context", context ? context : json_object());
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(o);
    return line;
}

void oplog_write(const char *level, const char *request_id, const char *user_id,
                 const char *message, json_t *context)
{
    pthread_mutex_lock(&lock);
    int fd = log_fd;
    if (fd < 0) {
        pthread_mutex_unlock(&lock);
        json_decref(context);
        return;
    }
    char *line = oplog_format(clock_real_ms(), level, request_id, user_id, message, context);
    if (line) {
        size_t n = strlen(line);
        line[n] = '\n'; /* the NUL goes: written by length */
        ssize_t w = write(fd, line, n + 1);
        (void)w; /* a full disk must not stop an action: the audit log has it */
        free(line);
    }
    pthread_mutex_unlock(&lock);
}
