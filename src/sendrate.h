/* Per-campaign send rates from consecutive database snapshots (the
 * ledger's counters), and what they say: sending, throttled at the rate
 * limit, stalled, or erroring. Pure bookkeeping: no I/O, unit-tested. */
#ifndef MARKETING_SENDRATE_H
#define MARKETING_SENDRATE_H

#include <stdint.h>

#include "campaigns.h"

enum send_state {
    SEND_IDLE,       /* not active */
    SEND_UNKNOWN,    /* active, but too little history to say */
    SEND_SENDING,
    SEND_THROTTLED,  /* at 90% or more of its rate limit */
    SEND_STALLED,    /* active, and nothing sent for the stall window */
    SEND_ERRORING,   /* more than 5% of what was attempted failed or bounced */
};

struct campaign_rate {
    enum send_state state;
    double per_min;  /* messages per minute over the window; NAN if unknown */
    double eta_s;    /* seconds until the audience is done at this rate; NAN if unknown */
};

struct rate_tracker;

/* window_ms: the span a rate is measured over; stall_ms: how long an
 * active campaign may send nothing before it counts as stalled. */
struct rate_tracker *rate_tracker_new(int window_ms, int stall_ms);
void rate_tracker_free(struct rate_tracker **t);

/* Records a snapshot (its fetched_mono_ms is the time). Campaigns that are
 * no longer active are forgotten. */
void rate_tracker_update(struct rate_tracker *t, const struct campaign_list *l);

/* What the tracker knows of c (matched by id) at monotonic time now_ms;
 * unknown when its newest sample is older than the window. */
struct campaign_rate rate_tracker_get(const struct rate_tracker *t, const struct campaign *c,
                                      int64_t now_ms);

/* "sending", "throttled", ... ; "" for SEND_IDLE. */
const char *send_state_name(enum send_state s);

#endif
