/* campaign: what the worker keeps about one active campaign: its token
 * bucket, its cursor in the segment, and the cached content and A/B
 * variants of its current revision. Owned by the sender; filled by batches. */
#ifndef BACKEND_CAMPAIGN_H
#define BACKEND_CAMPAIGN_H

#include <stdbool.h>
#include <stdint.h>

#define CAMPAIGN_MAX_VARIANTS 26

struct campaign_variant {
    char letter[2];
    int split;
    char *subject; /* NULL: the revision's */
    char *body;
};

struct campaign {
    char *id;
    uint64_t id_hash;
    int version;
    int rate;               /* per minute */
    double tokens;
    int64_t refill_ms;
    long long cursor;       /* highest contact id this process sent to */
    int64_t retry_ms;       /* after an error, skip until then */
    bool seen;
    int blocked_version;    /* no current revision at this version: skip */
    /* the revision's content and variants, loaded for (revision, version) */
    int content_revision;
    int content_version;
    char *from;
    char *subject;
    char *body;
    struct campaign_variant variants[CAMPAIGN_MAX_VARIANTS];
    int nvariants;
};

#endif
