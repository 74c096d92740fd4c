/* proc: the standard process_* metrics, read from /proc/self. */
#ifndef BACKEND_PROC_H
#define BACKEND_PROC_H

#include <stdbool.h>

struct proc_stats {
    double cpu_seconds;
    double resident_bytes;
    double virtual_bytes;
    double open_fds;
    double max_fds;
};

/* false if /proc could not be read (the figures are then zero) */
bool proc_sample(struct proc_stats *out);

#endif
