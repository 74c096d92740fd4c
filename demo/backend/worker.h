/* worker: the campaign worker thread. It owns its PGconn (LISTEN
 * marketing_campaign plus every query), reconnects with jittered backoff,
 * scans active and scheduled campaigns, promotes due scheduled ones, drives
 * the sender and the open/click simulation each tick, sends test deliveries
 * (LISTEN marketing_test_send, and every 2 s besides), and refreshes the
 * database figures behind /metrics every ~2 s. */
#ifndef BACKEND_WORKER_H
#define BACKEND_WORKER_H

#include "config.h"
#include "sink.h"

#include <stddef.h>

struct worker;

int worker_start(const struct config *cfg, struct sink *sink, struct worker **out, char *err, size_t errlen);
/* ask the thread to stop and join it; cancels a query still running after
 * grace_ms. -1 if the thread did not end within twice that (not joined). */
int worker_stop(struct worker **w, int grace_ms);

#endif
