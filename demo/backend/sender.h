/* sender: the set of active campaigns, each with a token bucket refilled at
 * rate_limit_per_minute/60 per second on the monotonic clock, and the batch
 * transaction that records deliveries in the ledger and hands messages to
 * the sink. */
#ifndef BACKEND_SENDER_H
#define BACKEND_SENDER_H

#include "config.h"
#include "db.h"
#include "rng.h"
#include "sim.h"
#include "sink.h"

#include <stddef.h>
#include <stdint.h>

struct sender;

struct sender *sender_new(const struct config *cfg, struct sink *sink, struct sim *sim, struct rng *rng);
void sender_free(struct sender **s);

/* a scan: begin, report every active campaign, end (drops the unreported) */
void sender_sync_begin(struct sender *s);
int sender_sync_active(struct sender *s, const char *id, int version, int rate_per_minute, int64_t now_ms);
void sender_sync_end(struct sender *s);
size_t sender_count(const struct sender *s);

/* sending is switched off: keep the buckets from filling meanwhile */
void sender_hold(struct sender *s, int64_t now_ms);
/* one batch per campaign that has a whole token; -1 when the connection is lost */
int sender_tick(struct sender *s, struct db *db, int64_t now_ms, char *err, size_t errlen);

#endif
