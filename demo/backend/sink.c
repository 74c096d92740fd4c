/* sink: maildir delivery (tmp/ then rename into new/) with unique names
 * "SECONDS.MMICROSPPIDQSEQ.HOST" as the maildir convention has them. */
#include "sink.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define SINK_NAME_MAX 128

struct sink {
    enum sink_kind kind;
    char dir[PATH_MAX - 2 * SINK_NAME_MAX];
    char host[64];
    unsigned long long seq;
    char (*staged)[SINK_NAME_MAX];
    size_t nstaged;
    size_t capstaged;
};

static int sink_mkdirs(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    char *p;

    str_copy(buf, sizeof buf, path);
    for (p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "--sink: cannot create %s: %s", buf, strerror(errno));
    return -1;
}

int sink_open(const struct config *cfg, struct sink **out, char *err, size_t errlen)
{
    static const char *const subs[] = {"tmp", "new", "cur"};
    struct sink *s = calloc(1, sizeof *s);
    char path[PATH_MAX];
    size_t i;
    char *c;

    *out = NULL;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->kind = cfg->sink;
    if (s->kind == SINK_MAILDIR) {
        if (strlen(cfg->maildir) >= sizeof s->dir) {
            snprintf(err, errlen, "--sink: maildir path too long");
            free(s);
            return -1;
        }
        str_copy(s->dir, sizeof s->dir, cfg->maildir);
        for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", s->dir, subs[i]);
            if (sink_mkdirs(path, err, errlen) < 0) {
                free(s);
                return -1;
            }
        }
        if (gethostname(s->host, sizeof s->host) != 0 || !s->host[0])
            str_copy(s->host, sizeof s->host, "localhost");
        s->host[sizeof s->host - 1] = '\0';
        for (c = s->host; *c; c++)
            if (*c == '/' || *c == ':')
                *c = '_';
    }
    *out = s;
    return 0;
}

void sink_close(struct sink **sp)
{
    struct sink *s = *sp;

    if (!s)
        return;
    sink_abort(s);
    free(s->staged);
    free(s);
    *sp = NULL;
}

bool sink_wants_content(const struct sink *s)
{
    return s->kind == SINK_MAILDIR;
}

static int sink_write_all(int fd, const char *p, size_t len)
{
    ssize_t n;

    while (len) {
        n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int sink_stage(struct sink *s, const char *msg, size_t len, char *err, size_t errlen)
{
    char path[PATH_MAX];
    struct timeval tv;
    int fd, saved;

    if (s->kind != SINK_MAILDIR)
        return 0;
    if (s->nstaged == s->capstaged) {
        size_t cap = s->capstaged ? s->capstaged * 2 : 64;
        void *p = realloc(s->staged, cap * sizeof *s->staged);
        if (!p) {
            snprintf(err, errlen, "maildir: out of memory");
            return -1;
        }
        s->staged = p;
        s->capstaged = cap;
    }
    gettimeofday(&tv, NULL);
    snprintf(s->staged[s->nstaged], SINK_NAME_MAX, "%lld.M%06ldP%ldQ%llu.%s", (long long)tv.tv_sec,
             (long)tv.tv_usec, (long)getpid(), ++s->seq, s->host);
    snprintf(path, sizeof path, "%s/tmp/%s", s->dir, s->staged[s->nstaged]);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "maildir: cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    if (sink_write_all(fd, msg, len) < 0) {
        saved = errno;
        close(fd);
        unlink(path);
        snprintf(err, errlen, "maildir: cannot write %s: %s", path, strerror(saved));
        return -1;
    }
    if (close(fd) != 0) {
        saved = errno;
        unlink(path);
        snprintf(err, errlen, "maildir: cannot write %s: %s", path, strerror(saved));
        return -1;
    }
    s->nstaged++;
    return 0;
}

int sink_commit(struct sink *s, char *err, size_t errlen)
{
    char from[PATH_MAX], to[PATH_MAX];
    size_t i;
    int rc = 0;

    for (i = 0; i < s->nstaged; i++) {
        snprintf(from, sizeof from, "%s/tmp/%s", s->dir, s->staged[i]);
        snprintf(to, sizeof to, "%s/new/%s", s->dir, s->staged[i]);
        if (rename(from, to) != 0 && rc == 0) {
            snprintf(err, errlen, "maildir: cannot move %s into new/: %s", s->staged[i], strerror(errno));
            rc = -1;
        }
    }
    s->nstaged = 0;
    return rc;
}

void sink_abort(struct sink *s)
{
    char path[PATH_MAX];
    size_t i;

    for (i = 0; i < s->nstaged; i++) {
        snprintf(path, sizeof path, "%s/tmp/%s", s->dir, s->staged[i]);
        unlink(path);
    }
    s->nstaged = 0;
}
