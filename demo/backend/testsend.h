/* testsend: test sends (sql/004_authoring.sql: test_deliveries). The
 * worker runs them when 'marketing_test_send' is NOTIFYed and on a timer
 * besides: each is rendered like a delivery (for the contact with that
 * address, or with empty attributes), handed to the same sink, and marked
 * sent. They never touch deliveries, campaign_stats or emails_sent_total;
 * emails_test_sent_total counts them. */
#ifndef BACKEND_TESTSEND_H
#define BACKEND_TESTSEND_H

#include "db.h"
#include "sink.h"

#include <stddef.h>

/* Sends every queued test delivery (in batches, one transaction each).
 * Returns how many were sent, or -1 with err (rolled back; the sink's
 * staged messages dropped). */
int testsend_run(struct db *db, struct sink *sink, char *err, size_t errlen);

#endif
