/* health: what /health and /ready report, from facts the worker records
 * (last good query, loop heartbeat, last sink write) and a writability check
 * of the maildir. Rendered as the seed's JSON shape. */
#ifndef BACKEND_HEALTH_H
#define BACKEND_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

/* maildir: the sink's folder, or NULL for the null sink */
void health_init(const char *maildir, int64_t start_ms);
void health_db_ok(void);
void health_db_lost(void);
void health_worker_beat(void);
void health_sink_result(bool ok);

/* malloc'ed JSON body; *status gets the HTTP status (200 or 503) */
char *health_render(bool readiness, unsigned *status);

#endif
