/* worker: the thread's loop, connection upkeep, notifications, scans,
 * promotions and the cached database figures. */
#include "worker.h"

#include "db.h"
#include "faults.h"
#include "health.h"
#include "lifecycle.h"
#include "log.h"
#include "metrics.h"
#include "rng.h"
#include "sender.h"
#include "sim.h"
#include "testsend.h"
#include "util.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORKER_STATS_MS 2000
#define WORKER_BACKOFF_BASE_MS 250
#define WORKER_BACKOFF_MAX_MS 10000
#define WORKER_MAX_PROMOTE 64
#define WORKER_TEST_SCAN_MS 2000 /* test sends missed by LISTEN wait at most this */

struct worker {
    pthread_t thread;
    atomic_bool stop;
    atomic_bool done;
    const struct config *cfg;
    struct sink *sink;
    struct db db;
    struct rng rng;
    struct sim *sim;
    struct sender *sender;
    int64_t next_tick;
    int64_t next_scan;
    int64_t next_stats;
    int64_t next_connect;
    int64_t next_test;
    bool need_scan;
    bool need_test;
    bool ever_connected;
    int failures;
    char err[1024];
};

static const char worker_scan_sql[] =
    "SELECT id, status, version, rate_limit_per_minute, send_at <= now(),"
    "       CASE WHEN status = 'scheduled'"
    "            THEN greatest(0, ceil(extract(epoch FROM send_at - now()) * 1000))::bigint END"
    "  FROM campaigns WHERE status IN ('active', 'scheduled')";

static const char worker_stats_sql[] =
    "SELECT (SELECT count(*) FROM campaigns),"
    "       (SELECT count(*) FROM campaigns WHERE launched_at IS NOT NULL),"
    "       (SELECT count(*) FROM campaigns WHERE status = 'active'),"
    "       (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()),"
    "       current_setting('max_connections')::bigint";

static void worker_sleep_ms(int64_t ms)
{
    struct timespec ts;

    if (ms <= 0)
        return;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* schedule the next connection attempt: exponential, capped, half jitter */
static int64_t worker_backoff(struct worker *w)
{
    int shift = w->failures < 6 ? w->failures : 6;
    int64_t delay = (int64_t)WORKER_BACKOFF_BASE_MS << shift;

    if (delay > WORKER_BACKOFF_MAX_MS)
        delay = WORKER_BACKOFF_MAX_MS;
    delay = delay / 2 + rng_between(&w->rng, 0, delay / 2);
    w->failures++;
    w->next_connect = clock_mono_ms() + delay;
    return delay;
}

static void worker_lost(struct worker *w, const char *why)
{
    int64_t delay;

    db_disconnect(&w->db);
    health_db_lost();
    delay = worker_backoff(w);
    log_event(LOG_ERROR, NULL, "database connection lost",
              json_pack("{s:s, s:I}", "error", why, "retry_in_ms", (json_int_t)delay));
}

static int worker_connect(struct worker *w)
{
    int64_t delay;

    if (db_connect(&w->db, w->cfg->dsn, &w->stop, w->err, sizeof w->err) < 0) {
        health_db_lost();
        if (atomic_load(&w->stop))
            return -1;
        delay = worker_backoff(w);
        log_event(LOG_ERROR, NULL, "database connect failed",
                  json_pack("{s:s, s:i, s:I}", "error", w->err, "attempt", w->failures, "retry_in_ms",
                            (json_int_t)delay));
        return -1;
    }
    if (db_run(&w->db, "LISTEN marketing_campaign", 0, NULL, w->err, sizeof w->err) < 0 ||
        db_run(&w->db, "LISTEN marketing_test_send", 0, NULL, w->err, sizeof w->err) < 0) {
        worker_lost(w, w->err);
        return -1;
    }
    log_event(LOG_INFO, NULL, w->ever_connected ? "database reconnected" : "database connected",
              json_pack("{s:s, s:i, s:i}", "listen", "marketing_campaign", "attempts", w->failures + 1,
                        "server_version", PQserverVersion(w->db.conn)));
    w->ever_connected = true;
    w->failures = 0;
    /* notifications sent while we were away are lost: look at everything again */
    w->need_scan = true;
    w->need_test = true;
    w->next_stats = 0;
    health_db_ok();
    return 0;
}

/* wait for a notification or the timeout, then drain what arrived */
static int worker_wait(struct worker *w, int64_t timeout_ms)
{
    struct pollfd p;
    PGnotify *n;

    if (timeout_ms > 100)
        timeout_ms = 100;
    if (timeout_ms > 0) {
        p.fd = PQsocket(w->db.conn);
        p.events = POLLIN;
        p.revents = 0;
        poll(&p, 1, (int)timeout_ms);
    }
    if (!PQconsumeInput(w->db.conn)) {
        snprintf(w->err, sizeof w->err, "%s", PQerrorMessage(w->db.conn));
        str_oneline(w->err);
        return -1;
    }
    while ((n = PQnotifies(w->db.conn)) != NULL) {
        if (strcmp(n->relname, "marketing_test_send") == 0)
            w->need_test = true;
        else
            w->need_scan = true;
        PQfreemem(n);
    }
    return 0;
}

struct worker_due {
    char *id;
    int version;
};

static int worker_scan(struct worker *w, int64_t now)
{
    struct worker_due due[WORKER_MAX_PROMOTE];
    size_t ndue = 0, i;
    int64_t wait, min_wait = w->cfg->scan_ms;
    PGresult *res;
    int r, n;

    res = db_exec(&w->db, worker_scan_sql, 0, NULL, w->err, sizeof w->err);
    if (!res)
        return -1;
    n = PQntuples(res);
    sender_sync_begin(w->sender);
    for (r = 0; r < n; r++) {
        const char *id = PQgetvalue(res, r, 0);
        int version = db_int(res, r, 2);

        if (strcmp(PQgetvalue(res, r, 1), "active") == 0) {
            sender_sync_active(w->sender, id, version, db_int(res, r, 3), now);
        } else if (strcmp(PQgetvalue(res, r, 4), "t") == 0) {
            if (ndue < WORKER_MAX_PROMOTE && (due[ndue].id = strdup(id)) != NULL)
                due[ndue++].version = version;
            else
                min_wait = 0; /* more next time round */
        } else if (!PQgetisnull(res, r, 5)) {
            wait = db_ll(res, r, 5);
            if (wait < min_wait)
                min_wait = wait;
        }
    }
    sender_sync_end(w->sender);
    PQclear(res);
    health_db_ok();
    w->need_scan = false;
    w->next_scan = now + (min_wait > 0 ? min_wait + 5 : 5);
    for (i = 0; i < ndue; i++) {
        enum lifecycle_result lr = LIFECYCLE_DONE;

        if (db_connected(&w->db))
            lr = lifecycle_promote(&w->db, due[i].id, due[i].version, w->err, sizeof w->err);
        if (lr == LIFECYCLE_ERROR && db_connected(&w->db))
            log_event(LOG_WARN, NULL, "promotion failed; will retry",
                      json_pack("{s:s, s:s}", "campaign_id", due[i].id, "error", w->err));
        w->need_scan = true; /* pick up the now-active campaign */
        free(due[i].id);
    }
    return db_connected(&w->db) ? 0 : -1;
}

static int worker_stats(struct worker *w)
{
    struct db_stats st;
    PGresult *res = db_exec(&w->db, worker_stats_sql, 0, NULL, w->err, sizeof w->err);

    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        st.campaigns = db_ll(res, 0, 0);
        st.launched = db_ll(res, 0, 1);
        st.active = db_ll(res, 0, 2);
        st.connections = db_ll(res, 0, 3);
        st.max_connections = db_ll(res, 0, 4);
        metrics_db_set(&st);
    }
    PQclear(res);
    health_db_ok();
    return 0;
}

/* one turn of the loop on a live connection; -1 when the connection is lost */
static int worker_step(struct worker *w)
{
    int64_t now = clock_mono_ms();

    if (worker_wait(w, w->next_tick - now) < 0)
        return -1;
    now = clock_mono_ms();
    if ((w->need_scan || now >= w->next_scan) && worker_scan(w, now) < 0) {
        if (!db_connected(&w->db))
            return -1;
        log_event(LOG_WARN, NULL, "campaign scan failed", json_pack("{s:s}", "error", w->err));
        w->next_scan = now + w->cfg->scan_ms;
        w->need_scan = false;
    }
    /* test sends: on their NOTIFY, and on a timer in case one was missed;
     * held, like every send, while sending is switched off */
    if ((w->need_test || now >= w->next_test) && faults_sending()) {
        w->need_test = false;
        w->next_test = now + WORKER_TEST_SCAN_MS;
        if (testsend_run(&w->db, w->sink, w->err, sizeof w->err) < 0) {
            if (!db_connected(&w->db))
                return -1;
            log_event(LOG_WARN, NULL, "test sends failed; retrying shortly", json_pack("{s:s}", "error", w->err));
        }
    }
    if (now >= w->next_stats) {
        w->next_stats = now + WORKER_STATS_MS;
        if (worker_stats(w) < 0) {
            if (!db_connected(&w->db))
                return -1;
            log_event(LOG_WARN, NULL, "database figures query failed", json_pack("{s:s}", "error", w->err));
        }
    }
    if (now < w->next_tick)
        return 0;
    w->next_tick += w->cfg->tick_ms;
    if (w->next_tick <= now)
        w->next_tick = now + w->cfg->tick_ms;
    if (faults_sending()) {
        if (sender_tick(w->sender, &w->db, now, w->err, sizeof w->err) < 0)
            return -1;
    } else {
        sender_hold(w->sender, now);
    }
    if (sim_apply(w->sim, &w->db, now, w->err, sizeof w->err) < 0) {
        if (!db_connected(&w->db))
            return -1;
        log_event(LOG_WARN, NULL, "applying opens and clicks failed", json_pack("{s:s}", "error", w->err));
    }
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    int64_t now;

    w->next_tick = clock_mono_ms();
    while (!atomic_load(&w->stop)) {
        health_worker_beat();
        now = clock_mono_ms();
        if (!db_connected(&w->db)) {
            if (w->db.conn) {
                snprintf(w->err, sizeof w->err, "%s", PQerrorMessage(w->db.conn));
                worker_lost(w, str_oneline(w->err));
            }
            if (now < w->next_connect) {
                worker_sleep_ms(w->next_connect - now < 100 ? w->next_connect - now : 100);
                continue;
            }
            if (worker_connect(w) < 0)
                continue;
        }
        if (worker_step(w) < 0 && !atomic_load(&w->stop))
            worker_lost(w, w->err);
    }
    db_disconnect(&w->db);
    atomic_store(&w->done, true);
    return NULL;
}

int worker_start(const struct config *cfg, struct sink *sink, struct worker **out, char *err, size_t errlen)
{
    struct worker *w = calloc(1, sizeof *w);

    *out = NULL;
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->cfg = cfg;
    w->sink = sink;
    atomic_store(&w->stop, false);
    atomic_store(&w->done, false);
    db_init(&w->db);
    rng_seed(&w->rng, cfg->seed);
    w->sim = sim_new(cfg, &w->rng);
    w->sender = w->sim ? sender_new(cfg, sink, w->sim, &w->rng) : NULL;
    if (!w->sender || pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        snprintf(err, errlen, "cannot start the campaign worker");
        sender_free(&w->sender);
        sim_free(&w->sim);
        db_destroy(&w->db);
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

static bool worker_wait_done(struct worker *w, int ms)
{
    int64_t deadline = clock_mono_ms() + ms;

    while (!atomic_load(&w->done)) {
        if (clock_mono_ms() >= deadline)
            return false;
        worker_sleep_ms(10);
    }
    return true;
}

/* PQcancel connects to the server and may block on a dead network: never on
 * the stopping thread */
static void *worker_cancel_main(void *arg)
{
    struct worker *w = arg;

    db_cancel(&w->db);
    return NULL;
}

int worker_stop(struct worker **wp, int grace_ms)
{
    struct worker *w = *wp;
    pthread_t canceller;
    bool cancelling = false;

    if (!w)
        return 0;
    atomic_store(&w->stop, true);
    if (!worker_wait_done(w, grace_ms)) {
        cancelling = pthread_create(&canceller, NULL, worker_cancel_main, w) == 0;
        if (!worker_wait_done(w, grace_ms))
            return -1;
    }
    if (cancelling)
        pthread_join(canceller, NULL);
    pthread_join(w->thread, NULL);
    sender_free(&w->sender);
    sim_free(&w->sim);
    db_destroy(&w->db);
    free(w);
    *wp = NULL;
    return 0;
}
