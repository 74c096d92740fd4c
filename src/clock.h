/* Clocks: monotonic for intervals and deadlines, real time for display. */
#ifndef MARKETING_CLOCK_H
#define MARKETING_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ms(void);    /* CLOCK_MONOTONIC in milliseconds */
int64_t clock_real_ms(void);    /* CLOCK_REALTIME in milliseconds since the epoch */

#endif
