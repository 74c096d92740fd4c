/* marketing-demo-backend: stands in for the marketing system's API and
 * campaign worker in demos and tests. main: flags, signals, lifecycle.
 *
 * Threads: main (waits for a signal), the campaign worker (owns the only
 * PGconn), and libmicrohttpd's threads (one per connection). SIGINT, SIGTERM
 * and SIGHUP are blocked everywhere and taken by sigwait() here. */
#include "config.h"
#include "faults.h"
#include "health.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "rng.h"
#include "sink.h"
#include "util.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAIN_STOP_GRACE_MS 400

/* write the port to FILE through a temporary file and rename */
static int main_write_port(const char *path, unsigned port, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    char text[16];
    int fd, len, saved;

    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        snprintf(err, errlen, "--port-file: path too long");
        return -1;
    }
    len = snprintf(text, sizeof text, "%u\n", port);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "--port-file: cannot create %.300s: %s", tmp, strerror(errno));
        return -1;
    }
    if (write(fd, text, (size_t)len) != len || close(fd) != 0) {
        saved = errno;
        unlink(tmp);
        snprintf(err, errlen, "--port-file: cannot write %.300s: %s", tmp, strerror(saved));
        return -1;
    }
    if (rename(tmp, path) != 0) {
        saved = errno;
        unlink(tmp);
        snprintf(err, errlen, "--port-file: cannot rename to %.300s: %s", path, strerror(saved));
        return -1;
    }
    return 0;
}

static void main_fatal(const char *message, const char *detail)
{
    log_event(LOG_ERROR, NULL, message, json_pack("{s:s}", "error", detail));
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct fault_state faults0;
    struct sink *sink = NULL;
    struct http *http = NULL;
    struct worker *worker = NULL;
    sigset_t sigs;
    char err[512];
    int sig = 0;
    int rc = 1;

    switch (config_parse(argc, argv, &cfg, err, sizeof err)) {
    case CONFIG_EXIT_OK:
        return 0;
    case CONFIG_ERROR:
        fprintf(stderr, "%s: %s\n", BACKEND_NAME, err);
        return 2;
    case CONFIG_RUN:
        break;
    }
    if (!cfg.seed_given)
        cfg.seed = rng_entropy();

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* before any thread, so all inherit it */

    metrics_init(clock_real_s());
    health_init(cfg.sink == SINK_MAILDIR ? cfg.maildir : NULL, clock_mono_ms());
    faults0.latency_ms = cfg.latency_ms;
    faults0.error_rate = cfg.error_rate;
    faults0.garbage = cfg.garbage;
    faults0.hang = cfg.hang;
    faults0.send = !cfg.no_send;
    faults_init(&faults0, cfg.seed);

    if (sink_open(&cfg, &sink, err, sizeof err) < 0) {
        main_fatal("cannot open the sink", err);
        return 1;
    }
    if (http_start(cfg.listen_host, cfg.listen_port, &http, err, sizeof err) < 0) {
        main_fatal("cannot start the HTTP server", err);
        goto out;
    }
    if (worker_start(&cfg, sink, &worker, err, sizeof err) < 0) {
        main_fatal("cannot start the campaign worker", err);
        goto out;
    }
    if (cfg.port_file && main_write_port(cfg.port_file, http_port(http), err, sizeof err) < 0) {
        main_fatal("cannot write the port file", err);
        goto out;
    }
    log_event(LOG_INFO, NULL, "started",
              json_pack("{s:s, s:i, s:s, s:s?, s:i, s:i, s:i, s:I, s:o}", "listen", cfg.listen_host, "port",
                        (int)http_port(http), "sink", cfg.sink == SINK_MAILDIR ? "maildir" : "null",
                        "maildir", cfg.maildir, "batch", cfg.batch, "tick_ms", cfg.tick_ms,
                        "scan_ms", cfg.scan_ms, "seed", (json_int_t)(cfg.seed & 0x7fffffffffffffffULL),
                        "faults", faults_to_json(&faults0)));

    while (sigwait(&sigs, &sig) != 0)
        ;
    log_event(LOG_INFO, NULL, "stopping", json_pack("{s:s}", "signal", strsignal(sig)));
    rc = 0;
out:
    faults_shutdown(); /* wakes hanging and delayed handlers */
    http_stop(&http);
    if (worker_stop(&worker, MAIN_STOP_GRACE_MS) < 0) {
        log_event(LOG_ERROR, NULL, "the campaign worker did not stop; exiting anyway", NULL);
        _exit(1);
    }
    sink_close(&sink);
    if (rc == 0)
        log_event(LOG_INFO, NULL, "stopped", NULL);
    return rc;
}
