/* lifecycle: the two campaign transitions the backend makes itself, each a
 * compare-and-set on the campaign's version plus an audit row (os_user
 * 'marketing-demo-backend', request id from gen_random_uuid()):
 *   launch    scheduled -> active when send_at is reached
 *   complete  active -> completed when no eligible member and no queued
 *             delivery is left */
#ifndef BACKEND_LIFECYCLE_H
#define BACKEND_LIFECYCLE_H

#include "db.h"

#include <stddef.h>

enum lifecycle_result { LIFECYCLE_DONE, LIFECYCLE_CONFLICT, LIFECYCLE_ERROR };

/* one transaction of its own; logs the promotion */
enum lifecycle_result lifecycle_promote(struct db *db, const char *id, int version, char *err, size_t errlen);

/* inside the caller's open transaction; logs after the caller's COMMIT is
 * up to the caller, so request_id (37 bytes) is handed back */
enum lifecycle_result lifecycle_complete(struct db *db, const char *id, int version, int revision,
                                         int *new_version, char *request_id, char *err, size_t errlen);

#endif
