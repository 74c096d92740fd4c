/* Campaigns as plain structs, copied out of libpq results so that nothing
 * the UI holds points into a PGresult or depends on a connection. */
#ifndef MARKETING_CAMPAIGNS_H
#define MARKETING_CAMPAIGNS_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct campaign {
    char *id;            /* cmp_123 */
    char *name;          /* untrusted: sanitize before drawing */
    char *type;          /* email, sms, push */
    char *status;        /* draft ... cancelled */
    char *segment_id;
    char *segment_name;  /* untrusted */
    int64_t audience;    /* reachable members (at launch, else at the segment's refresh) */
    int64_t sent, failed, bounced, opened, clicked;
    int version;
    int rate_limit;      /* per minute */
    int64_t updated_ms;  /* epoch milliseconds */
    int revision;        /* the current revision; 0: none yet */
};

struct campaign_list {
    struct campaign *v;  /* owned */
    size_t n;
    int64_t fetched_ms;  /* epoch milliseconds, this machine's clock */
    int64_t fetched_mono_ms; /* the same moment on the monotonic clock, for rates */
};

/* Reads every campaign with its counters. Returns a list the caller frees
 * with campaign_list_free, or NULL with a message in err. */
struct campaign_list *campaign_list_fetch(PGconn *conn, const char *status_filter,
                                          char *err, size_t errsz);

/* Turns a result of campaign_list_query's columns into a list. */
struct campaign_list *campaign_list_from_result(const PGresult *res, char *err, size_t errsz);

/* The query behind campaign_list_fetch: one optional parameter, a status
 * or NULL for every status. */
extern const char campaign_list_query[];

void campaign_list_free(struct campaign_list **list);

/* The status as a glyph and a word, so state never rests on colour alone. */
const char *campaign_status_glyph(const char *status, int ascii);

#endif
