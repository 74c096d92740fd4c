/* A thread with its own PostgreSQL connection that only LISTENs, so that a
 * change made elsewhere is heard at once even while the query connection
 * is busy. It LISTENs on every channel of a comma-separated list
 * ("marketing_campaign,alert_acks"). For every notification, and after
 * every (re)connect (what was sent meanwhile is lost), it writes a byte to
 * kick_fd. It reconnects by
 * itself with jittered backoff. */
#ifndef MARKETING_LISTENER_H
#define MARKETING_LISTENER_H

#include <stdbool.h>
#include <stddef.h>

struct listener;

struct listener *listener_start(const char *dsn, const char *channels, int kick_fd, char *err,
                                size_t errsz);

/* True while the connection is up and LISTENing. */
bool listener_live(struct listener *l);

/* Stops it; the same contract as dbworker_stop (false: still running, and
 * kick_fd must stay open). */
bool listener_stop(struct listener **l);

#endif
