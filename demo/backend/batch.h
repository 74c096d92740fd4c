/* batch: the send transaction of one campaign (see batch.c). */
#ifndef BACKEND_BATCH_H
#define BACKEND_BATCH_H

#include "campaign.h"
#include "config.h"
#include "db.h"
#include "rng.h"
#include "sim.h"
#include "sink.h"

#include <stddef.h>
#include <stdint.h>

struct batch_env {
    const struct config *cfg;
    struct sink *sink;
    struct sim *sim;
    struct rng *rng;
};

enum batch_outcome {
    BATCH_OK,          /* sent (maybe nothing), the campaign stays */
    BATCH_DROP,        /* no longer active, or just completed */
    BATCH_DB_ERROR,    /* rolled back; err says why */
    BATCH_SINK_ERROR   /* the sink refused; rolled back */
};

/* send at most n messages of c */
enum batch_outcome batch_run(const struct batch_env *env, struct db *db, struct campaign *c, int n,
                             int64_t now_ms, char *err, size_t errlen);
/* release the cached content and variants */
void batch_forget_content(struct campaign *c);

#endif
