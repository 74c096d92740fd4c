/* Segments as plain structs, copied out of libpq results. */
#ifndef MARKETING_SEGMENTS_H
#define MARKETING_SEGMENTS_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct segment {
    char *id;             /* seg_12 */
    char *name;           /* untrusted */
    char *rule;           /* untrusted */
    int64_t size;         /* members at the last refresh */
    int64_t reachable;    /* members whose contact was active then */
    int64_t refreshed_ms; /* epoch ms, 0 = never */
    int64_t campaigns;    /* campaigns that target it */
    /* engagement: members who opened / clicked anything in 30 days; -1
     * until the (slower) engagement query has run */
    int64_t opened_30d, clicked_30d;
};

struct segment_list {
    struct segment *v;
    size_t n;
    int64_t fetched_ms;
};

extern const char segment_list_query[];
extern const char segment_engagement_query[];

struct segment_list *segment_list_from_result(const PGresult *res, char *err, size_t errsz);

/* Fills opened_30d and clicked_30d from a result of the engagement query. */
void segment_list_apply_engagement(struct segment_list *l, const PGresult *res);

/* Copies the engagement figures of old into l for the segments both have. */
void segment_list_keep_engagement(struct segment_list *l, const struct segment_list *old);

void segment_list_free(struct segment_list **l);

#endif
