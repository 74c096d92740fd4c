/* deliver: the per-recipient ledger of a campaign, simulated.
 *
 * deliveries_run() walks a campaign's first 'planned' eligible members (in
 * contact id order, the order the worker sends in) and calls back with one
 * delivery each. It draws from the campaign's own stream only, so it gives
 * the same rows every time: the first pass (model_deliveries) counts and
 * collects what other tables need (contacts' last open and click, costs,
 * conversions), the second streams the rows into COPY. */
#ifndef GEN_DELIVER_H
#define GEN_DELIVER_H

#include "model.h"

enum delivery_status { DS_QUEUED, DS_SENT, DS_FAILED, DS_BOUNCED };
extern const char *const delivery_status_names[];

struct delivery {
    uint32_t contact;      /* index */
    int revision;
    char variant;          /* 0: none */
    uint8_t status;
    ts_t queued_at, sent_at, opened_at, clicked_at; /* 0: NULL */
    const char *error;
    ts_t converted_at;     /* 0: no conversion */
    int64_t revenue_cents;
};

typedef void (*delivery_fn)(void *ctx, const struct campaign *c, const struct delivery *d);

void deliveries_run(const struct model *m, const struct campaign *c, delivery_fn fn, void *ctx);

#endif
