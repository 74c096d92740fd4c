#include "listener.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "dbworker.h"
#include "threadwait.h"
#include "wakepipe.h"

#define CONNECT_TIMEOUT_MS 10000
#define LISTEN_TIMEOUT_MS 10000
#define STOP_WAIT_MS 1500

struct listener {
    pthread_t thread;
    char *dsn;
    char *channels;  /* names, each NUL-terminated, then an empty one */
    int kick_fd;
    int stop_pipe[2];
    atomic_bool live;
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    bool done;
};

/* Listens on one connection until it fails (0) or we are stopped (-1). */
static int listen_on(struct listener *l, PGconn *conn)
{
    char err[512];
    /* one LISTEN per channel: a parameterized statement holds one command */
    for (const char *ch = l->channels; *ch; ch += strlen(ch) + 1) {
        char sql[96];
        snprintf(sql, sizeof sql, "LISTEN %s", ch);
        PGresult *res = db_query(conn, sql, 0, NULL, LISTEN_TIMEOUT_MS, l->stop_pipe[0], err, sizeof err);
        bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (!ok)
            return 0;
    }
    atomic_store(&l->live, true);
    wakepipe_signal(l->kick_fd); /* read everything: what was sent meanwhile is lost */
    for (;;) {
        struct pollfd pfd[2] = {
            { .fd = l->stop_pipe[0], .events = POLLIN },
            { .fd = PQsocket(conn), .events = POLLIN },
        };
        int n = poll(pfd, 2, -1);
        if (n < 0 && errno != EINTR)
            return 0;
        if (pfd[0].revents)
            return -1;
        if (pfd[1].revents) {
            if (!PQconsumeInput(conn))
                return 0;
            bool any = false;
            PGnotify *nt;
            while ((nt = PQnotifies(conn)) != NULL) {
                any = true;
                PQfreemem(nt);
            }
            if (any)
                wakepipe_signal(l->kick_fd);
        }
    }
}

static void *run(void *arg)
{
    struct listener *l = arg;
    unsigned seed = (unsigned)clock_mono_ms() ^ (unsigned)getpid() ^ 0x5bd1e995u;
    int attempt = 0;
    for (;;) {
        char err[512];
        PGconn *conn = db_connect(l->dsn, CONNECT_TIMEOUT_MS, l->stop_pipe[0], err, sizeof err);
        int how = 0;
        if (conn) {
            how = listen_on(l, conn);
            /* it listened, then lost the connection: back off from the start */
            attempt = atomic_load(&l->live) ? 1 : attempt + 1;
            atomic_store(&l->live, false);
            PQfinish(conn);
        } else {
            if (strcmp(err, "cancelled") == 0)
                break;
            attempt++;
        }
        if (how < 0)
            break;
        int delay = dbworker_backoff_ms(attempt, (double)rand_r(&seed) / ((double)RAND_MAX + 1.0));
        struct pollfd pfd = { .fd = l->stop_pipe[0], .events = POLLIN };
        if (poll(&pfd, 1, delay) > 0)
            break;
    }
    pthread_mutex_lock(&l->lock);
    l->done = true;
    pthread_cond_signal(&l->done_cond);
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

struct listener *listener_start(const char *dsn, const char *channels, int kick_fd, char *err,
                                size_t errsz)
{
    struct listener *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    l->kick_fd = kick_fd;
    l->stop_pipe[0] = l->stop_pipe[1] = -1;
    l->dsn = strdup(dsn ? dsn : "");
    /* "a,b" becomes "a\0b\0\0"; fixed names of ours, not input: no quoting needed */
    size_t n = strlen(channels) + 2;
    l->channels = calloc(1, n);
    atomic_init(&l->live, false);
    if (!l->dsn || !l->channels || wakepipe_open(l->stop_pipe) != 0) {
        snprintf(err, errsz, "cannot start the listener: %s", strerror(errno));
        goto fail;
    }
    memcpy(l->channels, channels, n - 2);
    for (char *p = l->channels; *p; p++)
        if (*p == ',')
            *p = '\0';
    pthread_mutex_init(&l->lock, NULL);
    threadwait_cond_init(&l->done_cond);
    int rc = threadwait_spawn(&l->thread, run, l);
    if (rc != 0) {
        snprintf(err, errsz, "cannot start the listener: %s", strerror(rc));
        pthread_mutex_destroy(&l->lock);
        pthread_cond_destroy(&l->done_cond);
        goto fail;
    }
    return l;
fail:
    if (l->stop_pipe[0] >= 0) {
        close(l->stop_pipe[0]);
        close(l->stop_pipe[1]);
    }
    free(l->channels);
    free(l->dsn);
    free(l);
    return NULL;
}

bool listener_live(struct listener *l)
{
    return l && atomic_load(&l->live);
}

bool listener_stop(struct listener **lp)
{
    struct listener *l = *lp;
    if (!l)
        return true;
    *lp = NULL;
    wakepipe_signal(l->stop_pipe[1]);
    bool done = threadwait(&l->lock, &l->done_cond, &l->done, STOP_WAIT_MS);
    if (!done) {
        pthread_detach(l->thread);
        return false;
    }
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->done_cond);
    close(l->stop_pipe[0]);
    close(l->stop_pipe[1]);
    free(l->channels);
    free(l->dsn);
    free(l);
    return true;
}
