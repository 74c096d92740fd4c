/* Worker threads: starting one that leaves signals to the UI thread, and
 * waiting a bounded time for one to say it is done. */
#ifndef MARKETING_THREADWAIT_H
#define MARKETING_THREADWAIT_H

#include <pthread.h>
#include <stdbool.h>

/* Starts fn(arg) in a thread that takes no asynchronous signals (they are
 * the UI thread's) but still gets the synchronous fault ones, so that a
 * crash in it reaches the handler that restores the terminal (blocked,
 * the kernel would kill the process without running it). Returns
 * pthread_create's result. */
int threadwait_spawn(pthread_t *t, void *(*fn)(void *), void *arg);

/* Initializes a condition variable on the monotonic clock, for threadwait. */
void threadwait_cond_init(pthread_cond_t *c);

/* Waits up to ms for *done (guarded by m, signalled on c) to become true.
 * Returns its value. */
bool threadwait(pthread_mutex_t *m, pthread_cond_t *c, const bool *done, int ms);

#endif
