#include "threadwait.h"

#include <time.h>

void threadwait_cond_init(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

bool threadwait(pthread_mutex_t *m, pthread_cond_t *c, const bool *done, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(m);
    while (!*done && pthread_cond_timedwait(c, m, &until) == 0)
        ;
    bool d = *done;
    pthread_mutex_unlock(m);
    return d;
}
