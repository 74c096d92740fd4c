/* health: checks and verdicts.
 *   database         healthy while connected and a query succeeded in the last 10 s
 *   email_service    healthy while the maildir is writable and the last write worked
 *   campaign_worker  healthy while the worker loop beat in the last 10 s, else stalled
 * /health: healthy when all are; unhealthy (503) when the database or the worker
 * is down; degraded otherwise. /ready: ready when the database and the worker are. */
#include "health.h"

#include "util.h"

#include <jansson.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#define HEALTH_STALE_MS 10000

static struct {
    char tmp_dir[PATH_MAX];
    char new_dir[PATH_MAX];
    bool maildir;
    int64_t start_ms;
    atomic_llong db_ok_ms;
    atomic_bool db_connected;
    atomic_llong beat_ms;
    atomic_bool sink_ok;
} health;

void health_init(const char *maildir, int64_t start_ms)
{
    health.maildir = maildir != NULL;
    if (maildir) {
        snprintf(health.tmp_dir, sizeof health.tmp_dir, "%s/tmp", maildir);
        snprintf(health.new_dir, sizeof health.new_dir, "%s/new", maildir);
    }
    health.start_ms = start_ms;
    atomic_store(&health.db_ok_ms, INT64_MIN / 2);
    atomic_store(&health.db_connected, false);
    atomic_store(&health.beat_ms, start_ms);
    atomic_store(&health.sink_ok, true);
}

void health_db_ok(void)
{
    atomic_store(&health.db_connected, true);
    atomic_store(&health.db_ok_ms, clock_mono_ms());
}

void health_db_lost(void)
{
    atomic_store(&health.db_connected, false);
}

void health_worker_beat(void)
{
    atomic_store(&health.beat_ms, clock_mono_ms());
}

void health_sink_result(bool ok)
{
    atomic_store(&health.sink_ok, ok);
}

char *health_render(bool readiness, unsigned *status)
{
    int64_t now = clock_mono_ms();
    bool db = atomic_load(&health.db_connected) && now - atomic_load(&health.db_ok_ms) < HEALTH_STALE_MS;
    bool worker = now - atomic_load(&health.beat_ms) < HEALTH_STALE_MS;
    bool sink = atomic_load(&health.sink_ok);
    const char *verdict;
    json_t *o;
    char *body;

    if (health.maildir && (access(health.tmp_dir, W_OK) != 0 || access(health.new_dir, W_OK) != 0))
        sink = false;
    if (readiness) {
        verdict = db && worker ? "ready" : "not_ready";
        *status = db && worker ? 200 : 503;
    } else if (!db || !worker) {
        verdict = "unhealthy";
        *status = 503;
    } else {
        verdict = sink ? "healthy" : "degraded";
        *status = 200;
    }
    o = json_pack("{s:s, s:s, s:I, s:{s:s, s:s, s:s}}", "status", verdict, "version", MARKETING_VERSION,
                  "uptime", (json_int_t)((now - health.start_ms) / 1000), "checks", "database",
                  db ? "healthy" : "unhealthy", "email_service", sink ? "healthy" : "unhealthy",
                  "campaign_worker", worker ? "healthy" : "stalled");
    if (!o)
        return NULL;
    body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return body;
}
