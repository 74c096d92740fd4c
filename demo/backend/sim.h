/* sim: simulated opens, clicks and conversions. At send time each sent
 * message may get an open 1-20 s later (and, when opened, a click 1-20 s
 * after that); due events wait in a bounded min-heap and are applied to the
 * ledger in batches. */
#ifndef BACKEND_SIM_H
#define BACKEND_SIM_H

#include "config.h"
#include "db.h"
#include "rng.h"

#include <stddef.h>
#include <stdint.h>

struct sim;

struct sim *sim_new(const struct config *cfg, struct rng *rng);
void sim_free(struct sim **s);
/* a message was sent (and committed): maybe schedule its open */
void sim_on_sent(struct sim *s, int64_t delivery_id, int64_t now_ms);
/* apply due events; -1 with a message on a database error */
int sim_apply(struct sim *s, struct db *db, int64_t now_ms, char *err, size_t errlen);
size_t sim_pending(const struct sim *s);

#endif
