/* One campaign's history for its detail view: revisions (with their A/B
 * variants and how many deliveries each got) and recent audit entries. */
#ifndef MARKETING_CAMPAIGN_DETAIL_H
#define MARKETING_CAMPAIGN_DETAIL_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "authoring.h"

struct revision_row {
    int revision, restored_from;   /* restored_from 0: an edit, not a rollback */
    char *subject, *author, *note, *variants; /* untrusted; variants "A 50% / B 50%" or "" */
    int64_t created_ms, delivered;
};

struct audit_row {
    int64_t at_ms;
    int from_version, to_version;
    char *action, *from_status, *to_status, *db_user, *os_user, *note; /* untrusted */
};

#define DETAIL_RECIPIENTS 8

struct campaign_detail {
    char *id;
    struct revision_row *rev;      /* newest first */
    size_t nrev;
    struct audit_row *audit;       /* newest first */
    size_t naudit;
    /* recipients of content other than the current revision (after a
     * rollback): how many, and the first few */
    int64_t superseded;
    char *sup_email[DETAIL_RECIPIENTS];   /* untrusted */
    int sup_rev[DETAIL_RECIPIENTS];
    size_t nsup;
    /* the A/B results of its deliveries, when it has variants */
    bool have_ab;
    struct authoring_ab ab;
    int64_t fetched_ms;
};

#define DETAIL_ROWS 20

extern const char campaign_revisions_query[];  /* $1 = campaign id */
extern const char campaign_audit_query[];      /* $1 = campaign id */
extern const char campaign_superseded_query[]; /* $1 = campaign id */

/* Builds a detail from the results of the three queries (sup may be NULL:
 * none). NULL with a message on a result of the wrong shape. */
struct campaign_detail *campaign_detail_from_results(const char *id, const PGresult *revs,
                                                     const PGresult *audit, const PGresult *sup,
                                                     char *err, size_t errsz);
void campaign_detail_free(struct campaign_detail **d);

#endif
