/* Waiting a bounded time for a worker thread to say it is done. */
#ifndef MARKETING_THREADWAIT_H
#define MARKETING_THREADWAIT_H

#include <pthread.h>
#include <stdbool.h>

/* Initializes a condition variable on the monotonic clock, for threadwait. */
void threadwait_cond_init(pthread_cond_t *c);

/* Waits up to ms for *done (guarded by m, signalled on c) to become true.
 * Returns its value. */
bool threadwait(pthread_mutex_t *m, pthread_cond_t *c, const bool *done, int ms);

#endif
